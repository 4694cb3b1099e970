/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* attach-all, detach-all: AttachAll or DetachAll for one domain or (an
 * empty name) every one, and what became of each assigned device: a table,
 * then with --dry-run the XML each would attach or detach, with -v every
 * device's details. Exit 1 when one failed. */

#include <stdio.h>
#include <string.h>

#include "ctl.h"

/* The service works through the devices one by one, waiting for guests
 * (with --timeout, as long as that for each). */
#define ALL_TIMEOUT_USEC (600 * G_USEC_PER_SEC)
#define XML_INDENT "    "

/* A device that is not present has no Id: its match string stands in. */
static const char *result_device(GVariant *record)
{
        const char *id = record_string(record, "Id");

        return id[0] ? id : record_string(record, "Match");
}

static void result_add_row(Table *table, GVariant *record)
{
        table_add_row(table, (const char *const[]) {
                record_string(record, "Domain"), record_string(record, "Kind"), result_device(record),
                record_string(record, "Result"), record_string(record, "Error"),
        });
}

static void print_sanitized(const char *prefix, const char *text)
{
        g_autofree char *clean = sanitize_text(text);

        printf("%s%s\n", prefix, clean);
}

/* "debian usb 46f4:0001:SN-1 (usb:serial=SN-1): would attach" (without an
 * Id: "debian usb usb:serial=SN-2: not present"), then the XML, indented. */
static void print_details(GVariant *record)
{
        g_auto(GStrv) lines = g_strsplit(record_string(record, "Xml"), "\n", -1);
        g_autofree char *match = record_string(record, "Id")[0] ?
                g_strdup_printf(" (%s)", record_string(record, "Match")) : g_strdup("");
        g_autofree char *head = g_strdup_printf("%s %s %s%s: %s", record_string(record, "Domain"),
                                                record_string(record, "Kind"), result_device(record),
                                                match, record_string(record, "Result"));

        printf("\n");
        print_sanitized("", head);
        for (char **line = lines; *line; line++)
                if (**line)
                        print_sanitized(XML_INDENT, *line);
}

static bool wants_details(const Ctl *ctl, GVariant *record)
{
        return ctl->verbose || (ctl->dry_run && record_string(record, "Xml")[0]);
}

static void print_results(const Ctl *ctl, GPtrArray *results)
{
        static const char *const headers[] = { "DOMAIN", "KIND", "ID", "RESULT", "ERROR" };
        static const ListSpec spec = { NULL, G_N_ELEMENTS(headers), headers, result_add_row };

        ctl_print_list(ctl, &spec, results);
        if (ctl->json)
                return;
        for (guint i = 0; i < results->len; i++)
                if (wants_details(ctl, g_ptr_array_index(results, i)))
                        print_details(g_ptr_array_index(results, i));
}

static int check_failures(GPtrArray *results)
{
        guint failed = 0;

        for (guint i = 0; i < results->len; i++)
                if (strcmp(record_string(g_ptr_array_index(results, i), "Result"), "failed") == 0)
                        failed++;
        if (failed == 0)
                return CTL_EXIT_OK;
        ctl_error(_("%u of %u devices failed"), failed, results->len);
        return CTL_EXIT_FAILURE;
}

static int run_all(Ctl *ctl, const char *method, OptionsAppender append_options, char **args)
{
        const ChangeCall spec = { method, 1, append_options, ALL_TIMEOUT_USEC };
        char *call_args[] = { args[0] ? args[0] : (char *) "", NULL };
        g_autoptr(sd_bus_message) reply = NULL;
        g_autoptr(GPtrArray) results = NULL;
        int r;

        r = ctl_change(ctl, &spec, call_args, &reply);
        if (r != CTL_EXIT_OK)
                return r;
        r = record_read_array(reply, &results);
        if (r < 0)
                return ctl_parse_failure(r);
        print_results(ctl, results);
        return check_failures(results);
}

int verb_attach_all(Ctl *ctl, char **args)
{
        return run_all(ctl, "AttachAll", ctl_append_dry_run, args);
}

int verb_detach_all(Ctl *ctl, char **args)
{
        return run_all(ctl, "DetachAll", ctl_append_detach_options, args);
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* import-bbvirt [FILE]: bit-babbler's bbvirt assignments become the
 * service's. The file (/etc/bit-babbler/vm.conf) is read by bbvirt-conf.c,
 * which runs nothing; what it does not understand is reported as
 * FILE:LINE. Each serial of DOMAIN_RNG_x becomes Assign(usb:serial=SERIAL,
 * the domain); DOMAIN_URI_x becomes the passthrough.conf lines to add,
 * printed, not written. Exit 1 when a line was skipped or an Assign failed. */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bbvirt-conf.h"
#include "ctl.h"

#define BBVIRT_CONF "/etc/bit-babbler/vm.conf"
#define BBVIRT_MAX_SIZE (1024 * 1024)
#define PASSTHROUGH_CONF SYSCONFDIR "/passthrough/passthrough.conf"

static int read_fd(int fd, GString *text)
{
        char buffer[8192];

        for (;;) {
                ssize_t n = read(fd, buffer, sizeof(buffer));

                if (n == 0)
                        return 0;
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                g_string_append_len(text, buffer, n);
                if (text->len > BBVIRT_MAX_SIZE)
                        return -EFBIG;
        }
}

/* name: path as it may be shown. */
static int read_conf(const char *path, const char *name, BbvirtConf **ret)
{
        g_autoptr(GString) text = g_string_new(NULL);
        int fd, r;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0) {
                r = -errno;
        } else {
                r = read_fd(fd, text);
                close(fd);
        }
        if (r < 0) {
                ctl_error(_("Failed to read %s: %s"), name, r == -EFBIG ? _("larger than 1 MiB") : g_strerror(-r));
                return CTL_EXIT_FAILURE;
        }
        *ret = bbvirt_conf_parse(text->str, text->len);
        return CTL_EXIT_OK;
}

/* NAME:LINE: MESSAGE on stderr; returns how many lines were skipped. */
static guint report_diagnostics(const char *name, const BbvirtConf *conf)
{
        guint skipped = 0;

        for (guint i = 0; i < conf->diagnostics->len; i++) {
                const BbvirtDiagnostic *d = g_ptr_array_index(conf->diagnostics, i);
                g_autofree char *message = sanitize_text(d->message);

                ctl_error("%s:%u: %s%s", name, d->line, d->severity == BBVIRT_NOTE ? _("note: ") : "", message);
                if (d->severity == BBVIRT_SKIPPED)
                        skipped++;
        }
        return skipped;
}

typedef struct {
        Ctl *ctl;
        GPtrArray *existing; /* ListAssignments records */
        guint assigned;      /* or would be, or already are */
        guint failed;
} Import;

static bool already_assigned(const Import *import, const char *match, const char *domain)
{
        for (guint i = 0; i < import->existing->len; i++) {
                GVariant *record = g_ptr_array_index(import->existing, i);

                if (strcmp(record_string(record, "Match"), match) == 0 &&
                    strcmp(record_string(record, "Domain"), domain) == 0)
                        return true;
        }
        return false;
}

static void import_serial(Import *import, const BbvirtDomain *domain, const BbvirtSerial *serial)
{
        g_autofree char *match = g_strconcat("usb:serial=", serial->serial, NULL);

        if (already_assigned(import, match, domain->name))
                printf(_("Already assigned %s to %s\n"), match, domain->name);
        else if (import->ctl->dry_run)
                printf(_("Would assign %s to %s\n"), match, domain->name);
        else if (ctl_assign(import->ctl, match, domain->name) == CTL_EXIT_OK)
                printf(_("Assigned %s to %s\n"), match, domain->name);
        else
                import->failed++;
        import->assigned++;
}

/* One polkit agent for all the Assign calls. */
static void import_serials(Import *import, const BbvirtConf *conf)
{
        if (!import->ctl->dry_run)
                agent_open(import->ctl);
        for (guint i = 0; i < conf->domains->len; i++) {
                const BbvirtDomain *domain = g_ptr_array_index(conf->domains, i);

                for (guint j = 0; j < domain->serials->len; j++)
                        import_serial(import, domain, g_ptr_array_index(domain->serials, j));
        }
        if (!import->ctl->dry_run)
                agent_close();
}

/* The group "[domain NAME]" of a key file cannot hold [ or ]. */
static bool add_uri(GKeyFile *keyfile, const BbvirtDomain *domain)
{
        g_autofree char *group = g_strconcat("domain ", domain->name, NULL);

        if (strpbrk(domain->name, "[]")) {
                ctl_error(_("DOMAIN_URI_%s: the domain name %s cannot be a group name in %s; set its uri by hand"),
                          domain->id, domain->name, PASSTHROUGH_CONF);
                return false;
        }
        g_key_file_set_string(keyfile, group, "uri", domain->uri);
        return true;
}

/* The passthrough.conf lines for the DOMAIN_URI_x settings; returns how
 * many cannot be written there. */
static guint print_uris(const BbvirtConf *conf)
{
        g_autoptr(GKeyFile) keyfile = g_key_file_new();
        g_autofree char *text = NULL;
        guint bad = 0;

        for (guint i = 0; i < conf->domains->len; i++) {
                const BbvirtDomain *domain = g_ptr_array_index(conf->domains, i);

                if (domain->uri && !add_uri(keyfile, domain))
                        bad++;
        }
        text = g_key_file_to_data(keyfile, NULL, NULL);
        if (text[0])
                printf(_("\npassthroughd takes a domain's libvirt URI from %s;\n"
                         "this command does not change that file. For bbvirt's DOMAIN_URI settings, add:\n\n%s"),
                       PASSTHROUGH_CONF, text);
        return bad;
}

int verb_import_bbvirt(Ctl *ctl, char **args)
{
        const char *path = args[0] ? args[0] : BBVIRT_CONF;
        g_autofree char *name = sanitize_text(path);
        g_autoptr(BbvirtConf) conf = NULL;
        g_autoptr(GPtrArray) existing = NULL;
        Import import = { .ctl = ctl };
        guint skipped;
        int r;

        r = read_conf(path, name, &conf);
        if (r != CTL_EXIT_OK)
                return r;
        skipped = report_diagnostics(name, conf);
        r = ctl_fetch_records(ctl, "ListAssignments", NULL, &existing);
        if (r != CTL_EXIT_OK)
                return r;
        import.existing = existing;
        import_serials(&import, conf);
        if (import.assigned == 0)
                printf(_("No serial numbers to assign in %s\n"), name);
        skipped += print_uris(conf);
        return skipped > 0 || import.failed > 0 ? CTL_EXIT_FAILURE : CTL_EXIT_OK;
}

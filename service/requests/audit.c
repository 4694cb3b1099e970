/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "audit.h"
#include "errors.h"

#define MAX_FIELDS 16

typedef struct {
        const char *name;         /* PASSTHROUGH_ACTION */
        const char *message_id;
        const char *done;         /* "attached": the success line */
        const char *noun;         /* "attach": "Attach of ... failed" */
        const char *direction;    /* "to" or "from" the VM */
} ActionText;

static const ActionText action_texts[] = {
        [AUDIT_ATTACH] = { "attach", AUDIT_MESSAGE_ID_ATTACH, "attached", "attach", "to" },
        [AUDIT_DETACH] = { "detach", AUDIT_MESSAGE_ID_DETACH, "detached", "detach", "from" },
        [AUDIT_ASSIGN] = { "assign", AUDIT_MESSAGE_ID_ASSIGN, "assigned", "assignment", "to" },
        [AUDIT_UNASSIGN] = { "unassign", AUDIT_MESSAGE_ID_UNASSIGN, "unassigned", "unassignment", "from" },
        [AUDIT_REMOVE_STALE] = { "remove-stale", AUDIT_MESSAGE_ID_REMOVE_STALE, "removed", "removal", "from" },
};

/* The record's strings, fit for a log line. */
typedef struct {
        char *caller;
        char *uid;          /* NULL when automatic or unknown */
        char *assignment;
        char *vm;
        char *vm_uuid;
        char *kind;
        char *device;
        char *target;
        char *error;        /* the error's message */
} Texts;

/* Valid UTF-8 without control or format characters (each becomes '?'): a
 * device may call itself anything, and a log line must stay one line that
 * shows what it says. NULL stays NULL. */
static char *clean(const char *s) {
        g_autofree char *valid = s ? g_utf8_make_valid(s, -1) : NULL;
        GString *out;

        if (!valid)
                return NULL;
        out = g_string_sized_new(strlen(valid));
        for (const char *p = valid; *p; p = g_utf8_next_char(p)) {
                gunichar c = g_utf8_get_char(p);

                if (g_unichar_iscntrl(c) || g_unichar_type(c) == G_UNICODE_FORMAT)
                        g_string_append_c(out, '?');
                else
                        g_string_append_unichar(out, c);
        }
        return g_string_free(out, FALSE);
}

static void texts_init(Texts *t, const AuditRecord *r) {
        t->caller = r->automatic ? g_strdup("automatic") : clean(r->caller ? r->caller : "");
        t->uid = !r->automatic && r->caller_uid != G_MAXUINT32 ? g_strdup_printf("%u", r->caller_uid) : NULL;
        t->assignment = clean(r->assignment);
        t->vm = clean(r->vm ? r->vm : "");
        t->vm_uuid = clean(r->vm_uuid);
        t->kind = clean(r->kind ? r->kind : "");
        t->device = clean(r->device ? r->device : "");
        t->target = clean(r->target);
        t->error = r->error ? clean(r->error->message) : NULL;
}

static void texts_clear(Texts *t) {
        g_free(t->caller);
        g_free(t->uid);
        g_free(t->assignment);
        g_free(t->vm);
        g_free(t->vm_uuid);
        g_free(t->kind);
        g_free(t->device);
        g_free(t->target);
        g_free(t->error);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Texts, texts_clear)

/* "/dev/sdb" and match strings as they are; an Id with its kind: "usb 46f4:0001:SN". */
static char *device_text(const Texts *t) {
        gsize n = strlen(t->kind);

        if (t->device[0] == '/' || (n && g_str_has_prefix(t->device, t->kind) && t->device[n] == ':'))
                return g_strdup(t->device);
        return g_strdup_printf("%s %s", t->kind, t->device);
}

/* "/dev/sdb to VM debian as vdb", "/dev/sdb (vdb) from VM debian". */
static char *change_text(const AuditRecord *r, const Texts *t) {
        const char *direction = action_texts[r->action].direction;
        g_autofree char *device = device_text(t);

        if (!t->target || !*t->target)
                return g_strdup_printf("%s %s VM %s", device, direction, t->vm);
        if (r->action == AUDIT_ATTACH)
                return g_strdup_printf("%s %s VM %s as %s", device, direction, t->vm, t->target);
        return g_strdup_printf("%s (%s) %s VM %s", device, t->target, direction, t->vm);
}

/* "Attached /dev/sdb to VM debian as vdb (uid 1000, :1.42)",
 * "Automatically attached usb 46f4:0001:SN to VM debian (assignment usb:serial=SN)". */
static char *success_text(const AuditRecord *r, const Texts *t) {
        g_autofree char *change = change_text(r, t);
        const char *why = r->action == AUDIT_REMOVE_STALE ? ": the device left the host" : "";
        g_autofree char *who = NULL;

        if (!r->automatic)
                who = g_strdup_printf(" (uid %s, %s)", t->uid ? t->uid : "unknown", t->caller);
        else if (t->assignment)
                who = g_strdup_printf(" (assignment %s)", t->assignment);
        return g_strdup_printf("%s%s %s%s%s", r->automatic ? "Automatically " : "", action_texts[r->action].done,
                               change, who ? who : "", why);
}

/* "Attach of /dev/sdb to VM debian failed for uid 1000 (:1.42): ...",
 * "Automatic attach of usb 46f4:0001:SN to VM debian failed (assignment usb:serial=SN): ...". */
static char *failure_text(const AuditRecord *r, const Texts *t) {
        g_autofree char *change = change_text(r, t);
        const char *noun = action_texts[r->action].noun;

        if (r->automatic && t->assignment)
                return g_strdup_printf("Automatic %s of %s failed (assignment %s): %s", noun, change, t->assignment,
                                       t->error);
        if (r->automatic)
                return g_strdup_printf("Automatic %s of %s failed: %s", noun, change, t->error);
        if (t->uid)
                return g_strdup_printf("%s of %s failed for uid %s (%s): %s", noun, change, t->uid, t->caller,
                                       t->error);
        return g_strdup_printf("%s of %s failed for %s (uid unknown): %s", noun, change, t->caller, t->error);
}

static char *message_text(const AuditRecord *r, const Texts *t) {
        char *text = r->error ? failure_text(r, t) : success_text(r, t);

        text[0] = g_ascii_toupper(text[0]);
        return text;
}

static const char *error_name(const GError *error) {
        if (error->domain != PT_ERROR)
                return pt_error_bus_name(PT_ERROR_FAILED);
        return pt_error_bus_name((PtError) error->code);
}

/* Adds key=value unless the value is NULL or "". */
static void add_field(GLogField *fields, gsize *n, const char *key, const char *value) {
        g_assert(*n < MAX_FIELDS);
        if (!value || !*value)
                return;
        fields[*n] = (GLogField) { .key = key, .value = value, .length = -1 };
        (*n)++;
}

void audit_log(const AuditRecord *r) {
        g_auto(Texts) t = { 0 };
        g_autofree char *message = NULL;
        GLogField fields[MAX_FIELDS];
        gsize n = 0;

        g_return_if_fail(r->action < G_N_ELEMENTS(action_texts));
        texts_init(&t, r);
        message = message_text(r, &t);
        add_field(fields, &n, "MESSAGE", message);
        add_field(fields, &n, "PRIORITY", r->error ? "4" : "5");
        add_field(fields, &n, "MESSAGE_ID", action_texts[r->action].message_id);
        add_field(fields, &n, "PASSTHROUGH_ACTION", action_texts[r->action].name);
        add_field(fields, &n, "PASSTHROUGH_CALLER_UID", t.uid);
        add_field(fields, &n, "PASSTHROUGH_CALLER", t.caller);
        add_field(fields, &n, "PASSTHROUGH_ASSIGNMENT", t.assignment);
        add_field(fields, &n, "PASSTHROUGH_VM", t.vm);
        add_field(fields, &n, "PASSTHROUGH_VM_UUID", t.vm_uuid);
        add_field(fields, &n, "PASSTHROUGH_KIND", t.kind);
        add_field(fields, &n, "PASSTHROUGH_DEVICE", t.device);
        add_field(fields, &n, "PASSTHROUGH_TARGET", t.target);
        add_field(fields, &n, "PASSTHROUGH_RESULT", r->error ? "failure" : "success");
        add_field(fields, &n, "PASSTHROUGH_ERROR", r->error ? error_name(r->error) : NULL);
        g_log_structured_array(r->error ? G_LOG_LEVEL_WARNING : G_LOG_LEVEL_MESSAGE, fields, n);
}

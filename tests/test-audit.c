/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The audit trail (service/audit.c), three ways:
 *   test-audit [--tap]   unit tests: the fields each record gives (a capturing
 *                        log writer), the stderr lines when stderr is not the
 *                        journal, control characters made harmless;
 *   test-audit --journal (root) a private mount namespace with its own
 *                        systemd-journald; this program again with stderr on a
 *                        journal stream, so GLib sends the fields; then
 *                        journalctl -o json must show every field of every
 *                        record. Exit 77 (skip) when not root or journald
 *                        cannot start;
 *   test-audit --emit    what both run: audit_log() for every case below. */
#include "config.h"

#include <errno.h>
#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "audit.h"
#include "errors.h"

#define JOURNALD "/lib/systemd/systemd-journald"
#define JOURNAL_STDOUT "/run/systemd/journal/stdout"
#define UUID "8f1c5d2e-1d5a-4c1b-9f6e-2b7f3c9d0a11"
#define MAX_EXPECTED 12

typedef struct {
        AuditRecord record;
        PtError code;                         /* with `error_message`: a failure */
        const char *error_message;            /* NULL: success */
        const char *message;                  /* the MESSAGE expected */
        const char *fields[MAX_EXPECTED];     /* every PASSTHROUGH_* field expected, "KEY=VALUE" */
} Case;

static const Case cases[] = {
        { .record = { .action = AUDIT_ATTACH, .caller_uid = 1000, .caller = ":1.42", .vm = "debian", .vm_uuid = UUID,
                      .kind = "disk", .device = "/dev/sdb", .target = "vdb" },
          .message = "Attached /dev/sdb to VM debian as vdb (uid 1000, :1.42)",
          .fields = { "PASSTHROUGH_ACTION=attach", "PASSTHROUGH_CALLER_UID=1000", "PASSTHROUGH_CALLER=:1.42",
                      "PASSTHROUGH_VM=debian", "PASSTHROUGH_VM_UUID=" UUID, "PASSTHROUGH_KIND=disk",
                      "PASSTHROUGH_DEVICE=/dev/sdb", "PASSTHROUGH_TARGET=vdb", "PASSTHROUGH_RESULT=success" } },
        { .record = { .action = AUDIT_ATTACH, .caller_uid = 1000, .caller = ":1.42", .vm = "debian", .vm_uuid = UUID,
                      .kind = "disk", .device = "/dev/sdb" },
          .code = PT_ERROR_DEVICE_BUSY, .error_message = "/dev/sdb is in use: mounted at /mnt",
          .message = "Attach of /dev/sdb to VM debian failed for uid 1000 (:1.42): /dev/sdb is in use: mounted at /mnt",
          .fields = { "PASSTHROUGH_ACTION=attach", "PASSTHROUGH_CALLER_UID=1000", "PASSTHROUGH_CALLER=:1.42",
                      "PASSTHROUGH_VM=debian", "PASSTHROUGH_VM_UUID=" UUID, "PASSTHROUGH_KIND=disk",
                      "PASSTHROUGH_DEVICE=/dev/sdb", "PASSTHROUGH_RESULT=failure",
                      "PASSTHROUGH_ERROR=org.example.Passthrough1.Error.DeviceBusy" } },
        { .record = { .action = AUDIT_ATTACH, .automatic = TRUE, .caller_uid = G_MAXUINT32,
                      .assignment = "usb:serial=SN", .vm = "debian", .vm_uuid = UUID, .kind = "usb",
                      .device = "46f4:0001:SN" },
          .message = "Automatically attached usb 46f4:0001:SN to VM debian (assignment usb:serial=SN)",
          .fields = { "PASSTHROUGH_ACTION=attach", "PASSTHROUGH_CALLER=automatic",
                      "PASSTHROUGH_ASSIGNMENT=usb:serial=SN", "PASSTHROUGH_VM=debian", "PASSTHROUGH_VM_UUID=" UUID,
                      "PASSTHROUGH_KIND=usb", "PASSTHROUGH_DEVICE=46f4:0001:SN", "PASSTHROUGH_RESULT=success" } },
        { .record = { .action = AUDIT_ATTACH, .automatic = TRUE, .caller_uid = 0, .assignment = "usb:serial=SN",
                      .vm = "debian", .vm_uuid = UUID, .kind = "usb", .device = "46f4:0001:SN" },
          .code = PT_ERROR_FAILED, .error_message = "internal error: unable to open /dev/bus/usb/001/004",
          .message = "Automatic attach of usb 46f4:0001:SN to VM debian failed (assignment usb:serial=SN): "
                     "internal error: unable to open /dev/bus/usb/001/004",
          .fields = { "PASSTHROUGH_ACTION=attach", "PASSTHROUGH_CALLER=automatic",
                      "PASSTHROUGH_ASSIGNMENT=usb:serial=SN", "PASSTHROUGH_VM=debian", "PASSTHROUGH_VM_UUID=" UUID,
                      "PASSTHROUGH_KIND=usb", "PASSTHROUGH_DEVICE=46f4:0001:SN", "PASSTHROUGH_RESULT=failure",
                      "PASSTHROUGH_ERROR=org.example.Passthrough1.Error.Failed" } },
        { .record = { .action = AUDIT_DETACH, .caller_uid = 0, .caller = ":1.7", .vm = "debian", .vm_uuid = UUID,
                      .kind = "usb", .device = "46f4:0001:SN", .target = "ua-pt-usb-1-2" },
          .message = "Detached usb 46f4:0001:SN (ua-pt-usb-1-2) from VM debian (uid 0, :1.7)",
          .fields = { "PASSTHROUGH_ACTION=detach", "PASSTHROUGH_CALLER_UID=0", "PASSTHROUGH_CALLER=:1.7",
                      "PASSTHROUGH_VM=debian", "PASSTHROUGH_VM_UUID=" UUID, "PASSTHROUGH_KIND=usb",
                      "PASSTHROUGH_DEVICE=46f4:0001:SN", "PASSTHROUGH_TARGET=ua-pt-usb-1-2",
                      "PASSTHROUGH_RESULT=success" } },
        { .record = { .action = AUDIT_DETACH, .caller_uid = 1000, .caller = ":1.42", .vm = "debian", .vm_uuid = "",
                      .kind = "disk", .device = "/dev/sdb", .target = "vdb" },
          .code = PT_ERROR_TIMEOUT, .error_message = "The guest did not release vdb within 10 s",
          .message = "Detach of /dev/sdb (vdb) from VM debian failed for uid 1000 (:1.42): The guest did not "
                     "release vdb within 10 s",
          .fields = { "PASSTHROUGH_ACTION=detach", "PASSTHROUGH_CALLER_UID=1000", "PASSTHROUGH_CALLER=:1.42",
                      "PASSTHROUGH_VM=debian", "PASSTHROUGH_KIND=disk", "PASSTHROUGH_DEVICE=/dev/sdb",
                      "PASSTHROUGH_TARGET=vdb", "PASSTHROUGH_RESULT=failure",
                      "PASSTHROUGH_ERROR=org.example.Passthrough1.Error.Timeout" } },
        { .record = { .action = AUDIT_ASSIGN, .caller_uid = 1000, .caller = ":1.42", .assignment = "usb:serial=SN",
                      .vm = "debian", .vm_uuid = UUID, .kind = "usb", .device = "usb:serial=SN" },
          .message = "Assigned usb:serial=SN to VM debian (uid 1000, :1.42)",
          .fields = { "PASSTHROUGH_ACTION=assign", "PASSTHROUGH_CALLER_UID=1000", "PASSTHROUGH_CALLER=:1.42",
                      "PASSTHROUGH_ASSIGNMENT=usb:serial=SN", "PASSTHROUGH_VM=debian", "PASSTHROUGH_VM_UUID=" UUID,
                      "PASSTHROUGH_KIND=usb", "PASSTHROUGH_DEVICE=usb:serial=SN", "PASSTHROUGH_RESULT=success" } },
        { .record = { .action = AUDIT_ASSIGN, .caller_uid = 1001, .caller = ":1.50", .assignment = "disk:wwn=0x5000",
                      .vm = "work", .kind = "disk", .device = "disk:wwn=0x5000" },
          .code = PT_ERROR_LIMIT_EXCEEDED, .error_message = "There are 4096 assignments",
          .message = "Assignment of disk:wwn=0x5000 to VM work failed for uid 1001 (:1.50): There are 4096 assignments",
          .fields = { "PASSTHROUGH_ACTION=assign", "PASSTHROUGH_CALLER_UID=1001", "PASSTHROUGH_CALLER=:1.50",
                      "PASSTHROUGH_ASSIGNMENT=disk:wwn=0x5000", "PASSTHROUGH_VM=work", "PASSTHROUGH_KIND=disk",
                      "PASSTHROUGH_DEVICE=disk:wwn=0x5000", "PASSTHROUGH_RESULT=failure",
                      "PASSTHROUGH_ERROR=org.example.Passthrough1.Error.LimitExceeded" } },
        { .record = { .action = AUDIT_UNASSIGN, .caller_uid = 1000, .caller = ":1.42",
                      .assignment = "usb:serial=SN", .vm = "debian", .vm_uuid = UUID, .kind = "usb",
                      .device = "usb:serial=SN" },
          .message = "Unassigned usb:serial=SN from VM debian (uid 1000, :1.42)",
          .fields = { "PASSTHROUGH_ACTION=unassign", "PASSTHROUGH_CALLER_UID=1000", "PASSTHROUGH_CALLER=:1.42",
                      "PASSTHROUGH_ASSIGNMENT=usb:serial=SN", "PASSTHROUGH_VM=debian", "PASSTHROUGH_VM_UUID=" UUID,
                      "PASSTHROUGH_KIND=usb", "PASSTHROUGH_DEVICE=usb:serial=SN", "PASSTHROUGH_RESULT=success" } },
        { .record = { .action = AUDIT_UNASSIGN, .caller_uid = G_MAXUINT32, .caller = ":1.43",
                      .assignment = "usb:serial=SN", .vm = "debian", .vm_uuid = UUID, .kind = "usb",
                      .device = "usb:serial=SN" },
          .code = PT_ERROR_NOT_AUTHORIZED, .error_message = "Not authorized",
          .message = "Unassignment of usb:serial=SN from VM debian failed for :1.43 (uid unknown): Not authorized",
          .fields = { "PASSTHROUGH_ACTION=unassign", "PASSTHROUGH_CALLER=:1.43",
                      "PASSTHROUGH_ASSIGNMENT=usb:serial=SN", "PASSTHROUGH_VM=debian", "PASSTHROUGH_VM_UUID=" UUID,
                      "PASSTHROUGH_KIND=usb", "PASSTHROUGH_DEVICE=usb:serial=SN", "PASSTHROUGH_RESULT=failure",
                      "PASSTHROUGH_ERROR=org.example.Passthrough1.Error.NotAuthorized" } },
        { .record = { .action = AUDIT_REMOVE_STALE, .automatic = TRUE, .caller_uid = G_MAXUINT32, .vm = "debian",
                      .vm_uuid = UUID, .kind = "usb", .device = "46f4:0001@1-2", .target = "ua-pt-usb-1-2" },
          .message = "Automatically removed usb 46f4:0001@1-2 (ua-pt-usb-1-2) from VM debian: the device left the "
                     "host",
          .fields = { "PASSTHROUGH_ACTION=remove-stale", "PASSTHROUGH_CALLER=automatic", "PASSTHROUGH_VM=debian",
                      "PASSTHROUGH_VM_UUID=" UUID, "PASSTHROUGH_KIND=usb", "PASSTHROUGH_DEVICE=46f4:0001@1-2",
                      "PASSTHROUGH_TARGET=ua-pt-usb-1-2", "PASSTHROUGH_RESULT=success" } },
        { .record = { .action = AUDIT_REMOVE_STALE, .automatic = TRUE, .caller_uid = G_MAXUINT32, .vm = "debian",
                      .vm_uuid = UUID, .kind = "disk", .device = "/dev/sdz", .target = "ua-pt-disk-sdz" },
          .code = PT_ERROR_NO_SUCH_DOMAIN, .error_message = "No domain debian",
          .message = "Automatic removal of /dev/sdz (ua-pt-disk-sdz) from VM debian failed: No domain debian",
          .fields = { "PASSTHROUGH_ACTION=remove-stale", "PASSTHROUGH_CALLER=automatic", "PASSTHROUGH_VM=debian",
                      "PASSTHROUGH_VM_UUID=" UUID, "PASSTHROUGH_KIND=disk", "PASSTHROUGH_DEVICE=/dev/sdz",
                      "PASSTHROUGH_TARGET=ua-pt-disk-sdz", "PASSTHROUGH_RESULT=failure",
                      "PASSTHROUGH_ERROR=org.example.Passthrough1.Error.NoSuchDomain" } },
        /* A device (or VM) that names itself with control characters forges no line. */
        { .record = { .action = AUDIT_ATTACH, .caller_uid = 1000, .caller = ":1.42", .vm = "deb\tian",
                      .kind = "usb", .device = "46f4:0001:A\n** Message: forged\x1b[0m\xe2\x80\xae" },
          .message = "Attached usb 46f4:0001:A?** Message: forged?[0m? to VM deb?ian (uid 1000, :1.42)",
          .fields = { "PASSTHROUGH_ACTION=attach", "PASSTHROUGH_CALLER_UID=1000", "PASSTHROUGH_CALLER=:1.42",
                      "PASSTHROUGH_VM=deb?ian", "PASSTHROUGH_KIND=usb",
                      "PASSTHROUGH_DEVICE=46f4:0001:A?** Message: forged?[0m?", "PASSTHROUGH_RESULT=success" } },
};

static const char *const message_ids[] = {
        [AUDIT_ATTACH] = AUDIT_MESSAGE_ID_ATTACH, [AUDIT_DETACH] = AUDIT_MESSAGE_ID_DETACH,
        [AUDIT_ASSIGN] = AUDIT_MESSAGE_ID_ASSIGN, [AUDIT_UNASSIGN] = AUDIT_MESSAGE_ID_UNASSIGN,
        [AUDIT_REMOVE_STALE] = AUDIT_MESSAGE_ID_REMOVE_STALE,
};

static void emit(const Case *c) {
        AuditRecord record = c->record;
        g_autoptr(GError) error = c->error_message ? g_error_new_literal(PT_ERROR, c->code, c->error_message) : NULL;

        record.error = error;
        audit_log(&record);
}

static void emit_all(void) {
        for (guint i = 0; i < G_N_ELEMENTS(cases); i++)
                emit(&cases[i]);
}

/* ---- checking one entry: key -> value ---- */

static void assert_entry(const Case *c, GHashTable *entry) {
        g_autoptr(GHashTable) expected = g_hash_table_new(g_str_hash, g_str_equal);
        GHashTableIter iter;
        gpointer key, value;

        g_assert_cmpstr(g_hash_table_lookup(entry, "MESSAGE"), ==, c->message);
        g_assert_cmpstr(g_hash_table_lookup(entry, "MESSAGE_ID"), ==, message_ids[c->record.action]);
        g_assert_cmpstr(g_hash_table_lookup(entry, "PRIORITY"), ==, c->error_message ? "4" : "5");
        for (guint i = 0; c->fields[i]; i++) {
                const char *eq = strchr(c->fields[i], '=');
                g_autofree char *name = g_strndup(c->fields[i], (gsize) (eq - c->fields[i]));

                g_assert_cmpstr(g_hash_table_lookup(entry, name), ==, eq + 1);
                g_hash_table_add(expected, (gpointer) g_intern_string(name));
        }
        g_hash_table_iter_init(&iter, entry);
        while (g_hash_table_iter_next(&iter, &key, &value))
                if (g_str_has_prefix(key, "PASSTHROUGH_") && !g_hash_table_contains(expected, g_intern_string(key)))
                        g_error("%s: unexpected field %s=%s", c->message, (char *) key, (char *) value);
        for (const char *p = g_hash_table_lookup(entry, "MESSAGE"); *p; p++)
                g_assert_cmpint((guchar) *p, >=, 0x20);
}

/* ---- unit: the fields, through a capturing writer ---- */

static GPtrArray *captured;   /* GHashTable* per log call while capturing */

static GLogWriterOutput writer(GLogLevelFlags level, const GLogField *fields, gsize n, gpointer data) {
        GHashTable *entry;

        if (!captured)
                return g_log_writer_default(level, fields, n, data);
        entry = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
        for (gsize i = 0; i < n; i++)
                g_hash_table_insert(entry, g_strdup(fields[i].key),
                                    fields[i].length < 0 ? g_strdup(fields[i].value)
                                                         : g_strndup(fields[i].value, (gsize) fields[i].length));
        g_ptr_array_add(captured, entry);
        return G_LOG_WRITER_HANDLED;
}

static void test_fields(void) {
        captured = g_ptr_array_new_with_free_func((GDestroyNotify) g_hash_table_unref);
        emit_all();
        g_assert_cmpuint(captured->len, ==, G_N_ELEMENTS(cases));
        for (guint i = 0; i < G_N_ELEMENTS(cases); i++)
                assert_entry(&cases[i], captured->pdata[i]);
        g_clear_pointer(&captured, g_ptr_array_unref);
}

/* ---- unit: stderr that is not the journal: one line per record ---- */

static const char *self;

static void test_stderr_lines(void) {
        g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDERR_PIPE);
        g_autoptr(GSubprocess) child = NULL;
        g_autoptr(GError) error = NULL;
        g_autofree char *err = NULL;
        g_auto(GStrv) lines = NULL;
        g_autoptr(GPtrArray) shown = g_ptr_array_new();

        g_subprocess_launcher_unsetenv(launcher, "JOURNAL_STREAM");
        g_subprocess_launcher_unsetenv(launcher, "G_MESSAGES_DEBUG");
        child = g_subprocess_launcher_spawn(launcher, &error, self, "--emit", NULL);
        g_assert_no_error(error);
        g_assert_true(g_subprocess_communicate_utf8(child, NULL, NULL, NULL, &err, &error));
        g_assert_no_error(error);
        g_assert_true(g_subprocess_get_successful(child));
        g_test_message("%s", err);
        lines = g_strsplit(err, "\n", -1);
        for (guint i = 0; lines[i]; i++)   /* GLib puts an empty line before each warning */
                if (*lines[i])
                        g_ptr_array_add(shown, lines[i]);
        g_assert_cmpuint(shown->len, ==, G_N_ELEMENTS(cases));
        for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
                const char *line = shown->pdata[i];
                g_autofree char *end = g_strconcat(": ", cases[i].message, NULL);

                g_assert_true(g_str_has_suffix(line, end));
                g_assert_nonnull(strstr(line, cases[i].error_message ? "WARNING" : "Message"));
        }
}

/* ---- --journal: a private journald ---- */

static int skip(const char *why) {
        g_print("SKIP: %s\n", why);
        return 77;
}

/* Mount namespace of our own: tmpfs on /run (journald's sockets, the runtime
 * journal) and on /var/log/journal, so nothing reaches the host's journal. */
static gboolean private_mounts(GError **error) {
        if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
            mount("tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") < 0 ||
            (g_file_test("/var/log/journal", G_FILE_TEST_IS_DIR) &&
             mount("tmpfs", "/var/log/journal", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") < 0)) {
                g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "private mounts: %s", g_strerror(errno));
                return FALSE;
        }
        return g_mkdir_with_parents("/run/systemd", 0755) == 0;
}

/* A stream to journald's stdout socket, as systemd gives services for stderr. */
static int journal_stream(void) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX, .sun_path = JOURNAL_STDOUT };
        const char *header = "test-audit\n\n6\n0\n0\n0\n0\n";
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

        if (fd < 0)
                return -1;
        if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0 || shutdown(fd, SHUT_RD) < 0 ||
            write(fd, header, strlen(header)) != (ssize_t) strlen(header)) {
                close(fd);
                return -1;
        }
        return fd;
}

static int journal_stream_wait(void) {
        for (guint i = 0; i < 100; i++) {
                int fd = journal_stream();

                if (fd >= 0)
                        return fd;
                g_usleep(50 * 1000);
        }
        return -1;
}

/* Run `self --emit` with stderr on the journal stream; its pid. */
static char *run_emitter(int fd) {
        g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_NONE);
        g_autoptr(GSubprocess) child = NULL;
        g_autoptr(GError) error = NULL;
        g_autofree char *stream = NULL;
        g_autofree char *pid = NULL;
        struct stat st;

        g_assert_cmpint(fstat(fd, &st), ==, 0);
        stream = g_strdup_printf("%lu:%lu", (gulong) st.st_dev, (gulong) st.st_ino);
        g_subprocess_launcher_setenv(launcher, "JOURNAL_STREAM", stream, TRUE);
        g_subprocess_launcher_take_stderr_fd(launcher, fd);
        child = g_subprocess_launcher_spawn(launcher, &error, self, "--emit", NULL);
        g_assert_no_error(error);
        pid = g_strdup(g_subprocess_get_identifier(child));
        g_assert_true(g_subprocess_wait_check(child, NULL, &error));
        g_assert_no_error(error);
        return g_steal_pointer(&pid);
}

static GHashTable *entry_from_json(const char *line) {
        g_autoptr(JsonParser) parser = json_parser_new();
        g_autoptr(GError) error = NULL;
        GHashTable *entry = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
        JsonObject *object;
        JsonObjectIter iter;
        const char *key;
        JsonNode *value;

        g_assert_true(json_parser_load_from_data(parser, line, -1, &error));
        g_assert_no_error(error);
        object = json_node_get_object(json_parser_get_root(parser));
        json_object_iter_init(&iter, object);
        while (json_object_iter_next(&iter, &key, &value))
                if (JSON_NODE_HOLDS_VALUE(value))   /* binary values come as arrays: none expected */
                        g_hash_table_insert(entry, g_strdup(key), g_strdup(json_node_get_string(value)));
        return entry;
}

/* The journal's entries from `pid`, once there are `n` (journald reads its
 * sockets in its own time). */
static GPtrArray *read_journal(const char *pid, guint n) {
        g_autofree char *match = g_strconcat("_PID=", pid, NULL);
        GPtrArray *entries = NULL;

        for (guint tries = 0; tries < 100; tries++) {
                g_autofree char *out = NULL;
                g_autoptr(GError) error = NULL;
                g_auto(GStrv) lines = NULL;
                const char *argv[] = { "journalctl", "--no-pager", "-o", "json", match, NULL };

                g_assert_true(g_spawn_sync(NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, NULL,
                                           NULL, &error));
                g_assert_no_error(error);
                g_clear_pointer(&entries, g_ptr_array_unref);
                entries = g_ptr_array_new_with_free_func((GDestroyNotify) g_hash_table_unref);
                lines = g_strsplit(out, "\n", -1);
                for (guint i = 0; lines[i]; i++)
                        if (*lines[i])
                                g_ptr_array_add(entries, entry_from_json(lines[i]));
                if (entries->len >= n)
                        break;
                g_usleep(50 * 1000);
        }
        return entries;
}

static void check_journal(const char *pid) {
        g_autoptr(GPtrArray) entries = read_journal(pid, G_N_ELEMENTS(cases));

        g_assert_cmpuint(entries->len, ==, G_N_ELEMENTS(cases));
        for (guint i = 0; i < entries->len; i++) {
                GHashTable *entry = entries->pdata[i];

                g_print("ok: %s\n", (char *) g_hash_table_lookup(entry, "MESSAGE"));
                g_assert_cmpstr(g_hash_table_lookup(entry, "_TRANSPORT"), ==, "journal");   /* fields, not a line */
                g_assert_cmpstr(g_hash_table_lookup(entry, "_UID"), ==, "0");               /* the service's own */
                assert_entry(&cases[i], entry);
        }
}

static int journal_main(void) {
        g_autoptr(GError) error = NULL;
        GPid journald = 0;
        const char *argv[] = { JOURNALD, NULL };
        g_autofree char *pid = NULL;
        int fd;

        if (geteuid() != 0)
                return skip("needs root: a private mount namespace and systemd-journald");
        if (!g_file_test(JOURNALD, G_FILE_TEST_IS_EXECUTABLE))
                return skip(JOURNALD " is not installed");
        if (!private_mounts(&error))
                return skip(error->message);
        if (!g_spawn_async(NULL, (char **) argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL, &journald, &error))
                return skip(error->message);
        fd = journal_stream_wait();
        if (fd < 0) {
                kill(journald, SIGTERM);
                waitpid(journald, NULL, 0);
                return skip("systemd-journald did not open " JOURNAL_STDOUT);
        }
        pid = run_emitter(fd);
        check_journal(pid);
        kill(journald, SIGTERM);
        waitpid(journald, NULL, 0);
        g_print("every field of %zu records found in the journal\n", G_N_ELEMENTS(cases));
        return 0;
}

int main(int argc, char *argv[]) {
        self = argv[0];
        if (argc == 2 && g_str_equal(argv[1], "--emit")) {
                emit_all();
                return 0;
        }
        if (argc == 2 && g_str_equal(argv[1], "--journal"))
                return journal_main();
        g_log_set_writer_func(writer, NULL, NULL);
        g_test_init(&argc, &argv, NULL);
        g_log_set_always_fatal(G_LOG_FATAL_MASK);   /* failures are logged as warnings */
        g_test_add_func("/audit/fields", test_fields);
        g_test_add_func("/audit/stderr-lines", test_stderr_lines);
        return g_test_run();
}

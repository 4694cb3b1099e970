/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bbvirt_conf_parse(): bit-babbler's vm.conf, read by passthroughctl
 * import-bbvirt (a bash file, read without running anything). What it
 * imports must be usable as passthroughd takes it: serials that are match
 * strings, each imported for one domain once; names and URIs that D-Bus can
 * carry; diagnostics by line, within the file, printable. */
#include "bbvirt-conf.h"
#include "fuzz-common.h"

static guint count_lines(const uint8_t *data, size_t size) {
        guint n = 1;

        for (size_t i = 0; i < size; i++)
                n += data[i] == '\n';
        return n;
}

static gboolean id_ok(const char *id) {
        if (!*id)
                return FALSE;
        for (; *id; id++)
                if (!g_ascii_isalnum(*id) && *id != '_')
                        return FALSE;
        return TRUE;
}

/* Valid UTF-8 without control characters. */
static gboolean text_ok(const char *s) {
        if (!g_utf8_validate(s, -1, NULL))
                return FALSE;
        for (; *s; s++)
                if ((unsigned char) *s < 0x20 || *s == 0x7f)
                        return FALSE;
        return TRUE;
}

static void check_domain(const BbvirtDomain *d, guint lines, GHashTable *serials) {
        FUZZ_CHECK(id_ok(d->id));
        FUZZ_CHECK(d->name && *d->name && text_ok(d->name));
        FUZZ_CHECK(!d->uri || (*d->uri && text_ok(d->uri)));
        FUZZ_CHECK(d->name_line <= lines && d->uri_line <= lines && d->rng_line <= lines);
        FUZZ_CHECK(d->serials->len == 0 || d->rng_line > 0);
        for (guint i = 0; i < d->serials->len; i++) {
                const BbvirtSerial *s = d->serials->pdata[i];

                FUZZ_CHECK(bbvirt_serial_problem(s->serial) == NULL);
                FUZZ_CHECK(s->line >= 1 && s->line <= lines);
                /* once in the whole file: not twice for one domain, not for two */
                FUZZ_CHECK(g_hash_table_add(serials, s->serial));
        }
}

static void check_conf(const BbvirtConf *conf, guint lines) {
        g_autoptr(GHashTable) serials = g_hash_table_new(g_str_hash, g_str_equal);
        g_autoptr(GHashTable) ids = g_hash_table_new(g_str_hash, g_str_equal);
        guint last = 0;

        for (guint i = 0; i < conf->domains->len; i++) {
                const BbvirtDomain *d = conf->domains->pdata[i];

                FUZZ_CHECK(g_hash_table_add(ids, d->id));
                check_domain(d, lines, serials);
        }
        for (guint i = 0; i < conf->diagnostics->len; i++) {
                const BbvirtDiagnostic *diag = conf->diagnostics->pdata[i];

                FUZZ_CHECK(diag->line >= 1 && diag->line >= last && diag->line <= lines);
                FUZZ_CHECK(diag->severity == BBVIRT_SKIPPED || diag->severity == BBVIRT_NOTE);
                FUZZ_CHECK(diag->message && *diag->message && text_ok(diag->message));
                last = diag->line;
        }
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        fuzz_quiet_logs();
        return 0;
}

/* The whole input, NUL bytes included: the client reads the file as it is. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        g_autoptr(BbvirtConf) conf = bbvirt_conf_parse((const char *) data, size);

        check_conf(conf, count_lines(data, size));
        return 0;
}

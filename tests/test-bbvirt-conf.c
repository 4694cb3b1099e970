/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests for client/bbvirt-conf.c, the reader of bbvirt's vm.conf, over
 * the files in tests/fixtures/bbvirt/ and short texts: what is imported,
 * what is reported at which line, and that nothing in them is ever run. */

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>

#include "bbvirt-conf.h"

/* The result as text: a line for each domain ("ID=NAME <URI>: [SERIAL]...",
 * no <URI> when unset), then one for each diagnostic ("LINE: MESSAGE",
 * notes as "LINE: note: MESSAGE"). */
static char *render(const BbvirtConf *conf)
{
        GString *out = g_string_new(NULL);

        for (guint i = 0; i < conf->domains->len; i++) {
                const BbvirtDomain *d = g_ptr_array_index(conf->domains, i);

                g_string_append_printf(out, "%s=%s", d->id, d->name);
                if (d->uri)
                        g_string_append_printf(out, " <%s>", d->uri);
                g_string_append_c(out, ':');
                for (guint j = 0; j < d->serials->len; j++)
                        g_string_append_printf(out, " [%s]",
                                               ((const BbvirtSerial *) g_ptr_array_index(d->serials, j))->serial);
                g_string_append_c(out, '\n');
        }
        for (guint i = 0; i < conf->diagnostics->len; i++) {
                const BbvirtDiagnostic *d = g_ptr_array_index(conf->diagnostics, i);

                g_string_append_printf(out, "%u: %s%s\n", d->line,
                                       d->severity == BBVIRT_NOTE ? "note: " : "", d->message);
        }
        return g_string_free(out, FALSE);
}

static char *render_text(const char *text, gsize length)
{
        g_autoptr(BbvirtConf) conf = bbvirt_conf_parse(text, length);

        return render(conf);
}

static void check_text(const char *text, const char *expected)
{
        g_autofree char *got = render_text(text, strlen(text));

        g_assert_cmpstr(got, ==, expected);
}

/* A fixture with @PWNED@ replaced by pwned (NULL: as it is). */
static GBytes *fixture(const char *name, const char *pwned)
{
        g_autofree char *path = g_test_build_filename(G_TEST_DIST, "fixtures", "bbvirt", name, NULL);
        g_autoptr(GError) error = NULL;
        g_auto(GStrv) parts = NULL;
        char *text = NULL;
        gsize length = 0;

        g_assert_true(g_file_get_contents(path, &text, &length, &error));
        g_assert_no_error(error);
        if (!pwned)
                return g_bytes_new_take(text, length);
        g_assert_null(memchr(text, '\0', length));
        parts = g_strsplit(text, "@PWNED@", -1);
        g_free(text);
        text = g_strjoinv(pwned, parts);
        return g_bytes_new_take(text, strlen(text));
}

static void check_fixture_as(const char *name, const char *pwned, const char *expected)
{
        g_autoptr(GBytes) bytes = fixture(name, pwned);
        gsize length = 0;
        const char *text = g_bytes_get_data(bytes, &length);
        g_autofree char *got = render_text(text, length);

        g_assert_cmpstr(got, ==, expected);
}

static void check_fixture(const char *name, const char *expected)
{
        check_fixture_as(name, NULL, expected);
}

static void test_realistic(void)
{
        g_autoptr(GBytes) bytes = fixture("vm.conf", NULL);
        gsize length = 0;
        const char *text = g_bytes_get_data(bytes, &length);
        g_autoptr(BbvirtConf) conf = bbvirt_conf_parse(text, length);
        const BbvirtDomain *mx1;
        g_autofree char *got = render(conf);

        g_assert_cmpstr(got, ==,
                        "sid=sid <qemu:///system>: [QZ7K2M] [PL4X8N]\n"
                        "kbsd=kbsd-unstable <qemu+ssh://vmhost.example/system>: [G5TR3W]\n"
                        "mx1=mx1.example.org: [HX9T2A] [HX9T2B]\n");
        mx1 = g_ptr_array_index(conf->domains, 2);
        g_assert_cmpuint(mx1->name_line, ==, 25);
        g_assert_cmpuint(mx1->rng_line, ==, 26);
        g_assert_cmpuint(((const BbvirtSerial *) g_ptr_array_index(mx1->serials, 0))->line, ==, 27);
        g_assert_cmpuint(((const BbvirtSerial *) g_ptr_array_index(mx1->serials, 1))->line, ==, 28);
}

/* Nothing named @PWNED@... may exist after reading the fixtures that would
 * create it if run by a shell. */
static void test_nothing_runs(void)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *dir = g_dir_make_tmp("test-bbvirt-conf-XXXXXX", &error);
        g_autofree char *pwned = NULL;
        GDir *listing;

        g_assert_no_error(error);
        pwned = g_build_filename(dir, "pwned", NULL);
        check_fixture_as("exec.conf", pwned,
                         "ok=ok: [SAFE01]\n"
                         "last=last: [SAFE10]\n"
                         "6: command substitution $(...) is never run; line skipped\n"
                         "7: command substitution $(...) is never run; line skipped\n"
                         "8: command substitution `...` is never run; line skipped\n"
                         "9: command substitution $(...) is never run; line skipped\n"
                         "10: expansion with '$' is not supported (nothing is evaluated); line skipped\n"
                         "11: command substitution $(...) is never run; line skipped\n"
                         "12: command substitution `...` is never run; line skipped\n"
                         "13: not an assignment: a command, which is never run; line skipped\n"
                         "14: ';': only assignments are read, nothing is run; line skipped\n"
                         "15: '&': only assignments are read, nothing is run; line skipped\n"
                         "16: not an assignment: a command, which is never run; line skipped\n"
                         "17: '|': only assignments are read, nothing is run; line skipped\n"
                         "18: expansion with '$' is not supported (nothing is evaluated); line skipped\n"
                         "21: command substitution $(...) is never run; lines 19-23 skipped\n"
                         "24: not an assignment: a command, which is never run; line skipped\n"
                         "25: not an assignment: a command, which is never run; line skipped\n"
                         "26: '>': only assignments are read, nothing is run; line skipped\n"
                         "27: unquoted '*' would be expanded by the shell (quote it); line skipped\n"
                         "28: unquoted '~' would be expanded by the shell (quote it); line skipped\n"
                         "29: unquoted '{' would be expanded by the shell (quote it); line skipped\n"
                         "30: expansion with '$' is not supported (nothing is evaluated); line skipped\n"
                         "31: '+=' is not supported: give the whole value with '='; line skipped\n"
                         "32: command substitution $(...) is never run; line skipped\n");
        check_fixture_as("function.conf", pwned,
                         "before=before: [FN0001]\n"
                         "2: compound command or function definition (what follows depends on running it); "
                         "nothing from line 2 on is read\n");
        check_fixture_as("heredoc.conf", pwned,
                         "before=before: [HD0001]\n"
                         "2: not an assignment: a command, which is never run; "
                         "a here-document follows: nothing from line 2 on is read\n");
        listing = g_dir_open(dir, 0, &error);
        g_assert_no_error(error);
        g_assert_null(g_dir_read_name(listing));
        g_dir_close(listing);
        g_assert_cmpint(g_rmdir(dir), ==, 0);
}

static void test_quotes(void)
{
        check_fixture("quotes.conf",
                      "one=it's \"one\": [QT0001] [QT0002] [QT0003]\n"
                      "two=two:\n"
                      "5: DOMAIN_NAME_two=\"two\\nDOMAIN_RNG_swallowed=( QT0004 )\\n\": "
                      "a control character; skipped\n"
                      "8: DOMAIN_RNG_two not imported: the domain's name is uncertain (DOMAIN_NAME_two, line 5)\n"
                      "9: quote \" is never closed; nothing from line 9 on is read\n");
}

static void test_parens(void)
{
        check_fixture("parens.conf",
                      "e=e: [PA0006]\n"
                      "3: ')': only assignments are read, nothing is run; line skipped\n"
                      "4: unquoted '(' is shell syntax, not part of a value; line skipped\n"
                      "5: unquoted ')' is shell syntax, not part of a value; line skipped\n"
                      "6: '(': only assignments are read, nothing is run; line skipped\n"
                      "8: array ( is never closed; nothing from line 8 on is read\n");
}

static void test_compound(void)
{
        check_fixture("compound.conf",
                      "before=before: [CP0001]\n"
                      "4: compound command or function definition (what follows depends on running it); "
                      "nothing from line 4 on is read\n");
}

/* Lines over 4 KiB: no limit but passthroughd's for domain names, the right
 * line numbers after them. */
static void test_long_lines(void)
{
        g_autoptr(GBytes) bytes = fixture("long-lines.conf", NULL);
        gsize length = 0;
        const char *text = g_bytes_get_data(bytes, &length);
        g_autoptr(BbvirtConf) conf = bbvirt_conf_parse(text, length);
        g_autofree char *got = NULL;
        const BbvirtDomain *many;

        g_assert_cmpuint(conf->domains->len, ==, 3);
        many = g_ptr_array_index(conf->domains, 0);
        g_assert_cmpuint(many->serials->len, ==, 600);
        g_assert_cmpstr(((const BbvirtSerial *) g_ptr_array_index(many->serials, 599))->serial, ==, "LL0599");
        g_assert_cmpuint(strlen(many->uri), ==, strlen("qemu+ssh://vmhost.example/system?") + 4200);
        g_ptr_array_remove_index(conf->domains, 0);
        got = render(conf);
        g_assert_cmpstr(got, ==,
                        "long=long:\n"
                        "after=after: [LL9999]\n"
                        "5: not an assignment: a command, which is never run; line skipped\n"
                        "8: DOMAIN_NAME_long=\"nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn...\": "
                        "longer than 255 bytes, more than passthroughd takes; skipped\n"
                        "9: DOMAIN_RNG_long not imported: the domain's name is uncertain (DOMAIN_NAME_long, line 8)\n");
}

static void test_nul(void)
{
        check_fixture("nul.conf",
                      "ok=ok: [NU0004]\n"
                      "3: NUL byte; line skipped\n"
                      "4: NUL byte; line skipped\n"
                      "5: NUL byte; line skipped\n");
}

static void test_non_utf8(void)
{
        check_fixture("non-utf8.conf",
                      "cafe=cafe:\n"
                      "ok=caf\xc3\xa9: [NV0003]\n"
                      "2: DOMAIN_NAME_cafe=\"caf\\351\": not valid UTF-8; skipped\n"
                      "3: DOMAIN_RNG_cafe not imported: the domain's name is uncertain (DOMAIN_NAME_cafe, line 2)\n"
                      "4: DOMAIN_URI_cafe=\"qemu:///syst\\350me\": not valid UTF-8; skipped\n"
                      "7: not an assignment: a command, which is never run; line skipped\n");
}

static void test_duplicates(void)
{
        check_fixture("duplicates.conf",
                      "sid=sid-vm: [DU0003]\n"
                      "a=a: [DU0005]\n"
                      "b=b: [DU0006]\n"
                      "c=shared: [DU0007]\n"
                      "d=shared: [DU0008]\n"
                      "e=e:\n"
                      "f=f:\n"
                      "5: note: DOMAIN_RNG_sid is set again (before on line 2); the later value counts, as in bash\n"
                      "5: note: serial \"DU0003\" is listed twice in DOMAIN_RNG_sid\n"
                      "6: note: DOMAIN_NAME_sid is set again (before on line 3); the later value counts, as in bash\n"
                      "7: note: DOMAIN_URI_sid is set again (before on line 4); the later value counts, as in bash\n"
                      "10: serial \"DU0004\" is listed for domains a (line 9) and b; imported for neither\n"
                      "15: note: serial \"DU0007\" is listed for domain shared again\n"
                      "17: note: OTHER_SETTING is not a bbvirt setting; ignored\n"
                      "18: DOMAIN_RNG_ names no domain; skipped\n"
                      "20: DOMAIN_NAME_f must be one value, not an array; skipped\n");
}

static void test_serials(void)
{
        check_fixture("serials.conf",
                      "ok=ok: [SE 01] [SE\"02] [SE'03] [<SE04>] [SE&05] [SE 06] [SE#07] [SE#08] [SE,14]\n"
                      "bad=bad:\n"
                      "long=long:\n"
                      "max=max: [0123456789012345678901234567890123456789012345678901234567890123"
                      "4567890123456789012345678901234567890123456789012345678901234567]\n"
                      "scalar=scalar: [SE 13]\n"
                      "4: serial \"\" in DOMAIN_RNG_bad: empty; not imported\n"
                      "4: serial \"SE,id=dead:beef\" in DOMAIN_RNG_bad: it ends like ,id=vvvv:pppp, which a "
                      "match string takes for vendor and product; not imported\n"
                      "4: serial \" SE09\" in DOMAIN_RNG_bad: a space at either end; not imported\n"
                      "4: serial \"SE10 \" in DOMAIN_RNG_bad: a space at either end; not imported\n"
                      "4: serial \"SE11\\ttab\" in DOMAIN_RNG_bad: not printable ASCII; not imported\n"
                      "4: serial \"\\303\\204SE12\" in DOMAIN_RNG_bad: not printable ASCII; not imported\n"
                      "5: serial \"0123456789012345678901234567890123456789...\" in DOMAIN_RNG_long: "
                      "longer than 128 characters; not imported\n");
}

/* The subset's corners, each as bash reads it. */
static void test_syntax(void)
{
        check_text("", "");
        check_text("# only a comment", "");
        check_text("DOMAIN_RNG_a=( A1 )", "a=a: [A1]\n");
        check_text("  DOMAIN_RNG_a=(A1 A2) # comment\n", "a=a: [A1] [A2]\n");
        check_text("DOMAIN_RNG_a=(A1 A2)# comment\nDOMAIN_RNG_b=(B1)x\n",
                   "1: text right after ')': bash reads no array there; line skipped\n"
                   "2: text right after ')': bash reads no array there; line skipped\n");
        check_text("DOMAIN_RNG_a=( A1 \\\n A2 ) DOMAIN_NAME_a=x\\ y DOMAIN_URI_a=\"u\\\"\\$\\q\"\n",
                   "a=x y <u\"$\\q>: [A1] [A2]\n");
        check_text("DOMAIN_NAME_a=ab\\\ncd\nDOMAIN_RNG_a=\\\n( A1 )\n", "a=abcd: [A1]\n");
        check_text("DOMAIN_RNG_a=( A1 #c )\n A2 )\n",
                   "a=a: [A1] [A2]\n");
        check_text("DOMAIN_RNG_a=(\n\n\t# c\n)\nDOMAIN_RNG_b=\n", "a=a:\nb=b:\n");
        check_text("DOMAIN_URI_9_x=qemu:///system?a=*\n", "9_x=9_x <qemu:///system?a=*>:\n");
        check_text("DOMAIN_RNG_a=( A1 )\nDOMAIN_NAME_a=$(hostname)-vm\nDOMAIN_RNG_b=( B1 )\nexport DOMAIN_NAME_b\n",
                   "a=a:\nb=b:\n"
                   "1: DOMAIN_RNG_a not imported: the domain's name is uncertain (DOMAIN_NAME_a, line 2)\n"
                   "2: command substitution $(...) is never run; line skipped\n"
                   "3: DOMAIN_RNG_b not imported: the domain's name is uncertain (DOMAIN_NAME_b, line 4)\n"
                   "4: not an assignment: a command, which is never run; line skipped\n");
        check_text("DOMAIN_RNG_a=( A1 )\nDOMAIN_RNG_a+=( A2 )\nDOMAIN_NAME_b=$(x)\nDOMAIN_NAME_b=vm\n"
                   "DOMAIN_RNG_b=( B1 )\nDOMAIN_RNG_c=( $(x) )\nDOMAIN_RNG_c=( C1 )\n",
                   "a=a:\nb=vm: [B1]\nc=c: [C1]\n"
                   "1: DOMAIN_RNG_a not imported: line 2, not understood, may change it\n"
                   "2: '+=' is not supported: give the whole value with '='; line skipped\n"
                   "3: command substitution $(...) is never run; line skipped\n"
                   "6: command substitution $(...) is never run; line skipped\n");
        check_text("DOMAIN_RNG_a=( A1 A2 )\nDOMAIN_RNG_a=A3\nDOMAIN_RNG_b=( B1 B2 )\nDOMAIN_RNG_b=\n",
                   "a=a: [A3] [A2]\n"
                   "b=b: [B2]\n"
                   "2: note: DOMAIN_RNG_a=value replaces only the first element of the array of line 1, as in bash\n"
                   "4: note: DOMAIN_RNG_b=value replaces only the first element of the array of line 3, as in bash\n");
        check_text("DOMAIN_RNG_a=( A1 )\r\n",
                   "1: control character 0x0d; line skipped\n");
        check_text("export DOMAIN_RNG_a=( A1 )\nDOMAIN_RNG_b =( B1 )\n",
                   "1: not an assignment: a command, which is never run; line skipped\n"
                   "2: not an assignment: a command, which is never run; line skipped\n");
        check_text("DOMAIN_RNG_a=( A1 ) rm -rf /tmp/x\n",
                   "1: not an assignment: a command, which is never run; line skipped\n");
        check_text("DOMAIN_RNG_a=( [0]=A1 )\n",
                   "1: unquoted '[' would be expanded by the shell (quote it); line skipped\n");
        check_text("DOMAIN_NAME_a=~x\n",
                   "1: unquoted '~' would be expanded by the shell (quote it); line skipped\n");
        check_text("DOMAIN_NAME_a=\"x\ny\"\\\n",
                   "a=a:\n"
                   "1: DOMAIN_NAME_a=\"x\\ny\": a control character; skipped\n");
        check_text("DOMAIN_NAME_a=x\\",
                   "1: backslash at the end of the file; line skipped\n");
        check_text("while :; do\nDOMAIN_RNG_a=( A1 )\ndone\n",
                   "1: compound command or function definition (what follows depends on running it); "
                   "nothing from line 1 on is read\n");
        check_text("DOMAIN_NAME_a=\"$(touch /x)\" DOMAIN_RNG_a=( A1 )\nDOMAIN_RNG_b=( B1 )\n",
                   "b=b: [B1]\n"
                   "1: command substitution $(...) is never run; line skipped\n");
        check_text("DOMAIN_RNG_a=( \"$(echo \")\")\" )\nDOMAIN_RNG_b=( B1 )\n",
                   "b=b: [B1]\n"
                   "1: command substitution $(...) is never run; line skipped\n");
        check_text("DOMAIN_RNG_a='A1\n",
                   "1: quote ' is never closed; nothing from line 1 on is read\n");
}

static void test_serial_problem(void)
{
        g_autofree char *max = g_strnfill(128, 'S');
        g_autofree char *over = g_strnfill(129, 'S');

        g_assert_null(bbvirt_serial_problem("KWIF4Q"));
        g_assert_null(bbvirt_serial_problem("a b<>\"'&=:;"));
        g_assert_null(bbvirt_serial_problem(max));
        g_assert_cmpstr(bbvirt_serial_problem(over), ==, "longer than 128 characters");
        g_assert_cmpstr(bbvirt_serial_problem(""), ==, "empty");
        g_assert_null(bbvirt_serial_problem("A,B,id=12:34"));
        g_assert_null(bbvirt_serial_problem(",id=1234:567g"));
        g_assert_cmpstr(bbvirt_serial_problem("A,id=1234:abCD"), ==,
                        "it ends like ,id=vvvv:pppp, which a match string takes for vendor and product");
        g_assert_cmpstr(bbvirt_serial_problem(",id=1234:5678"), ==,
                        "it ends like ,id=vvvv:pppp, which a match string takes for vendor and product");
        g_assert_cmpstr(bbvirt_serial_problem(" A"), ==, "a space at either end");
        g_assert_cmpstr(bbvirt_serial_problem("A\x7f"), ==, "not printable ASCII");
        g_assert_cmpstr(bbvirt_serial_problem("\xc3\x84"), ==, "not printable ASCII");
}

int main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/bbvirt-conf/realistic", test_realistic);
        g_test_add_func("/bbvirt-conf/nothing-runs", test_nothing_runs);
        g_test_add_func("/bbvirt-conf/quotes", test_quotes);
        g_test_add_func("/bbvirt-conf/parens", test_parens);
        g_test_add_func("/bbvirt-conf/compound", test_compound);
        g_test_add_func("/bbvirt-conf/long-lines", test_long_lines);
        g_test_add_func("/bbvirt-conf/nul", test_nul);
        g_test_add_func("/bbvirt-conf/non-utf8", test_non_utf8);
        g_test_add_func("/bbvirt-conf/duplicates", test_duplicates);
        g_test_add_func("/bbvirt-conf/serials", test_serials);
        g_test_add_func("/bbvirt-conf/syntax", test_syntax);
        g_test_add_func("/bbvirt-conf/serial-problem", test_serial_problem);
        return g_test_run();
}

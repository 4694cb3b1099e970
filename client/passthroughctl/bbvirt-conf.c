/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Reading bbvirt's vm.conf without a shell: see bbvirt-conf.h.
 *
 * The text is read as bash would read it, a statement at a time (a
 * statement ends at a newline outside quotes and arrays), and a statement
 * counts only when all of it is understood. One that is not is reported at
 * the line of the first thing not understood, then passed over to where bash
 * would end it (following quotes, backslashes, parentheses and comments). */

#include <stdarg.h>
#include <stdbool.h>
#include <string.h>

#include <glib/gi18n.h>

#include "bbvirt-conf.h"

#define MAX_SERIAL 128 /* passthroughd keeps this much of a device string */
#define MAX_NAME 255   /* passthroughd's limit for a domain name */
#define MAX_QUOTED 40  /* of a value quoted in a message */
#define ID_SUFFIX ",id=vvvv:pppp"

/* ------------------------------------------------------------------ results */

static void diagnostic_free(gpointer data)
{
        BbvirtDiagnostic *d = data;

        g_free(d->message);
        g_free(d);
}

static void serial_free(gpointer data)
{
        BbvirtSerial *s = data;

        g_free(s->serial);
        g_free(s);
}

static void domain_free(gpointer data)
{
        BbvirtDomain *d = data;

        g_free(d->id);
        g_free(d->name);
        g_free(d->uri);
        g_ptr_array_unref(d->serials);
        g_free(d);
}

void bbvirt_conf_free(BbvirtConf *conf)
{
        if (!conf)
                return;
        g_ptr_array_unref(conf->domains);
        g_ptr_array_unref(conf->diagnostics);
        g_free(conf);
}

/* Does the serial end like ",id=vvvv:pppp" (hex digits)? */
static bool ends_like_id(const char *serial, gsize n)
{
        const char *tail;

        if (n < strlen(ID_SUFFIX))
                return false;
        tail = serial + n - strlen(ID_SUFFIX);
        if (!g_str_has_prefix(tail, ",id="))
                return false;
        for (gsize i = 4; i < strlen(ID_SUFFIX); i++)
                if (i == 8 ? tail[i] != ':' : !g_ascii_isxdigit(tail[i]))
                        return false;
        return true;
}

const char *bbvirt_serial_problem(const char *serial)
{
        gsize n = strlen(serial);

        if (n == 0)
                return _("empty");
        if (n > MAX_SERIAL)
                return _("longer than 128 characters");
        for (const char *s = serial; *s; s++)
                if ((unsigned char) *s < 0x20 || (unsigned char) *s >= 0x7f)
                        return _("not printable ASCII");
        if (serial[0] == ' ' || serial[n - 1] == ' ')
                return _("a space at either end");
        if (ends_like_id(serial, n))
                return _("it ends like ,id=vvvv:pppp, which a match string takes for vendor and product");
        return NULL;
}

/* A domain name or URI: what D-Bus carries and a terminal shows as it is. */
static const char *text_problem(const char *text)
{
        if (!g_utf8_validate(text, -1, NULL))
                return _("not valid UTF-8");
        for (const char *s = text; *s; s++)
                if ((unsigned char) *s < 0x20 || *s == 0x7f)
                        return _("a control character");
        return NULL;
}

/* A value for a message: C-escaped (no control or non-ASCII byte reaches a
 * terminal), quoted, cut short when long. */
static char *quote_value(const char *text)
{
        g_autofree char *escaped = g_strescape(text, NULL);

        if (strlen(escaped) > MAX_QUOTED)
                return g_strdup_printf("\"%.*s...\"", MAX_QUOTED, escaped);
        return g_strdup_printf("\"%s\"", escaped);
}

/* ------------------------------------------------------------------- parser */

typedef struct {
        const char *p;
        const char *end;
        guint line;
} Cursor;

typedef struct {
        char *text;
        guint line;
        bool scalar; /* from NAME=value, not NAME=( ... ) */
} Word;

/* NAME=value or NAME=( words ): a value is one word. */
typedef struct {
        char *name;
        guint line;
        bool is_array;
        GPtrArray *words; /* of Word * */
} Assignment;

typedef struct {
        Cursor cur;
        BbvirtConf *conf;
        GHashTable *by_id; /* id -> BbvirtDomain * (owned by conf) */
        GHashTable *rng;   /* id -> GPtrArray * of Word *: DOMAIN_RNG_id as bash has it */
        GHashTable *doubts; /* variable -> line of something not understood that may set it */
        char *failure;     /* why the statement is not understood */
        guint failure_line;
        bool fatal; /* ... and nothing after it can be read */
        bool stop;
} Parser;

static void word_free(gpointer data)
{
        Word *w = data;

        g_free(w->text);
        g_free(w);
}

static Assignment *assignment_new(void)
{
        Assignment *a = g_new0(Assignment, 1);

        a->words = g_ptr_array_new_with_free_func(word_free);
        return a;
}

static void assignment_free(gpointer data)
{
        Assignment *a = data;

        g_free(a->name);
        g_ptr_array_unref(a->words);
        g_free(a);
}

static Word *word_new(const char *text, guint line, bool scalar)
{
        Word *w = g_new0(Word, 1);

        w->text = g_strdup(text);
        w->line = line;
        w->scalar = scalar;
        return w;
}

static void add_word(Assignment *a, const char *text, guint line)
{
        g_ptr_array_add(a->words, word_new(text, line, !a->is_array));
}

static int peek_at(const Parser *p, gsize offset)
{
        if ((gsize) (p->cur.end - p->cur.p) <= offset)
                return -1;
        return (unsigned char) p->cur.p[offset];
}

static int peek(const Parser *p)
{
        return peek_at(p, 0);
}

static void advance(Parser *p)
{
        if (*p->cur.p == '\n')
                p->cur.line++;
        p->cur.p++;
}

static bool in_set(int c, const char *set)
{
        return c > 0 && strchr(set, c) != NULL;
}

static bool is_blank(int c)
{
        return c == ' ' || c == '\t';
}

static void add_diagnostic(Parser *p, guint line, BbvirtSeverity severity, char *message)
{
        BbvirtDiagnostic *d = g_new0(BbvirtDiagnostic, 1);

        d->line = line;
        d->severity = severity;
        d->message = message;
        g_ptr_array_add(p->conf->diagnostics, d);
}

static void diagnose(Parser *p, guint line, BbvirtSeverity severity, const char *format, ...)
        G_GNUC_PRINTF(4, 5);
static void diagnose(Parser *p, guint line, BbvirtSeverity severity, const char *format, ...)
{
        va_list ap;

        va_start(ap, format);
        add_diagnostic(p, line, severity, g_strdup_vprintf(format, ap));
        va_end(ap);
}

/* The statement is not understood (fatal: nor anything after it); the
 * first reason counts. Returns false, for the callers to pass on. */
static bool fail(Parser *p, bool fatal, const char *format, ...) G_GNUC_PRINTF(3, 4);
static bool fail(Parser *p, bool fatal, const char *format, ...)
{
        va_list ap;

        if (p->failure)
                return false;
        va_start(ap, format);
        p->failure = g_strdup_vprintf(format, ap);
        va_end(ap);
        p->failure_line = p->cur.line;
        p->fatal = fatal;
        return false;
}

/* A quote or an array open at the end of the file: bash stops there too. */
static bool fail_unclosed(Parser *p, guint line, const char *what)
{
        fail(p, true, _("%s is never closed"), what);
        p->failure_line = line;
        return false;
}

/* Backslash-newline: bash drops both (outside single quotes). */
static void skip_continuations(Parser *p)
{
        while (peek(p) == '\\' && peek_at(p, 1) == '\n') {
                advance(p);
                advance(p);
        }
}

/* Blanks, continuations and, when asked, newlines. */
static void skip_blanks(Parser *p, bool newlines)
{
        for (;;) {
                int c;

                skip_continuations(p);
                c = peek(p);
                if (!is_blank(c) && !(newlines && c == '\n'))
                        return;
                advance(p);
        }
}

static void skip_comment(Parser *p)
{
        while (peek(p) >= 0 && peek(p) != '\n')
                advance(p);
}

/* ---------------------------------------------------------------- words */

typedef enum {
        WORD_VALUE,   /* NAME=value: no globbing, no word splitting */
        WORD_ELEMENT, /* a word of NAME=( ... ) */
} WordKind;

static bool ends_word(int c, WordKind kind)
{
        return c < 0 || is_blank(c) || c == '\n' || (kind == WORD_ELEMENT && c == ')');
}

/* NUL, $ and ` are refused inside "..." as outside. */
static bool check_special(Parser *p, int c)
{
        switch (c) {
        case '\0':
                return fail(p, false, _("NUL byte"));
        case '$':
                return fail(p, false, _("%s"), peek_at(p, 1) == '(' ?
                            _("command substitution $(...) is never run") :
                            _("expansion with '$' is not supported (nothing is evaluated)"));
        case '`':
                return fail(p, false, _("command substitution `...` is never run"));
        default:
                return true;
        }
}

static bool check_unquoted(Parser *p, int c, WordKind kind)
{
        if (!check_special(p, c))
                return false;
        if (in_set(c, "|&;<>()"))
                return fail(p, false, _("unquoted '%c' is shell syntax, not part of a value"), c);
        if (in_set(c, kind == WORD_ELEMENT ? "*?[{~" : "~"))
                return fail(p, false, _("unquoted '%c' would be expanded by the shell (quote it)"), c);
        return true;
}

/* In "...", a backslash escapes only $ ` " \ and newline. */
static void read_quoted_escape(Parser *p, GString *out)
{
        int next = peek_at(p, 1);

        advance(p);
        if (next == '\n') {
                advance(p);
        } else if (in_set(next, "$`\"\\")) {
                g_string_append_c(out, (char) next);
                advance(p);
        } else {
                g_string_append_c(out, '\\');
        }
}

/* '...' holds anything but NUL; "..." refuses $ and ` as well. */
static bool check_quoted(Parser *p, int c, int quote)
{
        if (quote == '"')
                return check_special(p, c);
        return c != '\0' || fail(p, false, _("NUL byte"));
}

/* '...' or "...", possibly over several lines. */
static bool read_quoted(Parser *p, GString *out)
{
        int quote = peek(p);
        guint line = p->cur.line;
        int c;

        advance(p);
        while ((c = peek(p)) != quote) {
                if (c < 0)
                        return fail_unclosed(p, line, quote == '"' ? _("quote \"") : _("quote '"));
                if (quote == '"' && c == '\\') {
                        read_quoted_escape(p, out);
                        continue;
                }
                if (!check_quoted(p, c, quote))
                        return false;
                g_string_append_c(out, (char) c);
                advance(p);
        }
        advance(p);
        return true;
}

/* Outside quotes, a backslash takes the next character as it is; with a
 * newline, both go (a continuation). */
static bool read_escape(Parser *p, GString *out)
{
        int next = peek_at(p, 1);

        if (next < 0)
                return fail(p, false, _("backslash at the end of the file"));
        advance(p);
        if (next == '\0')
                return fail(p, false, _("NUL byte"));
        if (next != '\n')
                g_string_append_c(out, (char) next);
        advance(p);
        return true;
}

static bool read_word_part(Parser *p, WordKind kind, GString *out)
{
        int c = peek(p);

        if (c == '\'' || c == '"')
                return read_quoted(p, out);
        if (c == '\\')
                return read_escape(p, out);
        if (!check_unquoted(p, c, kind))
                return false;
        g_string_append_c(out, (char) c);
        advance(p);
        return true;
}

/* One word, its quoted and unquoted parts joined, into a. */
static bool read_word(Parser *p, WordKind kind, Assignment *a)
{
        g_autoptr(GString) text = g_string_new(NULL);
        guint line = p->cur.line;

        while (!ends_word(peek(p), kind))
                if (!read_word_part(p, kind, text))
                        return false;
        add_word(a, text->str, line);
        return true;
}

/* ----------------------------------------------------------- statements */

/* bash takes NAME=(...)x as a word, no array (and (...)# as one too). */
static bool fail_after_array(Parser *p)
{
        int c = peek(p);

        if (c < 0x20)
                return fail(p, false, _("control character 0x%02x"), (unsigned) c);
        return fail(p, false, _("text right after ')': bash reads no array there"));
}

static bool read_array(Parser *p, Assignment *a)
{
        guint line = p->cur.line;

        a->is_array = true;
        advance(p);
        for (;;) {
                int c;

                skip_blanks(p, true);
                c = peek(p);
                if (c < 0)
                        return fail_unclosed(p, line, _("array ("));
                if (c == ')') {
                        advance(p);
                        return ends_word(peek(p), WORD_VALUE) || fail_after_array(p);
                }
                if (c == '#')
                        skip_comment(p);
                else if (!read_word(p, WORD_ELEMENT, a))
                        return false;
        }
}

static gsize name_length(const Parser *p)
{
        gsize n = 0;
        int c;

        while ((c = peek_at(p, n)) >= 0 && (c == '_' || g_ascii_isalpha(c) || (n > 0 && g_ascii_isdigit(c))))
                n++;
        return n;
}

static bool word_is(const Parser *p, const char *word)
{
        gsize n = strlen(word);

        return (gsize) (p->cur.end - p->cur.p) >= n && memcmp(p->cur.p, word, n) == 0 &&
               ends_word(peek_at(p, n), WORD_VALUE);
}

/* if, for, ..., { ... }, ( ... ), (( ... )), [[ ... ]], NAME () ... */
static bool starts_compound(const Parser *p, gsize n)
{
        static const char *const words[] = { "if", "for", "while", "until", "case", "select",
                                             "function", "{", "[[" };

        for (size_t i = 0; i < G_N_ELEMENTS(words); i++)
                if (word_is(p, words[i]))
                        return true;
        if (peek(p) == '(')
                return true;
        while (is_blank(peek_at(p, n)))
                n++;
        return n > 0 && peek_at(p, n) == '(';
}

/* The word at the cursor (n name characters long) is no assignment: say why. */
static bool fail_not_assignment(Parser *p, gsize n, bool first)
{
        int c = peek(p);

        if (n > 0 && peek_at(p, n) == '+' && peek_at(p, n + 1) == '=')
                return fail(p, false, _("'+=' is not supported: give the whole value with '='"));
        if (first && starts_compound(p, n))
                return fail(p, true, _("compound command or function definition (what follows depends on running it)"));
        if (!check_special(p, c))
                return false;
        if (c < 0x20 && c != '\t')
                return fail(p, false, _("control character 0x%02x"), (unsigned) c);
        if (in_set(c, "|&;<>()"))
                return fail(p, false, _("'%c': only assignments are read, nothing is run"), c);
        return fail(p, false, _("not an assignment: a command, which is never run"));
}

static bool parse_assignment(Parser *p, Assignment *a, bool first)
{
        gsize n = name_length(p);

        if (n == 0 || peek_at(p, n) != '=')
                return fail_not_assignment(p, n, first);
        a->name = g_strndup(p->cur.p, n);
        a->line = p->cur.line;
        p->cur.p += n + 1;
        skip_continuations(p);
        if (peek(p) == '(')
                return read_array(p, a);
        return read_word(p, WORD_VALUE, a);
}

/* Assignments up to the end of the line (or of a comment): bash sets them
 * all, when nothing else is on the line. */
static bool parse_statement(Parser *p, GPtrArray *assignments)
{
        for (bool first = true;; first = false) {
                Assignment *a;
                int c;

                skip_blanks(p, false);
                c = peek(p);
                if (c < 0 || c == '\n')
                        return true;
                if (c == '#') {
                        skip_comment(p);
                        return true;
                }
                a = assignment_new();
                g_ptr_array_add(assignments, a);
                if (!parse_assignment(p, a, first))
                        return false;
        }
}

/* ----------------------------------------------------- passing a statement */

typedef struct {
        guint depth;
        char quote; /* ', " or `; 0 outside */
        bool word_start;
        bool here_document;
} Skip;

static gsize skip_quoted(Skip *s, const char *q, const char *end)
{
        if (*q == '\\' && s->quote != '\'' && q + 1 < end)
                return 2;
        if (*q == s->quote)
                s->quote = 0;
        return 1;
}

static gsize comment_length(const char *q, const char *end)
{
        const char *newline = memchr(q, '\n', (gsize) (end - q));

        return (gsize) ((newline ? newline : end) - q);
}

/* How many bytes the next token takes; 0 at the newline that ends the statement. */
static gsize skip_unquoted(Skip *s, const char *q, const char *end)
{
        int c = (unsigned char) *q;
        bool word_start = s->word_start;

        s->word_start = in_set(c, " \t\n;|&()");
        if (c == '\n' && s->depth == 0)
                return 0;
        if (c == '#' && word_start)
                return comment_length(q, end);
        if (c == '\\')
                return q + 1 < end ? 2 : 1;
        if (in_set(c, "'\"`"))
                s->quote = (char) c;
        else if (c == '(')
                s->depth++;
        else if (c == ')' && s->depth > 0)
                s->depth--;
        else if (c == '<' && q + 1 < end && q[1] == '<')
                s->here_document = true;
        return 1;
}

/* Move from start (on line) past the statement bash would read there.
 * Returns why nothing after it can be read, or NULL. */
static const char *skip_statement(Parser *p, const char *start, guint line)
{
        Skip s = { .word_start = true };
        gsize n = 1;

        p->cur.p = start;
        p->cur.line = line;
        while (p->cur.p < p->cur.end && n > 0) {
                n = s.quote ? skip_quoted(&s, p->cur.p, p->cur.end) : skip_unquoted(&s, p->cur.p, p->cur.end);
                for (gsize i = 0; i < n; i++)
                        advance(p);
        }
        if (s.here_document)
                return _("a here-document follows");
        if (s.quote)
                return _("a quote is never closed");
        return s.depth > 0 ? _("a parenthesis is never closed") : NULL;
}

/* why_stop: why nothing after the statement is read, or NULL. */
static void report_failure(Parser *p, guint first_line, const char *why_stop)
{
        guint last_line = p->cur.line;
        g_autofree char *reason = g_steal_pointer(&p->failure);

        if (why_stop)
                diagnose(p, p->failure_line, BBVIRT_SKIPPED, _("%s; %s: nothing from line %u on is read"),
                         reason, why_stop, first_line);
        else if (p->fatal)
                diagnose(p, p->failure_line, BBVIRT_SKIPPED, _("%s; nothing from line %u on is read"),
                         reason, first_line);
        else if (last_line > first_line)
                diagnose(p, p->failure_line, BBVIRT_SKIPPED, _("%s; lines %u-%u skipped"),
                         reason, first_line, last_line);
        else
                diagnose(p, p->failure_line, BBVIRT_SKIPPED, _("%s; line skipped"), reason);
}

/* --------------------------------------------------------------- settings */

typedef enum {
        SETTING_OTHER,
        SETTING_NAME,
        SETTING_URI,
        SETTING_RNG,
} Setting;

static Setting classify(const char *name, const char **ret_id)
{
        static const struct {
                const char *prefix;
                Setting setting;
        } settings[] = {
                { "DOMAIN_NAME_", SETTING_NAME },
                { "DOMAIN_URI_", SETTING_URI },
                { "DOMAIN_RNG_", SETTING_RNG },
        };

        for (size_t i = 0; i < G_N_ELEMENTS(settings); i++)
                if (g_str_has_prefix(name, settings[i].prefix)) {
                        *ret_id = name + strlen(settings[i].prefix);
                        return settings[i].setting;
                }
        return SETTING_OTHER;
}

static BbvirtDomain *domain_get(Parser *p, const char *id)
{
        BbvirtDomain *d = g_hash_table_lookup(p->by_id, id);

        if (d)
                return d;
        d = g_new0(BbvirtDomain, 1);
        d->id = g_strdup(id);
        d->serials = g_ptr_array_new_with_free_func(serial_free);
        g_ptr_array_add(p->conf->domains, d);
        g_hash_table_insert(p->by_id, d->id, d);
        return d;
}

static BbvirtSerial *find_serial(GPtrArray *serials, const char *serial)
{
        for (guint i = 0; i < serials->len; i++) {
                BbvirtSerial *s = g_ptr_array_index(serials, i);

                if (strcmp(s->serial, serial) == 0)
                        return s;
        }
        return NULL;
}

static void note_replaced(Parser *p, const Assignment *a, guint previous_line)
{
        if (previous_line)
                diagnose(p, a->line, BBVIRT_NOTE,
                         _("%s is set again (before on line %u); the later value counts, as in bash"),
                         a->name, previous_line);
}

static void doubt(Parser *p, char *variable, guint line)
{
        g_hash_table_insert(p->doubts, variable, GUINT_TO_POINTER(line));
}

static gsize mention_length(const char *q, const char *end)
{
        static const char *const prefixes[] = { "DOMAIN_NAME_", "DOMAIN_RNG_" };

        for (size_t i = 0; i < G_N_ELEMENTS(prefixes); i++) {
                gsize n = strlen(prefixes[i]);

                if ((gsize) (end - q) <= n || memcmp(q, prefixes[i], n) != 0)
                        continue;
                while (q + n < end && (g_ascii_isalnum(q[n]) || q[n] == '_'))
                        n++;
                return n > strlen(prefixes[i]) ? n : 0;
        }
        return 0;
}

/* What was not understood (or not read), from start on line to end, may set
 * each DOMAIN_NAME_x and DOMAIN_RNG_x it mentions. */
static void doubt_mentions(Parser *p, const char *start, const char *end, guint line)
{
        for (const char *q = start; q < end;) {
                gsize n = mention_length(q, end);

                if (n > 0)
                        doubt(p, g_strndup(q, n), line);
                q += MAX(n, 1);
        }
}

static const char *value_problem(const char *text, bool is_name)
{
        const char *problem = text_problem(text);

        if (!problem && is_name && strlen(text) > MAX_NAME)
                return _("longer than 255 bytes, more than passthroughd takes");
        return problem;
}

/* A DOMAIN_NAME_x or DOMAIN_URI_x not set as bash would set it (value:
 * NULL for an array) is in doubt. */
static void skip_text(Parser *p, const Assignment *a, const char *value, const char *problem)
{
        g_autofree char *quoted = value ? quote_value(value) : NULL;

        if (quoted)
                diagnose(p, a->line, BBVIRT_SKIPPED, _("%s=%s: %s; skipped"), a->name, quoted, problem);
        else
                diagnose(p, a->line, BBVIRT_SKIPPED, _("%s %s; skipped"), a->name, problem);
        doubt(p, g_strdup(a->name), a->line);
}

static void set_text(Parser *p, const Assignment *a, BbvirtDomain *d, Setting setting)
{
        bool is_name = setting == SETTING_NAME;
        char **field = is_name ? &d->name : &d->uri;
        guint *field_line = is_name ? &d->name_line : &d->uri_line;
        const Word *w;
        const char *problem;

        if (a->is_array) {
                skip_text(p, a, NULL, _("must be one value, not an array"));
                return;
        }
        w = g_ptr_array_index(a->words, 0);
        problem = value_problem(w->text, is_name);
        if (problem) {
                skip_text(p, a, w->text, problem);
                return;
        }
        g_hash_table_remove(p->doubts, a->name);
        note_replaced(p, a, *field_line);
        g_free(*field);
        *field = g_strdup(w->text);
        *field_line = a->line;
}

static GPtrArray *rng_words(Parser *p, const BbvirtDomain *d)
{
        GPtrArray *words = g_hash_table_lookup(p->rng, d->id);

        if (!words) {
                words = g_ptr_array_new_with_free_func(word_free);
                g_hash_table_insert(p->rng, d->id, words);
        }
        return words;
}

/* DOMAIN_RNG_x=( ... ) sets the array; DOMAIN_RNG_x=value, as in bash, only
 * its first element. */
static void set_rng(Parser *p, const Assignment *a, BbvirtDomain *d)
{
        GPtrArray *words = rng_words(p, d);
        const Word *w = a->is_array ? NULL : g_ptr_array_index(a->words, 0);

        if (w && words->len > 1)
                diagnose(p, a->line, BBVIRT_NOTE, _("%s=value replaces only the first element of the array "
                         "of line %u, as in bash"), a->name, d->rng_line);
        else
                note_replaced(p, a, d->rng_line);
        d->rng_line = a->line;
        if (!w) {
                g_ptr_array_set_size(words, 0);
                g_hash_table_remove(p->doubts, a->name);
        }
        else if (words->len > 0) {
                g_ptr_array_remove_index(words, 0);
        }
        for (guint i = 0; i < a->words->len; i++) {
                const Word *word = g_ptr_array_index(a->words, i);

                g_ptr_array_insert(words, (gint) i, word_new(word->text, word->line, word->scalar));
        }
}

/* A word of DOMAIN_RNG_x once the file is read: a serial, unless it is
 * unusable (an empty value of DOMAIN_RNG_x= is none, silently) or there
 * already. */
static void add_serial(Parser *p, BbvirtDomain *d, const Word *w)
{
        const char *problem = bbvirt_serial_problem(w->text);
        g_autofree char *quoted = quote_value(w->text);
        BbvirtSerial *s;

        if (w->scalar && !w->text[0])
                return;
        if (problem) {
                diagnose(p, w->line, BBVIRT_SKIPPED, _("serial %s in DOMAIN_RNG_%s: %s; not imported"),
                         quoted, d->id, problem);
        } else if (find_serial(d->serials, w->text)) {
                diagnose(p, w->line, BBVIRT_NOTE, _("serial %s is listed twice in DOMAIN_RNG_%s"), quoted, d->id);
        } else {
                s = g_new0(BbvirtSerial, 1);
                s->serial = g_strdup(w->text);
                s->line = w->line;
                g_ptr_array_add(d->serials, s);
        }
}

static guint doubt_line(Parser *p, const char *prefix, const char *id)
{
        g_autofree char *variable = g_strconcat(prefix, id, NULL);

        return GPOINTER_TO_UINT(g_hash_table_lookup(p->doubts, variable));
}

/* Serials for a domain whose name or serials something not understood may
 * set are imported for none: bbvirt may well use others. */
static bool in_doubt(Parser *p, const BbvirtDomain *d)
{
        guint name_line = doubt_line(p, "DOMAIN_NAME_", d->id);
        guint rng_line = doubt_line(p, "DOMAIN_RNG_", d->id);

        if (name_line)
                diagnose(p, d->rng_line, BBVIRT_SKIPPED, _("DOMAIN_RNG_%s not imported: the domain's name is "
                         "uncertain (DOMAIN_NAME_%s, line %u)"), d->id, d->id, name_line);
        else if (rng_line)
                diagnose(p, d->rng_line, BBVIRT_SKIPPED, _("DOMAIN_RNG_%s not imported: line %u, not understood, "
                         "may change it"), d->id, rng_line);
        return name_line || rng_line;
}

static void collect_serials(Parser *p)
{
        for (guint i = 0; i < p->conf->domains->len; i++) {
                BbvirtDomain *d = g_ptr_array_index(p->conf->domains, i);
                GPtrArray *words = g_hash_table_lookup(p->rng, d->id);

                if (!words || words->len == 0 || in_doubt(p, d))
                        continue;
                for (guint j = 0; j < words->len; j++)
                        add_serial(p, d, g_ptr_array_index(words, j));
        }
}

static void apply_assignment(Parser *p, const Assignment *a)
{
        const char *id = NULL;
        Setting setting = classify(a->name, &id);
        BbvirtDomain *d;

        if (setting == SETTING_OTHER) {
                diagnose(p, a->line, BBVIRT_NOTE, _("%s is not a bbvirt setting; ignored"), a->name);
                return;
        }
        if (!*id) {
                diagnose(p, a->line, BBVIRT_SKIPPED, _("%s names no domain; skipped"), a->name);
                return;
        }
        d = domain_get(p, id);
        if (setting == SETTING_RNG)
                set_rng(p, a, d);
        else
                set_text(p, a, d, setting);
}

/* ------------------------------------------------------------- the end */

/* Unset or empty: DOMAIN_NAME_x is x, DOMAIN_URI_x is none. */
static void resolve_names(BbvirtConf *conf)
{
        for (guint i = 0; i < conf->domains->len; i++) {
                BbvirtDomain *d = g_ptr_array_index(conf->domains, i);

                if (!d->name || !d->name[0]) {
                        g_free(d->name);
                        d->name = g_strdup(d->id);
                }
                if (d->uri && !d->uri[0])
                        g_clear_pointer(&d->uri, g_free);
        }
}

typedef struct {
        Parser *parser;
        GHashTable *first;      /* serial -> the BbvirtDomain * listing it first */
        GHashTable *conflicted; /* serials listed for two libvirt domains */
} SerialCheck;

typedef bool (*SerialFilter)(SerialCheck *check, BbvirtDomain *d, BbvirtSerial *s);

static void filter_serials(SerialCheck *check, SerialFilter keep)
{
        GPtrArray *domains = check->parser->conf->domains;

        for (guint i = 0; i < domains->len; i++) {
                BbvirtDomain *d = g_ptr_array_index(domains, i);

                for (guint j = 0; j < d->serials->len;)
                        if (keep(check, d, g_ptr_array_index(d->serials, j)))
                                j++;
                        else
                                g_ptr_array_remove_index(d->serials, j);
        }
}

/* Once for each libvirt domain (two DOMAIN_NAME_x may name the same); a
 * serial listed for two is marked. */
static bool keep_first(SerialCheck *check, BbvirtDomain *d, BbvirtSerial *s)
{
        BbvirtDomain *other = g_hash_table_lookup(check->first, s->serial);
        g_autofree char *quoted = quote_value(s->serial);
        const BbvirtSerial *listed;

        if (!other) {
                g_hash_table_insert(check->first, s->serial, d);
                return true;
        }
        if (strcmp(other->name, d->name) == 0) {
                diagnose(check->parser, s->line, BBVIRT_NOTE, _("serial %s is listed for domain %s again"),
                         quoted, d->name);
                return false;
        }
        g_hash_table_add(check->conflicted, g_strdup(s->serial));
        listed = find_serial(other->serials, s->serial);
        diagnose(check->parser, s->line, BBVIRT_SKIPPED,
                 _("serial %s is listed for domains %s (line %u) and %s; imported for neither"),
                 quoted, other->name, listed ? listed->line : 0, d->name);
        return true;
}

static bool keep_unconflicted(SerialCheck *check, BbvirtDomain *d, BbvirtSerial *s)
{
        return !g_hash_table_contains(check->conflicted, s->serial);
}

/* A serial listed for two domains: which one bbvirt gives it to depends on
 * how bbvirt is run (attach-all: each; a hotplug: the last in sorted order),
 * so it is imported for neither. */
static void drop_conflicts(Parser *p)
{
        g_autoptr(GHashTable) first = g_hash_table_new(g_str_hash, g_str_equal);
        g_autoptr(GHashTable) conflicted = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        SerialCheck check = { p, first, conflicted };

        filter_serials(&check, keep_first);
        filter_serials(&check, keep_unconflicted);
}

static int compare_lines(gconstpointer a, gconstpointer b)
{
        const BbvirtDiagnostic *da = *(const BbvirtDiagnostic *const *) a;
        const BbvirtDiagnostic *db = *(const BbvirtDiagnostic *const *) b;

        return da->line < db->line ? -1 : da->line > db->line;
}

static void parse_next(Parser *p)
{
        g_autoptr(GPtrArray) assignments = g_ptr_array_new_with_free_func(assignment_free);
        const char *start = p->cur.p;
        guint line = p->cur.line;

        if (parse_statement(p, assignments)) {
                for (guint i = 0; i < assignments->len; i++)
                        apply_assignment(p, g_ptr_array_index(assignments, i));
        } else {
                const char *why_stop = p->fatal ? NULL : skip_statement(p, start, line);

                report_failure(p, line, why_stop);
                p->stop = p->fatal || why_stop;
                doubt_mentions(p, start, p->stop ? p->cur.end : p->cur.p, line);
        }
        if (peek(p) == '\n')
                advance(p);
}

BbvirtConf *bbvirt_conf_parse(const char *text, gsize length)
{
        Parser p = { .cur = { text, text + length, 1 } };

        p.conf = g_new0(BbvirtConf, 1);
        p.conf->domains = g_ptr_array_new_with_free_func(domain_free);
        p.conf->diagnostics = g_ptr_array_new_with_free_func(diagnostic_free);
        p.by_id = g_hash_table_new(g_str_hash, g_str_equal);
        p.rng = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify) g_ptr_array_unref);
        p.doubts = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        while (!p.stop && peek(&p) >= 0)
                parse_next(&p);
        collect_serials(&p);
        g_hash_table_unref(p.rng);
        g_hash_table_unref(p.doubts);
        g_hash_table_unref(p.by_id);
        resolve_names(p.conf);
        drop_conflicts(&p);
        g_ptr_array_sort(p.conf->diagnostics, compare_lines);
        return p.conf;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "assign-store.h"
#include "errors.h"
#include "virt.h"

#define HEADER_GROUP "passthroughd"
#define FORMAT_VERSION 1
#define GROUP_PREFIX "assignment "

struct AssignStore {
        char *path;
        GPtrArray *assignments;
        char *broken;   /* why changes are refused, or NULL */
};

/* ---------------------------------------------------------------- assignments */

Assignment *assignment_new(const DeviceMatch *match, const char *domain, const char *uuid) {
        Assignment *a = g_new0(Assignment, 1);

        a->match = device_match_copy(match);
        a->domain = g_strdup(domain);
        a->uuid = g_strdup(uuid ? uuid : "");
        return a;
}

Assignment *assignment_copy(const Assignment *assignment) {
        return assignment_new(assignment->match, assignment->domain, assignment->uuid);
}

void assignment_free(Assignment *assignment) {
        if (!assignment)
                return;
        device_match_free(assignment->match);
        g_free(assignment->domain);
        g_free(assignment->uuid);
        g_free(assignment);
}

GPtrArray *assignments_new(void) {
        return g_ptr_array_new_with_free_func((GDestroyNotify) assignment_free);
}

GPtrArray *assignments_copy(GPtrArray *assignments) {
        GPtrArray *copy = assignments_new();

        for (guint i = 0; i < assignments->len; i++)
                g_ptr_array_add(copy, assignment_copy(assignments->pdata[i]));
        return copy;
}

gint assignments_find(GPtrArray *assignments, const char *text) {
        for (guint i = 0; i < assignments->len; i++) {
                const Assignment *a = assignments->pdata[i];
                g_autofree char *own = device_match_to_string(a->match);

                if (g_str_equal(own, text))
                        return (gint) i;
        }
        return -1;
}

gboolean assignments_room(GPtrArray *assignments, GError **error) {
        if (assignments->len < ASSIGN_STORE_MAX)
                return TRUE;
        g_set_error(error, PT_ERROR, PT_ERROR_LIMIT_EXCEEDED,
                    "There are %u assignments, the most the service keeps is %u. Unassign some first",
                    assignments->len, ASSIGN_STORE_MAX);
        return FALSE;
}

gboolean assignments_holds(GPtrArray *assignments, const Assignment *a) {
        g_autofree char *text = device_match_to_string(a->match);
        gint i = assignments_find(assignments, text);
        const Assignment *own = i >= 0 ? assignments->pdata[i] : NULL;

        return own && g_str_equal(own->domain, a->domain) && g_str_equal(own->uuid, a->uuid);
}

/* ---------------------------------------------------------------- the text */

char *assign_store_serialise(GPtrArray *assignments, gsize *length) {
        g_autoptr(GKeyFile) file = g_key_file_new();

        g_key_file_set_integer(file, HEADER_GROUP, "version", FORMAT_VERSION);
        (void) g_key_file_set_comment(file, NULL, NULL,
                                      " passthroughd's device assignments, written by the service "
                                      "(change them with Assign and Unassign)", NULL);
        for (guint i = 0; i < assignments->len; i++) {
                const Assignment *a = assignments->pdata[i];
                g_autofree char *group = g_strdup_printf(GROUP_PREFIX "%u", i + 1);
                g_autofree char *match = device_match_to_string(a->match);

                g_key_file_set_string(file, group, "match", match);
                g_key_file_set_string(file, group, "domain", a->domain);
                if (*a->uuid)
                        g_key_file_set_string(file, group, "uuid", a->uuid);
        }
        return g_key_file_to_data(file, length, NULL);
}

/* Messages about the file name its lines by number and never quote them: a
 * hand-edited file may hold anything, and GLib's messages quote the line. */

/* Where each line of `data` starts, then `length`. */
static GArray *line_starts(const char *data, gsize length) {
        GArray *starts = g_array_new(FALSE, FALSE, sizeof(gsize));
        gsize start = 0;

        g_array_append_val(starts, start);
        for (gsize i = 0; i + 1 < length; i++)
                if (data[i] == '\n') {
                        start = i + 1;
                        g_array_append_val(starts, start);
                }
        g_array_append_val(starts, length);
        return starts;
}

static gboolean loads(const char *data, gsize length) {
        g_autoptr(GKeyFile) file = g_key_file_new();

        return g_key_file_load_from_data(file, data, length, G_KEY_FILE_NONE, NULL);
}

/* The number (from 1) of the line GKeyFile refuses in `data`, which does not
 * load: the end of the shortest prefix of whole lines that fails (a parse
 * stops at its first bad line, so every longer prefix fails too). Only on
 * errors: a few loads of parts of the file. */
static guint first_bad_line(const char *data, gsize length) {
        g_autoptr(GArray) starts = line_starts(data, length);
        guint good = 0, bad = starts->len - 1;

        while (bad - good > 1) {
                guint mid = good + (bad - good) / 2;

                if (loads(data, g_array_index(starts, gsize, mid)))
                        good = mid;
                else
                        bad = mid;
        }
        return bad;
}

static const char *load_problem(const GError *error) {
        if (g_error_matches(error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_GROUP_NOT_FOUND))
                return "a key before the first group";
        if (g_error_matches(error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_UNKNOWN_ENCODING))
                return "an encoding other than UTF-8";
        return "not a key file line";
}

static GKeyFile *load(const char *data, gsize length, GError **error) {
        g_autoptr(GKeyFile) file = g_key_file_new();
        g_autoptr(GError) local = NULL;

        if (g_key_file_load_from_data(file, data, length, G_KEY_FILE_NONE, &local))
                return g_steal_pointer(&file);
        g_set_error(error, PT_ERROR, PT_ERROR_FAILED, "line %u: %s", first_bad_line(data, length),
                    load_problem(local));
        return NULL;
}

/* A header line's group name, as GKeyFile reads it (leading blanks
 * skipped, the name between '[' and ']'), or NULL. */
static char *header_name(const char *line, gsize length) {
        const char *end = line + length;
        const char *close;

        while (line < end && g_ascii_isspace(*line))
                line++;
        if (line == end || *line != '[')
                return NULL;
        close = memchr(line, ']', (gsize) (end - line));
        return close ? g_strndup(line + 1, (gsize) (close - line - 1)) : NULL;
}

/* Group name -> the number of its first header line. */
static GHashTable *group_lines(const char *data, gsize length) {
        GHashTable *lines = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        g_autoptr(GArray) starts = line_starts(data, length);

        for (guint i = 0; i + 1 < starts->len; i++) {
                gsize start = g_array_index(starts, gsize, i);
                char *name = header_name(data + start, g_array_index(starts, gsize, i + 1) - start);

                if (name && !g_hash_table_contains(lines, name))
                        g_hash_table_insert(lines, name, GUINT_TO_POINTER(i + 1));
                else
                        g_free(name);
        }
        return lines;
}

static gboolean check_header(GKeyFile *file, GError **error) {
        g_autoptr(GError) local = NULL;
        gint version = g_key_file_get_integer(file, HEADER_GROUP, "version", &local);

        if (g_error_matches(local, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE)) {
                g_set_error(error, PT_ERROR, PT_ERROR_FAILED, "[%s] version is not a number", HEADER_GROUP);
                return FALSE;
        }
        if (local) {
                g_set_error(error, PT_ERROR, PT_ERROR_FAILED, "no [%s] version", HEADER_GROUP);
                return FALSE;
        }
        if (version != FORMAT_VERSION) {
                g_set_error(error, PT_ERROR, PT_ERROR_FAILED, "format version %d, this service reads %d", version,
                            FORMAT_VERSION);
                return FALSE;
        }
        return TRUE;
}

static char *get_string(GKeyFile *file, const char *group, const char *key, gboolean required, GError **error) {
        g_autoptr(GError) local = NULL;
        char *value = g_key_file_get_string(file, group, key, &local);

        if (value)
                return value;
        if (!g_error_matches(local, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_KEY_NOT_FOUND))
                g_set_error(error, PT_ERROR, PT_ERROR_FAILED, "%s is not a valid string", key);
        else if (required)
                g_set_error(error, PT_ERROR, PT_ERROR_FAILED, "no %s", key);
        else
                return g_strdup("");
        return NULL;
}

static Assignment *parse_group(GKeyFile *file, const char *group, GError **error) {
        g_autofree char *match_text = get_string(file, group, "match", TRUE, error);
        g_autofree char *domain = match_text ? get_string(file, group, "domain", TRUE, error) : NULL;
        g_autofree char *uuid = domain ? get_string(file, group, "uuid", FALSE, error) : NULL;
        g_autoptr(DeviceMatch) match = NULL;

        if (!uuid)
                return NULL;
        match = device_match_parse(match_text, error);
        if (!match || !virt_domain_spec_valid(domain, error))
                return NULL;
        if (*uuid && !g_uuid_string_is_valid(uuid)) {
                g_set_error(error, PT_ERROR, PT_ERROR_FAILED, "uuid is not a UUID");
                return NULL;
        }
        return assignment_new(match, domain, uuid);
}

/* What parsing keeps. */
typedef struct {
        GKeyFile *file;
        GHashTable *lines;   /* group name -> line number */
        GHashTable *seen;    /* the match strings of `list`: a duplicate is one look-up */
        GPtrArray *list;
} Parse;

static gboolean add_group(Parse *parse, const char *group, GError **error) {
        g_autoptr(Assignment) a = NULL;
        g_autofree char *text = NULL;

        if (!g_str_has_prefix(group, GROUP_PREFIX)) {
                g_set_error(error, PT_ERROR, PT_ERROR_FAILED, "not an [" GROUP_PREFIX "N] group");
                return FALSE;
        }
        a = parse_group(parse->file, group, error);
        if (!a)
                return FALSE;
        text = device_match_to_string(a->match);
        if (g_hash_table_contains(parse->seen, text)) {
                g_set_error(error, PT_ERROR, PT_ERROR_FAILED, "%s is assigned twice", text);
                return FALSE;
        }
        g_hash_table_add(parse->seen, g_steal_pointer(&text));
        g_ptr_array_add(parse->list, g_steal_pointer(&a));
        return TRUE;
}

/* One bad group costs that group, not every assignment: log it and go on. */
static void add_group_or_skip(Parse *parse, const char *group) {
        g_autoptr(GError) error = NULL;

        if (g_str_equal(group, HEADER_GROUP) || add_group(parse, group, &error))
                return;
        g_warning("Assignments: ignoring the group at line %u of the state file: %s",
                  GPOINTER_TO_UINT(g_hash_table_lookup(parse->lines, group)), error->message);
}

static GPtrArray *parse_groups(GKeyFile *file, const char *data, gsize length) {
        g_autoptr(GHashTable) lines = group_lines(data, length);
        g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        g_auto(GStrv) groups = g_key_file_get_groups(file, NULL);
        Parse parse = { .file = file, .lines = lines, .seen = seen, .list = assignments_new() };

        for (guint i = 0; groups[i]; i++)
                add_group_or_skip(&parse, groups[i]);
        return parse.list;
}

GPtrArray *assign_store_parse(const char *data, gsize length, GError **error) {
        g_autoptr(GKeyFile) file = load(data, length, error);

        if (!file || !check_header(file, error))
                return NULL;
        return parse_groups(file, data, length);
}

/* ---------------------------------------------------------------- the file */

static void sync_directory(const char *dir) {
        int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        if (fd < 0 || fsync(fd) < 0)
                g_warning("Cannot sync directory %s: %s", dir, g_strerror(errno));
        if (fd >= 0)
                close(fd);
}

gboolean assign_store_write(const char *path, GPtrArray *assignments, GError **error) {
        g_autofree char *dir = g_path_get_dirname(path);
        gsize length = 0;
        g_autofree char *data = assign_store_serialise(assignments, &length);

        if (g_mkdir_with_parents(dir, 0700) < 0) {
                g_set_error(error, PT_ERROR, PT_ERROR_FAILED, "Cannot create %s: %s", dir, g_strerror(errno));
                return FALSE;
        }
        if (!g_file_set_contents_full(path, data, (gssize) length,
                                      G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE, 0600, error)) {
                g_prefix_error(error, "Cannot save the assignments: ");
                return FALSE;
        }
        sync_directory(dir);
        return TRUE;
}

char *assign_store_default_dir(void) {
        const char *dirs = g_getenv("STATE_DIRECTORY");
        g_auto(GStrv) parts = NULL;

        if (!dirs || !*dirs)
                return g_strdup(LOCALSTATEDIR "/lib/passthrough");
        parts = g_strsplit(dirs, ":", 2);
        return g_strdup(parts[0]);
}

/* Rename `path` to path.corrupt-<UTC time>[.N]; the new name, or NULL. */
static char *set_aside(const char *path, GError **error) {
        g_autoptr(GDateTime) now = g_date_time_new_now_utc();
        g_autofree char *stamp = g_date_time_format(now, "%Y%m%dT%H%M%SZ");
        g_autofree char *base = g_strdup_printf("%s.corrupt-%s", path, stamp);
        g_autofree char *aside = g_strdup(base);

        for (guint n = 1; g_file_test(aside, G_FILE_TEST_EXISTS) && n < 1000; n++) {
                g_free(aside);
                aside = g_strdup_printf("%s.%u", base, n);
        }
        if (g_rename(path, aside) == 0)
                return g_steal_pointer(&aside);
        g_set_error(error, PT_ERROR, PT_ERROR_FAILED, "cannot rename it: %s", g_strerror(errno));
        return NULL;
}

static void keep_aside(AssignStore *store, const char *problem) {
        g_autoptr(GError) error = NULL;
        g_autofree char *aside = set_aside(store->path, &error);

        if (aside) {
                g_warning("The state file %s %s; kept as %s. Starting without assignments", store->path, problem,
                          aside);
                return;
        }
        store->broken = g_strdup_printf("The state file %s %s and could not be set aside (%s); fix or remove it "
                                        "and restart the service", store->path, problem, error->message);
        g_warning("%s. Starting without assignments; changes are refused", store->broken);
}

AssignStore *assign_store_open(const char *dir) {
        AssignStore *store = g_new0(AssignStore, 1);
        g_autoptr(GError) error = NULL;
        g_autofree char *data = NULL;
        g_autofree char *problem = NULL;
        gsize length = 0;

        store->path = g_build_filename(dir, ASSIGN_STORE_FILE, NULL);
        if (g_file_get_contents(store->path, &data, &length, &error))
                store->assignments = assign_store_parse(data, length, &error);
        if (store->assignments || g_error_matches(error, G_FILE_ERROR, G_FILE_ERROR_NOENT)) {
                if (!store->assignments)
                        store->assignments = assignments_new();
                g_message("%u assignment(s) from %s", store->assignments->len, store->path);
                return store;
        }
        store->assignments = assignments_new();
        problem = g_strdup_printf(data ? "is corrupt (%s)" : "cannot be read (%s)", error->message);
        keep_aside(store, problem);
        return store;
}

void assign_store_free(AssignStore *store) {
        if (!store)
                return;
        g_free(store->path);
        g_clear_pointer(&store->assignments, g_ptr_array_unref);
        g_free(store->broken);
        g_free(store);
}

const char *assign_store_path(AssignStore *store) {
        return store->path;
}

GPtrArray *assign_store_get(AssignStore *store) {
        return store->assignments;
}

gboolean assign_store_replace(AssignStore *store, GPtrArray *assignments, GError **error) {
        g_autoptr(GPtrArray) owned = assignments;

        if (store->broken) {
                g_set_error_literal(error, PT_ERROR, PT_ERROR_FAILED, store->broken);
                return FALSE;
        }
        if (!assign_store_write(store->path, owned, error))
                return FALSE;
        g_ptr_array_unref(store->assignments);
        store->assignments = g_steal_pointer(&owned);
        return TRUE;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The floor of tests/bench-model.py: a D-Bus service that answers with a
 * canned reply of a given shape and size, built with sd-bus from constants,
 * as cheaply as a reply can be built. It shows what a reply of that size
 * costs on the same bus (the daemon's copy, the caller's parsing), so that
 * what passthroughd adds on top of it can be told apart.
 *
 *     bench-canned ADDRESS NAME
 *
 * Connects to the bus at ADDRESS, owns NAME and serves the object
 * /org/example/Canned:
 *
 *   org.example.Canned.Load(s name, s file) -> (u ops)
 *       reads a template (below) and keeps it, parsed, under `name`;
 *   any other method M on any interface of that object
 *       answers with the template named M (e.g. "ListDisks",
 *       "GetManagedObjects"), or UnknownMethod when there is none.
 *
 * Template: the reply's body as one operation per line, replayed with
 * sd_bus_message_open_container / _append_basic / _close_container:
 *
 *   O<type> <contents>    open a container ('a', 'e', 'v' or 'r')
 *   C                     close it
 *   B<type> <value>       a basic value: s/o/g text with \\, \n, \t escaped;
 *                         b 0/1; y n q i u x t decimal; d as strtod reads it
 *
 * The template is parsed once by Load; each call only replays it. The
 * process exits when its parent does (PR_SET_PDEATHSIG) or on SIGTERM. */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <systemd/sd-bus.h>

#define _cleanup_(f) __attribute__((cleanup(f)))

#define OBJECT "/org/example/Canned"
#define INTERFACE "org.example.Canned"

typedef struct {
        char kind;        /* 'O', 'C', 'B' */
        char type;
        char *text;       /* contents signature (O) or string value (B s/o/g) */
        union {
                uint8_t y;
                int16_t n;
                uint16_t q;
                int32_t i;
                uint32_t u;
                int64_t x;
                uint64_t t;
                double d;
                int b;
        } v;
} Op;

typedef struct Template {
        char *name;
        Op *ops;
        size_t n_ops;
        struct Template *next;
} Template;

static Template *templates;

static void template_free(Template *t) {
        for (size_t i = 0; i < t->n_ops; i++)
                free(t->ops[i].text);
        free(t->ops);
        free(t->name);
        free(t);
}

static char *unescape(const char *s) {
        char *out = malloc(strlen(s) + 1), *o = out;

        if (!out)
                return NULL;
        for (; *s; s++) {
                if (*s == '\\' && s[1]) {
                        s++;
                        *o++ = *s == 'n' ? '\n' : *s == 't' ? '\t' : *s;
                } else
                        *o++ = *s;
        }
        *o = '\0';
        return out;
}

static int parse_line(char *line, Op *op) {
        char *arg;

        memset(op, 0, sizeof(*op));
        op->kind = line[0];
        if (op->kind == 'C')
                return 0;
        if ((op->kind != 'O' && op->kind != 'B') || !line[1] || line[2] != ' ')
                return -EINVAL;
        op->type = line[1];
        arg = line + 3;
        if (op->kind == 'O') {
                if (!strchr("aevr", op->type))
                        return -EINVAL;
                op->text = strdup(arg);
                return op->text ? 0 : -ENOMEM;
        }
        errno = 0;
        switch (op->type) {
        case 's': case 'o': case 'g':
                op->text = unescape(arg);
                return op->text ? 0 : -ENOMEM;
        case 'b': op->v.b = atoi(arg) != 0; break;
        case 'y': op->v.y = (uint8_t) strtoul(arg, NULL, 10); break;
        case 'n': op->v.n = (int16_t) strtol(arg, NULL, 10); break;
        case 'q': op->v.q = (uint16_t) strtoul(arg, NULL, 10); break;
        case 'i': op->v.i = (int32_t) strtol(arg, NULL, 10); break;
        case 'u': op->v.u = (uint32_t) strtoul(arg, NULL, 10); break;
        case 'x': op->v.x = strtoll(arg, NULL, 10); break;
        case 't': op->v.t = strtoull(arg, NULL, 10); break;
        case 'd': op->v.d = strtod(arg, NULL); break;
        default: return -EINVAL;
        }
        return errno ? -errno : 0;
}

static int load(const char *name, const char *file, size_t *n_ops) {
        FILE *f = fopen(file, "re");
        Template *t;
        char *line = NULL;
        size_t len = 0, cap = 0;
        ssize_t n;
        int r = 0;

        if (!f)
                return -errno;
        t = calloc(1, sizeof(*t));
        if (!t || !(t->name = strdup(name))) {
                fclose(f);
                free(t);
                return -ENOMEM;
        }
        while ((n = getline(&line, &len, f)) >= 0) {
                if (n > 0 && line[n - 1] == '\n')
                        line[--n] = '\0';
                if (n == 0)
                        continue;
                if (t->n_ops == cap) {
                        Op *grown = realloc(t->ops, (cap = cap ? cap * 2 : 1024) * sizeof(Op));

                        if (!grown) {
                                r = -ENOMEM;
                                break;
                        }
                        t->ops = grown;
                }
                r = parse_line(line, &t->ops[t->n_ops]);
                if (r < 0)
                        break;
                t->n_ops++;
        }
        free(line);
        fclose(f);
        if (r < 0) {
                template_free(t);
                return r;
        }
        /* Replace a template of the same name. */
        for (Template **p = &templates; *p; p = &(*p)->next)
                if (strcmp((*p)->name, name) == 0) {
                        Template *old = *p;

                        *p = old->next;
                        template_free(old);
                        break;
                }
        t->next = templates;
        templates = t;
        *n_ops = t->n_ops;
        return 0;
}

static int replay(sd_bus_message *reply, const Template *t) {
        int r = 0;

        for (size_t i = 0; r >= 0 && i < t->n_ops; i++) {
                const Op *op = &t->ops[i];

                switch (op->kind) {
                case 'O': r = sd_bus_message_open_container(reply, op->type, op->text); break;
                case 'C': r = sd_bus_message_close_container(reply); break;
                default:
                        r = sd_bus_message_append_basic(reply, op->type,
                                                        strchr("sog", op->type) ? (const void *) op->text
                                                                                : (const void *) &op->v);
                }
        }
        return r;
}

static int on_message(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        const char *member = sd_bus_message_get_member(m);
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        uint8_t type = 0;
        int r;

        if (sd_bus_message_get_type(m, &type) < 0 || type != SD_BUS_MESSAGE_METHOD_CALL || !member)
                return 0;
        if (sd_bus_message_is_method_call(m, INTERFACE, "Load")) {
                const char *name, *file;
                size_t n_ops = 0;

                r = sd_bus_message_read(m, "ss", &name, &file);
                if (r < 0)
                        return r;
                r = load(name, file, &n_ops);
                if (r < 0)
                        return sd_bus_error_set_errnof(error, -r, "Cannot load %s: %s", file, strerror(-r));
                return sd_bus_reply_method_return(m, "u", (uint32_t) n_ops);
        }
        for (const Template *t = templates; t; t = t->next)
                if (strcmp(t->name, member) == 0) {
                        r = sd_bus_message_new_method_return(m, &reply);
                        if (r >= 0)
                                r = replay(reply, t);
                        if (r >= 0)
                                r = sd_bus_send(NULL, reply, NULL);
                        return r < 0 ? r : 1;
                }
        return 0;   /* sd-bus answers UnknownMethod */
}

int main(int argc, char **argv) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        int r;

        if (argc != 3) {
                fprintf(stderr, "usage: %s ADDRESS NAME\n", argv[0]);
                return 2;
        }
        (void) prctl(PR_SET_PDEATHSIG, SIGTERM);
        r = sd_bus_new(&bus);
        if (r >= 0)
                r = sd_bus_set_address(bus, argv[1]);
        if (r >= 0)
                r = sd_bus_set_bus_client(bus, 1);
        if (r >= 0)
                r = sd_bus_start(bus);
        if (r >= 0)
                r = sd_bus_add_object(bus, NULL, OBJECT, on_message, NULL);
        if (r >= 0)
                r = sd_bus_request_name(bus, argv[2], 0);
        if (r < 0) {
                fprintf(stderr, "bench-canned: %s\n", strerror(-r));
                return 1;
        }
        printf("ready\n");
        fflush(stdout);
        for (;;) {
                r = sd_bus_process(bus, NULL);
                if (r < 0) {
                        fprintf(stderr, "bench-canned: %s\n", strerror(-r));
                        return 1;
                }
                if (r > 0)
                        continue;
                r = sd_bus_wait(bus, UINT64_MAX);
                if (r < 0 && r != -EINTR) {
                        fprintf(stderr, "bench-canned: %s\n", strerror(-r));
                        return 1;
                }
        }
}

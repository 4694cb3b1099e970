/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "event-glue.h"

typedef struct {
        GSource source;
        sd_event *event;
} EventSource;

/* sd-event's own state machine: prepare -> (wait) -> dispatch. Its epoll fd
 * covers every fd and timer sd-event watches, so GLib polls just that fd. */
static gboolean event_prepare(GSource *source, gint *timeout) {
        EventSource *s = (EventSource *) source;

        *timeout = -1;
        return sd_event_prepare(s->event) > 0;
}

static gboolean event_check(GSource *source) {
        EventSource *s = (EventSource *) source;

        return sd_event_wait(s->event, 0) > 0;
}

static gboolean event_dispatch(GSource *source, GSourceFunc callback, gpointer user_data) {
        EventSource *s = (EventSource *) source;

        if (sd_event_dispatch(s->event) < 0)
                g_warning("%s", "sd-event dispatch failed");
        return G_SOURCE_CONTINUE;
}

static void event_finalize(GSource *source) {
        EventSource *s = (EventSource *) source;

        sd_event_unref(s->event);
}

static GSourceFuncs event_funcs = {
        .prepare = event_prepare,
        .check = event_check,
        .dispatch = event_dispatch,
        .finalize = event_finalize,
};

guint event_glue_attach(sd_event *event) {
        GSource *source = g_source_new(&event_funcs, sizeof(EventSource));
        EventSource *s = (EventSource *) source;
        guint id;

        s->event = sd_event_ref(event);
        g_source_add_unix_fd(source, sd_event_get_fd(event), G_IO_IN);
        g_source_set_name(source, "sd-event");
        id = g_source_attach(source, NULL);
        g_source_unref(source);
        return id;
}

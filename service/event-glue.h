/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* sd-event run as a GSource, so sd-bus (attached to sd-event) and GLib users
 * (polkit, GTask callbacks) share one main loop on one thread. */
#pragma once

#include <glib.h>
#include <systemd/sd-event.h>

/* Attach `event` to the default GLib main context. Returns the source id. */
guint event_glue_attach(sd_event *event);

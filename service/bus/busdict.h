/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Appending {sv} entries to an open a{sv} in an sd-bus message. Each returns
 * a negative errno on failure, like sd-bus. */
#pragma once

#include <glib.h>
#include <systemd/sd-bus.h>

int dict_add_s(sd_bus_message *m, const char *key, const char *value);  /* NULL -> "" */
int dict_add_t(sd_bus_message *m, const char *key, guint64 value);
int dict_add_u(sd_bus_message *m, const char *key, guint32 value);
int dict_add_b(sd_bus_message *m, const char *key, gboolean value);
int dict_add_as(sd_bus_message *m, const char *key, GPtrArray *strings);   /* char*; NULL -> [] */

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "busdict.h"

int dict_add_s(sd_bus_message *m, const char *key, const char *value) {
        return sd_bus_message_append(m, "{sv}", key, "s", value ? value : "");
}

int dict_add_t(sd_bus_message *m, const char *key, guint64 value) {
        return sd_bus_message_append(m, "{sv}", key, "t", (uint64_t) value);
}

int dict_add_u(sd_bus_message *m, const char *key, guint32 value) {
        return sd_bus_message_append(m, "{sv}", key, "u", (uint32_t) value);
}

int dict_add_b(sd_bus_message *m, const char *key, gboolean value) {
        return sd_bus_message_append(m, "{sv}", key, "b", (int) !!value);
}

int dict_add_as(sd_bus_message *m, const char *key, GPtrArray *strings) {
        int r = sd_bus_message_open_container(m, 'e', "sv");

        if (r >= 0)
                r = sd_bus_message_append_basic(m, 's', key);
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'v', "as");
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "s");
        for (guint i = 0; r >= 0 && strings && i < strings->len; i++)
                r = sd_bus_message_append_basic(m, 's', strings->pdata[i]);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        return r;
}

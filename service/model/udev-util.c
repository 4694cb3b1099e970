/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "errors.h"
#include "udev-util.h"

Udev *udev_util_open(GError **error) {
        Udev *udev = udev_new();

        if (!udev)
                g_set_error(error, PT_ERROR, PT_ERROR_FAILED, "Cannot initialize libudev: %s", g_strerror(errno));
        return udev;
}

char *device_string_clean(const char *s) {
        GString *out = g_string_new(NULL);
        char *text;

        for (; s && *s; s++)
                if (*s >= 0x20 && *s < 0x7f)
                        g_string_append_c(out, *s);
        text = g_strstrip(g_string_free(out, FALSE));
        if (strlen(text) > MAX_DEVICE_STRING) {
                text[MAX_DEVICE_STRING] = '\0';
                g_strchomp(text);
        }
        return text;
}

static int hex_value(char c) {
        return g_ascii_isxdigit(c) ? g_ascii_xdigit_value(c) : -1;
}

char *device_string_decode(const char *encoded) {
        GString *out = g_string_new(NULL);
        g_autofree char *decoded = NULL;

        for (const char *p = encoded; p && *p; p++) {
                char c = *p;

                if (p[0] == '\\' && p[1] == 'x' && hex_value(p[2]) >= 0 && hex_value(p[3]) >= 0) {
                        c = (char) (hex_value(p[2]) << 4 | hex_value(p[3]));
                        p += 3;
                }
                /* Dropped here, not by the cleaning after: "a \x01 b" is "a b". */
                if (!g_ascii_isspace(c) && ((unsigned char) c < 0x20 || (unsigned char) c >= 0x7f))
                        continue;
                if (g_ascii_isspace(c) && (out->len == 0 || out->str[out->len - 1] == ' '))
                        continue;
                g_string_append_c(out, g_ascii_isspace(c) ? ' ' : c);
        }
        decoded = g_string_free(out, FALSE);
        return device_string_clean(decoded);
}

gboolean device_string_printable(const char *s) {
        for (; *s; s++)
                if (*s < 0x20 || *s >= 0x7f)
                        return FALSE;
        return TRUE;
}

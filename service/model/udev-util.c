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

gboolean device_string_printable(const char *s) {
        for (; *s; s++)
                if (*s < 0x20 || *s >= 0x7f)
                        return FALSE;
        return TRUE;
}

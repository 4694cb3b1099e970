/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What disks.c and usb.c share about libudev: cleanup types, opening a
 * context, and the rule for strings read from devices. */
#pragma once

#include <glib.h>
#include <libudev.h>

typedef struct udev Udev;
typedef struct udev_device UdevDevice;
typedef struct udev_enumerate UdevEnumerate;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Udev, udev_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(UdevDevice, udev_device_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(UdevEnumerate, udev_enumerate_unref)

#define MAX_DEVICE_STRING 128   /* cap for strings read from devices */

/* A libudev context, or NULL + PT_ERROR_FAILED. */
Udev *udev_util_open(GError **error);

/* Device strings are untrusted: printable ASCII only (other bytes dropped),
 * trimmed, capped at MAX_DEVICE_STRING. NULL gives "". */
char *device_string_clean(const char *s);

/* A udev "_ENC" property (ID_MODEL_ENC "WDC\x20WD10EZEX-08WN4A0\x20\x20")
 * as the device said it: \xHH escapes decoded, runs of blanks made one
 * space, then cleaned as device_string_clean() does. NULL gives "". */
char *device_string_decode(const char *encoded);

/* Only printable ASCII (what device_string_clean() keeps)? */
gboolean device_string_printable(const char *s);

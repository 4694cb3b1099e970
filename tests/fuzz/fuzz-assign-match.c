/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* device_match_parse(): assignment match strings (Assign, Unassign, the
 * state file). A match that parses has a canonical string that parses to
 * the same match, holds only what match strings may hold, and finds devices
 * of its own kind only, in the fixed lists of fuzz-devices.h. */
#include "config.h"

#include "assign-match.h"
#include "errors.h"
#include "fuzz-common.h"
#include "fuzz-devices.h"

static GPtrArray *usb_devices, *disks;

static gboolean lower_hex4(const char *s) {
        if (!s || strlen(s) != 4)
                return FALSE;
        for (; *s; s++)
                if (!g_ascii_isdigit(*s) && !(*s >= 'a' && *s <= 'f'))
                        return FALSE;
        return TRUE;
}

static gboolean printable(const char *s) {
        for (; *s; s++)
                if (*s < 0x20 || *s > 0x7e)
                        return FALSE;
        return TRUE;
}

/* A serial or WWN: 1-128 printable characters, no blank at either end. */
static gboolean device_string_ok(const char *s) {
        size_t n = strlen(s);

        return n >= 1 && n <= 128 && printable(s) && s[0] != ' ' && s[n - 1] != ' ';
}

static gboolean by_id_ok(const char *s) {
        size_t n = strlen(s);

        if (n < 1 || n > 255 || g_str_equal(s, ".") || g_str_equal(s, ".."))
                return FALSE;
        for (; *s; s++)
                if (!g_ascii_isalnum(*s) && !strchr("._:+@-", *s))
                        return FALSE;
        return TRUE;
}

static void check_value(const DeviceMatch *m) {
        gboolean has_ids = m->vendor_id != NULL;

        FUZZ_CHECK(has_ids == (m->product_id != NULL));
        FUZZ_CHECK(!has_ids || (lower_hex4(m->vendor_id) && lower_hex4(m->product_id)));
        switch (m->type) {
        case MATCH_USB_SERIAL:
        case MATCH_DISK_SERIAL:
                FUZZ_CHECK(device_string_ok(m->value));
                FUZZ_CHECK(!has_ids || m->type == MATCH_USB_SERIAL);
                break;
        case MATCH_USB_ID:
                FUZZ_CHECK(has_ids && m->value == NULL);
                break;
        case MATCH_USB_PORT:
                FUZZ_CHECK(!has_ids && usb_port_valid(m->value));
                break;
        case MATCH_DISK_WWN:
                FUZZ_CHECK(!has_ids && device_string_ok(m->value));
                for (const char *p = m->value; *p; p++)
                        FUZZ_CHECK(!g_ascii_isupper(*p));
                break;
        case MATCH_DISK_BY_ID:
                FUZZ_CHECK(!has_ids && by_id_ok(m->value));
                break;
        default:
                FUZZ_CHECK(!"a type device_match_parse() does not make");
        }
}

static void check_same(const DeviceMatch *a, const DeviceMatch *b) {
        FUZZ_CHECK(a->type == b->type);
        FUZZ_CHECK(g_strcmp0(a->value, b->value) == 0);
        FUZZ_CHECK(g_strcmp0(a->vendor_id, b->vendor_id) == 0);
        FUZZ_CHECK(g_strcmp0(a->product_id, b->product_id) == 0);
}

static void check_round_trip(const DeviceMatch *m) {
        g_autofree char *text = device_match_to_string(m);
        g_autoptr(DeviceMatch) again = device_match_parse(text, NULL);
        g_autoptr(DeviceMatch) copy = device_match_copy(m);
        g_autofree char *text_again = NULL;

        FUZZ_CHECK(printable(text) && strlen(text) <= 300);
        FUZZ_CHECK(device_match_string_like(text));
        FUZZ_CHECK(again != NULL);
        check_same(m, again);
        check_same(m, copy);
        text_again = device_match_to_string(again);
        FUZZ_CHECK(g_str_equal(text, text_again));
}

/* What the service does with a match: find its one device. */
static void check_find(const DeviceMatch *m) {
        g_autoptr(GError) usb_error = NULL;
        g_autoptr(GError) disk_error = NULL;
        const UsbDevice *dev = device_match_find_usb(m, usb_devices, &usb_error);
        const DiskInfo *disk = device_match_find_disk(m, disks, &disk_error);

        FUZZ_CHECK((dev == NULL) == (usb_error != NULL));
        FUZZ_CHECK((disk == NULL) == (disk_error != NULL));
        FUZZ_CHECK(!dev || (device_match_is_usb(m) && device_match_usb(m, dev)));
        FUZZ_CHECK(!disk || (!device_match_is_usb(m) && device_match_disk(m, disk)));
        FUZZ_CHECK(!usb_error || g_utf8_validate(usb_error->message, -1, NULL));
        FUZZ_CHECK(!disk_error || g_utf8_validate(disk_error->message, -1, NULL));
        FUZZ_CHECK(g_str_equal(device_match_kind(m), device_match_is_usb(m) ? "usb" : "disk"));
}

/* The matches the service makes itself name their device, and parse back. */
static void check_own_matches(void) {
        for (guint i = 0; i < usb_devices->len; i++) {
                g_autoptr(DeviceMatch) m = device_match_for_usb(usb_devices->pdata[i], usb_devices, NULL);

                if (!m)
                        continue;
                check_round_trip(m);
                FUZZ_CHECK(device_match_find_usb(m, usb_devices, NULL) == usb_devices->pdata[i]);
        }
        for (guint i = 0; i < disks->len; i++) {
                g_autoptr(DeviceMatch) m = device_match_for_disk(disks->pdata[i], disks, NULL);

                if (!m)
                        continue;
                check_round_trip(m);
                FUZZ_CHECK(device_match_find_disk(m, disks, NULL) == disks->pdata[i]);
        }
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        fuzz_quiet_logs();
        usb_devices = fuzz_usb_devices();
        disks = fuzz_disks();
        check_own_matches();
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        g_autofree char *text = fuzz_string(data, size);
        g_autoptr(GError) error = NULL;
        g_autoptr(DeviceMatch) m = device_match_parse(text, &error);

        if (!m) {
                FUZZ_CHECK(g_error_matches(error, PT_ERROR, PT_ERROR_INVALID_ARGUMENT));
                FUZZ_CHECK(g_utf8_validate(error->message, -1, NULL));
                return 0;
        }
        FUZZ_CHECK(error == NULL);
        FUZZ_CHECK(device_match_string_like(text));
        check_value(m);
        check_round_trip(m);
        check_find(m);
        return 0;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* usb_spec_valid() and usb_resolve(): which device a caller's USB string
 * (AttachUsb, DetachUsb) names, over the fixed list of fuzz-devices.h,
 * checked against an independent reading of the rules in usb.h. */
#include "config.h"

#include "errors.h"
#include "fuzz-common.h"
#include "fuzz-devices.h"
#include "usb.h"

static GPtrArray *devices;

static GRegex *bus_device_form, *port_form, *vendor_product_form;

static GRegex *regex(const char *pattern) {
        return g_regex_new(pattern, G_REGEX_RAW | G_REGEX_DOLLAR_ENDONLY, 0, NULL);
}

static void make_forms(void) {
        bus_device_form = regex("^[0-9]{1,3}:[0-9]{1,3}$");
        port_form = regex("^[0-9]{1,3}-[0-9]{1,3}(\\.[0-9]{1,3}){0,7}$");
        vendor_product_form = regex("^[0-9A-Fa-f]{4}:[0-9A-Fa-f]{4}$");
}

static gboolean printable(const char *s) {
        for (; *s; s++)
                if (*s < 0x20 || *s > 0x7e)
                        return FALSE;
        return TRUE;
}

/* The rules as usb.h states them, written again. */
static gboolean names(const UsbDevice *dev, const char *spec) {
        if (*dev->serial && g_str_equal(dev->serial, spec))
                return TRUE;
        if (g_regex_match(bus_device_form, spec, 0, NULL)) {
                guint bus = 0, device = 0;

                FUZZ_CHECK(sscanf(spec, "%u:%u", &bus, &device) == 2);
                return bus == dev->bus && device == dev->device;
        }
        if (g_regex_match(port_form, spec, 0, NULL))
                return g_str_equal(dev->port, spec);
        if (g_regex_match(vendor_product_form, spec, 0, NULL)) {
                g_autofree char *vp = g_strdup_printf("%s:%s", dev->vendor_id, dev->product_id);

                return g_ascii_strcasecmp(vp, spec) == 0;
        }
        return FALSE;
}

static guint count_named(const char *spec, const UsbDevice **last) {
        guint n = 0;

        for (guint i = 0; i < devices->len; i++)
                if (names(devices->pdata[i], spec)) {
                        *last = devices->pdata[i];
                        n++;
                }
        return n;
}

static const UsbDevice *by_id(const char *spec) {
        for (guint i = 0; i < devices->len; i++)
                if (g_str_equal(((UsbDevice *) devices->pdata[i])->id, spec))
                        return devices->pdata[i];
        return NULL;
}

static void check_resolved(const char *spec, const UsbDevice *dev, const GError *error) {
        const UsbDevice *one = NULL;
        guint n = count_named(spec, &one);
        const UsbDevice *exact = by_id(spec);

        if (exact) {
                FUZZ_CHECK(dev == exact);
        } else if (n == 1) {
                FUZZ_CHECK(dev == one);
        } else {
                FUZZ_CHECK(dev == NULL);
                FUZZ_CHECK(g_error_matches(error, PT_ERROR, n ? PT_ERROR_AMBIGUOUS_DEVICE : PT_ERROR_NO_SUCH_DEVICE));
        }
}

/* What the service does next with a device it resolved. */
static void use_device(const UsbDevice *dev) {
        g_autoptr(GError) error = NULL;
        g_autofree char *xml = usb_hostdev_xml(dev);

        FUZZ_CHECK(xml != NULL);
        FUZZ_CHECK(usb_check_attachable(dev, &error) == !dev->is_hub);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        fuzz_quiet_logs();
        devices = fuzz_usb_devices();
        make_forms();
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        g_autofree char *spec = fuzz_string(data, size);
        g_autoptr(GError) error = NULL;
        gboolean valid = usb_spec_valid(spec, NULL);
        const UsbDevice *dev = usb_resolve(devices, spec, &error);

        FUZZ_CHECK(valid == (strlen(spec) >= 1 && strlen(spec) <= 255 && printable(spec)));
        FUZZ_CHECK((dev == NULL) == (error != NULL));
        if (error)
                FUZZ_CHECK(g_utf8_validate(error->message, -1, NULL));
        if (!valid) {
                FUZZ_CHECK(g_error_matches(error, PT_ERROR, PT_ERROR_INVALID_ARGUMENT));
                return 0;
        }
        check_resolved(spec, dev, error);
        if (dev)
                use_device(dev);
        return 0;
}

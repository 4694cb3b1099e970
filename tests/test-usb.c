/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests for service/usb.c (Ids, device strings, resolving a caller's
 * device string), the USB hostdev XML (devxml.c) and the hotplug snapshot
 * comparison (udev-monitor.c), over hand-built device lists. */
#include "config.h"

#include <string.h>

#include "devxml.h"
#include "errors.h"
#include "udev-monitor.h"
#include "udev-util.h"
#include "usb.h"
#include "usb-fixture.h"

/* Bus 1: root hub, a hub on port 1 with two sticks of one kind (serials
 * A1, A2), a device without a serial; bus 2: its root hub and a keyboard. */
static GPtrArray *sample(void) {
        GPtrArray *devices = g_ptr_array_new_with_free_func((GDestroyNotify) usb_device_free);
        UsbDevice *hub;

        g_ptr_array_add(devices, fixture_usb(1, 1, "1-0", "1d6b:0002", "0000:00:14.0", "xHCI Host Controller"));
        hub = fixture_usb(1, 2, "1-1", "05e3:0608", "", "USB2.0 Hub");
        hub->is_hub = TRUE;
        g_ptr_array_add(devices, hub);
        g_ptr_array_add(devices, fixture_usb(1, 3, "1-1.1", "46f4:0001", "A1", "QEMU USB HARDDRIVE"));
        g_ptr_array_add(devices, fixture_usb(1, 4, "1-1.2", "46f4:0001", "A2", "QEMU USB HARDDRIVE"));
        g_ptr_array_add(devices, fixture_usb(1, 5, "1-2", "0627:0001", "", "QEMU USB Tablet"));
        g_ptr_array_add(devices, fixture_usb(2, 1, "2-0", "1d6b:0003", "0000:00:14.0", "xHCI Host Controller"));
        g_ptr_array_add(devices, fixture_usb(2, 7, "2-3", "046d:c31c", "K1", "USB Keyboard"));
        usb_assign_ids(devices);
        return devices;
}

/* ---- Ids ---- */

static void test_ids_unique_and_duplicate_serials(void) {
        g_autoptr(GPtrArray) devices = sample();

        g_assert_cmpstr(fixture_usb_at(devices, "1-1.1")->id, ==, "46f4:0001:A1");
        g_assert_cmpstr(fixture_usb_at(devices, "1-1.2")->id, ==, "46f4:0001:A2");
        g_assert_cmpstr(fixture_usb_at(devices, "1-2")->id, ==, "0627:0001@1-2");      /* no serial */
        g_assert_cmpstr(fixture_usb_at(devices, "2-3")->id, ==, "046d:c31c:K1");
        /* Both root hubs show the controller's PCI address as serial. */
        g_assert_cmpstr(fixture_usb_at(devices, "1-0")->id, ==, "1d6b:0002@1-0");
        g_assert_cmpstr(fixture_usb_at(devices, "2-0")->id, ==, "1d6b:0003@2-0");
}

static void test_ids_serial_shared_across_models(void) {
        g_autoptr(GPtrArray) devices = g_ptr_array_new_with_free_func((GDestroyNotify) usb_device_free);

        g_ptr_array_add(devices, fixture_usb(1, 3, "1-1", "46f4:0001", "0123456789", "a"));
        g_ptr_array_add(devices, fixture_usb(1, 4, "1-2", "abcd:1234", "0123456789", "b"));
        g_ptr_array_add(devices, fixture_usb(1, 5, "1-3", "abcd:1234", "SOLO", "c"));
        usb_assign_ids(devices);
        g_assert_cmpstr(fixture_usb_at(devices, "1-1")->id, ==, "46f4:0001@1-1");
        g_assert_cmpstr(fixture_usb_at(devices, "1-2")->id, ==, "abcd:1234@1-2");
        g_assert_cmpstr(fixture_usb_at(devices, "1-3")->id, ==, "abcd:1234:SOLO");

        /* The twin goes away: the serial is unique again. */
        g_ptr_array_remove_index(devices, 1);
        usb_assign_ids(devices);
        g_assert_cmpstr(fixture_usb_at(devices, "1-1")->id, ==, "46f4:0001:0123456789");
}

/* Ids are decided when a device arrives and kept while it stays. */
static void test_ids_kept_while_present(void) {
        g_autoptr(GPtrArray) devices = g_ptr_array_new_with_free_func((GDestroyNotify) usb_device_free);
        g_autoptr(GHashTable) known = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, g_free);
        UsbDevice *first = fixture_usb(1, 3, "1-4", "46f4:0001", "SN-C", "a");

        g_ptr_array_add(devices, first);
        usb_assign_ids_keeping(devices, NULL);
        g_assert_cmpstr(first->id, ==, "46f4:0001:SN-C");
        g_hash_table_insert(known, first->syspath, g_strdup(first->id));

        /* A twin arrives: it is named by its port, the first keeps its Id. */
        g_ptr_array_add(devices, fixture_usb(1, 4, "1-5", "46f4:0001", "SN-C", "b"));
        usb_assign_ids_keeping(devices, known);
        g_assert_cmpstr(fixture_usb_at(devices, "1-4")->id, ==, "46f4:0001:SN-C");
        g_assert_cmpstr(fixture_usb_at(devices, "1-5")->id, ==, "46f4:0001@1-5");

        /* The first leaves; the twin, still there, keeps its Id too. */
        g_hash_table_insert(known, fixture_usb_at(devices, "1-5")->syspath, g_strdup("46f4:0001@1-5"));
        g_hash_table_remove(known, first->syspath);
        g_ptr_array_remove_index(devices, 0);
        usb_assign_ids_keeping(devices, known);
        g_assert_cmpstr(fixture_usb_at(devices, "1-5")->id, ==, "46f4:0001@1-5");
}

/* ---- resolving ---- */

static const UsbDevice *resolve_ok(GPtrArray *devices, const char *spec) {
        g_autoptr(GError) error = NULL;
        const UsbDevice *dev = usb_resolve(devices, spec, &error);

        g_assert_no_error(error);
        g_assert_nonnull(dev);
        return dev;
}

static void resolve_fails(GPtrArray *devices, const char *spec, PtError code, const char *in_message) {
        g_autoptr(GError) error = NULL;

        g_assert_null(usb_resolve(devices, spec, &error));
        g_assert_error(error, PT_ERROR, (gint) code);
        if (in_message)
                g_assert_nonnull(strstr(error->message, in_message));
}

static void test_resolve_forms(void) {
        g_autoptr(GPtrArray) devices = sample();

        g_assert_cmpstr(resolve_ok(devices, "A2")->port, ==, "1-1.2");                 /* serial */
        g_assert_cmpstr(resolve_ok(devices, "1:3")->port, ==, "1-1.1");                /* bus:dev */
        g_assert_cmpstr(resolve_ok(devices, "001:004")->port, ==, "1-1.2");            /* lsusb style */
        g_assert_cmpstr(resolve_ok(devices, "1-1.1")->serial, ==, "A1");               /* port */
        g_assert_cmpstr(resolve_ok(devices, "1-2")->vendor_id, ==, "0627");
        g_assert_cmpstr(resolve_ok(devices, "046d:c31c")->port, ==, "2-3");            /* unique vid:pid */
        g_assert_cmpstr(resolve_ok(devices, "046D:C31C")->port, ==, "2-3");
        g_assert_cmpstr(resolve_ok(devices, "46f4:0001:A1")->port, ==, "1-1.1");       /* Id, serial form */
        g_assert_cmpstr(resolve_ok(devices, "0627:0001@1-2")->port, ==, "1-2");        /* Id, port form */
}

static void test_resolve_ambiguous(void) {
        g_autoptr(GPtrArray) devices = sample();

        resolve_fails(devices, "46f4:0001", PT_ERROR_AMBIGUOUS_DEVICE, "46f4:0001:A1");
        resolve_fails(devices, "46f4:0001", PT_ERROR_AMBIGUOUS_DEVICE, "46f4:0001:A2");
        /* Both root hubs carry the same serial. */
        resolve_fails(devices, "0000:00:14.0", PT_ERROR_AMBIGUOUS_DEVICE, "1d6b:0003@2-0");
}

static void test_resolve_serial_that_looks_like_another_form(void) {
        g_autoptr(GPtrArray) devices = sample();
        UsbDevice *liar = fixture_usb(2, 9, "2-4", "dead:beef", "1-2", "liar");

        g_ptr_array_add(devices, liar);
        usb_assign_ids(devices);
        /* "1-2" is the tablet's port and the liar's serial: ask which. */
        resolve_fails(devices, "1-2", PT_ERROR_AMBIGUOUS_DEVICE, "dead:beef:1-2");
        /* A serial equal to another device's Id does not steal that Id. */
        g_free(liar->serial);
        liar->serial = g_strdup("46f4:0001:A1");
        usb_assign_ids(devices);
        g_assert_cmpstr(resolve_ok(devices, "46f4:0001:A1")->port, ==, "1-1.1");
}

static void test_resolve_unknown_and_invalid(void) {
        g_autoptr(GPtrArray) devices = sample();
        g_autofree char *long_spec = g_strnfill(256, 'a');

        resolve_fails(devices, "NOPE", PT_ERROR_NO_SUCH_DEVICE, "No USB device 'NOPE'");
        resolve_fails(devices, "9:9", PT_ERROR_NO_SUCH_DEVICE, NULL);
        resolve_fails(devices, "1-7.7", PT_ERROR_NO_SUCH_DEVICE, NULL);
        resolve_fails(devices, "ffff:ffff", PT_ERROR_NO_SUCH_DEVICE, NULL);
        resolve_fails(devices, "a1", PT_ERROR_NO_SUCH_DEVICE, NULL);       /* serials are exact */
        resolve_fails(devices, "", PT_ERROR_INVALID_ARGUMENT, NULL);
        resolve_fails(devices, "A1\n", PT_ERROR_INVALID_ARGUMENT, NULL);
        resolve_fails(devices, "A\x01", PT_ERROR_INVALID_ARGUMENT, NULL);
        resolve_fails(devices, "\xc3\xa9", PT_ERROR_INVALID_ARGUMENT, NULL);
        resolve_fails(devices, long_spec, PT_ERROR_INVALID_ARGUMENT, NULL);
}

static void test_hubs_refused(void) {
        g_autoptr(GPtrArray) devices = sample();
        g_autoptr(GError) error = NULL;

        g_assert_false(usb_check_attachable(resolve_ok(devices, "1-1"), &error));
        g_assert_error(error, PT_ERROR, PT_ERROR_INVALID_ARGUMENT);
        g_assert_nonnull(strstr(error->message, "hub"));
        g_clear_error(&error);
        g_assert_false(usb_check_attachable(resolve_ok(devices, "1d6b:0002"), &error));
        g_assert_error(error, PT_ERROR, PT_ERROR_INVALID_ARGUMENT);
        g_assert_nonnull(strstr(error->message, "root hub"));
        g_clear_error(&error);
        g_assert_true(usb_check_attachable(resolve_ok(devices, "A1"), &error));
        g_assert_no_error(error);
}

static void test_port_syntax(void) {
        const char *good[] = { "1-0", "1-2", "1-2.3", "12-1.2.3.4.5", "255-15" };
        const char *bad[] = { "1", "1-", "-2", "1-2.", "1-.2", "1-2..3", "1:2", "a-1", "1-2.3x", "1234-1",
                              "1-1.1.1.1.1.1.1.1.1" };

        for (guint i = 0; i < G_N_ELEMENTS(good); i++)
                g_assert_true(usb_port_valid(good[i]));
        for (guint i = 0; i < G_N_ELEMENTS(bad); i++)
                g_assert_false(usb_port_valid(bad[i]));
}

static void test_hex_ids(void) {
        guint v = 0;

        g_assert_true(usb_parse_hex_id("0x46f4", &v));
        g_assert_cmpuint(v, ==, 0x46f4);
        g_assert_true(usb_parse_hex_id("C31C", &v));
        g_assert_cmpuint(v, ==, 0xc31c);
        g_assert_true(usb_parse_hex_id("1", &v));
        g_assert_cmpuint(v, ==, 1);
        for (const char *const *s = (const char *const[]) { "", "0x", "12345", "-1", "12g4", " 12", NULL }; *s; s++)
                g_assert_false(usb_parse_hex_id(*s, &v));
        g_assert_false(usb_parse_hex_id(NULL, &v));
}

/* ---- untrusted strings ---- */

static void test_device_strings_cleaned(void) {
        g_autofree char *big = g_strnfill(4096, 'x');
        g_autofree char *hostile = device_string_clean("'/><x\x01\x1b[31m\x7f\t\n");
        g_autofree char *utf8 = device_string_clean("Caf\xc3\xa9 \xe2\x84\xa2 Stick\xff");
        g_autofree char *capped = device_string_clean(big);
        g_autofree char *spaces = device_string_clean("   SN 1   ");
        g_autofree char *none = device_string_clean(NULL);

        g_assert_cmpstr(hostile, ==, "'/><x[31m");
        g_assert_cmpstr(utf8, ==, "Caf  Stick");
        g_assert_cmpuint(strlen(capped), ==, MAX_DEVICE_STRING);
        g_assert_cmpstr(spaces, ==, "SN 1");
        g_assert_cmpstr(none, ==, "");
}

static void test_hostile_serial_in_id(void) {
        g_autoptr(GPtrArray) devices = g_ptr_array_new_with_free_func((GDestroyNotify) usb_device_free);
        g_autofree char *serial = device_string_clean("'/><x\x01\x02");

        g_ptr_array_add(devices, fixture_usb(1, 3, "1-1", "46f4:0001", serial, "evil"));
        usb_assign_ids(devices);
        g_assert_cmpstr(fixture_usb_at(devices, "1-1")->id, ==, "46f4:0001:'/><x");
        g_assert_cmpstr(resolve_ok(devices, "'/><x")->port, ==, "1-1");
        g_assert_cmpstr(resolve_ok(devices, "46f4:0001:'/><x")->port, ==, "1-1");
}

/* ---- hostdev XML ---- */

static void test_hostdev_xml(void) {
        g_autofree char *alias = usb_alias_for_port("1-2.3");
        UsbHostdevXmlSpec spec = { .vendor = 0x46f4, .product = 0x1, .bus = 3, .device = 10, .alias = alias };
        g_autofree char *xml = devxml_build_usb_hostdev(&spec);

        g_assert_cmpstr(alias, ==, "ua-pt-usb-1-2_3");
        g_assert_cmpstr(xml, ==,
                        "<hostdev mode=\"subsystem\" type=\"usb\" managed=\"yes\"><source>"
                        "<vendor id=\"0x46f4\"/><product id=\"0x0001\"/><address bus=\"3\" device=\"10\"/>"
                        "</source><alias name=\"ua-pt-usb-1-2_3\"/></hostdev>");
}

static void test_hostdev_xml_refuses_bad_values(void) {
        UsbHostdevXmlSpec spec = { .vendor = 1, .product = 2, .bus = 1, .device = 2 };
        g_autofree char *plain = devxml_build_usb_hostdev(&spec);

        g_assert_nonnull(plain);
        g_assert_null(strstr(plain, "alias"));
        for (const char *const *a = (const char *const[]) { "ua-'/><x", "hostdev0", "ua-", "ua-a b", NULL }; *a; a++) {
                spec.alias = *a;
                g_assert_null(devxml_build_usb_hostdev(&spec));
        }
        spec.alias = NULL;
        spec.vendor = 0x10000;
        g_assert_null(devxml_build_usb_hostdev(&spec));
        spec.vendor = 1;
        spec.device = 0;
        g_assert_null(devxml_build_usb_hostdev(&spec));
}

/* What we build parses back to a hostdev that holds the device (and only it). */
static void test_hostdev_round_trip(void) {
        g_autoptr(GPtrArray) devices = sample();
        const UsbDevice *stick = fixture_usb_at(devices, "1-1.2"), *twin = fixture_usb_at(devices, "1-1.1");
        g_autofree char *alias = usb_alias_for_port(stick->port);
        UsbHostdevXmlSpec spec = { .vendor = 0x46f4, .product = 1, .bus = stick->bus, .device = stick->device,
                                   .alias = alias };
        g_autofree char *hostdev = devxml_build_usb_hostdev(&spec);
        g_autofree char *xml = g_strdup_printf("<domain><name>d</name><devices>%s</devices></domain>", hostdev);
        g_autoptr(GError) error = NULL;
        g_autoptr(DomainXml) dom = devxml_parse_domain(xml, &error);
        const DomainUsbHostdev *h;

        g_assert_no_error(error);
        g_assert_cmpuint(dom->usb_hostdevs->len, ==, 1);
        h = dom->usb_hostdevs->pdata[0];
        g_assert_cmpuint(h->bus, ==, 1);
        g_assert_cmpuint(h->device, ==, 4);
        g_assert_cmpstr(h->alias, ==, "ua-pt-usb-1-1_2");
        g_assert_true(usb_hostdev_holds(h, stick));
        g_assert_false(usb_hostdev_holds(h, twin));
}

static void test_hostdev_holds_checks_ids(void) {
        g_autoptr(GPtrArray) devices = sample();
        const UsbDevice *kbd = fixture_usb_at(devices, "2-3");
        DomainUsbHostdev h = { .bus = 2, .device = 7, .vendor = (char *) "0x046d", .product = (char *) "0xc31c" };

        g_assert_true(usb_hostdev_holds(&h, kbd));
        h.product = (char *) "0xc31d";          /* the address was reused by another device */
        g_assert_false(usb_hostdev_holds(&h, kbd));
        h.vendor = h.product = NULL;            /* address only */
        g_assert_true(usb_hostdev_holds(&h, kbd));
        h.device = 8;
        g_assert_false(usb_hostdev_holds(&h, kbd));
}

/* ---- hotplug snapshots ---- */

static void record_event(const char *kind, const char *id, gboolean added, gpointer data) {
        g_ptr_array_add(data, g_strdup_printf("%s %s %s", added ? "+" : "-", kind, id));
}

static GHashTable *snapshot(const char *const *pairs) {
        GHashTable *t = g_hash_table_new(g_str_hash, g_str_equal);

        for (; *pairs; pairs += 2)
                g_hash_table_insert(t, (gpointer) pairs[0], (gpointer) pairs[1]);
        return t;
}

static void test_snapshot_diff(void) {
        g_autoptr(GHashTable) before = snapshot((const char *const[]) {
                "/s/1-1", "46f4:0001:A1", "/s/1-2", "0627:0001@1-2", "/s/1-3", "abcd:0001:X", NULL });
        g_autoptr(GHashTable) after = snapshot((const char *const[]) {
                "/s/1-1", "46f4:0001@1-1", "/s/1-2", "0627:0001@1-2", "/s/1-4", "46f4:0001@1-4", NULL });
        g_autoptr(GPtrArray) events = g_ptr_array_new_with_free_func(g_free);

        udev_watch_diff(before, after, "usb", record_event, events);
        g_assert_cmpuint(events->len, ==, 4);
        g_assert_cmpstr(events->pdata[0], ==, "- usb 46f4:0001:A1");
        g_assert_cmpstr(events->pdata[1], ==, "- usb abcd:0001:X");
        g_assert_cmpstr(events->pdata[2], ==, "+ usb 46f4:0001@1-1");
        g_assert_cmpstr(events->pdata[3], ==, "+ usb 46f4:0001@1-4");
        g_ptr_array_set_size(events, 0);
        udev_watch_diff(after, after, "usb", record_event, events);
        g_assert_cmpuint(events->len, ==, 0);
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/usb/ids/unique-and-duplicate-serials", test_ids_unique_and_duplicate_serials);
        g_test_add_func("/usb/ids/serial-shared-across-models", test_ids_serial_shared_across_models);
        g_test_add_func("/usb/ids/kept-while-present", test_ids_kept_while_present);
        g_test_add_func("/usb/resolve/forms", test_resolve_forms);
        g_test_add_func("/usb/resolve/ambiguous", test_resolve_ambiguous);
        g_test_add_func("/usb/resolve/serial-like-another-form", test_resolve_serial_that_looks_like_another_form);
        g_test_add_func("/usb/resolve/unknown-and-invalid", test_resolve_unknown_and_invalid);
        g_test_add_func("/usb/resolve/hubs-refused", test_hubs_refused);
        g_test_add_func("/usb/port-syntax", test_port_syntax);
        g_test_add_func("/usb/hex-ids", test_hex_ids);
        g_test_add_func("/usb/strings/cleaned", test_device_strings_cleaned);
        g_test_add_func("/usb/strings/hostile-serial-in-id", test_hostile_serial_in_id);
        g_test_add_func("/usb/xml/hostdev", test_hostdev_xml);
        g_test_add_func("/usb/xml/refuses-bad-values", test_hostdev_xml_refuses_bad_values);
        g_test_add_func("/usb/xml/round-trip", test_hostdev_round_trip);
        g_test_add_func("/usb/xml/holds-checks-ids", test_hostdev_holds_checks_ids);
        g_test_add_func("/usb/hotplug/snapshot-diff", test_snapshot_diff);
        return g_test_run();
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests for assignments: match strings (service/assign-match.c) over
 * hand-built device lists, the state file (service/assign-store.c: round
 * trip, corrupt and unreadable files, atomic writes) and the USB hostdev XML
 * a dry run shows (service/usb.c). */
#include "config.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "assign-match.h"
#include "assign-store.h"
#include "autoattach.h"
#include "config-file.h"
#include "errors.h"
#include "usb-fixture.h"

/* ---- hand-built devices ---- */

static UsbDevice *usb(guint bus, guint device, const char *port, const char *vp, const char *serial) {
        return fixture_usb(bus, device, port, vp, serial, "");
}

/* Bus 1: root hub, sticks A1 and A2 (46f4:0001), a tablet without serial,
 * two keyboards sharing serial K (046d:c31c and 046d:c31d), a stick with a
 * serial that contains ",id=". */
static GPtrArray *usb_sample(void) {
        GPtrArray *devices = g_ptr_array_new_with_free_func((GDestroyNotify) usb_device_free);

        g_ptr_array_add(devices, usb(1, 1, "1-0", "1d6b:0002", "0000:00:14.0"));
        g_ptr_array_add(devices, usb(1, 3, "1-1.1", "46f4:0001", "A1"));
        g_ptr_array_add(devices, usb(1, 4, "1-1.2", "46f4:0001", "A2"));
        g_ptr_array_add(devices, usb(1, 5, "1-2", "0627:0001", ""));
        g_ptr_array_add(devices, usb(1, 6, "1-3", "046d:c31c", "K"));
        g_ptr_array_add(devices, usb(1, 7, "1-4", "046d:c31d", "K"));
        g_ptr_array_add(devices, usb(1, 8, "1-5", "abcd:0001", "x,id=1234:5678"));
        usb_assign_ids(devices);
        return devices;
}

static DiskInfo *disk(const char *name, const char *wwn, const char *serial, const char *const *by_id) {
        DiskInfo *d = g_new0(DiskInfo, 1);

        d->name = g_strdup(name);
        d->path = g_strconcat("/dev/", name, NULL);
        d->devnum = (dev_t) g_str_hash(name);
        d->model = g_strdup("");
        d->serial = g_strdup(serial);
        d->wwn = g_strdup(wwn);
        d->transport = g_strdup("usb");
        d->partitions = g_ptr_array_new();
        d->holders = g_ptr_array_new_with_free_func(g_free);
        d->by_id = g_ptr_array_new_with_free_func(g_free);
        for (; by_id && *by_id; by_id++)
                g_ptr_array_add(d->by_id, g_strdup(*by_id));
        d->id = g_strdup(d->by_id->len ? d->by_id->pdata[0] : name);
        return d;
}

/* sda: WWN; sdb: serial only, shared with sdc; sdc also a by-id link;
 * loop0: nothing stable. */
static GPtrArray *disk_sample(void) {
        GPtrArray *disks = g_ptr_array_new_with_free_func((GDestroyNotify) disk_info_free);

        g_ptr_array_add(disks, disk("sda", "0x5000c500a1b2c3d4", "S1",
                                    (const char *[]) { "wwn-0x5000c500a1b2c3d4", "ata-X_S1", NULL }));
        g_ptr_array_add(disks, disk("sdb", "", "DUP", (const char *[]) { "usb-Stick_DUP-0:0", NULL }));
        g_ptr_array_add(disks, disk("sdc", "", "DUP", (const char *[]) { "usb-Other_DUP-0:0", NULL }));
        g_ptr_array_add(disks, disk("loop0", "", "", NULL));
        return disks;
}

/* ---- match strings ---- */

static char *round_trip(const char *text) {
        g_autoptr(GError) error = NULL;
        g_autoptr(DeviceMatch) match = device_match_parse(text, &error);

        g_assert_no_error(error);
        return device_match_to_string(match);
}

static void test_match_forms(void) {
        const char *canonical[] = {
                "usb:serial=SN-0001", "usb:serial=SN-0001,id=46f4:0001", "usb:id=46f4:0001", "usb:port=1-2.3",
                "disk:wwn=0x5000c500a1b2c3d4", "disk:wwn=t10.ata qemu harddisk", "disk:serial=WD-1234",
                "disk:by-id=usb-QEMU_QEMU_HARDDISK_1-0000:00:04.0-4-0:0", "usb:serial='/><x#;=[]\\",
        };

        for (guint i = 0; i < G_N_ELEMENTS(canonical); i++) {
                g_autofree char *back = round_trip(canonical[i]);

                g_assert_cmpstr(back, ==, canonical[i]);
        }
}

static void test_match_canonical(void) {
        g_autofree char *id = round_trip("usb:id=46F4:00AB");
        g_autofree char *serial = round_trip("usb:serial=s,id=ABCD:EF01");
        g_autofree char *by_id = round_trip("disk:by-id=/dev/disk/by-id/wwn-0x5000");
        g_autoptr(DeviceMatch) match = device_match_parse("usb:serial=x,id=1234:5678,id=46f4:0001", NULL);

        g_assert_cmpstr(id, ==, "usb:id=46f4:00ab");
        g_assert_cmpstr(serial, ==, "usb:serial=s,id=abcd:ef01");
        g_assert_cmpstr(by_id, ==, "disk:by-id=wwn-0x5000");
        /* The last ",id=" is the id: a serial containing ",id=" round-trips with its id. */
        g_assert_nonnull(match);
        g_assert_cmpstr(match->value, ==, "x,id=1234:5678");
        g_assert_cmpstr(match->vendor_id, ==, "46f4");
        g_assert_true(device_match_is_usb(match));
        g_assert_cmpstr(device_match_kind(match), ==, "usb");
}

static void test_match_hostile(void) {
        g_autofree char *long_serial = g_strnfill(129, 'a');
        g_autofree char *serial_129 = g_strconcat("usb:serial=", long_serial, NULL);
        g_autofree char *huge = g_strnfill(4096, 'x');
        g_autofree char *b256 = g_strnfill(256, 'b');
        g_autofree char *by_id_256 = g_strconcat("disk:by-id=", b256, NULL);
        const char *bad[] = {
                "", "usb:", "usb:serial=", "usb:serial= SN", "usb:serial=SN ", "usb:serial=S\x01N",
                "usb:serial=Caf\xc3\xa9", "usb:id=46f4", "usb:id=46f4:00g1", "usb:id=46f4:00011", "usb:id=46f4-0001",
                "usb:port=1", "usb:port=1-", "usb:port=a-1", "usb:port=1-2..3", "usb:port=1-2.3 ", "usb:port=1:2",
                "usb:bus=1:3", "usb:serial", "disk:path=/dev/sdb", "disk:by-id=../sda", "disk:by-id=a/b",
                "disk:by-id=.", "disk:by-id=..", "disk:by-id=sp ace", "disk:wwn=", "disk:serial=\t",
                "disk:by-id=", "/dev/sdb", "sdb", "USB:id=46f4:0001", "usb:serial=SN\n", serial_129, huge,
                by_id_256,
        };

        for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
                g_autoptr(GError) error = NULL;
                g_autoptr(DeviceMatch) match = device_match_parse(bad[i], &error);

                g_assert_null(match);
                g_assert_error(error, PT_ERROR, PT_ERROR_INVALID_ARGUMENT);
                g_assert_nonnull(strstr(error->message, "usb:serial=SN"));
                /* Nothing of the caller's string is echoed back. */
                if (strlen(bad[i]) > 12)
                        g_assert_null(strstr(error->message, bad[i]));
        }
        g_assert_true(device_match_string_like("usb:x"));
        g_assert_true(device_match_string_like("disk:"));
        g_assert_false(device_match_string_like("SN-0001"));
        g_assert_false(device_match_string_like("/dev/disk/by-id/x"));
}

/* ---- matching ---- */

static const UsbDevice *find_usb(GPtrArray *devices, const char *text, GError **error) {
        g_autoptr(DeviceMatch) match = device_match_parse(text, NULL);

        g_assert_nonnull(match);
        return device_match_find_usb(match, devices, error);
}

static void test_match_usb(void) {
        g_autoptr(GPtrArray) devices = usb_sample();
        g_autoptr(GError) error = NULL;

        g_assert_true(find_usb(devices, "usb:serial=A2", NULL) == fixture_usb_at(devices, "1-1.2"));
        g_assert_true(find_usb(devices, "usb:serial=A2,id=46f4:0001", NULL) == fixture_usb_at(devices, "1-1.2"));
        g_assert_true(find_usb(devices, "usb:id=0627:0001", NULL) == fixture_usb_at(devices, "1-2"));
        g_assert_true(find_usb(devices, "usb:port=1-1.1", NULL) == fixture_usb_at(devices, "1-1.1"));
        g_assert_true(find_usb(devices, "usb:serial=K,id=046d:c31d", NULL) == fixture_usb_at(devices, "1-4"));
        g_assert_true(find_usb(devices, "usb:serial=x,id=1234:5678,id=abcd:0001", NULL) == fixture_usb_at(devices, "1-5"));

        g_assert_null(find_usb(devices, "usb:serial=A2,id=46f4:0002", &error));
        g_assert_error(error, PT_ERROR, PT_ERROR_NO_SUCH_DEVICE);
        g_clear_error(&error);
        g_assert_null(find_usb(devices, "usb:serial=a2", &error));   /* serials are exact */
        g_assert_error(error, PT_ERROR, PT_ERROR_NO_SUCH_DEVICE);
        g_clear_error(&error);
        g_assert_null(find_usb(devices, "usb:id=46f4:0001", &error));
        g_assert_error(error, PT_ERROR, PT_ERROR_AMBIGUOUS_DEVICE);
        g_assert_nonnull(strstr(error->message, "46f4:0001:A1"));
        g_assert_nonnull(strstr(error->message, "46f4:0001:A2"));
        g_clear_error(&error);
        g_assert_null(find_usb(devices, "usb:serial=K", &error));
        g_assert_error(error, PT_ERROR, PT_ERROR_AMBIGUOUS_DEVICE);
        g_clear_error(&error);
        /* An empty serial never matches; a disk match names no USB device. */
        {
                g_autoptr(DeviceMatch) disk_match = device_match_parse("disk:serial=A1", NULL);

                g_assert_false(device_match_usb(disk_match, fixture_usb_at(devices, "1-1.1")));
        }
}

static char *usb_best(GPtrArray *devices, const char *port, GError **error) {
        g_autoptr(DeviceMatch) match = device_match_for_usb(fixture_usb_at(devices, port), devices, error);

        return match ? device_match_to_string(match) : NULL;
}

static void test_best_usb_match(void) {
        g_autoptr(GPtrArray) devices = usb_sample();
        g_autofree char *a1 = usb_best(devices, "1-1.1", NULL);
        g_autofree char *tablet = usb_best(devices, "1-2", NULL);
        g_autofree char *keyboard = usb_best(devices, "1-3", NULL);
        g_autofree char *odd = usb_best(devices, "1-5", NULL);
        g_autoptr(GError) error = NULL;

        g_assert_cmpstr(a1, ==, "usb:serial=A1,id=46f4:0001");
        g_assert_cmpstr(tablet, ==, "usb:port=1-2");                      /* no serial */
        g_assert_cmpstr(keyboard, ==, "usb:serial=K,id=046d:c31c");       /* serial shared, ids differ */
        g_assert_cmpstr(odd, ==, "usb:serial=x,id=1234:5678,id=abcd:0001");
        g_assert_null(usb_best(devices, "1-0", &error));
        g_assert_error(error, PT_ERROR, PT_ERROR_INVALID_ARGUMENT);
        g_clear_error(&error);
        /* Two devices with one serial and one model: the port. */
        g_ptr_array_add(devices, usb(1, 9, "1-6", "46f4:0001", "A1"));
        usb_assign_ids(devices);
        {
                g_autofree char *twin = usb_best(devices, "1-1.1", NULL);

                g_assert_cmpstr(twin, ==, "usb:port=1-1.1");
        }
}

static char *disk_best(GPtrArray *disks, guint i, GError **error) {
        g_autoptr(DeviceMatch) match = device_match_for_disk(disks->pdata[i], disks, error);

        return match ? device_match_to_string(match) : NULL;
}

static void test_match_wwn_case(void) {
        g_autoptr(GPtrArray) disks = disk_sample();
        DiskInfo *sda = disks->pdata[0];
        g_autoptr(DeviceMatch) upper = device_match_parse("disk:wwn=0x5000C500A1B2C3D4", NULL);
        g_autofree char *text = device_match_to_string(upper);

        g_assert_cmpstr(text, ==, "disk:wwn=0x5000c500a1b2c3d4");
        g_assert_true(device_match_disk(upper, sda));
        g_free(sda->wwn);
        sda->wwn = g_strdup("0x5000C500A1B2C3D4");
        g_assert_true(device_match_disk(upper, sda));
        g_clear_pointer(&text, g_free);
        text = disk_best(disks, 0, NULL);
        g_assert_cmpstr(text, ==, "disk:wwn=0x5000c500a1b2c3d4");
}

static void test_match_disks(void) {
        g_autoptr(GPtrArray) disks = disk_sample();
        g_autofree char *sda = disk_best(disks, 0, NULL);
        g_autofree char *sdb = disk_best(disks, 1, NULL);
        g_autoptr(GError) error = NULL;
        g_autoptr(DeviceMatch) by_serial = device_match_parse("disk:serial=DUP", NULL);
        g_autoptr(DeviceMatch) by_link = device_match_parse("disk:by-id=ata-X_S1", NULL);
        g_autoptr(DeviceMatch) usb_match = device_match_parse("usb:serial=S1", NULL);

        g_assert_cmpstr(sda, ==, "disk:wwn=0x5000c500a1b2c3d4");
        g_assert_cmpstr(sdb, ==, "disk:by-id=usb-Stick_DUP-0:0");   /* its serial is not unique */
        g_assert_null(disk_best(disks, 3, &error));
        g_assert_error(error, PT_ERROR, PT_ERROR_INVALID_ARGUMENT);
        g_assert_nonnull(strstr(error->message, "/dev/loop0 has no stable name"));
        g_clear_error(&error);

        g_assert_true(device_match_find_disk(by_link, disks, NULL) == disks->pdata[0]);
        g_assert_null(device_match_find_disk(by_serial, disks, &error));
        g_assert_error(error, PT_ERROR, PT_ERROR_AMBIGUOUS_DEVICE);
        g_assert_false(device_match_disk(usb_match, disks->pdata[0]));
}

/* ---- the state file ---- */

static GPtrArray *sample_assignments(guint n) {
        GPtrArray *list = assignments_new();
        const char *matches[] = { "usb:serial='/><x#;=[]\\,id=46f4:0001", "usb:port=1-2.3", "disk:wwn=t10.ATA X" };

        for (guint i = 0; i < n; i++) {
                g_autofree char *text = i < G_N_ELEMENTS(matches) ? g_strdup(matches[i])
                                                                  : g_strdup_printf("usb:serial=SN-%05u", i);
                g_autoptr(DeviceMatch) match = device_match_parse(text, NULL);

                g_assert_nonnull(match);
                g_ptr_array_add(list, assignment_new(match, i % 2 ? "vm [two]" : "debian",
                                                     i % 2 ? "" : "8f1c5d2e-1d5a-4c1b-9f6e-2b7f3c9d0a11"));
        }
        return list;
}

static void assert_same(GPtrArray *a, GPtrArray *b) {
        g_assert_cmpuint(a->len, ==, b->len);
        for (guint i = 0; i < a->len; i++) {
                const Assignment *x = a->pdata[i], *y = b->pdata[i];
                g_autofree char *mx = device_match_to_string(x->match);
                g_autofree char *my = device_match_to_string(y->match);

                g_assert_cmpstr(mx, ==, my);
                g_assert_cmpstr(x->domain, ==, y->domain);
                g_assert_cmpstr(x->uuid, ==, y->uuid);
        }
}

static void test_store_round_trip(void) {
        g_autoptr(GPtrArray) list = sample_assignments(5);
        gsize length = 0;
        g_autofree char *text = assign_store_serialise(list, &length);
        g_autoptr(GError) error = NULL;
        g_autoptr(GPtrArray) back = assign_store_parse(text, length, &error);

        g_assert_no_error(error);
        assert_same(list, back);
        g_assert_cmpint(assignments_find(back, "usb:port=1-2.3"), ==, 1);
        g_assert_cmpint(assignments_find(back, "usb:port=1-2.4"), ==, -1);
        g_ptr_array_set_size(list, 0);
        g_free(text);
        text = assign_store_serialise(list, &length);
        g_clear_pointer(&back, g_ptr_array_unref);
        back = assign_store_parse(text, length, &error);
        g_assert_no_error(error);
        g_assert_cmpuint(back->len, ==, 0);
}

static void test_assignments_holds(void) {
        g_autoptr(GPtrArray) list = sample_assignments(3);
        g_autoptr(DeviceMatch) other = device_match_parse("usb:port=9-9", NULL);
        g_autoptr(Assignment) same = assignment_copy(list->pdata[1]);
        g_autoptr(Assignment) renamed = assignment_new(same->match, "elsewhere", same->uuid);
        g_autoptr(Assignment) moved = assignment_new(((Assignment *) list->pdata[0])->match, "debian", "");
        g_autoptr(Assignment) absent = assignment_new(other, "debian", "");

        g_assert_true(assignments_holds(list, same));
        g_assert_false(assignments_holds(list, renamed));
        g_assert_false(assignments_holds(list, moved));
        g_assert_false(assignments_holds(list, absent));
        g_ptr_array_remove_index(list, 1);
        g_assert_false(assignments_holds(list, same));
}

static void test_store_parse_errors(void) {
        const char *header = "[passthroughd]\nversion=1\n";
        const char *bad[] = {
                "", "garbage", "[passthroughd]\nversion=2\n", "[assignment 1]\nmatch=usb:port=1-2\ndomain=vm\n",
                "%s[assignment 1]\nmatch=usb:port=1-2\ndomain=vm\n\xff\xfe\n",
        };

        for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
                g_auto(GStrv) parts = g_strsplit(bad[i], "%s", 2);
                g_autofree char *text = g_strjoinv(header, parts);
                g_autoptr(GError) error = NULL;
                g_autoptr(GPtrArray) list = assign_store_parse(text, strlen(text), &error);

                g_assert_null(list);
                g_assert_nonnull(error);
        }
}

/* A bad group is left out (with a warning); the good ones are kept. */
static void test_store_bad_group_skipped(void) {
        const char *bad[] = {
                "[assignment 9]\nmatch=usb:bus=1\ndomain=vm\n", "[assignment 9]\ndomain=vm\n",
                "[assignment 9]\nmatch=usb:port=9-9\n", "[assignment 9]\nmatch=usb:port=9-9\ndomain=\n",
                "[assignment 9]\nmatch=usb:port=9-9\ndomain=vm\nuuid=nope\n",
                "[assignment 9]\nmatch=usb:port=9-9\ndomain=v\\tm\n",
                "[assignment 9]\nmatch=usb:port=1-2\ndomain=vm2\n", "[something]\nx=1\n",
        };

        for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
                g_autofree char *text = g_strconcat("[passthroughd]\nversion=1\n[assignment 1]\nmatch=usb:port=1-2\n"
                                                    "domain=vm\n", bad[i], NULL);
                g_autoptr(GError) error = NULL;
                g_autoptr(GPtrArray) list = NULL;

                g_test_expect_message(G_LOG_DOMAIN, G_LOG_LEVEL_WARNING,
                                      "Assignments: ignoring the group at line 6 of the state file: *");
                list = assign_store_parse(text, strlen(text), &error);
                g_test_assert_expected_messages();
                g_assert_no_error(error);
                g_assert_cmpuint(list->len, ==, 1);
                g_assert_cmpstr(((Assignment *) list->pdata[0])->domain, ==, "vm");
        }
}

static char *temp_dir(void) {
        g_autoptr(GError) error = NULL;
        char *dir = g_dir_make_tmp("pt-assign-XXXXXX", &error);

        g_assert_no_error(error);
        return dir;
}

static guint count_entries(const char *dir, const char *prefix) {
        g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
        const char *name;
        guint n = 0;

        while (d && (name = g_dir_read_name(d)))
                if (g_str_has_prefix(name, prefix))
                        n++;
        return n;
}

static void remove_tree(const char *dir) {
        g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", dir);

        g_assert_cmpint(system(cmd), ==, 0);
}

#define SECRET "hunter2-SECRET"

static void capture(const char *domain, GLogLevelFlags level, const char *message, gpointer data) {
        g_string_append_printf(data, "%s\n", message);
}

/* Parse `text`; the warnings logged meanwhile go into `warnings`. */
static GPtrArray *parse_capturing(const char *text, GString *warnings, GError **error) {
        GLogLevelFlags fatal = g_log_set_always_fatal(G_LOG_FATAL_MASK);
        guint id = g_log_set_handler(NULL, G_LOG_LEVEL_WARNING, capture, warnings);
        GPtrArray *list = assign_store_parse(text, strlen(text), error);

        g_log_remove_handler(NULL, id);
        g_log_set_always_fatal(fatal);
        return list;
}

/* What is wrong is said by line number; the file's text is never quoted
 * (GLib's messages quote the offending line). */
static void test_store_errors_name_lines(void) {
        static const struct {
                const char *text;
                const char *said;   /* in the error, or in the warning when the file loads */
        } cases[] = {
                { "[passthroughd]\nversion=1\n[assignment 1]\nmatch=usb:port=1-2\ndomain=vm\n" SECRET "\n",
                  "line 6: not a key file line" },
                { "[passthroughd]\r\nversion=1\r\n\r\n# " SECRET "\r\n" SECRET " here\r\n[assignment 1]\r\n",
                  "line 5: not a key file line" },
                { "# comment\n" SECRET "=1\n[passthroughd]\nversion=1\n", "line 2: a key before the first group" },
                { "[passthroughd]\nversion=1\n" SECRET "[=x\n", "line 3: not a key file line" },
                { "[passthroughd]\nversion=1\n[" SECRET "\n", "line 3: not a key file line" },
                { "# GLib checks the first group's encoding\n[Desktop Entry]\nEncoding=" SECRET "\n",
                  "line 3: an encoding other than UTF-8" },
                { "[passthroughd]\nversion=1\nx=\xff" SECRET "\n\xff" SECRET, "line 4: not a key file line" },
                { "[passthroughd]\nversion=" SECRET "\n", "[passthroughd] version is not a number" },
                { "[passthroughd]\nversion=1\n\n  [" SECRET "]  \nx=1\n",
                  "ignoring the group at line 4 of the state file: not an [assignment N] group" },
                { "[passthroughd]\nversion=1\n[assignment " SECRET "]\nmatch=usb:port=1-2\ndomain=" SECRET "\x01\n",
                  "ignoring the group at line 3 of the state file: The domain name contains control characters" },
                { "[passthroughd]\nversion=1\n[assignment 1]\nmatch=usb:serial=\xff" SECRET "\ndomain=vm\n",
                  "ignoring the group at line 3 of the state file: match is not a valid string" },
                { "[passthroughd]\nversion=1\n[assignment 1]\nmatch=usb:bus=" SECRET "\ndomain=vm\n",
                  "ignoring the group at line 3 of the state file: Invalid assignment match: unknown form" },
        };

        for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autoptr(GString) warnings = g_string_new(NULL);
                g_autoptr(GError) error = NULL;
                g_autoptr(GPtrArray) list = parse_capturing(cases[i].text, warnings, &error);
                const char *said = error ? error->message : warnings->str;

                g_test_message("case %u: %s", i, said);
                g_assert_true((list == NULL) == (error != NULL));
                g_assert_nonnull(strstr(said, cases[i].said));
                g_assert_null(strstr(said, "SECRET"));
                g_assert_null(strstr(warnings->str, "SECRET"));
        }
}

/* The service's log line about a corrupt file names the line, not its text. */
static void test_store_corrupt_line_logged(void) {
        g_autofree char *dir = temp_dir();
        g_autofree char *path = g_build_filename(dir, ASSIGN_STORE_FILE, NULL);
        g_autoptr(GString) warnings = g_string_new(NULL);
        GLogLevelFlags fatal = g_log_set_always_fatal(G_LOG_FATAL_MASK);
        guint id = g_log_set_handler(NULL, G_LOG_LEVEL_WARNING, capture, warnings);

        g_assert_true(g_file_set_contents(path, "[passthroughd]\nversion=1\n\n" SECRET "\n", -1, NULL));
        assign_store_free(assign_store_open(dir));
        g_log_remove_handler(NULL, id);
        g_log_set_always_fatal(fatal);
        g_test_message("%s", warnings->str);
        g_assert_nonnull(strstr(warnings->str, "is corrupt (line 4: not a key file line)"));
        g_assert_null(strstr(warnings->str, "SECRET"));
        remove_tree(dir);
}

static void test_store_open_and_replace(void) {
        g_autofree char *dir = temp_dir();
        g_autofree char *state = g_build_filename(dir, "state", NULL);
        g_autoptr(GError) error = NULL;
        AssignStore *store = assign_store_open(state);   /* no directory yet: no assignments */
        g_autofree char *text = NULL;
        struct stat st;

        g_assert_cmpuint(assign_store_get(store)->len, ==, 0);
        g_assert_true(assign_store_replace(store, sample_assignments(3), &error));
        g_assert_no_error(error);
        g_assert_cmpint(g_stat(assign_store_path(store), &st), ==, 0);
        g_assert_cmpint(st.st_mode & 0777, ==, 0600);
        g_assert_cmpint(g_stat(state, &st), ==, 0);
        g_assert_cmpint(st.st_mode & 0777, ==, 0700);
        assign_store_free(store);

        store = assign_store_open(state);
        {
                g_autoptr(GPtrArray) expected = sample_assignments(3);

                assert_same(expected, assign_store_get(store));
        }
        assign_store_free(store);
        g_assert_cmpuint(count_entries(state, "assignments.conf"), ==, 1);   /* no temporary files left */
        remove_tree(dir);
}

static void test_store_corrupt_is_set_aside(void) {
        g_autofree char *dir = temp_dir();
        g_autofree char *path = g_build_filename(dir, ASSIGN_STORE_FILE, NULL);
        g_autoptr(GError) error = NULL;
        AssignStore *store;

        g_assert_true(g_file_set_contents(path, "[passthroughd]\nversion=7\n[assignment 1]\nmatch=bogus\n", -1, NULL));
        g_test_expect_message(G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "*is corrupt*kept as*corrupt-*");
        store = assign_store_open(dir);
        g_test_assert_expected_messages();
        g_assert_cmpuint(assign_store_get(store)->len, ==, 0);
        g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
        g_assert_cmpuint(count_entries(dir, ASSIGN_STORE_FILE ".corrupt-"), ==, 1);
        /* The service goes on: a new file is written next to the kept one. */
        g_assert_true(assign_store_replace(store, sample_assignments(1), &error));
        g_assert_no_error(error);
        assign_store_free(store);

        /* A second corrupt file in the same second gets its own name. */
        g_assert_true(g_file_set_contents(path, "\x01\x02", -1, NULL));
        g_test_expect_message(G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "*is corrupt*");
        assign_store_free(assign_store_open(dir));
        g_test_assert_expected_messages();
        g_assert_cmpuint(count_entries(dir, ASSIGN_STORE_FILE ".corrupt-"), ==, 2);
        remove_tree(dir);
}

static void test_store_unreadable_is_set_aside(void) {
        g_autofree char *dir = temp_dir();
        g_autofree char *path = g_build_filename(dir, ASSIGN_STORE_FILE, NULL);
        AssignStore *store;

        g_assert_cmpint(g_mkdir(path, 0700), ==, 0);   /* read() fails: EISDIR */
        g_test_expect_message(G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "*cannot be read*kept as*");
        store = assign_store_open(dir);
        g_test_assert_expected_messages();
        g_assert_cmpuint(assign_store_get(store)->len, ==, 0);
        g_assert_cmpuint(count_entries(dir, ASSIGN_STORE_FILE ".corrupt-"), ==, 1);
        assign_store_free(store);
        remove_tree(dir);
}

/* A hand-written state file of `n` assignments, as an old service or an
 * administrator may have left it (groups numbered freely). */
static char *big_state_text(guint n) {
        GString *text = g_string_new("[passthroughd]\nversion=1\n");

        for (guint i = 0; i < n; i++)
                g_string_append_printf(text, "\n[assignment %u]\nmatch=usb:serial=SN-%06u\ndomain=vm%u\n", i * 3 + 1,
                                       i, i % 7);
        return g_string_free(text, FALSE);
}

/* Loading is linear: 20,000 entries all load, and the file is kept. */
static void test_store_big_file(void) {
        const guint n = 20000;
        g_autofree char *dir = temp_dir();
        g_autofree char *path = g_build_filename(dir, ASSIGN_STORE_FILE, NULL);
        g_autofree char *text = big_state_text(n);
        g_autofree char *last_domain = g_strdup_printf("vm%u", (n - 1) % 7);
        AssignStore *store;
        gint64 start;
        GPtrArray *list;

        g_assert_true(g_file_set_contents(path, text, -1, NULL));
        start = g_get_monotonic_time();
        store = assign_store_open(dir);
        g_test_message("%u assignments loaded in %.1f ms", n, (g_get_monotonic_time() - start) / 1000.0);
        list = assign_store_get(store);
        g_assert_cmpuint(list->len, ==, n);
        g_assert_cmpint(assignments_find(list, "usb:serial=SN-019999"), ==, (gint) n - 1);
        g_assert_cmpstr(((Assignment *) list->pdata[n - 1])->domain, ==, last_domain);
        g_assert_true(g_file_test(path, G_FILE_TEST_IS_REGULAR));
        g_assert_cmpuint(count_entries(dir, ASSIGN_STORE_FILE ".corrupt-"), ==, 0);
        assign_store_free(store);
        remove_tree(dir);
}

/* Assign's cap: room below ASSIGN_STORE_MAX, LimitExceeded from there on. */
static void test_store_cap(void) {
        g_autoptr(GPtrArray) list = sample_assignments(ASSIGN_STORE_MAX - 1);
        g_autoptr(GError) error = NULL;

        g_assert_cmpuint(ASSIGN_STORE_MAX, ==, 4096);
        g_assert_true(assignments_room(list, &error));
        g_assert_no_error(error);
        g_ptr_array_add(list, assignment_copy(list->pdata[3]));
        g_assert_false(assignments_room(list, &error));
        g_assert_error(error, PT_ERROR, PT_ERROR_LIMIT_EXCEEDED);
        g_assert_nonnull(strstr(error->message, "4096"));
        g_clear_error(&error);
        g_ptr_array_add(list, assignment_copy(list->pdata[4]));
        g_assert_false(assignments_room(list, &error));
        g_assert_error(error, PT_ERROR, PT_ERROR_LIMIT_EXCEEDED);
        g_assert_cmpuint(list->len, ==, ASSIGN_STORE_MAX + 1);   /* the check changes nothing */
}

static void assert_file_is(const char *path, const char *expected) {
        g_autofree char *text = NULL;

        g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
        g_assert_cmpstr(text, ==, expected);
}

/* A write that fails half-way (the file size limit) leaves the old file. */
static void test_store_failed_write_keeps_old_file(void) {
        g_autofree char *dir = temp_dir();
        g_autoptr(GError) error = NULL;
        AssignStore *store = assign_store_open(dir);
        g_autofree char *old = NULL;
        struct rlimit saved, small;

        g_assert_true(assign_store_replace(store, sample_assignments(2), &error));
        g_assert_true(g_file_get_contents(assign_store_path(store), &old, NULL, NULL));
        g_assert_cmpint(getrlimit(RLIMIT_FSIZE, &saved), ==, 0);
        small = saved;
        small.rlim_cur = 4096;
        signal(SIGXFSZ, SIG_IGN);
        g_assert_cmpint(setrlimit(RLIMIT_FSIZE, &small), ==, 0);
        g_assert_false(assign_store_replace(store, sample_assignments(500), &error));
        g_assert_cmpint(setrlimit(RLIMIT_FSIZE, &saved), ==, 0);
        g_assert_nonnull(error);
        g_assert_nonnull(strstr(error->message, "Cannot save the assignments"));
        assert_file_is(assign_store_path(store), old);
        g_assert_cmpuint(assign_store_get(store)->len, ==, 2);   /* the current ones stay */
        g_assert_cmpuint(count_entries(dir, ""), ==, 1);         /* no temporary file left */
        assign_store_free(store);
        remove_tree(dir);
}

static void test_store_read_only_dir(void) {
        g_autofree char *dir = temp_dir();
        g_autoptr(GError) error = NULL;
        AssignStore *store = assign_store_open(dir);
        g_autofree char *old = NULL;

        if (geteuid() == 0) {
                g_test_skip("root writes to read-only directories (the size limit case covers this)");
                assign_store_free(store);
                remove_tree(dir);
                return;
        }
        g_assert_true(assign_store_replace(store, sample_assignments(2), &error));
        g_assert_true(g_file_get_contents(assign_store_path(store), &old, NULL, NULL));
        g_assert_cmpint(g_chmod(dir, 0500), ==, 0);
        g_assert_false(assign_store_replace(store, sample_assignments(3), &error));
        g_assert_nonnull(error);
        assert_file_is(assign_store_path(store), old);
        g_assert_cmpint(g_chmod(dir, 0700), ==, 0);
        assign_store_free(store);
        remove_tree(dir);
}

static void test_store_default_dir(void) {
        g_autofree char *plain = NULL;
        g_autofree char *first = NULL;

        g_setenv("STATE_DIRECTORY", "/var/lib/passthrough", TRUE);
        plain = assign_store_default_dir();
        g_setenv("STATE_DIRECTORY", "/var/lib/a:/var/lib/b", TRUE);
        first = assign_store_default_dir();
        g_unsetenv("STATE_DIRECTORY");
        g_assert_cmpstr(plain, ==, "/var/lib/passthrough");
        g_assert_cmpstr(first, ==, "/var/lib/a");
        g_free(plain);
        plain = assign_store_default_dir();
        g_assert_cmpstr(plain, ==, LOCALSTATEDIR "/lib/passthrough");
}

/* ---- the pace of automatic attaches (a fake clock) ---- */

#define SEC G_USEC_PER_SEC

static gboolean take(AttachWindow *window, gint64 now, gboolean expect_first) {
        gboolean first = !expect_first;
        gboolean allowed = attach_window_take(window, now, &first);

        g_assert_cmpint(first, ==, expect_first);
        return allowed;
}

/* A device re-enumerating every second: 5 attaches, then one report and a
 * wait until the first of them is a minute old. */
static void test_pace_back_off(void) {
        AttachWindow window = { 0 };
        const gint64 t0 = 1000 * SEC;

        g_assert_true(attach_window_idle(&window, t0));
        g_assert_cmpint(attach_window_next(&window), ==, 0);
        for (guint i = 0; i < AUTOATTACH_BURST; i++)
                g_assert_true(take(&window, t0 + i * SEC, FALSE));
        g_assert_cmpint(attach_window_next(&window), ==, t0 + 60 * SEC);
        g_assert_false(take(&window, t0 + 5 * SEC, TRUE));     /* reported once... */
        g_assert_false(take(&window, t0 + 6 * SEC, FALSE));    /* ...not again */
        g_assert_false(take(&window, t0 + 60 * SEC - 1, FALSE));
        g_assert_false(attach_window_idle(&window, t0 + 60 * SEC - 1));
        g_assert_true(take(&window, t0 + 60 * SEC, FALSE));    /* the first one is a minute old */
        g_assert_cmpint(attach_window_next(&window), ==, t0 + 61 * SEC);
        g_assert_false(take(&window, t0 + 60 * SEC + 1, TRUE));   /* a new back-off: reported again */
        g_assert_true(take(&window, t0 + 61 * SEC, FALSE));
        g_assert_false(attach_window_idle(&window, t0 + 120 * SEC));
        g_assert_true(attach_window_idle(&window, t0 + 121 * SEC));
        g_assert_true(take(&window, t0 + 200 * SEC, FALSE));
}

/* Tries every 100 ms for ten minutes: never more than 5 in any minute, and
 * the full 5 a minute get through. */
static void test_pace_any_minute(void) {
        AttachWindow window = { 0 };
        g_autoptr(GArray) allowed = g_array_new(FALSE, FALSE, sizeof(gint64));
        guint reports = 0;

        for (gint64 now = SEC; now < 601 * SEC; now += SEC / 10) {
                gboolean first = FALSE;

                if (attach_window_take(&window, now, &first))
                        g_array_append_val(allowed, now);
                reports += first;
        }
        g_assert_cmpuint(allowed->len, ==, 10 * AUTOATTACH_BURST);
        g_assert_cmpuint(reports, ==, 10);
        for (guint i = AUTOATTACH_BURST; i < allowed->len; i++) {
                gint64 t = g_array_index(allowed, gint64, i);

                g_assert_cmpint(t - g_array_index(allowed, gint64, i - AUTOATTACH_BURST), >=, AUTOATTACH_WINDOW);
        }
}

/* ---- the XML a dry run shows ---- */

static void test_dry_run_xml(void) {
        g_autoptr(GPtrArray) devices = usb_sample();
        g_autofree char *xml = usb_hostdev_xml(fixture_usb_at(devices, "1-1.2"));
        g_autoptr(DomainXml) parsed = NULL;
        g_autofree char *wrapped = NULL;
        g_autofree char *again = NULL;
        const DomainUsbHostdev *h;

        g_assert_nonnull(xml);
        g_assert_nonnull(strstr(xml, "<vendor id=\"0x46f4\"/>"));
        g_assert_nonnull(strstr(xml, "<product id=\"0x0001\"/>"));
        g_assert_nonnull(strstr(xml, "<address bus=\"1\" device=\"4\"/>"));
        g_assert_nonnull(strstr(xml, "<alias name=\"ua-pt-usb-1-1_2\"/>"));
        wrapped = g_strdup_printf("<domain><name>d</name><uuid>8f1c5d2e-1d5a-4c1b-9f6e-2b7f3c9d0a11</uuid>"
                                  "<devices>%s</devices></domain>", xml);
        parsed = devxml_parse_domain(wrapped, NULL);
        g_assert_nonnull(parsed);
        g_assert_cmpuint(parsed->usb_hostdevs->len, ==, 1);
        h = parsed->usb_hostdevs->pdata[0];
        again = usb_hostdev_xml_from_domain(h);
        g_assert_cmpstr(again, ==, xml);
}

/* ---- per-domain libvirt URIs in the configuration file ---- */

static gboolean load_config(const char *text, ServiceConfig *config, GError **error) {
        g_autofree char *dir = temp_dir();
        g_autofree char *path = g_build_filename(dir, "passthrough.conf", NULL);
        gboolean ok;

        g_assert_true(g_file_set_contents(path, text, -1, NULL));
        ok = service_config_load(path, config, error);
        remove_tree(dir);
        return ok;
}

static void test_config_domain_uris(void) {
        ServiceConfig config = { 0 };
        g_autoptr(GError) error = NULL;
        const char *bad[] = {
                "[domain ]\nuri=qemu:///session\n", "[domain work]\n", "[domain work]\nuri=  \n",
                "[domain w\x01]\nuri=qemu:///session\n",
        };

        g_assert_true(load_config("[libvirt]\nuri=qemu:///system\n[domain work]\nuri=qemu:///session\n"
                                  "[domain other vm]\nuri= test:///default \n", &config, &error));
        g_assert_no_error(error);
        g_assert_cmpstr(config.libvirt_uri, ==, "qemu:///system");
        g_assert_cmpuint(g_hash_table_size(config.domain_uris), ==, 2);
        g_assert_cmpstr(g_hash_table_lookup(config.domain_uris, "work"), ==, "qemu:///session");
        g_assert_cmpstr(g_hash_table_lookup(config.domain_uris, "other vm"), ==, "test:///default");
        service_config_clear(&config);
        g_assert_true(load_config("[libvirt]\n", &config, NULL));
        g_assert_null(config.domain_uris);
        for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
                g_autoptr(GError) local = NULL;

                g_assert_false(load_config(bad[i], &config, &local));
                g_assert_nonnull(local);
                service_config_clear(&config);
        }
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/assign/match/forms", test_match_forms);
        g_test_add_func("/assign/match/canonical", test_match_canonical);
        g_test_add_func("/assign/match/hostile", test_match_hostile);
        g_test_add_func("/assign/match/usb", test_match_usb);
        g_test_add_func("/assign/match/best-usb", test_best_usb_match);
        g_test_add_func("/assign/match/disks", test_match_disks);
        g_test_add_func("/assign/match/wwn-case", test_match_wwn_case);
        g_test_add_func("/assign/store/round-trip", test_store_round_trip);
        g_test_add_func("/assign/store/holds", test_assignments_holds);
        g_test_add_func("/assign/store/parse-errors", test_store_parse_errors);
        g_test_add_func("/assign/store/bad-group-skipped", test_store_bad_group_skipped);
        g_test_add_func("/assign/store/errors-name-lines", test_store_errors_name_lines);
        g_test_add_func("/assign/store/corrupt-line-logged", test_store_corrupt_line_logged);
        g_test_add_func("/assign/store/open-and-replace", test_store_open_and_replace);
        g_test_add_func("/assign/store/corrupt-set-aside", test_store_corrupt_is_set_aside);
        g_test_add_func("/assign/store/unreadable-set-aside", test_store_unreadable_is_set_aside);
        g_test_add_func("/assign/store/big-file", test_store_big_file);
        g_test_add_func("/assign/store/cap", test_store_cap);
        g_test_add_func("/assign/store/failed-write-keeps-old", test_store_failed_write_keeps_old_file);
        g_test_add_func("/assign/store/read-only-dir", test_store_read_only_dir);
        g_test_add_func("/assign/store/default-dir", test_store_default_dir);
        g_test_add_func("/assign/pace/back-off", test_pace_back_off);
        g_test_add_func("/assign/pace/any-minute", test_pace_any_minute);
        g_test_add_func("/assign/xml/dry-run-hostdev", test_dry_run_xml);
        g_test_add_func("/assign/config/domain-uris", test_config_domain_uris);
        return g_test_run();
}

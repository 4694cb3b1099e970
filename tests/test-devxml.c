/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests for service/devxml.c: building disk XML, parsing live domain XML,
 * target allocation. */
#include "config.h"

#include <string.h>

#include "devxml.h"
#include "errors.h"

#define DISK_HEAD "<disk type=\"block\" device=\"disk\">" \
        "<driver name=\"qemu\" type=\"raw\" cache=\"none\" io=\"native\"/>"

static char *read_fixture(const char *name) {
        g_autofree char *path = g_test_build_filename(G_TEST_DIST, "fixtures", name, NULL);
        g_autoptr(GError) error = NULL;
        char *text = NULL;

        g_file_get_contents(path, &text, NULL, &error);
        g_assert_no_error(error);
        return text;
}

/* Wrap built disk XML (already escaped by libxml2) in a domain, as libvirt
 * would show it once attached. */
static DomainXml *parse_wrapped(const char *disk_xml) {
        g_autofree char *xml = g_strdup_printf("<domain type='kvm'><name>t</name><devices>%s</devices></domain>",
                                               disk_xml);
        g_autoptr(GError) error = NULL;
        DomainXml *dom = devxml_parse_domain(xml, &error);

        g_assert_no_error(error);
        g_assert_nonnull(dom);
        return dom;
}

static void hand_made_disk_free(gpointer p) {
        DomainDisk *d = p;

        g_free(d->type);
        g_free(d->device);
        g_free(d->target);
        g_free(d->bus);
        g_free(d);
}

/* A domain with the given disk targets (bus virtio unless "name:bus"). */
static DomainXml *domain_with_targets(const char *const *targets) {
        DomainXml *dom = g_new0(DomainXml, 1);

        dom->name = g_strdup("t");
        dom->disks = g_ptr_array_new_with_free_func(hand_made_disk_free);
        dom->usb_hostdevs = g_ptr_array_new();
        for (; targets && *targets; targets++) {
                DomainDisk *d = g_new0(DomainDisk, 1);
                g_auto(GStrv) parts = g_strsplit(*targets, ":", 2);

                d->type = g_strdup("block");
                d->device = g_strdup("disk");
                d->target = g_strdup(parts[0]);
                d->bus = g_strdup(parts[1] ? parts[1] : "virtio");
                g_ptr_array_add(dom->disks, d);
        }
        return dom;
}

/* ---- building ---------------------------------------------------------------- */

static void test_build_minimal(void) {
        DiskXmlSpec spec = { .source = "/dev/sdb", .target = "vdb" };
        g_autofree char *xml = devxml_build_disk(&spec);

        g_assert_cmpstr(xml, ==,
                        DISK_HEAD
                        "<source dev=\"/dev/sdb\"/>"
                        "<target dev=\"vdb\" bus=\"virtio\"/>"
                        "</disk>");
        g_assert_null(strstr(xml, "<?xml"));
}

static void test_build_full(void) {
        DiskXmlSpec spec = {
                .source = "/dev/disk/by-id/wwn-0x5000c500a1b2c3d4",
                .target = "vdaa",
                .serial = "Backup_1.2+x-y",
                .alias = "ua-pt-sdb",
                .readonly = TRUE,
        };
        g_autofree char *xml = devxml_build_disk(&spec);
        g_autoptr(DomainXml) dom = NULL;
        const DomainDisk *d;

        g_assert_cmpstr(xml, ==,
                        DISK_HEAD
                        "<source dev=\"/dev/disk/by-id/wwn-0x5000c500a1b2c3d4\"/>"
                        "<target dev=\"vdaa\" bus=\"virtio\"/>"
                        "<readonly/>"
                        "<serial>Backup_1.2+x-y</serial>"
                        "<alias name=\"ua-pt-sdb\"/>"
                        "</disk>");

        dom = parse_wrapped(xml);
        g_assert_cmpuint(dom->disks->len, ==, 1);
        d = g_ptr_array_index(dom->disks, 0);
        g_assert_cmpstr(d->type, ==, "block");
        g_assert_cmpstr(d->device, ==, "disk");
        g_assert_cmpstr(d->source, ==, spec.source);
        g_assert_cmpstr(d->target, ==, "vdaa");
        g_assert_cmpstr(d->bus, ==, "virtio");
        g_assert_cmpstr(d->serial, ==, spec.serial);
        g_assert_cmpstr(d->alias, ==, spec.alias);
}

static guint count_char(const char *s, char c) {
        guint n = 0;

        for (; *s; s++)
                if (*s == c)
                        n++;
        return n;
}

static void test_build_hostile_source(void) {
        static const char *const sources[] = {
                "/dev/disk/by-id/a\"b",
                "/dev/disk/by-id/a'b",
                "/dev/disk/by-id/<x>",
                "/dev/disk/by-id/a&b",
                "/dev/disk/by-id/&amp;",
                "/dev/disk/by-id/&#60;",
                "/dev/sdb'/><x",
                "/dev/sdb\"/><source dev=\"/etc/shadow",
                "/dev/sdb\"/></disk><disk type=\"file\"><source file=\"/etc/shadow\"/>",
                "/dev/sdb]]><!--",
                "/dev/disk/by-id/usb-\xc3\xbc\xe2\x82\xac-0:0",
                "/dev/a b\tc\nd\re",
                "/dev/disk/by-label/%s%n${x}$(id)`id`",
        };

        for (size_t i = 0; i < G_N_ELEMENTS(sources); i++) {
                DiskXmlSpec spec = { .source = sources[i], .target = "vdc", .serial = "s1" };
                g_autofree char *xml = devxml_build_disk(&spec);
                g_autoptr(DomainXml) dom = NULL;
                const DomainDisk *d;

                g_test_message("source %zu: %s", i, sources[i]);
                g_assert_nonnull(xml);
                /* The source attribute cannot end early or open markup. */
                g_assert_true(g_str_has_prefix(xml, DISK_HEAD "<source dev=\""));
                g_assert_true(g_str_has_suffix(xml, "\"/><target dev=\"vdc\" bus=\"virtio\"/><serial>s1</serial></disk>"));
                /* Exactly the markup we made: 7 '<' and 18 '"', whatever
                 * the source holds. */
                g_assert_cmpuint(count_char(xml, '<'), ==, 7);
                g_assert_cmpuint(count_char(xml, '"'), ==, 18);
                g_assert_null(strstr(xml, "<x"));
                if (strchr(sources[i], '<'))
                        g_assert_nonnull(strstr(xml, "&lt;"));
                if (strchr(sources[i], '&'))
                        g_assert_nonnull(strstr(xml, "&amp;"));
                if (strchr(sources[i], '"'))
                        g_assert_nonnull(strstr(xml, "&quot;"));

                dom = parse_wrapped(xml);
                g_assert_cmpuint(dom->disks->len, ==, 1);
                d = g_ptr_array_index(dom->disks, 0);
                g_assert_cmpstr(d->type, ==, "block");
                g_assert_cmpstr(d->source, ==, sources[i]);
                g_assert_cmpmem(d->source, strlen(d->source), sources[i], strlen(sources[i]));
                g_assert_cmpstr(d->target, ==, "vdc");
                g_assert_cmpstr(d->serial, ==, "s1");
                g_assert_null(d->alias);
                g_assert_true(domain_xml_find_disk(dom, sources[i]) == d);
        }
}

static void test_build_refuses(void) {
        static const DiskXmlSpec bad[] = {
                { .source = NULL, .target = "vdb" },
                { .source = "", .target = "vdb" },
                { .source = "/dev/sdb\x01", .target = "vdb" },
                { .source = "/dev/sd\xff", .target = "vdb" },
                { .source = "/dev/sdb", .target = NULL },
                { .source = "/dev/sdb", .target = "sdb" },
                { .source = "/dev/sdb", .target = "vdb'/><x" },
                { .source = "/dev/sdb", .target = "vdb", .serial = "" },
                { .source = "/dev/sdb", .target = "vdb", .serial = "a<b" },
                { .source = "/dev/sdb", .target = "vdb", .serial = "123456789012345678901" },
                { .source = "/dev/sdb", .target = "vdb", .alias = "pt-sdb" },
                { .source = "/dev/sdb", .target = "vdb", .alias = "ua-" },
                { .source = "/dev/sdb", .target = "vdb", .alias = "ua-a'b" },
        };

        for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
                g_autofree char *xml = devxml_build_disk(&bad[i]);

                g_test_message("spec %zu", i);
                g_assert_null(xml);
        }
}

/* ---- parsing ---------------------------------------------------------------- */

static void test_parse_running(void) {
        g_autofree char *xml = read_fixture("domain-running.xml");
        g_autoptr(GError) error = NULL;
        g_autoptr(DomainXml) dom = devxml_parse_domain(xml, &error);
        const DomainDisk *d;
        const DomainUsbHostdev *h;

        g_assert_no_error(error);
        g_assert_nonnull(dom);
        g_assert_cmpstr(dom->name, ==, "debian");
        g_assert_cmpstr(dom->uuid, ==, "6f1c0b5e-2d3a-4c8e-9a41-7b2d5e9f0c11");
        g_assert_cmpuint(dom->disks->len, ==, 5);

        /* qcow2 file with a backing chain: the top source, not the backing one. */
        d = g_ptr_array_index(dom->disks, 0);
        g_assert_cmpstr(d->type, ==, "file");
        g_assert_cmpstr(d->device, ==, "disk");
        g_assert_cmpstr(d->source, ==, "/var/lib/libvirt/images/debian.qcow2");
        g_assert_cmpstr(d->target, ==, "vda");
        g_assert_cmpstr(d->bus, ==, "virtio");
        g_assert_cmpstr(d->alias, ==, "virtio-disk0");
        g_assert_null(d->serial);

        /* Ours: entities in the fixture come back as the characters. */
        d = g_ptr_array_index(dom->disks, 1);
        g_assert_cmpstr(d->type, ==, "block");
        g_assert_cmpstr(d->source, ==, "/dev/disk/by-id/usb-SanDisk_Extreme_AA&B<1>-0:0");
        g_assert_cmpstr(d->target, ==, "vdb");
        g_assert_cmpstr(d->serial, ==, "backup.disk-1");
        g_assert_cmpstr(d->alias, ==, "ua-pt-backup");

        /* Network disk: no local source. */
        d = g_ptr_array_index(dom->disks, 2);
        g_assert_cmpstr(d->type, ==, "network");
        g_assert_null(d->source);
        g_assert_cmpstr(d->target, ==, "vdc");
        g_assert_cmpstr(d->alias, ==, "virtio-disk2");

        d = g_ptr_array_index(dom->disks, 3);
        g_assert_cmpstr(d->type, ==, "block");
        g_assert_cmpstr(d->source, ==, "/dev/sdc");
        g_assert_cmpstr(d->target, ==, "vde");

        d = g_ptr_array_index(dom->disks, 4);
        g_assert_cmpstr(d->type, ==, "file");
        g_assert_cmpstr(d->device, ==, "cdrom");
        g_assert_cmpstr(d->target, ==, "sda");
        g_assert_cmpstr(d->bus, ==, "sata");

        /* Two USB hostdevs; the PCI one is not listed. */
        g_assert_cmpuint(dom->usb_hostdevs->len, ==, 2);
        h = g_ptr_array_index(dom->usb_hostdevs, 0);
        g_assert_cmpstr(h->vendor, ==, "0x046d");
        g_assert_cmpstr(h->product, ==, "0xc52b");
        g_assert_cmpuint(h->bus, ==, 1);
        g_assert_cmpuint(h->device, ==, 5);
        g_assert_cmpstr(h->alias, ==, "ua-pt-usb-1-5");
        h = g_ptr_array_index(dom->usb_hostdevs, 1);
        g_assert_cmpstr(h->vendor, ==, "0x0781");
        g_assert_cmpstr(h->product, ==, "0x5583");
        g_assert_cmpuint(h->bus, ==, 0);
        g_assert_cmpuint(h->device, ==, 0);
        g_assert_cmpstr(h->alias, ==, "hostdev1");

        /* vda vdb vdc vde sda in use */
        {
                g_autofree char *next = devxml_next_target(dom);
                g_assert_cmpstr(next, ==, "vdd");
        }
}

static void test_parse_minimal(void) {
        g_autofree char *xml = read_fixture("domain-minimal.xml");
        g_autoptr(GError) error = NULL;
        g_autoptr(DomainXml) dom = devxml_parse_domain(xml, &error);
        g_autofree char *next = NULL;
        const DomainDisk *d;

        g_assert_no_error(error);
        g_assert_cmpstr(dom->name, ==, "tiny & \"quoted\"");
        g_assert_cmpuint(dom->disks->len, ==, 2);
        g_assert_cmpuint(dom->usb_hostdevs->len, ==, 0);
        d = g_ptr_array_index(dom->disks, 0);
        g_assert_cmpstr(d->type, ==, "volume");
        g_assert_null(d->source);
        d = g_ptr_array_index(dom->disks, 1);
        g_assert_cmpstr(d->device, ==, "lun");
        g_assert_cmpstr(d->bus, ==, "scsi");
        /* vdb is taken on the scsi bus: targets count whatever their bus. */
        next = devxml_next_target(dom);
        g_assert_cmpstr(next, ==, "vdc");
}

static void test_parse_no_devices(void) {
        g_autoptr(GError) error = NULL;
        g_autoptr(DomainXml) dom = devxml_parse_domain("<domain><name>x</name></domain>", &error);
        g_autofree char *next = NULL;

        g_assert_no_error(error);
        g_assert_cmpstr(dom->name, ==, "x");
        g_assert_null(dom->uuid);
        g_assert_cmpuint(dom->disks->len, ==, 0);
        g_assert_cmpuint(dom->usb_hostdevs->len, ==, 0);
        g_assert_null(domain_xml_find_disk(dom, "/dev/sdb"));
        next = devxml_next_target(dom);
        g_assert_cmpstr(next, ==, "vdb");
}

static void test_parse_invalid(void) {
        static const char *const bad[] = {
                "",
                "not xml at all",
                "<domain><name>x</name>",
                "<domain><name>x</nam></domain>",
                "<domain><devices><disk type='block'><source dev='/dev/a&b'/></disk></devices></domain>",
                "<network><name>default</name></network>",
                "<domain></domain><domain></domain>",
                /* Entities would need a DTD; refused outright. */
                "<!DOCTYPE domain [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;\">]>"
                "<domain><name>&b;</name></domain>",
                "<!DOCTYPE domain SYSTEM \"http://example.invalid/x.dtd\"><domain><name>x</name></domain>",
                "<!DOCTYPE domain [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><domain><name>&x;</name></domain>",
        };

        for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
                g_autoptr(GError) error = NULL;
                g_autoptr(DomainXml) dom = devxml_parse_domain(bad[i], &error);

                g_test_message("xml %zu: %s", i, bad[i]);
                g_assert_null(dom);
                g_assert_error(error, PT_ERROR, PT_ERROR_FAILED);
                g_assert_nonnull(error->message);
        }

        {
                g_autoptr(GError) error = NULL;
                g_autoptr(DomainXml) dom = devxml_parse_domain(NULL, &error);

                g_assert_null(dom);
                g_assert_error(error, PT_ERROR, PT_ERROR_FAILED);
        }
}

/* libxml2's messages quote the document (a tag name, say); the error goes
 * into a D-Bus reply, whose strings must be UTF-8, so the message is
 * valid UTF-8 even when the document is not. */
static void test_parse_invalid_utf8(void) {
        static const char *const bad[] = {
                "<\xff\xff\xff\xff",
                "<domain><name>x</name><\xc3\x28></domain>",
                "<domain><na\xe2\x82me>x</name></domain>",
        };

        for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
                g_autoptr(GError) error = NULL;
                g_autoptr(DomainXml) dom = devxml_parse_domain(bad[i], &error);

                g_assert_null(dom);
                g_assert_error(error, PT_ERROR, PT_ERROR_FAILED);
                g_test_message("xml %zu: %s", i, error->message);
                g_assert_true(g_utf8_validate(error->message, -1, NULL));
        }
}

static void test_find_disk(void) {
        g_autofree char *xml = read_fixture("domain-running.xml");
        g_autoptr(DomainXml) dom = devxml_parse_domain(xml, NULL);
        const DomainDisk *d;

        g_assert_nonnull(dom);
        d = domain_xml_find_disk(dom, "/dev/sdc");
        g_assert_nonnull(d);
        g_assert_cmpstr(d->target, ==, "vde");
        d = domain_xml_find_disk(dom, "/dev/disk/by-id/usb-SanDisk_Extreme_AA&B<1>-0:0");
        g_assert_nonnull(d);
        g_assert_cmpstr(d->target, ==, "vdb");
        /* A file source counts too. */
        d = domain_xml_find_disk(dom, "/var/lib/libvirt/images/debian.qcow2");
        g_assert_nonnull(d);
        g_assert_cmpstr(d->target, ==, "vda");
        /* The backing file is not the disk's source. */
        g_assert_null(domain_xml_find_disk(dom, "/var/lib/libvirt/images/debian-base.qcow2"));
        /* String equality: no prefix, no path normalisation. */
        g_assert_null(domain_xml_find_disk(dom, "/dev/sd"));
        g_assert_null(domain_xml_find_disk(dom, "/dev/sdc/"));
        g_assert_null(domain_xml_find_disk(dom, "/dev//sdc"));
        g_assert_null(domain_xml_find_disk(dom, "/dev/sdd"));
        /* The network disk has no source: NULL does not match it. */
        g_assert_null(domain_xml_find_disk(dom, NULL));
        g_assert_null(domain_xml_find_disk(dom, ""));
}

/* ---- target allocation ---------------------------------------------------------- */

static void check_next(const char *const *targets, const char *expected) {
        g_autoptr(DomainXml) dom = domain_with_targets(targets);
        g_autofree char *next = devxml_next_target(dom);

        g_assert_cmpstr(next, ==, expected);
        if (next)
                g_assert_true(devxml_target_valid(next));
}

static void test_next_target(void) {
        static const char *const none[] = { NULL };
        static const char *const vda[] = { "vda", NULL };
        static const char *const gap[] = { "vda", "vdb", "vdd", NULL };
        static const char *const gap_first[] = { "vdc", "vdd", NULL };
        static const char *const other_buses[] = { "sda:sata", "sdb:scsi", "hda:ide", "hdc:ide", NULL };
        static const char *const vd_on_scsi[] = { "vdb:scsi", "vdc:usb", NULL };

        check_next(none, "vdb");
        check_next(vda, "vdb");
        check_next(gap, "vdc");
        check_next(gap_first, "vdb");
        check_next(other_buses, "vdb");
        check_next(vd_on_scsi, "vdd");
}

static void test_next_target_two_letters(void) {
        g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(DomainXml) dom = NULL;
        g_autofree char *next = NULL;

        /* vda..vdz used -> vdaa */
        for (char c = 'a'; c <= 'z'; c++)
                g_ptr_array_add(names, g_strdup_printf("vd%c", c));
        g_ptr_array_add(names, NULL);
        check_next((const char *const *) names->pdata, "vdaa");

        /* ... plus vdaa vdab vdad -> vdac */
        g_ptr_array_remove_index(names, names->len - 1);
        g_ptr_array_add(names, g_strdup("vdaa"));
        g_ptr_array_add(names, g_strdup("vdab"));
        g_ptr_array_add(names, g_strdup("vdad"));
        g_ptr_array_add(names, NULL);
        check_next((const char *const *) names->pdata, "vdac");

        /* Everything from vdb to vdzz used (vda free: never offered) -> NULL */
        g_ptr_array_set_size(names, 0);
        for (char c = 'b'; c <= 'z'; c++)
                g_ptr_array_add(names, g_strdup_printf("vd%c", c));
        for (char a = 'a'; a <= 'z'; a++)
                for (char b = 'a'; b <= 'z'; b++)
                        g_ptr_array_add(names, g_strdup_printf("vd%c%c", a, b));
        g_ptr_array_add(names, NULL);
        check_next((const char *const *) names->pdata, NULL);

        /* Free only vdzz -> vdzz */
        g_ptr_array_remove_index(names, names->len - 1);
        g_ptr_array_remove_index(names, names->len - 1);
        g_ptr_array_add(names, NULL);
        dom = domain_with_targets((const char *const *) names->pdata);
        next = devxml_next_target(dom);
        g_assert_cmpstr(next, ==, "vdzz");
}

/* ---- validators ---------------------------------------------------------------- */

static void test_target_valid(void) {
        static const char *const good[] = { "vda", "vdb", "vdz", "vdaa", "vdzz", "vdqx" };
        static const char *const bad[] = {
                "", "vd", "vdA", "vdaaa", "sdb", "hda", "vd1", "vdb ", " vdb", "vdb\n",
                "Vdb", "xvdb", "vd-", "vd\xc3\xa4",
        };

        for (size_t i = 0; i < G_N_ELEMENTS(good); i++)
                g_assert_true(devxml_target_valid(good[i]));
        for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
                g_test_message("target '%s'", bad[i]);
                g_assert_false(devxml_target_valid(bad[i]));
        }
        g_assert_false(devxml_target_valid(NULL));
}

static void test_serial_valid(void) {
        static const char *const good[] = {
                "a", "Z", "0", "backup", "disk-1", "a.b_c+d-e", "12345678901234567890", "...",
        };
        static const char *const bad[] = {
                "", "123456789012345678901", "a b", "a/b", "a'b", "a\"b", "a<b", "a&b",
                "a\nb", "a\tb", "\xc3\xbc", "a:b", "a,b", "a=b", "a;b", "a\\b",
        };

        for (size_t i = 0; i < G_N_ELEMENTS(good); i++)
                g_assert_true(devxml_serial_valid(good[i]));
        for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
                g_test_message("serial '%s'", bad[i]);
                g_assert_false(devxml_serial_valid(bad[i]));
        }
        g_assert_false(devxml_serial_valid(NULL));
}

/* ---- TRIM, bus, LUN (issue 9) ---------------------------------------------------- */

#define DRIVER_DISCARD "<driver name=\"qemu\" type=\"raw\" cache=\"none\" io=\"native\" discard=\"unmap\"/>"

static void test_build_discard(void) {
        DiskXmlSpec on = { .source = "/dev/sdb", .target = "vdb", .discard = TRUE };
        DiskXmlSpec off = { .source = "/dev/sdb", .target = "vdb", .discard = FALSE };
        g_autofree char *xml_on = devxml_build_disk(&on);
        g_autofree char *xml_off = devxml_build_disk(&off);
        g_autoptr(DomainXml) dom_on = parse_wrapped(xml_on);
        g_autoptr(DomainXml) dom_off = parse_wrapped(xml_off);

        g_assert_cmpstr(xml_on, ==,
                        "<disk type=\"block\" device=\"disk\">" DRIVER_DISCARD
                        "<source dev=\"/dev/sdb\"/><target dev=\"vdb\" bus=\"virtio\"/></disk>");
        g_assert_null(strstr(xml_off, "discard"));
        g_assert_true(((DomainDisk *) dom_on->disks->pdata[0])->discard);
        g_assert_false(((DomainDisk *) dom_off->disks->pdata[0])->discard);
}

static void test_build_scsi_ssd(void) {
        DiskXmlSpec spec = {
                .source = "/dev/sdb", .target = "sda", .scsi = TRUE, .ssd = TRUE, .discard = TRUE,
                .serial = "fast", .alias = "ua-pt-sda",
        };
        g_autofree char *xml = devxml_build_disk(&spec);
        g_autoptr(DomainXml) dom = parse_wrapped(xml);
        const DomainDisk *d = dom->disks->pdata[0];

        g_assert_cmpstr(xml, ==,
                        "<disk type=\"block\" device=\"disk\">" DRIVER_DISCARD
                        "<source dev=\"/dev/sdb\"/>"
                        "<target dev=\"sda\" bus=\"scsi\" rotation_rate=\"1\"/>"
                        "<serial>fast</serial><alias name=\"ua-pt-sda\"/></disk>");
        g_assert_cmpstr(d->bus, ==, "scsi");
        g_assert_cmpstr(d->device, ==, "disk");
        g_assert_cmpstr(d->target, ==, "sda");
}

static void test_build_lun(void) {
        DiskXmlSpec spec = {
                .source = "/dev/sdc", .target = "sdb", .scsi = TRUE, .lun = TRUE, .discard = TRUE,
                .alias = "ua-pt-sdb",
        };
        g_autofree char *xml = devxml_build_disk(&spec);
        g_autofree char *raw = NULL;
        g_autoptr(DomainXml) dom = parse_wrapped(xml);

        g_assert_cmpstr(xml, ==,
                        "<disk type=\"block\" device=\"lun\" sgio=\"filtered\">" DRIVER_DISCARD
                        "<source dev=\"/dev/sdc\"/><target dev=\"sdb\" bus=\"scsi\"/>"
                        "<alias name=\"ua-pt-sdb\"/></disk>");
        g_assert_cmpstr(((DomainDisk *) dom->disks->pdata[0])->device, ==, "lun");

        spec.rawio = TRUE;
        raw = devxml_build_disk(&spec);
        g_assert_true(g_str_has_prefix(raw, "<disk type=\"block\" device=\"lun\" sgio=\"filtered\" rawio=\"yes\">"));
}

static void test_build_inconsistent(void) {
        static const DiskXmlSpec bad[] = {
                { .source = "/dev/sdb", .target = "vdb", .ssd = TRUE },             /* libvirt: scsi/ide/sata only */
                { .source = "/dev/sdb", .target = "vdb", .lun = TRUE },             /* lun needs scsi */
                { .source = "/dev/sdb", .target = "sda", .scsi = TRUE, .rawio = TRUE }, /* rawio needs lun */
                { .source = "/dev/sdb", .target = "sda", .scsi = TRUE, .lun = TRUE, .serial = "x" },
                { .source = "/dev/sdb", .target = "sda" },                          /* sdX on virtio */
                { .source = "/dev/sdb", .target = "vdb", .scsi = TRUE },            /* vdX on scsi */
        };

        for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
                g_autofree char *xml = devxml_build_disk(&bad[i]);

                g_test_message("case %zu", i);
                g_assert_null(xml);
        }
}

static void test_build_controller(void) {
        g_autofree char *xml = devxml_build_scsi_controller(SCSI_CONTROLLER_ALIAS);
        g_autofree char *wrapped = g_strdup_printf("<domain><devices>%s<controller type='usb'/></devices></domain>",
                                                   xml);
        g_autoptr(DomainXml) dom = devxml_parse_domain(wrapped, NULL);

        g_assert_cmpstr(xml, ==,
                        "<controller type=\"scsi\" model=\"virtio-scsi\"><alias name=\"ua-pt-scsi0\"/></controller>");
        g_assert_cmpuint(dom->scsi_controllers, ==, 1);
        g_assert_null(devxml_build_scsi_controller("scsi0"));
        g_assert_null(devxml_build_scsi_controller(NULL));
}

static void check_next_scsi(const char *const *targets, const char *expected) {
        g_autoptr(DomainXml) dom = domain_with_targets(targets);
        g_autofree char *next = devxml_next_target_on(dom, TRUE);

        g_assert_cmpstr(next, ==, expected);
        if (next)
                g_assert_true(devxml_scsi_target_valid(next));
}

static void test_next_target_scsi(void) {
        static const char *const none[] = { NULL };
        static const char *const vd_only[] = { "vda", "vdb", NULL };
        static const char *const gap[] = { "sda:scsi", "sdb:sata", "sdd:scsi", NULL };
        static const char *const sd_on_usb[] = { "sda:usb", NULL };

        check_next_scsi(none, "sda");
        check_next_scsi(vd_only, "sda");
        check_next_scsi(gap, "sdc");
        check_next_scsi(sd_on_usb, "sdb");
        g_assert_true(devxml_scsi_target_valid("sdzz"));
        g_assert_false(devxml_scsi_target_valid("vdb"));
        g_assert_false(devxml_scsi_target_valid("sd1"));
}

int main(int argc, char **argv) {
        g_test_init(&argc, &argv, NULL);

        g_test_add_func("/devxml/build/minimal", test_build_minimal);
        g_test_add_func("/devxml/build/full", test_build_full);
        g_test_add_func("/devxml/build/hostile-source", test_build_hostile_source);
        g_test_add_func("/devxml/build/refuses", test_build_refuses);
        g_test_add_func("/devxml/parse/running", test_parse_running);
        g_test_add_func("/devxml/parse/minimal", test_parse_minimal);
        g_test_add_func("/devxml/parse/no-devices", test_parse_no_devices);
        g_test_add_func("/devxml/parse/invalid", test_parse_invalid);
        g_test_add_func("/devxml/parse/invalid-utf8", test_parse_invalid_utf8);
        g_test_add_func("/devxml/find-disk", test_find_disk);
        g_test_add_func("/devxml/next-target/gaps", test_next_target);
        g_test_add_func("/devxml/next-target/two-letters", test_next_target_two_letters);
        g_test_add_func("/devxml/valid/target", test_target_valid);
        g_test_add_func("/devxml/valid/serial", test_serial_valid);
        g_test_add_func("/devxml/build/discard", test_build_discard);
        g_test_add_func("/devxml/build/scsi-ssd", test_build_scsi_ssd);
        g_test_add_func("/devxml/build/lun", test_build_lun);
        g_test_add_func("/devxml/build/inconsistent", test_build_inconsistent);
        g_test_add_func("/devxml/build/controller", test_build_controller);
        g_test_add_func("/devxml/next-target/scsi", test_next_target_scsi);

        return g_test_run();
}

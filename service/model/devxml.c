/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Device XML for libvirt, built and parsed with libxml2.
 *
 * Nothing here pastes caller text into XML: every value goes through
 * xmlNewProp()/xmlNewTextChild(), so the serializer escapes it, and every
 * value read back comes out of the parsed tree. */
#include "config.h"

#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "devxml.h"
#include "errors.h"

#define DISK_SERIAL_MAX 20

typedef xmlChar XmlString;
static void xml_string_free(XmlString *s) {
        xmlFree(s);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(XmlString, xml_string_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmlDoc, xmlFreeDoc)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmlBuffer, xmlBufferFree)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmlParserCtxt, xmlFreeParserCtxt)

static void devxml_init(void) {
        static gsize initialized = 0;

        /* xmlInitParser() is not safe to race in older libxml2; the service
         * may parse from worker threads, so do it once. */
        if (g_once_init_enter(&initialized)) {
                xmlInitParser();
                g_once_init_leave(&initialized, 1);
        }
}

/* ---- validation ---------------------------------------------------------- */

static gboolean target_valid(const char *target, const char *prefix) {
        size_t n;

        if (!target || !g_str_has_prefix(target, prefix))
                return FALSE;
        n = strlen(target + 2);
        if (n < 1 || n > 2)
                return FALSE;
        for (size_t i = 0; i < n; i++)
                if (target[2 + i] < 'a' || target[2 + i] > 'z')
                        return FALSE;
        return TRUE;
}

gboolean devxml_target_valid(const char *target) {
        return target_valid(target, "vd");
}

gboolean devxml_scsi_target_valid(const char *target) {
        return target_valid(target, "sd");
}

gboolean devxml_serial_valid(const char *serial) {
        size_t n;

        if (!serial)
                return FALSE;
        n = strlen(serial);
        if (n < 1 || n > DISK_SERIAL_MAX)
                return FALSE;
        for (size_t i = 0; i < n; i++) {
                char c = serial[i];

                if (!g_ascii_isalnum(c) && !strchr("._+-", c))
                        return FALSE;
        }
        return TRUE;
}

/* libvirt user aliases: "ua-" then [A-Za-z0-9_-]. */
static gboolean alias_valid(const char *alias) {
        if (!g_str_has_prefix(alias, "ua-") || alias[3] == '\0')
                return FALSE;
        for (const char *p = alias + 3; *p; p++)
                if (!g_ascii_isalnum(*p) && *p != '_' && *p != '-')
                        return FALSE;
        return TRUE;
}

/* A string libxml2 can carry in an attribute and give back unchanged:
 * valid UTF-8 and only characters XML 1.0 allows (no C0 controls other
 * than tab, newline, carriage return). */
static gboolean xml_text_valid(const char *s) {
        if (!s || *s == '\0' || !g_utf8_validate(s, -1, NULL))
                return FALSE;
        for (const char *p = s; *p; p = g_utf8_next_char(p)) {
                gunichar c = g_utf8_get_char(p);

                if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
                        return FALSE;
                if (c == 0xFFFE || c == 0xFFFF)
                        return FALSE;
        }
        return TRUE;
}

/* ---- building ------------------------------------------------------------- */

/* A new document with an empty root element `name`; returns the root. */
static xmlNodePtr new_document(xmlDocPtr *doc, const char *name) {
        xmlNodePtr root;

        devxml_init();
        *doc = xmlNewDoc(BAD_CAST "1.0");
        root = xmlNewDocNode(*doc, NULL, BAD_CAST name, NULL);
        xmlDocSetRootElement(*doc, root);
        return root;
}

static void add_alias(xmlNodePtr parent, const char *alias) {
        xmlNodePtr node = xmlNewChild(parent, NULL, BAD_CAST "alias", NULL);

        xmlNewProp(node, BAD_CAST "name", BAD_CAST alias);
}

/* The document's root element as a string, without an XML declaration. */
static char *dump_root(xmlDocPtr doc) {
        g_autoptr(xmlBuffer) buf = xmlBufferCreate();

        if (!buf || xmlNodeDump(buf, doc, xmlDocGetRootElement(doc), 0, 0) < 0)
                return NULL;
        return g_strndup((const char *) xmlBufferContent(buf), (gsize) xmlBufferLength(buf));
}

/* The combinations libvirt and QEMU accept (see devxml.h). */
static gboolean disk_spec_consistent(const DiskXmlSpec *spec) {
        if (!xml_text_valid(spec->source))
                return FALSE;
        if (spec->scsi ? !devxml_scsi_target_valid(spec->target) : !devxml_target_valid(spec->target))
                return FALSE;
        if ((spec->lun || spec->ssd) && !spec->scsi)
                return FALSE;
        if (spec->rawio && !spec->lun)
                return FALSE;
        if (spec->serial && (spec->lun || !devxml_serial_valid(spec->serial)))
                return FALSE;
        return !spec->alias || alias_valid(spec->alias);
}

static void add_disk_driver(xmlNodePtr disk, const DiskXmlSpec *spec) {
        xmlNodePtr node = xmlNewChild(disk, NULL, BAD_CAST "driver", NULL);

        xmlNewProp(node, BAD_CAST "name", BAD_CAST "qemu");
        xmlNewProp(node, BAD_CAST "type", BAD_CAST "raw");
        xmlNewProp(node, BAD_CAST "cache", BAD_CAST "none");
        xmlNewProp(node, BAD_CAST "io", BAD_CAST "native");
        if (spec->discard)
                xmlNewProp(node, BAD_CAST "discard", BAD_CAST "unmap");
}

static void add_disk_target(xmlNodePtr disk, const DiskXmlSpec *spec) {
        xmlNodePtr node = xmlNewChild(disk, NULL, BAD_CAST "target", NULL);

        xmlNewProp(node, BAD_CAST "dev", BAD_CAST spec->target);
        xmlNewProp(node, BAD_CAST "bus", BAD_CAST (spec->scsi ? DISK_BUS_SCSI : DISK_BUS_VIRTIO));
        if (spec->ssd)
                xmlNewProp(node, BAD_CAST "rotation_rate", BAD_CAST "1");
}

/* Returns NULL when the spec would not make a valid disk (no source, a target
 * or serial the validators refuse, an alias without "ua-", text XML cannot
 * carry, an inconsistent bus/mode); callers validate first, this is the last line. */
char *devxml_build_disk(const DiskXmlSpec *spec) {
        g_autoptr(xmlDoc) doc = NULL;
        xmlNodePtr disk, node;

        g_return_val_if_fail(spec != NULL, NULL);

        if (!disk_spec_consistent(spec))
                return NULL;

        disk = new_document(&doc, "disk");
        xmlNewProp(disk, BAD_CAST "type", BAD_CAST "block");
        xmlNewProp(disk, BAD_CAST "device", BAD_CAST (spec->lun ? DISK_MODE_LUN : DISK_MODE_DISK));
        if (spec->lun)
                xmlNewProp(disk, BAD_CAST "sgio", BAD_CAST "filtered");
        if (spec->rawio)
                xmlNewProp(disk, BAD_CAST "rawio", BAD_CAST "yes");

        add_disk_driver(disk, spec);

        node = xmlNewChild(disk, NULL, BAD_CAST "source", NULL);
        xmlNewProp(node, BAD_CAST "dev", BAD_CAST spec->source);

        add_disk_target(disk, spec);

        if (spec->readonly)
                xmlNewChild(disk, NULL, BAD_CAST "readonly", NULL);

        /* xmlNewTextChild escapes its content; xmlNewChild would not. */
        if (spec->serial)
                xmlNewTextChild(disk, NULL, BAD_CAST "serial", BAD_CAST spec->serial);

        if (spec->alias)
                add_alias(disk, spec->alias);
        return dump_root(doc);
}

char *devxml_build_scsi_controller(const char *alias) {
        g_autoptr(xmlDoc) doc = NULL;
        xmlNodePtr controller;

        if (!alias || !alias_valid(alias))
                return NULL;
        controller = new_document(&doc, "controller");
        xmlNewProp(controller, BAD_CAST "type", BAD_CAST "scsi");
        xmlNewProp(controller, BAD_CAST "model", BAD_CAST "virtio-scsi");
        add_alias(controller, alias);
        return dump_root(doc);
}

static void add_id(xmlNodePtr parent, const char *element, guint id) {
        char text[sizeof("0xffff")];
        xmlNodePtr node = xmlNewChild(parent, NULL, BAD_CAST element, NULL);

        g_snprintf(text, sizeof(text), "0x%04x", id);
        xmlNewProp(node, BAD_CAST "id", BAD_CAST text);
}

static void add_address(xmlNodePtr parent, guint bus, guint device) {
        g_autofree char *bus_text = g_strdup_printf("%u", bus);
        g_autofree char *device_text = g_strdup_printf("%u", device);
        xmlNodePtr node = xmlNewChild(parent, NULL, BAD_CAST "address", NULL);

        xmlNewProp(node, BAD_CAST "bus", BAD_CAST bus_text);
        xmlNewProp(node, BAD_CAST "device", BAD_CAST device_text);
}

char *devxml_build_usb_hostdev(const UsbHostdevXmlSpec *spec) {
        g_autoptr(xmlDoc) doc = NULL;
        xmlNodePtr hostdev, source;

        g_return_val_if_fail(spec != NULL, NULL);

        if (spec->vendor > 0xffff || spec->product > 0xffff || spec->bus == 0 || spec->device == 0)
                return NULL;
        if (spec->alias && !alias_valid(spec->alias))
                return NULL;

        hostdev = new_document(&doc, "hostdev");
        xmlNewProp(hostdev, BAD_CAST "mode", BAD_CAST "subsystem");
        xmlNewProp(hostdev, BAD_CAST "type", BAD_CAST "usb");
        xmlNewProp(hostdev, BAD_CAST "managed", BAD_CAST "yes");

        source = xmlNewChild(hostdev, NULL, BAD_CAST "source", NULL);
        add_id(source, "vendor", spec->vendor);
        add_id(source, "product", spec->product);
        add_address(source, spec->bus, spec->device);

        if (spec->alias)
                add_alias(hostdev, spec->alias);
        return dump_root(doc);
}

/* ---- parsing -------------------------------------------------------------- */

static gboolean node_is(xmlNodePtr node, const char *name) {
        return node->type == XML_ELEMENT_NODE && xmlStrEqual(node->name, BAD_CAST name);
}

static xmlNodePtr child_element(xmlNodePtr parent, const char *name) {
        for (xmlNodePtr c = parent->children; c; c = c->next)
                if (node_is(c, name))
                        return c;
        return NULL;
}

/* An attribute as a GLib string (NULL when absent). */
static char *prop_dup(xmlNodePtr node, const char *name) {
        g_autoptr(XmlString) v = NULL;

        if (!node)
                return NULL;
        v = xmlGetNoNsProp(node, BAD_CAST name);
        return v ? g_strdup((const char *) v) : NULL;
}

static char *child_prop_dup(xmlNodePtr parent, const char *child, const char *name) {
        return prop_dup(child_element(parent, child), name);
}

/* The text of a child element (NULL when the element is absent). */
static char *child_text_dup(xmlNodePtr parent, const char *child) {
        xmlNodePtr node = child_element(parent, child);
        g_autoptr(XmlString) v = NULL;

        if (!node)
                return NULL;
        v = xmlNodeGetContent(node);
        return g_strdup(v ? (const char *) v : "");
}

static guint child_prop_uint(xmlNodePtr parent, const char *child, const char *name) {
        g_autofree char *s = child_prop_dup(parent, child, name);
        guint64 v = 0;

        /* libvirt writes USB bus/device numbers in decimal; anything else
         * reads as "absent". */
        if (!s || !g_ascii_string_to_unsigned(s, 10, 0, G_MAXUINT, &v, NULL))
                return 0;
        return (guint) v;
}

static void domain_disk_free(gpointer p) {
        DomainDisk *d = p;

        g_free(d->type);
        g_free(d->device);
        g_free(d->source);
        g_free(d->target);
        g_free(d->bus);
        g_free(d->alias);
        g_free(d->serial);
        g_free(d);
}

static void domain_usb_hostdev_free(gpointer p) {
        DomainUsbHostdev *h = p;

        g_free(h->vendor);
        g_free(h->product);
        g_free(h->alias);
        g_free(h);
}

static DomainDisk *parse_disk(xmlNodePtr node) {
        DomainDisk *d = g_new0(DomainDisk, 1);
        xmlNodePtr source = child_element(node, "source");
        xmlNodePtr target = child_element(node, "target");
        g_autofree char *discard = NULL;

        d->type = prop_dup(node, "type");
        d->device = prop_dup(node, "device");
        /* Only the disk's own <source>, not one inside <backingStore>.
         * Network and volume disks have neither attribute: NULL. */
        d->source = prop_dup(source, "dev");
        if (!d->source)
                d->source = prop_dup(source, "file");
        d->target = prop_dup(target, "dev");
        d->bus = prop_dup(target, "bus");
        d->alias = child_prop_dup(node, "alias", "name");
        d->serial = child_text_dup(node, "serial");
        discard = child_prop_dup(node, "driver", "discard");
        d->discard = g_strcmp0(discard, "unmap") == 0;
        return d;
}

static DomainUsbHostdev *parse_usb_hostdev(xmlNodePtr node) {
        DomainUsbHostdev *h = g_new0(DomainUsbHostdev, 1);
        xmlNodePtr source = child_element(node, "source");

        if (source) {
                h->vendor = child_prop_dup(source, "vendor", "id");
                h->product = child_prop_dup(source, "product", "id");
                h->bus = child_prop_uint(source, "address", "bus");
                h->device = child_prop_uint(source, "address", "device");
        }
        h->alias = child_prop_dup(node, "alias", "name");
        return h;
}

static gboolean hostdev_is_usb(xmlNodePtr node) {
        g_autofree char *mode = prop_dup(node, "mode");
        g_autofree char *type = prop_dup(node, "type");

        /* mode defaults to subsystem in libvirt, but live XML always has it. */
        return g_strcmp0(mode, "subsystem") == 0 && g_strcmp0(type, "usb") == 0;
}

static gboolean controller_is_scsi(xmlNodePtr node) {
        g_autofree char *type = prop_dup(node, "type");

        return g_strcmp0(type, "scsi") == 0;
}

DomainXml *devxml_parse_domain(const char *xml, GError **error) {
        g_autoptr(xmlParserCtxt) ctxt = NULL;
        g_autoptr(xmlDoc) doc = NULL;
        g_autoptr(DomainXml) dom = NULL;
        xmlNodePtr root, devices;
        size_t len;

        if (!xml || *xml == '\0') {
                g_set_error_literal(error, PT_ERROR, PT_ERROR_FAILED, "Empty domain XML");
                return NULL;
        }
        len = strlen(xml);
        if (len > G_MAXINT) {
                g_set_error_literal(error, PT_ERROR, PT_ERROR_FAILED, "Domain XML too large");
                return NULL;
        }

        devxml_init();

        ctxt = xmlNewParserCtxt();
        if (!ctxt) {
                g_set_error_literal(error, PT_ERROR, PT_ERROR_FAILED, "Out of memory creating XML parser");
                return NULL;
        }
        /* No network, no entity substitution (no XML_PARSE_NOENT), no DTD
         * loading; errors come back through the context, not stderr. */
        doc = xmlCtxtReadMemory(ctxt, xml, (int) len, "domain.xml", NULL,
                                XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
        if (!doc) {
                const xmlError *e = xmlCtxtGetLastError(ctxt);
                /* libxml2 quotes the document, which need not be UTF-8;
                 * the message may end up in a D-Bus reply, which must be. */
                g_autofree char *msg = g_utf8_make_valid(e && e->message ? e->message : "parse error", -1);

                g_strchomp(msg);
                g_set_error(error, PT_ERROR, PT_ERROR_FAILED, "Invalid domain XML (line %d): %s",
                            e ? e->line : 0, msg);
                return NULL;
        }
        /* libvirt never writes a DOCTYPE; refuse one instead of thinking
         * about entities. */
        if (doc->intSubset || doc->extSubset) {
                g_set_error_literal(error, PT_ERROR, PT_ERROR_FAILED, "Invalid domain XML: DOCTYPE not allowed");
                return NULL;
        }
        root = xmlDocGetRootElement(doc);
        if (!root || !node_is(root, "domain")) {
                g_set_error_literal(error, PT_ERROR, PT_ERROR_FAILED, "Invalid domain XML: root element is not <domain>");
                return NULL;
        }

        dom = g_new0(DomainXml, 1);
        dom->disks = g_ptr_array_new_with_free_func(domain_disk_free);
        dom->usb_hostdevs = g_ptr_array_new_with_free_func(domain_usb_hostdev_free);
        dom->name = child_text_dup(root, "name");
        dom->uuid = child_text_dup(root, "uuid");

        devices = child_element(root, "devices");
        if (devices) {
                for (xmlNodePtr c = devices->children; c; c = c->next) {
                        if (node_is(c, "disk"))
                                g_ptr_array_add(dom->disks, parse_disk(c));
                        else if (node_is(c, "hostdev") && hostdev_is_usb(c))
                                g_ptr_array_add(dom->usb_hostdevs, parse_usb_hostdev(c));
                        else if (node_is(c, "controller") && controller_is_scsi(c))
                                dom->scsi_controllers++;
                }
        }

        return g_steal_pointer(&dom);
}

void domain_xml_free(DomainXml *dom) {
        if (!dom)
                return;
        g_free(dom->name);
        g_free(dom->uuid);
        if (dom->disks)
                g_ptr_array_unref(dom->disks);
        if (dom->usb_hostdevs)
                g_ptr_array_unref(dom->usb_hostdevs);
        g_free(dom);
}

/* Any disk type counts: a type='file' disk on /dev/sdb holds the disk just
 * as much as a type='block' one. */
const DomainDisk *domain_xml_find_disk(const DomainXml *dom, const char *source) {
        g_return_val_if_fail(dom != NULL, NULL);

        if (!source || !dom->disks)
                return NULL;
        for (guint i = 0; i < dom->disks->len; i++) {
                const DomainDisk *d = g_ptr_array_index(dom->disks, i);

                if (g_strcmp0(d->source, source) == 0)
                        return d;
        }
        return NULL;
}

/* ---- target allocation ------------------------------------------------------ */

char *devxml_next_target_on(const DomainXml *dom, gboolean scsi) {
        g_autoptr(GHashTable) used = g_hash_table_new(g_str_hash, g_str_equal);
        char name[5] = "vd";

        g_return_val_if_fail(dom != NULL, NULL);

        if (scsi)
                name[0] = 's';
        /* Every target of every bus: names must be unique in the domain. */
        for (guint i = 0; dom->disks && i < dom->disks->len; i++) {
                const DomainDisk *d = g_ptr_array_index(dom->disks, i);

                if (d->target)
                        g_hash_table_add(used, d->target);
        }

        /* vda is the guest's own disk by custom; sda is the first SCSI one. */
        for (char a = scsi ? 'a' : 'b'; a <= 'z'; a++) {
                name[2] = a;
                name[3] = '\0';
                if (!g_hash_table_contains(used, name))
                        return g_strdup(name);
        }
        for (char a = 'a'; a <= 'z'; a++)
                for (char b = 'a'; b <= 'z'; b++) {
                        name[2] = a;
                        name[3] = b;
                        name[4] = '\0';
                        if (!g_hash_table_contains(used, name))
                                return g_strdup(name);
                }

        return NULL;
}

char *devxml_next_target(const DomainXml *dom) {
        return devxml_next_target_on(dom, FALSE);
}

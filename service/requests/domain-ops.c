/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ListAttached: read-only, no authorization needed. */
#include "config.h"

#include <sys/stat.h>

#include "busdict.h"
#include "devxml.h"
#include "disks.h"
#include "manager.h"
#include "usb.h"
#include "worker.h"

typedef struct {
        Manager *m;
        sd_bus_message *message;
        char *domain_spec;
        DomainXml *xml;           /* ListAttached */
} Query;

static Query *query_new(Manager *m, sd_bus_message *message) {
        Query *q = g_new0(Query, 1);

        q->m = m;
        q->message = sd_bus_message_ref(message);
        return q;
}

static void query_free(Query *q) {
        sd_bus_message_unref(q->message);
        g_free(q->domain_spec);
        g_clear_pointer(&q->xml, domain_xml_free);
        g_free(q);
}

static void send_reply(Query *q, int (*append)(sd_bus_message *, Query *)) {
        sd_bus_message *reply = NULL;
        int r = sd_bus_message_new_method_return(q->message, &reply);

        if (r >= 0)
                r = append(reply, q);
        if (r >= 0)
                r = sd_bus_send(NULL, reply, NULL);
        if (r < 0)
                g_warning("Cannot send a reply: %s", g_strerror(-r));
        sd_bus_message_unref(reply);
}

static void list_attached_work(gpointer data, GError **error) {
        Query *q = data;
        virDomainPtr dom = virt_find_domain(q->m->virt, q->domain_spec, error);
        g_autofree char *xml = dom ? virt_domain_xml(dom, error) : NULL;

        if (xml)
                q->xml = devxml_parse_domain(xml, error);
        if (dom)
                virDomainFree(dom);
}

/* The host disk's Id for a source path, or the path itself. */
static char *source_id(const char *source) {
        g_autoptr(DiskInfo) disk = disks_resolve(source, NULL);

        return g_strdup(disk ? disk->id : source);
}

/* Disks also say how: Bus (virtio, scsi, sata, ...), Mode (disk, lun, cdrom)
 * and Discard (guest TRIM reaches the host). */
static int append_disk_keys(sd_bus_message *reply, const DomainDisk *d) {
        int r = dict_add_s(reply, "Bus", d->bus ? d->bus : "");

        if (r >= 0)
                r = dict_add_s(reply, "Mode", d->device ? d->device : "disk");
        if (r >= 0)
                r = dict_add_b(reply, "Discard", d->discard);
        return r;
}

static int append_entry(sd_bus_message *reply, const char *kind, const char *id, const char *source,
                        const char *target, const DomainDisk *disk) {
        int r = sd_bus_message_open_container(reply, 'a', "{sv}");

        if (r >= 0 && disk)
                r = append_disk_keys(reply, disk);
        if (r >= 0)
                r = dict_add_s(reply, "Kind", kind);
        if (r >= 0)
                r = dict_add_s(reply, "Id", id);
        if (r >= 0)
                r = dict_add_s(reply, "Source", source);
        if (r >= 0)
                r = dict_add_s(reply, "Target", target);
        return r >= 0 ? sd_bus_message_close_container(reply) : r;
}

static int append_disks(sd_bus_message *reply, const DomainXml *dom) {
        int r = 0;

        for (guint i = 0; r >= 0 && i < dom->disks->len; i++) {
                const DomainDisk *d = dom->disks->pdata[i];
                g_autofree char *id = NULL;

                if (g_strcmp0(d->type, "block") != 0 || !d->source)
                        continue;
                id = source_id(d->source);
                r = append_entry(reply, "disk", id, d->source, d->target, d);
        }
        return r;
}

static char *hex_id(const char *value) {
        if (!value)
                return g_strdup("");
        if (g_str_has_prefix(value, "0x") || g_str_has_prefix(value, "0X"))
                value += 2;
        return g_ascii_strdown(value, -1);
}

/* The host device's Id (as ListUsbDevices gives it) when it is still
 * there, else "vvvv:pppp". */
static char *usb_id(const DomainUsbHostdev *h, GPtrArray *host_devices) {
        g_autofree char *vendor = hex_id(h->vendor);
        g_autofree char *product = hex_id(h->product);

        for (guint i = 0; host_devices && i < host_devices->len; i++)
                if (usb_hostdev_holds(h, host_devices->pdata[i]))
                        return g_strdup(((UsbDevice *) host_devices->pdata[i])->id);
        return g_strdup_printf("%s:%s", vendor, product);
}

static int append_usb(sd_bus_message *reply, const DomainXml *dom) {
        g_autoptr(GPtrArray) host_devices = dom->usb_hostdevs->len ? usb_list(NULL) : NULL;
        int r = 0;

        for (guint i = 0; r >= 0 && i < dom->usb_hostdevs->len; i++) {
                const DomainUsbHostdev *h = dom->usb_hostdevs->pdata[i];
                g_autofree char *id = usb_id(h, host_devices);
                g_autofree char *source = g_strdup_printf("%u:%u", h->bus, h->device);

                r = append_entry(reply, "usb", id, source, h->alias ? h->alias : "", NULL);
        }
        return r;
}

static int append_attached(sd_bus_message *reply, Query *q) {
        int r = sd_bus_message_open_container(reply, 'a', "a{sv}");

        if (r >= 0)
                r = append_disks(reply, q->xml);
        if (r >= 0)
                r = append_usb(reply, q->xml);
        return r >= 0 ? sd_bus_message_close_container(reply) : r;
}

static void list_attached_done(gpointer data, GError *error) {
        Query *q = data;

        if (error)
                reply_error(q->message, error);
        else
                send_reply(q, append_attached);
        query_free(q);
}

int method_list_attached(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        g_autoptr(GError) local = NULL;
        const char *domain = NULL;
        Query *q;
        int r = sd_bus_message_read(message, "s", &domain);

        if (r < 0)
                return r;
        if (!virt_domain_spec_valid(domain, &local))
                return pt_error_to_bus(local, error);
        q = query_new(userdata, message);
        q->domain_spec = g_strdup(domain);
        worker_run(list_attached_work, list_attached_done, q);
        return 1;
}

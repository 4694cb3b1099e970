/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ListUsbDevices, AttachUsb and DetachUsb.
 *
 * The flow is the disks' (disk-ops.c): validate -> resolve the device (sysfs,
 * main thread) -> resolve the domain (worker) -> polkit (async) -> re-resolve
 * and check it is still the same device -> the libvirt call (worker) -> reply
 * and signal. A device is given as <hostdev type='usb' managed='yes'> by
 * vendor, product and bus/device address, live only, with a user alias made
 * from its port (ua-pt-usb-1-2_3) so the service knows its own entries. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "busdict.h"
#include "devname.h"
#include "devxml.h"
#include "request.h"
#include "usb.h"

/* ---- who has which host USB device: every running domain's live XML ---- */

/* The domain whose hostdev holds `dev` (its hostdev in *hostdev), or NULL. */
static const DomainXml *find_holder(GPtrArray *domains, const UsbDevice *dev, const DomainUsbHostdev **hostdev) {
        for (guint i = 0; domains && i < domains->len; i++) {
                const DomainXml *dom = domains->pdata[i];

                for (guint j = 0; j < dom->usb_hostdevs->len; j++)
                        if (usb_hostdev_holds(dom->usb_hostdevs->pdata[j], dev)) {
                                if (hostdev)
                                        *hostdev = dom->usb_hostdevs->pdata[j];
                                return dom;
                        }
        }
        return NULL;
}

/* ---- the request shared by AttachUsb and DetachUsb ---- */

typedef struct {
        Request base;      /* source: "USB device <Id>"; target: the hostdev's alias */
        UsbDevice *dev;    /* the host device (NULL in a port-only detach) */
        char *port;        /* its physical port */
        gboolean by_instance; /* internal requests: the device is `dev` itself, not device_spec */
        GPtrArray *disks;  /* DiskInfo*: the host disks the device carries (a USB stick's sdb) */
        gboolean foreign;  /* detach: a hostdev passthrough did not make */
} UsbRequest;

static void usb_request_clear(Request *base) {
        UsbRequest *req = (UsbRequest *) base;

        g_clear_pointer(&req->dev, usb_device_free);
        g_free(req->port);
        g_clear_pointer(&req->disks, g_ptr_array_unref);
}

static void attach_work(gpointer data, GError **error);
static void detach_work(gpointer data, GError **error);

static const RequestKind usb_kind = {
        .name = "usb",
        .size = sizeof(UsbRequest),
        .clear = usb_request_clear,
        .attach_returns_target = FALSE,
        .attach_work = attach_work,
        .detach_work = detach_work,
};

static gboolean same_device(const UsbDevice *a, const UsbDevice *b) {
        return g_str_equal(a->syspath, b->syspath) && a->bus == b->bus && a->device == b->device &&
               g_str_equal(a->vendor_id, b->vendor_id) && g_str_equal(a->product_id, b->product_id);
}

static void set_device(UsbRequest *req, const UsbDevice *dev) {
        g_clear_pointer(&req->dev, usb_device_free);
        req->dev = usb_device_copy(dev);
        g_free(req->port);
        req->port = g_strdup(dev->port);
        g_free(req->base.id);
        req->base.id = g_strdup(dev->id);
        g_free(req->base.source);
        req->base.source = g_strdup_printf("USB device %s", dev->id);
}

/* Internal requests: the device req->dev, still plugged in. */
static const UsbDevice *find_instance(UsbRequest *req, GPtrArray *devices, GError **error) {
        for (guint i = 0; i < devices->len; i++)
                if (same_device(req->dev, devices->pdata[i]))
                        return devices->pdata[i];
        g_set_error(error, PT_ERROR, PT_ERROR_NO_SUCH_DEVICE, "%s was unplugged", req->base.source);
        return NULL;
}

static const UsbDevice *find_device(UsbRequest *req, GPtrArray *devices, GError **error) {
        if (req->by_instance)
                return find_instance(req, devices, error);
        return usb_resolve(devices, req->base.device_spec, error);
}

/* [worker] Resolve the caller's device string; once resolved (before
 * polkit), it must still name the same device. */
static gboolean resolve_device(UsbRequest *req, GError **error) {
        g_autoptr(GPtrArray) devices = usb_list(error);
        const UsbDevice *dev = devices ? find_device(req, devices, error) : NULL;

        if (!dev)
                return FALSE;
        if (req->dev && !same_device(req->dev, dev)) {
                g_set_error(error, PT_ERROR, PT_ERROR_FAILED,
                            "%s changed while waiting for authorization; try again", req->base.device_spec);
                return FALSE;
        }
        set_device(req, dev);
        return TRUE;
}

static void authorize(UsbRequest *req, const char *action, AuthzDone done) {
        g_autoptr(GHashTable) details = g_hash_table_new(g_str_hash, g_str_equal);
        g_autofree char *name = req->dev ? usb_display_name(req->dev) : g_strdup_printf("USB %s", req->port);

        g_hash_table_insert(details, (gpointer) "device", req->base.id);
        g_hash_table_insert(details, (gpointer) "device.name", name);
        g_hash_table_insert(details, (gpointer) "device.port", req->port);
        if (req->base.alias)
                g_hash_table_insert(details, (gpointer) "device.foreign", (gpointer) (req->foreign ? "true" : "false"));
        if (req->dev) {
                g_hash_table_insert(details, (gpointer) "device.vendor", req->dev->vendor_id);
                g_hash_table_insert(details, (gpointer) "device.product", req->dev->product_id);
                g_hash_table_insert(details, (gpointer) "device.serial", req->dev->serial);
        }
        request_authorize(&req->base, action, details, done);
}

/* ---- AttachUsb ---- */

/* [worker] The whole disks below the device's interfaces (a stick's sdb):
 * block devices whose sysfs path lies under the device's. */
static GPtrArray *carried_disks(const UsbDevice *dev, GError **error) {
        g_autoptr(GDir) dir = g_dir_open("/sys/class/block", 0, NULL);
        g_autofree char *under = g_strconcat(dev->syspath, "/", NULL);
        GPtrArray *disks = g_ptr_array_new_with_free_func((GDestroyNotify) disk_info_free);
        const char *name;

        while (dir && (name = g_dir_read_name(dir))) {
                g_autofree char *link = g_build_filename("/sys/class/block", name, NULL);
                g_autofree char *real = realpath(link, NULL);
                g_autofree char *partition = g_build_filename(link, "partition", NULL);
                DiskInfo *disk;

                if (!real || !g_str_has_prefix(real, under) || g_file_test(partition, G_FILE_TEST_EXISTS))
                        continue;
                /* Only disks the service knows (not an sr0 optical drive). */
                disk = disk_read(name, NULL);
                if (disk)
                        g_ptr_array_add(disks, disk);
        }
        return disks;
}

/* [worker] A device that carries host disks is judged as those disks are
 * by AttachDisk: mounted, swap, held, given to a VM, critical. */
static gboolean check_attachable(UsbRequest *req, GError **error) {
        gboolean system = FALSE;

        if (!resolve_device(req, error) || !usb_check_attachable(req->dev, error))
                return FALSE;
        g_clear_pointer(&req->disks, g_ptr_array_unref);
        req->disks = carried_disks(req->dev, error);
        if (!req->disks || !disks_check_now(&req->base, req->disks, TRUE, &system, error))
                return FALSE;
        req->base.system = system;
        return TRUE;
}

/* [worker] Refuse a device any running domain already has. */
static gboolean check_not_attached(Request *base, virConnectPtr conn, virDomainPtr dom, GError **error) {
        UsbRequest *req = (UsbRequest *) base;
        g_autoptr(GPtrArray) domains = request_scan_running(base->m->virt, error);
        const DomainXml *holder;

        if (!domains)
                return FALSE;
        holder = find_holder(domains, req->dev, NULL);
        if (!holder)
                return TRUE;
        g_set_error(error, PT_ERROR, PT_ERROR_ALREADY_ATTACHED,
                    "%s is already attached to VM %s; detach it from there first",
                    base->source, holder->name);
        return FALSE;
}

static void attach_lookup_work(gpointer data, GError **error) {
        UsbRequest *req = data;

        (void) (check_attachable(req, error) && request_on_domain(data, check_not_attached, error));
}

/* [worker] Nothing on the host opened the carried disks since the check. */
static gboolean disks_unused(UsbRequest *req, GError **error) {
        for (guint i = 0; req->disks && i < req->disks->len; i++) {
                const DiskInfo *disk = req->disks->pdata[i];
                int fd = disk_open_exclusive(disk->path, disk->devnum, error);

                if (fd < 0)
                        return FALSE;
                close(fd);
        }
        return TRUE;
}

static gboolean attach_on_domain(Request *base, virConnectPtr conn, virDomainPtr dom, GError **error) {
        UsbRequest *req = (UsbRequest *) base;

        if (!check_attachable(req, error) || !check_not_attached(base, conn, dom, error))
                return FALSE;
        if (!request_same_class(base, error))
                return FALSE;
        g_free(base->xml);
        base->xml = usb_hostdev_xml(req->dev);
        if (!base->xml) {
                g_set_error(error, PT_ERROR, PT_ERROR_FAILED, "Cannot describe %s to libvirt", base->source);
                return FALSE;
        }
        if (!disks_unused(req, error) || request_caller_gone(base, error))
                return FALSE;
        if (!base->options.dry_run && !virt_attach_live(dom, base->xml, error))
                return FALSE;
        base->target = usb_alias_for_port(req->port);
        return TRUE;
}

static void attach_work(gpointer data, GError **error) {
        (void) request_on_domain_alone(data, attach_on_domain, error);
}

static void attach_authorized(GError *error, gpointer data) {
        UsbRequest *req = data;

        if (error) {
                request_abort(&req->base, error);
                return;
        }
        request_attach(&req->base, g_strdup_printf("usb:%u:%u", req->dev->bus, req->dev->device));
}

static void attach_looked_up(gpointer data, GError *error) {
        UsbRequest *req = data;

        if (error) {
                request_abort(&req->base, error);
                return;
        }
        if (!request_attach_class(&req->base, "carries an internal disk; it is not attached automatically. "
                                              "Attach it with AttachUsb"))
                return;
        /* A device that carries an internal disk needs what that disk needs. */
        authorize(req, req->base.system ? ACTION_ATTACH_SYSTEM_DISK : ACTION_ATTACH_USB, attach_authorized);
}

int method_attach_usb(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        UsbRequest *req = request_new(&usb_kind, userdata, message);
        g_autoptr(GError) local = NULL;

        (void) request_read_call(&req->base, message, OPTION_DRY_RUN, usb_spec_valid, &local);
        return request_begin(&req->base, local, attach_lookup_work, attach_looked_up, error);
}

/* ---- DetachUsb ---- */

/* [worker] The host device if it is still there; one that is gone can
 * still be detached by its port (found by the alias the service gave it). */
static gboolean resolve_for_detach(UsbRequest *req, GError **error) {
        g_autoptr(GError) local = NULL;
        const char *spec = req->base.device_spec, *port;

        if (resolve_device(req, &local))
                return TRUE;
        port = strrchr(spec, '@') ? strrchr(spec, '@') + 1 : spec;   /* an Id VVVV:PPPP@PORT names its port */
        if (!g_error_matches(local, PT_ERROR, PT_ERROR_NO_SUCH_DEVICE) || !usb_port_valid(port)) {
                g_propagate_error(error, g_steal_pointer(&local));
                return FALSE;
        }
        req->port = g_strdup(port);
        req->base.id = g_strdup(spec);
        req->base.source = g_strdup_printf("the USB device at port %s", port);
        return TRUE;
}

/* Our alias for the port, or the hostdev that holds the host device. */
static gboolean hostdev_matches(UsbRequest *req, const DomainUsbHostdev *h, const char *alias) {
        return g_strcmp0(h->alias, alias) == 0 || (req->dev && usb_hostdev_holds(h, req->dev));
}

/* [worker] Find the device's hostdev in the domain's live XML. */
static gboolean find_in_domain(UsbRequest *req, virDomainPtr dom, const DomainUsbHostdev **found,
                               DomainXml **xml_out, GError **error) {
        g_autofree char *xml = virt_domain_xml(dom, error);
        g_autoptr(DomainXml) parsed = xml ? devxml_parse_domain(xml, error) : NULL;
        g_autofree char *alias = usb_alias_for_port(req->port);

        if (!parsed)
                return FALSE;
        for (guint i = 0; i < parsed->usb_hostdevs->len; i++)
                if (hostdev_matches(req, parsed->usb_hostdevs->pdata[i], alias)) {
                        *found = parsed->usb_hostdevs->pdata[i];
                        *xml_out = g_steal_pointer(&parsed);
                        return TRUE;
                }
        g_set_error(error, PT_ERROR, PT_ERROR_NOT_ATTACHED, "%s is not attached to VM %s",
                    req->base.source, req->base.domain_name);
        return FALSE;
}

/* [worker] Record the hostdev's alias: libvirt reports the removal by it. */
static gboolean detach_lookup_on_domain(Request *base, virConnectPtr conn, virDomainPtr dom, GError **error) {
        const DomainUsbHostdev *hostdev = NULL;
        g_autoptr(DomainXml) parsed = NULL;

        if (!find_in_domain((UsbRequest *) base, dom, &hostdev, &parsed, error))
                return FALSE;
        base->alias = g_strdup(hostdev->alias);
        base->target = g_strdup(hostdev->alias);
        ((UsbRequest *) base)->foreign = !devxml_alias_is_own(hostdev->alias);
        base->xml = usb_hostdev_xml_from_domain(hostdev);
        if (base->alias)
                return TRUE;
        g_set_error(error, PT_ERROR, PT_ERROR_FAILED, "%s has no device alias in VM %s; libvirt cannot report its removal",
                    base->source, base->domain_name);
        return FALSE;
}

static void detach_lookup_work(gpointer data, GError **error) {
        (void) (resolve_for_detach(data, error) && request_on_domain(data, detach_lookup_on_domain, error));
}

/* [worker] Still there? Then ask libvirt to detach it by its alias. */
static gboolean detach_on_domain(Request *base, virConnectPtr conn, virDomainPtr dom, GError **error) {
        const DomainUsbHostdev *hostdev = NULL;
        g_autoptr(DomainXml) parsed = NULL;

        if (!find_in_domain((UsbRequest *) base, dom, &hostdev, &parsed, error))
                return FALSE;
        return virt_detach_alias_live(dom, base->alias, error);
}

static void detach_work(gpointer data, GError **error) {
        (void) request_on_domain(data, detach_on_domain, error);
}

static void detach_looked_up(gpointer data, GError *error) {
        UsbRequest *req = data;

        if (error)
                request_abort(&req->base, error);
        else    /* taking back what passthrough did not give needs more */
                authorize(req, req->foreign ? ACTION_DETACH_FOREIGN : ACTION_DETACH, request_detach_authorized);
}

int method_detach_usb(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        UsbRequest *req = request_new(&usb_kind, userdata, message);
        g_autoptr(GError) local = NULL;

        (void) request_read_call(&req->base, message, OPTION_TIMEOUT_MS | OPTION_DRY_RUN, usb_spec_valid, &local);
        return request_begin(&req->base, local, detach_lookup_work, detach_looked_up, error);
}

/* ---- the UsbDevice objects' methods ---- */

int usb_object_attach(Manager *m, sd_bus_message *message, const char *device, sd_bus_error *error) {
        UsbRequest *req = request_new(&usb_kind, m, message);
        g_autoptr(GError) local = NULL;

        (void) request_read_object_call(&req->base, message, device, NULL, OPTION_DRY_RUN, &local);
        return request_begin(&req->base, local, attach_lookup_work, attach_looked_up, error);
}

int usb_object_detach(Manager *m, sd_bus_message *message, const char *device, const char *domain,
                      sd_bus_error *error) {
        UsbRequest *req = request_new(&usb_kind, m, message);
        g_autoptr(GError) local = NULL;

        (void) request_read_object_call(&req->base, message, device, domain, OPTION_TIMEOUT_MS | OPTION_DRY_RUN,
                                        &local);
        return request_begin(&req->base, local, detach_lookup_work, detach_looked_up, error);
}

/* ---- without a call of their own (assignments) ---- */

static UsbRequest *internal_request(Manager *m, const UsbDevice *dev, const char *domain,
                                    const RequestOrigin *origin) {
        UsbRequest *req = request_new_internal(&usb_kind, m, origin, dev->id, domain);

        set_device(req, dev);
        req->by_instance = TRUE;
        return req;
}

void usb_attach_device(Manager *m, const UsbDevice *dev, const char *domain, const RequestOrigin *origin) {
        UsbRequest *req = internal_request(m, dev, domain, origin);

        worker_run(attach_lookup_work, attach_looked_up, req);
}

void usb_detach_device(Manager *m, const UsbDevice *dev, const char *domain, const RequestOrigin *origin) {
        UsbRequest *req = internal_request(m, dev, domain, origin);

        worker_run(detach_lookup_work, detach_looked_up, req);
}

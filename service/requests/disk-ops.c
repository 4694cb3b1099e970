/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ListDisks, AttachDisk and DetachDisk.
 *
 * A change flows one way: validate -> resolve the disk (sysfs, main thread)
 * -> resolve the domain (worker) -> polkit (async) -> re-resolve and re-check
 * everything, since state may have changed while the user typed a password
 * -> the libvirt call (worker) -> reply and signal (main thread). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "busdict.h"
#include "devname.h"
#include "devxml.h"
#include "disks.h"
#include "model.h"
#include "request.h"

/* ---- which block devices the running domains have ---- */

/* ---- the request shared by AttachDisk and DetachDisk ---- */

typedef struct {
        Request base;                 /* source: the path we attach, or found in the domain */
        DiskInfo *disk;               /* the host disk (NULL in source-only detach) */
        dev_t devnum;                 /* the disk checked: it must stay this one */
        gboolean checked;             /* check_disk() passed once */
        gboolean foreign;             /* detach: an entry passthrough did not make */
} DiskRequest;

static void disk_request_clear(Request *base) {
        DiskRequest *req = (DiskRequest *) base;

        g_clear_pointer(&req->disk, disk_info_free);
}

static void attach_work(gpointer data, GError **error);
static void detach_work(gpointer data, GError **error);

/* The next request must not give the disk to a second VM before the model's
 * refresh has seen this one have it. */
static void disk_attached(Request *base) {
        DiskRequest *req = (DiskRequest *) base;
        g_autofree char *alias = g_strdup_printf(DISK_ALIAS_PREFIX "%s", base->target);

        model_note_vm_hold(base->m->model, req->devnum, base->domain_name, base->target, alias);
}

static const RequestKind disk_kind = {
        .name = "disk",
        .size = sizeof(DiskRequest),
        .clear = disk_request_clear,
        .attach_returns_target = TRUE,
        .attach_work = attach_work,
        .detach_work = detach_work,
        .attached = disk_attached,
};

static void authorize(DiskRequest *req, const char *action, AuthzDone done) {
        g_autoptr(GHashTable) details = g_hash_table_new(g_str_hash, g_str_equal);
        g_autofree char *name = req->disk ? disk_display_name(req->disk) : g_strdup(req->base.source);

        g_hash_table_insert(details, (gpointer) "device", req->base.source);
        g_hash_table_insert(details, (gpointer) "device.name", name);
        if (req->base.alias)
                g_hash_table_insert(details, (gpointer) "device.foreign", (gpointer) (req->foreign ? "true" : "false"));
        if (req->disk) {
                g_hash_table_insert(details, (gpointer) "device.serial", req->disk->serial);
                g_hash_table_insert(details, (gpointer) "device.model", req->disk->model);
        }
        request_authorize(&req->base, action, details, done);
}

/* ---- AttachDisk ---- */

/* [worker] What the running domains hold, from libvirt (when the model cannot say). */
static GHashTable *scan_vm_holds(Virt *virt, GError **error) {
        g_autoptr(GPtrArray) doms = request_scan_running(virt, error);

        return doms ? model_vm_holds(doms) : NULL;
}

gboolean disks_check_now(Request *req, GPtrArray *disks, gboolean readonly, gboolean *system, GError **error) {
        g_autoptr(HostUsage) host = host_usage_read(error);

        *system = FALSE;
        if (!host)
                return FALSE;
        if (!req->vm_held)
                req->vm_held = scan_vm_holds(req->m->virt, error);
        if (!req->vm_held)
                return FALSE;
        host->vm_held = g_hash_table_ref(req->vm_held);
        for (guint i = 0; i < disks->len; i++) {
                g_autoptr(DiskUsage) usage = disk_usage_compute(disks->pdata[i], host);

                if (!disk_check_attachable(disks->pdata[i], usage, readonly, error))
                        return FALSE;
                *system = *system || usage->system;
        }
        return TRUE;
}

/* [worker] Resolve the disk and check, against a fresh look at the host and
 * at what the running domains have, that it may be given away. Once checked,
 * it must stay the same device and the same class. */
static gboolean check_disk(DiskRequest *req, GError **error) {
        g_autoptr(DiskInfo) disk = disks_resolve(req->base.device_spec, error);
        g_autoptr(GPtrArray) one = g_ptr_array_new();
        gboolean system = FALSE;

        if (!disk)
                return FALSE;
        if (req->devnum && disk->devnum != req->devnum) {
                g_set_error(error, PT_ERROR, PT_ERROR_FAILED,
                            "%s changed while waiting for authorization; try again", req->base.device_spec);
                return FALSE;
        }
        g_ptr_array_add(one, disk);
        if (!disks_check_now(&req->base, one, req->base.options.readonly, &system, error))
                return FALSE;
        if (req->checked && system != req->base.system) {
                g_set_error(error, PT_ERROR, PT_ERROR_FAILED,
                            "%s changed while waiting for authorization; try again", req->base.device_spec);
                return FALSE;
        }
        req->base.system = system;
        req->devnum = disk->devnum;
        req->checked = TRUE;
        g_free(req->base.source);
        req->base.source = g_strdup(disk->path);
        g_free(req->base.id);
        req->base.id = g_strdup(disk->id);
        g_clear_pointer(&req->disk, disk_info_free);
        req->disk = g_steal_pointer(&disk);
        return TRUE;
}

static gboolean domain_found(Request *base, virConnectPtr conn, virDomainPtr dom, GError **error) {
        return TRUE;
}

/* Pure: do the options fit together? A LUN is on the SCSI bus (bus forced),
 * has no serial (scsi-block has none), and rawio is for LUNs only. */
static gboolean check_options(CallOptions *o, GError **error) {
        const char *bad = NULL;

        if (o->lun)
                o->scsi = TRUE;
        if (o->lun && o->name)
                bad = "Option 'name' cannot be used with mode 'lun': a SCSI LUN keeps the device's own serial";
        else if (o->rawio && !o->lun)
                bad = "Option 'rawio' needs mode 'lun'";
        else if (o->target && (o->scsi ? !devxml_scsi_target_valid(o->target) : !devxml_target_valid(o->target)))
                bad = o->scsi ? "Option 'target' must be sdX on the scsi bus" : "Option 'target' must be vdX on the virtio bus";
        if (!bad)
                return TRUE;
        g_set_error_literal(error, PT_ERROR, PT_ERROR_INVALID_ARGUMENT, bad);
        return FALSE;
}

/* [worker] The options, the disk (a name that names none is rejected at
 * once; a LUN must be a SCSI disk), then the running domain. */
static void attach_lookup_work(gpointer data, GError **error) {
        DiskRequest *req = data;

        (void) (check_options(&req->base.options, error) && check_disk(req, error) &&
                (!req->base.options.lun || disk_check_lun(req->disk, error)) &&
                request_on_domain(&req->base, domain_found, error));
}

/* [worker] The target to use: the caller's (if free) or the first free one. */
static char *choose_target(DiskRequest *req, const DomainXml *parsed, GError **error) {
        const char *wanted = req->base.options.target;

        if (!wanted)
                return devxml_next_target_on(parsed, req->base.options.scsi);
        for (guint i = 0; i < parsed->disks->len; i++) {
                const DomainDisk *d = parsed->disks->pdata[i];

                if (g_strcmp0(d->target, wanted) == 0) {
                        g_set_error(error, PT_ERROR, PT_ERROR_INVALID_ARGUMENT,
                                    "Target %s is already used in VM %s; choose another or leave it out",
                                    wanted, req->base.domain_name);
                        return NULL;
                }
        }
        return g_strdup(wanted);
}

/* [worker] Attach while we hold the exclusive open, so nothing on the host
 * can mount the disk in between. */
static gboolean attach_exclusive(DiskRequest *req, virDomainPtr dom, const char *target, GError **error) {
        g_autofree char *alias = g_strdup_printf(DISK_ALIAS_PREFIX "%s", target);
        const CallOptions *o = &req->base.options;
        DiskXmlSpec spec = {
                .source = req->base.source, .target = target, .serial = o->name,
                .alias = alias, .readonly = o->readonly, .scsi = o->scsi, .lun = o->lun, .rawio = o->rawio,
                .discard = !o->no_discard,
                /* libvirt takes rotation_rate on SCSI only; a LUN shows the device's own. */
                .ssd = o->scsi && !o->lun && !req->disk->rotational,
        };
        int fd = disk_open_exclusive(req->base.source, req->devnum, error);
        gboolean ok = TRUE;

        if (fd < 0)
                return FALSE;
        g_free(req->base.xml);
        req->base.xml = devxml_build_disk(&spec);
        if (!req->base.xml) {
                close(fd);
                g_set_error(error, PT_ERROR, PT_ERROR_FAILED, "Cannot build the device XML for %s", req->base.source);
                return FALSE;
        }
        if (request_caller_gone(&req->base, error))
                ok = FALSE;
        else if (!req->base.options.dry_run)
                ok = virt_attach_live(dom, req->base.xml, error);
        close(fd);
        return ok;
}

/* [worker] The SCSI bus needs a controller: a domain without one gets a
 * virtio-scsi controller, live, with the service's alias (it stays when
 * the disks leave). *added says whether this call added it. */
static gboolean ensure_scsi_controller(Request *base, virDomainPtr dom, const DomainXml *parsed, gboolean *added,
                                       GError **error) {
        g_autofree char *xml = NULL;

        *added = FALSE;
        if (!base->options.scsi || parsed->scsi_controllers > 0 || base->options.dry_run)
                return TRUE;
        xml = devxml_build_scsi_controller(SCSI_CONTROLLER_ALIAS);
        g_message("Adding a virtio-scsi controller to VM %s", base->domain_name);
        *added = virt_attach_live(dom, xml, error);
        return *added;
}

/* [worker] The disk did not go on the controller this request added: take
 * it away again, so a failed attach leaves the domain as it was. */
static void remove_scsi_controller(Request *base, virDomainPtr dom) {
        g_autoptr(GError) error = NULL;

        g_message("Removing the virtio-scsi controller added to VM %s: the disk was not attached", base->domain_name);
        if (!virt_detach_alias_live(dom, SCSI_CONTROLLER_ALIAS, &error))
                g_warning("VM %s keeps the virtio-scsi controller %s: %s", base->domain_name, SCSI_CONTROLLER_ALIAS,
                          error->message);
}

static gboolean attach_on_domain(Request *base, virConnectPtr conn, virDomainPtr dom, GError **error) {
        DiskRequest *req = (DiskRequest *) base;
        g_autofree char *xml = virt_domain_xml(dom, error);
        g_autoptr(DomainXml) parsed = xml ? devxml_parse_domain(xml, error) : NULL;
        g_autofree char *target = NULL;
        gboolean added = FALSE;

        if (!parsed)
                return FALSE;
        /* What other VMs hold is the model's; the target VM's own XML is fresh. */
        if (base->vm_held)
                model_vm_holds_add_domain(base->vm_held, parsed);
        if (!check_disk(req, error))
                return FALSE;
        if (!request_same_class(base, error))
                return FALSE;
        target = choose_target(req, parsed, error);
        if (!target || !ensure_scsi_controller(base, dom, parsed, &added, error))
                return FALSE;
        if (!attach_exclusive(req, dom, target, error)) {
                if (added)
                        remove_scsi_controller(base, dom);
                return FALSE;
        }
        base->target = g_steal_pointer(&target);
        return TRUE;
}

static void attach_work(gpointer data, GError **error) {
        (void) request_on_domain_alone(data, attach_on_domain, error);
}

/* The re-check and the attach run in the worker (request_attach). */
static void attach_authorized(GError *error, gpointer data) {
        DiskRequest *req = data;

        if (error) {
                request_abort(&req->base, error);
                return;
        }
        /* The claim keeps a second attach of the disk out (the exclusive
         * open does not: QEMU opens without O_EXCL). */
        request_attach(&req->base, g_strdup_printf("disk:%" G_GUINT64_FORMAT, (guint64) req->devnum));
}

/* rawio lets the guest send any command to the device: asked in addition. */
static void attach_authorized_but_rawio(GError *error, gpointer data) {
        DiskRequest *req = data;

        if (error) {
                request_abort(&req->base, error);
                return;
        }
        authorize(req, ACTION_ATTACH_DISK_RAWIO, attach_authorized);
}

static void attach_looked_up(gpointer data, GError *error) {
        DiskRequest *req = data;

        if (error) {
                request_abort(&req->base, error);
                return;
        }
        if (!request_attach_class(&req->base, "is an internal disk; those are not attached automatically. "
                                              "Attach it with AttachDisk"))
                return;
        authorize(req, req->base.system ? ACTION_ATTACH_SYSTEM_DISK : ACTION_ATTACH_DISK,
                  req->base.options.rawio ? attach_authorized_but_rawio : attach_authorized);
}

int method_attach_disk(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        DiskRequest *req = request_new(&disk_kind, userdata, message);
        g_autoptr(GError) local = NULL;

        (void) request_read_call(&req->base, message, OPTIONS_DISK_ATTACH, disk_spec_valid, &local);
        return request_begin(&req->base, local, attach_lookup_work, attach_looked_up, error);
}

/* ---- DetachDisk ---- */

/* [worker] The host disk if it is still there; a /dev path whose disk is
 * gone can still be detached by its source path. */
static gboolean resolve_for_detach(DiskRequest *req, GError **error) {
        g_autoptr(GError) local = NULL;
        g_autoptr(DiskInfo) disk = disks_resolve(req->base.device_spec, &local);

        if (!disk && g_error_matches(local, PT_ERROR, PT_ERROR_NO_SUCH_DEVICE) &&
            g_str_has_prefix(req->base.device_spec, "/dev/")) {
                req->base.source = g_strdup(req->base.device_spec);
                req->base.id = g_strdup(req->base.device_spec);
                return TRUE;
        }
        if (!disk) {
                g_propagate_error(error, g_steal_pointer(&local));
                return FALSE;
        }
        req->devnum = disk->devnum;
        req->base.source = g_strdup(disk->path);
        req->base.id = g_strdup(disk->id);
        req->disk = g_steal_pointer(&disk);
        return TRUE;
}

static gboolean disk_matches(DiskRequest *req, const DomainDisk *d) {
        if (g_strcmp0(d->type, "block") != 0 || !d->source)
                return FALSE;
        if (g_str_equal(d->source, req->base.source))
                return TRUE;
        return req->devnum && disks_source_devnum(d->source) == req->devnum;
}

/* [worker] Find the disk in the domain's live XML. */
static gboolean find_in_domain(DiskRequest *req, virDomainPtr dom, DomainDisk **found, DomainXml **xml_out,
                               GError **error) {
        g_autofree char *xml = virt_domain_xml(dom, error);
        DomainXml *parsed = xml ? devxml_parse_domain(xml, error) : NULL;

        if (!parsed)
                return FALSE;
        for (guint i = 0; i < parsed->disks->len; i++)
                if (disk_matches(req, parsed->disks->pdata[i])) {
                        *found = parsed->disks->pdata[i];
                        *xml_out = parsed;
                        return TRUE;
                }
        domain_xml_free(parsed);
        g_set_error(error, PT_ERROR, PT_ERROR_NOT_ATTACHED,
                    "%s is not attached to VM %s",
                    req->base.source, req->base.domain_name);
        return FALSE;
}

/* The XML that names a disk the domain has, for the log and for libvirt's
 * detach (which goes by target): its bus and mode as found. */
static char *detach_xml(const DomainDisk *disk, gboolean with_alias) {
        gboolean lun = g_strcmp0(disk->device, DISK_MODE_LUN) == 0;
        DiskXmlSpec spec = {
                .source = disk->source, .target = disk->target,
                .scsi = g_strcmp0(disk->bus, DISK_BUS_SCSI) == 0, .lun = lun,
                .alias = with_alias ? disk->alias : NULL, .serial = with_alias && !lun ? disk->serial : NULL,
        };

        return devxml_build_disk(&spec);
}

/* [worker] Record the disk's target and alias. */
static gboolean detach_lookup_on_domain(Request *base, virConnectPtr conn, virDomainPtr dom, GError **error) {
        DomainDisk *disk = NULL;
        g_autoptr(DomainXml) parsed = NULL;

        if (!find_in_domain((DiskRequest *) base, dom, &disk, &parsed, error))
                return FALSE;
        base->target = g_strdup(disk->target);
        base->alias = g_strdup(disk->alias);
        ((DiskRequest *) base)->foreign = !devxml_alias_is_own(disk->alias);
        base->xml = detach_xml(disk, TRUE);
        if (base->alias)
                return TRUE;
        g_set_error(error, PT_ERROR, PT_ERROR_FAILED,
                    "%s has no device alias in VM %s; libvirt cannot report its removal",
                    base->source, base->domain_name);
        return FALSE;
}

static void detach_lookup_work(gpointer data, GError **error) {
        (void) (resolve_for_detach(data, error) && request_on_domain(data, detach_lookup_on_domain, error));
}

static gboolean detach_on_domain(Request *base, virConnectPtr conn, virDomainPtr dom, GError **error) {
        DomainDisk *disk = NULL;
        g_autoptr(DomainXml) parsed = NULL;
        g_autofree char *xml = NULL;

        if (!find_in_domain((DiskRequest *) base, dom, &disk, &parsed, error))
                return FALSE;
        xml = detach_xml(disk, FALSE);
        if (!xml) {
                g_set_error(error, PT_ERROR, PT_ERROR_FAILED, "%s in VM %s is not a disk passthrough can detach (target %s)",
                            base->source, base->domain_name, disk->target);
                return FALSE;
        }
        return virt_detach_live(dom, xml, error);
}

static void detach_work(gpointer data, GError **error) {
        (void) request_on_domain(data, detach_on_domain, error);
}

static void detach_looked_up(gpointer data, GError *error) {
        DiskRequest *req = data;

        if (error) {
                request_abort(&req->base, error);
                return;
        }
        /* Taking back what passthrough did not give (a VM's own disk) needs more. */
        authorize(req, req->foreign ? ACTION_DETACH_FOREIGN : ACTION_DETACH, request_detach_authorized);
}

int method_detach_disk(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        DiskRequest *req = request_new(&disk_kind, userdata, message);
        g_autoptr(GError) local = NULL;

        (void) request_read_call(&req->base, message, OPTION_TIMEOUT_MS | OPTION_DRY_RUN, disk_spec_valid, &local);
        return request_begin(&req->base, local, detach_lookup_work, detach_looked_up, error);
}

/* ---- the Disk objects' methods ---- */

int disk_object_attach(Manager *m, sd_bus_message *message, const char *device, sd_bus_error *error) {
        DiskRequest *req = request_new(&disk_kind, m, message);
        g_autoptr(GError) local = NULL;

        (void) request_read_object_call(&req->base, message, device, NULL, OPTIONS_DISK_ATTACH, &local);
        return request_begin(&req->base, local, attach_lookup_work, attach_looked_up, error);
}

int disk_object_detach(Manager *m, sd_bus_message *message, const char *device, const char *domain,
                       sd_bus_error *error) {
        DiskRequest *req = request_new(&disk_kind, m, message);
        g_autoptr(GError) local = NULL;

        (void) request_read_object_call(&req->base, message, device, domain, OPTION_TIMEOUT_MS | OPTION_DRY_RUN,
                                        &local);
        return request_begin(&req->base, local, detach_lookup_work, detach_looked_up, error);
}

/* ---- without a call of their own (assignments) ---- */

void disk_attach_device(Manager *m, const DiskInfo *disk, const char *domain, const RequestOrigin *origin) {
        DiskRequest *req = request_new_internal(&disk_kind, m, origin, disk->path, domain);

        req->devnum = disk->devnum;   /* it must still be this disk */
        req->base.options.readonly = disk->read_only;
        worker_run(attach_lookup_work, attach_looked_up, req);
}

void disk_detach_device(Manager *m, const DiskInfo *disk, const char *domain, const RequestOrigin *origin) {
        DiskRequest *req = request_new_internal(&disk_kind, m, origin, disk->path, domain);

        worker_run(detach_lookup_work, detach_looked_up, req);
}

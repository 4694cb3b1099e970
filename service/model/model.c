/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <libvirt/libvirt.h>
#include <stdlib.h>
#include <string.h>

#include "assign-store.h"
#include "devxml.h"
#include "model.h"
#include "worker.h"

struct Model {
        Virt *virt;
        ModelHandlers handlers;
        GPtrArray *disks;          /* ModelDisk* */
        GPtrArray *usb;            /* ModelUsb* */
        GPtrArray *domains;        /* ModelDomain* */
        GPtrArray *assignments;    /* ModelAssignment* */
        GHashTable *by_path;       /* object path -> ModelDisk/ModelUsb/ModelDomain (borrowed) */
        gboolean libvirt_known;
        gboolean ready;
        gboolean refreshing;
        gboolean stale;
        guint idle;
        guint refreshes;
        GPtrArray *waiting;        /* Waiter*: model_when_current() callers */
        ModelRemoved removed;
        gpointer removed_data;
        AssignStore *store;
        GHashTable *errors;        /* match -> the last automatic attach's failure */
        GHashTable *vm_held;       /* the last refresh's devnum -> VmHold, or NULL */
};

typedef struct {
        ModelCurrent func;
        gpointer data;
} Waiter;

/* ---------------------------------------------------------------- freeing */

static void strings_free(GPtrArray *a) {
        if (a)
                g_ptr_array_unref(a);
}

static void model_disk_free(ModelDisk *d) {
        g_free(d->path);
        disk_info_free(d->info);
        disk_usage_free(d->usage);
        g_free(d->state_reason);
        g_free(d->in_use);
        g_free(d->attached_by);
        g_free(d->target);
        g_free(d->usb_device);
        disk_contents_free(d->contents);
        g_free(d);
}

static void model_usb_free(ModelUsb *u) {
        g_free(u->path);
        usb_device_free(u->dev);
        g_free(u->state_reason);
        g_free(u->attached_to);
        g_free(u->attached_by);
        g_free(u->target);
        strings_free(u->disks);
        g_free(u);
}

static void model_domain_free(ModelDomain *d) {
        g_free(d->path);
        g_free(d->name);
        g_free(d->uuid);
        strings_free(d->devices);
        g_free(d);
}

static void model_assignment_free(ModelAssignment *a) {
        g_free(a->path);
        g_free(a->match);
        g_free(a->domain);
        g_free(a->last_error);
        g_free(a);
}

/* ---------------------------------------------------------------- the snapshot (worker) */

typedef struct {
        char *name;
        char *uuid;
        int state;
} DomainRow;

static void domain_row_free(DomainRow *row) {
        g_free(row->name);
        g_free(row->uuid);
        g_free(row);
}

typedef struct {
        Model *model;
        GPtrArray *disks;          /* DiskInfo* */
        GPtrArray *disk_syspaths;  /* char*: the disks' real sysfs paths, parallel */
        GPtrArray *contents;       /* DiskContents*, parallel; NULL entries: not probed */
        HostUsage *host;
        GPtrArray *usb;            /* UsbDevice*, no Ids yet */
        GPtrArray *domains;        /* DomainRow* */
        GPtrArray *running;        /* DomainXml* */
        gboolean libvirt_ok;
        GHashTable *usb_removed;   /* from the device events, or NULL */
        GHashTable *disk_removed;
} Snapshot;

static void snapshot_free(Snapshot *snap) {
        g_clear_pointer(&snap->disks, g_ptr_array_unref);
        g_clear_pointer(&snap->disk_syspaths, g_ptr_array_unref);
        g_clear_pointer(&snap->contents, g_ptr_array_unref);
        g_clear_pointer(&snap->host, host_usage_free);
        g_clear_pointer(&snap->usb, g_ptr_array_unref);
        g_clear_pointer(&snap->domains, g_ptr_array_unref);
        g_clear_pointer(&snap->running, g_ptr_array_unref);
        g_clear_pointer(&snap->usb_removed, g_hash_table_unref);
        g_clear_pointer(&snap->disk_removed, g_hash_table_unref);
        g_free(snap);
}

void model_vm_holds_add_domain(GHashTable *holds, const DomainXml *dom) {
        for (guint j = 0; j < dom->disks->len; j++) {
                const DomainDisk *d = dom->disks->pdata[j];

                if (g_strcmp0(d->type, "block") == 0)
                        vm_holds_add(holds, disks_source_devnum(d->source), dom->name, d->target, d->alias);
        }
}

GHashTable *model_vm_holds(GPtrArray *running) {
        GHashTable *held = vm_holds_new();

        for (guint i = 0; running && i < running->len; i++)
                model_vm_holds_add_domain(held, running->pdata[i]);
        return held;
}

void model_note_vm_hold(Model *model, dev_t devnum, const char *domain, const char *target, const char *alias) {
        if (model->vm_held)
                vm_holds_add(model->vm_held, devnum, domain, target, alias);
}

GHashTable *model_vm_holds_copy(Model *model) {
        GHashTable *copy;
        GHashTableIter iter;
        gpointer key, value;

        if (!model->vm_held)
                return NULL;
        copy = vm_holds_new();
        g_hash_table_iter_init(&iter, model->vm_held);
        while (g_hash_table_iter_next(&iter, &key, &value)) {
                const VmHold *hold = value;

                vm_holds_add(copy, (dev_t) *(guint64 *) key, hold->domain, hold->target, hold->alias);
        }
        return copy;
}

/* [worker] Every domain with its state, and the live XML of the running ones. */
static gboolean read_domains(Snapshot *snap, Virt *virt) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GPtrArray) doms = virt_list_all_domains(virt, FALSE, &error);

        snap->domains = g_ptr_array_new_with_free_func((GDestroyNotify) domain_row_free);
        snap->running = g_ptr_array_new_with_free_func((GDestroyNotify) domain_xml_free);
        if (!doms) {
                g_debug("The model without libvirt: %s", error->message);
                return FALSE;
        }
        for (guint i = 0; i < doms->len; i++) {
                DomainRow *row = g_new0(DomainRow, 1);
                int reason = 0;

                virt_domain_identity(doms->pdata[i], &row->name, &row->uuid);
                row->state = VIR_DOMAIN_NOSTATE;
                (void) virDomainGetState(doms->pdata[i], &row->state, &reason, 0);
                g_ptr_array_add(snap->domains, row);
                if (row->state == VIR_DOMAIN_RUNNING || row->state == VIR_DOMAIN_BLOCKED ||
                    row->state == VIR_DOMAIN_PAUSED) {
                        g_autofree char *xml = virt_domain_xml(doms->pdata[i], NULL);
                        DomainXml *parsed = xml ? devxml_parse_domain(xml, NULL) : NULL;

                        if (parsed)
                                g_ptr_array_add(snap->running, parsed);
                }
        }
        return TRUE;
}

static GPtrArray *real_syspaths(GPtrArray *disks) {
        GPtrArray *paths = g_ptr_array_new_full(disks->len, g_free);

        for (guint i = 0; i < disks->len; i++) {
                g_autofree char *link = g_build_filename("/sys/class/block", ((DiskInfo *) disks->pdata[i])->name, NULL);
                char *real = realpath(link, NULL);

                g_ptr_array_add(paths, g_strdup(real ? real : ""));
                free(real);
        }
        return paths;
}

/* What each free disk holds; a disk in use is not opened (its use says enough). */
static GPtrArray *probe_free_disks(GPtrArray *disks, const HostUsage *host) {
        GPtrArray *contents = g_ptr_array_new_full(disks->len, (GDestroyNotify) disk_contents_free);

        for (guint i = 0; i < disks->len; i++) {
                const DiskInfo *disk = disks->pdata[i];
                g_autoptr(DiskUsage) usage = host ? disk_usage_compute(disk, host) : NULL;
                gboolean free_disk = usage && !*usage->in_use && !usage->vm && !usage->critical;

                g_ptr_array_add(contents, free_disk ? disk_contents_probe(disk->path) : NULL);
        }
        return contents;
}

/* Leave out what the device events said was removed. */
static void drop_removed(GPtrArray *objects, GHashTable *removed, gsize key_offset) {
        for (guint i = objects->len; removed && i-- > 0;)
                if (g_hash_table_contains(removed, *(char **) ((char *) objects->pdata[i] + key_offset)))
                        g_ptr_array_remove_index(objects, i);
}

static void snapshot_work(gpointer data, GError **error) {
        Snapshot *snap = data;
        g_autoptr(GError) local = NULL;

        snap->libvirt_ok = read_domains(snap, snap->model->virt);
        snap->disks = disks_list(&local);
        if (!snap->disks) {
                g_warning("The model cannot list disks: %s", local->message);
                snap->disks = g_ptr_array_new_with_free_func((GDestroyNotify) disk_info_free);
                g_clear_error(&local);
        }
        drop_removed(snap->disks, snap->disk_removed, G_STRUCT_OFFSET(DiskInfo, name));
        snap->disk_syspaths = real_syspaths(snap->disks);
        snap->host = host_usage_read(&local);
        if (!snap->host) {
                g_warning("The model cannot read how disks are used: %s", local->message);
                g_clear_error(&local);
        } else {
                snap->host->vm_held = model_vm_holds(snap->running);
        }
        snap->contents = probe_free_disks(snap->disks, snap->host);
        snap->usb = usb_enumerate(&local);
        if (!snap->usb) {
                g_debug("The model without USB devices: %s", local->message);
                snap->usb = g_ptr_array_new_with_free_func((GDestroyNotify) usb_device_free);
        }
        drop_removed(snap->usb, snap->usb_removed, G_STRUCT_OFFSET(UsbDevice, syspath));
}

/* ---------------------------------------------------------------- Ids */

static char *object_path(const char *prefix, const char *id) {
        char *path = NULL;

        if (sd_bus_path_encode(prefix, id, &path) < 0)
                g_error("Out of memory");
        return path;
}

/* ---------------------------------------------------------------- building the new model */

static const DomainXml *usb_holder(GPtrArray *running, const UsbDevice *dev, const DomainUsbHostdev **hostdev) {
        for (guint i = 0; running && i < running->len; i++) {
                const DomainXml *dom = running->pdata[i];

                for (guint j = 0; j < dom->usb_hostdevs->len; j++)
                        if (usb_hostdev_holds(dom->usb_hostdevs->pdata[j], dev)) {
                                *hostdev = dom->usb_hostdevs->pdata[j];
                                return dom;
                        }
        }
        return NULL;
}

static const char *attached_by(const char *alias) {
        return devxml_alias_is_own(alias) ? "passthrough" : "other";
}

static ModelDisk *build_disk(DiskInfo *info, const HostUsage *host) {
        ModelDisk *d = g_new0(ModelDisk, 1);
        DiskUsage *u;

        d->info = info;
        d->path = object_path(MODEL_DISK_PREFIX, info->id);
        d->usage = u = host ? disk_usage_compute(info, host) : NULL;
        d->usb_device = g_strdup("/");
        d->target = g_strdup(u && u->vm ? u->vm_target : "");
        d->attached_by = g_strdup(u && u->vm ? attached_by(u->vm_alias) : "");
        d->in_use = g_strdup(u && *u->in_use ? u->in_use : "");
        if (u && u->vm && !*d->in_use)
                d->in_use = (g_free(d->in_use), g_str_equal(u->vm_device, info->path)
                                                        ? g_strdup_printf("attached to VM %s", u->vm)
                                                        : g_strdup_printf("%s attached to VM %s",
                                                                          u->vm_device + strlen("/dev/"), u->vm));
        if (u && u->vm) {
                d->state = "attached";
                d->state_reason = g_str_equal(u->vm_device, info->path)
                                          ? g_strdup_printf("attached to VM %s as %s", u->vm, u->vm_target)
                                          : g_strdup_printf("%s attached to VM %s as %s", u->vm_device, u->vm,
                                                            u->vm_target);
        } else if (u && (*u->in_use || u->critical)) {
                d->state = "busy";
                d->state_reason = g_strdup(*u->in_use ? u->in_use : u->critical_reason);
        } else {
                d->state = "free";
                d->state_reason = g_strdup("");
        }
        return d;
}

static ModelUsb *build_usb(UsbDevice *dev, GPtrArray *running) {
        ModelUsb *u = g_new0(ModelUsb, 1);
        const DomainUsbHostdev *hostdev = NULL;
        const DomainXml *holder = usb_holder(running, dev, &hostdev);

        u->dev = dev;
        u->path = object_path(MODEL_USB_PREFIX, dev->id);
        u->disks = g_ptr_array_new_with_free_func(g_free);
        u->attached_to = g_strdup(holder ? holder->name : "");
        u->attached_by = g_strdup(holder ? attached_by(hostdev->alias) : "");
        u->target = g_strdup(holder && hostdev->alias ? hostdev->alias : "");
        return u;
}

/* A USB device's state, once its disks are known. */
static void usb_state(ModelUsb *u, Model *model) {
        g_free(u->state_reason);
        if (*u->attached_to) {
                u->state = "attached";
                u->state_reason = g_strdup_printf("attached to VM %s", u->attached_to);
                return;
        }
        if (u->dev->is_hub) {
                u->state = "unavailable";
                u->state_reason = g_strdup("a hub");
                return;
        }
        for (guint i = 0; i < u->disks->len; i++) {
                const ModelDisk *d = g_hash_table_lookup(model->by_path, u->disks->pdata[i]);

                if (d && !g_str_equal(d->state, "free")) {
                        u->state = "busy";
                        u->state_reason = g_strdup_printf("%s %s", d->info->path, d->state_reason);
                        return;
                }
        }
        u->state = "free";
        u->state_reason = g_strdup("");
}

/* Which USB device each disk sits on: the device whose sysfs path holds the disk's. */
static void link_usb_disks(Model *model, GPtrArray *syspaths) {
        for (guint i = 0; i < model->disks->len; i++) {
                ModelDisk *d = model->disks->pdata[i];
                const char *sys = syspaths->pdata[i];
                ModelUsb *best = NULL;

                for (guint j = 0; j < model->usb->len; j++) {
                        ModelUsb *u = model->usb->pdata[j];
                        gsize n = strlen(u->dev->syspath);

                        if (strncmp(sys, u->dev->syspath, n) == 0 && sys[n] == '/' &&
                            (!best || n > strlen(best->dev->syspath)))
                                best = u;
                }
                if (!best)
                        continue;
                g_free(d->usb_device);
                d->usb_device = g_strdup(best->path);
                g_ptr_array_add(best->disks, g_strdup(d->path));
        }
}

static int compare_domains(gconstpointer a, gconstpointer b) {
        return g_strcmp0((*(ModelDomain *const *) a)->name, (*(ModelDomain *const *) b)->name);
}

static void build_domains(Model *model, GPtrArray *rows) {
        for (guint i = 0; i < rows->len; i++) {
                const DomainRow *row = rows->pdata[i];
                ModelDomain *d = g_new0(ModelDomain, 1);

                d->name = g_strdup(row->name);
                d->uuid = g_strdup(row->uuid);
                d->path = object_path(MODEL_DOMAIN_PREFIX, row->uuid);
                d->state = virt_state_name(row->state);
                d->devices = g_ptr_array_new_with_free_func(g_free);
                g_ptr_array_add(model->domains, d);
        }
        g_ptr_array_sort(model->domains, compare_domains);
}

static ModelDomain *domain_named(Model *model, const char *name) {
        for (guint i = 0; i < model->domains->len; i++) {
                ModelDomain *d = model->domains->pdata[i];

                if (g_str_equal(d->name, name))
                        return d;
        }
        return NULL;
}

static void link_domain_devices(Model *model) {
        for (guint i = 0; i < model->disks->len; i++) {
                const ModelDisk *d = model->disks->pdata[i];
                ModelDomain *dom = d->usage && d->usage->vm ? domain_named(model, d->usage->vm) : NULL;

                if (dom)
                        g_ptr_array_add(dom->devices, g_strdup(d->path));
        }
        for (guint i = 0; i < model->usb->len; i++) {
                const ModelUsb *u = model->usb->pdata[i];
                ModelDomain *dom = *u->attached_to ? domain_named(model, u->attached_to) : NULL;

                if (dom)
                        g_ptr_array_add(dom->devices, g_strdup(u->path));
        }
}

static GPtrArray *usb_devices_of(Model *model) {
        GPtrArray *devices = g_ptr_array_new();

        for (guint i = 0; i < model->usb->len; i++)
                g_ptr_array_add(devices, ((ModelUsb *) model->usb->pdata[i])->dev);
        return devices;
}

static GPtrArray *disk_infos_of(Model *model) {
        GPtrArray *disks = g_ptr_array_new();

        for (guint i = 0; i < model->disks->len; i++)
                g_ptr_array_add(disks, ((ModelDisk *) model->disks->pdata[i])->info);
        return disks;
}

/* Who holds the device the assignment names, if exactly one is present. */
static const char *assigned_holder(Model *model, const DeviceMatch *match, gboolean *present) {
        g_autoptr(GPtrArray) usb = usb_devices_of(model);
        g_autoptr(GPtrArray) disks = disk_infos_of(model);

        if (device_match_is_usb(match)) {
                const UsbDevice *dev = device_match_find_usb(match, usb, NULL);

                for (guint i = 0; dev && i < model->usb->len; i++)
                        if (((ModelUsb *) model->usb->pdata[i])->dev == dev) {
                                *present = TRUE;
                                return ((ModelUsb *) model->usb->pdata[i])->attached_to;
                        }
        } else {
                const DiskInfo *disk = device_match_find_disk(match, disks, NULL);

                for (guint i = 0; disk && i < model->disks->len; i++) {
                        const ModelDisk *d = model->disks->pdata[i];

                        if (d->info == disk) {
                                *present = TRUE;
                                return d->usage && d->usage->vm ? d->usage->vm : "";
                        }
                }
        }
        return "";
}

static void build_assignments(Model *model, GPtrArray *assignments, GHashTable *errors) {
        for (guint i = 0; assignments && i < assignments->len; i++) {
                const Assignment *a = assignments->pdata[i];
                ModelAssignment *m = g_new0(ModelAssignment, 1);
                const char *error;

                m->match = device_match_to_string(a->match);
                m->path = object_path(MODEL_ASSIGNMENT_PREFIX, m->match);
                m->kind = device_match_kind(a->match);
                m->domain = g_strdup(a->domain);
                m->attached = g_str_equal(assigned_holder(model, a->match, &m->present), a->domain) && m->present;
                error = errors ? g_hash_table_lookup(errors, m->match) : NULL;
                m->last_error = g_strdup(error ? error : "");
                g_ptr_array_add(model->assignments, m);
                g_hash_table_insert(model->by_path, m->path, m);
        }
}

/* The new model from a snapshot (which it takes the devices from). */
static Model *build(Model *old, Snapshot *snap) {
        Model *model = g_new0(Model, 1);
        g_autoptr(GHashTable) known = usb_ids_known();

        model->disks = g_ptr_array_new_with_free_func((GDestroyNotify) model_disk_free);
        model->usb = g_ptr_array_new_with_free_func((GDestroyNotify) model_usb_free);
        model->domains = g_ptr_array_new_with_free_func((GDestroyNotify) model_domain_free);
        model->assignments = g_ptr_array_new_with_free_func((GDestroyNotify) model_assignment_free);
        model->by_path = g_hash_table_new(g_str_hash, g_str_equal);
        usb_assign_ids_keeping(snap->usb, known);
        for (guint i = 0; i < snap->disks->len; i++) {
                ModelDisk *d = build_disk(g_steal_pointer(&snap->disks->pdata[i]), snap->host);

                d->contents = g_steal_pointer(&snap->contents->pdata[i]);
                if (!d->contents)
                        d->contents = disk_contents_new_empty();
                g_ptr_array_add(model->disks, d);
        }
        for (guint i = 0; i < snap->usb->len; i++)
                g_ptr_array_add(model->usb, build_usb(g_steal_pointer(&snap->usb->pdata[i]), snap->running));
        build_domains(model, snap->domains);
        for (guint i = 0; i < model->disks->len; i++)
                g_hash_table_insert(model->by_path, ((ModelDisk *) model->disks->pdata[i])->path, model->disks->pdata[i]);
        for (guint i = 0; i < model->usb->len; i++)
                g_hash_table_insert(model->by_path, ((ModelUsb *) model->usb->pdata[i])->path, model->usb->pdata[i]);
        for (guint i = 0; i < model->domains->len; i++)
                g_hash_table_insert(model->by_path, ((ModelDomain *) model->domains->pdata[i])->path,
                                    model->domains->pdata[i]);
        link_usb_disks(model, snap->disk_syspaths);
        for (guint i = 0; i < model->usb->len; i++)
                usb_state(model->usb->pdata[i], model);
        link_domain_devices(model);
        build_assignments(model, old->store ? assign_store_get(old->store) : NULL, old->errors);
        model->libvirt_known = snap->libvirt_ok;
        return model;
}

/* ---------------------------------------------------------------- comparing */

/* Each property as text, in a fixed order: what changed is what differs. */
static char *joined(GPtrArray *strings);

static GPtrArray *disk_props(const ModelDisk *d) {
        GPtrArray *p = g_ptr_array_new_with_free_func(g_free);
        const DiskUsage *u = d->usage;
        g_autofree char *mounts = u ? joined(u->mountpoints) : g_strdup("");
        g_autofree char *buses = g_strjoinv(",", (char **) disk_buses(d->info));
        g_autofree char *modes = g_strjoinv(",", (char **) disk_modes(d->info));

        g_ptr_array_add(p, g_strdup_printf("Size=%" G_GUINT64_FORMAT, d->info->size));
        g_ptr_array_add(p, g_strdup_printf("Model=%s", d->info->model));
        g_ptr_array_add(p, g_strdup_printf("Serial=%s", d->info->serial));
        g_ptr_array_add(p, g_strdup_printf("Wwn=%s", d->info->wwn));
        g_ptr_array_add(p, g_strdup_printf("Transport=%s", d->info->transport));
        g_ptr_array_add(p, g_strdup_printf("Removable=%d", d->info->removable));
        g_ptr_array_add(p, g_strdup_printf("ReadOnly=%d", d->info->read_only));
        g_ptr_array_add(p, g_strdup_printf("Rotational=%d", d->info->rotational));
        g_ptr_array_add(p, g_strdup_printf("Buses=%s", buses));
        g_ptr_array_add(p, g_strdup_printf("Modes=%s", modes));
        g_ptr_array_add(p, g_strdup_printf("Mountpoints=%s", mounts));
        g_ptr_array_add(p, g_strdup_printf("System=%d", u && u->system));
        g_ptr_array_add(p, g_strdup_printf("InUse=%s", d->in_use));
        g_ptr_array_add(p, g_strdup_printf("AttachedTo=%s", u && u->vm ? u->vm : ""));
        g_ptr_array_add(p, g_strdup_printf("State=%s", d->state));
        g_ptr_array_add(p, g_strdup_printf("StateReason=%s", d->state_reason));
        g_ptr_array_add(p, g_strdup_printf("AttachedBy=%s", d->attached_by));
        g_ptr_array_add(p, g_strdup_printf("UsbDevice=%s", d->usb_device));
        g_ptr_array_add(p, g_strdup_printf("FsType=%s", d->contents->fs_type));
        g_ptr_array_add(p, g_strdup_printf("Label=%s", d->contents->label));
        g_ptr_array_add(p, g_strdup_printf("PartitionTable=%s", d->contents->partition_table));
        return p;
}

static char *joined(GPtrArray *strings) {
        g_autoptr(GPtrArray) copy = g_ptr_array_new();

        for (guint i = 0; i < strings->len; i++)
                g_ptr_array_add(copy, strings->pdata[i]);
        g_ptr_array_add(copy, NULL);
        return g_strjoinv("\n", (char **) copy->pdata);
}

static GPtrArray *usb_props(const ModelUsb *u) {
        GPtrArray *p = g_ptr_array_new_with_free_func(g_free);
        g_autofree char *disks = joined(u->disks);

        g_ptr_array_add(p, g_strdup_printf("Manufacturer=%s", u->dev->manufacturer));
        g_ptr_array_add(p, g_strdup_printf("Product=%s", u->dev->product));
        g_ptr_array_add(p, g_strdup_printf("Bus=%u", u->dev->bus));
        g_ptr_array_add(p, g_strdup_printf("Device=%u", u->dev->device));
        g_ptr_array_add(p, g_strdup_printf("AttachedTo=%s", u->attached_to));
        g_ptr_array_add(p, g_strdup_printf("State=%s", u->state));
        g_ptr_array_add(p, g_strdup_printf("StateReason=%s", u->state_reason));
        g_ptr_array_add(p, g_strdup_printf("AttachedBy=%s", u->attached_by));
        g_ptr_array_add(p, g_strdup_printf("Disks=%s", disks));
        return p;
}

static GPtrArray *domain_props(const ModelDomain *d) {
        GPtrArray *p = g_ptr_array_new_with_free_func(g_free);
        g_autofree char *devices = joined(d->devices);

        g_ptr_array_add(p, g_strdup_printf("Name=%s", d->name));
        g_ptr_array_add(p, g_strdup_printf("State=%s", d->state));
        g_ptr_array_add(p, g_strdup_printf("Devices=%s", devices));
        return p;
}

static GPtrArray *assignment_props(const ModelAssignment *a) {
        GPtrArray *p = g_ptr_array_new_with_free_func(g_free);

        g_ptr_array_add(p, g_strdup_printf("Domain=%s", a->domain));
        g_ptr_array_add(p, g_strdup_printf("Present=%d", a->present));
        g_ptr_array_add(p, g_strdup_printf("Attached=%d", a->attached));
        g_ptr_array_add(p, g_strdup_printf("LastError=%s", a->last_error));
        return p;
}

static GPtrArray *props_of(ModelKind kind, gconstpointer object) {
        switch (kind) {
        case MODEL_DISK: return disk_props(object);
        case MODEL_USB: return usb_props(object);
        case MODEL_DOMAIN: return domain_props(object);
        case MODEL_ASSIGNMENT:
        default: return assignment_props(object);
        }
}

/* The names (borrowed from `b`'s text, up to '=') of the properties that differ. */
static GPtrArray *changed_names(GPtrArray *a, GPtrArray *b) {
        GPtrArray *names = g_ptr_array_new_with_free_func(g_free);

        for (guint i = 0; i < a->len && i < b->len; i++)
                if (!g_str_equal(a->pdata[i], b->pdata[i])) {
                        const char *text = b->pdata[i];

                        g_ptr_array_add(names, g_strndup(text, strcspn(text, "=")));
                }
        g_ptr_array_add(names, NULL);
        return names;
}

static GPtrArray *objects_of(Model *model, ModelKind kind) {
        switch (kind) {
        case MODEL_DISK: return model->disks;
        case MODEL_USB: return model->usb;
        case MODEL_DOMAIN: return model->domains;
        case MODEL_ASSIGNMENT:
        default: return model->assignments;
        }
}

/* Every model object begins with its path. */
static const char *path_of(ModelKind kind, gconstpointer object) {
        return *(char *const *) object;
}

/* Objects that left, then those that came and those that changed. */
static void report_objects(Model *model, Model *old, ModelKind kind) {
        const ModelHandlers *h = &model->handlers;
        GPtrArray *olds = objects_of(old, kind), *news = objects_of(model, kind);

        for (guint i = 0; olds && i < olds->len; i++)
                if (!g_hash_table_contains(model->by_path, path_of(kind, olds->pdata[i])) && h->removed)
                        h->removed(kind, path_of(kind, olds->pdata[i]), h->data);
        for (guint i = 0; i < news->len; i++) {
                const char *path = path_of(kind, news->pdata[i]);
                gconstpointer before = old->by_path ? g_hash_table_lookup(old->by_path, path) : NULL;
                g_autoptr(GPtrArray) a = NULL, b = NULL, names = NULL;

                if (!before) {
                        if (h->added)
                                h->added(kind, path, h->data);
                        continue;
                }
                a = props_of(kind, before);
                b = props_of(kind, news->pdata[i]);
                names = changed_names(a, b);
                if (names->len > 1 && h->changed)
                        h->changed(kind, path, (const char *const *) names->pdata, h->data);
        }
}

/* A device a VM took or gave back, whoever did it (the service, virsh, a
 * domain that stopped). A device that left the host is DeviceRemoved. */
static void report_holder(Model *model, const char *kind, const char *id, const char *before, const char *now,
                          const char *target) {
        const ModelHandlers *h = &model->handlers;

        if (g_str_equal(before, now))
                return;
        if (*before && h->detached)
                h->detached(before, kind, id, h->data);
        if (*now && h->attached)
                h->attached(now, kind, id, target, h->data);
}

static void report_holders(Model *model, Model *old) {
        for (guint i = 0; i < model->disks->len; i++) {
                const ModelDisk *d = model->disks->pdata[i];
                const ModelDisk *was = old->by_path ? g_hash_table_lookup(old->by_path, d->path) : NULL;
                const char *before = was && was->usage && was->usage->vm ? was->usage->vm : "";
                const char *now = d->usage && d->usage->vm ? d->usage->vm : "";

                if (was || *now)
                        report_holder(model, "disk", d->info->id, before, now, d->target);
        }
        for (guint i = 0; i < model->usb->len; i++) {
                const ModelUsb *u = model->usb->pdata[i];
                const ModelUsb *was = old->by_path ? g_hash_table_lookup(old->by_path, u->path) : NULL;

                if (was || *u->attached_to)
                        report_holder(model, "usb", u->dev->id, was ? was->attached_to : "", u->attached_to,
                                      u->target);
        }
}

/* ---------------------------------------------------------------- refreshing */

static void take_contents(Model *model, Model *fresh) {
        g_clear_pointer(&model->disks, g_ptr_array_unref);
        g_clear_pointer(&model->usb, g_ptr_array_unref);
        g_clear_pointer(&model->domains, g_ptr_array_unref);
        g_clear_pointer(&model->assignments, g_ptr_array_unref);
        g_clear_pointer(&model->by_path, g_hash_table_unref);
        model->assignments = g_steal_pointer(&fresh->assignments);
        model->disks = g_steal_pointer(&fresh->disks);
        model->usb = g_steal_pointer(&fresh->usb);
        model->domains = g_steal_pointer(&fresh->domains);
        model->by_path = g_steal_pointer(&fresh->by_path);
        model->libvirt_known = fresh->libvirt_known;
}

static void refresh_start(Model *model);

/* The callbacks may ask again: they wait for the next turn. */
static void call_waiting(Model *model) {
        g_autoptr(GPtrArray) waiting = g_steal_pointer(&model->waiting);

        model->waiting = g_ptr_array_new_with_free_func(g_free);
        for (guint i = 0; i < waiting->len; i++) {
                Waiter *w = waiting->pdata[i];

                w->func(w->data);
        }
}

static gboolean current_now(gpointer data) {
        Model *model = data;

        if (!model_busy(model))
                call_waiting(model);
        return G_SOURCE_REMOVE;
}

void model_when_current(Model *model, ModelCurrent func, gpointer data) {
        Waiter *w = g_new0(Waiter, 1);

        w->func = func;
        w->data = data;
        g_ptr_array_add(model->waiting, w);
        if (!model_busy(model))
                g_idle_add(current_now, model);
}

static void refresh_done(gpointer data, GError *unused) {
        Snapshot *snap = data;
        Model *model = snap->model;
        Model *fresh = build(model, snap);
        Model old = { 0 };
        gboolean first = !model->ready;
        GHashTable *snap_held = snap->host && snap->libvirt_ok ? g_steal_pointer(&snap->host->vm_held) : NULL;

        snapshot_free(snap);
        model->refreshing = FALSE;
        model->refreshes++;
        /* The old contents stay alive until every signal is out. */
        old.disks = g_steal_pointer(&model->disks);
        old.usb = g_steal_pointer(&model->usb);
        old.domains = g_steal_pointer(&model->domains);
        old.assignments = g_steal_pointer(&model->assignments);
        old.by_path = g_steal_pointer(&model->by_path);
        take_contents(model, fresh);
        g_free(fresh);
        /* NULL when libvirt could not be read: requests then ask it themselves. */
        g_clear_pointer(&model->vm_held, g_hash_table_unref);
        model->vm_held = snap_held;
        model->ready = TRUE;
        if (!first) {
                for (ModelKind k = MODEL_DISK; k <= MODEL_ASSIGNMENT; k++)
                        report_objects(model, &old, k);
                report_holders(model, &old);
        } else if (model->handlers.ready) {
                model->handlers.ready(model->handlers.data);
        }
        g_clear_pointer(&old.by_path, g_hash_table_unref);
        g_clear_pointer(&old.disks, g_ptr_array_unref);
        g_clear_pointer(&old.usb, g_ptr_array_unref);
        g_clear_pointer(&old.domains, g_ptr_array_unref);
        g_clear_pointer(&old.assignments, g_ptr_array_unref);
        if (model->stale)
                refresh_start(model);
        else
                call_waiting(model);
}

static void refresh_start(Model *model) {
        Snapshot *snap;

        if (model->refreshing)
                return;
        snap = g_new0(Snapshot, 1);
        snap->model = model;
        if (model->removed) {
                snap->usb_removed = model->removed("usb", model->removed_data);
                snap->disk_removed = model->removed("disk", model->removed_data);
        }
        model->stale = FALSE;
        model->refreshing = TRUE;
        worker_run(snapshot_work, refresh_done, snap);
}

static gboolean refresh_due(gpointer data) {
        Model *model = data;

        model->idle = 0;
        refresh_start(model);
        return G_SOURCE_REMOVE;
}

void model_invalidate(Model *model) {
        model->stale = TRUE;
        /* One main loop turn first: a burst of events becomes one refresh. */
        if (!model->refreshing && !model->idle)
                model->idle = g_idle_add(refresh_due, model);
}

Model *model_new(Virt *virt, const ModelHandlers *handlers) {
        Model *model = g_new0(Model, 1);

        model->virt = virt;
        if (handlers)
                model->handlers = *handlers;
        model->disks = g_ptr_array_new_with_free_func((GDestroyNotify) model_disk_free);
        model->usb = g_ptr_array_new_with_free_func((GDestroyNotify) model_usb_free);
        model->domains = g_ptr_array_new_with_free_func((GDestroyNotify) model_domain_free);
        model->assignments = g_ptr_array_new_with_free_func((GDestroyNotify) model_assignment_free);
        model->errors = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
        model->by_path = g_hash_table_new(g_str_hash, g_str_equal);
        model->waiting = g_ptr_array_new_with_free_func(g_free);
        model_invalidate(model);
        return model;
}

/* Called after the workers were drained (main.c frees nothing while one
 * runs), so no refresh is under way. */
void model_free(Model *model) {
        if (!model)
                return;
        g_clear_handle_id(&model->idle, g_source_remove);
        g_ptr_array_unref(model->disks);
        g_ptr_array_unref(model->usb);
        g_ptr_array_unref(model->domains);
        g_ptr_array_unref(model->assignments);
        g_hash_table_unref(model->errors);
        if (model->vm_held)
                g_hash_table_unref(model->vm_held);
        g_hash_table_unref(model->by_path);
        g_ptr_array_unref(model->waiting);
        g_free(model);
}

void model_set_store(Model *model, AssignStore *store) {
        model->store = store;
}

void model_note_attach(Model *model, const char *match, const char *message) {
        const char *before = g_hash_table_lookup(model->errors, match);

        if (g_strcmp0(before, message) == 0)
                return;
        if (message)
                g_hash_table_replace(model->errors, g_strdup(match), g_strdup(message));
        else
                g_hash_table_remove(model->errors, match);
        model_invalidate(model);
}

void model_set_removed(Model *model, ModelRemoved removed, gpointer data) {
        model->removed = removed;
        model->removed_data = data;
}

gboolean model_ready(Model *model) {
        return model->ready;
}

gboolean model_busy(Model *model) {
        return model->refreshing || model->stale;
}

GPtrArray *model_disks(Model *model) {
        return model->disks;
}

GPtrArray *model_usb(Model *model) {
        return model->usb;
}

GPtrArray *model_domains(Model *model) {
        return model->domains;
}

GPtrArray *model_assignments(Model *model) {
        return model->assignments;
}

gboolean model_libvirt_known(Model *model) {
        return model->libvirt_known;
}

static gconstpointer find(Model *model, const char *path, GPtrArray *kind) {
        gpointer object = path ? g_hash_table_lookup(model->by_path, path) : NULL;

        for (guint i = 0; object && i < kind->len; i++)
                if (kind->pdata[i] == object)
                        return object;
        return NULL;
}

const ModelDisk *model_find_disk(Model *model, const char *path) {
        return find(model, path, model->disks);
}

const ModelUsb *model_find_usb(Model *model, const char *path) {
        return find(model, path, model->usb);
}

const ModelDomain *model_find_domain(Model *model, const char *path) {
        return find(model, path, model->domains);
}

const ModelAssignment *model_find_assignment(Model *model, const char *path) {
        return find(model, path, model->assignments);
}

guint model_refreshes(Model *model) {
        return model->refreshes;
}

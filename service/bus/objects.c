/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The model's objects on the bus, the freedesktop way: an ObjectManager at
 * /org/example/Passthrough1, one object per disk (/disk/<Id>), USB device
 * (/usb/<Id>) and domain (/domain/<UUID>), path segments escaped with
 * sd_bus_path_encode(). Fallback vtables find the objects in the model;
 * properties are read from it; the model's changes become InterfacesAdded,
 * InterfacesRemoved, PropertiesChanged (one per object and change set) and
 * DeviceAttached / DeviceDetached. */
#include "config.h"

#include <string.h>

#include "errors.h"
#include "manager.h"
#include "model.h"
#include "objects.h"
#include "request.h"

#define DISK_INTERFACE BUS_INTERFACE ".Disk"
#define USB_INTERFACE BUS_INTERFACE ".UsbDevice"
#define DOMAIN_INTERFACE BUS_INTERFACE ".Domain"
#define ASSIGNMENT_INTERFACE BUS_INTERFACE ".Assignment"

static Manager *manager;   /* one per process: the objects' methods need it */

/* ---- the objects' methods: the same requests as the manager's ---- */

int method_disk_object_attach(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        const ModelDisk *d = userdata;

        return disk_object_attach(manager, message, d->info->path, error);
}

int method_disk_object_detach(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        const ModelDisk *d = userdata;

        return disk_object_detach(manager, message, d->info->path, d->usage && d->usage->vm ? d->usage->vm : "",
                                  error);
}

int method_usb_object_attach(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        const ModelUsb *u = userdata;

        return usb_object_attach(manager, message, u->dev->port, error);
}

int method_usb_object_detach(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        const ModelUsb *u = userdata;

        return usb_object_detach(manager, message, u->dev->port, u->attached_to, error);
}

int method_assignment_object_delete(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        const ModelAssignment *a = userdata;

        return assignment_object_delete(manager, message, a->match, error);
}

/* ---- appending values ---- */

static int append_strings(sd_bus_message *reply, const char *type, GPtrArray *strings) {
        int r = sd_bus_message_open_container(reply, 'a', type);

        for (guint i = 0; r >= 0 && strings && i < strings->len; i++)
                r = sd_bus_message_append_basic(reply, type[0], strings->pdata[i]);
        return r >= 0 ? sd_bus_message_close_container(reply) : r;
}

static int append_strv(sd_bus_message *reply, const char *const *strings) {
        int r = sd_bus_message_open_container(reply, 'a', "s");

        for (; r >= 0 && *strings; strings++)
                r = sd_bus_message_append_basic(reply, 's', *strings);
        return r >= 0 ? sd_bus_message_close_container(reply) : r;
}

/* ---- Disk ---- */

static int disk_property(sd_bus *bus, const char *path, const char *interface, const char *property,
                         sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        const ModelDisk *d = userdata;
        const DiskInfo *i = d->info;
        const DiskUsage *u = d->usage;

        if (g_str_equal(property, "Id")) return sd_bus_message_append(reply, "s", i->id);
        if (g_str_equal(property, "Name")) return sd_bus_message_append(reply, "s", i->name);
        if (g_str_equal(property, "Path")) return sd_bus_message_append(reply, "s", i->path);
        if (g_str_equal(property, "Size")) return sd_bus_message_append(reply, "t", i->size);
        if (g_str_equal(property, "Model")) return sd_bus_message_append(reply, "s", i->model);
        if (g_str_equal(property, "Serial")) return sd_bus_message_append(reply, "s", i->serial);
        if (g_str_equal(property, "Wwn")) return sd_bus_message_append(reply, "s", i->wwn);
        if (g_str_equal(property, "Transport")) return sd_bus_message_append(reply, "s", i->transport);
        if (g_str_equal(property, "Removable")) return sd_bus_message_append(reply, "b", i->removable);
        if (g_str_equal(property, "ReadOnly")) return sd_bus_message_append(reply, "b", i->read_only);
        if (g_str_equal(property, "Rotational")) return sd_bus_message_append(reply, "b", i->rotational);
        if (g_str_equal(property, "Buses")) return append_strv(reply, disk_buses(i));
        if (g_str_equal(property, "Modes")) return append_strv(reply, disk_modes(i));
        if (g_str_equal(property, "Mountpoints")) return append_strings(reply, "s", u ? u->mountpoints : NULL);
        if (g_str_equal(property, "System")) return sd_bus_message_append(reply, "b", u && u->system);
        if (g_str_equal(property, "InUse")) return sd_bus_message_append(reply, "s", d->in_use);
        if (g_str_equal(property, "AttachedTo")) return sd_bus_message_append(reply, "s", u && u->vm ? u->vm : "");
        if (g_str_equal(property, "State")) return sd_bus_message_append(reply, "s", d->state);
        if (g_str_equal(property, "StateReason")) return sd_bus_message_append(reply, "s", d->state_reason);
        if (g_str_equal(property, "AttachedBy")) return sd_bus_message_append(reply, "s", d->attached_by);
        if (g_str_equal(property, "UsbDevice")) return sd_bus_message_append(reply, "o", d->usb_device);
        if (g_str_equal(property, "FsType")) return sd_bus_message_append(reply, "s", d->contents->fs_type);
        if (g_str_equal(property, "Label")) return sd_bus_message_append(reply, "s", d->contents->label);
        if (g_str_equal(property, "PartitionTable"))
                return sd_bus_message_append(reply, "s", d->contents->partition_table);
        return sd_bus_error_setf(error, SD_BUS_ERROR_UNKNOWN_PROPERTY, "No property %s", property);
}

#define CONST_PROPERTY(name, type, getter) SD_BUS_PROPERTY(name, type, getter, 0, SD_BUS_VTABLE_PROPERTY_CONST)
#define LIVE_PROPERTY(name, type, getter) \
        SD_BUS_PROPERTY(name, type, getter, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE)

static const sd_bus_vtable disk_vtable[] = {
        SD_BUS_VTABLE_START(0),
        CONST_PROPERTY("Id", "s", disk_property),
        CONST_PROPERTY("Name", "s", disk_property),
        CONST_PROPERTY("Path", "s", disk_property),
        LIVE_PROPERTY("Size", "t", disk_property),
        LIVE_PROPERTY("Model", "s", disk_property),
        LIVE_PROPERTY("Serial", "s", disk_property),
        LIVE_PROPERTY("Wwn", "s", disk_property),
        LIVE_PROPERTY("Transport", "s", disk_property),
        LIVE_PROPERTY("Removable", "b", disk_property),
        LIVE_PROPERTY("ReadOnly", "b", disk_property),
        LIVE_PROPERTY("Rotational", "b", disk_property),
        LIVE_PROPERTY("Buses", "as", disk_property),
        LIVE_PROPERTY("Modes", "as", disk_property),
        LIVE_PROPERTY("Mountpoints", "as", disk_property),
        LIVE_PROPERTY("System", "b", disk_property),
        LIVE_PROPERTY("InUse", "s", disk_property),
        LIVE_PROPERTY("AttachedTo", "s", disk_property),
        LIVE_PROPERTY("State", "s", disk_property),
        LIVE_PROPERTY("StateReason", "s", disk_property),
        LIVE_PROPERTY("AttachedBy", "s", disk_property),
        LIVE_PROPERTY("UsbDevice", "o", disk_property),
        LIVE_PROPERTY("FsType", "s", disk_property),
        LIVE_PROPERTY("Label", "s", disk_property),
        LIVE_PROPERTY("PartitionTable", "s", disk_property),
        SD_BUS_METHOD_WITH_ARGS("Attach", SD_BUS_ARGS("s", domain, "a{sv}", options), SD_BUS_RESULT("s", target),
                                method_disk_object_attach, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Detach", SD_BUS_ARGS("a{sv}", options), SD_BUS_NO_RESULT,
                                method_disk_object_detach, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END,
};

/* ---- UsbDevice ---- */

static int usb_property(sd_bus *bus, const char *path, const char *interface, const char *property,
                        sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        const ModelUsb *u = userdata;
        const UsbDevice *d = u->dev;

        if (g_str_equal(property, "Id")) return sd_bus_message_append(reply, "s", d->id);
        if (g_str_equal(property, "Bus")) return sd_bus_message_append(reply, "u", d->bus);
        if (g_str_equal(property, "Device")) return sd_bus_message_append(reply, "u", d->device);
        if (g_str_equal(property, "Port")) return sd_bus_message_append(reply, "s", d->port);
        if (g_str_equal(property, "VendorId")) return sd_bus_message_append(reply, "s", d->vendor_id);
        if (g_str_equal(property, "ProductId")) return sd_bus_message_append(reply, "s", d->product_id);
        if (g_str_equal(property, "Serial")) return sd_bus_message_append(reply, "s", d->serial);
        if (g_str_equal(property, "Manufacturer")) return sd_bus_message_append(reply, "s", d->manufacturer);
        if (g_str_equal(property, "Product")) return sd_bus_message_append(reply, "s", d->product);
        if (g_str_equal(property, "IsHub")) return sd_bus_message_append(reply, "b", d->is_hub);
        if (g_str_equal(property, "AttachedTo")) return sd_bus_message_append(reply, "s", u->attached_to);
        if (g_str_equal(property, "State")) return sd_bus_message_append(reply, "s", u->state);
        if (g_str_equal(property, "StateReason")) return sd_bus_message_append(reply, "s", u->state_reason);
        if (g_str_equal(property, "AttachedBy")) return sd_bus_message_append(reply, "s", u->attached_by);
        if (g_str_equal(property, "Disks")) return append_strings(reply, "o", u->disks);
        return sd_bus_error_setf(error, SD_BUS_ERROR_UNKNOWN_PROPERTY, "No property %s", property);
}

static const sd_bus_vtable usb_vtable[] = {
        SD_BUS_VTABLE_START(0),
        CONST_PROPERTY("Id", "s", usb_property),
        LIVE_PROPERTY("Bus", "u", usb_property),
        LIVE_PROPERTY("Device", "u", usb_property),
        CONST_PROPERTY("Port", "s", usb_property),
        CONST_PROPERTY("VendorId", "s", usb_property),
        CONST_PROPERTY("ProductId", "s", usb_property),
        CONST_PROPERTY("Serial", "s", usb_property),
        LIVE_PROPERTY("Manufacturer", "s", usb_property),
        LIVE_PROPERTY("Product", "s", usb_property),
        CONST_PROPERTY("IsHub", "b", usb_property),
        LIVE_PROPERTY("AttachedTo", "s", usb_property),
        LIVE_PROPERTY("State", "s", usb_property),
        LIVE_PROPERTY("StateReason", "s", usb_property),
        LIVE_PROPERTY("AttachedBy", "s", usb_property),
        LIVE_PROPERTY("Disks", "ao", usb_property),
        SD_BUS_METHOD_WITH_ARGS("Attach", SD_BUS_ARGS("s", domain, "a{sv}", options), SD_BUS_NO_RESULT,
                                method_usb_object_attach, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Detach", SD_BUS_ARGS("a{sv}", options), SD_BUS_NO_RESULT,
                                method_usb_object_detach, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END,
};

/* ---- Domain ---- */

static int domain_property(sd_bus *bus, const char *path, const char *interface, const char *property,
                           sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        const ModelDomain *d = userdata;

        if (g_str_equal(property, "Name")) return sd_bus_message_append(reply, "s", d->name);
        if (g_str_equal(property, "Uuid")) return sd_bus_message_append(reply, "s", d->uuid);
        if (g_str_equal(property, "State")) return sd_bus_message_append(reply, "s", d->state);
        if (g_str_equal(property, "Devices")) return append_strings(reply, "o", d->devices);
        return sd_bus_error_setf(error, SD_BUS_ERROR_UNKNOWN_PROPERTY, "No property %s", property);
}

static const sd_bus_vtable domain_vtable[] = {
        SD_BUS_VTABLE_START(0),
        LIVE_PROPERTY("Name", "s", domain_property),
        CONST_PROPERTY("Uuid", "s", domain_property),
        LIVE_PROPERTY("State", "s", domain_property),
        LIVE_PROPERTY("Devices", "ao", domain_property),
        SD_BUS_VTABLE_END,
};

/* ---- Assignment ---- */

static int assignment_property(sd_bus *bus, const char *path, const char *interface, const char *property,
                               sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        const ModelAssignment *a = userdata;

        if (g_str_equal(property, "Match")) return sd_bus_message_append(reply, "s", a->match);
        if (g_str_equal(property, "Kind")) return sd_bus_message_append(reply, "s", a->kind);
        if (g_str_equal(property, "Domain")) return sd_bus_message_append(reply, "s", a->domain);
        if (g_str_equal(property, "Present")) return sd_bus_message_append(reply, "b", a->present);
        if (g_str_equal(property, "Attached")) return sd_bus_message_append(reply, "b", a->attached);
        if (g_str_equal(property, "LastError")) return sd_bus_message_append(reply, "s", a->last_error);
        return sd_bus_error_setf(error, SD_BUS_ERROR_UNKNOWN_PROPERTY, "No property %s", property);
}

static const sd_bus_vtable assignment_vtable[] = {
        SD_BUS_VTABLE_START(0),
        CONST_PROPERTY("Match", "s", assignment_property),
        CONST_PROPERTY("Kind", "s", assignment_property),
        LIVE_PROPERTY("Domain", "s", assignment_property),
        LIVE_PROPERTY("Present", "b", assignment_property),
        LIVE_PROPERTY("Attached", "b", assignment_property),
        LIVE_PROPERTY("LastError", "s", assignment_property),
        SD_BUS_METHOD_WITH_ARGS("Delete", SD_BUS_ARGS("a{sv}", options), SD_BUS_NO_RESULT,
                                method_assignment_object_delete, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END,
};

/* ---- finding and listing ---- */

static int find_disk(sd_bus *bus, const char *path, const char *interface, void *userdata, void **found,
                     sd_bus_error *error) {
        const ModelDisk *d = model_find_disk(((Manager *) userdata)->model, path);

        *found = (void *) d;
        return d != NULL;
}

static int find_usb(sd_bus *bus, const char *path, const char *interface, void *userdata, void **found,
                    sd_bus_error *error) {
        const ModelUsb *u = model_find_usb(((Manager *) userdata)->model, path);

        *found = (void *) u;
        return u != NULL;
}

static int find_domain(sd_bus *bus, const char *path, const char *interface, void *userdata, void **found,
                       sd_bus_error *error) {
        const ModelDomain *d = model_find_domain(((Manager *) userdata)->model, path);

        *found = (void *) d;
        return d != NULL;
}

static int find_assignment(sd_bus *bus, const char *path, const char *interface, void *userdata, void **found,
                           sd_bus_error *error) {
        const ModelAssignment *a = model_find_assignment(((Manager *) userdata)->model, path);

        *found = (void *) a;
        return a != NULL;
}

/* Every model object begins with its path. */
static char **paths_of(GPtrArray *objects, gsize path_offset) {
        char **paths = g_new0(char *, objects->len + 1);

        for (guint i = 0; i < objects->len; i++)
                paths[i] = g_strdup(*(char **) ((char *) objects->pdata[i] + path_offset));
        return paths;
}

/* sd-bus frees the list with free(): copy it into malloc'd memory. */
static char **malloc_strv(char **strv) {
        guint n = g_strv_length(strv);
        char **out = calloc(n + 1, sizeof(char *));

        for (guint i = 0; out && i < n; i++)
                out[i] = strdup(strv[i]);
        g_strfreev(strv);
        return out;
}

static int enumerate_disks(sd_bus *bus, const char *prefix, void *userdata, char ***nodes, sd_bus_error *error) {
        *nodes = malloc_strv(paths_of(model_disks(((Manager *) userdata)->model), G_STRUCT_OFFSET(ModelDisk, path)));
        return *nodes ? 1 : -ENOMEM;
}

static int enumerate_usb(sd_bus *bus, const char *prefix, void *userdata, char ***nodes, sd_bus_error *error) {
        *nodes = malloc_strv(paths_of(model_usb(((Manager *) userdata)->model), G_STRUCT_OFFSET(ModelUsb, path)));
        return *nodes ? 1 : -ENOMEM;
}

static int enumerate_domains(sd_bus *bus, const char *prefix, void *userdata, char ***nodes, sd_bus_error *error) {
        *nodes = malloc_strv(paths_of(model_domains(((Manager *) userdata)->model),
                                      G_STRUCT_OFFSET(ModelDomain, path)));
        return *nodes ? 1 : -ENOMEM;
}

static int enumerate_assignments(sd_bus *bus, const char *prefix, void *userdata, char ***nodes,
                                 sd_bus_error *error) {
        *nodes = malloc_strv(paths_of(model_assignments(((Manager *) userdata)->model),
                                      G_STRUCT_OFFSET(ModelAssignment, path)));
        return *nodes ? 1 : -ENOMEM;
}

int objects_register(Manager *m) {
        int r = sd_bus_add_object_manager(m->bus, NULL, MODEL_ROOT);

        manager = m;
        if (r >= 0)
                r = sd_bus_add_fallback_vtable(m->bus, NULL, MODEL_DISK_PREFIX, DISK_INTERFACE, disk_vtable, find_disk, m);
        if (r >= 0)
                r = sd_bus_add_node_enumerator(m->bus, NULL, MODEL_DISK_PREFIX, enumerate_disks, m);
        if (r >= 0)
                r = sd_bus_add_fallback_vtable(m->bus, NULL, MODEL_USB_PREFIX, USB_INTERFACE, usb_vtable, find_usb, m);
        if (r >= 0)
                r = sd_bus_add_node_enumerator(m->bus, NULL, MODEL_USB_PREFIX, enumerate_usb, m);
        if (r >= 0)
                r = sd_bus_add_fallback_vtable(m->bus, NULL, MODEL_DOMAIN_PREFIX, DOMAIN_INTERFACE, domain_vtable,
                                               find_domain, m);
        if (r >= 0)
                r = sd_bus_add_node_enumerator(m->bus, NULL, MODEL_DOMAIN_PREFIX, enumerate_domains, m);
        if (r >= 0)
                r = sd_bus_add_fallback_vtable(m->bus, NULL, MODEL_ASSIGNMENT_PREFIX, ASSIGNMENT_INTERFACE,
                                               assignment_vtable, find_assignment, m);
        if (r >= 0)
                r = sd_bus_add_node_enumerator(m->bus, NULL, MODEL_ASSIGNMENT_PREFIX, enumerate_assignments, m);
        return r;
}

/* ---- the same properties as a dictionary (the List* methods) ---- */

static const sd_bus_vtable *const vtables[] = {
        [MODEL_DISK] = disk_vtable, [MODEL_USB] = usb_vtable, [MODEL_DOMAIN] = domain_vtable,
        [MODEL_ASSIGNMENT] = assignment_vtable,
};

static const sd_bus_property_get_t getters[] = {
        [MODEL_DISK] = disk_property, [MODEL_USB] = usb_property, [MODEL_DOMAIN] = domain_property,
        [MODEL_ASSIGNMENT] = assignment_property,
};

int objects_append_dict(sd_bus_message *reply, ModelKind kind, gconstpointer object) {
        const sd_bus_vtable *v = vtables[kind];
        sd_bus_property_get_t get = getters[kind];
        int r = sd_bus_message_open_container(reply, 'a', "{sv}");

        for (; r >= 0 && v->type != _SD_BUS_VTABLE_END; v++) {
                if (v->type != _SD_BUS_VTABLE_PROPERTY)
                        continue;
                r = sd_bus_message_open_container(reply, 'e', "sv");
                if (r >= 0)
                        r = sd_bus_message_append(reply, "s", v->x.property.member);
                if (r >= 0)
                        r = sd_bus_message_open_container(reply, 'v', v->x.property.signature);
                if (r >= 0)
                        r = get(NULL, NULL, NULL, v->x.property.member, reply, (void *) object, NULL);
                if (r >= 0)
                        r = sd_bus_message_close_container(reply);
                if (r >= 0)
                        r = sd_bus_message_close_container(reply);
        }
        return r >= 0 ? sd_bus_message_close_container(reply) : r;
}

/* ---- the model's changes, as signals ---- */

static const char *interface_of(ModelKind kind) {
        switch (kind) {
        case MODEL_DISK: return DISK_INTERFACE;
        case MODEL_USB: return USB_INTERFACE;
        case MODEL_DOMAIN: return DOMAIN_INTERFACE;
        case MODEL_ASSIGNMENT:
        default: return ASSIGNMENT_INTERFACE;
        }
}

static void on_added(ModelKind kind, const char *path, gpointer data) {
        Manager *m = data;
        int r = sd_bus_emit_interfaces_added(m->bus, path, interface_of(kind), NULL);

        if (r < 0)
                g_warning("Cannot emit InterfacesAdded for %s: %s", path, g_strerror(-r));
}

static void on_removed(ModelKind kind, const char *path, gpointer data) {
        Manager *m = data;
        int r = sd_bus_emit_interfaces_removed(m->bus, path, interface_of(kind), NULL);

        if (r < 0)
                g_warning("Cannot emit InterfacesRemoved for %s: %s", path, g_strerror(-r));
}

static void on_changed(ModelKind kind, const char *path, const char *const *properties, gpointer data) {
        Manager *m = data;
        int r = sd_bus_emit_properties_changed_strv(m->bus, path, interface_of(kind), (char **) properties);

        if (r < 0)
                g_warning("Cannot emit PropertiesChanged for %s: %s", path, g_strerror(-r));
}

static void on_attached(const char *domain, const char *kind, const char *id, const char *target, gpointer data) {
        api_emit_device_attached(data, domain, kind, id, target);
}

static void on_detached(const char *domain, const char *kind, const char *id, gpointer data) {
        api_emit_device_detached(data, domain, kind, id);
}

ModelHandlers objects_handlers(Manager *m) {
        return (ModelHandlers) {
                .added = on_added,
                .removed = on_removed,
                .changed = on_changed,
                .attached = on_attached,
                .detached = on_detached,
                .data = m,
        };
}

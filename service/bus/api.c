/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The exported object: vtable, property, signals and error replies. The
 * methods live with their subject: disk-ops.c, domain-ops.c, usb-ops.c,
 * assign-ops.c. */
#include "config.h"

#include "errors.h"
#include "manager.h"

static int property_get_version(sd_bus *bus, const char *path, const char *interface, const char *property,
                                sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        return sd_bus_message_append(reply, "s", PACKAGE_VERSION);
}

static const sd_bus_vtable manager_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Version", "s", property_get_version, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_METHOD_WITH_ARGS("ListDisks", SD_BUS_NO_ARGS, SD_BUS_RESULT("aa{sv}", disks),
                                method_list_disks, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListUsbDevices", SD_BUS_NO_ARGS, SD_BUS_RESULT("aa{sv}", devices),
                                method_list_usb_devices, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListDomains", SD_BUS_NO_ARGS, SD_BUS_RESULT("aa{sv}", domains),
                                method_list_domains, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListAttached", SD_BUS_ARGS("s", domain), SD_BUS_RESULT("aa{sv}", devices),
                                method_list_attached, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("AttachDisk", SD_BUS_ARGS("s", domain, "s", device, "a{sv}", options),
                                SD_BUS_RESULT("s", target), method_attach_disk, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("DetachDisk", SD_BUS_ARGS("s", domain, "s", device, "a{sv}", options),
                                SD_BUS_NO_RESULT, method_detach_disk, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("AttachUsb", SD_BUS_ARGS("s", domain, "s", device, "a{sv}", options),
                                SD_BUS_NO_RESULT, method_attach_usb, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("DetachUsb", SD_BUS_ARGS("s", domain, "s", device, "a{sv}", options),
                                SD_BUS_NO_RESULT, method_detach_usb, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Assign", SD_BUS_ARGS("s", device, "s", domain, "a{sv}", options),
                                SD_BUS_NO_RESULT, method_assign, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Unassign", SD_BUS_ARGS("s", device, "a{sv}", options),
                                SD_BUS_NO_RESULT, method_unassign, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListAssignments", SD_BUS_NO_ARGS, SD_BUS_RESULT("aa{sv}", assignments),
                                method_list_assignments, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("AttachAll", SD_BUS_ARGS("s", domain, "a{sv}", options),
                                SD_BUS_RESULT("aa{sv}", results), method_attach_all, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("DetachAll", SD_BUS_ARGS("s", domain, "a{sv}", options),
                                SD_BUS_RESULT("aa{sv}", results), method_detach_all, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_SIGNAL_WITH_ARGS("DeviceAttached", SD_BUS_ARGS("s", domain, "s", kind, "s", id, "s", target), 0),
        SD_BUS_SIGNAL_WITH_ARGS("DeviceDetached", SD_BUS_ARGS("s", domain, "s", kind, "s", id), 0),
        SD_BUS_SIGNAL_WITH_ARGS("DeviceAdded", SD_BUS_ARGS("s", kind, "s", id), 0),
        SD_BUS_SIGNAL_WITH_ARGS("DeviceRemoved", SD_BUS_ARGS("s", kind, "s", id), 0),
        SD_BUS_SIGNAL_WITH_ARGS("AutoAttachFailed", SD_BUS_ARGS("s", domain, "s", kind, "s", id, "s", error), 0),
        SD_BUS_VTABLE_END,
};

int api_register(Manager *m) {
        return sd_bus_add_object_vtable(m->bus, &m->vtable_slot, BUS_PATH, BUS_INTERFACE, manager_vtable, m);
}

void api_emit_device_attached(Manager *m, const char *domain, const char *kind, const char *id, const char *target) {
        int r = sd_bus_emit_signal(m->bus, BUS_PATH, BUS_INTERFACE, "DeviceAttached", "ssss", domain, kind, id, target);

        if (r < 0)
                g_warning("Cannot emit DeviceAttached: %s", g_strerror(-r));
}

void api_emit_device_detached(Manager *m, const char *domain, const char *kind, const char *id) {
        int r = sd_bus_emit_signal(m->bus, BUS_PATH, BUS_INTERFACE, "DeviceDetached", "sss", domain, kind, id);

        if (r < 0)
                g_warning("Cannot emit DeviceDetached: %s", g_strerror(-r));
}

void api_emit_device_added(Manager *m, const char *kind, const char *id) {
        int r = sd_bus_emit_signal(m->bus, BUS_PATH, BUS_INTERFACE, "DeviceAdded", "ss", kind, id);

        if (r < 0)
                g_warning("Cannot emit DeviceAdded: %s", g_strerror(-r));
}

void api_emit_device_removed(Manager *m, const char *kind, const char *id) {
        int r = sd_bus_emit_signal(m->bus, BUS_PATH, BUS_INTERFACE, "DeviceRemoved", "ss", kind, id);

        if (r < 0)
                g_warning("Cannot emit DeviceRemoved: %s", g_strerror(-r));
}

void api_emit_auto_attach_failed(Manager *m, const char *domain, const char *kind, const char *id, const char *error) {
        int r = sd_bus_emit_signal(m->bus, BUS_PATH, BUS_INTERFACE, "AutoAttachFailed", "ssss", domain, kind, id, error);

        if (r < 0)
                g_warning("Cannot emit AutoAttachFailed: %s", g_strerror(-r));
}

void reply_error(sd_bus_message *message, const GError *error) {
        sd_bus_error bus_error = SD_BUS_ERROR_NULL;
        int r;

        pt_error_to_bus(error, &bus_error);
        r = sd_bus_reply_method_error(message, &bus_error);
        if (r < 0)
                g_warning("Cannot send an error reply: %s", g_strerror(-r));
        sd_bus_error_free(&bus_error);
}

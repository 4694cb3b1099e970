/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ListDisks, ListUsbDevices and ListDomains: answered from the model. The
 * events already queued (device, mount) are read first, and the answer waits
 * for the refresh they start, so a caller that just set up a loop device or
 * mounted a disk sees it; nothing reads sysfs or libvirt for an answer. */
#include "config.h"

#include "errors.h"
#include "lists.h"
#include "manager.h"
#include "model.h"
#include "mount-monitor.h"
#include "objects.h"
#include "udev-monitor.h"

typedef struct {
        Manager *m;
        sd_bus_message *message;
        ModelKind kind;
} ListCall;

static int append_all(sd_bus_message *reply, Model *model, ModelKind kind) {
        GPtrArray *objects = kind == MODEL_DISK ? model_disks(model)
                             : kind == MODEL_USB ? model_usb(model) : model_domains(model);
        int r = sd_bus_message_open_container(reply, 'a', "a{sv}");

        for (guint i = 0; r >= 0 && i < objects->len; i++)
                r = objects_append_dict(reply, kind, objects->pdata[i]);
        return r >= 0 ? sd_bus_message_close_container(reply) : r;
}

static void answer(gpointer data) {
        ListCall *call = data;
        sd_bus_message *reply = NULL;
        int r;

        if (call->kind == MODEL_DOMAIN && !model_libvirt_known(call->m->model)) {
                g_autoptr(GError) error = g_error_new_literal(PT_ERROR, PT_ERROR_FAILED,
                                                              "libvirt cannot be reached; the domains are unknown");
                reply_error(call->message, error);
                goto out;
        }
        r = sd_bus_message_new_method_return(call->message, &reply);
        if (r >= 0)
                r = append_all(reply, call->m->model, call->kind);
        if (r >= 0)
                r = sd_bus_send(NULL, reply, NULL);
        if (r < 0)
                g_warning("Cannot send a listing: %s", g_strerror(-r));
out:
        sd_bus_message_unref(reply);
        sd_bus_message_unref(call->message);
        g_free(call);
}

void lists_flush_feeds(Manager *m) {
        if (m->udev_watch)
                udev_watch_flush(m->udev_watch);
        if (m->mount_monitor)
                mount_monitor_flush(m->mount_monitor);
}

static int list(sd_bus_message *message, Manager *m, ModelKind kind) {
        ListCall *call = g_new0(ListCall, 1);

        call->m = m;
        call->message = sd_bus_message_ref(message);
        call->kind = kind;
        lists_flush_feeds(m);
        model_when_current(m->model, answer, call);
        return 1;
}

static void redispatch(gpointer data) {
        sd_bus_message *message = data;
        int r = sd_bus_enqueue_for_read(sd_bus_message_get_bus(message), message);

        if (r < 0)
                g_warning("Cannot answer GetManagedObjects: %s", g_strerror(-r));
        sd_bus_message_unref(message);
}

int lists_hold_until_current(Manager *m, sd_bus_message *message) {
        if (!m->model || !sd_bus_message_is_method_call(message, "org.freedesktop.DBus.ObjectManager",
                                                        "GetManagedObjects"))
                return 0;
        lists_flush_feeds(m);
        if (!model_busy(m->model))
                return 0;
        /* sd-bus answers it from the model: let it, once the model has caught up. */
        model_when_current(m->model, redispatch, sd_bus_message_ref(message));
        return 1;
}

int method_list_disks(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        return list(message, userdata, MODEL_DISK);
}

int method_list_usb_devices(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        return list(message, userdata, MODEL_USB);
}

int method_list_domains(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        return list(message, userdata, MODEL_DOMAIN);
}

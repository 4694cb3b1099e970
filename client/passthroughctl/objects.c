/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The service's live model as objects: its ObjectManager's
 * GetManagedObjects, and the interfaces of one object as GetManagedObjects
 * and InterfacesAdded carry them (a{sa{sv}}).
 *
 * Only the service's own interfaces (org.example.Passthrough1.*) are kept;
 * the standard ones sd-bus lists beside them are skipped. Properties are
 * read as record.c reads the List* records, so both print alike. */

#include <errno.h>

#include "ctl.h"

/* properties: a floating reference is taken, another one is added. */
CtlObject *ctl_object_new(const char *path, const char *interface, GVariant *properties)
{
        CtlObject *object = g_new0(CtlObject, 1);

        object->path = g_strdup(path);
        object->interface = g_strdup(interface);
        object->properties = g_variant_ref_sink(properties);
        return object;
}

void ctl_object_free(CtlObject *object)
{
        if (!object)
                return;
        g_free(object->path);
        g_free(object->interface);
        g_variant_unref(object->properties);
        g_free(object);
}

bool ctl_is_own_interface(const char *interface)
{
        return g_str_has_prefix(interface, BUS_INTERFACE ".");
}

/* One {sa{sv}} entry (entered): the interface's properties, when it is ours. */
static int read_interface(sd_bus_message *m, const char *path, GPtrArray *objects)
{
        g_autoptr(GVariant) properties = NULL;
        const char *interface;
        int r;

        r = sd_bus_message_read_basic(m, 's', &interface);
        if (r <= 0)
                return r < 0 ? r : -EBADMSG;
        if (!ctl_is_own_interface(interface))
                return sd_bus_message_skip(m, "a{sv}");
        r = record_read(m, &properties);
        if (r <= 0)
                return r < 0 ? r : -EBADMSG;
        g_ptr_array_add(objects, ctl_object_new(path, interface, properties));
        return 0;
}

/* An array of dict entries "{<entry>}": read(m, path, objects) for each
 * entry (entered), then the array left. */
static int read_entries(sd_bus_message *m, const char *entry,
                        int (*read)(sd_bus_message *m, const char *path, GPtrArray *objects),
                        const char *path, GPtrArray *objects)
{
        g_autofree char *array = g_strdup_printf("{%s}", entry);
        int r;

        r = sd_bus_message_enter_container(m, 'a', array);
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(m, 'e', entry)) > 0) {
                r = read(m, path, objects);
                if (r >= 0)
                        r = sd_bus_message_exit_container(m);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(m);
}

int objects_read_interfaces(sd_bus_message *m, const char *path, GPtrArray *objects)
{
        return read_entries(m, "sa{sv}", read_interface, path, objects);
}

/* One {oa{sa{sv}}} entry (entered). */
static int read_object(sd_bus_message *m, const char *unused, GPtrArray *objects)
{
        g_autofree char *path = NULL;
        const char *p;
        int r;

        r = sd_bus_message_read_basic(m, 'o', &p);
        if (r <= 0)
                return r < 0 ? r : -EBADMSG;
        path = g_strdup(p);
        return objects_read_interfaces(m, path, objects);
}

/* GetManagedObjects' reply, a{oa{sa{sv}}}, in the order it came. */
static int read_managed_objects(sd_bus_message *m, GPtrArray **ret)
{
        g_autoptr(GPtrArray) objects = g_ptr_array_new_with_free_func((GDestroyNotify) ctl_object_free);
        int r;

        r = read_entries(m, "oa{sa{sv}}", read_object, NULL, objects);
        if (r < 0)
                return r;
        *ret = g_steal_pointer(&objects);
        return 0;
}

static int new_get_managed_objects(sd_bus *bus, bool auto_start, sd_bus_message **ret)
{
        g_autoptr(sd_bus_message) call = NULL;
        int r;

        r = sd_bus_message_new_method_call(bus, &call, BUS_NAME, BUS_PATH, OBJECT_MANAGER_INTERFACE,
                                           "GetManagedObjects");
        if (r >= 0)
                r = sd_bus_message_set_auto_start(call, auto_start);
        if (r < 0)
                return r;
        *ret = g_steal_pointer(&call);
        return 0;
}

/* The properties of every object with interface, in the reply's order
 * (a dictionary's: none in particular). */
static GPtrArray *records_of(GPtrArray *objects, const char *interface)
{
        GPtrArray *records = g_ptr_array_new_with_free_func((GDestroyNotify) g_variant_unref);

        for (guint i = 0; i < objects->len; i++) {
                const CtlObject *object = g_ptr_array_index(objects, i);

                if (g_str_equal(object->interface, interface))
                        g_ptr_array_add(records, g_variant_ref(object->properties));
        }
        return records;
}

/* Every object of the service (CtlObjects), from one GetManagedObjects. */
int ctl_fetch_managed_objects(Ctl *ctl, GPtrArray **ret)
{
        g_autoptr(sd_bus_message) call = NULL;
        g_autoptr(sd_bus_message) reply = NULL;
        int r;

        r = new_get_managed_objects(ctl->bus, true, &call);
        if (r < 0) {
                ctl_error(_("Failed to create %s call: %s"), "GetManagedObjects", g_strerror(-r));
                return CTL_EXIT_FAILURE;
        }
        r = ctl_call(ctl, call, 0, false, &reply);
        if (r != CTL_EXIT_OK)
                return r;
        r = read_managed_objects(reply, ret);
        if (r < 0)
                return ctl_parse_failure(r);
        return CTL_EXIT_OK;
}

int ctl_fetch_objects(Ctl *ctl, const char *interface, GPtrArray **ret)
{
        g_autoptr(GPtrArray) objects = NULL;
        int r;

        r = ctl_fetch_managed_objects(ctl, &objects);
        if (r != CTL_EXIT_OK)
                return r;
        *ret = records_of(objects, interface);
        return CTL_EXIT_OK;
}

int objects_get_if_running(sd_bus *bus, GPtrArray **ret)
{
        g_autoptr(sd_bus_message) call = NULL;
        g_autoptr(sd_bus_message) reply = NULL;
        int r;

        r = new_get_managed_objects(bus, false, &call);
        if (r >= 0)
                r = sd_bus_call(bus, call, 0, NULL, &reply);
        if (r >= 0)
                r = read_managed_objects(reply, ret);
        return r;
}

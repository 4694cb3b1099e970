/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* monitor: the live model's objects arriving (InterfacesAdded), leaving
 * (InterfacesRemoved) and changing (PropertiesChanged).
 *
 * Lines name an object as a person knows it, from its properties as last
 * seen: those GetManagedObjects gave at the start (when the service ran)
 * and the signals since. Only the service's own interfaces are shown. */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "monitor.h"

/* Strings made of these are shown as they are, others in double quotes. */
#define BARE_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/._:@+,-"

/* An interface, its kind, the properties that name its objects (the first
 * one set) and its Id. */
typedef struct {
        const char *interface;
        const char *kind;
        const char *name_keys[2];
        const char *id_key;
} ObjectKind;

static const ObjectKind object_kinds[] = {
        { DISK_INTERFACE, "disk", { "Path" }, "Id" },
        { USB_INTERFACE, "usb", { "Product", "Manufacturer" }, "Id" },
        { DOMAIN_INTERFACE, "domain", { "Name" }, "Uuid" },
};

/* An object event, as the line and the JSON show it. */
typedef struct {
        const char *event;           /* "added", "removed" or "changed" */
        const char *path;
        const char *interface;
        GVariant *known;             /* its properties as last seen, or NULL */
        GVariant *properties;        /* for JSON: all, or what changed; or NULL */
        const char *const *invalidated;
        const char *details;         /* what the line says after the name */
} ObjectEvent;

static const ObjectKind *find_kind(const char *interface)
{
        for (size_t i = 0; i < G_N_ELEMENTS(object_kinds); i++)
                if (g_str_equal(object_kinds[i].interface, interface))
                        return &object_kinds[i];
        return NULL;
}

/* "disk", "usb", "domain"; for an interface added later, its last part. */
static char *object_kind(const char *interface)
{
        const ObjectKind *kind = find_kind(interface);

        if (kind)
                return g_strdup(kind->kind);
        return g_ascii_strdown(interface + strlen(BUS_INTERFACE "."), -1);
}

/* The Id a path ends with (unescaped), or the path. */
static char *path_id(const char *path)
{
        g_autofree char *parent = g_path_get_dirname(path);
        char *external = NULL;
        char *id;

        if (sd_bus_path_decode(path, parent, &external) <= 0 || !external)
                return g_strdup(path);
        id = g_strdup(external);
        free(external);
        return id;
}

static const char *object_name(const ObjectKind *kind, GVariant *properties)
{
        const char *name = "";

        for (size_t i = 0; !name[0] && i < G_N_ELEMENTS(kind->name_keys) && kind->name_keys[i]; i++)
                name = record_string(properties, kind->name_keys[i]);
        return name;
}

/* "/dev/sdb (wwn-0x5000c500a1b2c3d4)", "Cruzer Blade (0781:5567:4C530001)",
 * "debian (6f1c2a3e-...)"; without its properties, the Id in its path. */
static char *object_label(const char *interface, GVariant *properties, const char *path)
{
        const ObjectKind *kind = find_kind(interface);
        const char *name, *id;

        if (!kind || !properties)
                return path_id(path);
        name = object_name(kind, properties);
        id = record_string(properties, kind->id_key);
        if (name[0] && id[0])
                return g_strdup_printf("%s (%s)", name, id);
        if (name[0] || id[0])
                return g_strdup(name[0] ? name : id);
        return path_id(path);
}

static void append_string(GString *out, const char *s)
{
        if (s[0] && s[strspn(s, BARE_CHARS)] == '\0') {
                g_string_append(out, s);
                return;
        }
        g_string_append_c(out, '"');
        for (; *s; s++) {
                if (*s == '"' || *s == '\\')
                        g_string_append_c(out, '\\');
                g_string_append_c(out, *s);
        }
        g_string_append_c(out, '"');
}

/* A value for the line: busy, "mounted at /mnt", [/mnt, /srv], 16777216, true. */
static void append_value(GString *out, GVariant *value)
{
        if (g_variant_is_of_type(value, G_VARIANT_TYPE_STRING)) {
                append_string(out, g_variant_get_string(value, NULL));
                return;
        }
        if (!g_variant_is_of_type(value, G_VARIANT_TYPE_STRING_ARRAY)) {
                g_variant_print_string(value, out, FALSE);
                return;
        }
        g_string_append_c(out, '[');
        for (gsize i = 0; i < g_variant_n_children(value); i++) {
                g_autoptr(GVariant) child = g_variant_get_child_value(value, i);

                if (i > 0)
                        g_string_append(out, ", ");
                append_string(out, g_variant_get_string(child, NULL));
        }
        g_string_append_c(out, ']');
}

/* " State=busy StateReason=\"mounted at /mnt\" Size=(invalidated)" */
static char *format_changes(GVariant *changed, const char *const *invalidated)
{
        GString *out = g_string_new(NULL);
        GVariantIter iter;
        const char *key;
        GVariant *value;

        g_variant_iter_init(&iter, changed);
        while (g_variant_iter_next(&iter, "{&sv}", &key, &value)) {
                g_autoptr(GVariant) owned = value;

                g_string_append_printf(out, " %s=", key);
                append_value(out, owned);
        }
        for (const char *const *p = invalidated; p && *p; p++)
                g_string_append_printf(out, " %s=(invalidated)", *p);
        return g_string_free(out, FALSE);
}

/* The ObjectManager's or Properties' signal behind an event. */
static const char *event_signal(const char *event)
{
        if (g_str_equal(event, "added"))
                return "InterfacesAdded";
        return g_str_equal(event, "removed") ? "InterfacesRemoved" : "PropertiesChanged";
}

static char event_sign(const char *event)
{
        if (g_str_equal(event, "added"))
                return '+';
        return g_str_equal(event, "removed") ? '-' : '~';
}

/* kind, then properties and invalidated when there are some. */
static GVariant *object_fields(const char *kind, const ObjectEvent *e)
{
        GVariantBuilder builder;

        g_variant_builder_init(&builder, G_VARIANT_TYPE_VARDICT);
        g_variant_builder_add(&builder, "{sv}", "kind", g_variant_new_string(kind));
        if (e->properties)
                g_variant_builder_add(&builder, "{sv}", "properties", e->properties);
        if (e->invalidated && e->invalidated[0])
                g_variant_builder_add(&builder, "{sv}", "invalidated", g_variant_new_strv(e->invalidated, -1));
        return g_variant_builder_end(&builder);
}

/* "+ disk /dev/loop3 (loop3)", "~ usb Cruzer Blade (0781:5567:SN) State=attached" */
static int print_object_event(const Monitor *monitor, const ObjectEvent *e)
{
        g_autofree char *kind = object_kind(e->interface);
        g_autofree char *label = object_label(e->interface, e->known, e->path);
        g_autofree char *text = g_strdup_printf("%c %s %s%s", event_sign(e->event), kind, label,
                                                e->details ? e->details : "");
        g_autoptr(GVariant) fields = g_variant_ref_sink(object_fields(kind, e));
        const MonitorEvent event = {
                .event = e->event,
                .signal = event_signal(e->event),
                .path = e->path,
                .interface = e->interface,
                .fields = fields,
                .text = text,
        };

        return monitor_print(monitor, &event);
}

/* ---- the objects as last seen ---- */

static char *object_key(const char *path, const char *interface)
{
        return g_strconcat(path, " ", interface, NULL);
}

GHashTable *monitor_objects_new(void)
{
        return g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify) ctl_object_free);
}

/* Keep object (taken). */
static const CtlObject *remember(Monitor *monitor, CtlObject *object)
{
        g_hash_table_replace(monitor->objects, object_key(object->path, object->interface), object);
        return object;
}

static const CtlObject *recall(const Monitor *monitor, const char *path, const char *interface)
{
        g_autofree char *key = object_key(path, interface);

        return g_hash_table_lookup(monitor->objects, key);
}

/* The objects now, when the service runs; it is not started for this. */
void monitor_load_objects(Monitor *monitor)
{
        g_autoptr(GPtrArray) objects = NULL;

        if (objects_get_if_running(monitor->ctl->bus, &objects) < 0)
                return;
        g_ptr_array_set_free_func(objects, NULL);
        for (guint i = 0; i < objects->len; i++)
                remember(monitor, g_ptr_array_index(objects, i));
}

/* ---- the signals ---- */

static int report_parse_failure(const char *member, int r)
{
        ctl_error(_("Failed to parse signal %s: %s"), member, g_strerror(-r));
        return 0;
}

static int on_interfaces_added(Monitor *monitor, sd_bus_message *m)
{
        g_autoptr(GPtrArray) objects = g_ptr_array_new_with_free_func((GDestroyNotify) ctl_object_free);
        const char *path;
        int r;

        r = sd_bus_message_read_basic(m, 'o', &path);
        if (r > 0)
                r = objects_read_interfaces(m, path, objects);
        if (r <= 0)
                return report_parse_failure("InterfacesAdded", r < 0 ? r : -EBADMSG);
        for (guint i = 0; r >= 0 && i < objects->len; i++) {
                CtlObject *object = g_ptr_array_index(objects, i);
                const ObjectEvent e = {
                        .event = "added",
                        .path = object->path,
                        .interface = object->interface,
                        .known = object->properties,
                        .properties = object->properties,
                };

                r = print_object_event(monitor, &e);
                remember(monitor, g_steal_pointer(&objects->pdata[i]));
        }
        return r;
}

static int print_removed(Monitor *monitor, const char *path, const char *interface)
{
        g_autofree char *key = object_key(path, interface);
        const CtlObject *seen = g_hash_table_lookup(monitor->objects, key);
        g_autoptr(GVariant) known = seen ? g_variant_ref(seen->properties) : NULL;
        const ObjectEvent e = {
                .event = "removed",
                .path = path,
                .interface = interface,
                .known = known,
                .properties = known,
        };

        g_hash_table_remove(monitor->objects, key);
        return print_object_event(monitor, &e);
}

static int on_interfaces_removed(Monitor *monitor, sd_bus_message *m)
{
        g_auto(GStrv) interfaces = NULL;
        g_autofree char *path = NULL;
        const char *p;
        int r;

        r = sd_bus_message_read_basic(m, 'o', &p);
        if (r > 0) {
                path = g_strdup(p);
                r = sd_bus_message_read_strv(m, &interfaces);
        }
        if (r <= 0)
                return report_parse_failure("InterfacesRemoved", r < 0 ? r : -EBADMSG);
        for (char **i = interfaces; i && *i && r >= 0; i++)
                if (ctl_is_own_interface(*i))
                        r = print_removed(monitor, path, *i);
        return r;
}

static int on_object_manager(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        if (sd_bus_message_is_signal(m, OBJECT_MANAGER_INTERFACE, "InterfacesAdded") &&
            sd_bus_message_has_signature(m, "oa{sa{sv}}"))
                return on_interfaces_added(userdata, m);
        if (sd_bus_message_is_signal(m, OBJECT_MANAGER_INTERFACE, "InterfacesRemoved") &&
            sd_bus_message_has_signature(m, "oas"))
                return on_interfaces_removed(userdata, m);
        return 0;
}

/* PropertiesChanged's arguments after the interface. */
static int read_changes(sd_bus_message *m, GVariant **ret_changed, char ***ret_invalidated)
{
        int r;

        r = record_read(m, ret_changed);
        if (r <= 0)
                return r < 0 ? r : -EBADMSG;
        r = sd_bus_message_read_strv(m, ret_invalidated);
        return r < 0 ? r : 0;
}

/* The object's properties as last seen, changed (a new entry when
 * unseen); they belong to monitor->objects. */
static GVariant *apply_changes(Monitor *monitor, const char *path, const char *interface, GVariant *changed,
                               char **invalidated)
{
        g_autoptr(GVariant) empty = g_variant_ref_sink(g_variant_new_array(G_VARIANT_TYPE("{sv}"), NULL, 0));
        const CtlObject *seen = recall(monitor, path, interface);
        g_autoptr(GVariant) updated = record_update(seen ? seen->properties : empty, changed,
                                                    (const char *const *) invalidated);

        return remember(monitor, ctl_object_new(path, interface, updated))->properties;
}

static int on_properties_changed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        Monitor *monitor = userdata;
        const char *path = sd_bus_message_get_path(m), *interface;
        g_autoptr(GVariant) changed = NULL;
        g_auto(GStrv) invalidated = NULL;
        g_autofree char *details = NULL;
        ObjectEvent e = { .event = "changed", .path = path };
        int r;

        if (!path || !sd_bus_message_has_signature(m, "sa{sv}as"))
                return 0;
        r = sd_bus_message_read_basic(m, 's', &interface);
        if (r <= 0)
                return report_parse_failure("PropertiesChanged", r < 0 ? r : -EBADMSG);
        if (!ctl_is_own_interface(interface))
                return 0;
        e.interface = interface;
        r = read_changes(m, &changed, &invalidated);
        if (r < 0)
                return report_parse_failure("PropertiesChanged", r);
        e.known = apply_changes(monitor, path, interface, changed, invalidated);
        e.properties = changed;
        e.invalidated = (const char *const *) invalidated;
        e.details = details = format_changes(changed, e.invalidated);
        return print_object_event(monitor, &e);
}

/* From the service's name only: InterfacesAdded and InterfacesRemoved of
 * its ObjectManager, PropertiesChanged of the objects below it. */
int monitor_match_objects(sd_bus *bus, Monitor *monitor)
{
        int r;

        r = sd_bus_match_signal(bus, NULL, BUS_NAME, BUS_PATH, OBJECT_MANAGER_INTERFACE, NULL,
                                on_object_manager, monitor);
        if (r >= 0)
                r = sd_bus_add_match(bus, NULL,
                                     "type='signal',sender='" BUS_NAME "',"
                                     "interface='" PROPERTIES_INTERFACE "',member='PropertiesChanged',"
                                     "path_namespace='" BUS_PATH "'",
                                     on_properties_changed, monitor);
        return r;
}

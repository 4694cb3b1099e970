/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Assign, Unassign, ListAssignments, AttachAll and DetachAll.
 *
 * Assign and Unassign: validate -> resolve the device (a match string, or a
 * present device turned into its most stable match; main thread) -> the
 * domain's name and UUID (worker) -> polkit manage-assignments (Assign:
 * then attach-usb or attach-disk), details from the match (async) ->
 * check again and change the state file (main thread, so concurrent calls
 * are serialised) -> reply; a new assignment is then attached if it can be
 * (autoattach.c). AttachAll and DetachAll take a survey (worker), then run
 * the attaches or detaches of usb-ops.c and disk-ops.c one after another
 * with the caller's polkit checks, and answer with one result per device. */
#include "config.h"

#include <string.h>

#include "audit.h"
#include "autoattach.h"
#include "busdict.h"
#include "devname.h"
#include "model.h"
#include "request.h"
#include "udev-util.h"

#define MAX_DEVICE_ARG 300

/* ---- what Assign and Unassign share ---- */

typedef struct {
        Manager *m;
        sd_bus_message *message;
        char *device_spec;
        char *domain_spec;         /* Assign */
        char *match;               /* canonical match string */
        char *domain_name;
        char *domain_uuid;
        GHashTable *details;       /* polkit details about the device */
} AssignCall;

static AssignCall *assign_call_new(Manager *m, sd_bus_message *message) {
        AssignCall *call = g_new0(AssignCall, 1);

        call->m = m;
        call->message = sd_bus_message_ref(message);
        call->details = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, g_free);
        return call;
}

static void assign_call_free(AssignCall *call) {
        sd_bus_message_unref(call->message);
        g_free(call->device_spec);
        g_free(call->domain_spec);
        g_free(call->match);
        g_free(call->domain_name);
        g_free(call->domain_uuid);
        g_hash_table_unref(call->details);
        g_free(call);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AssignCall, assign_call_free)

static void assign_call_succeed(AssignCall *call) {
        int r = sd_bus_reply_method_return(call->message, "");

        if (r < 0)
                g_warning("Cannot reply to an assignment call: %s", g_strerror(-r));
        assign_call_free(call);
}

/* The outcome of an Assign or Unassign that reached polkit (allowed or
 * not), once; calls refused before are not audited. */
static void audit_call(AssignCall *call, AuditAction action, const GError *error) {
        const char *sender = sd_bus_message_get_sender(call->message);
        AuditRecord record = {
                .action = action, .caller = sender, .assignment = call->match, .vm = call->domain_name,
                .vm_uuid = call->domain_uuid, .kind = g_hash_table_lookup(call->details, "device.kind"),
                .device = call->match, .error = error,
        };

        if (!sender || !callers_uid(call->m->callers, sender, &record.caller_uid))
                record.caller_uid = G_MAXUINT32;
        audit_log(&record);
}

static gboolean device_arg_valid(const char *spec, GError **error) {
        gsize n = strlen(spec);

        if (n > 0 && n <= MAX_DEVICE_ARG && device_string_printable(spec))
                return TRUE;
        g_set_error_literal(error, PT_ERROR, PT_ERROR_INVALID_ARGUMENT,
                            "Invalid device: pass a match string (usb:serial=..., disk:wwn=..., see ListAssignments) "
                            "or a device as AttachUsb and AttachDisk take it (1-300 printable ASCII characters)");
        return FALSE;
}

static gboolean read_no_options(sd_bus_message *message, GError **error) {
        CallOptions options = { 0 };
        gboolean ok = options_read(message, 0, &options, error);

        call_options_clear(&options);
        return ok;
}

/* The prompt's name of what a match covers.  A serial, WWN or by-id name is
 * the device itself: its readable name (`now`, from match_for_present) if the
 * caller named a present one.  A port or vendor:product match covers any such
 * device, whatever is plugged in now: the prompt shows the match itself
 * ("usb:port=1-2"), with the device there now in brackets.  No words of ours:
 * the name reads the same in every language's prompt. */
static char *match_display_name(const DeviceMatch *match, const char *now) {
        g_autofree char *text = device_match_to_string(match);

        if (match->type != MATCH_USB_PORT && match->type != MATCH_USB_ID)
                return now ? g_strdup(now) : g_steal_pointer(&text);
        return now ? g_strdup_printf("%s (%s)", text, now) : g_steal_pointer(&text);
}

/* The polkit details of a match: what it covers, not whichever present
 * device it happens to name now (that device may be a different one later). */
static void add_match_details(GHashTable *details, const DeviceMatch *match) {
        static const char *const keys[] = {
                [MATCH_USB_SERIAL] = "device.serial", [MATCH_USB_PORT] = "device.port",
                [MATCH_DISK_WWN] = "device.wwn",      [MATCH_DISK_SERIAL] = "device.serial",
                [MATCH_DISK_BY_ID] = "device.by-id",
        };

        g_hash_table_replace(details, (gpointer) "device", device_match_to_string(match));
        g_hash_table_replace(details, (gpointer) "device.name",
                             match_display_name(match, g_hash_table_lookup(details, "device.name")));
        g_hash_table_replace(details, (gpointer) "device.kind", g_strdup(device_match_kind(match)));
        if (match->value && keys[match->type])
                g_hash_table_replace(details, (gpointer) keys[match->type], g_strdup(match->value));
        if (match->vendor_id) {
                g_hash_table_replace(details, (gpointer) "device.vendor", g_strdup(match->vendor_id));
                g_hash_table_replace(details, (gpointer) "device.product", g_strdup(match->product_id));
        }
}

/* ---- a caller's device string ---- */

/* The present USB device `spec` names (AttachUsb's forms), or NULL. */
static UsbDevice *present_usb(const char *spec, GPtrArray **devices, GError **error) {
        const UsbDevice *dev;

        if (spec[0] == '/' || !usb_spec_valid(spec, NULL))
                return NULL;
        *devices = usb_list(error);
        dev = *devices ? usb_resolve(*devices, spec, error) : NULL;
        return dev ? usb_device_copy(dev) : NULL;
}

static gboolean refuse_both(const UsbDevice *usb, const DiskInfo *disk, GError **error) {
        g_set_error(error, PT_ERROR, PT_ERROR_AMBIGUOUS_DEVICE,
                    "The name matches USB device %s and disk %s. Pass a match string (usb:... or disk:...)",
                    usb->id, disk->path);
        return FALSE;
}

/* Which present device `spec` names: a USB device as AttachUsb takes it, or
 * a disk as AttachDisk takes it. Exactly one of *usb and *disk is set. */
static gboolean resolve_present(const char *spec, UsbDevice **usb, GPtrArray **usb_devices, DiskInfo **disk,
                                GError **error) {
        g_autoptr(GError) usb_error = NULL;
        g_autoptr(GError) disk_error = NULL;

        *usb = present_usb(spec, usb_devices, &usb_error);
        *disk = disks_resolve(spec, &disk_error);
        if (*usb && *disk)
                return refuse_both(*usb, *disk, error);
        if (*usb || *disk)
                return TRUE;
        if (g_error_matches(usb_error, PT_ERROR, PT_ERROR_AMBIGUOUS_DEVICE))
                g_propagate_error(error, g_steal_pointer(&usb_error));
        else if (spec[0] == '/' || g_error_matches(disk_error, PT_ERROR, PT_ERROR_INVALID_ARGUMENT))
                g_propagate_error(error, g_steal_pointer(&disk_error));
        else
                g_set_error(error, PT_ERROR, PT_ERROR_NO_SUCH_DEVICE,
                            "No USB device or disk '%s' is connected; to assign a device that is not, "
                            "pass a match string (usb:serial=..., disk:wwn=...)", spec);
        return FALSE;
}

/* ---- Assign ---- */

static gboolean refuse_system_disk(const DiskInfo *disk, GError **error) {
        g_autoptr(HostUsage) host = host_usage_read(error);
        g_autoptr(DiskUsage) usage = host ? disk_usage_compute(disk, host) : NULL;

        if (!usage)
                return FALSE;
        if (!usage->system)
                return TRUE;
        g_set_error(error, PT_ERROR, PT_ERROR_SYSTEM_DEVICE,
                    "%s is an internal disk%s%s%s; internal disks are never attached automatically, so they cannot "
                    "be assigned. Attach it with AttachDisk", disk->path, usage->critical_reason ? " (" : "",
                    usage->critical_reason ? usage->critical_reason : "", usage->critical_reason ? ")" : "");
        return FALSE;
}

/* A present device -> its most stable match. */
static DeviceMatch *match_for_present(AssignCall *call, GError **error) {
        g_autoptr(UsbDevice) usb = NULL;
        g_autoptr(GPtrArray) usb_devices = NULL;
        g_autoptr(DiskInfo) disk = NULL;
        g_autoptr(GPtrArray) disks = NULL;

        if (!resolve_present(call->device_spec, &usb, &usb_devices, &disk, error))
                return NULL;
        g_hash_table_replace(call->details, (gpointer) "device.name",
                             usb ? usb_display_name(usb) : disk_display_name(disk));
        if (usb)
                return device_match_for_usb(usb_resolve(usb_devices, usb->id, NULL), usb_devices, error);
        if (!refuse_system_disk(disk, error))
                return NULL;
        disks = disks_list(error);
        for (guint i = 0; disks && i < disks->len; i++)
                if (((DiskInfo *) disks->pdata[i])->devnum == disk->devnum)
                        return device_match_for_disk(disks->pdata[i], disks, error);
        if (disks)
                g_set_error(error, PT_ERROR, PT_ERROR_NO_SUCH_DEVICE, "%s is not a whole disk", disk->path);
        return NULL;
}

static gboolean refuse_assigned(const Assignment *a, const char *match, GError **error) {
        g_autofree char *own = device_match_to_string(a->match);
        g_autofree char *as = g_str_equal(own, match) ? g_strdup("") : g_strdup_printf(" (as %s)", own);

        g_set_error(error, PT_ERROR, PT_ERROR_ALREADY_ASSIGNED,
                    "%s is already assigned%s to VM %s; unassign %s first", match, as, a->domain, own);
        return FALSE;
}

/* The present device the match names (ambiguity refused) must not be
 * assigned already, under this match or another one. */
static gboolean check_unassigned(AssignCall *call, const DeviceMatch *match, GError **error) {
        GPtrArray *list = assign_store_get(call->m->store);
        g_autoptr(GPtrArray) devices = device_match_is_usb(match) ? usb_list(error) : disks_list(error);
        g_autoptr(GError) local = NULL;
        gconstpointer dev;

        if (!devices)
                return FALSE;
        dev = device_match_is_usb(match) ? (gconstpointer) device_match_find_usb(match, devices, &local)
                                         : (gconstpointer) device_match_find_disk(match, devices, &local);
        if (g_error_matches(local, PT_ERROR, PT_ERROR_AMBIGUOUS_DEVICE)) {
                g_propagate_error(error, g_steal_pointer(&local));
                return FALSE;
        }
        for (guint i = 0; i < list->len; i++) {
                const Assignment *a = list->pdata[i];
                g_autofree char *own = device_match_to_string(a->match);
                gboolean same = g_str_equal(own, call->match) ||
                                (dev && (device_match_is_usb(match) ? device_match_usb(a->match, dev)
                                                                    : device_match_disk(a->match, dev)));

                if (same)
                        return refuse_assigned(a, call->match, error);
        }
        return TRUE;
}

static DeviceMatch *resolve_assign_device(AssignCall *call, GError **error) {
        g_autoptr(DeviceMatch) match = NULL;

        if (device_match_string_like(call->device_spec))
                match = device_match_parse(call->device_spec, error);
        else
                match = match_for_present(call, error);
        if (!match)
                return NULL;
        g_free(call->match);
        call->match = device_match_to_string(match);
        add_match_details(call->details, match);
        return check_unassigned(call, match, error) ? g_steal_pointer(&match) : NULL;
}

/* [worker] libvirt's name and UUID for the domain, when it knows it. */
static void assign_lookup_work(gpointer data, GError **error) {
        AssignCall *call = data;
        g_autoptr(GError) local = NULL;
        virDomainPtr dom = virt_find_domain(call->m->virt, call->domain_spec, &local);

        if (dom) {
                virt_domain_identity(dom, &call->domain_name, &call->domain_uuid);
                virDomainFree(dom);
                if (!virt_domain_spec_valid(call->domain_name, NULL))   /* the state file could not keep it */
                        g_set_error(error, PT_ERROR, PT_ERROR_INVALID_ARGUMENT,
                                    "libvirt's name of domain %s contains control characters; rename the domain "
                                    "to assign devices to it", call->domain_uuid);
        } else if (!g_error_matches(local, PT_ERROR, PT_ERROR_NO_SUCH_DOMAIN)) {
                g_propagate_error(error, g_steal_pointer(&local));   /* libvirt unreachable: do not guess */
        } else {
                g_message("Assigning to domain '%s', unknown to libvirt (%s)", call->domain_spec, local->message);
                call->domain_name = g_strdup(call->domain_spec);
                call->domain_uuid = g_uuid_string_is_valid(call->domain_spec) ? g_ascii_strdown(call->domain_spec, -1)
                                                                               : g_strdup("");
        }
}

static void authorize(AssignCall *call, const char *action, AuthzDone done) {
        g_autoptr(GHashTable) details = g_hash_table_new(g_str_hash, g_str_equal);
        GHashTableIter iter;
        gpointer key, value;

        g_hash_table_insert(details, (gpointer) "domain", call->domain_name);
        g_hash_table_insert(details, (gpointer) "domain.uuid", call->domain_uuid);
        g_hash_table_iter_init(&iter, call->details);
        while (g_hash_table_iter_next(&iter, &key, &value))
                g_hash_table_insert(details, key, value);
        authz_check(call->m->authz, call->message, action, details, done, call);
}

static void assign_authorized(GError *error, gpointer data) {
        g_autoptr(AssignCall) call = data;
        g_autoptr(GError) local = NULL;
        g_autoptr(DeviceMatch) match = NULL;
        GPtrArray *list = NULL;

        if (error) {
                audit_call(call, AUDIT_ASSIGN, error);
                reply_error(call->message, error);
                return;
        }
        /* Again: others may have assigned the device, or filled the list, meanwhile. */
        match = device_match_parse(call->match, &local);
        if (match && (!check_unassigned(call, match, &local) ||
                      !assignments_room(assign_store_get(call->m->store), &local)))
                g_clear_pointer(&match, device_match_free);
        if (match) {
                list = assignments_copy(assign_store_get(call->m->store));
                g_ptr_array_add(list, assignment_new(match, call->domain_name, call->domain_uuid));
        }
        if (!match || !assign_store_replace(call->m->store, list, &local)) {
                audit_call(call, AUDIT_ASSIGN, local);
                reply_error(call->message, local);
                return;
        }
        audit_call(call, AUDIT_ASSIGN, NULL);
        model_invalidate(call->m->model);
        autoattach_assigned(call->m->autoattach, call->match);
        assign_call_succeed(g_steal_pointer(&call));
}

/* Both must allow it: managing assignments, and attaching this kind of
 * device (an assigned device is later attached without asking polkit). */
static void assign_managed(GError *error, gpointer data) {
        AssignCall *call = data;
        const char *kind = g_hash_table_lookup(call->details, "device.kind");

        if (error) {
                audit_call(call, AUDIT_ASSIGN, error);
                reply_error(call->message, error);
                assign_call_free(call);
                return;
        }
        authorize(call, g_strcmp0(kind, "usb") == 0 ? ACTION_ATTACH_USB : ACTION_ATTACH_DISK, assign_authorized);
}

static void assign_looked_up(gpointer data, GError *error) {
        AssignCall *call = data;

        if (error) {
                reply_error(call->message, error);
                assign_call_free(call);
                return;
        }
        authorize(call, ACTION_MANAGE_ASSIGNMENTS, assign_managed);
}

static gboolean read_assign(AssignCall *call, sd_bus_message *message, GError **error) {
        const char *device = NULL, *domain = NULL;
        g_autoptr(DeviceMatch) match = NULL;

        if (sd_bus_message_read(message, "ss", &device, &domain) < 0) {
                g_set_error_literal(error, PT_ERROR, PT_ERROR_INVALID_ARGUMENT, "Cannot read the arguments");
                return FALSE;
        }
        if (!read_no_options(message, error) || !device_arg_valid(device, error) ||
            !virt_domain_spec_valid(domain, error) || !assignments_room(assign_store_get(call->m->store), error))
                return FALSE;
        call->device_spec = g_strdup(device);
        call->domain_spec = g_strdup(domain);
        match = resolve_assign_device(call, error);
        return match != NULL;
}

int method_assign(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        AssignCall *call = assign_call_new(userdata, message);
        g_autoptr(GError) local = NULL;

        if (!read_assign(call, message, &local)) {
                assign_call_free(call);
                return pt_error_to_bus(local, error);
        }
        worker_run(assign_lookup_work, assign_looked_up, call);
        return 1;
}

/* ---- Unassign ---- */

/* The assignment a present device falls under, or -1. */
static gint find_for_present(GPtrArray *list, const char *spec) {
        g_autoptr(UsbDevice) usb = NULL;
        g_autoptr(GPtrArray) usb_devices = NULL;
        g_autoptr(DiskInfo) disk = NULL;

        if (!resolve_present(spec, &usb, &usb_devices, &disk, NULL))
                return -1;
        for (guint i = 0; i < list->len; i++) {
                const Assignment *a = list->pdata[i];

                if (usb ? device_match_usb(a->match, usb) : device_match_disk(a->match, disk))
                        return (gint) i;
        }
        return -1;
}

/* The one assignment whose match value (serial, port, WWN...) is `spec`, or -1. */
static gint find_by_value(GPtrArray *list, const char *spec) {
        gint found = -1;

        for (guint i = 0; i < list->len; i++) {
                const Assignment *a = list->pdata[i];

                if (g_strcmp0(a->match->value, spec) != 0)
                        continue;
                if (found >= 0)
                        return -1;
                found = (gint) i;
        }
        return found;
}

/* The assignment `spec` means: a match string, a present device, or the
 * value of one assignment's match (a serial when the device is unplugged). */
static gint find_assignment(GPtrArray *list, const char *spec, GError **error) {
        g_autoptr(DeviceMatch) match = NULL;
        g_autofree char *text = NULL;
        gint i;

        if (device_match_string_like(spec)) {
                match = device_match_parse(spec, error);
                if (!match)
                        return -1;
                text = device_match_to_string(match);
                i = assignments_find(list, text);
        } else {
                i = find_for_present(list, spec);
                if (i < 0)
                        i = find_by_value(list, spec);
        }
        if (i < 0)
                g_set_error(error, PT_ERROR, PT_ERROR_NOT_ASSIGNED,
                            "'%s' is not assigned", spec);
        return i;
}

static void unassign_authorized(GError *error, gpointer data) {
        g_autoptr(AssignCall) call = data;
        g_autoptr(GError) local = NULL;
        GPtrArray *list = assign_store_get(call->m->store);
        gint i = assignments_find(list, call->match);

        if (!error && i < 0)
                error = local = g_error_new(PT_ERROR, PT_ERROR_NOT_ASSIGNED, "%s is not assigned any more",
                                            call->match);
        if (!error) {
                list = assignments_copy(list);
                g_ptr_array_remove_index(list, (guint) i);
                if (!assign_store_replace(call->m->store, list, &local))
                        error = local;
        }
        audit_call(call, AUDIT_UNASSIGN, error);
        if (error) {
                reply_error(call->message, error);
                return;
        }
        model_invalidate(call->m->model);
        assign_call_succeed(g_steal_pointer(&call));
}

/* Unassign `device` (read already, or given); the options are next. */
static int unassign(Manager *m, sd_bus_message *message, const char *device, sd_bus_error *error) {
        g_autoptr(AssignCall) call = assign_call_new(m, message);
        g_autoptr(GError) local = NULL;
        const Assignment *a;
        gint i = -1;

        if (!device)
                local = g_error_new_literal(PT_ERROR, PT_ERROR_INVALID_ARGUMENT, "Cannot read the arguments");
        else if (read_no_options(message, &local) && device_arg_valid(device, &local))
                i = find_assignment(assign_store_get(call->m->store), device, &local);
        if (i < 0)
                return pt_error_to_bus(local, error);
        a = assign_store_get(call->m->store)->pdata[i];
        call->match = device_match_to_string(a->match);
        call->domain_name = g_strdup(a->domain);
        call->domain_uuid = g_strdup(a->uuid);
        add_match_details(call->details, a->match);
        authorize(call, ACTION_MANAGE_ASSIGNMENTS, unassign_authorized);
        g_steal_pointer(&call);
        return 1;
}

int method_unassign(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        const char *device = NULL;

        if (sd_bus_message_read(message, "s", &device) < 0)
                device = NULL;
        return unassign(userdata, message, device, error);
}

int assignment_object_delete(Manager *m, sd_bus_message *message, const char *match, sd_bus_error *error) {
        g_autofree char *copy = g_strdup(match);   /* the object may go while we work */

        return unassign(m, message, copy, error);
}

/* ---- ListAssignments ---- */

typedef struct {
        Manager *m;
        sd_bus_message *message;
        GPtrArray *assignments;   /* a copy */
        Survey *survey;
        char *domain_spec;        /* AttachAll/DetachAll: "" = every domain */
        char *domain_uuid;        /* ... resolved */
        char *domain_name;
        CallOptions options;
        gboolean detach;
        guint next;               /* the next state to handle */
        GPtrArray *results;       /* GVariant* a{sv} */
} SurveyCall;

static SurveyCall *survey_call_new(Manager *m, sd_bus_message *message) {
        SurveyCall *call = g_new0(SurveyCall, 1);

        call->m = m;
        call->message = sd_bus_message_ref(message);
        call->assignments = assignments_copy(assign_store_get(m->store));
        call->results = g_ptr_array_new_with_free_func((GDestroyNotify) g_variant_unref);
        return call;
}

static void survey_call_free(SurveyCall *call) {
        sd_bus_message_unref(call->message);
        g_ptr_array_unref(call->assignments);
        survey_free(call->survey);
        g_free(call->domain_spec);
        g_free(call->domain_uuid);
        g_free(call->domain_name);
        call_options_clear(&call->options);
        g_ptr_array_unref(call->results);
        g_free(call);
}

static void survey_work(gpointer data, GError **error) {
        SurveyCall *call = data;

        call->survey = survey_take(call->m->virt, call->assignments);
}

/* An a{sv} of strings and booleans. */
static int append_row(sd_bus_message *reply, GVariant *row) {
        int r = sd_bus_message_open_container(reply, 'a', "{sv}");
        GVariantIter iter;
        const char *key;
        GVariant *value;

        g_variant_iter_init(&iter, row);
        while (r >= 0 && g_variant_iter_next(&iter, "{&sv}", &key, &value)) {
                if (g_variant_is_of_type(value, G_VARIANT_TYPE_BOOLEAN))
                        r = dict_add_b(reply, key, g_variant_get_boolean(value));
                else
                        r = dict_add_s(reply, key, g_variant_get_string(value, NULL));
                g_variant_unref(value);
        }
        return r >= 0 ? sd_bus_message_close_container(reply) : r;
}

static int append_rows(sd_bus_message *reply, GPtrArray *rows) {
        int r = sd_bus_message_open_container(reply, 'a', "a{sv}");

        for (guint i = 0; r >= 0 && i < rows->len; i++)
                r = append_row(reply, rows->pdata[i]);
        return r >= 0 ? sd_bus_message_close_container(reply) : r;
}

/* Reply with the rows in call->results, then free the call. */
static void reply_results(SurveyCall *call) {
        sd_bus_message *reply = NULL;
        int r;

        r = sd_bus_message_new_method_return(call->message, &reply);
        if (r >= 0)
                r = append_rows(reply, call->results);
        if (r >= 0)
                r = sd_bus_send(NULL, reply, NULL);
        if (r < 0)
                g_warning("Cannot reply: %s", g_strerror(-r));
        sd_bus_message_unref(reply);
        survey_call_free(call);
}

static GVariant *assignment_row(const AssignState *state) {
        GVariantDict dict;

        g_variant_dict_init(&dict, NULL);
        g_variant_dict_insert(&dict, "Match", "s", state->match);
        g_variant_dict_insert(&dict, "Kind", "s", assign_state_kind(state));
        g_variant_dict_insert(&dict, "Domain", "s", state->domain_name);
        g_variant_dict_insert(&dict, "Present", "b", state->usb || state->disk);
        g_variant_dict_insert(&dict, "Attached", "b", state->attached);
        g_variant_dict_insert(&dict, "Id", "s", assign_state_id(state));
        return g_variant_ref_sink(g_variant_dict_end(&dict));
}

static void list_done(gpointer data, GError *unused) {
        SurveyCall *call = data;

        for (guint i = 0; i < call->survey->states->len; i++)
                g_ptr_array_add(call->results, assignment_row(call->survey->states->pdata[i]));
        reply_results(call);
}

int method_list_assignments(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        worker_run(survey_work, list_done, survey_call_new(userdata, message));
        return 1;
}

/* ---- AttachAll and DetachAll ---- */

static void bulk_next(SurveyCall *call);

static void add_result(SurveyCall *call, const AssignState *state, const char *result, const char *error,
                       const char *xml) {
        GVariantDict dict;

        g_variant_dict_init(&dict, NULL);
        g_variant_dict_insert(&dict, "Kind", "s", assign_state_kind(state));
        g_variant_dict_insert(&dict, "Id", "s", assign_state_id(state));
        g_variant_dict_insert(&dict, "Match", "s", state->match);
        g_variant_dict_insert(&dict, "Domain", "s", state->domain_name);
        g_variant_dict_insert(&dict, "Result", "s", result);
        g_variant_dict_insert(&dict, "Error", "s", error ? error : "");
        g_variant_dict_insert(&dict, "Xml", "s", xml ? xml : "");
        g_ptr_array_add(call->results, g_variant_ref_sink(g_variant_dict_end(&dict)));
}

static void bulk_item_done(Request *req, const GError *error, gpointer data) {
        SurveyCall *call = data;
        const AssignState *state = call->survey->states->pdata[call->next - 1];
        const char *result = call->detach ? (call->options.dry_run ? "would detach" : "detached")
                                          : (call->options.dry_run ? "would attach" : "attached");

        add_result(call, state, error ? "failed" : result, error ? error->message : NULL, req->xml);
        bulk_next(call);
}

static gboolean wanted(SurveyCall *call, const AssignState *state) {
        if (!*call->domain_spec)
                return TRUE;
        if (*call->domain_uuid && *state->domain_uuid)
                return g_str_equal(call->domain_uuid, state->domain_uuid);
        return g_str_equal(call->domain_name, state->domain_name);
}

/* The result that needs no libvirt call, or NULL. */
static const char *settled(SurveyCall *call, const AssignState *state) {
        if (state->error)
                return "failed";
        if (!state->usb && !state->disk)
                return "not present";
        if (!state->running)
                return "domain not running";
        if (!call->detach && state->attached)
                return "already attached";
        if (call->detach && !state->attached)
                return "not attached";
        return NULL;
}

static void bulk_start(SurveyCall *call, const AssignState *state) {
        RequestOrigin origin = {
                .subject = call->message, .dry_run = call->options.dry_run, .done = bulk_item_done, .data = call,
        };
        const char *domain = *state->domain_uuid ? state->domain_uuid : state->domain_name;

        if (call->detach && state->usb)
                usb_detach_device(call->m, state->usb, domain, &origin);
        else if (call->detach)
                disk_detach_device(call->m, state->disk, domain, &origin);
        else if (state->usb)
                usb_attach_device(call->m, state->usb, domain, &origin);
        else
                disk_attach_device(call->m, state->disk, domain, &origin);
}

/* Handle the states one after another; reply after the last. */
static void bulk_next(SurveyCall *call) {
        while (call->next < call->survey->states->len) {
                const AssignState *state = call->survey->states->pdata[call->next++];
                const char *result;

                if (!wanted(call, state))
                        continue;
                result = settled(call, state);
                if (!result) {
                        bulk_start(call, state);
                        return;
                }
                add_result(call, state, result, state->error ? state->error->message : NULL, NULL);
        }
        reply_results(call);
}

/* [worker] The domain (if one is named), then the survey. */
static void bulk_work(gpointer data, GError **error) {
        SurveyCall *call = data;
        virDomainPtr dom = *call->domain_spec ? virt_find_domain(call->m->virt, call->domain_spec, error) : NULL;

        if (dom) {
                virt_domain_identity(dom, &call->domain_name, &call->domain_uuid);
                virDomainFree(dom);
        }
        if (!*call->domain_spec || dom)
                survey_work(call, error);
}

static void bulk_done(gpointer data, GError *error) {
        SurveyCall *call = data;

        if (error) {
                reply_error(call->message, error);
                survey_call_free(call);
                return;
        }
        bulk_next(call);
}

static int bulk_method(sd_bus_message *message, Manager *m, gboolean detach, sd_bus_error *error) {
        SurveyCall *call = survey_call_new(m, message);
        g_autoptr(GError) local = NULL;
        const char *domain = NULL;
        guint allowed = OPTION_DRY_RUN | (detach ? OPTION_TIMEOUT_MS : 0);

        call->detach = detach;
        if (sd_bus_message_read(message, "s", &domain) < 0)
                local = g_error_new_literal(PT_ERROR, PT_ERROR_INVALID_ARGUMENT, "Cannot read the arguments");
        else if (options_read(message, allowed, &call->options, &local) &&
                 (!*domain || virt_domain_spec_valid(domain, &local)))
                call->domain_spec = g_strdup(domain);
        if (!call->domain_spec) {
                survey_call_free(call);
                return pt_error_to_bus(local, error);
        }
        worker_run(bulk_work, bulk_done, call);
        return 1;
}

int method_attach_all(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        return bulk_method(message, userdata, FALSE, error);
}

int method_detach_all(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        return bulk_method(message, userdata, TRUE, error);
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <libvirt/libvirt.h>

#include "audit.h"
#include "autoattach.h"
#include "model.h"
#include "request.h"
#include "worker.h"

#define PASS_DELAY_MS 100          /* events coming together make one pass */
#define REMOVAL_WAIT_STEPS 50      /* a stale USB entry's removal: 50 x 100 ms */

/* ---------------------------------------------------------------- the survey */

const char *assign_state_id(const AssignState *state) {
        if (state->usb)
                return state->usb->id;
        return state->disk ? state->disk->id : "";
}

const char *assign_state_kind(const AssignState *state) {
        return device_match_kind(state->assignment->match);
}

static void assign_state_free(AssignState *state) {
        assignment_free(state->assignment);
        g_free(state->match);
        g_clear_pointer(&state->usb, usb_device_free);
        g_clear_pointer(&state->disk, disk_info_free);
        g_clear_error(&state->error);
        g_free(state->domain_name);
        g_free(state->domain_uuid);
        g_free(state);
}

void survey_free(Survey *survey) {
        if (!survey)
                return;
        g_clear_pointer(&survey->states, g_ptr_array_unref);
        g_clear_pointer(&survey->running, g_ptr_array_unref);
        g_clear_pointer(&survey->usb, g_ptr_array_unref);
        g_clear_pointer(&survey->disks, g_ptr_array_unref);
        g_clear_error(&survey->libvirt_error);
        g_free(survey);
}

/* [worker] UUID -> name of every domain libvirt has, on every connection. */
static GHashTable *known_domains(Virt *virt, GError **error) {
        g_autoptr(GPtrArray) doms = virt_list_all_domains(virt, FALSE, error);
        GHashTable *known;

        if (!doms)
                return NULL;
        known = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
        for (guint i = 0; i < doms->len; i++) {
                char uuid[VIR_UUID_STRING_BUFLEN] = "";

                (void) virDomainGetUUIDString(doms->pdata[i], uuid);
                g_hash_table_insert(known, g_strdup(uuid), g_strdup(virDomainGetName(doms->pdata[i])));
        }
        return known;
}

/* The assignment's domain among `known`: by UUID when it has one, else by name. */
static void find_domain(AssignState *state, GHashTable *known) {
        const Assignment *a = state->assignment;
        GHashTableIter iter;
        gpointer name, uuid;

        state->domain_name = g_strdup(a->domain);
        state->domain_uuid = g_strdup(a->uuid);
        if (!known)
                return;
        g_hash_table_iter_init(&iter, known);
        while (g_hash_table_iter_next(&iter, &uuid, &name)) {
                if (*a->uuid ? !g_str_equal(a->uuid, uuid) : !g_str_equal(a->domain, name))
                        continue;
                state->domain_known = TRUE;
                g_free(state->domain_name);
                state->domain_name = g_strdup(name);
                g_free(state->domain_uuid);
                state->domain_uuid = g_strdup(uuid);
        }
}

static const DomainXml *find_running(GPtrArray *running, const AssignState *state) {
        for (guint i = 0; i < running->len; i++) {
                const DomainXml *dom = running->pdata[i];

                if (g_strcmp0(dom->uuid, state->domain_uuid) == 0)
                        return dom;
        }
        return NULL;
}

static gboolean domain_has_usb(const DomainXml *dom, const UsbDevice *dev) {
        for (guint i = 0; i < dom->usb_hostdevs->len; i++)
                if (usb_hostdev_holds(dom->usb_hostdevs->pdata[i], dev))
                        return TRUE;
        return FALSE;
}

static gboolean domain_has_disk(const DomainXml *dom, const DiskInfo *disk) {
        for (guint i = 0; i < dom->disks->len; i++) {
                const DomainDisk *d = dom->disks->pdata[i];

                if (g_strcmp0(d->type, "block") == 0 && disks_source_devnum(d->source) == disk->devnum)
                        return TRUE;
        }
        return FALSE;
}

/* The present device the match names; ambiguity is kept as the state's error. */
static void find_device(AssignState *state, Survey *survey) {
        const DeviceMatch *match = state->assignment->match;
        g_autoptr(GError) error = NULL;
        const UsbDevice *usb = NULL;
        const DiskInfo *disk = NULL;

        if (device_match_is_usb(match))
                usb = device_match_find_usb(match, survey->usb, &error);
        else
                disk = device_match_find_disk(match, survey->disks, &error);
        state->usb = usb ? usb_device_copy(usb) : NULL;
        state->disk = disk ? disk_info_copy(disk) : NULL;
        if (g_error_matches(error, PT_ERROR, PT_ERROR_AMBIGUOUS_DEVICE))
                state->error = g_steal_pointer(&error);
}

static AssignState *state_new(Survey *survey, GHashTable *known, const Assignment *a) {
        AssignState *state = g_new0(AssignState, 1);
        const DomainXml *dom;

        state->assignment = assignment_copy(a);
        state->match = device_match_to_string(a->match);
        find_device(state, survey);
        find_domain(state, known);
        dom = state->domain_known ? find_running(survey->running, state) : NULL;
        state->running = dom != NULL;
        if (dom && state->usb)
                state->attached = domain_has_usb(dom, state->usb);
        else if (dom && state->disk)
                state->attached = domain_has_disk(dom, state->disk);
        return state;
}

/* "usb:serial=SN (VM a), usb:port=1-2 (VM b)" */
static char *describe_group(GPtrArray *group) {
        GString *text = g_string_new(NULL);

        for (guint i = 0; i < group->len; i++) {
                const AssignState *state = group->pdata[i];

                g_string_append_printf(text, "%s%s (VM %s)", i ? ", " : "", state->match, state->domain_name);
        }
        return g_string_free(text, FALSE);
}

/* A present device that several assignments name goes to none of them:
 * each gets the error (Assign refuses this only while the device is there). */
static void refuse_assigned_twice(GPtrArray *states) {
        g_autoptr(GHashTable) by_device = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                                                (GDestroyNotify) g_ptr_array_unref);
        GHashTableIter iter;
        gpointer group;

        for (guint i = 0; i < states->len; i++) {
                AssignState *state = states->pdata[i];
                char *key = g_strdup_printf("%s\t%s", assign_state_kind(state), assign_state_id(state));

                if (!*assign_state_id(state)) {
                        g_free(key);
                        continue;
                }
                if (!g_hash_table_contains(by_device, key))
                        g_hash_table_insert(by_device, g_strdup(key), g_ptr_array_new());
                g_ptr_array_add(g_hash_table_lookup(by_device, key), state);
                g_free(key);
        }
        g_hash_table_iter_init(&iter, by_device);
        while (g_hash_table_iter_next(&iter, NULL, &group)) {
                g_autofree char *text = ((GPtrArray *) group)->len > 1 ? describe_group(group) : NULL;

                for (guint i = 0; text && i < ((GPtrArray *) group)->len; i++) {
                        AssignState *state = ((GPtrArray *) group)->pdata[i];

                        g_clear_error(&state->error);
                        state->error = g_error_new(PT_ERROR, PT_ERROR_ALREADY_ASSIGNED,
                                                   "%s is assigned twice: %s. Unassign all but one",
                                                   assign_state_id(state), text);
                }
        }
}

static void list_devices(Survey *survey) {
        g_autoptr(GError) error = NULL;

        survey->usb = usb_list(&error);
        if (!survey->usb)
                g_warning("Assignments: cannot list USB devices: %s", error->message);
        g_clear_error(&error);
        survey->disks = disks_list(&error);
        if (!survey->disks)
                g_warning("Assignments: cannot list disks: %s", error->message);
}

Survey *survey_take(Virt *virt, GPtrArray *assignments) {
        Survey *survey = g_new0(Survey, 1);
        g_autoptr(GHashTable) known = NULL;

        /* The domains first: a device plugged in and attached meanwhile is
         * then in both lists, never in a domain only (it would look gone). */
        known = known_domains(virt, &survey->libvirt_error);
        survey->running = known ? request_scan_running(virt, &survey->libvirt_error) : NULL;
        if (!survey->running) {
                g_clear_pointer(&known, g_hash_table_unref);
                survey->running = g_ptr_array_new_with_free_func((GDestroyNotify) domain_xml_free);
        }
        list_devices(survey);
        survey->states = g_ptr_array_new_with_free_func((GDestroyNotify) assign_state_free);
        for (guint i = 0; i < assignments->len; i++)
                g_ptr_array_add(survey->states, state_new(survey, known, assignments->pdata[i]));
        refuse_assigned_twice(survey->states);
        return survey;
}

/* ---------------------------------------------------------------- stale entries */

/* A device entry of the service's own (alias ua-pt-...) whose host device is gone. */
typedef struct {
        char *domain_name;
        char *domain_uuid;
        char *alias;
        char *kind;
        char *id;          /* vvvv:pppp@PORT, or the disk's source path */
        gboolean gone;     /* libvirt removed it (a USB entry's removal is waited for) */
        GError *error;     /* why it could not be removed */
} Stale;

static void stale_free(Stale *stale) {
        g_free(stale->domain_name);
        g_free(stale->domain_uuid);
        g_free(stale->alias);
        g_free(stale->kind);
        g_free(stale->id);
        g_clear_error(&stale->error);
        g_free(stale);
}

static Stale *stale_new(const DomainXml *dom, const char *alias, const char *kind, char *id) {
        Stale *stale = g_new0(Stale, 1);

        stale->domain_name = g_strdup(dom->name);
        stale->domain_uuid = g_strdup(dom->uuid);
        stale->alias = g_strdup(alias);
        stale->kind = g_strdup(kind);
        stale->id = id;
        return stale;
}

static gboolean usb_present(const DomainUsbHostdev *h, GPtrArray *devices) {
        for (guint i = 0; i < devices->len; i++)
                if (usb_hostdev_holds(h, devices->pdata[i]))
                        return TRUE;
        return FALSE;
}

/* "vvvv:pppp@1-2.3" from the hostdev's ids and our alias (ua-pt-usb-1-2_3). */
static char *stale_usb_id(const DomainUsbHostdev *h) {
        g_autofree char *port = g_strdup(h->alias + strlen(USB_ALIAS_PREFIX));
        guint vendor = 0, product = 0;

        (void) usb_parse_hex_id(h->vendor, &vendor);
        (void) usb_parse_hex_id(h->product, &product);
        g_strdelimit(port, "_", '.');
        return g_strdup_printf("%04x:%04x@%s", vendor, product, port);
}

/* Another device has the entry's address (the old one left, its number was reused). */
static gboolean address_reused(const DomainUsbHostdev *h, GPtrArray *devices) {
        for (guint i = 0; devices && i < devices->len; i++) {
                const UsbDevice *dev = devices->pdata[i];

                if (dev->bus == h->bus && dev->device == h->device)
                        return !usb_hostdev_holds(h, dev);
        }
        return FALSE;
}

/* Gone from the host: no device node at its address, or another device
 * there. Missing from the list alone is not enough (sysfs may have failed
 * to read it). */
static gboolean usb_gone(const DomainUsbHostdev *h, GPtrArray *devices) {
        g_autofree char *node = g_strdup_printf("/dev/bus/usb/%03u/%03u", h->bus, h->device);

        if (devices && usb_present(h, devices))
                return FALSE;
        return !g_file_test(node, G_FILE_TEST_EXISTS) || address_reused(h, devices);
}

static void find_stale_in(const DomainXml *dom, const Survey *survey, GPtrArray *stale) {
        for (guint i = 0; i < dom->usb_hostdevs->len; i++) {
                const DomainUsbHostdev *h = dom->usb_hostdevs->pdata[i];

                if (g_str_has_prefix(h->alias ? h->alias : "", USB_ALIAS_PREFIX) && usb_gone(h, survey->usb))
                        g_ptr_array_add(stale, stale_new(dom, h->alias, "usb", stale_usb_id(h)));
        }
        for (guint i = 0; i < dom->disks->len; i++) {
                const DomainDisk *d = dom->disks->pdata[i];

                if (g_str_has_prefix(d->alias ? d->alias : "", OWN_ALIAS_PREFIX) &&
                    !g_str_has_prefix(d->alias, USB_ALIAS_PREFIX) && g_strcmp0(d->type, "block") == 0 &&
                    d->source && disks_source_devnum(d->source) == 0)
                        g_ptr_array_add(stale, stale_new(dom, d->alias, "disk", g_strdup(d->source)));
        }
}

static GPtrArray *find_stale(const Survey *survey) {
        GPtrArray *stale = g_ptr_array_new_with_free_func((GDestroyNotify) stale_free);

        for (guint i = 0; i < survey->running->len; i++)
                find_stale_in(survey->running->pdata[i], survey, stale);
        return stale;
}

static gboolean alias_present(virDomainPtr dom, const char *alias) {
        g_autofree char *xml = virt_domain_xml(dom, NULL);
        g_autoptr(DomainXml) parsed = xml ? devxml_parse_domain(xml, NULL) : NULL;

        for (guint i = 0; parsed && i < parsed->usb_hostdevs->len; i++)
                if (g_strcmp0(((DomainUsbHostdev *) parsed->usb_hostdevs->pdata[i])->alias, alias) == 0)
                        return TRUE;
        return parsed == NULL;
}

/* [worker] A USB entry goes at once (no guest is asked): wait for it, since
 * a device plugged in again into the same port gets the same alias. */
static void wait_removed(virDomainPtr dom, Stale *stale) {
        for (guint n = 0; n < REMOVAL_WAIT_STEPS; n++) {
                if (!alias_present(dom, stale->alias)) {
                        stale->gone = TRUE;
                        return;
                }
                g_usleep(100 * 1000);
        }
        g_set_error(&stale->error, PT_ERROR, PT_ERROR_TIMEOUT, "%s is still there %u s after libvirt was asked to "
                    "remove it", stale->alias, REMOVAL_WAIT_STEPS / 10);
}

/* [worker] Ask libvirt to remove the entry (a disk's then goes when the
 * guest lets go): sets stale->gone or stale->error. Audited in pass_done(). */
static void remove_stale(Virt *virt, Stale *stale) {
        virDomainPtr dom = virt_find_domain(virt, stale->domain_uuid, &stale->error);

        if (!dom)
                return;
        if (virt_detach_alias_live(dom, stale->alias, &stale->error) && g_str_equal(stale->kind, "usb"))
                wait_removed(dom, stale);
        virDomainFree(dom);
}

static void audit_stale(const Stale *stale) {
        AuditRecord record = {
                .action = AUDIT_REMOVE_STALE, .automatic = TRUE, .caller_uid = G_MAXUINT32,
                .vm = stale->domain_name, .vm_uuid = stale->domain_uuid, .kind = stale->kind, .device = stale->id,
                .target = stale->alias, .error = stale->error,
        };

        audit_log(&record);
}

/* ---------------------------------------------------------------- the pace */

gint64 attach_window_next(const AttachWindow *window) {
        if (window->count < AUTOATTACH_BURST)
                return 0;
        return window->times[window->oldest] + AUTOATTACH_WINDOW;
}

gboolean attach_window_take(AttachWindow *window, gint64 now, gboolean *first) {
        *first = FALSE;
        if (now < attach_window_next(window)) {
                *first = !window->backing_off;
                window->backing_off = TRUE;
                return FALSE;
        }
        window->times[(window->oldest + window->count) % AUTOATTACH_BURST] = now;
        if (window->count < AUTOATTACH_BURST)
                window->count++;
        else
                window->oldest = (window->oldest + 1) % AUTOATTACH_BURST;
        window->backing_off = FALSE;
        return TRUE;
}

gboolean attach_window_idle(const AttachWindow *window, gint64 now) {
        guint newest = (window->oldest + window->count + AUTOATTACH_BURST - 1) % AUTOATTACH_BURST;

        return window->count == 0 || now - window->times[newest] >= AUTOATTACH_WINDOW;
}

/* ---------------------------------------------------------------- the engine */

typedef struct {
        gboolean all;
        GHashTable *uuids;     /* domains that started */
        GHashTable *devices;   /* "kind\tId" of devices that appeared */
        GHashTable *kinds;     /* kinds of devices that appeared */
        GHashTable *matches;   /* new assignments */
} Scope;

struct AutoAttach {
        Manager *m;
        Scope *pending;        /* triggers for the next pass, or NULL */
        guint timer;           /* the next pass's delay */
        gboolean surveying;    /* a pass's worker part runs */
        guint attaching;       /* its attaches under way */
        gboolean stopping;
        GHashTable *paces;     /* match string -> Pace */
};

/* An assignment's recent automatic attaches, and the retry after a back-off. */
typedef struct {
        AutoAttach *aa;
        char *match;
        AttachWindow window;
        guint retry;
} Pace;

static void pace_free(Pace *pace) {
        g_clear_handle_id(&pace->retry, g_source_remove);
        g_free(pace->match);
        g_free(pace);
}

static GHashTable *string_set(void) {
        return g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
}

static Scope *scope_new(void) {
        Scope *scope = g_new0(Scope, 1);

        scope->uuids = string_set();
        scope->devices = string_set();
        scope->kinds = string_set();
        scope->matches = string_set();
        return scope;
}

static void scope_free(Scope *scope) {
        if (!scope)
                return;
        g_hash_table_unref(scope->uuids);
        g_hash_table_unref(scope->devices);
        g_hash_table_unref(scope->kinds);
        g_hash_table_unref(scope->matches);
        g_free(scope);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Scope, scope_free)

static gboolean in_scope(const Scope *scope, const AssignState *state) {
        g_autofree char *device = g_strdup_printf("%s\t%s", assign_state_kind(state), assign_state_id(state));

        if (scope->all || g_hash_table_contains(scope->matches, state->match) ||
            g_hash_table_contains(scope->uuids, state->domain_uuid))
                return TRUE;
        if (state->error)
                return g_hash_table_contains(scope->kinds, assign_state_kind(state));
        return *assign_state_id(state) && g_hash_table_contains(scope->devices, device);
}

typedef struct {
        AutoAttach *aa;
        Scope *scope;
        GPtrArray *assignments;   /* a copy */
        Survey *survey;
        GPtrArray *stale;         /* Stale*: entries libvirt was asked to remove */
} Pass;

static void pass_free(Pass *pass) {
        scope_free(pass->scope);
        g_ptr_array_unref(pass->assignments);
        survey_free(pass->survey);
        g_clear_pointer(&pass->stale, g_ptr_array_unref);
        g_free(pass);
}

static void pass_start(AutoAttach *aa);

static gboolean pass_due(gpointer data) {
        AutoAttach *aa = data;

        aa->timer = 0;
        pass_start(aa);
        return G_SOURCE_REMOVE;
}

/* Start the next pass after a moment, or when the one under way ends. */
static Scope *schedule(AutoAttach *aa) {
        if (!aa->pending)
                aa->pending = scope_new();
        if (!aa->timer && !aa->stopping)
                aa->timer = g_timeout_add(PASS_DELAY_MS, pass_due, aa);
        return aa->pending;
}

/* [worker] */
static void pass_work(gpointer data, GError **error) {
        Pass *pass = data;
        Virt *virt = pass->aa->m->virt;

        pass->survey = survey_take(virt, pass->assignments);
        if (pass->survey->libvirt_error)
                return;
        pass->stale = find_stale(pass->survey);
        if (!pass->stale->len)
                return;
        for (guint i = 0; i < pass->stale->len; i++)
                remove_stale(virt, pass->stale->pdata[i]);
        survey_free(pass->survey);
        pass->survey = survey_take(virt, pass->assignments);
}

typedef struct {
        AutoAttach *aa;
        char *match;
        char *domain;
        char *kind;
        char *id;
} AutoItem;

static void auto_item_free(AutoItem *item) {
        g_free(item->match);
        g_free(item->domain);
        g_free(item->kind);
        g_free(item->id);
        g_free(item);
}

/* Said on the bus (AutoAttachFailed, the assignment's LastError) and logged. */
static void report_failure(AutoAttach *aa, const char *match, const char *domain, const char *kind, const char *id,
                           const char *message) {
        g_warning("Automatic attach of %s %s to VM %s failed: %s", kind, id, domain, message);
        api_emit_auto_attach_failed(aa->m, domain, kind, id, message);
        model_note_attach(aa->m->model, match, message);
}

static gboolean retry_due(gpointer data) {
        Pace *pace = data;

        pace->retry = 0;
        g_hash_table_add(schedule(pace->aa)->matches, g_strdup(pace->match));
        return G_SOURCE_REMOVE;
}

static Pace *pace_for(AutoAttach *aa, const char *match) {
        Pace *pace = g_hash_table_lookup(aa->paces, match);

        if (pace)
                return pace;
        pace = g_new0(Pace, 1);
        pace->aa = aa;
        pace->match = g_strdup(match);
        g_hash_table_insert(aa->paces, pace->match, pace);
        return pace;
}

/* May the assignment be attached once more now? Beyond its pace: report it
 * once, and try again when the window allows. */
static gboolean within_pace(AutoAttach *aa, const AssignState *state) {
        Pace *pace = pace_for(aa, state->match);
        gint64 now = g_get_monotonic_time();
        g_autofree char *message = NULL;
        gboolean first = FALSE;
        guint wait_ms;

        if (attach_window_take(&pace->window, now, &first))
                return TRUE;
        wait_ms = (guint) ((attach_window_next(&pace->window) - now) / 1000 + 1);
        if (!pace->retry)
                pace->retry = g_timeout_add(wait_ms, retry_due, pace);
        if (first) {
                message = g_strdup_printf("re-attached %u times in a minute; waiting %u s before the next try",
                                          AUTOATTACH_BURST, (wait_ms + 999) / 1000);
                report_failure(aa, state->match, state->domain_name, assign_state_kind(state), assign_state_id(state),
                               message);
        }
        return FALSE;
}

/* Forget the paces of assignments not attached within the window. */
static void drop_idle_paces(AutoAttach *aa) {
        gint64 now = g_get_monotonic_time();
        GHashTableIter iter;
        gpointer value;

        g_hash_table_iter_init(&iter, aa->paces);
        while (g_hash_table_iter_next(&iter, NULL, &value)) {
                const Pace *pace = value;

                if (!pace->retry && attach_window_idle(&pace->window, now))
                        g_hash_table_iter_remove(&iter);
        }
}

static void attach_finished(Request *req, const GError *error, gpointer data) {
        AutoItem *item = data;
        AutoAttach *aa = item->aa;

        if (g_error_matches(error, PT_ERROR, PT_ERROR_DOMAIN_NOT_RUNNING))
                g_debug("Assigned %s %s not attached: %s", item->kind, item->id, error->message);
        else if (error)
                report_failure(aa, item->match, item->domain, item->kind, item->id, error->message);
        else    /* the audit trail has said so */
                g_debug("Assigned %s %s attached to VM %s automatically", item->kind, item->id, item->domain);
        if (!error)
                model_note_attach(aa->m->model, item->match, NULL);
        auto_item_free(item);
        aa->attaching--;
        if (aa->attaching == 0)
                pass_start(aa);
}

static void start_attach(AutoAttach *aa, const AssignState *state) {
        AutoItem *item = g_new0(AutoItem, 1);
        RequestOrigin origin = { .subject = NULL, .assignment = state->match, .done = attach_finished, .data = item };
        const char *domain = *state->domain_uuid ? state->domain_uuid : state->domain_name;

        item->aa = aa;
        item->match = g_strdup(state->match);
        item->domain = g_strdup(state->domain_name);
        item->kind = g_strdup(assign_state_kind(state));
        item->id = g_strdup(assign_state_id(state));
        aa->attaching++;
        if (state->usb)
                usb_attach_device(aa->m, state->usb, domain, &origin);
        else
                disk_attach_device(aa->m, state->disk, domain, &origin);
}

static void consider(AutoAttach *aa, const Scope *scope, const AssignState *state) {
        /* The pass surveyed a copy: Unassign or Assign may have changed it since. */
        if (!in_scope(scope, state) || !assignments_holds(assign_store_get(aa->m->store), state->assignment))
                return;
        if (state->error && state->running)
                report_failure(aa, state->match, state->domain_name, assign_state_kind(state), state->match,
                               state->error->message);
        if (state->error || (!state->usb && !state->disk))
                return;
        if (!state->domain_known) {
                g_autofree char *message = g_strdup_printf("No domain '%s'", state->domain_name);
                report_failure(aa, state->match, state->domain_name, assign_state_kind(state), assign_state_id(state),
                               message);
        } else if (state->running && !state->attached && within_pace(aa, state)) {
                start_attach(aa, state);
        }
}

static void pass_done(gpointer data, GError *unused) {
        Pass *pass = data;
        AutoAttach *aa = pass->aa;
        GPtrArray *states = pass->survey->states;

        aa->surveying = FALSE;
        for (guint i = 0; pass->stale && i < pass->stale->len; i++) {
                const Stale *stale = pass->stale->pdata[i];

                audit_stale(stale);
                if (stale->gone)
                        api_emit_device_detached(aa->m, stale->domain_name, stale->kind, stale->id);
        }
        /* An attach that fails at once must not start the next pass from
         * attach_finished() while this loop runs: hold one count meanwhile. */
        aa->attaching++;
        drop_idle_paces(aa);
        if (pass->survey->libvirt_error)
                g_debug("Assignments wait for libvirt: %s", pass->survey->libvirt_error->message);
        else if (!aa->stopping)
                for (guint i = 0; i < states->len; i++)
                        consider(aa, pass->scope, states->pdata[i]);
        pass_free(pass);
        aa->attaching--;
        if (aa->attaching == 0)
                pass_start(aa);
}

static void pass_start(AutoAttach *aa) {
        Pass *pass;

        if (aa->stopping || aa->surveying || aa->attaching || aa->timer || !aa->pending)
                return;
        pass = g_new0(Pass, 1);
        pass->aa = aa;
        pass->scope = g_steal_pointer(&aa->pending);
        pass->assignments = assignments_copy(assign_store_get(aa->m->store));
        aa->surveying = TRUE;
        worker_run(pass_work, pass_done, pass);
}

AutoAttach *autoattach_new(Manager *m) {
        AutoAttach *aa = g_new0(AutoAttach, 1);

        aa->m = m;
        aa->paces = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify) pace_free);
        return aa;
}

void autoattach_stop(AutoAttach *aa) {
        aa->stopping = TRUE;
        g_clear_handle_id(&aa->timer, g_source_remove);
        g_hash_table_remove_all(aa->paces);   /* and their retries */
}

void autoattach_free(AutoAttach *aa) {
        if (!aa)
                return;
        g_clear_handle_id(&aa->timer, g_source_remove);
        scope_free(aa->pending);
        g_hash_table_unref(aa->paces);
        g_free(aa);
}

void autoattach_connected(AutoAttach *aa) {
        schedule(aa)->all = TRUE;
}

void autoattach_domain_started(AutoAttach *aa, const char *uuid) {
        g_hash_table_add(schedule(aa)->uuids, g_strdup(uuid));
}

void autoattach_device_event(AutoAttach *aa, const char *kind, const char *id, gboolean added) {
        Scope *scope = schedule(aa);   /* removals: the pass drops stale entries */

        if (!added)
                return;
        g_hash_table_add(scope->devices, g_strdup_printf("%s\t%s", kind, id));
        g_hash_table_add(scope->kinds, g_strdup(kind));
}

void autoattach_assigned(AutoAttach *aa, const char *match) {
        g_hash_table_remove(aa->paces, match);   /* a new assignment starts afresh */
        g_hash_table_add(schedule(aa)->matches, g_strdup(match));
}

gboolean autoattach_busy(AutoAttach *aa) {
        return aa->pending || aa->timer || aa->surveying || aa->attaching;
}

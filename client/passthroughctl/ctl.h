/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* passthroughctl: shared declarations of the command-line client. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>
#include <glib/gi18n.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "config.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC(sd_bus, sd_bus_flush_close_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(sd_bus_message, sd_bus_message_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(sd_bus_slot, sd_bus_slot_unref)
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(sd_bus_error, sd_bus_error_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(sd_event, sd_event_unref)

#define CTL_PROGRAM "passthroughctl"

/* The live model's interfaces (objects below BUS_PATH) and its manager. */
#define DISK_INTERFACE BUS_INTERFACE ".Disk"
#define USB_INTERFACE BUS_INTERFACE ".UsbDevice"
#define DOMAIN_INTERFACE BUS_INTERFACE ".Domain"
#define OBJECT_MANAGER_INTERFACE "org.freedesktop.DBus.ObjectManager"
#define PROPERTIES_INTERFACE "org.freedesktop.DBus.Properties"

/* Exit codes (passthroughctl(1), EXIT STATUS). */
enum {
        CTL_EXIT_OK = 0,
        CTL_EXIT_FAILURE = 1,
        CTL_EXIT_USAGE = 2,
        CTL_EXIT_NOT_AUTHORIZED = 3,   /* NotAuthorized, AuthorizationDismissed, ... */
        CTL_EXIT_NO_SUCH = 4,          /* NoSuchDomain, NoSuchDevice */
        CTL_EXIT_BUSY = 5,             /* DeviceBusy, AlreadyAttached */
        CTL_EXIT_TIMEOUT = 6,          /* Timeout: the guest, or the service, took too long */
        CTL_EXIT_INTERRUPTED = 130,    /* Ctrl-C while waiting */
};

/* Room for a password prompt on top of the service's own work. */
#define CTL_INTERACTIVE_SLACK_USEC (120 * G_USEC_PER_SEC)

/* Global state: parsed options and the bus connection. */
typedef struct {
        bool json;
        bool legend;
        bool ask_password;
        bool verbose;
        const char *address;
        const char *target;
        bool readonly;
        bool scsi;             /* disk-attach --scsi: bus scsi */
        bool lun;              /* --lun: mode lun */
        bool rawio;
        bool no_discard;
        bool dry_run;
        bool have_timeout;
        bool help;
        uint32_t timeout_ms;
        const char *domain;            /* the VM the command names, for hints */
        const char *on_interrupt;      /* Ctrl-C may stop waiting: say this */
        const char *waiting;           /* with on_interrupt: said when the wait starts */
        const char *columns;   /* -o LIST (listing.c) */
        bool raw;              /* --raw: lsblk's raw table */
        bool list_columns;     /* --list-columns or -o help */
        sd_bus *bus;
} Ctl;

/* messages.c: errors and warnings on stderr; hints there too, but only on
 * a terminal (and not with --no-legend). */
void ctl_error(const char *format, ...) G_GNUC_PRINTF(1, 2);
int ctl_usage_error(const char *format, ...) G_GNUC_PRINTF(1, 2);
void ctl_warning(const char *format, ...) G_GNUC_PRINTF(1, 2);
void ctl_hint(const char *format, ...) G_GNUC_PRINTF(1, 2);
void ctl_set_hints(bool enabled);
bool ctl_hints_wanted(void);

/* errors.c: D-Bus errors (their names, for NoReply the message) -> exit codes, hints. */
int ctl_error_exit_code(const sd_bus_error *error);
bool ctl_error_is_dismissed(const char *name);
void ctl_error_hint(const sd_bus_error *error, const char *domain);

/* wait.c: leaves SIGINT blocked until exit (a Ctrl-C after the reply does
 * not cut the report short); for a command's last wait. */
int ctl_call_interruptible(sd_bus *bus, sd_bus_message *call, uint64_t timeout_usec, const char *waiting,
                           sd_bus_error *ret_error, sd_bus_message **ret_reply, bool *ret_interrupted);

/* arguments.c: what an argument looks like, for refusing a mix-up. */
bool ctl_looks_like_device(const char *arg);
bool ctl_looks_like_target(const char *arg);
const char *ctl_suggest_verb(const char *name, const char *const *verbs, guint n_verbs);

/* bus.c */
int ctl_connect(Ctl *ctl);
int ctl_new_call(Ctl *ctl, const char *method, sd_bus_message **ret);
int ctl_call(Ctl *ctl, sd_bus_message *call, uint64_t timeout_usec, bool interactive,
             sd_bus_message **ret_reply);
int ctl_get_version(Ctl *ctl, char **ret);
int ctl_fetch_records(Ctl *ctl, const char *method, const char *domain, GPtrArray **ret);
int ctl_append_option_string(sd_bus_message *m, const char *key, const char *value);
int ctl_append_option_bool(sd_bus_message *m, const char *key, bool value);
int ctl_append_option_uint32(sd_bus_message *m, const char *key, uint32_t value);
int ctl_report_error(const Ctl *ctl, const char *method, const sd_bus_error *error, int r);
int ctl_parse_failure(int r);
int ctl_append_failure(int r);

/* change.c: calls that change something and may ask for a password:
 * METHOD with args[0] to args[n_strings - 1] as its leading string
 * arguments, then a{sv} options whose entries append_options adds (NULL:
 * none). timeout_usec: how long the service itself may take; the slack for
 * a password prompt is added. */
typedef int (*OptionsAppender)(const Ctl *ctl, sd_bus_message *m, char **args);
typedef struct {
        const char *method;
        guint n_strings;
        OptionsAppender append_options;
        uint64_t timeout_usec;
} ChangeCall;
int ctl_change(Ctl *ctl, const ChangeCall *spec, char **args, sd_bus_message **ret_reply);
/* METHOD(s domain, s device, a{sv} options): args are domain, device and
 * the verb's further arguments. */
int ctl_attach(Ctl *ctl, const char *method, char **args, OptionsAppender append_options,
               sd_bus_message **ret_reply);
int ctl_detach(Ctl *ctl, const char *method, const char *what, char **args);
/* --json of attach and detach: the call's arguments and reply by the
 * contract's names (domain, device, target), and dry-run. */
void ctl_print_change_json(const Ctl *ctl, char **args, const char *target);
/* OptionsAppenders: dry-run b with --dry-run; and timeout-ms u with --timeout. */
int ctl_append_dry_run(const Ctl *ctl, sd_bus_message *m, char **args);
int ctl_append_detach_options(const Ctl *ctl, sd_bus_message *m, char **args);

/* record.c: read aa{sv} replies into GVariant a{sv} records. */
int record_read(sd_bus_message *m, GVariant **ret);
int record_read_array(sd_bus_message *m, GPtrArray **ret);
const char *record_string(GVariant *record, const char *key);
guint64 record_uint(GVariant *record, const char *key);
gboolean record_bool(GVariant *record, const char *key);
const char **record_strv(GVariant *record, const char *key);
int record_compare_name(gconstpointer a, gconstpointer b);
GVariant *record_update(GVariant *record, GVariant *changed, const char *const *invalidated);

/* objects.c: the service's objects (ObjectManager); an object's own
 * interface (org.example.Passthrough1.*) and its properties as a record. */
typedef struct {
        char *path;
        char *interface;
        GVariant *properties;
} CtlObject;
CtlObject *ctl_object_new(const char *path, const char *interface, GVariant *properties);
void ctl_object_free(CtlObject *object);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CtlObject, ctl_object_free)
bool ctl_is_own_interface(const char *interface);
/* Read an a{sa{sv}} (GetManagedObjects' or InterfacesAdded's) into objects. */
int objects_read_interfaces(sd_bus_message *m, const char *path, GPtrArray *objects);
/* The records of every object with interface, from one GetManagedObjects. */
int ctl_fetch_objects(Ctl *ctl, const char *interface, GPtrArray **ret);
int ctl_fetch_managed_objects(Ctl *ctl, GPtrArray **ret);
/* GetManagedObjects without starting the service: CtlObjects, or < 0. */
int objects_get_if_running(sd_bus *bus, GPtrArray **ret);

/* output.c */
char *sanitize_text(const char *s);
int natural_compare(const char *a, const char *b);
/* Tables through libsmartcols (as lsblk's): aligned, --raw, without header. */
typedef struct Table Table;
Table *table_new(guint n_columns, const char *const *headers);
Table *table_new_empty(void);
void table_add_column(Table *table, const char *header, int flags);
void table_add_row(Table *table, const char *const *cells);
void table_print(const Table *table, const Ctl *ctl);
void table_free(Table *table);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Table, table_free)
char *format_size(guint64 bytes);
void print_records_json(GPtrArray *records);
void print_record_json_line(GVariant *record);

/* listing.c: a listing's columns. A column shows one key of the record
 * (as text, a human size, 1/0 as lsblk shows flags, or a list joined with
 * commas), or what cell makes of the record. */
typedef enum {
        CELL_TEXT,
        CELL_SIZE,
        CELL_FLAG,
        CELL_LIST,
} CellFormat;

typedef struct {
        const char *name;
        const char *help;
        const char *key;
        CellFormat format;
        char *(*cell)(GVariant *record);
        int flags; /* libsmartcols' SCOLS_FL_* */
} ListColumn;

/* A listing: where the records come from (the method to call, or with
 * interface the objects that have it, in the order compare gives) and how
 * they become a table: either the columns (of which default_columns are
 * shown unless -o chooses) or fixed headers and add_row. */
typedef struct {
        const char *method;
        guint n_columns;
        const char *const *headers;
        void (*add_row)(Table *table, GVariant *record);
        const char *interface;
        GCompareFunc compare;
        const ListColumn *columns;
        guint n_known;
        const char *default_columns;
} ListSpec;

void ctl_print_list(const Ctl *ctl, const ListSpec *spec, GPtrArray *records);
int ctl_show_list(Ctl *ctl, const ListSpec *spec, const char *domain, GPtrArray **ret);
/* Before connecting: -o, --list-columns for verb. Returns an exit code, or
 * -1 to go on. */
int listing_check_options(Ctl *ctl, const char *verb);

/* The listings with columns (in their verb-*.c). */
extern const ListSpec disk_list_spec;
extern const ListSpec usb_list_spec;
extern const ListSpec domains_spec;
extern const ListSpec attached_spec;

/* verb-assign.c: Assign(device, domain), saying nothing on success. */
int ctl_assign(Ctl *ctl, const char *device, const char *domain);

/* agent.c: the polkit text agent (pkttyagent) around interactive calls. */
void agent_open(const Ctl *ctl);
void agent_close(void);

/* verbs */
int verb_assign(Ctl *ctl, char **args);
int verb_unassign(Ctl *ctl, char **args);
int verb_assignments(Ctl *ctl, char **args);
int verb_attach_all(Ctl *ctl, char **args);
int verb_detach_all(Ctl *ctl, char **args);
int verb_import_bbvirt(Ctl *ctl, char **args);
int verb_attached(Ctl *ctl, char **args);
int verb_disk_list(Ctl *ctl, char **args);
int verb_disk_attached(Ctl *ctl, char **args);
int verb_disk_attach(Ctl *ctl, char **args);
int verb_disk_detach(Ctl *ctl, char **args);
int verb_domains(Ctl *ctl, char **args);
int verb_monitor(Ctl *ctl, char **args);
int verb_usb_list(Ctl *ctl, char **args);
int verb_usb_attached(Ctl *ctl, char **args);
int verb_usb_attach(Ctl *ctl, char **args);
int verb_usb_detach(Ctl *ctl, char **args);
int verb_version(Ctl *ctl, char **args);
int verb_status(Ctl *ctl, char **args);

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Typed errors: every internal failure is a GError in PT_ERROR; the bus layer
 * turns it into org.example.Passthrough1.Error.<Name>. */
#pragma once

#include <glib.h>
#include <systemd/sd-bus.h>

#define PT_ERROR (pt_error_quark())
GQuark pt_error_quark(void);

typedef enum {
        PT_ERROR_INVALID_ARGUMENT,
        PT_ERROR_NO_SUCH_DEVICE,
        PT_ERROR_NO_SUCH_DOMAIN,
        PT_ERROR_DOMAIN_NOT_RUNNING,
        PT_ERROR_DEVICE_BUSY,
        PT_ERROR_SYSTEM_DEVICE,
        PT_ERROR_ALREADY_ATTACHED,
        PT_ERROR_NOT_ATTACHED,
        PT_ERROR_NOT_AUTHORIZED,
        PT_ERROR_TIMEOUT,
        PT_ERROR_FAILED,
        PT_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED,
        PT_ERROR_AMBIGUOUS_DEVICE,
        PT_ERROR_ALREADY_ASSIGNED,
        PT_ERROR_NOT_ASSIGNED,
        PT_ERROR_LIMIT_EXCEEDED,
        PT_ERROR_NOT_SUPPORTED,
        PT_ERROR_AUTHORIZATION_DISMISSED,   /* the user dismissed polkit's prompt */
        _PT_ERROR_MAX,
} PtError;

/* "org.example.Passthrough1.Error.DeviceBusy" etc. */
const char *pt_error_bus_name(PtError code);

/* Fill an sd_bus_error from a GError (PT_ERROR codes keep their name; any
 * other domain becomes Failed). Returns a negative errno as sd-bus handlers do. */
int pt_error_to_bus(const GError *error, sd_bus_error *ret);

/* Register the error names with sd-bus (errno mapping for clients). */
void pt_error_register_bus_map(void);

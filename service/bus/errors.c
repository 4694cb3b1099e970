/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>

#include "errors.h"

G_DEFINE_QUARK(passthrough-error-quark, pt_error)

static const char *const error_names[_PT_ERROR_MAX] = {
        [PT_ERROR_INVALID_ARGUMENT] = ERROR_PREFIX "InvalidArgument",
        [PT_ERROR_NO_SUCH_DEVICE] = ERROR_PREFIX "NoSuchDevice",
        [PT_ERROR_NO_SUCH_DOMAIN] = ERROR_PREFIX "NoSuchDomain",
        [PT_ERROR_DOMAIN_NOT_RUNNING] = ERROR_PREFIX "DomainNotRunning",
        [PT_ERROR_DEVICE_BUSY] = ERROR_PREFIX "DeviceBusy",
        [PT_ERROR_SYSTEM_DEVICE] = ERROR_PREFIX "SystemDevice",
        [PT_ERROR_ALREADY_ATTACHED] = ERROR_PREFIX "AlreadyAttached",
        [PT_ERROR_NOT_ATTACHED] = ERROR_PREFIX "NotAttached",
        [PT_ERROR_NOT_AUTHORIZED] = ERROR_PREFIX "NotAuthorized",
        [PT_ERROR_TIMEOUT] = ERROR_PREFIX "Timeout",
        [PT_ERROR_FAILED] = ERROR_PREFIX "Failed",
        [PT_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED] = SD_BUS_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED,
        [PT_ERROR_AMBIGUOUS_DEVICE] = ERROR_PREFIX "AmbiguousDevice",
        [PT_ERROR_ALREADY_ASSIGNED] = ERROR_PREFIX "AlreadyAssigned",
        [PT_ERROR_NOT_ASSIGNED] = ERROR_PREFIX "NotAssigned",
        [PT_ERROR_LIMIT_EXCEEDED] = ERROR_PREFIX "LimitExceeded",
        [PT_ERROR_NOT_SUPPORTED] = ERROR_PREFIX "NotSupported",
        [PT_ERROR_AUTHORIZATION_DISMISSED] = ERROR_PREFIX "AuthorizationDismissed",
};

static const sd_bus_error_map error_map[] = {
        SD_BUS_ERROR_MAP(ERROR_PREFIX "InvalidArgument", EINVAL),
        SD_BUS_ERROR_MAP(ERROR_PREFIX "NoSuchDevice", ENODEV),
        SD_BUS_ERROR_MAP(ERROR_PREFIX "NoSuchDomain", ENOENT),
        SD_BUS_ERROR_MAP(ERROR_PREFIX "DomainNotRunning", ESRCH),
        SD_BUS_ERROR_MAP(ERROR_PREFIX "DeviceBusy", EBUSY),
        SD_BUS_ERROR_MAP(ERROR_PREFIX "SystemDevice", EPERM),
        SD_BUS_ERROR_MAP(ERROR_PREFIX "AlreadyAttached", EEXIST),
        SD_BUS_ERROR_MAP(ERROR_PREFIX "NotAttached", ENXIO),
        SD_BUS_ERROR_MAP(ERROR_PREFIX "NotAuthorized", EACCES),
        SD_BUS_ERROR_MAP(ERROR_PREFIX "Timeout", ETIMEDOUT),
        SD_BUS_ERROR_MAP(ERROR_PREFIX "Failed", EIO),
        SD_BUS_ERROR_MAP(ERROR_PREFIX "AmbiguousDevice", ENOTUNIQ),
        SD_BUS_ERROR_MAP(ERROR_PREFIX "AlreadyAssigned", EALREADY),
        SD_BUS_ERROR_MAP(ERROR_PREFIX "NotAssigned", ENOKEY),
        SD_BUS_ERROR_MAP(ERROR_PREFIX "LimitExceeded", EUSERS),
        SD_BUS_ERROR_MAP(ERROR_PREFIX "NotSupported", EOPNOTSUPP),
        SD_BUS_ERROR_MAP(ERROR_PREFIX "AuthorizationDismissed", ECANCELED),
        SD_BUS_ERROR_MAP_END,
};

const char *pt_error_bus_name(PtError code) {
        if ((int) code < 0 || code >= _PT_ERROR_MAX)
                return error_names[PT_ERROR_FAILED];
        return error_names[code];
}

int pt_error_to_bus(const GError *error, sd_bus_error *ret) {
        const char *name = error_names[PT_ERROR_FAILED];

        if (error->domain == PT_ERROR)
                name = pt_error_bus_name((PtError) error->code);
        return sd_bus_error_set(ret, name, error->message);
}

void pt_error_register_bus_map(void) {
        (void) sd_bus_error_add_map(error_map);
}

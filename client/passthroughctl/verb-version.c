/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* version: the client's version and the service's Version property */

#include <stdio.h>

#include "ctl.h"

int verb_version(Ctl *ctl, char **args)
{
        g_autofree char *service_version = NULL;
        int r;

        printf(CTL_PROGRAM " %s\n", PACKAGE_VERSION);
        fflush(stdout);
        r = ctl_get_version(ctl, &service_version);
        if (r != CTL_EXIT_OK)
                return r;
        printf("passthroughd %s\n", service_version);
        return CTL_EXIT_OK;
}

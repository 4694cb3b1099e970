/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* version: the client's version and the service's Version property */

#include <stdio.h>

#include "ctl.h"

/* {"Version": the service's property, "ClientVersion": this client's}. */
static void print_version_json(const char *service_version)
{
        g_auto(GVariantDict) dict = G_VARIANT_DICT_INIT(NULL);
        g_autoptr(GVariant) record = NULL;

        g_variant_dict_insert(&dict, "Version", "s", service_version);
        g_variant_dict_insert(&dict, "ClientVersion", "s", PACKAGE_VERSION);
        record = g_variant_ref_sink(g_variant_dict_end(&dict));
        print_record_json_line(record);
}

int verb_version(Ctl *ctl, char **args)
{
        g_autofree char *service_version = NULL;
        int r;

        if (!ctl->json) {
                printf(CTL_PROGRAM " %s\n", PACKAGE_VERSION);
                fflush(stdout);
        }
        r = ctl_get_version(ctl, &service_version);
        if (r != CTL_EXIT_OK)
                return r;
        if (ctl->json)
                print_version_json(service_version);
        else
                printf("passthroughd %s\n", service_version);
        return CTL_EXIT_OK;
}

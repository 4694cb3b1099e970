/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* /etc/passthrough/passthrough.conf (GKeyFile). */
#pragma once

#include <glib.h>

#define DEFAULT_CONFIG_FILE SYSCONFDIR "/passthrough/passthrough.conf"

typedef struct {
        char *libvirt_uri;     /* [libvirt] uri; NULL = libvirt's default */
        GHashTable *domain_uris; /* [domain NAME] uri: domain name -> URI (as bbvirt's DOMAIN_URI_x); NULL if none */
} ServiceConfig;

/* A missing file gives the defaults; an unreadable or malformed one (also a
 * [domain NAME] group whose name is no domain name or that has no uri) is
 * an error. */
gboolean service_config_load(const char *path, ServiceConfig *config, GError **error);
void service_config_clear(ServiceConfig *config);

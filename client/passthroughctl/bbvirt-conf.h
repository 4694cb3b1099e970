/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The static subset of bit-babbler's bbvirt configuration
 * (/etc/bit-babbler/vm.conf), read without running anything.
 *
 * bbvirt sources that file as bash. This reader takes only what can be
 * known without a shell: comments, blank lines and assignments
 * NAME=value, NAME="value", NAME='value' and NAME=( words... ) (arrays may
 * span lines), several on a line, with backslash escapes and line
 * continuations. Anything else (expansions such as $VAR and $(...),
 * backticks, commands, operators, unquoted glob or tilde characters in
 * array words) is reported with its line and skipped, never evaluated;
 * compound commands, function definitions, here-documents and a quote or
 * array still open at the end of the file end the reading there.
 *
 * Of the assignments, DOMAIN_NAME_x, DOMAIN_URI_x and DOMAIN_RNG_x count
 * (x: one or more of A-Z a-z 0-9 _), with bash's meaning: a later
 * assignment replaces an earlier one (DOMAIN_RNG_x=value after an array:
 * its first element), DOMAIN_NAME_x defaults to x, an empty value is unset.
 * A serial listed for two domains is imported for neither, nor are the
 * serials of a domain whose DOMAIN_NAME_x or DOMAIN_RNG_x something not
 * understood (or not read) may set: bbvirt may use another domain or other
 * serials. Pure: text in, domains and diagnostics out. */
#pragma once

#include <glib.h>

typedef enum {
        BBVIRT_SKIPPED, /* not understood or not usable: not imported */
        BBVIRT_NOTE,    /* understood and imported as bash would; said for the record */
} BbvirtSeverity;

typedef struct {
        guint line;
        BbvirtSeverity severity;
        char *message;
} BbvirtDiagnostic;

typedef struct {
        char *serial;
        guint line;
} BbvirtSerial;

typedef struct {
        char *id;           /* the x of DOMAIN_NAME_x, DOMAIN_URI_x, DOMAIN_RNG_x */
        char *name;         /* the libvirt domain: DOMAIN_NAME_x, else x */
        char *uri;          /* DOMAIN_URI_x, or NULL */
        GPtrArray *serials; /* of BbvirtSerial *: DOMAIN_RNG_x, the usable ones, once each */
        guint name_line;    /* where each was last set (0: never) */
        guint uri_line;
        guint rng_line;
} BbvirtDomain;

typedef struct {
        GPtrArray *domains;     /* of BbvirtDomain *, in the order of first mention */
        GPtrArray *diagnostics; /* of BbvirtDiagnostic *, by line */
} BbvirtConf;

BbvirtConf *bbvirt_conf_parse(const char *text, gsize length);
void bbvirt_conf_free(BbvirtConf *conf);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(BbvirtConf, bbvirt_conf_free)

/* Why serial cannot name a USB device as passthroughd sees them (1-128
 * printable ASCII characters, no space at either end) or stand in a match
 * string usb:serial=SERIAL (not ending like ",id=vvvv:pppp"); NULL when it
 * can. */
const char *bbvirt_serial_problem(const char *serial);

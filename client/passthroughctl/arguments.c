/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What a command-line argument looks like: a device (so "assign DEVICE VM",
 * the old order, is caught), a guest target (so "disk-attach VM DEV vdb" is
 * not taken as a serial), or a misspelt command. */

#include <string.h>

#include "ctl.h"

/* The ways the service's calls name a device that a VM's name is unlikely
 * to look like: match strings, /dev paths, kernel disk names, USB
 * VVVV:PPPP[:SERIAL|@PORT], BUS:DEV and BUS-PORT[.PORT]. */
static const char *const device_patterns[] = {
        "^(usb|disk):",
        "^/dev/",
        "^(sd|vd|hd|xvd)[a-z]+$",
        "^(nvme[0-9]+n[0-9]+|mmcblk[0-9]+|loop[0-9]+)$",
        "^[0-9a-fA-F]{4}:[0-9a-fA-F]{4}([:@].*)?$",
        "^[0-9]+:[0-9]+$",
        "^[0-9]+-[0-9]+(\\.[0-9]+)*$",
};

bool ctl_looks_like_device(const char *arg)
{
        for (size_t i = 0; i < G_N_ELEMENTS(device_patterns); i++)
                if (g_regex_match_simple(device_patterns[i], arg, 0, 0))
                        return true;
        return false;
}

/* vdb, sdc, hdd, xvda, vdaa: a guest target, not a serial. */
bool ctl_looks_like_target(const char *arg)
{
        return g_regex_match_simple("^(vd|sd|hd|xvd)[a-z]{1,2}$", arg, 0, 0);
}

static guint edit_distance(const char *a, const char *b)
{
        size_t n = strlen(b);
        g_autofree guint *row = g_new(guint, n + 1);

        for (size_t j = 0; j <= n; j++)
                row[j] = (guint) j;
        for (size_t i = 1; a[i - 1]; i++) {
                guint diagonal = row[0];

                row[0] = (guint) i;
                for (size_t j = 1; j <= n; j++) {
                        guint above = row[j];

                        row[j] = MIN(MIN(row[j] + 1, row[j - 1] + 1), diagonal + (a[i - 1] != b[j - 1]));
                        diagonal = above;
                }
        }
        return row[n];
}

/* "attach-disk" -> "disk-attach": the words of a two-word name swapped. */
static char *swap_words(const char *name)
{
        const char *dash = strchr(name, '-');

        if (!dash || strchr(dash + 1, '-'))
                return g_strdup(name);
        return g_strdup_printf("%s-%.*s", dash + 1, (int) (dash - name), name);
}

#define SUGGEST_MAX_DISTANCE 2

/* The verb nearest to name (as typed, or with its words swapped), or NULL
 * when none is near. */
const char *ctl_suggest_verb(const char *name, const char *const *verbs, guint n_verbs)
{
        g_autofree char *swapped = swap_words(name);
        guint best = SUGGEST_MAX_DISTANCE + 1;
        const char *found = NULL;

        for (guint i = 0; i < n_verbs; i++) {
                guint d = MIN(edit_distance(name, verbs[i]), edit_distance(swapped, verbs[i]));

                if (d < best) {
                        best = d;
                        found = verbs[i];
                }
        }
        return found;
}

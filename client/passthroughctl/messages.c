/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What passthroughctl says on standard error: errors and warnings always,
 * hints (usage examples, "see also") only on a terminal and not with
 * --no-legend. */

#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include "ctl.h"

static bool hints_enabled = true;

void ctl_set_hints(bool enabled)
{
        hints_enabled = enabled;
}

bool ctl_hints_wanted(void)
{
        return hints_enabled && isatty(STDERR_FILENO);
}

static void print_line(const char *prefix, const char *format, va_list ap)
{
        fputs(prefix, stderr);
        vfprintf(stderr, format, ap);
        fputc('\n', stderr);
}

void ctl_error(const char *format, ...)
{
        va_list ap;

        va_start(ap, format);
        print_line(CTL_PROGRAM ": ", format, ap);
        va_end(ap);
}

int ctl_usage_error(const char *format, ...)
{
        va_list ap;

        va_start(ap, format);
        print_line(CTL_PROGRAM ": ", format, ap);
        va_end(ap);
        fprintf(stderr, _("Try '%s --help' for more information.\n"), CTL_PROGRAM);
        return CTL_EXIT_USAGE;
}

void ctl_warning(const char *format, ...)
{
        g_autofree char *prefix = g_strdup_printf("%s: %s ", CTL_PROGRAM, _("Warning:"));
        va_list ap;

        va_start(ap, format);
        print_line(prefix, format, ap);
        va_end(ap);
}

void ctl_hint(const char *format, ...)
{
        g_autofree char *prefix = NULL;
        va_list ap;

        if (!ctl_hints_wanted())
                return;
        prefix = g_strdup_printf("%s ", _("Hint:"));
        va_start(ap, format);
        print_line(prefix, format, ap);
        va_end(ap);
}

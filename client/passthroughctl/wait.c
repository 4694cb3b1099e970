/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A call that Ctrl-C may stop waiting for: sd_bus_call(), but on an event
 * loop that also hears SIGINT. Stopping to wait does not take the request
 * back: the service goes on with it.
 *
 * SIGINT stays blocked after the wait, until the process exits: once the
 * reply is in, all that is left is to report it, and a Ctrl-C pressed then
 * (which sd-event did not read) must not kill a command whose call was done
 * before it could say so. A SIGINT still pending at exit is discarded. */

#include <errno.h>
#include <signal.h>
#include <stdio.h>

#include "ctl.h"

typedef struct {
        sd_event *event;
        sd_bus_message *reply;
} Waiting;

static int on_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        Waiting *waiting = userdata;

        waiting->reply = sd_bus_message_ref(m);
        return sd_event_exit(waiting->event, 0);
}

static int on_sigint(sd_event_source *source, const struct signalfd_siginfo *si, void *userdata)
{
        return sd_event_exit(sd_event_source_get_event(source), 1);
}

static int wait_for_reply(sd_bus *bus, sd_event *event, sd_bus_message *call, uint64_t timeout_usec,
                          Waiting *waiting)
{
        g_autoptr(sd_bus_slot) slot = NULL;
        int r;

        r = sd_event_add_signal(event, NULL, SIGINT, on_sigint, NULL);
        if (r < 0)
                return r;
        r = sd_bus_attach_event(bus, event, SD_EVENT_PRIORITY_NORMAL);
        if (r < 0)
                return r;
        /* The slot is ours, not the bus's: after Ctrl-C no reply may reach
         * waiting, which lives on the caller's stack. */
        r = sd_bus_call_async(bus, &slot, call, on_reply, waiting, timeout_usec);
        if (r >= 0)
                r = sd_event_loop(event);
        (void) sd_bus_detach_event(bus);
        return r;
}

/* As sd_bus_call(); when SIGINT came first, *ret_interrupted (and 0).
 * waiting (or NULL): said on stderr once SIGINT is handled here. SIGINT is
 * left blocked (see above): call it as the last wait of a command. */
int ctl_call_interruptible(sd_bus *bus, sd_bus_message *call, uint64_t timeout_usec, const char *waiting,
                           sd_bus_error *ret_error, sd_bus_message **ret_reply, bool *ret_interrupted)
{
        g_autoptr(sd_event) event = NULL;
        Waiting state = { 0 };
        sigset_t mask;
        int r;

        sigemptyset(&mask);
        sigaddset(&mask, SIGINT);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return -errno;
        if (waiting)
                fprintf(stderr, "%s\n", waiting);
        r = sd_event_new(&event);
        if (r >= 0) {
                state.event = event;
                r = wait_for_reply(bus, event, call, timeout_usec, &state);
        }
        g_clear_pointer(&event, sd_event_unref);
        *ret_interrupted = r > 0;
        if (r >= 0 && state.reply && sd_bus_message_is_method_error(state.reply, NULL))
                r = sd_bus_error_copy(ret_error, sd_bus_message_get_error(state.reply));
        if (r >= 0 && ret_reply)
                *ret_reply = g_steal_pointer(&state.reply);
        sd_bus_message_unref(state.reply);
        return r;
}

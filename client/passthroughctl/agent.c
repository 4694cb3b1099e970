/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The polkit text agent, run around calls that may ask for a password.
 *
 * As systemctl does: when stdin is a terminal, passwords may be asked and we
 * are not root, start "pkttyagent --notify-fd N --fallback" and wait until
 * it has registered (it closes N), and stop it after the call. Without
 * pkttyagent the call goes on without an agent. Opened again while open (a
 * verb making several calls keeps one agent for all), it runs until the
 * last close. */

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib-unix.h>

#include "ctl.h"

#define AGENT_NOTIFY_FD 3
#define AGENT_READY_TIMEOUT_MS 10000

static GPid agent_pid;
static bool agent_running;
static guint agent_users;

static bool agent_wanted(const Ctl *ctl)
{
        return ctl->ask_password && isatty(STDIN_FILENO) && geteuid() != 0;
}

/* The agent closes the notify fd once registered (or dies): either way the
 * read end becomes readable or hangs up. */
static void wait_until_ready(int fd)
{
        struct pollfd pfd = { .fd = fd, .events = POLLIN };
        int r;

        do
                r = poll(&pfd, 1, AGENT_READY_TIMEOUT_MS);
        while (r < 0 && errno == EINTR);
}

static bool spawn_agent(const char *path, int notify_fd, GError **error)
{
        const int target_fd = AGENT_NOTIFY_FD;
        g_autofree char *fd_arg = g_strdup_printf("%d", target_fd);
        const char *argv[] = { path, "--notify-fd", fd_arg, "--fallback", NULL };

        return g_spawn_async_with_pipes_and_fds(NULL, argv, NULL,
                                                G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_CHILD_INHERITS_STDIN,
                                                NULL, NULL, -1, -1, -1,
                                                &notify_fd, &target_fd, 1,
                                                &agent_pid, NULL, NULL, NULL, error);
}

void agent_open(const Ctl *ctl)
{
        g_autofree char *path = NULL;
        g_autoptr(GError) error = NULL;
        int fds[2];

        if (agent_users++ > 0 || !agent_wanted(ctl))
                return;
        path = g_find_program_in_path("pkttyagent");
        if (!path)
                return;
        if (!g_unix_open_pipe(fds, FD_CLOEXEC, &error)) {
                if (ctl->verbose)
                        ctl_error(_("Cannot start the polkit agent: %s"), error->message);
                return;
        }
        agent_running = spawn_agent(path, fds[1], &error);
        close(fds[1]);
        if (agent_running)
                wait_until_ready(fds[0]);
        else if (ctl->verbose)
                ctl_error(_("Cannot start the polkit agent: %s"), error->message);
        close(fds[0]);
}

void agent_close(void)
{
        int r;

        if (agent_users == 0 || --agent_users > 0 || !agent_running)
                return;
        (void) kill(agent_pid, SIGTERM);
        (void) kill(agent_pid, SIGCONT);
        do
                r = waitpid(agent_pid, NULL, 0);
        while (r < 0 && errno == EINTR);
        g_spawn_close_pid(agent_pid);
        agent_running = false;
}

#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Run a command with its standard error on a terminal (a pseudo-terminal),
standard input from /dev/null and standard output to a file, as a user at a
terminal piping the output would. What it writes on the terminal goes to
ERR-FILE (without the terminal's carriage returns).

  ptyrun.py [--sigint-on TEXT] OUT-FILE ERR-FILE COMMAND...

--sigint-on: once TEXT has appeared on the terminal, send SIGINT to the
command (as Ctrl-C would). Exits with the command's exit status (128+N when
signal N ended it); 124 when it ran for over 30 s.
"""

import argparse
import os
import select
import subprocess
import sys
import time

TIMEOUT = 30


def read_terminal(master, proc, sigint_on):
    """Everything written on the terminal until the command closes it."""
    text = b''
    sent = False
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(master, 4096)
            except OSError:        # EIO: every end of the terminal is closed
                break
            if not chunk:
                break
            text += chunk
        if sigint_on and not sent and sigint_on in text:
            proc.send_signal(2)
            sent = True
    return text


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--sigint-on')
    parser.add_argument('out')
    parser.add_argument('err')
    parser.add_argument('command', nargs=argparse.REMAINDER)
    opts = parser.parse_args()
    sigint_on = opts.sigint_on.encode() if opts.sigint_on else None

    master, slave = os.openpty()
    with open(opts.out, 'wb') as out:
        proc = subprocess.Popen(opts.command, stdin=subprocess.DEVNULL, stdout=out, stderr=slave)
    os.close(slave)
    text = read_terminal(master, proc, sigint_on)
    os.close(master)
    try:
        rc = proc.wait(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        rc = 124
    with open(opts.err, 'wb') as err:
        err.write(text.replace(b'\r\n', b'\n'))
    sys.exit(128 - rc if rc < 0 else rc)


if __name__ == '__main__':
    main()

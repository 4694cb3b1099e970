#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Press Ctrl-C just after the call: run a command with its standard output
on a full pipe, so that it blocks at its first write there (passthroughctl
writes its result only once the reply is in), send it SIGINT while it is
blocked there, then empty the pipe and let it finish.

  late-sigint.py OUT-FILE COMMAND...

What the command wrote goes to OUT-FILE. Exits with the command's exit
status (128+N when signal N ended it); 124 when it did not block on its
standard output within 30 s or did not end; 125 when it ended before.
"""

import os
import signal
import subprocess
import sys
import time

TIMEOUT = 30
WRITE_SYSCALL = '1'  # x86-64 write(2), as /proc/PID/syscall names it


def fill(fd):
    """Write to the pipe until not one byte more fits; how many were written."""
    os.set_blocking(fd, False)
    written = 0
    for chunk in (b'x' * 4096, b'x'):
        while True:
            try:
                written += os.write(fd, chunk)
            except BlockingIOError:
                break
    os.set_blocking(fd, True)
    return written


def writing_stdout(pid):
    """Whether pid is in write(1, ...)."""
    try:
        with open(f'/proc/{pid}/syscall') as f:
            fields = f.read().split()
    except OSError:
        return False
    return fields[:2] == [WRITE_SYSCALL, '0x1']


def wait_until_blocked(proc):
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return 125
        if writing_stdout(proc.pid):
            return 0
        time.sleep(0.01)
    return 124


def read_all(fd):
    data = b''
    while chunk := os.read(fd, 65536):
        data += chunk
    return data


def main():
    out_path, command = sys.argv[1], sys.argv[2:]
    r, w = os.pipe()
    filler = fill(w)
    proc = subprocess.Popen(command, stdout=w,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    os.close(w)
    status = wait_until_blocked(proc)
    if status == 0:
        proc.send_signal(signal.SIGINT)
        time.sleep(0.2)  # delivered while it still cannot write
    elif status == 124:
        proc.kill()
    data = read_all(r)[filler:]
    with open(out_path, 'wb') as f:
        f.write(data)
    try:
        rc = proc.wait(TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        return 124
    if status:
        return status
    return 128 - rc if rc < 0 else rc


if __name__ == '__main__':
    sys.exit(main())

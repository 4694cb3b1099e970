#!/usr/bin/python3
"""The lab's end of the control channel (runs inside the lab, as root).

Started by lab-init as soon as the root file system is up.  It talks to the
host over the virtio-serial port named "ptlab.ctl" (/dev/vportNpM) with one
line per message, fields separated by single spaces, every free-form field
base64 (standard alphabet, "-" for empty) so any bytes are safe:

  host -> lab   REQ <id> <user> <timeout> <b64 command> <b64 stdin>
  lab -> host   HELLO <pid>                   once, when the agent starts
                RES <id> <rc> <seconds> <b64 stdout> <b64 stderr>
                BAD <b64 line>                a line it could not parse

<id> is chosen by the host (no spaces) and echoed back; requests run
concurrently, answers come in completion order.  <command> is run by
/bin/sh -c as <user> ("root" or any user name: setpriv --reuid/--regid
--init-groups, a small clean environment, cwd /) in its own session.  <rc> is
the exit status, 128+N when killed by signal N, 124 when <timeout> (seconds,
a float) ran out (the whole session is killed), 125 when the agent could not
start it (stderr says why).  A command must not leave a background process
holding its stdout/stderr (redirect them), or its answer waits for it.
"""

import base64
import glob
import os
import pwd
import signal
import subprocess
import sys
import threading
import time

PORT_NAME = 'ptlab.ctl'

_write_lock = threading.Lock()


def b64(data):
    return base64.b64encode(data).decode('ascii') if data else '-'


def unb64(text):
    return b'' if text == '-' else base64.b64decode(text, validate=True)


def find_port(timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for d in glob.glob('/sys/class/virtio-ports/vport*'):
            try:
                with open(os.path.join(d, 'name')) as f:
                    if f.read().strip() == PORT_NAME:
                        dev = '/dev/' + os.path.basename(d)
                        if os.path.exists(dev):
                            return dev
            except OSError:
                pass
        time.sleep(0.1)
    raise SystemExit('lab-agent: no virtio port named %s' % PORT_NAME)


def send(fd, line):
    data = (line + '\n').encode('ascii')
    with _write_lock:
        while data:
            try:
                n = os.write(fd, data)
            except InterruptedError:
                continue
            data = data[n:]


def user_env(name, home):
    return {'PATH': '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
            'LANG': 'C.UTF-8', 'HOME': home, 'USER': name, 'LOGNAME': name,
            'TERM': 'dumb', 'SYSTEMD_PAGER': '', 'PAGER': 'cat'}


def run_request(fd, rid, user, timeout, cmd, stdin):
    t0 = time.monotonic()
    try:
        pw = pwd.getpwnam(user)
    except KeyError:
        send(fd, 'RES %s 125 0.000 - %s' % (rid, b64(b'lab-agent: no user %s\n' % user.encode())))
        return
    argv = ['/bin/sh', '-c', cmd]
    if pw.pw_uid != 0:
        argv = ['setpriv', '--reuid=%d' % pw.pw_uid, '--regid=%d' % pw.pw_gid,
                '--init-groups', '--'] + argv
    try:
        p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, cwd='/', env=user_env(pw.pw_name, pw.pw_dir),
                             start_new_session=True)
    except OSError as e:
        send(fd, 'RES %s 125 0.000 - %s' % (rid, b64(('lab-agent: %s\n' % e).encode())))
        return
    try:
        out, err = p.communicate(stdin, timeout=timeout)
        rc = p.returncode if p.returncode >= 0 else 128 - p.returncode
    except subprocess.TimeoutExpired:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            out, err = p.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            out, err = b'', b''
        err = (err or b'') + b'\nlab-agent: timed out after %.1fs\n' % timeout
        rc = 124
    send(fd, 'RES %s %d %.3f %s %s' % (rid, rc, time.monotonic() - t0, b64(out), b64(err)))


def handle(fd, line):
    parts = line.split(' ')
    if len(parts) != 6 or parts[0] != 'REQ':
        send(fd, 'BAD ' + b64(line.encode('utf-8', 'replace')))
        return
    _, rid, user, timeout, cmd, stdin = parts
    try:
        timeout = float(timeout)
        cmd = unb64(cmd).decode('utf-8', 'surrogateescape')
        stdin = unb64(stdin)
    except ValueError:
        send(fd, 'BAD ' + b64(line.encode('utf-8', 'replace')))
        return
    threading.Thread(target=run_request, args=(fd, rid, user, timeout, cmd, stdin),
                     daemon=True).start()


def main():
    port = find_port()
    fd = os.open(port, os.O_RDWR | os.O_CLOEXEC)
    sys.stderr.write('lab-agent: on %s\n' % port)
    sys.stderr.flush()
    send(fd, 'HELLO %d' % os.getpid())
    buf = b''
    while True:
        try:
            chunk = os.read(fd, 65536)
        except InterruptedError:
            continue
        if not chunk:
            # The host is not connected (yet or any more): nothing to read.
            time.sleep(0.1)
            continue
        buf += chunk
        while b'\n' in buf:
            raw, buf = buf.split(b'\n', 1)
            line = raw.decode('ascii', 'replace').strip()
            if line:
                handle(fd, line)


if __name__ == '__main__':
    main()

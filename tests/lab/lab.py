"""Host side of the lab: the outer QEMU VM, its QMP socket and the control
channel to tests/lab/lab-agent.py.

    kit = LabKit(builddir + '/lab-kit').ensure()
    with Lab(kit, lab_build, tmpdir, logdir) as lab:
        lab.wait_ready(300)
        r = lab.sh('passthroughctl usb-list', user='pt-tester')
        lab.qmp.cmd('device_add', driver='usb-storage', ...)

Lab.stop() (also on any exception, SIGTERM via SystemExit, and at exit) quits
QEMU over QMP, kills it if it does not go, and closes the sockets; QEMU also
gets SIGKILL from the kernel if this process dies (PR_SET_PDEATHSIG).
"""

import base64
import ctypes
import json
import os
import re
import signal
import socket
import subprocess
import threading
import time

import labkit

H = labkit.H
HERE = labkit.HERE
QEMU = 'qemu-system-x86_64'
PORT_NAME = 'ptlab.ctl'


class LabError(Exception):
    pass


def _b64(data):
    return base64.b64encode(data).decode('ascii') if data else '-'


def _unb64(text):
    return b'' if text == '-' else base64.b64decode(text)


def _pdeathsig():
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGKILL, 0, 0, 0)        # PR_SET_PDEATHSIG


def _connect_unix(path, timeout, alive):
    deadline = time.monotonic() + timeout
    while True:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(path)
            return s
        except OSError:
            s.close()
            if not alive():
                raise LabError('QEMU exited before %s appeared' % path)
            if time.monotonic() > deadline:
                raise LabError('cannot connect to %s' % path)
            time.sleep(0.05)


# ---------------------------------------------------------------------------
# QMP
# ---------------------------------------------------------------------------

class QMPError(LabError):
    pass


class QMP:
    """A small synchronous QMP client; events are kept in .events."""

    def __init__(self, path, alive):
        self.sock = _connect_unix(path, 30, alive)
        self.sock.settimeout(30)
        self.buf = b''
        self.events = []
        self.lock = threading.Lock()
        self._id = 0
        greeting = self._read()
        if 'QMP' not in greeting:
            raise QMPError('not a QMP greeting: %r' % greeting)
        self.cmd('qmp_capabilities')

    def _read(self):
        while b'\n' not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise QMPError('QMP connection closed')
            self.buf += chunk
        line, self.buf = self.buf.split(b'\n', 1)
        return json.loads(line)

    def cmd(self, name, **args):
        with self.lock:
            self._id += 1
            rid = 'ptlab-%d' % self._id
            msg = {'execute': name, 'id': rid}
            if args:
                msg['arguments'] = args
            self.sock.sendall(json.dumps(msg).encode() + b'\n')
            while True:
                reply = self._read()
                if 'event' in reply:
                    self.events.append(reply)
                    continue
                if reply.get('id') != rid:
                    continue
                if 'error' in reply:
                    raise QMPError('%s: %s' % (name, reply['error'].get('desc', reply['error'])))
                return reply.get('return')

    def poll_events(self):
        """Read events that arrived since the last command."""
        with self.lock:
            self.sock.setblocking(False)
            try:
                while True:
                    try:
                        chunk = self.sock.recv(65536)
                    except BlockingIOError:
                        break
                    if not chunk:
                        break
                    self.buf += chunk
            finally:
                self.sock.setblocking(True)
                self.sock.settimeout(30)
            while b'\n' in self.buf:
                line, self.buf = self.buf.split(b'\n', 1)
                msg = json.loads(line)
                if 'event' in msg:
                    self.events.append(msg)
        return self.events

    def wait_event(self, name, timeout, match=lambda e: True):
        deadline = time.monotonic() + timeout
        while True:
            for e in self.poll_events():
                if e['event'] == name and match(e):
                    self.events.remove(e)
                    return e
            if time.monotonic() > deadline:
                raise QMPError('no %s event within %.0fs' % (name, timeout))
            time.sleep(0.05)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


# ---------------------------------------------------------------------------
# Control channel (see lab-agent.py for the protocol)
# ---------------------------------------------------------------------------

class Result:
    def __init__(self, rc, out, err, seconds):
        self.rc, self.out, self.err, self.seconds = rc, out, err, seconds
        self.stdout = out.decode('utf-8', 'replace')
        self.stderr = err.decode('utf-8', 'replace')

    def __repr__(self):
        return 'Result(rc=%d, stdout=%r, stderr=%r)' % (self.rc, self.stdout[-500:], self.stderr[-500:])


class Control:
    def __init__(self, path, alive):
        self.sock = _connect_unix(path, 30, alive)
        self.alive = alive
        self.lock = threading.Lock()
        self.cond = threading.Condition(self.lock)
        self.results = {}
        self.hello = None
        self.closed = False
        self.bad = []
        self._n = 0
        self.reader = threading.Thread(target=self._read_loop, daemon=True)
        self.reader.start()

    def _read_loop(self):
        buf = b''
        while True:
            try:
                chunk = self.sock.recv(1 << 20)
            except OSError:
                chunk = b''
            if not chunk:
                with self.cond:
                    self.closed = True
                    self.cond.notify_all()
                return
            buf += chunk
            while b'\n' in buf:
                raw, buf = buf.split(b'\n', 1)
                parts = raw.decode('ascii', 'replace').strip().split(' ')
                with self.cond:
                    if parts[0] == 'HELLO':
                        self.hello = parts[1:]
                    elif parts[0] == 'RES' and len(parts) == 6:
                        _, rid, rc, secs, out, err = parts
                        self.results[rid] = Result(int(rc), _unb64(out), _unb64(err), float(secs))
                    else:
                        self.bad.append(raw)
                    self.cond.notify_all()

    def run(self, cmd, user='root', timeout=60, input=b''):
        """Run cmd (sh -c) in the lab as user; returns Result.  The lab kills
        it after timeout; the host gives up 20 s later (LabError)."""
        with self.cond:
            self._n += 1
            rid = 'r%d' % self._n
        if isinstance(input, str):
            input = input.encode()
        line = 'REQ %s %s %.1f %s %s\n' % (rid, user, timeout, _b64(cmd.encode()), _b64(input))
        self.sock.sendall(line.encode('ascii'))
        deadline = time.monotonic() + timeout + 20
        with self.cond:
            while rid not in self.results:
                if self.closed:
                    raise LabError('control channel closed while running %r' % cmd)
                left = deadline - time.monotonic()
                if left <= 0:
                    raise LabError('no answer from the lab for %r' % cmd)
                self.cond.wait(min(left, 1.0))
                if not self.alive():
                    raise LabError('QEMU exited while running %r' % cmd)
            return self.results.pop(rid)

    def close(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()


# ---------------------------------------------------------------------------
# The outer VM
# ---------------------------------------------------------------------------

class Lab:
    def __init__(self, kit, build_dir, tmpdir, logdir, smp=2, memory_mb=2048, extra_ports=()):
        self.kit = kit
        # More virtio-serial ports (names): the host reads each through
        # the unix socket port_path(name); bench-hotplug's poller writes there.
        self.extra_ports = list(extra_ports)
        self.build_dir = os.path.abspath(build_dir)
        self.tmpdir = tmpdir
        self.logdir = logdir
        self.smp = smp
        self.memory_mb = memory_mb
        self.proc = None
        self.qmp = None
        self.ctl = None
        self.started_at = None
        self.ready_seconds = None
        self.console_log = os.path.join(logdir, 'console.log')
        self.qemu_log = os.path.join(logdir, 'qemu.log')

    def argv(self):
        for p in (self.build_dir, self.kit.dir, HERE):
            if ' ' in p:
                raise LabError('path with a space cannot go on the kernel command line: %s' % p)
        cmdline = ' '.join([
            'console=ttyS0', 'loglevel=4', 'panic=-1', 'mitigations=off',
            'ptlab_init=' + os.path.join(HERE, 'lab-init'),
            'ptlab_tag=hostroot',
            'ptlab_build=' + self.build_dir,
            'ptlab_kit=' + self.kit.dir,
        ])
        return [
            QEMU, '-name', 'ptlab', '-accel', 'tcg', '-machine', 'pc',
            '-smp', str(self.smp), '-m', str(self.memory_mb),
            '-nodefaults', '-no-user-config', '-display', 'none', '-no-reboot',
            '-kernel', self.kit.kernel, '-initrd', self.kit.initrd, '-append', cmdline,
            '-chardev', 'file,id=con,path=' + self.console_log,
            '-serial', 'chardev:con',
            '-fsdev', 'local,id=hostroot,path=/,readonly=on,security_model=none,multidevs=remap',
            '-device', 'virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot',
            '-device', 'qemu-xhci,id=xhci',
            '-device', 'virtio-serial-pci,id=vser',
            '-chardev', 'socket,id=ctl,path=%s,server=on,wait=off' % self.ctl_path,
            '-device', 'virtserialport,bus=vser.0,chardev=ctl,name=' + PORT_NAME,
        ] + [a for i, name in enumerate(self.extra_ports) for a in (
            '-chardev', 'socket,id=port%d,path=%s,server=on,wait=off' % (i, self.port_path(name)),
            '-device', 'virtserialport,bus=vser.0,chardev=port%d,name=%s' % (i, name))
        ] + [
            '-qmp', 'unix:%s,server=on,wait=off' % self.qmp_path,
        ]

    def port_path(self, name):
        return os.path.join(self.tmpdir, 'port-%s.sock' % name)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def start(self):
        self.ctl_path = os.path.join(self.tmpdir, 'ctl.sock')
        self.qmp_path = os.path.join(self.tmpdir, 'qmp.sock')
        os.makedirs(self.logdir, exist_ok=True)
        for f in (self.console_log, self.qemu_log):
            if os.path.exists(f):
                os.unlink(f)
        self._qemu_log = open(self.qemu_log, 'wb')
        self.started_at = time.monotonic()
        self.proc = subprocess.Popen(self.argv(), stdin=subprocess.DEVNULL, stdout=self._qemu_log,
                                     stderr=subprocess.STDOUT, preexec_fn=_pdeathsig)
        try:
            self.qmp = QMP(self.qmp_path, self.alive)
            self.ctl = Control(self.ctl_path, self.alive)
        except BaseException:
            self.stop()
            raise
        return self

    def console_tail(self, n=40):
        try:
            with open(self.console_log, 'rb') as f:
                lines = f.read().decode('utf-8', 'replace').replace('\r', '').split('\n')
            return '\n'.join(lines[-n:])
        except OSError:
            return ''

    def _console_failure(self):
        try:
            with open(self.console_log, 'rb') as f:
                text = f.read().decode('utf-8', 'replace')
        except OSError:
            return None
        for line in text.split('\n'):
            if 'PTLAB-FAIL initramfs' in line or 'Kernel panic' in line:
                return line.strip()
        return None

    def wait_ready(self, timeout):
        """Wait for lab-init's verdict; returns the seconds since QEMU started.
        Raises LabError (with the reason) if the lab failed or took too long."""
        deadline = time.monotonic() + timeout
        # The agent comes up a few seconds after the kernel; meanwhile only
        # the console says how it goes.
        while self.ctl.hello is None:
            if not self.alive():
                raise LabError('QEMU exited (%s) before the lab agent started; console:\n%s'
                               % (self.proc.returncode, self.console_tail()))
            bad = self._console_failure()
            if bad:
                raise LabError('%s; console:\n%s' % (bad, self.console_tail()))
            if time.monotonic() > deadline:
                raise LabError('the lab agent did not start within %ds; console:\n%s'
                               % (timeout, self.console_tail()))
            time.sleep(0.1)
        left = max(5, deadline - time.monotonic())
        r = self.ctl.run('while [ ! -s /run/ptlab/status ]; do sleep 0.2; done; cat /run/ptlab/status',
                         timeout=left)
        if r.rc != 0:
            raise LabError('the lab did not get ready within %ds; console:\n%s'
                           % (timeout, self.console_tail()))
        self.ready_seconds = time.monotonic() - self.started_at
        status = r.stdout.strip()
        if status != 'ok':
            raise LabError('lab setup %s; console:\n%s' % (status, self.console_tail()))
        return self.ready_seconds

    def steps(self):
        """lab-init's steps: [(uptime seconds, name)]."""
        r = self.sh('cat /run/ptlab/steps', timeout=10)
        res = []
        for line in r.stdout.splitlines():
            t, _, name = line.partition(' ')
            try:
                res.append((float(t), name))
            except ValueError:
                pass
        return res

    def sh(self, cmd, user='root', timeout=60, input=b''):
        return self.ctl.run(cmd, user=user, timeout=timeout, input=input)

    def check(self, cmd, user='root', timeout=60, input=b''):
        r = self.sh(cmd, user=user, timeout=timeout, input=input)
        if r.rc != 0:
            raise LabError('%r as %s failed (rc=%d): %s%s' % (cmd, user, r.rc, r.stderr.strip(),
                                                              ('\n' + r.stdout.strip()) if r.stdout.strip() else ''))
        return r

    def fetch_tar(self, lab_dir, host_dir, timeout=60):
        """Copy a directory of the lab to the host (tar over the channel)."""
        r = self.sh('tar -C %s -cf - .' % lab_dir, timeout=timeout)
        if r.rc != 0:
            raise LabError('tar of %s failed: %s' % (lab_dir, r.stderr))
        os.makedirs(host_dir, exist_ok=True)
        subprocess.run(['tar', '-C', host_dir, '-xf', '-'], input=r.out, check=True, timeout=60)

    # -- USB sticks ------------------------------------------------------------

    def plug_stick(self, name, image, serial, removable=True, port=None):
        """QMP blockdev-add + device_add usb-storage on the lab's xhci, on
        its QEMU port (1-4, or 3.1 behind a hub on port 3) when given, else
        the first free one.  Returns the monotonic time of the device_add."""
        self.qmp.cmd('blockdev-add', **{'driver': 'raw', 'node-name': 'img-' + name,
                                       'file': {'driver': 'file', 'filename': image}})
        args = dict(driver='usb-storage', id=name, bus='xhci.0', drive='img-' + name,
                    serial=serial, removable=removable)
        if port is not None:
            args['port'] = str(port)
        try:
            t = time.monotonic()
            self.qmp.cmd('device_add', **args)
        except QMPError:
            self.qmp.cmd('blockdev-del', **{'node-name': 'img-' + name})
            raise
        return t

    def plug_hub(self, name, port):
        """A QEMU usb-hub (8 ports, full speed) on the xhci's QEMU port."""
        self.qmp.cmd('device_add', driver='usb-hub', id=name, bus='xhci.0', port=str(port))

    def usb_ports(self):
        """{QEMU port: device id} of what is plugged in (HMP info usb)."""
        text = self.qmp.cmd('human-monitor-command', **{'command-line': 'info usb'})
        res = {}
        for line in text.splitlines():
            m = re.search(r'Port ([0-9.]+),.*ID: (\S+)', line)
            if m:
                res[m.group(1)] = m.group(2)
        return res

    def unplug_stick(self, name, timeout=30, drive=True):
        """QMP device_del; waits for DEVICE_DELETED, then drops the image
        (drive=False: a hub)."""
        self.qmp.poll_events()
        self.qmp.cmd('device_del', id=name)
        self.qmp.wait_event('DEVICE_DELETED', timeout,
                            match=lambda e: e.get('data', {}).get('device') == name)
        if drive:
            self.qmp.cmd('blockdev-del', **{'node-name': 'img-' + name})

    # -- the end -----------------------------------------------------------------

    def stop(self):
        if self.ctl is not None:
            self.ctl.close()
            self.ctl = None
        if self.proc is not None and self.proc.poll() is None:
            if self.qmp is not None:
                try:
                    self.qmp.sock.settimeout(5)
                    self.qmp.cmd('quit')
                except (OSError, LabError, ValueError):
                    pass
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        if self.qmp is not None:
            self.qmp.close()
            self.qmp = None
        if getattr(self, '_qemu_log', None):
            self._qemu_log.close()
            self._qemu_log = None
        for p in [getattr(self, 'ctl_path', None), getattr(self, 'qmp_path', None)] + [
                self.port_path(n) for n in self.extra_ports]:
            if p and os.path.exists(p):
                os.unlink(p)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

#!/usr/bin/python3
"""Benchmark of the live model (issue 8): figures only, no timed assertions.

    /usr/bin/python3 tests/bench-model.py BUILDDIR [--json FILE] [--sizes 3,67,500]
        [--calls N] [--event-rounds N] [--attach-rounds N] [--idle-seconds S]
        [--big-event-rounds N]

Needs root (a private mount namespace, a private libvirtd, loop devices);
exits 77 with the reason otherwise.  Everything runs in one ptworld world:
private libvirtd, private system bus, the polkit mock, the built passthroughd
and the firmware guest pt-fw.  One run measures:

Listing.  ListDisks and GetManagedObjects (ObjectManager at
  /org/example/Passthrough1) with 3, 67 and 500 disks (the number of records
  ListDisks gives: the host's own disks plus loop devices set up with
  `losetup -f --show` on 1 MiB sparse files), against two floors measured in
  the same run on the same bus:
    Peer.Ping to the service (a bus round trip that sd-bus answers itself);
    a canned reply of the same size and shape: tests/bench-canned.c, an
    sd-bus program that owns org.example.PassthroughCanned and answers
    ListDisks / GetManagedObjects by replaying a template taken from the
    service's real reply at that size (every record, key and value), built
    with sd_bus_message_append* from constants loaded once: what a reply of
    that size costs when building it costs nothing.
  Every call on one persistent Gio connection of this process; --calls calls
  of each (default 50) after 5 warm-up calls, interleaved (each repetition
  runs the five calls once, the order rotated by one each time).  Before
  timing, ListDisks must list every loop device set up (the service answers
  List* once its model has caught up with the device events queued).

Event -> signal latency.  A second connection, in a thread of its own, is
  subscribed to InterfacesAdded / InterfacesRemoved / PropertiesChanged of the
  service and stamps each signal (CLOCK_MONOTONIC) as it arrives.  Timed from
  the end of the action (the command's exit) to the signal:
    losetup -f --show FILE      -> InterfacesAdded of the disk (Path = dev)
    losetup -d DEV              -> InterfacesRemoved of that object
    mount DEV (ext4) MNT        -> PropertiesChanged State 'busy'
    umount MNT                  -> PropertiesChanged State 'free'
    virsh attach-device --live  -> PropertiesChanged AttachedTo 'pt-fw'
  --event-rounds rounds each (default 20), the service quiet before each
  action.  A firmware guest never lets go of a disk, so pt-fw is destroyed
  and started again before each virsh round.  With --big-event-rounds (default
  10) the loop and mount rounds are repeated at the largest size.  A signal
  may come before the command has exited (the kernel's event precedes the
  command's own exit): such latencies are negative and kept as they are.

AttachDisk.  AttachDisk(pt-fw, dev, {}) as root (uid 0 skips polkit) and as
  pt-tester (a child process with its own persistent connection; the polkit
  mock allows attach-disk, so every call is one real CheckAuthorization),
  against a direct libvirt attach on a held connection (python3-libvirt,
  bench-attach.py's DirectLibvirt): attachDeviceFlags(LIVE) of the XML the
  service builds, target chosen beforehand (the service chooses it inside
  its call).  --attach-rounds rounds (default 20) after 2 warm-up rounds;
  each round attaches three disks (one per method, order rotated), checks the
  live XML, then restarts pt-fw.  Also, in every round, 3 CheckAuthorization
  calls of this process on the polkit mock: the polkit round trip that is
  subtracted from pt-tester's figure.

Idle.  The service's wakeups over --idle-seconds (default 10) with nothing
  asked of it: context switches (voluntary + involuntary, from
  /proc/PID/task/*/status) and timeslices (/proc/PID/task/*/schedstat) of all
  its threads; its PSS (/proc/PID/smaps_rollup); at the smallest and at the
  largest size.

Goals (issue 8): ListDisks and GetManagedObjects within 1.5x the canned
reply at every size and within 4x Ping at 3 disks; event latency median and
p99 <= 20 ms; AttachDisk as root within 1.10x direct, as pt-tester within
1.15x direct after subtracting one polkit round trip; 0 wakeups/s idle.  The
verdicts are printed, never asserted: the exit status is 0 whenever the
figures were taken (1 when something did not work: a benchmark that measures
failures is worthless).  Every loop device set up is detached at the end,
even on failure (and by the outer process if this one is killed); loop device
nodes the run had to create are removed again (LOOP_CTL_REMOVE).

p99 of 20 rounds is the largest of them (nearest rank).
"""

import argparse
import fcntl
import importlib.util
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

BUS_NAME = 'org.example.Passthrough1'
OBJECT = '/org/example/Passthrough1'
IFACE = 'org.example.Passthrough1'
DISK_IFACE = IFACE + '.Disk'
DOMAIN_IFACE = IFACE + '.Domain'
OM = 'org.freedesktop.DBus.ObjectManager'
PROPS = 'org.freedesktop.DBus.Properties'
PEER = 'org.freedesktop.DBus.Peer'
CANNED_NAME = 'org.example.PassthroughCanned'
CANNED_OBJECT = '/org/example/Canned'
CANNED_IFACE = 'org.example.Canned'
POLKIT_NAME = 'org.freedesktop.PolicyKit1'
POLKIT_OBJECT = '/org/freedesktop/PolicyKit1/Authority'
POLKIT_IFACE = 'org.freedesktop.PolicyKit1.Authority'
ACTION_ATTACH = 'org.example.passthrough1.attach-disk'
DOMAIN = 'pt-fw'
USER = 'pt-tester'
CALL_TIMEOUT_MS = 120000
LIST_WARMUP = 5
ATTACH_WARMUP = 2
POLKIT_PER_ROUND = 3
QUIET = 0.25            # seconds without a signal: the service has settled
SIGNAL_TIMEOUT = 30

GOAL_CANNED = 1.5
GOAL_PING = 4.0
GOAL_LATENCY_MS = 20.0
GOAL_ROOT = 1.10
GOAL_USER = 1.15
GOAL_WAKEUPS = 0.0

LOOP_CTL_REMOVE = 0x4C81


class BenchError(Exception):
    """Something did not do what it should: the figures would be meaningless."""


def load_bench_attach():
    """tests/bench-attach.py as a module (its name has a dash)."""
    spec = importlib.util.spec_from_file_location('bench_attach', os.path.join(HERE, 'bench-attach.py'))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


BA = load_bench_attach()
dbus_connect = BA.dbus_connect


# ---------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------

def now():
    return time.monotonic()


def run(argv, timeout=120):
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=timeout)
    if p.returncode != 0:
        raise BenchError('%s failed (%d): %s' % (' '.join(argv), p.returncode, p.stderr.strip()))
    return p.stdout


def timed_run(argv, timeout=120):
    """(start, end) monotonic times of a command that must succeed; its stdout."""
    t0 = now()
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=timeout)
    t1 = now()
    if p.returncode != 0:
        raise BenchError('%s failed (%d): %s' % (' '.join(argv), p.returncode, p.stderr.strip()))
    return t0, t1, p.stdout


def stats(values):
    s = BA.stats(values)
    if values:
        v = sorted(values)
        s['p99'] = v[min(len(v) - 1, max(0, -(-99 * len(v) // 100) - 1))]   # nearest rank
    return s


def bootstrap(samples, f, draws=2000, seed=1):
    """95% bootstrap interval of f(medians) (each list resampled on its own;
    seeded, so a data set always gives the same interval)."""
    rnd = random.Random(seed)
    rs = sorted(f(*[statistics.median(rnd.choices(s, k=len(s))) for s in samples]) for _ in range(draws))
    return rs[int(0.025 * draws)], rs[int(0.975 * draws) - 1]


def verdict(value, limit, interval=None):
    if value is None:
        return '-'
    met = value <= limit
    word = 'MET' if met else 'NOT MET'
    if interval and interval[0] <= limit < interval[1]:
        word += ' (95%% %.2f-%.2f)' % interval
    return word


# ---------------------------------------------------------------------------
# Loop devices: many, cheap, always cleaned up
# ---------------------------------------------------------------------------

def loop_nodes():
    return {n for n in os.listdir('/sys/block') if n.startswith('loop')}


class LoopPool:
    """Loop devices over 1 MiB sparse files (no udevd here: the kernel makes
    the nodes).  Recorded like ptharness.LoopDisk records its own, so the
    outer process detaches them if this one is killed.  stop() detaches all."""

    def __init__(self, tmpdir):
        import ptharness as H
        self.H = H
        self.dir = tempfile.mkdtemp(prefix='pt-bench-loops-', dir=tmpdir)
        self.devs = {}          # dev -> backing
        self.seq = 0
        H._track(self)

    def new_file(self, size=1024 * 1024):
        self.seq += 1
        path = os.path.join(self.dir, 'disk-%04d.img' % self.seq)
        with open(path, 'wb') as f:
            f.truncate(size)
        return path

    def record(self, dev, backing):
        self.devs[dev] = backing
        reg = os.environ.get(self.H.ENV_REGISTRY)
        if reg:
            self.H._write(os.path.join(reg, 'loop-' + os.path.basename(dev)), '%s\n%s\n' % (dev, backing))

    def forget(self, dev):
        self.devs.pop(dev, None)
        reg = os.environ.get(self.H.ENV_REGISTRY)
        if reg:
            try:
                os.unlink(os.path.join(reg, 'loop-' + os.path.basename(dev)))
            except OSError:
                pass

    def add(self, backing=None):
        backing = backing or self.new_file()
        dev = run(['losetup', '-f', '--show', backing]).strip()
        self.record(dev, backing)
        return dev

    def timed_add(self, backing):
        t0, t1, out = timed_run(['losetup', '-f', '--show', backing])
        dev = out.strip()
        self.record(dev, backing)
        return dev, t0, t1

    def timed_remove(self, dev):
        t0, t1, _ = timed_run(['losetup', '-d', dev])
        self.forget(dev)
        return t0, t1

    def grow(self, n):
        return [self.add() for _ in range(n)]

    def remove(self, devs):
        devs = list(devs)
        for i in range(0, len(devs), 100):
            batch = devs[i:i + 100]
            subprocess.run(['losetup', '-d', *batch], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            for d in batch:
                self.forget(d)

    def stop(self):
        self.H._untrack(self)
        left = list(self.devs)
        self.remove(left)
        for dev in left:
            try:          # a device detached by hand in between is fine
                with open('/sys/block/%s/loop/backing_file' % os.path.basename(dev)) as f:
                    sys.stderr.write('bench: %s still backed by %s\n' % (dev, f.read().strip()))
            except OSError:
                pass
        shutil.rmtree(self.dir, ignore_errors=True)


def remove_new_loop_nodes(before):
    """Remove the unbound loop device nodes this run created (LOOP_CTL_REMOVE
    refuses a bound or open one); the next run starts from the same /sys."""
    removed = []
    try:
        fd = os.open('/dev/loop-control', os.O_RDWR)
    except OSError:
        return removed
    try:
        for name in sorted(loop_nodes() - before):
            if os.path.exists('/sys/block/%s/loop/backing_file' % name):
                continue
            try:
                fcntl.ioctl(fd, LOOP_CTL_REMOVE, int(name[4:]))
                removed.append(name)
            except (OSError, ValueError):
                pass
    finally:
        os.close(fd)
    return removed


# ---------------------------------------------------------------------------
# Signals, stamped as they arrive (a thread with its own main context)
# ---------------------------------------------------------------------------

class Signals:
    def __init__(self, address):
        self.address = address
        self.events = []            # (time, member, path, detail)
        self.cond = threading.Condition()
        self._ready = threading.Event()
        self._error = None
        self.loop = None
        self.thread = threading.Thread(target=self._run, name='signals', daemon=True)
        self.thread.start()
        if not self._ready.wait(30) or self._error:
            raise BenchError('cannot subscribe to the signals: %s' % self._error)

    def _run(self):
        from gi.repository import Gio, GLib
        ctx = GLib.MainContext.new()
        ctx.push_thread_default()
        try:
            conn = dbus_connect(self.address)
            subs = [
                conn.signal_subscribe(BUS_NAME, OM, None, OBJECT, None, Gio.DBusSignalFlags.NONE, self._om, None),
                conn.signal_subscribe(BUS_NAME, PROPS, 'PropertiesChanged', None, None,
                                      Gio.DBusSignalFlags.NONE, self._props, None),
            ]
            # A round trip to the bus: the match rules are in place once it answers.
            conn.call_sync('org.freedesktop.DBus', '/org/freedesktop/DBus', 'org.freedesktop.DBus', 'GetId',
                           None, None, Gio.DBusCallFlags.NONE, 10000, None)
            self.loop = GLib.MainLoop.new(ctx, False)
        except Exception as e:           # reported by __init__
            self._error = e
            self._ready.set()
            return
        self._ready.set()
        self.loop.run()
        for s in subs:
            conn.signal_unsubscribe(s)
        conn.close_sync(None)
        ctx.pop_thread_default()

    def _add(self, member, path, detail):
        t = now()
        with self.cond:
            self.events.append((t, member, path, detail))
            self.cond.notify_all()

    def _om(self, conn, sender, path, iface, member, params, _data):
        if member == 'InterfacesAdded':
            obj, ifaces = params.unpack()
            self._add(member, obj, ifaces)
        elif member == 'InterfacesRemoved':
            obj, names = params.unpack()
            self._add(member, obj, names)

    def _props(self, conn, sender, path, iface, member, params, _data):
        name, changed, invalidated = params.unpack()
        self._add('PropertiesChanged', path, (name, changed))

    def mark(self):
        with self.cond:
            return len(self.events)

    def wait(self, since, pred, what, timeout=SIGNAL_TIMEOUT):
        """The first event from index `since` on that pred() accepts."""
        deadline = now() + timeout
        with self.cond:
            i = since
            while True:
                while i < len(self.events):
                    if pred(self.events[i]):
                        return self.events[i]
                    i += 1
                left = deadline - now()
                if left <= 0:
                    raise BenchError('no signal within %ds: %s (last: %r)' % (timeout, what, self.events[-3:]))
                self.cond.wait(left)

    def quiet(self, seconds=QUIET, timeout=60):
        """Wait until no signal has come for `seconds`, counted from the
        last signal or from now, whichever is later (an event of an action
        just taken may still be on its way)."""
        start = now()
        deadline = start + timeout
        with self.cond:
            while True:
                last = max(self.events[-1][0] if self.events else 0, start)
                left = last + seconds - now()
                if left <= 0:
                    return
                if now() > deadline:
                    raise BenchError('the service did not settle within %ds' % timeout)
                self.cond.wait(left)

    def stop(self):
        if self.loop:
            self.loop.quit()
        self.thread.join(10)


def added_disk(dev):
    def pred(e):
        return (e[1] == 'InterfacesAdded' and DISK_IFACE in e[3]
                and e[3][DISK_IFACE].get('Path') == dev)
    return pred


def removed_object(path):
    return lambda e: e[1] == 'InterfacesRemoved' and e[2] == path


def changed_to(path, key, value):
    return lambda e: (e[1] == 'PropertiesChanged' and e[2] == path and e[3][0] == DISK_IFACE
                      and e[3][1].get(key) == value)


# ---------------------------------------------------------------------------
# Calls
# ---------------------------------------------------------------------------

class Caller:
    """The persistent connection every timed call goes through."""

    def __init__(self, address):
        from gi.repository import Gio, GLib
        self.Gio, self.GLib = Gio, GLib
        self.conn = dbus_connect(address)
        self.name = self.conn.get_unique_name()

    def call(self, dest, path, iface, method, params=None, timeout=CALL_TIMEOUT_MS):
        try:
            return self.conn.call_sync(dest, path, iface, method, params, None,
                                       self.Gio.DBusCallFlags.NONE, timeout, None)
        except self.GLib.Error as e:
            raise BenchError('%s.%s on %s: %s' % (iface, method, dest, e.message))

    def timed(self, *args):
        t0 = time.perf_counter()
        reply = self.call(*args)
        return time.perf_counter() - t0, reply

    # the calls of the listing floor
    def ping(self):
        return self.timed(BUS_NAME, OBJECT, PEER, 'Ping')

    def list_disks(self):
        return self.timed(BUS_NAME, OBJECT, IFACE, 'ListDisks')

    def managed_objects(self):
        return self.timed(BUS_NAME, OBJECT, OM, 'GetManagedObjects')

    def canned_list(self):
        return self.timed(CANNED_NAME, CANNED_OBJECT, CANNED_IFACE, 'ListDisks')

    def canned_objects(self):
        return self.timed(CANNED_NAME, CANNED_OBJECT, CANNED_IFACE, 'GetManagedObjects')

    def polkit_check(self):
        GLib = self.GLib
        params = GLib.Variant('((sa{sv})sa{ss}us)', (
            ('system-bus-name', {'name': GLib.Variant('s', self.name)}), ACTION_ATTACH, {}, 0, ''))
        return self.timed(POLKIT_NAME, POLKIT_OBJECT, POLKIT_IFACE, 'CheckAuthorization', params)

    def attach(self, dev):
        GLib = self.GLib
        return self.timed(BUS_NAME, OBJECT, IFACE, 'AttachDisk',
                          GLib.Variant('(ssa{sv})', (DOMAIN, dev, {})))

    def disks(self):
        """ListDisks, unpacked (untimed)."""
        return self.call(BUS_NAME, OBJECT, IFACE, 'ListDisks').unpack()[0]

    def close(self):
        self.conn.close_sync(None)


# ---------------------------------------------------------------------------
# The canned floor
# ---------------------------------------------------------------------------

def _esc(s):
    return s.replace('\\', '\\\\').replace('\n', '\\n').replace('\t', '\\t')


_GETTERS = {'b': lambda v: str(int(v.get_boolean())), 'y': lambda v: str(v.get_byte()),
            'n': lambda v: str(v.get_int16()), 'q': lambda v: str(v.get_uint16()),
            'i': lambda v: str(v.get_int32()), 'u': lambda v: str(v.get_uint32()),
            'x': lambda v: str(v.get_int64()), 't': lambda v: str(v.get_uint64()),
            'd': lambda v: repr(v.get_double())}


def template_ops(value, out):
    """A GVariant as bench-canned's template lines (see tests/bench-canned.c)."""
    t = value.get_type_string()
    if t[0] == 'a':
        out.append('Oa ' + t[1:])
        for i in range(value.n_children()):
            template_ops(value.get_child_value(i), out)
        out.append('C')
    elif t[0] in '({':
        out.append(('Or ' if t[0] == '(' else 'Oe ') + t[1:-1])
        for i in range(value.n_children()):
            template_ops(value.get_child_value(i), out)
        out.append('C')
    elif t == 'v':
        inner = value.get_variant()
        out.append('Ov ' + inner.get_type_string())
        template_ops(inner, out)
        out.append('C')
    elif t in ('s', 'o', 'g'):
        out.append('B%s %s' % (t, _esc(value.get_string())))
    elif t in _GETTERS:
        out.append('B%s %s' % (t, _GETTERS[t](value)))
    else:
        raise BenchError('bench-canned cannot send type %s' % t)


class Canned:
    def __init__(self, builddir, address, tmpdir):
        exe = os.path.join(os.path.abspath(builddir), 'tests', 'bench-canned')
        if not os.access(exe, os.X_OK):
            # Not built by meson (a build dir from before it existed): build it here.
            exe = os.path.join(tmpdir, 'bench-canned')
            flags = run(['pkg-config', '--cflags', '--libs', 'libsystemd']).split()
            run(['cc', '-O2', '-D_GNU_SOURCE', '-o', exe, os.path.join(HERE, 'bench-canned.c'), *flags])
        self.tmpdir = tmpdir
        self.proc = subprocess.Popen([exe, address, CANNED_NAME], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        if self.proc.stdout.readline().strip() != 'ready':
            self.proc.wait(5)
            raise BenchError('bench-canned did not start: %s' % self.proc.stderr.read().strip())

    def load(self, caller, method, reply):
        """Make `method` answer with `reply`'s body (a GVariant tuple)."""
        ops = []
        for i in range(reply.n_children()):
            template_ops(reply.get_child_value(i), ops)
        path = os.path.join(self.tmpdir, 'canned-%s.ops' % method)
        with open(path, 'w') as f:
            f.write('\n'.join(ops) + '\n')
        from gi.repository import GLib
        n = caller.call(CANNED_NAME, CANNED_OBJECT, CANNED_IFACE, 'Load',
                        GLib.Variant('(ss)', (method, path))).unpack()[0]
        if n != len(ops):
            raise BenchError('bench-canned loaded %d of %d operations' % (n, len(ops)))
        return len(ops)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        self.proc.stdout.close()
        self.proc.stderr.close()


# ---------------------------------------------------------------------------
# pt-tester: a child process with its own persistent connection
# ---------------------------------------------------------------------------

def child_main(address):
    """--child: runs as pt-tester; "attach DEV" on stdin -> one JSON line."""
    caller = Caller(address)
    print(json.dumps({'ready': True, 'uid': os.getuid(), 'name': caller.name}), flush=True)
    for line in sys.stdin:
        words = line.split()
        if not words or words[0] == 'quit':
            break
        try:
            secs, reply = caller.attach(words[1])
            out = {'ok': True, 'seconds': secs, 'reply': reply.unpack()}
        except BenchError as e:
            out = {'ok': False, 'error': str(e)}
        print(json.dumps(out), flush=True)
    caller.close()
    return 0


class UserClient:
    def __init__(self, address):
        import pwd
        pw = pwd.getpwnam(USER)
        env = {'PATH': '/usr/bin:/bin', 'LANG': 'C.UTF-8', 'HOME': '/', 'USER': USER, 'LOGNAME': USER}
        argv = ['setpriv', '--reuid=%d' % pw.pw_uid, '--regid=%d' % pw.pw_gid, '--init-groups',
                '--', '/usr/bin/python3', os.path.abspath(__file__), '--child', address]
        self.proc = subprocess.Popen(argv, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, cwd='/')
        hello = self._read()
        if hello.get('uid') != pw.pw_uid:
            raise BenchError('the pt-tester child did not start as %s: %r' % (USER, hello))
        self.name = hello['name']

    def _read(self):
        line = self.proc.stdout.readline()
        if not line:
            err = self.proc.stderr.read() if self.proc.poll() is not None else ''
            raise BenchError('the pt-tester child died: %s' % err.strip())
        return json.loads(line)

    def attach(self, dev):
        self.proc.stdin.write('attach %s\n' % dev)
        self.proc.stdin.flush()
        out = self._read()
        if not out['ok']:
            raise BenchError('as %s: %s' % (USER, out['error']))
        return out['seconds'], out['reply']

    def close(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write('quit\n')
                self.proc.stdin.close()
                self.proc.wait(10)
            except (BrokenPipeError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()
        self.proc.stderr.close()


# ---------------------------------------------------------------------------
# The process: wakeups and memory
# ---------------------------------------------------------------------------

def thread_counters(pid):
    """tid -> (voluntary + involuntary context switches, timeslices run)."""
    res = {}
    base = '/proc/%d/task' % pid
    for tid in os.listdir(base):
        try:
            switches = 0
            with open('%s/%s/status' % (base, tid)) as f:
                for line in f:
                    if line.startswith(('voluntary_ctxt_switches', 'nonvoluntary_ctxt_switches')):
                        switches += int(line.split()[1])
            with open('%s/%s/schedstat' % (base, tid)) as f:
                slices = int(f.read().split()[2])
            res[int(tid)] = (switches, slices)
        except (OSError, ValueError, IndexError):
            pass
    return res


def memory(pid):
    res = {}
    with open('/proc/%d/smaps_rollup' % pid) as f:
        for line in f:
            k, _, v = line.partition(':')
            if k in ('Rss', 'Pss', 'Pss_Anon', 'Pss_File', 'Private_Dirty'):
                res[k] = int(v.split()[0])
    with open('/proc/%d/status' % pid) as f:
        for line in f:
            k, _, v = line.partition(':')
            if k in ('VmHWM', 'Threads'):
                res[k] = int(v.split()[0])
    return res


# ---------------------------------------------------------------------------
# The benchmark
# ---------------------------------------------------------------------------

class Bench:
    def __init__(self, world, opts, pool, signals, caller, canned):
        self.w = world
        self.opts = opts
        self.pool = pool
        self.sig = signals
        self.c = caller
        self.canned = canned
        self.pid = world.service.pid
        self.results = {'listing': [], 'events': {}, 'events_big': {}, 'attach': None, 'idle': []}

    def log(self, msg):
        sys.stderr.write('[bench %7.1f] %s\n' % (now() - T0, msg))
        sys.stderr.flush()

    def alive(self):
        if self.w.service.poll() is not None:
            raise BenchError('passthroughd exited (%d)' % self.w.service.returncode)

    def settle(self):
        """The model current (ListDisks waits for it) and no signal for a while."""
        self.c.disks()
        self.sig.quiet()

    def disk_path(self, dev):
        objs = self.c.call(BUS_NAME, OBJECT, OM, 'GetManagedObjects').unpack()[0]
        for path, ifaces in objs.items():
            if ifaces.get(DISK_IFACE, {}).get('Path') == dev:
                return path
        raise BenchError('no disk object has Path %s' % dev)

    # -- sizes ---------------------------------------------------------------

    def wait_listed(self, devs, timeout=600):
        want = set(devs)
        deadline = now() + timeout
        while True:
            disks = self.c.disks()
            paths = {d.get('Path') for d in disks}
            if want <= paths:
                return len(disks)
            if now() > deadline:
                raise BenchError('ListDisks lists %d of the %d loop devices after %ds'
                                 % (len(want & paths), len(want), timeout))
            time.sleep(0.2)

    def grow_to(self, size):
        have = len(self.c.disks())
        if have < size:
            self.log('setting up %d loop devices (%d disks -> %d)' % (size - have, have, size))
            t0 = now()
            self.pool.grow(size - have)
            records = self.wait_listed(self.pool.devs)
            self.log('ListDisks lists all %d disks %.1f s after the first losetup' % (records, now() - t0))
        self.settle()
        return len(self.c.disks())

    # -- listing -------------------------------------------------------------

    def listing(self, size):
        records = self.grow_to(size)
        _, real_list = self.c.list_disks()
        _, real_objs = self.c.managed_objects()
        n_list = self.canned.load(self.c, 'ListDisks', real_list)
        n_objs = self.canned.load(self.c, 'GetManagedObjects', real_objs)
        _, canned_list = self.c.canned_list()
        _, canned_objs = self.c.canned_objects()
        if not (canned_list.equal(real_list) and canned_objs.equal(real_objs)):
            raise BenchError('the canned replies differ from the real ones at %d disks' % size)
        bytes_ = {'ListDisks': real_list.get_size(), 'GetManagedObjects': real_objs.get_size()}
        objects = real_objs.get_child_value(0).n_children()
        self.log('listing at %d disks: ListDisks %d records (%d bytes), GetManagedObjects %d objects (%d bytes)'
                 % (records, records, bytes_['ListDisks'], objects, bytes_['GetManagedObjects']))
        methods = [('Ping', self.c.ping), ('ListDisks', self.c.list_disks),
                   ('GetManagedObjects', self.c.managed_objects), ('canned ListDisks', self.c.canned_list),
                   ('canned GetManagedObjects', self.c.canned_objects)]
        times = {name: [] for name, _ in methods}
        for rep in range(LIST_WARMUP + self.opts.calls):
            k = rep % len(methods)
            for name, fn in methods[k:] + methods[:k]:
                secs, _ = fn()
                if rep >= LIST_WARMUP:
                    times[name].append(secs)
        if len(self.c.disks()) != records:
            raise BenchError('the number of disks changed while timing (%d -> %d)' % (records, len(self.c.disks())))
        self.alive()
        res = {'size': size, 'records': records, 'objects': objects, 'reply_bytes': bytes_,
               'template_ops': {'ListDisks': n_list, 'GetManagedObjects': n_objs},
               'loop_devices': len(self.pool.devs), 'times': times,
               'summary': {k: stats(v) for k, v in times.items()}}
        self.results['listing'].append(res)
        return res

    # -- idle ----------------------------------------------------------------

    def idle(self, size):
        self.settle()
        self.sig.quiet(1.0)
        before = thread_counters(self.pid)
        t0 = now()
        time.sleep(self.opts.idle_seconds)
        after = thread_counters(self.pid)
        secs = now() - t0
        common = set(before) & set(after)
        switches = sum(after[t][0] - before[t][0] for t in common)
        slices = sum(after[t][1] - before[t][1] for t in common)
        per_thread = {t: (after[t][0] - before[t][0], after[t][1] - before[t][1]) for t in common
                      if after[t] != before[t]}
        res = {'size': size, 'records': len(self.c.disks()), 'seconds': secs,
               'switches': switches, 'slices': slices,
               'wakeups_per_s': switches / secs, 'slices_per_s': slices / secs,
               'threads_before': sorted(before), 'threads_after': sorted(after),
               'busy_threads': {str(t): {'switches': v[0], 'slices': v[1], 'comm': thread_comm(self.pid, t)}
                                for t, v in per_thread.items()},
               'signals_meanwhile': sum(1 for e in self.sig.events if t0 <= e[0] <= t0 + secs),
               'memory_kb': memory(self.pid)}
        self.results['idle'].append(res)
        self.log('idle at %d disks: %d context switches in %.1f s, PSS %d kB'
                 % (size, switches, secs, res['memory_kb'].get('Pss', -1)))
        return res

    # -- event latency ---------------------------------------------------------

    def ev_loop(self, rounds, into):
        add, rem = into.setdefault('loop add', []), into.setdefault('loop remove', [])
        for r in range(rounds):
            backing = self.pool.new_file()
            self.settle()
            since = self.sig.mark()
            dev, t0, t1 = self.pool.timed_add(backing)
            e = self.sig.wait(since, added_disk(dev), 'InterfacesAdded for %s' % dev)
            add.append({'latency': e[0] - t1, 'action': t1 - t0, 'dev': dev})
            path = e[2]
            self.settle()
            since = self.sig.mark()
            t0, t1 = self.pool.timed_remove(dev)
            e = self.sig.wait(since, removed_object(path), 'InterfacesRemoved for %s' % path)
            rem.append({'latency': e[0] - t1, 'action': t1 - t0, 'dev': dev})
            os.unlink(backing)

    def ev_mount(self, rounds, into):
        mnt_ev, umnt_ev = into.setdefault('mount', []), into.setdefault('umount', [])
        dev = self.pool.add(self.pool.new_file(16 * 1024 * 1024))
        run(['mkfs.ext4', '-q', '-F', dev])
        mnt = tempfile.mkdtemp(prefix='pt-bench-mnt-', dir=self.w.tmp)
        try:
            self.wait_listed([dev])
            path = self.disk_path(dev)
            for r in range(rounds):
                self.settle()
                since = self.sig.mark()
                t0, t1, _ = timed_run(['mount', dev, mnt])
                e = self.sig.wait(since, changed_to(path, 'State', 'busy'), 'State busy on %s' % path)
                mnt_ev.append({'latency': e[0] - t1, 'action': t1 - t0})
                self.settle()
                since = self.sig.mark()
                t0, t1, _ = timed_run(['umount', mnt])
                e = self.sig.wait(since, changed_to(path, 'State', 'free'), 'State free on %s' % path)
                umnt_ev.append({'latency': e[0] - t1, 'action': t1 - t0})
        finally:
            if os.path.ismount(mnt):
                subprocess.run(['umount', '-l', mnt])
            os.rmdir(mnt)
            self.pool.remove([dev])

    def restart_guest(self):
        """pt-fw never lets go of a disk: start it afresh."""
        subprocess.run(['virsh', '-q', '-c', 'qemu:///system', 'destroy', DOMAIN],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        run(['virsh', '-q', '-c', 'qemu:///system', 'start', DOMAIN])
        deadline = now() + 60
        while True:
            self.settle()
            held = [d['Path'] for d in self.c.disks() if d.get('AttachedTo')]
            if not held:
                return
            if now() > deadline:
                raise BenchError('after restarting %s the service still sees %r attached' % (DOMAIN, held))

    def ev_virsh(self, rounds, into):
        out = into.setdefault('virsh attach', [])
        dev = self.pool.add(self.pool.new_file(16 * 1024 * 1024))
        xml = os.path.join(self.w.tmp, 'bench-virsh-disk.xml')
        import ptharness as H
        with open(xml, 'w') as f:
            f.write(H.disk_xml(dev, target='vdb'))
        try:
            self.wait_listed([dev])
            path = self.disk_path(dev)
            for r in range(rounds):
                self.restart_guest()
                since = self.sig.mark()
                t0, t1, _ = timed_run(['virsh', '-q', '-c', 'qemu:///system', 'attach-device', DOMAIN, xml, '--live'])
                e = self.sig.wait(since, changed_to(path, 'AttachedTo', DOMAIN), 'AttachedTo on %s' % path)
                out.append({'latency': e[0] - t1, 'action': t1 - t0})
            self.restart_guest()
        finally:
            self.pool.remove([dev])

    def events(self, rounds, into, kinds=('loop', 'mount', 'virsh')):
        if 'loop' in kinds:
            self.log('event latency: loop add/remove, %d rounds' % rounds)
            self.ev_loop(rounds, into)
        if 'mount' in kinds:
            self.log('event latency: mount/umount, %d rounds' % rounds)
            self.ev_mount(rounds, into)
        if 'virsh' in kinds:
            self.log('event latency: virsh attach-device, %d rounds (pt-fw restarted before each)' % rounds)
            self.ev_virsh(rounds, into)
        self.alive()

    # -- AttachDisk ------------------------------------------------------------

    def attach(self, rounds, direct, user):
        import ptharness as H
        disks = {m: self.pool.add(self.pool.new_file(16 * 1024 * 1024)) for m in ('root', 'user', 'direct')}
        self.wait_listed(disks.values())
        raw = {'root': [], 'user': [], 'direct': [], 'polkit': []}
        targets = {'root': [], 'user': [], 'direct': []}
        order = ['root', 'user', 'direct']
        self.log('AttachDisk: %d rounds after %d warm-up rounds' % (rounds, ATTACH_WARMUP))
        for r in range(ATTACH_WARMUP + rounds):
            self.restart_guest()
            this = {}
            k = r % 3
            for m in order[k:] + order[:k]:
                dev = disks[m]
                self.settle()
                self.w.polkit.clear_calls()
                if m == 'root':
                    secs, reply = self.c.attach(dev)
                    target = reply.unpack()[0]
                elif m == 'user':
                    secs, reply = user.attach(dev)
                    target = reply[0]
                else:
                    used = {t for _, t, _ in direct.live_disks()}
                    target = next('vd' + c for c in 'bcdefghijklmnopqrstuvwxyz' if 'vd' + c not in used)
                    xml = H.disk_xml(dev, target=target).replace(
                        '</disk>', "<alias name='ua-pt-%s'/></disk>" % target)
                    secs = direct.attach(xml)
                calls = self.w.polkit.calls()
                want = [] if m != 'user' else [(ACTION_ATTACH, user.name)]
                got = [(c['action_id'], c['subject'].get('name')) for c in calls]
                if got != want:
                    raise BenchError('%s attach: polkit checks %r, want %r' % (m, got, want))
                this[m] = secs
                if r >= ATTACH_WARMUP:
                    raw[m].append(secs)
                    targets[m].append(target)
            live = {src: tgt for src, tgt, _ in direct.live_disks()}
            for m, dev in disks.items():
                if dev not in live:
                    raise BenchError('round %d: %s (%s) is not in the live XML: %r' % (r, dev, m, live))
            self.settle()
            for _ in range(POLKIT_PER_ROUND):
                secs, reply = self.c.polkit_check()
                if not reply.unpack()[0][0]:
                    raise BenchError('the polkit mock did not allow %s' % ACTION_ATTACH)
                if r >= ATTACH_WARMUP:
                    raw['polkit'].append(secs)
            self.w.polkit.clear_calls()
            self.log('  round %d%s: root %.1f ms, pt-tester %.1f ms, direct %.1f ms'
                     % (r + 1, ' (warm-up)' if r < ATTACH_WARMUP else '',
                        this['root'] * 1000, this['user'] * 1000, this['direct'] * 1000))
        self.restart_guest()
        self.pool.remove(disks.values())
        self.alive()
        self.results['attach'] = {'raw': raw, 'targets': targets,
                                  'summary': {k: stats(v) for k, v in raw.items()}}


def thread_comm(pid, tid):
    try:
        with open('/proc/%d/task/%d/comm' % (pid, tid)) as f:
            return f.read().strip()
    except OSError:
        return '?'


# ---------------------------------------------------------------------------
# The report
# ---------------------------------------------------------------------------

def ms(x):
    return '%8.2f' % (x * 1000)


def report(res, opts):
    out = []
    p = out.append
    ratios = {}
    p('')
    p('passthroughd live model benchmark (issue 8); times in ms; one run, one private bus')
    p('')
    p('Listing: %d calls of each after %d warm-up, interleaved; median / p90; ratios of medians'
      % (opts.calls, LIST_WARMUP))
    p('%-6s %-26s %9s %8s %8s  %-22s %-8s %s' % ('disks', 'call', 'bytes', 'median', 'p90', 'ratio', 'goal', 'verdict'))
    p('-' * 100)
    for L in res['listing']:
        s, t = L['summary'], L['times']
        size = L['records']
        ping = s['Ping']['median']
        r = ratios.setdefault('listing_%d' % size, {})
        p('%-6d %-26s %9s %s %s' % (size, 'Peer.Ping (floor)', '-', ms(ping), ms(s['Ping']['p90'])))
        for real, label in (('ListDisks', 'ListDisks'), ('GetManagedObjects', 'GetManagedObjects')):
            canned = 'canned ' + real
            cm = s[canned]['median']
            p('%-6s %-26s %9d %s %s  %-22s' % ('', 'canned ' + ('aa{sv}' if real == 'ListDisks' else 'a{oa{sa{sv}}}'),
                                                L['reply_bytes'][real], ms(cm), ms(s[canned]['p90']),
                                                '%.1fx Ping' % (cm / ping)))
            rc = s[real]['median'] / cm
            ci = bootstrap([t[real], t[canned]], lambda a, b: a / b)
            r[real + '/canned'] = {'ratio': rc, 'interval95': ci}
            p('%-6s %-26s %9d %s %s  %-22s %-8s %s' % ('', real, L['reply_bytes'][real], ms(s[real]['median']),
                                                      ms(s[real]['p90']), '%.2fx canned' % rc,
                                                      '<= %.1fx' % GOAL_CANNED, verdict(rc, GOAL_CANNED, ci)))
            rp = s[real]['median'] / ping
            r[real + '/Ping'] = {'ratio': rp}
            if L is res['listing'][0]:
                cip = bootstrap([t[real], t['Ping']], lambda a, b: a / b)
                r[real + '/Ping']['interval95'] = cip
                p('%-6s %-26s %9s %8s %8s  %-22s %-8s %s' % ('', '', '', '', '', '%.1fx Ping' % rp,
                                                             '<= %.0fx' % GOAL_PING, verdict(rp, GOAL_PING, cip)))
            else:
                p('%-6s %-26s %9s %8s %8s  %-22s' % ('', '', '', '', '', '%.1fx Ping' % rp))
    p('(%s disks: the records of ListDisks, host disks included; GetManagedObjects also has the domains;'
      % '/'.join(str(L['records']) for L in res['listing']))
    p(' bytes: the reply body, serialized; the canned replies are the real ones replayed, equal byte for byte)')

    def ev_table(title, evs):
        p('')
        p(title)
        p('%-34s %4s %8s %8s %8s %8s %8s  %-10s %s' % ('event -> signal', 'n', 'median', 'p99', 'min', 'action',
                                                       'start->', 'goal', 'verdict'))
        p('-' * 100)
        labels = [('loop add', 'losetup -f -> InterfacesAdded'), ('loop remove', 'losetup -d -> InterfacesRemoved'),
                  ('mount', 'mount -> State busy'), ('umount', 'umount -> State free'),
                  ('virsh attach', 'virsh attach-device -> AttachedTo')]
        summ = {}
        for key, label in labels:
            if key not in evs:
                continue
            lat = [e['latency'] for e in evs[key]]
            act = [e['action'] for e in evs[key]]
            s = stats(lat)
            whole = stats([a + b for a, b in zip(lat, act)])
            summ[key] = {'latency': s, 'action': stats(act), 'from_start': whole}
            worst = max(s['median'], s['p99']) * 1000
            p('%-34s %4d %s %s %s %s %s  %-10s %s' % (label, s['n'], ms(s['median']), ms(s['p99']), ms(s['min']),
                                                      ms(stats(act)['median']), ms(whole['median']),
                                                      '<= %.0f ms' % GOAL_LATENCY_MS, verdict(worst, GOAL_LATENCY_MS)))
        return summ

    events_summary = ev_table('Event -> signal latency at %d disks, from the end of the action (its command\'s '
                              'exit; negative: the signal came first);\n"action": the command\'s own median time; '
                              '"start->": median from the command\'s start; p99 of fewer than 100 rounds is the '
                              'largest' % res['listing'][0]['records'], res['events'])
    events_big_summary = None
    if res['events_big']:
        events_big_summary = ev_table('The same at %d disks' % res['listing'][-1]['records'], res['events_big'])

    A = res['attach']
    if A:
        s, raw = A['summary'], A['raw']
        p('')
        p('AttachDisk to %s (firmware guest), %d rounds after %d warm-up, order rotated; pt-fw restarted each round'
          % (DOMAIN, s['root']['n'], ATTACH_WARMUP))
        p('%-40s %4s %8s %8s %8s' % ('', 'n', 'median', 'p90', 'min'))
        p('-' * 100)
        for key, label in (('direct', 'direct libvirt, held connection (floor)'), ('root', 'AttachDisk, root'),
                           ('user', 'AttachDisk, pt-tester (polkit allows)'),
                           ('polkit', 'CheckAuthorization on the mock')):
            p('%-40s %4d %s %s %s' % (label, s[key]['n'], ms(s[key]['median']), ms(s[key]['p90']),
                                      ms(s[key]['min'])))
        d, pk = s['direct']['median'], s['polkit']['median']
        rr = s['root']['median'] / d
        ru = (s['user']['median'] - pk) / d
        ci_r = bootstrap([raw['root'], raw['direct']], lambda a, b: a / b)
        ci_u = bootstrap([raw['user'], raw['polkit'], raw['direct']], lambda a, b, c: (a - b) / c)
        ratios['attach'] = {'root/direct': {'ratio': rr, 'interval95': ci_r},
                            '(user-polkit)/direct': {'ratio': ru, 'interval95': ci_u},
                            'user/direct': {'ratio': s['user']['median'] / d}}
        p('  root / direct                 %5.2f  (%+.2f ms)   goal <= %.2f  %s'
          % (rr, (s['root']['median'] - d) * 1000, GOAL_ROOT, verdict(rr, GOAL_ROOT, ci_r)))
        p('  (pt-tester - polkit) / direct %5.2f  (%+.2f ms)   goal <= %.2f  %s'
          % (ru, (s['user']['median'] - pk - d) * 1000, GOAL_USER, verdict(ru, GOAL_USER, ci_u)))
        p('  pt-tester / direct            %5.2f  (no subtraction)' % (s['user']['median'] / d))

    p('')
    p('Idle (%g s, nothing asked) and memory' % opts.idle_seconds)
    p('%-6s %12s %12s %8s %9s %9s %9s  %-8s %s' % ('disks', 'wakeups/s', 'slices/s', 'threads', 'PSS kB',
                                                  'RSS kB', 'HWM kB', 'goal', 'verdict'))
    p('-' * 100)
    for I in res['idle']:
        m = I['memory_kb']
        p('%-6d %12.2f %12.2f %8d %9d %9d %9d  %-8s %s' % (I['records'], I['wakeups_per_s'], I['slices_per_s'],
                                                          m.get('Threads', 0), m.get('Pss', 0), m.get('Rss', 0),
                                                          m.get('VmHWM', 0), '0/s',
                                                          verdict(I['wakeups_per_s'], GOAL_WAKEUPS)))
        busy = ', '.join('%s(%s) %d' % (v['comm'], t, v['switches']) for t, v in sorted(I['busy_threads'].items()))
        if busy:
            p('       threads that woke: %s' % busy)
    p('(wakeups: voluntary + involuntary context switches of all threads; slices: schedstat timeslices)')
    print('\n'.join(out))
    sys.stdout.flush()
    return {'ratios': ratios, 'events': events_summary, 'events_big': events_big_summary}


# ---------------------------------------------------------------------------

T0 = now()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('builddir')
    parser.add_argument('--json', metavar='FILE', help='write the raw figures here')
    parser.add_argument('--sizes', default='3,67,500', help='disk counts of the listing (default 3,67,500)')
    parser.add_argument('--calls', type=int, default=50)
    parser.add_argument('--event-rounds', type=int, default=20)
    parser.add_argument('--big-event-rounds', type=int, default=10,
                        help='loop and mount rounds again at the largest size (0: none)')
    parser.add_argument('--attach-rounds', type=int, default=20)
    parser.add_argument('--idle-seconds', type=float, default=10.0)
    opts = parser.parse_args()
    sizes = sorted(int(x) for x in opts.sizes.split(','))
    if not sizes or opts.calls < 1 or opts.event_rounds < 1 or opts.attach_rounds < 1:
        parser.error('sizes, calls and rounds must be at least 1')

    import ptharness as H
    from ptworld import World

    H.ensure_private_namespace()
    try:
        import libvirt  # noqa: F401
    except ImportError:
        print('SKIP: python3-libvirt is missing (run tests/install-deps.sh)')
        return 77

    nodes_before = loop_nodes()
    world = World(opts.builddir, guests=('firmware',))
    policy = os.path.join(world.tmp, 'bench-canned.conf')
    with open(policy, 'w') as f:
        f.write('<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"\n'
                ' "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">\n<busconfig>\n'
                '  <policy user="root"><allow own="%s"/></policy>\n'
                '  <policy context="default"><allow send_destination="%s"/></policy>\n'
                '</busconfig>\n' % (CANNED_NAME, CANNED_NAME))
    world.bus_policy_files.append(policy)
    pool = signals = caller = canned = direct = user = None
    failed = None
    doc = None
    try:
        world.start()
        world.polkit.set_allowed([ACTION_ATTACH])
        world.polkit.set_challenge([])
        pool = LoopPool(world.tmp)
        signals = Signals(world.bus.address)
        caller = Caller(world.bus.address)
        canned = Canned(opts.builddir, world.bus.address, world.tmp)
        direct = BA.DirectLibvirt(H.URI, DOMAIN)
        user = UserClient(world.bus.address)
        b = Bench(world, opts, pool, signals, caller, canned)
        b.log('the service has %d disks before any loop device' % len(caller.disks()))

        b.listing(sizes[0])
        b.idle(sizes[0])
        b.events(opts.event_rounds, b.results['events'])
        b.attach(opts.attach_rounds, direct, user)
        for size in sizes[1:]:
            b.listing(size)
        if len(sizes) > 1:
            b.idle(sizes[-1])
            if opts.big_event_rounds:
                b.events(opts.big_event_rounds, b.results['events_big'], kinds=('loop', 'mount'))
        b.alive()
        summary = report(b.results, opts)
        doc = {
            'seconds': 'all times in seconds', 'options': vars(opts), 'results': b.results,
            'summary': summary,
            'goals': {'canned_ratio': GOAL_CANNED, 'ping_ratio_at_smallest': GOAL_PING,
                      'latency_ms': GOAL_LATENCY_MS, 'attach_root_ratio': GOAL_ROOT,
                      'attach_user_ratio_minus_polkit': GOAL_USER, 'idle_wakeups_per_s': GOAL_WAKEUPS},
            'libvirt_version': direct.conn.getLibVersion(), 'kernel': os.uname().release,
            'wall_seconds': now() - T0,
        }
    except (BenchError, H.HarnessError) as e:
        failed = e
    finally:
        if user:
            user.close()
        if canned:
            canned.stop()
        if direct:
            direct.close()
        if caller:
            caller.close()
        if signals:
            signals.stop()
        if pool:
            pool.stop()
        try:
            world.stop()
        except H.HarnessError as e:
            failed = failed or e
        removed = remove_new_loop_nodes(nodes_before)
        if removed:
            sys.stderr.write('[bench] removed %d loop device nodes this run created\n' % len(removed))
    if doc is not None and opts.json:
        doc['loop_nodes_removed'] = len(removed)
        with open(opts.json, 'w') as f:
            json.dump(doc, f, indent=1, default=list)
            f.write('\n')
    if failed:
        sys.stderr.write('BENCHMARK FAILED: %s\n' % failed)
        sys.stderr.write('(logs kept in %s)\n' % world.tmp)
        sys.stderr.write('--- passthroughd log tail ---\n%s\n' % world.service_log()[-2000:])
        return 1
    shutil.rmtree(world.tmp, ignore_errors=True)
    return 0


if __name__ == '__main__':
    if len(sys.argv) >= 3 and sys.argv[1] == '--child':
        sys.exit(child_main(sys.argv[2]))
    if os.geteuid() != 0:
        print('SKIP: needs root: loop devices, a private mount namespace and a private libvirtd')
        sys.exit(77)
    for tool in ('libvirtd', 'qemu-system-x86_64', 'dbus-daemon', 'losetup', 'virsh', 'mkfs.ext4',
                 'setpriv'):
        if not shutil.which(tool) and not os.path.exists('/usr/sbin/' + tool):
            print('SKIP: %s is not installed (run tests/install-deps.sh)' % tool)
            sys.exit(77)
    sys.exit(main())

#!/usr/bin/python3
"""Benchmark: what does passthroughd add to a disk attach + detach round trip?

    /usr/bin/python3 tests/bench-attach.py BUILDDIR [--rounds N] [--json FILE]

Needs root (a private mount namespace, a private libvirtd, loop devices); exits
77 with the reason otherwise.  Everything runs in the ptworld private world:
private libvirtd, private system bus, polkit mock, the built passthroughd and
the TCG guest pt-linux.  One loop disk (32 MiB), one guest, one run.

A round is "attach, then detach until the disk is really gone", timed four
ways (N rounds each, after 2 warm-up rounds each):

  service-root    AttachDisk + DetachDisk on a persistent Gio D-Bus connection
                  of this (root) process: uid 0 skips polkit.  DetachDisk
                  replies after libvirt's DEVICE_REMOVED event.
  service-user    the same from a child process running as pt-tester (setpriv)
                  with its own persistent connection; the polkit mock allows
                  the actions, so every call is a real polkit check.
  virsh           virsh attach-device FILE --live, virsh detach-device FILE
                  --live, then the live XML polled (10 ms, held libvirt
                  connection) until the disk is gone.
  direct          python3-libvirt on a held connection with the default event
                  impl running in a thread: attachDeviceFlags(LIVE), arm a
                  DEVICE_REMOVED waiter, detachDeviceFlags(LIVE), wait for the
                  event.  The floor the service is compared with.

Order: interleaved.  Each round runs every method once, the order rotated by
one from round to round, so slow drifts of the guest or host hit all methods
alike.

Every round is checked, outside the timed parts: after the attach, the live
XML has the disk (target vdb, alias ua-pt-vdb) and the guest reports a 32 MiB
virtio disk (Guest.wait_disks) before the detach starts; after the detach the
live XML has no disk with our source and the guest no longer reports it.
The service rounds also check the polkit mock: no check for root, exactly
attach-disk + detach for pt-tester.  A round that fails ends the benchmark
with exit status 1: a benchmark that measures failures is worthless.

Also: ListDisks through the service (persistent connection, 50 calls) against
lsblk run as a process (50 runs each of two variants), and the service's peak
RSS (VmHWM).  Prints figures and a verdict on the issue's targets; exits 0
whether or not they were met.
"""

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

BUS_NAME = 'org.example.Passthrough1'
OBJECT = '/org/example/Passthrough1'
IFACE = 'org.example.Passthrough1'
ACTION_ATTACH = 'org.example.passthrough1.attach-disk'
ACTION_DETACH = 'org.example.passthrough1.detach'
DOMAIN = 'pt-linux'
TARGET = 'vdb'
ALIAS = 'ua-pt-vdb'
DISK_MB = 32
WARMUP = 2
LIST_CALLS = 50
USER = 'pt-tester'
CALL_TIMEOUT_MS = 60000

TARGET_OVERHEAD = 1.15     # "within 15% of the direct libvirt call"
TARGET_VIRSH = 3.0         # "several times faster than virsh": read as >= 3x

LSBLK_VARIANTS = {
    'lsblk -J -b -o ...': ['lsblk', '-J', '-b', '-o', 'NAME,SIZE,TYPE,MOUNTPOINTS,MODEL,SERIAL'],
    'lsblk -J -O': ['lsblk', '-J', '-O'],
}


class BenchError(Exception):
    """A round did not do what it should: the figures would be meaningless."""


# ---------------------------------------------------------------------------
# D-Bus side (shared by the root process and the pt-tester child)
# ---------------------------------------------------------------------------

def dbus_connect(address):
    from gi.repository import Gio
    flags = (Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT |
             Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION)
    return Gio.DBusConnection.new_for_address_sync(address, flags, None, None)


def disk_call(conn, method, dev):
    """AttachDisk/DetachDisk(pt-linux, dev, {}); returns (seconds, unpacked reply).
    Times are CLOCK_MONOTONIC (time.monotonic()), comparable across processes.
    Raises BenchError with the D-Bus error name on failure."""
    from gi.repository import Gio, GLib
    params = GLib.Variant('(ssa{sv})', (DOMAIN, dev, {}))
    t0 = time.monotonic()
    try:
        reply = conn.call_sync(BUS_NAME, OBJECT, IFACE, method, params, None,
                               Gio.DBusCallFlags.NONE, CALL_TIMEOUT_MS, None)
    except GLib.Error as e:
        name = Gio.DBusError.get_remote_error(e) or ''
        raise BenchError('%s %s failed: %s %s' % (method, dev, name, e.message))
    return time.monotonic() - t0, reply.unpack()


def list_disks_call(conn):
    from gi.repository import Gio
    t0 = time.monotonic()
    reply = conn.call_sync(BUS_NAME, OBJECT, IFACE, 'ListDisks', None, None,
                           Gio.DBusCallFlags.NONE, CALL_TIMEOUT_MS, None)
    return time.monotonic() - t0, reply.unpack()[0]


def child_main(address):
    """--child: run as pt-tester; one persistent connection, commands on stdin
    ("attach DEV" / "detach DEV" / "quit"), one JSON line per command."""
    conn = dbus_connect(address)
    print(json.dumps({'ready': True, 'uid': os.getuid(), 'name': conn.get_unique_name()}), flush=True)
    for line in sys.stdin:
        words = line.split()
        if not words or words[0] == 'quit':
            break
        method = {'attach': 'AttachDisk', 'detach': 'DetachDisk'}[words[0]]
        try:
            start = time.monotonic()
            secs, reply = disk_call(conn, method, words[1])
            out = {'ok': True, 'seconds': secs, 'reply': reply, 'start': start}
        except BenchError as e:
            out = {'ok': False, 'error': str(e)}
        print(json.dumps(out), flush=True)
    conn.close_sync(None)
    return 0


class UserClient:
    """The pt-tester child: holds its own bus connection for the whole run."""

    def __init__(self, address):
        import pwd
        pw = pwd.getpwnam(USER)
        env = {'PATH': '/usr/bin:/bin', 'LANG': 'C.UTF-8', 'HOME': '/', 'USER': USER,
               'LOGNAME': USER}
        argv = ['setpriv', '--reuid=%d' % pw.pw_uid, '--regid=%d' % pw.pw_gid, '--init-groups',
                '--', '/usr/bin/python3', os.path.abspath(__file__), '--child', address]
        self.proc = subprocess.Popen(argv, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, cwd='/')
        hello = self._read()
        if hello.get('uid') != pw.pw_uid:
            raise BenchError('pt-tester child did not start as %s: %r' % (USER, hello))
        self.bus_name = hello['name']

    def _read(self):
        line = self.proc.stdout.readline()
        if not line:
            err = self.proc.stderr.read() if self.proc.poll() is not None else ''
            raise BenchError('pt-tester child died: %s' % err.strip())
        return json.loads(line)

    def call(self, what, dev):
        self.proc.stdin.write('%s %s\n' % (what, dev))
        self.proc.stdin.flush()
        out = self._read()
        if not out['ok']:
            raise BenchError('as %s: %s' % (USER, out['error']))
        self.last_start = out['start']
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
        for f in (self.proc.stdout, self.proc.stderr):
            f.close()


# ---------------------------------------------------------------------------
# libvirt side
# ---------------------------------------------------------------------------

class DirectLibvirt:
    """One held qemu:///system connection, libvirt's default event impl run by
    a thread, one DEVICE_REMOVED callback registered for the domain."""

    def __init__(self, uri, domain):
        import libvirt
        self.libvirt = libvirt
        libvirt.registerErrorHandler(lambda *_: None, None)
        libvirt.virEventRegisterDefaultImpl()
        self._stop = False
        self._thread = threading.Thread(target=self._loop, name='libvirt-events', daemon=True)
        self._thread.start()
        self.conn = libvirt.open(uri)
        self.dom = self.conn.lookupByName(domain)
        self._lock = threading.Lock()
        self._waiting = None          # (alias, threading.Event) while armed
        self.removed = []             # (monotonic time, alias) of every DEVICE_REMOVED seen
        self._cb = self.conn.domainEventRegisterAny(
            self.dom, libvirt.VIR_DOMAIN_EVENT_ID_DEVICE_REMOVED, self._removed, None)

    def _loop(self):
        while not self._stop:
            self.libvirt.virEventRunDefaultImpl()

    def _removed(self, conn, dom, alias, opaque):
        now = time.monotonic()
        with self._lock:
            self.removed.append((now, alias))
            if self._waiting and self._waiting[0] == alias:
                self._waiting[1].set()

    def attach(self, xml):
        t0 = time.monotonic()
        self.dom.attachDeviceFlags(xml, self.libvirt.VIR_DOMAIN_AFFECT_LIVE)
        return time.monotonic() - t0

    def detach(self, xml, alias, timeout=30):
        """Arm the waiter, detach, wait for DEVICE_REMOVED; returns
        (total seconds, seconds inside detachDeviceFlags)."""
        ev = threading.Event()
        t0 = time.monotonic()
        with self._lock:
            self._waiting = (alias, ev)
        try:
            self.dom.detachDeviceFlags(xml, self.libvirt.VIR_DOMAIN_AFFECT_LIVE)
            t_call = time.monotonic() - t0
            if not ev.wait(timeout):
                raise BenchError('no DEVICE_REMOVED for %s within %ds' % (alias, timeout))
            return time.monotonic() - t0, t_call
        finally:
            with self._lock:
                self._waiting = None

    def removed_since(self, t0, alias=ALIAS, timeout=5):
        """When this connection saw DEVICE_REMOVED(alias) after t0 (it is
        delivered to every client, whoever detached)."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                hits = [t for t, a in self.removed if a == alias and t >= t0]
            if hits:
                return hits[0]
            if time.monotonic() > deadline:
                raise BenchError('this connection saw no DEVICE_REMOVED for %s' % alias)
            time.sleep(0.005)

    def live_disks(self):
        """[(source dev, target, alias)] of the block disks in the live XML."""
        root = ET.fromstring(self.dom.XMLDesc(0))
        res = []
        for d in root.findall('./devices/disk'):
            src, tgt, al = d.find('source'), d.find('target'), d.find('alias')
            res.append((src.get('dev') if src is not None else None,
                        tgt.get('dev') if tgt is not None else None,
                        al.get('name') if al is not None else None))
        return res

    def close(self):
        try:
            self.conn.domainEventDeregisterAny(self._cb)
        except self.libvirt.libvirtError:
            pass
        self.conn.close()
        self._stop = True
        # The loop thread is a daemon; it may sit in poll() until the next event.


# ---------------------------------------------------------------------------
# The benchmark
# ---------------------------------------------------------------------------

def disk_xml(dev):
    return ("<disk type='block' device='disk'><driver name='qemu' type='raw' cache='none' io='native'/>"
            "<source dev='%s'/><target dev='%s' bus='virtio'/><alias name='%s'/></disk>\n"
            % (dev, TARGET, ALIAS))


def stats(values):
    v = sorted(values)
    if not v:
        return {'n': 0}
    p90 = v[min(len(v) - 1, max(0, int(round(0.9 * len(v) + 0.5)) - 1))]   # nearest rank
    return {'n': len(v), 'median': statistics.median(v), 'p90': p90, 'min': v[0], 'max': v[-1],
            'mean': statistics.fmean(v)}


def ratio_interval(a, b, draws=2000, seed=1):
    """95% bootstrap interval of median(a) / median(b) (rounds resampled
    independently; seeded, so a given data set always gives the same interval)."""
    rnd = random.Random(seed)
    rs = sorted(statistics.median(rnd.choices(a, k=len(a))) / statistics.median(rnd.choices(b, k=len(b)))
                for _ in range(draws))
    return rs[int(0.025 * draws)], rs[int(0.975 * draws) - 1]


def judge(ratio, interval, limit, at_most=True):
    """'MET' / 'NOT MET' on the point estimate, and whether the interval agrees."""
    lo, hi = interval
    met = ratio <= limit if at_most else ratio >= limit
    sure = (hi <= limit or lo > limit) if at_most else (lo >= limit or hi < limit)
    return met, '%s%s' % ('MET' if met else 'NOT MET',
                          '' if sure else ' (inconclusive: the 95%% interval %.2f-%.2f spans %.2f)'
                          % (lo, hi, limit))


class Bench:
    def __init__(self, world, disk, direct, user):
        self.w = world
        self.disk = disk
        self.direct = direct
        self.user = user
        self.guest = world.guests['linux']
        self.root_conn = dbus_connect(world.bus.address)
        self.xml_path = os.path.join(world.tmp, 'bench-disk.xml')
        with open(self.xml_path, 'w') as f:
            f.write(disk_xml(disk.dev))
        self.size = DISK_MB * 1024 * 1024

    # -- checks (never timed) ---------------------------------------------

    def ours(self):
        return [d for d in self.direct.live_disks() if d[0] == self.disk.dev]

    def check_attached(self, method):
        ours = self.ours()
        if ours != [(self.disk.dev, TARGET, ALIAS)]:
            raise BenchError('%s: after attach the live XML has %r, want one disk %s/%s'
                             % (method, ours, TARGET, ALIAS))
        self.guest.wait_disks(lambda ds: any(v[1] == self.size for v in ds.values()), 30,
                              what='%s: the guest to see the disk' % method)

    def check_gone(self, method):
        ours = self.ours()
        if ours:
            raise BenchError('%s: after detach the live XML still has %r' % (method, ours))
        self.guest.wait_disks(lambda ds: not any(v[1] == self.size for v in ds.values()), 30,
                              what='%s: the guest to lose the disk' % method)

    def cleanup_after_failure(self):
        """Best effort: take the disk out of the guest before the world stops."""
        if self.ours():
            try:
                self.direct.detach(disk_xml(self.disk.dev), ALIAS, timeout=15)
            except Exception as e:
                sys.stderr.write('bench: cleanup detach failed: %s\n' % e)

    # -- one round per method: returns {'attach', 'detach', 'total', ...} --

    def round_service_root(self):
        self.w.polkit.clear_calls()
        t_att, reply = disk_call(self.root_conn, 'AttachDisk', self.disk.dev)
        if reply != (TARGET,):
            raise BenchError('service-root: AttachDisk returned %r' % (reply,))
        self.check_attached('service-root')
        t0 = time.monotonic()
        t_det, _ = disk_call(self.root_conn, 'DetachDisk', self.disk.dev)
        t_removed = self.direct.removed_since(t0) - t0
        self.check_gone('service-root')
        calls = self.w.polkit.calls()
        if calls:
            raise BenchError('service-root: polkit was asked: %r' % calls)
        return {'attach': t_att, 'detach': t_det, 'removed': t_removed}

    def round_service_user(self):
        self.w.polkit.clear_calls()
        t_att, reply = self.user.call('attach', self.disk.dev)
        if reply != [TARGET]:
            raise BenchError('service-user: AttachDisk returned %r' % (reply,))
        self.check_attached('service-user')
        t_det, _ = self.user.call('detach', self.disk.dev)
        t0 = self.user.last_start      # the child's own clock reading (CLOCK_MONOTONIC)
        t_removed = self.direct.removed_since(t0) - t0
        self.check_gone('service-user')
        calls = self.w.polkit.calls()
        got = [(c['action_id'], c['result'], c['subject'].get('name')) for c in calls]
        want_actions = [ACTION_ATTACH, ACTION_DETACH]
        if [g[0] for g in got] != want_actions or any(g[2] != self.user.bus_name for g in got):
            raise BenchError('service-user: polkit checks %r, want %r for %s'
                             % (got, want_actions, self.user.bus_name))
        return {'attach': t_att, 'detach': t_det, 'removed': t_removed}

    def _virsh(self, op):
        t0 = time.monotonic()
        p = subprocess.run(['virsh', '-q', '-c', 'qemu:///system', op, DOMAIN, self.xml_path, '--live'],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=120)
        secs = time.monotonic() - t0
        if p.returncode != 0:
            raise BenchError('virsh %s failed (%d): %s' % (op, p.returncode, p.stderr.strip()))
        return secs

    def round_virsh(self):
        t_att = self._virsh('attach-device')
        self.check_attached('virsh')
        t0 = time.monotonic()
        t_call = self._virsh('detach-device')
        polls = 0
        while self.ours():
            polls += 1
            if time.monotonic() - t0 > 30:
                raise BenchError('virsh: disk still in the live XML 30 s after detach-device')
            time.sleep(0.01)
        t_det = time.monotonic() - t0
        t_removed = self.direct.removed_since(t0) - t0
        self.check_gone('virsh')
        return {'attach': t_att, 'detach': t_det, 'detach_call': t_call, 'polls': polls,
                'removed': t_removed}

    def round_direct(self):
        xml = disk_xml(self.disk.dev)
        t_att = self.direct.attach(xml)
        self.check_attached('direct')
        t0 = time.monotonic()
        t_det, t_call = self.direct.detach(xml, ALIAS)
        t_removed = self.direct.removed_since(t0) - t0
        self.check_gone('direct')
        return {'attach': t_att, 'detach': t_det, 'detach_call': t_call, 'removed': t_removed}

    # -- ListDisks vs lsblk ------------------------------------------------

    def list_disks(self, n):
        times = []
        for i in range(n):
            secs, disks = list_disks_call(self.root_conn)
            times.append(secs)
            if i in (0, n - 1) and not any(d.get('Path') == self.disk.dev for d in disks):
                raise BenchError('ListDisks call %d does not list %s' % (i, self.disk.dev))
        return times

    def lsblk(self, argv, n):
        times = []
        for i in range(n):
            t0 = time.monotonic()
            p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            times.append(time.monotonic() - t0)
            if p.returncode != 0:
                raise BenchError('%s failed: %s' % (' '.join(argv), p.stderr.strip()))
            if i in (0, n - 1):
                names = [d.get('name') for d in json.loads(p.stdout)['blockdevices']]
                if self.disk.name not in names:
                    raise BenchError('%s does not list %s' % (' '.join(argv), self.disk.name))
        return times


METHODS = [('service-root', 'round_service_root'), ('service-user', 'round_service_user'),
           ('virsh', 'round_virsh'), ('direct', 'round_direct')]
LABELS = {
    'service-root': 'service, root (no polkit)',
    'service-user': 'service, pt-tester + polkit',
    'virsh': 'virsh attach/detach-device',
    'direct': 'direct libvirt (floor)',
}


def run_rounds(bench, rounds):
    raw = {name: [] for name, _ in METHODS}
    total = WARMUP + rounds
    for r in range(total):
        k = r % len(METHODS)
        order = METHODS[k:] + METHODS[:k]
        for name, fn in order:
            res = getattr(bench, fn)()
            res['total'] = res['attach'] + res['detach']
            res['round'] = r - WARMUP
            res['warmup'] = r < WARMUP
            raw[name].append(res)
        sys.stderr.write('[bench] round %d/%d%s: %s\n' % (
            r - WARMUP + 1 if r >= WARMUP else r + 1, rounds if r >= WARMUP else WARMUP,
            ' (warm-up)' if r < WARMUP else '',
            '  '.join('%s %.0f ms' % (n, raw[n][-1]['total'] * 1000) for n, _ in METHODS)))
    return raw


def vm_hwm(pid):
    res = {}
    try:
        with open('/proc/%d/status' % pid) as f:
            for line in f:
                k, _, v = line.partition(':')
                if k in ('VmHWM', 'VmRSS'):
                    res[k] = int(v.split()[0])   # kB
    except OSError:
        pass
    return res


def ms(x):
    return '%8.1f' % (x * 1000)


def report(raw, lists, rss, rounds):
    out = []
    p = out.append
    measured = {n: [x for x in raw[n] if not x['warmup']] for n in raw}
    summary = {}
    p('')
    p('passthroughd attach + detach-until-gone round trip, guest %s, loop disk %d MiB' % (DOMAIN, DISK_MB))
    p('%d rounds per method after %d warm-up rounds, interleaved (every round runs each method'
      % (rounds, WARMUP))
    p('once, order rotated by one each round).  Times in ms.')
    p('')
    p('%-30s %4s %8s %8s %8s %8s | %8s %8s' % ('method', 'n', 'median', 'p90', 'min', 'max',
                                              'attach', 'detach'))
    p('%-30s %4s %8s %8s %8s %8s | %8s %8s' % ('', '', '', '', '', '', 'median', 'median'))
    p('-' * 88)
    for name, _ in METHODS:
        st = stats([x['total'] for x in measured[name]])
        sa = stats([x['attach'] for x in measured[name]])
        sd = stats([x['detach'] for x in measured[name]])
        summary[name] = {'total': st, 'attach': sa, 'detach': sd}
        p('%-30s %4d %s %s %s %s | %s %s' % (LABELS[name], st['n'], ms(st['median']), ms(st['p90']),
                                             ms(st['min']), ms(st['max']), ms(sa['median']),
                                             ms(sd['median'])))
    for name in ('virsh', 'direct'):
        calls = [x['detach_call'] for x in measured[name]]
        if calls:
            summary[name]['detach_call'] = stats(calls)
    p('')
    p('Detach split at DEVICE_REMOVED (as seen by this process\'s own libvirt connection):')
    p('%-30s %18s %18s' % ('', 'start -> removed', 'removed -> done'))
    p('%-30s %8s %9s %8s %9s' % ('', 'median', 'min', 'median', 'min'))
    for name, _ in METHODS:
        pre = stats([x['removed'] for x in measured[name]])
        tail = stats([x['detach'] - x['removed'] for x in measured[name]])
        summary[name]['detach_until_removed'] = pre
        summary[name]['detach_after_removed'] = tail
        p('%-30s %s %s %s %s' % (LABELS[name], ms(pre['median']), ms(pre['min']).rjust(9),
                                 ms(tail['median']), ms(tail['min']).rjust(9)))
    p('(the guest\'s unplug time, ~200-500 ms and very uneven under TCG, is inside "start -> removed")')
    p('')
    p('(virsh detach = detach-device + polling the live XML until the disk is gone, median '
      '%.1f ms in the process;' % (summary['virsh']['detach_call']['median'] * 1000))
    p(' direct detach = detachDeviceFlags + DEVICE_REMOVED, median %.1f ms inside the call)'
      % (summary['direct']['detach_call']['median'] * 1000))

    def med(n, part='total'):
        return summary[n][part]['median']
    ratios = {
        'service_root_over_direct': med('service-root') / med('direct'),
        'service_user_over_direct': med('service-user') / med('direct'),
        'virsh_over_service_root': med('virsh') / med('service-root'),
        'virsh_over_service_user': med('virsh') / med('service-user'),
        'attach_service_root_over_direct': med('service-root', 'attach') / med('direct', 'attach'),
        'attach_service_user_over_direct': med('service-user', 'attach') / med('direct', 'attach'),
        'attach_virsh_over_service_root': med('virsh', 'attach') / med('service-root', 'attach'),
        'detach_service_root_over_direct': med('service-root', 'detach') / med('direct', 'detach'),
        'detach_service_user_over_direct': med('service-user', 'detach') / med('direct', 'detach'),
    }
    totals = {n: [x['total'] for x in measured[n]] for n in measured}
    intervals = {
        'service_root_over_direct': ratio_interval(totals['service-root'], totals['direct']),
        'service_user_over_direct': ratio_interval(totals['service-user'], totals['direct']),
        'virsh_over_service_root': ratio_interval(totals['virsh'], totals['service-root']),
        'virsh_over_service_user': ratio_interval(totals['virsh'], totals['service-user']),
    }
    p('')
    p('Ratios of medians (round trip), with 95% bootstrap intervals:')
    p('  service(root) / direct              %5.2f  [%.2f-%.2f]  (%+.1f ms)' % (
        ratios['service_root_over_direct'], *intervals['service_root_over_direct'],
        (med('service-root') - med('direct')) * 1000))
    p('  service(pt-tester+polkit) / direct  %5.2f  [%.2f-%.2f]  (%+.1f ms)' % (
        ratios['service_user_over_direct'], *intervals['service_user_over_direct'],
        (med('service-user') - med('direct')) * 1000))
    p('  virsh / service(root)               %5.2f  [%.2f-%.2f]' % (
        ratios['virsh_over_service_root'], *intervals['virsh_over_service_root']))
    p('  virsh / service(pt-tester+polkit)   %5.2f  [%.2f-%.2f]' % (
        ratios['virsh_over_service_user'], *intervals['virsh_over_service_user']))
    p('Ratios of medians, attach only (no guest in the loop) / detach only:')
    p('  attach: service(root)/direct %.2f, service(pt-tester)/direct %.2f, virsh/service(root) %.2f' % (
        ratios['attach_service_root_over_direct'], ratios['attach_service_user_over_direct'],
        ratios['attach_virsh_over_service_root']))
    p('  detach: service(root)/direct %.2f, service(pt-tester)/direct %.2f' % (
        ratios['detach_service_root_over_direct'], ratios['detach_service_user_over_direct']))
    p('The service\'s own cost is clearest where the guest is not involved: attach median %+.1f ms as root,'
      % ((med('service-root', 'attach') - med('direct', 'attach')) * 1000))
    p('%+.1f ms as pt-tester, over the direct call; after DEVICE_REMOVED it answers within %.1f ms (median).'
      % ((med('service-user', 'attach') - med('direct', 'attach')) * 1000,
         summary['service-root']['detach_after_removed']['median'] * 1000))

    p('')
    p('Listing (%d calls each):' % LIST_CALLS)
    ls = {name: stats(t) for name, t in lists.items()}
    p('%-30s %4s %8s %8s %8s' % ('', 'n', 'median', 'p90', 'min'))
    for name, st in ls.items():
        p('%-30s %4d %s %s %s' % (name, st['n'], ms(st['median']), ms(st['p90']), ms(st['min'])))
    lsblk_main = 'lsblk -J -b -o ...'
    ratios['listdisks_over_lsblk'] = ls['ListDisks (service)']['median'] / ls[lsblk_main]['median']
    ratios['listdisks_over_lsblk_O'] = ls['ListDisks (service)']['median'] / ls['lsblk -J -O']['median']
    p('  ListDisks median / lsblk -J -b -o median: %.2f;  / lsblk -J -O median: %.2f' % (
        ratios['listdisks_over_lsblk'], ratios['listdisks_over_lsblk_O']))

    p('')
    p('passthroughd peak RSS (VmHWM): %s kB (VmRSS now %s kB)' % (rss.get('VmHWM', '?'), rss.get('VmRSS', '?')))

    met_root, say_root = judge(ratios['service_root_over_direct'], intervals['service_root_over_direct'],
                               TARGET_OVERHEAD)
    met_user, say_user = judge(ratios['service_user_over_direct'], intervals['service_user_over_direct'],
                               TARGET_OVERHEAD)
    met_virsh, say_virsh = judge(ratios['virsh_over_service_root'], intervals['virsh_over_service_root'],
                                 TARGET_VIRSH, at_most=False)
    verdict = {
        'overhead_root_met': met_root, 'overhead_user_met': met_user, 'virsh_met': met_virsh,
        'all_met': met_root and met_user and met_virsh,
        'overhead_root': say_root, 'overhead_user': say_user, 'virsh': say_virsh,
    }
    ratios['intervals'] = intervals
    p('')
    p('Targets from the issue: "service overhead within 15% of the direct libvirt call, and several')
    p('times faster than virsh" (read as: round-trip median <= 1.15 x direct, and virsh >= %.0f x service).'
      % TARGET_VIRSH)
    p('  within 15%% of direct, as root:               %.2f  %s' % (ratios['service_root_over_direct'], say_root))
    p('  within 15%% of direct, as pt-tester + polkit: %.2f  %s' % (ratios['service_user_over_direct'], say_user))
    p('  several times faster than virsh:             %.2f  %s' % (ratios['virsh_over_service_root'], say_virsh))
    p('Verdict: %s' % ('targets met' if verdict['all_met'] else 'targets NOT met'))
    print('\n'.join(out))
    sys.stdout.flush()
    return summary, ratios, verdict


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('builddir')
    parser.add_argument('--rounds', type=int, default=15)
    parser.add_argument('--json', metavar='FILE', help='write the raw figures here')
    opts = parser.parse_args()
    if opts.rounds < 1:
        parser.error('--rounds must be at least 1')

    import ptharness as H
    from ptworld import World

    H.ensure_private_namespace()
    try:
        import libvirt  # noqa: F401
    except ImportError:
        print('SKIP: python3-libvirt is missing (run tests/install-deps.sh)')
        return 77
    world = World(opts.builddir, guests=('linux',))
    direct = user = bench = None
    failed = None
    t_start = time.monotonic()
    try:
        world.start()
        # Exactly the two actions the rounds need; nothing unknown.
        world.polkit.set_allowed([ACTION_ATTACH, ACTION_DETACH])
        world.polkit.set_challenge([])
        with H.LoopDisk(DISK_MB) as disk:
            direct = DirectLibvirt(H.URI, DOMAIN)
            user = UserClient(world.bus.address)
            bench = Bench(world, disk, direct, user)
            if bench.ours():
                raise BenchError('the disk is in the guest before the first round')
            try:
                raw = run_rounds(bench, opts.rounds)
                lists = {'ListDisks (service)': bench.list_disks(LIST_CALLS)}
                for name, argv in LSBLK_VARIANTS.items():
                    lists[name] = bench.lsblk(argv, LIST_CALLS)
            except BaseException:
                bench.cleanup_after_failure()
                raise
            rss = vm_hwm(world.service.pid)
            if world.service.poll() is not None:
                raise BenchError('passthroughd exited during the benchmark (%d)' % world.service.returncode)
            summary, ratios, verdict = report(raw, lists, rss, opts.rounds)
            if opts.json:
                doc = {
                    'rounds': opts.rounds, 'warmup': WARMUP, 'order': 'interleaved, rotated per round',
                    'disk_mb': DISK_MB, 'guest': DOMAIN, 'seconds': 'all times in seconds',
                    'rounds_raw': raw, 'listing_raw': lists, 'summary': summary,
                    'listing_summary': {k: stats(v) for k, v in lists.items()},
                    'ratios': ratios, 'verdict': verdict, 'service_status_kb': rss,
                    'targets': {'overhead_max_ratio': TARGET_OVERHEAD, 'virsh_min_ratio': TARGET_VIRSH},
                    'libvirt_version': direct.conn.getLibVersion(),
                    'wall_seconds': time.monotonic() - t_start,
                }
                with open(opts.json, 'w') as f:
                    json.dump(doc, f, indent=1)
                    f.write('\n')
    except (BenchError, H.HarnessError) as e:
        failed = e
    finally:
        if user:
            user.close()
        if bench:
            bench.root_conn.close_sync(None)
        if direct:
            direct.close()
        try:
            world.stop()
        except H.HarnessError as e:      # e.g. the service did not exit cleanly
            failed = failed or e
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
    for tool in ('libvirtd', 'qemu-system-x86_64', 'dbus-daemon', 'losetup', 'virsh', 'lsblk', 'setpriv'):
        if not shutil.which(tool) and not os.path.exists('/usr/sbin/' + tool):
            print('SKIP: %s is not installed (run tests/install-deps.sh)' % tool)
            sys.exit(77)
    sys.exit(main())

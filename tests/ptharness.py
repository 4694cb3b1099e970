"""Test and demo harness for passthroughd: real components, all private.

Run with /usr/bin/python3 (Debian's python3-dbus, python3-gi and python3-dbusmock
live there, not in the pyenv python3 on PATH).  Everything that must be root-only
and host-invisible happens inside a private mount namespace:

    import ptharness as H
    H.ensure_private_namespace()          # re-execs the script under unshare
    with H.Libvirtd() as virt, H.PrivateSystemBus([...]) as bus, \
         H.PolkitMock(bus.address) as pk:
        kit = H.GuestKit(builddir + '/guest-kit')
        g = H.Guest('pt-guest', logdir + '/guest.log')
        g.define_and_start(H.linux_guest_xml('pt-guest', g.log_path, kit=kit))
        g.wait_ready(120)
        with H.LoopDisk(64) as disk:
            ...

What stays private, and how:
  * /run/libvirt, /var/lib/libvirt, /var/log/libvirt, /var/cache/libvirt and
    /etc/libvirt get a fresh tmpfs inside the namespace.  When one of them does
    not exist on the host, its parent is covered by an overlayfs (upper layer on
    tmpfs) so the mountpoint can be created without writing to the host.
  * libvirtd runs with cgroup_controllers = [] and namespaces = [] (no cgroup
    directories on the host), no TCP, auth none on its private unix socket, and
    a dead DBUS_SYSTEM_BUS_ADDRESS so it never talks to the host's system bus.
  * Loop devices are global: LoopDisk always cleans up, and SIGTERM/SIGINT in the
    namespaced process raise SystemExit so every `with` block unwinds.
"""

import atexit
import fcntl
import glob
import gzip
import hashlib
import json
import os
import pwd
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import xml.sax.saxutils

# ---------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------

PYTHON = '/usr/bin/python3'
URI = 'qemu:///system'
HERE = os.path.dirname(os.path.abspath(__file__))

# Directories libvirt writes to; each gets a private tmpfs in the namespace.
LIBVIRT_DIRS = ['/run/libvirt', '/var/lib/libvirt', '/var/log/libvirt',
                '/var/cache/libvirt', '/etc/libvirt']

# Environment markers set by ensure_private_namespace().
ENV_OUTER_NS = 'PTHARNESS_OUTER_MNTNS'   # mount namespace we came from
ENV_PRIVATE_NS = 'PTHARNESS_MNTNS'       # the private one we set up
ENV_REGISTRY = 'PTHARNESS_REGISTRY'      # host dir: what the outer process must
                                         # clean if the inner one could not

VERBOSE = os.environ.get('PTHARNESS_VERBOSE', '') not in ('', '0')


class HarnessError(Exception):
    """Something in the harness (not in the code under test) went wrong."""


def log(msg):
    """Progress output on stderr (shows up in meson's test log)."""
    sys.stderr.write('[harness %7.2f] %s\n' % (time.monotonic() - _T0, msg))
    sys.stderr.flush()


_T0 = time.monotonic()


def run(argv, check=True, input=None, env=None, timeout=120, quiet=False):
    """Run argv, capture text output, raise HarnessError on failure."""
    if VERBOSE:
        log('$ ' + ' '.join(argv))
    p = subprocess.run(argv, input=input, env=env, timeout=timeout,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if check and p.returncode != 0:
        raise HarnessError('%s failed (rc=%d): %s%s' % (
            ' '.join(argv), p.returncode, p.stderr.strip(),
            ('\n' + p.stdout.strip()) if p.stdout.strip() and not quiet else ''))
    return p


def wait_for(predicate, timeout, interval=0.05, what='condition'):
    """Poll predicate() until it returns a true value; return that value."""
    deadline = time.monotonic() + timeout
    while True:
        v = predicate()
        if v:
            return v
        if time.monotonic() >= deadline:
            raise HarnessError('timed out after %.1fs waiting for %s' % (timeout, what))
        time.sleep(interval)


def _mntns(pid='self'):
    """Mount namespace id of a process ('mnt:[4026531832]'), None if unreadable."""
    try:
        return os.readlink('/proc/%s/ns/mnt' % pid)
    except OSError:
        return None


def _write(path, text, mode=0o644):
    with open(path, 'w') as f:
        f.write(text)
    os.chmod(path, mode)


# ---------------------------------------------------------------------------
# Private mount namespace
# ---------------------------------------------------------------------------

def in_private_namespace():
    """True when this process runs in the namespace ensure_private_namespace() set up.

    PID 1's namespace is not always readable (it is not on these machines), so
    the proof is the marker: it holds the id of the namespace that was set up,
    which a process outside it (even with a leaked environment) cannot match.
    """
    me = _mntns()
    if me is None or os.environ.get(ENV_PRIVATE_NS) != me:
        return False
    if os.environ.get(ENV_OUTER_NS) == me:
        return False
    init = _mntns(1)
    if init is not None and init == me:
        return False
    return True


def _host_fingerprint():
    """What the libvirt paths look like on the host (to prove we left them alone)."""
    # Only the libvirt directories themselves: their parents (/etc, /var/lib)
    # change legitimately while we run (apt, useradd by other people).
    fp = {}
    for p in LIBVIRT_DIRS:
        try:
            st = os.lstat(p)
            fp[p] = [st.st_mode, st.st_mtime_ns, sorted(os.listdir(p))]
        except FileNotFoundError:
            fp[p] = None
    # libvirt would make cgroups named machine / machine.slice if it used them.
    fp['cgroups'] = sorted(glob.glob('/sys/fs/cgroup/*/machine*') +
                           glob.glob('/sys/fs/cgroup/machine*'))
    return fp


def ensure_private_namespace(check_host=True):
    """Make sure the calling script runs in a private mount namespace.

    Outside: run the same script again under `unshare --mount --propagation
    private`, forward SIGINT/SIGTERM to it, exit with its status.  With
    check_host, the libvirt paths on the host are fingerprinted before and after
    and a difference fails the run (exit 1).

    Inside (fresh): mount the private tmpfs directories and write the configs.
    Inside (already set up, e.g. a child of the test): do nothing.
    SIGTERM and SIGINT raise SystemExit inside so cleanups run; objects still
    running at exit (Libvirtd, PrivateSystemBus, PolkitMock, LoopDisk) are
    stopped by an atexit hook.

    Safety net: when the inner script has exited, the outer process kills
    whatever still runs in the private namespace (only our processes can be
    there) and detaches loop devices LoopDisk recorded but did not clean.
    """
    if in_private_namespace():
        _install_signal_handlers()
        return
    outer = os.environ.get(ENV_OUTER_NS)
    me = _mntns()
    if outer and me and outer != me and os.environ.get(ENV_PRIVATE_NS) is None:
        # We are the freshly unshared child: set the namespace up.
        os.environ[ENV_PRIVATE_NS] = me
        if os.environ.get(ENV_REGISTRY):
            _write(os.path.join(os.environ[ENV_REGISTRY], 'mntns'), me)
        _setup_namespace_mounts()
        _install_signal_handlers()
        return

    if os.geteuid() != 0:
        raise HarnessError('ensure_private_namespace() needs root')
    env = dict(os.environ)
    env[ENV_OUTER_NS] = me or 'unknown'
    env.pop(ENV_PRIVATE_NS, None)
    registry = tempfile.mkdtemp(prefix='ptharness-reg-')
    env[ENV_REGISTRY] = registry
    before = _host_fingerprint() if check_host else None
    argv = ['unshare', '--mount', '--propagation', 'private',
            sys.executable, os.path.abspath(sys.argv[0])] + sys.argv[1:]
    child = subprocess.Popen(argv, env=env)

    def forward(signum, _frame):
        try:
            child.send_signal(signum)
        except ProcessLookupError:
            pass
    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    rc = child.wait()
    _reap_leftovers(registry)
    shutil.rmtree(registry, ignore_errors=True)
    if check_host:
        after = _host_fingerprint()
        if after != before:
            sys.stderr.write('HARNESS FAILURE: host paths changed outside the '
                             'namespace:\n  before %r\n  after  %r\n' % (before, after))
            sys.exit(1)
    sys.exit(rc)


def _reap_leftovers(registry):
    """Outer process, after the namespaced script ended: kill what still runs
    in its namespace (daemonized QEMU, daemons of a test that did not stop
    them) and detach the loop devices it left."""
    try:
        ns = open(os.path.join(registry, 'mntns')).read().strip()
    except OSError:
        ns = None
    if ns and ns != _mntns():
        def victims():
            res = []
            for d in os.listdir('/proc'):
                if d.isdigit() and int(d) != os.getpid() and _mntns(d) == ns:
                    res.append(int(d))
            return res
        left = victims()
        if left:
            sys.stderr.write('ptharness: stopping leftovers in the private namespace: %s\n'
                             % ', '.join('%d(%s)' % (p, _comm(p)) for p in left))
            for sig in (signal.SIGTERM, signal.SIGKILL):
                for p in left:
                    try:
                        os.kill(p, sig)
                    except ProcessLookupError:
                        pass
                deadline = time.monotonic() + 5
                while time.monotonic() < deadline:
                    left = [p for p in victims() if not _is_zombie(p)]
                    if not left:
                        break
                    time.sleep(0.1)
                if not left:
                    break
    for rec in glob.glob(os.path.join(registry, 'loop-*')):
        try:
            dev, backing = open(rec).read().split('\n')[:2]
        except (OSError, ValueError):
            continue
        _detach_loop_if_ours(dev, backing)
        shutil.rmtree(os.path.dirname(backing), ignore_errors=True)
    for rec in glob.glob(os.path.join(registry, 'dir-*')):
        try:
            path = open(rec).read().strip()
        except OSError:
            continue
        if os.path.basename(path).startswith('pt-'):
            shutil.rmtree(path, ignore_errors=True)


def _record_dir(path, forget=False):
    """Tell the outer process to remove this temp dir if we do not."""
    reg = os.environ.get(ENV_REGISTRY)
    if not reg or not in_private_namespace():
        return
    rec = os.path.join(reg, 'dir-' + os.path.basename(path))
    if forget:
        try:
            os.unlink(rec)
        except OSError:
            pass
    else:
        _write(rec, path + '\n')


def _is_zombie(pid):
    try:
        with open('/proc/%d/stat' % pid) as f:
            return f.read().rsplit(')', 1)[1].split()[0] == 'Z'
    except OSError:
        return True


def _detach_loop_if_ours(dev, backing):
    """losetup -d dev, but only while it is still backed by our file."""
    try:
        with open('/sys/block/%s/loop/backing_file' % os.path.basename(dev)) as f:
            current = f.read().strip()
    except OSError:
        return
    if current.replace(' (deleted)', '') == backing:
        sys.stderr.write('ptharness: detaching leftover %s (%s)\n' % (dev, backing))
        subprocess.run(['losetup', '-d', dev], stderr=subprocess.DEVNULL)


# Objects with a stop() that are running now, stopped at exit in reverse order.
_running = []


def _track(obj):
    _running.append(obj)


def _untrack(obj):
    if obj in _running:
        _running.remove(obj)


@atexit.register
def _stop_running():
    for obj in reversed(list(_running)):
        try:
            obj.stop()
        except Exception as e:     # keep cleaning the rest
            sys.stderr.write('ptharness: cleanup of %r failed: %s\n' % (obj, e))


def _install_signal_handlers():
    def die(signum, _frame):
        # SystemExit unwinds every `with` block and finally: loop devices,
        # QEMU and the daemons get cleaned up.
        raise SystemExit(128 + signum)
    signal.signal(signal.SIGTERM, die)
    signal.signal(signal.SIGINT, die)


def _mounts():
    """Mount points of this namespace -> fstype."""
    res = {}
    with open('/proc/self/mountinfo') as f:
        for line in f:
            left, right = line.split(' - ', 1)
            mp = left.split()[4].replace('\\040', ' ')
            res[mp] = right.split()[0]
    return res


def _submounts(path):
    prefix = path.rstrip('/') + '/'
    return [m for m in _mounts() if m.startswith(prefix)]


def _setup_namespace_mounts():
    """Inside a fresh private namespace: tmpfs over the libvirt dirs + our configs."""
    if _mntns() == os.environ.get(ENV_OUTER_NS):
        raise HarnessError('refusing to mount: not in a private mount namespace')
    # Nothing may propagate back (unshare --propagation private did it already).
    run(['mount', '--make-rprivate', '/'])
    # Scratch space for overlays: a private tmpfs over /dev/shm (mkdir in the
    # host's /dev/shm would be visible outside).
    run(['mount', '-t', 'tmpfs', '-o', 'mode=1777', 'ptharness-shm', '/dev/shm'])
    for d in LIBVIRT_DIRS:
        if not os.path.isdir(d):
            # Cover the nearest existing ancestor with a copy-on-write overlay
            # so the mountpoint can be created inside the namespace only.
            parent = os.path.dirname(d)
            while not os.path.isdir(parent):
                parent = os.path.dirname(parent)
            if parent in ('/', ''):
                raise HarnessError('%s is missing and / cannot be overlaid' % d)
            if _mounts().get(parent) != 'overlay':
                _overlay(parent)
            os.makedirs(d, exist_ok=True)
        run(['mount', '-t', 'tmpfs', '-o', 'mode=0755', 'ptharness', d])
    _write_libvirt_configs()


_overlay_count = 0


def _overlay(path):
    """Put an overlay (upper layer on tmpfs) over path; submounts stay visible."""
    global _overlay_count
    _overlay_count += 1
    base = '/dev/shm/ptharness-ov%d' % _overlay_count
    for sub in ('upper', 'work', 'orig'):
        os.makedirs(os.path.join(base, sub))
    os.chmod(base + '/upper', os.stat(path).st_mode & 0o7777)
    # Keep a handle on the original tree (with its submounts) to put the
    # submounts back on top of the overlay.
    subs = sorted(_submounts(path))
    if subs:
        run(['mount', '--rbind', path, base + '/orig'])
    run(['mount', '-t', 'overlay', 'ptharness-ov%d' % _overlay_count, '-o',
         'lowerdir=%s,upperdir=%s/upper,workdir=%s/work' % (path, base, base), path])
    done = []
    for m in subs:
        if any(m.startswith(p + '/') for p in done):
            continue                 # came along with an rbind of its parent
        rel = os.path.relpath(m, path)
        if not os.path.exists(m):
            os.makedirs(m)
        run(['mount', '--rbind', os.path.join(base, 'orig', rel), m])
        done.append(m)


def _write_libvirt_configs():
    """Minimal configs in the private /etc/libvirt."""
    _write('/etc/libvirt/libvirtd.conf', '''\
# ptharness: private libvirtd, unix socket only, no auth (the socket is only
# visible inside this mount namespace).
listen_tls = 0
listen_tcp = 0
unix_sock_group = "root"
unix_sock_ro_perms = "0777"
unix_sock_rw_perms = "0700"
auth_unix_ro = "none"
auth_unix_rw = "none"
log_outputs = "3:stderr"
''')
    _write('/etc/libvirt/virtlogd.conf', '''\
log_outputs = "3:stderr"
max_clients = 64
''')
    _write('/etc/libvirt/qemu.conf', '''\
# ptharness: QEMU as root, no security driver, no cgroups (they would live on
# the host), no per-domain /dev namespace (hot-plugged /dev/loopN just works).
user = "root"
group = "root"
dynamic_ownership = 0
remember_owner = 0
security_driver = "none"
cgroup_controllers = [ ]
namespaces = [ ]
stdio_handler = "logd"
''')
    # Client-side configs: copy the host's (comments only on Debian) if any.
    for name in ('libvirt.conf', 'libvirt-admin.conf'):
        _write('/etc/libvirt/' + name, '# ptharness: empty client config\n')
    for d in ('/var/lib/libvirt/qemu', '/var/lib/libvirt/images', '/var/log/libvirt/qemu',
              '/var/cache/libvirt/qemu', '/run/libvirt/qemu'):
        os.makedirs(d, exist_ok=True)


def assert_private():
    """Raise unless we are in the set-up private namespace with tmpfs dirs."""
    if not in_private_namespace():
        raise HarnessError('not in the private mount namespace; call '
                           'ensure_private_namespace() first')
    m = _mounts()
    for d in LIBVIRT_DIRS:
        if m.get(d) != 'tmpfs':
            raise HarnessError('%s is not a private tmpfs in this namespace' % d)


def namespace_info():
    """(outer mount ns id, our mount ns id, PID 1's or None) for reporting."""
    return os.environ.get(ENV_OUTER_NS), _mntns(), _mntns(1)


# ---------------------------------------------------------------------------
# libvirtd
# ---------------------------------------------------------------------------

def virsh(*args, check=True, timeout=120):
    """virsh -c qemu:///system ARGS..., returns CompletedProcess (text)."""
    return run(['virsh', '-q', '-c', URI] + list(args), check=check, timeout=timeout)


class Libvirtd:
    """Private virtlogd + libvirtd, foreground children of this process.

    log_dir: where virtlogd.log / libvirtd.log go (default: the private
    /var/log/libvirt, which disappears with the namespace).
    """

    CAPS_DIR = '/var/cache/libvirt/qemu/capabilities'

    def __init__(self, log_dir=None, start_timeout=60, caps_cache=None):
        """caps_cache: a persistent directory (e.g. BUILDDIR/guest-kit/qemu-caps)
        for libvirt's QEMU capabilities cache.  Probing QEMU costs ~8 s here;
        libvirt itself revalidates the cached files (QEMU/libvirt/kernel
        versions), so a stale copy is harmless."""
        self.log_dir = log_dir or '/var/log/libvirt'
        self.start_timeout = start_timeout
        self.caps_cache = caps_cache
        self.virtlogd = None
        self.libvirtd = None
        self.pid_file = '/run/libvirt/libvirtd.pid'

    def _env(self):
        env = dict(os.environ)
        # Never reach the host's system bus (machined/firewalld lookups).
        env['DBUS_SYSTEM_BUS_ADDRESS'] = 'unix:path=/run/libvirt/no-system-bus'
        env.pop('DBUS_SESSION_BUS_ADDRESS', None)
        return env

    def start(self):
        assert_private()
        _track(self)
        os.makedirs(self.log_dir, exist_ok=True)
        t0 = time.monotonic()
        self._vl_log = open(os.path.join(self.log_dir, 'virtlogd.log'), 'ab')
        self.virtlogd = subprocess.Popen(
            ['virtlogd', '-f', '/etc/libvirt/virtlogd.conf', '-p', '/run/libvirt/virtlogd.pid'],
            stdin=subprocess.DEVNULL, stdout=self._vl_log, stderr=subprocess.STDOUT,
            env=self._env())
        wait_for(lambda: os.path.exists('/run/libvirt/virtlogd-sock') or
                 self.virtlogd.poll() is not None, 10, what='virtlogd socket')
        if self.virtlogd.poll() is not None:
            raise HarnessError('virtlogd exited (%s); see %s/virtlogd.log'
                               % (self.virtlogd.returncode, self.log_dir))
        if self.caps_cache and os.path.isdir(self.caps_cache):
            os.makedirs(self.CAPS_DIR, exist_ok=True)
            for f in glob.glob(os.path.join(self.caps_cache, '*.xml')):
                shutil.copy(f, self.CAPS_DIR)
        self._spawn_libvirtd()
        self.startup_seconds = time.monotonic() - t0
        if self.caps_cache:
            os.makedirs(self.caps_cache, exist_ok=True)
            for f in glob.glob(os.path.join(self.CAPS_DIR, '*.xml')):
                shutil.copy(f, self.caps_cache)
        log('libvirtd up in %.2fs (pid %d)' % (self.startup_seconds, self.libvirtd.pid))
        return self

    def _spawn_libvirtd(self):
        self._lv_log_path = os.path.join(self.log_dir, 'libvirtd.log')
        self._lv_log = open(self._lv_log_path, 'ab')
        # libvirt's capabilities cache embeds host CPUID data, part of which
        # (leaf 0x1f, the x2APIC id) depends on the CPU the probe ran on: pin
        # libvirtd to one CPU while it starts so the cache stays valid, then
        # give every thread all CPUs back (QEMU inherits the mask).
        all_cpus = os.sched_getaffinity(0)
        one_cpu = {min(all_cpus)}
        self.libvirtd = subprocess.Popen(
            ['libvirtd', '-f', '/etc/libvirt/libvirtd.conf', '-p', self.pid_file],
            stdin=subprocess.DEVNULL, stdout=self._lv_log, stderr=subprocess.STDOUT,
            env=self._env(), preexec_fn=lambda: os.sched_setaffinity(0, one_cpu))

        def up():
            if self.libvirtd.poll() is not None:
                raise HarnessError('libvirtd exited (%s): %s' % (
                    self.libvirtd.returncode, self.log_tail()))
            return virsh('version', check=False, timeout=10).returncode == 0
        try:
            wait_for(up, self.start_timeout, interval=0.1, what='libvirtd')
        except HarnessError:
            self.stop()
            raise
        for tid in os.listdir('/proc/%d/task' % self.libvirtd.pid):
            try:
                os.sched_setaffinity(int(tid), all_cpus)
            except OSError:
                pass

    def restart_daemon(self):
        """End libvirtd alone, as an upgrade would: the guests keep running and
        the new libvirtd takes them over. Clients see their connection close."""
        self.libvirtd.terminate()
        self.libvirtd.wait(30)
        self._lv_log.close()
        self._spawn_libvirtd()

    def log_tail(self, n=30):
        try:
            with open(self._lv_log_path, errors='replace') as f:
                return ''.join(f.readlines()[-n:])
        except OSError:
            return ''

    def stop(self):
        """Destroy every domain, then end libvirtd and virtlogd."""
        if self.libvirtd is not None and self.libvirtd.poll() is None:
            p = virsh('list', '--all', '--name', check=False, timeout=30)
            for name in p.stdout.split():
                virsh('destroy', name, check=False, timeout=30)
                virsh('undefine', name, '--nvram', check=False, timeout=30)
        _kill_namespace_qemus()
        for proc in (self.libvirtd, self.virtlogd):
            if proc is not None and proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        self.libvirtd = self.virtlogd = None
        _untrack(self)
        for f in ('_lv_log', '_vl_log'):
            if getattr(self, f, None):
                getattr(self, f).close()
                setattr(self, f, None)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def _kill_namespace_qemus():
    """Kill QEMU processes that live in *our* mount namespace (only ours can)."""
    me = _mntns()
    for pidfile in glob.glob('/run/libvirt/qemu/*.pid'):
        try:
            pid = int(open(pidfile).read().strip())
        except (OSError, ValueError):
            continue
        if _mntns(pid) == me and 'qemu' in _comm(pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def _comm(pid):
    try:
        with open('/proc/%d/comm' % pid) as f:
            return f.read().strip()
    except OSError:
        return ''


# ---------------------------------------------------------------------------
# Guest kit: Debian kernel + busybox initramfs
# ---------------------------------------------------------------------------

# Modules the guest needs (their dependencies are added from modules.dep).
# In Debian 12's kernel virtio, virtio_ring, virtio_pci(+_modern_dev/_legacy_dev)
# and virtio_blk are all modules; 8250 serial, devtmpfs, ACPI PCI hotplug are
# built in.  virtio_scsi + sd_mod (scsi_mod from modules.dep) for the scsi bus.
GUEST_MODULES = ['virtio_pci', 'virtio_blk', 'virtio_scsi', 'sd_mod']

# The guest's /init.  Prints PT-READY once, then one PT-DISKS line every time
# the set of virtio disks (name, serial, size in bytes) changes, and one PT-SD
# line every time the set of SCSI disks (name, queue/rotational) changes.
# A virtio disk whose serial starts with "trim-" is discarded whole, once per
# name+serial: blkdiscard, then "PT-TRIM name serial rc".  Only shell
# builtins in the loop (read, $((...))), so it costs little under TCG.
GUEST_INIT = r'''#!/bin/busybox sh
/bin/busybox mkdir -p /proc /sys /dev /tmp
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sysfs /sys
/bin/busybox mount -t devtmpfs devtmpfs /dev
/bin/busybox --install -s /bin
exec </dev/null >/dev/ttyS0 2>&1
echo 1 > /proc/sys/kernel/printk
for m in $(cat /modules.order); do
    insmod /lib/modules/$m.ko || echo "PT-ERROR insmod $m"
done
echo PT-READY
prev=unset
prevsd=unset
trimmed=" "
while :; do
    line=PT-DISKS
    for d in /sys/block/vd*; do
        [ -e "$d" ] || continue
        s=
        read -r s < "$d/serial" 2>/dev/null
        [ -n "$s" ] || s=-
        s=$(echo "$s" | tr ' :' '__')
        read -r sz < "$d/size" 2>/dev/null || sz=0
        line="$line ${d##*/}:$s:$((sz * 512))"
        case "$s" in trim-*)
            case "$trimmed" in *" ${d##*/}:$s "*) ;; *)
                blkdiscard "/dev/${d##*/}"
                echo "PT-TRIM ${d##*/} $s $?"
                trimmed="$trimmed ${d##*/}:$s "
            esac
        esac
    done
    if [ "$line" != "$prev" ]; then
        echo "$line"
        prev=$line
    fi
    sd=PT-SD
    for d in /sys/block/sd*; do
        [ -e "$d" ] || continue
        read -r r < "$d/queue/rotational" 2>/dev/null || r=-
        sd="$sd ${d##*/}:$r"
    done
    if [ "$sd" != "$prevsd" ]; then
        echo "$sd"
        prevsd=$sd
    fi
    sleep 0.1
done
'''

# Bump when the initramfs layout changes: forces an initramfs rebuild.
GUEST_KIT_FORMAT = 1


class GuestKit:
    """A cached kernel + initramfs for tiny TCG guests.

    Files in cache_dir: vmlinuz, initrd.img, modules/*.ko (+ modules.dep) and
    kit.json.  Everything is rebuilt only when missing or when GUEST_INIT /
    GUEST_KIT_FORMAT changed (then only the initramfs).
    """

    def __init__(self, cache_dir, build=True):
        self.cache_dir = os.path.abspath(cache_dir)
        self.kernel = os.path.join(self.cache_dir, 'vmlinuz')
        self.initrd = os.path.join(self.cache_dir, 'initrd.img')
        self.stamp = os.path.join(self.cache_dir, 'kit.json')
        self.version = None
        self.built = False          # True when this call (re)built something
        self.build_seconds = 0.0
        if build:
            self.ensure()

    def _wanted_stamp(self):
        h = hashlib.sha256((GUEST_INIT + repr(GUEST_MODULES)).encode()).hexdigest()
        return {'format': GUEST_KIT_FORMAT, 'init': h}

    def ensure(self):
        os.makedirs(self.cache_dir, exist_ok=True)
        with open(os.path.join(self.cache_dir, '.lock'), 'w') as lockf:
            fcntl.flock(lockf, fcntl.LOCK_EX)
            t0 = time.monotonic()
            stamp = {}
            try:
                stamp = json.load(open(self.stamp))
            except (OSError, ValueError):
                pass
            moddir = os.path.join(self.cache_dir, 'modules')
            # The modules are copied out of the kernel package when it is fetched:
            # a new module list needs them fetched again.
            if not (os.path.exists(self.kernel) and os.path.isdir(moddir) and stamp.get('version')
                    and stamp.get('modules') == repr(GUEST_MODULES)):
                self._fetch_kernel()
                stamp = json.load(open(self.stamp))
            self.version = stamp['version']
            want = self._wanted_stamp()
            if not os.path.exists(self.initrd) or any(stamp.get(k) != v for k, v in want.items()):
                self._build_initrd()
                stamp.update(want)
                _write(self.stamp, json.dumps(stamp, indent=1) + '\n')
                self.built = True
            self.build_seconds = time.monotonic() - t0
        if self.built:
            log('guest kit (kernel %s) built in %.1fs' % (self.version, self.build_seconds))
        return self

    def _fetch_kernel(self):
        """apt-get download the kernel that linux-image-amd64 names, unpack, depmod."""
        dep = run(['apt-cache', 'depends', 'linux-image-amd64']).stdout
        m = re.search(r'Depends:\s*(linux-image-[0-9][^\s]*)', dep)
        if not m:
            raise HarnessError('cannot find the kernel package in: %s' % dep)
        pkg = m.group(1)
        log('guest kit: downloading %s' % pkg)
        work = tempfile.mkdtemp(prefix='kernel-', dir=self.cache_dir)
        try:
            p = subprocess.run(['apt-get', 'download', '-q', '-o', 'APT::Sandbox::User=root', pkg],
                               cwd=work, timeout=600, text=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            if p.returncode != 0:
                raise HarnessError('apt-get download %s failed: %s' % (pkg, p.stderr.strip()))
            debs = glob.glob(os.path.join(work, '*.deb'))
            if len(debs) != 1:
                raise HarnessError('apt-get download %s produced %r' % (pkg, debs))
            root = os.path.join(work, 'root')
            run(['dpkg-deb', '-x', debs[0], root], timeout=300)
            versions = os.listdir(os.path.join(root, 'lib/modules'))
            if len(versions) != 1:
                raise HarnessError('unexpected module dirs %r' % versions)
            version = versions[0]
            run(['depmod', '-b', root, version])
            mdir = os.path.join(root, 'lib/modules', version)
            deps = _parse_modules_dep(os.path.join(mdir, 'modules.dep'))
            order = _module_load_order(deps, GUEST_MODULES)
            moddir = os.path.join(self.cache_dir, 'modules')
            shutil.rmtree(moddir, ignore_errors=True)
            os.makedirs(moddir)
            for rel in order:
                name = _modname(rel)
                src = os.path.join(mdir, rel)
                if rel.endswith('.ko'):
                    shutil.copy(src, os.path.join(moddir, name + '.ko'))
                elif rel.endswith('.ko.xz'):
                    with open(os.path.join(moddir, name + '.ko'), 'wb') as out:
                        subprocess.run(['xz', '-dc', src], stdout=out, check=True)
                else:
                    raise HarnessError('unsupported module compression: %s' % rel)
            _write(os.path.join(moddir, 'modules.order'),
                   '\n'.join(_modname(r) for r in order) + '\n')
            shutil.copy(os.path.join(root, 'boot', 'vmlinuz-' + version), self.kernel)
            _write(self.stamp, json.dumps({'version': version, 'package': pkg,
                                           'modules': repr(GUEST_MODULES)}) + '\n')
        finally:
            # The unpacked tree is ~400 MB; keep only what we copied out.
            shutil.rmtree(work, ignore_errors=True)

    def _build_initrd(self):
        stage = tempfile.mkdtemp(prefix='initrd-', dir=self.cache_dir)
        try:
            for d in ('bin', 'dev', 'proc', 'sys', 'tmp', 'lib/modules'):
                os.makedirs(os.path.join(stage, d))
            shutil.copy('/bin/busybox', os.path.join(stage, 'bin/busybox'))
            os.symlink('busybox', os.path.join(stage, 'bin/sh'))
            moddir = os.path.join(self.cache_dir, 'modules')
            for ko in glob.glob(os.path.join(moddir, '*.ko')):
                shutil.copy(ko, os.path.join(stage, 'lib/modules'))
            shutil.copy(os.path.join(moddir, 'modules.order'), os.path.join(stage, 'modules.order'))
            _write(os.path.join(stage, 'init'), GUEST_INIT, 0o755)
            pack_initrd(stage, self.initrd)
        finally:
            shutil.rmtree(stage, ignore_errors=True)


def pack_initrd(stage, out):
    """Pack the directory `stage` as a gzipped newc cpio at `out` (atomically)."""
    files = subprocess.run(['find', '.', '-print0'], cwd=stage, check=True,
                           stdout=subprocess.PIPE).stdout
    archive = subprocess.run(['cpio', '--null', '-o', '-H', 'newc', '-R', '0:0', '--quiet'],
                             cwd=stage, input=files, check=True, stdout=subprocess.PIPE).stdout
    tmp = out + '.tmp'
    with gzip.open(tmp, 'wb', compresslevel=6) as f:
        f.write(archive)
    os.rename(tmp, out)


def _modname(rel):
    return os.path.basename(rel).split('.ko')[0]


def _parse_modules_dep(path):
    deps = {}
    with open(path) as f:
        for line in f:
            mod, _, rest = line.partition(':')
            deps[mod.strip()] = rest.split()
    return deps


def _module_load_order(deps, wanted):
    """Dependency-first load order (relative paths) for the wanted module names."""
    by_name = {_modname(k): k for k in deps}
    order, seen = [], set()

    def visit(rel):
        if rel in seen:
            return
        seen.add(rel)
        for d in deps.get(rel, []):
            visit(d)
        order.append(rel)
    for name in wanted:
        if name not in by_name:
            raise HarnessError('module %s is not a module in this kernel (built in?)' % name)
        visit(by_name[name])
    return order


# ---------------------------------------------------------------------------
# Guest XML
# ---------------------------------------------------------------------------

def _q(s):
    return xml.sax.saxutils.quoteattr(str(s))


def linux_guest_xml(name, log_path, memory_mb=256, kit=None, extra_devices='',
                    machine='pc', vcpus=1):
    """A TCG Linux guest that reports its virtio disks on the serial log.

    machine 'pc' (i440fx): virtio-blk hot-plugs into pci.0 through ACPI PCI
    hotplug with no extra controllers.  <acpi/> is required for that.
    kit: a GuestKit (kernel/initrd paths); extra_devices: raw XML for <devices>.
    """
    if kit is None:
        raise HarnessError('linux_guest_xml needs kit=GuestKit(...)')
    return '''<domain type='qemu'>
  <name>{name}</name>
  <memory unit='MiB'>{mem}</memory>
  <vcpu>{vcpus}</vcpu>
  <os>
    <type arch='x86_64' machine={machine}>hvm</type>
    <kernel>{kernel}</kernel>
    <initrd>{initrd}</initrd>
    <cmdline>console=ttyS0 quiet panic=-1</cmdline>
  </os>
  <features><acpi/><apic/></features>
  <clock offset='utc'/>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>destroy</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <serial type='file'><source path={log}/><target port='0'/></serial>
    <console type='file'><source path={log}/><target type='serial' port='0'/></console>
    <controller type='usb' model='none'/>
    <memballoon model='none'/>
{extra}  </devices>
</domain>
'''.format(name=xml.sax.saxutils.escape(name), mem=int(memory_mb), vcpus=int(vcpus),
           machine=_q(machine), kernel=xml.sax.saxutils.escape(kit.kernel),
           initrd=xml.sax.saxutils.escape(kit.initrd), log=_q(log_path), extra=extra_devices)


def firmware_guest_xml(name, memory_mb=64, extra_devices='', machine='pc', domain_type='qemu'):
    """A firmware-only guest (SeaBIOS, nothing to boot): it never answers an
    ACPI unplug request, so a virtio-blk detach never completes."""
    return '''<domain type={dtype}>
  <name>{name}</name>
  <memory unit='MiB'>{mem}</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine={machine}>hvm</type><boot dev='hd'/></os>
  <features><acpi/><apic/></features>
  <clock offset='utc'/>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <controller type='usb' model='none'/>
    <memballoon model='none'/>
{extra}  </devices>
</domain>
'''.format(dtype=_q(domain_type), name=xml.sax.saxutils.escape(name), mem=int(memory_mb),
           machine=_q(machine), extra=extra_devices)


def disk_xml(dev, target='vdb', serial=None, readonly=False):
    """<disk> XML for a host block device as a virtio disk (what the daemon
    should produce too)."""
    return ('<disk type=\'block\' device=\'disk\'>'
            '<driver name=\'qemu\' type=\'raw\' cache=\'none\' io=\'native\'/>'
            '<source dev=%s/><target dev=%s bus=\'virtio\'/>%s%s</disk>\n') % (
                _q(dev), _q(target),
                '<serial>%s</serial>' % xml.sax.saxutils.escape(serial) if serial else '',
                '<readonly/>' if readonly else '')


# ---------------------------------------------------------------------------
# Guest
# ---------------------------------------------------------------------------

_DISKS_RE = re.compile(r'^PT-DISKS((?: [^ :]+:[^ :]+:\d+)*)\s*$')


class Guest:
    """A libvirt domain driven with virsh; Linux guests report on a serial log."""

    def __init__(self, name, log_path=None):
        self.name = name
        self.log_path = log_path
        self.started_at = None
        self.boot_seconds = None

    def virsh(self, *args, check=True, timeout=120):
        return virsh(*args, check=check, timeout=timeout)

    def define_and_start(self, xml_text):
        if self.log_path:
            os.makedirs(os.path.dirname(os.path.abspath(self.log_path)), exist_ok=True)
            if os.path.exists(self.log_path):
                os.unlink(self.log_path)
        with tempfile.NamedTemporaryFile('w', suffix='.xml', delete=False) as f:
            f.write(xml_text)
        try:
            virsh('define', f.name)
        finally:
            os.unlink(f.name)
        self.started_at = time.monotonic()
        virsh('start', self.name)
        return self

    def destroy(self, undefine=True):
        virsh('destroy', self.name, check=False)
        if undefine:
            virsh('undefine', self.name, '--nvram', check=False)

    def state(self):
        return virsh('domstate', self.name, check=False).stdout.strip()

    def live_xml(self):
        return virsh('dumpxml', self.name).stdout

    def attach(self, xml_text, live=True, timeout=120):
        """virsh attach-device; returns seconds the call took."""
        return self._device_op('attach-device', xml_text, live, timeout)

    def detach(self, xml_text, live=True, timeout=120):
        """virsh detach-device; returns seconds the call took (the guest may
        not have let go yet: check live_xml())."""
        return self._device_op('detach-device', xml_text, live, timeout)

    def _device_op(self, op, xml_text, live, timeout):
        with tempfile.NamedTemporaryFile('w', suffix='.xml', delete=False) as f:
            f.write(xml_text)
        try:
            t0 = time.monotonic()
            virsh(op, self.name, f.name, *(['--live'] if live else []), timeout=timeout)
            return time.monotonic() - t0
        finally:
            os.unlink(f.name)

    def serial_lines(self):
        try:
            with open(self.log_path, 'rb') as f:
                data = f.read().decode('utf-8', 'replace')
        except FileNotFoundError:
            return []
        # Only complete lines: the guest may be in the middle of writing one.
        return [l.rstrip('\r') for l in data.split('\n')[:-1]]

    def wait_ready(self, timeout=120):
        """Wait for PT-READY and the first PT-DISKS line; returns boot seconds."""
        def ready():
            lines = self.serial_lines()
            if any(l.startswith('PT-ERROR') for l in lines):
                raise HarnessError('guest %s reported: %s' % (
                    self.name, [l for l in lines if l.startswith('PT-ERROR')]))
            if 'PT-READY' in lines:
                after = lines[lines.index('PT-READY'):]
                return any(_DISKS_RE.match(l) for l in after)
            if self.state() not in ('running', 'paused', ''):
                raise HarnessError('guest %s is %s before PT-READY; log:\n%s' % (
                    self.name, self.state(), '\n'.join(lines[-20:])))
            return False
        try:
            wait_for(ready, timeout, interval=0.1, what='guest %s PT-READY' % self.name)
        except HarnessError:
            sys.stderr.write('--- serial log of %s ---\n%s\n' % (
                self.name, '\n'.join(self.serial_lines()[-40:])))
            raise
        self.boot_seconds = time.monotonic() - self.started_at
        return self.boot_seconds

    def disks(self):
        """Latest PT-DISKS report: {name: (serial or None, size_bytes)}, or None."""
        last = None
        for l in self.serial_lines():
            m = _DISKS_RE.match(l)
            if m:
                last = m.group(1)
        if last is None:
            return None
        res = {}
        for item in last.split():
            name, serial, size = item.split(':')
            res[name] = (None if serial == '-' else serial, int(size))
        return res

    def wait_disks(self, predicate, timeout=30, what='guest disks'):
        """Wait until predicate(disks()) is true; returns the disks dict."""
        def check():
            d = self.disks()
            # Boxed: an empty dict is a valid answer but falsy.
            return (d,) if d is not None and predicate(d) else None
        try:
            return wait_for(check, timeout, interval=0.02, what=what)[0]
        except HarnessError as e:
            raise HarnessError('%s (last report: %r)' % (e, self.disks()))

    def serial_disk(self, serial):
        """(name, size) of the guest disk with this serial, or None."""
        for name, (s, size) in (self.disks() or {}).items():
            if s == serial:
                return name, size
        return None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.destroy()


# ---------------------------------------------------------------------------
# Loop disks
# ---------------------------------------------------------------------------

class LoopDisk:
    """A loop device over a sparse temp file, optionally partitioned and mounted.

    partition: False, True/'gpt' or 'dos' (one Linux partition).
    mount: mkfs.ext4 (on the partition if any) and mount it on a temp dir.
    Attributes: dev (/dev/loopN), part (/dev/loopNp1 or None), mountpoint,
    backing, size_bytes, name (loopN).  Cleans up fully, even on failure.
    """

    def __init__(self, size_mb, partition=False, mount=False, tmpdir=None):
        self.size_mb = size_mb
        self.partition = 'gpt' if partition is True else partition
        self.mount = mount
        self.tmpdir = tmpdir
        self.dir = self.backing = self.dev = self.part = self.mountpoint = None
        self._partx = False

    @property
    def size_bytes(self):
        return self.size_mb * 1024 * 1024

    @property
    def name(self):
        return os.path.basename(self.dev) if self.dev else None

    def setup(self):
        try:
            self.dir = tempfile.mkdtemp(prefix='pt-loop-', dir=self.tmpdir)
            self.backing = os.path.join(self.dir, 'disk.img')
            with open(self.backing, 'wb') as f:
                f.truncate(self.size_bytes)
            if self.partition:
                # Partition the file before it becomes a loop device.
                run(['sfdisk', '--quiet', '--no-reread', '--no-tell-kernel', self.backing],
                    input='label: %s\n,,L\n' % self.partition)
            self.dev = run(['losetup', '-f', '--show', self.backing]).stdout.strip()
            _track(self)
            if os.environ.get(ENV_REGISTRY):
                self._record = os.path.join(os.environ[ENV_REGISTRY], 'loop-' + self.name)
                _write(self._record, '%s\n%s\n' % (self.dev, self.backing))
            if self.partition:
                # No udevd here: partx asks the kernel (BLKPG) and devtmpfs
                # makes the loopNp1 node.
                run(['partx', '-a', self.dev])
                self._partx = True
                self.part = self.dev + 'p1'
                wait_for(lambda: os.path.exists(self.part), 5, what=self.part)
            if self.mount:
                target = self.part or self.dev
                run(['mkfs.ext4', '-q', '-F', target], timeout=120)
                self.mountpoint = os.path.join(self.dir, 'mnt')
                os.mkdir(self.mountpoint)
                run(['mount', target, self.mountpoint])
            return self
        except BaseException:
            self.cleanup()
            raise

    def stop(self):
        self.cleanup()

    def cleanup(self):
        _untrack(self)
        errors = []
        if self.mountpoint and os.path.ismount(self.mountpoint):
            if run(['umount', self.mountpoint], check=False).returncode != 0:
                run(['umount', '-l', self.mountpoint], check=False)
        if self.dev and self._partx:
            run(['partx', '-d', self.dev], check=False)
            self._partx = False
        if self.dev:
            p = run(['losetup', '-d', self.dev], check=False)
            if p.returncode != 0:
                errors.append(p.stderr.strip())
            self.dev = None
        if getattr(self, '_record', None):
            try:
                os.unlink(self._record)
            except OSError:
                pass
            self._record = None
        if self.dir:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None
        if errors:
            log('LoopDisk cleanup: %s' % '; '.join(errors))

    def __enter__(self):
        return self.setup()

    def __exit__(self, *exc):
        self.cleanup()


# ---------------------------------------------------------------------------
# Private system bus
# ---------------------------------------------------------------------------

class PrivateSystemBus:
    """A dbus-daemon of type system on a private socket, with a policy like
    Debian's system.conf (deny own / deny method calls by default) plus:

      * root may own any name (so the polkit mock can own PolicyKit1),
      * everyone may call org.freedesktop.PolicyKit1 (as polkit's own conf
        says), but only root may use the mock's org.freedesktop.DBus.Mock,
      * policy_files: paths of .conf files (<include>) or directories
        (<includedir>), e.g. data/org.example.Passthrough1.conf,
      * service_dirs: <servicedir> entries for activation.
    .address is the bus address; DBUS_SYSTEM_BUS_ADDRESS for clients.
    """

    def __init__(self, policy_files=(), service_dirs=(), tmpdir=None):
        self.policy_files = [os.path.abspath(p) for p in policy_files]
        self.service_dirs = [os.path.abspath(p) for p in service_dirs]
        self.tmpdir = tmpdir
        self.proc = None
        self.address = None
        self.dir = None

    def config(self):
        inc = []
        for p in self.policy_files:
            tag = 'includedir' if os.path.isdir(p) else 'include'
            inc.append('  <%s>%s</%s>' % (tag, xml.sax.saxutils.escape(p), tag))
        svc = ['  <servicedir>%s</servicedir>' % xml.sax.saxutils.escape(d)
               for d in self.service_dirs]
        return '''<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path={sock}</listen>
  <auth>EXTERNAL</auth>
{svc}
  <policy context="default">
    <allow user="*"/>
    <deny own="*"/>
    <deny send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Introspectable"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Properties"/>
    <deny send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"
          send_member="UpdateActivationEnvironment"/>
    <deny send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Debug.Stats"/>
    <!-- as /usr/share/dbus-1/system.d/org.freedesktop.PolicyKit1.conf -->
    <allow send_destination="org.freedesktop.PolicyKit1"/>
    <!-- only root may steer the polkit mock -->
    <deny send_destination="org.freedesktop.PolicyKit1" send_interface="org.freedesktop.DBus.Mock"/>
  </policy>
  <policy user="root">
    <allow own="*"/>
    <allow send_destination="org.freedesktop.PolicyKit1" send_interface="org.freedesktop.DBus.Mock"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Monitoring"/>
  </policy>
{inc}
</busconfig>
'''.format(sock=xml.sax.saxutils.escape(self.socket), svc='\n'.join(svc), inc='\n'.join(inc))

    def start(self):
        _track(self)
        self.dir = tempfile.mkdtemp(prefix='pt-bus-', dir=self.tmpdir)
        _record_dir(self.dir)
        os.chmod(self.dir, 0o755)          # unprivileged callers need the socket
        self.socket = os.path.join(self.dir, 'system_bus_socket')
        self.config_path = os.path.join(self.dir, 'system.conf')
        _write(self.config_path, self.config())
        self.proc = subprocess.Popen(
            ['dbus-daemon', '--config-file=' + self.config_path, '--nofork',
             '--print-address=1', '--nopidfile'],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline().strip()
        if not line:
            err = self.proc.stderr.read() if self.proc.poll() is not None else ''
            self.stop()
            raise HarnessError('dbus-daemon did not start: %s' % err.strip())
        self.address = line
        log('private system bus at %s' % self.address)
        return self

    def env(self, base=None):
        """A copy of base (default os.environ) pointing at this bus."""
        e = dict(os.environ if base is None else base)
        e['DBUS_SYSTEM_BUS_ADDRESS'] = self.address
        e.pop('DBUS_SESSION_BUS_ADDRESS', None)
        return e

    def stop(self):
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.terminate()
                try:
                    self.proc.wait(5)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
            for s in (self.proc.stdout, self.proc.stderr):
                s.close()
            self.proc = None
        if self.dir:
            shutil.rmtree(self.dir, ignore_errors=True)
            _record_dir(self.dir, forget=True)
            self.dir = None
        _untrack(self)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


# ---------------------------------------------------------------------------
# polkit mock
# ---------------------------------------------------------------------------

POLKIT_TEMPLATE = os.path.join(HERE, 'polkitd_recording.py')
MOCK_IFACE = 'org.freedesktop.DBus.Mock'


class PolkitMock:
    """python-dbusmock's polkitd, extended by tests/polkitd_recording.py to
    record every CheckAuthorization and to answer with challenges.

    Methods: set_allowed(actions), allow_unknown(bool), set_challenge(actions),
    set_interactive_allowed(actions), set_dismissed(actions), hang(actions), hang_all(bool), release(),
    have_hanging(), set_delay(s), calls() -> [dict], clear_calls().
    The recorded list is GetAuthorizationChecks() on the mock interface (the
    stock GetCalls() there is dbusmock's generic method-call log).
    """

    def __init__(self, bus_address, template=POLKIT_TEMPLATE, log_path=None):
        self.bus_address = bus_address
        self.template = template
        self.log_path = log_path
        self.proc = None
        self._bus = None
        self._log = None

    def start(self):
        env = dict(os.environ)
        env['DBUS_SYSTEM_BUS_ADDRESS'] = self.bus_address
        _track(self)
        self._log = open(self.log_path, 'ab') if self.log_path else subprocess.DEVNULL
        self.proc = subprocess.Popen([PYTHON, '-m', 'dbusmock', '--system', '--template',
                                      self.template], env=env, stdin=subprocess.DEVNULL,
                                     stdout=self._log, stderr=self._log)
        # Wait until the name is on the bus.
        def owned():
            if self.proc.poll() is not None:
                raise HarnessError('polkit mock exited with %d' % self.proc.returncode)
            try:
                return self._name_has_owner()
            except Exception:      # bus not answering yet
                return False
        wait_for(owned, 15, what='polkit mock on the bus')
        return self

    def bus(self):
        if self._bus is None:
            import dbus
            self._bus = dbus.bus.BusConnection(self.bus_address)
        return self._bus

    def _name_has_owner(self):
        return bool(self.bus().name_has_owner('org.freedesktop.PolicyKit1'))

    def _obj(self):
        return self.bus().get_object('org.freedesktop.PolicyKit1',
                                     '/org/freedesktop/PolicyKit1/Authority')

    def _mock(self, method, *args):
        return getattr(self._obj(), method)(*args, dbus_interface=MOCK_IFACE)

    def set_allowed(self, actions):
        self._mock('SetAllowed', list(actions))

    def allow_unknown(self, allow=True):
        self._mock('AllowUnknown', bool(allow))

    def set_challenge(self, actions):
        """These actions answer is_authorized=False, is_challenge=True, unless
        interaction is allowed and they are in set_interactive_allowed()."""
        self._mock('SetChallenge', list(actions))

    def set_interactive_allowed(self, actions):
        """Challenge actions a (simulated) agent grants when the caller set
        AllowUserInteraction."""
        self._mock('SetInteractiveAllowed', list(actions))

    def set_dismissed(self, actions):
        """Challenge actions whose prompt the (simulated) user dismisses when the
        caller set AllowUserInteraction: polkitd's answer carries polkit.dismissed."""
        self._mock('SetDismissed', list(actions))

    def set_failing(self, failing):
        """{action: message}: CheckAuthorization for these actions fails with
        org.freedesktop.PolicyKit1.Error.Failed and the message."""
        import dbus
        self._mock('SetFailing', dbus.Dictionary(failing, signature='ss'))

    def hang(self, actions):
        """CheckAuthorization for these actions does not answer until release()."""
        self._mock('SimulateHangActions', list(actions))

    def hang_all(self, hang=True):
        """Every CheckAuthorization hangs until release()."""
        self._mock('SimulateHang', bool(hang))

    def set_delay(self, seconds):
        """Delay every answer (blocks the mock: prefer hang())."""
        self._mock('SetDelay', float(seconds))

    def release(self):
        self._mock('ReleaseHangingCalls')

    def have_hanging(self):
        return bool(self._mock('HaveHangingCalls'))

    def calls(self):
        """Every CheckAuthorization so far: dicts with subject_kind, subject,
        action_id, details, flags, cancellation_id, result (or None while
        hanging / 'cancelled'), time."""
        return json.loads(str(self._mock('GetAuthorizationChecks')))

    def clear_calls(self):
        self._mock('ClearAuthorizationChecks')

    def stop(self):
        if self._bus is not None:
            self._bus.close()
            self._bus = None
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.terminate()
                try:
                    self.proc.wait(5)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
            self.proc = None
        if self.log_path and self._log not in (None, subprocess.DEVNULL):
            self._log.close()
        self._log = None
        _untrack(self)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


# ---------------------------------------------------------------------------
# Running things as another user
# ---------------------------------------------------------------------------

def run_as(user, argv, env=None, bus_address=None, timeout=60, input=None, check=False):
    """Run argv as user (name or uid) via setpriv, with a small clean
    environment plus env, DBUS_SYSTEM_BUS_ADDRESS=bus_address if given.
    Returns CompletedProcess (text)."""
    pw = pwd.getpwnam(user) if isinstance(user, str) else pwd.getpwuid(user)
    e = {'PATH': '/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin',
         'LANG': 'C.UTF-8', 'HOME': '/', 'USER': pw.pw_name, 'LOGNAME': pw.pw_name}
    if bus_address:
        e['DBUS_SYSTEM_BUS_ADDRESS'] = bus_address
    e.update(env or {})
    cmd = ['setpriv', '--reuid=%d' % pw.pw_uid, '--regid=%d' % pw.pw_gid,
           '--init-groups', '--', *argv]
    p = subprocess.run(cmd, env=e, timeout=timeout, input=input, text=True,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if check and p.returncode != 0:
        raise HarnessError('%s as %s failed (%d): %s' % (argv, pw.pw_name, p.returncode, p.stderr))
    return p

"""The lab's kernel and initramfs, cached in BUILDDIR/lab-kit/.

The lab is an outer QEMU VM (TCG) booted with Debian's own kernel and a small
busybox initramfs.  The initramfs loads the modules below, mounts the host's
/ read-only over virtio-9p, puts a tmpfs overlay on top and switch_roots into
it, running the lab's init script (tests/lab/lab-init) straight from the
shared tree.  This is ptharness.GuestKit's approach with more modules: the
kernel package is the one linux-image-amd64 names (`apt-get download`, no
installation), the modules and their dependencies come from its modules.dep.

Files in the kit directory:
  linux-image-*.deb   the downloaded package (kept: a change to LAB_MODULES
                      re-extracts from it without downloading again)
  vmlinuz             the kernel
  modules/            the wanted .ko files (modules.order: those loaded at
                      boot, dependencies first; LAB_MODULES_ON_DEMAND too)
  initrd.img          busybox-static + modules + /init
  kit.json            what was built from what (rebuild when it changes)
  qemu-caps/          libvirt's QEMU capabilities cache, saved from the lab
"""

import fcntl
import glob
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import ptharness as H            # noqa: E402  (run, wait_for, modules.dep parsing)

# What the lab needs from the kernel, all modules in Debian 12's kernel
# (names as lsmod shows them; file names may use '-').  Their dependencies
# are added from modules.dep.  Built in there: 8250 serial, devtmpfs, cgroups,
# sysrq, unix sockets, ACPI.
LAB_MODULES = [
    # crypto that other modules look up at load or mount time (first: there
    # is no modprobe the kernel could call for them)
    'crc32c_generic', 'crct10dif_generic', 'crc64_rocksoft_generic',
    # the root file system: host / over virtio-9p, tmpfs overlay on top
    'virtio_pci', '9pnet_virtio', '9p', 'overlay',
    # control channel (virtio-serial port)
    'virtio_console',
    # USB: the xhci controller QEMU gives us, sticks as SCSI disks
    'xhci_pci', 'xhci_hcd', 'usb_storage', 'uas', 'sd_mod',
    # other block devices; sg: /dev/sgN of each SCSI disk; virtio_scsi (a
    # SCSI bus QEMU could give); dm_mod (device-mapper, never a LUN)
    'virtio_blk', 'loop', 'sg', 'virtio_scsi', 'dm_mod',
    # file systems on the sticks, and the code pages vfat loads on demand
    # (request_module() finds no modules in the lab)
    'ext4', 'vfat', 'nls_cp437', 'nls_ascii', 'nls_utf8', 'nls_iso8859_1',
]

# In the kit but not loaded at boot: the scenarios insmod them from
# KIT/modules/ with the parameters they need (their dependencies are in
# LAB_MODULES' load order).  scsi_debug: real SCSI disks with WWN, serial
# and unmap, as many as asked for.
LAB_MODULES_ON_DEMAND = ['scsi_debug']

# /init of the initramfs (busybox sh).  Reads from the kernel command line:
#   ptlab_init=PATH   the script to run as PID 1 after switch_root
#   ptlab_tag=TAG     the 9p mount tag of the host's /
# Prints "PTLAB-FAIL ..." on the console when it cannot go on, then powers off.
INITRAMFS_INIT = r'''#!/bin/busybox sh
/bin/busybox mkdir -p /proc /sys /dev /lower /rw /newroot
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sysfs /sys
/bin/busybox mount -t devtmpfs devtmpfs /dev
/bin/busybox --install -s /bin
exec </dev/console >/dev/console 2>&1
fail() {
    echo "PTLAB-FAIL initramfs: $*"
    sleep 1
    echo o > /proc/sysrq-trigger
    sleep 60
}
up() { read -r u _ < /proc/uptime; echo "$u"; }
echo "ptlab: [$(up)] initramfs"
for m in $(cat /modules.order); do
    insmod /modules/$m.ko 2>/tmp/insmod.err || {
        grep -q 'File exists' /tmp/insmod.err || fail "insmod $m: $(cat /tmp/insmod.err)"
    }
done
init=
tag=hostroot
for w in $(cat /proc/cmdline); do
    case "$w" in
        ptlab_init=*) init=${w#ptlab_init=} ;;
        ptlab_tag=*) tag=${w#ptlab_tag=} ;;
    esac
done
[ -n "$init" ] || fail "no ptlab_init= on the kernel command line"
# The host's / read-only; cache=loose: nothing on the host changes under the
# lab's feet that the lab cares about, and it makes 9p several times faster.
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=512000,cache=loose "$tag" /lower ||
    fail "mount 9p $tag"
mount -t tmpfs -o mode=0755,size=75% ptlab-rw /rw || fail "mount tmpfs"
mkdir -p /rw/upper /rw/work
chmod 0755 /rw/upper
mount -t overlay -o lowerdir=/lower,upperdir=/rw/upper,workdir=/rw/work ptlab-root /newroot ||
    fail "mount overlay"
[ -f "/newroot$init" ] || fail "$init not found in the host's tree"
[ -x /newroot/bin/busybox ] || fail "/bin/busybox missing on the host (busybox-static)"
echo "ptlab: [$(up)] switch_root"
mount --move /dev /newroot/dev || fail "move /dev"
umount /proc /sys
exec switch_root /newroot /bin/busybox sh "$init"
'''

KIT_FORMAT = 1


def _modname(path):
    """Module name of a .ko path as the kernel knows it (dashes -> underscores)."""
    return os.path.basename(path).split('.ko')[0].replace('-', '_')


def module_load_order(modules_dep, wanted):
    """Dependency-first list of relative module paths for the wanted names."""
    deps = H._parse_modules_dep(modules_dep)
    by_name = {_modname(k): k for k in deps}
    order, seen = [], set()

    def visit(rel):
        if rel in seen:
            return
        seen.add(rel)
        for d in deps.get(rel, []):
            visit(d)
        order.append(rel)
    missing = [w for w in wanted if w.replace('-', '_') not in by_name]
    if missing:
        raise H.HarnessError('not modules in this kernel: %s' % ', '.join(missing))
    for name in wanted:
        visit(by_name[name.replace('-', '_')])
    return order


class LabKit:
    """Kernel + initramfs for the lab, built once and cached in cache_dir."""

    def __init__(self, cache_dir):
        self.dir = os.path.abspath(cache_dir)
        self.kernel = os.path.join(self.dir, 'vmlinuz')
        self.initrd = os.path.join(self.dir, 'initrd.img')
        self.stamp_path = os.path.join(self.dir, 'kit.json')
        self.caps_dir = os.path.join(self.dir, 'qemu-caps')
        self.version = None
        self.actions = []            # what ensure() had to do, for the report
        self.seconds = 0.0

    def _stamp(self):
        try:
            with open(self.stamp_path) as f:
                return json.load(f)
        except (OSError, ValueError):
            return {}

    def _save_stamp(self, stamp):
        tmp = self.stamp_path + '.tmp'
        with open(tmp, 'w') as f:
            json.dump(stamp, f, indent=1)
            f.write('\n')
        os.rename(tmp, self.stamp_path)

    def ensure(self):
        os.makedirs(self.dir, exist_ok=True)
        t0 = time.monotonic()
        with open(os.path.join(self.dir, '.lock'), 'w') as lockf:
            fcntl.flock(lockf, fcntl.LOCK_EX)
            stamp = self._stamp()
            deb = stamp.get('deb') and os.path.join(self.dir, stamp['deb'])
            if not (deb and os.path.exists(deb) and os.path.exists(self.kernel)):
                stamp = self._download()
                deb = os.path.join(self.dir, stamp['deb'])
            self.version = stamp['version']
            mods_hash = hashlib.sha256(repr((LAB_MODULES, LAB_MODULES_ON_DEMAND)).encode()).hexdigest()
            moddir = os.path.join(self.dir, 'modules')
            if stamp.get('modules') != mods_hash or not os.path.isdir(moddir):
                self._extract_modules(deb)
                stamp['modules'] = mods_hash
                stamp.pop('init', None)
                self._save_stamp(stamp)
            init_hash = hashlib.sha256(('%d\n%s' % (KIT_FORMAT, INITRAMFS_INIT)).encode()).hexdigest()
            if stamp.get('init') != init_hash or not os.path.exists(self.initrd):
                self._build_initrd()
                stamp['init'] = init_hash
                self._save_stamp(stamp)
        self.seconds = time.monotonic() - t0
        return self

    def _download(self):
        dep = H.run(['apt-cache', 'depends', 'linux-image-amd64']).stdout
        m = re.search(r'Depends:\s*(linux-image-[0-9][^\s]*)', dep)
        if not m:
            raise H.HarnessError('cannot find the kernel package in: %s' % dep)
        pkg = m.group(1)
        H.log('lab kit: downloading %s' % pkg)
        self.actions.append('download ' + pkg)
        for old in glob.glob(os.path.join(self.dir, 'linux-image-*.deb')):
            os.unlink(old)
        work = tempfile.mkdtemp(prefix='download-', dir=self.dir)
        try:
            p = subprocess.run(['apt-get', 'download', '-q', '-o', 'APT::Sandbox::User=root', pkg],
                               cwd=work, timeout=600, text=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            if p.returncode != 0:
                raise H.HarnessError('apt-get download %s failed: %s' % (pkg, p.stderr.strip()))
            debs = glob.glob(os.path.join(work, '*.deb'))
            if len(debs) != 1:
                raise H.HarnessError('apt-get download %s produced %r' % (pkg, debs))
            name = os.path.basename(debs[0])
            os.rename(debs[0], os.path.join(self.dir, name))
        finally:
            shutil.rmtree(work, ignore_errors=True)
        # The kernel image alone, without unpacking all 400 MB of modules.
        stage = tempfile.mkdtemp(prefix='unpack-', dir=self.dir)
        try:
            self._unpack(os.path.join(self.dir, name), stage, ['./boot/'])
            kernels = glob.glob(os.path.join(stage, 'boot', 'vmlinuz-*'))
            if len(kernels) != 1:
                raise H.HarnessError('no single vmlinuz in %s: %r' % (name, kernels))
            version = os.path.basename(kernels[0])[len('vmlinuz-'):]
            shutil.copy(kernels[0], self.kernel)
        finally:
            shutil.rmtree(stage, ignore_errors=True)
        stamp = {'format': KIT_FORMAT, 'package': pkg, 'deb': name, 'version': version}
        self._save_stamp(stamp)
        return stamp

    @staticmethod
    def _unpack(deb, dest, members):
        """Unpack only members (tar path prefixes) of a .deb into dest."""
        os.makedirs(dest, exist_ok=True)
        fsys = subprocess.Popen(['dpkg-deb', '--fsys-tarfile', deb], stdout=subprocess.PIPE)
        tar = subprocess.run(['tar', '-x', '-C', dest, '--wildcards'] +
                             [m + '*' for m in members],
                             stdin=fsys.stdout, stderr=subprocess.PIPE, text=True, timeout=300)
        fsys.stdout.close()
        if fsys.wait(60) != 0 or tar.returncode != 0:
            raise H.HarnessError('unpacking %s failed: %s' % (deb, tar.stderr.strip()))

    def _extract_modules(self, deb):
        self.actions.append('extract modules')
        stage = tempfile.mkdtemp(prefix='unpack-', dir=self.dir)
        try:
            # modules.dep is not shipped: unpack the tree, depmod it.
            self._unpack(deb, stage, ['./lib/modules/'])
            versions = os.listdir(os.path.join(stage, 'lib/modules'))
            if len(versions) != 1:
                raise H.HarnessError('unexpected module dirs %r' % versions)
            version = versions[0]
            H.run(['depmod', '-b', stage, version], timeout=300)
            mdir = os.path.join(stage, 'lib/modules', version)
            order = module_load_order(os.path.join(mdir, 'modules.dep'), LAB_MODULES + LAB_MODULES_ON_DEMAND)
            moddir = os.path.join(self.dir, 'modules')
            shutil.rmtree(moddir, ignore_errors=True)
            os.makedirs(moddir)
            for rel in order:
                src = os.path.join(mdir, rel)
                dst = os.path.join(moddir, _modname(rel) + '.ko')
                if rel.endswith('.ko'):
                    shutil.copy(src, dst)
                elif rel.endswith('.ko.xz'):
                    with open(dst, 'wb') as out:
                        subprocess.run(['xz', '-dc', src], stdout=out, check=True)
                elif rel.endswith('.ko.zst'):
                    with open(dst, 'wb') as out:
                        subprocess.run(['zstd', '-dc', src], stdout=out, check=True)
                else:
                    raise H.HarnessError('unsupported module compression: %s' % rel)
            at_boot = [_modname(r) for r in order if _modname(r) not in LAB_MODULES_ON_DEMAND]
            with open(os.path.join(moddir, 'modules.order'), 'w') as f:
                f.write('\n'.join(at_boot) + '\n')
        finally:
            shutil.rmtree(stage, ignore_errors=True)

    def _build_initrd(self):
        self.actions.append('build initramfs')
        stage = tempfile.mkdtemp(prefix='initrd-', dir=self.dir)
        try:
            for d in ('bin', 'dev', 'proc', 'sys', 'tmp', 'modules'):
                os.makedirs(os.path.join(stage, d))
            if not os.path.exists('/bin/busybox'):
                raise H.HarnessError('/bin/busybox is missing (apt-get install busybox-static)')
            shutil.copy('/bin/busybox', os.path.join(stage, 'bin/busybox'))
            os.symlink('busybox', os.path.join(stage, 'bin/sh'))
            moddir = os.path.join(self.dir, 'modules')
            for name in open(os.path.join(moddir, 'modules.order')).read().split():
                shutil.copy(os.path.join(moddir, name + '.ko'), os.path.join(stage, 'modules'))
            shutil.copy(os.path.join(moddir, 'modules.order'), os.path.join(stage, 'modules.order'))
            with open(os.path.join(stage, 'init'), 'w') as f:
                f.write(INITRAMFS_INIT)
            os.chmod(os.path.join(stage, 'init'), 0o755)
            H.pack_initrd(stage, self.initrd)
        finally:
            shutil.rmtree(stage, ignore_errors=True)

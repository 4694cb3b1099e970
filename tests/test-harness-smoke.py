#!/usr/bin/python3
"""Smoke test of tests/ptharness.py on real parts.

    /usr/bin/python3 tests/test-harness-smoke.py BUILDDIR      (as root)

Private mount namespace, a private libvirtd, the cached guest kit
(BUILDDIR/guest-kit), a TCG Linux guest that sees a hot-plugged loop device
(serial, size) and sees it go, and a firmware-only guest that never lets go of
a disk.  Exit 0 = pass, 1 = fail, 77 = skipped (with the reason).
Logs: BUILDDIR/harness-smoke/.
"""

import os
import shutil
import sys
import time

SKIP = 77
HERE = os.path.dirname(os.path.abspath(__file__))


def skip(reason):
    print('SKIP: ' + reason)
    sys.exit(SKIP)


def fail(msg):
    print('FAIL: ' + msg)
    sys.exit(1)


def preflight():
    if len(sys.argv) != 2:
        sys.stderr.write('usage: %s BUILDDIR\n' % sys.argv[0])
        sys.exit(2)
    if os.geteuid() != 0:
        skip('needs root (private mount namespace, libvirtd, loop devices)')
    if not os.path.exists('/dev/kvm'):
        skip('/dev/kvm is missing')
    for tool in ('qemu-system-x86_64', 'libvirtd', 'virtlogd', 'virsh', 'unshare',
                 'losetup', 'sfdisk', 'partx', 'dbus-daemon', 'cpio', 'depmod'):
        if shutil.which(tool) is None and not os.path.exists('/usr/sbin/' + tool):
            skip('%s is not installed (see tests/install-deps.sh)' % tool)
    if not os.path.exists('/bin/busybox'):
        skip('busybox-static is not installed (see tests/install-deps.sh)')
    import grp
    import pwd
    try:
        pwd.getpwnam('libvirt-qemu')
        grp.getgrnam('libvirt-qemu')
    except KeyError:
        skip('libvirt-qemu user/group missing: run tests/install-deps.sh')


preflight()
sys.path.insert(0, HERE)
import ptharness as H  # noqa: E402

H.ensure_private_namespace()

BUILDDIR = os.path.abspath(sys.argv[1])
LOGDIR = os.path.join(BUILDDIR, 'harness-smoke')
KITDIR = os.path.join(BUILDDIR, 'guest-kit')
MiB = 1024 * 1024
timings = {}


def check(cond, msg):
    if not cond:
        raise H.HarnessError(msg)


def main():
    os.makedirs(LOGDIR, exist_ok=True)

    # 1. The namespace really is private.
    outer, me, init = H.namespace_info()
    print('mount namespaces: outer %s, ours %s, PID 1 %s' % (outer, me, init or 'unreadable'))
    check(me != outer, 'still in the outer mount namespace')
    check(init is None or init != me, 'same mount namespace as PID 1')
    H.assert_private()

    # 2. Guest kit (cached).
    t0 = time.monotonic()
    try:
        kit = H.GuestKit(KITDIR)
    except (H.HarnessError, OSError) as e:
        skip('cannot build the guest kit (network/apt?): %s' % e)
    timings['guest kit (%s)' % ('built' if kit.built else 'cached')] = time.monotonic() - t0
    print('guest kit: kernel %s in %s' % (kit.version, KITDIR))

    with H.Libvirtd(log_dir=LOGDIR, caps_cache=os.path.join(KITDIR, 'qemu-caps')) as virt:
        timings['libvirtd start'] = virt.startup_seconds
        try:
            linux_guest(kit)
            firmware_guest()
        except BaseException:
            print('--- libvirtd log tail ---\n' + virt.log_tail())
            raise


def linux_guest(kit):
    # 3. A TCG Linux guest boots to PT-READY and reports no disks.
    name = 'pt-smoke-linux'
    g = H.Guest(name, os.path.join(LOGDIR, name + '-serial.log'))
    with g:
        g.define_and_start(H.linux_guest_xml(name, g.log_path, kit=kit))
        timings['linux guest boot to PT-READY'] = g.wait_ready(180)
        check(g.disks() == {}, 'fresh guest reports disks: %r' % g.disks())

        # 4. Hot-plug a loop device with a serial: the guest sees it.
        with H.LoopDisk(64) as disk:
            xml = ('<disk type=\'block\' device=\'disk\'>'
                   '<driver name=\'qemu\' type=\'raw\' cache=\'none\' io=\'native\'/>'
                   '<source dev=\'%s\'/><target dev=\'vdb\' bus=\'virtio\'/>'
                   '<serial>smoke1</serial></disk>' % disk.dev)
            t0 = time.monotonic()
            timings['attach call'] = g.attach(xml)
            seen = g.wait_disks(lambda d: any(s == 'smoke1' for s, _ in d.values()), 30,
                                what='serial smoke1 in the guest')
            timings['attach seen by guest'] = time.monotonic() - t0
            gname, size = g.serial_disk('smoke1')
            print('guest sees %s as %s (serial smoke1, %d bytes); report %r'
                  % (disk.dev, gname, size, seen))
            check(size == 64 * MiB, 'guest size %d != %d' % (size, 64 * MiB))
            check('smoke1' in g.live_xml(), 'disk missing from live XML after attach')

            # 5. Detach: the guest lets go, libvirt drops the disk.
            t0 = time.monotonic()
            timings['detach call'] = g.detach(xml)
            g.wait_disks(lambda d: all(s != 'smoke1' for s, _ in d.values()), 30,
                         what='smoke1 gone from the guest')
            timings['detach seen by guest'] = time.monotonic() - t0
            check('smoke1' not in g.live_xml(), 'disk still in live XML after detach')


def firmware_guest():
    # 6. Firmware only: attach works, the unplug is never acknowledged.
    name = 'pt-smoke-fw'
    g = H.Guest(name)
    with g:
        t0 = time.monotonic()
        g.define_and_start(H.firmware_guest_xml(name))
        timings['firmware guest start'] = time.monotonic() - t0
        with H.LoopDisk(16) as disk:
            xml = H.disk_xml(disk.dev, 'vdb', 'smoke2')
            timings['firmware attach call'] = g.attach(xml)
            check('smoke2' in g.live_xml(), 'disk missing from live XML after attach')
            t0 = time.monotonic()
            try:
                g.detach(xml)
                how = 'returned success'
            except H.HarnessError as e:
                how = 'returned an error (%s)' % str(e).splitlines()[0]
            timings['firmware detach call returns'] = time.monotonic() - t0
            print('firmware detach-device %s' % how)
            check('smoke2' in g.live_xml(),
                  'firmware guest let go of the disk: detach should not complete')
            g.destroy()      # QEMU lets go of the loop device before cleanup


if __name__ == '__main__':
    t_all = time.monotonic()
    try:
        main()
    except H.HarnessError as e:
        fail(str(e))
    timings['total (inside namespace)'] = time.monotonic() - t_all
    print('timings:')
    for k, v in timings.items():
        print('  %-32s %7.2f s' % (k, v))
    print('PASS')

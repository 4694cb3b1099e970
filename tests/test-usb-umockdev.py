#!/usr/bin/python3
"""passthroughd's USB support against a umockdev testbed.

    /usr/bin/python3 tests/test-usb-umockdev.py BUILDDIR [unittest args]

The host has no USB bus, so passthroughd runs with a umockdev testbed
(LD_PRELOAD + UMOCKDEV_DIR given to it alone): a root hub, a hub, two sticks
of one model with different serials, a tablet without a serial and a device
with hostile strings. Around it, as in test-service.py: a private bus with our
bus policy, the polkit mock, a private libvirtd and a firmware-only guest.
Checked: ListUsbDevices (keys, types, Ids, cleaned strings), every device
string form (AttachUsb with polkit denying shows in the mock's recorded
details which device a string resolved to), the errors raised before polkit,
AttachedTo/AlreadyAttached/ListAttached/DetachUsb against libvirt's test
driver holding hostdevs, and DeviceAdded/DeviceRemoved following uevents.
Assignments: Assign/Unassign/ListAssignments with polkit, the state file
(persistence across restarts, a corrupt file kept aside, concurrent calls),
automatic attaches triggered by a uevent, a domain start, Assign and the
service start (libvirtd does not see the testbed, so each ends in
AutoAttachFailed with libvirt's message: the trigger is what is proven here;
the lab attaches real devices), dry runs (AttachUsb, AttachAll, DetachAll)
and the exit when idle.

Needs root (private mount namespace, libvirtd); exits 77 with the reason
otherwise. The driver runs under umockdev-wrapper (re-executing itself) so
that it can send uevents; the daemons it starts do not see the testbed.
"""

import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

import ptumock as U  # beside this script

SKIP = 77
HERE = os.path.dirname(os.path.abspath(__file__))


def skip(reason):
    print('SKIP: %s' % reason)
    sys.exit(SKIP)


def preflight():
    if len(sys.argv) < 2:
        sys.exit('usage: test-usb-umockdev.py BUILDDIR [unittest args]')
    if os.geteuid() != 0:
        skip('needs root: a private mount namespace and a private libvirtd')
    for tool in ('umockdev-wrapper', 'libvirtd', 'qemu-system-x86_64', 'dbus-daemon', 'busctl'):
        if not shutil.which(tool) and not os.path.exists('/usr/sbin/' + tool):
            skip('%s is not installed (run tests/install-deps.sh)' % tool)
    try:
        import gi
        gi.require_version('UMockdev', '1.0')
        from gi.repository import UMockdev  # noqa: F401
    except (ImportError, ValueError) as e:
        skip('umockdev for Python is missing (gir1.2-umockdev-1.0): %s' % e)
    U.reexec_with_preload()


preflight()
sys.path.insert(0, HERE)
import ptharness as H  # noqa: E402
from ptworld import ERR, World, args3, gv, opts  # noqa: E402

import gi  # noqa: E402
gi.require_version('UMockdev', '1.0')
from gi.repository import UMockdev  # noqa: E402

ATTACH_USB = 'org.example.passthrough1.attach-usb'
DETACH = 'org.example.passthrough1.detach'
MANAGE = 'org.example.passthrough1.manage-assignments'
ATTACH_DISK = 'org.example.passthrough1.attach-disk'
ATTACH_RAWIO = 'org.example.passthrough1.attach-disk-rawio'
ASSIGN = [MANAGE, ATTACH_USB, ATTACH_DISK]   # Assign checks both: managing, and attaching the kind
VM = 'pt-usbvm'
W = None
TB = None
HOSTILE_SERIAL = "'/><x\x01\x1b\x7f"
HOSTILE_PRODUCT = b"Caf\xc3\xa9 \xff\x1b[2J Stick\n"
NODE_XML = '''<node>
  <domain type='test'>
    <name>pt-holder</name>
    <memory>65536</memory>
    <os><type>hvm</type></os>
    <devices>
      <hostdev mode='subsystem' type='usb' managed='yes'>
        <source><vendor id='0x46f4'/><product id='0x0001'/><address bus='1' device='4'/></source>
        <alias name='ua-pt-usb-1-1_2'/>
      </hostdev>
      <hostdev mode='subsystem' type='usb' managed='yes'>
        <source><vendor id='0xdead'/><product id='0xbeef'/><address bus='1' device='99'/></source>
        <alias name='ua-pt-usb-1-7'/>
      </hostdev>
    </devices>
  </domain>
</node>
'''


def add_usb(*args, **kwargs):
    return U.add_usb(TB, *args, **kwargs)


def build_testbed():
    global TB
    TB = UMockdev.Testbed.new()
    root = add_usb(None, '1-0', 1, '1d6b:0002', serial='0000:00:14.0', hub=True, product='xHCI Host Controller')
    hub = add_usb(root, '1-1', 2, '05e3:0608', hub=True, product='USB2.0 Hub')
    add_usb(hub, '1-1.1', 3, '46f4:0001', serial='SN-A', product='QEMU USB HARDDRIVE', manufacturer='QEMU')
    add_usb(hub, '1-1.2', 4, '46f4:0001', serial='SN-B', product='QEMU USB HARDDRIVE', manufacturer='QEMU')
    add_usb(root, '1-2', 5, '0627:0001', product='QEMU USB Tablet')
    evil = add_usb(root, '1-3', 6, 'abcd:ef01', serial=HOSTILE_SERIAL, manufacturer='M' * 4096)
    TB.set_attribute_binary(evil, 'product', HOSTILE_PRODUCT)
    return root, hub


def hide_udevd():
    """With systemd-udevd running (/run/udev/control), passthroughd listens to
    udevd's events, which umockdev cannot send: its uevents reach a monitor
    the way the kernel's do. Hide udevd from passthroughd in this private
    namespace so that it takes the kernel's events, as on a host without
    udevd (the lab covers udevd's events with real devices)."""
    if os.path.exists('/run/udev/control'):
        H.assert_private()
        H.run(['mount', '-t', 'tmpfs', '-o', 'mode=0755', 'pt-no-udevd', '/run/udev'])


def setUpModule():
    global W, ROOT
    hide_udevd()
    ROOT, _ = build_testbed()
    env = {'LD_PRELOAD': U.PRELOAD, 'UMOCKDEV_DIR': TB.get_root_dir()}
    if 'ASAN_OPTIONS' in os.environ:
        # ASan wants to come first among the libraries; the preload is first.
        env['ASAN_OPTIONS'] = os.environ['ASAN_OPTIONS'] + ':verify_asan_link_order=0'
    W = World(BUILDDIR, guests=('off',), service_env=env).start()
    # A firmware-only guest with a USB controller (the harness's has none).
    xml = H.firmware_guest_xml(VM).replace("<controller type='usb' model='none'/>",
                                           "<controller type='usb' model='qemu-xhci'/>")
    W.guests['usb'] = H.Guest(VM).define_and_start(xml)


def tearDownModule():
    if W:
        W.stop()


def list_usb_typed():
    """ListUsbDevices through busctl --json: {Id: {key: (type, value)}}."""
    p = subprocess.run(['busctl', '--address', W.bus.address, '--json=short', 'call',
                        'org.example.Passthrough1', '/org/example/Passthrough1',
                        'org.example.Passthrough1', 'ListUsbDevices'],
                       capture_output=True, text=True, check=True)
    rows = json.loads(p.stdout)['data'][0]
    return {r['Id']['data']: {k: (v['type'], v['data']) for k, v in r.items()} for r in rows}


def list_usb():
    r = W.call('ListUsbDevices')
    assert 'result' in r, r
    return {d['Id']: d for d in r['result'][0]}


class Base(unittest.TestCase):
    def setUp(self):
        W.polkit.set_allowed([])
        W.polkit.set_challenge([])
        W.polkit.clear_calls()

    def assertError(self, reply, name, in_message=None):
        self.assertIn('error', reply, 'expected %s, got %s' % (name, reply))
        self.assertEqual(reply['error'], name, reply.get('message'))
        if in_message:
            self.assertIn(in_message, reply['message'])


class TestListing(Base):
    def test_devices_keys_and_types(self):
        devices = list_usb_typed()
        self.assertEqual(sorted(devices), sorted([
            '1d6b:0002:0000:00:14.0', '05e3:0608@1-1', '46f4:0001:SN-A', '46f4:0001:SN-B',
            '0627:0001@1-2', "abcd:ef01:'/><x"]))
        # The keys of the UsbDevice objects (the live model answers both).
        types = {'Id': 's', 'Bus': 'u', 'Device': 'u', 'Port': 's', 'VendorId': 's', 'ProductId': 's',
                 'Serial': 's', 'Manufacturer': 's', 'Product': 's', 'IsHub': 'b', 'AttachedTo': 's',
                 'State': 's', 'StateReason': 's', 'AttachedBy': 's', 'Disks': 'ao'}
        for dev in devices.values():
            self.assertEqual({k: t for k, (t, _) in dev.items()}, types)
        stick = {k: v for k, (_, v) in devices['46f4:0001:SN-B'].items()}
        self.assertEqual(stick, {
            'Id': '46f4:0001:SN-B', 'Bus': 1, 'Device': 4, 'Port': '1-1.2', 'VendorId': '46f4',
            'ProductId': '0001', 'Serial': 'SN-B', 'Manufacturer': 'QEMU', 'Product': 'QEMU USB HARDDRIVE',
            'IsHub': False, 'AttachedTo': '', 'State': 'free', 'StateReason': '', 'AttachedBy': '', 'Disks': []})
        self.assertEqual(devices['05e3:0608@1-1']['State'][1], 'unavailable')
        self.assertTrue(devices['05e3:0608@1-1']['IsHub'][1])
        self.assertTrue(devices['1d6b:0002:0000:00:14.0']['IsHub'][1])
        self.assertEqual(devices['1d6b:0002:0000:00:14.0']['Port'][1], '1-0')
        self.assertEqual(devices['0627:0001@1-2']['Serial'][1], '')

    def test_names_the_device_does_not_give_come_from_hwdb(self):
        """A device without a manufacturer string gets the USB ID database's name (as
        lsusb shows it), its own product name stays; passthroughctl usb-list shows them
        under VENDOR and PRODUCT, vendor:product under ID and the Id under DEVICE-ID."""
        q = subprocess.run(['systemd-hwdb', 'query', 'usb:v0627p0001'], capture_output=True, text=True)
        hwdb = dict(line.split('=', 1) for line in q.stdout.splitlines() if '=' in line)
        if 'ID_VENDOR_FROM_DATABASE' not in hwdb:
            self.skipTest('no USB ID database (hwdb.bin) names vendor 0627')
        vendor = hwdb['ID_VENDOR_FROM_DATABASE']
        tablet = list_usb()['0627:0001@1-2']
        self.assertEqual((tablet['Manufacturer'], tablet['Product']), (vendor, 'QEMU USB Tablet'))
        p = W.ctl('--raw', '--noheadings', '-o', 'ID,VENDOR,PRODUCT,DEVICE-ID', 'usb-list')
        self.assertEqual(p.returncode, 0, p.stderr)
        rows = [line for line in p.stdout.splitlines() if line.endswith(' 0627:0001@1-2')]
        self.assertEqual(rows, ['0627:0001 %s QEMU\\x20USB\\x20Tablet 0627:0001@1-2' % vendor.replace(' ', '\\x20')])

    def test_hostile_strings_are_cleaned(self):
        evil = list_usb()["abcd:ef01:'/><x"]
        self.assertEqual(evil['Serial'], "'/><x")
        self.assertEqual(evil['Product'], 'Caf [2J Stick')
        self.assertEqual(evil['Manufacturer'], 'M' * 128)
        for dev in list_usb().values():
            for key in ('Id', 'Serial', 'Manufacturer', 'Product', 'Port'):
                self.assertRegex(dev[key], r'^[\x20-\x7e]*$', key)
                self.assertLessEqual(len(dev[key]), 150, key)


class TestDeviceStrings(Base):
    """Which device each form names: with polkit denying, the details the
    service sent to polkit say what it resolved (and nothing is attached)."""

    def resolved_port(self, spec):
        W.polkit.clear_calls()
        r = W.call('AttachUsb', args3(VM, spec))
        self.assertError(r, ERR + 'NotAuthorized')
        calls = W.polkit.calls()
        self.assertEqual([c['action_id'] for c in calls], [ATTACH_USB], spec)
        return calls[0]['details']

    def test_every_form_resolves(self):
        forms = {
            'SN-B': '1-1.2',                    # serial
            '1:3': '1-1.1',                     # bus:dev
            '001:005': '1-2',                   # bus:dev as lsusb prints it
            '1-1.2': '1-1.2',                   # port
            '0627:0001': '1-2',                 # the only such vendor:product
            '46f4:0001:SN-A': '1-1.1',          # Id, serial form
            '0627:0001@1-2': '1-2',             # Id, port form
            "abcd:ef01:'/><x": '1-3',           # Id with a (cleaned) hostile serial
            "'/><x": '1-3',                     # the cleaned hostile serial
        }
        for spec, port in forms.items():
            self.assertEqual(self.resolved_port(spec)['device.port'], port, spec)

    def test_polkit_details(self):
        uuid = H.virsh('domuuid', VM).stdout.strip()
        details = self.resolved_port('SN-A')
        self.assertEqual(details, {
            'domain': VM, 'domain.uuid': uuid, 'device': '46f4:0001:SN-A', 'device.port': '1-1.1',
            'device.vendor': '46f4', 'device.product': '0001', 'device.serial': 'SN-A',
            'device.name': 'QEMU USB HARDDRIVE (USB 1-1.1)'})      # the prompt's name: no repeated maker
        tablet = self.resolved_port('0627:0001')
        self.assertNotIn('device.serial', tablet)     # none to give
        # No manufacturer string: hwdb's vendor name where the machine has one.
        self.assertRegex(tablet['device.name'], r'^(.+ )?QEMU USB Tablet \(USB 1-2\)$')

    def test_errors_before_polkit(self):
        cases = [
            ('46f4:0001', 'AmbiguousDevice', '46f4:0001:SN-A'),
            ('1-1', 'InvalidArgument', 'hub'),
            ('1-0', 'InvalidArgument', 'root hub'),
            ('1d6b:0002', 'InvalidArgument', 'root hub'),
            ('NOPE', 'NoSuchDevice', 'NOPE'),
            ('9:9', 'NoSuchDevice', None),
            ('1-9', 'NoSuchDevice', None),
            ('sn-a', 'NoSuchDevice', None),
            ('', 'InvalidArgument', None),
            ('SN-A\x01', 'InvalidArgument', None),
            ('x' * 4096, 'InvalidArgument', None),
        ]
        for spec, error, text in cases:
            r = W.call('AttachUsb', args3(VM, spec))
            self.assertError(r, ERR + error, text)
        r = W.call('AttachUsb', args3(VM, '46f4:0001'))
        self.assertIn('46f4:0001:SN-B', r['message'])
        for kw in ({'bogus': 'x'}, {'timeout_ms': 5}, {'name': 'x'}):
            self.assertError(W.call('AttachUsb', args3(VM, 'SN-A', **kw)), ERR + 'InvalidArgument')
        self.assertError(W.call('DetachUsb', args3(VM, 'SN-A', target='vdb')), ERR + 'InvalidArgument')
        self.assertError(W.call('AttachUsb', args3('no-such-vm', 'SN-A')), ERR + 'NoSuchDomain')
        self.assertError(W.call('AttachUsb', args3('pt-off', 'SN-A')), ERR + 'DomainNotRunning')
        self.assertError(W.call('DetachUsb', args3(VM, 'SN-A')), ERR + 'NotAttached')
        self.assertEqual(W.polkit.calls(), [], 'refused before polkit')

    def test_allowed_attach_reaches_libvirt(self):
        # libvirtd does not see the testbed: it takes the hostdev XML, then
        # looks for the device on the real host (no /sys/bus/usb here, or no
        # such device) by ids and address.
        W.polkit.set_allowed([ATTACH_USB])
        r = W.call('AttachUsb', args3(VM, 'SN-A'))
        self.assertError(r, ERR + 'Failed', 'libvirt could not attach')
        self.assertRegex(r['message'], r"'/sys/bus/usb/devices'|USB device 46f4:0*1 bus:0*1 device:0*3")
        self.assertNotIn('<hostdev', H.virsh('dumpxml', VM).stdout)


class TestHeldByDomain(Base):
    """libvirt's test driver (test:///NODE.xml) keeps a running domain holding
    the stick 1-1.2 (bus 1 device 4) and a device no longer plugged in (1-7)."""

    @classmethod
    def setUpClass(cls):
        cls.node = os.path.join(tempfile.mkdtemp(prefix='pt-node-', dir=W.tmp), 'node.xml')
        with open(cls.node, 'w') as f:
            f.write(NODE_XML)
        W.stop_service()
        W.start_service(extra_args=['--connect', 'test://' + cls.node])

    @classmethod
    def tearDownClass(cls):
        W.stop_service()
        W.start_service()

    def test_attached_to(self):
        devices = list_usb()
        self.assertEqual(devices['46f4:0001:SN-B']['AttachedTo'], 'pt-holder')
        self.assertEqual(devices['46f4:0001:SN-A']['AttachedTo'], '')

    def test_already_attached(self):
        r = W.call('AttachUsb', args3('pt-holder', '1-1.2'))
        self.assertError(r, ERR + 'AlreadyAttached', 'pt-holder')
        self.assertEqual(W.polkit.calls(), [])

    def test_list_attached_gives_ids(self):
        r = W.call('ListAttached', "(%s,)" % gv('pt-holder'))
        entries = sorted((e['Kind'], e['Id'], e['Source'], e['Target']) for e in r['result'][0])
        self.assertEqual(entries, [('usb', '46f4:0001:SN-B', '1:4', 'ua-pt-usb-1-1_2'),
                                   ('usb', 'dead:beef', '1:99', 'ua-pt-usb-1-7')])

    def test_detach_finds_the_hostdev(self):
        self.assertError(W.call('DetachUsb', args3('pt-holder', 'SN-A')), ERR + 'NotAttached')
        self.assertEqual(W.polkit.calls(), [])
        # Found (by address and ids); the test driver cannot detach.
        W.polkit.set_allowed([DETACH])
        r = W.call('DetachUsb', args3('pt-holder', 'SN-B', timeout_ms=5000))
        self.assertError(r, ERR + 'Failed', 'not supported')
        calls = W.polkit.calls()
        self.assertEqual([c['action_id'] for c in calls], [DETACH])
        self.assertEqual(calls[0]['details']['device'], '46f4:0001:SN-B')

    def test_detach_unplugged_device_by_port(self):
        for spec in ('1-7', 'dead:beef@1-7'):
            W.polkit.clear_calls()
            self.assertError(W.call('DetachUsb', args3('pt-holder', spec)), ERR + 'NotAuthorized')
            details = W.polkit.calls()[0]['details']
            self.assertEqual((details['device'], details['device.port']), (spec, '1-7'))
            self.assertEqual(details['device.name'], 'USB 1-7')
        self.assertError(W.call('DetachUsb', args3('pt-holder', '1-8')), ERR + 'NotAttached', 'port 1-8')

    def test_stale_entry_needs_its_node_gone(self):
        # 1-7 (bus 1 device 99) is not in sysfs. While /dev/bus/usb/001/099
        # exists (sysfs may have failed to read it) its entry stays.
        what = '(ua-pt-usb-1-7) from VM'       # the audit line: removed, or its removal failed

        def restart():
            W.stop_service()
            W.start_service(extra_args=['--connect', 'test://' + self.node])
        before = W.service_log().count(what)
        TB.add_from_string('P: /devices/pt-node99\nN: bus/usb/001/099\nE: SUBSYSTEM=usbmisc\n'
                           'E: DEVNAME=/dev/bus/usb/001/099\n')
        try:
            restart()
            time.sleep(2)
            self.assertEqual(W.service_log().count(what), before)
        finally:
            os.unlink(os.path.join(TB.get_root_dir(), 'dev/bus/usb/001/099'))
            TB.remove_device('/sys/devices/pt-node99')
        restart()
        H.wait_for(lambda: W.service_log().count(what) > before, 15, what='the stale entry removed')

    def test_assigned_and_held_detach_all_dry_run(self):
        W.polkit.set_allowed(ASSIGN + [DETACH])
        self.assertEqual(W.call('Assign', args3('SN-B', 'pt-holder')), {'result': []})
        try:
            entry = assignments()['usb:serial=SN-B,id=46f4:0001']
            self.assertEqual((entry['Present'], entry['Attached']), (True, True))
            W.polkit.clear_calls()
            rows = all_results('DetachAll', 'pt-holder', dry_run=True)
            self.assertEqual(rows['usb:serial=SN-B,id=46f4:0001']['Result'], 'would detach')
            xml = rows['usb:serial=SN-B,id=46f4:0001']['Xml']
            self.assertIn("<alias name=\"ua-pt-usb-1-1_2\"/>", xml)
            self.assertIn('<address bus="1" device="4"/>', xml)
            self.assertEqual([c['action_id'] for c in W.polkit.calls()], [DETACH])
            rows = all_results('AttachAll', 'pt-holder')
            self.assertEqual(rows['usb:serial=SN-B,id=46f4:0001']['Result'], 'already attached')
        finally:
            unassign_all()


class TestHotplug(Base):
    def signals_since(self, start):
        return [s for s in W.signals.signals()[start:] if s[0] in ('DeviceAdded', 'DeviceRemoved')]

    def wait_signals(self, start, expected):
        H.wait_for(lambda: len(self.signals_since(start)) >= len(expected), 10,
                   what='signals %s' % (expected,))
        self.assertEqual(self.signals_since(start), expected)

    def unplug(self, path):
        # The kernel sends "remove" while sysfs still shows the device.
        TB.uevent(path, 'remove')
        TB.remove_device(path)

    def test_usb_added_and_removed_with_ids(self):
        n = len(W.signals.signals())
        c = add_usb(ROOT, '1-4', 7, '46f4:0001', serial='SN-C')
        self.wait_signals(n, [('DeviceAdded', ['usb', '46f4:0001:SN-C'])])
        self.assertIn('46f4:0001:SN-C', list_usb())

        # A second SN-C: its serial is not unique, so it is named by its port;
        # the first keeps its Id while it stays (Ids are decided on arrival).
        n = len(W.signals.signals())
        d = add_usb(ROOT, '1-5', 8, '46f4:0001', serial='SN-C')
        self.wait_signals(n, [('DeviceAdded', ['usb', '46f4:0001@1-5'])])
        self.assertLessEqual({'46f4:0001:SN-C', '46f4:0001@1-5'}, set(list_usb()))

        n = len(W.signals.signals())
        self.unplug(d)
        self.wait_signals(n, [('DeviceRemoved', ['usb', '46f4:0001@1-5'])])
        n = len(W.signals.signals())
        self.unplug(c)
        self.wait_signals(n, [('DeviceRemoved', ['usb', '46f4:0001:SN-C'])])
        self.assertNotIn('46f4:0001:SN-C', list_usb())

    def test_change_event_changes_nothing(self):
        n = len(W.signals.signals())
        TB.uevent(ROOT, 'change')
        dev = add_usb(ROOT, '1-6', 9, 'cafe:0001', serial='SN-Z')   # a marker after the change
        H.wait_for(lambda: [s for s in self.signals_since(n) if s[0] == 'DeviceAdded'], 10,
                   what='the marker device')
        # The rescan the change event causes may catch the marker half-created
        # (umockdev writes its serial after the device: cafe:0001@1-6); an Id is
        # decided when a device is first seen and kept. It must say nothing
        # about any device that was already there.
        others = [s for s in self.signals_since(n) if not s[1][1].startswith('cafe:0001')]
        self.assertEqual(others, [])
        added = [s for s in self.signals_since(n) if s[0] == 'DeviceAdded']
        self.assertEqual(len(added), 1, added)
        self.assertIn(added[0][1][1], ('cafe:0001:SN-Z', 'cafe:0001@1-6'))
        n = len(W.signals.signals())
        self.unplug(dev)
        self.wait_signals(n, [('DeviceRemoved', ['usb', added[0][1][1]])])

    def test_disk_added_and_removed(self):
        n = len(W.signals.signals())
        disk = TB.add_device('block', 'sdx', None, ['size', '2048', 'removable', '1', 'ro', '0'],
                             ['DEVTYPE', 'disk', 'DEVNAME', '/dev/sdx', 'MAJOR', '8', 'MINOR', '240'])
        self.wait_signals(n, [('DeviceAdded', ['disk', 'sdx'])])
        n = len(W.signals.signals())
        self.unplug(disk)
        self.wait_signals(n, [('DeviceRemoved', ['disk', 'sdx'])])


class TestScsiDisk(Base):
    """A SCSI disk (sd*, only the testbed has one here): it may be a LUN, and
    rawio is a polkit action of its own, asked after attach-disk."""

    serial = 0

    def setUp(self):
        super().setUp()
        # A fresh name each time: the testbed keeps /sys/block links of removed devices.
        TestScsiDisk.serial += 1
        self.name = 'sdt' + 'abcdefghij'[TestScsiDisk.serial]
        self.sd = TB.add_device('block', self.name, None, ['size', '2048', 'removable', '1', 'ro', '0',
                                                           'queue/rotational', '0'],
                                ['DEVTYPE', 'disk', 'DEVNAME', '/dev/' + self.name, 'MAJOR', '65',
                                 'MINOR', str(48 + TestScsiDisk.serial)])

    def tearDown(self):
        unplug(self.sd)

    def test_modes_and_rotational(self):
        def entry():
            return [d for d in W.call('ListDisks', user=None)['result'][0] if d['Name'] == self.name]
        d = H.wait_for(entry, 10, what=self.name + ' in ListDisks')[0]
        self.assertEqual((d['Buses'], d['Modes'], d['Rotational']), (['virtio', 'scsi'], ['disk', 'lun'], False))

    def test_rawio_without_its_action_is_not_authorized(self):
        W.polkit.set_allowed([ATTACH_DISK])
        r = W.call('AttachDisk', args3(VM, self.name, mode='lun', rawio=True))
        self.assertError(r, ERR + 'NotAuthorized')
        calls = W.polkit.calls()
        self.assertEqual([c['action_id'] for c in calls], [ATTACH_DISK, ATTACH_RAWIO])
        self.assertEqual(calls[1]['details']['device'], '/dev/' + self.name)
        self.assertNotIn('/dev/' + self.name, H.virsh('dumpxml', VM).stdout)

    def test_prompt_names_the_disk_as_a_person_knows_it(self):
        name = 'sdu' + 'abcdefghij'[TestScsiDisk.serial]
        stick = TB.add_device('block', name, None, ['size', str(62333952), 'removable', '1', 'ro', '0'],
                              ['DEVTYPE', 'disk', 'DEVNAME', '/dev/' + name, 'MAJOR', '65',
                               'MINOR', str(96 + TestScsiDisk.serial), 'ID_VENDOR', 'SanDisk', 'ID_MODEL', 'Ultra',
                               'ID_SERIAL_SHORT', '4C530001'])
        try:
            r = W.call('AttachDisk', args3(VM, name))
            self.assertError(r, ERR + 'NotAuthorized')
            details = W.polkit.calls()[0]['details']
            self.assertEqual(details['device.name'], 'SanDisk Ultra 32 GB (/dev/%s)' % name)
            # The keys rules use stay as they were.
            self.assertEqual((details['domain'], details['device'], details['device.model'], details['device.serial']),
                             (VM, '/dev/' + name, 'Ultra', '4C530001'))
        finally:
            unplug(stick)

    def test_name_with_lun_is_refused_before_polkit(self):
        W.polkit.set_allowed([ATTACH_DISK, ATTACH_RAWIO])
        r = W.call('AttachDisk', args3(VM, self.name, mode='lun', name='x'))
        self.assertError(r, ERR + 'InvalidArgument', "'name'")
        self.assertEqual(W.polkit.calls(), [])


# ---- assignments ----------------------------------------------------------

def assignments():
    r = W.call('ListAssignments', user=None)
    assert 'result' in r, r
    return {a['Match']: a for a in r['result'][0]}


def unassign_all():
    for match in assignments():
        r = W.call('Unassign', '(%s, @a{sv} {})' % gv(match), user=None)
        assert r == {'result': []}, r


def all_results(method, domain, user='pt-tester', **kw):
    """AttachAll/DetachAll results by Match."""
    r = W.call(method, '(%s, %s)' % (gv(domain), opts(**kw)), user=user)
    assert 'result' in r, r
    return {row['Match']: row for row in r['result'][0]}


def state_file():
    return os.path.join(W.state_dir, 'assignments.conf')


def auto_failures(start):
    return [args for member, args in W.signals.signals()[start:] if member == 'AutoAttachFailed']


def wait_auto_failure(start, domain, device_id, timeout=30):
    def found():
        return [a for a in auto_failures(start) if a[0] == domain and a[2] == device_id]
    return H.wait_for(found, timeout, what='AutoAttachFailed(%s, %s)' % (domain, device_id))[0]


def unplug(path):
    # The kernel sends "remove" while sysfs still shows the device.
    TB.uevent(path, 'remove')
    TB.remove_device(path)


def live_hostdevs(domain):
    return H.virsh('dumpxml', domain).stdout.count('<hostdev')


class AssignBase(Base):
    def tearDown(self):
        unassign_all()

    def assign(self, device, domain, **kw):
        r = W.call('Assign', args3(device, domain, **kw))
        self.assertEqual(r, {'result': []})


class TestObjects(AssignBase):
    """The live model's UsbDevice and Assignment objects."""

    def test_plug_and_unplug_are_objects_coming_and_going(self):
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        from ptmirror import Mirror
        m = Mirror(W.bus.address)
        try:
            dev = add_usb(ROOT, '1-7', 11, 'cafe:0002', serial='SN-OBJ', product='Object Stick')
            path = '/org/example/Passthrough1/usb/cafe_3a0002_3aSN_2dOBJ'
            m.wait(lambda m: path in m.objects, 10, 'InterfacesAdded for the stick')
            props = m.objects[path]['org.example.Passthrough1.UsbDevice']
            self.assertEqual((props['Id'], props['Port'], props['Product'], props['State']),
                             ('cafe:0002:SN-OBJ', '1-7', 'Object Stick', 'free'))
            self.assertIn(('added', path, ['org.example.Passthrough1.UsbDevice']), [e[1:] for e in m.events])
            self.unplug(dev)
            m.wait(lambda m: path not in m.objects, 10, 'InterfacesRemoved for the stick')
        finally:
            m.close()

    def unplug(self, path):
        TB.uevent(path, 'remove')
        TB.remove_device(path)

    def test_assignment_object_follows_assign_and_delete(self):
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        from ptmirror import Mirror
        m = Mirror(W.bus.address)
        try:
            usb_path, usb = m.find('org.example.Passthrough1.UsbDevice', 'Serial', 'SN-A')
            self.assertEqual((usb['Id'], usb['State']), ('46f4:0001:SN-A', 'free'))
            W.polkit.set_allowed(ASSIGN)
            self.assign('usb:serial=SN-A', 'pt-off')
            path = '/org/example/Passthrough1/assignment/usb_3aserial_3dSN_2dA'
            m.wait(lambda m: path in m.objects, 10, 'the Assignment object')
            from ptworld import contract, interface_shape, introspect
            for p, name in ((usb_path, 'org.example.Passthrough1.UsbDevice'),
                            (path, 'org.example.Passthrough1.Assignment')):
                self.assertEqual(interface_shape(introspect(W.bus.address, p), name),
                                 interface_shape(contract(), name))
            a = m.objects[path]['org.example.Passthrough1.Assignment']
            self.assertEqual((a['Match'], a['Kind'], a['Domain'], a['Present'], a['Attached'], a['LastError']),
                             ('usb:serial=SN-A', 'usb', 'pt-off', True, False, ''))
            p = H.run_as('pt-tester', ['busctl', 'call', 'org.example.Passthrough1', path,
                                       'org.example.Passthrough1.Assignment', 'Delete', 'a{sv}', '0'],
                         bus_address=W.bus.address)
            self.assertEqual(p.returncode, 0, p.stderr)
            m.wait(lambda m: path not in m.objects, 10, 'the Assignment object gone')
            self.assertEqual(assignments(), {})
            self.assertIn(MANAGE, [c['action_id'] for c in W.polkit.calls()][-1:])
        finally:
            m.close()


class TestAssign(AssignBase):
    def test_denied_changes_nothing(self):
        r = W.call('Assign', args3('SN-A', 'pt-off'))
        self.assertError(r, ERR + 'NotAuthorized')
        calls = W.polkit.calls()
        self.assertEqual([c['action_id'] for c in calls], [MANAGE])
        uuid = H.virsh('domuuid', 'pt-off').stdout.strip()
        self.assertEqual(calls[0]['details'], {
            'domain': 'pt-off', 'domain.uuid': uuid, 'device': 'usb:serial=SN-A,id=46f4:0001', 'device.kind': 'usb',
            'device.vendor': '46f4', 'device.product': '0001', 'device.serial': 'SN-A',
            'device.name': 'QEMU USB HARDDRIVE (USB 1-1.1)'})
        self.assertEqual(assignments(), {})

    def test_details_are_what_the_match_covers(self):
        # A port match covers any device in that port: no serial of the one plugged in now.
        W.polkit.set_allowed([MANAGE])
        uuid = H.virsh('domuuid', 'pt-off').stdout.strip()
        r = W.call('Assign', args3('usb:port=1-1.1', 'pt-off'))
        self.assertError(r, ERR + 'NotAuthorized')
        calls = W.polkit.calls()
        self.assertEqual([c['action_id'] for c in calls], [MANAGE, ATTACH_USB])
        want = {'domain': 'pt-off', 'domain.uuid': uuid, 'device': 'usb:port=1-1.1', 'device.kind': 'usb',
                'device.port': '1-1.1', 'device.name': 'usb:port=1-1.1'}
        self.assertEqual([c['details'] for c in calls], [want, want])
        self.assertEqual(assignments(), {})
        W.polkit.clear_calls()
        self.assertError(W.call('Assign', args3('usb:id=0627:0001', 'pt-off')), ERR + 'NotAuthorized')
        self.assertEqual(W.polkit.calls()[1]['details']['device.vendor'], '0627')
        self.assertEqual(W.polkit.calls()[1]['details']['device.name'], 'usb:id=0627:0001')
        self.assertNotIn('device.port', W.polkit.calls()[1]['details'])
        # A present device without a serial is assigned by its port: the prompt
        # shows the match (anything in that port will be given), then this device.
        W.polkit.clear_calls()
        self.assertError(W.call('Assign', args3('0627:0001', 'pt-off')), ERR + 'NotAuthorized')
        self.assertRegex(W.polkit.calls()[1]['details']['device.name'],
                         r'^usb:port=1-2(,id=0627:0001)? \((.+ )?QEMU USB Tablet \(USB 1-2\)\)$')
        W.polkit.clear_calls()
        self.assertError(W.call('Assign', args3('disk:wwn=0x5000c500deadbeef', 'pt-off')), ERR + 'NotAuthorized')
        calls = W.polkit.calls()
        self.assertEqual([c['action_id'] for c in calls], [MANAGE, ATTACH_DISK])
        self.assertEqual((calls[1]['details']['device.wwn'], calls[1]['details']['device.kind']),
                         ('0x5000c500deadbeef', 'disk'))
        self.assertNotIn('device.serial', calls[1]['details'])
        W.polkit.set_allowed([ATTACH_USB])
        W.polkit.clear_calls()
        self.assertError(W.call('Assign', args3('usb:port=1-1.1', 'pt-off')), ERR + 'NotAuthorized')
        self.assertEqual([c['action_id'] for c in W.polkit.calls()], [MANAGE])
        self.assertEqual(assignments(), {})

    def test_assign_list_unassign(self):
        W.polkit.set_allowed(ASSIGN)
        self.assign('SN-A', 'pt-off')
        self.assertEqual(assignments(), {'usb:serial=SN-A,id=46f4:0001': {
            'Match': 'usb:serial=SN-A,id=46f4:0001', 'Kind': 'usb', 'Domain': 'pt-off', 'Present': True,
            'Attached': False, 'Id': '46f4:0001:SN-A'}})
        with open(state_file()) as f:
            text = f.read()
        self.assertIn('match=usb:serial=SN-A,id=46f4:0001', text)
        self.assertIn('uuid=' + H.virsh('domuuid', 'pt-off').stdout.strip(), text)
        for device in ('SN-A', 'usb:serial=SN-A,id=46f4:0001', 'usb:port=1-1.1', '46f4:0001:SN-A', '1:3'):
            r = W.call('Assign', args3(device, VM))
            self.assertError(r, ERR + 'AlreadyAssigned', 'pt-off')
        self.assertIn('(as usb:serial=SN-A,id=46f4:0001)', W.call('Assign', args3('usb:port=1-1.1', VM))['message'])
        self.assertEqual(W.call('Unassign', "('SN-A', @a{sv} {})"), {'result': []})
        self.assertError(W.call('Unassign', "('SN-A', @a{sv} {})"), ERR + 'NotAssigned')
        self.assertEqual(assignments(), {})
        self.assertEqual({c['action_id'] for c in W.polkit.calls()}, {MANAGE, ATTACH_USB})

    def test_audited_once_polkit_answered(self):
        # The audit line names the caller (its uid once callers.c knows it);
        # a call refused before polkit is not audited.
        who = r'(uid \d+|uid unknown), :1\.\d+'
        W.polkit.set_allowed([])
        self.assertError(W.call('Assign', args3('usb:serial=SN-AUD', 'pt-off')), ERR + 'NotAuthorized')
        self.assertRegex(W.service_log(), r'Assignment of usb:serial=SN-AUD to VM pt-off failed for '
                                          r'(uid \d+ \(:1\.\d+\)|:1\.\d+ \(uid unknown\)): ')
        W.polkit.set_allowed(ASSIGN)
        self.assign('usb:serial=SN-AUD', 'pt-off')
        self.assertError(W.call('Unassign', "('usb:serial=NOPE-AUD', @a{sv} {})"), ERR + 'NotAssigned')
        self.assertEqual(W.call('Unassign', "('usb:serial=SN-AUD', @a{sv} {})"), {'result': []})
        log = W.service_log()
        self.assertRegex(log, r'Assigned usb:serial=SN-AUD to VM pt-off \(%s\)' % who)
        self.assertRegex(log, r'Unassigned usb:serial=SN-AUD from VM pt-off \(%s\)' % who)
        self.assertEqual(log.count('usb:serial=SN-AUD to VM pt-off'), 2)     # the denial, the change
        self.assertEqual(log.count('usb:serial=SN-AUD from VM pt-off'), 1)
        self.assertNotIn('NOPE-AUD', log)

    def test_forms_and_refusals(self):
        W.polkit.set_allowed(ASSIGN)
        self.assign('0627:0001', VM)             # no serial: its port
        self.assign('usb:serial=GONE', VM)       # not plugged in
        self.assign('usb:serial=NODOM', 'no-such-vm')
        got = assignments()
        self.assertEqual(got['usb:port=1-2']['Id'], '0627:0001@1-2')
        self.assertEqual((got['usb:serial=GONE']['Present'], got['usb:serial=GONE']['Id']), (False, ''))
        self.assertEqual(got['usb:serial=NODOM']['Domain'], 'no-such-vm')
        n_calls = len(W.polkit.calls())
        cases = [
            ('46f4:0001', VM, 'AmbiguousDevice'), ('usb:id=46f4:0001', VM, 'AmbiguousDevice'),
            ('1-1', VM, 'InvalidArgument'), ('1-0', VM, 'InvalidArgument'), ('usb:bus=1:3', VM, 'InvalidArgument'),
            ('usb:serial=x\x01', VM, 'InvalidArgument'), ('x' * 4096, VM, 'InvalidArgument'),
            ('', VM, 'InvalidArgument'), ('NOPE', VM, 'NoSuchDevice'), ('SN-A', '', 'InvalidArgument'),
            ('SN-A', 'bad\x01', 'InvalidArgument'), ('/dev/sdzz', VM, 'NoSuchDevice'),
        ]
        for device, domain, error in cases:
            self.assertError(W.call('Assign', args3(device, domain)), ERR + error)
        self.assertError(W.call('Assign', args3('SN-A', VM, bogus='x')), ERR + 'InvalidArgument')
        self.assertError(W.call('Assign', args3('SN-A', VM, dry_run=True)), ERR + 'InvalidArgument')
        self.assertError(W.call('Unassign', "('usb:bogus', @a{sv} {})"), ERR + 'InvalidArgument')
        self.assertError(W.call('Unassign', "('NOPE', @a{sv} {})"), ERR + 'NotAssigned')
        self.assertEqual(len(W.polkit.calls()), n_calls, 'refused before polkit')
        self.assertEqual(W.call('Unassign', "('GONE', @a{sv} {})"), {'result': []})   # by its serial
        self.assertNotIn('usb:serial=GONE', assignments())

    def test_disks(self):
        W.polkit.set_allowed(ASSIGN)
        named = TB.add_device('block', 'sdq', None, ['size', '2048', 'removable', '1', 'ro', '0'],
                              ['DEVTYPE', 'disk', 'DEVNAME', '/dev/sdq', 'MAJOR', '65', 'MINOR', '0',
                               'ID_SERIAL_SHORT', 'DSK-Q'])
        nameless = TB.add_device('block', 'sdr', None, ['size', '2048', 'removable', '1', 'ro', '0'],
                                 ['DEVTYPE', 'disk', 'DEVNAME', '/dev/sdr', 'MAJOR', '65', 'MINOR', '16'])
        try:
            self.assign('sdq', VM)
            entry = assignments()['disk:serial=DSK-Q']
            self.assertEqual((entry['Kind'], entry['Present'], entry['Id']), ('disk', True, 'sdq'))
            r = W.call('Assign', args3('sdr', VM))
            self.assertError(r, ERR + 'InvalidArgument', 'no stable name')
            self.assign('disk:wwn=0x5000c500deadbeef', 'pt-off')
            self.assertFalse(assignments()['disk:wwn=0x5000c500deadbeef']['Present'])
        finally:
            unplug(named)
            unplug(nameless)


class TestAssignState(AssignBase):
    def test_persists_across_restart(self):
        W.polkit.set_allowed(ASSIGN)
        self.assign('usb:serial=KEEP-1', 'pt-off')
        self.assign('usb:port=1-9.9', VM)
        before = assignments()
        self.assertEqual(W.stop_service(), 0)
        W.start_service()
        self.assertEqual(assignments(), before)

    def test_corrupt_file_is_kept_aside(self):
        self.assertEqual(W.stop_service(), 0)
        with open(state_file(), 'w') as f:
            f.write('[passthroughd]\nversion=1\n[assignment 1]\nmatch=usb:nonsense\n\x01garbage\n')
        W.start_service()
        self.assertEqual(assignments(), {})
        kept = glob.glob(state_file() + '.corrupt-*')
        self.assertEqual(len(kept), 1)
        with open(kept[0]) as f:
            self.assertIn('usb:nonsense', f.read())
        self.assertRegex(W.service_log(), r'state file .* is corrupt .*; kept as .*corrupt-')
        W.polkit.set_allowed(ASSIGN)
        self.assign('usb:serial=AFTER', 'pt-off')       # a new file beside the kept one
        self.assertTrue(os.path.exists(state_file()))
        os.unlink(kept[0])

    def test_bad_group_costs_only_itself(self):
        self.assertEqual(W.stop_service(), 0)
        os.makedirs(W.state_dir, exist_ok=True)
        with open(state_file(), 'w') as f:
            f.write('[passthroughd]\nversion=1\n[assignment 1]\nmatch=usb:serial=GOOD\ndomain=pt-off\n'
                    '[assignment 2]\nmatch=usb:serial=BAD\ndomain=pt\\toff\n')
        W.start_service()
        self.assertEqual(set(assignments()), {'usb:serial=GOOD'})
        self.assertEqual(glob.glob(state_file() + '.corrupt-*'), [])
        self.assertIn('Assignments: ignoring the group at line 6 of the state file', W.service_log())

    def test_domain_name_the_file_cannot_keep(self):
        path = os.path.join(W.tmp, 'pt-tab.xml')
        with open(path, 'w') as f:
            f.write(H.firmware_guest_xml('pt\ttab'))
        H.virsh('define', path)
        try:
            uuid = H.virsh('domuuid', 'pt\ttab').stdout.strip()
            W.polkit.set_allowed(ASSIGN)
            r = W.call('Assign', args3('usb:serial=TAB', uuid))
            self.assertError(r, ERR + 'InvalidArgument', 'control characters')
            self.assertEqual(W.polkit.calls(), [])
            self.assertEqual(assignments(), {})
        finally:
            H.virsh('undefine', '--nvram', 'pt\ttab', check=False)

    def test_libvirt_unreachable_is_no_unknown_domain(self):
        self.assertEqual(W.stop_service(), 0)
        W.start_service(extra_args=['--connect', 'test://' + os.path.join(W.tmp, 'no-such-node.xml')])
        try:
            W.polkit.set_allowed(ASSIGN)
            r = W.call('Assign', args3('usb:serial=UNREACH', 'pt-off'))
            self.assertIn('error', r)
            self.assertNotEqual(r['error'], ERR + 'NoSuchDomain')
            self.assertEqual(W.polkit.calls(), [])
            self.assertEqual(assignments(), {})
        finally:
            W.stop_service()
            W.start_service()

    def test_concurrent_assigns(self):
        # 16 at once: as many polkit checks as one uid may have pending.
        W.polkit.set_allowed(ASSIGN)
        procs = [W.call_async('Assign', args3('usb:serial=PAR-%d' % i, 'pt-off')) for i in range(8)]
        procs += [W.call_async('Assign', args3('usb:serial=SAME', 'pt-off')) for _ in range(8)]
        outs = [json.loads(p.communicate(timeout=60)[0]) for p in procs]
        self.assertEqual(outs[:8], [{'result': []}] * 8)
        same = [o.get('error', 'ok') for o in outs[8:]]
        self.assertEqual(sorted(same), ['ok'] + [ERR + 'AlreadyAssigned'] * 7)
        expected = {'usb:serial=PAR-%d' % i for i in range(8)} | {'usb:serial=SAME'}
        self.assertEqual(set(assignments()), expected)
        with open(state_file()) as f:
            text = f.read()
        self.assertEqual(text.count('[assignment '), 9)
        self.assertEqual({line[len('match='):] for line in text.splitlines() if line.startswith('match=')}, expected)
        leftovers = [n for n in os.listdir(W.state_dir) if n.startswith('assignments.conf.')]
        self.assertEqual(leftovers, [], 'temporary files left behind')


class TestAutoAttach(AssignBase):
    """libvirtd does not see the testbed: each automatic attach reaches
    libvirt and fails there, which AutoAttachFailed reports."""

    def test_plugging_in_an_assigned_device(self):
        W.polkit.set_allowed(ASSIGN)
        self.assign('usb:serial=SN-HOT', VM)
        self.assertFalse(assignments()['usb:serial=SN-HOT']['Present'])
        n = len(W.signals.signals())
        dev = add_usb(ROOT, '1-8', 20, '46f4:0001', serial='SN-HOT')
        try:
            args = wait_auto_failure(n, VM, '46f4:0001:SN-HOT')
            self.assertEqual(args[1], 'usb')
            self.assertIn('libvirt could not attach', args[3])
            self.assertEqual(live_hostdevs(VM), 0)
            self.assertIn('Automatic attach of usb 46f4:0001:SN-HOT to VM %s failed' % VM, W.service_log())
        finally:
            unplug(dev)

    def test_reenumerating_device_backs_off(self):
        # Plugged in again and again: 5 automatic attaches a minute, then
        # one AutoAttachFailed that says so, then quiet.
        W.polkit.set_allowed(ASSIGN)
        self.assign('usb:serial=SN-LOOP', VM)
        n = len(W.signals.signals())
        for i in range(7):
            dev = add_usb(ROOT, '1-8', 30 + i, '46f4:0001', serial='SN-LOOP')
            try:
                if i < 6:
                    H.wait_for(lambda: len(auto_failures(n)) > i, 30, what='AutoAttachFailed %d' % (i + 1))
                else:
                    time.sleep(1.5)
            finally:
                unplug(dev)
        errors = [a[3] for a in auto_failures(n)]
        self.assertEqual(len(errors), 6, errors)
        self.assertEqual([a[2] for a in auto_failures(n)], ['46f4:0001:SN-LOOP'] * 6)
        for e in errors[:5]:
            self.assertIn('libvirt could not attach', e)
        self.assertRegex(errors[5], r'^re-attached 5 times in a minute; waiting [0-9]+ s before the next try$')
        self.assertIn('Automatic attach of usb 46f4:0001:SN-LOOP to VM %s failed: re-attached 5 times' % VM,
                      W.service_log())

    def test_device_assigned_twice_goes_to_neither(self):
        W.polkit.set_allowed(ASSIGN)
        self.assign('usb:serial=SN-TWICE', VM)       # both accepted while it is absent
        self.assign('usb:port=1-8', 'pt-off')
        n = len(W.signals.signals())
        dev = add_usb(ROOT, '1-8', 21, '46f4:0001', serial='SN-TWICE')
        try:
            args = wait_auto_failure(n, VM, 'usb:serial=SN-TWICE')
            self.assertIn('assigned twice: usb:serial=SN-TWICE (VM %s), usb:port=1-8 (VM pt-off)' % VM, args[3])
            time.sleep(1)
            self.assertEqual([a for a in auto_failures(n) if 'libvirt' in a[3]], [], 'no attach was tried')
            rows = all_results('AttachAll', '', dry_run=True)
            self.assertEqual(rows['usb:serial=SN-TWICE']['Result'], 'failed')
            self.assertIn('assigned twice', rows['usb:port=1-8']['Error'])
        finally:
            unplug(dev)

    def test_assigning_to_a_running_domain_attaches_now(self):
        W.polkit.set_allowed(ASSIGN)
        n = len(W.signals.signals())
        self.assign('SN-A', VM)
        wait_auto_failure(n, VM, '46f4:0001:SN-A')

    def test_domain_start(self):
        W.polkit.set_allowed(ASSIGN)
        n = len(W.signals.signals())
        self.assign('SN-B', 'pt-off')
        time.sleep(1)
        self.assertEqual(auto_failures(n), [], 'pt-off is not running')
        H.virsh('start', 'pt-off')
        try:
            wait_auto_failure(n, 'pt-off', '46f4:0001:SN-B')
        finally:
            H.virsh('destroy', 'pt-off')

    def test_domain_resume(self):
        W.polkit.set_allowed(ASSIGN)
        self.assign('SN-B', 'pt-off')
        n = len(W.signals.signals())
        H.virsh('start', '--paused', 'pt-off')
        try:
            time.sleep(1)
            self.assertEqual(auto_failures(n), [], 'a paused domain is not running: no attach')
            H.virsh('resume', 'pt-off')
            wait_auto_failure(n, 'pt-off', '46f4:0001:SN-B')
        finally:
            H.virsh('destroy', 'pt-off')

    def test_service_start_reconciles(self):
        W.polkit.set_allowed(ASSIGN)
        self.assign('SN-A', VM)
        self.assertEqual(W.stop_service(), 0)
        n = len(W.signals.signals())
        W.start_service()
        wait_auto_failure(n, VM, '46f4:0001:SN-A')


class TestDomainUris(Base):
    """[domain NAME] uri=: the domain "test" lives on libvirt's test driver,
    every other one on the private libvirtd."""

    @classmethod
    def setUpClass(cls):
        W.stop_service()
        W.start_service(config_text='[libvirt]\nuri=%s\n\n[domain test]\nuri=test:///default\n' % H.URI)

    @classmethod
    def tearDownClass(cls):
        unassign_all()
        W.stop_service()
        W.start_service()

    def test_domains_of_both_connections(self):
        states = {d['Name']: d['State'] for d in W.call('ListDomains')['result'][0]}
        self.assertEqual((states['test'], states[VM]), ('running', 'running'))
        self.assertEqual(W.call('ListAttached', "('test',)"), {'result': [[]]})
        self.assertIn('Connected to libvirt at test:///default', W.service_log())

    def test_calls_go_to_the_domains_connection(self):
        W.polkit.set_allowed([ATTACH_USB, MANAGE])
        r = W.call('AttachUsb', args3('test', 'SN-A'))
        self.assertError(r, ERR + 'Failed', 'not supported by the connection driver')
        r = W.call('AttachUsb', args3(VM, 'SN-A'))
        self.assertError(r, ERR + 'Failed', "'/sys/bus/usb/devices'")   # the private libvirtd's answer
        self.assertEqual(W.call('Assign', args3('usb:serial=URI-1', 'test')), {'result': []})
        with open(state_file()) as f:
            self.assertIn('uuid=6695eb01-f6a4-8304-79aa-97f2502e193f', f.read())   # the test driver's "test"


class TestDryRun(AssignBase):
    def test_attach_usb_dry_run(self):
        W.polkit.set_allowed([ATTACH_USB])
        n = len(W.signals.signals())
        self.assertEqual(W.call('AttachUsb', args3(VM, 'SN-A', dry_run=True)), {'result': []})
        self.assertEqual([c['action_id'] for c in W.polkit.calls()], [ATTACH_USB])
        self.assertEqual(live_hostdevs(VM), 0)
        self.assertNotIn('DeviceAttached', [m for m, _ in W.signals.signals()[n:]])
        self.assertIn('Would attach USB device 46f4:0001:SN-A to %s' % VM, W.service_log())
        W.polkit.set_allowed([])
        self.assertError(W.call('AttachUsb', args3(VM, 'SN-A', dry_run=True)), ERR + 'NotAuthorized')

    def test_attach_all_and_detach_all_dry_run(self):
        W.polkit.set_allowed([MANAGE, ATTACH_USB])
        self.assign('SN-A', VM)
        self.assign('usb:serial=ABSENT', VM)
        self.assign('SN-B', 'pt-off')
        W.polkit.clear_calls()
        rows = all_results('AttachAll', VM, dry_run=True)
        self.assertEqual(set(rows), {'usb:serial=SN-A,id=46f4:0001', 'usb:serial=ABSENT'})
        row = rows['usb:serial=SN-A,id=46f4:0001']
        self.assertEqual({k: row[k] for k in ('Kind', 'Id', 'Domain', 'Result', 'Error')}, {
            'Kind': 'usb', 'Id': '46f4:0001:SN-A', 'Domain': VM, 'Result': 'would attach', 'Error': ''})
        self.assertIn('<alias name="ua-pt-usb-1-1_1"/>', row['Xml'])
        self.assertIn('<address bus="1" device="3"/>', row['Xml'])
        self.assertEqual(rows['usb:serial=ABSENT']['Result'], 'not present')
        calls = W.polkit.calls()
        self.assertEqual([(c['action_id'], c['details']['device']) for c in calls], [(ATTACH_USB, '46f4:0001:SN-A')])
        self.assertEqual(live_hostdevs(VM), 0)

        rows = all_results('AttachAll', '', dry_run=True)
        self.assertEqual(rows['usb:serial=SN-B,id=46f4:0001']['Result'], 'domain not running')
        W.polkit.set_allowed([])
        rows = all_results('AttachAll', VM, dry_run=True)
        self.assertEqual(rows['usb:serial=SN-A,id=46f4:0001']['Result'], 'failed')
        self.assertIn('Not authorized', rows['usb:serial=SN-A,id=46f4:0001']['Error'])
        rows = all_results('DetachAll', VM, dry_run=True)
        self.assertEqual(rows['usb:serial=SN-A,id=46f4:0001']['Result'], 'not attached')
        self.assertEqual(rows['usb:serial=ABSENT']['Result'], 'not present')

    def test_bulk_errors(self):
        self.assertError(W.call('AttachAll', "('no-such-vm', @a{sv} {})"), ERR + 'NoSuchDomain')
        self.assertError(W.call('AttachAll', "('%s', {'timeout-ms': <uint32 5>})" % VM), ERR + 'InvalidArgument')
        self.assertError(W.call('DetachAll', "('%s', {'bogus': <1>})" % VM), ERR + 'InvalidArgument')
        self.assertError(W.call('DetachAll', "('bad\x01', @a{sv} {})"), ERR + 'InvalidArgument')
        self.assertEqual(W.call('DetachAll', "('', {'timeout-ms': <uint32 5000>})"), {'result': [[]]})


class TestIdleExit(AssignBase):
    def restart(self, *args):
        W.stop_service()
        W.start_service(extra_args=list(args))

    def tearDown(self):
        self.restart()
        super().tearDown()

    def test_exits_when_idle_without_assignments(self):
        self.restart('--exit-idle-seconds', '2')
        H.wait_for(lambda: W.service.poll() is not None, 30, what='passthroughd exiting when idle')
        self.assertEqual(W.service.returncode, 0)
        self.assertIn('Idle for 2 s without assignments; exiting', W.service_log())

    def test_stays_while_assignments_exist(self):
        W.polkit.set_allowed(ASSIGN)
        self.assign('usb:serial=STAY', 'pt-off')
        self.restart('--exit-idle-seconds', '1')
        time.sleep(4)
        self.assertIsNone(W.service.poll(), 'exited although an assignment exists')


if __name__ == '__main__':
    H.ensure_private_namespace()   # re-executes this script with the same argv
    # The daemons and tools this script starts must see the real system: only
    # passthroughd gets the preload library (and the testbed's directory).
    os.environ.pop('LD_PRELOAD', None)
    BUILDDIR = os.path.abspath(sys.argv.pop(1))
    unittest.main(verbosity=2)

#!/usr/bin/python3
"""passthroughd end to end: a real dbus-daemon with our bus policy, python-dbusmock's
polkitd, a private libvirtd, real QEMU guests and real loop devices.

    /usr/bin/python3 tests/test-service.py BUILDDIR [unittest args]

Needs root (loop devices, a private mount namespace, libvirtd); exits 77 with
the reason otherwise.
"""

import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
import unittest
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ptharness as H  # noqa: E402
from ptworld import ERR, World, args3, gv, interface_shape  # noqa: E402
from ptmirror import Mirror  # noqa: E402

ATTACH = 'org.example.passthrough1.attach-disk'
ATTACH_SYSTEM = 'org.example.passthrough1.attach-system-disk'
DETACH = 'org.example.passthrough1.detach'
DETACH_FOREIGN = 'org.example.passthrough1.detach-foreign'
ATTACH_RAWIO = 'org.example.passthrough1.attach-disk-rawio'
PTFLOOD = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'ptflood.py')
W = None


def setUpModule():
    global W
    W = World(BUILDDIR).start()


def tearDownModule():
    if W:
        W.stop()


class Base(unittest.TestCase):
    def setUp(self):
        W.polkit.set_allowed([ATTACH, DETACH])
        W.polkit.set_challenge([])
        W.polkit.set_dismissed([])
        W.polkit.hang([])
        W.polkit.clear_calls()

    def log_since(self, mark):
        with open(os.path.join(W.tmp, 'passthroughd.log'), 'rb') as f:
            f.seek(mark)
            return f.read().decode(errors='replace')

    def log_size(self):
        return os.path.getsize(os.path.join(W.tmp, 'passthroughd.log'))

    def assertError(self, reply, name):
        self.assertIn('error', reply, 'expected %s, got %s' % (name, reply))
        self.assertEqual(reply['error'], name, reply.get('message'))
        self.assertTrue(reply['message'])

    def live_sources(self, domain):
        root = ET.fromstring(H.virsh('dumpxml', domain).stdout)
        return [s.get('dev') for s in root.findall("./devices/disk/source") if s.get('dev')]

    def attach(self, domain, dev, **kw):
        r = W.call('AttachDisk', args3(domain, dev, **kw))
        self.assertIn('result', r, r)
        return r['result'][0]

    def detach(self, domain, dev, **kw):
        r = W.call('DetachDisk', args3(domain, dev, **kw))
        self.assertEqual(r, {'result': []})


class TestContract(Base):
    def test_introspection_matches_contract(self):
        p = subprocess.run(['busctl', '--address', W.bus.address, 'introspect', '--xml-interface',
                            'org.example.Passthrough1', '/org/example/Passthrough1'],
                           capture_output=True, text=True, check=True)
        live = interface_shape(ET.fromstring(p.stdout))
        with open(os.path.join(H.HERE, '..', 'dbus', 'org.example.Passthrough1.xml')) as f:
            contract = interface_shape(ET.fromstring(f.read()))
        self.assertEqual(live, contract)

    def introspect(self, path):
        p = subprocess.run(['busctl', '--address', W.bus.address, 'introspect', '--xml-interface',
                            'org.example.Passthrough1', path], capture_output=True, text=True, check=True)
        return ET.fromstring(p.stdout)

    def test_every_object_type_introspects_to_the_contract(self):
        with open(os.path.join(H.HERE, '..', 'dbus', 'org.example.Passthrough1.xml')) as f:
            contract = ET.fromstring(f.read())
        root = self.introspect('/org/example/Passthrough1')
        self.assertIsNotNone(root.find("./interface[@name='org.freedesktop.DBus.ObjectManager']"))
        with H.LoopDisk(16) as disk:
            H.wait_for(lambda: W.disk_entry(disk.dev) is not None, 10, what='the loop disk in the model')
            objects = managed_objects()
            disk_path = [p for p, ifs in objects.items() if ifs.get(DISK_IFACE, {}).get('Path') == disk.dev][0]
            domain_path = [p for p, ifs in objects.items() if ifs.get(DOMAIN_IFACE, {}).get('Name') == 'pt-linux'][0]
            self.assertEqual(disk_path, '/org/example/Passthrough1/disk/' + disk.name)
            for path, name in ((disk_path, DISK_IFACE), (domain_path, DOMAIN_IFACE)):
                self.assertEqual(interface_shape(self.introspect(path), name), interface_shape(contract, name))

    def test_version_property(self):
        p = subprocess.run(['busctl', '--address', W.bus.address, 'get-property', 'org.example.Passthrough1',
                            '/org/example/Passthrough1', 'org.example.Passthrough1', 'Version'],
                           capture_output=True, text=True, check=True)
        self.assertRegex(p.stdout.strip(), r'^s "\d+\.\d+\.\d+"$')

    def test_bus_policy_refuses_owning_the_name(self):
        p = H.run_as('pt-tester', ['busctl', '--address', W.bus.address, 'call', 'org.freedesktop.DBus',
                                   '/org/freedesktop/DBus', 'org.freedesktop.DBus', 'RequestName', 'su',
                                   'org.example.Passthrough1', '0'])
        self.assertNotEqual(p.returncode, 0)
        self.assertIn('ccess', p.stderr)   # "Access denied"


class TestListing(Base):
    def test_list_disks_shows_loop_disk(self):
        with H.LoopDisk(48) as disk:
            d = W.disk_entry(disk.dev)
            self.assertIsNotNone(d, 'loop disk missing from ListDisks')
            self.assertEqual(d['Size'], 48 * 1024 * 1024)
            self.assertEqual(d['Name'], os.path.basename(disk.dev))
            self.assertEqual(d['Transport'], 'loop')
            self.assertFalse(d['System'])
            self.assertEqual(d['InUse'], '')
            self.assertEqual(d['AttachedTo'], '')

    def test_list_disks_marks_root_disk(self):
        root = W.disk_entry('/dev/vda')
        if root is None:
            self.skipTest('the host root disk is not /dev/vda here')
        self.assertTrue(root['System'])
        self.assertIn('/', root['Mountpoints'])

    def test_list_domains(self):
        doms = {d['Name']: d for d in W.call('ListDomains')['result'][0]}
        self.assertEqual(doms['pt-linux']['State'], 'running')
        self.assertEqual(doms['pt-off']['State'], 'shut off')
        self.assertRegex(doms['pt-linux']['Uuid'], r'^[0-9a-f-]{36}$')

    def test_list_usb_devices_is_a_list(self):
        self.assertEqual(W.call('ListUsbDevices')['result'], [[]])


class TestAttachDetach(Base):
    def test_attach_detach_round_trip_as_unprivileged_user(self):
        guest = W.guests['linux']
        with H.LoopDisk(32) as disk:
            target = self.attach('pt-linux', disk.dev, name='ptdisk1')
            self.assertRegex(target, r'^vd[b-z]$')
            seen = guest.wait_disks(lambda ds: any(v[0] == 'ptdisk1' for v in ds.values()), 30)
            size = [v[1] for v in seen.values() if v[0] == 'ptdisk1'][0]
            self.assertEqual(size, 32 * 1024 * 1024)
            W.signals.wait('DeviceAttached', ['pt-linux', 'disk', disk.name, target])
            listed = [a for a in W.attached('pt-linux') if a['Source'] == disk.dev]
            self.assertEqual(listed, [{'Kind': 'disk', 'Id': disk.name, 'Source': disk.dev, 'Target': target,
                                       'Bus': 'virtio', 'Mode': 'disk', 'Discard': True}])
            entry = W.disk_entry(disk.dev)
            self.assertEqual(entry['AttachedTo'], 'pt-linux')
            self.assertEqual(entry['InUse'], 'attached to VM pt-linux')

            calls = W.polkit.calls()
            self.assertEqual([c['action_id'] for c in calls], [ATTACH])
            self.assertEqual(calls[0]['subject_kind'], 'system-bus-name')
            self.assertRegex(calls[0]['subject']['name'], r'^:\d+\.\d+$')
            self.assertEqual(calls[0]['details']['domain'], 'pt-linux')
            self.assertEqual(calls[0]['details']['device'], disk.dev)

            self.detach('pt-linux', disk.dev)
            guest.wait_disks(lambda ds: not any(v[0] == 'ptdisk1' for v in ds.values()), 30)
            W.signals.wait('DeviceDetached', ['pt-linux', 'disk', disk.name])
            self.assertNotIn(disk.dev, self.live_sources('pt-linux'))
            self.assertEqual(W.disk_entry(disk.dev)['AttachedTo'], '')
            self.assertEqual(W.polkit.calls()[-1]['action_id'], DETACH)

    def test_domain_by_uuid_and_device_by_name(self):
        uuid = H.virsh('domuuid', 'pt-linux').stdout.strip()
        with H.LoopDisk(16) as disk:
            target = self.attach(uuid, disk.name, target='vdk', readonly=True)
            self.assertEqual(target, 'vdk')
            root = ET.fromstring(H.virsh('dumpxml', 'pt-linux').stdout)
            d = [x for x in root.findall('./devices/disk') if x.find('source').get('dev') == disk.dev][0]
            self.assertEqual(d.get('type'), 'block')
            drv = d.find('driver')
            self.assertEqual((drv.get('type'), drv.get('cache'), drv.get('io')), ('raw', 'none', 'native'))
            self.assertEqual(d.find('target').get('bus'), 'virtio')
            self.assertIsNotNone(d.find('readonly'))
            self.detach(uuid, disk.name)

    def test_polkit_denial_changes_nothing(self):
        W.polkit.set_allowed([])
        with H.LoopDisk(16) as disk:
            before = self.live_sources('pt-linux')
            r = W.call('AttachDisk', args3('pt-linux', disk.dev))
            self.assertError(r, ERR + 'NotAuthorized')
            self.assertEqual(self.live_sources('pt-linux'), before)
            self.assertEqual(W.disk_entry(disk.dev)['AttachedTo'], '')
            self.assertEqual(W.polkit.calls()[0]['subject_kind'], 'system-bus-name')

    def test_challenge_without_interactive_flag(self):
        W.polkit.set_allowed([])
        W.polkit.set_challenge([ATTACH])
        with H.LoopDisk(16) as disk:
            r = W.call('AttachDisk', args3('pt-linux', disk.dev))
            self.assertError(r, 'org.freedesktop.DBus.Error.InteractiveAuthorizationRequired')
            r = W.call('AttachDisk', args3('pt-linux', disk.dev), interactive=True)
            self.assertError(r, ERR + 'NotAuthorized')
            flags = [c['flags'] for c in W.polkit.calls()]
            self.assertEqual(flags, [0, 1])
            self.assertNotIn(disk.dev, self.live_sources('pt-linux'))

    def test_dismissed_prompt_is_its_own_error(self):
        """The user closed the agent's dialog: polkitd answers with polkit.dismissed,
        the caller gets AuthorizationDismissed (not NotAuthorized), nothing changes."""
        W.polkit.set_allowed([])
        W.polkit.set_challenge([ATTACH])
        W.polkit.set_dismissed([ATTACH])
        with H.LoopDisk(16) as disk:
            r = W.call('AttachDisk', args3('pt-linux', disk.dev), interactive=True)
            self.assertError(r, ERR + 'AuthorizationDismissed')
            self.assertEqual([c['result'] for c in W.polkit.calls()], [[False, False, {'polkit.dismissed': 'true'}]])
            self.assertNotIn(disk.dev, self.live_sources('pt-linux'))
            self.assertEqual(W.disk_entry(disk.dev)['AttachedTo'], '')
            # Without the interactive flag there is no prompt to dismiss.
            r = W.call('AttachDisk', args3('pt-linux', disk.dev))
            self.assertError(r, 'org.freedesktop.DBus.Error.InteractiveAuthorizationRequired')

    def test_polkit_details_name_the_device(self):
        """The prompt's $(device.name): size and node for a disk without a model
        (a loop device); the keys rules use stay as they were."""
        W.polkit.set_allowed([])
        uuid = H.virsh('domuuid', 'pt-linux').stdout.strip()
        with H.LoopDisk(16) as disk:
            self.assertError(W.call('AttachDisk', args3('pt-linux', disk.dev)), ERR + 'NotAuthorized')
            details = W.polkit.calls()[0]['details']
            self.assertEqual(details, {'domain': 'pt-linux', 'domain.uuid': uuid, 'device': disk.dev,
                                       'device.name': '17 MB (%s)' % disk.dev})

    def test_root_caller_skips_polkit(self):
        W.polkit.set_allowed([])
        with H.LoopDisk(16) as disk:
            r = W.call('AttachDisk', args3('pt-linux', disk.dev), user=None)
            self.assertIn('result', r, r)
            r = W.call('DetachDisk', args3('pt-linux', disk.dev), user=None)
            self.assertEqual(r, {'result': []})
            self.assertEqual(W.polkit.calls(), [])

    def test_already_attached_same_or_other_domain(self):
        with H.LoopDisk(16) as disk:
            self.attach('pt-linux', disk.dev)
            for dom in ('pt-linux', 'pt-fw'):
                r = W.call('AttachDisk', args3(dom, disk.dev))
                self.assertError(r, ERR + 'AlreadyAttached')
                self.assertIn('pt-linux', r['message'])
            self.assertNotIn(disk.dev, self.live_sources('pt-fw'))
            self.detach('pt-linux', disk.dev)

    def test_another_call_answers_while_polkit_is_pending(self):
        W.polkit.hang([ATTACH])
        with H.LoopDisk(16) as disk:
            pending = W.call_async('AttachDisk', args3('pt-linux', disk.dev, name='late'))
            H.wait_for(W.polkit.have_hanging, 20, what='a hanging polkit check')
            r = W.call('ListDomains')
            self.assertIn('result', r)
            self.assertIsNone(pending.poll(), 'the attach finished before polkit answered')
            self.assertNotIn(disk.dev, self.live_sources('pt-linux'))
            W.polkit.release()
            out, _ = pending.communicate(timeout=60)
            self.assertIn('"result"', out)
            self.assertIn(disk.dev, self.live_sources('pt-linux'))
            self.detach('pt-linux', disk.dev)


class TestRefusals(Base):
    def test_mounted_partition_is_busy(self):
        with H.LoopDisk(64, partition=True, mount=True) as disk:
            r = W.call('AttachDisk', args3('pt-linux', disk.dev))
            self.assertError(r, ERR + 'DeviceBusy')
            self.assertIn('umount', r['message'])
            self.assertIn('mounted at', W.disk_entry(disk.dev)['InUse'])
            self.assertNotIn(disk.dev, self.live_sources('pt-linux'))

    def test_root_disk_is_a_system_device(self):
        if not os.path.exists('/dev/vda') or W.disk_entry('/dev/vda') is None:
            self.skipTest('the host root disk is not /dev/vda here')
        r = W.call('AttachDisk', args3('pt-linux', '/dev/vda'))
        self.assertError(r, ERR + 'SystemDevice')

    def test_domain_not_running(self):
        with H.LoopDisk(16) as disk:
            self.assertError(W.call('AttachDisk', args3('pt-off', disk.dev)), ERR + 'DomainNotRunning')

    def test_unknown_domain_and_device(self):
        with H.LoopDisk(16) as disk:
            self.assertError(W.call('AttachDisk', args3('no-such-vm', disk.dev)), ERR + 'NoSuchDomain')
        self.assertError(W.call('AttachDisk', args3('pt-linux', '/dev/sdzz')), ERR + 'NoSuchDevice')
        self.assertError(W.call('AttachDisk', args3('pt-linux', 'nosuchdisk0')), ERR + 'NoSuchDevice')
        self.assertError(W.call('ListAttached', "('no-such-vm',)"), ERR + 'NoSuchDomain')

    def test_detach_not_attached(self):
        with H.LoopDisk(16) as disk:
            self.assertError(W.call('DetachDisk', args3('pt-linux', disk.dev)), ERR + 'NotAttached')

    def test_bad_inputs_are_typed_errors_and_change_nothing(self):
        link = os.path.join(H.tempfile.mkdtemp(), 'evil')
        os.symlink('/etc/passwd', link)
        dev_link = '/dev/pt-test-evil-link'
        os.symlink('/etc/passwd', dev_link)
        regular = os.path.join(os.path.dirname(link), 'file')
        open(regular, 'w').close()
        before = self.live_sources('pt-linux')
        try:
            with H.LoopDisk(16) as disk:
                bad_devices = ['dev/loop0', '../dev/' + disk.name, '/dev/../etc/passwd', link, dev_link,
                               regular, '/dev/null', '/etc/passwd', "/dev/sd'b", '/dev/<x>', 'a' * 4096, '',
                               'loop0\n', disk.dev + '1']
                for dev in bad_devices:
                    r = W.call('AttachDisk', args3('pt-linux', dev))
                    self.assertIn(r.get('error'), (ERR + 'InvalidArgument', ERR + 'NoSuchDevice'), (dev[:40], r))
                for name in ("it's", '<x/>', 'a' * 21, '', 'sp ace'):
                    r = W.call('AttachDisk', args3('pt-linux', disk.dev, name=name))
                    self.assertError(r, ERR + 'InvalidArgument')
                for kw in ({'target': 'sda'}, {'target': "vd'"}, {'bogus': 'x'}):
                    self.assertError(W.call('AttachDisk', args3('pt-linux', disk.dev, **kw)), ERR + 'InvalidArgument')
                wrong_type = "('pt-linux', %s, {'readonly': <'yes'>})" % gv(disk.dev)
                self.assertError(W.call('AttachDisk', wrong_type), ERR + 'InvalidArgument')
                wrong_type = "('pt-linux', %s, {'timeout-ms': <int32 5>})" % gv(disk.dev)
                self.assertError(W.call('DetachDisk', wrong_type), ERR + 'InvalidArgument')
                self.assertError(W.call('DetachDisk', args3('pt-linux', disk.dev, name='x')),
                                 ERR + 'InvalidArgument')
                for dom in ('', 'x' * 4096, 'bad\x01name'):
                    self.assertError(W.call('AttachDisk', args3(dom, disk.dev)), ERR + 'InvalidArgument')
                r = W.call('AttachDisk', "('pt-linux', 42, @a{sv} {})", vtype='(sia{sv})')
                self.assertEqual(r['error'], 'org.freedesktop.DBus.Error.InvalidArgs')
        finally:
            os.unlink(dev_link)
        self.assertEqual(self.live_sources('pt-linux'), before)
        self.assertEqual(W.polkit.calls(), [], 'bad input must be refused before polkit')


def virsh_attach(domain, dev, target):
    """Attach a host block device by hand, as an administrator would (no alias of ours)."""
    path = os.path.join(W.tmp, 'hand-%s.xml' % target)
    with open(path, 'w') as f:
        f.write(H.disk_xml(dev, target=target))
    H.virsh('attach-device', domain, path, '--live')
    return path


def virsh_detach(domain, path, dev):
    if dev in [s.get('dev') for s in ET.fromstring(H.virsh('dumpxml', domain).stdout).findall(
            './devices/disk/source')]:
        H.virsh('detach-device', domain, path, '--live', check=False)
        H.wait_for(lambda: dev not in H.virsh('dumpxml', domain).stdout, 30, what='%s to leave %s' % (dev, domain))


class TestSafety(Base):
    """The holes issue 7 closed, each on real parts."""

    def test_vm_holding_a_partition_holds_the_whole_disk(self):
        with H.LoopDisk(32, partition=True) as disk:
            xml = virsh_attach('pt-linux', disk.part, 'vdx')
            try:
                r = W.call('AttachDisk', args3('pt-fw', disk.dev))
                self.assertError(r, ERR + 'AlreadyAttached')
                self.assertIn('pt-linux', r['message'])
                self.assertIn(disk.part, r['message'])
                entry = W.disk_entry(disk.dev)
                self.assertEqual(entry['AttachedTo'], 'pt-linux')
                self.assertEqual(entry['InUse'], '%s attached to VM pt-linux' % os.path.basename(disk.part))
                self.assertNotIn(disk.dev, self.live_sources('pt-fw'))
            finally:
                virsh_detach('pt-linux', xml, disk.part)

    def test_disk_used_through_a_loop_device_is_busy(self):
        with H.LoopDisk(32) as lower:
            upper = H.run(['losetup', '-f', '--show', lower.dev]).stdout.strip()
            mnt = H.tempfile.mkdtemp()
            try:
                r = W.call('AttachDisk', args3('pt-linux', lower.dev))
                self.assertError(r, ERR + 'DeviceBusy')
                self.assertIn('losetup -d %s' % upper, r['message'])
                H.run(['mkfs.ext4', '-q', upper])
                H.run(['mount', upper, mnt])
                try:
                    r = W.call('AttachDisk', args3('pt-linux', lower.dev))
                    self.assertError(r, ERR + 'DeviceBusy')
                    self.assertIn('mounted at %s' % mnt, r['message'])
                    self.assertIn('mounted at', W.disk_entry(lower.dev)['InUse'])
                    self.assertError(W.call('AttachDisk', args3('pt-linux', upper)), ERR + 'DeviceBusy')
                finally:
                    H.run(['umount', mnt])
                # The upper loop device is free again, and takes its class from the lower one.
                r = W.call('AttachDisk', args3('pt-linux', upper, dry_run=True))
                self.assertIn('result', r, r)
            finally:
                H.run(['losetup', '-d', upper])
            self.assertNotIn(lower.dev, self.live_sources('pt-linux'))
            self.assertNotIn(upper, self.live_sources('pt-linux'))

    def test_loop_over_a_system_disk_is_a_system_device(self):
        H.assert_private()   # /boot below is this namespace's only
        with H.LoopDisk(32) as lower:
            H.run(['mkfs.ext4', '-q', lower.dev])
            upper = H.run(['losetup', '-f', '--show', lower.dev]).stdout.strip()
            H.run(['mount', lower.dev, '/boot'])
            try:
                r = W.call('AttachDisk', args3('pt-linux', upper))
                self.assertError(r, ERR + 'SystemDevice')
                self.assertIn('holds /boot', r['message'])
                self.assertTrue(W.disk_entry(upper)['System'])
            finally:
                H.run(['umount', '/boot'])
                H.run(['losetup', '-d', upper])
        self.assertEqual(W.polkit.calls(), [])

    def test_detaching_what_passthrough_did_not_attach_needs_detach_foreign(self):
        with H.LoopDisk(16) as disk:
            xml = virsh_attach('pt-linux', disk.dev, 'vdy')
            try:
                r = W.call('DetachDisk', args3('pt-linux', disk.dev))
                self.assertError(r, ERR + 'NotAuthorized')
                last = W.polkit.calls()[-1]
                self.assertEqual(last['action_id'], DETACH_FOREIGN)
                self.assertEqual(last['details']['device.foreign'], 'true')
                self.assertIn(disk.dev, self.live_sources('pt-linux'))
                W.polkit.set_allowed([DETACH_FOREIGN])
                self.detach('pt-linux', disk.dev)
                self.assertNotIn(disk.dev, self.live_sources('pt-linux'))
            finally:
                virsh_detach('pt-linux', xml, disk.dev)
        with H.LoopDisk(16) as disk:   # what passthrough attached: the plain action
            W.polkit.set_allowed([ATTACH, DETACH])
            self.attach('pt-linux', disk.dev)
            self.detach('pt-linux', disk.dev)
            last = W.polkit.calls()[-1]
            self.assertEqual((last['action_id'], last['details']['device.foreign']), (DETACH, 'false'))

    def test_changes_are_audited_once_with_the_callers_uid(self):
        import pwd
        uid = pwd.getpwnam('pt-tester').pw_uid
        mark = self.log_size()
        with H.LoopDisk(16) as disk:
            self.attach('pt-linux', disk.dev, dry_run=True)   # changes nothing: not audited
            target = self.attach('pt-linux', disk.dev)
            self.detach('pt-linux', disk.dev)
            log = self.log_since(mark)
            attached = re.findall(r'Attached %s to VM pt-linux as %s \(uid %d, :\d+\.\d+\)' % (
                re.escape(disk.dev), target, uid), log)
            detached = re.findall(r'Detached %s \(%s\) from VM pt-linux \(uid %d, :\d+\.\d+\)' % (
                re.escape(disk.dev), target, uid), log)
            self.assertEqual((len(attached), len(detached)), (1, 1), log[-1500:])
            W.polkit.set_allowed([])
            self.assertError(W.call('AttachDisk', args3('pt-linux', disk.dev)), ERR + 'NotAuthorized')
            refused = re.findall(r'Attach of %s to VM pt-linux failed for uid %d \(:\d+\.\d+\): Not authorized' % (
                re.escape(disk.dev), uid), self.log_since(mark))
            self.assertEqual(len(refused), 1)

    def test_paths_a_caller_makes_reveal_nothing(self):
        secret = os.path.join(W.tmp, 'secret-bashrc')
        with open(secret, 'w') as f:
            f.write('x')
        d = H.tempfile.mkdtemp(dir='/dev/shm')
        to_secret, to_nothing = os.path.join(d, 'a'), os.path.join(d, 'b')
        os.symlink(secret, to_secret)
        os.symlink('/nonexistent/pt', to_nothing)
        try:
            a = W.call('AttachDisk', args3('pt-linux', to_secret))
            b = W.call('AttachDisk', args3('pt-linux', to_nothing))
        finally:
            shutil.rmtree(d)
        self.assertError(a, ERR + 'InvalidArgument')
        self.assertEqual(a, b)
        self.assertNotIn('secret', a['message'])

    def test_caller_that_leaves_cancels_its_request(self):
        W.polkit.hang([ATTACH])
        with H.LoopDisk(16) as disk:
            caller = W.call_async('AttachDisk', args3('pt-linux', disk.dev))
            H.wait_for(W.polkit.have_hanging, 20, what='a hanging polkit check')
            caller.kill()
            caller.communicate()
            H.wait_for(lambda: W.polkit.calls()[-1]['result'] == 'cancelled', 20, what='the polkit check cancelled')
            H.wait_for(lambda: 'left before its answer' in W.service_log(), 20, what='the cancel in the log')
            W.polkit.release()
            # Anything that would still happen would happen on this call's way.
            self.assertIn('result', W.call('ListDomains'))
            self.assertNotIn(disk.dev, self.live_sources('pt-linux'))
            self.assertEqual(W.disk_entry(disk.dev)['AttachedTo'], '')

    def test_pending_checks_are_capped_per_uid(self):
        W.polkit.hang([ATTACH])
        with H.LoopDisk(16) as disk:
            callers = [W.call_async('AttachDisk', args3('pt-linux', disk.dev, dry_run=True)) for _ in range(17)]
            try:
                H.wait_for(lambda: any(c.poll() is not None for c in callers), 60, what='one call refused')
                done = [c for c in callers if c.poll() is not None]
                self.assertEqual(len(done), 1)
                r = json.loads(done[0].communicate()[0])
                self.assertError(r, ERR + 'LimitExceeded')
                self.assertEqual(len([c for c in W.polkit.calls() if c['result'] is None]), 16)
                # Another user is not held up by pt-tester's checks.
                self.assertIn('result', W.call('AttachDisk', args3('pt-linux', disk.dev, dry_run=True), user=None))
            finally:
                W.polkit.release()
                outs = [json.loads(c.communicate(timeout=60)[0]) for c in callers if c not in done]
            # Authorized at once, the dry runs race for the one disk: one at a time may act.
            errors = [o.get('error') for o in outs]
            self.assertIn(None, errors)
            self.assertLessEqual(set(errors), {None, ERR + 'DeviceBusy'}, outs)
            self.assertNotIn(disk.dev, self.live_sources('pt-linux'))

    def test_flood_of_bogus_attaches_gets_typed_answers(self):
        """200 at once from one user: each gets a typed answer, none reaches polkit.
        (How long others wait meanwhile is a figure: tests/bench-flood.py.)"""
        flood = subprocess.run(['setpriv', '--reuid=pt-other', '--regid=pt-other', '--init-groups', '--',
                                H.PYTHON, PTFLOOD, 'flood', '200', 'pt-linux'],
                               env=dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=W.bus.address),
                               capture_output=True, text=True, timeout=180)
        out = json.loads(flood.stdout)
        self.assertEqual(out['unanswered'], 0)
        self.assertEqual(sum(out['errors'].values()), 200)
        # The bus itself may refuse calls beyond its pending-reply limit per connection.
        self.assertLessEqual(set(out['errors']), {ERR + 'NoSuchDevice', ERR + 'LimitExceeded',
                                                  'org.freedesktop.DBus.Error.LimitsExceeded'}, out)
        self.assertIn(ERR + 'NoSuchDevice', out['errors'])
        self.assertEqual(W.polkit.calls(), [], 'a name that names no disk never reaches polkit')
        self.assertIn('result', W.call('ListDomains'))


class TestConnections(Base):
    """libvirt connections: one per URI however it is spelt; a libvirtd that
    does not answer holds up only the calls that need it."""

    def tearDown(self):
        if self.hung:
            self.hung.close()
        W.stop_service()
        W.start_service()

    def setUp(self):
        super().setUp()
        self.hung = None

    def test_default_uri_spelt_out_shares_the_connection(self):
        W.stop_service()
        mark = self.log_size()
        # No [libvirt] uri: the default is libvirt's own, which is H.URI here.
        W.start_service(config_text='[libvirt]\n[domain pt-linux]\nuri=%s\n' % H.URI)
        names = [d['Name'] for d in W.call('ListDomains')['result'][0]]
        self.assertEqual(sorted(names), sorted(set(names)), 'a domain listed twice')
        with H.LoopDisk(16) as disk:
            self.assertIn('result', W.call('AttachDisk', args3('pt-linux', disk.dev, dry_run=True)))
        log = self.log_since(mark)
        self.assertEqual(log.count('Connected to libvirt at'), 1, log)
        self.assertIn("%s is the default connection's URI" % H.URI, log)

    def test_libvirtd_that_does_not_answer_holds_up_only_its_domains(self):
        import socket
        path = os.path.join(W.tmp, 'hung.sock')
        if os.path.exists(path):
            os.unlink(path)
        self.hung = socket.socket(socket.AF_UNIX)
        self.hung.bind(path)
        self.hung.listen(64)   # accepts connections, never answers
        W.stop_service()
        W.start_service(config_text='[libvirt]\nuri=%s\n[domain ghost]\nuri=qemu+unix:///system?socket=%s\n'
                        % (H.URI, path))
        with H.LoopDisk(16) as disk:
            stuck = W.call_async('AttachDisk', args3('ghost', disk.dev, dry_run=True))
            try:
                # Calls on the default connection go on meanwhile.
                r = W.call('AttachDisk', args3('pt-linux', disk.dev, dry_run=True), timeout=60)
                self.assertIn('result', r, r)
                self.assertIn('pt-linux', [d['Name'] for d in W.call('ListDomains', timeout=60)['result'][0]])
                # The call that needs the silent libvirtd waits a while, then says why.
                out = json.loads(stuck.communicate(timeout=60)[0])
                self.assertError(out, ERR + 'Failed')
                self.assertIn('does not answer', out['message'])
            finally:
                if stuck.poll() is None:
                    stuck.kill()
                    stuck.communicate()


class TestLiveModel(Base):
    """Each kind of change observed through the bus, as an applet would see it."""

    def setUp(self):
        super().setUp()
        self.m = Mirror(W.bus.address)

    def tearDown(self):
        self.m.close()

    def disk(self, dev):
        return self.m.find(DISK_IFACE, 'Path', dev)

    def test_loop_device_comes_and_goes(self):
        with H.LoopDisk(16) as disk:
            self.m.wait(lambda m: self.disk(disk.dev)[0], 10, 'InterfacesAdded for %s' % disk.dev)
            path, props = self.disk(disk.dev)
            self.assertEqual(path, '/org/example/Passthrough1/disk/' + disk.name)
            self.assertEqual((props['State'], props['StateReason'], props['AttachedTo']), ('free', '', ''))
            self.assertIn(('added', path, [DISK_IFACE]), [e[1:] for e in self.m.events])
        self.m.wait(lambda m: path not in m.objects, 10, 'InterfacesRemoved for %s' % path)
        self.assertIn(('removed', path, [DISK_IFACE]), [e[1:] for e in self.m.events])

    def test_what_a_free_disk_holds_is_shown(self):
        d = H.tempfile.mkdtemp()
        image = os.path.join(d, 'fs.img')
        try:
            with open(image, 'wb') as f:
                f.truncate(16 * 1024 * 1024)
            H.run(['mkfs.ext4', '-q', '-L', 'ptlabel', image])
            dev = H.run(['losetup', '-f', '--show', image]).stdout.strip()
            try:
                self.m.wait(lambda m: self.disk(dev)[0], 10, 'the disk')
                props = self.disk(dev)[1]
                self.assertEqual((props['FsType'], props['Label'], props['State']), ('ext4', 'ptlabel', 'free'))
            finally:
                H.run(['losetup', '-d', dev])
        finally:
            shutil.rmtree(d)

    def test_mount_and_unmount_change_the_state(self):
        with H.LoopDisk(32, partition=True) as disk:
            self.m.wait(lambda m: self.disk(disk.dev)[0], 10, 'the disk')
            path, _ = self.disk(disk.dev)
            H.run(['mkfs.ext4', '-q', disk.part])
            mnt = H.tempfile.mkdtemp()
            H.run(['mount', disk.part, mnt])
            try:
                self.m.wait(lambda m: m.objects[path][DISK_IFACE]['State'] == 'busy', 10, 'State busy')
                props = self.m.objects[path][DISK_IFACE]
                self.assertIn('mounted at %s' % mnt, props['StateReason'])
                self.assertIn(mnt, props['Mountpoints'])
            finally:
                H.run(['umount', mnt])
            self.m.wait(lambda m: m.objects[path][DISK_IFACE]['State'] == 'free', 10, 'State free again')
            self.assertEqual(self.m.objects[path][DISK_IFACE]['Mountpoints'], [])
            # The mirror kept from signals says what the service says.
            self.assertEqual(self.m.objects[path][DISK_IFACE], managed_objects()[path][DISK_IFACE])

    def test_virsh_attach_and_destroy_are_seen(self):
        """Changes the service did not make: an administrator's virsh, a VM that stops."""
        guest = H.Guest('pt-mirror')
        guest.define_and_start(H.firmware_guest_xml('pt-mirror'))
        try:
            with H.LoopDisk(16) as disk:
                self.m.wait(lambda m: self.disk(disk.dev)[0], 10, 'the disk')
                path, _ = self.disk(disk.dev)
                self.m.wait(lambda m: m.find(DOMAIN_IFACE, 'Name', 'pt-mirror')[0], 20, 'the domain object')
                dom_path, dom = self.m.find(DOMAIN_IFACE, 'Name', 'pt-mirror')
                self.assertEqual(dom['State'], 'running')
                virsh_attach('pt-mirror', disk.dev, 'vdz')
                self.m.wait(lambda m: m.objects[path][DISK_IFACE]['AttachedTo'] == 'pt-mirror', 20,
                            'AttachedTo after virsh attach-device')
                props = self.m.objects[path][DISK_IFACE]
                self.assertEqual((props['State'], props['AttachedBy']), ('attached', 'other'))
                self.m.wait(lambda m: ('DeviceAttached', None, ['pt-mirror', 'disk', disk.name, 'vdz'])
                            in [e[1:] for e in m.events], 10, 'DeviceAttached')
                self.assertIn(path, self.m.objects[dom_path][DOMAIN_IFACE]['Devices'])
                H.virsh('destroy', 'pt-mirror')
                self.m.wait(lambda m: m.objects[path][DISK_IFACE]['AttachedTo'] == '', 20,
                            'AttachedTo cleared after virsh destroy')
                self.m.wait(lambda m: ('DeviceDetached', None, ['pt-mirror', 'disk', disk.name])
                            in [e[1:] for e in m.events], 10, 'DeviceDetached')
                self.m.wait(lambda m: m.objects[dom_path][DOMAIN_IFACE]['State'] == 'shut off', 10,
                            'Domain State shut off')
                self.assertEqual(self.m.objects[dom_path][DOMAIN_IFACE]['Devices'], [])
        finally:
            guest.destroy()

    def test_mirror_equals_the_service_after_random_operations(self):
        """200 random changes; a mirror kept only from signals must equal
        GetManagedObjects, and the List* answers must equal the objects."""
        import random
        rng = random.Random(int(os.environ.get('PT_SEED', '7')))
        loops, mounted, attached = [], {}, set()
        mnt_root = H.tempfile.mkdtemp()

        def op_add():
            if len(loops) < 6:
                disk = H.LoopDisk(8, partition=rng.random() < 0.5)
                disk.setup()
                loops.append(disk)

        def op_remove():
            free = [d for d in loops if d.dev not in mounted and d.dev not in attached]
            if free:
                disk = rng.choice(free)
                loops.remove(disk)
                disk.cleanup()

        def op_mount():
            cand = [d for d in loops if d.dev not in mounted and d.dev not in attached]
            if cand:
                disk = rng.choice(cand)
                part = disk.part or disk.dev
                H.run(['mkfs.ext4', '-q', part])
                where = os.path.join(mnt_root, disk.name)
                os.makedirs(where, exist_ok=True)
                H.run(['mount', part, where])
                mounted[disk.dev] = where

        def op_umount():
            if mounted:
                dev = rng.choice(sorted(mounted))
                H.run(['umount', mounted.pop(dev)])

        def op_attach():
            cand = [d for d in loops if d.dev not in mounted and d.dev not in attached]
            if cand:
                disk = rng.choice(cand)
                r = W.call('AttachDisk', args3('pt-linux', disk.dev), user=None)
                self.assertIn('result', r, r)
                attached.add(disk.dev)

        def op_detach():
            if attached:
                dev = rng.choice(sorted(attached))
                self.assertEqual(W.call('DetachDisk', args3('pt-linux', dev), user=None), {'result': []})
                attached.discard(dev)

        ops = [op_add, op_add, op_remove, op_mount, op_umount, op_attach, op_detach]
        try:
            for i in range(200):
                rng.choice(ops)()
                if i % 50 == 49 or i == 199:
                    self.assert_mirror_agrees()
        finally:
            for dev in sorted(attached):
                W.call('DetachDisk', args3('pt-linux', dev), user=None)
            for where in mounted.values():
                H.run(['umount', where], check=False)
            for disk in loops:
                disk.cleanup()

    def assert_mirror_agrees(self):
        disks = self.m.listing('ListDisks')   # answers once the model has caught up
        managed = self.m.managed()
        try:
            self.m.wait(lambda m: m.objects == managed, 10, 'the mirror to equal GetManagedObjects')
        except AssertionError:
            diff = {p: (self.m.objects.get(p), managed.get(p)) for p in set(managed) | set(self.m.objects)
                    if self.m.objects.get(p) != managed.get(p)}
            raise AssertionError('mirror != GetManagedObjects: %r' % diff)
        by_path = {p: ifs[DISK_IFACE] for p, ifs in managed.items() if DISK_IFACE in ifs}
        self.assertEqual(sorted(d['Path'] for d in disks), sorted(v['Path'] for v in by_path.values()))
        for d in disks:
            self.assertIn(d, list(by_path.values()))

    def test_object_methods_go_through_the_same_requests(self):
        with H.LoopDisk(16) as disk:
            self.m.wait(lambda m: self.disk(disk.dev)[0], 10, 'the disk')
            path, _ = self.disk(disk.dev)
            p = H.run_as('pt-tester', ['busctl', '--json=short', 'call', 'org.example.Passthrough1', path,
                                       DISK_IFACE, 'Attach', 'sa{sv}', 'pt-linux', '0'], bus_address=W.bus.address)
            self.assertEqual(p.returncode, 0, p.stderr)
            target = json.loads(p.stdout)['data'][0]
            self.assertIn(disk.dev, self.live_sources('pt-linux'))
            self.m.wait(lambda m: m.objects[path][DISK_IFACE]['State'] == 'attached', 10, 'attached')
            self.assertEqual(self.m.objects[path][DISK_IFACE]['AttachedBy'], 'passthrough')
            self.assertEqual([c['action_id'] for c in W.polkit.calls()], [ATTACH])
            p = H.run_as('pt-tester', ['busctl', 'call', 'org.example.Passthrough1', path, DISK_IFACE, 'Detach',
                                       'a{sv}', '0'], bus_address=W.bus.address)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertNotIn(disk.dev, self.live_sources('pt-linux'))
            self.m.wait(lambda m: m.objects[path][DISK_IFACE]['State'] == 'free', 10, 'free again')
            self.assertRegex(target, r'^vd[b-z]$')
            p = H.run_as('pt-tester', ['busctl', 'call', 'org.example.Passthrough1', path, DISK_IFACE, 'Detach',
                                       'a{sv}', '0'], bus_address=W.bus.address)
            self.assertNotEqual(p.returncode, 0)
            self.assertIn('%s is not attached to a VM' % disk.dev, p.stderr)


class TestFirmwareGuest(Base):
    def test_guest_that_never_releases_times_out_and_stays_attached(self):
        with H.LoopDisk(16) as disk:
            target = self.attach('pt-fw', disk.dev)
            r = W.call('DetachDisk', args3('pt-fw', disk.dev, timeout_ms=2000))
            self.assertError(r, ERR + 'Timeout')
            self.assertIn(disk.dev, self.live_sources('pt-fw'))
            self.assertIn(target, [a['Target'] for a in W.attached('pt-fw')])
            self.assertEqual(W.disk_entry(disk.dev)['AttachedTo'], 'pt-fw')


class TestReadOnly(Base):
    def test_read_only_device_needs_readonly_option(self):
        with H.LoopDisk(16) as disk:
            H.run(['blockdev', '--setro', disk.dev])
            try:
                self.assertTrue(W.disk_entry(disk.dev)['ReadOnly'])
                r = W.call('AttachDisk', args3('pt-linux', disk.dev))
                self.assertError(r, ERR + 'InvalidArgument')
                self.assertIn('readonly', r['message'])
                self.attach('pt-linux', disk.dev, readonly=True)
                self.detach('pt-linux', disk.dev)
            finally:
                H.run(['blockdev', '--setrw', disk.dev])


class TestMessages(Base):
    """Error messages are for any client (an applet included): they name no program."""

    def test_no_error_message_names_a_client(self):
        W.polkit.set_allowed([])
        W.polkit.set_challenge([DETACH])
        replies = []
        with H.LoopDisk(16) as disk:
            cases = [
                ('AttachDisk', args3('pt-linux', 'nosuchdisk0'), 'NoSuchDevice'),
                ('AttachDisk', args3('no-such-vm', disk.dev), 'NoSuchDomain'),
                ('AttachDisk', args3('pt-linux', disk.dev + 'p1'), 'NoSuchDevice'),
                ('AttachDisk', args3('pt-off', disk.dev), 'DomainNotRunning'),
                ('DetachDisk', args3('pt-linux', disk.dev), 'NotAttached'),
                ('AttachUsb', args3('pt-linux', 'NOPE'), 'NoSuchDevice'),
                ('AttachUsb', args3('pt-linux', ''), 'InvalidArgument'),
                ('Unassign', "('usb:serial=NOT-THERE', @a{sv} {})", 'NotAssigned'),
                ('Assign', args3('nosuchdevice', 'pt-linux'), 'NoSuchDevice'),
                ('ListAttached', "('no-such-vm',)", 'NoSuchDomain'),
            ]
            for method, args, name in cases:
                r = W.call(method, args)
                self.assertError(r, ERR + name)
                replies.append(r)
            W.polkit.set_allowed([ATTACH])
            self.attach('pt-linux', disk.dev)
            try:
                r = W.call('AttachDisk', args3('pt-fw', disk.dev))
                self.assertError(r, ERR + 'AlreadyAttached')
                replies.append(r)
                r = W.call('DetachDisk', args3('pt-linux', disk.dev))
                self.assertError(r, 'org.freedesktop.DBus.Error.InteractiveAuthorizationRequired')
                replies.append(r)
            finally:
                W.polkit.set_allowed([DETACH])
                W.polkit.set_challenge([])
                self.detach('pt-linux', disk.dev)
        for r in replies:
            self.assertNotIn('passthroughctl', r['message'], r)
            self.assertNotRegex(r['message'], r'\b(usb|disk)-(list|attached|detach)\b', r)


class TestClient(Base):
    """passthroughctl against the real service, as the unprivileged user."""

    def test_client_json_listing_and_round_trip(self):
        with H.LoopDisk(24) as disk:
            p = W.ctl('--json', 'disk-list')
            self.assertEqual(p.returncode, 0, p.stderr)
            listed = {d['Path']: d for d in json.loads(p.stdout)}
            self.assertEqual(listed[disk.dev]['Size'], 24 * 1024 * 1024)
            p = W.ctl('--no-ask-password', 'disk-attach', 'pt-linux', disk.dev, 'ctldisk')
            self.assertEqual(p.returncode, 0, p.stderr)
            p = W.ctl('--json', 'disk-attached', 'pt-linux')
            self.assertIn(disk.dev, [a['Source'] for a in json.loads(p.stdout)])
            p = W.ctl('disk-detach', 'pt-linux', disk.dev)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertNotIn(disk.dev, self.live_sources('pt-linux'))

    def test_disk_list_columns_are_lsblk_columns(self):
        """disk-list --raw -o with lsblk's column names prints, for real loop devices, what
        lsblk --raw prints for the same devices and columns; its --json is the Disk object."""
        cols = 'NAME,PATH,SIZE,TYPE,TRAN,SERIAL,FSTYPE,LABEL,PTTYPE,MODEL,WWN,RM,RO'
        d = H.tempfile.mkdtemp()
        devs = []
        try:
            # 24.5 MiB with a labelled ext4 (blanks in the label); 999.96 MiB
            # (lsblk rounds it to 1000M), empty; a GPT disk.
            for name, size, fs in (('fs', 49 * 512 * 1024, True), ('odd', 1048535040, False)):
                image = os.path.join(d, name + '.img')
                with open(image, 'wb') as f:
                    f.truncate(size)
                if fs:
                    H.run(['mkfs.ext4', '-q', '-L', 'pt data', image])
                devs.append(H.run(['losetup', '-f', '--show', image]).stdout.strip())
            with H.LoopDisk(16, partition=True) as gpt:
                devs.append(gpt.dev)
                H.wait_for(lambda: all(W.disk_entry(dev) for dev in devs), 10, what='the disks listed')
                p = W.ctl('--raw', '--noheadings', '-o', cols, 'disk-list')
                self.assertEqual(p.returncode, 0, p.stderr)
                rows = {line.split(' ')[1]: line for line in p.stdout.splitlines()}
                for dev in devs:
                    want = H.run(['lsblk', '--raw', '--noheadings', '--nodeps', '-o', cols, dev]).stdout
                    self.assertEqual(rows[dev], lsblk_with_blkid(want.rstrip('\n'), dev))
                self.assertEqual(rows[devs[0]].split(' ')[2:9], ['24.5M', 'loop', '', '', 'ext4', 'pt\\x20data', ''])
                self.assertEqual(rows[devs[1]].split(' ')[2], '1000M')
                self.assertEqual(rows[devs[2]].split(' ')[8], 'gpt')
                p = W.ctl('--json', 'disk-list')
                listed = {r['Path']: r for r in json.loads(p.stdout)}
                objects = {props['Path']: props for ifaces in managed_objects().values()
                           for name, props in ifaces.items() if name == DISK_IFACE}
                for dev in devs:
                    self.assertEqual(listed[dev], objects[dev])
        finally:
            for dev in devs[:2]:
                H.run(['losetup', '-d', dev])
            shutil.rmtree(d)

    def test_client_reports_service_errors(self):
        p = W.ctl('disk-attach', 'no-such-vm', '/dev/null')
        self.assertEqual(p.returncode, 4)   # no such VM or device
        self.assertIn("No disk '/dev/null'", p.stderr)   # nothing about what it is
        p = W.ctl('-v', 'disk-attached', 'no-such-vm')
        self.assertEqual(p.returncode, 4)
        self.assertIn(ERR + 'NoSuchDomain', p.stderr)


class TestResilience(Base):
    def test_polkit_unreachable_denies(self):
        W.polkit.stop()
        try:
            with H.LoopDisk(16) as disk:
                r = W.call('AttachDisk', args3('pt-linux', disk.dev))
                self.assertError(r, ERR + 'NotAuthorized')
                self.assertNotIn(disk.dev, self.live_sources('pt-linux'))
        finally:
            W.polkit.start()

    def test_libvirtd_restart_reconnects_and_events_return(self):
        W.libvirtd.restart_daemon()
        # The service notices the closed connection and reopens it; the detach
        # below only completes if the DEVICE_REMOVED event is registered again.
        with H.LoopDisk(16) as disk:
            H.wait_for(lambda: 'result' in W.call('ListDomains'), 60, what='service reconnected')
            self.attach('pt-linux', disk.dev, name='again')
            W.guests['linux'].wait_disks(lambda ds: any(v[0] == 'again' for v in ds.values()), 30)
            self.detach('pt-linux', disk.dev)
        self.assertIn('connection closed', W.service_log())


class TestDryRunAndAssign(Base):
    def test_attach_disk_dry_run_changes_nothing(self):
        guest = W.guests['firmware']
        with H.LoopDisk(16) as disk:
            n = len(W.signals.signals())
            before = guest.live_xml()
            target = self.attach('pt-fw', disk.dev, name='dry', dry_run=True)
            self.assertRegex(target, r'^vd[b-z]$')
            self.assertEqual(guest.live_xml(), before)
            self.assertEqual([c['action_id'] for c in W.polkit.calls()], [ATTACH])
            self.assertNotIn('DeviceAttached', [m for m, _ in W.signals.signals()[n:]])
            self.assertIn('Would attach %s to pt-fw as %s' % (disk.dev, target), W.service_log())
            self.assertEqual(W.disk_entry(disk.dev)['AttachedTo'], '')
            self.assertError(W.call('DetachDisk', args3('pt-fw', disk.dev, dry_run=True)), ERR + 'NotAttached')
            W.polkit.set_allowed([])
            self.assertError(W.call('AttachDisk', args3('pt-fw', disk.dev, dry_run=True)), ERR + 'NotAuthorized')

    def test_detach_disk_dry_run_keeps_the_disk(self):
        with H.LoopDisk(16) as disk:
            self.attach('pt-fw', disk.dev)
            r = W.call('DetachDisk', args3('pt-fw', disk.dev, dry_run=True))
            self.assertEqual(r, {'result': []})
            self.assertIn(disk.dev, self.live_sources('pt-fw'))
            self.assertIn('Would detach %s from pt-fw' % disk.dev, W.service_log())

    def test_loop_device_cannot_be_assigned(self):
        W.polkit.set_allowed(['org.example.passthrough1.manage-assignments'])
        with H.LoopDisk(16) as disk:
            for device in (disk.dev, disk.name):
                r = W.call('Assign', args3(device, 'pt-linux'))
                self.assertError(r, ERR + 'InvalidArgument')
                self.assertIn('no stable name', r['message'])
        root = W.disk_entry('/dev/vda')
        if root is not None and root['System']:
            self.assertError(W.call('Assign', args3('/dev/vda', 'pt-linux')), ERR + 'SystemDevice')
        self.assertEqual(W.call('ListAssignments')['result'], [[]])
        self.assertEqual(W.polkit.calls(), [], 'refused before polkit')


class TestServiceLifecycle(Base):
    def test_zz_sigterm_exits_cleanly_and_restart_works(self):
        self.assertEqual(W.stop_service(), 0, W.service_log())
        W.start_service()
        self.assertIn('result', W.call('ListDomains'))


DISK_IFACE = 'org.example.Passthrough1.Disk'
DOMAIN_IFACE = 'org.example.Passthrough1.Domain'


def fill(path, mib):
    """Write mib MiB of non-zero bytes at the start of path (allocated blocks)."""
    chunk = bytes(range(1, 256)) * 4112   # ~1 MiB, no zero byte
    with open(path, 'r+b') as f:
        for _ in range(mib):
            f.write(chunk[:1024 * 1024])
        f.flush()
        os.fsync(f.fileno())


def blocks(path):
    return os.stat(path).st_blocks


class TestDiskModes(Base):
    """Issue 9: TRIM, the scsi bus (SSDs that look like SSDs) and LUNs."""

    def nothing_attached(self, disk):
        self.assertNotIn(disk.dev, self.live_sources('pt-linux'))
        self.assertEqual(W.disk_entry(disk.dev)['AttachedTo'], '')

    def refused(self, disk, error, **kw):
        r = W.call('AttachDisk', args3('pt-linux', disk.dev, **kw))
        self.assertError(r, ERR + error)
        self.nothing_attached(disk)
        return r['message']

    def test_loop_disk_says_its_buses_and_modes(self):
        with H.LoopDisk(16) as disk:
            d = W.disk_entry(disk.dev)
            self.assertEqual(d['Buses'], ['virtio', 'scsi'])
            self.assertEqual(d['Modes'], ['disk'])
            self.assertIsInstance(d['Rotational'], bool)

    def test_lun_of_a_loop_disk_is_not_supported(self):
        with H.LoopDisk(16) as disk:
            msg = self.refused(disk, 'NotSupported', mode='lun')
            self.assertIn('not a SCSI device', msg)
            self.assertEqual(W.polkit.calls(), [])

    def test_lun_of_a_partition_is_refused(self):
        with H.LoopDisk(16, partition=True) as disk:
            r = W.call('AttachDisk', args3('pt-linux', disk.part, mode='lun'))
            self.assertError(r, ERR + 'InvalidArgument')
            self.assertIn('partition', r['message'])
            self.nothing_attached(disk)

    def test_name_with_lun_is_refused(self):
        with H.LoopDisk(16) as disk:
            msg = self.refused(disk, 'InvalidArgument', mode='lun', name='x')
            self.assertIn("'name'", msg)

    def test_unknown_mode_or_bus_is_refused(self):
        with H.LoopDisk(16) as disk:
            self.refused(disk, 'InvalidArgument', mode='cdrom')
            self.refused(disk, 'InvalidArgument', bus='sata')
            self.refused(disk, 'InvalidArgument', bus='scsi', target='vdc')
            self.refused(disk, 'InvalidArgument', rawio=True)
            self.refused(disk, 'InvalidArgument', discard='yes')
            self.assertEqual(W.polkit.calls(), [])

    def test_rawio_is_checked_before_polkit_on_a_loop_disk(self):
        # A loop disk cannot be a LUN: NotSupported before anyone is asked.
        # rawio -> NotAuthorized on a SCSI disk: tests/test-usb-umockdev.py
        # (TestScsiDisk: the testbed's sd disk; the host has none).
        W.polkit.set_allowed([ATTACH])
        with H.LoopDisk(16) as disk:
            self.refused(disk, 'NotSupported', mode='lun', rawio=True)
        self.assertEqual(W.polkit.calls(), [])

    def trim(self, serial, discard):
        guest = W.guests['linux']
        with H.LoopDisk(32) as disk:
            fill(disk.backing, 16)
            before = blocks(disk.backing)
            kw = {} if discard else {'discard': False}
            self.attach('pt-linux', disk.dev, name=serial, **kw)
            listed = [a for a in W.attached('pt-linux') if a['Source'] == disk.dev][0]
            self.assertEqual(listed['Discard'], discard)
            mark = 'PT-TRIM '
            H.wait_for(lambda: [l for l in guest.serial_lines() if l.startswith(mark) and
                                l.split()[2] == serial], 60, what='the guest blkdiscard of ' + serial)
            line = [l for l in guest.serial_lines() if l.startswith(mark) and l.split()[2] == serial][0]
            # The loop device punches the holes as QEMU's discards arrive.
            if discard:
                H.wait_for(lambda: blocks(disk.backing) < before // 4, 20, what='allocated blocks to drop')
            else:
                time.sleep(2)
            after = blocks(disk.backing)
            sys.stderr.write('\nTRIM discard=%s: guest "%s"; backing file blocks %d -> %d (512 B)\n'
                             % (discard, line, before, after))
            self.detach('pt-linux', disk.dev)
            return line, before, after

    def test_guest_trim_reaches_the_host(self):
        line, before, after = self.trim('trim-on', True)
        self.assertTrue(line.endswith(' 0'), line)
        self.assertGreaterEqual(before, 16 * 2048)
        self.assertLess(after, before // 4)

    def test_no_discard_keeps_the_blocks(self):
        line, before, after = self.trim('trim-off', False)
        self.assertGreaterEqual(before, 16 * 2048)
        self.assertGreaterEqual(after, before)

    def test_scsi_bus_shows_an_ssd(self):
        guest = W.guests['linux']
        with H.LoopDisk(16) as disk:
            with open('/sys/block/%s/queue/rotational' % disk.name, 'w') as f:
                f.write('0\n')
            # No uevent for that: send a "change" so the model reads the disk again.
            with open('/sys/block/%s/uevent' % disk.name, 'w') as f:
                f.write('change\n')
            H.wait_for(lambda: W.disk_entry(disk.dev)['Rotational'] is False, 10, what='Rotational false')
            target = self.attach('pt-linux', disk.dev, bus='scsi')
            self.assertRegex(target, r'^sd[a-z]$')
            root = ET.fromstring(H.virsh('dumpxml', 'pt-linux').stdout)
            ctrl = [c for c in root.findall('./devices/controller') if c.get('type') == 'scsi']
            self.assertEqual([c.get('model') for c in ctrl], ['virtio-scsi'])
            self.assertEqual(ctrl[0].find('alias').get('name'), 'ua-pt-scsi0')
            d = [d for d in root.findall('./devices/disk') if d.find('source').get('dev') == disk.dev][0]
            self.assertEqual(d.find('target').get('bus'), 'scsi')
            self.assertEqual(d.find('target').get('rotation_rate'), '1')
            self.assertEqual(d.find('driver').get('discard'), 'unmap')
            listed = [a for a in W.attached('pt-linux') if a['Source'] == disk.dev][0]
            self.assertEqual((listed['Bus'], listed['Mode']), ('scsi', 'disk'))

            def sd_report():
                last = [l for l in guest.serial_lines() if l.startswith('PT-SD')]
                return last and dict(x.split(':') for x in last[-1].split()[1:])
            seen = H.wait_for(lambda: sd_report() or None, 60, what='a SCSI disk in the guest')
            sys.stderr.write('\nguest SCSI disks (name:rotational): %r\n' % seen)
            self.assertIn('0', seen.values())
            self.detach('pt-linux', disk.dev)
            H.wait_for(lambda: not sd_report(), 30, what='the SCSI disk gone from the guest')

    @staticmethod
    def scsi_controllers(domain):
        root = ET.fromstring(H.virsh('dumpxml', domain).stdout)
        return [c.find('alias').get('name') for c in root.findall('./devices/controller')
                if c.get('type') == 'scsi']

    def test_attaches_at_once_to_one_vm_take_turns(self):
        # Each attach chooses its target (and whether to add the SCSI
        # controller) from the domain's XML: authorized at the same moment,
        # they must still get one target each and one controller in all.
        if self.scsi_controllers('pt-linux'):
            H.virsh('detach-device-alias', 'pt-linux', 'ua-pt-scsi0', '--live')
            H.wait_for(lambda: not self.scsi_controllers('pt-linux'), 30, what='the old controller gone')
        with contextlib.ExitStack() as stack:
            disks = [stack.enter_context(H.LoopDisk(16)) for _ in range(4)]
            buses = ['scsi', 'scsi', 'virtio', 'virtio']
            W.polkit.hang([ATTACH])
            try:
                callers = [W.call_async('AttachDisk', args3('pt-linux', d.dev, bus=b)) for d, b in zip(disks, buses)]
                H.wait_for(lambda: len([c for c in W.polkit.calls() if c['result'] is None]) == 4, 30,
                           what='four checks pending')
            finally:
                W.polkit.release()
            replies = [json.loads(c.communicate(timeout=120)[0]) for c in callers]
            try:
                self.assertTrue(all('result' in r for r in replies), replies)
                targets = [r['result'][0] for r in replies]
                self.assertEqual(len(set(targets)), 4, targets)
                self.assertEqual([t[:2] for t in targets], ['sd', 'sd', 'vd', 'vd'])
                self.assertEqual(self.scsi_controllers('pt-linux'), ['ua-pt-scsi0'])
                for d in disks:
                    self.assertIn(d.dev, self.live_sources('pt-linux'))
            finally:
                for d, r in zip(disks, replies):
                    if 'result' in r:
                        self.detach('pt-linux', d.dev)

    def test_failed_scsi_attach_removes_the_controller_it_added(self):
        # The controller an earlier scsi attach left (it stays with the VM)
        # goes first: the Linux guest lets a PCI device go.
        if self.scsi_controllers('pt-linux'):
            H.virsh('detach-device-alias', 'pt-linux', 'ua-pt-scsi0', '--live')
            H.wait_for(lambda: not self.scsi_controllers('pt-linux'), 30, what='the old controller gone')
        with H.LoopDisk(16) as disk:
            # Held O_EXCL by someone the checks cannot see: the exclusive
            # open right before the disk's libvirt call fails, after the
            # controller was added.
            fd = os.open(disk.dev, os.O_RDONLY | os.O_EXCL)
            try:
                mark = self.log_size()
                r = W.call('AttachDisk', args3('pt-linux', disk.dev, bus='scsi'))
            finally:
                os.close(fd)
            self.assertError(r, ERR + 'DeviceBusy')
            self.nothing_attached(disk)
            log = self.log_since(mark)
            self.assertIn('Adding a virtio-scsi controller to VM pt-linux', log)
            self.assertIn('Removing the virtio-scsi controller added to VM pt-linux', log)
            t0 = time.monotonic()
            H.wait_for(lambda: not self.scsi_controllers('pt-linux'), 30, what='the added controller gone')
            sys.stderr.write('\nfailed scsi attach: controller added, then gone from the live XML %.1fs '
                             'after the answer\n' % (time.monotonic() - t0))


def lsblk_with_blkid(row, dev):
    """lsblk reads FSTYPE, LABEL and PTTYPE from udev's database; without udevd (as here
    and in CI) it has none and prints them empty, so there they are what lsblk reads when
    it probes the device itself: libblkid's values (blkid -p), escaped as lsblk --raw does.
    Cells 6-8 of the row (FSTYPE, LABEL, PTTYPE)."""
    if os.path.isdir('/run/udev/data'):
        return row
    found = dict(line.split('=', 1) for line in subprocess.run(
        ['blkid', '-p', '-o', 'udev', dev], capture_output=True, text=True).stdout.splitlines() if '=' in line)
    cells = row.split(' ')
    for i, key in ((6, 'ID_FS_TYPE'), (7, 'ID_FS_LABEL_ENC'), (8, 'ID_PART_TABLE_TYPE')):
        cells[i] = found.get(key, '')   # udev's \x20 escapes are lsblk --raw's
    return ' '.join(cells)


def managed_objects():
    """GetManagedObjects as {path: {interface: {property: value}}} (busctl's JSON)."""
    p = subprocess.run(['busctl', '--address', W.bus.address, '--json=short', 'call', 'org.example.Passthrough1',
                        '/org/example/Passthrough1', 'org.freedesktop.DBus.ObjectManager', 'GetManagedObjects'],
                       capture_output=True, text=True, check=True)
    data = json.loads(p.stdout)['data'][0]
    return {path: {iface: {k: v['data'] for k, v in props.items()} for iface, props in ifaces.items()}
            for path, ifaces in data.items()}


def skip(reason):
    print('SKIP: %s' % reason)
    sys.exit(77)


if __name__ == '__main__':
    if len(sys.argv) < 2:
        sys.exit('usage: test-service.py BUILDDIR [unittest args]')
    if os.geteuid() != 0:
        skip('needs root: loop devices, a private mount namespace and a private libvirtd')
    for tool in ('libvirtd', 'qemu-system-x86_64', 'dbus-daemon', 'losetup'):
        if not shutil.which(tool) and not os.path.exists('/usr/sbin/' + tool):
            skip('%s is not installed (run tests/install-deps.sh)' % tool)
    H.ensure_private_namespace()   # re-executes this script with the same argv
    BUILDDIR = os.path.abspath(sys.argv.pop(1))
    unittest.main(verbosity=2)

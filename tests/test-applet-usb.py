#!/usr/bin/python3
"""passthrough-applet with USB devices: the service runs on a umockdev testbed
(the host has no USB bus; LD_PRELOAD and UMOCKDEV_DIR given to it alone), the
applet as pt-tester on a private desktop (tests/ptdesktop.py).

    /usr/bin/python3 tests/test-applet-usb.py BUILDDIR [unittest args]

Checked: a stick plugged in (a uevent) gives a notification "<name> plugged
in" with "Attach to <VM>" and "Keep on host"; answering "Attach to" with
ActionInvoked makes the applet ask the service (polkit asked for the
applet's bus name with the interactive flag), and the failure libvirt gives
for a device it cannot see is told with the service's message; "Always give
to <VM>" from the menu creates the assignment (ListAssignments) and the menu
checks it; the automatic attach that follows fails the same way and
AutoAttachFailed is told; clicking the checked entry unassigns. A hub is
shown disabled with the service's reason. A stick (a USB device carrying a
disk) is one entry offered "as USB device" and "as disk", with one notice.
Two devices of one model are told apart by their serials. A device plugged
in again: the older notice is closed. A device without a serial is offered
"Always give port <port> to <VM>". A VM named with "_" is shown so in the
menu. An applet outside any session (a systemd user scope) follows the
session $XDG_SESSION_ID names: no notice while it is inactive. Needs root; exits 77 when the
applet was not built, Xvfb or umockdev is missing.
"""

import os
import pwd
import shutil
import sys
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
        sys.exit('usage: test-applet-usb.py BUILDDIR [unittest args]')
    if not os.path.exists(os.path.join(sys.argv[1], 'client', 'applet', 'passthrough-applet')):
        skip('passthrough-applet was not built (GTK 3, libayatana-appindicator3 or libnotify missing)')
    if os.geteuid() != 0:
        skip('needs root: a private mount namespace and a private libvirtd')
    for tool in ('umockdev-wrapper', 'Xvfb', 'libvirtd', 'qemu-system-x86_64', 'dbus-daemon'):
        if not shutil.which(tool) and not os.path.exists('/usr/sbin/' + tool):
            skip('%s is not installed (run tests/install-deps.sh)' % tool)
    U.reexec_with_preload()


preflight()
sys.path.insert(0, HERE)
import ptharness as H  # noqa: E402
import ptdesktop as D  # noqa: E402
from ptworld import World  # noqa: E402

import gi  # noqa: E402
gi.require_version('UMockdev', '1.0')
from gi.repository import UMockdev  # noqa: E402

ATTACH_USB = 'org.example.passthrough1.attach-usb'
MANAGE = 'org.example.passthrough1.manage-assignments'
VM = 'pt-usbvm'
UNDERSCORE_VM = 'pt_under'
STICK = 'QEMU USB HARDDRIVE'
W = DESK = TB = ROOT = None


def add_usb(*args, **kwargs):
    return U.add_usb(TB, *args, **kwargs)


def setUpModule():
    global W, DESK, TB, ROOT
    if os.path.exists('/run/udev/control'):   # take the kernel's events, as test-usb-umockdev.py does
        H.assert_private()
        H.run(['mount', '-t', 'tmpfs', '-o', 'mode=0755', 'pt-no-udevd', '/run/udev'])
    TB = UMockdev.Testbed.new()
    ROOT = add_usb(None, '1-0', 1, '1d6b:0002', serial='0000:00:14.0', product='xHCI Host Controller', manufacturer='Linux', hub=True)
    W = World(BUILDDIR, guests=('off',),
              service_env={'LD_PRELOAD': U.PRELOAD, 'UMOCKDEV_DIR': TB.get_root_dir()}).start()
    xml = H.firmware_guest_xml(VM).replace("<controller type='usb' model='none'/>",
                                           "<controller type='usb' model='qemu-xhci'/>")
    W.guests['usb'] = H.Guest(VM).define_and_start(xml)
    under = os.path.join(W.tmp, UNDERSCORE_VM + '.xml')   # defined, never started
    with open(under, 'w') as f:
        f.write(H.firmware_guest_xml(UNDERSCORE_VM))
    H.virsh('define', under)
    DESK = D.Desktop(W.tmp, 'pt-tester').start()
    DESK.start_applet(os.path.join(BUILDDIR, 'client', 'applet', 'passthrough-applet'), W.bus.address)
    H.wait_for(lambda: 'USB devices' in DESK.labels(), 30, what='the menu')


def tearDownModule():
    if DESK:
        DESK.stop()
    if W:
        W.stop()


class TestUsb(unittest.TestCase):
    def setUp(self):
        W.polkit.set_allowed([])
        W.polkit.set_challenge([ATTACH_USB, MANAGE])
        W.polkit.set_interactive_allowed([ATTACH_USB, MANAGE])
        W.polkit.clear_calls()
        self.seen = len(DESK.notifications())

    def new_notes(self):
        return DESK.notifications()[self.seen:]

    def wait_note(self, prefix, what, timeout=30):
        try:
            return H.wait_for(lambda: [n for n in self.new_notes() if n[1].startswith(prefix)], timeout,
                              what=what)[0]
        except H.HarnessError as e:
            raise AssertionError('%s\nnotifications: %r\nmenu: %r\nservice: %r\napplet log:\n%s' % (
                e, self.new_notes(), DESK.labels(), W.call('ListUsbDevices', user=None), DESK.applet_log()))

    def assert_interactive_from_applet(self, action):
        calls = [c for c in W.polkit.calls() if c['action_id'] == action]
        self.assertTrue(calls, 'polkit was not asked for %s' % action)
        bus = W.polkit.bus().get_object('org.freedesktop.DBus', '/org/freedesktop/DBus')
        for c in calls:
            self.assertEqual(c['subject_kind'], 'system-bus-name')
            pid = bus.GetConnectionUnixProcessID(c['subject']['name'], dbus_interface='org.freedesktop.DBus')
            self.assertEqual(int(pid), DESK.applet.pid)
            self.assertTrue(c['flags'] & 1, 'AllowUserInteraction not set: %r' % c)

    def test_0_hub_is_disabled_with_the_reason(self):
        item = H.wait_for(lambda: DESK.find('Linux xHCI Host Controller'), 20, what='the root hub in the menu')
        self.assertFalse(item['enabled'])
        self.assertIn('—', item['label'])   # "<name> — <the service's reason>"

    def test_4_two_sticks_of_one_model_are_told_apart_by_serial(self):
        one = add_usb(ROOT, '1-6', 9, 'abcd:0001', serial='SN-ONE', product='Twin', manufacturer='Acme')
        two = add_usb(ROOT, '1-7', 10, 'abcd:0001', serial='SN-TWO', product='Twin', manufacturer='Acme')
        H.wait_for(lambda: DESK.find('Acme Twin SN-TWO'), 30, what='the second twin with its serial')
        self.assertIsNotNone(DESK.find('Acme Twin SN-ONE'))
        for path in (one, two):
            TB.uevent(path, 'remove')
            TB.remove_device(path)
        H.wait_for(lambda: not DESK.find('Acme Twin'), 30, what='the twins gone')

    def test_1_plug_notification_acted_on(self):
        path = add_usb(ROOT, '1-4', 7, '46f4:0001', serial='SN-PLUG', product=STICK, manufacturer='QEMU')
        TB.uevent(path, 'add')
        nid, summary, _body, actions, _hints = self.wait_note(STICK, 'the plug notification')
        self.assertEqual(summary, '%s plugged in' % STICK)
        self.assertEqual(actions.get('attach:%s' % VM), 'Attach to %s' % VM)
        self.assertEqual(actions.get('keep'), 'Keep on host')
        DESK.invoke(nid, 'attach:%s' % VM)
        failed = self.wait_note('Could not give', 'the attach failure (libvirt cannot see a testbed device)', 60)
        self.assertIn(VM, failed[1])
        self.assertTrue(failed[2])   # the service's message
        self.assert_interactive_from_applet(ATTACH_USB)

    def test_2_always_give_to(self):
        DESK.click(STICK, 'Always give to %s' % VM)
        H.wait_for(lambda: [a for a in W.call('ListAssignments', user=None)['result'][0]
                            if a['Domain'] == VM and 'SN-PLUG' in a['Match']], 30, what='the assignment')
        self.assert_interactive_from_applet(MANAGE)
        H.wait_for(lambda: DESK.find(STICK, 'Always give to %s' % VM)['toggle'] == 1, 20,
                   what='the assignment checked in the menu')
        # The service attaches at once; libvirt cannot see the device: AutoAttachFailed is told.
        failed = self.wait_note('Could not give', 'AutoAttachFailed told')
        self.assertIn(VM, failed[1])
        DESK.click(STICK, 'Always give to %s' % VM)   # checked: a click stops it
        H.wait_for(lambda: W.call('ListAssignments', user=None)['result'][0] == [], 30, what='unassigned')

    def test_3_a_stick_is_one_entry(self):
        stick = add_usb(ROOT, '1-5', 8, '0781:5581', serial='SN-STICK', product='Ultra', manufacturer='SanDisk')
        TB.add_device('block', 'sdw', stick, ['size', '2048', 'removable', '1', 'ro', '0'],
                      ['DEVTYPE', 'disk', 'DEVNAME', '/dev/sdw', 'MAJOR', '8', 'MINOR', '224'])
        label = 'SanDisk Ultra (1.0\u00a0MB)'
        entry = H.wait_for(lambda: DESK.find(label), 30, what='the stick with its disk in the menu')
        gives = [c['label'] for c in entry['children'] if c['label'].startswith('Give to')]
        self.assertEqual(gives, ['Give to %s as USB device' % VM, 'Give to %s as disk' % VM])
        self.assertFalse([l for l in DESK.labels() if '/dev/sdw' in l])   # not a second entry
        H.wait_for(lambda: [n for n in self.new_notes() if 'plugged in' in n[1]], 30, what='the plug notification')
        time.sleep(1)   # a second notice (for its disk) would come by now
        notes = [n[1] for n in self.new_notes() if 'plugged in' in n[1]]
        self.assertEqual(len(notes), 1, notes)   # one notice, not two
        self.assertTrue(notes[0].startswith('SanDisk Ultra'), notes)

    def test_5_replugged_the_older_notice_is_closed(self):
        # The first notice's actions would name a device object that is gone.
        path = add_usb(ROOT, '1-9', 11, 'abcd:0002', serial='SN-REPLUG', product='Replug', manufacturer='Acme')
        TB.uevent(path, 'add')
        first = self.wait_note('Acme Replug', 'the first plug notification')[0]
        TB.uevent(path, 'remove')
        TB.remove_device(path)
        path = add_usb(ROOT, '1-9', 12, 'abcd:0002', serial='SN-REPLUG', product='Replug', manufacturer='Acme')
        TB.uevent(path, 'add')
        H.wait_for(lambda: len([n for n in self.new_notes() if n[1].startswith('Acme Replug')]) == 2, 30,
                   what='the second plug notification')
        self.assertIn(first, DESK.closed())
        TB.uevent(path, 'remove')
        TB.remove_device(path)

    def test_6_without_a_serial_the_port_is_assigned(self):
        # The service can only know such a device by its port (usb:port=1-8):
        # the menu says so instead of promising this very device.
        path = add_usb(ROOT, '1-8', 13, 'abcd:0003', serial='', product='Noserial', manufacturer='Acme')
        entry = H.wait_for(lambda: DESK.find('Acme Noserial'), 30, what='the device without a serial')
        always = [c['label'] for c in entry['children'] if c['label'].startswith('Always give')]
        self.assertIn('Always give port 1-8 to %s' % VM, always)
        self.assertNotIn('Always give to %s' % VM, always)
        TB.uevent(path, 'remove')
        TB.remove_device(path)

    def test_7_an_underscore_in_a_name_is_shown(self):
        # dbusmenu reads "_x" as a mnemonic: a VM named pt_under must reach
        # the panel escaped ("__"), shown as written.
        path = add_usb(ROOT, '1-10', 14, 'abcd:0004', serial='SN-UNDER', product='Under', manufacturer='Acme')
        try:
            H.wait_for(lambda: DESK.find('Acme Under', 'Always give to %s' % UNDERSCORE_VM), 30,
                       what='"Always give to %s" shown with its underscore' % UNDERSCORE_VM)
        finally:
            TB.uevent(path, 'remove')
            TB.remove_device(path)


    def test_8_notices_only_in_an_active_session(self):
        # An autostarted applet in a systemd user scope has no session of its
        # own: it takes the one $XDG_SESSION_ID names, and tells nothing while
        # that session is not the active one. logind's session file is faked
        # on a tmpfs in this private namespace (sd-login reads it).
        H.assert_private()
        sessions = '/run/systemd/sessions'
        os.makedirs(sessions, exist_ok=True)
        H.run(['mount', '-t', 'tmpfs', '-o', 'mode=0755', 'pt-sessions', sessions])
        uid = pwd.getpwnam(DESK.user).pw_uid

        def session(active):
            with open(os.path.join(sessions, 'c7'), 'w') as f:
                f.write('UID=%d\nUSER=%s\nACTIVE=%d\nREMOTE=0\nSTATE=%s\n' % (
                    uid, DESK.user, active, 'active' if active else 'online'))

        def plug(port, devnum, name):
            path = add_usb(ROOT, port, devnum, 'abcd:0005', serial='SN-' + name, product=name, manufacturer='Acme')
            TB.uevent(path, 'add')
            return path

        exe = os.path.join(BUILDDIR, 'client', 'applet', 'passthrough-applet')
        paths = []
        DESK.stop_applet()
        try:
            session(1)
            DESK.start_applet(exe, W.bus.address, extra_env={'XDG_SESSION_ID': 'c7'})
            H.wait_for(lambda: 'USB devices' in DESK.labels(), 30, what='the menu of the applet in session c7')
            paths.append(plug('1-11', 15, 'Seen'))
            self.wait_note('Acme Seen', 'a notice while the session is active')
            session(0)
            paths.append(plug('1-12', 16, 'Unseen'))
            H.wait_for(lambda: DESK.find('Acme Unseen'), 30, what='the device plugged in the inactive session')
            time.sleep(2)   # its notice, if any, would come by now
            session(1)
            paths.append(plug('1-13', 17, 'Later'))
            self.wait_note('Acme Later', 'a notice once the session is active again')
            self.assertFalse([n for n in self.new_notes() if n[1].startswith('Acme Unseen')], self.new_notes())
        finally:
            DESK.stop_applet()
            for path in paths:
                TB.uevent(path, 'remove')
                TB.remove_device(path)
            H.run(['umount', sessions])
            DESK.start_applet(exe, W.bus.address)
            H.wait_for(lambda: 'USB devices' in DESK.labels(), 30, what='the menu again')


if __name__ == '__main__':
    H.ensure_private_namespace()   # re-executes this script with the same argv
    # Only passthroughd gets the preload library (and the testbed's directory).
    os.environ.pop('LD_PRELOAD', None)
    BUILDDIR = os.path.abspath(sys.argv.pop(1))
    unittest.main(verbosity=2)

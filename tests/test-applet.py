#!/usr/bin/python3
"""passthrough-applet end to end, driven as a panel and a notification server
drive it: Xvfb, a private session bus with a StatusNotifierWatcher and
python-dbusmock's notification_daemon (tests/ptdesktop.py); a private system
bus with the real passthroughd, the polkit mock, a private libvirtd with two
small TCG Linux guests, loop disks, and a python-dbusmock stand-in for
UDisks2's Filesystem.Unmount (udisksd exports no block devices without udevd).

    /usr/bin/python3 tests/test-applet.py BUILDDIR [unittest args]

The applet runs as pt-tester. Checked: the menu follows the service's objects;
attach from the menu, move to the other VM, give back (the disk in the guest
per the live domain XML); polkit asked for the applet's bus name with the
interactive flag (the mock grants these actions only interactively);
unmount-and-attach of a disk the desktop mounted under /media/pt-tester;
polkit refusing (a notification with the service's message, nothing changed;
a message with "&" and "<" escaped for a server that reads body markup);
"Always give to" disabled for a disk the service could not know again; the service stopping (the menu says why)
and coming back (picked up again); the window read through at-spi as a screen
reader reads it (tests/atspi-table.py: headers, the held disk's state and VM)
and rendered under Xvfb as a PNG (copied to PT_APPLET_SCREENSHOT when set; the
README's docs/applet-window.png comes from there).

Needs root; exits 77 when the applet was not built or Xvfb is missing.
"""

import os
import shutil
import subprocess
import sys
import time
import unittest
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ptharness as H  # noqa: E402
import ptdesktop as D  # noqa: E402
from ptworld import World  # noqa: E402

ATTACH = 'org.example.passthrough1.attach-disk'
DETACH = 'org.example.passthrough1.detach'
MANAGE = 'org.example.passthrough1.manage-assignments'
USER = 'pt-tester'
VM1, VM2 = 'pt-linux', 'pt-linux2'
W = None
DESK = None
UDISKS = None
UDISKS_POLICY = '''<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <policy context="default">
    <allow send_destination="org.freedesktop.UDisks2"/>
  </policy>
</busconfig>
'''


def setUpModule():
    global W, DESK, UDISKS
    policy = os.path.join(BUILDDIR, 'test-applet-udisks.conf')
    with open(policy, 'w') as f:
        f.write(UDISKS_POLICY)
    W = World(BUILDDIR, guests=('linux',), bus_policy_files=[policy]).start()
    g = H.Guest(VM2, os.path.join(W.tmp, VM2 + '.log'))
    g.define_and_start(H.linux_guest_xml(VM2, g.log_path, kit=W.kit))
    W.guests['linux2'] = g
    g.wait_ready(180)
    H.assert_private()
    H.run(['mount', '-t', 'tmpfs', '-o', 'mode=0755', 'pt-media', '/media'])
    UDISKS = subprocess.Popen([H.PYTHON, '-m', 'dbusmock', '--system', '-m', 'org.freedesktop.UDisks2',
                               '/org/freedesktop/UDisks2', 'org.freedesktop.UDisks2.Manager'],
                              env=dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=W.bus.address),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    H.wait_for(lambda: W.polkit.bus().name_has_owner('org.freedesktop.UDisks2'), 15, what='UDisks2 mock')
    DESK = D.Desktop(W.tmp, USER).start()
    if os.path.exists('/usr/libexec/at-spi-bus-launcher'):
        DESK.start_accessibility()
    DESK.start_applet(applet_exe(), W.bus.address)
    H.wait_for(DESK.item, 30, what='the tray item')


def tearDownModule():
    if DESK:
        DESK.stop()
    if UDISKS:
        UDISKS.terminate()
        UDISKS.wait()
    if W:
        W.stop()


def applet_exe():
    return os.path.join(BUILDDIR, 'client', 'applet', 'passthrough-applet')


def applet_bus_name():
    """The applet's unique name on the system bus."""
    bus = W.polkit.bus()
    dbus_obj = bus.get_object('org.freedesktop.DBus', '/org/freedesktop/DBus')
    for name in dbus_obj.ListNames(dbus_interface='org.freedesktop.DBus'):
        if name.startswith(':'):
            try:
                pid = dbus_obj.GetConnectionUnixProcessID(name, dbus_interface='org.freedesktop.DBus')
            except Exception:
                continue
            if int(pid) == DESK.applet.pid:
                return str(name)
    return None


def live_sources(domain):
    root = ET.fromstring(H.virsh('dumpxml', domain).stdout)
    return [s.get('dev') for s in root.findall('./devices/disk/source') if s.get('dev')]


def udisks_mock(block=None):
    import dbus
    path = '/org/freedesktop/UDisks2' + ('/block_devices/' + block if block else '')
    return dbus.Interface(W.polkit.bus().get_object('org.freedesktop.UDisks2', path), 'org.freedesktop.DBus.Mock')


class Base(unittest.TestCase):
    def setUp(self):
        # Granted only to a caller that allows interactive authorization, as a
        # desktop's agent would after the password prompt.
        W.polkit.set_allowed([])
        W.polkit.set_challenge([ATTACH, DETACH, MANAGE])
        W.polkit.set_interactive_allowed([ATTACH, DETACH, MANAGE])
        W.polkit.clear_calls()
        self.seen = len(DESK.notifications())

    def disk_label(self, disk):
        return '%s (' % disk.dev   # a loop device has no model: "/dev/loop3 (16.8 MB)"

    def wait_disk_in_menu(self, disk):
        return H.wait_for(lambda: DESK.find('Disks', menu=None) is not None and
                          self.find_disk(disk), 20, what='%s in the menu' % disk.dev)

    def find_disk(self, disk):
        for item in DESK.menu()['children']:
            if item['label'].startswith(self.disk_label(disk)):
                return item
        return None

    def assert_asked_polkit(self, action):
        name = applet_bus_name()
        self.assertIsNotNone(name, 'the applet is not on the system bus')
        calls = [c for c in W.polkit.calls() if c['action_id'] == action]
        self.assertTrue(calls, 'polkit was not asked for %s' % action)
        for c in calls:
            self.assertEqual(c['subject_kind'], 'system-bus-name')
            self.assertEqual(c['subject']['name'], name)
            self.assertTrue(c['flags'] & 1, 'AllowUserInteraction not set: %r' % c)

    def wait(self, predicate, timeout, what):
        try:
            return H.wait_for(predicate, timeout, what=what)
        except H.HarnessError as e:
            raise AssertionError('%s\nnotifications: %r\napplet log:\n%s' % (
                e, self.new_notifications(), DESK.applet_log()))

    def new_notifications(self):
        return DESK.notifications()[self.seen:]


class TestMenu(Base):
    def test_1_menu_has_sections_and_running_vms(self):
        H.wait_for(lambda: 'USB devices' in DESK.labels(), 20, what='the USB section')
        labels = DESK.labels()
        self.assertIn('Disks', labels)
        self.assertIn('Open Passthrough…', labels)
        with H.LoopDisk(16) as disk:
            item = self.wait_disk_in_menu(disk)
            self.assertTrue(item['enabled'])
            subs = [c['label'] for c in item['children'] if c['type'] != 'separator']
            self.assertIn('Give to %s' % VM1, subs)
            self.assertIn('Give to %s' % VM2, subs)
            self.assertIn('Always give to %s' % VM1, subs)
            give_back = DESK.find(self.disk_label(disk), 'Give back to host')
            self.assertFalse(give_back['enabled'])   # nobody has it
        H.wait_for(lambda: self.find_disk(disk) is None, 20, what='the disk gone from the menu')

    def test_2_attach_move_give_back(self):
        with H.LoopDisk(16) as disk:
            self.wait_disk_in_menu(disk)
            DESK.click(self.disk_label(disk), 'Give to %s' % VM1)
            H.wait_for(lambda: disk.dev in live_sources(VM1), 30, what='the disk in %s' % VM1)
            self.assert_asked_polkit(ATTACH)
            W.guests['linux'].wait_disks(lambda disks: len(disks) > 0, 30)
            held = H.wait_for(lambda: (self.find_disk(disk) or {}).get('label', '').endswith('— in %s' % VM1)
                              and self.find_disk(disk), 20, what='the holder in the menu')
            marks = {c['label']: c['toggle'] for c in held['children'] if c['toggle'] is not None}
            self.assertEqual(marks['Give to %s' % VM1], 1)
            self.assertEqual(marks['Give to %s' % VM2], 0)

            W.polkit.clear_calls()
            DESK.click(self.disk_label(disk), 'Give to %s' % VM2)
            self.wait(lambda: disk.dev in live_sources(VM2), 60, 'the disk moved to %s' % VM2)
            self.assertNotIn(disk.dev, live_sources(VM1))
            self.assert_asked_polkit(DETACH)
            self.assert_asked_polkit(ATTACH)

            W.polkit.clear_calls()
            H.wait_for(lambda: DESK.find(self.disk_label(disk), 'Give back to host')['enabled'], 20,
                       what='give back enabled')
            DESK.click(self.disk_label(disk), 'Give back to host')
            H.wait_for(lambda: disk.dev not in live_sources(VM2), 60, what='the disk back on the host')
            self.assert_asked_polkit(DETACH)
            self.assertEqual(self.new_notifications(), [])   # nothing failed

    def test_3_polkit_refusing_is_told_and_changes_nothing(self):
        W.polkit.set_challenge([])
        W.polkit.set_interactive_allowed([])
        with H.LoopDisk(16) as disk:
            self.wait_disk_in_menu(disk)
            DESK.click(self.disk_label(disk), 'Give to %s' % VM1)
            notes = H.wait_for(self.new_notifications, 30, what='a notification')
            summary, body = notes[-1][1], notes[-1][2]
            self.assertIn('Could not give', summary)
            self.assertIn(VM1, summary)
            self.assertIn('uthori', body)   # the service's own message, shown as it is
            self.assertNotIn(disk.dev, live_sources(VM1))
            self.assert_asked_polkit(ATTACH)

    def test_3c_a_message_with_markup_characters_is_escaped(self):
        # The notification server announces body-markup: a service message
        # with "&" and "<" (here polkit's own error, quoted by the service)
        # reaches it escaped, so it shows as written and breaks nothing.
        W.polkit.set_failing({ATTACH: 'polkitd <restarting> & busy'})
        try:
            with H.LoopDisk(16) as disk:
                self.wait_disk_in_menu(disk)
                DESK.click(self.disk_label(disk), 'Give to %s' % VM1)
                notes = self.wait(self.new_notifications, 30, 'a notification')
                summary, body = notes[-1][1], notes[-1][2]
                self.assertIn('Could not give', summary)
                self.assertIn('polkitd &lt;restarting&gt; &amp; busy', body)
                self.assertNotIn('<', body)
                self.assertNotIn(disk.dev, live_sources(VM1))
        finally:
            W.polkit.set_failing({})

    def test_3b_a_dismissed_prompt_is_not_shouted(self):
        # The user closed the password dialog: the service answers
        # AuthorizationDismissed, the applet only logs it (no notification).
        W.polkit.set_dismissed([ATTACH])
        try:
            with H.LoopDisk(16) as disk:
                self.wait_disk_in_menu(disk)
                DESK.click(self.disk_label(disk), 'Give to %s' % VM1)
                self.wait(lambda: 'Authentication for %s was dismissed' % ATTACH in DESK.applet_log(), 30,
                          'the dismissed answer in the applet log')
                self.assert_asked_polkit(ATTACH)
                self.assertNotIn(disk.dev, live_sources(VM1))
                # A notification is sent before the log line would be, if at
                # all (notes_failure replaces the g_message): none came.
                time.sleep(1)
                self.assertEqual(self.new_notifications(), [])
        finally:
            W.polkit.set_dismissed([])

    def test_4_a_disk_without_identity_cannot_be_assigned(self):
        # A loop device has no WWN, serial or by-id name: the service could not
        # know it again, so "Always give to" is offered disabled, with why.
        with H.LoopDisk(16) as disk:
            item = self.wait_disk_in_menu(disk)
            always = [c for c in item['children'] if c['label'].startswith('Always give to')]
            self.assertEqual(len(always), 2)
            self.assertFalse(any(c['enabled'] for c in always))
            self.assertTrue([c for c in item['children'] if 'no serial number' in c['label']])

    def test_5_unmount_and_attach(self):
        import dbus
        mnt = '/media/%s/STICK' % USER
        with H.LoopDisk(16) as disk:
            H.run(['mkfs.ext4', '-q', disk.dev])
            os.makedirs(mnt)
            H.run(['mount', disk.dev, mnt])
            try:
                udisks_mock().AddObject('/org/freedesktop/UDisks2/block_devices/' + disk.name,
                                        'org.freedesktop.UDisks2.Filesystem',
                                        {'MountPoints': dbus.Array([dbus.ByteArray(mnt.encode() + b'\0')],
                                                                   signature='ay')},
                                        [('Unmount', 'a{sv}', '',
                                          'import subprocess; subprocess.run(["umount", %r], check=True)' % mnt)],
                                        signature='ssa{sv}a(ssss)')
                label = self.disk_label(disk)
                H.wait_for(lambda: DESK.find(label, 'Unmount and give to %s' % VM1), 20,
                           what='"Unmount and give to" offered')
                DESK.click(label, 'Unmount and give to %s' % VM1)
                H.wait_for(lambda: disk.dev in live_sources(VM1), 30, what='the unmounted disk in the guest')
                calls = udisks_mock(disk.name).GetMethodCalls('Unmount')
                self.assertEqual(len(calls), 1)
                self.assertFalse(os.path.ismount(mnt))
                DESK.click(label, 'Give back to host')
                H.wait_for(lambda: disk.dev not in live_sources(VM1), 60, what='the disk back')
            finally:
                subprocess.run(['umount', mnt], stderr=subprocess.DEVNULL)
                udisks_mock().RemoveObject('/org/freedesktop/UDisks2/block_devices/' + disk.name)

    def test_6_busy_disk_is_disabled_with_the_reason(self):
        with H.LoopDisk(16) as disk:
            H.run(['mkfs.ext4', '-q', disk.dev])
            mnt = os.path.join(W.tmp, 'busy-mnt')
            os.makedirs(mnt, exist_ok=True)
            H.run(['mount', disk.dev, mnt])
            try:
                item = H.wait_for(lambda: (self.find_disk(disk) or {}).get('enabled') is False
                                  and self.find_disk(disk), 20, what='the busy disk disabled')
                self.assertIn('mounted at %s' % mnt, item['label'])
            finally:
                H.run(['umount', mnt])

    def test_7_service_restarting_under_the_applet(self):
        W.stop_service()
        H.wait_for(lambda: any('not running' in l for l in DESK.labels()), 20, what='the reason in the menu')
        reason = [c for c in DESK.menu()['children'] if 'not running' in c['label']][0]
        self.assertFalse(reason['enabled'])
        self.assertNotIn('Disks', DESK.labels())
        # Asked to start it, the bus tells why it cannot (this bus has no
        # activation file): the reason shown says so.
        DESK.click('Start the Passthrough service')
        H.wait_for(lambda: any('.service files' in l for l in DESK.labels()), 20, what="the bus's reason")
        W.start_service()
        H.wait_for(lambda: 'Disks' in DESK.labels(), 30, what='the menu back after the restart')
        with H.LoopDisk(16) as disk:
            self.wait_disk_in_menu(disk)
            DESK.click(self.disk_label(disk), 'Give to %s' % VM1)
            H.wait_for(lambda: disk.dev in live_sources(VM1), 30, what='an attach after the restart')
            DESK.click(self.disk_label(disk), 'Give back to host')
            H.wait_for(lambda: disk.dev not in live_sources(VM1), 60, what='the disk back')

    def test_8_window(self):
        with H.LoopDisk(16) as disk, H.LoopDisk(32) as other:
            self.wait_disk_in_menu(disk)
            self.wait_disk_in_menu(other)
            DESK.click(self.disk_label(disk), 'Give to %s' % VM1)
            self.wait(lambda: disk.dev in live_sources(VM1), 30, 'the disk in %s' % VM1)
            DESK.click('Open Passthrough')
            wid = H.wait_for(lambda: subprocess.run(['xdotool', 'search', '--name', '^Passthrough$'],
                                                   env=dict(os.environ, DISPLAY=DESK.display),
                                                   capture_output=True, text=True).stdout.split(), 20,
                             what='the window')[0]
            time.sleep(1)   # let it draw
            shot = os.path.join(W.tmp, 'applet-window.png')
            H.run(['import', '-display', DESK.display, '-window', wid, shot])
            self.assertGreater(os.path.getsize(shot), 1000)
            # Not a blank picture: more than a few colours.
            colours = H.run(['identify', '-format', '%k', shot]).stdout.strip()
            self.assertGreater(int(colours), 2)
            if DESK.accessible:
                # Read as a screen reader would: the table's headers and rows.
                tables = DESK.tables('passthrough-applet')
                self.assertEqual(len(tables), 1, tables)
                self.assertEqual(tables[0]['headers'], ['Device', 'Kind', 'State', 'VM', 'Always given to'])
                rows = {r[0]: r for r in tables[0]['rows']}
                held = [r for name, r in rows.items() if name.startswith(self.disk_label(disk))]
                self.assertEqual(len(held), 1, rows)
                self.assertEqual(held[0][3], VM1)
                self.assertIn('attached to VM %s' % VM1, held[0][2])
                free = [r for name, r in rows.items() if name.startswith(self.disk_label(other))][0]
                self.assertEqual((free[2], free[3]), ('free', ''))
            dest = os.environ.get('PT_APPLET_SCREENSHOT')
            if dest:
                shutil.copy(shot, dest)
            DESK.click(self.disk_label(disk), 'Give back to host')
            self.wait(lambda: disk.dev not in live_sources(VM1), 60, 'the disk back')


def skip(reason):
    print('SKIP: %s' % reason)
    sys.exit(77)


if __name__ == '__main__':
    if len(sys.argv) < 2:
        sys.exit('usage: test-applet.py BUILDDIR [unittest args]')
    if not os.path.exists(os.path.join(sys.argv[1], 'client', 'applet', 'passthrough-applet')):
        skip('passthrough-applet was not built (GTK 3, libayatana-appindicator3 or libnotify missing)')
    if os.geteuid() != 0:
        skip('needs root: loop devices, a private mount namespace and a private libvirtd')
    for tool in ('Xvfb', 'xdotool', 'import', 'libvirtd', 'qemu-system-x86_64', 'dbus-daemon'):
        if not shutil.which(tool) and not os.path.exists('/usr/sbin/' + tool):
            skip('%s is not installed (run tests/install-deps.sh)' % tool)
    H.ensure_private_namespace()
    BUILDDIR = os.path.abspath(sys.argv.pop(1))
    unittest.main(verbosity=2)

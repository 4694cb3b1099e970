"""A private desktop for passthrough-applet, driven as a panel and a
notification server drive it: Xvfb, a session dbus-daemon, a
StatusNotifierWatcher (tests/sni-watcher.py) and python-dbusmock's
notification_daemon. The applet runs as an unprivileged user; the test reads
its tray item's menu over com.canonical.dbusmenu (GetLayout), clicks with
Event(id, "clicked", ...), reads Notify calls from the mock and answers with
ActionInvoked.
"""

import os
import pwd
import re
import shutil
import subprocess
import tempfile
import time
import xml.sax.saxutils

import dbus

import ptharness as H

HERE = os.path.dirname(os.path.abspath(__file__))
NOTIFY = 'org.freedesktop.Notifications'
MENU_IFACE = 'com.canonical.dbusmenu'
SNI_IFACE = 'org.kde.StatusNotifierItem'


def session_config(socket):
    return '''<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path=%s</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
''' % xml.sax.saxutils.escape(socket)


class Desktop:
    def __init__(self, tmpdir, user):
        self.tmp = tempfile.mkdtemp(prefix='pt-desktop-', dir=tmpdir)
        os.chmod(self.tmp, 0o755)
        self.user = user
        self.procs = []
        self.applet = None
        self._bus = None

    def _spawn(self, argv, env=None, log=None):
        out = open(os.path.join(self.tmp, log), 'ab') if log else subprocess.DEVNULL
        p = subprocess.Popen(argv, env=env or dict(os.environ), stdin=subprocess.DEVNULL,
                             stdout=out, stderr=out)
        self.procs.append(p)
        return p

    def start(self):
        for n in range(90, 120):
            if not os.path.exists('/tmp/.X11-unix/X%d' % n) and not os.path.exists('/tmp/.X%d-lock' % n):
                self.display = ':%d' % n
                break
        self._spawn(['Xvfb', self.display, '-screen', '0', '1024x600x24', '-ac', '-nolisten', 'tcp'],
                    log='xvfb.log')
        H.wait_for(lambda: os.path.exists('/tmp/.X11-unix/X' + self.display[1:]), 20, what='Xvfb')
        sock = os.path.join(self.tmp, 'session_bus_socket')
        conf = os.path.join(self.tmp, 'session.conf')
        with open(conf, 'w') as f:
            f.write(session_config(sock))
        self._spawn(['dbus-daemon', '--config-file=' + conf, '--nofork', '--nopidfile'], log='session-bus.log')
        H.wait_for(lambda: os.path.exists(sock), 10, what='session bus')
        self.address = 'unix:path=' + sock
        env = dict(os.environ, DBUS_SESSION_BUS_ADDRESS=self.address)
        self._spawn([H.PYTHON, os.path.join(HERE, 'sni-watcher.py')], env=env, log='watcher.log')
        self._spawn([H.PYTHON, '-m', 'dbusmock', '--session', '--template', 'notification_daemon',
                     '--parameters', '{"capabilities": "body body-markup actions action-icons persistence"}'],
                    env=env, log='notifications.log')
        H.wait_for(lambda: self.bus().name_has_owner(NOTIFY)
                   and self.bus().name_has_owner('org.kde.StatusNotifierWatcher'), 20,
                   what='the watcher and the notification server')
        return self

    def state(self):
        """What another process needs to drive this desktop (Desktop.reopen):
        the lab starts it in one command and reads it in the next ones."""
        return {'tmp': self.tmp, 'user': self.user, 'display': self.display, 'address': self.address,
                'pids': [p.pid for p in self.procs]}

    @classmethod
    def reopen(cls, state):
        """The desktop another process started (its state()), to read and
        drive; its processes are ended by their pids (state()['pids'])."""
        d = cls.__new__(cls)
        d.tmp, d.user, d.display, d.address = state['tmp'], state['user'], state['display'], state['address']
        d.procs, d.applet, d._bus = [], None, None
        return d

    def bus(self):
        if self._bus is None:
            self._bus = dbus.bus.BusConnection(self.address)
        return self._bus

    # -- the applet ----------------------------------------------------------

    def user_env(self, system_bus=None):
        """The desktop user's environment (as a session would give it)."""
        pw = pwd.getpwnam(self.user)
        home = os.path.join(self.tmp, 'home')
        runtime = os.path.join(self.tmp, 'runtime')
        for d in (home, runtime):
            os.makedirs(d, mode=0o700, exist_ok=True)
            os.chown(d, pw.pw_uid, pw.pw_gid)
        env = {'PATH': '/usr/bin:/bin', 'HOME': home, 'USER': self.user, 'LOGNAME': self.user,
               'LANG': 'C.UTF-8', 'DISPLAY': self.display, 'XDG_RUNTIME_DIR': runtime,
               'DBUS_SESSION_BUS_ADDRESS': self.address, 'GSETTINGS_BACKEND': 'memory'}
        if system_bus:
            env['DBUS_SYSTEM_BUS_ADDRESS'] = system_bus
        return env

    def as_user(self, argv):
        pw = pwd.getpwnam(self.user)
        return ['setpriv', '--reuid=%d' % pw.pw_uid, '--regid=%d' % pw.pw_gid, '--init-groups', '--', *argv]

    def start_accessibility(self):
        """at-spi's bus (org.a11y.Bus on the session bus) for the desktop user;
        applets started afterwards export their widgets there."""
        self._spawn(self.as_user(['/usr/libexec/at-spi-bus-launcher', '--launch-immediately']),
                    env=self.user_env(), log='at-spi.log')
        H.wait_for(lambda: self.bus().name_has_owner('org.a11y.Bus'), 20, what='the accessibility bus')
        self.accessible = True

    accessible = False

    def start_applet(self, exe, system_bus, args=(), extra_env=None):
        env = self.user_env(system_bus)
        if not self.accessible:
            env['NO_AT_BRIDGE'] = '1'
        env.update(extra_env or {})
        self.applet = self._spawn(self.as_user([exe, *args]), env=env, log='applet.log')
        return self.applet

    def tables(self, app_name):
        """The application's tables as at-spi shows them (tests/atspi-table.py)."""
        import json
        p = subprocess.run(self.as_user([H.PYTHON, os.path.join(HERE, 'atspi-table.py'), app_name]),
                           env=self.user_env(), capture_output=True, text=True, timeout=60)
        if p.returncode != 0:
            raise H.HarnessError('atspi-table.py failed: %s' % p.stderr)
        return json.loads(p.stdout)

    def stop_applet(self):
        if self.applet and self.applet.poll() is None:
            self.applet.terminate()
            self.applet.wait(10)
        self.applet = None

    def applet_log(self):
        with open(os.path.join(self.tmp, 'applet.log'), errors='replace') as f:
            return f.read()[-3000:]

    def item(self):
        """(bus name, object path) of the registered tray item, or None."""
        w = self.bus().get_object('org.kde.StatusNotifierWatcher', '/StatusNotifierWatcher')
        items = w.Get('org.kde.StatusNotifierWatcher', 'RegisteredStatusNotifierItems',
                      dbus_interface=dbus.PROPERTIES_IFACE)
        for i in items:
            name, _, path = str(i).partition('/')
            return name, '/' + path
        return None

    def menu_object(self):
        name, path = H.wait_for(self.item, 30, what='the tray item registered')
        item = self.bus().get_object(name, path)
        menu = item.Get(SNI_IFACE, 'Menu', dbus_interface=dbus.PROPERTIES_IFACE)
        return self.bus().get_object(name, menu)

    def menu(self):
        """The menu as nested dicts: {id, label, enabled, toggle, children};
        labels as a panel shows them (dbusmenu's "_x" is a mnemonic x, "__" a "_")."""
        _rev, layout = self.menu_object().GetLayout(0, -1, dbus.Array([], signature='s'),
                                                   dbus_interface=MENU_IFACE)

        def walk(node):
            nid, props, children = node
            return {'id': int(nid),
                    'label': re.sub('_(.)', r'\1', str(props.get('label', ''))),
                    'type': str(props.get('type', 'standard')),
                    'enabled': bool(props.get('enabled', True)),
                    'visible': bool(props.get('visible', True)),
                    'toggle': int(props['toggle-state']) if 'toggle-state' in props else None,
                    'children': [walk(c) for c in children]}
        return walk(layout)

    def find(self, *labels, menu=None):
        """The item reached by following labels (each a prefix), or None."""
        node = menu or self.menu()
        for label in labels:
            node = next((c for c in node['children'] if c['visible'] and c['label'].startswith(label)), None)
            if node is None:
                return None
        return node

    def labels(self, menu=None):
        return [c['label'] for c in (menu or self.menu())['children'] if c['visible'] and c['type'] != 'separator']

    def click(self, *labels, timeout=20):
        """Click the enabled item reached by labels. The applet rebuilds its
        menu on every change (new ids), so an id that went stale meanwhile is
        looked up again, as a panel would after LayoutUpdated."""
        deadline = time.monotonic() + timeout
        while True:
            node = self.find(*labels)
            if node and node['enabled']:
                try:
                    self.menu_object().Event(dbus.Int32(node['id']), 'clicked', dbus.Int32(0, variant_level=1),
                                             dbus.UInt32(int(time.time())), dbus_interface=MENU_IFACE)
                    return node
                except dbus.exceptions.DBusException as e:
                    if 'does not refer to a menu item' not in str(e):
                        raise
            if time.monotonic() > deadline:
                raise H.HarnessError('no enabled menu item %s: %r' % (' > '.join(labels), node))
            time.sleep(0.05)

    # -- notifications ---------------------------------------------------------

    def _mock(self):
        return dbus.Interface(self.bus().get_object(NOTIFY, '/org/freedesktop/Notifications'),
                              'org.freedesktop.DBus.Mock')

    def notifications(self):
        """[(id, summary, body, {action key: label}, hints)] in order; the id
        is the one the mock answered (its counter counts new notifications)."""
        out, next_id = [], 1
        for _t, args in self._mock().GetMethodCalls('Notify'):
            app, replaces, icon, summary, body, actions, hints, timeout = args
            nid = int(replaces)
            if not nid:
                nid, next_id = next_id, next_id + 1
            acts = dict(zip([str(a) for a in actions[0::2]], [str(a) for a in actions[1::2]]))
            out.append((nid, str(summary), str(body), acts, {str(k): v for k, v in hints.items()}))
        return out

    def closed(self):
        """The ids the applet asked to close (CloseNotification), in order."""
        return [int(args[0]) for _t, args in self._mock().GetMethodCalls('CloseNotification')]

    def invoke(self, notification_id, action):
        self._mock().EmitSignal(NOTIFY, 'ActionInvoked', 'us', [dbus.UInt32(notification_id), action])

    def stop(self):
        self.stop_applet()
        if self._bus is not None:
            self._bus.close()
        for p in reversed(self.procs):
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(5)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        shutil.rmtree(self.tmp, ignore_errors=True)

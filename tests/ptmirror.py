"""A mirror of passthroughd's objects kept only from its signals, as a
desktop applet would keep one: GetManagedObjects once, then InterfacesAdded,
InterfacesRemoved and PropertiesChanged; DeviceAttached / DeviceDetached are
recorded too. Every event is kept with its arrival time (monotonic seconds).

    m = Mirror(bus_address)
    m.wait(lambda m: some_path in m.objects, 10, 'what')
"""

import time

from gi.repository import Gio, GLib

BUS_NAME = 'org.example.Passthrough1'
ROOT = '/org/example/Passthrough1'
OM = 'org.freedesktop.DBus.ObjectManager'
PROPS = 'org.freedesktop.DBus.Properties'


def connect(address):
    flags = (Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT |
             Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION)
    return Gio.DBusConnection.new_for_address_sync(address, flags, None, None)


class Mirror:
    def __init__(self, address):
        self.conn = connect(address)
        self.ctx = GLib.MainContext.default()
        self.events = []          # (time, kind, path or domain, detail)
        self.objects = {}
        self._subs = [
            self.conn.signal_subscribe(BUS_NAME, OM, None, ROOT, None, Gio.DBusSignalFlags.NONE, self._om, None),
            self.conn.signal_subscribe(BUS_NAME, PROPS, 'PropertiesChanged', None, None,
                                       Gio.DBusSignalFlags.NONE, self._props, None),
            self.conn.signal_subscribe(BUS_NAME, 'org.example.Passthrough1', None, ROOT, None,
                                       Gio.DBusSignalFlags.NONE, self._own, None),
        ]
        # Subscribed first, then read: nothing falls in between (signals that
        # raced are applied on top, which converges).
        reply = self.conn.call_sync(BUS_NAME, ROOT, OM, 'GetManagedObjects', None, None,
                                    Gio.DBusCallFlags.NONE, 10000, None)
        for path, ifaces in reply.unpack()[0].items():
            self.objects[path] = {i: dict(p) for i, p in ifaces.items() if i.startswith(BUS_NAME)}

    def _om(self, conn, sender, path, iface, member, params, _data):
        now = time.monotonic()
        if member == 'InterfacesAdded':
            obj, ifaces = params.unpack()
            entry = self.objects.setdefault(obj, {})
            for i, p in ifaces.items():
                entry[i] = dict(p)
            self.events.append((now, 'added', obj, sorted(ifaces)))
        elif member == 'InterfacesRemoved':
            obj, names = params.unpack()
            entry = self.objects.get(obj, {})
            for i in names:
                entry.pop(i, None)
            if not entry:
                self.objects.pop(obj, None)
            self.events.append((now, 'removed', obj, sorted(names)))

    def _props(self, conn, sender, path, iface, member, params, _data):
        name, changed, invalidated = params.unpack()
        entry = self.objects.setdefault(path, {}).setdefault(name, {})
        entry.update(changed)
        for key in invalidated:
            entry.pop(key, None)
        self.events.append((time.monotonic(), 'changed', path, dict(changed)))

    def _own(self, conn, sender, path, iface, member, params, _data):
        self.events.append((time.monotonic(), member, None, list(params.unpack())))

    def pump(self, seconds=0.0):
        deadline = time.monotonic() + seconds
        while True:
            while self.ctx.pending():
                self.ctx.iteration(False)
            if time.monotonic() >= deadline:
                return
            time.sleep(0.005)

    def wait(self, predicate, timeout, what):
        deadline = time.monotonic() + timeout
        while True:
            self.pump()
            if predicate(self):
                return
            if time.monotonic() > deadline:
                raise AssertionError('timed out waiting for %s; last events: %r' % (what, self.events[-8:]))
            time.sleep(0.01)

    def managed(self):
        """GetManagedObjects now, in the mirror's own form: the service's own
        interfaces (sd-bus also names the standard ones, without properties)."""
        reply = self.conn.call_sync(BUS_NAME, ROOT, OM, 'GetManagedObjects', None, None,
                                    Gio.DBusCallFlags.NONE, 30000, None)
        return {path: {i: dict(p) for i, p in ifaces.items() if i.startswith(BUS_NAME)}
                for path, ifaces in reply.unpack()[0].items()}

    def listing(self, method):
        reply = self.conn.call_sync(BUS_NAME, ROOT, 'org.example.Passthrough1', method, None, None,
                                    Gio.DBusCallFlags.NONE, 30000, None)
        return reply.unpack()[0]

    def find(self, iface, key, value):
        for path, ifaces in self.objects.items():
            if ifaces.get(iface, {}).get(key) == value:
                return path, ifaces[iface]
        return None, None

    def close(self):
        for s in self._subs:
            self.conn.signal_unsubscribe(s)
        self.conn.close_sync(None)

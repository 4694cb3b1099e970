#!/usr/bin/python3
"""A panel's org.kde.StatusNotifierWatcher on the session bus, as KDE's,
Xfce's or the GNOME AppIndicator extension's: tray items register here.

    /usr/bin/python3 tests/sni-watcher.py   (DBUS_SESSION_BUS_ADDRESS set)

RegisteredStatusNotifierItems lists "BUSNAME/PATH" (or the service name an
item gave); IsStatusNotifierHostRegistered is true (a host, the panel, is
there). Items leave the list when their bus name does.
"""

import dbus
import dbus.mainloop.glib
import dbus.service
from gi.repository import GLib

IFACE = 'org.kde.StatusNotifierWatcher'


class Watcher(dbus.service.Object):
    def __init__(self, bus):
        super().__init__(bus, '/StatusNotifierWatcher')
        self.bus = bus
        self.items = []
        bus.add_signal_receiver(self.owner_changed, 'NameOwnerChanged', 'org.freedesktop.DBus')

    def owner_changed(self, name, old, new):
        gone = [i for i in self.items if not new and i.startswith(name + '/')]
        for i in gone:
            self.items.remove(i)
            self.StatusNotifierItemUnregistered(i)

    @dbus.service.method(IFACE, in_signature='s', sender_keyword='sender')
    def RegisterStatusNotifierItem(self, service, sender=None):
        item = sender + service if service.startswith('/') else service
        if item not in self.items:
            self.items.append(item)
        self.StatusNotifierItemRegistered(item)

    @dbus.service.method(IFACE, in_signature='s')
    def RegisterStatusNotifierHost(self, service):
        pass

    @dbus.service.signal(IFACE, signature='s')
    def StatusNotifierItemRegistered(self, item):
        pass

    @dbus.service.signal(IFACE, signature='s')
    def StatusNotifierItemUnregistered(self, item):
        pass

    @dbus.service.method(dbus.PROPERTIES_IFACE, in_signature='ss', out_signature='v')
    def Get(self, iface, prop):
        return self.GetAll(iface)[prop]

    @dbus.service.method(dbus.PROPERTIES_IFACE, in_signature='s', out_signature='a{sv}')
    def GetAll(self, iface):
        return {'RegisteredStatusNotifierItems': dbus.Array(self.items, signature='s'),
                'IsStatusNotifierHostRegistered': True, 'ProtocolVersion': dbus.Int32(0)}


if __name__ == '__main__':
    dbus.mainloop.glib.DBusGMainLoop(set_as_default=True)
    session = dbus.SessionBus()
    watcher = Watcher(session)
    name = dbus.service.BusName(IFACE, session)
    print('ready', flush=True)
    GLib.MainLoop().run()

#!/usr/bin/python3
"""Send many calls at once on one connection; time other calls meanwhile.

    ptflood.py flood N DOMAIN
        N concurrent AttachDisk(DOMAIN, "no-such-disk-<i>") calls; prints
        {"errors": {error-name: count}, "unanswered": 0}
    ptflood.py probe PID DOMAIN [DEVICE]
        While process PID lives: time Properties.Get(Version) and, with
        DEVICE, an AttachDisk dry run of it, again and again; prints
        {"probe_ms": [...], "dry_run_ms": [...], "dry_run_errors": [...]}

Run the flood as one user and the probe as another: calls in flight are
capped per uid.
"""

import json
import os
import sys
import time

from gi.repository import Gio, GLib

BUS_NAME = 'org.example.Passthrough1'
OBJECT = '/org/example/Passthrough1'
IFACE = 'org.example.Passthrough1'


def connect():
    address = os.environ['DBUS_SYSTEM_BUS_ADDRESS']
    flags = (Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT |
             Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION)
    return Gio.DBusConnection.new_for_address_sync(address, flags, None, None)


def flood(n, domain):
    conn = connect()
    out = {'errors': {}}
    left = [n]

    def answered(c, res, _data):
        try:
            c.call_finish(res)
            name = 'ok'
        except GLib.Error as e:
            name = Gio.DBusError.get_remote_error(e) or e.message
        out['errors'][name] = out['errors'].get(name, 0) + 1
        left[0] -= 1

    for i in range(n):
        args = GLib.Variant('(ssa{sv})', (domain, 'no-such-disk-%d' % i, {}))
        conn.call(BUS_NAME, OBJECT, IFACE, 'AttachDisk', args, None, Gio.DBusCallFlags.NONE, 60000, None,
                  answered, None)
    ctx = GLib.MainContext.default()
    deadline = time.monotonic() + 120
    while left[0] > 0 and time.monotonic() < deadline:
        ctx.iteration(True)
    out['unanswered'] = left[0]
    return out


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open('/proc/%d/stat' % pid) as f:
        return f.read().split(') ')[1][0] != 'Z'


def timed(conn, method, args, iface=IFACE):
    t0 = time.monotonic()
    try:
        conn.call_sync(BUS_NAME, OBJECT, iface, method, args, None, Gio.DBusCallFlags.NONE, 30000, None)
        error = None
    except GLib.Error as e:
        error = Gio.DBusError.get_remote_error(e) or e.message
    return (time.monotonic() - t0) * 1000, error


def probe(pid, domain, device):
    conn = connect()
    out = {'probe_ms': [], 'dry_run_ms': [], 'dry_run_errors': []}
    deadline = time.monotonic() + 120
    while alive(pid) and time.monotonic() < deadline:
        ms, _ = timed(conn, 'Get', GLib.Variant('(ss)', (IFACE, 'Version')), 'org.freedesktop.DBus.Properties')
        out['probe_ms'].append(ms)
        if device:
            args = GLib.Variant('(ssa{sv})', (domain, device, {'dry-run': GLib.Variant('b', True)}))
            ms, error = timed(conn, 'AttachDisk', args)
            out['dry_run_ms'].append(ms)
            if error:
                out['dry_run_errors'].append(error)
    return out


def main():
    if sys.argv[1] == 'flood':
        out = flood(int(sys.argv[2]), sys.argv[3])
    else:
        out = probe(int(sys.argv[2]), sys.argv[3], sys.argv[4] if len(sys.argv) > 4 else None)
    print(json.dumps(out))


if __name__ == '__main__':
    main()

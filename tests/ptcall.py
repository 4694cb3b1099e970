#!/usr/bin/python3
"""Call one org.example.Passthrough1 method and print the outcome as JSON.

    ptcall.py [--interactive] [--timeout SEC] METHOD 'GVARIANT-TEXT-OF-ARGS'

The arguments are GVariant text of the method's input tuple, e.g.
    ptcall.py AttachDisk "('vm', '/dev/loop0', {'name': <'disk1'>})"
and are parsed against the type given by the contract, unless --type is
given (to send deliberately wrong types). Prints
    {"result": [...]}  or  {"error": "org.example...Error.X", "message": "..."}
Used by the tests to call as an unprivileged user (run it via setpriv).
"""

import argparse
import json
import os
import sys

from gi.repository import Gio, GLib

BUS_NAME = 'org.example.Passthrough1'
OBJECT = '/org/example/Passthrough1'
IFACE = 'org.example.Passthrough1'

SIGNATURES = {
    'ListDisks': '()',
    'ListUsbDevices': '()',
    'ListDomains': '()',
    'ListAttached': '(s)',
    'AttachDisk': '(ssa{sv})',
    'DetachDisk': '(ssa{sv})',
    'AttachUsb': '(ssa{sv})',
    'DetachUsb': '(ssa{sv})',
    'Assign': '(ssa{sv})',
    'Unassign': '(sa{sv})',
    'ListAssignments': '()',
    'AttachAll': '(sa{sv})',
    'DetachAll': '(sa{sv})',
}


def connect():
    address = os.environ.get('DBUS_SYSTEM_BUS_ADDRESS')
    if not address:
        return Gio.bus_get_sync(Gio.BusType.SYSTEM, None)
    flags = (Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT |
             Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION)
    return Gio.DBusConnection.new_for_address_sync(address, flags, None, None)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--interactive', action='store_true')
    parser.add_argument('--timeout', type=float, default=120)
    parser.add_argument('--type', help='GVariant type of the argument tuple')
    parser.add_argument('method')
    parser.add_argument('args', nargs='?', default='()')
    opts = parser.parse_args()

    vtype = opts.type or SIGNATURES.get(opts.method, '()')
    params = GLib.Variant.parse(GLib.VariantType.new(vtype), opts.args, None, None)
    flags = Gio.DBusCallFlags.NONE
    if opts.interactive:
        flags |= Gio.DBusCallFlags.ALLOW_INTERACTIVE_AUTHORIZATION
    conn = connect()
    try:
        reply = conn.call_sync(BUS_NAME, OBJECT, IFACE, opts.method, params, None,
                               flags, int(opts.timeout * 1000), None)
    except GLib.Error as e:
        name = Gio.DBusError.get_remote_error(e) or ''
        Gio.DBusError.strip_remote_error(e)
        print(json.dumps({'error': name, 'message': e.message}))
        return 1
    print(json.dumps({'result': reply.unpack()}))
    return 0


if __name__ == '__main__':
    sys.exit(main())

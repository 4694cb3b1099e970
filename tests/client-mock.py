#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A mock org.example.Passthrough1 service for tests/test-client.sh.

Serves canned data on the bus at --address, introspecting exactly as the
contract (dbus/org.example.Passthrough1.xml), and appends one JSON line per
method call to --log: method, arguments, options with their D-Bus types, and
whether the caller allowed interactive authorization. Writes --ready once the
bus name is owned; exits when the bus goes away.

Needs Debian's python3-gi: run it with /usr/bin/python3.
"""

import argparse
import json
import sys

from gi.repository import Gio, GLib

NAME = 'org.example.Passthrough1'
PATH = '/org/example/Passthrough1'
ERROR = 'org.example.Passthrough1.Error.'
VERSION = '0.1.0-mock'


def v(signature, value):
    return GLib.Variant(signature, value)


def disk(name, size, transport, model='', mountpoints=(), system=False,
         in_use='', attached_to='', removable=False, extra=None):
    d = {
        'Id': v('s', 'id-' + name),
        'Name': v('s', name),
        'Path': v('s', '/dev/' + name),
        'Size': v('t', size),
        'Model': v('s', model),
        'Serial': v('s', 'SER-' + name),
        'Wwn': v('s', ''),
        'Transport': v('s', transport),
        'Removable': v('b', removable),
        'ReadOnly': v('b', False),
        'Mountpoints': v('as', list(mountpoints)),
        'System': v('b', system),
        'InUse': v('s', in_use),
        'AttachedTo': v('s', attached_to),
    }
    d.update(extra or {})
    return d


DISKS = [
    disk('vda', 20 * 1024**3, 'virtio', mountpoints=['/', '/boot/efi', '[SWAP]'],
         system=True, in_use='mounted at /'),
    # Keys a later service may add: one of a known type is passed through,
    # one of a type the client does not read is skipped.
    disk('sdb', 500107862016, 'sata', model='Samsung SSD 870',
         extra={'FutureCount': v('i', -3),
                'FutureMap': v('a{ss}', {'a': 'b'})}),
    disk('sdc', 8 * 1024**3, 'usb', model='Cruzer Blade', mountpoints=['/mnt/stick'],
         in_use='mounted at /mnt/stick', removable=True),
    disk('loop0', 512 * 1024**2, 'loop', model='Loop\x1b[31mDisk',
         in_use='attached to VM debian', attached_to='debian'),
    disk('nvme0n1', 2000398934016, 'nvme', model='WD Blue SN570', system=True),
]

DOMAINS = [
    {'Name': v('s', 'debian'), 'Uuid': v('s', '6f1c2a3e-9b2d-4c1e-8f00-0a1b2c3d4e5f'),
     'State': v('s', 'running')},
    {'Name': v('s', 'win11'), 'Uuid': v('s', '0d2e4f60-1111-2222-3333-444455556666'),
     'State': v('s', 'shut off')},
]

USB = [
    {'Id': v('s', 'usb-1d6b-0003-usb1'), 'Bus': v('u', 1), 'Device': v('u', 1),
     'Port': v('s', 'usb1'), 'VendorId': v('s', '1d6b'), 'ProductId': v('s', '0003'),
     'Serial': v('s', '0000:00:04.0'), 'Manufacturer': v('s', 'Linux'),
     'Product': v('s', 'xHCI Host Controller'), 'IsHub': v('b', True),
     'AttachedTo': v('s', '')},
    {'Id': v('s', 'usb-46f4-0001-SN-LAB-0001'), 'Bus': v('u', 1), 'Device': v('u', 12),
     'Port': v('s', '1-1'), 'VendorId': v('s', '46f4'), 'ProductId': v('s', '0001'),
     'Serial': v('s', 'SN-LAB-0001'), 'Manufacturer': v('s', 'QEMU'),
     'Product': v('s', 'QEMU USB HARDDRIVE'), 'IsHub': v('b', False),
     'AttachedTo': v('s', 'debian')},
]

ATTACHED = {
    'debian': [
        {'Kind': v('s', 'disk'), 'Id': v('s', 'id-loop0'), 'Source': v('s', '/dev/loop0'),
         'Target': v('s', 'vdb')},
        {'Kind': v('s', 'usb'), 'Id': v('s', 'usb-46f4-0001-SN-LAB-0001'),
         'Source': v('s', '001/012'), 'Target': v('s', '')},
    ],
    'win11': [],
}

ATTACH_OPTIONS = {'name': 's', 'target': 's', 'readonly': 'b'}
DETACH_OPTIONS = {'timeout-ms': 'u'}


class Failure(Exception):
    def __init__(self, name, message):
        super().__init__(message)
        self.name = name if '.' in name else ERROR + name
        self.message = message


def find_domain(domain):
    for d in DOMAINS:
        if domain in (d['Name'].unpack(), d['Uuid'].unpack()):
            return d['Name'].unpack()
    raise Failure('NoSuchDomain', f'No such domain: {domain}')


def check_options(options, allowed):
    for key, value in options.items():
        if allowed.get(key) != value.get_type_string():
            raise Failure('InvalidArgument', f'Unknown option "{key}"')


def list_attached(domain):
    return ATTACHED[find_domain(domain)]


def attach_disk(domain, device, options, interactive):
    find_domain(domain)
    check_options(options, ATTACH_OPTIONS)
    if device == '/dev/needauth' and not interactive:
        raise Failure('org.freedesktop.DBus.Error.InteractiveAuthorizationRequired',
                      'Interactive authentication required.')
    if device in ('/dev/vda', 'vda'):
        raise Failure('SystemDevice', 'vda holds the host\'s root file system')
    return options['target'].unpack() if 'target' in options else 'vdb'


def detach_disk(domain, device, options):
    find_domain(domain)
    check_options(options, DETACH_OPTIONS)
    if device == '/dev/stuck':
        ms = options['timeout-ms'].unpack() if 'timeout-ms' in options else 10000
        raise Failure('Timeout', f'The guest did not release {device} within {ms} ms')


class Mock:
    def __init__(self, log_path):
        self.log_path = log_path

    def log(self, method, params, interactive):
        args = []
        for p in params:
            if p.get_type_string() == 'a{sv}':
                args.append({k: [val.get_type_string(), val.unpack()]
                             for k, val in self.vardict(p).items()})
            else:
                args.append(p.unpack())
        with open(self.log_path, 'a') as f:
            f.write(json.dumps({'method': method, 'args': args,
                                'interactive': interactive}) + '\n')

    @staticmethod
    def vardict(variant):
        return {variant.get_child_value(i).get_child_value(0).unpack():
                variant.get_child_value(i).get_child_value(1).get_variant()
                for i in range(variant.n_children())}

    def dispatch(self, method, params, interactive):
        values = [p.unpack() for p in params]
        if method == 'ListDisks':
            return v('(aa{sv})', (DISKS,))
        if method == 'ListDomains':
            return v('(aa{sv})', (DOMAINS,))
        if method == 'ListUsbDevices':
            return v('(aa{sv})', (USB,))
        if method == 'ListAttached':
            return v('(aa{sv})', (list_attached(values[0]),))
        if method == 'AttachDisk':
            options = self.vardict(params[2])
            return v('(s)', (attach_disk(values[0], values[1], options, interactive),))
        if method == 'DetachDisk':
            detach_disk(values[0], values[1], self.vardict(params[2]))
            return None
        raise Failure('Failed', f'Not mocked: {method}')

    def method_call(self, conn, sender, path, iface, method, params, invocation):
        flags = invocation.get_message().get_flags()
        interactive = bool(flags & Gio.DBusMessageFlags.ALLOW_INTERACTIVE_AUTHORIZATION)
        children = [params.get_child_value(i) for i in range(params.n_children())]
        self.log(method, children, interactive)
        try:
            invocation.return_value(self.dispatch(method, children, interactive))
        except Failure as e:
            invocation.return_dbus_error(e.name, e.message)

    @staticmethod
    def get_property(conn, sender, path, iface, prop):
        return v('s', VERSION) if prop == 'Version' else None


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--address', required=True)
    parser.add_argument('--xml', required=True)
    parser.add_argument('--log', required=True)
    parser.add_argument('--ready', required=True)
    opts = parser.parse_args()

    with open(opts.xml) as f:
        node = Gio.DBusNodeInfo.new_for_xml(f.read())
    conn = Gio.DBusConnection.new_for_address_sync(
        opts.address,
        Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT |
        Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION, None, None)
    conn.set_exit_on_close(False)
    mock = Mock(opts.log)
    conn.register_object(PATH, node.lookup_interface(NAME), mock.method_call,
                         mock.get_property, None)
    reply = conn.call_sync('org.freedesktop.DBus', '/org/freedesktop/DBus',
                           'org.freedesktop.DBus', 'RequestName',
                           v('(su)', (NAME, 4)), GLib.VariantType('(u)'),
                           Gio.DBusCallFlags.NONE, -1, None)
    if reply.unpack()[0] != 1:
        sys.exit(f'client-mock: could not own {NAME}')
    with open(opts.ready, 'w') as f:
        f.write('ready\n')

    loop = GLib.MainLoop()
    conn.connect('closed', lambda *args: loop.quit())
    loop.run()


if __name__ == '__main__':
    main()

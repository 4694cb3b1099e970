#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A mock org.example.Passthrough1 service for tests/test-client.sh.

Serves canned data on the bus at --address, introspecting exactly as the
contract (dbus/org.example.Passthrough1.xml), and appends one JSON line per
method call to --log: method, arguments, options with their D-Bus types, and
whether the caller allowed interactive authorization. Writes --ready once the
bus name is owned; exits when the bus goes away.

Signals for `passthroughctl monitor`: the mock also serves a test-only object
(CONTROL_PATH, outside the contract's object) whose Emit(s signal, as args)
makes it emit that contract signal from the service's name. Run with
--emit 'SIGNAL ARG...' (repeatable; shell-style quoting, so '' is an empty
argument) to call it, in order; add --foreign to emit the signals from the
calling connection instead, as an impostor would.

Needs Debian's python3-gi: run it with /usr/bin/python3.
"""

import argparse
import json
import shlex
import sys

from gi.repository import Gio, GLib

NAME = 'org.example.Passthrough1'
PATH = '/org/example/Passthrough1'
ERROR = 'org.example.Passthrough1.Error.'
VERSION = '0.1.0-mock'
CONTROL_PATH = '/org/example/Passthrough1/MockControl'
CONTROL_IFACE = 'org.example.Passthrough1.MockControl'
CONTROL_XML = f'''<node><interface name="{CONTROL_IFACE}"><method name="Emit">
<arg name="signal" type="s" direction="in"/><arg name="args" type="as" direction="in"/>
</method></interface></node>'''


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

def usb(bus, dev, port, vendor, product_id, serial, manufacturer, product,
        hub=False, attached_to=''):
    dev_id = f'{vendor}:{product_id}:{serial}' if serial else f'{vendor}:{product_id}@{port}'
    return {'Id': v('s', dev_id), 'Bus': v('u', bus), 'Device': v('u', dev),
            'Port': v('s', port), 'VendorId': v('s', vendor), 'ProductId': v('s', product_id),
            'Serial': v('s', serial), 'Manufacturer': v('s', manufacturer),
            'Product': v('s', product), 'IsHub': v('b', hub), 'AttachedTo': v('s', attached_to)}


USB = [
    usb(1, 1, 'usb1', '1d6b', '0003', '0000:00:04.0', 'Linux 6.1.0 xhci-hcd',
        'xHCI Host Controller', hub=True),
    usb(1, 12, '1-1', '46f4', '0001', 'SN-LAB-0001', 'QEMU', 'QEMU USB HARDDRIVE',
        attached_to='debian'),
    # No serial (Id by port) and no product name (the client shows the maker).
    usb(2, 3, '2-1.4', '046d', 'c077', '', 'Logitech', ''),
]

ATTACHED = {
    'debian': [
        {'Kind': v('s', 'disk'), 'Id': v('s', 'id-loop0'), 'Source': v('s', '/dev/loop0'),
         'Target': v('s', 'vdb')},
        {'Kind': v('s', 'usb'), 'Id': v('s', '46f4:0001'), 'Source': v('s', '1:12'),
         'Target': v('s', 'hostdev0')},
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


def find_usb(device):
    """The USB device a name means: Id, serial, bus:dev, port or vvvv:pppp."""
    if device == '0781:5567':
        raise Failure('AmbiguousDevice', 'USB device 0781:5567 is ambiguous: '
                      '0781:5567:AA01 (1-3), 0781:5567:AA02 (1-4)')
    for d in USB:
        u = {k: val.unpack() for k, val in d.items()}
        names = (u['Id'], u['Serial'], f"{u['Bus']}:{u['Device']}", u['Port'],
                 f"{u['VendorId']}:{u['ProductId']}")
        if device in names:
            return u
    raise Failure('NoSuchDevice', f'No such USB device: {device}')


def attach_usb(domain, device, options):
    name = find_domain(domain)
    check_options(options, {})
    u = find_usb(device)
    if u['IsHub']:
        raise Failure('InvalidArgument', f'{u["Id"]} is a hub')
    if u['AttachedTo']:
        raise Failure('AlreadyAttached', f'{u["Id"]} is attached to {u["AttachedTo"]}')
    return name


def detach_usb(domain, device, options):
    name = find_domain(domain)
    check_options(options, DETACH_OPTIONS)
    u = find_usb(device)
    if u['AttachedTo'] != name:
        raise Failure('NotAttached', f'{u["Id"]} is not attached to {name}')
    if 'timeout-ms' in options and options['timeout-ms'].unpack() < 1000:
        ms = options['timeout-ms'].unpack()
        raise Failure('Timeout', f'{name} did not release {u["Id"]} within {ms} ms')


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
        if method == 'AttachUsb':
            attach_usb(values[0], values[1], self.vardict(params[2]))
            return None
        if method == 'DetachUsb':
            detach_usb(values[0], values[1], self.vardict(params[2]))
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


def signal_variant(iface, name, args):
    """The arguments of a contract signal, checked against its arguments."""
    info = iface.lookup_signal(name)
    if info is None or len(info.args) != len(args):
        raise Failure('InvalidArgument', f'Not a contract signal: {name}{tuple(args)}')
    return v('(' + ''.join(a.signature for a in info.args) + ')', tuple(args))


class Control:
    """The test-only Emit method: emit a contract signal as the service."""
    def __init__(self, iface):
        self.iface = iface

    def method_call(self, conn, sender, path, iface, method, params, invocation):
        name, args = params.unpack()
        try:
            conn.emit_signal(None, PATH, NAME, name, signal_variant(self.iface, name, args))
            invocation.return_value(None)
        except Failure as e:
            invocation.return_dbus_error(e.name, e.message)


def connect(address):
    conn = Gio.DBusConnection.new_for_address_sync(
        address,
        Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT |
        Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION, None, None)
    conn.set_exit_on_close(False)
    return conn


def emit(conn, iface, specs, foreign):
    """--emit: have the mock emit each signal (or, foreign, emit it here)."""
    for spec in specs:
        name, *args = shlex.split(spec)
        if foreign:
            conn.emit_signal(None, PATH, NAME, name, signal_variant(iface, name, args))
        else:
            conn.call_sync(NAME, CONTROL_PATH, CONTROL_IFACE, 'Emit', v('(sas)', (name, args)),
                           None, Gio.DBusCallFlags.NONE, -1, None)
    conn.flush_sync(None)


def serve(conn, node, opts):
    mock = Mock(opts.log)
    iface = node.lookup_interface(NAME)
    conn.register_object(PATH, iface, mock.method_call, mock.get_property, None)
    control = Gio.DBusNodeInfo.new_for_xml(CONTROL_XML).lookup_interface(CONTROL_IFACE)
    conn.register_object(CONTROL_PATH, control, Control(iface).method_call, None, None)
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


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--address', required=True)
    parser.add_argument('--xml', required=True)
    parser.add_argument('--log')
    parser.add_argument('--ready')
    parser.add_argument('--emit', action='append', metavar='SIGNAL ARG...')
    parser.add_argument('--foreign', action='store_true')
    opts = parser.parse_args()
    if not opts.emit and not (opts.log and opts.ready):
        parser.error('serving needs --log and --ready')

    with open(opts.xml) as f:
        node = Gio.DBusNodeInfo.new_for_xml(f.read())
    conn = connect(opts.address)
    if opts.emit:
        emit(conn, node.lookup_interface(NAME), opts.emit, opts.foreign)
    else:
        serve(conn, node, opts)


if __name__ == '__main__':
    main()

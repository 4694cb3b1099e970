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

Persistent assignments (Assign, Unassign, ListAssignments, AttachAll,
DetachAll, AutoAttachFailed): ASSIGNMENT_XML is that part of the contract as
agreed; where the contract file does not have a member yet the mock adds it,
where it does the two must agree (the mock exits otherwise). Assign and
Unassign change the mock's assignments; nothing else changes its state.

Needs Debian's python3-gi: run it with /usr/bin/python3.
"""

import argparse
import json
import re
import shlex
import sys
import xml.etree.ElementTree as ET

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

ASSIGNMENT_XML = f'''<node><interface name="{NAME}">
<method name="Assign"><arg name="device" type="s" direction="in"/>
  <arg name="domain" type="s" direction="in"/><arg name="options" type="a{{sv}}" direction="in"/></method>
<method name="Unassign"><arg name="device" type="s" direction="in"/>
  <arg name="options" type="a{{sv}}" direction="in"/></method>
<method name="ListAssignments"><arg name="assignments" type="aa{{sv}}" direction="out"/></method>
<method name="AttachAll"><arg name="domain" type="s" direction="in"/>
  <arg name="options" type="a{{sv}}" direction="in"/><arg name="results" type="aa{{sv}}" direction="out"/></method>
<method name="DetachAll"><arg name="domain" type="s" direction="in"/>
  <arg name="options" type="a{{sv}}" direction="in"/><arg name="results" type="aa{{sv}}" direction="out"/></method>
<signal name="AutoAttachFailed"><arg name="domain" type="s"/><arg name="kind" type="s"/>
  <arg name="id" type="s"/><arg name="error" type="s"/></signal>
</interface></node>'''


def usb_xml(vendor, product, bus, dev):
    return (f"<hostdev mode='subsystem' type='usb' managed='no'>\n"
            f"  <source><vendor id='0x{vendor}'/><product id='0x{product}'/>"
            f"<address bus='{bus}' device='{dev}'/></source>\n</hostdev>\n")


def assignment(match, domain, dev_id='', attached=False, xml='', fails=''):
    """An assignment; dev_id empty: not present. fails: AttachAll's error."""
    return {'Match': v('s', match), 'Kind': v('s', match.split(':')[0]), 'Domain': v('s', domain),
            'Present': v('b', bool(dev_id)), 'Attached': v('b', attached), 'Id': v('s', dev_id),
            '_xml': xml, '_fails': fails}


ASSIGNMENTS = [
    assignment('usb:serial=SN-LAB-0001', 'debian', '46f4:0001:SN-LAB-0001', attached=True,
               xml=usb_xml('46f4', '0001', 1, 12)),
    assignment('usb:port=2-1.4', 'debian', '046d:c077@2-1.4', xml=usb_xml('046d', 'c077', 2, 3)),
    assignment('usb:serial=GONE-0001', 'debian'),
    assignment('usb:id=dead:beef', 'debian', 'dead:beef@3-1', xml=usb_xml('dead', 'beef', 3, 7),
               fails="internal error: unable to execute QEMU command 'device_add'"),
    assignment('disk:wwn=0x5002538e4000abcd', 'win11', 'id-sdb',
               xml="<disk type='block' device='disk'>\n  <source dev='/dev/sdb'/>\n</disk>\n"),
]
MATCH_RE = re.compile(r'usb:(serial=[ -~]+|id=[0-9a-f]{4}:[0-9a-f]{4}|port=[0-9]+-[0-9]+(\.[0-9]+)*)'
                      r'|disk:(wwn|serial|by-id)=[ -~]+')

ATTACH_OPTIONS = {'name': 's', 'target': 's', 'readonly': 'b', 'dry-run': 'b'}
DETACH_OPTIONS = {'timeout-ms': 'u', 'dry-run': 'b'}
DRY_RUN_OPTIONS = {'dry-run': 'b'}


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
    check_options(options, DRY_RUN_OPTIONS)
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


def public(record):
    return {k: val for k, val in record.items() if not k.startswith('_')}


def device_match(device):
    """The match string for Assign's or Unassign's device: a match string,
    or a present USB device or disk (its serial with its ids, else its
    port; a disk's serial)."""
    if device.startswith(('usb:', 'disk:')):
        if not MATCH_RE.fullmatch(device):
            raise Failure('InvalidArgument', f'Invalid match string: {device}')
        return device
    for d in DISKS:
        if device in (d['Name'].unpack(), d['Path'].unpack()):
            return 'disk:serial=' + d['Serial'].unpack()
    u = find_usb(device)
    if u['Serial']:
        return f"usb:serial={u['Serial']},id={u['VendorId']}:{u['ProductId']}"
    return f"usb:port={u['Port']}"


def find_assignment(match):
    return next((a for a in ASSIGNMENTS if a['Match'].unpack() == match), None)


def assign(device, domain, options):
    """Domains libvirt does not know yet may be assigned to."""
    check_options(options, {})
    if not domain:
        raise Failure('InvalidArgument', 'No domain given')
    try:
        domain = find_domain(domain)
    except Failure:
        pass
    match = device_match(device)
    existing = find_assignment(match)
    if existing:
        raise Failure('AlreadyAssigned',
                      f"{match} is already assigned to {existing['Domain'].unpack()}")
    ASSIGNMENTS.append(assignment(match, domain))


def match_value(match):
    """usb:serial=SN,id=vvvv:pppp -> SN; disk:wwn=WWN -> WWN."""
    return re.sub(r',id=[0-9a-f]{4}:[0-9a-f]{4}$', '', match.split('=', 1)[-1])


def unassign(device, options):
    """By match string, present device or the value of one match."""
    check_options(options, {})
    by_value = [a for a in ASSIGNMENTS if match_value(a['Match'].unpack()) == device]
    try:
        existing = find_assignment(device_match(device))
    except Failure:
        existing = None
    existing = existing or (by_value[0] if len(by_value) == 1 else None)
    if not existing:
        raise Failure('NotAssigned', f'{device} is not assigned')
    ASSIGNMENTS.remove(existing)


def domain_running(name):
    return any(d['Name'].unpack() == name and d['State'].unpack() == 'running' for d in DOMAINS)


def attach_result(a, dry_run):
    """(Result, Error, Xml) of AttachAll for assignment a."""
    if not a['Present'].unpack():
        return 'not present', '', ''
    if a['Attached'].unpack():
        return 'already attached', '', ''
    if dry_run:
        return 'would attach', '', a['_xml']
    return ('failed', a['_fails'], '') if a['_fails'] else ('attached', '', '')


def detach_result(a, dry_run):
    if not a['Present'].unpack():
        return 'not present', '', ''
    if not a['Attached'].unpack():
        return 'not attached', '', ''
    return ('would detach', '', a['_xml']) if dry_run else ('detached', '', '')


def run_all(domain, options, allowed, result):
    """AttachAll or DetachAll: result(assignment, dry_run) for each assignment
    of domain ('' every one)."""
    check_options(options, allowed)
    names = {a['Domain'].unpack() for a in ASSIGNMENTS}
    if domain and domain not in names:
        domain = find_domain(domain)
    dry_run = options['dry-run'].unpack() if 'dry-run' in options else False
    results = []
    for a in ASSIGNMENTS:
        name = a['Domain'].unpack()
        if domain and name != domain:
            continue
        outcome = result(a, dry_run) if domain_running(name) else ('domain not running', '', '')
        results.append({'Kind': a['Kind'], 'Id': a['Id'], 'Match': a['Match'], 'Domain': a['Domain'],
                        'Result': v('s', outcome[0]), 'Error': v('s', outcome[1]),
                        'Xml': v('s', outcome[2])})
    return results


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
        if method == 'ListAssignments':
            return v('(aa{sv})', ([public(a) for a in ASSIGNMENTS],))
        if method == 'Assign':
            assign(values[0], values[1], self.vardict(params[2]))
            return None
        if method == 'Unassign':
            unassign(values[0], self.vardict(params[1]))
            return None
        if method == 'AttachAll':
            return v('(aa{sv})', (run_all(values[0], self.vardict(params[1]), DRY_RUN_OPTIONS,
                                          attach_result),))
        if method == 'DetachAll':
            return v('(aa{sv})', (run_all(values[0], self.vardict(params[1]), DETACH_OPTIONS,
                                          detach_result),))
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


def member_signature(element):
    return [(arg.get('type'), arg.get('direction', 'in')) for arg in element.findall('arg')]


def load_contract(path):
    """The contract's interface, with the members of ASSIGNMENT_XML it does
    not have yet; one it has must agree with the mock's."""
    root = ET.parse(path).getroot()
    iface = next(i for i in root.findall('interface') if i.get('name') == NAME)
    present = {(m.tag, m.get('name')): m for m in iface}
    for member in ET.fromstring(ASSIGNMENT_XML).find('interface'):
        theirs = present.get((member.tag, member.get('name')))
        if theirs is None:
            iface.append(member)
        elif member_signature(theirs) != member_signature(member):
            sys.exit(f'client-mock: {member.get("name")} in {path} differs from the mock\'s')
    return Gio.DBusNodeInfo.new_for_xml(ET.tostring(root, encoding='unicode'))


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

    node = load_contract(opts.xml)
    conn = connect(opts.address)
    if opts.emit:
        emit(conn, node.lookup_interface(NAME), opts.emit, opts.foreign)
    else:
        serve(conn, node, opts)


if __name__ == '__main__':
    main()

#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A mock org.example.Passthrough1 service for tests/test-client.sh.

Serves canned data on the bus at --address, introspecting exactly as the
contract (dbus/org.example.Passthrough1.xml), and appends one JSON line per
method call to --log: method, arguments, options with their D-Bus types, and
whether the caller allowed interactive authorization. Writes --ready once the
bus name is owned; exits when the bus goes away.

The live model: /org/example/Passthrough1 is also an ObjectManager over one
object per disk, USB device and domain (the contract's Disk, UsbDevice and
Domain interfaces, paths escaped as sd_bus_path_encode() does), made from the
very records ListDisks, ListUsbDevices and ListDomains return, so the two
always agree. GetManagedObjects sends the objects backwards (a dictionary's
order means nothing; a client that shows them in order sorts them itself),
each with the standard interfaces sd-bus lists beside its own, and is logged
like the manager's methods; with "auto_start": false when the caller asked
not to start the service.

Signals for `passthroughctl monitor`: the mock also serves a test-only object
(CONTROL_PATH, outside the contract's objects) whose Emit(s signal, as args)
makes it emit that contract signal from the service's name, and whose Add,
Remove and Change change its model as the service's would change (the
records, hence List* too) with InterfacesAdded, InterfacesRemoved or
PropertiesChanged. Run with, repeatable and done in order (shell-style
quoting, so '' is an empty argument):
  --emit 'SIGNAL ARG...'           a manager signal
  --add 'disk NAME' / 'usb SERIAL' a new loop disk or USB stick
  --remove 'KIND NAME'             a disk (kernel name), USB device (Id) or
                                   domain (name) goes away
  --change 'KIND NAME PROP=VALUE... PROP...'
                                   new values (strings as they are, other
                                   types in GVariant text: "Mountpoints=['/m']");
                                   a PROP alone is invalidated
Add --foreign to send the signals from the calling connection instead, as an
impostor would (nothing changes in the mock).

Persistent assignments (Assign, Unassign, ListAssignments, AttachAll,
DetachAll, AutoAttachFailed): ASSIGNMENT_XML is that part of the contract as
agreed; where the contract file does not have a member yet the mock adds it,
where it does the two must agree (the mock exits otherwise). Assign and
Unassign change the mock's assignments; nothing else changes its state.

Needs Debian's python3-gi: run it with /usr/bin/python3.
"""

import argparse
import json
import os
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
CONTROL_XML = f'''<node><interface name="{CONTROL_IFACE}">
<method name="Emit"><arg name="signal" type="s" direction="in"/>
  <arg name="args" type="as" direction="in"/></method>
<method name="Add"><arg name="words" type="as" direction="in"/></method>
<method name="Remove"><arg name="words" type="as" direction="in"/></method>
<method name="Change"><arg name="words" type="as" direction="in"/></method>
</interface></node>'''
DISK_IFACE = NAME + '.Disk'
USB_IFACE = NAME + '.UsbDevice'
DOMAIN_IFACE = NAME + '.Domain'
OM_IFACE = 'org.freedesktop.DBus.ObjectManager'
PROPS_IFACE = 'org.freedesktop.DBus.Properties'
# What sd-bus lists beside an object's own interface (no properties).
STANDARD_IFACES = ('org.freedesktop.DBus.Peer', 'org.freedesktop.DBus.Introspectable', PROPS_IFACE)
OM_XML = f'''<node><interface name="{OM_IFACE}">
<method name="GetManagedObjects"><arg name="objects" type="a{{oa{{sa{{sv}}}}}}" direction="out"/></method>
<signal name="InterfacesAdded"><arg name="object" type="o"/>
  <arg name="interfaces" type="a{{sa{{sv}}}}"/></signal>
<signal name="InterfacesRemoved"><arg name="object" type="o"/><arg name="interfaces" type="as"/></signal>
</interface></node>'''


def v(signature, value):
    return GLib.Variant(signature, value)


def path_encode(prefix, external_id):
    """sd_bus_path_encode(): every byte outside [A-Za-z0-9] as _XX."""
    if not external_id:
        return prefix + '/_'
    return prefix + '/' + ''.join(chr(b) if chr(b).isascii() and chr(b).isalnum() else '_%02x' % b
                                  for b in external_id.encode())


def disk_path(dev_id):
    return path_encode(PATH + '/disk', dev_id)


def usb_path(dev_id):
    return path_encode(PATH + '/usb', dev_id)


def disk(name, size, transport, model='', mountpoints=(), system=False,
         in_use='', attached_to='', removable=False, extra=None, fs=('', '', '')):
    """A disk; attached_to: as target vdb, by passthrough."""
    if attached_to:
        state, reason = 'attached', f'attached to VM {attached_to} as vdb'
    else:
        state, reason = ('busy', in_use) if in_use else ('free', '')
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
        'Rotational': v('b', True),
        'Buses': v('as', ['virtio', 'scsi']),
        'Modes': v('as', ['disk', 'lun'] if name.startswith('sd') else ['disk']),
        'Mountpoints': v('as', list(mountpoints)),
        'System': v('b', system),
        'InUse': v('s', in_use),
        'AttachedTo': v('s', attached_to),
        'State': v('s', state),
        'StateReason': v('s', reason),
        'AttachedBy': v('s', 'passthrough' if attached_to else ''),
        'UsbDevice': v('o', '/'),
        'FsType': v('s', fs[0]),
        'Label': v('s', fs[1]),
        'PartitionTable': v('s', fs[2]),
    }
    d.update(extra or {})
    return d


DISKS = [
    disk('vda', 20 * 1024**3, 'virtio', mountpoints=['/', '/boot/efi', '[SWAP]'],
         system=True, in_use='mounted at /'),
    # Keys a later service may add: one of a known type is passed through,
    # one of a type the client does not read is skipped.
    disk('sdb', 500107862016, 'sata', model='Samsung SSD 870', fs=('ext4', 'backup data', ''),
         extra={'FutureCount': v('i', -3),
                'FutureMap': v('a{ss}', {'a': 'b'})}),
    disk('sdc', 8 * 1024**3, 'usb', model='Cruzer Blade', mountpoints=['/mnt/stick'],
         in_use='mounted at /mnt/stick', removable=True),
    disk('loop0', 512 * 1024**2, 'loop', model='Loop\x1b[31mDisk',
         in_use='attached to VM debian', attached_to='debian'),
    disk('nvme0n1', 2000398934016, 'nvme', model='WD Blue SN570', system=True, fs=('', '', 'gpt')),
]

def usb(bus, dev, port, vendor, product_id, serial, manufacturer, product,
        hub=False, attached_to=''):
    dev_id = f'{vendor}:{product_id}:{serial}' if serial else f'{vendor}:{product_id}@{port}'
    if attached_to:
        state, reason = 'attached', f'attached to VM {attached_to}'
    else:
        state, reason = ('unavailable', 'a hub') if hub else ('free', '')
    return {'Id': v('s', dev_id), 'Bus': v('u', bus), 'Device': v('u', dev),
            'Port': v('s', port), 'VendorId': v('s', vendor), 'ProductId': v('s', product_id),
            'Serial': v('s', serial), 'Manufacturer': v('s', manufacturer),
            'Product': v('s', product), 'IsHub': v('b', hub), 'AttachedTo': v('s', attached_to),
            'State': v('s', state), 'StateReason': v('s', reason),
            'AttachedBy': v('s', 'passthrough' if attached_to else ''), 'Disks': v('ao', [])}


USB = [
    usb(1, 1, '1-0', '1d6b', '0003', '0000:00:04.0', 'Linux 6.1.0 xhci-hcd',
        'xHCI Host Controller', hub=True),
    usb(1, 12, '1-1', '46f4', '0001', 'SN-LAB-0001', 'QEMU', 'QEMU USB HARDDRIVE',
        attached_to='debian'),
    # No serial (Id by port) and no product name (the client shows the maker).
    usb(2, 3, '2-1.4', '046d', 'c077', '', 'Logitech', ''),
]

DOMAINS = [
    {'Name': v('s', 'debian'), 'Uuid': v('s', '6f1c2a3e-9b2d-4c1e-8f00-0a1b2c3d4e5f'),
     'State': v('s', 'running'),
     'Devices': v('ao', [disk_path('id-loop0'), usb_path('46f4:0001:SN-LAB-0001')])},
    {'Name': v('s', 'win11'), 'Uuid': v('s', '0d2e4f60-1111-2222-3333-444455556666'),
     'State': v('s', 'shut off'), 'Devices': v('ao', [])},
]

ATTACHED = {
    'debian': [
        {'Kind': v('s', 'disk'), 'Id': v('s', 'id-loop0'), 'Source': v('s', '/dev/loop0'),
         'Target': v('s', 'vdb'), 'Bus': v('s', 'virtio'), 'Mode': v('s', 'disk'), 'Discard': v('b', True)},
        {'Kind': v('s', 'disk'), 'Id': v('s', 'id-sdc'), 'Source': v('s', '/dev/sdc'),
         'Target': v('s', 'sda'), 'Bus': v('s', 'scsi'), 'Mode': v('s', 'lun'), 'Discard': v('b', True)},
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

ATTACH_OPTIONS = {'name': 's', 'target': 's', 'readonly': 'b', 'dry-run': 'b',
                  'bus': 's', 'mode': 's', 'discard': 'b', 'rawio': 'b'}
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


# Devices whose attach fails with that error (for the client's exit codes).
FAILING_DEVICES = {
    '/dev/busy': ('DeviceBusy', '/dev/busy is mounted at /mnt/busy'),
    '/dev/denied': ('NotAuthorized', 'Not authorized to attach /dev/denied'),
    '/dev/dismissed': ('AuthorizationDismissed', 'The authentication dialog was dismissed'),
    '/dev/nosuch': ('NoSuchDevice', 'No such disk: /dev/nosuch'),
}
# DetachDisk or DetachUsb of this device answers only after SLOW_DETACH_MS;
# so does ListAttached of SLOW_DOMAIN (with nothing).
SLOW_DEVICE = '/dev/slow'
SLOW_DOMAIN = 'slowvm'
SLOW_DETACH_MS = 4000
# AttachDisk or DetachDisk of this device: the mock exits without answering
# (as a service that dies mid-call).
CRASH_DEVICE = '/dev/crash'


def attach_disk(domain, device, options, interactive):
    name = find_domain(domain)
    check_options(options, ATTACH_OPTIONS)
    if not domain_running(name):
        raise Failure('DomainNotRunning', f'Domain {name} is not running')
    if device in FAILING_DEVICES:
        raise Failure(*FAILING_DEVICES[device])
    if device == '/dev/needauth' and not interactive:
        raise Failure('org.freedesktop.DBus.Error.InteractiveAuthorizationRequired',
                      'Interactive authentication required.')
    if device in ('/dev/vda', 'vda'):
        raise Failure('SystemDevice', 'vda holds the host\'s root file system')
    if 'target' in options:
        return options['target'].unpack()
    scsi = options.get('bus', GLib.Variant('s', 'virtio')).unpack() == 'scsi' or 'mode' in options
    return 'sda' if scsi else 'vdb'


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


# --- the live model: objects made from the records above -------------------------

KINDS = {  # kind: (records, interface, path prefix, the key a test names one by)
    'disk': (DISKS, DISK_IFACE, PATH + '/disk', 'Name'),
    'usb': (USB, USB_IFACE, PATH + '/usb', 'Id'),
    'domain': (DOMAINS, DOMAIN_IFACE, PATH + '/domain', 'Name'),
}


def object_path(kind, record):
    key = 'Uuid' if kind == 'domain' else 'Id'
    return path_encode(KINDS[kind][2], record[key].unpack())


def model_objects():
    """(path, interface, record) of every object, in the List* order."""
    return [(object_path(kind, r), iface, r)
            for kind, (records, iface, _, _) in KINDS.items() for r in records]


def managed_objects():
    """GetManagedObjects' answer: backwards, with sd-bus's standard interfaces."""
    objects = {}
    for path, iface, record in reversed(model_objects()):
        objects[path] = {iface: record, **{i: {} for i in STANDARD_IFACES}}
    return v('(a{oa{sa{sv}}})', (objects,))


def find_object(words):
    """KIND NAME -> (kind, record)."""
    if len(words) < 2 or words[0] not in KINDS:
        raise Failure('InvalidArgument', f'Expected KIND NAME: {words}')
    kind, name = words[:2]
    records, _, _, key = KINDS[kind]
    for r in records:
        if r[key].unpack() == name:
            return kind, r
    raise Failure('NoSuchDevice', f'No {kind} {name}')


def new_record(words):
    """--add: 'disk NAME' (a free loop disk) or 'usb SERIAL' (a free stick)."""
    if len(words) != 2 or words[0] not in ('disk', 'usb'):
        raise Failure('InvalidArgument', f'Expected disk NAME or usb SERIAL: {words}')
    if words[0] == 'disk':
        return 'disk', disk(words[1], 16 * 1024**2, 'loop', model='Loop Disk')
    return 'usb', usb(3, 4, '3-1', '0781', '5567', words[1], 'SanDisk', 'Cruzer Blade')


def parse_change(record, words):
    """PROP=VALUE... PROP...: (changed {PROP: Variant}, invalidated [PROP])."""
    changed, invalidated = {}, []
    for word in words:
        prop, eq, text = word.partition('=')
        if prop not in record:
            raise Failure('InvalidArgument', f'No property {prop}')
        if not eq:
            invalidated.append(prop)
            continue
        sig = record[prop].get_type_string()
        try:
            changed[prop] = v(sig, text) if sig == 's' else GLib.Variant.parse(GLib.VariantType(sig), text)
        except GLib.Error as e:
            raise Failure('InvalidArgument', f'{prop}={text}: {e.message}')
    return changed, invalidated


def added_signal(path, iface, record):
    return v('(oa{sa{sv}})', (path, {iface: record, **{i: {} for i in STANDARD_IFACES}}))


def removed_signal(path, iface):
    return v('(oas)', (path, [iface, *STANDARD_IFACES]))


def changed_signal(iface, changed, invalidated):
    return v('(sa{sv}as)', (iface, changed, invalidated))


class Objects:
    """The objects on the bus: registered, found, added, removed, changed."""
    def __init__(self, conn, node, mock):
        self.conn = conn
        self.node = node
        self.mock = mock
        self.registrations = {}

    def register_all(self):
        om = Gio.DBusNodeInfo.new_for_xml(OM_XML).lookup_interface(OM_IFACE)
        self.conn.register_object(PATH, om, self.mock.method_call, None, None)
        for path, iface, _ in model_objects():
            self.register(path, iface)

    def register(self, path, iface):
        info = self.node.lookup_interface(iface)
        self.registrations[path] = self.conn.register_object(
            path, info, self.mock.method_call, self.get_property, None)

    @staticmethod
    def get_property(conn, sender, path, iface, prop):
        record = next(r for p, _, r in model_objects() if p == path)
        return record[prop]

    def add(self, words):
        kind, record = new_record(words)
        KINDS[kind][0].append(record)
        path, iface = object_path(kind, record), KINDS[kind][1]
        self.register(path, iface)
        self.conn.emit_signal(None, PATH, OM_IFACE, 'InterfacesAdded', added_signal(path, iface, record))

    def remove(self, words):
        kind, record = find_object(words)
        KINDS[kind][0].remove(record)
        path = object_path(kind, record)
        self.conn.unregister_object(self.registrations.pop(path))
        self.conn.emit_signal(None, PATH, OM_IFACE, 'InterfacesRemoved', removed_signal(path, KINDS[kind][1]))

    def change(self, words):
        kind, record = find_object(words)
        changed, invalidated = parse_change(record, words[2:])
        record.update(changed)
        self.conn.emit_signal(None, object_path(kind, record), PROPS_IFACE, 'PropertiesChanged',
                              changed_signal(KINDS[kind][1], changed, invalidated))


def foreign_object_signal(conn, method, words):
    """--foreign --add/--remove/--change: the signal alone, from conn."""
    if method == 'Add':
        kind, record = new_record(words)
        path = object_path(kind, record)
        conn.emit_signal(None, PATH, OM_IFACE, 'InterfacesAdded', added_signal(path, KINDS[kind][1], record))
        return
    kind, record = find_object(words)
    path = object_path(kind, record)
    if method == 'Remove':
        conn.emit_signal(None, PATH, OM_IFACE, 'InterfacesRemoved', removed_signal(path, KINDS[kind][1]))
        return
    changed, invalidated = parse_change(record, words[2:])
    conn.emit_signal(None, path, PROPS_IFACE, 'PropertiesChanged',
                     changed_signal(KINDS[kind][1], changed, invalidated))


class Mock:
    def __init__(self, log_path):
        self.log_path = log_path

    def log(self, method, params, interactive, auto_start=True):
        args = []
        for p in params:
            if p.get_type_string() == 'a{sv}':
                args.append({k: [val.get_type_string(), val.unpack()]
                             for k, val in self.vardict(p).items()})
            else:
                args.append(p.unpack())
        entry = {'method': method, 'args': args, 'interactive': interactive}
        if not auto_start:
            entry['auto_start'] = False
        with open(self.log_path, 'a') as f:
            f.write(json.dumps(entry) + '\n')

    @staticmethod
    def vardict(variant):
        return {variant.get_child_value(i).get_child_value(0).unpack():
                variant.get_child_value(i).get_child_value(1).get_variant()
                for i in range(variant.n_children())}

    def dispatch(self, method, params, interactive):
        values = [p.unpack() for p in params]
        if method == 'GetManagedObjects':
            return managed_objects()
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
        auto_start = not flags & Gio.DBusMessageFlags.NO_AUTO_START
        children = [params.get_child_value(i) for i in range(params.n_children())]
        self.log(method, children, interactive, auto_start)
        if method in ('DetachDisk', 'DetachUsb') and children[1].unpack() == SLOW_DEVICE:
            GLib.timeout_add(SLOW_DETACH_MS, lambda: invocation.return_value(None))
            return
        if method == 'ListAttached' and children[0].unpack() == SLOW_DOMAIN:
            GLib.timeout_add(SLOW_DETACH_MS, lambda: invocation.return_value(v('(aa{sv})', ([],))))
            return
        if method in ('AttachDisk', 'DetachDisk') and children[1].unpack() == CRASH_DEVICE:
            os._exit(3)
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
    """The test-only methods: emit a contract signal as the service (Emit);
    change the model (Add, Remove, Change)."""
    def __init__(self, iface, objects):
        self.iface = iface
        self.objects = objects

    def method_call(self, conn, sender, path, iface, method, params, invocation):
        try:
            if method == 'Emit':
                name, args = params.unpack()
                conn.emit_signal(None, PATH, NAME, name, signal_variant(self.iface, name, args))
            else:
                getattr(self.objects, method.lower())(params.unpack()[0])
            invocation.return_value(None)
        except Failure as e:
            invocation.return_dbus_error(e.name, e.message)


def member_signature(element):
    return [(arg.get('type'), arg.get('direction', 'in')) for arg in element.findall('arg')]


def load_contract(path):
    """The contract's interfaces, the manager's with the members of
    ASSIGNMENT_XML it does not have yet; one it has must agree with the
    mock's."""
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


def emit(conn, iface, actions, foreign):
    """--emit, --add, --remove, --change: have the mock do each, in order (or,
    foreign, send its signal from here)."""
    for method, spec in actions:
        words = shlex.split(spec)
        if method == 'Emit':
            name, *args = words
            if foreign:
                conn.emit_signal(None, PATH, NAME, name, signal_variant(iface, name, args))
                continue
            params = v('(sas)', (name, args))
        elif foreign:
            foreign_object_signal(conn, method, words)
            continue
        else:
            params = v('(as)', (words,))
        conn.call_sync(NAME, CONTROL_PATH, CONTROL_IFACE, method, params,
                       None, Gio.DBusCallFlags.NONE, -1, None)
    conn.flush_sync(None)


def serve(conn, node, opts):
    mock = Mock(opts.log)
    iface = node.lookup_interface(NAME)
    conn.register_object(PATH, iface, mock.method_call, mock.get_property, None)
    objects = Objects(conn, node, mock)
    objects.register_all()
    control = Gio.DBusNodeInfo.new_for_xml(CONTROL_XML).lookup_interface(CONTROL_IFACE)
    conn.register_object(CONTROL_PATH, control, Control(iface, objects).method_call, None, None)
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
    for flag, method, metavar in (('--emit', 'Emit', 'SIGNAL ARG...'), ('--add', 'Add', 'KIND NAME'),
                                  ('--remove', 'Remove', 'KIND NAME'),
                                  ('--change', 'Change', 'KIND NAME PROP=VALUE...')):
        parser.add_argument(flag, action='append', dest='actions', metavar=metavar,
                            type=lambda spec, method=method: (method, spec))
    parser.add_argument('--foreign', action='store_true')
    opts = parser.parse_args()
    if not opts.actions and not (opts.log and opts.ready):
        parser.error('serving needs --log and --ready')

    node = load_contract(opts.xml)
    conn = connect(opts.address)
    if opts.actions:
        emit(conn, node.lookup_interface(NAME), opts.actions, opts.foreign)
    else:
        serve(conn, node, opts)


if __name__ == '__main__':
    main()

#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# passthroughctl's listings and shell completions against tests/client-mock.py
# on a private bus: the tables (libsmartcols, sorted for people), columns
# named as lsblk/lsusb name them mean what they mean there and the others use
# names lsblk does not have; -o (choice, +LIST, any case, unknown names
# refused before the bus is asked), --list-columns, --raw, --noheadings;
# --json prints the bus's records with the bus's keys and types (compared
# with what the mock itself sends), whatever -o says; and the bash, zsh and
# fish completions, which take VMs and devices from the service through
# --raw --noheadings -o.
#
# The comparison with lsblk on a real loop device is in tests/test-service.py
# (TestClient), against the real service.
#
# Usage: test-client-lists.sh PATH-TO-passthroughctl
#
# shellcheck disable=SC2015
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/test-client.sh
. "$HERE/test-client.sh" "$@"

start_bus
start_mock
export ADDR

# bus_py NAME CODE: as check_py, with bus(method, *args) calling the mock
# (GetManagedObjects on the ObjectManager) and unpacked to Python values.
bus_py() {
        check_py "$1" "
import os
from gi.repository import Gio, GLib
conn = Gio.DBusConnection.new_for_address_sync(
    os.environ['ADDR'], Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT |
    Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION, None, None)
def bus(method, *args):
    iface = 'org.freedesktop.DBus.ObjectManager' if method == 'GetManagedObjects' else 'org.example.Passthrough1'
    params = GLib.Variant('(' + 's' * len(args) + ')', args) if args else None
    return conn.call_sync('org.example.Passthrough1', '/org/example/Passthrough1', iface, method,
                          params, None, Gio.DBusCallFlags.NONE, -1, None).unpack()[0]
def objects(interface):
    return [ifaces[interface] for ifaces in bus('GetManagedObjects').values() if interface in ifaces]
$2"
}

# --- tables ---------------------------------------------------------------------
# The listings read the live model: one GetManagedObjects, the objects of one
# interface, sorted for people (the mock sends them backwards).
: >"$TMP/calls"
run 0 disk-list
same "$TMP/out" "disk-list: lsblk's NAME SIZE TRAN SERIAL FSTYPE LABEL MODEL, then MOUNTED AVAIL VM" <<'EOF'
NAME       SIZE  TRAN    SERIAL       FSTYPE  LABEL        MODEL            MOUNTED             AVAIL     VM
loop0      512M          SER-loop0                         Loop?[31mDisk                        attached  debian
nvme0n1    1.8T  nvme    SER-nvme0n1                       WD Blue SN570                        system
sdb      465.8G  sata    SER-sdb      ext4    backup data  Samsung SSD 870                      free
sdc          8G  usb     SER-sdc                           Cruzer Blade     /mnt/stick          busy
vda         20G  virtio  SER-vda                                            /,/boot/efi,[SWAP]  busy
EOF
# Warnings go to stderr always; hints only on a terminal.
grep -q '^passthroughctl: Warning: ' "$TMP/err" && ! grep -q 'Hint' "$TMP/err" \
        && ok "disk-list: warnings, no hints when not on a terminal" || not_ok "disk-list: warnings, no hints when not on a terminal" "$(cat "$TMP/err")"

run 0 --no-legend disk-list
same "$TMP/out" "disk-list --no-legend: headers do not widen the columns" <<'EOF'
loop0      512M          SER-loop0                       Loop?[31mDisk                        attached  debian
nvme0n1    1.8T  nvme    SER-nvme0n1                     WD Blue SN570                        system
sdb      465.8G  sata    SER-sdb      ext4  backup data  Samsung SSD 870                      free
sdc          8G  usb     SER-sdc                         Cruzer Blade     /mnt/stick          busy
vda         20G  virtio  SER-vda                                          /,/boot/efi,[SWAP]  busy
EOF
"$CTL" --address "$ADDR" -n disk-list >"$TMP/n" 2>/dev/null
"$CTL" --address "$ADDR" --noheadings disk-list >"$TMP/noheadings" 2>/dev/null
cmp -s "$TMP/n" "$TMP/out" && cmp -s "$TMP/noheadings" "$TMP/out" \
        && ok "-n and --noheadings are --no-legend" || not_ok "-n and --noheadings are --no-legend" "$(cat "$TMP/n")"

run 0 usb-list
same "$TMP/out" "usb-list: BUS DEV ID as lsusb (ID vendor:product), names, the service's Id as DEVICE-ID" <<'EOF'
BUS  DEV  ID         VENDOR                PRODUCT               SERIAL        PORT   DEVICE-ID               AVAIL        VM
001  001  1d6b:0003  Linux 6.1.0 xhci-hcd  xHCI Host Controller  0000:00:04.0  1-0    1d6b:0003:0000:00:04.0  unavailable
001  012  46f4:0001  QEMU                  QEMU USB HARDDRIVE    SN-LAB-0001   1-1    46f4:0001:SN-LAB-0001   attached     debian
002  003  046d:c077  Logitech                                                  2-1.4  046d:c077@2-1.4         free
EOF

DBUS_SYSTEM_BUS_ADDRESS=$ADDR "$CTL" domains >"$TMP/out" 2>"$TMP/err" \
        && ok "domains via DBUS_SYSTEM_BUS_ADDRESS" || not_ok "domains via DBUS_SYSTEM_BUS_ADDRESS" "$(cat "$TMP/err")"
same "$TMP/out" "domains table" <<'EOF'
NAME    STATE     UUID
debian  running   6f1c2a3e-9b2d-4c1e-8f00-0a1b2c3d4e5f
win11   shut off  0d2e4f60-1111-2222-3333-444455556666
EOF
check_py "disk-list, usb-list, domains: each one GetManagedObjects, no List*" '
assert [c["method"] for c in calls] == ["GetManagedObjects"] * 6, calls
assert all(c["args"] == [] and "auto_start" not in c for c in calls), calls
'

# On a terminal (script(1) makes one), hints follow on stderr, true to the
# disks listed: the mock has a system disk and busy and attached ones.
if command -v script >/dev/null; then
        script -qec "$CTL --address $ADDR disk-list" /dev/null | tr -d '\r' >"$TMP/tty"
        grep -qx 'Hint: Attach one with: passthroughctl disk-attach VM /dev/NAME \[NAME\]' "$TMP/tty" \
                && grep -q "^passthroughctl: Warning: system disks need an administrator's authorization" "$TMP/tty" \
                && grep -q '^passthroughctl: Warning: busy and attached disks cannot be attached now; -o +REASON says why' "$TMP/tty" \
                && ok "disk-list on a terminal: hints" || not_ok "disk-list on a terminal: hints" "$(cat "$TMP/tty")"
        script -qec "$CTL --address $ADDR --no-legend -o NAME disk-list" /dev/null | tr -d '\r' >"$TMP/tty"
        ! grep -q 'Attach one with' "$TMP/tty" && ok "disk-list --no-legend on a terminal: no hints" \
                || not_ok "disk-list --no-legend on a terminal: no hints" "$(cat "$TMP/tty")"
fi

run 0 attached debian
same "$TMP/out" "attached: disks and USB" <<'EOF'
KIND  DEVICE-ID  SOURCE      TARGET    BUS     MODE
disk  id-loop0   /dev/loop0  vdb       virtio  disk
disk  id-sdc     /dev/sdc    sda       scsi    lun
usb   46f4:0001  1:12        hostdev0  -       -
EOF
run 0 disk-attached debian
same "$TMP/out" "disk-attached: disks only, with bus and mode" <<'EOF'
KIND  DEVICE-ID  SOURCE      TARGET  BUS     MODE
disk  id-loop0   /dev/loop0  vdb     virtio  disk
disk  id-sdc     /dev/sdc    sda     scsi    lun
EOF
run 0 usb-attached debian
same "$TMP/out" "usb-attached: USB only" <<'EOF'
KIND  DEVICE-ID  SOURCE  TARGET    BUS  MODE
usb   46f4:0001  1:12    hostdev0  -    -
EOF
run 0 disk-attached win11
same "$TMP/out" "disk-attached: an empty table still has its header" <<'EOF'
KIND  DEVICE-ID  SOURCE  TARGET  BUS  MODE
EOF
run 0 --no-legend usb-attached win11
[ ! -s "$TMP/out" ] && ok "usb-attached --no-legend, nothing attached: no output" \
        || not_ok "usb-attached --no-legend, nothing attached: no output" "$(cat "$TMP/out")"

# The objects change (the List* answers with them): the listings follow.
emit --add 'disk loop10' --add 'disk loop9' \
        --change "disk sdb State=busy 'StateReason=mounted at /srv' \"Mountpoints=['/srv']\"" \
        --change 'domain win11 State=running' --remove 'usb 046d:c077@2-1.4'
run 0 --no-legend -o NAME,SIZE,MOUNTED,AVAIL,REASON disk-list
same "$TMP/out" "disk-list: new loop disks in order, a changed disk" <<'EOF'
loop0      512M                      attached  attached to VM debian as vdb
loop9       16M                      free
loop10      16M                      free
nvme0n1    1.8T                      system
sdb      465.8G  /srv                busy      mounted at /srv
sdc          8G  /mnt/stick          busy      mounted at /mnt/stick
vda         20G  /,/boot/efi,[SWAP]  busy      mounted at /
EOF
run 0 --no-legend domains
same "$TMP/out" "domains: a changed domain" <<'EOF'
debian  running  6f1c2a3e-9b2d-4c1e-8f00-0a1b2c3d4e5f
win11   running  0d2e4f60-1111-2222-3333-444455556666
EOF
run 0 --no-legend -o DEVICE-ID usb-list
same "$TMP/out" "usb-list: a device gone" <<'EOF'
1d6b:0003:0000:00:04.0
46f4:0001:SN-LAB-0001
EOF
restart_mock

# --- columns: -o, --list-columns -------------------------------------------------
run 0 -o NAME,AVAIL,VM,REASON disk-list
same "$TMP/out" "-o: the columns asked for, in that order" <<'EOF'
NAME     AVAIL     VM      REASON
loop0    attached  debian  attached to VM debian as vdb
nvme0n1  system
sdb      free
sdc      busy              mounted at /mnt/stick
vda      busy              mounted at /
EOF
run 0 disk-list -o path,rm,ro,rota,type,pttype,buses,modes
same "$TMP/out" "-o: names in any case; flags 1/0 as lsblk; lists joined" <<'EOF'
PATH          RM  RO  ROTA  TYPE  PTTYPE  BUSES        MODES
/dev/loop0     0   0     1  loop          virtio,scsi  disk
/dev/nvme0n1   0   0     1  disk  gpt     virtio,scsi  disk
/dev/sdb       0   0     1  disk          virtio,scsi  disk,lun
/dev/sdc       1   0     1  disk          virtio,scsi  disk,lun
/dev/vda       0   0     1  disk          virtio,scsi  disk
EOF
run 0 -o +DEVICES domains
same "$TMP/out" "-o +LIST: the defaults, then LIST" <<'EOF'
NAME    STATE     UUID                                  DEVICES
debian  running   6f1c2a3e-9b2d-4c1e-8f00-0a1b2c3d4e5f  2
win11   shut off  0d2e4f60-1111-2222-3333-444455556666  0
EOF
run 0 -o KIND,DEVICE-ID,DISCARD attached debian
same "$TMP/out" "attached -o: DISCARD of disks" <<'EOF'
KIND  DEVICE-ID  DISCARD
disk  id-loop0         1
disk  id-sdc           1
usb   46f4:0001        -
EOF

: >"$TMP/calls"
run 2 -o NAME,BOGUS disk-list
same "$TMP/err" "-o: an unknown column is a usage error naming it" <<'EOF'
passthroughctl: unknown column 'BOGUS' for disk-list (passthroughctl disk-list --list-columns lists them)
Try 'passthroughctl --help' for more information.
EOF
run 2 -o MOUNTPOINT disk-list
run 2 -o '' usb-list
run 2 -o NAME assignments
same "$TMP/err" "-o: refused where there are no columns to choose" <<'EOF'
passthroughctl: option -o is not valid for 'assignments'
Try 'passthroughctl --help' for more information.
EOF
run 2 --list-columns monitor
[ ! -s "$TMP/calls" ] && ok "column errors: the service is not asked" || not_ok "column errors: the service is not asked" "$(cat "$TMP/calls")"

run 0 --list-columns disk-list
cp "$TMP/out" "$TMP/disk-columns"
"$CTL" --address "$ADDR" -o help disk-list >"$TMP/help-columns" 2>&1
cmp -s "$TMP/help-columns" "$TMP/disk-columns" && ok "-o help is --list-columns" \
        || not_ok "-o help is --list-columns" "$(cat "$TMP/help-columns")"
grep -Eq '^ +FSTYPE  file system' "$TMP/disk-columns" && grep -Eq '^ +AVAIL  free, system' "$TMP/disk-columns" \
        && ok "--list-columns: names and what they show" || not_ok "--list-columns: names and what they show" "$(cat "$TMP/disk-columns")"

# A column named as one of lsblk's says "(lsblk NAME)" and is that column;
# any other name is one lsblk does not have.
if command -v lsblk >/dev/null; then
        lsblk --help | sed -n '/Available output columns/,$p' | awk 'NF > 1 { print $1 }' >"$TMP/lsblk-columns"
        "$PY" - "$TMP/disk-columns" "$TMP/lsblk-columns" >"$TMP/pyerr" 2>&1 <<'EOF'
import re, sys
ours = [l.split(None, 1) for l in open(sys.argv[1]) if l.strip()]
lsblk = {l.strip() for l in open(sys.argv[2])}
assert len(lsblk) > 40, lsblk
for name, text in ours:
    said = re.search(r"\(lsblk ([A-Z-]+)\)", text)
    if said:
        assert said.group(1) == name and name in lsblk, (name, text)
    else:
        assert name not in lsblk, "%s: lsblk has a column of that name" % name
names = [n for n, _ in ours]
for name in ["NAME", "SIZE", "TRAN", "SERIAL", "FSTYPE", "LABEL", "MODEL"]:
    assert name in names, name
assert "STATE" not in names and "MOUNTPOINT" not in names and "MOUNTPOINTS" not in names, names
EOF
        [ $? = 0 ] && ok "disk-list columns: lsblk's names mean lsblk's columns, ours are not lsblk's" \
                || not_ok "disk-list columns: lsblk's names mean lsblk's columns, ours are not lsblk's" "$(cat "$TMP/pyerr")"
else
        ok "# SKIP no lsblk"
fi
run 0 --list-columns disk-attached
grep -Eq '^ +DISCARD  ' "$TMP/out" && ok "--list-columns needs no VM" || not_ok "--list-columns needs no VM" "$(cat "$TMP/out")"
run 0 --list-columns usb-list
grep -Eq '^ +ID  vendor:product \(lsusb ID\)$' "$TMP/out" && grep -Eq '^ +DEVICE-ID  the service' "$TMP/out" \
        && ! grep -Eq '^ +ID  the service' "$TMP/out" \
        && ok "usb-list: ID is lsusb's vendor:product, the service's Id is DEVICE-ID" \
        || not_ok "usb-list: ID is lsusb's vendor:product, the service's Id is DEVICE-ID" "$(cat "$TMP/out")"

# --- --raw ---------------------------------------------------------------------------
run 0 --raw -o NAME,SIZE,LABEL,MODEL disk-list
same "$TMP/out" "--raw: one space between cells, blanks as \\x20, as lsblk --raw" <<'EOF'
NAME SIZE LABEL MODEL
loop0 512M  Loop?[31mDisk
nvme0n1 1.8T  WD\x20Blue\x20SN570
sdb 465.8G backup\x20data Samsung\x20SSD\x20870
sdc 8G  Cruzer\x20Blade
vda 20G  
EOF
run 0 -rn -o DEVICE-ID,AVAIL,VM usb-list
same "$TMP/out" "-r -n: rows only, for scripts and completions" <<'EOF'
1d6b:0003:0000:00:04.0 unavailable 
46f4:0001:SN-LAB-0001 attached debian
046d:c077@2-1.4 free 
EOF
run 0 --raw --no-legend assignments
same "$TMP/out" "--raw: fixed tables too" <<'EOF'
usb:serial=SN-LAB-0001 usb debian yes yes 46f4:0001:SN-LAB-0001
usb:port=2-1.4 usb debian yes no 046d:c077@2-1.4
usb:serial=GONE-0001 usb debian no no 
usb:id=dead:beef usb debian yes no dead:beef@3-1
disk:wwn=0x5002538e4000abcd disk win11 yes no id-sdb
EOF

# --- JSON: the bus's records, keys and types ----------------------------------------
run 0 disk-list --json
bus_py "disk-list --json: the Disk objects' properties as the bus sends them, sorted by name" '
want = sorted(objects("org.example.Passthrough1.Disk"), key=lambda d: d["Name"])
for d in want:
    d.pop("FutureMap", None)   # a type the client does not read: skipped
assert [d["Name"] for d in j] == ["loop0", "nvme0n1", "sdb", "sdc", "vda"], j
assert j == sorted(want, key=lambda d: ["loop0", "nvme0n1", "sdb", "sdc", "vda"].index(d["Name"])), (j, want)
vda, sdb = j[4], j[2]
assert list(vda) == ["Id", "Name", "Path", "Size", "Model", "Serial", "Wwn", "Transport",
                     "Removable", "ReadOnly", "Rotational", "Buses", "Modes", "Mountpoints", "System",
                     "InUse", "AttachedTo", "State", "StateReason", "AttachedBy", "UsbDevice",
                     "FsType", "Label", "PartitionTable"], list(vda)
assert vda["Size"] == 21474836480 and vda["System"] is True and vda["Removable"] is False
assert vda["Mountpoints"] == ["/", "/boot/efi", "[SWAP]"] and sdb["Modes"] == ["disk", "lun"]
assert sdb["FutureCount"] == -3, "unknown key of a known type passes through"
assert j[0]["Model"] == "Loop\x1b[31mDisk", "JSON keeps the raw string"
'
run 0 --json -o NAME --raw disk-list
bus_py "--json: -o and --raw do not change the records" '
assert [d["Name"] for d in j] == ["loop0", "nvme0n1", "sdb", "sdc", "vda"], j
assert all(len(d) == (25 if d["Name"] == "sdb" else 24) for d in j), j
'
run 0 usb-list --json
bus_py "usb-list --json: the UsbDevice objects' properties, keys and types" '
order = ["1d6b:0003:0000:00:04.0", "46f4:0001:SN-LAB-0001", "046d:c077@2-1.4"]
want = sorted(objects("org.example.Passthrough1.UsbDevice"), key=lambda d: order.index(d["Id"]))
assert j == want, (j, want)
assert list(j[1]) == ["Id", "Bus", "Device", "Port", "VendorId", "ProductId", "Serial",
                      "Manufacturer", "Product", "IsHub", "AttachedTo", "State", "StateReason",
                      "AttachedBy", "Disks"], list(j[1])
assert j[1]["Bus"] == 1 and j[1]["IsHub"] is False and j[0]["IsHub"] is True, j
'
run 0 --json domains
bus_py "domains --json: the Domain objects" '
assert j == sorted(objects("org.example.Passthrough1.Domain"), key=lambda d: d["Name"]), j
'
run 0 --json attached debian
bus_py "attached --json: ListAttached as it is" 'assert j == bus("ListAttached", "debian"), j'
run 0 --json usb-attached debian
bus_py "usb-attached --json: its usb records" '
assert j == [d for d in bus("ListAttached", "debian") if d["Kind"] == "usb"] and len(j) == 1, j
'
run 0 --json disk-attached win11
check_py "disk-attached --json, nothing attached: []" 'assert j == [], j'

# USB names and ids in the table are the bus's.
run 0 --raw -o ID,VENDOR,PRODUCT,DEVICE-ID usb-list
cp "$TMP/out" "$TMP/usb-raw"
run 0 --json usb-list
check_py "usb-list: ID is VendorId:ProductId, VENDOR and PRODUCT the names, DEVICE-ID the Id" '
rows = [[c.replace("\\x20", " ") for c in l.split(" ")] for l in open("'"$TMP/usb-raw"'").read().splitlines()[1:]]
assert rows == [["%s:%s" % (d["VendorId"], d["ProductId"]), d["Manufacturer"], d["Product"], d["Id"]]
                for d in j], rows
assert rows[1][1:3] == ["QEMU", "QEMU USB HARDDRIVE"], rows
'

# --- completion -----------------------------------------------------------------------
# bash: _passthroughctl with COMP_WORDS/COMP_CWORD set, passthroughctl on the
# mock's bus (as the system bus). The mock: debian runs, win11 does not;
# sdb is the one free disk; 046d:c077@2-1.4 the one free USB device.
complete_words us
same "$TMP/out" "bash: verbs" <<'EOF'
usb-list
usb-attached
usb-attach
usb-detach
EOF
complete_words disk-attach ''
same "$TMP/out" "bash: disk-attach VM: the running VMs" <<'EOF'
debian
EOF
complete_words disk-attach debian ''
same "$TMP/out" "bash: disk-attach VM DEVICE: the free disks, from the service" <<'EOF'
/dev/sdb
EOF
complete_words disk-detach debian ''
same "$TMP/out" "bash: disk-detach: the VM's disks" <<'EOF'
/dev/loop0
/dev/sdc
EOF
complete_words usb-attach debian ''
same "$TMP/out" "bash: usb-attach: free USB devices (no hub, nothing attached)" <<'EOF'
046d:c077@2-1.4
EOF
complete_words usb-detach debian ''
same "$TMP/out" "bash: usb-detach: the VM's USB devices" <<'EOF'
46f4:0001:SN-LAB-0001
EOF
complete_words usb-detach debian 46f4:0001:SN-LAB-0001 --t
same "$TMP/out" "bash: usb-detach --timeout" <<'EOF'
--timeout
EOF
complete_words a
same "$TMP/out" "bash: the verbs with a" <<'EOF'
attached
assign
assignments
attach-all
EOF
complete_words assign ''
same "$TMP/out" "bash: assign VM: every VM (assignments may name VMs not running)" <<'EOF'
debian
win11
EOF
complete_words assign debian usb:
same "$TMP/out" "bash: assign VM DEVICE, match strings" <<'EOF'
usb:serial=
usb:id=
usb:port=
EOF
# What assign VM offers next (bash and zsh alike).
cat >"$TMP/assignable" <<'EOF'
usb:serial=
usb:id=
usb:port=
disk:wwn=
disk:serial=
disk:by-id=
046d:c077@2-1.4
/dev/sdb
EOF
complete_words assign win11 ''
same "$TMP/out" "bash: assign VM DEVICE: match strings and free devices" <"$TMP/assignable"
complete_words unassign usb:
same "$TMP/out" "bash: unassign, the assignments" <<'EOF'
usb:serial=SN-LAB-0001
usb:port=2-1.4
usb:serial=GONE-0001
usb:id=dead:beef
EOF
complete_words detach-all ''
same "$TMP/out" "bash: detach-all VM: running VMs" <<'EOF'
debian
EOF
complete_words attach-all --d
same "$TMP/out" "bash: attach-all --dry-run" <<'EOF'
--dry-run
EOF
complete_words disk-list -o MO
same "$TMP/out" "bash: -o: the verb's columns" <<'EOF'
MODEL
MOUNTED
MODES
EOF
complete_words usb-list -o NAME,S
same "$TMP/out" "bash: -o LIST: the last name of the list" <<'EOF'
NAME,SERIAL
EOF
complete_words disk-list --r
same "$TMP/out" "bash: listing options" <<'EOF'
--raw
EOF
complete_words import-bbvirt "$HERE/fixtures/bbvirt/vm.c"
same "$TMP/out" "bash: import-bbvirt FILE" <<EOF
$HERE/fixtures/bbvirt/vm.conf
EOF
# The address on the command line is the one the completion asks.
"$CTL" --address "$ADDR" domains >/dev/null
complete_words_at() {
        PATH="$TMP/bin:$PATH" bash -c '
                source "$1"
                shift
                COMP_WORDS=(passthroughctl "$@")
                COMP_CWORD=$#
                _passthroughctl
                printf "%s\n" "${COMPREPLY[@]}"' _ "$HERE/../data/passthroughctl.bash-completion" "$@" >"$TMP/out"
}
DBUS_SYSTEM_BUS_ADDRESS=unix:path=$TMP/nonexistent complete_words_at --address "$ADDR" usb-attach ''
same "$TMP/out" "bash: --address ADDRESS is used for the lists" <<'EOF'
debian
EOF

# With bash-completion's own helpers loaded (as in an interactive shell):
# COMP_WORDS split where readline splits them (at ':'), the word rejoined,
# and what is offered is what follows the ':' already typed.
BASH_COMPLETION_MAIN=/usr/share/bash-completion/bash_completion
complete_line() {
        local line=$1
        shift
        DBUS_SYSTEM_BUS_ADDRESS=$ADDR PATH="$TMP/bin:$PATH" bash -c '
                source "$1"
                source "$2"
                shift 2
                COMP_LINE=$1 COMP_POINT=${#1}
                shift
                COMP_WORDS=(passthroughctl "$@")
                COMP_CWORD=$#
                _passthroughctl
                printf "%s\n" "${COMPREPLY[@]}"' _ "$BASH_COMPLETION_MAIN" \
                "$HERE/../data/passthroughctl.bash-completion" "passthroughctl $line" "$@" >"$TMP/out"
}
if [ -r "$BASH_COMPLETION_MAIN" ]; then
        complete_line 'disk-attach debian /dev/s' disk-attach debian /dev/s
        same "$TMP/out" "bash-completion loaded: disk-attach VM DEVICE" <<'EOF'
/dev/sdb
EOF
        complete_line 'usb-detach debian 46f4:0' usb-detach debian 46f4 : 0
        same "$TMP/out" "bash-completion loaded: an Id split at ':' is completed after it" <<'EOF'
0001:SN-LAB-0001
EOF
        complete_line 'assign debian usb:s' assign debian usb : s
        same "$TMP/out" "bash-completion loaded: a match string after its ':'" <<'EOF'
serial=
EOF
else
        ok "# SKIP no bash-completion"
fi

# zsh and fish: the same lists through the same commands.
if command -v zsh >/dev/null; then
        zsh -n "$HERE/../data/_passthroughctl" && ok "zsh: syntax" || not_ok "zsh: syntax"
        # The argument dispatch as _arguments' "*::argument:->argument" calls it
        # (words from the verb on, CURRENT the one completed), compadd recording.
        cat >"$TMP/zsh-driver" <<'EOF'
source $1
compadd() { local -a a s m; zparseopts -D -E a=a S:=s M:=m; (( $#a )) && print -l -- ${(P)1}; }
_files() { print FILES; }
words=(${(s: :)2} '')
CURRENT=$#words
__passthroughctl_argument
EOF
        zsh_complete() {
                DBUS_SYSTEM_BUS_ADDRESS=$ADDR PATH="$TMP/bin:$PATH" zsh -f "$TMP/zsh-driver" \
                        "$HERE/../data/_passthroughctl" "$1" >"$TMP/out" 2>&1
        }
        zsh_complete 'disk-attach'
        same "$TMP/out" "zsh: disk-attach VM: the running VMs" <<'EOF'
debian
EOF
        zsh_complete 'disk-attach debian'
        same "$TMP/out" "zsh: disk-attach VM DEVICE: the free disks" <<'EOF'
/dev/sdb
EOF
        zsh_complete 'disk-detach debian'
        same "$TMP/out" "zsh: disk-detach VM DEVICE: the VM's disks" <<'EOF'
/dev/loop0
/dev/sdc
EOF
        zsh_complete 'usb-detach debian'
        same "$TMP/out" "zsh: usb-detach VM DEVICE: the VM's USB devices" <<'EOF'
46f4:0001:SN-LAB-0001
EOF
        zsh_complete 'assign'
        same "$TMP/out" "zsh: assign VM: every VM" <<'EOF'
debian
win11
EOF
        zsh_complete 'assign win11'
        same "$TMP/out" "zsh: assign VM DEVICE: match strings, free devices" <"$TMP/assignable"
else
        ok "# SKIP no zsh"
fi
if command -v fish >/dev/null; then
        fish -n "$HERE/../data/passthroughctl.fish" && ok "fish: syntax" || not_ok "fish: syntax"
        fish_complete() {
                DBUS_SYSTEM_BUS_ADDRESS=$ADDR PATH="$TMP/bin:$PATH" HOME=$TMP fish --no-config -c '
                        source $argv[1]; complete -C $argv[2]' "$HERE/../data/passthroughctl.fish" "$1" >"$TMP/out" 2>&1
        }
        fish_complete 'passthroughctl disk-attach '
        cut -f1 "$TMP/out" >"$TMP/fish"
        same "$TMP/fish" "fish: disk-attach VM: the running VMs" <<'EOF'
debian
EOF
        fish_complete 'passthroughctl disk-attach debian '
        cut -f1 "$TMP/out" >"$TMP/fish"
        same "$TMP/fish" "fish: disk-attach VM DEVICE: the free disks" <<'EOF'
/dev/sdb
EOF
        fish_complete 'passthroughctl usb-detach debian '
        cut -f1 "$TMP/out" >"$TMP/fish"
        same "$TMP/fish" "fish: usb-detach VM DEVICE: the VM's USB devices" <<'EOF'
46f4:0001:SN-LAB-0001
EOF
        fish_complete 'passthroughctl usb-l'
        cut -f1 "$TMP/out" >"$TMP/fish"
        same "$TMP/fish" "fish: verbs" <<'EOF'
usb-list
EOF
else
        ok "# SKIP no fish"
fi

finish

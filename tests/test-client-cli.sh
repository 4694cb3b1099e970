#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# passthroughctl's command line against tests/client-mock.py on a private
# bus: help per command, the status without a command, the one argument
# order (VM DEVICE) and what it refuses, suggestions for unknown commands,
# warnings (always) and hints (only on a terminal, through tests/ptyrun.py),
# exit codes by error name, the bus that cannot be reached, --json of
# attach, detach and version, Ctrl-C during a slow detach and just after one.
#
# Usage: test-client-cli.sh PATH-TO-passthroughctl
#
# shellcheck disable=SC2015
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/test-client.sh
. "$HERE/test-client.sh" "$@"

# tty RC [--sigint-on TEXT] ARGS...: as run, with stderr on a terminal.
tty() {
        local want=$1 sigint=()
        shift
        if [ "${1:-}" = --sigint-on ]; then
                sigint=(--sigint-on "$2")
                shift 2
        fi
        "$PY" "$HERE/ptyrun.py" "${sigint[@]}" "$TMP/out" "$TMP/err" "$CTL" --address "$ADDR" "$@"
        local rc=$?
        [ "$rc" = "$want" ] && ok "exit $want on a terminal: $*" \
                || not_ok "exit $want on a terminal: $*" "got exit $rc" "stderr: $(cat "$TMP/err")"
}

no_calls() {
        [ ! -s "$TMP/calls" ] && ok "$1: no call" || not_ok "$1: no call" "$(cat "$TMP/calls")"
}

empty() {
        [ ! -s "$2" ] && ok "$1" || not_ok "$1" "$(cat "$2")"
}

start_bus
start_mock

# --- help per command -------------------------------------------------------
: >"$TMP/calls"
run 0 help disk-attach
cp "$TMP/out" "$TMP/help-verb"
same "$TMP/out" "help disk-attach: its usage and its options only" <<'EOF'
passthroughctl disk-attach [OPTIONS...] VM DEVICE [NAME]

Attach a host disk to VM (NAME becomes the guest's /dev/disk/by-id/virtio-NAME; the guest target is --target)

Options:
     --target TARGET           The guest target, e.g. vdc or sdb (default:
                               the first free one)
     --readonly                Attach read-only
     --scsi                    On the virtio-scsi bus (sdX; an SSD shows as
                               one in the guest)
     --lun                     A SCSI disk as a LUN (SCSI commands and SMART
                               reach it; implies --scsi)
     --rawio                   With --lun: the guest may send any command
                               (ATA SMART); needs its own polkit action
     --no-discard              The guest's TRIM stops at QEMU
     --dry-run                 Show what would be done, change nothing

The options of every command: passthroughctl --help
EOF
run 0 disk-attach --help
same "$TMP/out" "disk-attach --help is help disk-attach" <"$TMP/help-verb"
run 0 --help disk-attach debian
same "$TMP/out" "--help before the command, with arguments: the command's help" <"$TMP/help-verb"
run 0 help usb-list
same "$TMP/out" "help usb-list: no options of its own" <<'EOF'
passthroughctl usb-list

List the host's USB devices

The options of every command: passthroughctl --help
EOF
run 0 help assign
grep -qx 'passthroughctl assign VM DEVICE' "$TMP/out" && ok "help assign: VM DEVICE" \
        || not_ok "help assign: VM DEVICE" "$(cat "$TMP/out")"
run 0 help
grep -q '^  disk-attach VM DEVICE \[NAME\]' "$TMP/out" && grep -q '^  assign VM DEVICE ' "$TMP/out" \
        && ok "help alone: the whole help" || not_ok "help alone: the whole help" "$(cat "$TMP/out")"
grep -A2 '^     --timeout SECONDS' "$TMP/out" | grep -q '(disk-detach, usb-detach, detach-all)' \
        && ok "whole help: the commands an option is for" || not_ok "whole help: the commands an option is for"
run 2 help bogus
run 2 help disk-list usb-list
no_calls "help"

# --- no command: what each running VM holds ---------------------------------------
run 0
same "$TMP/out" "no command: the running VMs and the host devices they hold" <<'EOF'
debian:
  disk /dev/loop0 (Loop?[31mDisk)
  usb 46f4:0001:SN-LAB-0001 (QEMU USB HARDDRIVE)
EOF
empty "no command: no hint off a terminal" "$TMP/err"
check_py "no command: one GetManagedObjects" '
assert [c["method"] for c in calls] == ["GetManagedObjects"], calls
'
run 0 --json
check_py "no command --json: the running Domain records, the bus keys" '
assert [d["Name"] for d in j] == ["debian"], j
assert set(j[0]) == {"Name", "Uuid", "State", "Devices"}, j[0]
assert j[0]["Devices"][1] == "/org/example/Passthrough1/usb/46f4_3a0001_3aSN_2dLAB_2d0001", j[0]
'
tty 0
grep -q "^Hint: 'passthroughctl --help' lists the commands" "$TMP/err" && ok "no command: a hint on a terminal" \
        || not_ok "no command: a hint on a terminal" "$(cat "$TMP/err")"
run 2 --readonly
emit --change 'domain win11 State=running'
run 0
same "$TMP/out" "no command: a running VM that holds nothing" <<'EOF'
debian:
  disk /dev/loop0 (Loop?[31mDisk)
  usb 46f4:0001:SN-LAB-0001 (QEMU USB HARDDRIVE)
win11: nothing from the host
EOF
emit --change 'domain win11 "State=shut off"' --change 'domain debian "State=shut off"'
run 0
same "$TMP/out" "no command: no VM running" <<'EOF'
No VM is running.
EOF
restart_mock

# --- one argument order: VM DEVICE ------------------------------------------------
: >"$TMP/calls"
run 2 assign usb:serial=SN-1 debian
same "$TMP/err" "assign DEVICE VM (the old order) refused" <<'EOF'
passthroughctl: 'usb:serial=SN-1' looks like a device and 'debian' like a VM: the order is 'assign VM DEVICE'
Try 'passthroughctl --help' for more information.
EOF
run 2 assign /dev/sdc win11
run 2 assign 2-1.4 debian
run 2 disk-attach /dev/sdb debian
run 2 usb-attach 046d:c077 debian
run 2 usb-detach 1:12 debian
tty 2 assign usb:serial=SN-1 debian
same "$TMP/err" "old order on a terminal: the hint with the right order" <<'EOF'
passthroughctl: 'usb:serial=SN-1' looks like a device and 'debian' like a VM: the order is 'assign VM DEVICE'
Try 'passthroughctl --help' for more information.
Hint: In that order: passthroughctl assign debian usb:serial=SN-1
EOF
run 2 disk-attach debian /dev/sdb vdb
same "$TMP/err" "disk-attach: a target as NAME refused, --target said" <<'EOF'
passthroughctl: 'vdb' looks like a guest target: give it as --target vdb (NAME, the third argument, becomes the disk's serial)
Try 'passthroughctl --help' for more information.
EOF
run 2 disk-attach debian /dev/sdb sdc --scsi
no_calls "refused argument orders and targets"

# --- unknown commands: the nearest one ------------------------------------------------
run 2 attach-disk debian /dev/sdb
same "$TMP/err" "attach-disk: did you mean disk-attach" <<'EOF'
passthroughctl: unknown command 'attach-disk'; did you mean 'disk-attach'?
Try 'passthroughctl --help' for more information.
EOF
run 2 list-usb
grep -q "did you mean 'usb-list'?" "$TMP/err" && ok "list-usb: usb-list" || not_ok "list-usb: usb-list" "$(cat "$TMP/err")"
run 2 usb-atach debian 1:12
grep -q "did you mean 'usb-attach'?" "$TMP/err" && ok "usb-atach: usb-attach" || not_ok "usb-atach: usb-attach" "$(cat "$TMP/err")"
run 2 frobnicate
same "$TMP/err" "nothing near: no suggestion" <<'EOF'
passthroughctl: unknown command 'frobnicate'
Try 'passthroughctl --help' for more information.
EOF
run 2 help detach-disk
grep -q "did you mean 'disk-detach'?" "$TMP/err" && ok "help detach-disk: disk-detach" \
        || not_ok "help detach-disk: disk-detach" "$(cat "$TMP/err")"

# --- assign to a VM libvirt does not know: done, with a warning ---------------------------
: >"$TMP/calls"
run 0 assign future-vm usb:serial=LATER-1
same "$TMP/out" "assign to an unknown VM: done" <<'EOF'
Assigned usb:serial=LATER-1 to future-vm
EOF
same "$TMP/err" "assign to an unknown VM: a warning on stderr" <<'EOF'
passthroughctl: Warning: libvirt knows no VM 'future-vm' (yet): the device is attached once a VM of that name or UUID runs.
EOF
run 0 assign debian usb:serial=NOW-1
empty "assign to a known VM: no warning" "$TMP/err"
run 0 assign 0d2e4f60-1111-2222-3333-444455556666 usb:serial=NOW-2
empty "assign to a known VM by UUID: no warning" "$TMP/err"
check_py "assign VM DEVICE: Assign(device, domain)" '
got = [c["args"][:2] for c in calls if c["method"] == "Assign"]
assert got == [["usb:serial=LATER-1", "future-vm"], ["usb:serial=NOW-1", "debian"],
               ["usb:serial=NOW-2", "0d2e4f60-1111-2222-3333-444455556666"]], got
'

# --- hints only on a terminal; warnings always -------------------------------------------
tty 0 disk-list
grep -q '^Hint: Attach one with: passthroughctl disk-attach VM /dev/NAME \[NAME\]$' "$TMP/err" \
        && ok "disk-list on a terminal: the hint" || not_ok "disk-list on a terminal: the hint" "$(cat "$TMP/err")"
grep -q "^passthroughctl: Warning: system disks need an administrator's authorization" "$TMP/err" \
        && ok "disk-list on a terminal: the warning too" || not_ok "disk-list on a terminal: the warning too"
grep -q 'Hint\|Warning' "$TMP/out" && not_ok "disk-list: stdout has the table only" "$(cat "$TMP/out")" \
        || ok "disk-list: stdout has the table only"
tty 0 --no-legend disk-list
grep -q '^Hint:' "$TMP/err" && not_ok "--no-legend: no hint" "$(cat "$TMP/err")" || ok "--no-legend: no hint"
grep -q 'Warning:' "$TMP/err" && ok "--no-legend: the warnings still" || not_ok "--no-legend: the warnings still"
run 0 --json disk-list
grep -q 'Warning:' "$TMP/err" && ok "disk-list --json: warnings on stderr" || not_ok "disk-list --json: warnings on stderr"
check_py "disk-list --json: stdout is JSON" 'assert isinstance(j, list) and j, text'

# --- exit codes by error name, hints by error name on a terminal ---------------------------
run 3 disk-attach debian /dev/denied
same "$TMP/err" "not authorized: exit 3, the service's message" <<'EOF'
passthroughctl: Not authorized to attach /dev/denied
EOF
tty 3 disk-attach debian /dev/denied
grep -q "^Hint: Changes need polkit's authorization: members of the group 'passthrough'" "$TMP/err" \
        && ok "not authorized on a terminal: the polkit hint" || not_ok "not authorized on a terminal: the polkit hint" "$(cat "$TMP/err")"
run 3 disk-attach debian /dev/dismissed
same "$TMP/err" "dismissed prompt: quiet, exit 3" <<'EOF'
Authorization dismissed.
EOF
tty 3 disk-attach debian /dev/dismissed
same "$TMP/err" "dismissed prompt on a terminal: quiet still" <<'EOF'
Authorization dismissed.
EOF
run 3 --no-ask-password disk-attach debian /dev/needauth
run 4 disk-attach nosuchvm /dev/sdb
run 4 disk-attach debian /dev/nosuch
tty 4 disk-attach nosuchvm /dev/sdb
grep -q "^Hint: 'passthroughctl domains' lists the VMs libvirt knows.$" "$TMP/err" \
        && ok "no such VM on a terminal: the hint" || not_ok "no such VM on a terminal: the hint" "$(cat "$TMP/err")"
run 5 disk-attach debian /dev/busy
same "$TMP/err" "busy: exit 5, no hint off a terminal" <<'EOF'
passthroughctl: /dev/busy is mounted at /mnt/busy
EOF
tty 5 disk-attach debian /dev/busy
same "$TMP/err" "busy on a terminal: unmount first" <<'EOF'
passthroughctl: /dev/busy is mounted at /mnt/busy
Hint: Unmount it (and its partitions) and stop what holds it first; 'passthroughctl disk-list' says what uses it.
EOF
run 5 usb-attach debian 1:12
run 6 disk-detach debian /dev/stuck
run 6 usb-detach --timeout 0.5 debian 1:12
run 1 disk-attach win11 /dev/sdb
same "$TMP/err" "VM not running: exit 1" <<'EOF'
passthroughctl: Domain win11 is not running
EOF
tty 1 disk-attach win11 /dev/sdb
grep -qx 'Hint: Start it first: virsh start win11' "$TMP/err" && ok "VM not running on a terminal: virsh start VM" \
        || not_ok "VM not running on a terminal: virsh start VM" "$(cat "$TMP/err")"
run 1 usb-attach debian 0781:5567
run 2 disk-list extra

# --- NoReply: a timeout (6) only when it says so ----------------------------------------------
# The service dies mid-call: dbus-daemon's NoReply, a failure (1), through
# sd_bus_call() (attach) and through the interruptible wait (detach).
for verb in disk-attach disk-detach; do
        run 1 $verb debian /dev/crash
        same "$TMP/err" "$verb: the service died mid-call: exit 1, dbus-daemon's message" <<'EOF'
passthroughctl: Message recipient disconnected from message bus without replying
EOF
        restart_mock
done
# sd-bus gave up waiting ($SYSTEMD_BUS_TIMEOUT for a listing): a timeout.
SYSTEMD_BUS_TIMEOUT=1 run 6 attached slowvm

# --- --json of attach, detach, version: the bus's names --------------------------------------
run 0 --json disk-attach debian /dev/sdb --target vdc
check_py "disk-attach --json" '
assert j == {"domain": "debian", "device": "/dev/sdb", "target": "vdc", "dry-run": False}, j
'
run 0 --json --dry-run disk-attach debian sdb
check_py "disk-attach --json --dry-run: the target it would use" '
assert j == {"domain": "debian", "device": "sdb", "target": "vdb", "dry-run": True}, j
'
run 0 --json usb-attach debian 046d:c077
check_py "usb-attach --json" 'assert j == {"domain": "debian", "device": "046d:c077", "dry-run": False}, j'
run 0 --json disk-detach debian /dev/sdb
check_py "disk-detach --json" 'assert j == {"domain": "debian", "device": "/dev/sdb", "dry-run": False}, j'
run 0 --json --dry-run usb-detach debian 1:12
check_py "usb-detach --json --dry-run" 'assert j == {"domain": "debian", "device": "1:12", "dry-run": True}, j'
run 0 --json version
check_py "version --json: the Version property and the client's" '
assert set(j) == {"Version", "ClientVersion"}, j
assert j["Version"] == "0.1.0-mock", j
assert j["ClientVersion"].split(".")[0].isdigit(), j
'
run 4 --json disk-attach nosuchvm /dev/sdb
empty "--json error: nothing on stdout" "$TMP/out"

# --- the bus that cannot be reached --------------------------------------------------------------
bad_address() {
        local address=$1 reason=$2
        "$CTL" --address "$address" domains >"$TMP/out" 2>"$TMP/err"
        local rc=$?
        [ "$rc" = 1 ] && ok "--address $address: exit 1" || not_ok "--address $address: exit 1" "got $rc"
        same "$TMP/err" "--address $address: the bus cannot be reached" <<EOF
passthroughctl: Cannot reach the bus at '$address': $reason
EOF
}
bad_address garbage "not a D-Bus address (such as unix:path=/run/dbus/system_bus_socket)"
bad_address foo:bar "not a D-Bus address (such as unix:path=/run/dbus/system_bus_socket)"
bad_address "unix:path=$TMP/nonexistent" "no such socket"
: >"$TMP/plain-file"
bad_address "unix:path=$TMP/plain-file" "nothing listens there"

# --- slow detach: feedback on a terminal, Ctrl-C stops waiting ---------------------------------------
run 0 disk-detach debian /dev/sdb
empty "detach off a terminal: no waiting message" "$TMP/err"
tty 0 disk-detach debian /dev/sdb
same "$TMP/err" "detach on a terminal: says it waits for the guest" <<'EOF'
Waiting for the guest to release /dev/sdb…
EOF
tty 0 --dry-run disk-detach debian /dev/sdb
empty "detach --dry-run: nothing waited for" "$TMP/err"
tty 130 --sigint-on 'Waiting for' disk-detach debian /dev/slow
same "$TMP/err" "Ctrl-C during a slow detach: stops waiting, says the detach may still complete" <<'EOF'
Waiting for the guest to release /dev/slow…
Stopped waiting. The detach of /dev/slow from debian may still complete: the request is with the service ('passthroughctl attached debian' shows what the VM has).
EOF
empty "Ctrl-C: nothing on stdout" "$TMP/out"
tty 130 --sigint-on 'Waiting for' usb-detach debian /dev/slow
grep -q '^Waiting for the guest to release USB /dev/slow…$' "$TMP/err" \
        && ok "usb-detach on a terminal: says it waits" || not_ok "usb-detach on a terminal: says it waits" "$(cat "$TMP/err")"
run 0 disk-detach debian /dev/slow
same "$TMP/out" "a slow detach waited for to the end" <<'EOF'
Detached /dev/slow from debian
EOF
# Ctrl-C once the reply is in, while the result is being written (stdout a
# full pipe): the detach is reported, not cut short by SIGINT.
"$PY" "$HERE/late-sigint.py" "$TMP/out" "$CTL" --address "$ADDR" disk-detach debian /dev/sdb 2>"$TMP/err"
rc=$?
[ "$rc" = 0 ] && ok "Ctrl-C after the reply: exit 0" || not_ok "Ctrl-C after the reply: exit 0" "got exit $rc" "$(cat "$TMP/err")"
same "$TMP/out" "Ctrl-C after the reply: the detach reported" <<'EOF'
Detached /dev/sdb from debian
EOF

# --- the bus gave up waiting (its reply_timeout): NoReply, a timeout -----------------------------
kill "$MOCK_PID" "$BUS_PID"
wait "$MOCK_PID" 2>/dev/null
cat >"$TMP/bus.conf" <<'EOF'
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <include>/usr/share/dbus-1/session.conf</include>
  <limit name="reply_timeout">1000</limit>
</busconfig>
EOF
start_bus "$TMP/bus.conf"
start_mock
run 6 disk-detach debian /dev/slow
same "$TMP/err" "the bus's reply timeout: exit 6, its message" <<'EOF'
passthroughctl: Message did not receive a reply (timeout by message bus)
EOF

finish

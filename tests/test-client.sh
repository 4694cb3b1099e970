#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# passthroughctl against tests/client-mock.py on a private bus: options
# sent, error propagation and exit codes, the objects' changes and the signals
# monitor prints, assignments, attach-all and detach-all, --dry-run,
# import-bbvirt. The listings and the shell completions:
# tests/test-client-lists.sh.
#
# Usage: test-client.sh PATH-TO-passthroughctl
#
# Sourced (". test-client.sh PATH-TO-passthroughctl", as by
# tests/test-import-bbvirt.sh) it only sets up $TMP and the helpers, starting
# nothing.
#
# ok() always succeeds, so "test && ok || not_ok" is a safe if-then-else here.
# shellcheck disable=SC2015
set -u

CTL=${1:?usage: test-client.sh PATH-TO-passthroughctl}
HERE=$(cd "$(dirname "$0")" && pwd)
XML=$HERE/../dbus/org.example.Passthrough1.xml
PY=/usr/bin/python3   # Debian's python with python3-gi (not a pyenv one)

skip() { echo "SKIP: $*"; exit 77; }
command -v dbus-daemon >/dev/null || skip "no dbus-daemon"
"$PY" -c 'from gi.repository import Gio' 2>/dev/null || skip "no python3-gi for $PY"

TMP=$(mktemp -d)
BUS_PID=
MOCK_PID=
MON_PID=
cleanup() {
        [ -n "$MON_PID" ] && kill "$MON_PID" 2>/dev/null
        [ -n "$MOCK_PID" ] && kill "$MOCK_PID" 2>/dev/null
        [ -n "$BUS_PID" ] && kill "$BUS_PID" 2>/dev/null
        rm -rf "$TMP"
}
trap cleanup EXIT

# start_bus [CONFIG-FILE]: a private bus (a session bus without CONFIG-FILE).
start_bus() {
        local out config=${1:+--config-file=$1}
        out=$(dbus-daemon "${config:---session}" --fork --print-address=1 --print-pid=1) || exit 1
        ADDR=$(sed -n 1p <<<"$out")
        BUS_PID=$(sed -n 2p <<<"$out")
}

start_mock() {
        rm -f "$TMP/ready"
        "$PY" "$HERE/client-mock.py" --address "$ADDR" --xml "$XML" \
                --log "$TMP/calls" --ready "$TMP/ready" &
        MOCK_PID=$!
        for _ in $(seq 100); do
                [ -e "$TMP/ready" ] && return
                kill -0 "$MOCK_PID" 2>/dev/null || break
                sleep 0.1
        done
        echo "client-mock did not start"
        exit 1
}

FAILED=0
N=0
ok() { N=$((N + 1)); echo "ok $N - $1"; }
not_ok() {
        N=$((N + 1)); FAILED=$((FAILED + 1))
        echo "not ok $N - $1"
        shift
        printf '#   %s\n' "$@"
}

# run RC ARGS...: run passthroughctl on the mock's bus; stdout, stderr in files.
run() {
        local want=$1; shift
        "$CTL" --address "$ADDR" "$@" >"$TMP/out" 2>"$TMP/err"
        local rc=$?
        if [ "$rc" = "$want" ]; then
                ok "exit $want: $*"
        else
                not_ok "exit $want: $*" "got exit $rc" "stderr: $(cat "$TMP/err")"
        fi
}

# same FILE NAME: compare FILE with the expected text on stdin.
same() {
        local file=$1 name=$2
        if diff -u - "$file" >"$TMP/diff"; then
                ok "$name"
        else
                not_ok "$name" "$(cat "$TMP/diff")"
        fi
}

# check_py NAME CODE: run Python with j = parsed stdout, calls = logged calls.
check_py() {
        local name=$1 code=$2
        if "$PY" - "$TMP/out" "$TMP/calls" >"$TMP/pyerr" 2>&1 <<EOF
import json, sys
with open(sys.argv[1]) as f:
    text = f.read()
try:
    j = json.loads(text)
except ValueError:
    j = None        # not one JSON document: JSON lines, or a table
calls = [json.loads(l) for l in open(sys.argv[2])]
$code
EOF
        then
                ok "$name"
        else
                not_ok "$name" "$(cat "$TMP/pyerr")"
        fi
}

# emit [--foreign] --emit 'SIGNAL ARG...'...: signals from the mock (or an impostor).
emit() {
        "$PY" "$HERE/client-mock.py" --address "$ADDR" --xml "$XML" "$@"
}

# wait_for SECONDS COMMAND...: until COMMAND succeeds, at most SECONDS.
wait_for() {
        local tries=$(($1 * 10))
        shift
        for _ in $(seq "$tries"); do
                "$@" && return 0
                sleep 0.1
        done
        return 1
}

# start_monitor ARGS...: passthroughctl ARGS monitor in the background; its
# stdout in $TMP/mon, stderr in $TMP/mon-err.
start_monitor() {
        "$CTL" --address "$ADDR" "$@" monitor >"$TMP/mon" 2>"$TMP/mon-err" &
        MON_PID=$!
}

monitor_running() { kill -0 "$MON_PID" 2>/dev/null; }
monitor_stopped() { ! monitor_running; }
probed() {
        monitor_running || return 1
        emit --emit 'DeviceAdded probe 0' && grep -q probe "$TMP/mon"
}

# monitor_ready: the monitor's match is in place once a probe signal from the
# mock comes through (the probe lines are left out of the comparisons).
monitor_ready() {
        wait_for 10 probed && ok "monitor: listening" || not_ok "monitor: listening" "$(cat "$TMP/mon-err")"
}

# events N: the monitor's lines but the probes, in $TMP/out, once there are N.
has_events() { [ "$(grep -vc probe "$TMP/mon")" -ge "$1" ]; }
events() {
        wait_for 10 has_events "$1"
        grep -v probe "$TMP/mon" >"$TMP/out"
}

# untimed: $TMP/out without the time each line starts with (HH:MM:SS.mmm,
# checked).
untimed() {
        local name="monitor: each line starts with its time"
        if grep -Evq '^([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]\.[0-9]{3} ' "$TMP/out"; then
                not_ok "$name" "$(cat "$TMP/out")"
        else
                ok "$name"
        fi
        sed -E -i 's/^[0-9:.]{12} //' "$TMP/out"
}

# stop_monitor RC [SIGNAL]: send SIGNAL (none: the monitor is to end by
# itself) and check that it exits with RC within 10 s.
stop_monitor() {
        local want=$1 sig=${2:-} rc name
        name="monitor: exit $want${sig:+ on SIG$sig}"
        [ -n "$sig" ] && kill "-$sig" "$MON_PID"
        wait_for 10 monitor_stopped || kill -KILL "$MON_PID"
        wait "$MON_PID"
        rc=$?
        MON_PID=
        [ "$rc" = "$want" ] && ok "$name" || not_ok "$name" "got exit $rc" "stderr: $(cat "$TMP/mon-err")"
}

# complete_words WORDS...: what the bash completion offers for the last word
# (in $TMP/out), with passthroughctl the one under test, on the mock's bus.
mkdir "$TMP/bin"
ln -s "$(realpath "$CTL")" "$TMP/bin/passthroughctl"
complete_words() {
        DBUS_SYSTEM_BUS_ADDRESS=$ADDR PATH="$TMP/bin:$PATH" bash -c '
                source "$1"
                shift
                COMP_WORDS=(passthroughctl "$@")
                COMP_CWORD=$#
                _passthroughctl
                printf "%s\n" "${COMPREPLY[@]}"' _ "$HERE/../data/passthroughctl.bash-completion" "$@" >"$TMP/out"
}

# import_output: $TMP/out and $TMP/err with $TMP/ and the build's sysconfdir
# left out of the paths.
import_output() {
        local f
        for f in out err; do
                sed -E -e "s|$TMP/||g" -e 's|/[^ ;]*(/passthrough/passthrough\.conf)|SYSCONFDIR\1|' \
                        "$TMP/$f" >"$TMP/$f.sed" && mv "$TMP/$f.sed" "$TMP/$f"
        done
}

# restart_mock: a mock with its canned state again.
restart_mock() {
        kill "$MOCK_PID" 2>/dev/null   # (it may have exited: /dev/crash)
        wait "$MOCK_PID" 2>/dev/null
        start_mock
}

# finish: the TAP plan; exit 1 when a test failed.
finish() {
        echo "1..$N"
        [ "$FAILED" = 0 ] || { echo "$FAILED of $N failed"; exit 1; }
}

[[ ${BASH_SOURCE[0]} != "$0" ]] && return 0

start_bus
start_mock

# --- usage errors: exit 2, no bus needed --------------------------------
run 2 bogus-verb
run 2 --bogus disk-list
run 2 disk-list extra
run 2 disk-attach debian
run 2 disk-attach debian /dev/sdb name extra
run 2 disk-detach debian /dev/sdb --timeout soon
run 2 disk-detach debian /dev/sdb --timeout 0
run 2 domains --target vdc
run 2 usb-attach debian
run 2 usb-attach debian 1:12 extra
run 2 usb-attach debian 1:12 --timeout 3
run 2 usb-detach debian
run 2 usb-detach debian 1:12 --timeout 0
run 2 usb-attached
run 2 attached
run 2 attached debian extra
run 2 monitor extra
run 2 monitor --readonly
run 2 assign usb:serial=SN-1
run 2 assign debian usb:serial=SN-1 extra
run 2 unassign
run 2 unassign usb:serial=SN-1 extra
run 2 assignments extra
run 2 attach-all debian extra
run 2 attach-all --timeout 3
run 2 import-bbvirt a b
run 2 --dry-run assignments
run 2 domains --dry-run
run 2 --dry-run assign debian usb:serial=SN-1
same "$TMP/err" "--dry-run is refused where it would be ignored" <<'EOF'
passthroughctl: option --dry-run is not valid for 'assign'
Try 'passthroughctl --help' for more information.
EOF
run 2 disk-list --readonly
same "$TMP/err" "usage error message" <<'EOF'
passthroughctl: option --readonly is not valid for 'disk-list'
Try 'passthroughctl --help' for more information.
EOF

run 0 --help
grep -q '^  disk-attach VM DEVICE \[NAME\]' "$TMP/out" && ok "help lists verbs" || not_ok "help lists verbs"
for verb in usb-attach usb-detach usb-attached attached monitor assign unassign assignments \
        attach-all detach-all import-bbvirt; do
        grep -q "^  $verb " "$TMP/out" && ok "help lists $verb" || not_ok "help lists $verb"
done
grep -q '^     --dry-run ' "$TMP/out" && ok "help lists --dry-run" || not_ok "help lists --dry-run"
run 0 --version
grep -Eq '^passthroughctl [0-9]+\.[0-9]+' "$TMP/out" && ok "--version" || not_ok "--version" "$(cat "$TMP/out")"

# --- listings (tables, -o, --raw, JSON) and completion: tests/test-client-lists.sh

run 0 assignments
same "$TMP/out" "assignments table" <<'EOF'
MATCH                        KIND  DOMAIN  PRESENT  ATTACHED  ID
usb:serial=SN-LAB-0001       usb   debian  yes      yes       46f4:0001:SN-LAB-0001
usb:port=2-1.4               usb   debian  yes      no        046d:c077@2-1.4
usb:serial=GONE-0001         usb   debian  no       no
usb:id=dead:beef             usb   debian  yes      no        dead:beef@3-1
disk:wwn=0x5002538e4000abcd  disk  win11   yes      no        id-sdb
EOF
run 0 --json assignments
check_py "assignments --json: the contract's keys and types" '
assert len(j) == 5, j
assert j[0] == {"Match": "usb:serial=SN-LAB-0001", "Kind": "usb", "Domain": "debian",
                "Present": True, "Attached": True, "Id": "46f4:0001:SN-LAB-0001"}, j[0]
assert j[2]["Present"] is False and j[2]["Id"] == "", j[2]
'

# --- errors from the service: exit 1, its message ---------------------------
run 4 disk-attached nosuchvm
same "$TMP/err" "error message" <<'EOF'
passthroughctl: No such domain: nosuchvm
EOF
[ ! -s "$TMP/out" ] && ok "nothing on stdout on error" || not_ok "nothing on stdout on error"
run 4 -v disk-attached nosuchvm
same "$TMP/err" "error name with -v" <<'EOF'
passthroughctl: No such domain: nosuchvm (org.example.Passthrough1.Error.NoSuchDomain)
EOF
run 4 usb-attached nosuchvm
run 4 attached nosuchvm

# --- changes -----------------------------------------------------------------
: >"$TMP/calls"
run 0 disk-attach debian /dev/sdb data1 --target vdc --readonly
same "$TMP/out" "disk-attach output" <<'EOF'
Attached /dev/sdb to debian as vdc
EOF
run 0 disk-attach debian sdb
same "$TMP/out" "disk-attach default target" <<'EOF'
Attached sdb to debian as vdb
EOF
check_py "disk-attach sends typed options, interactive" '
assert calls[0] == {"method": "AttachDisk", "interactive": True,
                    "args": ["debian", "/dev/sdb", {"name": ["s", "data1"], "target": ["s", "vdc"],
                                                    "readonly": ["b", True]}]}, calls[0]
assert calls[1]["args"] == ["debian", "sdb", {}], calls[1]
'

: >"$TMP/calls"
run 0 disk-attach debian /dev/sdc --lun --rawio
same "$TMP/out" "disk-attach --lun output" <<'EOF'
Attached /dev/sdc to debian as sda
EOF
run 0 disk-attach debian /dev/sdb fast --scsi --no-discard
same "$TMP/out" "disk-attach --scsi output" <<'EOF'
Attached /dev/sdb to debian as sda
EOF
check_py "disk-attach --lun --rawio, --scsi --no-discard send typed options" '
assert calls[0]["args"] == ["debian", "/dev/sdc", {"mode": ["s", "lun"], "rawio": ["b", True]}], calls[0]
assert calls[1]["args"] == ["debian", "/dev/sdb", {"name": ["s", "fast"], "bus": ["s", "scsi"],
                                                   "discard": ["b", False]}], calls[1]
'
run 2 usb-attach debian 1:12 --scsi
run 2 disk-detach debian /dev/sdb --lun
run 2 usb-attach debian 1:12 --no-discard

run 1 disk-attach debian /dev/vda
same "$TMP/err" "disk-attach system disk refused" <<'EOF'
passthroughctl: vda holds the host's root file system
EOF

: >"$TMP/calls"
run 0 disk-attach debian /dev/needauth
run 3 --no-ask-password disk-attach debian /dev/needauth
same "$TMP/err" "--no-ask-password: interactive authorization required" <<'EOF'
passthroughctl: Interactive authentication required.
EOF
check_py "--no-ask-password clears the interactive flag" '
assert [c["interactive"] for c in calls] == [True, False], calls
'

: >"$TMP/calls"
run 0 disk-detach debian /dev/sdb --timeout 2.5
same "$TMP/out" "disk-detach output" <<'EOF'
Detached /dev/sdb from debian
EOF
run 0 disk-detach debian /dev/sdb
check_py "disk-detach timeout-ms is a u, absent by default" '
assert calls[0]["args"] == ["debian", "/dev/sdb", {"timeout-ms": ["u", 2500]}], calls[0]
assert calls[1]["args"] == ["debian", "/dev/sdb", {}], calls[1]
'
run 6 -v disk-detach --timeout 3 debian /dev/stuck
same "$TMP/err" "disk-detach timeout error" <<'EOF'
passthroughctl: The guest did not release /dev/stuck within 3000 ms (org.example.Passthrough1.Error.Timeout)
EOF

: >"$TMP/calls"
run 0 usb-attach debian 046d:c077
same "$TMP/out" "usb-attach output" <<'EOF'
Attached USB 046d:c077 to debian
EOF
run 0 --no-ask-password usb-attach win11 2-1.4
check_py "usb-attach sends no options, interactive unless --no-ask-password" '
assert calls == [{"method": "AttachUsb", "interactive": True, "args": ["debian", "046d:c077", {}]},
                 {"method": "AttachUsb", "interactive": False, "args": ["win11", "2-1.4", {}]}], calls
'
run 1 -v usb-attach debian 0781:5567
same "$TMP/err" "usb-attach ambiguous device" <<'EOF'
passthroughctl: USB device 0781:5567 is ambiguous: 0781:5567:AA01 (1-3), 0781:5567:AA02 (1-4) (org.example.Passthrough1.Error.AmbiguousDevice)
EOF
[ ! -s "$TMP/out" ] && ok "usb-attach error: nothing on stdout" || not_ok "usb-attach error: nothing on stdout"
run 1 usb-attach debian 1:1
same "$TMP/err" "usb-attach hub refused" <<'EOF'
passthroughctl: 1d6b:0003:0000:00:04.0 is a hub
EOF

: >"$TMP/calls"
run 0 usb-detach debian 46f4:0001:SN-LAB-0001 --timeout 2.5
same "$TMP/out" "usb-detach output" <<'EOF'
Detached USB 46f4:0001:SN-LAB-0001 from debian
EOF
run 0 usb-detach debian SN-LAB-0001
check_py "usb-detach timeout-ms is a u, absent by default" '
assert calls[0] == {"method": "DetachUsb", "interactive": True,
                    "args": ["debian", "46f4:0001:SN-LAB-0001", {"timeout-ms": ["u", 2500]}]}, calls[0]
assert calls[1]["args"] == ["debian", "SN-LAB-0001", {}], calls[1]
'
run 6 -v usb-detach --timeout 0.5 debian 1:12
same "$TMP/err" "usb-detach timeout error" <<'EOF'
passthroughctl: debian did not release 46f4:0001:SN-LAB-0001 within 500 ms (org.example.Passthrough1.Error.Timeout)
EOF
run 1 usb-detach win11 1:12
same "$TMP/err" "usb-detach not attached" <<'EOF'
passthroughctl: 46f4:0001:SN-LAB-0001 is not attached to win11
EOF

# --- --dry-run of a single change: dry-run b sent, "Would ..." said -------------
: >"$TMP/calls"
run 0 --dry-run disk-attach debian /dev/sdb data1
same "$TMP/out" "disk-attach --dry-run" <<'EOF'
Would attach /dev/sdb to debian as vdb
EOF
run 0 usb-attach --dry-run debian 046d:c077
same "$TMP/out" "usb-attach --dry-run" <<'EOF'
Would attach USB 046d:c077 to debian
EOF
run 0 --dry-run disk-detach debian /dev/sdb
same "$TMP/out" "disk-detach --dry-run" <<'EOF'
Would detach /dev/sdb from debian
EOF
run 0 --dry-run usb-detach --timeout 2 debian 1:12
same "$TMP/out" "usb-detach --dry-run" <<'EOF'
Would detach USB 1:12 from debian
EOF
check_py "--dry-run: dry-run is a b beside the other options" '
assert [c["method"] for c in calls] == ["AttachDisk", "AttachUsb", "DetachDisk", "DetachUsb"], calls
assert calls[0]["args"] == ["debian", "/dev/sdb", {"dry-run": ["b", True], "name": ["s", "data1"]}], calls[0]
assert calls[1]["args"] == ["debian", "046d:c077", {"dry-run": ["b", True]}], calls[1]
assert calls[2]["args"] == ["debian", "/dev/sdb", {"dry-run": ["b", True]}], calls[2]
assert calls[3]["args"] == ["debian", "1:12", {"dry-run": ["b", True], "timeout-ms": ["u", 2000]}], calls[3]
assert all(c["interactive"] for c in calls), calls
'
run 5 --dry-run usb-attach debian 1:12
same "$TMP/err" "usb-attach --dry-run: the service's refusal" <<'EOF'
passthroughctl: 46f4:0001:SN-LAB-0001 is attached to debian
EOF
[ ! -s "$TMP/out" ] && ok "usb-attach --dry-run refused: nothing on stdout" \
        || not_ok "usb-attach --dry-run refused: nothing on stdout" "$(cat "$TMP/out")"

# --- assign, unassign ---------------------------------------------------------------
: >"$TMP/calls"
run 0 assign debian usb:serial=NEW-0001
same "$TMP/out" "assign a match string" <<'EOF'
Assigned usb:serial=NEW-0001 to debian
EOF
run 0 assign 0d2e4f60-1111-2222-3333-444455556666 /dev/sdc
same "$TMP/out" "assign a present disk, the domain by UUID" <<'EOF'
Assigned /dev/sdc to 0d2e4f60-1111-2222-3333-444455556666
EOF
check_py "assign VM DEVICE: Assign(device, domain), no options, interactive" '
calls = [c for c in calls if c["method"] == "Assign"]
assert calls == [{"method": "Assign", "interactive": True, "args": ["usb:serial=NEW-0001", "debian", {}]},
                 {"method": "Assign", "interactive": True,
                  "args": ["/dev/sdc", "0d2e4f60-1111-2222-3333-444455556666", {}]}], calls
'
run 1 assign win11 2-1.4
same "$TMP/err" "assign: already assigned" <<'EOF'
passthroughctl: usb:port=2-1.4 is already assigned to debian
EOF
run 1 -v assign debian usb:bogus=1
same "$TMP/err" "assign: a bad match string" <<'EOF'
passthroughctl: Invalid match string: usb:bogus=1 (org.example.Passthrough1.Error.InvalidArgument)
EOF
run 0 --no-legend assignments
same "$TMP/out" "assignments: the new ones last" <<'EOF'
usb:serial=SN-LAB-0001       usb   debian  yes  yes  46f4:0001:SN-LAB-0001
usb:port=2-1.4               usb   debian  yes  no   046d:c077@2-1.4
usb:serial=GONE-0001         usb   debian  no   no
usb:id=dead:beef             usb   debian  yes  no   dead:beef@3-1
disk:wwn=0x5002538e4000abcd  disk  win11   yes  no   id-sdb
usb:serial=NEW-0001          usb   debian  no   no
disk:serial=SER-sdc          disk  win11   no   no
EOF
: >"$TMP/calls"
run 0 unassign usb:serial=NEW-0001
same "$TMP/out" "unassign" <<'EOF'
Unassigned usb:serial=NEW-0001
EOF
run 0 --no-ask-password unassign /dev/sdc
run 1 -v unassign usb:serial=NEW-0001
same "$TMP/err" "unassign: not assigned" <<'EOF'
passthroughctl: usb:serial=NEW-0001 is not assigned (org.example.Passthrough1.Error.NotAssigned)
EOF
check_py "unassign: the device, no options" '
assert calls[:2] == [{"method": "Unassign", "interactive": True, "args": ["usb:serial=NEW-0001", {}]},
                     {"method": "Unassign", "interactive": False, "args": ["/dev/sdc", {}]}], calls
'

# --- attach-all, detach-all -----------------------------------------------------------
: >"$TMP/calls"
run 1 attach-all debian
same "$TMP/out" "attach-all: a row for each device, the match where no Id" <<'EOF'
DOMAIN  KIND  ID                     RESULT            ERROR
debian  usb   46f4:0001:SN-LAB-0001  already attached
debian  usb   046d:c077@2-1.4        attached
debian  usb   usb:serial=GONE-0001   not present
debian  usb   dead:beef@3-1          failed            internal error: unable to execute QEMU command 'device_add'
EOF
same "$TMP/err" "attach-all: a failed device is exit 1" <<'EOF'
passthroughctl: 1 of 4 devices failed
EOF
run 0 attach-all win11
same "$TMP/out" "attach-all: domain not running is no failure" <<'EOF'
DOMAIN  KIND  ID      RESULT              ERROR
win11   disk  id-sdb  domain not running
EOF
run 0 --dry-run attach-all debian
same "$TMP/out" "attach-all --dry-run: the XML each would get" <<'EOF'
DOMAIN  KIND  ID                     RESULT            ERROR
debian  usb   46f4:0001:SN-LAB-0001  already attached
debian  usb   046d:c077@2-1.4        would attach
debian  usb   usb:serial=GONE-0001   not present
debian  usb   dead:beef@3-1          would attach

debian usb 046d:c077@2-1.4 (usb:port=2-1.4): would attach
    <hostdev mode='subsystem' type='usb' managed='no'>
      <source><vendor id='0x046d'/><product id='0xc077'/><address bus='2' device='3'/></source>
    </hostdev>

debian usb dead:beef@3-1 (usb:id=dead:beef): would attach
    <hostdev mode='subsystem' type='usb' managed='no'>
      <source><vendor id='0xdead'/><product id='0xbeef'/><address bus='3' device='7'/></source>
    </hostdev>
EOF
run 1 --no-legend attach-all
same "$TMP/out" "attach-all: every domain" <<'EOF'
debian  usb   46f4:0001:SN-LAB-0001  already attached
debian  usb   046d:c077@2-1.4        attached
debian  usb   usb:serial=GONE-0001   not present
debian  usb   dead:beef@3-1          failed              internal error: unable to execute QEMU command 'device_add'
win11   disk  id-sdb                 domain not running
EOF
run 1 --json attach-all debian
check_py "attach-all --json: the results as they are, exit 1 all the same" '
assert [r["Result"] for r in j] == ["already attached", "attached", "not present", "failed"], j
assert list(j[0]) == ["Kind", "Id", "Match", "Domain", "Result", "Error", "Xml"], list(j[0])
assert j[2] == {"Kind": "usb", "Id": "", "Match": "usb:serial=GONE-0001", "Domain": "debian",
                "Result": "not present", "Error": "", "Xml": ""}, j[2]
'
run 4 attach-all nosuchvm
same "$TMP/err" "attach-all: no such domain" <<'EOF'
passthroughctl: No such domain: nosuchvm
EOF
check_py "attach-all: AttachAll(domain or \"\", dry-run b only with --dry-run), interactive" '
assert [c["method"] for c in calls] == ["AttachAll"] * 6, calls
assert [c["args"] for c in calls] == [["debian", {}], ["win11", {}], ["debian", {"dry-run": ["b", True]}],
                                      ["", {}], ["debian", {}], ["nosuchvm", {}]], calls
assert all(c["interactive"] for c in calls), calls
'
: >"$TMP/calls"
run 0 -v detach-all debian
same "$TMP/out" "detach-all -v: each device's details" <<'EOF'
DOMAIN  KIND  ID                     RESULT        ERROR
debian  usb   46f4:0001:SN-LAB-0001  detached
debian  usb   046d:c077@2-1.4        not attached
debian  usb   usb:serial=GONE-0001   not present
debian  usb   dead:beef@3-1          not attached

debian usb 46f4:0001:SN-LAB-0001 (usb:serial=SN-LAB-0001): detached

debian usb 046d:c077@2-1.4 (usb:port=2-1.4): not attached

debian usb usb:serial=GONE-0001: not present

debian usb dead:beef@3-1 (usb:id=dead:beef): not attached
EOF
run 0 --dry-run detach-all
same "$TMP/out" "detach-all --dry-run: every domain" <<'EOF'
DOMAIN  KIND  ID                     RESULT              ERROR
debian  usb   46f4:0001:SN-LAB-0001  would detach
debian  usb   046d:c077@2-1.4        not attached
debian  usb   usb:serial=GONE-0001   not present
debian  usb   dead:beef@3-1          not attached
win11   disk  id-sdb                 domain not running

debian usb 46f4:0001:SN-LAB-0001 (usb:serial=SN-LAB-0001): would detach
    <hostdev mode='subsystem' type='usb' managed='no'>
      <source><vendor id='0x46f4'/><product id='0x0001'/><address bus='1' device='12'/></source>
    </hostdev>
EOF
run 0 --json detach-all --timeout 2 win11
check_py "detach-all --json" '
assert j == [{"Kind": "disk", "Id": "id-sdb", "Match": "disk:wwn=0x5002538e4000abcd", "Domain": "win11",
              "Result": "domain not running", "Error": "", "Xml": ""}], j
'
check_py "detach-all: DetachAll(domain, options), --timeout as timeout-ms u" '
assert [c["args"] for c in calls] == [["debian", {}], ["", {"dry-run": ["b", True]}],
                                      ["win11", {"timeout-ms": ["u", 2000]}]], calls
assert {c["method"] for c in calls} == {"DetachAll"}, calls
'

# --- import-bbvirt ----------------------------------------------------------------------
cp "$HERE/fixtures/bbvirt/vm.conf" "$TMP/vm.conf"
: >"$TMP/calls"
run 0 --dry-run import-bbvirt "$TMP/vm.conf"
import_output
same "$TMP/out" "import-bbvirt --dry-run: what it would assign, the URIs" <<'EOF'
Would assign usb:serial=QZ7K2M to sid
Would assign usb:serial=PL4X8N to sid
Would assign usb:serial=G5TR3W to kbsd-unstable
Would assign usb:serial=HX9T2A to mx1.example.org
Would assign usb:serial=HX9T2B to mx1.example.org

passthroughd takes a domain's libvirt URI from SYSCONFDIR/passthrough/passthrough.conf;
this command does not change that file. For bbvirt's DOMAIN_URI settings, add:

[domain sid]
uri=qemu:///system

[domain kbsd-unstable]
uri=qemu+ssh://vmhost.example/system
EOF
check_py "import-bbvirt --dry-run: no Assign" 'assert [c["method"] for c in calls] == ["ListAssignments"], calls'
: >"$TMP/calls"
run 0 import-bbvirt "$TMP/vm.conf"
import_output
sed -n 1,5p "$TMP/out" >"$TMP/head"
same "$TMP/head" "import-bbvirt: an assignment for each serial" <<'EOF'
Assigned usb:serial=QZ7K2M to sid
Assigned usb:serial=PL4X8N to sid
Assigned usb:serial=G5TR3W to kbsd-unstable
Assigned usb:serial=HX9T2A to mx1.example.org
Assigned usb:serial=HX9T2B to mx1.example.org
EOF
[ ! -s "$TMP/err" ] && ok "import-bbvirt: nothing to report in a realistic vm.conf" \
        || not_ok "import-bbvirt: nothing to report in a realistic vm.conf" "$(cat "$TMP/err")"
check_py "import-bbvirt: Assign(usb:serial=SERIAL, domain, {}), interactive" '
assert calls[0]["method"] == "ListAssignments", calls
assert [c["args"] for c in calls[1:]] == [
    ["usb:serial=QZ7K2M", "sid", {}], ["usb:serial=PL4X8N", "sid", {}],
    ["usb:serial=G5TR3W", "kbsd-unstable", {}], ["usb:serial=HX9T2A", "mx1.example.org", {}],
    ["usb:serial=HX9T2B", "mx1.example.org", {}]], calls
assert all(c["method"] == "Assign" and c["interactive"] for c in calls[1:]), calls
'
: >"$TMP/calls"
run 0 import-bbvirt "$TMP/vm.conf"
sed -n 1,5p "$TMP/out" >"$TMP/head"
same "$TMP/head" "import-bbvirt again: nothing more to do" <<'EOF'
Already assigned usb:serial=QZ7K2M to sid
Already assigned usb:serial=PL4X8N to sid
Already assigned usb:serial=G5TR3W to kbsd-unstable
Already assigned usb:serial=HX9T2A to mx1.example.org
Already assigned usb:serial=HX9T2B to mx1.example.org
EOF
check_py "import-bbvirt again: no Assign" 'assert [c["method"] for c in calls] == ["ListAssignments"], calls'

cat >"$TMP/bad.conf" <<EOF
DOMAIN_RNG_debian=( SN-LAB-0001 NEW-0002 )
DOMAIN_RNG_win11=( \$(touch $TMP/pwned) OTHER-0001 )
DOMAIN_RNG_x11=( GONE-0001 )
DOMAIN_RNG_late=( LATE-0001 )
DOMAIN_NAME_late="unterminated
DOMAIN_RNG_later=( LATER-0001 )
EOF
: >"$TMP/calls"
run 1 import-bbvirt "$TMP/bad.conf"
import_output
same "$TMP/err" "import-bbvirt: FILE:LINE: what is skipped and why; the service's refusal" <<'EOF'
passthroughctl: bad.conf:2: command substitution $(...) is never run; line skipped
passthroughctl: bad.conf:4: DOMAIN_RNG_late not imported: the domain's name is uncertain (DOMAIN_NAME_late, line 5)
passthroughctl: bad.conf:5: quote " is never closed; nothing from line 5 on is read
passthroughctl: usb:serial=GONE-0001 is already assigned to debian
EOF
same "$TMP/out" "import-bbvirt: the rest is imported" <<'EOF'
Already assigned usb:serial=SN-LAB-0001 to debian
Assigned usb:serial=NEW-0002 to debian
EOF
check_py "import-bbvirt: Assign only for what was understood" '
assert [c["args"] for c in calls[1:]] == [["usb:serial=NEW-0002", "debian", {}],
                                          ["usb:serial=GONE-0001", "x11", {}]], calls
'
[ ! -e "$TMP/pwned" ] && ok "import-bbvirt: \$(touch ...) not run" || not_ok "import-bbvirt: \$(touch ...) not run"
run 1 import-bbvirt "$TMP/nonexistent.conf"
import_output
same "$TMP/err" "import-bbvirt: no such file" <<'EOF'
passthroughctl: Failed to read nonexistent.conf: No such file or directory
EOF
restart_mock

# --- monitor -------------------------------------------------------------------
: >"$TMP/calls"
start_monitor
monitor_ready
emit --foreign --emit 'DeviceAdded usb forged-by-an-impostor'
emit --emit 'DeviceAdded usb 46f4:0001:SN-1' \
        --emit 'DeviceAttached debian usb 46f4:0001:SN-1 hostdev1' \
        --emit 'DeviceDetached debian usb 46f4:0001:SN-1' \
        --emit 'DeviceRemoved usb 46f4:0001:SN-1' \
        --emit 'DeviceAttached win11 disk id-sdb vdc' \
        --emit "DeviceAttached win11 disk id-sdc ''" \
        --emit $'DeviceAdded disk evil\e[2J' \
        --emit "AutoAttachFailed debian usb 46f4:0001:SN-1 'Requested operation is not valid'"
events 8
untimed
same "$TMP/out" "monitor: one line per signal, in order, only from the service" <<'EOF'
DeviceAdded usb 46f4:0001:SN-1
DeviceAttached debian usb 46f4:0001:SN-1 hostdev1
DeviceDetached debian usb 46f4:0001:SN-1
DeviceRemoved usb 46f4:0001:SN-1
DeviceAttached win11 disk id-sdb vdc
DeviceAttached win11 disk id-sdc
DeviceAdded disk evil?[2J
AutoAttachFailed debian usb 46f4:0001:SN-1 Requested operation is not valid
EOF
stop_monitor 0 INT
[ ! -s "$TMP/mon-err" ] && ok "monitor: nothing on stderr" || not_ok "monitor: nothing on stderr" "$(cat "$TMP/mon-err")"
check_py "monitor: one call, GetManagedObjects, that does not start the service" '
assert calls == [{"method": "GetManagedObjects", "args": [], "interactive": True, "auto_start": False}], calls
'

# The live model: objects arrive, change and leave. Named from what the
# monitor has seen: GetManagedObjects at its start (the Logitech mouse),
# InterfacesAdded (loop3), PropertiesChanged.
: >"$TMP/calls"
start_monitor
monitor_ready
emit --foreign --add 'disk forged' --change 'disk sdb State=forged' --remove 'disk vda'
emit --add 'disk loop3' \
        --emit 'DeviceAdded disk id-loop3' \
        --change "disk sdb State=busy 'StateReason=mounted at /mnt/x' \"Mountpoints=['/mnt/x', '/srv']\"" \
        --change 'disk loop3 State=attached AttachedTo=debian AttachedBy=other' \
        --change 'domain win11 State=running' \
        --remove 'disk loop3' \
        --remove 'usb 046d:c077@2-1.4' \
        --change 'usb 46f4:0001:SN-LAB-0001 Product' \
        --change $'disk sdc \'Model=Evil\e[2J "quoted"\' System=true Size=1024'
events 9
untimed
same "$TMP/out" "monitor: objects arriving, changing and leaving, only from the service" <<'EOF'
+ disk /dev/loop3 (id-loop3)
DeviceAdded disk id-loop3
~ disk /dev/sdb (id-sdb) State=busy StateReason="mounted at /mnt/x" Mountpoints=[/mnt/x, /srv]
~ disk /dev/loop3 (id-loop3) State=attached AttachedTo=debian AttachedBy=other
~ domain win11 (0d2e4f60-1111-2222-3333-444455556666) State=running
- disk /dev/loop3 (id-loop3)
- usb Logitech (046d:c077@2-1.4)
~ usb QEMU (46f4:0001:SN-LAB-0001) Product=(invalidated)
~ disk /dev/sdc (id-sdc) Model="Evil?[2J \"quoted\"" System=true Size=1024
EOF
stop_monitor 0 INT
[ ! -s "$TMP/mon-err" ] && ok "monitor: objects: nothing on stderr" \
        || not_ok "monitor: objects: nothing on stderr" "$(cat "$TMP/mon-err")"
restart_mock

start_monitor --json
monitor_ready
emit --emit 'DeviceAttached debian usb 46f4:0001:SN-1 hostdev1' \
        --emit 'DeviceDetached debian usb 46f4:0001:SN-1' \
        --emit 'DeviceRemoved usb 46f4:0001:SN-1' \
        --emit $'DeviceAdded disk evil\e[2J' \
        --emit "AutoAttachFailed win11 disk id-sdb 'domain not running'" \
        --add 'disk loop3' \
        --change "disk sdb State=busy 'StateReason=mounted at /mnt/x' \"Mountpoints=['/mnt/x']\" InUse" \
        --remove 'disk loop3' \
        --remove 'usb 046d:c077@2-1.4'
events 9
check_py "monitor --json: one object per line: time, event, path, interface, signal, then the arguments by name" '
import datetime
lines = text.splitlines()
assert len(lines) == 9, lines
events = [json.loads(l) for l in lines]
for e in events:
    assert list(e)[:5] == ["time", "event", "path", "interface", "signal"], e
    t = datetime.datetime.fromisoformat(e.pop("time"))
    signal = e.pop("signal")
    assert signal == {"added": "InterfacesAdded", "removed": "InterfacesRemoved",
                      "changed": "PropertiesChanged"}.get(e["event"], e["event"]), (signal, e)
    assert t.tzinfo is not None and abs(datetime.datetime.now(datetime.timezone.utc) - t).total_seconds() < 60, t
manager = {"path": "/org/example/Passthrough1", "interface": "org.example.Passthrough1"}
assert events[:5] == [
    {"event": "DeviceAttached", **manager, "domain": "debian", "kind": "usb", "id": "46f4:0001:SN-1",
     "target": "hostdev1"},
    {"event": "DeviceDetached", **manager, "domain": "debian", "kind": "usb", "id": "46f4:0001:SN-1"},
    {"event": "DeviceRemoved", **manager, "kind": "usb", "id": "46f4:0001:SN-1"},
    {"event": "DeviceAdded", **manager, "kind": "disk", "id": "evil\x1b[2J"},
    {"event": "AutoAttachFailed", **manager, "domain": "win11", "kind": "disk", "id": "id-sdb",
     "error": "domain not running"},
], events
assert list(events[0]) == ["event", "path", "interface", "domain", "kind", "id", "target"], list(events[0])
'
check_py "monitor --json: added, changed, removed with the objects' properties" '
events = [json.loads(l) for l in text.splitlines()][5:]
for e in events:
    del e["time"], e["signal"]   # checked above
disk = {"path": "/org/example/Passthrough1/disk/id_2dloop3", "interface": "org.example.Passthrough1.Disk",
        "kind": "disk"}
added, changed, removed, mouse = events
assert {k: added[k] for k in ["event", "path", "interface", "kind"]} == {"event": "added", **disk}, added
props = added["properties"]
assert props["Path"] == "/dev/loop3" and props["Size"] == 16 * 1024**2 and props["State"] == "free", props
assert props["Mountpoints"] == [] and props["System"] is False and props["UsbDevice"] == "/", props
assert list(props)[:3] == ["Id", "Name", "Path"], props
assert changed == {"event": "changed", "path": "/org/example/Passthrough1/disk/id_2dsdb",
                   "interface": "org.example.Passthrough1.Disk", "kind": "disk",
                   "properties": {"State": "busy", "StateReason": "mounted at /mnt/x", "Mountpoints": ["/mnt/x"]},
                   "invalidated": ["InUse"]}, changed
assert removed == {"event": "removed", **disk, "properties": props}, "the properties as last seen"
assert mouse["event"] == "removed" and mouse["kind"] == "usb", mouse
assert mouse["properties"]["Manufacturer"] == "Logitech" and mouse["properties"]["Bus"] == 2, mouse
'
stop_monitor 0 TERM
restart_mock

# --- listings and completion: tests/test-client-lists.sh ----------------------

run 0 version
grep -qx 'passthroughd 0.1.0-mock' "$TMP/out" && grep -Eq '^passthroughctl [0-9]' "$TMP/out" \
        && ok "version shows both" || not_ok "version shows both" "$(cat "$TMP/out")"

# --- no service, no bus ----------------------------------------------------
kill "$MOCK_PID"; wait "$MOCK_PID" 2>/dev/null; MOCK_PID=
run 1 domains
grep -q '^passthroughctl: ' "$TMP/err" && ok "service gone: message" || not_ok "service gone: message" "$(cat "$TMP/err")"

# monitor runs without the service and hears it once it is back; it ends
# with the bus.
: >"$TMP/calls"
start_monitor
sleep 0.5
monitor_running && ok "monitor: runs without the service" \
        || not_ok "monitor: runs without the service" "$(cat "$TMP/mon-err")"
start_mock
monitor_ready
emit --emit 'DeviceAdded usb 46f4:0001:SN-2' --remove 'disk sdc' --change 'disk vda State=free'
events 3
untimed
same "$TMP/out" "monitor: hears the service that started later; objects it never saw by their Id" <<'EOF'
DeviceAdded usb 46f4:0001:SN-2
- disk id-sdc
~ disk id-vda State=free
EOF
[ ! -s "$TMP/calls" ] && ok "monitor: still no method call" || not_ok "monitor: still no method call" "$(cat "$TMP/calls")"
kill "$BUS_PID"
BUS_PID=
stop_monitor 1
same "$TMP/mon-err" "monitor: the bus went away" <<'EOF'
passthroughctl: Disconnected from the bus
EOF
wait "$MOCK_PID" 2>/dev/null
MOCK_PID=
"$CTL" --address "unix:path=$TMP/nonexistent" domains >"$TMP/out" 2>"$TMP/err"
[ $? = 1 ] && grep -q "^passthroughctl: Cannot reach the bus at 'unix:path=$TMP/nonexistent': no such socket\$" "$TMP/err" \
        && ok "bad address: exit 1" || not_ok "bad address: exit 1" "$(cat "$TMP/err")"

finish

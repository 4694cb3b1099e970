#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# passthroughctl against tests/client-mock.py on a private bus: exact tables,
# JSON (parsed), options sent, error propagation and exit codes.
#
# Usage: test-client.sh PATH-TO-passthroughctl
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
cleanup() {
        [ -n "$MOCK_PID" ] && kill "$MOCK_PID" 2>/dev/null
        [ -n "$BUS_PID" ] && kill "$BUS_PID" 2>/dev/null
        rm -rf "$TMP"
}
trap cleanup EXIT

start_bus() {
        local out
        out=$(dbus-daemon --session --fork --print-address=1 --print-pid=1) || exit 1
        ADDR=$(sed -n 1p <<<"$out")
        BUS_PID=$(sed -n 2p <<<"$out")
}

start_mock() {
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
j = json.loads(text) if text.strip().startswith(('[', '{')) else None
calls = [json.loads(l) for l in open(sys.argv[2])]
$code
EOF
        then
                ok "$name"
        else
                not_ok "$name" "$(cat "$TMP/pyerr")"
        fi
}

start_bus
start_mock

# --- usage errors: exit 2, no bus needed --------------------------------
run 2
run 2 bogus-verb
run 2 --bogus disk-list
run 2 disk-list extra
run 2 disk-attach debian
run 2 disk-attach debian /dev/sdb name extra
run 2 disk-detach debian /dev/sdb --timeout soon
run 2 disk-detach debian /dev/sdb --timeout 0
run 2 domains --target vdc
run 2 disk-list --readonly
same "$TMP/err" "usage error message" <<'EOF'
passthroughctl: option --readonly is not valid for 'disk-list'
Try 'passthroughctl --help' for more information.
EOF

run 0 --help
grep -q '^  disk-attach VM DEVICE \[NAME\]' "$TMP/out" && ok "help lists verbs" || not_ok "help lists verbs"
run 0 --version
grep -Eq '^passthroughctl [0-9]+\.[0-9]+' "$TMP/out" && ok "--version" || not_ok "--version" "$(cat "$TMP/out")"

# --- listings --------------------------------------------------------------
run 0 disk-list
same "$TMP/out" "disk-list table" <<'EOF'
NAME     SIZE    TYPE    MOUNTPOINT  MODEL            STATE
vda      20G     virtio  / +2                         mounted at /
sdb      465.8G  sata                Samsung SSD 870  free
sdc      8G      usb     /mnt/stick  Cruzer Blade     mounted at /mnt/stick
loop0    512M    loop                Loop?[31mDisk    attached to VM debian
nvme0n1  1.8T    nvme                WD Blue SN570    system

Attach with: passthroughctl disk-attach VM /dev/NAME [name]
Warning: disks marked in use or system cannot be attached; unmount them first.
EOF

run 0 --no-legend disk-list
same "$TMP/out" "disk-list --no-legend" <<'EOF'
vda      20G     virtio  / +2                         mounted at /
sdb      465.8G  sata                Samsung SSD 870  free
sdc      8G      usb     /mnt/stick  Cruzer Blade     mounted at /mnt/stick
loop0    512M    loop                Loop?[31mDisk    attached to VM debian
nvme0n1  1.8T    nvme                WD Blue SN570    system
EOF

run 0 disk-list --json
check_py "disk-list --json" '
assert isinstance(j, list) and len(j) == 5, j
vda, sdb = j[0], j[1]
assert list(vda) == ["Id", "Name", "Path", "Size", "Model", "Serial", "Wwn", "Transport",
                     "Removable", "ReadOnly", "Mountpoints", "System", "InUse", "AttachedTo"], list(vda)
assert vda["Size"] == 21474836480 and vda["System"] is True and vda["Removable"] is False
assert vda["Mountpoints"] == ["/", "/boot/efi", "[SWAP]"]
assert sdb["Mountpoints"] == [] and sdb["InUse"] == ""
assert sdb["FutureCount"] == -3, "unknown key of a known type passes through"
assert "FutureMap" not in sdb, "unknown type is skipped"
assert j[3]["Model"] == "Loop\x1b[31mDisk", "JSON keeps the raw string"
'

DBUS_SYSTEM_BUS_ADDRESS=$ADDR "$CTL" domains >"$TMP/out" 2>"$TMP/err" \
        && ok "domains via DBUS_SYSTEM_BUS_ADDRESS" || not_ok "domains via DBUS_SYSTEM_BUS_ADDRESS" "$(cat "$TMP/err")"
same "$TMP/out" "domains table" <<'EOF'
NAME    STATE     UUID
debian  running   6f1c2a3e-9b2d-4c1e-8f00-0a1b2c3d4e5f
win11   shut off  0d2e4f60-1111-2222-3333-444455556666
EOF

run 0 --json domains
check_py "domains --json" '
assert j == [{"Name": "debian", "Uuid": "6f1c2a3e-9b2d-4c1e-8f00-0a1b2c3d4e5f", "State": "running"},
             {"Name": "win11", "Uuid": "0d2e4f60-1111-2222-3333-444455556666", "State": "shut off"}], j
'

run 0 usb-list
same "$TMP/out" "usb-list table" <<'EOF'
BUS  DEV  ID                         PORT  VENDOR:PRODUCT  SERIAL        PRODUCT               ATTACHED
001  001  usb-1d6b-0003-usb1         usb1  1d6b:0003       0000:00:04.0  xHCI Host Controller
001  012  usb-46f4-0001-SN-LAB-0001  1-1   46f4:0001       SN-LAB-0001   QEMU USB HARDDRIVE    debian
EOF

run 0 usb-list --json
check_py "usb-list --json" '
assert len(j) == 2 and j[1]["Bus"] == 1 and j[1]["Device"] == 12 and j[0]["IsHub"] is True, j
assert j[1]["VendorId"] == "46f4" and j[1]["AttachedTo"] == "debian", j
'

run 0 disk-attached debian
same "$TMP/out" "disk-attached table" <<'EOF'
KIND  ID                         SOURCE      TARGET
disk  id-loop0                   /dev/loop0  vdb
usb   usb-46f4-0001-SN-LAB-0001  001/012
EOF

run 0 disk-attached win11
same "$TMP/out" "disk-attached empty table" <<'EOF'
KIND  ID  SOURCE  TARGET
EOF
run 0 --json disk-attached win11
check_py "disk-attached empty JSON" 'assert j == [], j'

# --- errors from the service: exit 1, its message ---------------------------
run 1 disk-attached nosuchvm
same "$TMP/err" "error message" <<'EOF'
passthroughctl: No such domain: nosuchvm
EOF
[ ! -s "$TMP/out" ] && ok "nothing on stdout on error" || not_ok "nothing on stdout on error"
run 1 -v disk-attached nosuchvm
same "$TMP/err" "error name with -v" <<'EOF'
passthroughctl: No such domain: nosuchvm (org.example.Passthrough1.Error.NoSuchDomain)
EOF

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

run 1 disk-attach debian /dev/vda
same "$TMP/err" "disk-attach system disk refused" <<'EOF'
passthroughctl: vda holds the host's root file system
EOF

: >"$TMP/calls"
run 0 disk-attach debian /dev/needauth
run 1 --no-ask-password disk-attach debian /dev/needauth
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
run 1 -v disk-detach --timeout 3 debian /dev/stuck
same "$TMP/err" "disk-detach timeout error" <<'EOF'
passthroughctl: The guest did not release /dev/stuck within 3000 ms (org.example.Passthrough1.Error.Timeout)
EOF

run 0 version
grep -qx 'passthroughd 0.1.0-mock' "$TMP/out" && grep -Eq '^passthroughctl [0-9]' "$TMP/out" \
        && ok "version shows both" || not_ok "version shows both" "$(cat "$TMP/out")"

# --- no service, no bus ----------------------------------------------------
kill "$MOCK_PID"; wait "$MOCK_PID" 2>/dev/null; MOCK_PID=
run 1 domains
grep -q '^passthroughctl: ' "$TMP/err" && ok "service gone: message" || not_ok "service gone: message" "$(cat "$TMP/err")"
"$CTL" --address "unix:path=$TMP/nonexistent" domains >"$TMP/out" 2>"$TMP/err"
[ $? = 1 ] && grep -q '^passthroughctl: Failed to connect' "$TMP/err" \
        && ok "bad address: exit 1" || not_ok "bad address: exit 1" "$(cat "$TMP/err")"

echo "1..$N"
[ "$FAILED" = 0 ] || { echo "$FAILED of $N failed"; exit 1; }

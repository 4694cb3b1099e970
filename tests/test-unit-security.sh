#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The generated systemd unit keeps its hardening (issue 7, item 9): no
# capabilities, other processes hidden, no ReadWritePaths=, block devices
# reachable, and systemd-analyze's exposure level at most 2.5 (1.9 when this
# was written; 4.3 before).
#
# Usage: test-unit-security.sh BUILDDIR   Output: TAP.
set -u   # not -e: the checks fail on purpose when the unit is wrong

builddir=${1:-${MESON_BUILD_ROOT:-}}
unit="$builddir/data/passthroughd.service"
if [ ! -f "$unit" ]; then
        echo "usage: $0 BUILDDIR (a built meson build directory)" >&2
        exit 2
fi

n=0
failed=0
result() {
        n=$((n + 1))
        if [ "$1" = 0 ]; then
                echo "ok $n - $2"
        else
                echo "not ok $n - $2"
                failed=1
        fi
}
line() {
        grep -qx "$1" "$unit"
}
absent() {
        ! grep -q "^$1" "$unit"
}

echo "1..6"
[ "$(grep -c '^CapabilityBoundingSet=' "$unit")" = 1 ] && line "CapabilityBoundingSet="
result $? "CapabilityBoundingSet= is empty"
line "ProtectProc=ptraceable"
result $? "ProtectProc=ptraceable (invisible exempts the root group)"
absent "ProcSubset="
result $? "no ProcSubset= (it would hide /proc/swaps)"
absent "ReadWritePaths="
result $? "no ReadWritePaths="
line "PrivateDevices=no" && absent "DeviceAllow="
result $? "block devices reachable: PrivateDevices=no, no DeviceAllow="
report=$(systemd-analyze security --offline=yes "$unit" 2>/dev/null | tail -n 1) || true
if [ -z "$report" ]; then
        echo "ok 6 - exposure level # SKIP no systemd-analyze security --offline"
        exit $failed
fi
echo "# $report"
systemd-analyze security --offline=yes --threshold=25 "$unit" >/dev/null 2>&1
result $? "exposure level at most 2.5"
exit $failed

#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Writes the table tests/test-format-size.c checks passthroughctl's sizes
# against: for sizes around every rounding edge of every unit, the SIZE that
# util-linux's lsblk shows for a loop device of that size (one loop device
# on a sparse file in a private tmpfs, resized with losetup -c; removed
# afterwards). Needs root and loop devices.
#
# Usage: lsblk-sizes.sh > tests/fixtures/lsblk-sizes.txt
set -eu

[ "$(id -u)" = 0 ] || { echo "lsblk-sizes.sh: needs root (loop devices)" >&2; exit 77; }

# Sizes (multiples of 512, as a block device's): 0; each unit K..E times
# 1 + f for fractions at the edges of lsblk's rounding to tenths (thousandths
# truncated, then 4/5 rounded), and just below the next unit.
sizes() {
        /usr/bin/python3 - <<'PY'
fractions = ['0', '0.0005', '0.049', '0.0499', '0.05', '0.0501', '0.1', '0.25', '0.449', '0.45',
             '0.5', '0.9', '0.94', '0.9449', '0.9499', '0.95', '0.951', '0.99', '0.999']
from fractions import Fraction
sizes = {0, 512, 1536, 1023 * 1024, 1024 * 1024 - 512, 2083059712, (1 << 63) - 512}
for exp in range(10, 70, 10):
    unit = 1 << exp
    for whole in (1, 2, 7, 9, 10, 99, 100, 465, 999, 1000, 1023):
        for f in fractions:
            n = int((whole + Fraction(f)) * unit) // 512 * 512
            if 0 < n < 1 << 63:
                sizes.add(n)
    if exp > 10:
        sizes.add(unit - 512)
print('\n'.join(str(n) for n in sorted(sizes)))
PY
}

dir=$(mktemp -d)
# shellcheck disable=SC2016
unshare -m bash -c '
        set -eu
        mount -t tmpfs -o size=1M passthrough-lsblk-sizes "$1"
        truncate -s 512 "$1/disk"
        loop=$(losetup -f --show "$1/disk")
        trap "losetup -d $loop" EXIT
        echo "# bytes lsblk-SIZE (lsblk -dno SIZE of a loop device; $(lsblk --version))"
        while read -r bytes; do
                truncate -s "$bytes" "$1/disk"
                losetup -c "$loop"
                [ "$(blockdev --getsize64 "$loop")" = "$bytes" ] || { echo "size $bytes not taken" >&2; exit 1; }
                echo "$bytes $(LC_ALL=C lsblk -dno SIZE "$loop" | tr -d " ")"
        done
' lsblk-sizes "$dir" < <(sizes)
rmdir "$dir"

#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Build the libFuzzer harnesses (tests/fuzz/fuzz-*.c) with clang and run each
# for FUZZ_SECONDS (default 60) from its seed corpus, tests/fuzz/corpus/NAME/.
#
# Usage: run-fuzz.sh BUILDDIR [NAME...]   (default: every harness)
#
# Each harness is compiled together with the service sources it needs (not
# with the gcc-built static library: libFuzzer wants them instrumented) with
# -fsanitize=fuzzer,address,undefined; UBSan findings abort, leaks count.
# The binaries stay in BUILDDIR/fuzz/ (run one on a file to replay it); the
# corpus grows in a temporary directory that is removed afterwards. Findings
# (crash-*, leak-*, timeout-*, oom-* files) are copied to
# BUILDDIR/fuzz/findings/NAME/.
#
# Prints, per harness: executions, executions per second, corpus units added
# (new coverage), edges covered, findings. Exit status: 0 when nothing was
# found, 1 on any finding or build failure, 77 (skip) without clang/libFuzzer.
set -eu

builddir=${1:-}
if [ -z "$builddir" ] || [ ! -f "$builddir/config.h" ]; then
        echo "usage: $0 BUILDDIR [NAME...]  (BUILDDIR: a configured meson build directory)" >&2
        exit 2
fi
shift
builddir=$(cd "$builddir" && pwd)
fuzzdir=$(cd "$(dirname "$0")" && pwd)
srcdir=$(cd "$fuzzdir/../.." && pwd)
seconds=${FUZZ_SECONDS:-60}
cc=${FUZZ_CC:-clang}
out="$builddir/fuzz"

skip() {
        echo "run-fuzz: SKIP: $*"
        exit 77
}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/passthrough-fuzz.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

# ---- can we build a fuzzer at all? -------------------------------------------
command -v "$cc" >/dev/null 2>&1 || skip "no $cc (install clang and libclang-rt-dev)"
printf '%s\n' '#include <stddef.h>' '#include <stdint.h>' \
        'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { return 0; }' >"$tmp/probe.c"
if ! "$cc" -fsanitize=fuzzer,address,undefined "$tmp/probe.c" -o "$tmp/probe" >"$tmp/probe.log" 2>&1; then
        sed 's/^/# /' "$tmp/probe.log"
        skip "$cc cannot link -fsanitize=fuzzer,address,undefined (the libFuzzer runtime is in libclang-rt-dev)"
fi

# ---- the harnesses ------------------------------------------------------------
# NAME: the service sources it is compiled with, then its pkg-config packages.
sources() {
        s=service/model b=service/bus g=service
        case "$1" in
        fuzz-disk-spec) echo "$s/disks.c $s/blockgraph.c $s/mounts.c $s/udev-util.c $b/errors.c" ;;
        fuzz-usb-spec) echo "$s/usb.c $s/devxml.c $s/udev-util.c $b/errors.c" ;;
        fuzz-assign-match) echo "$s/assign-match.c $s/usb.c $s/devxml.c $s/disks.c $s/blockgraph.c $s/mounts.c $s/udev-util.c $b/errors.c" ;;
        fuzz-options) echo "$b/options.c $s/devxml.c $b/errors.c" ;;
        fuzz-devxml) echo "$s/devxml.c $s/usb.c $s/udev-util.c $b/errors.c" ;;
        fuzz-bbvirt-conf) echo "client/passthroughctl/bbvirt-conf.c" ;;
        fuzz-assign-store) echo "$s/assign-store.c $s/assign-match.c $s/usb.c $s/devxml.c $s/disks.c $s/blockgraph.c $s/mounts.c" \
                                "$s/udev-util.c $b/errors.c $g/virt.c $g/worker.c" ;;
        fuzz-mounts) echo "$s/mounts.c $b/errors.c" ;;
        fuzz-udev-strings) echo "$s/udev-util.c $s/usb.c $s/devxml.c $b/errors.c" ;;
        *) return 1 ;;
        esac
}

packages() {
        case "$1" in
        fuzz-bbvirt-conf) echo "glib-2.0" ;;
        fuzz-assign-store) echo "glib-2.0 gio-2.0 libsystemd libudev libvirt libxml-2.0" ;;
        *) echo "glib-2.0 libsystemd libudev libxml-2.0" ;;
        esac
}

if [ $# -gt 0 ]; then
        harnesses="$*"
else
        harnesses=$(for f in "$fuzzdir"/fuzz-*.c; do basename "$f" .c; done)
fi

# Warnings are shown, not fatal: the harness build is clang's, the project's gcc's.
build() {
        name=$1
        # shellcheck disable=SC2046
        (cd "$srcdir" && "$cc" -g -O1 -fno-omit-frame-pointer \
                -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
                -std=gnu11 -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers \
                -D_GNU_SOURCE -DGLIB_VERSION_MIN_REQUIRED=GLIB_VERSION_2_74 \
                -I"$builddir" -Iservice -Iservice/model -Iservice/requests -Iservice/bus -Iclient/passthroughctl -I"$fuzzdir" \
                "$fuzzdir/$name.c" $(sources "$name") \
                $(pkg-config --cflags --libs $(packages "$name")) -lpthread \
                -o "$out/$name")
}

mkdir -p "$out"
for name in $harnesses; do
        sources "$name" >/dev/null || { echo "run-fuzz: unknown harness $name" >&2; exit 2; }
        echo "run-fuzz: building $name"
        if ! build "$name" >"$tmp/$name.build.log" 2>&1; then
                cat "$tmp/$name.build.log"
                echo "run-fuzz: FAIL: $name does not build"
                exit 1
        fi
        sed 's/^/# /' "$tmp/$name.build.log"
done

# ---- running them ------------------------------------------------------------
final_stat() {
        sed -n "s/^stat::$1: *//p" "$2" | tail -n 1
}

edges() {
        sed -n 's/^#[0-9]*.*DONE *cov: \([0-9]*\).*/\1/p' "$1" | tail -n 1
}

export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:allocator_may_return_null=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"

failed=0
summary="$tmp/summary"
printf '%-20s %12s %9s %6s %6s  %s\n' harness executions exec/s new edges findings >"$summary"
for name in $harnesses; do
        work="$tmp/run/$name"
        mkdir -p "$work/corpus" "$work/findings"
        set -- -max_total_time="$seconds" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 \
                -detect_leaks=1 -artifact_prefix="$work/findings/"
        [ -f "$fuzzdir/$name.dict" ] && set -- "$@" -dict="$fuzzdir/$name.dict"
        seeds="$fuzzdir/corpus/$name"
        [ -d "$seeds" ] || seeds=
        echo "run-fuzz: running $name for ${seconds}s"
        rc=0
        (cd "$work" && "$out/$name" "$@" corpus ${seeds:+"$seeds"}) >"$work/log" 2>&1 || rc=$?
        found=$(find "$work/findings" -type f | wc -l)
        if [ "$found" -gt 0 ] || [ "$rc" -ne 0 ]; then
                failed=1
                mkdir -p "$out/findings/$name"
                cp "$work/findings/"* "$out/findings/$name/" 2>/dev/null || true
                echo "run-fuzz: $name: exit status $rc, findings copied to $out/findings/$name/:"
                find "$work/findings" -type f | sed 's|^.*/|    |'
                grep -v -e '^#[0-9]' -e '^INFO:' -e '^Loaded ' "$work/log" | tail -n 60
        fi
        result=$found
        [ "$rc" -eq 0 ] || result="$found (exit status $rc)"
        printf '%-20s %12s %9s %6s %6s  %s\n' "$name" "$(final_stat number_of_executed_units "$work/log")" \
                "$(final_stat average_exec_per_sec "$work/log")" "$(final_stat new_units_added "$work/log")" \
                "$(edges "$work/log")" "$result" >>"$summary"
done

echo
cat "$summary"
if [ "$failed" -ne 0 ]; then
        echo "run-fuzz: FAIL: findings above (replay one with $out/NAME FILE)"
        exit 1
fi
echo "run-fuzz: no findings"

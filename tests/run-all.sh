#!/bin/bash
# The whole test suite, from a fresh Debian 12 machine, as root:
#   sudo tests/run-all.sh
# Installs what it needs, builds into ./build, runs every meson test and
# prints the closing "N passed, N failed, N skipped" line. Under CI (CI=true)
# a skipped test counts as a failure: there, everything must run.
# Options: --sanitize (ASan+UBSan build in ./build-sanitize),
#          --valgrind (unit tests and the service under valgrind).
set -euo pipefail
cd "$(dirname "$0")/.."

builddir=build
setup_args=()
test_args=()
for arg in "$@"; do
        case "$arg" in
        --sanitize)
                builddir=build-sanitize
                setup_args+=(-Db_sanitize=address,undefined -Db_lundef=false)
                export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
                ;;
        --valgrind)
                export PT_SERVICE_WRAPPER="valgrind --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite --log-file=/tmp/pt-valgrind-%p.log"
                test_args+=(--wrap='valgrind --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite')
                ;;
        *) echo "usage: $0 [--sanitize] [--valgrind]" >&2; exit 2 ;;
        esac
done

if [ "$(id -u)" != 0 ]; then
        echo "run-all.sh: run as root (installs packages, uses loop devices and a private libvirtd)" >&2
        exit 1
fi

tests/install-deps.sh
if [ -d "$builddir/meson-private" ]; then
        meson setup --reconfigure "$builddir" "${setup_args[@]}" >/dev/null
else
        meson setup "$builddir" "${setup_args[@]}"
fi
meson compile -C "$builddir"

status=0
meson test -C "$builddir" --print-errorlogs "${test_args[@]}" || status=$?

/usr/bin/python3 - "$builddir/meson-logs/testlog.json" "${CI:-}" <<'PY' || status=1
import json, sys
results = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
ok = sum(r['result'] in ('OK', 'EXPECTEDFAIL') for r in results)
skipped = [r['name'] for r in results if r['result'] == 'SKIP']
failed = [r['name'] for r in results if r['result'] not in ('OK', 'EXPECTEDFAIL', 'SKIP')]
ci = sys.argv[2] not in ('', 'false', '0')
if ci and skipped:
    print('CI: these tests skipped but must run here: %s' % ', '.join(skipped))
    failed += skipped
    skipped = []
print('%d passed, %d failed, %d skipped' % (ok, len(failed), len(skipped)))
sys.exit(1 if failed else 0)
PY
exit $status

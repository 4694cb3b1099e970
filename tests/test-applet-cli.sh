#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# passthrough-applet's command line without a display (a terminal, a package
# test): --version and --help answer and exit 0, an unknown option exits 2,
# and starting without a display says so and exits 1. Output: TAP.
#
# Usage: test-applet-cli.sh PATH-TO-passthrough-applet VERSION
set -u

APPLET=$1
VERSION=$2
if [ ! -x "$APPLET" ]; then
        echo "1..0 # SKIP passthrough-applet was not built (GTK 3, libayatana-appindicator3 or libnotify missing)"
        exit 77
fi
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
n=0
failed=0

# check WHAT WANT-RC ARGS...: the applet run headless (no X, no Wayland).
check() {
        local what=$1 want=$2
        shift 2
        env -u DISPLAY -u WAYLAND_DISPLAY LANG=C.UTF-8 "$APPLET" "$@" >"$TMP/out" 2>"$TMP/err"
        rc=$?
        n=$((n + 1))
        if [ "$rc" = "$want" ]; then
                echo "ok $n - $what (exit $rc)"
        else
                echo "not ok $n - $what: exit $rc, wanted $want"
                sed 's/^/# /' "$TMP/out" "$TMP/err"
                failed=1
        fi
}

# has WHAT FILE TEXT: the last run's FILE (out or err) says TEXT.
has() {
        n=$((n + 1))
        if grep -qF -- "$3" "$TMP/$2"; then
                echo "ok $n - $1"
        else
                echo "not ok $n - $1: no \"$3\" in std$2"
                sed 's/^/# /' "$TMP/$2"
                failed=1
        fi
}

echo "1..8"
check "--version without a display" 0 --version
has "--version prints the version" out "passthrough-applet $VERSION"
check "--help without a display" 0 --help
has "--help lists --autostart with its group" out "Exit unless in the group passthrough"
has "--help lists --window" out "--window"
check "an unknown option" 2 --no-such-option
has "an unknown option is named" err "--no-such-option"
check "no display to open" 1 --no-tray
exit $failed

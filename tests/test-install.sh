#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Install into a temporary DESTDIR and compare the installed files with
# tests/install-files.txt; validate the installed XML and generated files.
#
# Usage: test-install.sh [BUILDDIR]   (default: $MESON_BUILD_ROOT)
# Output: TAP.
set -eu

builddir=${1:-${MESON_BUILD_ROOT:-}}
if [ -z "$builddir" ] || [ ! -d "$builddir/meson-info" ]; then
        echo "usage: $0 BUILDDIR (a configured meson build directory)" >&2
        exit 2
fi
testsdir=$(cd "$(dirname "$0")" && pwd)
expected_list="$testsdir/install-files.txt"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/passthrough-install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
destdir="$tmp/root"

n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=1; echo "not ok $n - $1"; }
diag() { sed 's/^/# /'; }

echo "1..7"

# 1. install
if meson install --destdir "$destdir" -C "$builddir" >"$tmp/install.log" 2>&1; then
        ok "meson install --destdir"
else
        diag <"$tmp/install.log"
        not_ok "meson install --destdir"
        exit 1
fi

# The build's real directories, as meson.build computes them: built-in
# options from the build directory, the project's directory options, and
# pkg-config where those are empty. Printed as "actual<TAB>canonical" pairs.
meson introspect --buildoptions "$builddir" >"$tmp/options.json"
python3 - "$tmp/options.json" >"$tmp/dirs.tsv" <<'PY'
import json, os, subprocess, sys

opts = {o["name"]: o["value"] for o in json.load(open(sys.argv[1]))}
prefix = opts["prefix"]

def under_prefix(name):
        v = opts[name]
        return v if os.path.isabs(v) else os.path.join(prefix, v)

def pkgconfig(pkg, var, define):
        try:
                out = subprocess.run(["pkg-config", "--define-variable=" + define, "--variable=" + var, pkg],
                                     capture_output=True, text=True, check=True).stdout.strip()
                return out or None
        except (OSError, subprocess.CalledProcessError):
                return None

datadir = under_prefix("datadir")
dirs = [
        (prefix, "/usr"),
        (under_prefix("bindir"), "/usr/bin"),
        (under_prefix("sbindir"), "/usr/sbin"),
        (under_prefix("libexecdir"), "/usr/libexec"),
        (datadir, "/usr/share"),
        (under_prefix("mandir"), "/usr/share/man"),
        (under_prefix("sysconfdir"), "/etc"),
        (under_prefix("localstatedir"), "/var"),
        (opts["dbus_system_services_dir"]
         or pkgconfig("dbus-1", "system_bus_services_dir", "datadir=" + datadir)
         or os.path.join(datadir, "dbus-1/system-services"), "/usr/share/dbus-1/system-services"),
        (opts["dbus_system_policy_dir"] or os.path.join(datadir, "dbus-1/system.d"), "/usr/share/dbus-1/system.d"),
        (opts["dbus_interfaces_dir"] or os.path.join(datadir, "dbus-1/interfaces"), "/usr/share/dbus-1/interfaces"),
        (opts["polkit_actions_dir"]
         or pkgconfig("polkit-gobject-1", "policydir", "prefix=" + prefix), "/usr/share/polkit-1/actions"),
        (opts["systemd_unit_dir"]
         or pkgconfig("systemd", "systemdsystemunitdir", "prefix=" + prefix)
         or os.path.join(prefix, "lib/systemd/system"), "/usr/lib/systemd/system"),
        (pkgconfig("systemd", "sysusersdir", "prefix=" + prefix) or os.path.join(prefix, "lib/sysusers.d"),
         "/usr/lib/sysusers.d"),
        (under_prefix("localedir"), "/usr/share/locale"),
]
for actual, canonical in dirs:
        if actual:
                print(os.path.normpath(actual) + "\t" + canonical)
PY

# Installed files (and symlinks), relative to DESTDIR, each mapped through
# the longest matching actual directory.
(cd "$destdir" && find . \( -type f -o -type l \) | sed 's|^\.||') >"$tmp/raw.txt"
awk -F '\t' '
        NR == FNR { actual[NR] = $1; canon[NR] = $2; n = NR; next }
        {
                best = 0
                for (i = 1; i <= n; i++) {
                        a = actual[i]
                        if ((a == "/" || substr($0, 1, length(a) + 1) == a "/") &&
                            (best == 0 || length(a) > length(actual[best])))
                                best = i
                }
                if (best && actual[best] != "/")
                        print canon[best] substr($0, length(actual[best]) + 1)
                else
                        print
        }' "$tmp/dirs.tsv" "$tmp/raw.txt" | LC_ALL=C sort >"$tmp/installed.txt"
grep -v -e '^#' -e '^[[:space:]]*$' "$expected_list" | LC_ALL=C sort >"$tmp/expected.txt"
# The applet is built only when its libraries are found (option applet=auto).
if [ ! -e "$builddir/client/applet/passthrough-applet" ]; then
        grep -v -e 'passthrough-applet' -e '/passthrough\.svg$' "$tmp/expected.txt" >"$tmp/expected-no-applet.txt" || true
        mv "$tmp/expected-no-applet.txt" "$tmp/expected.txt"
fi

# 2. the list
if diff -u "$tmp/expected.txt" "$tmp/installed.txt" >"$tmp/list.diff"; then
        ok "installed files match tests/install-files.txt"
else
        {
                echo "--- expected (tests/install-files.txt)  +++ installed (mapped)"
                echo "Add new installed files to tests/install-files.txt."
                cat "$tmp/list.diff"
                echo "directory mapping (actual -> canonical):"
                cat "$tmp/dirs.tsv"
        } | diag
        not_ok "installed files match tests/install-files.txt"
fi

# Where a canonical path was installed.
installed_path() {
        awk -F '\t' -v want="$1" '
                NR == FNR { actual[NR] = $1; canon[NR] = $2; n = NR; next }
                END {
                        best = 0
                        for (i = 1; i <= n; i++) {
                                c = canon[i]
                                if (substr(want, 1, length(c) + 1) == c "/" &&
                                    (best == 0 || length(c) > length(canon[best])))
                                        best = i
                        }
                        print (best ? actual[best] substr(want, length(canon[best]) + 1) : want)
                }' "$tmp/dirs.tsv" /dev/null
}

policy="$destdir$(installed_path /usr/share/polkit-1/actions/org.example.passthrough1.policy)"
busconf="$destdir$(installed_path /usr/share/dbus-1/system.d/org.example.Passthrough1.conf)"
activation="$destdir$(installed_path /usr/share/dbus-1/system-services/org.example.Passthrough1.service)"
unit="$destdir$(installed_path /usr/lib/systemd/system/passthroughd.service)"
sbindir=$(awk -F '\t' '$2 == "/usr/sbin" { print $1 }' "$tmp/dirs.tsv")

# 3. polkit policy: well-formed, and valid against polkit's DTD when present.
dtd=/usr/share/polkit-1/policyconfig-1.dtd
if [ -f "$dtd" ]; then
        set -- --dtdvalid "$dtd"
else
        set --
fi
if [ -f "$policy" ] && xmllint --noout --nonet "$@" "$policy" 2>"$tmp/xmllint.log"; then
        ok "polkit policy is valid XML${1:+ (polkit DTD)}"
else
        diag <"$tmp/xmllint.log" 2>/dev/null || true
        not_ok "polkit policy is valid XML"
fi

# 4. the policy defines exactly the actions the service checks.
actions=$(xmllint --nonet --xpath '//action/@id' "$policy" 2>/dev/null | sed 's/ *id="\([^"]*\)"/\1\n/g' | sed '/^$/d' | LC_ALL=C sort | tr '\n' ' ')
want="org.example.passthrough1.attach-disk org.example.passthrough1.attach-disk-rawio org.example.passthrough1.attach-system-disk org.example.passthrough1.attach-usb org.example.passthrough1.detach org.example.passthrough1.detach-foreign org.example.passthrough1.manage-assignments "
if [ "$actions" = "$want" ]; then
        ok "polkit actions"
else
        echo "actions: $actions" | diag
        not_ok "polkit actions"
fi

# 5. D-Bus policy: well-formed.
if [ -f "$busconf" ] && xmllint --noout --nonet "$busconf" 2>"$tmp/xmllint.log"; then
        ok "D-Bus policy is valid XML"
else
        diag <"$tmp/xmllint.log" 2>/dev/null || true
        not_ok "D-Bus policy is valid XML"
fi

# 6. generated files: no @var@ left, and they start the installed binary.
if [ -f "$activation" ] && [ -f "$unit" ] &&
   ! grep -n '@[A-Za-z_]*@' "$activation" "$unit" >"$tmp/left.txt" &&
   grep -qx "Exec=$sbindir/passthroughd" "$activation" &&
   grep -qx "ExecStart=$sbindir/passthroughd" "$unit" &&
   grep -qx "SystemdService=passthroughd.service" "$activation" &&
   grep -qx "BusName=org.example.Passthrough1" "$unit"; then
        ok "activation file and unit point at $sbindir/passthroughd"
else
        diag <"$tmp/left.txt" 2>/dev/null || true
        not_ok "activation file and unit point at $sbindir/passthroughd"
fi

# 7. one active polkit rules file: the group rule, for local active sessions only.
rules="$destdir$(installed_path /usr/share/polkit-1/rules.d/50-passthrough.rules)"
if [ "$(grep -c '/rules\.d/' "$tmp/installed.txt")" = 1 ] && [ -f "$rules" ] &&
   grep -q 'subject.isInGroup("passthrough") || !subject.local || !subject.active' "$rules"; then
        ok "the only active polkit rule is the group rule, local active sessions only"
else
        grep '/rules\.d/' "$tmp/installed.txt" | diag
        not_ok "the only active polkit rule is the group rule, local active sessions only"
fi

exit $failed

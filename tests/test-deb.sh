#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The Debian packages of debian/: built from a temporary copy of the source
# with DEB_BUILD_OPTIONS=nocheck (the package build never runs this suite),
# then their files, control fields and maintainer scripts read back with
# dpkg-deb, and lintian's verdict. Nothing is installed here: installing is
# tried only inside the lab's VM (tests/lab/run-lab --only deb-install).
#
# Usage: test-deb.sh [SRCDIR]                    TAP; exit 77 without the build tools
#        test-deb.sh --build-only OUTDIR [SRCDIR]   build, copy the .debs to OUTDIR
#
# The applet's package is built when the tree has the meson option "applet"
# (issue 11); before that, with the build profile pkg.passthrough.noapplet.
set -eu

build_only=
if [ "${1:-}" = --build-only ]; then
        build_only=${2:?usage: $0 --build-only OUTDIR [SRCDIR]}
        shift 2
fi
src=$(cd "${1:-$(dirname "$0")/..}" && pwd)

for tool in dpkg-buildpackage dpkg-checkbuilddeps dpkg-deb dpkg-parsechangelog dh; do
        if ! command -v "$tool" >/dev/null; then
                echo "1..0 # SKIP $tool is missing (debhelper, dpkg-dev: tests/install-deps.sh)"
                exit 77
        fi
done

profile=
grep -qs "'applet'" "$src/meson_options.txt" || profile=-Ppkg.passthrough.noapplet
# shellcheck disable=SC2086
if ! unmet=$(cd "$src" && dpkg-checkbuilddeps $profile 2>&1); then
        echo "1..0 # SKIP build dependencies missing (tests/install-deps.sh): $unmet" | tr '\n' ' '
        echo
        exit 77
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/passthrough-deb.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
version=$(dpkg-parsechangelog -l "$src/debian/changelog" -S Version)
tree="$tmp/passthrough-$version"
mkdir "$tree"

# The source as git sees it (tracked and new files, no build dirs), else the
# folder without build dirs.
copy_source() {
        if git -C "$src" rev-parse --git-dir >/dev/null 2>&1; then
                git -C "$src" ls-files -z --cached --others --exclude-standard |
                        (cd "$src" && xargs -0 sh -c 'for f; do [ -e "$f" ] && printf "%s\n" "$f"; done' sh) |
                        tar -C "$src" -cf - -T - | tar -C "$tree" -xf -
        else
                tar -C "$src" --exclude=./.git --exclude='./build*' --exclude='./obj-*' -cf - . |
                        tar -C "$tree" -xf -
        fi
}
copy_source

# Two cores at most; no tests in the package build.
started=$(date +%s)
# shellcheck disable=SC2086
if ! (cd "$tree" && DEB_BUILD_OPTIONS="nocheck parallel=2" \
        dpkg-buildpackage -us -uc -b $profile) >"$tmp/build.log" 2>&1; then
        [ -n "$build_only" ] || echo "1..1"
        echo "not ok 1 - dpkg-buildpackage -us -uc -b $profile"
        tail -n 40 "$tmp/build.log" | sed 's/^/# /'
        exit 1
fi

if [ -n "$build_only" ]; then
        mkdir -p "$build_only"
        rm -f "$build_only"/*.deb
        for deb in "$tmp"/*.deb; do
                case "$deb" in *-dbgsym_*) continue ;; esac
                cp "$deb" "$build_only/"
        done
        ls "$build_only"
        exit 0
fi

n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=1; echo "not ok $n - $1"; }
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }
check() { # check DESCRIPTION COMMAND...: ok when COMMAND succeeds
        what=$1
        shift
        if "$@" >"$tmp/check.out" 2>&1; then ok "$what"; else sed 's/^/# /' "$tmp/check.out"; not_ok "$what"; fi
}

arch=$(dpkg-architecture -qDEB_HOST_ARCH)
deb() { echo "$tmp/${1}_${version}_$arch.deb"; }
# Every package's files ("/usr/bin/x"), its control fields and scripts.
for p in passthroughd passthroughctl passthrough-applet; do
        [ -f "$(deb $p)" ] || continue
        dpkg-deb -c "$(deb $p)" | awk '{print $6}' | sed 's|^\./|/|; s|/$||' | grep -v '^/*$' >"$tmp/$p.files"
        dpkg-deb -e "$(deb $p)" "$tmp/$p.control"
        dpkg-deb -x "$(deb $p)" "$tmp/$p.root"
done

has() { # has PACKAGE PATH...: every PATH is in PACKAGE
        p=$1
        shift
        for f; do grep -qxF "$f" "$tmp/$p.files" || { echo "$p lacks $f"; return 1; }; done
}
field() { dpkg-deb -f "$(deb "$1")" "$2"; }
contains() { # contains TEXT PATTERN...: every fixed-string PATTERN is in TEXT
        text=$1
        shift
        for pat; do
                case "$text" in *"$pat"*) ;; *) echo "missing: $pat in: $text"; return 1 ;; esac
        done
}
pc_var() { pkg-config --variable="$2" "$1" 2>/dev/null || true; }

echo "# built from $src in $(($(date +%s) - started)) s, ${profile:-with the applet}"
packages=$(cd "$tmp" && ls ./*.deb | sed 's|^\./||' | tr '\n' ' ')
check "dpkg-buildpackage -us -uc -b built $packages" \
        has passthroughd /usr/sbin/passthroughd

meson_version=$(sed -n "s/^ *version *: *'\([^']*\)'.*/\1/p" "$src/meson.build" | head -n 1)
check "the packages' version $version is meson.build's $meson_version" test "$version" = "$meson_version"

unitdir=$(pc_var systemd systemdsystemunitdir)
unitdir=${unitdir:-/usr/lib/systemd/system}
check "passthroughd: daemon, unit, bus policy and activation, interface, polkit actions, man page" \
        has passthroughd /usr/sbin/passthroughd "$unitdir/passthroughd.service" \
        /usr/share/dbus-1/system.d/org.example.Passthrough1.conf \
        /usr/share/dbus-1/system-services/org.example.Passthrough1.service \
        /usr/share/dbus-1/interfaces/org.example.Passthrough1.xml \
        /usr/share/polkit-1/actions/org.example.passthrough1.policy \
        /usr/share/man/man8/passthroughd.8.gz
check "passthroughd: example configuration (a conffile), README and the example polkit rule" \
        sh -c 'grep -qxF /etc/passthrough/passthrough.conf "$1/passthroughd.control/conffiles" &&
               grep -qxF /usr/share/doc/passthroughd/README.md.gz "$1/passthroughd.files" &&
               grep -qxF /usr/share/doc/passthroughd/examples/50-passthrough.rules.example "$1/passthroughd.files"' \
        sh "$tmp"
activation="$tmp/passthroughd.root/usr/share/dbus-1/system-services/org.example.Passthrough1.service"
check "the activation file starts the packaged binary through the packaged unit" \
        sh -c 'grep -qx "Exec=/usr/sbin/passthroughd" "$1" && grep -qx "SystemdService=passthroughd.service" "$1" &&
               grep -qx "BusName=org.example.Passthrough1" "$2"' \
        sh "$activation" "$tmp/passthroughd.root$unitdir/passthroughd.service"

check "passthroughd: sysusers entry for the group passthrough" \
        grep -q "^g *passthrough\b" "$tmp/passthroughd.root/usr/lib/sysusers.d/passthrough.conf"
check "passthroughd: the group rule, active (rules.d)" \
        grep -q 'isInGroup("passthrough")' "$tmp/passthroughd.root/usr/share/polkit-1/rules.d/50-passthrough.rules"
check "passthroughd: translations of the domain passthrough (one per language in po/LINGUAS)" \
        sh -c 'for l in $(grep -v "^#" "$2"); do grep -qx "/usr/share/locale/$l/LC_MESSAGES/passthrough.mo" "$1" || exit 1; done' \
        sh "$tmp/passthroughd.files" "$src/po/LINGUAS"

# The maintainer scripts run for real, with the commands they call replaced by
# stubs that log their arguments (deb-systemd-helper answers as for a unit it
# never saw: not installed before, was-enabled true) and stand-ins for
# /run/systemd/system and the system bus socket.
fake="$tmp/fake"
mkdir -p "$fake/bin" "$fake/systemd"
/usr/bin/python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$fake/bus"
for c in deb-systemd-helper deb-systemd-invoke systemctl dbus-send systemd-sysusers; do
        printf '#!/bin/sh\necho "%s $*" >>"%s"\ncase "$*" in debian-installed*) exit 1 ;; esac\n' \
                "$c" "$fake/calls" >"$fake/bin/$c"
        chmod +x "$fake/bin/$c"
done
calls() { # calls SCRIPT ARGS...: the commands SCRIPT ARGS runs, one a line, in $fake/calls
        sed "s|/run/systemd/system|$fake/systemd|g; s|/run/dbus/system_bus_socket|$fake/bus|g" \
                "$tmp/passthroughd.control/$1" >"$fake/script"
        : >"$fake/calls"
        shift
        (unset DPKG_ROOT; PATH="$fake/bin:$PATH" sh "$fake/script" "$@") >"$fake/out" 2>&1 ||
                echo "FAILED: $(cat "$fake/out")" >>"$fake/calls"
}
called() { # called PATTERN...: each extended regexp matches a call, in this order
        rest=$(cat "$fake/calls")
        for pat; do
                line=$(printf '%s\n' "$rest" | grep -nE -e "$pat" | head -n 1 | cut -d: -f1)
                [ -n "$line" ] || { echo "no call matching $pat (after the ones before) in:"; cat "$fake/calls"; return 1; }
                rest=$(printf '%s\n' "$rest" | tail -n "+$((line + 1))")
        done
}
not_called() { # not_called PATTERN: no call matches the extended regexp
        ! grep -E -e "$1" "$fake/calls"
}
reload='^dbus-send --system .*org\.freedesktop\.DBus\.ReloadConfig'
invoke_other='^deb-systemd-invoke .*|^deb-systemd-helper enable|FAILED'

calls postinst configure
check "postinst configure (install): reloads the bus policy" called "$reload"
check "postinst configure (install): neither enables nor starts the unit" not_called "$invoke_other"
check "postinst configure: creates the group (systemd-sysusers passthrough.conf)" \
        called '^systemd-sysusers .*passthrough\.conf'
calls postinst configure 0.0.1
check "postinst configure OLD (upgrade): reloads the bus policy, then try-restarts the unit" \
        called "$reload" "^deb-systemd-invoke try-restart passthroughd\.service$"
check "postinst configure OLD (upgrade): no start, no plain restart, no enable" \
        not_called '^deb-systemd-invoke (start|restart) |^deb-systemd-helper enable|FAILED'
calls prerm remove
check "prerm remove: stops the service" called '^deb-systemd-invoke stop passthroughd\.service$'
calls prerm upgrade 0.0.2
check "prerm upgrade: leaves it running" not_called "$invoke_other"
calls postrm remove
check "postrm remove: reloads the bus policy" called "$reload"
calls postrm purge
check "postrm purge: forgets the unit's state" called '^deb-systemd-helper purge passthroughd\.service$'
mkdir -p "$fake/root/var/lib/passthrough" && echo "[assignment]" >"$fake/root/var/lib/passthrough/assignments"
check "postrm purge: removes the service's state (/var/lib/passthrough, under DPKG_ROOT)" \
        sh -c 'DPKG_ROOT=$1 PATH="$2/bin:$PATH" sh "$2/script" purge >/dev/null 2>&1 && [ ! -e "$1/var/lib/passthrough" ]' \
        sh "$fake/root" "$fake"
check "maintainer scripts are valid sh" \
        sh -c 'for s in postinst prerm postrm; do sh -n "$1/$s" || exit 1; done' sh "$tmp/passthroughd.control"
check "passthroughd Depends: libvirt, sd-bus, polkit, a system bus" \
        contains "$(field passthroughd Depends)" libvirt0 libsystemd0 libpolkit-gobject-1-0 polkitd dbus-system-bus

compdir=$(pc_var bash-completion completionsdir)
compdir=${compdir:-/usr/share/bash-completion/completions}
check "passthroughctl: client, man page, bash completion" \
        has passthroughctl /usr/bin/passthroughctl /usr/share/man/man1/passthroughctl.1.gz "$compdir/passthroughctl"
check "passthroughctl: zsh and fish completions" \
        has passthroughctl /usr/share/zsh/vendor-completions/_passthroughctl \
        /usr/share/fish/vendor_completions.d/passthroughctl.fish
check "passthroughctl Depends on passthroughd $version, not on libvirt" \
        sh -c 'case "$1" in *"passthroughd (= $2)"*) ;; *) exit 1 ;; esac
               case "$1" in *libvirt*) exit 1 ;; esac' sh "$(field passthroughctl Depends)" "$version"

if [ -z "$profile" ]; then
        check "passthrough-applet: binary, autostart entry, hicolor SVG icon, man page; Depends on passthroughd" \
                sh -c 'f=$1/passthrough-applet.files
                       grep -qx /usr/bin/passthrough-applet "$f" &&
                       grep -q "^/etc/xdg/autostart/.*\.desktop$" "$f" &&
                       grep -qx /usr/share/applications/passthrough-applet.desktop "$f" &&
                       grep -q "^/usr/share/icons/hicolor/scalable/apps/.*\.svg$" "$f" &&
                       grep -qx /usr/share/man/man1/passthrough-applet.1.gz "$f" &&
                       dpkg-deb -f "$2" Depends | grep -qF "passthroughd (= $3)"' \
                sh "$tmp" "$(deb passthrough-applet)" "$version"
else
        check "no applet package without the applet (profile pkg.passthrough.noapplet)" \
                test ! -e "$(deb passthrough-applet)"
fi

check "no file in two packages" \
        sh -c 'cat "$1"/*.files | sort | uniq -d | while read -r f; do
                   [ -d "$1/passthroughd.root$f" ] || [ -d "$1/passthroughctl.root$f" ] ||
                   [ -d "$1/passthrough-applet.root$f" ] || { echo "$f"; exit 1; }
               done' sh "$tmp"

if command -v lintian >/dev/null; then
        changes=$(ls "$tmp"/*.changes)
        lintian --pedantic -I "$changes" 2>&1 | grep -v "running with root privileges" >"$tmp/lintian.out" || true
        sed 's/^/# lintian: /' "$tmp/lintian.out"
        check "lintian: no errors or warnings ($(grep -c . "$tmp/lintian.out") tags in all)" \
                sh -c '! grep -q "^[EW]: " "$1"' sh "$tmp/lintian.out"
else
        skip "lintian" "lintian is missing (tests/install-deps.sh)"
fi

echo "1..$n"
exit $failed

#!/bin/sh
# Install what passthroughd needs to build and to run its tests (Debian 12).
#
# Idempotent: installs packages only when one is missing, creates users only
# when missing, and says what it did.  Must run as root.
#
# Groups: never created by hand here.  A hand-made "kvm" group breaks udev's
# post-install later ("group kvm already exists and is not a system group");
# packages create their own groups, useradd --user-group makes system groups.
set -eu

if [ "$(id -u)" != 0 ]; then
    echo "install-deps.sh: must run as root" >&2
    exit 1
fi

# Build (gettext: the po/ catalogs, merged into the polkit policy too; xgettext/msgmerge for the po tests).
PKGS_BUILD="meson ninja-build pkg-config gcc libvirt-dev libsystemd-dev libudev-dev
    libpolkit-gobject-1-dev libglib2.0-dev libxml2-dev libjson-glib-dev libmount-dev libblkid-dev
    libsmartcols-dev bash-completion gettext"
# Run and test.  pkttyagent ships in polkitd on Debian 12; pkexec is not needed.
# clang and libclang-rt-dev (libFuzzer and the sanitizer runtimes, which apt
# only recommends) build the fuzz harnesses (tests/fuzz/run-fuzz.sh).
PKGS_TEST="libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients qemu-system-x86
    qemu-utils dbus polkitd python3-dbusmock python3-dbus python3-gi umockdev
    libumockdev-dev gir1.2-umockdev-1.0 udev kmod busybox-static cpio fdisk util-linux
    e2fsprogs xmlstarlet libxml2-utils valgrind dpkg-dev python3-libvirt systemd procps
    clang libclang-rt-dev zsh fish
    libgtk-3-dev libayatana-appindicator3-dev libnotify-dev xvfb xdotool imagemagick
    at-spi2-core python3-pyatspi"
# The Debian packages (debian/, tests/test-deb.sh): the tools, and what
# debian/control's Build-Depends adds to the above.
PKGS_DEB="debhelper fakeroot lintian pkgconf gettext bash-completion libsmartcols-dev"

missing=""
for p in $PKGS_BUILD $PKGS_TEST $PKGS_DEB; do
    status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)
    case "$status" in
        ii*) ;;
        *) missing="$missing $p" ;;
    esac
done

if [ -n "$missing" ]; then
    echo "install-deps: missing packages:$missing"
    apt-get update
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $PKGS_BUILD $PKGS_TEST $PKGS_DEB
    echo "install-deps: installed:$missing"
else
    echo "install-deps: all packages already installed"
fi

nologin=/usr/sbin/nologin
[ -x "$nologin" ] || nologin=/bin/false

# libvirt's Debian build defaults: QEMU user *and group* "libvirt-qemu" (normally
# made by libvirt-daemon-system, which we do not install).  libvirtd resolves
# both at startup, even when qemu.conf says user = "root".  useradd --user-group
# makes the group as a system group; kvm (made by udev) is a supplementary group.
if getent passwd libvirt-qemu >/dev/null; then
    echo "install-deps: user libvirt-qemu exists"
else
    kvm_opt=""
    getent group kvm >/dev/null && kvm_opt="--groups kvm"
    if getent group libvirt-qemu >/dev/null; then
        group_opt="--gid libvirt-qemu"
    else
        group_opt="--user-group"
    fi
    # shellcheck disable=SC2086
    useradd --system --no-create-home --home-dir /var/lib/libvirt \
        --shell "$nologin" $group_opt $kvm_opt libvirt-qemu
    echo "install-deps: created system user libvirt-qemu"
fi
if getent group libvirt-qemu >/dev/null; then
    echo "install-deps: group libvirt-qemu exists"
else
    # The user exists without its group (made by hand earlier).
    groupadd --system libvirt-qemu
    echo "install-deps: created system group libvirt-qemu"
fi

# Unprivileged callers for the D-Bus tests.
for u in pt-tester pt-other; do
    if getent passwd "$u" >/dev/null; then
        echo "install-deps: user $u exists"
    else
        useradd --system --no-create-home --home-dir /nonexistent \
            --shell "$nologin" --user-group "$u"
        echo "install-deps: created system user $u"
    fi
done

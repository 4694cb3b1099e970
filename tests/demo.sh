#!/bin/bash
# The demo, from a fresh Debian 12 machine, as root:
#   sudo tests/demo.sh
# Installs what it needs, builds into ./build, then (all private: a mount
# namespace, its own system bus, polkit mock, libvirtd and a small TCG guest)
# shows passthroughctl listing, attaching and detaching a loop "disk" and what
# the guest sees. Nothing on the host's real libvirtd or system bus is touched.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" != 0 ]; then
        echo "demo.sh: run as root (installs packages, creates a loop device, runs a private libvirtd)" >&2
        exit 1
fi
tests/install-deps.sh
[ -d build/meson-private ] || meson setup build
meson compile -C build
exec /usr/bin/python3 tests/demo.py build

#!/usr/bin/python3
"""The demo behind tests/demo.sh: passthroughctl against a private world.

    /usr/bin/python3 tests/demo.py BUILDDIR
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ptharness as H  # noqa: E402
from ptworld import World  # noqa: E402

USER = 'pt-tester'


def say(text):
    bold = ('\033[1m', '\033[0m') if sys.stdout.isatty() else ('', '')
    print('\n%s== %s%s' % (bold[0], text, bold[1]), flush=True)


def ctl(world, *args):
    print('%s$ passthroughctl %s' % (USER, ' '.join(args)), flush=True)
    p = world.ctl(*args)
    sys.stdout.write(p.stdout)
    sys.stdout.write(p.stderr)
    print('(exit %d)' % p.returncode, flush=True)
    return p


def guest_view(world):
    disks = world.guests['linux'].disks() or {}
    shown = ', '.join('%s (serial %s, %d MiB)' % (n, s or '-', size // (1 << 20))
                      for n, (s, size) in sorted(disks.items())) or 'no disks'
    print('guest pt-linux sees: %s' % shown, flush=True)


def main():
    H.ensure_private_namespace()
    builddir = os.path.abspath(sys.argv[1])
    say('Starting a private world: system bus, polkit (mock), libvirtd, a TCG guest')
    t0 = time.monotonic()
    world = World(builddir, guests=('linux',)).start()
    print('ready in %.1f s: passthroughd runs as root; we call it as the unprivileged user %s'
          % (time.monotonic() - t0, USER))
    try:
        run(world)
    finally:
        world.stop()


def run(world):
    world.polkit.set_allowed(['org.example.passthrough1.attach-disk', 'org.example.passthrough1.detach'])
    with H.LoopDisk(64) as disk, H.LoopDisk(32, partition=True, mount=True) as busy:
        say('The VMs and the host disks (two loop devices; one has a mounted partition)')
        ctl(world, 'domains')
        ctl(world, 'disk-list')
        say('Attach the free disk; polkit allows %s (a rule would, on a real host)' % USER)
        ctl(world, 'disk-attach', 'pt-linux', disk.dev, 'demo-disk')
        world.guests['linux'].wait_disks(lambda d: any(s == 'demo-disk' for s, _ in d.values()), 30)
        guest_view(world)
        print('(a guest names hot-added disks in its own order; the serial is how it finds one:'
              ' /dev/disk/by-id/virtio-demo-disk)')
        ctl(world, 'disk-attached', 'pt-linux')
        say('Refusals are typed and say what to do')
        ctl(world, 'disk-attach', 'pt-linux', busy.dev)
        ctl(world, 'disk-attach', 'pt-linux', disk.dev)
        say('Detach: the call returns when the guest has let go')
        ctl(world, 'disk-detach', 'pt-linux', disk.dev)
        guest_view(world)
        say('Without a polkit grant nothing happens')
        world.polkit.set_allowed([])
        ctl(world, 'disk-attach', 'pt-linux', disk.dev)
        guest_view(world)
    say('Done; the private world is being torn down')


if __name__ == '__main__':
    main()

#!/usr/bin/python3
"""Benchmark: can one caller slow down the others?

    /usr/bin/python3 tests/bench-flood.py BUILDDIR [--rounds N]

Needs root; exits 77 with the reason otherwise. In the ptworld private world
(private libvirtd, private bus, polkit mock, the built passthroughd, the
firmware guest pt-fw), each round: pt-other sends 200 concurrent
AttachDisk(pt-fw, no-such-disk-N) calls on one connection (tests/ptflood.py
flood) while root times, again and again until the flood is answered, an
unrelated Properties.Get(Version) and a real AttachDisk dry run of a loop
disk (tests/ptflood.py probe). Prints the flood's answers and the median and
worst latency of both probes; the goal is a worst case of 20 ms or less.
Figures only: it exits 0 whether or not the goal was met.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
PTFLOOD = os.path.join(HERE, 'ptflood.py')
GOAL_MS = 20.0


def one_round(world, H, device):
    env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=world.bus.address)
    flood = subprocess.Popen(['setpriv', '--reuid=pt-other', '--regid=pt-other', '--init-groups', '--',
                              H.PYTHON, PTFLOOD, 'flood', '200', 'pt-fw'],
                             env=env, stdout=subprocess.PIPE, text=True)
    probe = subprocess.run([H.PYTHON, PTFLOOD, 'probe', str(flood.pid), 'pt-fw', device],
                           env=env, capture_output=True, text=True, timeout=300)
    return json.loads(flood.communicate(timeout=300)[0]), json.loads(probe.stdout)


def describe(name, values):
    if not values:
        return '%-34s no samples' % name
    worst = max(values)
    return '%-34s n=%4d  median %6.2f ms  worst %6.2f ms  %s' % (
        name, len(values), statistics.median(values), worst, 'goal met' if worst <= GOAL_MS else 'GOAL MISSED')


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('builddir')
    parser.add_argument('--rounds', type=int, default=5)
    opts = parser.parse_args()
    if os.geteuid() != 0:
        print('SKIP: needs root (a private mount namespace, libvirtd, loop devices)')
        return 77
    import ptharness as H
    from ptworld import World

    H.ensure_private_namespace()
    world = World(opts.builddir, guests=('firmware',))
    probes, dry_runs, dry_errors, answers = [], [], [], {}
    try:
        world.start()
        world.polkit.set_allowed([])
        with H.LoopDisk(16) as disk:
            for _ in range(opts.rounds):
                flood, probe = one_round(world, H, disk.dev)
                for k, v in flood['errors'].items():
                    answers[k] = answers.get(k, 0) + v
                probes += probe['probe_ms']
                dry_runs += probe['dry_run_ms']
                dry_errors += probe['dry_run_errors']
    finally:
        world.stop()
    print('flood: %d rounds x 200 bogus AttachDisk from pt-other; answers: %s' % (opts.rounds, answers))
    print(describe('Properties.Get(Version), as root', probes))
    print(describe('AttachDisk dry run, as root', dry_runs))
    if dry_errors:
        print('dry-run errors: %s' % sorted(set(dry_errors)))
    return 0


if __name__ == '__main__':
    sys.exit(main())

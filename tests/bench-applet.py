#!/usr/bin/python3
"""Figures for passthrough-applet (printed, not asserted):

  * the time from the service's InterfacesAdded for a new disk (a loop device)
    to the tray menu (dbusmenu GetLayout, as a panel reads it) showing it:
    median and worst of N runs (goal <= 100 ms);
  * idle wakeups of the applet: context switches of all its threads over 10 s
    once the menu is up and nothing happens (goal 0/s), per thread;
  * its RSS and PSS.

    /usr/bin/python3 tests/bench-applet.py BUILDDIR [RUNS]

Same private world as tests/test-applet.py (private buses, the real service,
the polkit mock, a private libvirtd without guests, Xvfb, a watcher and the
notification mock); needs root, exits 77 otherwise.
"""

import os
import shutil
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ptharness as H  # noqa: E402


def thread_switches(pid):
    """{thread name and id: context switches so far}."""
    out = {}
    for tid in os.listdir('/proc/%d/task' % pid):
        with open('/proc/%d/task/%s/status' % (pid, tid)) as f:
            lines = f.read().splitlines()
        name = lines[0].split(None, 1)[1] + '/' + tid
        out[name] = sum(int(l.split()[1]) for l in lines
                        if l.startswith(('voluntary_ctxt_switches', 'nonvoluntary_ctxt_switches')))
    return out


def memory(pid):
    with open('/proc/%d/status' % pid) as f:
        rss = next(int(l.split()[1]) for l in f if l.startswith('VmRSS'))
    with open('/proc/%d/smaps_rollup' % pid) as f:
        pss = next(int(l.split()[1]) for l in f if l.startswith('Pss:'))
    return rss, pss


def main(builddir, runs):
    import dbus
    import dbus.mainloop.glib
    from gi.repository import GLib
    import ptdesktop as D
    from ptworld import World

    dbus.mainloop.glib.DBusGMainLoop(set_as_default=True)
    world = World(builddir, guests=()).start()
    desk = None
    try:
        desk = D.Desktop(world.tmp, 'pt-tester').start()
        applet = desk.start_applet(os.path.join(builddir, 'client', 'applet', 'passthrough-applet'),
                                   world.bus.address)
        H.wait_for(lambda: 'Disks' in desk.labels(), 30, what='the menu')
        # Idle first: the menu is up, nothing happens on either bus.
        time.sleep(3)
        before = thread_switches(applet.pid)
        time.sleep(10)
        after = thread_switches(applet.pid)
        per_thread = {t: (n - before.get(t, 0)) / 10.0 for t, n in after.items()}
        idle = sum(per_thread.values())
        system = dbus.bus.BusConnection(world.bus.address, mainloop=dbus.mainloop.glib.DBusGMainLoop())
        seen = {}

        def added(path, ifaces):
            disk = ifaces.get('org.example.Passthrough1.Disk')
            if disk:
                seen.setdefault(str(disk['Path']), time.monotonic())
        system.add_signal_receiver(added, 'InterfacesAdded', 'org.freedesktop.DBus.ObjectManager',
                                   'org.example.Passthrough1')
        ctx = GLib.MainContext.default()
        delays = []
        for _ in range(runs):
            seen.clear()   # loop devices' names come back
            with H.LoopDisk(8) as disk:
                label = disk.dev + ' ('
                while disk.dev not in seen:
                    ctx.iteration(True)
                while not any(l.startswith(label) for l in desk.labels()):
                    time.sleep(0.001)
                delays.append((time.monotonic() - seen[disk.dev]) * 1000)
            H.wait_for(lambda: not any(l.startswith(label) for l in desk.labels()), 10, what='the disk gone')
        rss, pss = memory(applet.pid)
        print('signal -> menu shows the new disk: median %.1f ms, worst %.1f ms (%d runs; goal <= 100 ms)'
              % (statistics.median(delays), max(delays), len(delays)))
        print('idle wakeups (context switches, all threads, 10 s): %.1f/s (goal 0/s); %s' % (
            idle, ', '.join('%s %.1f/s' % (t, n) for t, n in sorted(per_thread.items()) if n)))
        print('memory: RSS %.1f MB, PSS %.1f MB' % (rss / 1024, pss / 1024))
    finally:
        if desk:
            desk.stop()
        world.stop()


if __name__ == '__main__':
    if len(sys.argv) < 2:
        sys.exit('usage: bench-applet.py BUILDDIR [RUNS]')
    if not os.path.exists(os.path.join(sys.argv[1], 'client', 'applet', 'passthrough-applet')):
        print('SKIP: passthrough-applet was not built')
        sys.exit(77)
    if os.geteuid() != 0 or not shutil.which('Xvfb'):
        print('SKIP: needs root and Xvfb')
        sys.exit(77)
    H.ensure_private_namespace()
    main(os.path.abspath(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 15)

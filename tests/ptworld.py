"""A private world for passthroughd: the tests, the demo and the benchmark
share it. Inside a private mount namespace (ptharness) it starts a private
libvirtd, a private system bus with the project's bus policy, python-dbusmock's
polkitd, the built passthroughd, and QEMU guests:

    pt-linux  a tiny TCG Linux guest that reports its disks on its serial log
    pt-fw     a firmware-only guest that never lets go of a hot-added disk
    pt-off    a defined domain that is not running
"""

import json
import os
import re
import subprocess
import tempfile
import time

import ptharness as H

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_ROOT = os.path.dirname(HERE)
PTCALL = os.path.join(HERE, 'ptcall.py')
USER = 'pt-tester'
ERR = 'org.example.Passthrough1.Error.'


class SignalRecorder:
    """dbus-monitor on the private bus, recording our signals."""

    def __init__(self, address, logfile):
        self.logfile = logfile
        rule = "type='signal',interface='org.example.Passthrough1'"
        self.proc = subprocess.Popen(['dbus-monitor', '--address', address, rule],
                                     stdout=open(logfile, 'w'), stderr=subprocess.DEVNULL)
        # dbus-monitor prints its own NameAcquired first: wait for it.
        H.wait_for(lambda: os.path.getsize(logfile) > 0, 10, what='dbus-monitor')

    def signals(self):
        """[(member, [string args])] in order."""
        out, cur = [], None
        with open(self.logfile, errors='replace') as f:
            for line in f:
                m = re.match(r'^signal .*member=(\w+)', line)
                if m:
                    cur = (m.group(1), [])
                    if 'interface=org.example.Passthrough1' in line:
                        out.append(cur)
                    continue
                m = re.match(r'^\s+string "(.*)"$', line)
                if m and cur is not None:
                    cur[1].append(m.group(1))
        return out

    def wait(self, member, args, timeout=10):
        H.wait_for(lambda: (member, list(args)) in self.signals(), timeout,
                   what='signal %s%s' % (member, tuple(args)))

    def stop(self):
        self.proc.terminate()
        self.proc.wait()


class World:
    def __init__(self, builddir, guests=('linux', 'firmware', 'off'), service_env=None, bus_policy_files=()):
        """service_env: extra environment for passthroughd alone (e.g. a
        umockdev testbed's LD_PRELOAD and UMOCKDEV_DIR). bus_policy_files:
        more .conf files for the private bus, beside the project's policy
        (e.g. a benchmark's own service name)."""
        self.builddir = os.path.abspath(builddir)
        self.bus_policy_files = list(bus_policy_files)
        self.guests_wanted = guests
        self.service_env = dict(service_env or {})
        self.tmp = tempfile.mkdtemp(prefix='pt-world-')
        os.chmod(self.tmp, 0o755)   # unprivileged callers reach the bus socket below it
        self.state_dir = os.path.join(self.tmp, 'state')   # the service's assignments
        self.stack = []
        self.guests = {}
        self.service = None

    # -- set-up ------------------------------------------------------------

    def start(self):
        self.libvirtd = self._push(H.Libvirtd(log_dir=self.tmp,
                                              caps_cache=os.path.join(self.builddir, 'guest-kit', 'qemu-caps')))
        policy = os.path.join(SOURCE_ROOT, 'data', 'org.example.Passthrough1.conf')
        self.bus = self._push(H.PrivateSystemBus(policy_files=[policy, *self.bus_policy_files], tmpdir=self.tmp))
        self.polkit = self._push(H.PolkitMock(self.bus.address,
                                              log_path=os.path.join(self.tmp, 'polkit.log')))
        self.start_service()
        self.signals = SignalRecorder(self.bus.address, os.path.join(self.tmp, 'signals.log'))
        self.kit = H.GuestKit(os.path.join(self.builddir, 'guest-kit')) if 'linux' in self.guests_wanted else None
        self._start_guests()
        return self

    def _push(self, ctx):
        obj = ctx.__enter__()
        self.stack.append(ctx)
        return obj

    def _start_guests(self):
        if 'linux' in self.guests_wanted:
            g = H.Guest('pt-linux', os.path.join(self.tmp, 'pt-linux.log'))
            g.define_and_start(H.linux_guest_xml('pt-linux', g.log_path, kit=self.kit))
            self.guests['linux'] = g
        if 'firmware' in self.guests_wanted:
            g = H.Guest('pt-fw')
            g.define_and_start(H.firmware_guest_xml('pt-fw'))
            self.guests['firmware'] = g
        if 'off' in self.guests_wanted:
            xml = H.firmware_guest_xml('pt-off')
            path = os.path.join(self.tmp, 'pt-off.xml')
            with open(path, 'w') as f:
                f.write(xml)
            H.virsh('define', path)
        if 'linux' in self.guests:
            self.guests['linux'].wait_ready(180)

    def service_binary(self):
        return os.path.join(self.builddir, 'service', 'passthroughd')

    def start_service(self, extra_args=(), config_text=''):
        """config_text: the configuration file; when it has a [libvirt]
        group, the URI comes from there instead of --connect."""
        env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=self.bus.address, **self.service_env)
        config = os.path.join(self.tmp, 'passthrough.conf')
        connect = [] if '[libvirt]' in config_text else ['--connect', H.URI]
        with open(config, 'w') as f:
            f.write(config_text or '[libvirt]\n# uri comes from --connect\n')
        wrapper = os.environ.get('PT_SERVICE_WRAPPER', '').split()
        argv = wrapper + [self.service_binary(), *connect, '--config', config,
                          '--state-dir', self.state_dir, '--verbose', *extra_args]
        with open(os.path.join(self.tmp, 'passthroughd.log'), 'ab') as log:
            self.service = subprocess.Popen(argv, env=env, stdout=log, stderr=log)
        H.wait_for(self._service_on_bus, 30, what='passthroughd on the bus')

    def _service_on_bus(self):
        if self.service.poll() is not None:
            raise H.HarnessError('passthroughd exited with %d:\n%s' %
                                 (self.service.returncode, self.service_log()))
        p = subprocess.run(['busctl', '--address', self.bus.address, 'status',
                            'org.example.Passthrough1'], capture_output=True)
        return p.returncode == 0

    def stop_service(self):
        if self.service and self.service.poll() is None:
            self.service.terminate()
            try:
                return self.service.wait(20)
            except subprocess.TimeoutExpired:
                self.service.kill()
                self.service.wait()
                return None
        return self.service.returncode if self.service else None

    def service_log(self):
        try:
            with open(os.path.join(self.tmp, 'passthroughd.log'), errors='replace') as f:
                return f.read()[-4000:]
        except OSError:
            return ''

    def stop(self):
        if getattr(self, 'signals', None):
            self.signals.stop()
        status = self.stop_service()
        for g in self.guests.values():
            g.destroy()
        while self.stack:
            self.stack.pop().__exit__(None, None, None)
        # A clean SIGTERM exit is 0; ASan/LSan, UBSan and valgrind
        # (--error-exitcode) findings at exit show up here.
        if self.service and status != 0:
            raise H.HarnessError('passthroughd %s (log: %s):\n%s' % (
                'did not exit on SIGTERM' if status is None else 'exited with %d' % status,
                os.path.join(self.tmp, 'passthroughd.log'), self.service_log()))

    # -- calls -------------------------------------------------------------

    def call(self, method, args='()', user=USER, interactive=False, vtype=None, timeout=120):
        """Call as `user` (root when None) through ptcall.py; returns its JSON."""
        argv = [H.PYTHON, PTCALL, '--timeout', str(timeout)]
        if interactive:
            argv.append('--interactive')
        if vtype:
            argv += ['--type', vtype]
        argv += [method, args]
        if user is None:
            env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=self.bus.address)
            p = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=timeout + 10)
        else:
            p = H.run_as(user, argv, bus_address=self.bus.address, timeout=timeout + 10)
        try:
            return json.loads(p.stdout)
        except ValueError:
            raise H.HarnessError('ptcall %s failed: %s %s' % (method, p.stdout, p.stderr))

    def call_async(self, method, args='()', user=USER):
        argv = [H.PYTHON, PTCALL, method, args]
        pw_env = {'DBUS_SYSTEM_BUS_ADDRESS': self.bus.address}
        import pwd
        pw = pwd.getpwnam(user)
        cmd = ['setpriv', '--reuid=%d' % pw.pw_uid, '--regid=%d' % pw.pw_gid, '--init-groups', '--'] + argv
        env = dict(os.environ, **pw_env)
        return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def ctl(self, *args, user=USER):
        """Run the built passthroughctl."""
        exe = os.path.join(self.builddir, 'client', 'passthroughctl', 'passthroughctl')
        if user is None:
            env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=self.bus.address)
            return subprocess.run([exe, *args], env=env, capture_output=True, text=True, timeout=120)
        return H.run_as(user, [exe, *args], bus_address=self.bus.address, timeout=120)

    def attached(self, domain):
        r = self.call('ListAttached', "(%s,)" % gv(domain), user=None)
        return r['result'][0]

    def disk_entry(self, path):
        for d in self.call('ListDisks', user=None)['result'][0]:
            if d['Path'] == path:
                return d
        return None


def gv(s):
    """GVariant text for a string."""
    return "'" + s.replace('\\', '\\\\').replace("'", "\\'") + "'"


def opts(**kw):
    """GVariant text for an a{sv} with simple values."""
    parts = []
    for k, v in kw.items():
        key = k.replace('_', '-')
        if isinstance(v, bool):
            val = 'true' if v else 'false'
        elif isinstance(v, int):
            val = 'uint32 %d' % v
        else:
            val = gv(v)
        parts.append('%s: <%s>' % (gv(key), val))
    return '{' + ', '.join(parts) + '}' if parts else '@a{sv} {}'


def args3(domain, device, **kw):
    return '(%s, %s, %s)' % (gv(domain), gv(device), opts(**kw))


def interface_shape(root, name='org.example.Passthrough1'):
    """Methods, signals and properties of one interface, without doc annotations."""
    iface = root if root.tag == 'interface' else root.find("./interface[@name='%s']" % name)
    assert iface is not None, 'interface %s missing' % name

    def annotations(el):
        return sorted((a.get('name'), a.get('value')) for a in el.findall('annotation')
                      if not a.get('name').startswith('org.gtk.GDBus.DocString'))

    def args(el, default_dir):
        return [(a.get('name'), a.get('type'), a.get('direction', default_dir)) for a in el.findall('arg')]

    return {
        'methods': sorted((m.get('name'), args(m, 'in'), annotations(m)) for m in iface.findall('method')),
        'signals': sorted((s.get('name'), [(n, t) for n, t, _ in args(s, 'out')], annotations(s))
                          for s in iface.findall('signal')),
        'properties': sorted((p.get('name'), p.get('type'), p.get('access'), annotations(p))
                             for p in iface.findall('property')),
        'annotations': annotations(iface),
    }


def contract():
    """The contract dbus/org.example.Passthrough1.xml, parsed."""
    import xml.etree.ElementTree as ET
    with open(os.path.join(SOURCE_ROOT, 'dbus', 'org.example.Passthrough1.xml')) as f:
        return ET.fromstring(f.read())


def introspect(address, path):
    """The live object's introspection XML, parsed."""
    import xml.etree.ElementTree as ET
    p = subprocess.run(['busctl', '--address', address, 'introspect', '--xml-interface',
                        'org.example.Passthrough1', path], capture_output=True, text=True, check=True)
    return ET.fromstring(p.stdout)

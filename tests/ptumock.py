# SPDX-License-Identifier: LGPL-2.1-or-later
"""What the umockdev tests share: running under umockdev's preload library,
and USB devices in a testbed named as the kernel names them."""

import os
import sys

PRELOAD = 'libumockdev-preload.so.0'


def reexec_with_preload():
    """Run this script again under umockdev-wrapper unless the preload library
    is there: Testbed.uevent() needs it in this process."""
    if PRELOAD not in os.environ.get('LD_PRELOAD', ''):
        os.execvp('umockdev-wrapper', ['umockdev-wrapper', sys.executable] + sys.argv)


def add_usb(tb, parent, port, devnum, vp, serial=None, hub=False, product='', manufacturer=''):
    """A usb_device in testbed tb named like the kernel names it (port "1-1.2",
    root hubs "usbN"); no serial attribute when serial is None."""
    bus = int(port.split('-')[0])
    devpath = port.split('-', 1)[1]
    vid, pid = vp.split(':')
    attrs = ['busnum', str(bus), 'devnum', str(devnum), 'devpath', devpath, 'idVendor', vid,
             'idProduct', pid, 'bDeviceClass', '09' if hub else '00', 'product', product,
             'manufacturer', manufacturer]
    if serial is not None:
        attrs += ['serial', serial]
    props = ['DEVTYPE', 'usb_device', 'BUSNUM', '%03d' % bus, 'DEVNUM', '%03d' % devnum,
             'PRODUCT', '%x/%x/0' % (int(vid, 16), int(pid, 16))]
    name = 'usb%d' % bus if devpath == '0' else port
    return tb.add_device('usb', name, parent, attrs, props)

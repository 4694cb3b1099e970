#!/usr/bin/python3
"""Read the tables of a running application through at-spi (pyatspi, what
dogtail builds on), as a screen reader would: prints JSON
[{"headers": [...], "rows": [[cell, ...], ...]}] for the application named
argv[1]. Needs DBUS_SESSION_BUS_ADDRESS (org.a11y.Bus) of its desktop."""

import json
import sys

import pyatspi


def tables(node, out, depth=0):
    if node is None or depth > 30:
        return
    if node.getRole() in (pyatspi.ROLE_TABLE, pyatspi.ROLE_TREE_TABLE):
        t = node.queryTable()
        headers = [t.getColumnHeader(c).name if t.getColumnHeader(c) else '' for c in range(t.nColumns)]
        rows = [[t.getAccessibleAt(r, c).name for c in range(t.nColumns)] for r in range(t.nRows)]
        out.append({'headers': headers, 'rows': rows})
        return
    for i in range(node.childCount):
        tables(node.getChildAtIndex(i), out, depth + 1)


def main(name):
    desktop = pyatspi.Registry.getDesktop(0)
    out = []
    for app in desktop:
        if app is not None and app.name == name:
            tables(app, out)
    print(json.dumps(out))


if __name__ == '__main__':
    main(sys.argv[1])

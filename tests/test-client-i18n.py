#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The clients' strings reach the translators (that the files marking them are
in po/POTFILES.in is tests/test-po.sh's): passthroughctl's messages (ctl_error,
ctl_usage_error, ctl_warning, ctl_hint) have marked formats, not bare ones;
the listings' column help texts are marked (N_(), translated when printed).

    /usr/bin/python3 tests/test-client-i18n.py SOURCEDIR

Output: TAP.
"""

import glob
import os
import re
import sys

MESSAGE_CALL = re.compile(r'\b(ctl_error|ctl_usage_error|ctl_warning|ctl_hint)\(\s*"((?:[^"\\]|\\.)*)"')
# A format of conversions and punctuation only ("%s", "%s:%u: %s%s") has nothing to translate.
CONVERSION = re.compile(r'%[-+ #0-9.]*[a-zA-Z]')
COLUMN_ENTRY = re.compile(r'\{\s*"([A-Z][A-Z-]*)",\s*(N_\()?')

n = 0
failed = False


def result(ok, what, detail=()):
    global n, failed
    n += 1
    print('%s %d - %s' % ('ok' if ok else 'not ok', n, what))
    if not ok:
        failed = True
        for line in detail:
            print('# ' + line)


def column_tables(text):
    """The bodies of the ListColumn arrays in text."""
    for m in re.finditer(r'static const ListColumn \w+\[\] = \{(.*?)\n\};', text, re.S):
        yield m.group(1)


def main():
    src = sys.argv[1]
    sources = sorted(glob.glob(os.path.join(src, 'client', '**', '*.c'), recursive=True))
    texts = {os.path.relpath(p, src): open(p, encoding='utf-8').read() for p in sources}
    result(len(texts) > 20, f'client sources found: {len(texts)}')

    bare = []
    checked = 0
    for path, text in texts.items():
        for m in MESSAGE_CALL.finditer(text):
            checked += 1
            if re.search(r'[A-Za-z]', CONVERSION.sub('', m.group(2))):
                line = text.count('\n', 0, m.start()) + 1
                bare.append(f'{path}:{line}: {m.group(1)}("{m.group(2)}")')
    total = sum(len(re.findall(r'\b(?:ctl_error|ctl_usage_error|ctl_warning|ctl_hint)\(', t))
                for t in texts.values())
    result(total > 30 and not bare,
           f'passthroughctl messages: {total} calls, {checked} with a literal format, none of them unmarked',
           bare)

    columns = unmarked = 0
    details = []
    for path, text in texts.items():
        for body in column_tables(text):
            for m in COLUMN_ENTRY.finditer(body):
                columns += 1
                if not m.group(2):
                    unmarked += 1
                    details.append(f'{path}: column {m.group(1)}: help not N_()')
    result(columns > 30 and not unmarked, f'column help texts: {columns}, all marked N_()', details)

    listing = texts.get(os.path.join('client', 'passthroughctl', 'listing.c'), '')
    result('_(spec->columns[i].help)' in listing, 'listing.c translates the column help when it prints it')

    print(f'1..{n}')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())

#!/usr/bin/python3
"""The gettext domain "passthrough": every language in po/LINGUAS is complete
for the strings the sources mark today, compiles cleanly, and is merged into
the built polkit policy (a translated description and message for every
action, with the same $(detail) substitutions as the English text).

    /usr/bin/python3 tests/test-translations.py SOURCEDIR BUILDDIR

Output: TAP. Needs xgettext, msgmerge, msgfmt (gettext) and xmllint.
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

XML_LANG = '{http://www.w3.org/XML/1998/namespace}lang'
# meson's "glib" preset, the keywords the C sources use.
KEYWORDS = ['--keyword=_', '--keyword=N_', '--keyword=C_:1c,2', '--keyword=NC_:1c,2',
            '--keyword=g_dngettext:2,3', '--keyword=ngettext:1,2', '--keyword=Q_:1g']
n = 0
failed = False


def result(ok, what, detail=''):
    global n, failed
    n += 1
    print('%s %d - %s' % ('ok' if ok else 'not ok', n, what))
    if not ok:
        failed = True
        for line in detail.strip().splitlines():
            print('# ' + line)


def run(argv, **kw):
    return subprocess.run(argv, capture_output=True, text=True, **kw)


def languages(po):
    with open(os.path.join(po, 'LINGUAS')) as f:
        return [w for line in f for w in line.split('#')[0].split()]


def template(src, po, tmp):
    """A fresh .pot from POTFILES.in, as `ninja passthrough-pot` makes it."""
    with open(os.path.join(po, 'POTFILES.in')) as f:
        files = [line.strip() for line in f if line.strip() and not line.startswith('#')]
    pot = os.path.join(tmp, 'passthrough.pot')
    p = run(['xgettext', '--package-name=passthrough', '--from-code=UTF-8', '--add-comments',
             *KEYWORDS, '-o', pot, *files], cwd=src, env=dict(os.environ, GETTEXTDATADIRS=po))
    return pot, files, p


def untranslated(po_file, pot, tmp):
    merged = os.path.join(tmp, os.path.basename(po_file))
    p = run(['msgmerge', '--quiet', '--no-fuzzy-matching', '-o', merged, po_file, pot])
    if p.returncode != 0:
        return None, p.stderr
    p = run(['msgattrib', '--untranslated', '--no-obsolete', merged])
    missing = re.findall(r'^msgid "(.*)"$', p.stdout, re.M)
    p2 = run(['msgattrib', '--only-fuzzy', '--no-obsolete', merged])
    fuzzy = re.findall(r'^msgid "(.*)"$', p2.stdout, re.M)
    return [m for m in missing + fuzzy if m], ''


def substitutions(text):
    return sorted(re.findall(r'\$\([^)]*\)', text or ''))


def check_policy(policy, langs):
    p = run(['xmllint', '--noout', '--nonet', policy])
    result(p.returncode == 0, 'xmllint --noout on the built policy', p.stderr)
    root = ET.parse(policy).getroot()
    actions = root.findall('action')
    result(len(actions) >= 7, 'the policy has its actions (%d)' % len(actions))
    for lang in langs:
        problems = []
        for action in actions:
            for tag in ('description', 'message'):
                english = [e for e in action.findall(tag) if XML_LANG not in e.attrib]
                local = [e for e in action.findall(tag) if e.get(XML_LANG) == lang]
                if len(english) != 1 or len(local) != 1 or not (local[0].text or '').strip():
                    problems.append('%s: no <%s xml:lang="%s">' % (action.get('id'), tag, lang))
                elif substitutions(english[0].text) != substitutions(local[0].text):
                    problems.append('%s: <%s xml:lang="%s"> substitutes %s, English %s' % (
                        action.get('id'), tag, lang, substitutions(local[0].text), substitutions(english[0].text)))
        result(not problems, 'every action has its %s description and message' % lang, '\n'.join(problems))
    for tag in ('vendor', 'vendor_url', 'icon_name'):
        result(bool((root.findtext(tag) or '').strip()), 'the policy has <%s>' % tag)


def main():
    if len(sys.argv) != 3:
        sys.exit('usage: test-translations.py SOURCEDIR BUILDDIR')
    src, build = (os.path.abspath(a) for a in sys.argv[1:])
    for tool in ('xgettext', 'msgmerge', 'msgattrib', 'msgfmt', 'xmllint'):
        if not shutil.which(tool):
            print('1..0 # SKIP %s is not installed (gettext, libxml2-utils: tests/install-deps.sh)' % tool)
            return 77
    po = os.path.join(src, 'po')
    langs = languages(po)
    print('1..%d' % (2 + 3 * len(langs) + 2 + len(langs) + 3))
    result(len(langs) >= 1, 'po/LINGUAS names at least one language (%s)' % ' '.join(langs))
    with tempfile.TemporaryDirectory() as tmp:
        pot, files, p = template(src, po, tmp)
        with open(pot) if os.path.exists(pot) else open(os.devnull) as f:
            count = len(re.findall(r'^msgid "', f.read(), re.M)) - 1
        result(p.returncode == 0 and count > 0, 'xgettext over POTFILES.in (%d files): %d strings' % (len(files), count),
               p.stderr)
        for lang in langs:
            po_file = os.path.join(po, lang + '.po')
            result(os.path.exists(po_file), 'po/%s.po exists' % lang)
            p = run(['msgfmt', '-c', '--check', '--statistics', '-o', os.path.join(tmp, lang + '.mo'), po_file])
            result(p.returncode == 0, 'msgfmt -c --check po/%s.po: %s' % (lang, p.stderr.strip()), p.stderr)
            missing, err = untranslated(po_file, pot, tmp)
            result(missing == [], 'po/%s.po translates every string of the domain' % lang,
                   err or '\n'.join('untranslated or fuzzy: %s' % m for m in (missing or [])))
        check_policy(os.path.join(build, 'polkit', 'org.example.passthrough1.policy'), langs)
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())

#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# passthroughctl import-bbvirt over the vm.conf files of tests/fixtures/bbvirt/
# against tests/client-mock.py: files that would run commands if a shell
# sourced them ($(...), backticks, commands, a function, a here-document),
# unbalanced quotes and parentheses, lines over 4 KiB, NUL bytes, non-UTF-8,
# duplicates and odd serials. Each line not understood is reported as
# FILE:LINE with the reason, only what was understood is assigned, the exit
# status says whether anything was skipped, and nothing runs: no file the
# fixtures would create (their @PWNED@ is replaced by a path in $TMP) may
# exist afterwards, and under strace passthroughctl starts no process.
#
# Usage: test-import-bbvirt.sh PATH-TO-passthroughctl
#
# shellcheck disable=SC2015
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/test-client.sh
. "$HERE/test-client.sh" "$@"

FIXTURES=$HERE/fixtures/bbvirt

# import_fixture RC NAME [OPTION...]: import a copy of fixture NAME with
# @PWNED@ replaced, expecting exit RC; see import_output.
import_fixture() {
        local want=$1 name=$2
        shift 2
        LC_ALL=C sed "s|@PWNED@|$TMP/pwned|g" "$FIXTURES/$name" >"$TMP/$name"
        : >"$TMP/calls"
        run "$want" "$@" import-bbvirt "$TMP/$name"
        import_output
}

# assigned NAME PYTHON-LIST: the Assign calls, as (match, domain) pairs.
assigned() {
        check_py "$1: Assign for what was understood" "
got = [tuple(c['args'][:2]) for c in calls if c['method'] == 'Assign']
assert got == $2, got"
}

start_bus
start_mock

import_fixture 1 exec.conf
same "$TMP/err" "exec.conf: every line that would run something, skipped" <<'EOF'
passthroughctl: exec.conf:6: command substitution $(...) is never run; line skipped
passthroughctl: exec.conf:7: command substitution $(...) is never run; line skipped
passthroughctl: exec.conf:8: command substitution `...` is never run; line skipped
passthroughctl: exec.conf:9: command substitution $(...) is never run; line skipped
passthroughctl: exec.conf:10: expansion with '$' is not supported (nothing is evaluated); line skipped
passthroughctl: exec.conf:11: command substitution $(...) is never run; line skipped
passthroughctl: exec.conf:12: command substitution `...` is never run; line skipped
passthroughctl: exec.conf:13: not an assignment: a command, which is never run; line skipped
passthroughctl: exec.conf:14: ';': only assignments are read, nothing is run; line skipped
passthroughctl: exec.conf:15: '&': only assignments are read, nothing is run; line skipped
passthroughctl: exec.conf:16: not an assignment: a command, which is never run; line skipped
passthroughctl: exec.conf:17: '|': only assignments are read, nothing is run; line skipped
passthroughctl: exec.conf:18: expansion with '$' is not supported (nothing is evaluated); line skipped
passthroughctl: exec.conf:21: command substitution $(...) is never run; lines 19-23 skipped
passthroughctl: exec.conf:24: not an assignment: a command, which is never run; line skipped
passthroughctl: exec.conf:25: not an assignment: a command, which is never run; line skipped
passthroughctl: exec.conf:26: '>': only assignments are read, nothing is run; line skipped
passthroughctl: exec.conf:27: unquoted '*' would be expanded by the shell (quote it); line skipped
passthroughctl: exec.conf:28: unquoted '~' would be expanded by the shell (quote it); line skipped
passthroughctl: exec.conf:29: unquoted '{' would be expanded by the shell (quote it); line skipped
passthroughctl: exec.conf:30: expansion with '$' is not supported (nothing is evaluated); line skipped
passthroughctl: exec.conf:31: '+=' is not supported: give the whole value with '='; line skipped
passthroughctl: exec.conf:32: command substitution $(...) is never run; line skipped
EOF
same "$TMP/out" "exec.conf: the plain settings imported" <<'EOF'
Assigned usb:serial=SAFE01 to ok
Assigned usb:serial=SAFE10 to last
EOF
assigned exec.conf "[('usb:serial=SAFE01', 'ok'), ('usb:serial=SAFE10', 'last')]"

import_fixture 1 function.conf
same "$TMP/err" "function.conf: a function definition ends the reading" <<'EOF'
passthroughctl: function.conf:2: compound command or function definition (what follows depends on running it); nothing from line 2 on is read
EOF
assigned function.conf "[('usb:serial=FN0001', 'before')]"

import_fixture 1 heredoc.conf
same "$TMP/err" "heredoc.conf: a here-document ends the reading" <<'EOF'
passthroughctl: heredoc.conf:2: not an assignment: a command, which is never run; a here-document follows: nothing from line 2 on is read
EOF
assigned heredoc.conf "[('usb:serial=HD0001', 'before')]"

import_fixture 1 compound.conf
same "$TMP/err" "compound.conf: if ... fi ends the reading" <<'EOF'
passthroughctl: compound.conf:4: compound command or function definition (what follows depends on running it); nothing from line 4 on is read
EOF
assigned compound.conf "[('usb:serial=CP0001', 'before')]"

import_fixture 1 quotes.conf
same "$TMP/err" "quotes.conf: a quote over lines, a quote never closed" <<'EOF'
passthroughctl: quotes.conf:5: DOMAIN_NAME_two="two\nDOMAIN_RNG_swallowed=( QT0004 )\n": a control character; skipped
passthroughctl: quotes.conf:8: DOMAIN_RNG_two not imported: the domain's name is uncertain (DOMAIN_NAME_two, line 5)
passthroughctl: quotes.conf:9: quote " is never closed; nothing from line 9 on is read
EOF
same "$TMP/out" "quotes.conf: quoted names and serials" <<'EOF'
Assigned usb:serial=QT0001 to it's "one"
Assigned usb:serial=QT0002 to it's "one"
Assigned usb:serial=QT0003 to it's "one"
EOF

import_fixture 1 parens.conf
same "$TMP/err" "parens.conf: stray parentheses, an array never closed" <<'EOF'
passthroughctl: parens.conf:3: ')': only assignments are read, nothing is run; line skipped
passthroughctl: parens.conf:4: unquoted '(' is shell syntax, not part of a value; line skipped
passthroughctl: parens.conf:5: unquoted ')' is shell syntax, not part of a value; line skipped
passthroughctl: parens.conf:6: '(': only assignments are read, nothing is run; line skipped
passthroughctl: parens.conf:8: array ( is never closed; nothing from line 8 on is read
EOF
assigned parens.conf "[('usb:serial=PA0006', 'e')]"

import_fixture 1 long-lines.conf
same "$TMP/err" "long-lines.conf: a long command, a name too long" <<'EOF'
passthroughctl: long-lines.conf:5: not an assignment: a command, which is never run; line skipped
passthroughctl: long-lines.conf:8: DOMAIN_NAME_long="nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn...": longer than 255 bytes, more than passthroughd takes; skipped
passthroughctl: long-lines.conf:9: DOMAIN_RNG_long not imported: the domain's name is uncertain (DOMAIN_NAME_long, line 8)
EOF
check_py "long-lines.conf: 600 serials of a 4 KiB line, then the next lines'" "
got = [tuple(c['args'][:2]) for c in calls if c['method'] == 'Assign']
assert len(got) == 601, len(got)
assert got[0] == ('usb:serial=LL0000', 'many') and got[599] == ('usb:serial=LL0599', 'many'), got[599]
assert got[600] == ('usb:serial=LL9999', 'after'), got[600]"
grep -q '^uri=qemu+ssh://vmhost.example/system?p\{4200\}$' "$TMP/out" \
        && ok "long-lines.conf: a 4 KiB URI for passthrough.conf" || not_ok "long-lines.conf: a 4 KiB URI for passthrough.conf"

import_fixture 1 nul.conf
same "$TMP/err" "nul.conf: the statements with NUL bytes" <<'EOF'
passthroughctl: nul.conf:3: NUL byte; line skipped
passthroughctl: nul.conf:4: NUL byte; line skipped
passthroughctl: nul.conf:5: NUL byte; line skipped
EOF
assigned nul.conf "[('usb:serial=NU0004', 'ok')]"

import_fixture 1 non-utf8.conf
same "$TMP/err" "non-utf8.conf: escaped in the messages" <<'EOF'
passthroughctl: non-utf8.conf:2: DOMAIN_NAME_cafe="caf\351": not valid UTF-8; skipped
passthroughctl: non-utf8.conf:3: DOMAIN_RNG_cafe not imported: the domain's name is uncertain (DOMAIN_NAME_cafe, line 2)
passthroughctl: non-utf8.conf:4: DOMAIN_URI_cafe="qemu:///syst\350me": not valid UTF-8; skipped
passthroughctl: non-utf8.conf:7: not an assignment: a command, which is never run; line skipped
EOF
assigned non-utf8.conf "[('usb:serial=NV0003', 'caf\\u00e9')]"

import_fixture 1 duplicates.conf
same "$TMP/err" "duplicates.conf: notes, and what is skipped" <<'EOF'
passthroughctl: duplicates.conf:5: note: DOMAIN_RNG_sid is set again (before on line 2); the later value counts, as in bash
passthroughctl: duplicates.conf:5: note: serial "DU0003" is listed twice in DOMAIN_RNG_sid
passthroughctl: duplicates.conf:6: note: DOMAIN_NAME_sid is set again (before on line 3); the later value counts, as in bash
passthroughctl: duplicates.conf:7: note: DOMAIN_URI_sid is set again (before on line 4); the later value counts, as in bash
passthroughctl: duplicates.conf:10: serial "DU0004" is listed for domains a (line 9) and b; imported for neither
passthroughctl: duplicates.conf:15: note: serial "DU0007" is listed for domain shared again
passthroughctl: duplicates.conf:17: note: OTHER_SETTING is not a bbvirt setting; ignored
passthroughctl: duplicates.conf:18: DOMAIN_RNG_ names no domain; skipped
passthroughctl: duplicates.conf:20: DOMAIN_NAME_f must be one value, not an array; skipped
EOF
assigned duplicates.conf "[('usb:serial=DU0003', 'sid-vm'), ('usb:serial=DU0005', 'a'), ('usb:serial=DU0006', 'b'),
 ('usb:serial=DU0007', 'shared'), ('usb:serial=DU0008', 'shared')]"

import_fixture 1 serials.conf --dry-run
same "$TMP/out" "serials.conf --dry-run: quotes, spaces and < reach the service as they are" <<'EOF'
Would assign usb:serial=SE 01 to ok
Would assign usb:serial=SE"02 to ok
Would assign usb:serial=SE'03 to ok
Would assign usb:serial=<SE04> to ok
Would assign usb:serial=SE&05 to ok
Would assign usb:serial=SE 06 to ok
Would assign usb:serial=SE#07 to ok
Would assign usb:serial=SE#08 to ok
Would assign usb:serial=SE,14 to ok
Would assign usb:serial=01234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567 to max
Would assign usb:serial=SE 13 to scalar
EOF
check_py "serials.conf --dry-run: no Assign" 'assert [c["method"] for c in calls] == ["ListAssignments"], calls'
import_fixture 1 serials.conf
assigned serials.conf "[('usb:serial=' + s, d) for s, d in [('SE 01', 'ok'), ('SE\"02', 'ok'), (\"SE'03\", 'ok'),
 ('<SE04>', 'ok'), ('SE&05', 'ok'), ('SE 06', 'ok'), ('SE#07', 'ok'), ('SE#08', 'ok'), ('SE,14', 'ok'),
 ('0123456789' * 12 + '01234567', 'max'),
 ('SE 13', 'scalar')]]"
grep -c '^passthroughctl: serials.conf:[45]: serial ' "$TMP/err" | grep -qx 7 \
        && ok "serials.conf: the 7 unusable serials reported" || not_ok "serials.conf: the 7 unusable serials reported" "$(cat "$TMP/err")"

# Nothing ran: no file the fixtures would create, no process started (stdin
# is no terminal, so no polkit agent either).
pwned=$(find "$TMP" -name 'pwned*')
[ -z "$pwned" ] && ok "nothing the fixtures would run was run" || not_ok "nothing the fixtures would run was run" "$pwned"
LC_ALL=C sed "s|@PWNED@|$TMP/pwned|g" "$FIXTURES/exec.conf" >"$TMP/exec.conf"
if strace -f -qq -o "$TMP/strace" -e trace=execve,fork,vfork,clone,clone3 \
        "$CTL" --address "$ADDR" import-bbvirt "$TMP/exec.conf" </dev/null >/dev/null 2>&1 || [ -s "$TMP/strace" ]; then
        check_py "under strace: one execve (passthroughctl's own), no fork or clone" "
trace = open('$TMP/strace').read().splitlines()
assert len(trace) == 1 and 'execve(' in trace[0], trace"
else
        echo "ok $((N = N + 1)) - under strace: no process started # SKIP strace cannot run here"
fi

# Files that are no vm.conf.
mkdir "$TMP/dir"
run 1 import-bbvirt "$TMP/dir"
import_output
same "$TMP/err" "a directory" <<'EOF'
passthroughctl: Failed to read dir: Is a directory
EOF
run 1 import-bbvirt /dev/zero
same "$TMP/err" "an endless file" <<'EOF'
passthroughctl: Failed to read /dev/zero: larger than 1 MiB
EOF
: >"$TMP/empty.conf"
run 0 import-bbvirt "$TMP/empty.conf"
import_output
same "$TMP/out" "an empty file" <<'EOF'
No serial numbers to assign in empty.conf
EOF
if [ ! -e /etc/bit-babbler/vm.conf ]; then
        run 1 import-bbvirt
        same "$TMP/err" "the default file" <<'EOF'
passthroughctl: Failed to read /etc/bit-babbler/vm.conf: No such file or directory
EOF
fi

finish

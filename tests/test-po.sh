#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The translations of the gettext domain "passthrough" (po/).
#
# Usage: test-po.sh check SRCDIR
#          every file with marked strings is in po/POTFILES.in, and po/LINGUAS
#          names every po/*.po and no other.  (That each language compiles and
#          translates every message of a fresh template, the policy's included,
#          is tests/test-translations.py's.)
#        test-po.sh help SRCDIR BUILDDIR
#          passthroughctl built with prefix BUILDDIR/l10n-build/prefix (its
#          LOCALEDIR) and the catalogs installed there (meson install --tags
#          i18n): with LANGUAGE=de its help and its errors are German, without
#          they are English, and no line of either help is wider than 80.
# Output: TAP.
# The checks are functions called through check().
# shellcheck disable=SC2317
set -eu

mode=${1:-}
src=${2:-}
if [ -z "$src" ] || [ ! -f "$src/po/POTFILES.in" ] || { [ "$mode" != check ] && [ "$mode" != help ]; }; then
        echo "usage: $0 check SRCDIR | $0 help SRCDIR BUILDDIR" >&2
        exit 2
fi
po="$src/po"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/passthrough-po.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=1; echo "not ok $n - $1"; }
diag() { sed 's/^/# /'; }
# check NAME COMMAND...: ok when COMMAND succeeds, else its output as diagnostics.
check() {
        name=$1
        shift
        if "$@" >"$tmp/out" 2>&1; then
                ok "$name"
        else
                diag <"$tmp/out"
                not_ok "$name"
        fi
}

languages() {
        grep -v -e '^#' -e '^[[:space:]]*$' "$po/LINGUAS" | tr -s '[:blank:]' '\n' | grep . || true
}

# Source files holding _("..."), N_("..."), C_("...", ...) or NC_(...) that
# po/POTFILES.in does not list, and listed files that do not exist.
potfiles_gaps() {
        grep -v -e '^#' -e '^[[:space:]]*$' "$po/POTFILES.in" | LC_ALL=C sort >"$tmp/listed"
        (cd "$src" && grep -rlE '(^|[^A-Za-z0-9_])(_|N_|C_|NC_)\([[:space:]]*("|$)' --include='*.c' --include='*.h' client service) |
                LC_ALL=C sort >"$tmp/marked"
        missing=$(LC_ALL=C comm -23 "$tmp/marked" "$tmp/listed")
        absent=$(while read -r f; do [ -e "$src/$f" ] || echo "$f"; done <"$tmp/listed")
        [ -z "$missing" ] || echo "marked strings, not in po/POTFILES.in: $missing"
        [ -z "$absent" ] || echo "in po/POTFILES.in, no such file: $absent"
        [ -z "$missing$absent" ]
}

linguas_match() {
        languages | LC_ALL=C sort >"$tmp/linguas"
        (cd "$po" && for f in *.po; do [ -e "$f" ] && echo "${f%.po}"; done) | LC_ALL=C sort >"$tmp/pofiles"
        diff -u "$tmp/linguas" "$tmp/pofiles"
}

run_check() {
        check "every file with marked strings is in po/POTFILES.in" potfiles_gaps
        check "po/LINGUAS lists exactly the po/*.po files" linguas_match
        echo "1..$n"
}

# BUILDDIR/l10n-build: the source tree configured with a prefix of its own, so
# that LOCALEDIR (compiled in) is where `meson install` puts the catalogs.
prepare_build() {
        d=$1
        if [ -d "$d/meson-private" ]; then
                # LINGUAS is read at configure time only.
                meson setup --reconfigure "$d" "$src"
        else
                meson setup "$d" "$src" --prefix="$d/prefix" -Dapplet=disabled -Dvm_tests=disabled
        fi &&
        ninja -C "$d" client/passthroughctl/passthroughctl passthrough-gmo &&
        meson install -C "$d" --no-rebuild --tags i18n
}

catalogs_installed() {
        for lang in $(languages); do
                ls -l "$1/prefix/share/locale/$lang/LC_MESSAGES/passthrough.mo" || return 1
        done
}

# ctl LANGUAGE ARGS...: passthroughctl's stdout and stderr (and exit code) in
# C.UTF-8 with LANGUAGE set as given ("" for none).
ctl() {
        language=$1
        shift
        rc=0
        env -u LC_ALL -u LC_MESSAGES -u LANGUAGE LANG=C.UTF-8 ${language:+LANGUAGE=$language} \
                "$ctl_bin" "$@" >"$tmp/stdout" 2>"$tmp/stderr" || rc=$?
        cat "$tmp/stdout" "$tmp/stderr"
        echo "exit code $rc"
}

# has FILE TEXT...: every TEXT is a line part of FILE; FILE shown if not.
has() {
        file=$1
        shift
        for text; do
                grep -qF -- "$text" "$file" || { echo "no '$text' in:"; cat "$file"; return 1; }
        done
}

hasnt() {
        ! grep -F -- "$2" "$1"
}

narrow() {
        width=$(LC_ALL=C.UTF-8 wc -L <"$1")
        echo "widest line: $width columns"
        [ "$width" -le 80 ]
}

run_help() {
        builddir=${3:-}
        if [ -z "$builddir" ] || [ ! -d "$builddir/meson-info" ]; then
                echo "usage: $0 help SRCDIR BUILDDIR (a configured meson build directory)" >&2
                exit 2
        fi
        d="$builddir/l10n-build"
        ctl_bin="$d/client/passthroughctl/passthroughctl"
        echo "1..8"
        if prepare_build "$d" >"$tmp/build.log" 2>&1; then
                ok "passthroughctl and the catalogs built and installed under $d/prefix"
        else
                tail -n 30 "$tmp/build.log" | diag
                not_ok "passthroughctl and the catalogs built and installed under $d/prefix"
                exit 1
        fi
        check "a catalog installed for each language of po/LINGUAS" catalogs_installed "$d"
        ctl de --help >"$tmp/help-de"
        ctl "" --help >"$tmp/help-en"
        check "LANGUAGE=de: the help is German" has "$tmp/help-de" "Befehle:" "Optionen:" \
                "Die Datenträger des Hosts auflisten" "exit code 0"
        check "LANGUAGE unset: the help is English" has "$tmp/help-en" "Commands:" "Options:" \
                "List the host's disks" "exit code 0"
        check "LANGUAGE unset: no German in it" hasnt "$tmp/help-en" "Befehle:"
        check "LANGUAGE=de: no line of the help wider than 80 columns" narrow "$tmp/help-de"
        check "LANGUAGE unset: no line of the help wider than 80 columns" narrow "$tmp/help-en"
        ctl de frobnicate >"$tmp/error-de"
        # shellcheck disable=SC1111
        check "LANGUAGE=de: a usage error is German, its exit code unchanged" has "$tmp/error-de" \
                "unbekannter Befehl „frobnicate“" "„passthroughctl --help“ liefert weitere Informationen." \
                "exit code 2"
}

if [ "$mode" = check ]; then
        run_check
else
        run_help "$@"
fi
exit "$failed"

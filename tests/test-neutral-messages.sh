#!/bin/sh
# Error messages of the service are for any client (passthroughctl, an applet,
# busctl): none names a client program or its verbs; clients add their own
# hints from the error name. Checks every source file of the service.
# Usage: test-neutral-messages.sh SOURCEDIR
set -eu
src=${1:?usage: test-neutral-messages.sh SOURCEDIR}/service
[ -d "$src" ] || { echo "no $src" >&2; exit 1; }
files=$(find "$src" -name '*.[ch]' | wc -l)
[ "$files" -gt 20 ] || { echo "only $files sources under $src" >&2; exit 1; }
if grep -rnE 'passthroughctl|"[^"]*\b(usb|disk)-(list|attach|attached|detach)\b' "$src" --include='*.[ch]'; then
    echo "FAIL: the service's sources above name a client or its verbs" >&2
    exit 1
fi
echo "ok: $files service sources, no message names a client"

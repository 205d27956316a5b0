#!/usr/bin/env bash
# `cmake --install` into a temporary DESTDIR installs the headers, the libraries, pqcoap.pc
# and the CLI; a small program built with `pkg-config --cflags --libs pqcoap` links and runs.
#   install.sh PQCOAP_PROGRAM BUILD_DIR CC [EXTRA_CFLAGS...]
# EXTRA_CFLAGS are the sanitizer flags the library was built with (a program linking an
# instrumented library needs them too).
. "$(dirname "$0")/lib.sh"
build=$2 cc=$3
shift 3
dest="$TMP/dest"
DESTDIR="$dest" cmake --install "$build" >"$TMP/install.log" 2>&1 || {
  cat "$TMP/install.log" >&2
  exit 1
}
prefix=$(sed -n 's/^prefix=//p' "$build/pqcoap.pc")
pcdir=$(dirname "$(find "$dest" -name pqcoap.pc | head -n1)")
[ -f "$pcdir/pqcoap.pc" ] || fail "pqcoap.pc not installed"
[ -f "$dest$prefix/include/pqcoap/pqcoap.h" ] || fail "headers not installed"
[ -x "$dest$prefix/bin/pqcoap" ] || fail "the pqcoap CLI is not installed"
libdir=$(dirname "$(find "$dest" -name 'libpqcoap.so' | head -n1)")
[ -f "$libdir/libpqcoap.a" ] || fail "static library not installed"

cat >"$TMP/tiny.c" <<'C'
/* Uses the installed library: version, a key pair, its public key file round trip. */
#include <stdio.h>
#include <string.h>
#include <pqcoap/pqcoap.h>

int main(void)
{
    pqcoap_identity id;
    pqcoap_pubkey back;
    unsigned char text[PQCOAP_KEYFILE_MAX];
    size_t len = 0;
    if (pqcoap_identity_generate("falcon-512", NULL, &id) != PQCOAP_OK ||
        pqcoap_pubkey_encode(&id.pub, text, sizeof text, &len) != PQCOAP_OK ||
        pqcoap_pubkey_parse(text, len, &back) != PQCOAP_OK ||
        memcmp(back.kid, id.pub.kid, sizeof back.kid) != 0)
        return 1;
    pqcoap_identity_wipe(&id);
    printf("tiny: pqcoap %s\n", pqcoap_version());
    return 0;
}
C
export PKG_CONFIG_PATH="$pcdir" PKG_CONFIG_SYSROOT_DIR="$dest"
flags=$(pkg-config --cflags --libs pqcoap) || fail "pkg-config does not find pqcoap"
# shellcheck disable=SC2086
"$cc" "$@" -o "$TMP/tiny" "$TMP/tiny.c" $flags || fail "tiny program does not build: $cc $* $flags"
out=$(LD_LIBRARY_PATH="$libdir" "$TMP/tiny") || fail "tiny program failed"
grep -q '^tiny: pqcoap [0-9]' <<<"$out" || fail "tiny program printed '$out'"
libs=$(LD_LIBRARY_PATH="$libdir" ldd "$TMP/tiny")
grep -qF "$libdir/libpqcoap.so" <<<"$libs" || fail "tiny program did not use the installed library"
LD_LIBRARY_PATH="$libdir" "$dest$prefix/bin/pqcoap" --version >/dev/null || fail "installed CLI does not run"

finish

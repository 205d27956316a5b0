#!/usr/bin/env bash
# `make demo` (scripts/demo.sh) on this build: it must succeed and print, in order, the
# verified payload and the -v line of each request it makes: the Mode A v2 GET of
# sensors/temp, the Mode B GET and the echoed POST, the Mode A v1 GET.
#   demo_output.sh PQCOAP_PROGRAM BUILD_DIR SOURCE_DIR
. "$(dirname "$0")/lib.sh"
build=$2 src=$3

RC=0
"$src/scripts/demo.sh" "$build" >"$TMP/demo.out" 2>"$TMP/demo.err" || RC=$?
[ "$RC" -eq 0 ] || fail "demo.sh exited $RC: $(cat "$TMP/demo.err")"
# Each "verified payload" line with the -v line after it, as "payload | -v line".
grep -A1 '^  verified payload: ' "$TMP/demo.out" | grep -v '^--$' | paste -d'|' - - \
  | sed 's/^  verified payload: //; s/|  /|/' >"$TMP/pairs"
temp='[0-9]+\.[0-9] C'
expected=(
  "^$temp\|mode sign \| 2\.05 Content \| no handshake \|"
  "^$temp\|mode session \| 2\.05 Content \| handshake [0-9.]+ ms \(INIT [0-9]+ B, RESP [0-9]+ B\) \|"
  "^hello over a post-quantum session\|mode session \| 2\.05 Content \| handshake [0-9.]+ ms"
  "^$temp\|mode sign-v1 \| 2\.05 Content \| no handshake \|"
)
[ "$(wc -l <"$TMP/pairs")" -eq "${#expected[@]}" ] \
  || fail "demo printed $(wc -l <"$TMP/pairs") verified payloads, expected ${#expected[@]}: $(cat "$TMP/demo.out")"
for i in "${!expected[@]}"; do
  line=$(sed -n "$((i + 1))p" "$TMP/pairs")
  grep -Eq "${expected[$i]}" <<<"$line" || fail "demo request $((i + 1)): '$line'"
done
finish

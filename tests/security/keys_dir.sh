#!/usr/bin/env bash
# `pqcoap server --dir DIR` serves only regular files under DIR, also when the tree changes
# after the start: a served file, or a folder on its path, replaced by a symbolic link to
# something outside DIR is refused (4.03 or 4.04) and the outside content never reaches the
# client; so are a file replaced by a folder or by a FIFO (which must not block the server).
#   keys_dir.sh PQCOAP_PROGRAM
. "$(dirname "$0")/../cli/lib.sh"
cd "$TMP"

mkdir -p www/sub elsewhere
printf 'public a' >www/a.txt
printf 'public b' >www/sub/b.txt
printf 'public c' >www/c.txt
printf 'public d' >www/d.txt
printf 'SECRET outside' >outside.txt
printf 'SECRET elsewhere' >elsewhere/b.txt

start_server --mode plain --dir www
base="coap://127.0.0.1:$PORT"
expect_ok get "$base/a.txt"
[ "$(cat out)" = 'public a' ] || fail "a.txt: '$(cat out)'"
expect_ok get "$base/sub/b.txt"
[ "$(cat out)" = 'public b' ] || fail "sub/b.txt: '$(cat out)'"

# refused: exit 1 with 4.03 or 4.04, and nothing of the outside content
refused() {
  pq get "$base/$1" -B 5
  if [ "$RC" -ne 1 ] || ! grep -Eq '^pqcoap: 4\.0[34] ' "$TMP/err"; then
    fail "GET $1 after $2: exit $RC, $(cat "$TMP/err")"
  fi
  if grep -q SECRET "$TMP/out" "$TMP/err"; then
    fail "GET $1 after $2 served the outside content"
  fi
}

rm www/a.txt
ln -s "$TMP/outside.txt" www/a.txt
refused a.txt "a.txt became a link to a file outside"
ln -s ../outside.txt www/c.tmp && mv www/c.tmp www/c.txt
refused c.txt "c.txt became a relative link"
mv www/sub www/sub.old
ln -s "$TMP/elsewhere" www/sub
refused sub/b.txt "sub became a link to a folder outside"
rm www/d.txt
mkfifo www/d.txt
refused d.txt "d.txt became a FIFO"
rm www/d.txt
mkdir www/d.txt
refused d.txt "d.txt became a folder"
# the server still serves what is right
printf 'public a again' >www/a.new && mv www/a.new www/a.txt
expect_ok get "$base/a.txt"
[ "$(cat out)" = 'public a again' ] || fail "a.txt replaced by a regular file: '$(cat out)'"

stop_server "$SERVER_PID"
finish

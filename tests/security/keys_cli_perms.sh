#!/usr/bin/env bash
# A secret key file that its group or others may access is refused by every command that
# reads it, before anything else happens: exit 2, one line naming the file and the fix.
#   keys_cli_perms.sh PQCOAP_PROGRAM
. "$(dirname "$0")/../cli/lib.sh"
cd "$TMP"

expect_ok keygen -o gw
expect_ok keygen --v1 -o dev
start_server --mode plain
for mode in 640 604 660 644; do
  chmod "$mode" gw.key
  expect_exit 2 "chmod 600 'gw.key'" pubkey gw.key
  expect_exit 2 "chmod 600 'gw.key'" get "coap://127.0.0.1:$PORT/sensors/temp" --mode sign \
    --key gw.key --peer gw.pub
done
expect_exit 2 "chmod 600 'gw.key'" server -A 127.0.0.1 -p 0 --mode session --key gw.key
chmod 640 dev.key
expect_exit 2 "chmod 600 'dev.key'" sign --key dev.key -f /dev/null
[ ! -e gw.db ] || fail "a server with an open secret key file created its store"
chmod 600 gw.key
expect_ok pubkey gw.key
cmp -s out gw.pub || fail "pubkey after chmod 600"
chmod 644 gw.pub
expect_ok trust --db t.db add gw gw.pub

finish

#!/usr/bin/env bash
# pqcoap trust: add, list, remove in a store file; refusals of a key trusted twice, an
# unknown id, a bad id, a key file of the wrong kind and a file that is not a store.
#   trust.sh PQCOAP_PROGRAM
. "$(dirname "$0")/lib.sh"
cd "$TMP"

expect_ok keygen -o dev1
expect_ok keygen -o dev2
kid1=$(sed -n 's/^kid: //p' dev1.pub)
kid2=$(sed -n 's/^kid: //p' dev2.pub)

expect_ok trust --db gw.db list
[ ! -s out ] || fail "new store lists peers: $(cat out)"
expect_ok trust --db gw.db add dev1 dev1.pub
expect_ok trust --db gw.db add dev2 dev2.pub
expect_ok trust --db gw.db list
[ "$(wc -l <out)" -eq 2 ] || fail "list: $(cat out)"
grep -Eq "^dev1 +falcon-512 +general +$kid1 +[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$" out \
  || fail "list line of dev1: $(cat out)"
grep -Eq "^dev2 +falcon-512 +general +$kid2 " out || fail "list line of dev2: $(cat out)"

# The same key under a second id is refused; re-adding an id replaces its key.
expect_exit 2 "already trusted as 'dev1'" trust --db gw.db add other dev1.pub
expect_ok keygen -o dev1b
expect_ok trust --db gw.db add dev1 dev1b.pub
expect_ok trust --db gw.db list
grep -q "^dev1 .*$(sed -n 's/^kid: //p' dev1b.pub)" out || fail "re-add did not replace dev1's key"

expect_ok trust --db gw.db remove dev2
expect_ok trust --db gw.db list
! grep -q '^dev2 ' out || fail "dev2 still listed after remove"
expect_exit 2 "no trusted peer 'dev2'" trust --db gw.db remove dev2

# Wrong inputs.
expect_exit 2 "not a valid public key" trust --db gw.db add dev3 dev1.key
expect_exit 2 "does not exist" trust --db gw.db add dev3 missing.pub
expect_exit 2 "1 to 64 bytes" trust --db gw.db add "$(printf 'x%.0s' $(seq 1 65))" dev2.pub
expect_exit 2 "corrupt" trust --db dev1.pub list
expect_exit 2 "--db FILE is required" trust list
expect_exit 2 "expected add, remove or list" trust --db gw.db frob
expect_exit 2 "wrong number of arguments" trust --db gw.db add dev3
expect_exit 2 "unknown option" trust --db gw.db list --bogus
expect_ok trust --help

finish

#!/usr/bin/env bash
# pqcoap sign / verify (Mode A v1 signed payloads): the layout on disk, round trip, and
# exit 3 for a wrong key, a tampered message or a malformed payload.   sign.sh PQCOAP_PROGRAM
. "$(dirname "$0")/lib.sh"
cd "$TMP"

expect_ok keygen --v1 -o alice
expect_ok keygen --v1 -o bob
printf 'temperature=21.5' >msg

expect_ok sign --key alice.key -f msg -o signed
# v1 layout: message || signature || u16 len(signature), big-endian.
size=$(stat -c %s signed)
len=$(tail -c 2 signed | od -An -tu1 | awk '{print $1 * 256 + $2}')
[ $((16 + len + 2)) -eq "$size" ] || fail "signed payload is $size bytes, signature length $len"
[ "$len" -ge 41 ] && [ "$len" -le 752 ] || fail "signature length $len out of range"
head -c 16 signed | cmp -s - msg || fail "signed payload does not start with the message"

expect_ok verify --peer alice.pub -f signed -o verified
cmp -s verified msg || fail "verify did not output the message"
# Standard input and output.
"$PQ" sign --key alice.key <msg | "$PQ" verify --peer alice.pub >piped || fail "piped sign | verify"
cmp -s piped msg || fail "piped round trip"

# Wrong key, tampered message, tampered signature, malformed payloads.
expect_exit 3 "does not verify" verify --peer bob.pub -f signed
{ printf 'temperature=99.5'; tail -c +17 signed; } >tampered
expect_exit 3 "does not verify" verify --peer alice.pub -f tampered
python3 -c "import sys; b=bytearray(open('signed','rb').read()); b[20]^=1; open('sigflip','wb').write(b)"
expect_exit 3 "does not verify" verify --peer alice.pub -f sigflip
printf 'x' >short
expect_exit 3 "not a v1 signed payload" verify --peer alice.pub -f short
{ cat msg; printf '\377\377'; } >badlen
expect_exit 3 "not a v1 signed payload" verify --peer alice.pub -f badlen

# Usage and file errors.
expect_exit 2 "--key FILE is required" sign -f msg
expect_exit 2 "--peer PUBFILE is required" verify -f signed
expect_exit 2 "not a valid public key" verify --peer alice.key -f signed
expect_exit 2 "not a valid secret key" sign --key alice.pub -f msg
expect_exit 2 "does not exist" sign --key nobody.key -f msg
expect_exit 2 "cannot open" sign --key alice.key -f no-such-input
expect_ok keygen -o big --alg falcon-1024
expect_exit 2 "keygen --v1" sign --key big.key -f msg
expect_ok keygen -o big1024v1 --v1 --alg falcon-1024
expect_exit 2 "falcon-512" sign --key big1024v1.key -f msg
expect_exit 2 "unknown option" verify --peer alice.pub --bogus
expect_ok sign --help
expect_ok verify --help

finish

// Cross-checks pqcoap's Falcon-512 (and Falcon-512/1024 signing from the expanded key),
// ML-DSA-44/65/87 and ML-KEM-512/768/1024 against an independent implementation,
// @noble/post-quantum, in both directions, and for ML-DSA and ML-KEM byte for byte from the
// same randomness. Usage: node crosscheck.mjs PATH_TO_XCHECK
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { falcon512, falcon1024 } from '@noble/post-quantum/falcon.js';
import { ml_dsa44, ml_dsa65, ml_dsa87 } from '@noble/post-quantum/ml-dsa.js';
import { ml_kem512, ml_kem768, ml_kem1024 } from '@noble/post-quantum/ml-kem.js';

const helper = process.argv[2];
const hex = (u8) => Buffer.from(u8).toString('hex');
const bytes = (h) => new Uint8Array(Buffer.from(h, 'hex'));
let failed = 0, passed = 0;

function check(cond, what) {
  if (cond) passed++;
  else { failed++; console.error(`FAILED: ${what}`); }
}

// Runs the C helper; returns { status, lines }.
function run(...args) {
  const r = spawnSync(helper, args, { encoding: 'utf8' });
  if (r.status === 2 || r.status === null) throw new Error(`xcheck ${args[0]} ${args[1]}: ${r.stderr}`);
  return { status: r.status, lines: r.stdout.trim().split('\n') };
}

// n fixed pseudo-random bytes named by `label` (the same on every run).
function fixedBytes(label, n) {
  const out = new Uint8Array(n);
  for (let i = 0; i * 32 < n; i++)
    out.set(createHash('sha256').update(`${label} ${i}`).digest().subarray(0, Math.min(32, n - i * 32)), i * 32);
  return out;
}

const msg = new TextEncoder().encode('pqcoap cross-check: a CoAP payload');
const other = new TextEncoder().encode('pqcoap cross-check: a CoAP payloae');

// Signatures, both ways: noble verifies ours, we verify noble's.
function crossSig(name, noble) {
  {
    const [pk, sk] = run('sig-keygen', name).lines;
    const [sig] = run('sig-sign', name, sk, hex(msg)).lines;
    check(bytes(pk).length === noble.lengths.publicKey, `our ${name} public key has noble's length`);
    check(noble.verify(bytes(sig), msg, bytes(pk)) === true, `noble verifies our ${name} signature`);
    check(noble.verify(bytes(sig), other, bytes(pk)) === false, `noble rejects our ${name} signature on another message`);
  }
  {
    const { publicKey, secretKey } = noble.keygen();
    const sig = noble.sign(msg, secretKey);
    check(run('sig-verify', name, hex(publicKey), hex(msg), hex(sig)).status === 0, `we verify noble's ${name} signature`);
    check(run('sig-verify', name, hex(publicKey), hex(other), hex(sig)).status === 1, `we reject noble's ${name} signature on another message`);
    const bad = sig.slice();
    bad[bad.length - 1] ^= 1;
    check(run('sig-verify', name, hex(publicKey), hex(msg), hex(bad)).status === 1, `we reject noble's ${name} signature with a flipped bit`);
  }
}

// Falcon signatures from the expanded secret key: noble verifies them, and from the same
// randomness (40-byte nonce, 48-byte sampler seed) they are the signatures from the key.
function crossExpanded(name, noble) {
  const [pk, sk] = run('sig-keygen', name).lines;
  const [sig] = run('sig-sign-expanded', name, sk, hex(msg)).lines;
  check(noble.verify(bytes(sig), msg, bytes(pk)) === true, `noble verifies our ${name} signature from the expanded key`);
  check(noble.verify(bytes(sig), other, bytes(pk)) === false, `noble rejects our ${name} expanded-key signature on another message`);
  const rnd = hex(fixedBytes(`${name} sign`, 88));
  const [fromKey] = run('sig-sign', name, sk, hex(msg), rnd).lines;
  const [fromExpanded] = run('sig-sign-expanded', name, sk, hex(msg), rnd).lines;
  check(fromExpanded === fromKey, `${name}: the expanded-key signature with the same randomness is the key's`);
}

// ML-DSA from the same randomness: the 32-byte seed xi gives the same key pair, the 32-byte
// rnd the same hedged signature (pure ML-DSA, empty context).
function sameMlDsa(name, noble) {
  const seed = fixedBytes(`${name} seed`, 32), rnd = fixedBytes(`${name} rnd`, 32);
  const keys = noble.keygen(seed);
  const [pk, sk] = run('sig-keygen', name, hex(seed)).lines;
  check(pk === hex(keys.publicKey), `${name}: our public key from a seed is noble's`);
  check(sk === hex(keys.secretKey), `${name}: our secret key from a seed is noble's`);
  const [sig] = run('sig-sign', name, sk, hex(msg), hex(rnd)).lines;
  check(sig === hex(noble.sign(msg, keys.secretKey, { extraEntropy: rnd })), `${name}: our signature with rnd is noble's`);
}

// KEMs, both ways, then from the same randomness (d || z for keygen, m for encaps).
function crossKem(name, noble) {
  {
    const [pk, sk] = run('kem-keygen', name).lines;
    const { cipherText, sharedSecret } = noble.encapsulate(bytes(pk));
    const [ss] = run('kem-decaps', name, sk, hex(cipherText)).lines;
    check(ss === hex(sharedSecret), `${name}: we decapsulate the secret noble encapsulated to our key`);
  }
  {
    const { publicKey, secretKey } = noble.keygen();
    const [ct, ss] = run('kem-encaps', name, hex(publicKey)).lines;
    check(hex(noble.decapsulate(bytes(ct), secretKey)) === ss, `${name}: noble decapsulates the secret we encapsulated to its key`);
  }
  {
    const seed = fixedBytes(`${name} seed`, 64), m = fixedBytes(`${name} m`, 32);
    const keys = noble.keygen(seed);
    const [pk, sk] = run('kem-keygen', name, hex(seed)).lines;
    check(pk === hex(keys.publicKey) && sk === hex(keys.secretKey), `${name}: our key pair from a seed is noble's`);
    const [ct, ss] = run('kem-encaps', name, pk, hex(m)).lines;
    const want = noble.encapsulate(keys.publicKey, m);
    check(ct === hex(want.cipherText) && ss === hex(want.sharedSecret), `${name}: our encapsulation with m is noble's`);
  }
}

crossSig('falcon-512', falcon512);
crossExpanded('falcon-512', falcon512);
crossExpanded('falcon-1024', falcon1024);
for (const [name, noble] of [['ml-dsa-44', ml_dsa44], ['ml-dsa-65', ml_dsa65], ['ml-dsa-87', ml_dsa87]]) {
  crossSig(name, noble);
  sameMlDsa(name, noble);
}
for (const [name, noble] of [['ml-kem-512', ml_kem512], ['ml-kem-768', ml_kem768], ['ml-kem-1024', ml_kem1024]])
  crossKem(name, noble);

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);

// Cross-checks pqcoap's Falcon-512 and ML-KEM-768 against an independent implementation,
// @noble/post-quantum, in both directions. Usage: node crosscheck.mjs PATH_TO_XCHECK
import { spawnSync } from 'node:child_process';
import { falcon512 } from '@noble/post-quantum/falcon.js';
import { ml_kem768 } from '@noble/post-quantum/ml-kem.js';

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
  if (r.status === 2 || r.status === null) throw new Error(`xcheck ${args[0]}: ${r.stderr}`);
  return { status: r.status, lines: r.stdout.trim().split('\n') };
}

const msg = new TextEncoder().encode('pqcoap cross-check: a CoAP payload');
const other = new TextEncoder().encode('pqcoap cross-check: a CoAP payloae');

// Falcon-512: noble verifies our signature.
{
  const [pk, sk] = run('falcon-keygen').lines;
  const [sig] = run('falcon-sign', sk, hex(msg)).lines;
  check(bytes(pk).length === 897, 'our Falcon-512 public key is 897 bytes');
  check(falcon512.verify(bytes(sig), msg, bytes(pk)) === true, 'noble verifies our Falcon-512 signature');
  check(falcon512.verify(bytes(sig), other, bytes(pk)) === false, 'noble rejects our signature on another message');
}

// Falcon-512: we verify noble's signature.
{
  const { publicKey, secretKey } = falcon512.keygen();
  const sig = falcon512.sign(msg, secretKey);
  check(run('falcon-verify', hex(publicKey), hex(msg), hex(sig)).status === 0, 'we verify noble\'s Falcon-512 signature');
  check(run('falcon-verify', hex(publicKey), hex(other), hex(sig)).status === 1, 'we reject noble\'s signature on another message');
  const bad = sig.slice();
  bad[bad.length - 1] ^= 1;
  check(run('falcon-verify', hex(publicKey), hex(msg), hex(bad)).status === 1, 'we reject noble\'s signature with a flipped bit');
}

// ML-KEM-768: noble encapsulates to our key, we decapsulate.
{
  const [pk, sk] = run('kem-keygen').lines;
  const { cipherText, sharedSecret } = ml_kem768.encapsulate(bytes(pk));
  const [ss] = run('kem-decaps', sk, hex(cipherText)).lines;
  check(ss === hex(sharedSecret), 'we decapsulate the secret noble encapsulated to our key');
}

// ML-KEM-768: we encapsulate to noble's key, noble decapsulates.
{
  const { publicKey, secretKey } = ml_kem768.keygen();
  const [ct, ss] = run('kem-encaps', hex(publicKey)).lines;
  check(hex(ml_kem768.decapsulate(bytes(ct), secretKey)) === ss, 'noble decapsulates the secret we encapsulated to its key');
}

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);

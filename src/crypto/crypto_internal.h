/* Internal interface of the crypto layer: one thin file per primitive over PQClean, nettle
 * (AES-GCM, AES-CCM, SHA-256, HMAC) and OpenSSL libcrypto (X25519, RNG), with signature and
 * KEM algorithms behind const tables chosen by suite. */
#ifndef PQCOAP_CRYPTO_INTERNAL_H
#define PQCOAP_CRYPTO_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include "pqcoap/error.h"
#include "pqcoap/rng.h"

#include <nettle/aes.h>
#include <nettle/ccm.h>
#include <nettle/gcm.h>

/** A borrowed piece of a longer input; inputs given as pieces are processed as if the pieces
 *  were concatenated in order. */
typedef struct pqcoap_span {
    const uint8_t *p;
    size_t n;
} pqcoap_span;

#define PQCOAP_SHA256_LEN 32
#define PQCOAP_AEAD_KEY_LEN 32
#define PQCOAP_AEAD_NONCE_LEN 12
#define PQCOAP_AEAD_TAG_LEN 16
#define PQCOAP_X25519_LEN 32
#define PQCOAP_SIG_PK_MAX 2592   /* ML-DSA-87 */
#define PQCOAP_SIG_SK_MAX 4896   /* ML-DSA-87 */
#define PQCOAP_SIG_MAX 4627      /* ML-DSA-87 */
#define PQCOAP_KEM_PK_MAX 1568   /* ML-KEM-1024 */
#define PQCOAP_KEM_SK_MAX 3168
#define PQCOAP_KEM_CT_MAX 1568
#define PQCOAP_KEM_SS_LEN 32

/* ---- signatures (sig_falcon.c, sig_mldsa.c) ---- */

/** A signature algorithm. Buffers are caller-owned and sized by the table's lengths. */
typedef struct pqcoap_sig_alg {
    const char *name;        /* "falcon-512" */
    size_t pk_len, sk_len;
    size_t sig_max;          /* longest signature; every ML-DSA signature has this length */
    /** Generates a key pair into pk[pk_len], sk[sk_len]. */
    pqcoap_err (*keygen)(const pqcoap_rng *rng, uint8_t *pk, uint8_t *sk);
    /** Signs the concatenation of msg[0..n). sig must hold sig_max bytes. */
    pqcoap_err (*sign)(const pqcoap_rng *rng, const uint8_t *sk, const pqcoap_span *msg,
                       size_t n, uint8_t *sig, size_t *sig_len);
    /** PQCOAP_OK if sig is valid for the concatenation of msg[0..n) under pk, else
     *  PQCOAP_ERR_AUTH. */
    pqcoap_err (*verify)(const uint8_t *pk, const pqcoap_span *msg, size_t n,
                         const uint8_t *sig, size_t sig_len);
    /** Bytes of the expanded secret key, the form signing works from, kept by a signer that
     *  signs often (Falcon: the B0 matrix and the LDL tree); 0 if the algorithm has none,
     *  and then expand and sign_ek are NULL. */
    size_t ek_len;
    /** Expands sk into ek[ek_len] (8-byte aligned). PQCOAP_ERR_ARG for a malformed sk. */
    pqcoap_err (*expand)(const uint8_t *sk, void *ek);
    /** As sign, from the expanded key ek: the same signatures, without expanding sk again. */
    pqcoap_err (*sign_ek)(const pqcoap_rng *rng, const void *ek, const pqcoap_span *msg,
                          size_t n, uint8_t *sig, size_t *sig_len);
} pqcoap_sig_alg;

/* Expanded Falcon keys: (8 logn + 40) 2^logn bytes (PQClean inner.h, expand_privkey). */
#define PQCOAP_FALCON512_EK_LEN ((8 * 9 + 40) << 9)
#define PQCOAP_FALCON1024_EK_LEN ((8 * 10 + 40) << 10)

pqcoap_err pqcoap_falcon512_expand(const uint8_t *sk, void *ek);
pqcoap_err pqcoap_falcon512_sign_ek(const pqcoap_rng *rng, const void *ek,
                                    const pqcoap_span *msg, size_t n, uint8_t *sig,
                                    size_t *sig_len);
pqcoap_err pqcoap_falcon1024_expand(const uint8_t *sk, void *ek);
pqcoap_err pqcoap_falcon1024_sign_ek(const pqcoap_rng *rng, const void *ek,
                                     const pqcoap_span *msg, size_t n, uint8_t *sig,
                                     size_t *sig_len);

extern const pqcoap_sig_alg pqcoap_sig_falcon512;
extern const pqcoap_sig_alg pqcoap_sig_falcon1024;
extern const pqcoap_sig_alg pqcoap_sig_mldsa44;
extern const pqcoap_sig_alg pqcoap_sig_mldsa65;
extern const pqcoap_sig_alg pqcoap_sig_mldsa87;

struct pqcoap_expanded_key; /* pqcoap/keys.h */

/** Makes *out the expanded form of alg's secret key sk (out->len 0 if alg has none).
 *  PQCOAP_ERR_ARG on NULL or a malformed sk (out->len is then 0) (sig_expanded.c). */
pqcoap_err pqcoap_sig_expand(const pqcoap_sig_alg *alg, const uint8_t *sk,
                             struct pqcoap_expanded_key *out);
/** Signs with alg as alg->sign does: from ek[0..ek_len) when it is alg's expanded key
 *  (ek_len == alg->ek_len != 0), else from sk (ek may be NULL) (sig_expanded.c). */
pqcoap_err pqcoap_sig_sign(const pqcoap_sig_alg *alg, const pqcoap_rng *rng, const uint8_t *sk,
                           const void *ek, size_t ek_len, const pqcoap_span *msg, size_t n,
                           uint8_t *sig, size_t *sig_len);

/** The signature algorithm named name[0..n) ("falcon-512", as in key files), or NULL
 *  (keyfile.c). */
const pqcoap_sig_alg *pqcoap_sig_alg_by_name(const uint8_t *name, size_t n);

/* ---- PQClean signature calls shared by the families (sig_pqclean.c) ---- */

/** The PQClean entry points and sizes of one signature parameter set. */
typedef struct pqcoap_pqclean_sig {
    int (*keypair)(uint8_t *pk, uint8_t *sk);
    int (*signature)(uint8_t *sig, size_t *siglen, const uint8_t *m, size_t mlen,
                     const uint8_t *sk);
    int (*verify)(const uint8_t *sig, size_t siglen, const uint8_t *m, size_t mlen,
                  const uint8_t *pk);
    size_t sk_len, sig_max;
} pqcoap_pqclean_sig;

/** pqcoap_sig_alg.sign over impl: signs the concatenation of msg[0..n), drawing from rng.
 *  PQCOAP_ERR_ARG, PQCOAP_ERR_NOMEM, PQCOAP_ERR_CRYPTO (*sig_len is then 0). */
pqcoap_err pqcoap_pqclean_sign(const pqcoap_pqclean_sig *impl, const pqcoap_rng *rng,
                               const uint8_t *sk, const pqcoap_span *msg, size_t n,
                               uint8_t *sig, size_t *sig_len);
/** pqcoap_sig_alg.verify over impl: PQCOAP_ERR_MALFORMED unless 1 <= sig_len <= sig_max,
 *  then PQCOAP_OK or PQCOAP_ERR_AUTH; PQCOAP_ERR_ARG, PQCOAP_ERR_NOMEM. */
pqcoap_err pqcoap_pqclean_verify(const pqcoap_pqclean_sig *impl, const uint8_t *pk,
                                 const pqcoap_span *msg, size_t n, const uint8_t *sig,
                                 size_t sig_len);

/* ---- KEMs (kem_mlkem.c) ---- */

/** A key encapsulation mechanism. Buffers are caller-owned, sized by the table. */
typedef struct pqcoap_kem_alg {
    const char *name;        /* "ml-kem-768" */
    size_t pk_len, sk_len, ct_len, ss_len;
    pqcoap_err (*keygen)(const pqcoap_rng *rng, uint8_t *pk, uint8_t *sk);
    pqcoap_err (*encaps)(const pqcoap_rng *rng, const uint8_t *pk, uint8_t *ct, uint8_t *ss);
    pqcoap_err (*decaps)(const uint8_t *sk, const uint8_t *ct, uint8_t *ss);
} pqcoap_kem_alg;

extern const pqcoap_kem_alg pqcoap_kem_mlkem512;
extern const pqcoap_kem_alg pqcoap_kem_mlkem768;
extern const pqcoap_kem_alg pqcoap_kem_mlkem1024;

/* ---- suites (suite.c) ---- */

#define PQCOAP_SUITE_DEFAULT 0x01
/** A suite: the algorithms named by the suite byte of PROTOCOL.md "Algorithms": the
 *  signature algorithm of the responder's identity, the KEM (with X25519 always). */
typedef struct pqcoap_suite {
    uint8_t id;
    const char *name;        /* "falcon512-mlkem768" */
    const pqcoap_sig_alg *sig;
    const pqcoap_kem_alg *kem;
} pqcoap_suite;

/** The suite with byte `id`, or NULL if unsupported. 0x01 = Falcon-512 + ML-KEM-768. */
const pqcoap_suite *pqcoap_suite_find(uint8_t id);
/** The suite named `name` ("falcon512-mlkem768"), or NULL. */
const pqcoap_suite *pqcoap_suite_by_name(const char *name);
/** The suite whose signature algorithm is `sig`, or NULL (each algorithm has at most one). */
const pqcoap_suite *pqcoap_suite_for_sig(const pqcoap_sig_alg *sig);
/** The i-th supported suite in the order of their bytes, or NULL past the last. */
const pqcoap_suite *pqcoap_suite_at(size_t i);

/* ---- X25519 (x25519.c) ---- */

/** New X25519 key pair from rng. */
pqcoap_err pqcoap_x25519_keygen(const pqcoap_rng *rng, uint8_t pk[32], uint8_t sk[32]);
/** Public key of secret key sk. */
pqcoap_err pqcoap_x25519_public(const uint8_t sk[32], uint8_t pk[32]);
/** Shared secret of sk and peer_pk; PQCOAP_ERR_AUTH if it is all zero (RFC 7748 section 6.1). */
pqcoap_err pqcoap_x25519_derive(const uint8_t sk[32], const uint8_t peer_pk[32], uint8_t ss[32]);

/* ---- AES-256-GCM (aead.c) ---- */

/** Encrypts pt[0..pt_len) with AAD = concatenation of aad[0..naad); writes ciphertext then
 *  16-byte tag to out (pt_len + 16 bytes). out may equal pt. */
pqcoap_err pqcoap_aead_seal(const uint8_t key[32], const uint8_t nonce[12],
                            const pqcoap_span *aad, size_t naad,
                            const uint8_t *pt, size_t pt_len, uint8_t *out);
/** Decrypts ct[0..ct_len) (ciphertext || tag); writes ct_len - 16 bytes to out. Returns
 *  PQCOAP_ERR_AUTH on a bad tag (out is then wiped), PQCOAP_ERR_MALFORMED if ct_len < 16. */
pqcoap_err pqcoap_aead_open(const uint8_t key[32], const uint8_t nonce[12],
                            const pqcoap_span *aad, size_t naad,
                            const uint8_t *ct, size_t ct_len, uint8_t *out);

/* ---- COSE AEAD algorithms of OSCORE (aead_cose.c) ---- */

#define PQCOAP_COSE_KEY_MAX 32
#define PQCOAP_COSE_NONCE_MAX 13
#define PQCOAP_COSE_TAG_MAX 16

/** An AEAD algorithm named by its COSE identifier (RFC 8152 section 10): AES-CCM-16-64-128
 *  (10), AES-CCM-16-128-256 (31) and A256GCM (3). The functions below take the whole AAD in
 *  one piece (CCM needs it so) and work in place (out may equal the input). */
typedef struct pqcoap_cose_aead {
    int id;
    size_t key_len, nonce_len, tag_len;
} pqcoap_cose_aead;

/** The keyed state of one key of a COSE AEAD: the AES key schedule and, for A256GCM, GHASH's
 *  key table (4.3 KB), made once by pqcoap_cose_key_set and only read by seal and open, so
 *  one key's fixed work is done once (an OSCORE Sender or Recipient Key lives as long as its
 *  context). Plain data without pointers into itself (it may be copied); secret: wipe it
 *  with pqcoap_wipe. alg is NULL until set. */
typedef struct pqcoap_cose_aead_key {
    const pqcoap_cose_aead *alg;
    union {
        struct aes128_ctx aes128;       /* AES-CCM-16-64-128 */
        struct aes256_ctx aes256;       /* AES-CCM-16-128-256 */
        struct {
            struct gcm_key h;
            struct aes256_ctx aes;
        } gcm;                          /* A256GCM */
    } u;
} pqcoap_cose_aead_key;

/** The algorithm with COSE identifier `id`, or NULL if unsupported. */
const pqcoap_cose_aead *pqcoap_cose_aead_find(int id);
/** Sets *k to key[0..alg->key_len) of algorithm alg. PQCOAP_ERR_UNSUPPORTED for an
 *  algorithm not in the table, PQCOAP_ERR_ARG on NULL. */
pqcoap_err pqcoap_cose_key_set(pqcoap_cose_aead_key *k, const pqcoap_cose_aead *alg,
                               const uint8_t *key);
/** Encrypts pt[0..pt_len) under key state k into out: ciphertext then tag (pt_len +
 *  tag_len bytes). PQCOAP_ERR_ARG for a key state never set (or wiped). */
pqcoap_err pqcoap_cose_key_seal(const pqcoap_cose_aead_key *k, const uint8_t *nonce,
                                const uint8_t *aad, size_t aad_len, const uint8_t *pt,
                                size_t pt_len, uint8_t *out);
/** Decrypts ct[0..ct_len) (ciphertext || tag) under key state k into out (ct_len - tag_len
 *  bytes). PQCOAP_ERR_AUTH on a wrong tag (out wiped, k unchanged as always),
 *  PQCOAP_ERR_MALFORMED if ct_len < tag_len. */
pqcoap_err pqcoap_cose_key_open(const pqcoap_cose_aead_key *k, const uint8_t *nonce,
                                const uint8_t *aad, size_t aad_len, const uint8_t *ct,
                                size_t ct_len, uint8_t *out);
/** pqcoap_cose_key_seal with a key state made for this one call. */
pqcoap_err pqcoap_cose_seal(const pqcoap_cose_aead *alg, const uint8_t *key,
                            const uint8_t *nonce, const uint8_t *aad, size_t aad_len,
                            const uint8_t *pt, size_t pt_len, uint8_t *out);
/** pqcoap_cose_key_open with a key state made for this one call. */
pqcoap_err pqcoap_cose_open(const pqcoap_cose_aead *alg, const uint8_t *key,
                            const uint8_t *nonce, const uint8_t *aad, size_t aad_len,
                            const uint8_t *ct, size_t ct_len, uint8_t *out);

/* ---- SHA-256, HMAC, HKDF (hash.c) ---- */

pqcoap_err pqcoap_sha256(const pqcoap_span *in, size_t n, uint8_t out[32]);
pqcoap_err pqcoap_hmac_sha256(const uint8_t *key, size_t key_len,
                              const pqcoap_span *in, size_t n, uint8_t out[32]);
/** out[i] = HMAC-SHA256(key, in[i]) for i < n, each in[i] one piece, with the key's pads
 *  computed once for all (a key-chain step: two messages under one key). */
pqcoap_err pqcoap_hmac_sha256_each(const uint8_t *key, size_t key_len, const pqcoap_span *in,
                                   size_t n, uint8_t (*out)[PQCOAP_SHA256_LEN]);
/** RFC 5869 Extract: PRK = HMAC(salt, IKM) with IKM the concatenation of ikm[0..n). */
pqcoap_err pqcoap_hkdf_extract(const uint8_t *salt, size_t salt_len,
                               const pqcoap_span *ikm, size_t n, uint8_t prk[32]);
/** RFC 5869 Expand: out_len <= 255*32 bytes of OKM. */
pqcoap_err pqcoap_hkdf_expand(const uint8_t *prk, size_t prk_len,
                              const uint8_t *info, size_t info_len,
                              uint8_t *out, size_t out_len);

/* ---- wiping and constant-time compare (util.c) ---- */

/** Overwrites n bytes at p with zeros in a way the compiler keeps (explicit_bzero). */
void pqcoap_wipe(void *p, size_t n);
/** 1 if a and b are equal over n bytes, else 0; time depends only on n. */
int pqcoap_ct_equal(const void *a, const void *b, size_t n);

#endif

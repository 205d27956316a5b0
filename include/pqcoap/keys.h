/* Identity keys: signature key pairs, their key id (kid), and the text key files the CLI
 * reads and writes (format in docs/KEYS.md). */
#ifndef PQCOAP_KEYS_H
#define PQCOAP_KEYS_H

#include <stddef.h>
#include <stdint.h>
#include "pqcoap/error.h"
#include "pqcoap/rng.h"
#include "pqcoap/store.h" /* PQCOAP_PK_MAX, PQCOAP_KID_LEN */

#ifdef __cplusplus
extern "C" {
#endif

#define PQCOAP_SK_MAX 4896          /**< largest secret key of any supported algorithm (ML-DSA-87) */
#define PQCOAP_KEYFILE_MAX 12288    /**< no valid key file is larger (ML-DSA-87: about 10 KB) */

struct pqcoap_sig_alg;

/** A public signature key. `alg` is a library-owned static table (never freed). */
typedef struct pqcoap_pubkey {
    const struct pqcoap_sig_alg *alg;
    uint8_t pk[PQCOAP_PK_MAX];
    size_t pk_len;
    uint8_t kid[PQCOAP_KID_LEN];    /**< first 8 bytes of SHA-256(pk) */
    pqcoap_key_usage usage;         /**< PQCOAP_USAGE_SIGN_V1 for a key made for sign-v1 */
} pqcoap_pubkey;

#define PQCOAP_EK_MAX 122880       /**< largest expanded secret key (Falcon-1024) */

/** The expanded form of a secret key, for the algorithms that have one (Falcon: the B0
 *  matrix and the LDL tree, 57,344 bytes for Falcon-512, 122,880 for Falcon-1024). Signing
 *  from it skips the expansion every signature otherwise repeats (about 40% of a Falcon
 *  signature); the signatures are the same. It is as secret as the key: wipe it with it.
 *  `len` 0 means none (the algorithm has none, or it was not made). */
typedef struct pqcoap_expanded_key {
    size_t len;
    uint64_t k[PQCOAP_EK_MAX / 8];
} pqcoap_expanded_key;

/** An identity: a key pair. The secret key has the algorithm's fixed length; `ek` is its
 *  expanded form where the algorithm has one, made by pqcoap_identity_generate and
 *  pqcoap_identity_parse (load), so that everything signing with the identity signs from
 *  it. Wipe it with pqcoap_identity_wipe when done. */
typedef struct pqcoap_identity {
    pqcoap_pubkey pub;
    uint8_t sk[PQCOAP_SK_MAX];
    pqcoap_expanded_key ek;
} pqcoap_identity;

/** Makes *out the expanded form of secret key sk[0..sk_len) of signature algorithm `alg`
 *  ("falcon-512"); for an algorithm without one (ML-DSA), out->len is 0 and PQCOAP_OK is
 *  returned. Returns PQCOAP_ERR_UNSUPPORTED for an unknown algorithm, PQCOAP_ERR_ARG on
 *  NULL, a key of the wrong length or a malformed key (*out is then wiped). */
pqcoap_err pqcoap_expanded_key_make(const char *alg, const uint8_t *sk, size_t sk_len,
                                    pqcoap_expanded_key *out);

/** Computes kid = first 8 bytes of SHA-256(pk[0..pk_len)) (PROTOCOL.md Mode A v2).
 *  Returns PQCOAP_ERR_ARG on NULL, PQCOAP_ERR_CRYPTO on a backend failure. */
pqcoap_err pqcoap_kid(const uint8_t *pk, size_t pk_len, uint8_t kid[PQCOAP_KID_LEN]);

/** Generates a general key pair (usage PQCOAP_USAGE_GENERAL) of signature algorithm `alg`
 *  ("falcon-512", "falcon-1024", "ml-dsa-44", "ml-dsa-65" or "ml-dsa-87") from `rng`
 *  (NULL = system RNG) into *out. Returns PQCOAP_ERR_UNSUPPORTED for an unknown algorithm,
 *  PQCOAP_ERR_ARG on NULL,
 *  PQCOAP_ERR_CRYPTO on failure (*out is then wiped). */
pqcoap_err pqcoap_identity_generate(const char *alg, const pqcoap_rng *rng,
                                    pqcoap_identity *out);

/** As pqcoap_identity_generate, for a key of the given usage: PQCOAP_USAGE_SIGN_V1 makes a
 *  key for sign-v1 only (docs/KEYS.md). PQCOAP_ERR_ARG also for an unknown usage. */
pqcoap_err pqcoap_identity_generate_usage(const char *alg, pqcoap_key_usage usage,
                                          const pqcoap_rng *rng, pqcoap_identity *out);

/** Wipes the whole identity (secret key and its expanded form included). NULL is allowed. */
void pqcoap_identity_wipe(pqcoap_identity *id);

/** Fills *out from a raw public key of algorithm `alg` and computes its kid. Returns
 *  PQCOAP_ERR_UNSUPPORTED for an unknown algorithm, PQCOAP_ERR_MALFORMED if pk_len is not
 *  the algorithm's length, PQCOAP_ERR_ARG on NULL. */
pqcoap_err pqcoap_pubkey_set(const char *alg, const uint8_t *pk, size_t pk_len,
                             pqcoap_pubkey *out);

/** Length of the identity's secret key (its algorithm's); 0 if id or its alg is NULL. */
size_t pqcoap_identity_sk_len(const pqcoap_identity *id);

/** Name of the key's algorithm ("falcon-512"), a static string; NULL if pk or its alg is NULL. */
const char *pqcoap_pubkey_alg(const pqcoap_pubkey *pk);

/** Fills `out` with a trust-store entry that pins `pk` under peer id `id` (1..64 bytes),
 *  added at Unix time `added_s`, with the key's usage. Returns PQCOAP_OK, PQCOAP_ERR_ARG on
 *  NULL, an unset key, an unknown usage or an id of the wrong length. */
pqcoap_err pqcoap_peer_from_pubkey(const char *id, const pqcoap_pubkey *pk, int64_t added_s,
                                   pqcoap_peer *out);

/** Writes the secret key file text of `id` into out[0..cap) and sets *out_len (no NUL is
 *  written), with the line `usage: sign-v1` for a sign-v1 key. The text holds the secret
 *  key: wipe it after use. Returns PQCOAP_ERR_BUFFER if cap is too small
 *  (PQCOAP_KEYFILE_MAX always suffices), PQCOAP_ERR_ARG on NULL or an unknown usage. */
pqcoap_err pqcoap_identity_encode(const pqcoap_identity *id, uint8_t *out, size_t cap,
                                  size_t *out_len);

/** Writes the public key file text of `pk` into out[0..cap) and sets *out_len. Errors as
 *  pqcoap_identity_encode. */
pqcoap_err pqcoap_pubkey_encode(const pqcoap_pubkey *pk, uint8_t *out, size_t cap,
                                size_t *out_len);

/** Parses a secret key file held in in[0..len) into *out (usage PQCOAP_USAGE_SIGN_V1 if the
 *  file has the line `usage: sign-v1`, else general). The text must be exactly in the
 *  format of docs/KEYS.md, the kid must match the public key and the secret key must sign
 *  for the public key. Returns PQCOAP_ERR_KEYFILE for anything else (wrong, truncated or
 *  public key file; *out is then wiped), PQCOAP_ERR_ARG on NULL. */
pqcoap_err pqcoap_identity_parse(const uint8_t *in, size_t len, pqcoap_identity *out);

/** Parses a public key file held in in[0..len) into *out. Returns PQCOAP_ERR_KEYFILE for a
 *  wrong, truncated or secret key file, PQCOAP_ERR_ARG on NULL. */
pqcoap_err pqcoap_pubkey_parse(const uint8_t *in, size_t len, pqcoap_pubkey *out);

/** Writes the secret key file of `id` to `path` with mode 0600, atomically. An existing file
 *  is replaced only if `overwrite` is non-zero, else PQCOAP_ERR_EXISTS. Returns
 *  PQCOAP_ERR_IO if the file cannot be written. */
pqcoap_err pqcoap_identity_save(const pqcoap_identity *id, const char *path, int overwrite);

/** Writes the public key file of `pk` to `path` with mode 0644; as pqcoap_identity_save. */
pqcoap_err pqcoap_pubkey_save(const pqcoap_pubkey *pk, const char *path, int overwrite);

/** Reads and parses the secret key file at `path`. A valid file that its group or others
 *  may access (mode & 077, as ssh checks private keys) is refused with PQCOAP_ERR_KEYFILE.
 *  Returns PQCOAP_ERR_NOT_FOUND if it does not exist, PQCOAP_ERR_IO if it cannot
 *  be read, else as pqcoap_identity_parse. On failure *out is wiped. */
pqcoap_err pqcoap_identity_load(const char *path, pqcoap_identity *out);

/** As pqcoap_identity_load; on failure also writes a one-line, NUL-terminated reason that
 *  names the file (and, for a file others may access, the fix: chmod 600) into
 *  msg[msg_cap] (truncated if longer; msg may be NULL when msg_cap is 0). On success msg is
 *  the empty string. */
pqcoap_err pqcoap_identity_load_msg(const char *path, char *msg, size_t msg_cap,
                                    pqcoap_identity *out);

/** Reads and parses the public key file at `path`; errors as pqcoap_identity_load. */
pqcoap_err pqcoap_pubkey_load(const char *path, pqcoap_pubkey *out);

#ifdef __cplusplus
}
#endif
#endif

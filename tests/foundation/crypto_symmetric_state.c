/* The symmetric primitives carry nothing from one call to the next: messages under different
 * keys interleaved, an authentication failure followed by a genuine message, AAD split at
 * every kind of boundary, HMAC of several messages under one keyed state, and threads
 * sealing, opening and deriving at the same time all give the answers of lone calls. */
#include <pthread.h>
#include <string.h>

#include "check.h"
#include "crypto/crypto_internal.h"

/* Fills p[0..n) with bytes that depend on seed. */
static void fill(uint8_t *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(seed * 31 + i * 7 + (i >> 3));
}

/* Seal under key A, seal under key B, open A's message with A (and not with B), and seal
 * under A again: the same bytes as the first time. */
static void test_gcm_keys_interleaved(void)
{
    uint8_t ka[32], kb[32], nonce[12], pt[64], aad[13], ca[80], cb[80], ca2[80], out[64];
    fill(ka, 32, 1);
    fill(kb, 32, 2);
    fill(nonce, 12, 3);
    fill(pt, 64, 4);
    fill(aad, 13, 5);
    const pqcoap_span a = {aad, sizeof aad};
    CHECK_EQ_INT(pqcoap_aead_seal(ka, nonce, &a, 1, pt, 64, ca), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_aead_seal(kb, nonce, &a, 1, pt, 64, cb), PQCOAP_OK);
    CHECK(memcmp(ca, cb, 80) != 0);
    CHECK_EQ_INT(pqcoap_aead_open(ka, nonce, &a, 1, ca, 80, out), PQCOAP_OK);
    CHECK_MEM(out, pt, 64);
    CHECK_EQ_INT(pqcoap_aead_open(kb, nonce, &a, 1, ca, 80, out), PQCOAP_ERR_AUTH);
    CHECK_EQ_INT(pqcoap_aead_seal(ka, nonce, &a, 1, pt, 64, ca2), PQCOAP_OK);
    CHECK_MEM(ca2, ca, 80);
    CHECK_EQ_INT(pqcoap_aead_open(kb, nonce, &a, 1, cb, 80, out), PQCOAP_OK);
    CHECK_MEM(out, pt, 64);
}

/* A rejected message leaves nothing behind: the genuine one that follows opens. */
static void test_gcm_after_failure(void)
{
    uint8_t key[32], nonce[12], pt[40], ct[56], bad[56], out[40];
    fill(key, 32, 6);
    fill(nonce, 12, 7);
    fill(pt, 40, 8);
    CHECK_EQ_INT(pqcoap_aead_seal(key, nonce, NULL, 0, pt, 40, ct), PQCOAP_OK);
    for (size_t pos = 0; pos < sizeof bad; pos += 11) {
        memcpy(bad, ct, sizeof bad);
        bad[pos] ^= 0x40;
        CHECK_EQ_INT(pqcoap_aead_open(key, nonce, NULL, 0, bad, 56, out), PQCOAP_ERR_AUTH);
        CHECK_EQ_INT(pqcoap_aead_open(key, nonce, NULL, 0, ct, 56, out), PQCOAP_OK);
        CHECK_MEM(out, pt, 40);
    }
}

/* AAD given in pieces that end inside a block, on a block boundary, are empty, or span more
 * than a block: always the tag of the AAD in one piece. */
static void test_gcm_aad_pieces(void)
{
    uint8_t key[32], nonce[12], aad[53], pt[21], one[37], split[37];
    fill(key, 32, 9);
    fill(nonce, 12, 10);
    fill(aad, sizeof aad, 11);
    fill(pt, sizeof pt, 12);
    const pqcoap_span whole = {aad, sizeof aad};
    CHECK_EQ_INT(pqcoap_aead_seal(key, nonce, &whole, 1, pt, sizeof pt, one), PQCOAP_OK);
    static const size_t cuts[][5] = {
        {1, 15, 16, 3, 18}, {16, 0, 16, 16, 5}, {5, 5, 5, 5, 33}, {0, 0, 0, 0, 53},
        {31, 1, 1, 1, 19}, {17, 17, 17, 1, 1},
    };
    for (size_t c = 0; c < sizeof cuts / sizeof cuts[0]; c++) {
        pqcoap_span a[5];
        size_t at = 0;
        for (size_t i = 0; i < 5; i++) {
            a[i] = (pqcoap_span){cuts[c][i] ? aad + at : NULL, cuts[c][i]};
            at += cuts[c][i];
        }
        CHECK_EQ_INT(at, sizeof aad);
        CHECK_EQ_INT(pqcoap_aead_seal(key, nonce, a, 5, pt, sizeof pt, split), PQCOAP_OK);
        CHECK_MEM(split, one, sizeof one);
        uint8_t out[21];
        CHECK_EQ_INT(pqcoap_aead_open(key, nonce, a, 5, one, sizeof one, out), PQCOAP_OK);
        CHECK_MEM(out, pt, sizeof pt);
    }
}

/* Each COSE algorithm: keys interleaved, and a genuine message opens after a forged one. */
static void test_cose_interleaved(void)
{
    static const int ids[] = {10, 31, 3};
    for (size_t k = 0; k < sizeof ids / sizeof ids[0]; k++) {
        const pqcoap_cose_aead *alg = pqcoap_cose_aead_find(ids[k]);
        CHECK(alg != NULL);
        if (alg == NULL)
            continue;
        uint8_t ka[32], kb[32], nonce[13], aad[9], pt[30], ca[46], cb[46], ca2[46], out[30];
        fill(ka, 32, 20 + (unsigned)k);
        fill(kb, 32, 30 + (unsigned)k);
        fill(nonce, 13, 40);
        fill(aad, 9, 41);
        fill(pt, 30, 42);
        size_t n = 30 + alg->tag_len;
        CHECK_EQ_INT(pqcoap_cose_seal(alg, ka, nonce, aad, 9, pt, 30, ca), PQCOAP_OK);
        CHECK_EQ_INT(pqcoap_cose_seal(alg, kb, nonce, aad, 9, pt, 30, cb), PQCOAP_OK);
        CHECK(memcmp(ca, cb, n) != 0);
        CHECK_EQ_INT(pqcoap_cose_open(alg, kb, nonce, aad, 9, ca, n, out), PQCOAP_ERR_AUTH);
        CHECK_EQ_INT(pqcoap_cose_open(alg, ka, nonce, aad, 9, ca, n, out), PQCOAP_OK);
        CHECK_MEM(out, pt, 30);
        CHECK_EQ_INT(pqcoap_cose_seal(alg, ka, nonce, aad, 9, pt, 30, ca2), PQCOAP_OK);
        CHECK_MEM(ca2, ca, n);
        ca[n - 1] ^= 1;
        CHECK_EQ_INT(pqcoap_cose_open(alg, ka, nonce, aad, 9, ca, n, out), PQCOAP_ERR_AUTH);
        CHECK_EQ_INT(pqcoap_cose_open(alg, kb, nonce, aad, 9, cb, n, out), PQCOAP_OK);
        CHECK_MEM(out, pt, 30);
    }
}

/* HMAC of several messages under one keyed state: each is the HMAC of its own call. */
static void test_hmac_each(void)
{
    uint8_t key[70], m[3][40], each[3][32], lone[32];
    fill(key, sizeof key, 50);
    for (unsigned i = 0; i < 3; i++)
        fill(m[i], sizeof m[i], 51 + i);
    const pqcoap_span in[3] = {{m[0], 1}, {m[1], 40}, {m[2], 0}};
    const size_t key_lens[] = {0, 32, 64, 70}; /* empty, short, one block, hashed first */
    for (size_t k = 0; k < sizeof key_lens / sizeof key_lens[0]; k++) {
        CHECK_EQ_INT(pqcoap_hmac_sha256_each(key, key_lens[k], in, 3, each), PQCOAP_OK);
        for (size_t i = 0; i < 3; i++) {
            CHECK_EQ_INT(pqcoap_hmac_sha256(key, key_lens[k], &in[i], 1, lone), PQCOAP_OK);
            CHECK_MEM(each[i], lone, 32);
        }
    }
}

/* ---- threads ---- */

#define ROUNDS 300

typedef struct job {
    unsigned seed;
    int failures;
} job;

/* ROUNDS times: seal, open, HKDF and a chain of HMACs under this thread's keys, each
 * checked against the first round's answers. */
static void *worker(void *arg)
{
    job *j = arg;
    uint8_t key[32], nonce[13], pt[64], ct[80], first_ct[80], out[64], okm[64], first_okm[64];
    fill(key, 32, j->seed);
    fill(nonce, 13, j->seed + 1);
    fill(pt, 64, j->seed + 2);
    const pqcoap_cose_aead *ccm = pqcoap_cose_aead_find(10);
    uint8_t cc[72], first_cc[72];
    for (int r = 0; r < ROUNDS; r++) {
        int ok = pqcoap_aead_seal(key, nonce, NULL, 0, pt, 64, ct) == PQCOAP_OK &&
                 pqcoap_aead_open(key, nonce, NULL, 0, ct, 80, out) == PQCOAP_OK &&
                 memcmp(out, pt, 64) == 0 &&
                 pqcoap_hkdf_expand(key, 32, nonce, 12, okm, sizeof okm) == PQCOAP_OK &&
                 pqcoap_cose_seal(ccm, key, nonce, pt, 5, pt, 64, cc) == PQCOAP_OK;
        if (r == 0) {
            memcpy(first_ct, ct, sizeof ct);
            memcpy(first_okm, okm, sizeof okm);
            memcpy(first_cc, cc, sizeof cc);
        }
        if (!ok || memcmp(ct, first_ct, sizeof ct) != 0 || memcmp(okm, first_okm, sizeof okm) ||
            memcmp(cc, first_cc, sizeof cc) != 0)
            j->failures++;
    }
    return NULL;
}

static void test_threads(void)
{
    job jobs[3] = {{100, 0}, {200, 0}, {300, 0}};
    pthread_t t[3];
    for (int i = 0; i < 3; i++)
        CHECK_EQ_INT(pthread_create(&t[i], NULL, worker, &jobs[i]), 0);
    for (int i = 0; i < 3; i++) {
        pthread_join(t[i], NULL);
        CHECK_EQ_INT(jobs[i].failures, 0);
    }
    /* and a lone call agrees with what the threads computed */
    job alone = {100, 0};
    worker(&alone);
    CHECK_EQ_INT(alone.failures, 0);
}

int main(void)
{
    test_gcm_keys_interleaved();
    test_gcm_after_failure();
    test_gcm_aad_pieces();
    test_cose_interleaved();
    test_hmac_each();
    test_threads();
    return check_done();
}

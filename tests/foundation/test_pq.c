/* Falcon, ML-DSA and ML-KEM through the algorithm tables: sizes, round trips, rejection of
 * forged signatures, ML-KEM implicit rejection, suites, and the RNG routing (a test RNG
 * makes keygen, sign and encaps deterministic; every PQClean random byte comes from the rng). */
#include <stdlib.h>

#include "check.h"
#include "crypto/crypto_internal.h"

int PQCLEAN_randombytes(uint8_t *out, size_t n);

/* An rng that counts the bytes drawn from it, optionally failing. */
typedef struct counting {
    size_t drawn;
    int fail;
} counting;

static pqcoap_err counting_fill(void *ctx, uint8_t *out, size_t len)
{
    counting *c = ctx;
    if (c->fail)
        return PQCOAP_ERR_CRYPTO;
    c->drawn += len;
    return pqcoap_random(NULL, out, len);
}

static void test_sig(const pqcoap_sig_alg *alg)
{
    static uint8_t pk[PQCOAP_SIG_PK_MAX], sk[PQCOAP_SIG_SK_MAX], sig[PQCOAP_SIG_MAX];
    size_t sig_len = 0;
    CHECK_EQ_INT(alg->keygen(NULL, pk, sk), PQCOAP_OK);

    /* spans are signed as their concatenation */
    const pqcoap_span parts[3] = {{(const uint8_t *)"hello ", 6}, {NULL, 0},
                                  {(const uint8_t *)"world", 5}};
    const pqcoap_span whole = {(const uint8_t *)"hello world", 11};
    CHECK_EQ_INT(alg->sign(NULL, sk, parts, 3, sig, &sig_len), PQCOAP_OK);
    CHECK(sig_len > 0 && sig_len <= alg->sig_max);
    CHECK_EQ_INT(alg->verify(pk, &whole, 1, sig, sig_len), PQCOAP_OK);
    CHECK_EQ_INT(alg->verify(pk, parts, 3, sig, sig_len), PQCOAP_OK);

    /* a flipped bit anywhere in the signature, or in the message, is rejected */
    for (size_t pos = 0; pos < sig_len; pos += sig_len / 7 + 1) {
        sig[pos] ^= 0x04;
        CHECK_EQ_INT(alg->verify(pk, &whole, 1, sig, sig_len), PQCOAP_ERR_AUTH);
        sig[pos] ^= 0x04;
    }
    const pqcoap_span other = {(const uint8_t *)"hello worle", 11};
    CHECK_EQ_INT(alg->verify(pk, &other, 1, sig, sig_len), PQCOAP_ERR_AUTH);
    CHECK_EQ_INT(alg->verify(pk, &whole, 1, sig, sig_len - 1), PQCOAP_ERR_AUTH);
    CHECK_EQ_INT(alg->verify(pk, &whole, 1, sig, 0), PQCOAP_ERR_MALFORMED);
    CHECK_EQ_INT(alg->verify(pk, &whole, 1, sig, alg->sig_max + 1), PQCOAP_ERR_MALFORMED);

    /* a long message, given in pieces (joined on the heap) */
    size_t big_len = 5000;
    uint8_t *big = malloc(big_len);
    CHECK(big != NULL);
    if (big == NULL)
        return;
    for (size_t i = 0; i < big_len; i++)
        big[i] = (uint8_t)(i * 7);
    const pqcoap_span big_parts[2] = {{big, 3000}, {big + 3000, 2000}};
    const pqcoap_span big_whole = {big, big_len};
    CHECK_EQ_INT(alg->sign(NULL, sk, big_parts, 2, sig, &sig_len), PQCOAP_OK);
    CHECK_EQ_INT(alg->verify(pk, &big_whole, 1, sig, sig_len), PQCOAP_OK);
    big[4999] ^= 1;
    CHECK_EQ_INT(alg->verify(pk, big_parts, 2, sig, sig_len), PQCOAP_ERR_AUTH);
    free(big);
}

static void test_kem(const pqcoap_kem_alg *kem)
{
    static uint8_t pk[PQCOAP_KEM_PK_MAX], sk[PQCOAP_KEM_SK_MAX], ct[PQCOAP_KEM_CT_MAX];
    uint8_t ss1[32], ss2[32];
    CHECK_EQ_INT(kem->keygen(NULL, pk, sk), PQCOAP_OK);
    CHECK_EQ_INT(kem->encaps(NULL, pk, ct, ss1), PQCOAP_OK);
    CHECK_EQ_INT(kem->decaps(sk, ct, ss2), PQCOAP_OK);
    CHECK_MEM(ss1, ss2, 32);
    /* a flipped ciphertext bit gives an unrelated secret (implicit rejection) */
    ct[kem->ct_len / 2] ^= 0x10;
    CHECK_EQ_INT(kem->decaps(sk, ct, ss2), PQCOAP_OK);
    CHECK(memcmp(ss1, ss2, 32) != 0);
}

static void test_suites(void)
{
    const pqcoap_suite *s1 = pqcoap_suite_find(0x01), *s2 = pqcoap_suite_find(0x02);
    CHECK(s1 != NULL && s1->sig == &pqcoap_sig_falcon512 && s1->kem == &pqcoap_kem_mlkem768);
    CHECK(s2 != NULL && s2->sig == &pqcoap_sig_falcon1024 && s2->kem == &pqcoap_kem_mlkem1024);
    CHECK(pqcoap_suite_find(PQCOAP_SUITE_DEFAULT) == s1);
    const pqcoap_suite *s3 = pqcoap_suite_find(0x03), *s4 = pqcoap_suite_find(0x04);
    CHECK(s3 != NULL && s3->sig == &pqcoap_sig_mldsa65 && s3->kem == &pqcoap_kem_mlkem768);
    CHECK(s4 != NULL && s4->sig == &pqcoap_sig_mldsa87 && s4->kem == &pqcoap_kem_mlkem1024);
    CHECK(pqcoap_suite_by_name("mldsa65-mlkem768") == s3);
    CHECK(pqcoap_suite_for_sig(&pqcoap_sig_falcon1024) == s2);
    CHECK(pqcoap_suite_for_sig(&pqcoap_sig_mldsa44) == NULL);
    CHECK(pqcoap_suite_find(0x00) == NULL);
    CHECK(pqcoap_suite_find(0x05) == NULL);
}

static const pqcoap_sig_alg *const all_sigs[] = {
    &pqcoap_sig_falcon512, &pqcoap_sig_falcon1024,
    &pqcoap_sig_mldsa44, &pqcoap_sig_mldsa65, &pqcoap_sig_mldsa87,
};
static const pqcoap_kem_alg *const all_kems[] = {
    &pqcoap_kem_mlkem512, &pqcoap_kem_mlkem768, &pqcoap_kem_mlkem1024,
};
#define COUNT(a) (sizeof (a) / sizeof (a)[0])

/* Names and sizes of FIPS 204 Table 2 and FIPS 203 Table 3; every buffer sized by the
 * maxima holds every algorithm's keys, signatures and ciphertexts. */
static void test_sizes(void)
{
    static const struct { const char *name; size_t pk, sk, sig; } sig_want[] = {
        {"falcon-512", 897, 1281, 752},    {"falcon-1024", 1793, 2305, 1462},
        {"ml-dsa-44", 1312, 2560, 2420},   {"ml-dsa-65", 1952, 4032, 3309},
        {"ml-dsa-87", 2592, 4896, 4627},
    };
    static const struct { const char *name; size_t pk, sk, ct; } kem_want[] = {
        {"ml-kem-512", 800, 1632, 768}, {"ml-kem-768", 1184, 2400, 1088},
        {"ml-kem-1024", 1568, 3168, 1568},
    };
    for (size_t i = 0; i < COUNT(all_sigs); i++) {
        const pqcoap_sig_alg *a = all_sigs[i];
        CHECK(strcmp(a->name, sig_want[i].name) == 0);
        CHECK_EQ_INT(a->pk_len, sig_want[i].pk);
        CHECK_EQ_INT(a->sk_len, sig_want[i].sk);
        CHECK_EQ_INT(a->sig_max, sig_want[i].sig);
        CHECK(a->pk_len <= PQCOAP_SIG_PK_MAX && a->sk_len <= PQCOAP_SIG_SK_MAX &&
              a->sig_max <= PQCOAP_SIG_MAX);
    }
    for (size_t i = 0; i < COUNT(all_kems); i++) {
        const pqcoap_kem_alg *k = all_kems[i];
        CHECK(strcmp(k->name, kem_want[i].name) == 0);
        CHECK_EQ_INT(k->pk_len, kem_want[i].pk);
        CHECK_EQ_INT(k->sk_len, kem_want[i].sk);
        CHECK_EQ_INT(k->ct_len, kem_want[i].ct);
        CHECK_EQ_INT(k->ss_len, PQCOAP_KEM_SS_LEN);
        CHECK(k->pk_len <= PQCOAP_KEM_PK_MAX && k->sk_len <= PQCOAP_KEM_SK_MAX &&
              k->ct_len <= PQCOAP_KEM_CT_MAX);
    }
    CHECK_EQ_INT(PQCOAP_SIG_PK_MAX, 2592);
    CHECK_EQ_INT(PQCOAP_SIG_SK_MAX, 4896);
    CHECK_EQ_INT(PQCOAP_SIG_MAX, 4627);
}

static void test_test_rng(void)
{
    /* block 0 of the stream is SHA-256(SHA-256(seed) || u64 0) */
    pqcoap_test_rng st;
    pqcoap_rng rng;
    uint8_t out[40], h[32], want[32];
    CHECK_EQ_INT(pqcoap_test_rng_init(&st, &rng, (const uint8_t *)"seed", 4), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_random(&rng, out, sizeof out), PQCOAP_OK);
    const pqcoap_span seed = {(const uint8_t *)"seed", 4};
    CHECK_EQ_INT(pqcoap_sha256(&seed, 1, h), PQCOAP_OK);
    static const uint8_t ctr0[8];
    const pqcoap_span blk[2] = {{h, 32}, {ctr0, 8}};
    CHECK_EQ_INT(pqcoap_sha256(blk, 2, want), PQCOAP_OK);
    CHECK_MEM(out, want, 32);
    CHECK_EQ_INT(pqcoap_test_rng_init(NULL, &rng, NULL, 0), PQCOAP_ERR_ARG);
}

static void test_determinism(void)
{
    static uint8_t pk1[PQCOAP_SIG_PK_MAX], sk1[PQCOAP_SIG_SK_MAX];
    static uint8_t pk2[PQCOAP_SIG_PK_MAX], sk2[PQCOAP_SIG_SK_MAX];
    static uint8_t sig1[PQCOAP_SIG_MAX], sig2[PQCOAP_SIG_MAX];
    static uint8_t kpk1[PQCOAP_KEM_PK_MAX], ksk1[PQCOAP_KEM_SK_MAX], ct1[PQCOAP_KEM_CT_MAX];
    static uint8_t kpk2[PQCOAP_KEM_PK_MAX], ksk2[PQCOAP_KEM_SK_MAX], ct2[PQCOAP_KEM_CT_MAX];
    uint8_t ss1[32], ss2[32], x1[32], x2[32], xs1[32], xs2[32];
    size_t len1 = 0, len2 = 0;
    const pqcoap_sig_alg *sig = &pqcoap_sig_falcon512;
    const pqcoap_kem_alg *kem = &pqcoap_kem_mlkem768;
    const pqcoap_span msg = {(const uint8_t *)"deterministic", 13};

    pqcoap_err e[2][5];
    uint8_t *pk[2] = {pk1, pk2}, *sk[2] = {sk1, sk2}, *sg[2] = {sig1, sig2};
    uint8_t *kpk[2] = {kpk1, kpk2}, *ksk[2] = {ksk1, ksk2}, *ct[2] = {ct1, ct2};
    uint8_t *ss[2] = {ss1, ss2}, *x[2] = {x1, x2}, *xs[2] = {xs1, xs2};
    size_t *len[2] = {&len1, &len2};
    for (int run = 0; run < 2; run++) {
        pqcoap_test_rng st;
        pqcoap_rng rng;
        pqcoap_test_rng_init(&st, &rng, (const uint8_t *)"same seed", 9);
        e[run][0] = sig->keygen(&rng, pk[run], sk[run]);
        e[run][1] = sig->sign(&rng, sk[run], &msg, 1, sg[run], len[run]);
        e[run][2] = kem->keygen(&rng, kpk[run], ksk[run]);
        e[run][3] = kem->encaps(&rng, kpk[run], ct[run], ss[run]);
        e[run][4] = pqcoap_x25519_keygen(&rng, x[run], xs[run]);
    }
    for (int i = 0; i < 5; i++)
        CHECK(e[0][i] == PQCOAP_OK && e[1][i] == PQCOAP_OK);
    CHECK_MEM(pk1, pk2, sig->pk_len);
    CHECK_MEM(sk1, sk2, sig->sk_len);
    CHECK_EQ_INT(len1, len2);
    CHECK_MEM(sig1, sig2, len1);
    CHECK_MEM(kpk1, kpk2, kem->pk_len);
    CHECK_MEM(ksk1, ksk2, kem->sk_len);
    CHECK_MEM(ct1, ct2, kem->ct_len);
    CHECK_MEM(ss1, ss2, 32);
    CHECK_MEM(x1, x2, 32);
    /* a different seed gives a different key */
    pqcoap_test_rng st;
    pqcoap_rng rng;
    pqcoap_test_rng_init(&st, &rng, (const uint8_t *)"other seed", 10);
    CHECK_EQ_INT(kem->keygen(&rng, kpk2, ksk2), PQCOAP_OK);
    CHECK(memcmp(kpk1, kpk2, kem->pk_len) != 0);
}

static void test_routing(void)
{
    static uint8_t pk[PQCOAP_KEM_PK_MAX], sk[PQCOAP_KEM_SK_MAX], ct[PQCOAP_KEM_CT_MAX];
    uint8_t ss[32], buf[16];
    counting c = {0, 0};
    const pqcoap_rng rng = {counting_fill, &c};
    /* ML-KEM keygen draws d || z (64 bytes) and encaps m (32 bytes), all from our rng */
    CHECK_EQ_INT(pqcoap_kem_mlkem768.keygen(&rng, pk, sk), PQCOAP_OK);
    CHECK_EQ_INT(c.drawn, 64);
    CHECK_EQ_INT(pqcoap_kem_mlkem768.encaps(&rng, pk, ct, ss), PQCOAP_OK);
    CHECK_EQ_INT(c.drawn, 96);
    /* after the call the thread is back on the system RNG */
    CHECK_EQ_INT(PQCLEAN_randombytes(buf, sizeof buf), 0);
    CHECK_EQ_INT(c.drawn, 96);
    /* a failing rng makes the operation fail; the secret key is wiped */
    c.fail = 1;
    static const uint8_t zero[PQCOAP_KEM_SK_MAX];
    CHECK_EQ_INT(pqcoap_kem_mlkem768.keygen(&rng, pk, sk), PQCOAP_ERR_CRYPTO);
    CHECK_MEM(sk, zero, pqcoap_kem_mlkem768.sk_len);
    CHECK_EQ_INT(pqcoap_kem_mlkem768.encaps(&rng, pk, ct, ss), PQCOAP_ERR_CRYPTO);
    CHECK_MEM(ss, zero, 32);
    uint8_t x_pk[32], x_sk[32];
    CHECK_EQ_INT(pqcoap_x25519_keygen(&rng, x_pk, x_sk), PQCOAP_ERR_CRYPTO);
    /* ...and a later call on the system RNG works again */
    CHECK_EQ_INT(pqcoap_kem_mlkem768.keygen(NULL, pk, sk), PQCOAP_OK);

    /* Falcon signing draws its nonce and sampler seed from the rng too */
    static uint8_t fpk[PQCOAP_SIG_PK_MAX], fsk[PQCOAP_SIG_SK_MAX], sig[PQCOAP_SIG_MAX];
    size_t sig_len = 0;
    c.fail = 0;
    c.drawn = 0;
    const pqcoap_span msg = {(const uint8_t *)"m", 1};
    CHECK_EQ_INT(pqcoap_sig_falcon512.keygen(&rng, fpk, fsk), PQCOAP_OK);
    size_t after_keygen = c.drawn;
    CHECK(after_keygen > 0);
    CHECK_EQ_INT(pqcoap_sig_falcon512.sign(&rng, fsk, &msg, 1, sig, &sig_len), PQCOAP_OK);
    CHECK(c.drawn > after_keygen);
    c.fail = 1;
    CHECK_EQ_INT(pqcoap_sig_falcon512.sign(&rng, fsk, &msg, 1, sig, &sig_len), PQCOAP_ERR_CRYPTO);
    CHECK_EQ_INT(sig_len, 0);
}

/* ML-DSA draws from the rng of the call only: key generation the 32-byte seed xi, signing
 * the 32-byte rnd (FIPS 204 Algorithms 1 and 2, hedged). The same rng stream gives the same
 * key and signature; another stream signs the same message differently; a failing rng fails
 * the call and leaves no secret key or signature behind. */
static void test_mldsa_rng(const pqcoap_sig_alg *alg)
{
    static uint8_t pk[2][PQCOAP_SIG_PK_MAX], sk[2][PQCOAP_SIG_SK_MAX], sig[3][PQCOAP_SIG_MAX];
    static const uint8_t zero[PQCOAP_SIG_SK_MAX];
    size_t len[3] = {0, 0, 0};
    const pqcoap_span msg = {(const uint8_t *)"hedged", 6};
    for (int run = 0; run < 2; run++) {
        pqcoap_test_rng st;
        pqcoap_rng rng;
        CHECK_EQ_INT(pqcoap_test_rng_init(&st, &rng, (const uint8_t *)"ml-dsa", 6), PQCOAP_OK);
        CHECK_EQ_INT(alg->keygen(&rng, pk[run], sk[run]), PQCOAP_OK);
        CHECK_EQ_INT(alg->sign(&rng, sk[run], &msg, 1, sig[run], &len[run]), PQCOAP_OK);
    }
    CHECK_MEM(pk[0], pk[1], alg->pk_len);
    CHECK_MEM(sk[0], sk[1], alg->sk_len);
    CHECK(len[0] == alg->sig_max && len[1] == alg->sig_max);
    CHECK_MEM(sig[0], sig[1], alg->sig_max);

    pqcoap_test_rng st;
    pqcoap_rng other;
    CHECK_EQ_INT(pqcoap_test_rng_init(&st, &other, (const uint8_t *)"other", 5), PQCOAP_OK);
    CHECK_EQ_INT(alg->sign(&other, sk[0], &msg, 1, sig[2], &len[2]), PQCOAP_OK);
    CHECK(len[2] == alg->sig_max && memcmp(sig[0], sig[2], alg->sig_max) != 0);
    CHECK_EQ_INT(alg->verify(pk[0], &msg, 1, sig[2], len[2]), PQCOAP_OK);

    counting c = {0, 0};
    const pqcoap_rng rng = {counting_fill, &c};
    CHECK_EQ_INT(alg->keygen(&rng, pk[1], sk[1]), PQCOAP_OK);
    CHECK_EQ_INT(c.drawn, 32);
    CHECK_EQ_INT(alg->sign(&rng, sk[1], &msg, 1, sig[1], &len[1]), PQCOAP_OK);
    CHECK_EQ_INT(c.drawn, 64);
    c.fail = 1;
    CHECK_EQ_INT(alg->keygen(&rng, pk[1], sk[1]), PQCOAP_ERR_CRYPTO);
    CHECK_MEM(sk[1], zero, alg->sk_len);
    CHECK_EQ_INT(alg->sign(&rng, sk[0], &msg, 1, sig[1], &len[1]), PQCOAP_ERR_CRYPTO);
    CHECK_EQ_INT(len[1], 0);
}

int main(void)
{
    test_suites();
    test_test_rng();
    test_sizes();
    for (size_t i = 0; i < COUNT(all_sigs); i++)
        test_sig(all_sigs[i]);
    for (size_t i = 0; i < COUNT(all_kems); i++)
        test_kem(all_kems[i]);
    test_determinism();
    test_routing();
    for (size_t i = 2; i < COUNT(all_sigs); i++)
        test_mldsa_rng(all_sigs[i]);
    return check_done();
}

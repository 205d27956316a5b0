/* Operations per CPU second of each crypto primitive pqcoap uses (thread CPU time, so that
 * other load on the machine does not count). Prints one line per primitive:
 * "<name> <ops/s>". Usage: bench_crypto [CPU seconds per primitive, default 0.5]. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "crypto/crypto_internal.h"

/* Inputs and outputs shared by the measured operations, prepared once. */
static struct {
    uint8_t sig_pk[PQCOAP_SIG_PK_MAX], sig_sk[PQCOAP_SIG_SK_MAX], sig[PQCOAP_SIG_MAX];
    size_t sig_len;
    uint8_t kem_pk[PQCOAP_KEM_PK_MAX], kem_sk[PQCOAP_KEM_SK_MAX], ct[PQCOAP_KEM_CT_MAX];
    uint8_t ss[PQCOAP_KEM_SS_LEN];
    uint8_t x_pk[32], x_sk[32], x_peer[32], x_ss[32];
    uint8_t key[32], nonce[12], msg[64], sealed[64 + 16], opened[64], mac[32], okm[32];
    uint8_t ck[32], mk[32], big[4096];
} s;

static const pqcoap_span msg_span = {(const uint8_t *)"a CoAP payload to sign", 22};

/* keygen, sign and verify of each signature algorithm (Mode A v2 signs with any of them) */
#define SIG_OPS(fn, alg)                                                                    \
    static int fn##_keygen(void) { return alg.keygen(NULL, s.sig_pk, s.sig_sk); }         \
    static int fn##_sign(void)                                                              \
    {                                                                                       \
        return alg.sign(NULL, s.sig_sk, &msg_span, 1, s.sig, &s.sig_len);                   \
    }                                                                                       \
    static int fn##_verify(void) { return alg.verify(s.sig_pk, &msg_span, 1, s.sig, s.sig_len); }
SIG_OPS(falcon, pqcoap_sig_falcon512)
SIG_OPS(falcon1024, pqcoap_sig_falcon1024)
SIG_OPS(mldsa44, pqcoap_sig_mldsa44)
SIG_OPS(mldsa65, pqcoap_sig_mldsa65)
SIG_OPS(mldsa87, pqcoap_sig_mldsa87)
static int mlkem_keygen(void) { return pqcoap_kem_mlkem768.keygen(NULL, s.kem_pk, s.kem_sk); }
static int mlkem_encaps(void) { return pqcoap_kem_mlkem768.encaps(NULL, s.kem_pk, s.ct, s.ss); }
static int mlkem_decaps(void) { return pqcoap_kem_mlkem768.decaps(s.kem_sk, s.ct, s.ss); }
static int x25519(void)
{
    pqcoap_err err = pqcoap_x25519_keygen(NULL, s.x_pk, s.x_sk);
    return err != PQCOAP_OK ? err : pqcoap_x25519_derive(s.x_sk, s.x_peer, s.x_ss);
}
static int gcm_seal(void)
{
    return pqcoap_aead_seal(s.key, s.nonce, NULL, 0, s.msg, sizeof s.msg, s.sealed);
}
static int gcm_open(void)
{
    return pqcoap_aead_open(s.key, s.nonce, NULL, 0, s.sealed, sizeof s.sealed, s.opened);
}
static int hmac1(void)
{
    const pqcoap_span in = {s.msg, 1};
    return pqcoap_hmac_sha256(s.key, sizeof s.key, &in, 1, s.mac);
}
static int hkdf32(void)
{
    return pqcoap_hkdf_expand(s.key, sizeof s.key, s.msg, 8, s.okm, sizeof s.okm);
}

/* One step of a Mode B key chain (PROTOCOL.md "Key schedule"): mk = HMAC(ck, 0x01),
 * ck = HMAC(ck, 0x02). */
static int chain_step(void)
{
    static const uint8_t one = 1, two = 2;
    const pqcoap_span s1 = {&one, 1}, s2 = {&two, 1};
    pqcoap_err err = pqcoap_hmac_sha256(s.ck, sizeof s.ck, &s1, 1, s.mk);
    return err != PQCOAP_OK ? err : pqcoap_hmac_sha256(s.ck, sizeof s.ck, &s2, 1, s.ck);
}
static int hkdf_extract(void)
{
    const pqcoap_span ikm = {s.msg, sizeof s.msg};
    return pqcoap_hkdf_extract(s.key, sizeof s.key, &ikm, 1, s.okm);
}
static int sha256_4k(void)
{
    const pqcoap_span in = {s.big, sizeof s.big};
    return pqcoap_sha256(&in, 1, s.mac);
}

static const struct {
    const char *name;
    int (*op)(void);
} ops[] = {
    {"falcon512_keygen", falcon_keygen}, {"falcon512_sign", falcon_sign},
    {"falcon512_verify", falcon_verify}, {"mlkem768_keygen", mlkem_keygen},
    {"mlkem768_encaps", mlkem_encaps},   {"mlkem768_decaps", mlkem_decaps},
    {"x25519_keygen_derive", x25519},    {"aes256gcm_seal_64", gcm_seal},
    {"aes256gcm_open_64", gcm_open},     {"hmac_sha256_1", hmac1},
    {"hkdf_expand_32", hkdf32},          {"hkdf_extract_64", hkdf_extract},
    {"kdf_chain_step", chain_step},      {"sha256_4096", sha256_4k},
    {"falcon1024_keygen", falcon1024_keygen}, {"falcon1024_sign", falcon1024_sign},
    {"falcon1024_verify", falcon1024_verify}, {"mldsa44_keygen", mldsa44_keygen},
    {"mldsa44_sign", mldsa44_sign},           {"mldsa44_verify", mldsa44_verify},
    {"mldsa65_keygen", mldsa65_keygen},       {"mldsa65_sign", mldsa65_sign},
    {"mldsa65_verify", mldsa65_verify},       {"mldsa87_keygen", mldsa87_keygen},
    {"mldsa87_sign", mldsa87_sign},           {"mldsa87_verify", mldsa87_verify},
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    double seconds = argc > 1 ? atof(argv[1]) : 0.5;
    if (seconds <= 0)
        seconds = 0.5;
    pqcoap_x25519_keygen(NULL, s.x_peer, s.x_sk);
    pqcoap_random(NULL, s.key, sizeof s.key);
    /* Each operation's output is the next one's input, so prepare them in table order. */
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        if (ops[i].op() != PQCOAP_OK) {
            fprintf(stderr, "bench_crypto: %s failed\n", ops[i].name);
            return 1;
        }
        unsigned long n = 0;
        double start = now_s(), elapsed;
        do {
            ops[i].op();
            n++;
            elapsed = now_s() - start;
        } while (elapsed < seconds);
        printf("%-22s %12.0f\n", ops[i].name, (double)n / elapsed);
    }
    return 0;
}

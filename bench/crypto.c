/* Operations per CPU second of each crypto primitive pqcoap uses (thread CPU time, so that
 * other load on the machine does not count; read once per batch of operations, as a read
 * costs about as much as a symmetric primitive). Prints one line per primitive:
 * "<name> <ops/s>". Usage: bench_crypto [CPU seconds per primitive, default 0.5]. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "pqcoap/keys.h"
#include "core/record_internal.h"
#include "crypto/crypto_internal.h"

/* Inputs and outputs shared by the measured operations, prepared once. */
static struct {
    uint8_t sig_pk[PQCOAP_SIG_PK_MAX], sig_sk[PQCOAP_SIG_SK_MAX], sig[PQCOAP_SIG_MAX];
    size_t sig_len;
    uint8_t kem_pk[PQCOAP_KEM_PK_MAX], kem_sk[PQCOAP_KEM_SK_MAX], ct[PQCOAP_KEM_CT_MAX];
    uint8_t ss[PQCOAP_KEM_SS_LEN];
    uint8_t x_pk[32], x_sk[32], x_peer[32], x_ss[32];
    uint8_t key[32], nonce[12], msg[64], sealed[64 + 16], opened[64], mac[32], okm[32];
    uint8_t ck[32], mk[32], big[4096], ccm_sealed[64 + 8];
    pqcoap_expanded_key ek;
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
/* signing from the expanded key, the way a server and the handshake sides sign; the key is
 * expanded before the timing starts */
#define SIG_EK_OPS(fn, alg)                                                                 \
    static int fn##_expand(void) { return pqcoap_sig_expand(&alg, s.sig_sk, &s.ek); }     \
    static int fn##_sign_ek(void)                                                           \
    {                                                                                       \
        return pqcoap_sig_sign(&alg, NULL, s.sig_sk, s.ek.k, s.ek.len, &msg_span, 1, s.sig, \
                               &s.sig_len);                                                 \
    }
SIG_OPS(falcon, pqcoap_sig_falcon512)
SIG_OPS(falcon1024, pqcoap_sig_falcon1024)
SIG_EK_OPS(falcon, pqcoap_sig_falcon512)
SIG_EK_OPS(falcon1024, pqcoap_sig_falcon1024)
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
    return pqcoap_chain_step(s.ck, s.mk);
}
/* OSCORE's default AEAD, AES-CCM-16-64-128 (RFC 8613), on a 64-byte payload */
static int ccm_seal(void)
{
    return pqcoap_cose_seal(pqcoap_cose_aead_find(10), s.key, s.nonce, s.nonce, 8, s.msg,
                            sizeof s.msg, s.ccm_sealed);
}
static int ccm_open(void)
{
    return pqcoap_cose_open(pqcoap_cose_aead_find(10), s.key, s.nonce, s.nonce, 8,
                            s.ccm_sealed, sizeof s.ccm_sealed, s.opened);
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

/* The primitives in the order they run: each one's output is the next one's input; `prep`
 * (if any) runs once before the timing starts. */
static const struct {
    const char *name;
    int (*op)(void);
    int (*prep)(void);
} ops[] = {
    {"falcon512_keygen", falcon_keygen, NULL}, {"falcon512_sign", falcon_sign, NULL},
    {"falcon512_sign_expanded", falcon_sign_ek, falcon_expand},
    {"falcon512_verify", falcon_verify, NULL}, {"mlkem768_keygen", mlkem_keygen, NULL},
    {"mlkem768_encaps", mlkem_encaps, NULL},   {"mlkem768_decaps", mlkem_decaps, NULL},
    {"x25519_keygen_derive", x25519, NULL},    {"aes256gcm_seal_64", gcm_seal, NULL},
    {"aes256gcm_open_64", gcm_open, NULL},     {"aesccm16_64_128_seal_64", ccm_seal, NULL},
    {"aesccm16_64_128_open_64", ccm_open, NULL}, {"hmac_sha256_1", hmac1, NULL},
    {"hkdf_expand_32", hkdf32, NULL},          {"hkdf_extract_64", hkdf_extract, NULL},
    {"kdf_chain_step", chain_step, NULL},      {"sha256_4096", sha256_4k, NULL},
    {"falcon1024_keygen", falcon1024_keygen, NULL}, {"falcon1024_sign", falcon1024_sign, NULL},
    {"falcon1024_sign_expanded", falcon1024_sign_ek, falcon1024_expand},
    {"falcon1024_verify", falcon1024_verify, NULL}, {"mldsa44_keygen", mldsa44_keygen, NULL},
    {"mldsa44_sign", mldsa44_sign, NULL},           {"mldsa44_verify", mldsa44_verify, NULL},
    {"mldsa65_keygen", mldsa65_keygen, NULL},       {"mldsa65_sign", mldsa65_sign, NULL},
    {"mldsa65_verify", mldsa65_verify, NULL},       {"mldsa87_keygen", mldsa87_keygen, NULL},
    {"mldsa87_sign", mldsa87_sign, NULL},           {"mldsa87_verify", mldsa87_verify, NULL},
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
        if ((ops[i].prep && ops[i].prep() != PQCOAP_OK) || ops[i].op() != PQCOAP_OK) {
            fprintf(stderr, "bench_crypto: %s failed\n", ops[i].name);
            return 1;
        }
        /* batches double until one takes an eighth of the time, so the clock is read a few
         * dozen times whatever the primitive costs */
        unsigned long n = 0, batch = 1;
        double start = now_s(), elapsed;
        do {
            for (unsigned long k = 0; k < batch; k++)
                ops[i].op();
            n += batch;
            elapsed = now_s() - start;
            if (elapsed < seconds / 8)
                batch *= 2;
        } while (elapsed < seconds);
        printf("%-24s %12.0f\n", ops[i].name, (double)n / elapsed);
    }
    return 0;
}

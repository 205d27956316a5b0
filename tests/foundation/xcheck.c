/* Helper of the cross-check test (tests/js/crosscheck.mjs): runs one pqcoap signature or KEM
 * operation of a named algorithm on hex arguments and prints hex results, one per line.
 *   xcheck sig-keygen ALG [RAND] | sig-sign ALG SK MSG [RAND] | sig-verify ALG PK MSG SIG
 *   xcheck sig-sign-expanded ALG SK MSG [RAND]   (signs from SK's expanded form)
 *   xcheck kem-keygen ALG [RAND] | kem-encaps ALG PK [RAND] | kem-decaps ALG SK CT
 * ALG is a table name ("falcon-512", "ml-dsa-65", "ml-kem-1024"). RAND, if given, is every
 * byte the operation may draw from its rng, in order: the call fails unless it draws
 * exactly these. Without RAND it draws from the system RNG.
 * Exit status: 0 success, 1 signature rejected, 2 usage or other error. */
#include <stdio.h>
#include <string.h>

#include "pqcoap/keys.h"
#include "crypto/crypto_internal.h"
#include "hex.h"

#define BUF 8192

static uint8_t a[BUF], b[BUF], c[BUF], rand_bytes[BUF];
static pqcoap_expanded_key ek;

static const pqcoap_sig_alg *const sigs[] = {
    &pqcoap_sig_falcon512, &pqcoap_sig_falcon1024,
    &pqcoap_sig_mldsa44, &pqcoap_sig_mldsa65, &pqcoap_sig_mldsa87,
};
static const pqcoap_kem_alg *const kems[] = {
    &pqcoap_kem_mlkem512, &pqcoap_kem_mlkem768, &pqcoap_kem_mlkem1024,
};

/* The rng of RAND: hands out rand_bytes[0..len) once. */
typedef struct fixed {
    size_t len, used;
} fixed;

static pqcoap_err fixed_fill(void *ctx, uint8_t *out, size_t n)
{
    fixed *f = ctx;
    if (n > f->len - f->used)
        return PQCOAP_ERR_CRYPTO;
    memcpy(out, rand_bytes + f->used, n);
    f->used += n;
    return PQCOAP_OK;
}

/* Decodes argument i into out, which must then hold exactly `want` bytes (0 = any). */
static int arg(int argc, char **argv, int i, uint8_t *out, size_t want, size_t *len)
{
    if (i >= argc)
        return 0;
    size_t n = unhex(argv[i], out, BUF);
    if (n == (size_t)-1 || (want != 0 && n != want))
        return 0;
    if (len != NULL)
        *len = n;
    return 1;
}

/* The rng for an operation whose arguments end before argument i: RAND if given, else
 * NULL (system RNG); *ok = 0 on a bad RAND or more arguments. */
static const pqcoap_rng *rng_arg(int argc, char **argv, int i, fixed *f, pqcoap_rng *rng,
                                 int *ok)
{
    *ok = argc <= i + 1;
    if (argc != i + 1)
        return NULL;
    f->used = 0;
    *ok = arg(argc, argv, i, rand_bytes, 0, &f->len);
    rng->fill = fixed_fill;
    rng->ctx = f;
    return rng;
}

static pqcoap_err run_sig(const pqcoap_sig_alg *sig, const char *cmd, int argc, char **argv)
{
    size_t n = 0, m = 0;
    fixed f = {0, 0};
    pqcoap_rng fixed_rng;
    const pqcoap_rng *rng;
    int ok;
    pqcoap_err err = PQCOAP_ERR_ARG;
    if (strcmp(cmd, "sig-keygen") == 0) {
        rng = rng_arg(argc, argv, 3, &f, &fixed_rng, &ok);
        if (ok && (err = sig->keygen(rng, a, b)) == PQCOAP_OK) {
            print_hex(stdout, a, sig->pk_len);
            print_hex(stdout, b, sig->sk_len);
        }
    } else if (strcmp(cmd, "sig-sign") == 0 || strcmp(cmd, "sig-sign-expanded") == 0) {
        rng = rng_arg(argc, argv, 5, &f, &fixed_rng, &ok);
        if (ok && arg(argc, argv, 3, a, sig->sk_len, NULL) && arg(argc, argv, 4, b, 0, &n)) {
            const pqcoap_span msg = {b, n};
            if (strcmp(cmd, "sig-sign") == 0)
                err = sig->sign(rng, a, &msg, 1, c, &m);
            else if ((err = pqcoap_sig_expand(sig, a, &ek)) == PQCOAP_OK)
                err = ek.len == 0 ? PQCOAP_ERR_ARG
                                  : pqcoap_sig_sign(sig, rng, a, ek.k, ek.len, &msg, 1, c, &m);
            if (err == PQCOAP_OK)
                print_hex(stdout, c, m);
        }
    } else if (strcmp(cmd, "sig-verify") == 0) {
        if (argc == 6 && arg(argc, argv, 3, a, sig->pk_len, NULL) &&
            arg(argc, argv, 4, b, 0, &n) && arg(argc, argv, 5, c, 0, &m)) {
            const pqcoap_span msg = {b, n};
            err = sig->verify(a, &msg, 1, c, m);
            printf("%s\n", pqcoap_strerror(err));
        }
    }
    return err == PQCOAP_OK && f.used != f.len ? PQCOAP_ERR_CRYPTO : err;
}

static pqcoap_err run_kem(const pqcoap_kem_alg *kem, const char *cmd, int argc, char **argv)
{
    fixed f = {0, 0};
    pqcoap_rng fixed_rng;
    const pqcoap_rng *rng;
    int ok;
    pqcoap_err err = PQCOAP_ERR_ARG;
    if (strcmp(cmd, "kem-keygen") == 0) {
        rng = rng_arg(argc, argv, 3, &f, &fixed_rng, &ok);
        if (ok && (err = kem->keygen(rng, a, b)) == PQCOAP_OK) {
            print_hex(stdout, a, kem->pk_len);
            print_hex(stdout, b, kem->sk_len);
        }
    } else if (strcmp(cmd, "kem-encaps") == 0) {
        rng = rng_arg(argc, argv, 4, &f, &fixed_rng, &ok);
        if (ok && arg(argc, argv, 3, a, kem->pk_len, NULL) &&
            (err = kem->encaps(rng, a, b, c)) == PQCOAP_OK) {
            print_hex(stdout, b, kem->ct_len);
            print_hex(stdout, c, kem->ss_len);
        }
    } else if (strcmp(cmd, "kem-decaps") == 0) {
        if (argc == 5 && arg(argc, argv, 3, a, kem->sk_len, NULL) &&
            arg(argc, argv, 4, b, kem->ct_len, NULL) && (err = kem->decaps(a, b, c)) == PQCOAP_OK)
            print_hex(stdout, c, kem->ss_len);
    }
    return err == PQCOAP_OK && f.used != f.len ? PQCOAP_ERR_CRYPTO : err;
}

int main(int argc, char **argv)
{
    const char *cmd = argc > 1 ? argv[1] : "", *alg = argc > 2 ? argv[2] : "";
    pqcoap_err err = PQCOAP_ERR_ARG;
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        if (strncmp(cmd, "sig-", 4) == 0 && strcmp(alg, sigs[i]->name) == 0)
            err = run_sig(sigs[i], cmd, argc, argv);
    for (size_t i = 0; i < sizeof kems / sizeof kems[0]; i++)
        if (strncmp(cmd, "kem-", 4) == 0 && strcmp(alg, kems[i]->name) == 0)
            err = run_kem(kems[i], cmd, argc, argv);
    if (err != PQCOAP_OK)
        fprintf(stderr, "xcheck %s %s: %s\n", cmd, alg, pqcoap_strerror(err));
    return err == PQCOAP_OK ? 0 : err == PQCOAP_ERR_AUTH ? 1 : 2;
}

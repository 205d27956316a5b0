/* Helper of the cross-check test (tests/js/crosscheck.mjs): runs one pqcoap Falcon-512 or
 * ML-KEM-768 operation on hex arguments and prints hex results, one per line.
 *   xcheck falcon-keygen | falcon-sign SK MSG | falcon-verify PK MSG SIG
 *   xcheck kem-keygen | kem-encaps PK | kem-decaps SK CT
 * Exit status: 0 success, 1 signature rejected, 2 usage or other error. */
#include <stdio.h>
#include <string.h>

#include "crypto/crypto_internal.h"
#include "hex.h"

#define BUF 4096

static uint8_t a[BUF], b[BUF], c[BUF];

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

int main(int argc, char **argv)
{
    const pqcoap_sig_alg *sig = &pqcoap_sig_falcon512;
    const pqcoap_kem_alg *kem = &pqcoap_kem_mlkem768;
    const char *cmd = argc > 1 ? argv[1] : "";
    size_t n = 0, m = 0;
    pqcoap_err err = PQCOAP_ERR_ARG;
    if (strcmp(cmd, "falcon-keygen") == 0) {
        if ((err = sig->keygen(NULL, a, b)) == PQCOAP_OK) {
            print_hex(stdout, a, sig->pk_len);
            print_hex(stdout, b, sig->sk_len);
        }
    } else if (strcmp(cmd, "falcon-sign") == 0) {
        if (arg(argc, argv, 2, a, sig->sk_len, NULL) && arg(argc, argv, 3, b, 0, &n)) {
            const pqcoap_span msg = {b, n};
            if ((err = sig->sign(NULL, a, &msg, 1, c, &m)) == PQCOAP_OK)
                print_hex(stdout, c, m);
        }
    } else if (strcmp(cmd, "falcon-verify") == 0) {
        if (arg(argc, argv, 2, a, sig->pk_len, NULL) && arg(argc, argv, 3, b, 0, &n) &&
            arg(argc, argv, 4, c, 0, &m)) {
            const pqcoap_span msg = {b, n};
            err = sig->verify(a, &msg, 1, c, m);
            printf("%s\n", pqcoap_strerror(err));
        }
    } else if (strcmp(cmd, "kem-keygen") == 0) {
        if ((err = kem->keygen(NULL, a, b)) == PQCOAP_OK) {
            print_hex(stdout, a, kem->pk_len);
            print_hex(stdout, b, kem->sk_len);
        }
    } else if (strcmp(cmd, "kem-encaps") == 0) {
        if (arg(argc, argv, 2, a, kem->pk_len, NULL) &&
            (err = kem->encaps(NULL, a, b, c)) == PQCOAP_OK) {
            print_hex(stdout, b, kem->ct_len);
            print_hex(stdout, c, kem->ss_len);
        }
    } else if (strcmp(cmd, "kem-decaps") == 0) {
        if (arg(argc, argv, 2, a, kem->sk_len, NULL) && arg(argc, argv, 3, b, kem->ct_len, NULL) &&
            (err = kem->decaps(a, b, c)) == PQCOAP_OK)
            print_hex(stdout, c, kem->ss_len);
    }
    if (err != PQCOAP_OK)
        fprintf(stderr, "xcheck %s: %s\n", cmd, pqcoap_strerror(err));
    return err == PQCOAP_OK ? 0 : err == PQCOAP_ERR_AUTH ? 1 : 2;
}

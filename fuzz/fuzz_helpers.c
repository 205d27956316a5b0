/* libFuzzer target: the small readers of received fields. The first input byte chooses:
 * even: pqcoap_opt_uint (src/net/msgbuf.c) over the rest as an option value; odd:
 * pqcoap_error_from_coap (src/core/session.c) with code = the second byte and the rest as
 * the diagnostic payload of an unprotected error response. */
#include "fuzz_common.h"
#include "pqcoap/layer.h"
#include "pqcoap/session.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void opt_uint(const uint8_t *p, size_t n)
{
    pqcoap_opt o = {PQCOAP_OPT_MAX_AGE, n ? p : NULL, n};
    uint32_t v = 0xa5a5a5a5u, want = 0;
    pqcoap_err err = pqcoap_opt_uint(&o, &v);
    /* RFC 7252 section 3.2: uint, big-endian, 0 to 4 bytes; longer is malformed */
    if (n > 4) {
        if (err != PQCOAP_ERR_MALFORMED || v != 0xa5a5a5a5u)
            __builtin_trap();
        return;
    }
    for (size_t i = 0; i < n; i++)
        want = want << 8 | p[i];
    if (err != PQCOAP_OK || v != want)
        __builtin_trap();
}

static void error_from_coap(uint8_t code, const uint8_t *diag, size_t n)
{
    pqcoap_err err = pqcoap_error_from_coap(code, n ? diag : NULL, n);
    if (err == PQCOAP_ERR_UNAUTHENTICATED)
        return; /* a code or diagnostic the protocol never sends unprotected */
    /* any other answer names an error the server side sends with exactly this code and,
     * for 4.01, exactly this diagnostic */
    pqcoap_coap_error e;
    if ((err != PQCOAP_ERR_HANDSHAKE && err != PQCOAP_ERR_UNKNOWN_SESSION &&
         err != PQCOAP_ERR_REJECTED && err != PQCOAP_ERR_MALFORMED && err != PQCOAP_ERR_BUSY &&
         err != PQCOAP_ERR_UNSUPPORTED) ||
        pqcoap_error_to_coap(err, PQCOAP_WHERE_PROTECTED, &e) != PQCOAP_OK || e.code != code ||
        (code == PQCOAP_CODE(4, 1) &&
         (strlen(e.diagnostic) != n || memcmp(e.diagnostic, diag, n) != 0)))
        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    if (data[0] % 2 == 0)
        opt_uint(data + 1, size - 1);
    else if (size >= 2)
        error_from_coap(data[1], data + 2, size - 2);
    return 0;
}

/* The Mode A v2 signature input exactly as PROTOCOL.md lays it out, built here by hand: a
 * request and a response signed by the library verify under Falcon-512 over that input, so
 * another implementation following the text accepts them (and none of the fields the text
 * lists is left out). */
#include <string.h>

#include "check.h"
#include "pqcoap/sign.h"
#include "crypto/crypto_internal.h"

static pqcoap_identity alice, bob;

/* POST /sensors?unit=c, Content-Format 0, as options in wire order. */
static const pqcoap_opt OPTS[] = {
    {PQCOAP_OPT_URI_PATH, (const uint8_t *)"sensors", 7},
    {PQCOAP_OPT_CONTENT_FORMAT, NULL, 0},
    {PQCOAP_OPT_URI_QUERY, (const uint8_t *)"unit=c", 6},
};
static const uint8_t MESSAGE[] = "t=21.5";

static size_t put_u16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
    return 2;
}

static size_t put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * (7 - i)));
    return 8;
}

/* label || u8 code || opts(msg) || kid || u64 seq || (recipient_kid, or request_kid ||
 * u64 request_seq); the message follows as its own piece. */
static size_t spec_input(const char *label, uint8_t code, const uint8_t kid[8], uint64_t seq,
                         const uint8_t recipient[8], const pqcoap_sig_req *req, uint8_t *out)
{
    size_t n = strlen(label);
    memcpy(out, label, n);
    out[n++] = code;
    n += put_u16(out + n, 3); /* opts(msg): u16 count, then u16 number || str16(value) */
    for (size_t i = 0; i < 3; i++) {
        n += put_u16(out + n, OPTS[i].number);
        n += put_u16(out + n, (uint16_t)OPTS[i].len);
        if (OPTS[i].len)
            memcpy(out + n, OPTS[i].value, OPTS[i].len);
        n += OPTS[i].len;
    }
    memcpy(out + n, kid, 8);
    n += 8;
    n += put_u64(out + n, seq);
    if (req) {
        memcpy(out + n, req->kid, 8);
        n += 8;
        n += put_u64(out + n, req->seq);
    } else {
        memcpy(out + n, recipient, 8);
        n += 8;
    }
    return n;
}

/* Signs MESSAGE as `who` (a request for `recipient` if req is NULL, else a response to req)
 * and verifies the signature from the payload `message || signature || u16 len` over the
 * hand-built input. */
static void check_input(const pqcoap_identity *who, uint8_t code, uint64_t seq,
                        const uint8_t *recipient, const pqcoap_sig_req *req)
{
    pqcoap_signer signer;
    uint8_t opt[PQCOAP_SIG_OPT_LEN], payload[sizeof MESSAGE + PQCOAP_SIGN_OVERHEAD_MAX];
    uint8_t head[256];
    size_t len = 0;
    pqcoap_msg m = {code, NULL, 0, OPTS, 3, MESSAGE, sizeof MESSAGE - 1};
    CHECK_EQ_INT(pqcoap_signer_from_identity(&signer, who, NULL), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_sign_v2(&signer, seq, &m, recipient, req, opt, payload, sizeof payload, &len),
                 PQCOAP_OK);
    size_t sig_len = (size_t)payload[len - 2] << 8 | payload[len - 1];
    CHECK_EQ_INT(len, sizeof MESSAGE - 1 + sig_len + 2);
    CHECK_MEM(payload, MESSAGE, sizeof MESSAGE - 1);
    const pqcoap_span in[2] = {
        {head, spec_input(req ? "pqcoap v2 resp" : "pqcoap v2 req", code, who->pub.kid, seq,
                          recipient, req, head)},
        {MESSAGE, sizeof MESSAGE - 1},
    };
    CHECK_EQ_INT(pqcoap_sig_falcon512.verify(who->pub.pk, in, 2, payload + sizeof MESSAGE - 1,
                                             sig_len), PQCOAP_OK);
    /* the option carries version 2, the signer's kid and seq */
    uint8_t want_opt[PQCOAP_SIG_OPT_LEN] = {PQCOAP_SIG_OPT_VERSION};
    memcpy(want_opt + 1, who->pub.kid, 8);
    put_u64(want_opt + 9, seq);
    CHECK_MEM(opt, want_opt, sizeof want_opt);
}

int main(void)
{
    CHECK_EQ_INT(pqcoap_identity_generate("falcon-512", NULL, &alice), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_identity_generate("falcon-512", NULL, &bob), PQCOAP_OK);
    check_input(&alice, PQCOAP_POST, 0x0102030405060708u, bob.pub.kid, NULL);
    pqcoap_sig_req req = {{0}, 0x1112131415161718u};
    memcpy(req.kid, alice.pub.kid, 8);
    check_input(&bob, PQCOAP_CODE(2, 5), 7, NULL, &req);
    pqcoap_identity_wipe(&alice);
    pqcoap_identity_wipe(&bob);
    return check_done();
}

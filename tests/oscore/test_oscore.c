/* OSCORE core behaviour beyond the Appendix C vectors: every AEAD, the replay window
 * (replay, reordering inside and outside it, size), wrong kid and kid context, a tampered
 * byte anywhere in the protected part, a forged message leaving the context unchanged,
 * option decoding, response binding, SSN limit and the Echo window recovery. */
#include "check.h"
#include "oscore/coap_wire.h"
#include "pqcoap/oscore.h"

static const uint8_t secret[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
static const uint8_t salt[8] = {0x9e, 0x7c, 0xa9, 0x22, 0x23, 0x78, 0x63, 0x40};
static const uint8_t idc[4] = {0xaa, 0xbb, 0xcc, 0xdd};

static pqcoap_opt ropts[32];
static uint8_t rbuf[2048];
static const pqcoap_oscore_out room = {ropts, 32, rbuf, sizeof rbuf};
static pqcoap_opt sopts[32];
static uint8_t sbuf[2048];
static const pqcoap_oscore_out sroom = {sopts, 32, sbuf, sizeof sbuf};

/* A client and a server context of algorithm alg with IDs cid and sid. */
static void pair(int alg, const uint8_t *cid, size_t cid_len, const uint8_t *sid,
                 size_t sid_len, unsigned window, pqcoap_oscore_ctx *c, pqcoap_oscore_ctx *s)
{
    pqcoap_oscore_params p = PQCOAP_OSCORE_PARAMS_INIT;
    p.master_secret = secret;
    p.master_secret_len = sizeof secret;
    p.master_salt = salt;
    p.master_salt_len = sizeof salt;
    p.id_context = idc;
    p.id_context_len = sizeof idc;
    p.has_id_context = 1;
    p.aead_alg = alg;
    p.replay_window = window;
    p.sender_id = cid;
    p.sender_id_len = cid_len;
    p.recipient_id = sid;
    p.recipient_id_len = sid_len;
    CHECK_EQ_INT(pqcoap_oscore_derive(&p, c), PQCOAP_OK);
    p.sender_id = sid;
    p.sender_id_len = sid_len;
    p.recipient_id = cid;
    p.recipient_id_len = cid_len;
    CHECK_EQ_INT(pqcoap_oscore_derive(&p, s), PQCOAP_OK);
}

/* A POST /sensors/temp?x=1 with Uri-Host, Content-Format and a payload. */
static const uint8_t host[] = "gw.example", path1[] = "sensors", path2[] = "temp",
                     query[] = "x=1", body[] = "21.5 C";
static const uint8_t cf[] = {0};
static const pqcoap_opt req_opts[] = {
    {PQCOAP_OPT_URI_HOST, host, sizeof host - 1},
    {PQCOAP_OPT_URI_PATH, path1, sizeof path1 - 1},
    {PQCOAP_OPT_URI_PATH, path2, sizeof path2 - 1},
    {PQCOAP_OPT_CONTENT_FORMAT, cf, 0},
    {PQCOAP_OPT_URI_QUERY, query, sizeof query - 1},
};
static const uint8_t token[] = {0xde, 0xad};
static const pqcoap_msg request = {PQCOAP_POST, token, 2, req_opts, 5, body, sizeof body - 1};
static const wire_msg hdr = {0x40, {0x12, 0x34}, {{0, NULL, 0}}, PQCOAP_MSG_INIT};

/* Protects `request` with ssn and serialises it into wire; returns its length. */
static size_t protect(const pqcoap_oscore_ctx *c, uint64_t ssn, int kidctx, uint8_t *wire,
                      size_t cap, pqcoap_oscore_binding *bind)
{
    pqcoap_msg out;
    CHECK_EQ_INT(pqcoap_oscore_protect_request(c, ssn, kidctx, &request, &room, &out, bind),
                 PQCOAP_OK);
    return wire_write(&hdr, &out, wire, cap);
}

/* Parses and unprotects a datagram on the server; returns the core's result. */
static pqcoap_err receive(pqcoap_oscore_ctx *s, const uint8_t *wire, size_t n,
                          pqcoap_msg *dec, pqcoap_oscore_binding *bind)
{
    wire_msg got;
    if (!wire_parse(wire, n, &got))
        return PQCOAP_ERR_MALFORMED;
    const pqcoap_opt *o = NULL;
    for (size_t i = 0; i < got.msg.n_opts; i++)
        if (got.opts[i].number == PQCOAP_OPT_OSCORE)
            o = &got.opts[i];
    if (o == NULL)
        return PQCOAP_ERR_MALFORMED;
    pqcoap_oscore_option opt;
    PQCOAP_TRY(pqcoap_oscore_option_parse(o->value, o->len, &opt));
    return pqcoap_oscore_unprotect_request(s, &got.msg, &opt, &sroom, dec, bind);
}

/* 1 if needle[0..m) occurs in hay[0..n). */
static int contains(const uint8_t *hay, size_t n, const char *needle)
{
    size_t m = strlen(needle);
    for (size_t i = 0; i + m <= n; i++)
        if (memcmp(hay + i, needle, m) == 0)
            return 1;
    return 0;
}

static int same_request(const pqcoap_msg *m)
{
    uint8_t a[512], b[512];
    size_t na = wire_write(&hdr, &request, a, sizeof a), nb = wire_write(&hdr, m, b, sizeof b);
    return na > 0 && na == nb && memcmp(a, b, na) == 0;
}

static void test_round_trip(int alg, size_t id_len)
{
    const uint8_t cid[7] = {1, 2, 3, 4, 5, 6, 7}, sid[7] = {9, 8, 7, 6, 5, 4, 3};
    pqcoap_oscore_ctx c, s;
    pair(alg, cid, id_len, sid, id_len, 32, &c, &s);
    uint8_t wire[512];
    pqcoap_oscore_binding cb, sb;
    size_t n = protect(&c, 0x0102030405, 1, wire, sizeof wire, &cb);
    CHECK(n > 0);
    /* Nothing of the path, query, content format or body is visible on the wire. */
    CHECK(!contains(wire, n, "sensors"));
    CHECK(!contains(wire, n, "21.5"));
    CHECK(contains(wire, n, "gw.example")); /* Uri-Host is Class U */
    pqcoap_msg dec;
    CHECK_EQ_INT(receive(&s, wire, n, &dec, &sb), PQCOAP_OK);
    CHECK(same_request(&dec));
    /* The response, without and with its own Partial IV. */
    static const uint8_t answer[] = "ok";
    const pqcoap_msg resp = {PQCOAP_CODE(2, 5), token, 2, NULL, 0, answer, 2};
    for (int with_piv = 0; with_piv <= 1; with_piv++) {
        pqcoap_msg out, back;
        CHECK_EQ_INT(pqcoap_oscore_protect_response(&s, &sb, with_piv, 7, &resp, &sroom, &out),
                     PQCOAP_OK);
        CHECK_EQ_INT(out.code, PQCOAP_CODE(2, 4));
        pqcoap_oscore_option opt;
        CHECK_EQ_INT(pqcoap_oscore_option_parse(out.opts[0].value, out.opts[0].len, &opt),
                     PQCOAP_OK);
        CHECK_EQ_INT(pqcoap_oscore_unprotect_response(&c, &cb, &out, &opt, &room, &back),
                     PQCOAP_OK);
        CHECK_EQ_INT(back.code, PQCOAP_CODE(2, 5));
        CHECK_EQ_INT(back.payload_len, 2);
        CHECK_MEM(back.payload, "ok", 2);
        /* Bound to its request: presented for another request, it does not open. */
        pqcoap_oscore_binding other = cb;
        other.piv[other.piv_len - 1] ^= 1;
        CHECK_EQ_INT(pqcoap_oscore_unprotect_response(&c, &other, &out, &opt, &room, &back),
                     PQCOAP_ERR_AUTH);
    }
    pqcoap_oscore_wipe(&c);
    pqcoap_oscore_wipe(&s);
}

static void test_window(void)
{
    const uint8_t cid[1] = {1}, sid[1] = {2};
    pqcoap_oscore_ctx c, s;
    pair(PQCOAP_COSE_AES_CCM_16_64_128, cid, 1, sid, 1, 32, &c, &s);
    uint8_t w5[512], w3[512], w40[512], w8[512];
    pqcoap_oscore_binding b;
    pqcoap_msg dec;
    size_t n5 = protect(&c, 5, 0, w5, sizeof w5, &b), n3 = protect(&c, 3, 0, w3, sizeof w3, &b);
    size_t n40 = protect(&c, 40, 0, w40, sizeof w40, &b), n8 = protect(&c, 8, 0, w8, sizeof w8, &b);
    CHECK_EQ_INT(receive(&s, w5, n5, &dec, &b), PQCOAP_OK);
    CHECK_EQ_INT(receive(&s, w5, n5, &dec, &b), PQCOAP_ERR_REPLAY);  /* replay */
    CHECK_EQ_INT(receive(&s, w3, n3, &dec, &b), PQCOAP_OK);          /* older, in window */
    CHECK_EQ_INT(receive(&s, w3, n3, &dec, &b), PQCOAP_ERR_REPLAY);
    CHECK_EQ_INT(receive(&s, w40, n40, &dec, &b), PQCOAP_OK);
    /* 40 - 8 = 32: just outside a window of 32, though a 64-bit bitmap would hold it. */
    CHECK_EQ_INT(receive(&s, w8, n8, &dec, &b), PQCOAP_ERR_REPLAY);
    pqcoap_oscore_wipe(&s);
    pqcoap_oscore_ctx s64;
    pair(PQCOAP_COSE_AES_CCM_16_64_128, cid, 1, sid, 1, 64, &c, &s64);
    CHECK_EQ_INT(receive(&s64, w40, n40, &dec, &b), PQCOAP_OK);
    CHECK_EQ_INT(receive(&s64, w8, n8, &dec, &b), PQCOAP_OK);        /* inside 64 */
    pqcoap_oscore_wipe(&c);
    pqcoap_oscore_wipe(&s64);
}

/* Every byte of the OSCORE option and of the ciphertext, flipped, is refused, and the
 * server's context stays byte for byte as it was. */
static void test_tamper(void)
{
    const uint8_t cid[2] = {0x10, 0x11}, sid[1] = {0x20};
    pqcoap_oscore_ctx c, s;
    pair(PQCOAP_COSE_AES_CCM_16_64_128, cid, 2, sid, 1, 32, &c, &s);
    uint8_t wire[512];
    pqcoap_oscore_binding b;
    size_t n = protect(&c, 9, 1, wire, sizeof wire, &b);
    wire_msg parsed;
    CHECK(wire_parse(wire, n, &parsed));
    const pqcoap_opt *o = &parsed.opts[1];
    CHECK_EQ_INT(o->number, PQCOAP_OPT_OSCORE);
    size_t start = (size_t)(o->value - wire), end = n;
    pqcoap_oscore_ctx before = s;
    size_t accepted = 0, tried = 0;
    for (size_t i = start; i < end; i++) {
        if (i >= start + o->len && i < (size_t)(parsed.msg.payload - wire))
            continue; /* the bytes between the option and the payload: other options */
        for (int bit = 0; bit < 8; bit++) {
            uint8_t t[512];
            memcpy(t, wire, n);
            t[i] ^= (uint8_t)(1u << bit);
            pqcoap_msg dec;
            pqcoap_oscore_binding sb;
            tried++;
            accepted += receive(&s, t, n, &dec, &sb) == PQCOAP_OK;
        }
    }
    CHECK(tried > 200);
    CHECK_EQ_INT(accepted, 0);
    CHECK(memcmp(&before, &s, sizeof s) == 0);
    pqcoap_msg dec;
    pqcoap_oscore_binding sb;
    CHECK_EQ_INT(receive(&s, wire, n, &dec, &sb), PQCOAP_OK);        /* the original */
    pqcoap_oscore_wipe(&c);
    pqcoap_oscore_wipe(&s);
}

static void test_wrong_context(void)
{
    const uint8_t cid[1] = {1}, sid[1] = {2}, other[1] = {3};
    pqcoap_oscore_ctx c, s, c2, s2;
    pair(PQCOAP_COSE_AES_CCM_16_64_128, cid, 1, sid, 1, 32, &c, &s);
    pair(PQCOAP_COSE_AES_CCM_16_64_128, other, 1, sid, 1, 32, &c2, &s2);
    uint8_t wire[512];
    pqcoap_oscore_binding b;
    pqcoap_msg dec;
    size_t n = protect(&c2, 1, 0, wire, sizeof wire, &b);
    CHECK_EQ_INT(receive(&s, wire, n, &dec, &b), PQCOAP_ERR_UNKNOWN_PEER); /* other kid */
    /* A kid context that is not the context's ID Context. */
    pqcoap_oscore_ctx c3 = c;
    c3.id_context[0] ^= 1;
    n = protect(&c3, 2, 1, wire, sizeof wire, &b);
    CHECK_EQ_INT(receive(&s, wire, n, &dec, &b), PQCOAP_ERR_UNKNOWN_PEER);
    /* The same key with a different ID Context, kid context not sent: the keys differ. */
    pqcoap_oscore_params p = PQCOAP_OSCORE_PARAMS_INIT;
    p.master_secret = secret;
    p.master_secret_len = sizeof secret;
    p.sender_id = cid;
    p.sender_id_len = 1;
    p.recipient_id = sid;
    p.recipient_id_len = 1;
    pqcoap_oscore_ctx c4;
    CHECK_EQ_INT(pqcoap_oscore_derive(&p, &c4), PQCOAP_OK);
    n = protect(&c4, 3, 0, wire, sizeof wire, &b);
    CHECK_EQ_INT(receive(&s, wire, n, &dec, &b), PQCOAP_ERR_AUTH);
    uint8_t diag_code = pqcoap_oscore_error_code(PQCOAP_ERR_AUTH, NULL);
    CHECK_EQ_INT(diag_code, PQCOAP_CODE(4, 0));
    pqcoap_oscore_wipe(&c);
    pqcoap_oscore_wipe(&s);
    pqcoap_oscore_wipe(&c2);
    pqcoap_oscore_wipe(&s2);
    pqcoap_oscore_wipe(&c3);
    pqcoap_oscore_wipe(&c4);
}

static void test_option_parse(void)
{
    pqcoap_oscore_option o;
    const struct { const char *what; uint8_t v[8]; size_t n; pqcoap_err want; } cases[] = {
        {"empty", {0}, 0, PQCOAP_OK},
        {"piv 1, kid empty", {0x09, 0x14}, 2, PQCOAP_OK},
        {"reserved bit 5", {0x21, 0x14}, 2, PQCOAP_ERR_MALFORMED},
        {"reserved bit 7", {0x81, 0x14}, 2, PQCOAP_ERR_MALFORMED},
        {"n = 6", {0x06, 1, 2, 3, 4, 5, 6}, 7, PQCOAP_ERR_MALFORMED},
        {"n = 7", {0x07, 1, 2, 3, 4, 5, 6}, 7, PQCOAP_ERR_MALFORMED},
        {"piv truncated", {0x03, 1, 2}, 3, PQCOAP_ERR_MALFORMED},
        {"kid context past end", {0x11, 0x14, 0x05, 1, 2}, 5, PQCOAP_ERR_MALFORMED},
        {"bytes without kid flag", {0x01, 0x14, 0x99}, 3, PQCOAP_ERR_MALFORMED},
        {"flags zero but bytes", {0x00, 0x01}, 2, PQCOAP_ERR_MALFORMED},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        pqcoap_err e = pqcoap_oscore_option_parse(cases[i].v, cases[i].n, &o);
        if (e != cases[i].want)
            fprintf(stderr, "option case '%s'\n", cases[i].what);
        CHECK_EQ_INT(e, cases[i].want);
    }
    /* Section 2: the option value is at most 255 bytes (a kid of 254 bytes fits). */
    uint8_t longv[256];
    memset(longv, 0, sizeof longv);
    longv[0] = 0x08;
    CHECK_EQ_INT(pqcoap_oscore_option_parse(longv, 255, &o), PQCOAP_OK);
    CHECK_EQ_INT(o.kid_len, 254);
    CHECK_EQ_INT(pqcoap_oscore_option_parse(longv, 256, &o), PQCOAP_ERR_MALFORMED);
    CHECK_EQ_INT(pqcoap_oscore_error_code(PQCOAP_ERR_MALFORMED, NULL), PQCOAP_CODE(4, 2));
}

static void test_limits_and_echo(void)
{
    const uint8_t cid[1] = {1}, sid[1] = {2};
    pqcoap_oscore_ctx c, s;
    pair(PQCOAP_COSE_A256GCM, cid, 1, sid, 1, 32, &c, &s);
    pqcoap_msg out;
    pqcoap_oscore_binding b;
    CHECK_EQ_INT(pqcoap_oscore_protect_request(&c, PQCOAP_OSCORE_SSN_MAX + 1, 0, &request,
                                               &room, &out, &b), PQCOAP_ERR_LIMIT);
    /* An ID longer than nonce length - 6 (6 for A256GCM) is refused. */
    pqcoap_oscore_params p = PQCOAP_OSCORE_PARAMS_INIT;
    const uint8_t long_id[7] = {0};
    p.master_secret = secret;
    p.master_secret_len = sizeof secret;
    p.aead_alg = PQCOAP_COSE_A256GCM;
    p.sender_id = long_id;
    p.sender_id_len = 7;
    pqcoap_oscore_ctx x;
    CHECK_EQ_INT(pqcoap_oscore_derive(&p, &x), PQCOAP_ERR_ARG);
    p.aead_alg = 12;
    p.sender_id_len = 1;
    CHECK_EQ_INT(pqcoap_oscore_derive(&p, &x), PQCOAP_ERR_UNSUPPORTED);
    /* A too small output room is an error, never an overflow. */
    pqcoap_opt few[1];
    uint8_t small[8];
    const pqcoap_oscore_out tiny = {few, 1, small, sizeof small};
    CHECK_EQ_INT(pqcoap_oscore_protect_request(&c, 1, 0, &request, &tiny, &out, &b),
                 PQCOAP_ERR_BUFFER);

    /* After a restart the window is unknown: the request is verified and handed back with
     * PQCOAP_ERR_STATE, the window stays invalid until the caller accepts an Echo. */
    uint8_t wire[512];
    size_t n = protect(&c, 50, 0, wire, sizeof wire, &b);
    s.window_valid = 0;
    pqcoap_msg dec;
    pqcoap_oscore_binding sb;
    CHECK_EQ_INT(receive(&s, wire, n, &dec, &sb), PQCOAP_ERR_STATE);
    CHECK(same_request(&dec));
    CHECK_EQ_INT(s.window_valid, 0);
    CHECK_EQ_INT(pqcoap_oscore_window_init(&s, &sb), PQCOAP_OK);
    CHECK_EQ_INT(receive(&s, wire, n, &dec, &sb), PQCOAP_ERR_REPLAY);
    n = protect(&c, 51, 0, wire, sizeof wire, &b);
    CHECK_EQ_INT(receive(&s, wire, n, &dec, &sb), PQCOAP_OK);
    pqcoap_oscore_wipe(&c);
    pqcoap_oscore_wipe(&s);
}

int main(void)
{
    test_round_trip(PQCOAP_COSE_AES_CCM_16_64_128, 7);
    test_round_trip(PQCOAP_COSE_AES_CCM_16_128_256, 0);
    test_round_trip(PQCOAP_COSE_A256GCM, 6);
    test_window();
    test_tamper();
    test_wrong_context();
    test_option_parse();
    test_limits_and_echo();
    return check_done();
}

/* Mode B keys as PROTOCOL.md "Key schedule" defines them, recomputed here from the primitives:
 * the two chains differ, each chain step gives a new message key and a new chain key, and
 * every protected message of a real session opens under the key of its own number and
 * direction only (no two messages sealed under one key). */
#include <string.h>

#include "check.h"
#include "fixture.h"

#define T0 3000000

static fixture fx;

static int differ(const uint8_t a[32], const uint8_t b[32])
{
    return memcmp(a, b, 32) != 0;
}

/* mk = HMAC-SHA256(ck, 0x01), next = HMAC-SHA256(ck, 0x02), straight from the text. */
static void spec_step(const uint8_t ck[32], uint8_t mk[32], uint8_t next[32])
{
    static const uint8_t one = 0x01, two = 0x02;
    const pqcoap_span s1 = {&one, 1}, s2 = {&two, 1};
    CHECK_EQ_INT(pqcoap_hmac_sha256(ck, 32, &s1, 1, mk), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_hmac_sha256(ck, 32, &s2, 1, next), PQCOAP_OK);
}

/* mk_n of the chain that starts at ck0. */
static void spec_key(const uint8_t ck0[32], uint64_t n, uint8_t mk[32])
{
    uint8_t ck[32], next[32];
    memcpy(ck, ck0, 32);
    for (uint64_t i = 0; i <= n; i++) {
        spec_step(ck, mk, next);
        memcpy(ck, next, 32);
    }
}

static void test_schedule(void)
{
    static const uint8_t init[] = "an INIT", resp[] = "its RESP";
    uint8_t kem_ss[32], x_ss[32], c2s[32], s2c[32];
    memset(kem_ss, 0x11, sizeof kem_ss);
    memset(x_ss, 0x22, sizeof x_ss);
    CHECK_EQ_INT(pqcoap_key_schedule(init, sizeof init, resp, sizeof resp, kem_ss, x_ss, c2s,
                                     s2c), PQCOAP_OK);
    /* TH = SHA-256(INIT || RESP); PRK = HKDF-Extract(TH, kem_ss || x25519_ss) */
    const pqcoap_span transcript[2] = {{init, sizeof init}, {resp, sizeof resp}};
    const pqcoap_span ikm[2] = {{kem_ss, 32}, {x_ss, 32}};
    uint8_t th[32], prk[32], want_c2s[32], want_s2c[32];
    CHECK_EQ_INT(pqcoap_sha256(transcript, 2, th), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_hkdf_extract(th, 32, ikm, 2, prk), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_hkdf_expand(prk, 32, (const uint8_t *)"pqcoap v1 c2s", 13, want_c2s, 32),
                 PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_hkdf_expand(prk, 32, (const uint8_t *)"pqcoap v1 s2c", 13, want_s2c, 32),
                 PQCOAP_OK);
    CHECK_MEM(c2s, want_c2s, 32);
    CHECK_MEM(s2c, want_s2c, 32);
    CHECK(differ(c2s, s2c));
}

static void test_chain(void)
{
    uint8_t ck[32], spec_ck[32], mk[4][32], spec_mk[32], next[32];
    memset(ck, 0x5a, sizeof ck);
    memcpy(spec_ck, ck, 32);
    for (int n = 0; n < 4; n++) {
        CHECK_EQ_INT(pqcoap_chain_step(ck, mk[n]), PQCOAP_OK);
        spec_step(spec_ck, spec_mk, next);
        CHECK_MEM(mk[n], spec_mk, 32);
        CHECK_MEM(ck, next, 32);
        CHECK(differ(mk[n], ck)); /* a message key never is the next chain key */
        memcpy(spec_ck, next, 32);
    }
    for (int a = 0; a < 4; a++)
        for (int b = a + 1; b < 4; b++)
            CHECK(differ(mk[a], mk[b]));
}

/* Writes the AAD of PROTOCOL.md "Protected message" for a request (is_resp 0) or a response
 * of the fixture's messages; returns its length. */
static size_t spec_aad(int is_resp, uint32_t sid, uint64_t n, const pqcoap_msg *m,
                       uint64_t request_n, uint8_t *out)
{
    size_t len = 0, opts_len = 0;
    memcpy(out, "pqcoap v1 msg", 13);
    len = 13;
    out[len++] = is_resp ? 0x11 : 0x10;
    for (int i = 3; i >= 0; i--)
        out[len++] = (uint8_t)(sid >> (8 * i));
    for (int i = 7; i >= 0; i--)
        out[len++] = (uint8_t)(n >> (8 * i));
    out[len++] = m->code;
    CHECK_EQ_INT(pqcoap_opts(m, out + len, 256, &opts_len), PQCOAP_OK);
    len += opts_len;
    if (is_resp)
        for (int i = 7; i >= 0; i--)
            out[len++] = (uint8_t)(request_n >> (8 * i));
    return len;
}

/* 1 if the protected payload of message n (ciphertext and tag at the end of prot) opens
 * under key mk with the AAD of m. */
static int opens(const uint8_t mk[32], int is_resp, uint32_t sid, uint64_t n,
                 const pqcoap_msg *m, uint64_t request_n, const uint8_t *prot, size_t len,
                 size_t ct_len)
{
    uint8_t aad[512], nonce[12] = {0}, plain[64];
    for (int i = 0; i < 8; i++)
        nonce[4 + i] = (uint8_t)(n >> (8 * (7 - i)));
    const pqcoap_span a = {aad, spec_aad(is_resp, sid, n, m, request_n, aad)};
    return pqcoap_aead_open(mk, nonce, &a, 1, prot + len - ct_len, ct_len, plain) == PQCOAP_OK;
}

static void test_session_keys(void)
{
    pqcoap_session client;
    CHECK_EQ_INT(fx_handshake(&fx, &fx.client, "client", 1, T0, &client), PQCOAP_OK);
    pqcoap_session *server = fx_server_session(&fx, client.sid);
    CHECK(server != NULL);
    if (!server)
        return;
    /* c2s: the client's sending chain is the server's receiving one; s2c the other way */
    uint8_t c2s0[32], s2c0[32];
    memcpy(c2s0, client.send.ck, 32);
    memcpy(s2c0, client.recv.ck, 32);
    CHECK_MEM(server->recv.ck, c2s0, 32);
    CHECK_MEM(server->send.ck, s2c0, 32);
    CHECK(differ(c2s0, s2c0));

    /* three requests with the same body: each opens under mk_n of c2s, none under another
     * message's key */
    enum { N = 3 };
    static const uint8_t body[] = "same body";
    const size_t ct_len = sizeof body + 16;
    uint8_t prot[N][64], mk[N][32], plain[64];
    size_t len[N], plain_len;
    uint64_t n[N];
    pqcoap_msg req = fx_request(PQCOAP_POST, NULL, 0, body, sizeof body);
    for (int i = 0; i < N; i++) {
        CHECK_EQ_INT(pqcoap_session_protect_request(&client, &req, T0, prot[i], sizeof prot[i],
                                                    &len[i], &n[i]), PQCOAP_OK);
        CHECK_EQ_INT(n[i], i);
        spec_key(c2s0, n[i], mk[i]);
    }
    for (int i = 0; i < N; i++)
        for (int k = 0; k < N; k++)
            CHECK_EQ_INT(opens(mk[k], 0, client.sid, n[i], &req, 0, prot[i], len[i], ct_len),
                         i == k);

    /* the response to request 0: under mk_0 of s2c, not under mk_0 of c2s */
    pqcoap_req_ctx ctx;
    pqcoap_msg wire = req;
    wire.payload = prot[0];
    wire.payload_len = len[0];
    CHECK_EQ_INT(pqcoap_responder_unprotect(&fx.responder, &wire, T0, plain, sizeof plain,
                                            &plain_len, &ctx), PQCOAP_OK);
    uint8_t rprot[64], s2c_mk0[32];
    size_t rlen;
    pqcoap_msg resp = fx_response(PQCOAP_CODE(2, 4), NULL, 0, body, sizeof body);
    CHECK_EQ_INT(pqcoap_responder_protect(&fx.responder, &ctx, &resp, T0, rprot, sizeof rprot,
                                          &rlen), PQCOAP_OK);
    spec_key(s2c0, 0, s2c_mk0);
    CHECK(opens(s2c_mk0, 1, client.sid, 0, &resp, n[0], rprot, rlen, ct_len));
    CHECK(!opens(mk[0], 1, client.sid, 0, &resp, n[0], rprot, rlen, ct_len));
    pqcoap_session_wipe(&client);
}

int main(void)
{
    fx_setup(&fx, "pqcoap key schedule tests", FX_SLOTS, 0, 0, 0);
    test_schedule();
    test_chain();
    test_session_keys();
    fx_teardown(&fx);
    return check_done();
}

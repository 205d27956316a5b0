/* RFC 8613 Appendix C: every derived key, IV, nonce, info, AAD, OSCORE option, ciphertext
 * and protected message of C.1-C.8, byte for byte, both as sender and as receiver. */
#include "check.h"
#include "core/oscore_internal.h"
#include "oscore/coap_wire.h"
#include "oscore/vectors.h"

#define EXPECT(id, field, got, got_len) do { uint8_t e_[512]; \
    size_t n_ = vec_hex(id, field, e_, sizeof e_); \
    CHECK(n_ != (size_t)-1); \
    CHECK_EQ_INT(got_len, n_); \
    if (n_ != (size_t)-1 && n_ == (size_t)(got_len)) CHECK_MEM(got, e_, n_); } while (0)

/* Byte strings of one context's parameters, read from the vector. */
typedef struct ctx_bytes {
    uint8_t secret[64], salt[64], sid[8], rid[8], idc[64];
} ctx_bytes;

static pqcoap_oscore_params params_of(const char *id, ctx_bytes *b)
{
    pqcoap_oscore_params p = PQCOAP_OSCORE_PARAMS_INIT;
    p.master_secret = b->secret;
    p.master_secret_len = vec_hex(id, "master_secret", b->secret, sizeof b->secret);
    size_t n = vec_hex(id, "master_salt", b->salt, sizeof b->salt);
    p.master_salt = b->salt;
    p.master_salt_len = n == (size_t)-1 ? 0 : n;
    p.sender_id = b->sid;
    p.sender_id_len = vec_hex(id, "sender_id", b->sid, sizeof b->sid);
    p.recipient_id = b->rid;
    p.recipient_id_len = vec_hex(id, "recipient_id", b->rid, sizeof b->rid);
    n = vec_hex(id, "id_context", b->idc, sizeof b->idc);
    p.has_id_context = n != (size_t)-1;
    p.id_context = b->idc;
    p.id_context_len = p.has_id_context ? n : 0;
    return p;
}

/* C.1-C.3: derivation as client and as server. */
static void test_derivation(const char *id)
{
    ctx_bytes b;
    pqcoap_oscore_params p = params_of(id, &b);
    pqcoap_oscore_ctx c;
    CHECK_EQ_INT(pqcoap_oscore_derive(&p, &c), PQCOAP_OK);
    uint8_t info[128];
    size_t n;
    CHECK_EQ_INT(pqcoap_oscore_info(&p, p.sender_id, p.sender_id_len, "Key", 16, info,
                                    sizeof info, &n), PQCOAP_OK);
    EXPECT(id, "info_for_sender_key", info, n);
    CHECK_EQ_INT(pqcoap_oscore_info(&p, p.recipient_id, p.recipient_id_len, "Key", 16, info,
                                    sizeof info, &n), PQCOAP_OK);
    EXPECT(id, "info_for_recipient_key", info, n);
    CHECK_EQ_INT(pqcoap_oscore_info(&p, NULL, 0, "IV", 13, info, sizeof info, &n), PQCOAP_OK);
    EXPECT(id, "info_for_common_iv", info, n);
    EXPECT(id, "sender_key", c.sender_key, 16);
    EXPECT(id, "recipient_key", c.recipient_key, 16);
    EXPECT(id, "common_iv", c.common_iv, 13);
    const uint8_t piv0[1] = {0};
    uint8_t nonce[13];
    pqcoap_oscore_nonce(&c, c.sender_id, c.sender_id_len, piv0, 1, nonce);
    EXPECT(id, "sender_nonce", nonce, 13);
    pqcoap_oscore_nonce(&c, c.recipient_id, c.recipient_id_len, piv0, 1, nonce);
    EXPECT(id, "recipient_nonce", nonce, 13);
    pqcoap_oscore_wipe(&c);
}

static void derive(const char *id, pqcoap_oscore_ctx *c)
{
    ctx_bytes b;
    pqcoap_oscore_params p = params_of(id, &b);
    CHECK_EQ_INT(pqcoap_oscore_derive(&p, c), PQCOAP_OK);
}

static pqcoap_opt room_opts[32];
static uint8_t room_buf[1024];
static const pqcoap_oscore_out room = {room_opts, 32, room_buf, sizeof room_buf};

/* C.4-C.6: the client protects the request; the server takes it back to the original. */
static void test_request(const char *id, const char *client, const char *server,
                         int send_kid_context, pqcoap_oscore_binding *bind_out)
{
    uint8_t plain[256], wire[512], back[512];
    size_t plain_len = vec_hex(id, "unprotected_coap_request", plain, sizeof plain);
    wire_msg in;
    CHECK(wire_parse(plain, plain_len, &in));
    pqcoap_oscore_ctx c, s;
    derive(client, &c);
    derive(server, &s);
    pqcoap_msg out;
    pqcoap_oscore_binding bind;
    CHECK_EQ_INT(pqcoap_oscore_protect_request(&c, 20, send_kid_context, &in.msg, &room, &out,
                                               &bind), PQCOAP_OK);
    EXPECT(id, "partial_iv", bind.piv, bind.piv_len);
    EXPECT(id, "kid", bind.kid, bind.kid_len);
    uint8_t nonce[13], aad[128];
    size_t aad_len;
    pqcoap_oscore_nonce(&c, bind.kid, bind.kid_len, bind.piv, bind.piv_len, nonce);
    EXPECT(id, "nonce", nonce, 13);
    CHECK_EQ_INT(pqcoap_oscore_aad(&c, &bind, aad, sizeof aad, &aad_len), PQCOAP_OK);
    EXPECT(id, "aad", aad, aad_len);
    const pqcoap_opt *o = NULL;
    for (size_t i = 0; i < out.n_opts; i++)
        if (out.opts[i].number == PQCOAP_OPT_OSCORE)
            o = &out.opts[i];
    CHECK(o != NULL);
    if (o != NULL)
        EXPECT(id, "oscore_option_value", o->value, o->len);
    EXPECT(id, "ciphertext", out.payload, out.payload_len);
    size_t n = wire_write(&in, &out, wire, sizeof wire);
    EXPECT(id, "protected_coap_request", wire, n);

    /* Receiver: parse the protected datagram as it came off the wire. */
    wire_msg got;
    CHECK(wire_parse(wire, n, &got));
    pqcoap_oscore_option opt;
    CHECK_EQ_INT(pqcoap_oscore_option_parse(got.opts[1].value, got.opts[1].len, &opt),
                 PQCOAP_OK);
    CHECK_EQ_INT(opt.has_kid_context, send_kid_context);
    pqcoap_msg dec;
    pqcoap_oscore_binding sbind;
    CHECK_EQ_INT(pqcoap_oscore_unprotect_request(&s, &got.msg, &opt, &room, &dec, &sbind),
                 PQCOAP_OK);
    n = wire_write(&in, &dec, back, sizeof back);
    CHECK_EQ_INT(n, plain_len);
    CHECK_MEM(back, plain, plain_len);
    CHECK_EQ_INT(sbind.piv_len, bind.piv_len);
    CHECK_EQ_INT(sbind.kid_len, bind.kid_len);
    if (bind_out != NULL)
        *bind_out = sbind;
    pqcoap_oscore_wipe(&c);
    pqcoap_oscore_wipe(&s);
}

/* C.7 and C.8: the server protects the response to C.4; the client opens it. */
static void test_response(const char *id, int with_piv, const pqcoap_oscore_binding *bind)
{
    uint8_t plain[256], wire[512], back[512];
    size_t plain_len = vec_hex(id, "unprotected_coap_response", plain, sizeof plain);
    wire_msg in;
    CHECK(wire_parse(plain, plain_len, &in));
    pqcoap_oscore_ctx c, s;
    derive("C.1.1", &c);
    derive("C.1.2", &s);
    pqcoap_msg out;
    CHECK_EQ_INT(pqcoap_oscore_protect_response(&s, bind, with_piv, 0, &in.msg, &room, &out),
                 PQCOAP_OK);
    uint8_t nonce[13], aad[128];
    size_t aad_len;
    if (with_piv) {
        const uint8_t piv0[1] = {0};
        pqcoap_oscore_nonce(&s, s.sender_id, s.sender_id_len, piv0, 1, nonce);
    } else {
        pqcoap_oscore_nonce(&s, bind->kid, bind->kid_len, bind->piv, bind->piv_len, nonce);
    }
    EXPECT(id, "nonce", nonce, 13);
    CHECK_EQ_INT(pqcoap_oscore_aad(&s, bind, aad, sizeof aad, &aad_len), PQCOAP_OK);
    EXPECT(id, "aad", aad, aad_len);
    CHECK_EQ_INT(out.n_opts, 1);
    EXPECT(id, "oscore_option_value", out.opts[0].value, out.opts[0].len);
    EXPECT(id, "ciphertext", out.payload, out.payload_len);
    size_t n = wire_write(&in, &out, wire, sizeof wire);
    EXPECT(id, "protected_coap_response", wire, n);

    wire_msg got;
    CHECK(wire_parse(wire, n, &got));
    pqcoap_oscore_option opt;
    CHECK_EQ_INT(pqcoap_oscore_option_parse(got.opts[0].value, got.opts[0].len, &opt),
                 PQCOAP_OK);
    pqcoap_msg dec;
    CHECK_EQ_INT(pqcoap_oscore_unprotect_response(&c, bind, &got.msg, &opt, &room, &dec),
                 PQCOAP_OK);
    n = wire_write(&in, &dec, back, sizeof back);
    CHECK_EQ_INT(n, plain_len);
    CHECK_MEM(back, plain, plain_len);
    pqcoap_oscore_wipe(&c);
    pqcoap_oscore_wipe(&s);
}

int main(void)
{
    if (!vec_load(PQCOAP_SOURCE_DIR "/tests/vectors/rfc8613-appc.json")) {
        fprintf(stderr, "cannot read the Appendix C vectors\n");
        return 1;
    }
    const char *derivations[] = {"C.1.1", "C.1.2", "C.2.1", "C.2.2", "C.3.1", "C.3.2"};
    for (size_t i = 0; i < sizeof derivations / sizeof derivations[0]; i++)
        test_derivation(derivations[i]);
    pqcoap_oscore_binding bind;
    test_request("C.4", "C.1.1", "C.1.2", 0, &bind);
    test_request("C.5", "C.2.1", "C.2.2", 0, NULL);
    test_request("C.6", "C.3.1", "C.3.2", 1, NULL);
    test_response("C.7", 0, &bind);
    test_response("C.8", 1, &bind);
    return check_done();
}

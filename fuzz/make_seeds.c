/* Makes the committed seed corpora fuzz/corpus/<target>/ with the real library code, over the
 * fixed keys and session the targets use, or checks that the committed files are still what
 * it makes. Usage: make_seeds [--check] SOURCE_DIR */
#include "fuzz_layer.h"
#include "hex.h"
#include "net/net_internal.h"
#include "pqcoap/sign.h"
#include "pqcoap/store.h"

#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>

static const char *corpus_dir; /* SOURCE_DIR/fuzz/corpus */
static int checking;
static int failures;

/* Writes (or, when checking, compares) the seed fuzz/corpus/<target>/<name>. */
static void seed(const char *target, const char *name, const uint8_t *p, size_t n)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", corpus_dir, target);
    if (!checking && mkdir(path, 0755) != 0 && errno != EEXIST) {
        perror(path);
        exit(1);
    }
    snprintf(path, sizeof path, "%s/%s/%s", corpus_dir, target, name);
    FILE *f = fopen(path, checking ? "rb" : "wb");
    if (!f) {
        perror(path);
        failures++;
        return;
    }
    if (checking) {
        static uint8_t have[65536];
        size_t got = fread(have, 1, sizeof have, f);
        if (got != n || memcmp(have, p, n) != 0) {
            fprintf(stderr, "%s differs from what make_seeds makes\n", path);
            failures++;
        }
    } else if (fwrite(p, 1, n, f) != n) {
        perror(path);
        exit(1);
    }
    fclose(f);
}

/* Reads the one-line hex test vector tests/vectors/<name>.hex into out. */
static size_t vector(const char *source_dir, const char *name, uint8_t *out, size_t cap)
{
    char path[4096], text[2 * 4096 + 2];
    snprintf(path, sizeof path, "%s/tests/vectors/%s.hex", source_dir, name);
    FILE *f = fopen(path, "r");
    if (!f || !fgets(text, sizeof text, f)) {
        perror(path);
        exit(1);
    }
    fclose(f);
    text[strcspn(text, "\n")] = 0;
    size_t n = unhex(text, out, cap);
    if (n == (size_t)-1)
        abort();
    return n;
}

/* Writes a message view in the layout fuzz_msg_read reads (fuzz_common.h). */
static size_t msg_write(const pqcoap_msg *m, uint8_t extra, uint8_t *out, size_t cap)
{
    pqcoap_writer w;
    pqcoap_wr_init(&w, out, cap);
    pqcoap_wr_u8(&w, m->code);
    pqcoap_wr_u8(&w, (uint8_t)(m->token_len | (size_t)extra << 4));
    pqcoap_wr_bytes(&w, m->token, m->token_len);
    pqcoap_wr_u8(&w, (uint8_t)m->n_opts);
    for (size_t i = 0; i < m->n_opts; i++) {
        pqcoap_wr_u16(&w, m->opts[i].number);
        pqcoap_wr_str8(&w, m->opts[i].value, m->opts[i].len);
    }
    pqcoap_wr_bytes(&w, m->payload, m->payload_len);
    fuzz_must(w.err);
    return w.len;
}

static void msg_seed(const char *target, const char *name, const pqcoap_msg *m, uint8_t extra)
{
    uint8_t buf[4096];
    seed(target, name, buf, msg_write(m, extra, buf, sizeof buf));
}

static const uint8_t token[2] = {0x4a, 0x01};
#define OPT(num, s) {num, (const uint8_t *)(s), sizeof(s) - 1}

static void varint_seeds(void)
{
    static const uint64_t values[] = {0, 127, 128, 16383, 16384, UINT64_MAX >> 8};
    uint8_t buf[64];
    pqcoap_writer w;
    pqcoap_wr_init(&w, buf, sizeof buf);
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++)
        pqcoap_wr_varint(&w, values[i]);
    fuzz_must(w.err);
    seed("fuzz_varint", "valid_sequence", buf, w.len);
    static const uint8_t nonminimal[] = {0x80, 0x00};
    static const uint8_t nine_bytes[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
    seed("fuzz_varint", "nonminimal", nonminimal, sizeof nonminimal);
    seed("fuzz_varint", "nine_bytes", nine_bytes, sizeof nine_bytes);
}

static void opts_seeds(void)
{
    static const pqcoap_opt path[] = {OPT(PQCOAP_OPT_URI_PATH, "sensors"),
                                      OPT(PQCOAP_OPT_URI_PATH, "temp")};
    static const pqcoap_opt mixed[] = {
        OPT(PQCOAP_OPT_URI_HOST, "plant.example"), OPT(PQCOAP_OPT_URI_PATH, "a"),
        OPT(PQCOAP_OPT_CONTENT_FORMAT, ""), OPT(PQCOAP_OPT_URI_QUERY, "x=1"),
        OPT(PQCOAP_OPT_BLOCK2, "\x16"), OPT(PQCOAP_OPT_PQ_SIG, "0123456789abcdefg")};
    static const pqcoap_opt unordered[] = {OPT(PQCOAP_OPT_URI_PATH, "b"),
                                           OPT(PQCOAP_OPT_URI_HOST, "h")};
    pqcoap_msg m = {PQCOAP_GET, token, sizeof token, path, 2, NULL, 0};
    msg_seed("fuzz_opts", "uri_path", &m, 0);
    m.opts = mixed;
    m.n_opts = sizeof mixed / sizeof mixed[0];
    msg_seed("fuzz_opts", "excluded_and_kept", &m, 0);
    m.opts = unordered;
    m.n_opts = 2;
    msg_seed("fuzz_opts", "out_of_order", &m, 0);
}

static void sign_seeds(void)
{
    const pqcoap_identity *id = fuzz_sign_identity();
    pqcoap_test_rng st;
    pqcoap_rng rng;
    pqcoap_signer s;
    fuzz_must(pqcoap_test_rng_init(&st, &rng, (const uint8_t *)"seeds", 5));
    fuzz_must(pqcoap_signer_from_identity(&s, id, &rng));
    pqcoap_signer s1 = s; /* the same key marked for v1, which signs v1 only */
    s1.usage = PQCOAP_USAGE_SIGN_V1;

    /* v1: a signed payload, the same with L below the minimum, and L alone */
    static const char text[] = "temperature 21.5";
    uint8_t out[1024];
    size_t len;
    fuzz_must(pqcoap_sign_v1(&s1, (const uint8_t *)text, sizeof text - 1, out, sizeof out, &len));
    seed("fuzz_sign_v1", "valid", out, len);
    out[len - 2] = 0;
    out[len - 1] = PQCOAP_SIGN_SIG_MIN - 1;
    seed("fuzz_sign_v1", "sig_len_below_min", out, len);
    seed("fuzz_sign_v1", "length_only", out + len - 2, 2);

    /* v2: a request, a response to the fixed request of fuzz_sign_v2.c, a v1 message under
     * the v1-and-v2 policy (extra bits: bit 0 response, bits 1-2 policy) */
    uint8_t sig_opt[PQCOAP_SIG_OPT_LEN];
    pqcoap_opt opts[2] = {OPT(PQCOAP_OPT_URI_PATH, "sensors"),
                          {PQCOAP_OPT_PQ_SIG, sig_opt, sizeof sig_opt}};
    pqcoap_msg m = {PQCOAP_POST, token, sizeof token, opts, 1, (const uint8_t *)text,
                    sizeof text - 1};
    static const uint8_t recipient[8] = {8, 7, 6, 5, 4, 3, 2, 1}; /* fuzz_sign_v2.c's own kid */
    fuzz_must(pqcoap_sign_v2(&s, 7, &m, recipient, NULL, sig_opt, out, sizeof out, &len));
    m.n_opts = 2;
    m.payload = out;
    m.payload_len = len;
    msg_seed("fuzz_sign_v2", "valid_request", &m, 0);

    pqcoap_sig_req req = {{1, 2, 3, 4, 5, 6, 7, 8}, 42};
    opts[0] = (pqcoap_opt)OPT(PQCOAP_OPT_CONTENT_FORMAT, "");
    m.code = PQCOAP_CODE(2, 5);
    m.n_opts = 1;
    m.payload = (const uint8_t *)text;
    m.payload_len = sizeof text - 1;
    fuzz_must(pqcoap_sign_v2(&s, 8, &m, NULL, &req, sig_opt, out, sizeof out, &len));
    m.n_opts = 2;
    m.payload = out;
    m.payload_len = len;
    msg_seed("fuzz_sign_v2", "valid_response", &m, 1);

    fuzz_must(pqcoap_sign_v1(&s1, (const uint8_t *)text, sizeof text - 1, out, sizeof out, &len));
    m.n_opts = 1;
    m.payload_len = len;
    msg_seed("fuzz_sign_v2", "v1_under_both", &m, PQCOAP_SIGN_V1_AND_V2 << 1);
}

static void handshake_seeds(const char *source_dir)
{
    uint8_t buf[PQCOAP_INIT_MAX];
    size_t len;
    fuzz_session *fs = fuzz_session_get();
    /* the waiting initiator's INIT (session_seq 2), which the fixed responder accepts */
    seed("fuzz_init", "valid", fs->initiator.init, fs->initiator.init_len);
    seed("fuzz_init", "truncated", fs->initiator.init, fs->initiator.init_len / 2);
    len = vector(source_dir, "session_01_init", buf, sizeof buf);
    seed("fuzz_init", "vector", buf, len);

    /* the responder's RESP to it, which completes the waiting initiator's handshake */
    fuzz_must(pqcoap_responder_handshake(&fs->responder, fs->initiator.init,
                                         fs->initiator.init_len, 1000, buf, sizeof buf, &len));
    seed("fuzz_resp", "valid", buf, len);
    seed("fuzz_resp", "truncated", buf, len - 1);
    len = vector(source_dir, "session_01_resp", buf, sizeof buf);
    seed("fuzz_resp", "vector", buf, len);
}

static void protected_seeds(const char *source_dir)
{
    static const pqcoap_opt req_opts[] = {OPT(PQCOAP_OPT_URI_PATH, "sensors"),
                                          OPT(PQCOAP_OPT_URI_PATH, "temp")};
    static const pqcoap_opt resp_opts[] = {OPT(PQCOAP_OPT_CONTENT_FORMAT, "")};
    pqcoap_msg req = {PQCOAP_POST, token, sizeof token, req_opts, 2,
                      (const uint8_t *)"set 21.5", 8};
    pqcoap_msg resp = {PQCOAP_CODE(2, 4), token, sizeof token, resp_opts, 1,
                       (const uint8_t *)"ok", 2};
    uint8_t prot[256], plain[256], prot_resp[256];
    size_t prot_len, plain_len, prot_resp_len;
    uint64_t n;
    pqcoap_req_ctx ctx;

    /* request 0 and the response to it, then request 2 (0 and 1 skipped) and its response */
    for (uint64_t want = 0; want <= 2; want += 2) {
        fuzz_session *fs = fuzz_session_get();
        do
            fuzz_must(pqcoap_session_protect_request(&fs->client_session, &req, 1000, prot,
                                                     sizeof prot, &prot_len, &n));
        while (n < want);
        pqcoap_msg sent = req;
        sent.payload = prot;
        sent.payload_len = prot_len;
        fuzz_must(pqcoap_responder_unprotect(&fs->responder, &sent, 1000, plain, sizeof plain,
                                             &plain_len, &ctx));
        fuzz_must(pqcoap_responder_protect(&fs->responder, &ctx, &resp, 1000, prot_resp,
                                           sizeof prot_resp, &prot_resp_len));
        pqcoap_msg answer = resp;
        answer.payload = prot_resp;
        answer.payload_len = prot_resp_len;
        msg_seed("fuzz_protected_req", want ? "valid_n2" : "valid_n0", &sent, 0);
        msg_seed("fuzz_protected_resp", want ? "valid_to_n2" : "valid_to_n0", &answer,
                 (uint8_t)want);
    }

    /* the frozen vectors: well-formed, but made with other keys */
    req.payload = prot;
    req.payload_len = vector(source_dir, "session_01_request", prot, sizeof prot);
    msg_seed("fuzz_protected_req", "vector", &req, 0);
    resp.payload = prot;
    resp.payload_len = vector(source_dir, "session_01_response", prot, sizeof prot);
    msg_seed("fuzz_protected_resp", "vector", &resp, 0);
}

static void keyfile_seeds(void)
{
    uint8_t text[PQCOAP_KEYFILE_MAX];
    size_t len;
    const pqcoap_identity *id = fuzz_sign_identity();
    fuzz_must(pqcoap_identity_encode(id, text, sizeof text, &len));
    seed("fuzz_keyfile", "secret_falcon512", text, len);
    seed("fuzz_keyfile", "secret_truncated", text, len / 3);
    fuzz_must(pqcoap_pubkey_encode(&id->pub, text, sizeof text, &len));
    seed("fuzz_keyfile", "public_falcon512", text, len);

    pqcoap_test_rng st;
    pqcoap_rng rng;
    pqcoap_identity big;
    fuzz_must(pqcoap_test_rng_init(&st, &rng, (const uint8_t *)"seeds 1024", 10));
    fuzz_must(pqcoap_identity_generate("falcon-1024", &rng, &big));
    fuzz_must(pqcoap_pubkey_encode(&big.pub, text, sizeof text, &len));
    seed("fuzz_keyfile", "public_falcon1024", text, len);
    pqcoap_identity_wipe(&big);
}

/* OSCORE: the option values of Appendix C and messages protected with its C.1 context. */
static void oscore_seeds(void)
{
    static const uint8_t c4[] = {0x09, 0x14}, c8[] = {0x01, 0x00},
                         c6[] = {0x19, 0x14, 0x08, 0x37, 0xcb, 0xf3, 0x21, 0x00, 0x17, 0xa2, 0xd3};
    seed("fuzz_oscore_option", "c4_request", c4, sizeof c4);
    seed("fuzz_oscore_option", "c6_kid_context", c6, sizeof c6);
    seed("fuzz_oscore_option", "c8_response_piv", c8, sizeof c8);
    seed("fuzz_oscore_option", "c7_empty", c4, 0);
    uint8_t longv[256] = {0x08}; /* a kid that makes the value one byte too long */
    seed("fuzz_oscore_option", "too_long", longv, sizeof longv);
    static const char conf[] =
        "# RFC 8613 Appendix C.1, server\n"
        "master_secret,hex,\"0102030405060708090a0b0c0d0e0f10\"\n"
        "master_salt,hex,9e7ca92223786340\n"
        "sender_id,hex,01\nrecipient_id,hex,\"\"\nrecipient_id,ascii,dev2\n"
        "replay_window,integer,32\nssn_freq,integer,10\naead_alg,text,A256GCM\n"
        "hkdf_alg,integer,-10\nrfc8613_b_1_2,bool,true\nrfc8613_b_2,bool,false\n";
    seed("fuzz_oscore_conf", "server", (const uint8_t *)conf, sizeof conf - 1);
    static const char bad[] = "master_secret,hex,01\nsender_id,hex,0g\n";
    seed("fuzz_oscore_conf", "bad_hex", (const uint8_t *)bad, sizeof bad - 1);
    pqcoap_oscore_ctx client, server;
    fuzz_oscore_ctx(0, &client);
    fuzz_oscore_ctx(1, &server);
    const pqcoap_opt opts[] = {OPT(PQCOAP_OPT_URI_HOST, "localhost"),
                               OPT(PQCOAP_OPT_URI_PATH, "tv1")};
    const pqcoap_msg req = {PQCOAP_GET, token, sizeof token, opts, 2, NULL, 0};
    pqcoap_opt out_opts[8];
    uint8_t buf[512];
    const pqcoap_oscore_out room = {out_opts, 8, buf, sizeof buf};
    pqcoap_msg out;
    pqcoap_oscore_binding bind;
    fuzz_must(pqcoap_oscore_protect_request(&client, 20, 0, &req, &room, &out, &bind));
    msg_seed("fuzz_oscore_msg", "c4_request", &out, 0);
    static const uint8_t hello[] = "Hello World!";
    const pqcoap_msg resp = {PQCOAP_CODE(2, 5), token, sizeof token, NULL, 0, hello,
                             sizeof hello - 1};
    fuzz_must(pqcoap_oscore_protect_response(&server, &fuzz_oscore_bind, 0, 0, &resp, &room,
                                             &out));
    msg_seed("fuzz_oscore_msg", "c7_response", &out, 1);
    fuzz_must(pqcoap_oscore_protect_response(&server, &fuzz_oscore_bind, 1, 0, &resp, &room,
                                             &out));
    msg_seed("fuzz_oscore_msg", "c8_response_piv", &out, 1);
    pqcoap_oscore_wipe(&client);
    pqcoap_oscore_wipe(&server);
}

/* ---- targets over the endpoints' parsers ---- */

/* Writes u8 option capacity || the CoAP datagram of m (RFC 7252 section 3: CON, message id
 * 0x1234), checking its size against pqcoap_net_msg_size. */
static size_t dgram_write(const pqcoap_msg *m, uint8_t opt_cap, uint8_t *out, size_t cap)
{
    pqcoap_writer w;
    pqcoap_wr_init(&w, out, cap);
    pqcoap_wr_u8(&w, opt_cap);
    pqcoap_wr_u8(&w, (uint8_t)(0x40 | m->token_len));
    pqcoap_wr_u8(&w, m->code);
    pqcoap_wr_u16(&w, 0x1234);
    pqcoap_wr_bytes(&w, m->token, m->token_len);
    uint16_t prev = 0;
    for (size_t i = 0; i < m->n_opts; i++) {
        /* delta and length: 0..12 in the nibble, then 13 + u8, then 269 + u16 */
        size_t field[2] = {(size_t)(m->opts[i].number - prev), m->opts[i].len};
        uint8_t nib[2];
        for (int f = 0; f < 2; f++)
            nib[f] = field[f] < 13 ? (uint8_t)field[f] : field[f] < 269 ? 13 : 14;
        pqcoap_wr_u8(&w, (uint8_t)(nib[0] << 4 | nib[1]));
        for (int f = 0; f < 2; f++) {
            if (nib[f] == 13)
                pqcoap_wr_u8(&w, (uint8_t)(field[f] - 13));
            else if (nib[f] == 14)
                pqcoap_wr_u16(&w, (uint16_t)(field[f] - 269));
        }
        pqcoap_wr_bytes(&w, m->opts[i].value, m->opts[i].len);
        prev = m->opts[i].number;
    }
    if (m->payload_len) {
        pqcoap_wr_u8(&w, 0xff);
        pqcoap_wr_bytes(&w, m->payload, m->payload_len);
    }
    fuzz_must(w.err);
    if (w.len != 1 + pqcoap_net_msg_size(m))
        abort();
    return w.len;
}

static void dgram_seed(const char *name, const pqcoap_msg *m, uint8_t opt_cap)
{
    uint8_t buf[4096];
    seed("fuzz_net_view", name, buf, dgram_write(m, opt_cap, buf, sizeof buf));
}

static void net_view_seeds(void)
{
    static const uint8_t long_value[300] = {0};
    static const pqcoap_opt get_opts[] = {OPT(PQCOAP_OPT_URI_HOST, "plant.example"),
                                          OPT(PQCOAP_OPT_URI_PATH, "sensors"),
                                          OPT(PQCOAP_OPT_URI_PATH, "temp"),
                                          OPT(PQCOAP_OPT_BLOCK2, "\x02")};
    static const pqcoap_opt block1_opts[] = {
        OPT(PQCOAP_OPT_URI_PATH, "up"), OPT(PQCOAP_OPT_BLOCK1, "\x1e"),
        OPT(PQCOAP_OPT_SIZE1, "\x08\x00"), OPT(PQCOAP_OPT_REQUEST_TAG, "\x07")};
    static const pqcoap_opt resp_opts[] = {
        OPT(PQCOAP_OPT_ETAG, "\x80\x00\x00\x01"), OPT(PQCOAP_OPT_CONTENT_FORMAT, ""),
        OPT(PQCOAP_OPT_BLOCK2, "\x1e"), OPT(PQCOAP_OPT_SIZE2, "\x08\x00"),
        {PQCOAP_OPT_PQ_SIG, long_value, sizeof long_value}};
    static const pqcoap_opt many[] = {
        OPT(PQCOAP_OPT_URI_PATH, "a"), OPT(PQCOAP_OPT_URI_PATH, "b"),
        OPT(PQCOAP_OPT_URI_PATH, "c"), OPT(PQCOAP_OPT_URI_PATH, "d"),
        OPT(PQCOAP_OPT_URI_QUERY, "e"), OPT(PQCOAP_OPT_URI_QUERY, "f")};
    pqcoap_msg m = {PQCOAP_GET, token, sizeof token, get_opts, 4, NULL, 0};
    dgram_seed("get_block2", &m, PQCOAP_NET_MAX_OPTS);
    m = (pqcoap_msg){PQCOAP_POST, token, sizeof token, block1_opts, 4,
                     (const uint8_t *)"0123456789abcdef", 16};
    dgram_seed("post_block1", &m, PQCOAP_NET_MAX_OPTS);
    m = (pqcoap_msg){PQCOAP_CODE(2, 5), token, sizeof token, resp_opts, 5,
                     (const uint8_t *)"21.5", 4};
    dgram_seed("response_long_option", &m, PQCOAP_NET_MAX_OPTS);
    m = (pqcoap_msg){PQCOAP_PUT, NULL, 0, many, 6, NULL, 0};
    dgram_seed("more_options_than_room", &m, 3);
    /* Uri-Path "up", then a delta of 269 + 0xfef4 that carries the option number past
     * 65535 (malformed; libcoap wraps it around to 12) */
    static const uint8_t wrap[] = {PQCOAP_NET_MAX_OPTS, 0x42, PQCOAP_POST, 0x12, 0x34,
                                   0x4a, 0x01, 0xb2, 'u', 'p', 0xe0, 0xfe, 0xf4};
    seed("fuzz_net_view", "delta_past_65535", wrap, sizeof wrap);
}

static void helper_seeds(void)
{
    static const uint8_t uints[][6] = {{0}, {0, 0x01}, {0, 0x12, 0x34, 0x56, 0x78},
                                       {0, 1, 2, 3, 4, 5}};
    static const char *const names[] = {"uint_empty", "uint_1", "uint_4", "uint_5"};
    static const size_t lens[] = {1, 2, 5, 6};
    for (size_t i = 0; i < 4; i++)
        seed("fuzz_helpers", names[i], uints[i], lens[i]);
    /* the error responses the server side sends, as the client receives them */
    static const pqcoap_err errs[] = {PQCOAP_ERR_HANDSHAKE, PQCOAP_ERR_UNKNOWN_SESSION,
                                      PQCOAP_ERR_REJECTED, PQCOAP_ERR_MALFORMED,
                                      PQCOAP_ERR_BUSY, PQCOAP_ERR_NOT_FOUND};
    static const char *const err_names[] = {"error_handshake", "error_unknown_session",
                                            "error_rejected", "error_malformed", "error_busy",
                                            "error_other"};
    for (size_t i = 0; i < sizeof errs / sizeof errs[0]; i++) {
        pqcoap_coap_error e;
        uint8_t buf[64];
        fuzz_must(pqcoap_error_to_coap(errs[i], PQCOAP_WHERE_PROTECTED, &e));
        size_t n = strlen(e.diagnostic);
        buf[0] = 1;
        buf[1] = e.code;
        memcpy(buf + 2, e.diagnostic, n);
        seed("fuzz_helpers", err_names[i], buf, n + 2);
    }
}

static void uri_seeds(void)
{
    static const char *const uris[][2] = {
        {"uri_ipv4", "\x00" "coap://127.0.0.1:5683/sensors/temp?unit=c&x=%20"},
        {"uri_ipv6", "\x00" "coap://[::1]/a%2Fb/./c"},
        {"uri_name", "\x00" "coap://plant.example/"},
        {"uri_other_scheme", "\x00" "coaps://plant.example/x"},
        {"path_query", "\x01" "/sensors/temp?unit=c&x=%41"},
        {"path_only", "\x01" "a/b//c"},
    };
    for (size_t i = 0; i < sizeof uris / sizeof uris[0]; i++)
        seed("fuzz_uri", uris[i][0], (const uint8_t *)uris[i][1], 1 + strlen(uris[i][1] + 1));
}

/* One block in the layout of fuzz_block1.c, with a pattern payload of plen bytes and dt
 * x 50 ms passing before it. */
typedef struct block_spec {
    uint8_t peer, path, more, szx;
    uint32_t num;
    uint64_t size1;             /* 0: none */
    const char *rtag;           /* NULL: none */
    uint16_t plen;
    uint8_t dt;
} block_spec;

/* Writes the seed fuzz_block1/<name>: the limits max_body 2048, no overhead, 4 transfers,
 * 2 per peer, 5 s, then the blocks b[0..n). */
static void block_seed(const char *name, const block_spec *b, size_t n)
{
    uint8_t buf[512];
    pqcoap_writer w;
    pqcoap_wr_init(&w, buf, sizeof buf);
    pqcoap_wr_u8(&w, 7);
    pqcoap_wr_u8(&w, 3 | 1 << 2 | 4 << 4);
    for (size_t i = 0; i < n; i++) {
        pqcoap_wr_u8(&w, (uint8_t)(b[i].peer | b[i].path << 2 | b[i].more << 4 |
                                   (b[i].size1 ? 0x20 : 0) | (b[i].rtag ? 0x40 : 0)));
        pqcoap_wr_u8(&w, (uint8_t)(b[i].szx | (b[i].num >> 16) << 3));
        pqcoap_wr_u16(&w, (uint16_t)b[i].num);
        if (b[i].size1)
            pqcoap_wr_varint(&w, b[i].size1);
        if (b[i].rtag)
            pqcoap_wr_str8(&w, (const uint8_t *)b[i].rtag, strlen(b[i].rtag));
        pqcoap_wr_u16(&w, b[i].plen);
        pqcoap_wr_u8(&w, b[i].dt);
    }
    fuzz_must(w.err);
    seed("fuzz_block1", name, buf, w.len);
}

static void block1_seeds(void)
{
    /* in order: 3 blocks of 64 bytes and a short last one, with Size1; the last again (its
     * response lost) */
    static const block_spec in_order[] = {
        {0, 0, 1, 2, 0, 200, NULL, 64, 1}, {0, 0, 1, 2, 1, 0, NULL, 64, 1},
        {0, 0, 1, 2, 2, 0, NULL, 64, 1},   {0, 0, 0, 2, 3, 0, NULL, 8, 1},
        {0, 0, 0, 2, 3, 0, NULL, 8, 1}};
    /* repeated, missing and restarted blocks, a last block inside the body */
    static const block_spec repeated[] = {
        {1, 1, 1, 0, 0, 0, NULL, 16, 1}, {1, 1, 1, 0, 0, 0, NULL, 16, 1},
        {1, 1, 1, 0, 1, 0, NULL, 16, 1}, {1, 1, 1, 0, 0, 0, NULL, 16, 1},
        {1, 1, 0, 0, 3, 0, NULL, 4, 1},  {1, 1, 1, 0, 0, 0, NULL, 16, 1},
        {1, 1, 1, 0, 1, 0, NULL, 16, 1}, {1, 1, 1, 0, 2, 0, NULL, 16, 1},
        {1, 1, 0, 0, 1, 0, NULL, 16, 1}};
    /* interleaved transfers of several peers with Request-Tags, up to the limits, expiry */
    static const block_spec peers[] = {
        {0, 0, 1, 6, 0, 0, "a", 1024, 1},  {3, 0, 1, 6, 0, 0, "a", 1024, 1},
        {0, 0, 1, 6, 0, 0, "b", 1024, 1},  {0, 0, 1, 6, 0, 0, "c", 1024, 1},
        {2, 2, 1, 6, 0, 0, NULL, 1024, 1}, {1, 2, 1, 6, 0, 0, NULL, 1024, 1},
        {0, 0, 0, 6, 1, 0, "a", 100, 1},   {3, 0, 0, 6, 1, 0, "a", 100, 200},
        {3, 0, 0, 6, 1, 0, "a", 100, 1}};
    /* refused at once: Size1 too large, a block beyond the limit, a short block with M,
     * a Request-Tag over 8 bytes, a path too long; an empty body twice */
    static const block_spec refused[] = {
        {0, 0, 1, 6, 0, 1u << 20, NULL, 1024, 1}, {0, 0, 1, 6, 2, 0, NULL, 1024, 1},
        {0, 0, 1, 6, 0, 0, NULL, 1000, 1},        {0, 0, 1, 6, 0, 0, "123456789", 1024, 1},
        {0, 3, 1, 6, 0, 0, NULL, 1024, 1},        {1, 0, 0, 0, 0, 0, NULL, 0, 1},
        {1, 0, 0, 0, 0, 0, NULL, 0, 0}};
    block_seed("in_order_and_last_again", in_order, sizeof in_order / sizeof in_order[0]);
    block_seed("repeated_missing_restarted", repeated, sizeof repeated / sizeof repeated[0]);
    block_seed("two_peers_tags_limits", peers, sizeof peers / sizeof peers[0]);
    block_seed("refused", refused, sizeof refused / sizeof refused[0]);
}

/* One value of a row in the layout of fuzz_store_rows.c: a type (below) with a number v
 * or bytes p[0..n). */
typedef struct store_value {
    uint8_t type;
    const void *p;
    size_t n;
    int64_t v;
} store_value;

enum { V_NULL, V_INT, V_REAL, V_TEXT, V_BLOB };
enum { T_PEERS, T_FLOORS, T_COUNTERS };
#define TEXT(s) {V_TEXT, s, sizeof(s) - 1, 0}
#define BLOB(s) {V_BLOB, s, sizeof(s) - 1, 0}
#define NUM(type, v) {type, NULL, 0, v}

/* Writes a row of table `table` with the values vals[0..n). */
static void store_row(pqcoap_writer *w, uint8_t table, const store_value *vals, size_t n)
{
    pqcoap_wr_u8(w, table);
    for (size_t i = 0; i < n; i++) {
        const store_value *v = &vals[i];
        pqcoap_wr_u8(w, (uint8_t)(v->type | (v->v < 0 ? 0x80 : 0)));
        if (v->type == V_INT || v->type == V_REAL)
            pqcoap_wr_varint(w, (uint64_t)(v->v < 0 ? -v->v : v->v));
        else if (v->type != V_NULL)
            pqcoap_wr_str16(w, v->p, v->n);
    }
}

static void store_seeds(void)
{
    pqcoap_peer peer;
    fuzz_must(pqcoap_peer_from_pubkey("alice", &fuzz_sign_identity()->pub, 1700000000, &peer));
    static const uint8_t hash[32] = {1, 2, 3};
    const store_value alice = {V_TEXT, peer.id, strlen(peer.id), 0},
                      alg = {V_TEXT, peer.alg, strlen(peer.alg), 0},
                      kid = {V_BLOB, peer.kid, sizeof peer.kid, 0},
                      hash32 = {V_BLOB, hash, sizeof hash, 0};
    uint8_t buf[4096];
    pqcoap_writer w;

    /* rows as the store writes them: a peer, its floor, a counter */
    const store_value peer_row[] = {alice, alg, kid, {V_BLOB, peer.pk, peer.pk_len, 0},
                                    NUM(V_INT, peer.added_s)},
                      floor_row[] = {alice, NUM(V_INT, 42), hash32},
                      counter_row[] = {alice, NUM(V_INT, 7)};
    pqcoap_wr_init(&w, buf, sizeof buf);
    store_row(&w, T_PEERS, peer_row, 5);
    store_row(&w, T_FLOORS, floor_row, 3);
    store_row(&w, T_COUNTERS, counter_row, 2);
    fuzz_must(w.err);
    seed("fuzz_store_rows", "as_written", buf, w.len);

    /* the same keys in other types: a BLOB id and a TEXT kid beside the peer, a REAL
     * floor, a TEXT counter, a negative counter */
    const store_value small_peer[] = {alice, alg, kid, BLOB("pk"), NUM(V_INT, 1)},
                      blob_id[] = {BLOB("alice"), alg, TEXT("kid-text"), BLOB("pk"),
                                   NUM(V_REAL, -5)},
                      real_floor[] = {alice, NUM(V_REAL, 340), {V_TEXT, hash, sizeof hash, 0}},
                      text_counter[] = {TEXT("seq"), TEXT("12abc")},
                      neg_counter[] = {TEXT("neg"), NUM(V_INT, -3)};
    pqcoap_wr_init(&w, buf, sizeof buf);
    store_row(&w, T_PEERS, small_peer, 5);
    store_row(&w, T_PEERS, blob_id, 5);
    store_row(&w, T_FLOORS, real_floor, 3);
    store_row(&w, T_COUNTERS, text_counter, 2);
    store_row(&w, T_COUNTERS, neg_counter, 2);
    fuzz_must(w.err);
    seed("fuzz_store_rows", "other_types", buf, w.len);

    /* NULLs and empty values */
    const store_value empty_peer[] = {TEXT("bob"), TEXT(""), BLOB(""), BLOB(""),
                                      NUM(V_NULL, 0)},
                      null_hash[] = {TEXT("bob"), NUM(V_INT, 1), NUM(V_NULL, 0)};
    pqcoap_wr_init(&w, buf, sizeof buf);
    store_row(&w, T_PEERS, empty_peer, 5);
    store_row(&w, T_FLOORS, null_hash, 3);
    fuzz_must(w.err);
    seed("fuzz_store_rows", "nulls_and_empty", buf, w.len);
}

/* ---- the client's Block2 handling (fuzz_block2.c) ---- */

/* One block in the layout of fuzz_block2.c: num < 0 is the next block after the body so
 * far; len FULL a whole block; payload NULL the transfer's pattern. */
typedef struct block2_spec {
    uint8_t szx, more;
    long num;
    uint64_t size2;             /* 0: none */
    const char *etag;           /* NULL: none */
    uint16_t len;
    const char *payload;
} block2_spec;
#define FULL 0x8000

/* Writes the seed fuzz_block2/<name>: max_body (lim + 1) * 64, the overhead, the blocks. */
static void block2_seed(const char *name, uint8_t lim, uint8_t overhead, const block2_spec *b,
                        size_t n)
{
    uint8_t buf[512];
    pqcoap_writer w;
    pqcoap_wr_init(&w, buf, sizeof buf);
    pqcoap_wr_u8(&w, lim);
    pqcoap_wr_u8(&w, overhead);
    for (size_t i = 0; i < n; i++) {
        pqcoap_wr_u8(&w, (uint8_t)(b[i].szx | b[i].more << 3 | (b[i].size2 ? 0x10 : 0) |
                                   (b[i].etag ? 0x20 : 0) | (b[i].payload ? 0x40 : 0) |
                                   (b[i].num >= 0 ? 0x80 : 0)));
        if (b[i].num >= 0) {
            pqcoap_wr_u8(&w, (uint8_t)(b[i].num >> 16));
            pqcoap_wr_u16(&w, (uint16_t)b[i].num);
        }
        if (b[i].size2)
            pqcoap_wr_varint(&w, b[i].size2);
        if (b[i].etag)
            pqcoap_wr_str8(&w, (const uint8_t *)b[i].etag, strlen(b[i].etag));
        pqcoap_wr_u16(&w, b[i].len);
        if (b[i].payload)
            pqcoap_wr_bytes(&w, (const uint8_t *)b[i].payload, b[i].len);
    }
    fuzz_must(w.err);
    seed("fuzz_block2", name, buf, w.len);
}

static void block2_seeds(void)
{
    /* 200 bytes in blocks of 64 with Size2 and an ETag, then a one-block response */
    static const block2_spec in_order[] = {
        {2, 1, -1, 200, "e1", FULL, NULL}, {2, 1, -1, 0, "e1", FULL, NULL},
        {2, 1, -1, 0, "e1", FULL, NULL},   {2, 0, -1, 0, "e1", 8, NULL},
        {0, 0, -1, 0, NULL, 10, NULL}};
    /* the block size falls from 1024 to 256 after block 0; the last block is empty and its
     * number is given; payloads from the input */
    static const block2_spec smaller[] = {
        {6, 1, 0, 0, "\x80\x01", FULL, NULL}, {4, 1, -1, 0, "\x80\x01", FULL, NULL},
        {4, 0, 5, 0, "\x80\x01", 0, NULL},    {0, 1, 0, 0, NULL, 16, "0123456789abcdef"},
        {0, 0, 1, 0, NULL, 3, "end"}};
    /* each refused, each starting a new transfer: Size2 over the limit, a block out of
     * order, a short block with M, another ETag, past the limit, an ETag of 9 bytes */
    static const block2_spec refused[] = {
        {2, 1, -1, 5000, NULL, FULL, NULL}, {2, 1, 2, 0, NULL, FULL, NULL},
        {2, 1, -1, 0, NULL, 63, NULL},      {2, 1, -1, 0, "a", FULL, NULL},
        {2, 1, -1, 0, "b", FULL, NULL},     {6, 1, -1, 0, NULL, FULL, NULL},
        {6, 1, -1, 0, NULL, FULL, NULL},    {0, 1, -1, 0, "123456789", FULL, NULL},
        {0, 0, -1, 0, "123456789", 1, NULL}};
    block2_seed("in_order", 15, 0, in_order, sizeof in_order / sizeof in_order[0]);
    block2_seed("smaller_blocks", 31, 40, smaller, sizeof smaller / sizeof smaller[0]);
    block2_seed("refused", 15, 3, refused, sizeof refused / sizeof refused[0]);
}

/* ---- the server layers (fuzz_layer.h) ---- */

/* Appends the record `u8 exchange || u16 length || message view` of fuzz_layer.h. */
static void record(pqcoap_writer *w, uint8_t exchange, const pqcoap_msg *m)
{
    static uint8_t buf[8192];
    size_t n = msg_write(m, 0, buf, sizeof buf);
    pqcoap_wr_u8(w, exchange);
    pqcoap_wr_u16(w, (uint16_t)n);
    pqcoap_wr_bytes(w, buf, n);
}

/* Writes the seed <target>/<name> from w after checking that `run` gives the handler the
 * set `want` of genuine requests (bit i: the target's genuine request i) and traps on
 * nothing. */
static void layer_seed(const char *target, const char *name, const pqcoap_writer *w,
                       unsigned (*run)(const uint8_t *, size_t), unsigned want)
{
    fuzz_must(w->err);
    unsigned got = run(w->p, w->len);
    if (got != want) {
        fprintf(stderr, "%s/%s: the handler got genuine requests 0x%x, not 0x%x\n", target,
                name, got, want);
        failures++;
    }
    seed(target, name, w->p, w->len);
}

/* The plaintext of genuine request g (options copied into opts). */
static pqcoap_msg genuine_msg(const fuzz_genuine *g, pqcoap_opt *opts)
{
    memcpy(opts, g->opts, g->n_opts * sizeof *opts);
    return (pqcoap_msg){g->code, token, sizeof token, opts, g->n_opts,
                        (const uint8_t *)g->payload, strlen(g->payload)};
}

/* A Mode A v2 wire request: genuine request g signed by s with seq for `recipient`, into
 * opts (g's and PQ-Sig), sig_opt and out. */
static pqcoap_msg signed_msg(const pqcoap_signer *s, uint64_t seq, const fuzz_genuine *g,
                             const uint8_t *recipient, pqcoap_opt *opts,
                             uint8_t sig_opt[PQCOAP_SIG_OPT_LEN], uint8_t *out, size_t cap)
{
    pqcoap_msg m = genuine_msg(g, opts);
    size_t len;
    fuzz_must(pqcoap_sign_v2(s, seq, &m, recipient, NULL, sig_opt, out, cap, &len));
    opts[m.n_opts++] = (pqcoap_opt){PQCOAP_OPT_PQ_SIG, sig_opt, PQCOAP_SIG_OPT_LEN};
    m.payload = out;
    m.payload_len = len;
    return m;
}

#define SEED_BUF 32768
#define MID(k) ((uint8_t)((k) << 3))
#define DEFER 0x40 /* the handler defers the request and never answers */

static void sign_layer_seeds(void)
{
    const fuzz_sign_keys *k = fuzz_sign_keys_get();
    const fuzz_genuine *g = fuzz_sign_genuine;
    const uint8_t *server = k->server.pub.kid;
    pqcoap_test_rng st;
    pqcoap_rng rng;
    fuzz_must(pqcoap_test_rng_init(&st, &rng, (const uint8_t *)"layer seeds", 11));
    pqcoap_signer alice, bob, v1dev, v1dev_general;
    fuzz_must(pqcoap_signer_from_identity(&alice, &k->alice, &rng));
    fuzz_must(pqcoap_signer_from_identity(&bob, &k->bob, &rng));
    fuzz_must(pqcoap_signer_from_identity(&v1dev, &k->v1dev, &rng));
    v1dev_general = v1dev; /* signs v2 with the v1 device's key, which the server refuses */
    v1dev_general.usage = PQCOAP_USAGE_GENERAL;
    static uint8_t buf[SEED_BUF], pay[5][2048];
    pqcoap_opt opts[5][8];
    uint8_t sig[5][PQCOAP_SIG_OPT_LEN];
    pqcoap_msg a1 = signed_msg(&alice, 1, &g[0], server, opts[0], sig[0], pay[0], 2048);
    pqcoap_msg a2 = signed_msg(&alice, 2, &g[1], server, opts[1], sig[1], pay[1], 2048);
    pqcoap_msg a3 = signed_msg(&alice, 3, &g[2], server, opts[2], sig[2], pay[2], 2048);
    pqcoap_msg b1 = signed_msg(&bob, 1, &g[3], server, opts[3], sig[3], pay[3], 2048);
    pqcoap_writer w;

    /* alice's request, answered (signing is slow under the sanitizers: the other seeds'
     * requests are deferred and never answered), its retransmission (the kept response),
     * the same from another address and under another message ID (replays) */
    pqcoap_wr_init(&w, buf, sizeof buf);
    pqcoap_wr_u8(&w, 1 << 1);
    record(&w, 0, &a1);
    record(&w, 0, &a1);
    record(&w, 1, &a1);
    record(&w, MID(1), &a1);
    layer_seed("fuzz_sign_layer", "v2_retransmission", &w, fuzz_sign_layer_input, 0x1);

    /* two windows: alice's request, again (a replay), alice's next, bob's, and alice's
     * third with another Uri-Host (not signed: a proxy may change it) */
    pqcoap_wr_init(&w, buf, sizeof buf);
    pqcoap_wr_u8(&w, 1 << 1);
    record(&w, DEFER, &a1);
    record(&w, DEFER, &a1);
    record(&w, DEFER, &a2);
    record(&w, DEFER | 1, &b1);
    opts[2][0] = (pqcoap_opt)OPT(PQCOAP_OPT_URI_HOST, "elsewhere.example");
    record(&w, DEFER | 2, &a3);
    layer_seed("fuzz_sign_layer", "v2_sequence", &w, fuzz_sign_layer_input, 0xf);

    /* one window: bob's request takes alice's, whose replay is then refused by her floor */
    pqcoap_wr_init(&w, buf, sizeof buf);
    pqcoap_wr_u8(&w, 0);
    record(&w, DEFER, &a1);
    record(&w, DEFER | 1, &b1);
    record(&w, DEFER, &a1);
    record(&w, DEFER, &a2);
    layer_seed("fuzz_sign_layer", "v2_window_evicted", &w, fuzz_sign_layer_input, 0xb);

    /* refused by the v2 server: signed for another server (bob's kid), a changed payload
     * byte, no signature, signed with the key the store pins for v1 */
    pqcoap_msg other = signed_msg(&alice, 4, &g[0], k->bob.pub.kid, opts[4], sig[4], pay[4],
                                  2048);
    pqcoap_wr_init(&w, buf, sizeof buf);
    pqcoap_wr_u8(&w, 3 << 1);
    record(&w, 0, &other);
    pay[1][0] ^= 1;
    record(&w, 0, &a2);
    pay[1][0] ^= 1;
    pqcoap_msg plain = genuine_msg(&g[0], opts[4]);
    record(&w, 0, &plain);
    pqcoap_msg v1key = signed_msg(&v1dev_general, 1, &g[0], server, opts[4], sig[4], pay[4],
                                  2048);
    record(&w, 0, &v1key);
    layer_seed("fuzz_sign_layer", "v2_refused", &w, fuzz_sign_layer_input, 0);

    /* the v1 server: the device's message twice (v1 binds no freshness), then a v2 request */
    const fuzz_genuine *g1 = &fuzz_sign_genuine_v1[0];
    size_t len;
    fuzz_must(pqcoap_sign_v1(&v1dev, (const uint8_t *)g1->payload, strlen(g1->payload),
                             pay[4], 2048, &len));
    pqcoap_msg v1msg = genuine_msg(&g[0], opts[4]);
    v1msg.payload = pay[4];
    v1msg.payload_len = len;
    pqcoap_wr_init(&w, buf, sizeof buf);
    pqcoap_wr_u8(&w, 1);
    record(&w, DEFER, &v1msg);
    record(&w, DEFER | MID(2), &v1msg);
    record(&w, 0, &a1);
    layer_seed("fuzz_sign_layer", "v1", &w, fuzz_sign_layer_input, 0x1);
}

/* A Mode B request: genuine request g protected by session s (its number must be `n`). */
static pqcoap_msg protected_msg(pqcoap_session *s, uint64_t n, const fuzz_genuine *g,
                                pqcoap_opt *opts, uint8_t *out, size_t cap)
{
    pqcoap_msg m = genuine_msg(g, opts);
    size_t len;
    uint64_t got;
    fuzz_must(pqcoap_session_protect_request(s, &m, 1000, out, cap, &len, &got));
    if (got != n)
        abort();
    m.payload = out;
    m.payload_len = len;
    return m;
}

static void session_layer_seeds(void)
{
    const fuzz_genuine *g = fuzz_session_genuine;
    static uint8_t buf[SEED_BUF], pay[4][512], resp[PQCOAP_RESP_MAX];
    pqcoap_opt opts[4][8];
    fuzz_session *fs = fuzz_session_get();
    pqcoap_session client = fs->client_session;
    pqcoap_msg n0 = protected_msg(&client, 0, &g[0], opts[0], pay[0], 512);
    pqcoap_msg n1 = protected_msg(&client, 1, &g[1], opts[1], pay[1], 512);
    pqcoap_msg n2 = protected_msg(&client, 2, &g[2], opts[2], pay[2], 512);
    pqcoap_writer w;

    /* request 0, its retransmission (the kept response), the same under another message ID
     * (a replay), request 2, then request 1 from another address (inside the window) */
    pqcoap_wr_init(&w, buf, sizeof buf);
    record(&w, 0, &n0);
    record(&w, 0, &n0);
    record(&w, MID(1), &n0);
    record(&w, 0, &n2);
    record(&w, 3, &n1);
    layer_seed("fuzz_session_layer", "session", &w, fuzz_session_layer_input, 0x7);

    /* the waiting initiator's INIT (a new session replacing the old one), request 0 of the
     * new session, then request 0 of the old one */
    static const pqcoap_opt init_path[] = {OPT(PQCOAP_OPT_URI_PATH, "pqc"),
                                           OPT(PQCOAP_OPT_URI_PATH, "session"),
                                           OPT(PQCOAP_OPT_URI_PATH, "init")};
    static uint8_t init_bytes[PQCOAP_INIT_MAX]; /* finishing the handshake wipes the INIT */
    memcpy(init_bytes, fs->initiator.init, fs->initiator.init_len);
    pqcoap_msg init = {PQCOAP_POST, token, sizeof token, init_path, 3, init_bytes,
                       fs->initiator.init_len};
    size_t resp_len;
    pqcoap_session fresh;
    fuzz_must(pqcoap_responder_handshake(&fs->responder, fs->initiator.init,
                                         fs->initiator.init_len, 1000, resp, sizeof resp,
                                         &resp_len));
    fuzz_must(pqcoap_initiator_finish(&fs->initiator, resp, resp_len, 1000, &fresh));
    pqcoap_msg m3 = protected_msg(&fresh, 0, &g[3], opts[3], pay[3], 512);
    pqcoap_wr_init(&w, buf, sizeof buf);
    record(&w, 0, &init);
    record(&w, 0, &m3);
    record(&w, 0, &n0);
    layer_seed("fuzz_session_layer", "handshake", &w, fuzz_session_layer_input, 0x8);

    /* refused: a changed tag, an unknown session, an empty payload; a GET and a truncated
     * INIT to pqc/session/init (the handler refuses them) */
    pqcoap_wr_init(&w, buf, sizeof buf);
    pay[0][n0.payload_len - 1] ^= 1;
    record(&w, 0, &n0);
    pay[0][n0.payload_len - 1] ^= 1;
    pay[0][1] ^= 0x40;
    record(&w, 0, &n0);
    pay[0][1] ^= 0x40;
    n0.payload_len = 0;
    record(&w, 0, &n0);
    init.code = PQCOAP_GET;
    record(&w, 0, &init);
    init.code = PQCOAP_POST;
    init.payload_len /= 2;
    record(&w, 0, &init);
    layer_seed("fuzz_session_layer", "refused", &w, fuzz_session_layer_input, 0);
    fs = fuzz_session_get(); /* leave the fixed state as it was */
}

/* Appends an OSCORE request: genuine request g protected by ctx with Sender Sequence
 * Number ssn; change 1: a byte of its ciphertext changed, 2: without payload (a block
 * request of outer block-wise transfer). */
static void oscore_record(pqcoap_writer *w, uint8_t exchange, const pqcoap_oscore_ctx *ctx,
                          uint64_t ssn, const fuzz_genuine *g, int change)
{
    pqcoap_opt opts[8], out_opts[8];
    uint8_t room_buf[512];
    const pqcoap_oscore_out room = {out_opts, 8, room_buf, sizeof room_buf};
    pqcoap_msg plain = genuine_msg(g, opts), out;
    pqcoap_oscore_binding bind;
    fuzz_must(pqcoap_oscore_protect_request(ctx, ssn, 0, &plain, &room, &out, &bind));
    if (change == 1)
        room_buf[(size_t)(out.payload - room_buf) + out.payload_len / 2] ^= 1;
    if (change == 2)
        out.payload_len = 0;
    record(w, exchange, &out);
}

static void oscore_layer_seeds(void)
{
    const fuzz_genuine *g = fuzz_oscore_genuine;
    static uint8_t buf[SEED_BUF];
    pqcoap_oscore_ctx c1, dev2;
    fuzz_oscore_client(0, &c1);
    fuzz_oscore_client(1, &dev2);
    pqcoap_writer w;

    /* 20 and 21; a block request for 21's response (kept, as it is longer than a block);
     * 20 again (a replay); 22 from another address */
    pqcoap_wr_init(&w, buf, sizeof buf);
    oscore_record(&w, 0, &c1, 20, &g[0], 0);
    oscore_record(&w, 0, &c1, 21, &g[1], 0);
    oscore_record(&w, MID(1), &c1, 21, &g[1], 2);
    oscore_record(&w, 0, &c1, 20, &g[0], 0);
    oscore_record(&w, 3, &c1, 22, &g[2], 0);
    layer_seed("fuzz_oscore_layer", "requests", &w, fuzz_oscore_layer_input, 0x7);

    /* dev2's context awaits Echo recovery: its requests get the 4.01 challenge */
    pqcoap_wr_init(&w, buf, sizeof buf);
    oscore_record(&w, 0, &dev2, 0, &g[3], 0);
    oscore_record(&w, 0, &dev2, 1, &g[3], 0);
    layer_seed("fuzz_oscore_layer", "echo", &w, fuzz_oscore_layer_input, 0);

    /* refused: no OSCORE option, an unknown kid, a changed ciphertext byte, a block request
     * with no response kept */
    static const uint8_t unknown_kid[] = {0x09, 0x14, 0x07};
    pqcoap_opt opts[8];
    pqcoap_msg plain = genuine_msg(&g[0], opts);
    pqcoap_wr_init(&w, buf, sizeof buf);
    record(&w, 0, &plain);
    opts[plain.n_opts++] = (pqcoap_opt){PQCOAP_OPT_OSCORE, unknown_kid, sizeof unknown_kid};
    record(&w, 0, &plain);
    oscore_record(&w, 0, &c1, 20, &g[0], 1);
    oscore_record(&w, 0, &c1, 21, &g[1], 2);
    layer_seed("fuzz_oscore_layer", "refused", &w, fuzz_oscore_layer_input, 0);
    pqcoap_oscore_wipe(&c1);
    pqcoap_oscore_wipe(&dev2);
}

int main(int argc, char **argv)
{
    int arg = 1;
    if (argc > 1 && strcmp(argv[1], "--check") == 0) {
        checking = 1;
        arg++;
    }
    if (argc != arg + 1) {
        fprintf(stderr, "usage: make_seeds [--check] SOURCE_DIR\n");
        return 2;
    }
    static char dir[4096];
    snprintf(dir, sizeof dir, "%s/fuzz/corpus", argv[arg]);
    corpus_dir = dir;
    if (!checking && mkdir(dir, 0755) != 0 && errno != EEXIST) {
        perror(dir);
        return 1;
    }
    varint_seeds();
    opts_seeds();
    sign_seeds();
    handshake_seeds(argv[arg]);
    protected_seeds(argv[arg]);
    keyfile_seeds();
    oscore_seeds();
    net_view_seeds();
    helper_seeds();
    uri_seeds();
    block1_seeds();
    store_seeds();
    block2_seeds();
    sign_layer_seeds();
    session_layer_seeds();
    oscore_layer_seeds();
    if (checking)
        printf(failures ? "seed corpora out of date: run make_seeds SOURCE_DIR\n"
                        : "seed corpora are current\n");
    return failures ? 1 : 0;
}

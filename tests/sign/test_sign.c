/* Tests of Mode A (PROTOCOL.md): v1 payload layout and rejection rules, v2 binding of code,
 * options (not the token) and recipient, anti-replay, response binding, key usage, policy
 * and the PQ-Sig option. Real Falcon-512 keys, no sockets. */
#include "check.h"
#include "pqcoap/sign.h"
#include "crypto/crypto_internal.h"

#include <openssl/sha.h>

enum { ALICE, BOB, CAROL, NKEYS }; /* client, server, a key nobody trusts */

static pqcoap_identity id[NKEYS];
static uint8_t pk[NKEYS][PQCOAP_SIGN_PK_LEN];
static const uint8_t *sk[NKEYS];
static pqcoap_signer signer[NKEYS];
/* The same keys marked for v1 (PROTOCOL.md "Key usage"), for the v1 tests. */
static pqcoap_pubkey v1key[NKEYS];
static pqcoap_signer v1signer[NKEYS];

static const uint8_t TOKEN[] = {0xa1, 0xb2, 0xc3, 0xd4};
static const uint8_t MESSAGE[] = "t=21.5";
#define MESSAGE_LEN (sizeof MESSAGE - 1)
#define PAYLOAD_CAP (64 + PQCOAP_SIGN_OVERHEAD_MAX)

static void make_keys(void)
{
    for (int i = 0; i < NKEYS; i++) {
        pqcoap_test_rng st;
        pqcoap_rng rng;
        uint8_t seed = (uint8_t)i;
        CHECK_EQ_INT(pqcoap_test_rng_init(&st, &rng, &seed, 1), PQCOAP_OK);
        CHECK_EQ_INT(pqcoap_identity_generate("falcon-512", &rng, &id[i]), PQCOAP_OK);
        CHECK_EQ_INT(id[i].pub.pk_len, PQCOAP_SIGN_PK_LEN);
        memcpy(pk[i], id[i].pub.pk, sizeof pk[i]);
        sk[i] = id[i].sk;
        CHECK_EQ_INT(pqcoap_signer_from_identity(&signer[i], &id[i], NULL), PQCOAP_OK);
        CHECK_EQ_INT(signer[i].usage, PQCOAP_USAGE_GENERAL);
        v1key[i] = id[i].pub;
        v1key[i].usage = PQCOAP_USAGE_SIGN_V1;
        v1signer[i] = signer[i];
        v1signer[i].usage = PQCOAP_USAGE_SIGN_V1;
    }
}

static void test_signer(void)
{
    /* From raw keys: the kid is the same as the identity's. */
    pqcoap_signer s;
    CHECK_EQ_INT(pqcoap_signer_init(&s, sk[ALICE], PQCOAP_SIGN_SK_LEN, pk[ALICE],
                                    PQCOAP_SIGN_PK_LEN, PQCOAP_USAGE_SIGN_V1, NULL), PQCOAP_OK);
    CHECK_MEM(s.kid, signer[ALICE].kid, 8);
    CHECK(s.sk == sk[ALICE]);
    CHECK_EQ_INT(s.usage, PQCOAP_USAGE_SIGN_V1);
    CHECK_EQ_INT(pqcoap_signer_init(&s, sk[ALICE], PQCOAP_SIGN_SK_LEN - 1, pk[ALICE],
                                    PQCOAP_SIGN_PK_LEN, PQCOAP_USAGE_GENERAL, NULL),
                 PQCOAP_ERR_ARG);
    CHECK_EQ_INT(pqcoap_signer_init(&s, sk[ALICE], PQCOAP_SIGN_SK_LEN, pk[ALICE],
                                    PQCOAP_SIGN_PK_LEN + 1, PQCOAP_USAGE_GENERAL, NULL),
                 PQCOAP_ERR_ARG);
    CHECK_EQ_INT(pqcoap_signer_init(&s, sk[ALICE], PQCOAP_SIGN_SK_LEN, pk[ALICE],
                                    PQCOAP_SIGN_PK_LEN, (pqcoap_key_usage)7, NULL),
                 PQCOAP_ERR_ARG);
    /* From an identity: its usage comes along. */
    pqcoap_identity marked = id[ALICE];
    marked.pub.usage = PQCOAP_USAGE_SIGN_V1;
    CHECK_EQ_INT(pqcoap_signer_from_identity(&s, &marked, NULL), PQCOAP_OK);
    CHECK_EQ_INT(s.usage, PQCOAP_USAGE_SIGN_V1);
    pqcoap_identity_wipe(&marked);
    /* A key of no Mode A algorithm; Falcon-1024 is one (v2 only, pqcoap_sign_v1 refuses). */
    pqcoap_identity other = id[ALICE];
    other.pub.alg = NULL;
    CHECK_EQ_INT(pqcoap_signer_from_identity(&s, &other, NULL), PQCOAP_ERR_UNSUPPORTED);
    other.pub.alg = &pqcoap_sig_falcon1024;
    CHECK_EQ_INT(pqcoap_signer_from_identity(&s, &other, NULL), PQCOAP_OK);
    CHECK(s.alg == &pqcoap_sig_falcon1024);
    pqcoap_identity_wipe(&other);
}

/* ---- key look-up: Alice and Bob are trusted, Carol is not ---- */

static pqcoap_err lookup(void *ctx, const uint8_t kid[8], const pqcoap_pubkey **key)
{
    (void)ctx;
    for (int i = ALICE; i <= BOB; i++) {
        if (memcmp(kid, signer[i].kid, 8) == 0) {
            *key = &id[i].pub;
            return PQCOAP_OK;
        }
    }
    return PQCOAP_ERR_NOT_FOUND;
}

/* A verifier with its own replay table. */
typedef struct endpoint {
    pqcoap_replay_entry slots[4];
    pqcoap_replay_table table;
    pqcoap_verifier v;
} endpoint;

static void endpoint_init(endpoint *e, pqcoap_sign_policy policy, const pqcoap_pubkey *v1)
{
    pqcoap_verifier init = PQCOAP_VERIFIER_INIT;
    CHECK_EQ_INT(pqcoap_replay_table_init(&e->table, e->slots, 4), PQCOAP_OK);
    e->v = init;
    e->v.policy = policy;
    e->v.v1_key = v1;
    e->v.lookup = lookup;
    e->v.replay = &e->table;
    e->v.own_kid = signer[BOB].kid; /* requests are meant for Bob */
}

/* ---- messages ---- */

/* A signed message as it goes on the wire: options with PQ-Sig last, signed payload. */
typedef struct wire {
    pqcoap_opt opts[8];
    uint8_t sig_opt[PQCOAP_SIG_OPT_LEN];
    uint8_t payload[PAYLOAD_CAP];
    pqcoap_msg msg;
} wire;

static const uint8_t SEG1[] = "sensors", SEG2[] = "temp", QUERY[] = "unit=c";
static const uint8_t CF_JSON[] = {50};

/* POST /sensors/temp?unit=c, Content-Format text/plain (0, an empty uint), token TOKEN. */
static const pqcoap_opt REQ_OPTS[] = {
    {PQCOAP_OPT_URI_PATH, SEG1, sizeof SEG1 - 1},
    {PQCOAP_OPT_URI_PATH, SEG2, sizeof SEG2 - 1},
    {PQCOAP_OPT_CONTENT_FORMAT, NULL, 0},
    {PQCOAP_OPT_URI_QUERY, QUERY, sizeof QUERY - 1},
};
#define N_REQ_OPTS (sizeof REQ_OPTS / sizeof REQ_OPTS[0])

/* The message `code` + REQ_OPTS + MESSAGE under token TOKEN, before signing. */
static pqcoap_msg plain_msg(uint8_t code)
{
    pqcoap_msg m = PQCOAP_MSG_INIT;
    m.code = code;
    m.token = TOKEN;
    m.token_len = sizeof TOKEN;
    m.opts = REQ_OPTS;
    m.n_opts = N_REQ_OPTS;
    m.payload = MESSAGE;
    m.payload_len = MESSAGE_LEN;
    return m;
}

/* Signs `code`+REQ_OPTS+MESSAGE (a request to Bob if req is NULL, else a response to req)
 * by `who` with `seq` into w, ready to be verified. */
static void sign_msg(wire *w, int who, uint64_t seq, uint8_t code, const pqcoap_sig_req *req)
{
    pqcoap_msg m = plain_msg(code);
    size_t len = 0;
    CHECK_EQ_INT(pqcoap_sign_v2(&signer[who], seq, &m, req ? NULL : signer[BOB].kid, req,
                                w->sig_opt, w->payload, sizeof w->payload, &len), PQCOAP_OK);
    memcpy(w->opts, REQ_OPTS, sizeof REQ_OPTS);
    w->opts[N_REQ_OPTS] = (pqcoap_opt){PQCOAP_OPT_PQ_SIG, w->sig_opt, sizeof w->sig_opt};
    w->msg = m;
    w->msg.opts = w->opts;
    w->msg.n_opts = N_REQ_OPTS + 1;
    w->msg.payload = w->payload;
    w->msg.payload_len = len;
}

/* Verifies w->msg as a request (req NULL) or response at e; checks the message slice. */
static pqcoap_err verify(endpoint *e, const wire *w, const pqcoap_sig_req *req)
{
    const uint8_t *m = NULL;
    size_t n = 0;
    pqcoap_sig_info info;
    pqcoap_err err = pqcoap_verify_msg(&e->v, &w->msg, req, &info, &m, &n);
    if (err == PQCOAP_OK) {
        CHECK_EQ_INT(n, MESSAGE_LEN);
        CHECK(m == w->msg.payload);
        CHECK_MEM(m, MESSAGE, MESSAGE_LEN);
    }
    return err;
}

/* ---- v1 ---- */

static pqcoap_msg plain_msg(uint8_t code);

static void test_v1_layout(void)
{
    /* Sign with a fixed RNG, and build the expected bytes from the same signature made
     * directly with the signature table: message || sig || u16 len. */
    pqcoap_test_rng st;
    pqcoap_rng rng;
    pqcoap_signer s = v1signer[ALICE];
    s.rng = &rng;
    uint8_t out[PAYLOAD_CAP], sig[PQCOAP_SIGN_SIG_MAX], expect[PAYLOAD_CAP];
    size_t out_len = 0, sig_len = 0;
    CHECK_EQ_INT(pqcoap_test_rng_init(&st, &rng, (const uint8_t *)"v1", 2), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_sign_v1(&s, MESSAGE, MESSAGE_LEN, out, sizeof out, &out_len),
                 PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_test_rng_init(&st, &rng, (const uint8_t *)"v1", 2), PQCOAP_OK);
    pqcoap_span in = {MESSAGE, MESSAGE_LEN};
    CHECK_EQ_INT(pqcoap_sig_falcon512.sign(&rng, sk[ALICE], &in, 1, sig, &sig_len), PQCOAP_OK);
    CHECK(sig_len >= PQCOAP_SIGN_SIG_MIN && sig_len <= PQCOAP_SIGN_SIG_MAX);
    memcpy(expect, MESSAGE, MESSAGE_LEN);
    memcpy(expect + MESSAGE_LEN, sig, sig_len);
    expect[MESSAGE_LEN + sig_len] = (uint8_t)(sig_len >> 8);
    expect[MESSAGE_LEN + sig_len + 1] = (uint8_t)(sig_len & 0xff);
    CHECK_EQ_INT(out_len, MESSAGE_LEN + sig_len + 2);
    CHECK_MEM(out, expect, MESSAGE_LEN + sig_len + 2);

    const uint8_t *m = NULL;
    size_t n = 0;
    CHECK_EQ_INT(pqcoap_verify_v1(&v1key[ALICE], out, out_len, &m, &n),
                 PQCOAP_OK);
    CHECK(m == out);
    CHECK_EQ_INT(n, MESSAGE_LEN);
    /* The signature covers the message alone. */
    CHECK_EQ_INT(pqcoap_sig_falcon512.verify(pk[ALICE], &in, 1, out + MESSAGE_LEN, sig_len),
                 PQCOAP_OK);

    /* In place, and an empty message. */
    uint8_t inplace[PAYLOAD_CAP];
    memcpy(inplace, MESSAGE, MESSAGE_LEN);
    CHECK_EQ_INT(pqcoap_sign_v1(&v1signer[ALICE], inplace, MESSAGE_LEN, inplace, sizeof inplace,
                                &out_len), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_verify_v1(&v1key[ALICE], inplace, out_len, &m, &n),
                 PQCOAP_OK);
    CHECK_MEM(m, MESSAGE, MESSAGE_LEN);
    CHECK_EQ_INT(pqcoap_sign_v1(&v1signer[ALICE], NULL, 0, out, sizeof out, &out_len), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_verify_v1(&v1key[ALICE], out, out_len, &m, &n),
                 PQCOAP_OK);
    CHECK_EQ_INT(n, 0);
    /* Too small an output buffer. */
    CHECK_EQ_INT(pqcoap_sign_v1(&v1signer[ALICE], MESSAGE, MESSAGE_LEN, out,
                                MESSAGE_LEN + PQCOAP_SIGN_SIG_MAX + 2 - 1, &out_len),
                 PQCOAP_ERR_BUFFER);
}

static void test_v1_rejections(void)
{
    uint8_t good[PAYLOAD_CAP], bad[PAYLOAD_CAP];
    size_t len = 0, n;
    const uint8_t *m;
    CHECK_EQ_INT(pqcoap_sign_v1(&v1signer[ALICE], MESSAGE, MESSAGE_LEN, good, sizeof good, &len),
                 PQCOAP_OK);
    size_t sig_len = len - MESSAGE_LEN - 2;

    /* Every single-bit change of message, signature or length field is rejected. */
    int all_rejected = 1;
    for (size_t i = 0; i < len; i++) {
        memcpy(bad, good, len);
        bad[i] ^= (uint8_t)(1u << (i % 8));
        pqcoap_err err = pqcoap_verify_v1(&v1key[ALICE], bad, len, &m, &n);
        if (err != PQCOAP_ERR_AUTH && err != PQCOAP_ERR_MALFORMED) {
            all_rejected = 0;
            fprintf(stderr, "bit flip at %zu: %s\n", i, pqcoap_strerror(err));
        }
    }
    CHECK(all_rejected);

    /* Length field 0, 1..40, 753, 0xffff, or larger than what precedes it: malformed. */
    static const unsigned bad_lens[] = {0, 1, 2, 20, 39, 40, 753, 754, 1000, 0xffff};
    for (size_t i = 0; i < sizeof bad_lens / sizeof bad_lens[0]; i++) {
        memcpy(bad, good, len);
        bad[len - 2] = (uint8_t)(bad_lens[i] >> 8);
        bad[len - 1] = (uint8_t)bad_lens[i];
        CHECK_EQ_INT(pqcoap_verify_v1(&v1key[ALICE], bad, len, &m, &n),
                     PQCOAP_ERR_MALFORMED);
    }
    for (unsigned l = 0; l < PQCOAP_SIGN_SIG_MIN; l++) {
        memcpy(bad, good, len);
        bad[len - 2] = 0;
        bad[len - 1] = (uint8_t)l;
        CHECK_EQ_INT(pqcoap_verify_v1(&v1key[ALICE], bad, len, &m, &n),
                     PQCOAP_ERR_MALFORMED);
    }
    /* Signature without its message, length one more than the bytes before it. */
    memcpy(bad, good + MESSAGE_LEN, sig_len + 2);
    bad[sig_len] = (uint8_t)((sig_len + 1) >> 8);
    bad[sig_len + 1] = (uint8_t)(sig_len + 1);
    CHECK_EQ_INT(pqcoap_verify_v1(&v1key[ALICE], bad, sig_len + 2, &m, &n),
                 PQCOAP_ERR_MALFORMED);
    /* Truncated payloads. */
    CHECK_EQ_INT(pqcoap_verify_v1(&v1key[ALICE], good, 0, &m, &n),
                 PQCOAP_ERR_MALFORMED);
    CHECK_EQ_INT(pqcoap_verify_v1(&v1key[ALICE], good + len - 2, 1, &m, &n),
                 PQCOAP_ERR_MALFORMED);
    CHECK_EQ_INT(pqcoap_verify_v1(&v1key[ALICE], good + 1, len - 1, &m, &n),
                 PQCOAP_ERR_AUTH);

    /* Wrong pinned key, no pinned key. */
    CHECK_EQ_INT(pqcoap_verify_v1(&v1key[BOB], good, len, &m, &n), PQCOAP_ERR_AUTH);
    CHECK_EQ_INT(pqcoap_verify_v1(NULL, good, len, &m, &n), PQCOAP_ERR_NO_PEER_KEY);
    pqcoap_pubkey odd = v1key[ALICE];
    odd.pk_len = 10;
    CHECK_EQ_INT(pqcoap_verify_v1(&odd, good, len, &m, &n), PQCOAP_ERR_ARG);
    odd = v1key[ALICE];
    odd.alg = &pqcoap_sig_falcon1024;
    CHECK_EQ_INT(pqcoap_verify_v1(&odd, good, len, &m, &n), PQCOAP_ERR_ARG);
}

/* PROTOCOL.md "Key usage": a v1 signature covers the bare message, which could be the
 * signature input of v2 or Mode B, so v1 signs and verifies with sign-v1 keys only and v2
 * never with them. */
static void test_key_usage(void)
{
    uint8_t out[PAYLOAD_CAP];
    size_t len = 0, n;
    const uint8_t *m;
    /* A general key does not sign v1, nor verify it (the signature is never checked). */
    CHECK_EQ_INT(pqcoap_sign_v1(&signer[ALICE], MESSAGE, MESSAGE_LEN, out, sizeof out, &len),
                 PQCOAP_ERR_KEY_USAGE);
    CHECK_EQ_INT(pqcoap_sign_v1(&v1signer[ALICE], MESSAGE, MESSAGE_LEN, out, sizeof out, &len),
                 PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_verify_v1(&id[ALICE].pub, out, len, &m, &n), PQCOAP_ERR_KEY_USAGE);
    CHECK_EQ_INT(pqcoap_verify_v1(&v1key[ALICE], out, len, &m, &n), PQCOAP_OK);
    /* A v1 key does not sign v2. */
    pqcoap_msg msg = plain_msg(PQCOAP_POST);
    uint8_t opt[PQCOAP_SIG_OPT_LEN];
    CHECK_EQ_INT(pqcoap_sign_v2(&v1signer[ALICE], 1, &msg, signer[BOB].kid, NULL, opt, out,
                                sizeof out, &len), PQCOAP_ERR_KEY_USAGE);
}

/* ---- v2 ---- */

static void test_sig_opt(void)
{
    const uint8_t kid[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    const uint8_t expect[PQCOAP_SIG_OPT_LEN] = {2, 1, 2, 3, 4, 5, 6, 7, 8,
                                               0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08};
    uint8_t v[PQCOAP_SIG_OPT_LEN + 1], k[8];
    uint64_t seq = 0;
    pqcoap_sig_opt_encode(kid, UINT64_C(0x0102030405060708), v);
    CHECK_MEM(v, expect, sizeof expect);
    CHECK_EQ_INT(pqcoap_sig_opt_parse(v, PQCOAP_SIG_OPT_LEN, k, &seq), PQCOAP_OK);
    CHECK_MEM(k, kid, 8);
    CHECK(seq == UINT64_C(0x0102030405060708));
    CHECK_EQ_INT(pqcoap_sig_opt_parse(v, 16, k, &seq), PQCOAP_ERR_MALFORMED);
    CHECK_EQ_INT(pqcoap_sig_opt_parse(v, 18, k, &seq), PQCOAP_ERR_MALFORMED);
    CHECK_EQ_INT(pqcoap_sig_opt_parse(v, 0, k, &seq), PQCOAP_ERR_MALFORMED);
    v[0] = 1;
    CHECK_EQ_INT(pqcoap_sig_opt_parse(v, PQCOAP_SIG_OPT_LEN, k, &seq), PQCOAP_ERR_MALFORMED);

    /* kid = first 8 bytes of SHA-256(pk), computed here with OpenSSL directly. */
    uint8_t h[SHA256_DIGEST_LENGTH];
    SHA256(pk[ALICE], sizeof pk[ALICE], h);
    CHECK_MEM(signer[ALICE].kid, h, 8);
}

static void test_v2_binding(void)
{
    endpoint server;
    endpoint_init(&server, PQCOAP_SIGN_V2_ONLY, NULL);
    wire w, t;
    sign_msg(&w, ALICE, 1, PQCOAP_POST, NULL);

    /* The option value on the wire. */
    CHECK_EQ_INT(w.sig_opt[0], 2);
    CHECK_MEM(w.sig_opt + 1, signer[ALICE].kid, 8);
    CHECK_EQ_INT(w.sig_opt[16], 1);

    /* Each change after signing is rejected and does not move the window. */
    t = w;
    t.msg.code = PQCOAP_PUT;
    CHECK_EQ_INT(verify(&server, &t, NULL), PQCOAP_ERR_AUTH);
    static const uint8_t other_seg[] = "humid", other_query[] = "unit=f";
    t = w;
    t.msg.opts = t.opts;
    t.opts[1].value = other_seg;
    t.opts[1].len = sizeof other_seg - 1;
    CHECK_EQ_INT(verify(&server, &t, NULL), PQCOAP_ERR_AUTH);
    t = w;
    t.msg.opts = t.opts;
    t.opts[3].value = other_query;
    CHECK_EQ_INT(verify(&server, &t, NULL), PQCOAP_ERR_AUTH);
    t = w;
    t.msg.opts = t.opts;
    t.opts[2].value = CF_JSON;
    t.opts[2].len = sizeof CF_JSON;
    CHECK_EQ_INT(verify(&server, &t, NULL), PQCOAP_ERR_AUTH);
    t = w; /* an option dropped */
    t.msg.opts = t.opts + 1;
    t.msg.n_opts--;
    CHECK_EQ_INT(verify(&server, &t, NULL), PQCOAP_ERR_AUTH);
    t = w;
    t.msg.payload = t.payload;
    t.payload[0] ^= 1;
    CHECK_EQ_INT(verify(&server, &t, NULL), PQCOAP_ERR_AUTH);
    t = w; /* seq changed in the option */
    t.msg.opts = t.opts;
    t.opts[N_REQ_OPTS].value = t.sig_opt;
    t.sig_opt[16] = 2;
    CHECK_EQ_INT(verify(&server, &t, NULL), PQCOAP_ERR_AUTH);

    /* PROTOCOL.md "The token": the token is not bound, as block-wise transfer may change
     * it. Request seq 2 arrives under another token, then seq 3 under an empty one. */
    static const uint8_t other_token[] = {0xa1, 0xb2, 0xc3, 0xd5};
    wire w2, w3;
    sign_msg(&w2, ALICE, 2, PQCOAP_POST, NULL);
    w2.msg.token = other_token;
    CHECK_EQ_INT(verify(&server, &w2, NULL), PQCOAP_OK);
    sign_msg(&w3, ALICE, 3, PQCOAP_POST, NULL);
    w3.msg.token = NULL;
    w3.msg.token_len = 0;
    CHECK_EQ_INT(verify(&server, &w3, NULL), PQCOAP_OK);
    /* ... and a new token does not make a used seq fresh. */
    w2.msg.token = TOKEN;
    CHECK_EQ_INT(verify(&server, &w2, NULL), PQCOAP_ERR_REPLAY);

    /* Options a proxy or block-wise transfer may change are not bound (PROTOCOL.md). */
    static const uint8_t host[] = "plant.example";
    pqcoap_opt with_host[N_REQ_OPTS + 2];
    with_host[0] = (pqcoap_opt){PQCOAP_OPT_URI_HOST, host, sizeof host - 1};
    memcpy(with_host + 1, w.opts, (N_REQ_OPTS + 1) * sizeof w.opts[0]);
    t = w;
    t.msg.opts = with_host;
    t.msg.n_opts = N_REQ_OPTS + 2;
    CHECK_EQ_INT(verify(&server, &t, NULL), PQCOAP_OK);
    /* ... which accepted seq 1, so the genuine copy is now a replay. */
    CHECK_EQ_INT(verify(&server, &w, NULL), PQCOAP_ERR_REPLAY);
    CHECK_EQ_INT(verify(&server, &w, NULL), PQCOAP_ERR_REPLAY);
}

/* The request signature input of PROTOCOL.md byte for byte, its recipient binding, and
 * the earlier format without recipient_kid, which is refused. */
static void test_v2_request_input(void)
{
    pqcoap_test_rng st;
    pqcoap_rng rng;
    pqcoap_signer s = signer[ALICE];
    s.rng = &rng;
    pqcoap_msg m = plain_msg(PQCOAP_POST);
    uint8_t opt[PQCOAP_SIG_OPT_LEN], out[PAYLOAD_CAP], sig[PQCOAP_SIGN_SIG_MAX];
    size_t out_len = 0, sig_len = 0;
    CHECK_EQ_INT(pqcoap_test_rng_init(&st, &rng, (const uint8_t *)"v2", 2), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_sign_v2(&s, 0x0102030405060708u, &m, signer[BOB].kid, NULL, opt, out,
                                sizeof out, &out_len), PQCOAP_OK);

    /* "pqcoap v2 req" || u8 code || opts(msg) || kid || u64 seq || recipient_kid || message,
     * with opts(msg) = u16 count || (u16 number || str16(value))* written out by hand. */
    static const uint8_t opts_bytes[] = {
        0, 4,                                                  /* count */
        0, 11, 0, 7, 's', 'e', 'n', 's', 'o', 'r', 's',        /* Uri-Path */
        0, 11, 0, 4, 't', 'e', 'm', 'p',                       /* Uri-Path */
        0, 12, 0, 0,                                           /* Content-Format 0 */
        0, 15, 0, 6, 'u', 'n', 'i', 't', '=', 'c'};            /* Uri-Query */
    static const uint8_t seq_bytes[] = {1, 2, 3, 4, 5, 6, 7, 8};
    uint8_t tbs[256];
    size_t n = 0;
    memcpy(tbs + n, "pqcoap v2 req", 13), n += 13;
    tbs[n++] = PQCOAP_POST;
    memcpy(tbs + n, opts_bytes, sizeof opts_bytes), n += sizeof opts_bytes;
    memcpy(tbs + n, signer[ALICE].kid, 8), n += 8;
    memcpy(tbs + n, seq_bytes, 8), n += 8;
    memcpy(tbs + n, signer[BOB].kid, 8), n += 8;
    memcpy(tbs + n, MESSAGE, MESSAGE_LEN), n += MESSAGE_LEN;
    CHECK_EQ_INT(pqcoap_test_rng_init(&st, &rng, (const uint8_t *)"v2", 2), PQCOAP_OK);
    pqcoap_span in = {tbs, n};
    CHECK_EQ_INT(pqcoap_sig_falcon512.sign(&rng, sk[ALICE], &in, 1, sig, &sig_len), PQCOAP_OK);
    CHECK_EQ_INT(out_len, MESSAGE_LEN + sig_len + 2);
    CHECK_MEM(out, MESSAGE, MESSAGE_LEN);
    CHECK(out_len == MESSAGE_LEN + sig_len + 2 && memcmp(out + MESSAGE_LEN, sig, sig_len) == 0);
    CHECK_EQ_INT(pqcoap_sig_falcon512.verify(pk[ALICE], &in, 1, out + MESSAGE_LEN,
                                             out_len - MESSAGE_LEN - 2), PQCOAP_OK);

    /* Verified by Bob, the recipient it names; not by an endpoint whose own kid is Carol's,
     * which also trusts Alice. */
    wire w;
    sign_msg(&w, ALICE, 9, PQCOAP_POST, NULL);
    endpoint bob, carol;
    endpoint_init(&bob, PQCOAP_SIGN_V2_ONLY, NULL);
    endpoint_init(&carol, PQCOAP_SIGN_V2_ONLY, NULL);
    carol.v.own_kid = signer[CAROL].kid;
    CHECK_EQ_INT(verify(&carol, &w, NULL), PQCOAP_ERR_AUTH);
    CHECK_EQ_INT(verify(&bob, &w, NULL), PQCOAP_OK);
    /* A verifier of requests needs its own kid; a signer of requests needs the recipient. */
    const uint8_t *msg;
    size_t msg_len;
    carol.v.own_kid = NULL;
    CHECK_EQ_INT(pqcoap_verify_v2(&carol.v, &w.msg, NULL, NULL, &msg, &msg_len), PQCOAP_ERR_ARG);
    CHECK_EQ_INT(pqcoap_sign_v2(&signer[ALICE], 10, &m, NULL, NULL, opt, out, sizeof out,
                                &out_len), PQCOAP_ERR_ARG);

    /* The earlier request format, "pqcoap v2 req" || u8 code || opts(msg) || kid || u64 seq
     * || message (no recipient_kid), under a PQ-Sig option of seq 11: Bob refuses it. */
    wire old;
    sign_msg(&old, ALICE, 11, PQCOAP_POST, NULL);
    n = 13 + 1 + sizeof opts_bytes + 8;
    memset(tbs + n, 0, 8);
    tbs[n + 7] = 11;
    n += 8;
    memcpy(tbs + n, MESSAGE, MESSAGE_LEN), n += MESSAGE_LEN;
    in.n = n;
    CHECK_EQ_INT(pqcoap_sig_falcon512.sign(NULL, sk[ALICE], &in, 1, sig, &sig_len), PQCOAP_OK);
    memcpy(old.payload + MESSAGE_LEN, sig, sig_len);
    old.payload[MESSAGE_LEN + sig_len] = (uint8_t)(sig_len >> 8);
    old.payload[MESSAGE_LEN + sig_len + 1] = (uint8_t)sig_len;
    old.msg.payload_len = MESSAGE_LEN + sig_len + 2;
    CHECK_EQ_INT(verify(&bob, &old, NULL), PQCOAP_ERR_AUTH);
}

static void test_v2_replay(void)
{
    endpoint server;
    endpoint_init(&server, PQCOAP_SIGN_V2_ONLY, NULL);
    wire w[4], high, low;
    for (int i = 0; i < 4; i++)
        sign_msg(&w[i], ALICE, 10 + (uint64_t)i, PQCOAP_GET, NULL);

    /* Out of order inside the window: accepted exactly once each. */
    static const int order[] = {2, 0, 3, 1};
    for (int i = 0; i < 4; i++)
        CHECK_EQ_INT(verify(&server, &w[order[i]], NULL), PQCOAP_OK);
    for (int i = 0; i < 4; i++)
        CHECK_EQ_INT(verify(&server, &w[i], NULL), PQCOAP_ERR_REPLAY);

    /* A forged message with a high seq does not move the window: seq 1000 with a broken
     * signature is rejected, then genuine seq 100 (below the window had 1000 been
     * accepted) still is accepted. */
    sign_msg(&high, ALICE, 1000, PQCOAP_GET, NULL);
    high.payload[MESSAGE_LEN + 10] ^= 0x40;
    CHECK_EQ_INT(verify(&server, &high, NULL), PQCOAP_ERR_AUTH);
    high.payload[MESSAGE_LEN + 10] ^= 0x40;
    sign_msg(&low, ALICE, 100, PQCOAP_GET, NULL);
    CHECK_EQ_INT(verify(&server, &low, NULL), PQCOAP_OK);

    /* Below the window: seq 30 was never delivered, but 100 - 30 >= 64. */
    wire old;
    sign_msg(&old, ALICE, 30, PQCOAP_GET, NULL);
    CHECK_EQ_INT(verify(&server, &old, NULL), PQCOAP_ERR_REPLAY);
    /* Now the genuine 1000 arrives; 100 falls below the window. */
    CHECK_EQ_INT(verify(&server, &high, NULL), PQCOAP_OK);
    CHECK_EQ_INT(verify(&server, &low, NULL), PQCOAP_ERR_REPLAY);

    /* Windows are per sender: Bob's seq 10 is fresh. */
    wire b;
    sign_msg(&b, BOB, 10, PQCOAP_GET, NULL);
    CHECK_EQ_INT(verify(&server, &b, NULL), PQCOAP_OK);
}

static void test_v2_response(void)
{
    endpoint client;
    endpoint_init(&client, PQCOAP_SIGN_V2_ONLY, NULL);
    /* Alice's request: seq 41. Bob answers it with his own seq 7. */
    pqcoap_sig_req req = {{0}, 41};
    memcpy(req.kid, signer[ALICE].kid, 8);
    wire r;
    sign_msg(&r, BOB, 7, PQCOAP_CODE(2, 5), &req);

    /* Presented for another request: other request seq, other request kid. */
    pqcoap_sig_req other = req;
    other.seq = 42;
    CHECK_EQ_INT(verify(&client, &r, &other), PQCOAP_ERR_AUTH);
    other = req;
    other.kid[0] ^= 1;
    CHECK_EQ_INT(verify(&client, &r, &other), PQCOAP_ERR_AUTH);
    /* A response is not a request, and a request is not a response. */
    CHECK_EQ_INT(verify(&client, &r, NULL), PQCOAP_ERR_AUTH);
    wire q;
    sign_msg(&q, BOB, 8, PQCOAP_CODE(2, 5), NULL);
    CHECK_EQ_INT(verify(&client, &q, &req), PQCOAP_ERR_AUTH);
    /* The same response for another request seq, under another token: still rejected. */
    static const uint8_t token2[] = {9, 9};
    wire t = r;
    t.msg.token = token2;
    t.msg.token_len = sizeof token2;
    other = req;
    other.seq = 40;
    CHECK_EQ_INT(verify(&client, &t, &other), PQCOAP_ERR_AUTH);

    /* PROTOCOL.md "The token": the genuine pairing is accepted once, whatever token the
     * response travels under (here not the one the request was signed with). */
    pqcoap_sig_info info;
    const uint8_t *m;
    size_t n;
    CHECK_EQ_INT(pqcoap_verify_v2(&client.v, &t.msg, &req, &info, &m, &n), PQCOAP_OK);
    CHECK_EQ_INT(info.version, 2);
    CHECK_MEM(info.kid, signer[BOB].kid, 8);
    CHECK_EQ_INT(info.seq, 7);
    CHECK_EQ_INT(verify(&client, &r, &req), PQCOAP_ERR_REPLAY);

    /* Without a replay table (the sign client's way: a response is fresh by its binding):
     * the response still only for its request; a request needs the table. */
    endpoint nowin;
    endpoint_init(&nowin, PQCOAP_SIGN_V2_ONLY, NULL);
    nowin.v.replay = NULL;
    CHECK_EQ_INT(verify(&nowin, &r, &req), PQCOAP_OK);
    CHECK_EQ_INT(verify(&nowin, &r, &other), PQCOAP_ERR_AUTH);
    wire a;
    sign_msg(&a, ALICE, 1, PQCOAP_GET, NULL);
    CHECK_EQ_INT(verify(&nowin, &a, NULL), PQCOAP_ERR_ARG);
}

static void test_v2_option_and_kid(void)
{
    endpoint server;
    endpoint_init(&server, PQCOAP_SIGN_V2_ONLY, NULL);
    wire w, t;
    sign_msg(&w, ALICE, 5, PQCOAP_POST, NULL);
    uint8_t v[PQCOAP_SIG_OPT_LEN + 1];
    const uint8_t *m;
    size_t n;

    /* Wrong length, wrong version, duplicated, missing: malformed. */
    t = w;
    t.msg.opts = t.opts;
    memcpy(v, w.sig_opt, PQCOAP_SIG_OPT_LEN);
    v[PQCOAP_SIG_OPT_LEN] = 0;
    t.opts[N_REQ_OPTS].value = v;
    t.opts[N_REQ_OPTS].len = PQCOAP_SIG_OPT_LEN + 1;
    CHECK_EQ_INT(verify(&server, &t, NULL), PQCOAP_ERR_MALFORMED);
    t.opts[N_REQ_OPTS].len = PQCOAP_SIG_OPT_LEN - 1;
    CHECK_EQ_INT(verify(&server, &t, NULL), PQCOAP_ERR_MALFORMED);
    t.opts[N_REQ_OPTS].len = 0;
    CHECK_EQ_INT(verify(&server, &t, NULL), PQCOAP_ERR_MALFORMED);
    t.opts[N_REQ_OPTS].len = PQCOAP_SIG_OPT_LEN;
    v[0] = 1;
    CHECK_EQ_INT(verify(&server, &t, NULL), PQCOAP_ERR_MALFORMED);
    v[0] = 3;
    CHECK_EQ_INT(verify(&server, &t, NULL), PQCOAP_ERR_MALFORMED);
    t = w;
    t.msg.opts = t.opts;
    t.opts[N_REQ_OPTS + 1] = t.opts[N_REQ_OPTS];
    t.msg.n_opts++;
    CHECK_EQ_INT(verify(&server, &t, NULL), PQCOAP_ERR_MALFORMED);
    t = w;
    t.msg.n_opts--;
    CHECK_EQ_INT(pqcoap_verify_v2(&server.v, &t.msg, NULL, NULL, &m, &n), PQCOAP_ERR_MALFORMED);
    /* Payload too short to hold a signature. */
    t = w;
    t.msg.payload_len = 1;
    CHECK_EQ_INT(verify(&server, &t, NULL), PQCOAP_ERR_MALFORMED);

    /* Unknown kid: Carol is not trusted; a kid nobody has. Nothing enters the table. */
    wire c;
    sign_msg(&c, CAROL, 5, PQCOAP_POST, NULL);
    CHECK_EQ_INT(verify(&server, &c, NULL), PQCOAP_ERR_UNKNOWN_PEER);
    t = w;
    t.msg.opts = t.opts;
    memcpy(v, w.sig_opt, PQCOAP_SIG_OPT_LEN);
    v[1] ^= 0x80;
    t.opts[N_REQ_OPTS].value = v;
    CHECK_EQ_INT(verify(&server, &t, NULL), PQCOAP_ERR_UNKNOWN_PEER);
    /* Bob's kid on Alice's message: Bob's key does not verify it. */
    memcpy(v + 1, signer[BOB].kid, 8);
    CHECK_EQ_INT(verify(&server, &t, NULL), PQCOAP_ERR_AUTH);
    for (size_t i = 0; i < 4; i++)
        CHECK(!server.slots[i].used);

    /* After all these rejections the genuine message is accepted. */
    CHECK_EQ_INT(verify(&server, &w, NULL), PQCOAP_OK);
}

static void test_policy(void)
{
    endpoint v2only, v1only, both, v2nokey;
    endpoint_init(&v2only, PQCOAP_SIGN_V2_ONLY, &v1key[ALICE]);
    endpoint_init(&v1only, PQCOAP_SIGN_V1_ONLY, &v1key[ALICE]);
    endpoint_init(&both, PQCOAP_SIGN_V1_AND_V2, &v1key[ALICE]);
    endpoint_init(&v2nokey, PQCOAP_SIGN_V1_AND_V2, NULL);
    wire w2, w1;
    sign_msg(&w2, ALICE, 3, PQCOAP_POST, NULL);
    /* The same request, v1: no PQ-Sig option, v1 payload. */
    w1 = w2;
    w1.msg.opts = REQ_OPTS;
    w1.msg.n_opts = N_REQ_OPTS;
    w1.msg.payload = w1.payload;
    CHECK_EQ_INT(pqcoap_sign_v1(&v1signer[ALICE], MESSAGE, MESSAGE_LEN, w1.payload,
                                sizeof w1.payload, &w1.msg.payload_len), PQCOAP_OK);

    /* v1 to a v2-only endpoint: downgrade, never accepted. */
    CHECK_EQ_INT(verify(&v2only, &w1, NULL), PQCOAP_ERR_DOWNGRADE);
    CHECK_EQ_INT(verify(&v2only, &w2, NULL), PQCOAP_OK);
    CHECK_EQ_INT(verify(&v1only, &w2, NULL), PQCOAP_ERR_UNSUPPORTED);
    CHECK_EQ_INT(verify(&v1only, &w1, NULL), PQCOAP_OK);
    pqcoap_sig_info info;
    const uint8_t *m;
    size_t n;
    CHECK_EQ_INT(pqcoap_verify_msg(&both.v, &w1.msg, NULL, &info, &m, &n), PQCOAP_OK);
    CHECK_EQ_INT(info.version, 1);
    CHECK_EQ_INT(pqcoap_verify_msg(&both.v, &w2.msg, NULL, &info, &m, &n), PQCOAP_OK);
    CHECK_EQ_INT(info.version, 2);
    CHECK_EQ_INT(verify(&v2nokey, &w1, NULL), PQCOAP_ERR_NO_PEER_KEY);
    /* v1 binds nothing: the same v1 payload under another method still verifies. */
    w1.msg.code = PQCOAP_DELETE;
    CHECK_EQ_INT(verify(&both, &w1, NULL), PQCOAP_OK);
    /* A v2 payload stripped of its option and presented as v1 does not verify. */
    wire s = w2;
    s.msg.n_opts--;
    CHECK_EQ_INT(verify(&both, &s, NULL), PQCOAP_ERR_AUTH);
}

/* ---- look-up through a pqcoap_store ---- */

/* The usage the store gives Alice's key. */
static pqcoap_key_usage alice_usage;

static pqcoap_err store_by_kid(void *ctx, const uint8_t kid[8], pqcoap_peer *out)
{
    (void)ctx;
    if (memcmp(kid, signer[ALICE].kid, 8) == 0) {
        memset(out, 0, sizeof *out);
        strcpy(out->id, "alice");
        strcpy(out->alg, "falcon-512");
        out->usage = alice_usage;
        memcpy(out->kid, kid, 8);
        memcpy(out->pk, pk[ALICE], sizeof pk[ALICE]);
        out->pk_len = sizeof pk[ALICE];
        return PQCOAP_OK;
    }
    if (memcmp(kid, signer[BOB].kid, 8) == 0) { /* stored, but of another algorithm */
        memset(out, 0, sizeof *out);
        strcpy(out->alg, "ml-dsa-65");
        out->pk_len = sizeof pk[BOB];
        return PQCOAP_OK;
    }
    return PQCOAP_ERR_NOT_FOUND;
}

static void test_store_lookup(void)
{
    pqcoap_store_ops ops;
    memset(&ops, 0, sizeof ops);
    ops.peer_by_kid = store_by_kid;
    pqcoap_store store = {&ops, NULL};
    pqcoap_store_lookup sl;
    memset(&sl, 0, sizeof sl);
    sl.store = &store;
    endpoint server;
    endpoint_init(&server, PQCOAP_SIGN_V2_ONLY, NULL);
    server.v.lookup = pqcoap_store_key_lookup;
    server.v.lookup_ctx = &sl;
    wire a, a2, b, c;
    sign_msg(&a, ALICE, 1, PQCOAP_GET, NULL);
    sign_msg(&a2, ALICE, 2, PQCOAP_GET, NULL);
    sign_msg(&b, BOB, 1, PQCOAP_GET, NULL);
    sign_msg(&c, CAROL, 1, PQCOAP_GET, NULL);
    alice_usage = PQCOAP_USAGE_GENERAL;
    CHECK_EQ_INT(verify(&server, &a, NULL), PQCOAP_OK);
    CHECK_EQ_INT(verify(&server, &b, NULL), PQCOAP_ERR_UNKNOWN_PEER);
    CHECK_EQ_INT(verify(&server, &c, NULL), PQCOAP_ERR_UNKNOWN_PEER);
    /* Alice's key pinned for v1: her v2 request is refused (4.01), seq 2 stays unused. */
    alice_usage = PQCOAP_USAGE_SIGN_V1;
    CHECK_EQ_INT(verify(&server, &a2, NULL), PQCOAP_ERR_KEY_USAGE);
    alice_usage = PQCOAP_USAGE_GENERAL;
    CHECK_EQ_INT(verify(&server, &a2, NULL), PQCOAP_OK);
}

static void test_error_codes(void)
{
    CHECK_EQ_INT(pqcoap_sign_error_code(PQCOAP_ERR_MALFORMED), PQCOAP_CODE(4, 0));
    CHECK_EQ_INT(pqcoap_sign_error_code(PQCOAP_ERR_AUTH), PQCOAP_CODE(4, 1));
    CHECK_EQ_INT(pqcoap_sign_error_code(PQCOAP_ERR_UNKNOWN_PEER), PQCOAP_CODE(4, 1));
    CHECK_EQ_INT(pqcoap_sign_error_code(PQCOAP_ERR_REPLAY), PQCOAP_CODE(4, 1));
    CHECK_EQ_INT(pqcoap_sign_error_code(PQCOAP_ERR_DOWNGRADE), PQCOAP_CODE(4, 1));
    CHECK_EQ_INT(pqcoap_sign_error_code(PQCOAP_ERR_NO_PEER_KEY), PQCOAP_CODE(4, 1));
    CHECK_EQ_INT(pqcoap_sign_error_code(PQCOAP_ERR_KEY_USAGE), PQCOAP_CODE(4, 1));
    CHECK_EQ_INT(pqcoap_sign_error_code(PQCOAP_ERR_UNSUPPORTED), PQCOAP_CODE(4, 2));
    CHECK_EQ_INT(pqcoap_sign_error_code(PQCOAP_ERR_TOO_LARGE), PQCOAP_CODE(4, 13));
    CHECK_EQ_INT(pqcoap_sign_error_code(PQCOAP_ERR_LIMIT), PQCOAP_CODE(5, 3));
    CHECK_EQ_INT(pqcoap_sign_error_code(PQCOAP_ERR_CRYPTO), PQCOAP_CODE(5, 0));
    CHECK_EQ_INT(pqcoap_sign_error_code(PQCOAP_OK), 0);
}

int main(void)
{
    make_keys();
    test_signer();
    test_v1_layout();
    test_v1_rejections();
    test_key_usage();
    test_sig_opt();
    test_v2_binding();
    test_v2_request_input();
    test_v2_replay();
    test_v2_response();
    test_v2_option_and_kid();
    test_policy();
    test_store_lookup();
    test_error_codes();
    for (int i = 0; i < NKEYS; i++)
        pqcoap_identity_wipe(&id[i]);
    return check_done();
}

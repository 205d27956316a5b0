/* Secured notifications in the core (PROTOCOL.md "Observe"), sans-I/O, for Mode A v2,
 * Mode B and OSCORE: a notification verifies; a replayed one, an older one after a newer,
 * one of another registration, one with a byte changed, and a response (or its signature)
 * passed as a notification are refused; Mode A's notification signature is no response or
 * request signature either. */
#include <string.h>

#include "check.h"
#include "pqcoap/oscore.h"
#include "pqcoap/sign.h"
#include "../session/fixture.h"

/* The first option numbered `number` of m, or NULL. */
static const pqcoap_opt *find_opt(const pqcoap_msg *m, uint16_t number)
{
    for (size_t i = 0; i < m->n_opts; i++)
        if (m->opts[i].number == number)
            return &m->opts[i];
    return NULL;
}

/* ---- Mode A v2 ---------------------------------------------------------------------- */

enum { CLIENT, SERVER, NKEYS };
static pqcoap_identity id[NKEYS];
static pqcoap_signer signer[NKEYS];

static const uint8_t OBS0[] = {0};
static const uint8_t OBS_VAL[] = {7};
static const pqcoap_opt NOTIF_OPTS[] = {{PQCOAP_OPT_OBSERVE, OBS_VAL, 1},
                                        {PQCOAP_OPT_CONTENT_FORMAT, OBS0, 0}};
static const uint8_t TOKEN[] = {0x51, 0x52};

/* A signed message: PQ-Sig option and payload `message || signature || L`. */
typedef struct signed_msg {
    pqcoap_opt opts[3];
    uint8_t opt[PQCOAP_SIG_OPT_LEN];
    uint8_t payload[64 + PQCOAP_SIGN_OVERHEAD_MAX];
    pqcoap_msg m;
} signed_msg;

/* Signs text as a notification (notif) or a response of registration req with seq. */
static void sign_a(signed_msg *s, int notif, uint64_t seq, const pqcoap_sig_req *req,
                   const char *text)
{
    pqcoap_msg plain = {PQCOAP_CODE(2, 5), TOKEN, 2, NOTIF_OPTS, 2, (const uint8_t *)text,
                        strlen(text)};
    size_t len = 0;
    if (notif)
        CHECK_EQ_INT(pqcoap_sign_v2_notification(&signer[SERVER], seq, &plain, req, s->opt,
                                                 s->payload, sizeof s->payload, &len),
                     PQCOAP_OK);
    else
        CHECK_EQ_INT(pqcoap_sign_v2(&signer[SERVER], seq, &plain, NULL, req, s->opt, s->payload,
                                    sizeof s->payload, &len), PQCOAP_OK);
    s->opts[0] = NOTIF_OPTS[0];
    s->opts[1] = NOTIF_OPTS[1];
    s->opts[2] = (pqcoap_opt){PQCOAP_OPT_PQ_SIG, s->opt, PQCOAP_SIG_OPT_LEN};
    s->m = (pqcoap_msg){PQCOAP_CODE(2, 5), TOKEN, 2, s->opts, 3, s->payload, len};
}

static pqcoap_err server_key(void *ctx, const uint8_t kid[8], const pqcoap_pubkey **key)
{
    (void)ctx;
    if (memcmp(kid, id[SERVER].pub.kid, 8) != 0)
        return PQCOAP_ERR_UNKNOWN_PEER;
    *key = &id[SERVER].pub;
    return PQCOAP_OK;
}

/* What a client keeps per observation, and its check of one notification. */
typedef struct order {
    int seen;
    uint64_t last;
} order;

static pqcoap_err take_a(order *o, const pqcoap_sig_req *req, const pqcoap_msg *m)
{
    pqcoap_verifier v = PQCOAP_VERIFIER_INIT;
    v.lookup = server_key;
    pqcoap_sig_info info;
    const uint8_t *message;
    size_t len;
    pqcoap_err err = pqcoap_verify_v2_notification(&v, m, req, o->seen, o->last, &info,
                                                   &message, &len);
    if (err == PQCOAP_OK) {
        o->seen = 1;
        o->last = info.seq;
    }
    return err;
}

static void mode_a(void)
{
    for (int i = 0; i < NKEYS; i++) {
        CHECK_EQ_INT(pqcoap_identity_generate("falcon-512", NULL, &id[i]), PQCOAP_OK);
        CHECK_EQ_INT(pqcoap_signer_from_identity(&signer[i], &id[i], NULL), PQCOAP_OK);
    }
    pqcoap_sig_req reg = {{0}, 40}, other = {{0}, 41};
    memcpy(reg.kid, id[CLIENT].pub.kid, 8);
    memcpy(other.kid, id[CLIENT].pub.kid, 8);
    static signed_msg n1, n2, n3, foreign, resp, bad;
    sign_a(&n1, 1, 100, &reg, "n=1");
    sign_a(&n2, 1, 101, &reg, "n=2");
    sign_a(&n3, 1, 102, &reg, "n=3");
    sign_a(&foreign, 1, 103, &other, "n=x");
    sign_a(&resp, 0, 104, &reg, "n=r");
    order o = {0, 0};
    /* the registration's response signature (and one with a higher seq) is no notification */
    CHECK_EQ_INT(take_a(&o, &reg, &resp.m), PQCOAP_ERR_AUTH);
    CHECK_EQ_INT(take_a(&o, &reg, &n2.m), PQCOAP_OK);
    CHECK_EQ_INT(o.last, 101);
    /* replayed, and older than the newest accepted: refused before the signature */
    CHECK_EQ_INT(take_a(&o, &reg, &n2.m), PQCOAP_ERR_REPLAY);
    CHECK_EQ_INT(take_a(&o, &reg, &n1.m), PQCOAP_ERR_REPLAY);
    /* a notification of another registration (request seq 41), though newer */
    CHECK_EQ_INT(take_a(&o, &reg, &foreign.m), PQCOAP_ERR_AUTH);
    /* a byte changed in the message, or in the Observe value bound by opts() */
    bad = n3;
    bad.m.opts = bad.opts;
    bad.m.payload = bad.payload;
    bad.opts[2].value = bad.opt;
    bad.payload[0] ^= 1;
    CHECK_EQ_INT(take_a(&o, &reg, &bad.m), PQCOAP_ERR_AUTH);
    bad.payload[0] ^= 1;
    static const uint8_t obs_other[] = {8};
    bad.opts[0].value = obs_other;
    CHECK_EQ_INT(take_a(&o, &reg, &bad.m), PQCOAP_ERR_AUTH);
    CHECK_EQ_INT(o.last, 101); /* nothing refused moved the order */
    CHECK_EQ_INT(take_a(&o, &reg, &n3.m), PQCOAP_OK);
    /* a notification signature passes neither as a response nor as a request */
    pqcoap_verifier v = PQCOAP_VERIFIER_INIT;
    v.lookup = server_key;
    const uint8_t *message;
    size_t len;
    CHECK_EQ_INT(pqcoap_verify_v2(&v, &n3.m, &reg, NULL, &message, &len), PQCOAP_ERR_AUTH);
    pqcoap_replay_entry e;
    pqcoap_replay_table t;
    CHECK_EQ_INT(pqcoap_replay_table_init(&t, &e, 1), PQCOAP_OK);
    v.replay = &t;
    v.own_kid = id[CLIENT].pub.kid;
    CHECK_EQ_INT(pqcoap_verify_v2(&v, &n3.m, NULL, NULL, &message, &len), PQCOAP_ERR_AUTH);
    /* a notification needs its registration */
    CHECK_EQ_INT(pqcoap_verify_v2_notification(&v, &n3.m, NULL, 0, 0, NULL, &message, &len),
                 PQCOAP_ERR_ARG);
    for (int i = 0; i < NKEYS; i++)
        pqcoap_identity_wipe(&id[i]);
}

/* ---- Mode B --------------------------------------------------------------------------- */

#define T0 5000000
static fixture fx;

typedef struct prot_msg {
    uint8_t prot[96];
    size_t len;
} prot_msg;

static pqcoap_msg resp_view(const prot_msg *p)
{
    pqcoap_msg m = {PQCOAP_CODE(2, 5), TOKEN, 2, NOTIF_OPTS, 2, p->prot, p->len};
    return m;
}

/* The responder protects text as a response (or notification) to request ctx. */
static void protect_b(const pqcoap_req_ctx *ctx, const char *text, prot_msg *p)
{
    pqcoap_msg m = {PQCOAP_CODE(2, 5), TOKEN, 2, NOTIF_OPTS, 2, (const uint8_t *)text,
                    strlen(text)};
    CHECK_EQ_INT(pqcoap_responder_protect(&fx.responder, ctx, &m, T0, p->prot, sizeof p->prot,
                                          &p->len), PQCOAP_OK);
}

/* The client registers (a GET) and the responder accepts it: its request_n and ctx. */
static void register_b(pqcoap_session *c, uint64_t *request_n, pqcoap_req_ctx *ctx)
{
    uint8_t prot[64], plain[16];
    size_t len, plain_len;
    pqcoap_msg req = fx_request(PQCOAP_GET, TOKEN, 2, NULL, 0);
    CHECK_EQ_INT(pqcoap_session_protect_request(c, &req, T0, prot, sizeof prot, &len,
                                                request_n), PQCOAP_OK);
    req.payload = prot;
    req.payload_len = len;
    CHECK_EQ_INT(pqcoap_responder_unprotect(&fx.responder, &req, T0, plain, sizeof plain,
                                            &plain_len, ctx), PQCOAP_OK);
}

static pqcoap_err take_b(pqcoap_session *c, order *o, uint64_t request_n, const prot_msg *p)
{
    uint8_t plain[32];
    size_t plain_len;
    uint64_t n;
    pqcoap_msg m = resp_view(p);
    pqcoap_err err = pqcoap_session_unprotect_notification(c, request_n, o->seen, o->last, &m,
                                                           T0, plain, sizeof plain,
                                                           &plain_len, &n);
    if (err == PQCOAP_OK) {
        o->seen = 1;
        o->last = n;
    }
    return err;
}

static void mode_b(void)
{
    fx_setup(&fx, "obssec", 2, 0, 0, 0);
    static pqcoap_session c;
    CHECK_EQ_INT(fx_handshake(&fx, &fx.client, "client", 1, T0, &c), PQCOAP_OK);
    uint64_t rn1, rn2;
    pqcoap_req_ctx ctx1, ctx2;
    register_b(&c, &rn1, &ctx1);
    register_b(&c, &rn2, &ctx2);
    static prot_msg reg_resp, n1, n2, n3, foreign, bad;
    protect_b(&ctx1, "n=0", &reg_resp);
    protect_b(&ctx1, "n=1", &n1);
    protect_b(&ctx1, "n=2", &n2);
    protect_b(&ctx2, "n=x", &foreign);
    protect_b(&ctx1, "n=3", &n3);
    /* the registration's response, as the client takes it */
    uint8_t plain[32];
    size_t plain_len;
    pqcoap_msg m = resp_view(&reg_resp);
    CHECK_EQ_INT(pqcoap_session_unprotect_response(&c, rn1, &m, T0, plain, sizeof plain,
                                                   &plain_len), PQCOAP_OK);
    order o = {0, 0};
    /* that response again, passed as a notification: its n was accepted */
    CHECK_EQ_INT(take_b(&c, &o, rn1, &reg_resp), PQCOAP_ERR_REPLAY);
    CHECK_EQ_INT(take_b(&c, &o, rn1, &n2), PQCOAP_OK);
    CHECK_EQ_INT(o.last, 2);
    CHECK_EQ_INT(take_b(&c, &o, rn1, &n2), PQCOAP_ERR_REPLAY);
    /* n1 is in the window (its key is held) but older than n2: refused, key kept */
    CHECK_EQ_INT(take_b(&c, &o, rn1, &n1), PQCOAP_ERR_REPLAY);
    /* a notification of the other registration, taken as one of the first */
    CHECK_EQ_INT(take_b(&c, &o, rn1, &foreign), PQCOAP_ERR_AUTH);
    bad = n3;
    bad.prot[bad.len - 1] ^= 1;
    CHECK_EQ_INT(take_b(&c, &o, rn1, &bad), PQCOAP_ERR_AUTH);
    /* the Observe value is bound (opts) */
    static const uint8_t obs_other[] = {9};
    const pqcoap_opt changed[] = {{PQCOAP_OPT_OBSERVE, obs_other, 1},
                                  {PQCOAP_OPT_CONTENT_FORMAT, OBS0, 0}};
    m = resp_view(&n3);
    m.opts = changed;
    uint64_t n;
    CHECK_EQ_INT(pqcoap_session_unprotect_notification(&c, rn1, 1, o.last, &m, T0, plain,
                                                       sizeof plain, &plain_len, &n),
                 PQCOAP_ERR_AUTH);
    CHECK_EQ_INT(take_b(&c, &o, rn1, &n3), PQCOAP_OK);
    CHECK(plain_len == 3);
    /* the other registration's notification in its own observation */
    order o2 = {0, 0};
    CHECK_EQ_INT(take_b(&c, &o2, rn2, &foreign), PQCOAP_OK);
    pqcoap_session_wipe(&c);
    fx_teardown(&fx);
}

/* ---- OSCORE ------------------------------------------------------------------------ */

/* The server's and the client's context, from configurations in libcoap's format. */
static void pair(pqcoap_oscore_ctx *c, pqcoap_oscore_ctx *s)
{
    static const char *const conf_text[2] = {
        "master_secret,hex,0102030405060708090a0b0c0d0e0f10\nsender_id,hex,01\n"
        "recipient_id,hex,02\n",
        "master_secret,hex,0102030405060708090a0b0c0d0e0f10\nsender_id,hex,02\n"
        "recipient_id,hex,01\n"};
    pqcoap_oscore_ctx *out[2] = {c, s};
    for (int i = 0; i < 2; i++) {
        pqcoap_oscore_conf conf;
        pqcoap_oscore_params p;
        CHECK_EQ_INT(pqcoap_oscore_conf_parse(conf_text[i], strlen(conf_text[i]), &conf, NULL,
                                              0), PQCOAP_OK);
        CHECK_EQ_INT(pqcoap_oscore_conf_params(&conf, 0, &p), PQCOAP_OK);
        CHECK_EQ_INT(pqcoap_oscore_derive(&p, out[i]), PQCOAP_OK);
        pqcoap_oscore_conf_wipe(&conf);
    }
}

/* A protected message kept with its own storage. */
typedef struct o_msg {
    pqcoap_opt opts[8];
    uint8_t buf[256];
    pqcoap_msg m;
} o_msg;

static void keep(o_msg *k, const pqcoap_msg *m)
{
    CHECK(m->n_opts <= 8);
    size_t at = 0;
    for (size_t i = 0; i < m->n_opts; i++) {
        k->opts[i] = m->opts[i];
        memcpy(k->buf + at, m->opts[i].value, m->opts[i].len);
        k->opts[i].value = k->buf + at;
        at += m->opts[i].len;
    }
    memcpy(k->buf + at, m->payload, m->payload_len);
    k->m = (pqcoap_msg){m->code, TOKEN, 2, k->opts, m->n_opts, k->buf + at, m->payload_len};
}

static pqcoap_opt room_opts[16];
static uint8_t room_buf[512];
static const pqcoap_oscore_out room = {room_opts, 16, room_buf, sizeof room_buf};

static void protect_o(const pqcoap_oscore_ctx *s, const pqcoap_oscore_binding *bind,
                      int notif, uint64_t ssn, const char *text, o_msg *k)
{
    pqcoap_msg in = {PQCOAP_CODE(2, 5), TOKEN, 2, NOTIF_OPTS, 2, (const uint8_t *)text,
                     strlen(text)};
    pqcoap_msg out;
    if (notif)
        CHECK_EQ_INT(pqcoap_oscore_protect_notification(s, bind, ssn, &in, &room, &out),
                     PQCOAP_OK);
    else
        CHECK_EQ_INT(pqcoap_oscore_protect_response(s, bind, 0, 0, &in, &room, &out), PQCOAP_OK);
    keep(k, &out);
}

static pqcoap_opt out_opts[16];
static uint8_t out_buf[512];
static const pqcoap_oscore_out out_room = {out_opts, 16, out_buf, sizeof out_buf};

static pqcoap_err take_o(const pqcoap_oscore_ctx *c, const pqcoap_oscore_binding *bind,
                         order *o, const o_msg *k, pqcoap_msg *plain)
{
    const pqcoap_opt *opt = find_opt(&k->m, PQCOAP_OPT_OSCORE);
    pqcoap_oscore_option parsed;
    CHECK(opt != NULL);
    CHECK_EQ_INT(pqcoap_oscore_option_parse(opt->value, opt->len, &parsed), PQCOAP_OK);
    uint64_t piv;
    pqcoap_err err = pqcoap_oscore_unprotect_notification(c, bind, &k->m, &parsed, o->seen,
                                                          o->last, &out_room, plain, &piv);
    if (err == PQCOAP_OK) {
        o->seen = 1;
        o->last = piv;
    }
    return err;
}

static void oscore(void)
{
    pqcoap_oscore_ctx c, s;
    pair(&c, &s);
    static const pqcoap_opt get_opts[] = {{PQCOAP_OPT_OBSERVE, OBS0, 0},
                                          {PQCOAP_OPT_URI_PATH, (const uint8_t *)"obs", 3}};
    const pqcoap_msg get = {PQCOAP_GET, TOKEN, 2, get_opts, 2, NULL, 0};
    pqcoap_oscore_binding reg, other;
    pqcoap_msg wire;
    CHECK_EQ_INT(pqcoap_oscore_protect_request(&c, 5, 0, &get, &room, &wire, &reg), PQCOAP_OK);
    CHECK_EQ_INT(wire.code, PQCOAP_CODE(0, 5)); /* FETCH with Observe (section 4.1.3.5) */
    CHECK_EQ_INT(pqcoap_oscore_protect_request(&c, 6, 0, &get, &room, &wire, &other), PQCOAP_OK);
    static o_msg resp, n1, n2, n3, foreign, bad;
    protect_o(&s, &reg, 0, 0, "n=0", &resp);
    protect_o(&s, &reg, 1, 10, "n=1", &n1);
    protect_o(&s, &reg, 1, 11, "n=2", &n2);
    protect_o(&s, &other, 1, 12, "n=x", &foreign);
    protect_o(&s, &reg, 1, 13, "n=3", &n3);
    /* outer: code 2.05, Observe with its value; inner Observe empty (section 4.1.3.5.2) */
    CHECK_EQ_INT(n1.m.code, PQCOAP_CODE(2, 5));
    const pqcoap_opt *outer = find_opt(&n1.m, PQCOAP_OPT_OBSERVE);
    CHECK(outer != NULL && outer->len == 1 && outer->value[0] == 7);
    order o = {0, 0};
    pqcoap_msg plain;
    /* the registration's response (no Partial IV: the request's nonce) is the oldest */
    CHECK_EQ_INT(take_o(&c, &reg, &o, &resp, &plain), PQCOAP_ERR_REPLAY);
    CHECK_EQ_INT(take_o(&c, &reg, &o, &n2, &plain), PQCOAP_OK);
    const pqcoap_opt *inner = find_opt(&plain, PQCOAP_OPT_OBSERVE);
    CHECK(inner != NULL && inner->len == 0);
    CHECK(plain.payload_len == 3 && memcmp(plain.payload, "n=2", 3) == 0);
    CHECK_EQ_INT(o.last, 11);
    CHECK_EQ_INT(take_o(&c, &reg, &o, &n2, &plain), PQCOAP_ERR_REPLAY);
    CHECK_EQ_INT(take_o(&c, &reg, &o, &n1, &plain), PQCOAP_ERR_REPLAY);
    /* bound to request_kid and request_piv: another registration's does not verify */
    CHECK_EQ_INT(take_o(&c, &reg, &o, &foreign, &plain), PQCOAP_ERR_AUTH);
    bad = n3;
    bad.m.opts = bad.opts;
    for (size_t i = 0; i < bad.m.n_opts; i++)
        bad.opts[i].value = bad.buf + (n3.opts[i].value - n3.buf);
    bad.m.payload = bad.buf + (n3.m.payload - n3.buf);
    bad.buf[(size_t)(bad.m.payload - bad.buf)] ^= 1;
    CHECK_EQ_INT(take_o(&c, &reg, &o, &bad, &plain), PQCOAP_ERR_AUTH);
    CHECK_EQ_INT(o.last, 11);
    CHECK_EQ_INT(take_o(&c, &reg, &o, &n3, &plain), PQCOAP_OK);
    CHECK_EQ_INT(o.last, 13);
    /* the other registration takes its own */
    order o2 = {0, 0};
    CHECK_EQ_INT(take_o(&c, &other, &o2, &foreign, &plain), PQCOAP_OK);
    pqcoap_oscore_wipe(&c);
    pqcoap_oscore_wipe(&s);
}

int main(void)
{
    mode_a();
    mode_b();
    oscore();
    return check_done();
}

/* Secured notifications sent by the server over real UDP on loopback (PROTOCOL.md
 * "Observe"), for Mode A v2, Mode B and OSCORE. Each observer is a socket of its own whose
 * client side is the mode's client layer driven through its hooks (protect_request,
 * check_response, check_notification): registrations get a protected 2.05 with Observe,
 * every notify round a CON notification that verifies for its observation only and only
 * once, an older one after a newer is refused; a deregistration and an RST end an
 * observation, an unauthenticated request with an observer's token neither registers nor
 * ends one; a replaced Mode B session or OSCORE context ends its observations. */
#include <poll.h>
#include <stdatomic.h>

#include "check.h"
#include "../session/snet.h"
#include "net/net_test.h"
#include "net/net_internal.h"
#include "net/observe_internal.h"
#include "oscore/coap_wire.h"

static atomic_int calls; /* runs of the "obs" handler */

static pqcoap_err obs_get(void *arg, pqcoap_server_req *rq, const pqcoap_msg *req,
                          pqcoap_msgbuf *resp)
{
    (void)arg;
    (void)rq;
    (void)req;
    char text[16];
    int n = snprintf(text, sizeof text, "n=%d", atomic_fetch_add(&calls, 1));
    return pqcoap_msgbuf_set_payload(resp, (const uint8_t *)text, (size_t)n);
}

/* ---- one observer: a socket and the client layer's state ------------------------------ */

typedef struct observer {
    const pqcoap_layer *layer;
    int sock;                   /* connected to the server */
    uint8_t token;
    uint16_t mid;
    uint8_t state[512];         /* the exchange's layer state */
    uint8_t obs[512];           /* the observation's: state after the registration */
    uint8_t reg[16384];         /* the last request sent, as sent */
    size_t reg_len;
} observer;

/* Builder storage for the hooks' outputs. */
static pqcoap_opt b_opts[PQCOAP_NET_MAX_OPTS];
static uint8_t b_vals[PQCOAP_NET_OPT_VALS];
static uint8_t b_payload[16384];

static void builder(pqcoap_msgbuf *b, uint8_t code, const uint8_t *token, size_t token_len)
{
    pqcoap_msgbuf_init(b, b_opts, PQCOAP_NET_MAX_OPTS, b_vals, sizeof b_vals, b_payload,
                       sizeof b_payload);
    b->code = code;
    b->token = token;
    b->token_len = token_len;
}

static void observer_open(observer *o, const pqcoap_layer *layer, uint16_t port, uint8_t token)
{
    memset(o, 0, sizeof *o);
    CHECK(layer != NULL && layer->state_size <= sizeof o->state);
    o->layer = layer;
    o->token = token;
    o->mid = (uint16_t)(token << 8);
    o->sock = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_storage a;
    socklen_t alen = loopback_addr(AF_INET, port, &a);
    CHECK(o->sock >= 0 && connect(o->sock, (struct sockaddr *)&a, alen) == 0);
}

/* A datagram as received. */
typedef struct dgram {
    uint8_t b[2048];
    size_t n;
} dgram;

/* Waits (bounded: 10 s) for a datagram; 0 if none. */
static int recv_dgram(int s, dgram *d, int timeout_ms)
{
    struct pollfd p = {s, POLLIN, 0};
    if (poll(&p, 1, timeout_ms) != 1)
        return 0;
    ssize_t n = recv(s, d->b, sizeof d->b, 0);
    d->n = n > 0 ? (size_t)n : 0;
    return n >= 4;
}

/* Sends an empty ACK (type 2) or RST (type 3) for the message ID of d. */
static void answer(int s, const dgram *d, int type)
{
    uint8_t m[4] = {(uint8_t)(0x40 | (type << 4)), 0, d->b[2], d->b[3]};
    CHECK(send(s, m, 4, 0) == 4);
}

/* If got (a response or notification to o) is block 0 of a larger body (RFC 7959): asks
 * for the later blocks with o's last request and a Block2 option, and makes got.msg the
 * whole body with the options of block 0 but Block2 and Size2. */
static void whole_body(observer *o, wire_msg *got)
{
    static uint8_t body[16384];
    static pqcoap_opt opts[32];
    const pqcoap_opt *b2 = pqcoap_msg_find_opt(&got->msg, PQCOAP_OPT_BLOCK2);
    uint32_t v = 0;
    if (!b2 || pqcoap_opt_uint(b2, &v) != PQCOAP_OK || !(v & 8))
        return;
    size_t len = got->msg.payload_len, n_opts = 0;
    memcpy(body, got->msg.payload, len);
    for (size_t i = 0; i < got->msg.n_opts; i++)
        if (got->msg.opts[i].number != PQCOAP_OPT_BLOCK2 &&
            got->msg.opts[i].number != PQCOAP_OPT_SIZE2)
            opts[n_opts++] = got->msg.opts[i];
    for (uint32_t num = 1; (v & 8) && num < 64; num++) {
        wire_msg req, blk;
        CHECK(wire_parse(o->reg, o->reg_len, &req));
        pqcoap_opt ropts[33];
        uint8_t val[3] = {(uint8_t)(num >> 4), (uint8_t)(num << 4 | (v & 7)), 0};
        size_t k = 0;
        for (size_t i = 0; i < req.msg.n_opts; i++) {
            if (req.msg.opts[i].number > PQCOAP_OPT_BLOCK2 &&
                (k == 0 || ropts[k - 1].number <= PQCOAP_OPT_BLOCK2))
                ropts[k++] = (pqcoap_opt){PQCOAP_OPT_BLOCK2, val, 2};
            ropts[k++] = req.msg.opts[i];
        }
        req.msg.opts = ropts;
        req.msg.n_opts = k;
        o->mid++;
        wire_msg hdr = {0x40, {(uint8_t)(o->mid >> 8), (uint8_t)o->mid}, {{0, NULL, 0}},
                        PQCOAP_MSG_INIT};
        static uint8_t out[16384];
        static dgram d;
        size_t n = wire_write(&hdr, &req.msg, out, sizeof out);
        CHECK(n > 0 && send(o->sock, out, n, 0) == (ssize_t)n);
        CHECK(recv_dgram(o->sock, &d, 10000) && wire_parse(d.b, d.n, &blk));
        b2 = pqcoap_msg_find_opt(&blk.msg, PQCOAP_OPT_BLOCK2);
        CHECK(b2 != NULL && pqcoap_opt_uint(b2, &v) == PQCOAP_OK && v >> 4 == num);
        CHECK(len + blk.msg.payload_len <= sizeof body);
        memcpy(body + len, blk.msg.payload, blk.msg.payload_len);
        len += blk.msg.payload_len;
    }
    got->msg.opts = opts;
    got->msg.n_opts = n_opts;
    got->msg.payload = body;
    got->msg.payload_len = len;
}

/* GET obs with Observe `observe` (0 register, 1 deregister) through protect_request, and
 * the answer through check_response; plain gets what the caller would see. Returns the
 * hook's result. A registration keeps the state as the observation's. */
static pqcoap_err exchange(observer *o, uint32_t observe, pqcoap_msgbuf *plain)
{
    const pqcoap_layer *l = o->layer;
    memset(o->state, 0, sizeof o->state);
    uint8_t one = 1;
    const pqcoap_opt ropts[2] = {{PQCOAP_OPT_OBSERVE, &one, observe ? 1 : 0},
                                 {PQCOAP_OPT_URI_PATH, (const uint8_t *)"obs", 3}};
    const pqcoap_msg req = {PQCOAP_GET, &o->token, 1, ropts, 2, NULL, 0};
    pqcoap_exchange x;
    memset(&x, 0, sizeof x);
    x.mid = ++o->mid;
    x.confirmable = 1;
    pqcoap_msgbuf wire;
    builder(&wire, PQCOAP_GET, &o->token, 1);
    PQCOAP_TRY(l->protect_request(l->ctx, o->state, &x, &req, &wire));
    pqcoap_msg w;
    pqcoap_msgbuf_view(&wire, &w);
    wire_msg hdr = {0x40, {(uint8_t)(x.mid >> 8), (uint8_t)x.mid}, {{0, NULL, 0}},
                    PQCOAP_MSG_INIT};
    static uint8_t out[16384];
    size_t n = wire_write(&hdr, &w, out, sizeof out);
    CHECK(n > 0 && send(o->sock, out, n, 0) == (ssize_t)n);
    memcpy(o->reg, out, n);
    o->reg_len = n;
    static dgram d;
    wire_msg got;
    if (!recv_dgram(o->sock, &d, 10000) || !wire_parse(d.b, d.n, &got))
        return PQCOAP_ERR_TIMEOUT;
    CHECK_EQ_INT((got.first >> 4) & 3, 2); /* piggybacked in the ACK */
    whole_body(o, &got);
    builder(plain, got.msg.code, &o->token, 1);
    pqcoap_err err = l->check_response(l->ctx, o->state, &x, &got.msg, plain);
    if (l->end)
        l->end(l->ctx, o->state);
    if (err == PQCOAP_OK && observe == 0)
        memcpy(o->obs, o->state, sizeof o->obs);
    return err;
}

static pqcoap_msg view(const pqcoap_msgbuf *b)
{
    pqcoap_msg m;
    pqcoap_msgbuf_view(b, &m);
    return m;
}

/* Registers o: a protected 2.05 with Observe. */
static void register_ok(observer *o)
{
    pqcoap_msgbuf plain;
    CHECK_EQ_INT(exchange(o, 0, &plain), PQCOAP_OK);
    pqcoap_msg m = view(&plain);
    CHECK_EQ_INT(m.code, PQCOAP_CODE(2, 5));
    CHECK(pqcoap_msg_find_opt(&m, PQCOAP_OPT_OBSERVE) != NULL);
}

/* Receives the next notification of o, a CON message, answered with `ack_type`. */
static void next_notification(observer *o, dgram *d, int ack_type)
{
    CHECK(recv_dgram(o->sock, d, 10000));
    CHECK_EQ_INT((d->b[0] >> 4) & 3, 0); /* CON (RFC 7641 section 4.5) */
    CHECK_EQ_INT(d->b[0] & 15, 1);
    CHECK_EQ_INT(d->b[4], o->token);
    answer(o->sock, d, ack_type);
}

/* check_notification of d under the observation state of `as`; the payload seen goes to
 * text (NUL-terminated). */
static pqcoap_err check_notif(observer *as, const dgram *d, char *text, size_t cap)
{
    wire_msg got;
    CHECK(wire_parse(d->b, d->n, &got));
    whole_body(as, &got);
    pqcoap_exchange x;
    memset(&x, 0, sizeof x);
    x.mid = (uint16_t)(d->b[2] << 8 | d->b[3]);
    pqcoap_msgbuf plain;
    builder(&plain, got.msg.code, &as->token, 1);
    const pqcoap_layer *l = as->layer;
    pqcoap_err err = l->check_notification(l->ctx, as->obs, &x, &got.msg, &plain);
    if (err == PQCOAP_OK) {
        pqcoap_msg m = view(&plain);
        CHECK_EQ_INT(m.code, PQCOAP_CODE(2, 5));
        CHECK(pqcoap_msg_find_opt(&m, PQCOAP_OPT_OBSERVE) != NULL);
        size_t n = m.payload_len < cap - 1 ? m.payload_len : cap - 1;
        memcpy(text, m.payload, n);
        text[n] = '\0';
    }
    return err;
}

/* A plain GET with Observe 0 and o's token from o's socket, which the layer refuses (4.xx);
 * its answer also tells that the server took every datagram o and others sent before. */
static void refused_get(observer *o)
{
    const uint8_t get[] = {0x41, 0x01, 0x77, 0x77, o->token, 0x60, 0x53, 'o', 'b', 's'};
    static dgram d;
    CHECK(send(o->sock, get, sizeof get, 0) == (ssize_t)sizeof get);
    CHECK(recv_dgram(o->sock, &d, 10000));
    CHECK_EQ_INT(d.b[1] >> 5, 4);
}

/* ---- what every mode goes through ---------------------------------------------------- */

/* s, a and b are registered in this order (the server notifies the newest first, so s's
 * notification comes last in each round: once it is in, the round is over). */
static void rounds(pqcoap_server *srv, observer *s, observer *a, observer *b)
{
    static dgram da, db, ds, da2;
    char text[32];
    register_ok(s);
    register_ok(a);
    register_ok(b);
    /* one round: every observer gets its notification, verified under its own state */
    atomic_store(&calls, 0);
    CHECK_EQ_INT(pqcoap_server_notify(srv, "obs"), PQCOAP_OK);
    next_notification(b, &db, 2);
    next_notification(a, &da, 2);
    next_notification(s, &ds, 2);
    CHECK_EQ_INT(atomic_load(&calls), 3);
    /* a's notification is not b's (another registration), b's is not a's */
    CHECK(check_notif(b, &da, text, sizeof text) != PQCOAP_OK);
    CHECK(check_notif(a, &db, text, sizeof text) != PQCOAP_OK);
    CHECK_EQ_INT(check_notif(a, &da, text, sizeof text), PQCOAP_OK);
    CHECK(strcmp(text, "n=1") == 0);
    CHECK_EQ_INT(check_notif(b, &db, text, sizeof text), PQCOAP_OK);
    CHECK(strcmp(text, "n=0") == 0);
    CHECK_EQ_INT(check_notif(s, &ds, text, sizeof text), PQCOAP_OK);
    /* the same notification again: a replay */
    CHECK(check_notif(a, &da, text, sizeof text) != PQCOAP_OK);
    /* a byte changed on the way */
    da.b[da.n - 1] ^= 1;
    CHECK(check_notif(a, &da, text, sizeof text) != PQCOAP_OK);
    /* two rounds; a takes the newer first, then the older is refused */
    CHECK_EQ_INT(pqcoap_server_notify(srv, "obs"), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_server_notify(srv, "obs"), PQCOAP_OK);
    for (int i = 0; i < 2; i++) {
        next_notification(b, &db, 2);
        CHECK_EQ_INT(check_notif(b, &db, text, sizeof text), PQCOAP_OK);
        next_notification(a, i == 0 ? &da : &da2, 2);
        next_notification(s, &ds, 2);
        CHECK_EQ_INT(check_notif(s, &ds, text, sizeof text), PQCOAP_OK);
    }
    CHECK_EQ_INT(check_notif(a, &da2, text, sizeof text), PQCOAP_OK);
    CHECK_EQ_INT(check_notif(a, &da, text, sizeof text), PQCOAP_ERR_REPLAY);
    /* b deregisters (Observe 1, same token): a protected answer without Observe */
    pqcoap_msgbuf plain;
    CHECK_EQ_INT(exchange(b, 1, &plain), PQCOAP_OK);
    pqcoap_msg m = view(&plain);
    CHECK(pqcoap_msg_find_opt(&m, PQCOAP_OPT_OBSERVE) == NULL);
    /* a request the layer does not accept, from a's address with a's token (a plain GET
     * with Observe 0): refused, and it neither registers nor ends a's observation */
    refused_get(a);
    /* a answers its next notification with RST (RFC 7641 section 3.6) */
    atomic_store(&calls, 0);
    CHECK_EQ_INT(pqcoap_server_notify(srv, "obs"), PQCOAP_OK);
    next_notification(a, &da, 3);
    next_notification(s, &ds, 2);
    CHECK_EQ_INT(atomic_load(&calls), 2); /* a and s, not b */
    refused_get(b); /* answered once the server has taken a's RST */
    atomic_store(&calls, 0);
    CHECK_EQ_INT(pqcoap_server_notify(srv, "obs"), PQCOAP_OK);
    next_notification(s, &ds, 2);
    CHECK_EQ_INT(atomic_load(&calls), 1); /* s alone: a's RST ended a's */
    CHECK_EQ_INT(check_notif(s, &ds, text, sizeof text), PQCOAP_OK);
    CHECK(!recv_dgram(a->sock, &da, 0) && !recv_dgram(b->sock, &db, 0));
}

static void observers_close(observer *s, observer *a, observer *b)
{
    close(s->sock);
    close(a->sock);
    close(b->sock);
}

/* The resource "obs" (GET obs_get) made observable on srv, also "echo" (POST) when `echo`. */
static void obs_resource(pqcoap_server *srv, int echo)
{
    CHECK_EQ_INT(pqcoap_server_handle(srv, "obs", PQCOAP_GET, obs_get, NULL), PQCOAP_OK);
    if (echo)
        CHECK_EQ_INT(pqcoap_server_handle(srv, "echo", PQCOAP_POST, h_echo, NULL), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_server_observable(srv, "obs", 0), PQCOAP_OK);
}

/* A server on 127.0.0.1 with `layer` and the resources of obs_resource, running. */
static void obs_server(test_server *ts, const pqcoap_layer *layer)
{
    CHECK(test_server_new(ts, "127.0.0.1", layer, 0) != NULL);
    obs_resource(ts->srv, 0);
    CHECK(test_server_start(ts));
}

/* ---- Mode A v2 ------------------------------------------------------------------------ */

/* A Mode A v2 server signing with `key`, trusting the client, and a client pinning `key`. */
typedef struct sign_pair {
    pqcoap_store sstore, cstore;
    pqcoap_sign_server *ss;
    test_server ts;
    pqcoap_sign_client *c;
} sign_pair;

static void sign_start(sign_pair *p, const pqcoap_identity *key)
{
    CHECK_EQ_INT(pqcoap_store_open_memory(&p->sstore), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_store_open_memory(&p->cstore), PQCOAP_OK);
    fx_trust(&p->sstore, "client", &id_client);
    CHECK_EQ_INT(pqcoap_sign_server_new(key, &p->sstore, NULL, &p->ss), PQCOAP_OK);
    obs_server(&p->ts, pqcoap_sign_server_layer(p->ss));
    char uri[96];
    test_uri(uri, sizeof uri, "127.0.0.1", &p->ts, "obs");
    CHECK_EQ_INT(pqcoap_sign_client_open(uri, &id_client, &p->cstore, NULL, &p->c, NULL, 0),
                 PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_sign_client_pin(p->c, &key->pub), PQCOAP_OK);
}

static void sign_stop(sign_pair *p)
{
    pqcoap_sign_client_free(p->c);
    test_server_end(&p->ts);
    pqcoap_sign_server_free(p->ss);
    pqcoap_store_close(&p->sstore);
    pqcoap_store_close(&p->cstore);
}

static void mode_a(void)
{
    static sign_pair p;
    sign_start(&p, &id_server);
    observer s, a, b;
    uint16_t port = pqcoap_server_port(p.ts.srv);
    observer_open(&s, pqcoap_sign_client_layer(p.c), port, 0x5);
    observer_open(&a, pqcoap_sign_client_layer(p.c), port, 0xa);
    observer_open(&b, pqcoap_sign_client_layer(p.c), port, 0xb);
    rounds(p.ts.srv, &s, &a, &b);
    observers_close(&s, &a, &b);
    sign_stop(&p);
}

/* Mode A v2 with an ML-DSA-65 server key: every signed answer (3309-byte signature) is
 * larger than a block, the registration's response and each notification go block-wise,
 * and the whole body verifies. */
static void mode_a_blockwise(void)
{
    pqcoap_identity big;
    CHECK_EQ_INT(pqcoap_identity_generate("ml-dsa-65", NULL, &big), PQCOAP_OK);
    static sign_pair p;
    sign_start(&p, &big);
    observer s;
    observer_open(&s, pqcoap_sign_client_layer(p.c), pqcoap_server_port(p.ts.srv), 0x5);
    atomic_store(&calls, 0);
    register_ok(&s);
    static dgram d;
    char text[32];
    for (int i = 1; i <= 2; i++) {
        CHECK_EQ_INT(pqcoap_server_notify(p.ts.srv, "obs"), PQCOAP_OK);
        next_notification(&s, &d, 2);
        CHECK(d.n <= 1024 + 64); /* block 0 */
        CHECK_EQ_INT(check_notif(&s, &d, text, sizeof text), PQCOAP_OK);
        CHECK(text[0] == 'n' && text[2] == '0' + i);
    }
    close(s.sock);
    sign_stop(&p);
    pqcoap_identity_wipe(&big);
}

/* Mode A v1 binds nothing, so it does not observe: a v1 server answers a registration
 * without Observe, and a v1 client's layer has no check_notification. */
static void mode_a_v1(void)
{
    pqcoap_identity srv_v1, cl_v1;
    CHECK_EQ_INT(pqcoap_identity_generate_usage("falcon-512", PQCOAP_USAGE_SIGN_V1, NULL,
                                                &srv_v1), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_identity_generate_usage("falcon-512", PQCOAP_USAGE_SIGN_V1, NULL, &cl_v1),
                 PQCOAP_OK);
    pqcoap_store sstore;
    CHECK_EQ_INT(pqcoap_store_open_memory(&sstore), PQCOAP_OK);
    pqcoap_sign_server_config scfg = PQCOAP_SIGN_SERVER_CONFIG_INIT;
    scfg.policy = PQCOAP_SIGN_V1_ONLY;
    scfg.v1_keys = &cl_v1.pub;
    scfg.n_v1_keys = 1;
    pqcoap_sign_server *ss = NULL;
    CHECK_EQ_INT(pqcoap_sign_server_new(&srv_v1, &sstore, &scfg, &ss), PQCOAP_OK);
    test_server ts;
    obs_server(&ts, pqcoap_sign_server_layer(ss));
    char uri[96];
    test_uri(uri, sizeof uri, "127.0.0.1", &ts, "obs");
    pqcoap_sign_client_config ccfg = PQCOAP_SIGN_CLIENT_CONFIG_INIT;
    ccfg.version = 1;
    pqcoap_sign_client *c = NULL;
    CHECK_EQ_INT(pqcoap_sign_client_open(uri, &cl_v1, NULL, &ccfg, &c, NULL, 0), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_sign_client_pin(c, &srv_v1.pub), PQCOAP_OK);
    CHECK(pqcoap_sign_client_layer(c)->check_notification == NULL);
    observer s;
    observer_open(&s, pqcoap_sign_client_layer(c), pqcoap_server_port(ts.srv), 0x5);
    pqcoap_msgbuf plain;
    CHECK_EQ_INT(exchange(&s, 0, &plain), PQCOAP_OK);
    pqcoap_msg m = view(&plain);
    CHECK_EQ_INT(m.code, PQCOAP_CODE(2, 5));
    CHECK(pqcoap_msg_find_opt(&m, PQCOAP_OPT_OBSERVE) == NULL);
    close(s.sock);
    pqcoap_sign_client_free(c);
    test_server_end(&ts);
    pqcoap_sign_server_free(ss);
    pqcoap_store_close(&sstore);
    pqcoap_identity_wipe(&srv_v1);
    pqcoap_identity_wipe(&cl_v1);
}

/* ---- Mode B ---------------------------------------------------------------------------- */

static void mode_b(void)
{
    pqcoap_store cstore;
    CHECK_EQ_INT(pqcoap_store_open_memory(&cstore), PQCOAP_OK);
    pqcoap_session_server_config cfg = snet_server_cfg(&trust, 0);
    snet_server t;
    snet_server_create(&t, &cfg); /* with "echo" */
    pqcoap_server *srv = pqcoap_session_server_coap(t.ss);
    obs_resource(srv, 0);
    snet_server_run(&t);
    pqcoap_session_client_config ccfg = snet_client_cfg("client", &id_client, &id_server,
                                                        &cstore);
    pqcoap_session_client *sc = snet_client(t.port, &ccfg);
    CHECK_EQ_INT(pqcoap_session_client_connect(sc), PQCOAP_OK);
    observer s, a, b;
    observer_open(&s, pqcoap_session_client_layer(sc), t.port, 0x5);
    observer_open(&a, pqcoap_session_client_layer(sc), t.port, 0xa);
    observer_open(&b, pqcoap_session_client_layer(sc), t.port, 0xb);
    rounds(srv, &s, &a, &b);
    /* a new handshake replaces the session: its observation (s) ends on the server at its
     * next notification, which is never sent (nothing can protect it) */
    CHECK_EQ_INT(pqcoap_session_client_connect(sc), PQCOAP_OK);
    for (int i = 0; i < 2; i++) {
        atomic_store(&calls, 0);
        CHECK_EQ_INT(pqcoap_server_notify(srv, "obs"), PQCOAP_OK);
        CHECK(snet_echo(sc, PQCOAP_POST, "sync")); /* handled after the notify round */
        CHECK_EQ_INT(atomic_load(&calls), i == 0 ? 1 : 0); /* then s is gone */
    }
    static dgram d;
    CHECK(!recv_dgram(s.sock, &d, 0));
    observers_close(&s, &a, &b);
    pqcoap_session_client_free(sc);
    snet_server_stop(&t);
    pqcoap_store_close(&cstore);
}

/* "tick": Max-Age 1, so that an observer whose notifications stop registers again soon. */
static pqcoap_err tick_get(void *arg, pqcoap_server_req *rq, const pqcoap_msg *req,
                           pqcoap_msgbuf *resp)
{
    (void)arg, (void)rq, (void)req;
    PQCOAP_TRY(pqcoap_msgbuf_add_uint(resp, PQCOAP_OPT_MAX_AGE, 1));
    return pqcoap_msgbuf_set_payload(resp, (const uint8_t *)"tick", 4);
}

static void count_note(void *user, const pqcoap_notification *n)
{
    int *count = user;
    if (n->err != PQCOAP_OK) {
        fprintf(stderr, "observation ended: %s\n", pqcoap_strerror(n->err));
        *count = -1000;
        return;
    }
    (*count)++;
}

/* The server sends `count` notifications of "obs" to the raw observer o (registered now in
 * the client's current session), which acknowledges them; the session client never sees
 * them, so its window over the server's numbers stays behind by `count`. */
static void numbers_lost(pqcoap_server *srv, observer *o, int count)
{
    static dgram d;
    register_ok(o);
    for (int i = 0; i < count; i++) {
        CHECK_EQ_INT(pqcoap_server_notify(srv, "obs"), PQCOAP_OK);
        next_notification(o, &d, 2);
    }
}

static uint64_t handshakes(const pqcoap_session_client *sc)
{
    pqcoap_session_client_info info;
    CHECK_EQ_INT(pqcoap_session_client_info_get(sc, &info), PQCOAP_OK);
    return info.handshakes;
}

/* PROTOCOL.md "Errors": once the server sent more than W messages the client never got
 * (notifications while it was away), every later answer lies beyond the client's window.
 * The client makes one new handshake and repeats a GET once, does not repeat a POST
 * (session lost), and an observation registers again in a new session and goes on; also
 * when a handshake runs while it is due. */
static void mode_b_out_of_step(void)
{
    pqcoap_store cstore;
    CHECK_EQ_INT(pqcoap_store_open_memory(&cstore), PQCOAP_OK);
    pqcoap_session_server_config cfg = snet_server_cfg(&trust, 0);
    snet_server t;
    snet_server_create(&t, &cfg); /* with "echo" */
    pqcoap_server *srv = pqcoap_session_server_coap(t.ss);
    obs_resource(srv, 0);
    CHECK_EQ_INT(pqcoap_server_handle(srv, "tick", PQCOAP_GET, tick_get, NULL), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_server_observable(srv, "tick", 0), PQCOAP_OK);
    snet_server_run(&t);
    /* "other": mode_b's client "client" raised its session_seq floor on this server */
    pqcoap_session_client_config ccfg = snet_client_cfg("other", &id_other, &id_server,
                                                        &cstore);
    ccfg.window = 8;
    pqcoap_session_client *sc = snet_client(t.port, &ccfg);
    CHECK(snet_echo(sc, PQCOAP_POST, "first"));
    CHECK_EQ_INT(handshakes(sc), 1);
    observer o;

    /* a GET: one new handshake, repeated once */
    observer_open(&o, pqcoap_session_client_layer(sc), t.port, 0x5);
    numbers_lost(srv, &o, 9);
    pqcoap_reply r;
    CHECK_EQ_INT(snet_req(sc, PQCOAP_GET, "tick", NULL, 0, &r), PQCOAP_OK);
    CHECK_EQ_INT(r.msg.code, PQCOAP_CODE(2, 5));
    pqcoap_reply_free(&r);
    CHECK_EQ_INT(handshakes(sc), 2);
    close(o.sock);

    /* a POST: one new handshake, not repeated */
    observer_open(&o, pqcoap_session_client_layer(sc), t.port, 0x6);
    numbers_lost(srv, &o, 9);
    CHECK_EQ_INT(snet_req(sc, PQCOAP_POST, "echo", "x", 1, &r), PQCOAP_ERR_SESSION_LOST);
    pqcoap_reply_free(&r);
    CHECK(strstr(pqcoap_session_client_last_error(sc), "beyond the window") != NULL);
    CHECK_EQ_INT(handshakes(sc), 3);
    CHECK(snet_echo(sc, PQCOAP_POST, "then"));
    close(o.sock);

    /* an observation: its notifications stop verifying, it registers again by itself */
    int count = 0;
    uint32_t id = 0;
    pqcoap_req req = PQCOAP_REQ_INIT;
    req.path = "tick";
    CHECK_EQ_INT(pqcoap_session_client_observe(sc, &req, count_note, &count, &id), PQCOAP_OK);
    observer_open(&o, pqcoap_session_client_layer(sc), t.port, 0x7);
    numbers_lost(srv, &o, 9);
    int before = count;
    pqcoap_client *net = pqcoap_session_client_net(sc);
    for (int i = 0; i < 200 && count >= 0 && count < before + 3; i++) { /* at most 20 s */
        CHECK_EQ_INT(pqcoap_server_notify(srv, "tick"), PQCOAP_OK);
        pqcoap_completion c;
        int done = 0;
        CHECK_EQ_INT(pqcoap_client_poll(net, 100, &c, &done), PQCOAP_OK);
    }
    CHECK(count >= before + 3);
    CHECK_EQ_INT(handshakes(sc), 4);
    CHECK_EQ_INT(pqcoap_session_client_observe_cancel(sc, id), PQCOAP_OK);
    close(o.sock);

    /* a handshake while the observation is due to register again: the registration waits
     * for the new session (never sent meanwhile, when nothing could protect it) */
    count = 0;
    CHECK_EQ_INT(pqcoap_session_client_observe(sc, &req, count_note, &count, &id), PQCOAP_OK);
    struct timespec stale = {3, 500 * 1000 * 1000}; /* Max-Age 1 and the 2 s margin */
    nanosleep(&stale, NULL);
    CHECK_EQ_INT(pqcoap_session_client_connect(sc), PQCOAP_OK);
    for (int i = 0; i < 200 && count >= 0 && count < 3; i++) { /* at most 20 s */
        CHECK_EQ_INT(pqcoap_server_notify(srv, "tick"), PQCOAP_OK);
        pqcoap_completion c;
        int done = 0;
        CHECK_EQ_INT(pqcoap_client_poll(net, 100, &c, &done), PQCOAP_OK);
    }
    CHECK(count >= 3);
    CHECK_EQ_INT(pqcoap_session_client_observe_cancel(sc, id), PQCOAP_OK);

    pqcoap_session_client_free(sc);
    snet_server_stop(&t);
    pqcoap_store_close(&cstore);
}

/* ---- OSCORE ---------------------------------------------------------------------------- */

static const char server_conf[] =
    "master_secret,hex,0102030405060708090a0b0c0d0e0f10\n"
    "sender_id,hex,01\n"
    "recipient_id,hex,02\n"
    "rfc8613_b_1_2,bool,false\n";
static const char client_conf[] =
    "master_secret,hex,0102030405060708090a0b0c0d0e0f10\n"
    "sender_id,hex,02\n"
    "recipient_id,hex,01\n";

static void oscore(void)
{
    pqcoap_store sstore, cstore;
    CHECK_EQ_INT(pqcoap_store_open_memory(&sstore), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_store_open_memory(&cstore), PQCOAP_OK);
    pqcoap_oscore_conf conf;
    CHECK_EQ_INT(pqcoap_oscore_conf_parse(server_conf, strlen(server_conf), &conf, NULL, 0),
                 PQCOAP_OK);
    pqcoap_oscore_server *os = NULL;
    CHECK_EQ_INT(pqcoap_oscore_server_new(&sstore, NULL, &os), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_oscore_server_add_conf(os, &conf), PQCOAP_OK);
    pqcoap_oscore_conf_wipe(&conf);
    test_server ts;
    obs_server(&ts, pqcoap_oscore_server_layer(os));
    char uri[96];
    test_uri(uri, sizeof uri, "127.0.0.1", &ts, "obs");
    CHECK_EQ_INT(pqcoap_oscore_conf_parse(client_conf, strlen(client_conf), &conf, NULL, 0),
                 PQCOAP_OK);
    pqcoap_oscore_client *c = NULL;
    CHECK_EQ_INT(pqcoap_oscore_client_open(uri, &conf, &cstore, NULL, &c, NULL, 0), PQCOAP_OK);
    pqcoap_oscore_conf_wipe(&conf);
    observer s, a, b;
    uint16_t port = pqcoap_server_port(ts.srv);
    observer_open(&s, pqcoap_oscore_client_layer(c), port, 0x5);
    observer_open(&a, pqcoap_oscore_client_layer(c), port, 0xa);
    observer_open(&b, pqcoap_oscore_client_layer(c), port, 0xb);
    rounds(ts.srv, &s, &a, &b);
    observers_close(&s, &a, &b);
    pqcoap_oscore_client_free(c);
    test_server_end(&ts);
    pqcoap_oscore_server_free(os);
    pqcoap_store_close(&sstore);
    pqcoap_store_close(&cstore);
}

/* OSCORE keyed by the handshake: a new handshake of the device replaces its context (the
 * new one takes the place and the Recipient ID of the old); the old context's observation
 * ends at its next round, and nothing is sent under the new context for it. */
static void oscore_keyed(void)
{
    pqcoap_store sstore, cstore;
    CHECK_EQ_INT(pqcoap_store_open_memory(&sstore), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_store_open_memory(&cstore), PQCOAP_OK);
    fx_trust(&sstore, "client", &id_client);
    pqcoap_oscore_server *os = NULL;
    CHECK_EQ_INT(pqcoap_oscore_server_new(&sstore, NULL, &os), PQCOAP_OK);
    test_server ts;
    CHECK(test_server_new(&ts, "127.0.0.1", pqcoap_oscore_server_layer(os), 0) != NULL);
    obs_resource(ts.srv, 1);
    pqcoap_oscore_keying_config kc = PQCOAP_OSCORE_KEYING_CONFIG_INIT;
    kc.id = "server";
    kc.sk = id_server.sk;
    kc.sk_len = pqcoap_identity_sk_len(&id_server);
    kc.store = &sstore;
    CHECK_EQ_INT(pqcoap_oscore_server_keying(os, ts.srv, &kc, NULL, 0), PQCOAP_OK);
    CHECK(test_server_start(&ts));
    char uri[96];
    test_uri(uri, sizeof uri, "127.0.0.1", &ts, "");
    pqcoap_session_client_config cfg = snet_client_cfg("client", &id_client, &id_server,
                                                       &cstore);
    pqcoap_oscore_client *c1 = NULL, *c2 = NULL;
    CHECK_EQ_INT(pqcoap_oscore_client_open_keyed(uri, &cfg, 0, &c1, NULL, 0), PQCOAP_OK);
    observer s;
    observer_open(&s, pqcoap_oscore_client_layer(c1), pqcoap_server_port(ts.srv), 0x5);
    register_ok(&s);
    static dgram d;
    char text[32];
    CHECK_EQ_INT(pqcoap_server_notify(ts.srv, "obs"), PQCOAP_OK);
    next_notification(&s, &d, 2);
    CHECK_EQ_INT(check_notif(&s, &d, text, sizeof text), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_oscore_client_open_keyed(uri, &cfg, 0, &c2, NULL, 0), PQCOAP_OK);
    for (int i = 0; i < 2; i++) {
        atomic_store(&calls, 0);
        CHECK_EQ_INT(pqcoap_server_notify(ts.srv, "obs"), PQCOAP_OK);
        pqcoap_req req = PQCOAP_REQ_INIT; /* handled after the notify round */
        pqcoap_reply r = {PQCOAP_MSG_INIT, NULL};
        req.method = PQCOAP_POST;
        req.path = "echo";
        CHECK_EQ_INT(pqcoap_oscore_client_request(c2, &req, &r), PQCOAP_OK);
        pqcoap_reply_free(&r);
        CHECK_EQ_INT(atomic_load(&calls), i == 0 ? 1 : 0); /* then the observation is gone */
    }
    CHECK(!recv_dgram(s.sock, &d, 0));
    close(s.sock);
    pqcoap_oscore_client_free(c1);
    pqcoap_oscore_client_free(c2);
    test_server_end(&ts);
    pqcoap_oscore_server_free(os);
    pqcoap_store_close(&sstore);
    pqcoap_store_close(&cstore);
}

int main(void)
{
    snet_init();
    mode_a();
    mode_a_blockwise();
    mode_a_v1();
    mode_b();
    mode_b_out_of_step();
    oscore();
    oscore_keyed();
    snet_fini();
    return check_done();
}

/* Secured Observe end to end through the library's client API, over real UDP on loopback,
 * in Mode A v2, Mode B, OSCORE with a static context and OSCORE keyed by the handshake:
 * notifications in order, each verified; 200 through the fault proxy; forged ones with the
 * observer's token (a replay, a flipped byte, one of another registration) never
 * delivered; cancel stops the server's notifications. Mode A v1 refuses to observe. */
#include <stdatomic.h>
#include <stdlib.h>

#include "check.h"
#include "udp_proxy.h"
#include "obse2e_relay.h"
#include "../session/snet.h"
#include "net/net_test.h"
#include "pqcoap/oscore_endpoint.h"
#include "pqcoap/sign_endpoint.h"

#define MAX_SEEN 512

static atomic_int calls; /* handler runs of "obs" and "obs2" */
static atomic_int value; /* what they report */

/* "obs" answers "A:<value>", "obs2" "B:<value>", with Max-Age 2 (the client re-registers if
 * the server gave up on it under faults). */
static pqcoap_err obs_get(void *arg, pqcoap_server_req *rq, const pqcoap_msg *req,
                          pqcoap_msgbuf *resp)
{
    (void)rq, (void)req;
    atomic_fetch_add(&calls, 1);
    char text[32];
    int n = snprintf(text, sizeof text, "%s:%d", (const char *)arg, atomic_load(&value));
    pqcoap_err err = pqcoap_msgbuf_add_uint(resp, PQCOAP_OPT_MAX_AGE, 2);
    return err != PQCOAP_OK ? err : pqcoap_msgbuf_set_payload(resp, (const uint8_t *)text, (size_t)n);
}

/* "sync": not counted; once answered, the server went through what was due before. */
static pqcoap_err sync_get(void *arg, pqcoap_server_req *rq, const pqcoap_msg *req,
                           pqcoap_msgbuf *resp)
{
    (void)arg, (void)rq, (void)req;
    return pqcoap_msgbuf_set_payload(resp, (const uint8_t *)"ok", 2);
}

static void resources(pqcoap_server *srv)
{
    CHECK_EQ_INT(pqcoap_server_handle(srv, "obs", PQCOAP_GET, obs_get, "A"), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_server_handle(srv, "obs2", PQCOAP_GET, obs_get, "B"), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_server_handle(srv, "sync", PQCOAP_GET, sync_get, NULL), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_server_observable(srv, "obs", 0), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_server_observable(srv, "obs2", 0), PQCOAP_OK);
}

/* What a callback saw. */
typedef struct seen {
    char tag;                   /* 'A' or 'B': what it must see */
    int n;                      /* delivered */
    int val[MAX_SEEN];
    int wrong;                  /* deliveries of another tag or unreadable */
    int ended;
} seen;

static void on_note(void *user, const pqcoap_notification *n)
{
    seen *s = user;
    if (n->err != PQCOAP_OK) {
        fprintf(stderr, "observation %c ended: %s\n", s->tag, pqcoap_strerror(n->err));
        s->ended = 1;
        return;
    }
    char text[32] = "";
    size_t len = n->msg->payload_len < sizeof text - 1 ? n->msg->payload_len : sizeof text - 1;
    memcpy(text, n->msg->payload, len);
    int v = 0;
    if (text[0] != s->tag || sscanf(text + 1, ":%d", &v) != 1)
        s->wrong++;
    if (s->n < MAX_SEEN)
        s->val[s->n] = v;
    s->n++;
}

static int last_val(const seen *s)
{
    return s->n > 0 && s->n <= MAX_SEEN ? s->val[s->n - 1] : -1;
}

/* ---- one mode's client, behind one interface -------------------------------------------- */

typedef struct mode {
    const char *name;
    pqcoap_server *srv;
    void *c;
    pqcoap_err (*observe)(void *c, const pqcoap_req *req, pqcoap_observe_fn fn, void *user,
                          uint32_t *id);
    pqcoap_err (*cancel)(void *c, uint32_t id);
    pqcoap_err (*request)(void *c, const pqcoap_req *req, pqcoap_reply *r);
    pqcoap_client *(*net)(void *c);
    void (*free)(void *c);
    void *(*open)(const char *uri, pqcoap_store *store); /* NULL on failure */
} mode;

static pqcoap_err sg_observe(void *c, const pqcoap_req *req, pqcoap_observe_fn fn, void *user,
                             uint32_t *id)
{
    return pqcoap_sign_client_observe(c, req, fn, user, id);
}
static pqcoap_err sg_cancel(void *c, uint32_t id) { return pqcoap_sign_client_observe_cancel(c, id); }
static pqcoap_err sg_request(void *c, const pqcoap_req *req, pqcoap_reply *r)
{
    return pqcoap_sign_client_request(c, req, r);
}
static pqcoap_client *sg_net(void *c) { return pqcoap_sign_client_net(c); }

static pqcoap_err ss_observe(void *c, const pqcoap_req *req, pqcoap_observe_fn fn, void *user,
                             uint32_t *id)
{
    return pqcoap_session_client_observe(c, req, fn, user, id);
}
static pqcoap_err ss_cancel(void *c, uint32_t id)
{
    return pqcoap_session_client_observe_cancel(c, id);
}
static pqcoap_err ss_request(void *c, const pqcoap_req *req, pqcoap_reply *r)
{
    return pqcoap_session_client_request(c, req, r);
}
static pqcoap_client *ss_net(void *c) { return pqcoap_session_client_net(c); }

static pqcoap_err os_observe(void *c, const pqcoap_req *req, pqcoap_observe_fn fn, void *user,
                             uint32_t *id)
{
    return pqcoap_oscore_client_observe(c, req, fn, user, id);
}
static pqcoap_err os_cancel(void *c, uint32_t id) { return pqcoap_oscore_client_observe_cancel(c, id); }
static pqcoap_err os_request(void *c, const pqcoap_req *req, pqcoap_reply *r)
{
    return pqcoap_oscore_client_request(c, req, r);
}
static pqcoap_client *os_net(void *c) { return pqcoap_oscore_client_net(c); }

static void sg_free(void *c) { pqcoap_sign_client_free(c); }
static void ss_free(void *c) { pqcoap_session_client_free(c); }
static void os_free(void *c) { pqcoap_oscore_client_free(c); }

static void *sg_open(const char *uri, pqcoap_store *store)
{
    pqcoap_sign_client *c = NULL;
    if (pqcoap_sign_client_open(uri, &id_client, store, NULL, &c, NULL, 0) != PQCOAP_OK)
        return NULL;
    CHECK_EQ_INT(pqcoap_sign_client_pin(c, &id_server.pub), PQCOAP_OK);
    return c;
}

static void *ss_open(const char *uri, pqcoap_store *store)
{
    pqcoap_session_client_config cfg = snet_client_cfg("client", &id_client, &id_server, store);
    pqcoap_session_client *c = NULL;
    return pqcoap_session_client_open(uri, &cfg, &c, NULL, 0) == PQCOAP_OK ? c : NULL;
}

static const char server_conf[] =
    "master_secret,hex,0102030405060708090a0b0c0d0e0f10\n"
    "sender_id,hex,01\n"
    "recipient_id,hex,02\n";
static const char client_conf[] =
    "master_secret,hex,0102030405060708090a0b0c0d0e0f10\n"
    "sender_id,hex,02\n"
    "recipient_id,hex,01\n";

static void *os_open(const char *uri, pqcoap_store *store)
{
    pqcoap_oscore_conf conf;
    CHECK_EQ_INT(pqcoap_oscore_conf_parse(client_conf, strlen(client_conf), &conf, NULL, 0),
                 PQCOAP_OK);
    pqcoap_oscore_client *c = NULL;
    pqcoap_err err = pqcoap_oscore_client_open(uri, &conf, store, NULL, &c, NULL, 0);
    pqcoap_oscore_conf_wipe(&conf);
    return err == PQCOAP_OK ? c : NULL;
}

static void *ok_open(const char *uri, pqcoap_store *store)
{
    pqcoap_session_client_config cfg = snet_client_cfg("client", &id_client, &id_server, store);
    pqcoap_oscore_client *c = NULL;
    char msg[160] = "";
    pqcoap_err err = pqcoap_oscore_client_open_keyed(uri, &cfg, 0, &c, msg, sizeof msg);
    if (err != PQCOAP_OK)
        fprintf(stderr, "keyed client: %s\n", msg);
    return err == PQCOAP_OK ? c : NULL;
}

static const mode SIGN = {"mode A v2", NULL, NULL, sg_observe, sg_cancel, sg_request,
                          sg_net, sg_free, sg_open};
static const mode SESSION = {"mode B", NULL, NULL, ss_observe, ss_cancel, ss_request,
                             ss_net, ss_free, ss_open};
static const mode OSCORE = {"oscore", NULL, NULL, os_observe, os_cancel, os_request,
                            os_net, os_free, os_open};
static const mode OSCORE_KEYED = {"oscore keyed", NULL, NULL, os_observe, os_cancel,
                                  os_request, os_net, os_free, ok_open};

/* Runs the client (bounded: `rounds` polls of `ms`) until s saw `want` or ended. */
static void poll_until(const mode *m, const seen *s, int want, int rounds, int ms)
{
    for (int i = 0; i < rounds && s->n < want && !s->ended; i++) {
        pqcoap_completion c;
        int done = 0;
        if (pqcoap_client_poll(m->net(m->c), ms, &c, &done) != PQCOAP_OK)
            return;
        if (done)
            pqcoap_reply_free(&c.reply);
    }
}

/* Runs the client until s's last value is v (bounded: 10 s). */
static void poll_value(const mode *m, const seen *s, int v)
{
    for (int i = 0; i < 100 && last_val(s) != v && !s->ended; i++)
        poll_until(m, s, s->n + 1, 1, 100);
}

static int observe(const mode *m, const char *path, seen *s, uint32_t *id)
{
    pqcoap_req req = PQCOAP_REQ_INIT;
    req.path = path;
    return m->observe(m->c, &req, on_note, s, id);
}

/* GET sync in the mode: 1 when answered. */
static int sync_server(const mode *m)
{
    pqcoap_req req = PQCOAP_REQ_INIT;
    req.path = "sync";
    pqcoap_reply r;
    pqcoap_err err = m->request(m->c, &req, &r);
    if (err == PQCOAP_OK)
        pqcoap_reply_free(&r);
    return err == PQCOAP_OK;
}

/* A copy of d with message ID mid ^ 0xa5a5 (not a retransmission of d for the client). */
static relay_dgram fresh_mid(const relay_dgram *d)
{
    relay_dgram f = *d;
    f.b[2] ^= 0xa5;
    f.b[3] ^= 0xa5;
    return f;
}

/* Notifies `path` with the relay holding the notification of the watched token back;
 * returns it once held (bounded: 10 s). */
static void notify_held(const mode *m, relay *r, const char *path, relay_dgram *held)
{
    relay_hold(r);
    CHECK_EQ_INT(pqcoap_server_notify(m->srv, path), PQCOAP_OK);
    int got = 0;
    for (int i = 0; i < 1000 && !(got = relay_held(r, held)); i++) {
        struct timespec t = {0, 10 * 1000 * 1000};
        nanosleep(&t, NULL);
    }
    CHECK(got);
}

/* Everything a mode goes through, on a server already running with resources(), with a
 * client of its own (counters in a fresh store). */
static void run_mode(mode *m)
{
    fprintf(stderr, "-- %s\n", m->name);
    /* client -> relay -> fault proxy (off at first) -> server */
    udp_proxy_cfg pc = {10, 10, 10, 0, 0, 7641};
    uint16_t pport = 0;
    udp_proxy *px = udp_proxy_start(&pc, pqcoap_server_port(m->srv), &pport);
    CHECK(px != NULL);
    udp_proxy_set_faults(px, 0);
    static relay r;
    CHECK(relay_start(&r, pport));
    char uri[64];
    snprintf(uri, sizeof uri, "coap://127.0.0.1:%u", r.port);
    pqcoap_store cstore;
    CHECK_EQ_INT(pqcoap_store_open_memory(&cstore), PQCOAP_OK);
    m->c = m->open(uri, &cstore);
    CHECK(m->c != NULL);
    static seen s1, s2;
    memset(&s1, 0, sizeof s1);
    memset(&s2, 0, sizeof s2);
    s1.tag = 'A';
    s2.tag = 'B';
    uint32_t id1 = 0, id2 = 0;
    atomic_store(&value, 0);

    /* in order, each verified */
    if (observe(m, "obs", &s1, &id1) != PQCOAP_OK)
        fprintf(stderr, "observe: %s\n", pqcoap_client_last_error(m->net(m->c)));
    CHECK_EQ_INT(s1.n, 1);
    CHECK_EQ_INT(s1.n, 1);
    for (int i = 1; i <= 20; i++) {
        atomic_store(&value, i);
        CHECK_EQ_INT(pqcoap_server_notify(m->srv, "obs"), PQCOAP_OK);
        poll_until(m, &s1, i + 1, 100, 100);
        CHECK_EQ_INT(s1.n, i + 1);
    }
    for (int i = 0; i < s1.n; i++)
        CHECK_EQ_INT(s1.val[i], i);

    /* the observation's token */
    atomic_store(&value, 221);
    CHECK_EQ_INT(pqcoap_server_notify(m->srv, "obs"), PQCOAP_OK);
    poll_value(m, &s1, 221);
    uint8_t tok1[8];
    size_t tl1 = relay_watch_last(&r, tok1);
    CHECK(tl1 > 0);
    atomic_store(&value, 222);
    CHECK_EQ_INT(pqcoap_server_notify(m->srv, "obs"), PQCOAP_OK);
    poll_value(m, &s1, 222);
    CHECK_EQ_INT(last_val(&s1), 222);

    /* a replayed earlier notification (new message ID), then a real one: only that one */
    relay_dgram d, g;
    CHECK(relay_kept(&r, 0, &d));
    int n = s1.n;
    d = fresh_mid(&d);
    CHECK(relay_inject(&r, &d));
    atomic_store(&value, 223);
    CHECK_EQ_INT(pqcoap_server_notify(m->srv, "obs"), PQCOAP_OK);
    poll_value(m, &s1, 223);
    CHECK_EQ_INT(s1.n, n + 1);
    CHECK_EQ_INT(last_val(&s1), 223);

    /* the next notification with a byte flipped comes first: refused; then the real one */
    atomic_store(&value, 224);
    notify_held(m, &r, "obs", &g);
    d = fresh_mid(&g);
    d.b[d.n - 10] ^= 0x01;
    CHECK(relay_inject(&r, &d));
    poll_until(m, &s1, n + 2, 3, 100); /* gives it the chance to be (wrongly) delivered */
    relay_release(&r);
    poll_value(m, &s1, 224);
    CHECK_EQ_INT(s1.n, n + 2);
    CHECK_EQ_INT(last_val(&s1), 224);

    /* a second registration of the same client; its notification with the first one's
     * token is refused, and comes to its own observation */
    CHECK_EQ_INT(observe(m, "obs2", &s2, &id2), PQCOAP_OK);
    CHECK_EQ_INT(s2.n, 1);
    uint8_t tok2[8];
    size_t tl2 = relay_watch_last(&r, tok2);
    CHECK(tl2 == tl1 && memcmp(tok1, tok2, tl1) != 0);
    atomic_store(&value, 225);
    notify_held(m, &r, "obs2", &g);
    d = fresh_mid(&g);
    memcpy(d.b + 4, tok1, tl1);
    CHECK(relay_inject(&r, &d));
    poll_until(m, &s1, n + 3, 3, 100);
    relay_release(&r);
    poll_value(m, &s2, 225);
    CHECK_EQ_INT(s2.n, 2);
    CHECK_EQ_INT(last_val(&s2), 225);
    atomic_store(&value, 226);
    CHECK_EQ_INT(pqcoap_server_notify(m->srv, "obs"), PQCOAP_OK);
    poll_value(m, &s1, 226);
    CHECK_EQ_INT(s1.n, n + 3); /* 224 then 226: nothing of obs2 */
    CHECK_EQ_INT(last_val(&s1), 226);
    CHECK_EQ_INT(s1.wrong, 0);
    CHECK_EQ_INT(s2.wrong, 0);

    /* cancel: the server notifies nobody any more */
    CHECK_EQ_INT(m->cancel(m->c, id1), PQCOAP_OK);
    CHECK_EQ_INT(m->cancel(m->c, id2), PQCOAP_OK);
    CHECK_EQ_INT(m->cancel(m->c, id1), PQCOAP_ERR_NOT_FOUND);
    atomic_store(&calls, 0);
    CHECK_EQ_INT(pqcoap_server_notify(m->srv, "obs"), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_server_notify(m->srv, "obs2"), PQCOAP_OK);
    CHECK(sync_server(m));
    CHECK_EQ_INT(atomic_load(&calls), 0);
    CHECK(!s1.ended && !s2.ended);

    /* a new observation, then 200 notifications through faults (the proxy drops,
     * duplicates and reorders): those delivered never go back (a value comes twice only
     * when a re-registration's answer repeats the current one), the last one comes */
    memset(&s1, 0, sizeof s1);
    s1.tag = 'A';
    atomic_store(&value, 20);
    CHECK_EQ_INT(observe(m, "obs", &s1, &id1), PQCOAP_OK);
    int n0 = s1.n;
    udp_proxy_set_faults(px, 1);
    for (int i = 21; i <= 220; i++) {
        atomic_store(&value, i);
        CHECK_EQ_INT(pqcoap_server_notify(m->srv, "obs"), PQCOAP_OK);
        for (int k = 0; k < 10 && last_val(&s1) != i; k++)
            poll_until(m, &s1, s1.n + 1, 1, 10);
    }
    udp_proxy_set_faults(px, 0);
    for (int i = 0; i < 600 && last_val(&s1) != 220 && !s1.ended; i++)
        poll_until(m, &s1, s1.n + 1, 1, 100);
    CHECK_EQ_INT(last_val(&s1), 220);
    CHECK(s1.n <= MAX_SEEN);
    int in_order = 1;
    for (int i = 1; i < s1.n && i < MAX_SEEN; i++)
        if (s1.val[i] < s1.val[i - 1]) {
            fprintf(stderr, "delivered %d after %d\n", s1.val[i], s1.val[i - 1]);
            in_order = 0;
        }
    CHECK(in_order);
    CHECK_EQ_INT(s1.wrong, 0);
    CHECK(!s1.ended);
    fprintf(stderr, "faults: %d of 200 delivered\n", s1.n - n0);

    CHECK_EQ_INT(m->cancel(m->c, id1), PQCOAP_OK);

    m->free(m->c);
    pqcoap_store_close(&cstore);
    relay_stop(&r);
    udp_proxy_stats st;
    udp_proxy_stop(px, &st);
    CHECK(st.dropped > 0 && st.duplicated > 0 && st.reordered > 0);
}

/* ---- the modes -------------------------------------------------------------------------- */

static void mode_a_v2(void)
{
    pqcoap_store sstore;
    CHECK_EQ_INT(pqcoap_store_open_memory(&sstore), PQCOAP_OK);
    fx_trust(&sstore, "client", &id_client);
    pqcoap_sign_server *ss = NULL;
    CHECK_EQ_INT(pqcoap_sign_server_new(&id_server, &sstore, NULL, &ss), PQCOAP_OK);
    test_server ts;
    CHECK(test_server_new(&ts, "127.0.0.1", pqcoap_sign_server_layer(ss), 0) != NULL);
    resources(ts.srv);
    CHECK(test_server_start(&ts));
    mode m = SIGN;
    m.srv = ts.srv;
    run_mode(&m);
    test_server_end(&ts);
    pqcoap_sign_server_free(ss);
    pqcoap_store_close(&sstore);
}

static void mode_b(void)
{
    pqcoap_session_server_config cfg = snet_server_cfg(&trust, 0);
    snet_server t;
    snet_server_create(&t, &cfg);
    pqcoap_server *srv = pqcoap_session_server_coap(t.ss);
    resources(srv);
    snet_server_run(&t);
    mode m = SESSION;
    m.srv = srv;
    run_mode(&m);
    snet_server_stop(&t);
}

static void oscore_static(void)
{
    pqcoap_store sstore;
    CHECK_EQ_INT(pqcoap_store_open_memory(&sstore), PQCOAP_OK);
    pqcoap_oscore_conf conf;
    CHECK_EQ_INT(pqcoap_oscore_conf_parse(server_conf, strlen(server_conf), &conf, NULL, 0),
                 PQCOAP_OK);
    pqcoap_oscore_server *os = NULL;
    CHECK_EQ_INT(pqcoap_oscore_server_new(&sstore, NULL, &os), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_oscore_server_add_conf(os, &conf), PQCOAP_OK);
    pqcoap_oscore_conf_wipe(&conf);
    test_server ts;
    CHECK(test_server_new(&ts, "127.0.0.1", pqcoap_oscore_server_layer(os), 0) != NULL);
    resources(ts.srv);
    CHECK(test_server_start(&ts));
    mode m = OSCORE;
    m.srv = ts.srv;
    run_mode(&m);
    test_server_end(&ts);
    pqcoap_oscore_server_free(os);
    pqcoap_store_close(&sstore);
}

static void oscore_keyed(void)
{
    pqcoap_store sstore;
    CHECK_EQ_INT(pqcoap_store_open_memory(&sstore), PQCOAP_OK);
    fx_trust(&sstore, "client", &id_client);
    pqcoap_oscore_server *os = NULL;
    CHECK_EQ_INT(pqcoap_oscore_server_new(&sstore, NULL, &os), PQCOAP_OK);
    test_server ts;
    CHECK(test_server_new(&ts, "127.0.0.1", pqcoap_oscore_server_layer(os), 0) != NULL);
    resources(ts.srv);
    pqcoap_oscore_keying_config kc = PQCOAP_OSCORE_KEYING_CONFIG_INIT;
    kc.id = "server";
    kc.sk = id_server.sk;
    kc.sk_len = pqcoap_identity_sk_len(&id_server);
    kc.store = &sstore;
    CHECK_EQ_INT(pqcoap_oscore_server_keying(os, ts.srv, &kc, NULL, 0), PQCOAP_OK);
    CHECK(test_server_start(&ts));
    mode m = OSCORE_KEYED;
    m.srv = ts.srv;
    run_mode(&m);
    test_server_end(&ts);
    pqcoap_oscore_server_free(os);
    pqcoap_store_close(&sstore);
}

/* Mode A v1 binds nothing (no sequence, no request): observing is refused before anything
 * is sent, and the client's last error says why. */
static void mode_a_v1_refused(void)
{
    pqcoap_identity cl_v1, srv_v1;
    CHECK_EQ_INT(pqcoap_identity_generate_usage("falcon-512", PQCOAP_USAGE_SIGN_V1, NULL,
                                                &cl_v1), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_identity_generate_usage("falcon-512", PQCOAP_USAGE_SIGN_V1, NULL,
                                                &srv_v1), PQCOAP_OK);
    pqcoap_sign_client_config ccfg = PQCOAP_SIGN_CLIENT_CONFIG_INIT;
    ccfg.version = 1;
    pqcoap_sign_client *c = NULL;
    char uri[64];
    snprintf(uri, sizeof uri, "coap://127.0.0.1:%u", test_free_port());
    CHECK_EQ_INT(pqcoap_sign_client_open(uri, &cl_v1, NULL, &ccfg, &c, NULL, 0), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_sign_client_pin(c, &srv_v1.pub), PQCOAP_OK);
    seen s = {'A', 0, {0}, 0, 0};
    uint32_t id = 0;
    pqcoap_req req = PQCOAP_REQ_INIT;
    req.path = "obs";
    CHECK_EQ_INT(pqcoap_sign_client_observe(c, &req, on_note, &s, &id), PQCOAP_ERR_UNSUPPORTED);
    const char *why = pqcoap_client_last_error(pqcoap_sign_client_net(c));
    fprintf(stderr, "v1: %s\n", why);
    CHECK(strstr(why, "Mode A v1 cannot observe") != NULL);
    CHECK_EQ_INT(s.n, 0);
    pqcoap_sign_client_free(c);
    pqcoap_identity_wipe(&cl_v1);
    pqcoap_identity_wipe(&srv_v1);
}

int main(void)
{
    snet_init();
    mode_a_v1_refused();
    mode_a_v2();
    mode_b();
    oscore_static();
    oscore_keyed();
    snet_fini();
    return check_done();
}

/* Mode B endpoints under faults, over real UDP on loopback: a lost response, server
 * restarts (transparent re-handshake, no double POST), a handshake in progress does not hold
 * up other sessions, the handshake rate limit, the queue of pending handshakes and a full
 * session table. */
#include <time.h>

#include "check.h"
#include "snet.h"
#include "udp_proxy.h"

static pqcoap_store cstore;         /* the client's counters */

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static pqcoap_session_client *client_of(const char *id, const pqcoap_identity *who, uint16_t port)
{
    pqcoap_session_client_config cfg = snet_client_cfg(id, who, &id_server, &cstore);
    return snet_client(port, &cfg);
}

/* The response to a POST is lost: the client's retransmission gets the same protected
 * response (from the server's duplicate detection, before the layer), and the handler ran
 * once. */
static void test_lost_response(void)
{
    snet_server srv;
    pqcoap_session_server_config scfg = snet_server_cfg(&trust, 0);
    snet_server_start(&srv, &scfg);
    udp_proxy_cfg pcfg;
    memset(&pcfg, 0, sizeof pcfg);
    uint16_t pport = 0;
    udp_proxy *proxy = udp_proxy_start(&pcfg, srv.port, &pport);
    CHECK(proxy != NULL);
    pqcoap_session_client *sc = client_of("client", &id_client, pport);
    CHECK(snet_echo(sc, PQCOAP_GET, "warm"));
    int posts = atomic_load(&runs[PQCOAP_POST]);
    udp_proxy_drop_next_reply(proxy);
    CHECK(snet_echo(sc, PQCOAP_POST, "exactly once"));
    CHECK_EQ_INT(atomic_load(&runs[PQCOAP_POST]), posts + 1);
    CHECK(snet_echo(sc, PQCOAP_POST, "next"));
    CHECK_EQ_INT(atomic_load(&runs[PQCOAP_POST]), posts + 2);
    CHECK_EQ_INT(snet_stats(&srv).sessions_created, 1);
    udp_proxy_stats ps;
    udp_proxy_stop(proxy, &ps);
    CHECK_EQ_INT(ps.dropped, 1);
    pqcoap_session_client_free(sc);
    snet_server_stop(&srv);
}

/* The server restarts on the same port and store: a GET succeeds after exactly one
 * transparent re-handshake; a POST is reported lost, not executed twice; a restarted client
 * on the same counter store is not locked out. */
static void test_server_restart(void)
{
    snet_server srv;
    pqcoap_session_server_config scfg = snet_server_cfg(&trust, 0);
    snet_server_start(&srv, &scfg);
    uint16_t port = srv.port;
    pqcoap_session_client *sc = client_of("client", &id_client, port);
    CHECK(snet_echo(sc, PQCOAP_GET, "one"));
    snet_server_stop(&srv);

    scfg = snet_server_cfg(&trust, port);
    snet_server_start(&srv, &scfg);
    int gets = atomic_load(&runs[PQCOAP_GET]);
    CHECK(snet_echo(sc, PQCOAP_GET, "two"));
    CHECK_EQ_INT(snet_stats(&srv).sessions_created, 1);
    CHECK_EQ_INT(atomic_load(&runs[PQCOAP_GET]), gets + 1);
    pqcoap_session_client_info info;
    CHECK_EQ_INT(pqcoap_session_client_info_get(sc, &info), PQCOAP_OK);
    CHECK_EQ_INT(info.handshakes, 2);
    snet_server_stop(&srv);

    snet_server_start(&srv, &scfg);
    int posts = atomic_load(&runs[PQCOAP_POST]);
    pqcoap_reply r;
    CHECK_EQ_INT(snet_req(sc, PQCOAP_POST, "echo", "pay", 3, &r), PQCOAP_ERR_SESSION_LOST);
    pqcoap_reply_free(&r);
    CHECK_EQ_INT(atomic_load(&runs[PQCOAP_POST]), posts); /* the new server never ran it */
    CHECK_EQ_INT(snet_stats(&srv).sessions_created, 1);   /* but the client re-handshook */
    CHECK(snet_echo(sc, PQCOAP_POST, "pay"));              /* and the next POST goes through */
    CHECK_EQ_INT(atomic_load(&runs[PQCOAP_POST]), posts + 1);
    CHECK_EQ_INT(snet_stats(&srv).sessions_created, 1);
    pqcoap_session_client_free(sc);

    /* the client restarts on the same store: its session_seq continues above the floor */
    sc = client_of("client", &id_client, port);
    CHECK(snet_echo(sc, PQCOAP_GET, "after restart"));
    CHECK_EQ_INT(snet_stats(&srv).sessions_created, 2);
    CHECK_EQ_INT(snet_stats(&srv).handshakes_refused, 0);
    pqcoap_session_client_free(sc);
    snet_server_stop(&srv);
}

/* A store whose floor_set blocks while the gate is closed: holds a handshake in progress. */
typedef struct gate {
    pqcoap_store inner;
    pqcoap_store_ops ops;
    pqcoap_store store;
    pthread_mutex_t m;
    pthread_cond_t c;
    int closed;
    int waiting;
} gate;

static gate g;

static pqcoap_err gate_peer_by_id(void *ctx, const char *id, pqcoap_peer *out)
{
    gate *gt = ctx;
    return gt->inner.ops->peer_by_id(gt->inner.ctx, id, out);
}

static pqcoap_err gate_floor_get(void *ctx, const char *id, pqcoap_floor *out)
{
    gate *gt = ctx;
    return gt->inner.ops->floor_get(gt->inner.ctx, id, out);
}

static pqcoap_err gate_floor_set(void *ctx, const char *id, const pqcoap_floor *floor)
{
    gate *gt = ctx;
    pthread_mutex_lock(&gt->m);
    gt->waiting++;
    pthread_cond_broadcast(&gt->c);
    while (gt->closed)
        pthread_cond_wait(&gt->c, &gt->m);
    gt->waiting--;
    pthread_mutex_unlock(&gt->m);
    return gt->inner.ops->floor_set(gt->inner.ctx, id, floor);
}

/* Wraps the trust store in the gate, open. */
static void gate_init(void)
{
    g.inner = trust;
    g.ops.peer_by_id = gate_peer_by_id;
    g.ops.floor_get = gate_floor_get;
    g.ops.floor_set = gate_floor_set;
    g.store.ops = &g.ops;
    g.store.ctx = &g;
    g.closed = 0;
    g.waiting = 0;
    pthread_mutex_init(&g.m, NULL);
    pthread_cond_init(&g.c, NULL);
}

static void gate_set(int closed)
{
    pthread_mutex_lock(&g.m);
    g.closed = closed;
    pthread_cond_broadcast(&g.c);
    pthread_mutex_unlock(&g.m);
}

/* Waits until a handshake is held in the gate. */
static void gate_wait_held(void)
{
    pthread_mutex_lock(&g.m);
    while (g.waiting == 0)
        pthread_cond_wait(&g.c, &g.m);
    pthread_mutex_unlock(&g.m);
}

/* A session client connecting on its own thread; `done` and `err` are set under g.m. */
typedef struct connector {
    pqcoap_session_client *sc;
    pqcoap_err err;
    int done;
    pthread_t thread;
} connector;

static void *connect_main(void *arg)
{
    connector *c = arg;
    pqcoap_err err = pqcoap_session_client_connect(c->sc);
    pthread_mutex_lock(&g.m);
    c->err = err;
    c->done = 1;
    pthread_cond_broadcast(&g.c);
    pthread_mutex_unlock(&g.m);
    return NULL;
}

static void connect_start(connector *c, const char *id, const pqcoap_identity *who,
                          uint16_t port)
{
    c->sc = client_of(id, who, port);
    c->err = PQCOAP_ERR_STATE;
    c->done = 0;
    CHECK(pthread_create(&c->thread, NULL, connect_main, c) == 0);
}

/* While the handshake thread is held inside a handshake (after its crypto, before its
 * floor is durable), protected requests of an existing session keep completing. */
static void test_handshake_does_not_block(void)
{
    gate_init();
    snet_server srv;
    pqcoap_session_server_config scfg = snet_server_cfg(&g.store, 0);
    snet_server_start(&srv, &scfg);
    pqcoap_session_client *a = client_of("client", &id_client, srv.port);
    CHECK(snet_echo(a, PQCOAP_GET, "established"));

    gate_set(1);
    connector b;
    connect_start(&b, "other", &id_other, srv.port);
    gate_wait_held(); /* b's handshake is now in progress */

    int ok = 0;
    for (int i = 0; i < 10; i++)
        ok += snet_echo(a, PQCOAP_POST, "meanwhile");
    CHECK_EQ_INT(ok, 10);
    pthread_mutex_lock(&g.m);
    CHECK_EQ_INT(g.waiting, 1); /* b's handshake was held all along */
    pthread_mutex_unlock(&g.m);
    gate_set(0);
    pthread_join(b.thread, NULL);
    CHECK_EQ_INT(b.err, PQCOAP_OK);
    CHECK(snet_echo(b.sc, PQCOAP_GET, "b works"));
    CHECK(snet_echo(a, PQCOAP_GET, "a works"));
    CHECK_EQ_INT(snet_stats(&srv).sessions_created, 2);
    pqcoap_session_client_free(b.sc);
    pqcoap_session_client_free(a);
    snet_server_stop(&srv);
    pthread_cond_destroy(&g.c);
    pthread_mutex_destroy(&g.m);
}

/* A burst of INITs above the rate limit gets 5.03 with Max-Age; the existing session keeps
 * working. */
static void test_rate_limit(void)
{
    snet_server srv;
    pqcoap_session_server_config scfg = snet_server_cfg(&trust, 0);
    scfg.handshakes_per_s = 1;
    snet_server_start(&srv, &scfg);
    pqcoap_session_client *a = client_of("client", &id_client, srv.port);
    CHECK(snet_echo(a, PQCOAP_GET, "first"));

    pqcoap_client *cl = snet_plain_client(srv.port);
    pqcoap_req req = snet_init_req((const uint8_t *)"not an INIT", 11);
    int busy = 0, other = 0, max_age_ok = 1;
    for (int i = 0; i < 6; i++) {
        pqcoap_reply r;
        CHECK_EQ_INT(pqcoap_client_request(cl, &req, &r), PQCOAP_OK);
        if (r.msg.code == PQCOAP_CODE(5, 3)) {
            const pqcoap_opt *o = pqcoap_msg_find_opt(&r.msg, PQCOAP_OPT_MAX_AGE);
            uint32_t v = 0;
            max_age_ok &= o && pqcoap_opt_uint(o, &v) == PQCOAP_OK && v >= 1;
            busy++;
        } else {
            other += r.msg.code == PQCOAP_CODE(4, 0); /* admitted, then refused as malformed */
        }
        pqcoap_reply_free(&r);
    }
    CHECK(busy >= 1);
    CHECK_EQ_INT(busy + other, 6);
    CHECK(max_age_ok);
    CHECK_EQ_INT(snet_stats(&srv).handshakes_busy, (uint64_t)busy);
    CHECK(snet_echo(a, PQCOAP_POST, "still served"));
    CHECK_EQ_INT(snet_stats(&srv).sessions_created, 1);
    pqcoap_client_free(cl);
    pqcoap_session_client_free(a);
    snet_server_stop(&srv);
}

/* max_pending_handshakes = 1: while the handshake thread is held in one handshake, of two more
 * INITs one waits in the queue and the other gets 5.03 at once; released, the held and the
 * queued handshakes complete. (The wait for the refusal is bounded by 10 s so that a server
 * queueing both makes the test fail instead of hang.) */
static void test_pending_limit(void)
{
    gate_init();
    snet_server srv;
    pqcoap_session_server_config scfg = snet_server_cfg(&g.store, 0);
    scfg.max_pending_handshakes = 1;
    snet_server_start(&srv, &scfg);
    gate_set(1);
    connector c[3];
    connect_start(&c[0], "client", &id_client, srv.port);
    gate_wait_held();
    connect_start(&c[1], "other", &id_other, srv.port);
    connect_start(&c[2], "client", &id_client, srv.port);

    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 10;
    int refused = -1;
    pthread_mutex_lock(&g.m);
    while (refused < 0) {
        for (int i = 1; i <= 2; i++)
            if (c[i].done)
                refused = i;
        if (refused < 0 && pthread_cond_timedwait(&g.c, &g.m, &until) != 0)
            break;
    }
    pthread_mutex_unlock(&g.m);
    CHECK(refused > 0);
    if (refused > 0)
        CHECK_EQ_INT(c[refused].err, PQCOAP_ERR_BUSY);
    CHECK_EQ_INT(snet_stats(&srv).handshakes_busy, 1);

    gate_set(0);
    for (int i = 0; i < 3; i++) {
        pthread_join(c[i].thread, NULL);
        if (i != refused)
            CHECK_EQ_INT(c[i].err, PQCOAP_OK);
        pqcoap_session_client_free(c[i].sc);
    }
    CHECK_EQ_INT(snet_stats(&srv).sessions_created, 2);
    snet_server_stop(&srv);
    pthread_cond_destroy(&g.c);
    pthread_mutex_destroy(&g.m);
}

/* A full table: 5.03 for a new initiator, or the least recently used idle session evicted
 * when configured (its client then re-handshakes transparently). */
static void test_full_table(void)
{
    snet_server srv;
    pqcoap_session_server_config scfg = snet_server_cfg(&trust, 0);
    scfg.max_sessions = 1;
    snet_server_start(&srv, &scfg);
    pqcoap_session_client *a = client_of("client", &id_client, srv.port);
    pqcoap_session_client *b = client_of("other", &id_other, srv.port);
    CHECK(snet_echo(a, PQCOAP_GET, "a"));
    CHECK_EQ_INT(pqcoap_session_client_connect(b), PQCOAP_ERR_BUSY);
    CHECK(snet_echo(a, PQCOAP_GET, "a still"));
    CHECK_EQ_INT(snet_stats(&srv).live_sessions, 1);
    scfg.coap.port = srv.port;
    snet_server_stop(&srv);

    scfg.evict_idle_ms = 1;
    snet_server_start(&srv, &scfg);
    CHECK(snet_echo(a, PQCOAP_GET, "a on the new server")); /* unknown session, re-handshake */
    sleep_ms(5);
    CHECK_EQ_INT(pqcoap_session_client_connect(b), PQCOAP_OK); /* a evicted */
    CHECK(snet_echo(b, PQCOAP_GET, "b"));
    sleep_ms(5);
    CHECK(snet_echo(a, PQCOAP_GET, "a again")); /* unknown session, re-handshake, b evicted */
    CHECK_EQ_INT(snet_stats(&srv).sessions_created, 3);
    CHECK_EQ_INT(snet_stats(&srv).live_sessions, 1);
    pqcoap_session_client_free(a);
    pqcoap_session_client_free(b);
    snet_server_stop(&srv);
}

int main(void)
{
    snet_init();
    snet_must(pqcoap_store_open_memory(&cstore) == PQCOAP_OK, "client store");
    test_lost_response();
    test_server_restart();
    test_handshake_does_not_block();
    test_rate_limit();
    test_pending_limit();
    test_full_table();
    pqcoap_store_close(&cstore);
    snet_fini();
    return check_done();
}

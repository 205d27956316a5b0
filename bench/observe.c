/* Observe throughput per mode: a server on 127.0.0.1 notifies its one observer again as soon
 * as the observer has taken the last notification (CON, so the next one leaves once the ACK
 * came back); the observer counts the verified notifications delivered in a bounded time.
 * Prints "observe_notifications_per_s_<mode> N" for plain, sign_v2, session and oscore.
 * Usage: bench_observe [SECONDS per mode, default 1.5] */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "pqcoap/oscore_endpoint.h"
#include "pqcoap/session_endpoint.h"
#include "pqcoap/sign_endpoint.h"
#include "pqcoap/store.h"

static atomic_int value;

static pqcoap_err obs_get(void *arg, pqcoap_server_req *rq, const pqcoap_msg *req,
                          pqcoap_msgbuf *resp)
{
    (void)arg, (void)rq, (void)req;
    char text[16];
    int n = snprintf(text, sizeof text, "%d", atomic_fetch_add(&value, 1));
    return pqcoap_msgbuf_set_payload(resp, (const uint8_t *)text, (size_t)n);
}

typedef struct run {
    pqcoap_server *srv;
    pthread_t thread;
    long delivered;
} run;

static void *serve(void *arg)
{
    pqcoap_server_run(((run *)arg)->srv);
    return NULL;
}

/* Each delivered notification asks the server for the next one. */
static void on_note(void *user, const pqcoap_notification *n)
{
    run *r = user;
    if (n->err != PQCOAP_OK)
        return;
    r->delivered++;
    pqcoap_server_notify(r->srv, "obs");
}

static int serve_obs(run *r)
{
    return pqcoap_server_handle(r->srv, "obs", PQCOAP_GET, obs_get, NULL) == PQCOAP_OK &&
           pqcoap_server_observable(r->srv, "obs", 0) == PQCOAP_OK &&
           pthread_create(&r->thread, NULL, serve, r) == 0;
}

/* Observes with `observe` on `net`, for `secs`; prints the rate. */
static void measure(const char *mode, run *r, pqcoap_client *net, double secs,
                    pqcoap_err (*observe)(void *c, const pqcoap_req *, pqcoap_observe_fn, void *,
                                          uint32_t *),
                    void *c)
{
    pqcoap_req req = PQCOAP_REQ_INIT;
    req.path = "obs";
    uint32_t id = 0;
    if (observe(c, &req, on_note, r, &id) != PQCOAP_OK) {
        fprintf(stderr, "observe %s: %s\n", mode, pqcoap_client_last_error(net));
        return;
    }
    r->delivered = 0;
    pqcoap_server_notify(r->srv, "obs");
    uint64_t t0 = bench_now_ns(), end = t0 + (uint64_t)(secs * 1e9);
    while (bench_now_ns() < end) {
        pqcoap_completion done;
        int got = 0;
        if (pqcoap_client_poll(net, 50, &done, &got) != PQCOAP_OK)
            break;
    }
    double dt = (double)(bench_now_ns() - t0) / 1e9;
    printf("observe_notifications_per_s_%s %.1f\n", mode, (double)r->delivered / dt);
    fflush(stdout);
}

static pqcoap_err plain_observe(void *c, const pqcoap_req *q, pqcoap_observe_fn f, void *u,
                                uint32_t *id)
{
    return pqcoap_client_observe(c, q, f, u, id);
}
static pqcoap_err sign_observe(void *c, const pqcoap_req *q, pqcoap_observe_fn f, void *u,
                               uint32_t *id)
{
    return pqcoap_sign_client_observe(c, q, f, u, id);
}
static pqcoap_err session_observe(void *c, const pqcoap_req *q, pqcoap_observe_fn f, void *u,
                                  uint32_t *id)
{
    return pqcoap_session_client_observe(c, q, f, u, id);
}
static pqcoap_err oscore_observe(void *c, const pqcoap_req *q, pqcoap_observe_fn f, void *u,
                                 uint32_t *id)
{
    return pqcoap_oscore_client_observe(c, q, f, u, id);
}

static int make_server(run *r, const pqcoap_layer *layer)
{
    pqcoap_server_config cfg = PQCOAP_SERVER_CONFIG_INIT;
    cfg.addr = "127.0.0.1";
    cfg.port = 0;
    cfg.layer = layer;
    return pqcoap_server_create(&cfg, &r->srv, NULL, 0) == PQCOAP_OK;
}

static void stop(run *r)
{
    pqcoap_server_stop(r->srv);
    pthread_join(r->thread, NULL);
}

static void uri_of(char *uri, size_t cap, pqcoap_server *srv)
{
    snprintf(uri, cap, "coap://127.0.0.1:%u", pqcoap_server_port(srv));
}

static const char server_conf[] = "master_secret,hex,0102030405060708090a0b0c0d0e0f10\n"
                                  "sender_id,hex,01\nrecipient_id,hex,02\n"
                                  "rfc8613_b_1_2,bool,false\n";
static const char client_conf[] = "master_secret,hex,0102030405060708090a0b0c0d0e0f10\n"
                                  "sender_id,hex,02\nrecipient_id,hex,01\n";

int main(int argc, char **argv)
{
    double secs = argc > 1 ? atof(argv[1]) : 1.5;
    if (secs <= 0)
        secs = 1.5;
    pqcoap_identity srv_id, cl_id;
    pqcoap_store sstore, cstore;
    if (bench_identity(BENCH_SERVER_ID, &srv_id) != PQCOAP_OK ||
        bench_identity(BENCH_CLIENT_ID, &cl_id) != PQCOAP_OK ||
        pqcoap_store_open_memory(&sstore) != PQCOAP_OK ||
        pqcoap_store_open_memory(&cstore) != PQCOAP_OK)
        return 1;
    pqcoap_peer peer;
    if (pqcoap_peer_from_pubkey(BENCH_CLIENT_ID, &cl_id.pub, 0, &peer) != PQCOAP_OK ||
        pqcoap_store_peer_add(&sstore, &peer) != PQCOAP_OK)
        return 1;
    char uri[64];

    /* plain */
    run r = {0};
    pqcoap_client *cl = NULL;
    if (make_server(&r, NULL) && serve_obs(&r)) {
        uri_of(uri, sizeof uri, r.srv);
        if (pqcoap_client_open(uri, NULL, &cl, NULL, 0) == PQCOAP_OK)
            measure("plain", &r, cl, secs, plain_observe, cl);
        pqcoap_client_free(cl);
        stop(&r);
    }
    pqcoap_server_free(r.srv);

    /* Mode A v2 */
    memset(&r, 0, sizeof r);
    pqcoap_sign_server *ss = NULL;
    pqcoap_sign_client *sc = NULL;
    if (pqcoap_sign_server_new(&srv_id, &sstore, NULL, &ss) == PQCOAP_OK &&
        make_server(&r, pqcoap_sign_server_layer(ss)) && serve_obs(&r)) {
        uri_of(uri, sizeof uri, r.srv);
        if (pqcoap_sign_client_open(uri, &cl_id, &cstore, NULL, &sc, NULL, 0) == PQCOAP_OK &&
            pqcoap_sign_client_pin(sc, &srv_id.pub) == PQCOAP_OK)
            measure("sign_v2", &r, pqcoap_sign_client_net(sc), secs, sign_observe, sc);
        pqcoap_sign_client_free(sc);
        stop(&r);
    }
    pqcoap_server_free(r.srv);
    pqcoap_sign_server_free(ss);

    /* Mode B */
    memset(&r, 0, sizeof r);
    pqcoap_session_server_config bcfg = PQCOAP_SESSION_SERVER_CONFIG_INIT;
    bcfg.id = BENCH_SERVER_ID;
    bcfg.sk = srv_id.sk;
    bcfg.sk_len = pqcoap_identity_sk_len(&srv_id);
    bcfg.store = &sstore;
    bcfg.coap.addr = "127.0.0.1";
    bcfg.coap.port = 0;
    pqcoap_session_server *bs = NULL;
    if (pqcoap_session_server_create(&bcfg, &bs, NULL, 0) == PQCOAP_OK) {
        r.srv = pqcoap_session_server_coap(bs);
        if (serve_obs(&r)) {
            uri_of(uri, sizeof uri, r.srv);
            pqcoap_session_client_config ccfg = PQCOAP_SESSION_CLIENT_CONFIG_INIT;
            ccfg.id = BENCH_CLIENT_ID;
            ccfg.sk = cl_id.sk;
            ccfg.sk_len = pqcoap_identity_sk_len(&cl_id);
            ccfg.alg = "falcon-512"; /* bench_identity's algorithm */
            ccfg.server_id = BENCH_SERVER_ID;
            ccfg.server_pk = srv_id.pub.pk;
            ccfg.server_pk_len = srv_id.pub.pk_len;
            ccfg.store = &cstore;
            pqcoap_session_client *bc = NULL;
            if (pqcoap_session_client_open(uri, &ccfg, &bc, NULL, 0) == PQCOAP_OK)
                measure("session", &r, pqcoap_session_client_net(bc), secs, session_observe, bc);
            pqcoap_session_client_free(bc);
            stop(&r);
        }
        pqcoap_session_server_free(bs);
    }

    /* OSCORE, a provisioned context */
    memset(&r, 0, sizeof r);
    pqcoap_oscore_conf conf;
    pqcoap_oscore_server *os = NULL;
    pqcoap_store ostore, ocstore;
    if (pqcoap_store_open_memory(&ostore) == PQCOAP_OK &&
        pqcoap_store_open_memory(&ocstore) == PQCOAP_OK &&
        pqcoap_oscore_conf_parse(server_conf, strlen(server_conf), &conf, NULL, 0) == PQCOAP_OK &&
        pqcoap_oscore_server_new(&ostore, NULL, &os) == PQCOAP_OK &&
        pqcoap_oscore_server_add_conf(os, &conf) == PQCOAP_OK) {
        pqcoap_oscore_conf_wipe(&conf);
        if (make_server(&r, pqcoap_oscore_server_layer(os)) && serve_obs(&r)) {
            uri_of(uri, sizeof uri, r.srv);
            pqcoap_oscore_client *oc = NULL;
            if (pqcoap_oscore_conf_parse(client_conf, strlen(client_conf), &conf, NULL, 0) ==
                    PQCOAP_OK &&
                pqcoap_oscore_client_open(uri, &conf, &ocstore, NULL, &oc, NULL, 0) == PQCOAP_OK)
                measure("oscore", &r, pqcoap_oscore_client_net(oc), secs, oscore_observe, oc);
            pqcoap_oscore_conf_wipe(&conf);
            pqcoap_oscore_client_free(oc);
            stop(&r);
        }
        pqcoap_server_free(r.srv);
    }
    pqcoap_oscore_server_free(os);
    pqcoap_store_close(&ostore);
    pqcoap_store_close(&ocstore);
    pqcoap_store_close(&sstore);
    pqcoap_store_close(&cstore);
    pqcoap_identity_wipe(&srv_id);
    pqcoap_identity_wipe(&cl_id);
    return 0;
}

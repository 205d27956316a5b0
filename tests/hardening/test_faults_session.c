/* Mode B (sessions) under injected faults, over IPv4 and IPv6: CON POSTs through the
 * loopback proxy at 0 %, 10 % and 30 % loss, with duplication, reordering and delay, and
 * with corruption. Every request completes with its own echo or ends with an error; nothing
 * corrupted is accepted; nothing runs twice; the same client keeps working once the faults
 * stop; a lost response is answered from the kept protected response, counted once. */
#include <pthread.h>
#include <stdlib.h>

#include "faults.h"
#include "crypto/crypto_internal.h"
#include "pqcoap/session_endpoint.h"

/* One client identity per run: a run's handshakes do not race another's session_seq. */
static unsigned next_client;

static void close_client(void *client)
{
    pqcoap_session_client_free(client);
}

static void *serve(void *arg)
{
    pqcoap_server_run(pqcoap_session_server_coap(arg));
    return NULL;
}

static pqcoap_err post(void *client, const uint8_t *body, size_t len, pqcoap_reply *reply)
{
    pqcoap_req req = PQCOAP_REQ_INIT;
    req.method = PQCOAP_POST;
    req.path = FI_PATH;
    req.payload = body;
    req.payload_len = len;
    return pqcoap_session_client_request(client, &req, reply);
}

/* A session client of the proxy on `family`'s loopback, `port`: 1 s ACK_TIMEOUT, 11 s per
 * request (two retransmissions). */
static void *client_via(int family, uint16_t port)
{
    unsigned k = next_client++;
    pqcoap_session_client_config cfg = PQCOAP_SESSION_CLIENT_CONFIG_INIT;
    cfg.id = fi_client_name[k];
    cfg.sk = fi_id_client[k].sk;
    cfg.sk_len = fi_id_client[k].pub.alg->sk_len;
    cfg.server_id = "server";
    cfg.server_pk = fi_id_server.pub.pk;
    cfg.server_pk_len = fi_id_server.pub.pk_len;
    cfg.store = &fi_client_store[k];
    cfg.coap.timeout_ms = 11000;
    cfg.coap.ack_timeout_ms = 1000;
    char uri[64], msg[160];
    snprintf(uri, sizeof uri, "coap://%s:%u", loopback_uri_host(family), port);
    pqcoap_session_client *sc = NULL;
    if (pqcoap_session_client_open(uri, &cfg, &sc, msg, sizeof msg) != PQCOAP_OK)
        fprintf(stderr, "session client: %s\n", msg);
    return sc;
}

/* The session server of `family`'s loopback address over its own trust store, answering
 * POST FI_PATH, served on *thread. */
static pqcoap_session_server *server_on(int family, pthread_t *thread)
{
    pqcoap_session_server_config scfg = PQCOAP_SESSION_SERVER_CONFIG_INIT;
    scfg.id = "server";
    scfg.sk = fi_id_server.sk;
    scfg.sk_len = fi_id_server.pub.alg->sk_len;
    scfg.store = &fi_trust_store[family == AF_INET6];
    scfg.coap.addr = loopback_bind(family);
    scfg.coap.port = 0;
    pqcoap_session_server *ss = NULL;
    char msg[160];
    if (pqcoap_session_server_create(&scfg, &ss, msg, sizeof msg) != PQCOAP_OK)
        fprintf(stderr, "session server: %s\n", msg);
    fi_must(ss != NULL, "session server");
    fi_must(pqcoap_server_handle(pqcoap_session_server_coap(ss), FI_PATH, PQCOAP_POST,
                                 fi_handler, NULL) == PQCOAP_OK, "handle");
    fi_must(pthread_create(thread, NULL, serve, ss) == 0, "thread");
    return ss;
}

static pqcoap_session_server_stats stats_of(pqcoap_session_server *ss)
{
    pqcoap_session_server_stats st;
    memset(&st, 0, sizeof st);
    pqcoap_session_server_stats_get(ss, &st);
    return st;
}

/* On a session made through a clean proxy, the proxy loses the response to a POST: the
 * client's retransmission gets the kept protected response (the server counts exactly one
 * retransmission answered), the handler ran once, and the next POST works. Nothing else
 * talks to the server meanwhile. */
static void check_lost_response(int family, pqcoap_session_server *ss)
{
    udp_proxy_cfg clean;
    memset(&clean, 0, sizeof clean);
    uint16_t pport = 0;
    udp_proxy *proxy = udp_proxy_start_af(&clean, family, pqcoap_server_port(
                                              pqcoap_session_server_coap(ss)), &pport);
    fi_must(proxy != NULL, "proxy");
    void *c = client_via(family, pport);
    fi_must(c != NULL, "client");
    unsigned run = FI_CHECK_RUN(family);
    fi_counts counts;
    memset(&counts, 0, sizeof counts);
    CHECK(fi_one(post, c, run, 0, &counts)); /* the handshake and a first request */
    /* The retransmission is a duplicate the server answers itself with the response it
     * kept (RFC 7252 section 4.5, dedup.c): the session layer never sees it, and the
     * handler ran once. */
    uint64_t before = stats_of(ss).retransmissions;
    udp_proxy_drop_next_reply(proxy);
    CHECK(fi_one(post, c, run, 1, &counts));
    CHECK_EQ_INT(stats_of(ss).retransmissions, before);
    CHECK(fi_one(post, c, run, 2, &counts));
    CHECK_EQ_INT(stats_of(ss).retransmissions, before);
    for (unsigned i = 0; i < 3; i++)
        CHECK_EQ_INT(atomic_load(&fi_handled[run][i]), 1);
    close_client(c);
    udp_proxy_stats st;
    udp_proxy_stop(proxy, &st);
    CHECK_EQ_INT(st.dropped, 1);
}

int main(void)
{
    fi_setup();
    pthread_t thread4, thread6;
    pqcoap_session_server *ss4 = server_on(AF_INET, &thread4);
    pqcoap_session_server *ss6 = server_on(AF_INET6, &thread6);
    pqcoap_server *srv4 = pqcoap_session_server_coap(ss4);
    pqcoap_server *srv6 = pqcoap_session_server_coap(ss6);

    unsigned total, completed;
    fi_must(fi_run_all("B", pqcoap_server_port(srv4), pqcoap_server_port(srv6), client_via,
                       close_client, post, &total, &completed), "runs");
    for (int f = 0; f < 2; f++) {
        pqcoap_session_server_stats st = stats_of(f ? ss6 : ss4);
        printf("FAULTS mode=B net=%s sessions_created=%" PRIu64 " retransmissions_answered=%"
               PRIu64 " handshakes_refused=%" PRIu64 " init_resent=%" PRIu64 "\n",
               loopback_name(f ? AF_INET6 : AF_INET), st.sessions_created, st.retransmissions,
               st.handshakes_refused, st.resp_resent);
    }
    printf("FAULTS mode=B total requests=%u completed=%u bad_bodies=%u\n", total, completed,
           atomic_load(&fi_bad_bodies));
    check_lost_response(AF_INET, ss4);
    check_lost_response(AF_INET6, ss6);

    pqcoap_server_stop(srv4);
    pqcoap_server_stop(srv6);
    pthread_join(thread4, NULL);
    pthread_join(thread6, NULL);
    pqcoap_session_server_free(ss4);
    pqcoap_session_server_free(ss6);
    fi_teardown();
    return check_done();
}

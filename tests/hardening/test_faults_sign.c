/* Mode A (signed, v2) under injected faults, over IPv4 and IPv6: CON POSTs through the
 * loopback proxy at 0 %, 10 % and 30 % loss, with duplication, reordering and delay, and
 * with corruption. Every request completes with its own signed echo or ends with an error;
 * nothing corrupted is accepted; nothing runs twice; the same client keeps working once the
 * faults stop; a lost response is answered from the server's kept response. */
#include <pthread.h>
#include <stdlib.h>

#include "faults.h"
#include "pqcoap/sign_endpoint.h"

static unsigned next_client;

static void close_client(void *client)
{
    pqcoap_sign_client_free(client);
}

static void *serve(void *arg)
{
    pqcoap_server_run(arg);
    return NULL;
}

/* The Mode A server of `family`'s loopback address over its own trust store, answering
 * POST FI_PATH, served on *thread. */
static pqcoap_server *server_on(int family, pqcoap_sign_server **layer, pthread_t *thread)
{
    fi_must(pqcoap_sign_server_new(&fi_id_server, &fi_trust_store[family == AF_INET6], NULL,
                                   layer) == PQCOAP_OK, "layer");
    pqcoap_server_config scfg = PQCOAP_SERVER_CONFIG_INIT;
    scfg.addr = loopback_bind(family);
    scfg.port = 0;
    scfg.layer = pqcoap_sign_server_layer(*layer);
    pqcoap_server *srv = NULL;
    char msg[160];
    if (pqcoap_server_create(&scfg, &srv, msg, sizeof msg) != PQCOAP_OK)
        fprintf(stderr, "server: %s\n", msg);
    fi_must(srv != NULL, "server");
    fi_must(pqcoap_server_handle(srv, FI_PATH, PQCOAP_POST, fi_handler, NULL) == PQCOAP_OK,
            "handle");
    fi_must(pthread_create(thread, NULL, serve, srv) == 0, "thread");
    return srv;
}

static pqcoap_err post(void *client, const uint8_t *body, size_t len, pqcoap_reply *reply)
{
    return pqcoap_sign_client_post(client, FI_PATH, body, len, reply);
}

/* A v2 signing client of the proxy on `family`'s loopback, `port`, with the next identity:
 * 1 s ACK_TIMEOUT, 11 s per request (two retransmissions). */
static void *client_via(int family, uint16_t port)
{
    pqcoap_sign_client_config cfg = PQCOAP_SIGN_CLIENT_CONFIG_INIT;
    cfg.net.timeout_ms = 11000;
    cfg.net.ack_timeout_ms = 1000;
    char uri[64], msg[160];
    snprintf(uri, sizeof uri, "coap://%s:%u/", loopback_uri_host(family), port);
    pqcoap_sign_client *c = NULL;
    unsigned k = next_client++;
    if (pqcoap_sign_client_open(uri, &fi_id_client[k], &fi_client_store[k], &cfg, &c, msg,
                                sizeof msg) != PQCOAP_OK) {
        fprintf(stderr, "sign client: %s\n", msg);
        return NULL;
    }
    if (pqcoap_sign_client_pin(c, &fi_id_server.pub) != PQCOAP_OK) {
        pqcoap_sign_client_free(c);
        return NULL;
    }
    return c;
}

/* A request whose response is lost is retransmitted and gets the same response from the
 * server's retransmission cache, not a replay refusal; the handler runs once. */
static void check_lost_response(int family, uint16_t server_port)
{
    udp_proxy_cfg clean;
    memset(&clean, 0, sizeof clean);
    uint16_t pport = 0;
    udp_proxy *proxy = udp_proxy_start_af(&clean, family, server_port, &pport);
    fi_must(proxy != NULL, "proxy");
    pqcoap_sign_client *c = client_via(family, pport);
    fi_must(c != NULL, "client");
    char body[FI_BODY_CAP];
    unsigned run = FI_CHECK_RUN(family);
    size_t len = fi_body(run, 0, body, sizeof body);
    pqcoap_reply r;
    udp_proxy_drop_next_reply(proxy);
    pqcoap_err err = post(c, (const uint8_t *)body, len, &r);
    pqcoap_reply_free(&r);
    CHECK_EQ_INT(atomic_load(&fi_handled[run][0]), 1);
    CHECK_EQ_INT(err, PQCOAP_OK);
    pqcoap_sign_client_free(c);
    udp_proxy_stats st;
    udp_proxy_stop(proxy, &st);
    CHECK_EQ_INT(st.dropped, 1);
}

int main(void)
{
    fi_setup();
    pqcoap_sign_server *layer4 = NULL, *layer6 = NULL;
    pthread_t thread4, thread6;
    pqcoap_server *srv4 = server_on(AF_INET, &layer4, &thread4);
    pqcoap_server *srv6 = server_on(AF_INET6, &layer6, &thread6);

    unsigned total, completed;
    fi_must(fi_run_all("A", pqcoap_server_port(srv4), pqcoap_server_port(srv6), client_via,
                       close_client, post, &total, &completed), "runs");
    printf("FAULTS mode=A total requests=%u completed=%u bad_bodies=%u\n", total, completed,
           atomic_load(&fi_bad_bodies));
    check_lost_response(AF_INET, pqcoap_server_port(srv4));
    check_lost_response(AF_INET6, pqcoap_server_port(srv6));

    pqcoap_server_stop(srv4);
    pqcoap_server_stop(srv6);
    pthread_join(thread4, NULL);
    pthread_join(thread6, NULL);
    pqcoap_server_free(srv4);
    pqcoap_server_free(srv6);
    pqcoap_sign_server_free(layer4);
    pqcoap_sign_server_free(layer6);
    fi_teardown();
    return check_done();
}

/* Mode A (signed, v2) under injected faults: CON POSTs through the loopback proxy at 0 %,
 * 10 % and 30 % loss, with duplication, reordering and delay, and with corruption. Every
 * request completes with its own signed echo or ends with an error; nothing corrupted is
 * accepted; nothing runs twice; the same client keeps working once the faults stop. */
#include <pthread.h>
#include <stdlib.h>

#include "faults.h"
#include "pqcoap/sign_endpoint.h"

static pqcoap_identity id_client[FI_MAX_RUNS + 1], id_server;
static pqcoap_store trust_store, client_store;
static unsigned next_client;

static void must(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "set-up failed: %s\n", what);
        exit(2);
    }
}

static void close_client(void *client)
{
    pqcoap_sign_client_free(client);
}

static void *serve(void *arg)
{
    pqcoap_server_run(arg);
    return NULL;
}

static pqcoap_err post(void *client, const uint8_t *body, size_t len, pqcoap_reply *reply)
{
    return pqcoap_sign_client_post(client, FI_PATH, body, len, reply);
}

/* A v2 signing client of the proxy on `port` with the next identity: 1 s ACK_TIMEOUT, 11 s
 * per request (two retransmissions). */
static void *client_via(uint16_t port)
{
    pqcoap_sign_client_config cfg = PQCOAP_SIGN_CLIENT_CONFIG_INIT;
    cfg.net.timeout_ms = 11000;
    cfg.net.ack_timeout_ms = 1000;
    char uri[64], msg[160];
    snprintf(uri, sizeof uri, "coap://127.0.0.1:%u/", port);
    pqcoap_sign_client *c = NULL;
    if (pqcoap_sign_client_open(uri, &id_client[next_client++], &client_store, &cfg, &c, msg,
                                sizeof msg) != PQCOAP_OK) {
        fprintf(stderr, "sign client: %s\n", msg);
        return NULL;
    }
    if (pqcoap_sign_client_pin(c, &id_server.pub) != PQCOAP_OK) {
        pqcoap_sign_client_free(c);
        return NULL;
    }
    return c;
}

/* A request whose response is lost is retransmitted and gets the same response from the
 * server's retransmission cache, not a replay refusal; the handler runs once. */
static void check_lost_response(uint16_t server_port)
{
    udp_proxy_cfg clean;
    memset(&clean, 0, sizeof clean);
    uint16_t pport = 0;
    udp_proxy *proxy = udp_proxy_start(&clean, server_port, &pport);
    must(proxy != NULL, "proxy");
    pqcoap_sign_client *c = client_via(pport);
    must(c != NULL, "client");
    char body[FI_BODY_CAP];
    size_t len = fi_body(FI_MAX_RUNS - 1, 0, body, sizeof body);
    pqcoap_reply r;
    udp_proxy_drop_next_reply(proxy);
    pqcoap_err err = post(c, (const uint8_t *)body, len, &r);
    pqcoap_reply_free(&r);
    CHECK_EQ_INT(atomic_load(&fi_handled[FI_MAX_RUNS - 1][0]), 1);
    CHECK_EQ_INT(err, PQCOAP_OK);
    pqcoap_sign_client_free(c);
    udp_proxy_stop(proxy, NULL);
}

int main(void)
{
    must(pqcoap_identity_generate("falcon-512", NULL, &id_server) == PQCOAP_OK, "key");
    must(pqcoap_store_open_memory(&trust_store) == PQCOAP_OK, "store");
    must(pqcoap_store_open_memory(&client_store) == PQCOAP_OK, "store");
    for (unsigned k = 0; k <= FI_MAX_RUNS; k++) {
        char name[16];
        snprintf(name, sizeof name, "client%u", k);
        must(pqcoap_identity_generate("falcon-512", NULL, &id_client[k]) == PQCOAP_OK, "key");
        must(fi_trust(&trust_store, name, &id_client[k]), "trust");
    }
    pqcoap_sign_server *layer = NULL;
    must(pqcoap_sign_server_new(&id_server, &trust_store, NULL, &layer) == PQCOAP_OK, "layer");
    pqcoap_server_config scfg = PQCOAP_SERVER_CONFIG_INIT;
    scfg.addr = "127.0.0.1";
    scfg.port = 0;
    scfg.layer = pqcoap_sign_server_layer(layer);
    pqcoap_server *srv = NULL;
    char msg[160];
    if (pqcoap_server_create(&scfg, &srv, msg, sizeof msg) != PQCOAP_OK)
        fprintf(stderr, "server: %s\n", msg);
    must(srv != NULL, "server");
    must(pqcoap_server_handle(srv, FI_PATH, PQCOAP_POST, fi_handler, NULL) == PQCOAP_OK,
         "handle");
    pthread_t thread;
    must(pthread_create(&thread, NULL, serve, srv) == 0, "thread");

    check_lost_response(pqcoap_server_port(srv));

    unsigned total, completed;
    must(fi_run_all("A", pqcoap_server_port(srv), client_via, close_client, post, &total,
                    &completed), "runs");
    printf("FAULTS mode=A total requests=%u completed=%u bad_bodies=%u\n", total, completed,
           atomic_load(&fi_bad_bodies));

    pqcoap_server_stop(srv);
    pthread_join(thread, NULL);
    pqcoap_server_free(srv);
    pqcoap_sign_server_free(layer);
    pqcoap_store_close(&client_store);
    pqcoap_store_close(&trust_store);
    for (unsigned k = 0; k <= FI_MAX_RUNS; k++)
        pqcoap_identity_wipe(&id_client[k]);
    pqcoap_identity_wipe(&id_server);
    return check_done();
}

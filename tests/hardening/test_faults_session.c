/* Mode B (sessions) under injected faults: CON POSTs through the loopback proxy at 0 %, 10 %
 * and 30 % loss, with duplication, reordering and delay, and with corruption. Every request
 * completes with its own echo or ends with an error; nothing corrupted is accepted; nothing
 * runs twice; the same client keeps working once the faults stop. */
#include <pthread.h>
#include <stdlib.h>

#include "faults.h"
#include "crypto/crypto_internal.h"
#include "pqcoap/session_endpoint.h"

/* One client identity per run: a run's handshakes do not race another's session_seq. */
static pqcoap_identity id_client[FI_MAX_RUNS], id_server;
static char client_name[FI_MAX_RUNS][16];
static unsigned next_client;
static pqcoap_store trust_store, client_store;

static void must(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "set-up failed: %s\n", what);
        exit(2);
    }
}

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

/* A session client of the proxy on `port`: 1 s ACK_TIMEOUT, 11 s per request (two
 * retransmissions). */
static void *client_via(uint16_t port)
{
    unsigned k = next_client++;
    pqcoap_session_client_config cfg = PQCOAP_SESSION_CLIENT_CONFIG_INIT;
    cfg.id = client_name[k];
    cfg.sk = id_client[k].sk;
    cfg.sk_len = id_client[k].pub.alg->sk_len;
    cfg.server_id = "server";
    cfg.server_pk = id_server.pub.pk;
    cfg.server_pk_len = id_server.pub.pk_len;
    cfg.store = &client_store;
    cfg.coap.timeout_ms = 11000;
    cfg.coap.ack_timeout_ms = 1000;
    char uri[64], msg[160];
    snprintf(uri, sizeof uri, "coap://127.0.0.1:%u", port);
    pqcoap_session_client *sc = NULL;
    if (pqcoap_session_client_open(uri, &cfg, &sc, msg, sizeof msg) != PQCOAP_OK)
        fprintf(stderr, "session client: %s\n", msg);
    return sc;
}

int main(void)
{
    must(pqcoap_identity_generate("falcon-512", NULL, &id_server) == PQCOAP_OK, "key");
    must(pqcoap_store_open_memory(&trust_store) == PQCOAP_OK, "store");
    must(pqcoap_store_open_memory(&client_store) == PQCOAP_OK, "store");
    for (unsigned k = 0; k < FI_MAX_RUNS; k++) {
        snprintf(client_name[k], sizeof client_name[k], "client%u", k);
        must(pqcoap_identity_generate("falcon-512", NULL, &id_client[k]) == PQCOAP_OK, "key");
        must(fi_trust(&trust_store, client_name[k], &id_client[k]), "trust");
    }

    pqcoap_session_server_config scfg = PQCOAP_SESSION_SERVER_CONFIG_INIT;
    scfg.id = "server";
    scfg.sk = id_server.sk;
    scfg.sk_len = id_server.pub.alg->sk_len;
    scfg.store = &trust_store;
    scfg.coap.addr = "127.0.0.1";
    scfg.coap.port = 0;
    pqcoap_session_server *ss = NULL;
    char msg[160];
    if (pqcoap_session_server_create(&scfg, &ss, msg, sizeof msg) != PQCOAP_OK)
        fprintf(stderr, "session server: %s\n", msg);
    must(ss != NULL, "session server");
    pqcoap_server *srv = pqcoap_session_server_coap(ss);
    must(pqcoap_server_handle(srv, FI_PATH, PQCOAP_POST, fi_handler, NULL) == PQCOAP_OK,
         "handle");
    pthread_t thread;
    must(pthread_create(&thread, NULL, serve, ss) == 0, "thread");

    unsigned total, completed;
    must(fi_run_all("B", pqcoap_server_port(srv), client_via, close_client, post, &total,
                    &completed), "runs");

    pqcoap_session_server_stats st;
    memset(&st, 0, sizeof st);
    pqcoap_session_server_stats_get(ss, &st);
    printf("FAULTS mode=B total requests=%u completed=%u bad_bodies=%u sessions_created=%" PRIu64
           " retransmissions_answered=%" PRIu64 " handshakes_refused=%" PRIu64
           " init_resent=%" PRIu64 "\n", total, completed, atomic_load(&fi_bad_bodies),
           st.sessions_created,
           st.retransmissions, st.handshakes_refused, st.resp_resent);
    pqcoap_server_stop(srv);
    pthread_join(thread, NULL);
    pqcoap_session_server_free(ss);
    pqcoap_store_close(&client_store);
    pqcoap_store_close(&trust_store);
    for (unsigned k = 0; k < FI_MAX_RUNS; k++)
        pqcoap_identity_wipe(&id_client[k]);
    pqcoap_identity_wipe(&id_server);
    return check_done();
}

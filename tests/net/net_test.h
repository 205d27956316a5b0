/* Helpers of the net tests: a pqcoap server served by a background thread, and a loopback
 * client URI for it. */
#ifndef PQCOAP_TEST_NET_H
#define PQCOAP_TEST_NET_H

#include <pthread.h>
#include <stdio.h>
#include "pqcoap/client.h"
#include "pqcoap/server.h"

typedef struct test_server {
    pqcoap_server *srv;
    pthread_t thread;
    int running;
} test_server;

static void *test_server_main(void *arg)
{
    pqcoap_server_run(((test_server *)arg)->srv);
    return NULL;
}

/** Creates a server on `addr`, ephemeral port, with `layer` (may be NULL) and body limit
 *  `max_body` (0 = default). Handlers are added by the caller before test_server_start. */
static inline pqcoap_server *test_server_new(test_server *ts, const char *addr,
                                             const pqcoap_layer *layer, size_t max_body)
{
    pqcoap_server_config cfg = PQCOAP_SERVER_CONFIG_INIT;
    char msg[160];
    cfg.addr = addr;
    cfg.port = 0;
    cfg.layer = layer;
    if (max_body)
        cfg.max_body = max_body;
    ts->running = 0;
    if (pqcoap_server_create(&cfg, &ts->srv, msg, sizeof(msg)) != PQCOAP_OK) {
        fprintf(stderr, "server: %s\n", msg);
        return NULL;
    }
    return ts->srv;
}

static inline int test_server_start(test_server *ts)
{
    ts->running = pthread_create(&ts->thread, NULL, test_server_main, ts) == 0;
    return ts->running;
}

static inline void test_server_end(test_server *ts)
{
    if (ts->running) {
        pqcoap_server_stop(ts->srv);
        pthread_join(ts->thread, NULL);
    }
    pqcoap_server_free(ts->srv);
    ts->srv = NULL;
}

/** Writes coap://host:port/path for the server into uri. host is "127.0.0.1" or "[::1]". */
static inline void test_uri(char *uri, size_t cap, const char *host, const test_server *ts,
                            const char *path)
{
    snprintf(uri, cap, "coap://%s:%u/%s", host, pqcoap_server_port(ts->srv), path);
}

/** Opens a client for uri with `cfg` (NULL = defaults). */
static inline pqcoap_client *test_client(const char *uri, const pqcoap_client_config *cfg)
{
    pqcoap_client *cl = NULL;
    char msg[160];
    if (pqcoap_client_open(uri, cfg, &cl, msg, sizeof(msg)) != PQCOAP_OK)
        fprintf(stderr, "client %s: %s\n", uri, msg);
    return cl;
}

#endif

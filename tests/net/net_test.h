/* Helpers of the net tests: a pqcoap server served by a background thread, and a loopback
 * client URI for it. */
#ifndef PQCOAP_TEST_NET_H
#define PQCOAP_TEST_NET_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
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

/** GETs coap://127.0.0.1:port/path `times` times with a fresh client; returns how many
 *  answers were 2.05 with payload `want`. */
static inline int test_get_count(const test_server *ts, const char *path, const char *want,
                                 int times)
{
    char uri[128];
    int good = 0;
    test_uri(uri, sizeof(uri), "127.0.0.1", ts, path);
    pqcoap_client *cl = test_client(uri, NULL);
    for (int i = 0; cl && i < times; i++) {
        pqcoap_req req = PQCOAP_REQ_INIT;
        pqcoap_reply r;
        if (pqcoap_client_request(cl, &req, &r) == PQCOAP_OK && r.msg.code == PQCOAP_CODE(2, 5) &&
            r.msg.payload_len == strlen(want) && memcmp(r.msg.payload, want, strlen(want)) == 0)
            good++;
        pqcoap_reply_free(&r);
    }
    pqcoap_client_free(cl);
    return good;
}

/** A UDP port on 127.0.0.1 that was free a moment ago (nothing listens there now). */
static inline uint16_t test_free_port(void)
{
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a;
    socklen_t alen = sizeof(a);
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    uint16_t port = 0;
    if (s >= 0 && bind(s, (struct sockaddr *)&a, sizeof(a)) == 0 &&
        getsockname(s, (struct sockaddr *)&a, &alen) == 0)
        port = ntohs(a.sin_port);
    if (s >= 0)
        close(s);
    return port;
}

#endif

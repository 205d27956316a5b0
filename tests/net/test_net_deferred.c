/* Deferred responses: a handler hands its ticket to a worker thread, which completes it
 * only after quick requests to another resource were answered (no timing involved), with a
 * layer whose per-exchange state must survive the deferral, small and block-wise (a
 * block-wise separate response reaches the client also when the request fits one block). */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "net_test.h"

#define OPT_STATE 65012     /* elective: the layer writes its saved state into the response */

/* The worker: waits for `go`, then completes every ticket handed to it. */
typedef struct worker {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int go;
    int quit;
    uint64_t tickets[8];
    size_t n_tickets;
    size_t body_len[8];
    pqcoap_server *srv;
    int complete_errors;
} worker;

static uint8_t big[3000];

static void *worker_main(void *arg)
{
    worker *w = arg;
    pthread_mutex_lock(&w->lock);
    for (;;) {
        while (!w->quit && !(w->go && w->n_tickets))
            pthread_cond_wait(&w->cond, &w->lock);
        if (w->quit)
            break;
        uint64_t t = w->tickets[--w->n_tickets];
        size_t len = w->body_len[w->n_tickets];
        pthread_mutex_unlock(&w->lock);
        pqcoap_msg resp = {PQCOAP_CODE(2, 5), NULL, 0, NULL, 0, big, len};
        if (pqcoap_server_complete(w->srv, t, &resp) != PQCOAP_OK)
            w->complete_errors++;
        pthread_mutex_lock(&w->lock);
    }
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

/* Defers; a request payload of 100 bytes or more asks for the big response body. */
static pqcoap_err slow(void *arg, pqcoap_server_req *rq, const pqcoap_msg *req, pqcoap_msgbuf *resp)
{
    worker *w = arg;
    uint64_t ticket;
    (void)resp;
    CHECK(pqcoap_server_req_exchange(rq) != NULL);
    pqcoap_err err = pqcoap_server_defer(rq, &ticket);
    if (err != PQCOAP_OK)
        return err;
    CHECK_EQ_INT(pqcoap_server_defer(rq, &ticket), PQCOAP_ERR_STATE);
    pthread_mutex_lock(&w->lock);
    w->body_len[w->n_tickets] = req->payload_len >= 100 ? sizeof(big) : 4;
    w->tickets[w->n_tickets++] = ticket;
    pthread_cond_signal(&w->cond);
    pthread_mutex_unlock(&w->lock);
    return PQCOAP_OK;
}

static pqcoap_err quick(void *arg, pqcoap_server_req *rq, const pqcoap_msg *req, pqcoap_msgbuf *resp)
{
    (void)arg;
    (void)rq;
    (void)req;
    return pqcoap_msgbuf_set_payload(resp, (const uint8_t *)"quick", 5);
}

/* Server layer: remembers the request's payload length in check_request and writes it into
 * the response in protect_response; plaintext is otherwise unchanged. */
static pqcoap_err check_request(void *ctx, void *state, const pqcoap_exchange *x,
                                const pqcoap_msg *wire, pqcoap_msgbuf *out,
                                pqcoap_layer_verdict *verdict)
{
    (void)ctx;
    (void)x;
    *(uint32_t *)state = 1000u + (uint32_t)wire->payload_len;
    *verdict = PQCOAP_LAYER_HANDLE;
    pqcoap_err err = pqcoap_msgbuf_copy_opts(out, wire);
    return err != PQCOAP_OK ? err : pqcoap_msgbuf_set_payload(out, wire->payload, wire->payload_len);
}

static pqcoap_err protect_response(void *ctx, void *state, const pqcoap_exchange *x,
                                   const pqcoap_msg *resp, pqcoap_msgbuf *wire)
{
    (void)ctx;
    (void)x;
    pqcoap_err err = pqcoap_msgbuf_copy_opts(wire, resp);
    if (err == PQCOAP_OK)
        err = pqcoap_msgbuf_add_uint(wire, OPT_STATE, *(uint32_t *)state);
    return err != PQCOAP_OK ? err : pqcoap_msgbuf_set_payload(wire, resp->payload, resp->payload_len);
}

static void check_state(const pqcoap_reply *r, uint32_t want)
{
    uint32_t v = 0;
    const pqcoap_opt *o = pqcoap_msg_find_opt(&r->msg, OPT_STATE);
    CHECK(o && pqcoap_opt_uint(o, &v) == PQCOAP_OK && v == want);
}

int main(void)
{
    for (size_t i = 0; i < sizeof(big); i++)
        big[i] = (uint8_t)(i ^ (i >> 8));
    pqcoap_layer layer;
    memset(&layer, 0, sizeof(layer));
    layer.state_size = sizeof(uint32_t);
    layer.check_request = check_request;
    layer.protect_response = protect_response;
    worker w;
    memset(&w, 0, sizeof(w));
    pthread_mutex_init(&w.lock, NULL);
    pthread_cond_init(&w.cond, NULL);
    test_server ts;
    CHECK(test_server_new(&ts, "127.0.0.1", &layer, 0) != NULL);
    if (!ts.srv)
        return check_done();
    w.srv = ts.srv;
    CHECK_EQ_INT(pqcoap_server_handle(ts.srv, "slow", PQCOAP_POST, slow, &w), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_server_handle(ts.srv, "quick", PQCOAP_GET, quick, NULL), PQCOAP_OK);
    CHECK(test_server_start(&ts));
    pthread_t wt;
    CHECK(pthread_create(&wt, NULL, worker_main, &w) == 0);

    char uri[128];
    test_uri(uri, sizeof(uri), "127.0.0.1", &ts, "quick");
    for (int round = 0; round < 4; round++) {
        /* round 0: CON small, round 1: NON small, round 2: CON, block-wise both ways,
         * round 3: CON, request in one block, response block-wise. */
        pqcoap_client_config cfg = PQCOAP_CLIENT_CONFIG_INIT;
        cfg.block_size = round == 2 ? 64 : 1024;
        pqcoap_client *cl = test_client(uri, &cfg);
        CHECK(cl != NULL);
        if (!cl)
            break;
        pqcoap_req sreq = PQCOAP_REQ_INIT;
        uint32_t id;
        sreq.method = PQCOAP_POST;
        sreq.path = "slow";
        sreq.non = round == 1;
        sreq.payload = big;
        sreq.payload_len = round == 2 ? 200 : round == 3 ? 150 : 5;
        CHECK_EQ_INT(pqcoap_client_send(cl, &sreq, NULL, &id), PQCOAP_OK);

        /* The slow request is pending; quick requests to another resource are answered. */
        for (int i = 0; i < 3; i++) {
            pqcoap_req q = PQCOAP_REQ_INIT;
            pqcoap_reply r;
            CHECK_EQ_INT(pqcoap_client_request(cl, &q, &r), PQCOAP_OK);
            CHECK(r.msg.payload_len == 5 && memcmp(r.msg.payload, "quick", 5) == 0);
            check_state(&r, 1000);
            pqcoap_reply_free(&r);
        }
        CHECK_EQ_INT(pqcoap_client_pending(cl), 1);

        pthread_mutex_lock(&w.lock);
        w.go = 1;
        pthread_cond_signal(&w.cond);
        pthread_mutex_unlock(&w.lock);
        pqcoap_completion c;
        int done = 0;
        CHECK_EQ_INT(pqcoap_client_poll(cl, 10000, &c, &done), PQCOAP_OK);
        CHECK_EQ_INT(done, 1);
        CHECK_EQ_INT(c.id, id);
        CHECK_EQ_INT(c.err, PQCOAP_OK);
        if (c.err != PQCOAP_OK)
            fprintf(stderr, "  round %d: %s\n", round, pqcoap_client_last_error(cl));
        size_t want = round >= 2 ? sizeof(big) : 4;
        CHECK_EQ_INT(c.reply.msg.code, PQCOAP_CODE(2, 5));
        CHECK(c.reply.msg.payload_len == want && memcmp(c.reply.msg.payload, big, want) == 0);
        check_state(&c.reply, 1000u + (uint32_t)sreq.payload_len);
        pqcoap_reply_free(&c.reply);
        pthread_mutex_lock(&w.lock);
        w.go = 0;
        pthread_mutex_unlock(&w.lock);
        pqcoap_client_free(cl);
    }
    /* Unknown tickets and bad responses are refused or dropped. */
    pqcoap_msg bad = {PQCOAP_GET, NULL, 0, NULL, 0, NULL, 0};
    CHECK_EQ_INT(pqcoap_server_complete(ts.srv, 5, &bad), PQCOAP_ERR_ARG);
    pqcoap_msg ok = {PQCOAP_CODE(2, 5), NULL, 0, NULL, 0, NULL, 0};
    CHECK_EQ_INT(pqcoap_server_complete(ts.srv, 999999, &ok), PQCOAP_OK);

    pthread_mutex_lock(&w.lock);
    w.quit = 1;
    pthread_cond_signal(&w.cond);
    pthread_mutex_unlock(&w.lock);
    pthread_join(wt, NULL);
    CHECK_EQ_INT(w.complete_errors, 0);
    test_server_end(&ts);
    return check_done();
}

/* The exchange's time (pqcoap_exchange.now_ms) as a server layer sees it: the clock read
 * when the request came, the same in check_request and protect_response of a request
 * answered at once, and a later reading for a deferred response protected when it is sent. */
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "net_test.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static uint64_t check_ms, protect_ms, ticket;

static uint64_t clock_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Both hooks: note the exchange's time in *at, pass m on unchanged. */
static pqcoap_err pass(uint64_t *at, const pqcoap_exchange *x, const pqcoap_msg *m,
                       pqcoap_msgbuf *out)
{
    pthread_mutex_lock(&lock);
    *at = x->now_ms;
    pthread_mutex_unlock(&lock);
    pqcoap_err err = pqcoap_msgbuf_copy_opts(out, m);
    return err != PQCOAP_OK ? err : pqcoap_msgbuf_set_payload(out, m->payload, m->payload_len);
}

static pqcoap_err check_request(void *ctx, void *state, const pqcoap_exchange *x,
                                const pqcoap_msg *wire, pqcoap_msgbuf *out,
                                pqcoap_layer_verdict *verdict)
{
    (void)ctx;
    (void)state;
    *verdict = PQCOAP_LAYER_HANDLE;
    return pass(&check_ms, x, wire, out);
}

static pqcoap_err protect_response(void *ctx, void *state, const pqcoap_exchange *x,
                                   const pqcoap_msg *resp, pqcoap_msgbuf *wire)
{
    (void)ctx;
    (void)state;
    return pass(&protect_ms, x, resp, wire);
}

/* "now" answers at once; "later" (arg non-NULL) defers, and the test completes the ticket. */
static pqcoap_err answer(void *arg, pqcoap_server_req *rq, const pqcoap_msg *req,
                         pqcoap_msgbuf *resp)
{
    (void)req;
    if (!arg)
        return pqcoap_msgbuf_set_payload(resp, (const uint8_t *)"now", 3);
    uint64_t t;
    pqcoap_err err = pqcoap_server_defer(rq, &t);
    pthread_mutex_lock(&lock);
    ticket = t;
    pthread_cond_signal(&cond);
    pthread_mutex_unlock(&lock);
    return err;
}

int main(void)
{
    const pqcoap_layer layer = {.check_request = check_request,
                                .protect_response = protect_response};
    test_server ts;
    CHECK(test_server_new(&ts, "127.0.0.1", &layer, 0) != NULL);
    if (!ts.srv)
        return check_done();
    CHECK_EQ_INT(pqcoap_server_handle(ts.srv, "now", PQCOAP_GET, answer, NULL), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_server_handle(ts.srv, "later", PQCOAP_GET, answer, &ts), PQCOAP_OK);
    CHECK(test_server_start(&ts));
    char uri[128];
    test_uri(uri, sizeof(uri), "127.0.0.1", &ts, "now");
    pqcoap_client *cl = test_client(uri, NULL);
    CHECK(cl != NULL);
    if (!cl) {
        test_server_end(&ts);
        return check_done();
    }

    /* answered at once: one reading, taken while the request was under way */
    uint64_t before = clock_ms();
    pqcoap_req q = PQCOAP_REQ_INIT;
    pqcoap_reply r;
    CHECK_EQ_INT(pqcoap_client_request(cl, &q, &r), PQCOAP_OK);
    CHECK(r.msg.payload_len == 3 && memcmp(r.msg.payload, "now", 3) == 0);
    pqcoap_reply_free(&r);
    uint64_t after = clock_ms();
    pthread_mutex_lock(&lock);
    CHECK(check_ms >= before && check_ms <= after);
    CHECK_EQ_INT(protect_ms, check_ms);
    pthread_mutex_unlock(&lock);

    /* deferred: completed after the clock moved past the request's reading */
    pqcoap_req d = PQCOAP_REQ_INIT;
    uint32_t id;
    d.path = "later";
    CHECK_EQ_INT(pqcoap_client_send(cl, &d, NULL, &id), PQCOAP_OK);
    pthread_mutex_lock(&lock);
    for (int i = 0; i < 100 && !ticket; i++) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += 1;
        pthread_cond_timedwait(&cond, &lock, &until);
    }
    uint64_t came = check_ms, t = ticket;
    pthread_mutex_unlock(&lock);
    CHECK(t != 0);
    for (int i = 0; i < 1000 && clock_ms() <= came; i++) {
        struct timespec ms = {0, 1000000};
        nanosleep(&ms, NULL);
    }
    CHECK(clock_ms() > came);
    pqcoap_msg resp = {PQCOAP_CODE(2, 5), NULL, 0, NULL, 0, (const uint8_t *)"later", 5};
    CHECK_EQ_INT(pqcoap_server_complete(ts.srv, t, &resp), PQCOAP_OK);
    pqcoap_completion c;
    int done = 0;
    CHECK_EQ_INT(pqcoap_client_poll(cl, 10000, &c, &done), PQCOAP_OK);
    CHECK(done == 1 && c.id == id && c.err == PQCOAP_OK && c.reply.msg.payload_len == 5 &&
          memcmp(c.reply.msg.payload, "later", 5) == 0);
    pqcoap_reply_free(&c.reply);
    after = clock_ms();
    pthread_mutex_lock(&lock);
    CHECK(protect_ms > came && protect_ms <= after);
    pthread_mutex_unlock(&lock);

    pqcoap_client_free(cl);
    test_server_end(&ts);
    return check_done();
}

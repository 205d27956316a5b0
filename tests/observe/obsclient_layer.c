/* Observe (RFC 7641) on the client with a security layer (layer.h): a layer without
 * check_notification cannot observe; with one, every notification goes through it with the
 * registration's exchange state (kept after check_response), a notification it refuses is
 * never delivered, and end_observation gets that state when the observation ends. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "net/net_test.h"

#define MAGIC 0x0b5e7e11u

static atomic_int calls;         /* handler calls of "obs" */
static atomic_int value;         /* what "obs" reports */

static pqcoap_err obs_get(void *arg, pqcoap_server_req *rq, const pqcoap_msg *req,
                          pqcoap_msgbuf *resp)
{
    (void)arg, (void)rq, (void)req;
    atomic_fetch_add(&calls, 1);
    char text[16];
    int n = snprintf(text, sizeof(text), "%d", atomic_load(&value));
    return pqcoap_msgbuf_set_payload(resp, (const uint8_t *)text, (size_t)n);
}

/* The exchange state of the test layer: which request it was. */
typedef struct lstate {
    uint32_t magic;
    uint32_t request;           /* ordinal of the request protect_request saw */
    int accepted;               /* check_response took the response */
} lstate;

typedef struct tlayer {
    uint32_t requests;
    int checked;                /* check_notification calls */
    int refused;                /* notifications it refused (odd values) */
    int bad_state;              /* calls with a state that was not a registration's */
    int ended;                  /* end_observation calls */
    uint32_t ended_request;     /* the state's request at end_observation */
    int checks;                 /* check_response calls */
    int fail_check;             /* the one that refuses its response (0: none) */
} tlayer;

static pqcoap_err copy_msg(const pqcoap_msg *m, pqcoap_msgbuf *out)
{
    pqcoap_err err = pqcoap_msgbuf_copy_opts(out, m);
    return err != PQCOAP_OK ? err : pqcoap_msgbuf_set_payload(out, m->payload, m->payload_len);
}

static pqcoap_err t_protect(void *ctx, void *state, const pqcoap_exchange *x,
                            const pqcoap_msg *req, pqcoap_msgbuf *wire)
{
    (void)x;
    tlayer *t = ctx;
    lstate *st = state;
    st->magic = MAGIC;
    st->request = ++t->requests;
    return copy_msg(req, wire);
}

static pqcoap_err t_check(void *ctx, void *state, const pqcoap_exchange *x,
                          const pqcoap_msg *wire, pqcoap_msgbuf *plain)
{
    (void)x;
    tlayer *t = ctx;
    lstate *st = state;
    if (++t->checks == t->fail_check)
        return PQCOAP_ERR_AUTH; /* as for an answer anyone could have sent with the token */
    st->accepted = 1;
    return copy_msg(wire, plain);
}

static pqcoap_err t_check_notification(void *ctx, void *obs_state, const pqcoap_exchange *x,
                                       const pqcoap_msg *wire, pqcoap_msgbuf *plain)
{
    (void)x;
    tlayer *t = ctx;
    const lstate *st = obs_state;
    t->checked++;
    if (!st || st->magic != MAGIC || !st->accepted || st->request == 0)
        t->bad_state++;
    pqcoap_err err = copy_msg(wire, plain);
    if (err == PQCOAP_OK && wire->payload_len &&
        (wire->payload[wire->payload_len - 1] - '0') % 2) {
        t->refused++;
        return PQCOAP_ERR_AUTH; /* "forged" (after writing `plain`): dropped, never shown */
    }
    return err;
}

static void t_end_observation(void *ctx, void *obs_state)
{
    tlayer *t = ctx;
    const lstate *st = obs_state;
    t->ended++;
    t->ended_request = st && st->magic == MAGIC ? st->request : 0;
}

typedef struct seen {
    int n;
    int val[64];
    pqcoap_err ended;
} seen;

static void on_note(void *user, const pqcoap_notification *n)
{
    seen *s = user;
    if (n->err != PQCOAP_OK)
        s->ended = n->err;
    if (n->err != PQCOAP_OK || s->n >= 64)
        return;
    char text[16] = "";
    memcpy(text, n->msg->payload, n->msg->payload_len < 15 ? n->msg->payload_len : 15);
    s->val[s->n++] = atoi(text);
}

static pqcoap_layer test_layer(tlayer *t, int with_notifications)
{
    pqcoap_layer l;
    memset(&l, 0, sizeof(l));
    l.ctx = t;
    l.state_size = sizeof(lstate);
    l.protect_request = t_protect;
    l.check_response = t_check;
    if (with_notifications) {
        l.check_notification = t_check_notification;
        l.end_observation = t_end_observation;
    }
    return l;
}

/* A plain server on 127.0.0.1 whose observable `path` is answered by `get`; uri[96] is
 * the path's URI. */
static void observable_server(test_server *ts, const char *path, pqcoap_handler_fn get,
                              char *uri)
{
    CHECK(test_server_new(ts, "127.0.0.1", NULL, 0) != NULL);
    CHECK_EQ_INT(pqcoap_server_handle(ts->srv, path, PQCOAP_GET, get, NULL), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_server_observable(ts->srv, path, 0), PQCOAP_OK);
    CHECK(test_server_start(ts));
    test_uri(uri, 96, "127.0.0.1", ts, path);
}

static void run(void)
{
    test_server ts;
    char uri[96];
    observable_server(&ts, "obs", obs_get, uri);
    pqcoap_req req = PQCOAP_REQ_INIT;
    seen s = {0};
    uint32_t id = 0;

    /* a layer that cannot check notifications: refused before anything is sent */
    tlayer t0 = {0};
    pqcoap_layer l0 = test_layer(&t0, 0);
    pqcoap_client_config cfg = PQCOAP_CLIENT_CONFIG_INIT;
    cfg.layer = &l0;
    pqcoap_client *cl = test_client(uri, &cfg);
    CHECK(cl != NULL);
    CHECK_EQ_INT(pqcoap_client_observe(cl, &req, on_note, &s, &id), PQCOAP_ERR_UNSUPPORTED);
    CHECK(strstr(pqcoap_client_last_error(cl), "check_notification") != NULL);
    CHECK_EQ_INT(t0.requests, 0);
    CHECK_EQ_INT(atomic_load(&calls), 0);
    pqcoap_client_free(cl);

    /* with check_notification: the registration's state goes with every notification */
    tlayer t = {0};
    pqcoap_layer l = test_layer(&t, 1);
    cfg.layer = &l;
    cl = test_client(uri, &cfg);
    CHECK(cl != NULL);
    /* an Observe option of the caller's own is refused */
    pqcoap_opt own = {PQCOAP_OPT_OBSERVE, NULL, 0};
    pqcoap_req bad = PQCOAP_REQ_INIT;
    bad.opts = &own;
    bad.n_opts = 1;
    CHECK_EQ_INT(pqcoap_client_observe(cl, &bad, on_note, &s, &id), PQCOAP_ERR_ARG);
    atomic_store(&value, 0);
    CHECK_EQ_INT(pqcoap_client_observe(cl, &req, on_note, &s, &id), PQCOAP_OK);
    CHECK_EQ_INT(s.n, 1);
    uint32_t reg = t.requests;
    for (int i = 1; i <= 10; i++) {
        atomic_store(&value, i);
        CHECK_EQ_INT(pqcoap_server_notify(ts.srv, "obs"), PQCOAP_OK);
        for (int k = 0; k < 100 && t.checked < i; k++) { /* bounded: 10 s */
            pqcoap_completion c;
            int done = 0;
            CHECK_EQ_INT(pqcoap_client_poll(cl, 100, &c, &done), PQCOAP_OK);
        }
        CHECK_EQ_INT(t.checked, i);
    }
    CHECK_EQ_INT(t.bad_state, 0);
    CHECK_EQ_INT(t.refused, 5);
    CHECK_EQ_INT(s.n, 6); /* the registration's answer and the five even values */
    for (int i = 1; i < s.n; i++)
        CHECK_EQ_INT(s.val[i], 2 * i);
    CHECK_EQ_INT(t.ended, 0);
    CHECK_EQ_INT(pqcoap_client_observe_cancel(cl, id), PQCOAP_OK);
    CHECK_EQ_INT(t.ended, 1);
    CHECK_EQ_INT(t.ended_request, reg);
    /* the deregistration went through the layer; the server notifies nobody now */
    CHECK_EQ_INT(t.requests, reg + 1);
    int before = atomic_load(&calls);
    CHECK_EQ_INT(pqcoap_server_notify(ts.srv, "obs"), PQCOAP_OK);
    CHECK_EQ_INT(test_get_count(&ts, "obs", "10", 1), 1); /* every due notification made */
    CHECK_EQ_INT(atomic_load(&calls), before + 1);
    /* the limit of observations per client */
    pqcoap_client_free(cl);
    cfg.max_observe = 1;
    cl = test_client(uri, &cfg);
    CHECK(cl != NULL);
    CHECK_EQ_INT(pqcoap_client_observe(cl, &req, on_note, &s, &id), PQCOAP_OK);
    uint32_t id2 = 0;
    CHECK_EQ_INT(pqcoap_client_observe(cl, &req, on_note, &s, &id2), PQCOAP_ERR_LIMIT);
    int ended = t.ended;
    pqcoap_client_free(cl); /* ends the live observation too */
    CHECK_EQ_INT(t.ended, ended + 1);
    test_server_end(&ts);
}

static pqcoap_err big_get(void *arg, pqcoap_server_req *rq, const pqcoap_msg *req,
                          pqcoap_msgbuf *resp)
{
    (void)arg, (void)rq, (void)req;
    atomic_fetch_add(&calls, 1);
    if (resp->payload_cap < 3000)
        return PQCOAP_ERR_TOO_LARGE;
    memset(resp->payload, 'a' + atomic_load(&value) % 26, 3000);
    resp->payload_len = 3000;
    return PQCOAP_OK;
}

static void on_big(void *user, const pqcoap_notification *n)
{
    pqcoap_notification *last = user;
    *last = *n;
    last->msg = NULL;
    if (n->err == PQCOAP_OK)
        last->wire_len = n->msg->payload_len; /* the body's size, here */
}

/* A registration whose answer takes several blocks: the body comes whole, the later block
 * requests carry no Observe (RFC 7959 section 2.6), so the server holds one observation;
 * its next notification, again in blocks, is refused and ends the observation. */
static void blockwise_registration(void)
{
    test_server ts;
    CHECK(test_server_new(&ts, "127.0.0.1", NULL, 0) != NULL);
    CHECK_EQ_INT(pqcoap_server_handle(ts.srv, "big", PQCOAP_GET, big_get, NULL), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_server_observable(ts.srv, "big", 0), PQCOAP_OK);
    CHECK(test_server_start(&ts));
    char uri[96];
    test_uri(uri, sizeof(uri), "127.0.0.1", &ts, "big");
    pqcoap_client *cl = test_client(uri, NULL);
    CHECK(cl != NULL);
    pqcoap_req req = PQCOAP_REQ_INIT;
    pqcoap_notification last;
    memset(&last, 0, sizeof(last));
    uint32_t id = 0;
    atomic_store(&value, 0);
    CHECK_EQ_INT(pqcoap_client_observe(cl, &req, on_big, &last, &id), PQCOAP_OK);
    CHECK_EQ_INT(last.err, PQCOAP_OK);
    CHECK_EQ_INT(last.wire_len, 3000);
    atomic_store(&calls, 0);
    CHECK_EQ_INT(pqcoap_server_notify(ts.srv, "big"), PQCOAP_OK);
    for (int k = 0; k < 100 && last.err == PQCOAP_OK; k++) { /* bounded: 10 s */
        pqcoap_completion c;
        int done = 0;
        /* PQCOAP_ERR_STATE once the observation ended: nothing left to wait for */
        if (pqcoap_client_poll(cl, 100, &c, &done) != PQCOAP_OK)
            break;
    }
    CHECK_EQ_INT(last.err, PQCOAP_ERR_UNSUPPORTED);
    CHECK_EQ_INT(test_get_count(&ts, "nothing", "", 1), 0); /* every due notification made */
    CHECK_EQ_INT(atomic_load(&calls), 1); /* one observation: one notification */
    pqcoap_client_free(cl);
    test_server_end(&ts);
}

/* "tick": Max-Age 1, never notified here: the client's observation goes stale at once. */
static pqcoap_err tick_get(void *arg, pqcoap_server_req *rq, const pqcoap_msg *req,
                           pqcoap_msgbuf *resp)
{
    (void)arg, (void)rq, (void)req;
    pqcoap_err err = pqcoap_msgbuf_add_uint(resp, PQCOAP_OPT_MAX_AGE, 1);
    return err != PQCOAP_OK ? err : pqcoap_msgbuf_set_payload(resp, (const uint8_t *)"7", 1);
}

/* The answer to a re-registration does not verify (check_response refuses it: a datagram
 * anyone could send with the token): the observation goes on, and the client registers
 * again 2 s later. */
static void unverified_rereg_retried(void)
{
    test_server ts;
    char uri[96];
    observable_server(&ts, "tick", tick_get, uri);
    tlayer t = {0};
    t.fail_check = 2; /* the first re-registration's answer */
    pqcoap_layer l = test_layer(&t, 1);
    pqcoap_client_config cfg = PQCOAP_CLIENT_CONFIG_INIT;
    cfg.layer = &l;
    pqcoap_client *cl = test_client(uri, &cfg);
    CHECK(cl != NULL);
    pqcoap_req req = PQCOAP_REQ_INIT;
    seen s = {0};
    uint32_t id = 0;
    CHECK_EQ_INT(pqcoap_client_observe(cl, &req, on_note, &s, &id), PQCOAP_OK);
    for (int i = 0; i < 150 && s.n < 2 && s.ended == PQCOAP_OK; i++) { /* at most 15 s */
        pqcoap_completion c;
        int done = 0;
        CHECK_EQ_INT(pqcoap_client_poll(cl, 100, &c, &done), PQCOAP_OK);
    }
    CHECK_EQ_INT(s.ended, PQCOAP_OK);
    CHECK_EQ_INT(s.n, 2); /* the registration's answer, then the second re-registration's */
    CHECK_EQ_INT(t.checks, 3);
    CHECK_EQ_INT(pqcoap_client_observe_cancel(cl, id), PQCOAP_OK);
    pqcoap_client_free(cl);
    test_server_end(&ts);
}

int main(void)
{
    unverified_rereg_retried();
    run();
    blockwise_registration();
    return check_done();
}

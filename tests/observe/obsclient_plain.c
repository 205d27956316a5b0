/* Observe (RFC 7641) on the client, plain CoAP over real UDP on loopback: notifications in
 * order, deregistration and Reset stop the server's notifications, 200 notifications
 * through the fault proxy, the server restarting, libcoap's coap-server-notls observed, and
 * the layer's notification hooks with the registration's kept state. */
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "proc.h"
#include "udp_proxy.h"
#include "net/net_test.h"

#define COAP_SERVER "/usr/bin/coap-server-notls"
#define MAX_SEEN 512

static atomic_int calls;        /* handler calls of "obs" on the server */
static atomic_int value;        /* what "obs" reports */
static int max_age = -1;        /* Max-Age of "obs" (-1: none) */
static int generation = 1;      /* which server process answers (restart test) */

static pqcoap_err obs_get(void *arg, pqcoap_server_req *rq, const pqcoap_msg *req,
                          pqcoap_msgbuf *resp)
{
    (void)arg, (void)rq, (void)req;
    atomic_fetch_add(&calls, 1);
    char text[32];
    int n = snprintf(text, sizeof(text), "%d:%d", generation, atomic_load(&value));
    pqcoap_err err = max_age >= 0
                         ? pqcoap_msgbuf_add_uint(resp, PQCOAP_OPT_MAX_AGE, (uint32_t)max_age)
                         : PQCOAP_OK;
    if (err != PQCOAP_OK)
        return err;
    return pqcoap_msgbuf_set_payload(resp, (const uint8_t *)text, (size_t)n);
}

/* What the client's callback saw. */
typedef struct seen {
    int n;                      /* notifications delivered */
    int gen[MAX_SEEN];
    int val[MAX_SEEN];
    uint32_t seq[MAX_SEEN];
    int ended;                  /* the callback got an error */
} seen;

static void on_note(void *user, const pqcoap_notification *n)
{
    seen *s = user;
    if (n->err != PQCOAP_OK) {
        s->ended = 1;
        return;
    }
    char text[32] = "";
    size_t len = n->msg->payload_len < sizeof(text) - 1 ? n->msg->payload_len : sizeof(text) - 1;
    memcpy(text, n->msg->payload, len);
    if (s->n < MAX_SEEN && sscanf(text, "%d:%d", &s->gen[s->n], &s->val[s->n]) == 2)
        s->seq[s->n] = n->seq;
    s->n++;
}

/* Runs the client (bounded: `rounds` polls of 100 ms) until `want` notifications came. */
static void poll_until(pqcoap_client *cl, const seen *s, int want, int rounds)
{
    for (int i = 0; i < rounds && s->n < want; i++) {
        pqcoap_completion c;
        int done = 0;
        if (pqcoap_client_poll(cl, 100, &c, &done) != PQCOAP_OK)
            return;
        if (done)
            pqcoap_reply_free(&c.reply);
    }
}

/* A plain GET from a client of its own: once answered, the server has gone through every
 * notification that was due before it. */
static void sync_get(const test_server *ts)
{
    char uri[96];
    test_uri(uri, sizeof(uri), "127.0.0.1", ts, "obs");
    pqcoap_client *cl = test_client(uri, NULL);
    pqcoap_req req = PQCOAP_REQ_INIT;
    pqcoap_reply r;
    CHECK(cl && pqcoap_client_request(cl, &req, &r) == PQCOAP_OK);
    pqcoap_reply_free(&r);
    pqcoap_client_free(cl);
}

static void start_obs_server(test_server *ts)
{
    CHECK(test_server_new(ts, "127.0.0.1", NULL, 0) != NULL);
    CHECK_EQ_INT(pqcoap_server_handle(ts->srv, "obs", PQCOAP_GET, obs_get, NULL), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_server_observable(ts->srv, "obs", 0), PQCOAP_OK);
    CHECK(test_server_start(ts));
}

/* Notifications arrive in order, each once; cancel deregisters (the server calls the handler
 * for nobody any more); forget makes the client answer the next notification with Reset,
 * which ends the observation on the server too. */
static void in_order_cancel_and_reset(void)
{
    test_server ts;
    start_obs_server(&ts);
    char uri[96];
    test_uri(uri, sizeof(uri), "127.0.0.1", &ts, "obs");
    pqcoap_client *cl = test_client(uri, NULL);
    CHECK(cl != NULL);
    seen s = {0};
    uint32_t id = 0;
    atomic_store(&value, 0);
    pqcoap_req req = PQCOAP_REQ_INIT;
    CHECK_EQ_INT(pqcoap_client_observe(cl, &req, on_note, &s, &id), PQCOAP_OK);
    CHECK(id != 0);
    CHECK_EQ_INT(s.n, 1); /* the registration's response */
    for (int i = 1; i <= 20; i++) {
        atomic_store(&value, i);
        CHECK_EQ_INT(pqcoap_server_notify(ts.srv, "obs"), PQCOAP_OK);
        poll_until(cl, &s, i + 1, 100);
        CHECK_EQ_INT(s.n, i + 1);
    }
    for (int i = 1; i < s.n; i++) {
        CHECK_EQ_INT(s.val[i], i);
        CHECK(s.seq[i] > s.seq[i - 1]);
    }
    /* deregistration (RFC 7641 section 3.6): no handler call for this observer any more */
    CHECK_EQ_INT(pqcoap_client_observe_cancel(cl, id), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_client_observe_cancel(cl, id), PQCOAP_ERR_NOT_FOUND);
    int before = atomic_load(&calls);
    CHECK_EQ_INT(pqcoap_server_notify(ts.srv, "obs"), PQCOAP_OK);
    sync_get(&ts);
    CHECK_EQ_INT(atomic_load(&calls), before + 1); /* the sync GET only */

    /* forget: the next notification is answered with Reset, which the server takes */
    int n0 = s.n;
    CHECK_EQ_INT(pqcoap_client_observe(cl, &req, on_note, &s, &id), PQCOAP_OK);
    CHECK_EQ_INT(s.n, n0 + 1);
    CHECK_EQ_INT(pqcoap_client_observe_forget(cl, id), PQCOAP_OK);
    int quiet = 0;
    for (int round = 0; round < 20 && !quiet; round++) { /* bounded */
        before = atomic_load(&calls);
        CHECK_EQ_INT(pqcoap_server_notify(ts.srv, "obs"), PQCOAP_OK);
        sync_get(&ts);
        quiet = atomic_load(&calls) == before + 1;
        /* the client reads what came (the notification) and answers it */
        pqcoap_reply r;
        CHECK_EQ_INT(pqcoap_client_request(cl, &req, &r), PQCOAP_OK);
        pqcoap_reply_free(&r);
    }
    CHECK(quiet);
    CHECK_EQ_INT(s.n, n0 + 1); /* nothing delivered after forget */
    CHECK(!s.ended);
    pqcoap_client_free(cl);
    test_server_end(&ts);
}

/* 200 notifications while the proxy drops, duplicates and reorders 10 % of the datagrams
 * each way: those delivered come in increasing order, none twice, and the last one comes. */
static void through_faults(void)
{
    test_server ts;
    max_age = 2; /* re-registration if the server gave up on us */
    start_obs_server(&ts);
    udp_proxy_cfg pc = {10, 10, 10, 0, 0, 7641};
    uint16_t pport = 0;
    udp_proxy *px = udp_proxy_start(&pc, pqcoap_server_port(ts.srv), &pport);
    CHECK(px != NULL);
    char uri[96];
    snprintf(uri, sizeof(uri), "coap://127.0.0.1:%u/obs", pport);
    pqcoap_client_config cfg = PQCOAP_CLIENT_CONFIG_INIT;
    cfg.timeout_ms = 30000;
    pqcoap_client *cl = test_client(uri, &cfg);
    CHECK(cl != NULL);
    seen s = {0};
    uint32_t id = 0;
    atomic_store(&value, 0);
    pqcoap_req req = PQCOAP_REQ_INIT;
    CHECK_EQ_INT(pqcoap_client_observe(cl, &req, on_note, &s, &id), PQCOAP_OK);
    for (int i = 1; i <= 200; i++) {
        atomic_store(&value, i);
        CHECK_EQ_INT(pqcoap_server_notify(ts.srv, "obs"), PQCOAP_OK);
        /* paced: until it came or 10 x 20 ms (a lost one is retransmitted meanwhile) */
        for (int k = 0; k < 10 && (s.n == 0 || s.val[(s.n - 1) % MAX_SEEN] != i); k++) {
            pqcoap_completion c;
            int done = 0;
            CHECK_EQ_INT(pqcoap_client_poll(cl, 20, &c, &done), PQCOAP_OK);
        }
    }
    /* the last state arrives in the end (bounded: 60 s) */
    for (int i = 0; i < 600 && (s.n == 0 || s.val[(s.n - 1) % MAX_SEEN] != 200); i++)
        poll_until(cl, &s, s.n + 1, 1);
    CHECK(s.n <= MAX_SEEN);
    CHECK(s.n >= 2);
    CHECK_EQ_INT(s.val[s.n - 1], 200);
    int increasing = 1;
    for (int i = 1; i < s.n; i++)
        increasing &= s.val[i] > s.val[i - 1];
    CHECK(increasing);
    CHECK(!s.ended);
    udp_proxy_stats st;
    pqcoap_client_free(cl);
    udp_proxy_stop(px, &st);
    CHECK(st.dropped > 0 && st.duplicated > 0 && st.reordered > 0);
    fprintf(stderr, "faults: %d of 200 delivered (dropped %lu, duplicated %lu, reordered %lu)\n",
            s.n - 1, st.dropped, st.duplicated, st.reordered);
    test_server_end(&ts);
    max_age = -1;
}

/* Opens a client for `uri` (2 s per request) and observes it, trying again while the
 * server process is not listening yet (bounded: 10 tries). */
static pqcoap_client *observe_started(const char *uri, seen *s, uint32_t *id)
{
    pqcoap_client_config cfg = PQCOAP_CLIENT_CONFIG_INIT;
    cfg.timeout_ms = 2000;
    pqcoap_client *cl = test_client(uri, &cfg);
    CHECK(cl != NULL);
    pqcoap_req req = PQCOAP_REQ_INIT;
    pqcoap_err err = PQCOAP_ERR_TIMEOUT;
    for (int i = 0; cl && i < 10 && err == PQCOAP_ERR_TIMEOUT; i++)
        err = pqcoap_client_observe(cl, &req, on_note, s, id);
    CHECK_EQ_INT(err, PQCOAP_OK);
    return cl;
}

/* A server process on `port` notifying every 100 ms with Max-Age 1, until killed. Returns
 * once the process holds the port (it writes one byte to a pipe then), so that no socket
 * opened after, such as the client's own, can be given the same port. */
static pid_t fork_server(uint16_t port, int gen)
{
    int ready;
    pid_t pid = proc_fork_ready(&ready);
    if (pid != 0)
        return pid;
    generation = gen;
    max_age = 1;
    pqcoap_server_config cfg = PQCOAP_SERVER_CONFIG_INIT;
    cfg.addr = "127.0.0.1";
    cfg.port = port;
    pqcoap_server *srv = NULL;
    if (pqcoap_server_create(&cfg, &srv, NULL, 0) != PQCOAP_OK ||
        pqcoap_server_handle(srv, "obs", PQCOAP_GET, obs_get, NULL) != PQCOAP_OK ||
        pqcoap_server_observable(srv, "obs", 0) != PQCOAP_OK)
        _exit(1);
    test_server ts = {srv, 0, 0};
    if (!test_server_start(&ts) || write(ready, "r", 1) != 1)
        _exit(1);
    close(ready);
    for (int i = 0; i < 600; i++) { /* at most 60 s */
        atomic_fetch_add(&value, 1);
        pqcoap_server_notify(srv, "obs");
        struct timespec d = {0, 100 * 1000 * 1000};
        nanosleep(&d, NULL);
    }
    _exit(0);
}

/* The server process is killed and started again on the same port: the client registers
 * again by itself (no notification within Max-Age + margin) and the notifications of the
 * new process come to the same callback. */
static void server_restart(void)
{
    uint16_t port = test_free_port();
    atomic_store(&value, 0);
    pid_t a = fork_server(port, 1);
    CHECK(a > 0);
    char uri[96];
    snprintf(uri, sizeof(uri), "coap://127.0.0.1:%u/obs", port);
    seen s = {0};
    uint32_t id = 0;
    pqcoap_client *cl = observe_started(uri, &s, &id);
    poll_until(cl, &s, 4, 300);
    CHECK(s.n >= 4);
    kill(a, SIGKILL);
    waitpid(a, NULL, 0);
    int n_before = s.n;
    pid_t b = fork_server(port, 2);
    CHECK(b > 0);
    poll_until(cl, &s, n_before + 4, 300);
    CHECK(s.n >= n_before + 4);
    int gen2 = 0;
    for (int i = n_before; i < s.n && i < MAX_SEEN; i++)
        gen2 += s.gen[i] == 2;
    CHECK(gen2 >= 3);
    CHECK(!s.ended);
    CHECK_EQ_INT(pqcoap_client_observe_cancel(cl, id), PQCOAP_OK);
    kill(b, SIGKILL);
    waitpid(b, NULL, 0);
    pqcoap_client_free(cl);
}

/* Our client observes libcoap's coap-server-notls "time" resource (notified every second). */
static void observes_libcoap_server(void)
{
    char port[8], uri[64];
    snprintf(port, sizeof(port), "%u", test_free_port());
    char *argv[] = {COAP_SERVER, "-A", "127.0.0.1", "-p", port, NULL};
    pid_t pid = proc_spawn(argv);
    CHECK(pid > 0);
    snprintf(uri, sizeof(uri), "coap://127.0.0.1:%s/time", port);
    seen s = {0};
    uint32_t id = 0;
    pqcoap_client *cl = observe_started(uri, &s, &id);
    poll_until(cl, &s, 4, 150);
    CHECK(s.n >= 4);
    CHECK(!s.ended);
    CHECK_EQ_INT(pqcoap_client_observe_cancel(cl, id), PQCOAP_OK);
    pqcoap_client_free(cl);
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    in_order_cancel_and_reset();
    through_faults();
    server_restart();
    if (access(COAP_SERVER, X_OK) == 0)
        observes_libcoap_server();
    else
        CHECK(!"libcoap3-bin tools missing (scripts/bootstrap.sh installs them)");
    return check_done();
}

/* Secured Observe across a server restart, through the library's client API over real UDP
 * on loopback: the server process is killed (SIGKILL) and started again on the same port
 * with the same keys and the same SQLite store file; the client registers again by itself,
 * the new process's notifications reach the same observation in order, and cancel stops
 * them: in Mode A v2 (its response counter goes on from the file), OSCORE with a static
 * context (the new process asks for an Echo value), Mode B and OSCORE keyed by the handshake
 * (no session or context survives: a new handshake). */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS in <sys/mman.h> */
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>

#include "check.h"
#include "proc.h"
#include "../session/snet.h"
#include "net/net_test.h"
#include "net/sign_internal.h"
#include "pqcoap/oscore_endpoint.h"
#include "pqcoap/sign_endpoint.h"

#define MAX_SEEN 256

typedef enum kind { SIGN, SESSION, OSCORE, KEYED } kind;
static const char *const kind_name[] = {"mode A v2", "mode B", "oscore", "oscore keyed"};

static atomic_int *calls;  /* handler runs of "obs" for a registration or a notification
                              (Observe 0) in the server processes (shared memory) */
static atomic_int value;   /* what "obs" reports, in a server process */
static int generation;     /* which server process this is: 1, then 2 after the restart */

static const char server_conf[] =
    "master_secret,hex,0102030405060708090a0b0c0d0e0f10\n"
    "sender_id,hex,01\n"
    "recipient_id,hex,02\n";
static const char client_conf[] =
    "master_secret,hex,0102030405060708090a0b0c0d0e0f10\n"
    "sender_id,hex,02\n"
    "recipient_id,hex,01\n";

/* "obs" answers "<generation>:<value>" with Max-Age 1. */
static pqcoap_err obs_get(void *arg, pqcoap_server_req *rq, const pqcoap_msg *req,
                          pqcoap_msgbuf *resp)
{
    (void)arg, (void)rq;
    const pqcoap_opt *o = pqcoap_msg_find_opt(req, PQCOAP_OPT_OBSERVE);
    uint32_t observe = 1;
    if (o && pqcoap_opt_uint(o, &observe) == PQCOAP_OK && observe == 0)
        atomic_fetch_add(calls, 1); /* a registration or a notification */
    char text[32];
    int n = snprintf(text, sizeof text, "%d:%d", generation, atomic_load(&value));
    pqcoap_err err = pqcoap_msgbuf_add_uint(resp, PQCOAP_OPT_MAX_AGE, 1);
    return err != PQCOAP_OK ? err : pqcoap_msgbuf_set_payload(resp, (const uint8_t *)text, (size_t)n);
}

/* "sync": not counted; once answered, the server went through what was due before. */
static pqcoap_err sync_get(void *arg, pqcoap_server_req *rq, const pqcoap_msg *req,
                           pqcoap_msgbuf *resp)
{
    (void)arg, (void)rq, (void)req;
    return pqcoap_msgbuf_set_payload(resp, (const uint8_t *)"ok", 2);
}

/* ---- the server process ----------------------------------------------------------------- */

/* In the child: exits unless ok. */
static void child_must(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "server process %d: %s failed\n", generation, what);
        _exit(1);
    }
}

static pqcoap_server *plain_server(uint16_t port, const pqcoap_layer *layer)
{
    pqcoap_server_config cfg = PQCOAP_SERVER_CONFIG_INIT;
    cfg.addr = "127.0.0.1";
    cfg.port = port;
    cfg.layer = layer;
    pqcoap_server *srv = NULL;
    child_must(pqcoap_server_create(&cfg, &srv, NULL, 0) == PQCOAP_OK, "server");
    return srv;
}

/* In the child: the server of mode k on 127.0.0.1:port over `store`, not running yet. */
static pqcoap_server *mode_server(kind k, uint16_t port, pqcoap_store *store)
{
    if (k == SIGN) {
        pqcoap_sign_server *ss = NULL;
        child_must(pqcoap_sign_server_new(&id_server, store, NULL, &ss) == PQCOAP_OK, "layer");
        return plain_server(port, pqcoap_sign_server_layer(ss));
    }
    if (k == SESSION) {
        pqcoap_session_server_config cfg = snet_server_cfg(store, port);
        pqcoap_session_server *ss = NULL;
        child_must(pqcoap_session_server_create(&cfg, &ss, NULL, 0) == PQCOAP_OK, "server");
        return pqcoap_session_server_coap(ss);
    }
    pqcoap_oscore_server *os = NULL;
    child_must(pqcoap_oscore_server_new(store, NULL, &os) == PQCOAP_OK, "layer");
    if (k == OSCORE) {
        pqcoap_oscore_conf conf;
        child_must(pqcoap_oscore_conf_parse(server_conf, strlen(server_conf), &conf, NULL, 0) ==
                       PQCOAP_OK && pqcoap_oscore_server_add_conf(os, &conf) == PQCOAP_OK,
                   "context");
        pqcoap_oscore_conf_wipe(&conf);
        return plain_server(port, pqcoap_oscore_server_layer(os));
    }
    pqcoap_server *srv = plain_server(port, pqcoap_oscore_server_layer(os));
    pqcoap_oscore_keying_config kc = PQCOAP_OSCORE_KEYING_CONFIG_INIT;
    kc.id = "server";
    kc.sk = id_server.sk;
    kc.sk_len = pqcoap_identity_sk_len(&id_server);
    kc.store = store;
    child_must(pqcoap_oscore_server_keying(os, srv, &kc, NULL, 0) == PQCOAP_OK, "keying");
    return srv;
}

/* A server process of mode k on `port` over the store file `db`, notifying "obs" every
 * 100 ms, until killed (at most 40 s). Returns once the process holds the port (it writes
 * one byte to a pipe then), so that no socket opened after, such as the client's own, can
 * be given the same port; -1 if it did not start. Nothing the server keeps lives on in
 * this process: the child opens the store file itself, as a restarted server would. */
static pid_t fork_server(kind k, const char *db, uint16_t port, int gen)
{
    int ready;
    pid_t pid = proc_fork_ready(&ready);
    if (pid != 0)
        return pid;
    generation = gen;
    pqcoap_store store;
    child_must(pqcoap_store_open_sqlite(db, &store) == PQCOAP_OK, "store");
    pqcoap_server *srv = mode_server(k, port, &store);
    child_must(pqcoap_server_handle(srv, "obs", PQCOAP_GET, obs_get, NULL) == PQCOAP_OK &&
                   pqcoap_server_handle(srv, "sync", PQCOAP_GET, sync_get, NULL) == PQCOAP_OK &&
                   pqcoap_server_observable(srv, "obs", 0) == PQCOAP_OK,
               "resources");
    test_server ts = {srv, 0, 0};
    child_must(test_server_start(&ts) && write(ready, "r", 1) == 1, "start");
    close(ready);
    for (int i = 0; i < 400; i++) {
        atomic_fetch_add(&value, 1);
        pqcoap_server_notify(srv, "obs");
        struct timespec d = {0, 100 * 1000 * 1000};
        nanosleep(&d, NULL);
    }
    _exit(0);
}

/* ---- the client ------------------------------------------------------------------------- */

/* What the callback saw. */
typedef struct seen {
    kind k;                     /* the client's mode */
    void *c;                    /* the client */
    uint32_t id;                /* the observation's id, as pqcoap_*_observe gave it */
    int n;                      /* delivered */
    int gen[MAX_SEEN];
    int val[MAX_SEEN];
    uint32_t seq[MAX_SEEN];     /* their Observe numbers */
    int wrong;                  /* deliveries of another id or unreadable */
    int ended;                  /* the callback got an error */
} seen;

static const char *client_error(kind k, void *c);

static void on_note(void *user, const pqcoap_notification *n)
{
    seen *s = user;
    if (n->err != PQCOAP_OK) {
        char diag[64] = "";
        if (n->msg) {
            size_t dl = n->msg->payload_len < sizeof diag - 1 ? n->msg->payload_len : sizeof diag - 1;
            memcpy(diag, n->msg->payload, dl);
        }
        fprintf(stderr, "  observation ended: %s (%s); the server's last answer: %d.%02d%s \"%s\"\n",
                pqcoap_strerror(n->err), client_error(s->k, s->c), n->msg ? n->msg->code >> 5 : 0,
                n->msg ? n->msg->code & 31 : 0,
                n->msg && pqcoap_msg_find_opt(n->msg, PQCOAP_OPT_ECHO) ? " with Echo" : "", diag);
        s->ended = 1;
        return;
    }
    char text[32] = "";
    size_t len = n->msg->payload_len < sizeof text - 1 ? n->msg->payload_len : sizeof text - 1;
    memcpy(text, n->msg->payload, len);
    int g = 0, v = 0;
    /* the registration's own answer comes before its id is known */
    if ((s->id != 0 && n->id != s->id) || sscanf(text, "%d:%d", &g, &v) != 2)
        s->wrong++;
    if (s->n < MAX_SEEN) {
        s->gen[s->n] = g;
        s->val[s->n] = v;
        s->seq[s->n] = n->seq;
    }
    s->n++;
}

/* The client of mode k for `uri`, 2 s per request; NULL on failure. */
static void *client_open(kind k, const char *uri, pqcoap_store *store)
{
    pqcoap_client_config net = PQCOAP_CLIENT_CONFIG_INIT;
    net.timeout_ms = 2000;
    char msg[160] = "";
    void *c = NULL;
    pqcoap_err err = PQCOAP_ERR_ARG;
    if (k == SIGN) {
        pqcoap_sign_client_config cfg = PQCOAP_SIGN_CLIENT_CONFIG_INIT;
        cfg.net = net;
        err = pqcoap_sign_client_open(uri, &id_client, store, &cfg,
                                      (pqcoap_sign_client **)&c, msg, sizeof msg);
        if (err == PQCOAP_OK)
            err = pqcoap_sign_client_pin(c, &id_server.pub);
    } else if (k == SESSION || k == KEYED) {
        pqcoap_session_client_config cfg = snet_client_cfg("client", &id_client, &id_server, store);
        cfg.coap = net;
        err = k == SESSION ? pqcoap_session_client_open(uri, &cfg, (pqcoap_session_client **)&c,
                                                        msg, sizeof msg)
                           : pqcoap_oscore_client_open_keyed(uri, &cfg, 0,
                                                             (pqcoap_oscore_client **)&c, msg,
                                                             sizeof msg);
    } else {
        pqcoap_oscore_conf conf;
        err = pqcoap_oscore_conf_parse(client_conf, strlen(client_conf), &conf, msg, sizeof msg);
        if (err == PQCOAP_OK)
            err = pqcoap_oscore_client_open(uri, &conf, store, &net,
                                            (pqcoap_oscore_client **)&c, msg, sizeof msg);
        pqcoap_oscore_conf_wipe(&conf);
    }
    if (err != PQCOAP_OK)
        fprintf(stderr, "  client: %s (%s)\n", pqcoap_strerror(err), msg);
    return err == PQCOAP_OK ? c : NULL;
}

static void client_free(kind k, void *c)
{
    if (k == SIGN)
        pqcoap_sign_client_free(c);
    else if (k == SESSION)
        pqcoap_session_client_free(c);
    else
        pqcoap_oscore_client_free(c);
}

static pqcoap_client *client_net(kind k, void *c)
{
    return k == SIGN      ? pqcoap_sign_client_net(c)
           : k == SESSION ? pqcoap_session_client_net(c)
                          : pqcoap_oscore_client_net(c);
}

static const char *client_error(kind k, void *c)
{
    return k == SIGN      ? pqcoap_sign_client_last_error(c)
           : k == SESSION ? pqcoap_session_client_last_error(c)
                          : pqcoap_oscore_client_last_error(c);
}

static pqcoap_err client_observe(kind k, void *c, seen *s)
{
    pqcoap_req req = PQCOAP_REQ_INIT;
    req.path = "obs";
    return k == SIGN      ? pqcoap_sign_client_observe(c, &req, on_note, s, &s->id)
           : k == SESSION ? pqcoap_session_client_observe(c, &req, on_note, s, &s->id)
                          : pqcoap_oscore_client_observe(c, &req, on_note, s, &s->id);
}

static pqcoap_err client_cancel(kind k, void *c, uint32_t id)
{
    return k == SIGN      ? pqcoap_sign_client_observe_cancel(c, id)
           : k == SESSION ? pqcoap_session_client_observe_cancel(c, id)
                          : pqcoap_oscore_client_observe_cancel(c, id);
}

/* GET sync in mode k: PQCOAP_OK once answered. */
static pqcoap_err client_sync(kind k, void *c)
{
    pqcoap_req req = PQCOAP_REQ_INIT;
    req.path = "sync";
    pqcoap_reply r;
    pqcoap_err err = k == SIGN      ? pqcoap_sign_client_request(c, &req, &r)
                     : k == SESSION ? pqcoap_session_client_request(c, &req, &r)
                                    : pqcoap_oscore_client_request(c, &req, &r);
    if (err == PQCOAP_OK)
        pqcoap_reply_free(&r);
    return err;
}

/* Mode A v2: the next value of the server's response sequence counter in the store file
 * `db` (PROTOCOL.md: reserved ahead of use); 0 if it cannot be read. */
static uint64_t sign_counter(const char *db)
{
    char name[PQCOAP_SIGN_NAME_LEN];
    pqcoap_sign_name(id_server.pub.kid, name);
    pqcoap_store store;
    uint64_t next = 0;
    if (pqcoap_store_open_sqlite(db, &store) != PQCOAP_OK)
        return 0;
    if (pqcoap_store_seq_peek(&store, name, &next) != PQCOAP_OK)
        next = 0;
    pqcoap_store_close(&store);
    return next;
}

/* Notifications of server process 2 among those delivered from index `from` on. */
static int gen2_count(const seen *s, int from)
{
    int n = 0;
    for (int i = from; i < s->n && i < MAX_SEEN; i++)
        n += s->gen[i] == 2;
    return n;
}

/* Runs the client (bounded: `rounds` polls of 100 ms) until s saw `want_n` notifications
 * and `want_gen2` of the second process from index `from` on, or the observation ended. */
static void poll_while(pqcoap_client *cl, const seen *s, int from, int want_gen2, int want_n,
                       int rounds)
{
    for (int i = 0; i < rounds && !s->ended &&
                    (s->n < want_n || gen2_count(s, from) < want_gen2); i++) {
        pqcoap_completion c;
        int done = 0;
        if (pqcoap_client_poll(cl, 100, &c, &done) != PQCOAP_OK)
            return;
        if (done)
            pqcoap_reply_free(&c.reply);
    }
}

/* The notifications of generation g from index `from` on come in order: their Observe
 * numbers strictly increase and their values never go down (two may carry the same value
 * when the server's I/O thread runs behind its counter, as under valgrind). */
static int in_order(const seen *s, int from, int g)
{
    int ok = 1, last = -1;
    for (int i = from; i < s->n && i < MAX_SEEN; i++) {
        if (s->gen[i] != g)
            continue;
        ok &= last < 0 || (s->seq[i] > s->seq[last] && s->val[i] >= s->val[last]);
        last = i;
    }
    return ok;
}

/* The server process of mode k is killed and started again on the same port over the same
 * store file: the observation goes on with the new process's notifications, and ends on
 * cancel. */
static void server_restart(kind k, const char *dir)
{
    fprintf(stderr, "-- %s\n", kind_name[k]);
    char db[300];
    snprintf(db, sizeof db, "%s/server-%d.db", dir, (int)k);
    pqcoap_store store;
    CHECK_EQ_INT(pqcoap_store_open_sqlite(db, &store), PQCOAP_OK);
    if (k != OSCORE)
        fx_trust(&store, "client", &id_client);
    pqcoap_store_close(&store);

    uint16_t port = test_free_port();
    pid_t a = fork_server(k, db, port, 1);
    CHECK(a > 0);
    if (a <= 0)
        return;
    char uri[64];
    snprintf(uri, sizeof uri, "coap://127.0.0.1:%u", port);
    pqcoap_store cstore;
    CHECK_EQ_INT(pqcoap_store_open_memory(&cstore), PQCOAP_OK);
    void *c = client_open(k, uri, &cstore);
    CHECK(c != NULL);
    if (!c) {
        kill(a, SIGKILL);
        waitpid(a, NULL, 0);
        pqcoap_store_close(&cstore);
        return;
    }
    pqcoap_client *cl = client_net(k, c);
    static seen s;
    memset(&s, 0, sizeof s);
    s.k = k;
    s.c = c;
    pqcoap_err err = client_observe(k, c, &s);
    if (err != PQCOAP_OK)
        fprintf(stderr, "  observe: %s (%s)\n", pqcoap_strerror(err), client_error(k, c));
    CHECK_EQ_INT(err, PQCOAP_OK);
    uint32_t id = s.id;
    CHECK(id != 0);

    /* before the kill: notifications of the first process */
    poll_while(cl, &s, 0, 0, 4, 100);
    CHECK(s.n >= 4);
    CHECK_EQ_INT(gen2_count(&s, 0), 0);
    CHECK(in_order(&s, 0, 1));
    kill(a, SIGKILL);
    waitpid(a, NULL, 0);
    int n_before = s.n;
    uint64_t counter1 = k == SIGN ? sign_counter(db) : 0;
    if (k == SIGN)
        CHECK(counter1 > 1); /* the first process reserved numbers in the file */

    /* the second process, same keys, same store file, same port */
    pid_t b = fork_server(k, db, port, 2);
    CHECK(b > 0);
    poll_while(cl, &s, n_before, 3, 0, 300);
    int gen2 = gen2_count(&s, n_before);
    fprintf(stderr, "  %d notifications before the restart, %d of the new process after\n",
            n_before, gen2);
    if (gen2 < 3 || s.ended)
        fprintf(stderr, "  client's last error: %s\n", client_error(k, c));
    CHECK(gen2 >= 3);
    CHECK(!s.ended);
    CHECK_EQ_INT(s.wrong, 0);
    CHECK_EQ_INT(s.id, id);
    CHECK(in_order(&s, n_before, 2));
    /* once the new process answered, nothing of the old one */
    int first2 = n_before;
    while (first2 < s.n && first2 < MAX_SEEN && s.gen[first2] != 2)
        first2++;
    CHECK_EQ_INT(gen2_count(&s, first2), (s.n < MAX_SEEN ? s.n : MAX_SEEN) - first2);

    /* cancel deregisters: once a request sent after it is answered, the second process
     * notifies nobody any more (it notifies every 100 ms meanwhile) */
    if (!s.ended) {
        err = client_cancel(k, c, id);
        if (err != PQCOAP_OK)
            fprintf(stderr, "  cancel: %s (%s)\n", pqcoap_strerror(err), client_error(k, c));
        CHECK_EQ_INT(err, PQCOAP_OK);
        CHECK_EQ_INT(client_cancel(k, c, id), PQCOAP_ERR_NOT_FOUND);
        CHECK_EQ_INT(client_sync(k, c), PQCOAP_OK);
        int before = atomic_load(calls);
        for (int i = 0; i < 3; i++) {
            struct timespec d = {0, 100 * 1000 * 1000};
            nanosleep(&d, NULL);
            CHECK_EQ_INT(client_sync(k, c), PQCOAP_OK);
        }
        CHECK_EQ_INT(atomic_load(calls), before);
    }

    if (b > 0) {
        kill(b, SIGKILL);
        waitpid(b, NULL, 0);
    }
    if (k == SIGN) /* the second one reserved after them: it never reused one */
        CHECK(sign_counter(db) > counter1);
    client_free(k, c);
    pqcoap_store_close(&cstore);
    const char *const ext[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < 3; i++) {
        char path[320];
        snprintf(path, sizeof path, "%s%s", db, ext[i]);
        unlink(path);
    }
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    calls = mmap(NULL, sizeof *calls, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    snet_must(calls != MAP_FAILED, "shared counter");
    static char dir[] = "/tmp/pqcoap-obsrestart.XXXXXX";
    snet_must(mkdtemp(dir) != NULL, "temporary folder");
    snet_init(); /* the keys, made once: both server processes use the same ones */
    server_restart(SIGN, dir);
    server_restart(OSCORE, dir);
    server_restart(SESSION, dir);
    server_restart(KEYED, dir);
    snet_fini();
    rmdir(dir);
    munmap(calls, sizeof *calls);
    return check_done();
}

/* Shared part of the fault-injection tests: self-checking request bodies, a handler that
 * validates and echoes them, runs of CON POSTs through the fault-injecting proxy over IPv4
 * and IPv6 with counts of what happened, and the one-line summary each run prints. */
#ifndef PQCOAP_TEST_FAULTS_H
#define PQCOAP_TEST_FAULTS_H

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "loopback.h"
#include "pqcoap/keys.h"
#include "pqcoap/layer.h"
#include "pqcoap/server.h"
#include "pqcoap/store.h"
#include "udp_proxy.h"

#define FI_PATH "fi"
#define FI_MAX_REQ 64
#define FI_BODY_CAP 64

/* Runs of one program: the standard scenarios over IPv4, then over IPv6, then the
 * deterministic checks of a program (FI_CHECK_RUN). */
#define FI_MAX_RUNS 12

/* What the handler saw: bodies that fail their own check (a corrupted or forged body got
 * through), and how often each request of each run reached it. */
static atomic_uint fi_bad_bodies;
static atomic_uint fi_handled[FI_MAX_RUNS][FI_MAX_REQ];

/* The keys and stores of a program: the server's identity, one client identity per run
 * (peer "client<run>"), the trust stores of the IPv4 and the IPv6 server (each server
 * thread owns its store) and the store of each client's counters (the runs go in parallel
 * threads, and a store handle is used by one thread at a time). */
static pqcoap_identity fi_id_server, fi_id_client[FI_MAX_RUNS];
static char fi_client_name[FI_MAX_RUNS][16];
static pqcoap_store fi_trust_store[2], fi_client_store[FI_MAX_RUNS];

static void fi_must(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "set-up failed: %s\n", what);
        exit(2);
    }
}

/* Pins `who`'s public key as peer `id` in `store`; 1 on success. */
static int fi_trust(const pqcoap_store *store, const char *id, const pqcoap_identity *who)
{
    pqcoap_peer peer;
    return pqcoap_peer_from_pubkey(id, &who->pub, (int64_t)time(NULL), &peer) == PQCOAP_OK &&
           pqcoap_store_peer_add(store, &peer) == PQCOAP_OK;
}

/* Makes the keys and opens the stores; every client is trusted by both servers. */
static void fi_setup(void)
{
    fi_must(pqcoap_identity_generate("falcon-512", NULL, &fi_id_server) == PQCOAP_OK, "key");
    for (int f = 0; f < 2; f++)
        fi_must(pqcoap_store_open_memory(&fi_trust_store[f]) == PQCOAP_OK, "store");
    for (unsigned k = 0; k < FI_MAX_RUNS; k++) {
        fi_must(pqcoap_store_open_memory(&fi_client_store[k]) == PQCOAP_OK, "store");
        snprintf(fi_client_name[k], sizeof fi_client_name[k], "client%u", k);
        fi_must(pqcoap_identity_generate("falcon-512", NULL, &fi_id_client[k]) == PQCOAP_OK,
                "key");
        for (int f = 0; f < 2; f++)
            fi_must(fi_trust(&fi_trust_store[f], fi_client_name[k], &fi_id_client[k]), "trust");
    }
}

static void fi_teardown(void)
{
    for (unsigned k = 0; k < FI_MAX_RUNS; k++)
        pqcoap_store_close(&fi_client_store[k]);
    for (int f = 0; f < 2; f++)
        pqcoap_store_close(&fi_trust_store[f]);
    for (unsigned k = 0; k < FI_MAX_RUNS; k++)
        pqcoap_identity_wipe(&fi_id_client[k]);
    pqcoap_identity_wipe(&fi_id_server);
}

/* The check value of request i of run `run`: a 64-bit mix of both (splitmix64). */
static uint64_t fi_tag(unsigned run, unsigned i)
{
    uint64_t z = ((uint64_t)run << 32 | i) + 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* The body of request i of run `run`: "fi:<run>:<i>:<tag in hex>"; returns its length. */
static size_t fi_body(unsigned run, unsigned i, char *out, size_t cap)
{
    int n = snprintf(out, cap, "fi:%u:%u:%016" PRIx64, run, i, fi_tag(run, i));
    return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

/* 1 if p[0..len) is a body fi_body made; sets *run and *i. */
static int fi_body_valid(const uint8_t *p, size_t len, unsigned *run, unsigned *i)
{
    char text[FI_BODY_CAP], again[FI_BODY_CAP];
    if (len == 0 || len >= sizeof text)
        return 0;
    memcpy(text, p, len);
    text[len] = '\0';
    if (sscanf(text, "fi:%u:%u:", run, i) != 2)
        return 0;
    size_t n = fi_body(*run, *i, again, sizeof again);
    return n == len && memcmp(again, text, len) == 0;
}

/* POST "fi": checks the body, counts it, answers 2.04 "ok:" || body. */
static pqcoap_err fi_handler(void *arg, pqcoap_server_req *rq, const pqcoap_msg *req,
                             pqcoap_msgbuf *resp)
{
    (void)arg;
    (void)rq;
    unsigned run, i;
    if (!fi_body_valid(req->payload, req->payload_len, &run, &i)) {
        atomic_fetch_add(&fi_bad_bodies, 1);
        return PQCOAP_ERR_MALFORMED;
    }
    if (run < FI_MAX_RUNS && i < FI_MAX_REQ)
        atomic_fetch_add(&fi_handled[run][i], 1);
    if (req->payload_len + 3 > resp->payload_cap)
        return PQCOAP_ERR_TOO_LARGE;
    memcpy(resp->payload, "ok:", 3);
    memcpy(resp->payload + 3, req->payload, req->payload_len);
    resp->payload_len = req->payload_len + 3;
    return PQCOAP_OK;
}

/* Sends one CON POST of body[0..len) to FI_PATH over the mode's client; fills *reply. */
typedef pqcoap_err (*fi_post_fn)(void *client, const uint8_t *body, size_t len,
                                 pqcoap_reply *reply);

/* The proxy settings and request count of one run. */
typedef struct fi_scenario {
    const char *name;
    udp_proxy_cfg cfg;
    unsigned requests;
} fi_scenario;

/* The standard runs: loss at 0, 10 and 30 %, duplication with reordering and delay,
 * corruption (one bit flipped in 3 % of the datagrams). The proxy draws each datagram's
 * faults from its seed in the order the datagrams arrive, whatever they carry, so the first
 * faulty datagram of each run is fixed: loss10 drops datagram 7 (counting from 0), loss30
 * datagram 0, dup_reorder_delay duplicates datagram 1 and holds back datagram 6, corrupt3
 * flips a bit of datagram 24. Each request sends at least one datagram, and a clean
 * exchange two, so every run reaches its first fault (corrupt3: 12 clean exchanges make 24
 * datagrams, and there are 20 requests): fi_report asserts that each configured kind of
 * fault happened, or the run would not test what it names. */
#define FI_N_SCENARIOS 5
#define FI_SCENARIOS {                                                                   \
    {"clean", {0, 0, 0, 0, 0, 11}, 20},                                                  \
    {"loss10", {10, 0, 0, 0, 0, 12}, 20},                                                \
    {"loss30", {30, 0, 0, 0, 0, 13}, 12},                                                \
    {"dup_reorder_delay", {0, 20, 20, 0, 10, 14}, 20},                                   \
    {"corrupt3", {0, 0, 0, 3, 0, 15}, 20},                                               \
}

/* What one run observed. */
typedef struct fi_counts {
    unsigned requests, completed, timed_out, rejected, other_errors;
    unsigned wrong_replies;     /* accepted responses whose body the server did not send */
    unsigned twice;             /* requests that reached the handler more than once */
    unsigned after_ok;          /* fault-free requests after the run that succeeded */
    unsigned after;             /* fault-free requests after the run */
    uint64_t max_ms;            /* longest request */
    udp_proxy_stats proxy;
} fi_counts;

static uint64_t fi_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* One request i of run `run`; 1 if it completed with the right answer. Any response it
 * accepts must be exactly "ok:" || its body. */
static int fi_one(fi_post_fn post, void *client, unsigned run, unsigned i, fi_counts *c)
{
    char body[FI_BODY_CAP], want[FI_BODY_CAP + 3];
    size_t len = fi_body(run, i, body, sizeof body);
    memcpy(want, "ok:", 3);
    memcpy(want + 3, body, len);
    pqcoap_reply r;
    memset(&r, 0, sizeof r);
    uint64_t t0 = fi_now_ms();
    pqcoap_err err = post(client, (const uint8_t *)body, len, &r);
    uint64_t ms = fi_now_ms() - t0;
    if (ms > c->max_ms)
        c->max_ms = ms;
    int ok = 0;
    if (err == PQCOAP_OK) {
        ok = r.msg.code == PQCOAP_CODE(2, 4) && r.msg.payload_len == len + 3 &&
             memcmp(r.msg.payload, want, len + 3) == 0;
        c->wrong_replies += !ok;
    } else if (err == PQCOAP_ERR_TIMEOUT) {
        c->timed_out++;
    } else if (err == PQCOAP_ERR_REJECTED) {
        c->rejected++;
    } else {
        c->other_errors++;
        fprintf(stderr, "  run %u request %u: %s\n", run, i, pqcoap_strerror(err));
    }
    pqcoap_reply_free(&r);
    return ok;
}

/* One run on its own thread: `requests` requests under the proxy's faults, then the faults
 * off and `after` more on the same client; the proxy is stopped at the end. */
typedef struct fi_job {
    const char *mode;
    int family;                 /* AF_INET or AF_INET6: of the proxy, client and server */
    const fi_scenario *sc;
    unsigned run;               /* < FI_MAX_RUNS */
    unsigned after;
    udp_proxy *proxy;
    fi_post_fn post;
    void *client;
    fi_counts c;
    pthread_t thread;
} fi_job;

static void *fi_job_main(void *arg)
{
    fi_job *j = arg;
    fi_counts *c = &j->c;
    unsigned n = j->sc->requests < FI_MAX_REQ - j->after ? j->sc->requests
                                                         : FI_MAX_REQ - j->after;
    for (unsigned i = 0; i < n; i++) {
        c->requests++;
        c->completed += (unsigned)fi_one(j->post, j->client, j->run, i, c);
    }
    udp_proxy_set_faults(j->proxy, 0);
    for (unsigned i = 0; i < j->after; i++) {
        fi_counts extra;
        memset(&extra, 0, sizeof extra);
        c->after++;
        c->after_ok += (unsigned)fi_one(j->post, j->client, j->run, n + i, &extra);
        c->wrong_replies += extra.wrong_replies;
    }
    for (unsigned i = 0; i < n + j->after; i++)
        c->twice += atomic_load(&fi_handled[j->run][i]) > 1;
    udp_proxy_stop(j->proxy, &c->proxy);
    j->proxy = NULL;
    return NULL;
}

/* Prints the summary line of a finished job and checks what every run must show. */
static void fi_report(const fi_job *j)
{
    const fi_counts *c = &j->c;
    const udp_proxy_cfg *f = &j->sc->cfg;
    printf("FAULTS mode=%s net=%s run=%s requests=%u completed=%u timed_out=%u rejected=%u "
           "other_errors=%u wrong_replies=%u handled_twice=%u after=%u/%u max_ms=%" PRIu64
           " datagrams: forwarded=%lu dropped=%lu duplicated=%lu reordered=%lu corrupted=%lu\n",
           j->mode, loopback_name(j->family), j->sc->name, c->requests, c->completed,
           c->timed_out, c->rejected, c->other_errors, c->wrong_replies, c->twice, c->after_ok,
           c->after, c->max_ms, c->proxy.forwarded, c->proxy.dropped, c->proxy.duplicated,
           c->proxy.reordered, c->proxy.corrupted);
    fflush(stdout);
    /* Never accepted: a response body the server did not send; never executed twice: a
     * request. */
    CHECK_EQ_INT(c->wrong_replies, 0);
    CHECK_EQ_INT(c->twice, 0);
    /* Every request ended (no hang) with the answer or an error. */
    CHECK_EQ_INT(c->completed + c->timed_out + c->rejected + c->other_errors +
                 c->wrong_replies, c->requests);
    /* The client and the server's state survive the faults. */
    CHECK_EQ_INT(c->after_ok, c->after);
    /* Without loss or corruption nothing fails; with them something still gets through. */
    if (f->drop_pct + f->corrupt_pct == 0)
        CHECK_EQ_INT(c->completed, c->requests);
    else
        CHECK(c->completed > 0);
    /* Only corruption may end a request with an error other than a timeout (a corrupted
     * response fails its check and is reported). */
    if (f->corrupt_pct == 0) {
        CHECK_EQ_INT(c->other_errors, 0);
        CHECK_EQ_INT(c->rejected, 0);
    }
    /* The faults the run names happened (see FI_SCENARIOS), and no other kind. */
    CHECK_EQ_INT(c->proxy.dropped > 0, f->drop_pct > 0);
    CHECK_EQ_INT(c->proxy.duplicated > 0, f->dup_pct > 0);
    CHECK_EQ_INT(c->proxy.reordered > 0, f->reorder_pct > 0);
    CHECK_EQ_INT(c->proxy.corrupted > 0, f->corrupt_pct > 0);
}

/* Opens the mode's client of the proxy on the loopback address of `family`, port `port`. */
typedef void *(*fi_client_fn)(int family, uint16_t port);

/* Starts the job of scenario `sc` as run `run` through a new proxy on `family` in front of
 * the server on `server_port`; `client_for` opens the mode's client of the proxy's port.
 * 1 on success. */
static int fi_job_start(fi_job *j, const char *mode, int family, const fi_scenario *sc,
                        unsigned run, uint16_t server_port, fi_client_fn client_for,
                        fi_post_fn post)
{
    uint16_t pport = 0;
    memset(j, 0, sizeof *j);
    j->mode = mode;
    j->family = family;
    j->sc = sc;
    j->run = run;
    j->after = 3;
    j->post = post;
    j->proxy = udp_proxy_start_af(&sc->cfg, family, server_port, &pport);
    if (!j->proxy)
        return 0;
    j->client = client_for(family, pport);
    return j->client && pthread_create(&j->thread, NULL, fi_job_main, j) == 0;
}

/* Runs every standard scenario in parallel, over IPv4 against the server on `port4` (runs
 * 0..FI_N_SCENARIOS-1) and over IPv6 against the one on `port6` (the next FI_N_SCENARIOS
 * runs), each with its own proxy and client from client_for, closed with client_free;
 * reports each run (fi_report) and checks that no corrupted body reached the handler. Sets
 * *total and *completed. 0 if a run could not be set up. */
static int fi_run_all(const char *mode, uint16_t port4, uint16_t port6, fi_client_fn client_for,
                      void (*client_free)(void *), fi_post_fn post, unsigned *total,
                      unsigned *completed)
{
    static const fi_scenario scenarios[FI_N_SCENARIOS] = FI_SCENARIOS;
    enum { N = FI_N_SCENARIOS };
    static fi_job jobs[2 * N];
    int ok = 1;
    *total = *completed = 0;
    for (unsigned r = 0; r < 2 * N; r++)
        ok &= fi_job_start(&jobs[r], mode, r < N ? AF_INET : AF_INET6, &scenarios[r % N], r,
                           r < N ? port4 : port6, client_for, post);
    if (!ok)
        return 0;
    for (unsigned r = 0; r < 2 * N; r++) {
        pthread_join(jobs[r].thread, NULL);
        fi_report(&jobs[r]);
        *total += jobs[r].c.requests;
        *completed += jobs[r].c.completed;
        client_free(jobs[r].client);
    }
    CHECK_EQ_INT(atomic_load(&fi_bad_bodies), 0); /* no corrupted body reached the handler */
    return 1;
}

/* The run of a program's deterministic check over `family` (after the standard runs). */
#define FI_CHECK_RUN(family) (2 * FI_N_SCENARIOS + ((family) == AF_INET6))

#endif

/* The front of every server that answers POST pqc/session/init (Mode B's session server,
 * OSCORE keyed by handshakes): a handshake's signatures and KEM cost milliseconds of CPU
 * before anything is authenticated, so INITs pass a rate limit per source address (token
 * buckets) and a bounded queue, and run on a thread of their own that yields to the I/O
 * thread, answering through deferred responses. */
#include "net/hs_queue_internal.h"
#include "net/net_internal.h"
#include "crypto/crypto_internal.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#define HS_THREAD_NICE 10     /* the handshake thread yields to the I/O thread */

void pqcoap_net_addr_key(const pqcoap_exchange *x, uint8_t key[PQCOAP_ADDR_KEY_LEN])
{
    memset(key, 0, PQCOAP_ADDR_KEY_LEN);
    if (x->peer.ss_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)(const void *)&x->peer;
        memcpy(key, &a->sin_addr, 4);
        memcpy(key + 16, &a->sin_port, 2);
    } else if (x->peer.ss_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)(const void *)&x->peer;
        memcpy(key, &a->sin6_addr, 16);
        memcpy(key + 16, &a->sin6_port, 2);
    }
}

int pqcoap_hs_rate_take(pqcoap_hs_rate *r, uint32_t per_s, const pqcoap_exchange *x,
                        uint64_t now_ms, uint32_t *max_age_s)
{
    if (per_s == 0)
        return 1;
    uint8_t key[PQCOAP_ADDR_KEY_LEN];
    pqcoap_net_addr_key(x, key); /* the address only: one host, one bucket */
    uint64_t full = (uint64_t)per_s * 1000;
    pqcoap_hs_bucket *b = NULL, *oldest = &r->buckets[0];
    for (size_t i = 0; i < PQCOAP_HS_RATE_BUCKETS && !b; i++) {
        pqcoap_hs_bucket *c = &r->buckets[i];
        if (c->used && memcmp(c->addr, key, 16) == 0)
            b = c;
        else if (!c->used || (oldest->used && c->last_ms < oldest->last_ms))
            oldest = c;
    }
    if (!b) {
        /* an address not seen lately starts with a full bucket, replacing the stalest */
        b = oldest;
        b->used = 1;
        memcpy(b->addr, key, 16);
        b->milli = full;
        b->last_ms = now_ms;
    }
    if (now_ms > b->last_ms) {
        /* `per_s` handshakes per second = `per_s` thousandths per millisecond */
        uint64_t add = (now_ms - b->last_ms) * per_s;
        b->milli = add >= full - b->milli ? full : b->milli + add;
        b->last_ms = now_ms;
    }
    if (b->milli >= 1000) {
        b->milli -= 1000;
        return 1;
    }
    uint64_t wait_ms = (1000 - b->milli + per_s - 1) / per_s;
    *max_age_s = (uint32_t)((wait_ms + 999) / 1000);
    if (*max_age_s == 0)
        *max_age_s = 1;
    return 0;
}

void pqcoap_hs_queue_init(pqcoap_hs_queue *q, pthread_mutex_t *lock, uint32_t per_s,
                          size_t max_pending, pqcoap_hs_run_fn run, pqcoap_hs_tick_fn tick,
                          uint64_t tick_ms, void *owner)
{
    memset(q, 0, sizeof *q);
    q->lock = lock;
    q->per_s = per_s;
    q->max_pending = max_pending;
    q->run = run;
    q->tick = tick;
    q->tick_ms = tick_ms;
    q->owner = owner;
    pthread_condattr_t ca; /* timed waits on the clock of pqcoap_net_now_ms */
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&q->wake, &ca);
    pthread_condattr_destroy(&ca);
}

pqcoap_err pqcoap_hs_queue_submit(pqcoap_hs_queue *q, pqcoap_server_req *rq,
                                  const pqcoap_msg *req, pqcoap_msgbuf *resp)
{
    uint32_t max_age = 0;
    if (!pqcoap_hs_rate_take(&q->limiter, q->per_s, pqcoap_server_req_exchange(rq),
                             pqcoap_net_now_ms(), &max_age)) {
        pqcoap_net_hs_error(resp, PQCOAP_ERR_BUSY, PQCOAP_WHERE_HANDSHAKE, max_age);
        return PQCOAP_ERR_BUSY;
    }
    if (req->payload_len == 0 || req->payload_len > PQCOAP_INIT_MAX) {
        pqcoap_net_hs_error(resp, PQCOAP_ERR_MALFORMED, PQCOAP_WHERE_HANDSHAKE, 0);
        return PQCOAP_ERR_MALFORMED;
    }
    pqcoap_hs_job *job = malloc(sizeof *job);
    if (!job)
        return PQCOAP_ERR_NOMEM;
    memcpy(job->init, req->payload, req->payload_len);
    job->init_len = req->payload_len;
    job->next = NULL;
    pthread_mutex_lock(q->lock);
    pqcoap_err err = q->n_jobs >= q->max_pending ? PQCOAP_ERR_BUSY
                                                 : pqcoap_server_defer(rq, &job->ticket);
    if (err == PQCOAP_OK) {
        if (q->tail)
            q->tail->next = job;
        else
            q->jobs = job;
        q->tail = job;
        q->n_jobs++;
        pthread_cond_signal(&q->wake);
    }
    pthread_mutex_unlock(q->lock);
    if (err != PQCOAP_OK) {
        free(job);
        if (err == PQCOAP_ERR_BUSY)
            pqcoap_net_hs_error(resp, err, PQCOAP_WHERE_HANDSHAKE, 0);
    }
    return err;
}

void pqcoap_hs_complete(pqcoap_server *srv, uint64_t ticket, pqcoap_err err, uint8_t *resp,
                        size_t len)
{
    pqcoap_opt opts[2];
    uint8_t vals[8];
    pqcoap_msgbuf b;
    pqcoap_msgbuf_init(&b, opts, 2, vals, sizeof vals, resp, PQCOAP_RESP_MAX);
    if (err == PQCOAP_OK) {
        b.code = PQCOAP_CODE(2, 4);
        pqcoap_msgbuf_add_uint(&b, PQCOAP_OPT_CONTENT_FORMAT, PQCOAP_SESSION_INIT_FORMAT);
        b.payload_len = len;
    } else {
        pqcoap_net_hs_error(&b, err, PQCOAP_WHERE_HANDSHAKE, 0);
    }
    pqcoap_msg m;
    pqcoap_msgbuf_view(&b, &m);
    /* a failure here leaves the request unanswered; the client times out and retries */
    (void)pqcoap_server_complete(srv, ticket, &m);
}

/* Waits for a job, a stop or deadline_ms (the clock of pqcoap_net_now_ms), lock held. */
static void wait_until(pqcoap_hs_queue *q, uint64_t deadline_ms)
{
    struct timespec ts = {(time_t)(deadline_ms / 1000), (long)(deadline_ms % 1000) * 1000000L};
    pthread_cond_timedwait(&q->wake, q->lock, &ts);
}

static void *thread_main(void *arg)
{
    pqcoap_hs_queue *q = arg;
    /* Handshakes must not hold up the protected requests: when CPUs are busy the scheduler
     * prefers the I/O thread. Linux keeps the nice value per thread (setpriority(2), NOTES);
     * where it is per process this call fails or lowers both, which is harmless. */
    errno = 0;
    int prio = getpriority(PRIO_PROCESS, 0);
    if (errno == 0)
        (void)setpriority(PRIO_PROCESS, 0, prio + HS_THREAD_NICE);
    for (;;) {
        pthread_mutex_lock(q->lock);
        while (!q->stopping && !q->jobs && pqcoap_net_now_ms() < q->next_tick_ms)
            wait_until(q, q->next_tick_ms);
        int stopping = q->stopping;
        pqcoap_hs_job *job = stopping ? NULL : q->jobs;
        if (job) {
            q->jobs = job->next;
            if (!q->jobs)
                q->tail = NULL;
            q->n_jobs--;
            job->next = NULL;
        }
        pthread_mutex_unlock(q->lock);
        if (stopping)
            return NULL;
        uint64_t now = pqcoap_net_now_ms();
        if (now >= q->next_tick_ms) {
            q->tick(q->owner);
            q->next_tick_ms = now + q->tick_ms;
        }
        if (job && !q->run(q->owner, job)) {
            pqcoap_wipe(job, sizeof *job);
            free(job);
        }
    }
}

pqcoap_err pqcoap_hs_queue_start(pqcoap_hs_queue *q)
{
    if (pthread_create(&q->thread, NULL, thread_main, q) != 0)
        return PQCOAP_ERR_NOMEM;
    q->started = 1;
    return PQCOAP_OK;
}

void pqcoap_hs_queue_stop(pqcoap_hs_queue *q)
{
    if (!q->started)
        return;
    pthread_mutex_lock(q->lock);
    q->stopping = 1;
    pthread_cond_signal(&q->wake);
    pthread_mutex_unlock(q->lock);
    pthread_join(q->thread, NULL);
    q->started = 0;
}

void pqcoap_hs_queue_free(pqcoap_hs_queue *q)
{
    pqcoap_hs_queue_stop(q);
    while (q->jobs) {
        pqcoap_hs_job *j = q->jobs;
        q->jobs = j->next;
        pqcoap_wipe(j, sizeof *j);
        free(j);
    }
    q->tail = NULL;
    pthread_cond_destroy(&q->wake);
}

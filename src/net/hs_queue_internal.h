/* The front of the servers that answer handshakes (Mode B's session server, OSCORE keyed by
 * handshakes): a rate limit per source address, a bounded queue of INITs, and the handshake
 * thread that works through it and answers through the CoAP server's deferred responses. */
#ifndef PQCOAP_HS_QUEUE_INTERNAL_H
#define PQCOAP_HS_QUEUE_INTERNAL_H

#include "pqcoap/layer.h"
#include "pqcoap/server.h"
#include "pqcoap/session.h"
#include "pqcoap/session_endpoint.h"

#include <pthread.h>
#include <stdint.h>

/** Source addresses whose handshake rate is tracked at once. */
#define PQCOAP_HS_RATE_BUCKETS 64
/** Bytes of an address key: IP address (16, IPv4 in the first 4) and port (2). */
#define PQCOAP_ADDR_KEY_LEN 18

/* Token bucket of one source address, in thousandths of a handshake. */
typedef struct pqcoap_hs_bucket {
    int used;
    uint8_t addr[16];
    uint64_t milli;
    uint64_t last_ms;
} pqcoap_hs_bucket;

/** Buckets of the addresses seen lately; zero-initialised. Used by one thread. */
typedef struct pqcoap_hs_rate {
    pqcoap_hs_bucket buckets[PQCOAP_HS_RATE_BUCKETS];
} pqcoap_hs_rate;

/** The IP address of x in key[0..16) and its port in key[16..18). */
void pqcoap_net_addr_key(const pqcoap_exchange *x, uint8_t key[PQCOAP_ADDR_KEY_LEN]);

/** 1 if a handshake from x's address may start at now_ms under `per_s` handshakes per second
 *  per address (0 = no limit; a bucket holds per_s tokens), else 0 with *max_age_s set to
 *  the seconds until the next token (at least 1), for the 5.03's Max-Age. */
int pqcoap_hs_rate_take(pqcoap_hs_rate *r, uint32_t per_s, const pqcoap_exchange *x,
                        uint64_t now_ms, uint32_t *max_age_s);

/** An INIT waiting for the handshake thread, and its deferred request. */
typedef struct pqcoap_hs_job {
    uint64_t ticket;
    size_t init_len;
    uint8_t init[PQCOAP_INIT_MAX];
    struct pqcoap_hs_job *next;
} pqcoap_hs_job;

/** The handshake thread runs one job: answers it (pqcoap_hs_complete) and returns 1 if it
 *  kept the job (it frees it then), 0 to have it freed. */
typedef int (*pqcoap_hs_run_fn)(void *owner, pqcoap_hs_job *job);
/** The handshake thread's periodic work (revocation checks), every `tick_ms`. */
typedef void (*pqcoap_hs_tick_fn)(void *owner);

/** The queue and its thread. Set up with pqcoap_hs_queue_init; fields private. */
typedef struct pqcoap_hs_queue {
    pthread_mutex_t *lock;          /* the owner's: guards the jobs and `stopping` */
    pthread_cond_t wake;            /* a job was queued or the thread must stop */
    pqcoap_hs_job *jobs, *tail;
    size_t n_jobs, max_pending;
    uint32_t per_s;
    int stopping;
    pthread_t thread;
    int started;
    pqcoap_hs_run_fn run;
    pqcoap_hs_tick_fn tick;
    void *owner;
    uint64_t tick_ms, next_tick_ms; /* handshake thread */
    pqcoap_hs_rate limiter;         /* I/O thread */
} pqcoap_hs_queue;

/** Sets up q (no thread yet): at most `per_s` handshakes per second per address (0 = no
 *  limit), `max_pending` waiting; `lock` is the owner's mutex, which run and tick may take. */
void pqcoap_hs_queue_init(pqcoap_hs_queue *q, pthread_mutex_t *lock, uint32_t per_s,
                          size_t max_pending, pqcoap_hs_run_fn run, pqcoap_hs_tick_fn tick,
                          uint64_t tick_ms, void *owner);

/** Starts the handshake thread (it yields to the I/O thread: a higher nice value). Errors:
 *  PQCOAP_ERR_NOMEM. */
pqcoap_err pqcoap_hs_queue_start(pqcoap_hs_queue *q);

/** The handler of POST pqc/session/init (I/O thread): beyond the rate of its address or with
 *  max_pending INITs waiting, writes 5.03 with Max-Age into resp and returns
 *  PQCOAP_ERR_BUSY; an empty or too long INIT gets 4.00 (PQCOAP_ERR_MALFORMED); else the
 *  request is deferred and queued (PQCOAP_OK). Other errors: PQCOAP_ERR_NOMEM and those of
 *  pqcoap_server_defer (then nothing is written). */
pqcoap_err pqcoap_hs_queue_submit(pqcoap_hs_queue *q, pqcoap_server_req *rq,
                                  const pqcoap_msg *req, pqcoap_msgbuf *resp);

/** Stops and joins the thread; jobs not run stay queued. Fine to call twice. */
void pqcoap_hs_queue_stop(pqcoap_hs_queue *q);

/** Stops the thread and frees the queued jobs. */
void pqcoap_hs_queue_free(pqcoap_hs_queue *q);

/** Completes deferred request `ticket` of srv: 2.04 with the RESP resp[0..len) when err is
 *  PQCOAP_OK, else the unprotected error PROTOCOL.md "Errors" prescribes. `resp` is the
 *  caller's array of PQCOAP_RESP_MAX bytes (an error message is written into it). */
void pqcoap_hs_complete(pqcoap_server *srv, uint64_t ticket, pqcoap_err err, uint8_t *resp,
                        size_t len);

#endif

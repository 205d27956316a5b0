/* A loopback UDP relay for the end-to-end Observe tests: it sits between a client and a
 * server (or the fault proxy), with a socket toward the server per client address (as a
 * NAT would), keeps the datagrams the server sent, can hold back the next notification of
 * a token, and injects datagrams to the client from the address the client talks to, so a
 * forged notification reaches the client as the server's would. */
#ifndef PQCOAP_TEST_OBSE2E_RELAY_H
#define PQCOAP_TEST_OBSE2E_RELAY_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define RELAY_KEEP 16
#define RELAY_FLOWS 32

typedef struct relay_dgram {
    uint8_t b[2048];
    size_t n;
} relay_dgram;

typedef struct relay_flow {
    struct sockaddr_in client;    /* a client address */
    int back;                     /* its socket, connected to the server side */
} relay_flow;

typedef struct relay {
    int front;                    /* toward the client */
    uint16_t port;                /* of front */
    uint16_t target;
    relay_flow flow[RELAY_FLOWS];
    int n_flows;
    struct sockaddr_in client;    /* the client's latest address, once it sent something */
    int have_client;
    pthread_t thread;
    atomic_int stop;
    pthread_mutex_t mu;
    /* guarded by mu */
    uint8_t tok[8];               /* the watched token */
    size_t tok_len;
    relay_dgram kept[RELAY_KEEP]; /* the last notifications (CON/NON 2.xx) of that token */
    unsigned n_kept;              /* in total (kept[n_kept % RELAY_KEEP] next) */
    relay_dgram last_resp;        /* the last datagram from the server with a token */
    int hold;                     /* 1: hold the next notification of the token; 2: held */
    relay_dgram held;
} relay;

/* The token of datagram d, if any: its length (0 if none or malformed). */
static inline size_t relay_token(const relay_dgram *d, const uint8_t **tok)
{
    size_t tkl = d->n >= 4 ? (d->b[0] & 15u) : 0;
    if (tkl > 8 || d->n < 4 + tkl)
        return 0;
    *tok = d->b + 4;
    return tkl;
}

/* A notification: CON or NON (type 0 or 1), code class 2. */
static inline int relay_is_notification(const relay_dgram *d)
{
    return d->n >= 4 && ((d->b[0] >> 4) & 3) <= 1 && (d->b[1] >> 5) == 2;
}

/* The flow of client address `from`, opened on its first datagram (-1: no room). */
static inline int relay_flow_of(relay *r, const struct sockaddr_in *from)
{
    for (int i = 0; i < r->n_flows; i++)
        if (r->flow[i].client.sin_port == from->sin_port)
            return i;
    if (r->n_flows == RELAY_FLOWS)
        return -1;
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(r->target);
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof a) != 0) {
        if (s >= 0)
            close(s);
        return -1;
    }
    r->flow[r->n_flows].client = *from;
    r->flow[r->n_flows].back = s;
    return r->n_flows++;
}

/* A datagram from the server side to the flow's client. */
static inline void relay_back(relay *r, const relay_flow *f, relay_dgram *d)
{
    const uint8_t *tok = NULL;
    size_t tl = relay_token(d, &tok);
    int forward = 1;
    pthread_mutex_lock(&r->mu);
    if (tl)
        r->last_resp = *d;
    if (tl && tl == r->tok_len && memcmp(tok, r->tok, tl) == 0 && relay_is_notification(d)) {
        if (r->hold == 1) {
            r->held = *d;
            r->hold = 2;
        }
        if (r->hold == 2)
            forward = 0; /* retransmissions too, until released */
        else
            r->kept[r->n_kept++ % RELAY_KEEP] = *d;
    }
    pthread_mutex_unlock(&r->mu);
    if (forward)
        (void)sendto(r->front, d->b, d->n, 0, (const struct sockaddr *)&f->client,
                     sizeof f->client);
}

static inline void *relay_main(void *arg)
{
    relay *r = arg;
    static relay_dgram d;
    while (!atomic_load(&r->stop)) {
        struct pollfd p[1 + RELAY_FLOWS];
        int n = r->n_flows;
        p[0] = (struct pollfd){r->front, POLLIN, 0};
        for (int i = 0; i < n; i++)
            p[1 + i] = (struct pollfd){r->flow[i].back, POLLIN, 0};
        if (poll(p, (nfds_t)(1 + n), 20) <= 0)
            continue;
        if (p[0].revents & POLLIN) {
            struct sockaddr_in from;
            socklen_t flen = sizeof from;
            ssize_t k = recvfrom(r->front, d.b, sizeof d.b, 0, (struct sockaddr *)&from, &flen);
            int f = k > 0 ? relay_flow_of(r, &from) : -1;
            if (f >= 0) {
                pthread_mutex_lock(&r->mu);
                r->client = from;
                r->have_client = 1;
                pthread_mutex_unlock(&r->mu);
                (void)send(r->flow[f].back, d.b, (size_t)k, 0);
            }
        }
        for (int i = 0; i < n; i++) {
            if (!(p[1 + i].revents & POLLIN))
                continue;
            ssize_t k = recv(r->flow[i].back, d.b, sizeof d.b, 0);
            if (k <= 0)
                continue;
            d.n = (size_t)k;
            relay_back(r, &r->flow[i], &d);
        }
    }
    return NULL;
}

/* Starts a relay on 127.0.0.1 (ephemeral port) toward 127.0.0.1:target. 0 on failure. */
static inline int relay_start(relay *r, uint16_t target)
{
    memset(r, 0, sizeof *r);
    pthread_mutex_init(&r->mu, NULL);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t alen = sizeof a;
    r->front = socket(AF_INET, SOCK_DGRAM, 0);
    if (r->front < 0 || bind(r->front, (struct sockaddr *)&a, sizeof a) != 0 ||
        getsockname(r->front, (struct sockaddr *)&a, &alen) != 0)
        return 0;
    r->port = ntohs(a.sin_port);
    r->target = target;
    return pthread_create(&r->thread, NULL, relay_main, r) == 0;
}

static inline void relay_stop(relay *r)
{
    atomic_store(&r->stop, 1);
    pthread_join(r->thread, NULL);
    close(r->front);
    for (int i = 0; i < r->n_flows; i++)
        close(r->flow[i].back);
    pthread_mutex_destroy(&r->mu);
}

/* Watches the token of the last datagram with a token the server sent (the response to the
 * client's last request, e.g. its registration); returns its length. */
static inline size_t relay_watch_last(relay *r, uint8_t *tok)
{
    pthread_mutex_lock(&r->mu);
    const uint8_t *t = NULL;
    size_t tl = relay_token(&r->last_resp, &t);
    memcpy(r->tok, t ? t : r->tok, tl);
    r->tok_len = tl;
    if (tok)
        memcpy(tok, r->tok, tl);
    r->n_kept = 0;
    r->hold = 0;
    pthread_mutex_unlock(&r->mu);
    return tl;
}

/* The i-th notification of the watched token (0 = the first kept): 0 if not kept. */
static inline int relay_kept(relay *r, unsigned i, relay_dgram *out)
{
    pthread_mutex_lock(&r->mu);
    int ok = i < r->n_kept && i + RELAY_KEEP >= r->n_kept;
    if (ok)
        *out = r->kept[i % RELAY_KEEP];
    pthread_mutex_unlock(&r->mu);
    return ok;
}

static inline void relay_hold(relay *r)
{
    pthread_mutex_lock(&r->mu);
    r->hold = 1;
    pthread_mutex_unlock(&r->mu);
}

/* The held notification, once the relay holds it: 1 and *out, else 0. */
static inline int relay_held(relay *r, relay_dgram *out)
{
    pthread_mutex_lock(&r->mu);
    int held = r->hold == 2;
    if (held)
        *out = r->held;
    pthread_mutex_unlock(&r->mu);
    return held;
}

/* Sends d to the client from the relay's address. */
static inline int relay_inject(relay *r, const relay_dgram *d)
{
    pthread_mutex_lock(&r->mu);
    struct sockaddr_in to = r->client;
    int have = r->have_client;
    pthread_mutex_unlock(&r->mu);
    return have && sendto(r->front, d->b, d->n, 0, (struct sockaddr *)&to, sizeof to) ==
                       (ssize_t)d->n;
}

/* Ends the hold: the held notification goes to the client, later ones pass again. */
static inline void relay_release(relay *r)
{
    relay_dgram d;
    int held = relay_held(r, &d);
    pthread_mutex_lock(&r->mu);
    r->hold = 0;
    pthread_mutex_unlock(&r->mu);
    if (held)
        (void)relay_inject(r, &d);
}

#endif

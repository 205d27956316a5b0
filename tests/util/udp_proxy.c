/* Fault-injecting UDP relay on loopback (IPv4 or IPv6) for the hardening tests (see
 * udp_proxy.h). */
#include "udp_proxy.h"
#include "loopback.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CLIENTS 16
#define MAX_QUEUED 256
#define MAX_DGRAM 2048

typedef struct queued {
    uint64_t due_ms;
    int fd;                       /* socket to send from */
    struct sockaddr_storage to;
    socklen_t to_len;
    size_t len;
    uint8_t data[MAX_DGRAM];
} queued;

typedef struct client {
    struct sockaddr_storage addr; /* the client's address, as seen on the listening socket */
    socklen_t addr_len;
    int upstream;                 /* socket connected to the target for this client */
} client;

struct udp_proxy {
    udp_proxy_cfg cfg;
    int family;                   /* AF_INET or AF_INET6: both sides of the relay */
    int listen_fd;
    struct sockaddr_storage target;
    socklen_t target_len;
    client clients[MAX_CLIENTS];
    size_t n_clients;
    queued *queue;                /* MAX_QUEUED entries, len 0 = free */
    uint64_t rng;
    volatile int stop;
    atomic_uint drop_replies;     /* datagrams from the target still to drop */
    atomic_int faults_off;        /* 1: relay without faults */
    pthread_mutex_t last_lock;    /* guards last, last_len */
    uint8_t last[MAX_DGRAM];      /* the last datagram from a client, as received */
    size_t last_len;
    pthread_t thread;
    udp_proxy_stats stats;
    udp_proxy_tap tap;            /* set before the thread starts */
    void *tap_arg;
};

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* xorshift64*: deterministic fault decisions from the seed */
static uint32_t rnd(udp_proxy *p)
{
    p->rng ^= p->rng >> 12;
    p->rng ^= p->rng << 25;
    p->rng ^= p->rng >> 27;
    return (uint32_t)((p->rng * 0x2545F4914F6CDD1DULL) >> 32);
}

static int chance(udp_proxy *p, unsigned pct) { return pct && rnd(p) % 100 < pct; }

static void enqueue(udp_proxy *p, int fd, const struct sockaddr_storage *to, socklen_t to_len,
                    const uint8_t *d, size_t len, uint64_t due)
{
    for (size_t i = 0; i < MAX_QUEUED; i++) {
        if (p->queue[i].len == 0) {
            p->queue[i].due_ms = due;
            p->queue[i].fd = fd;
            p->queue[i].to = *to;
            p->queue[i].to_len = to_len;
            memcpy(p->queue[i].data, d, len);
            p->queue[i].len = len;
            return;
        }
    }
    p->stats.dropped++; /* queue full: behaves like a congested link */
}

/* Applies the configured faults to one datagram and queues what survives. */
static void relay(udp_proxy *p, int fd, const struct sockaddr_storage *to, socklen_t to_len,
                  uint8_t *d, size_t len)
{
    if (atomic_load(&p->faults_off)) {
        enqueue(p, fd, to, to_len, d, len, now_ms());
        p->stats.forwarded++;
        return;
    }
    if (chance(p, p->cfg.drop_pct)) {
        p->stats.dropped++;
        return;
    }
    if (chance(p, p->cfg.corrupt_pct) && len > 0) {
        d[rnd(p) % len] ^= (uint8_t)(1u << (rnd(p) % 8));
        p->stats.corrupted++;
    }
    uint64_t delay = p->cfg.delay_max_ms ? rnd(p) % (p->cfg.delay_max_ms + 1) : 0;
    if (chance(p, p->cfg.reorder_pct)) {
        delay += p->cfg.delay_max_ms + 20; /* behind everything sent meanwhile */
        p->stats.reordered++;
    }
    uint64_t due = now_ms() + delay;
    enqueue(p, fd, to, to_len, d, len, due);
    if (chance(p, p->cfg.dup_pct)) {
        enqueue(p, fd, to, to_len, d, len, due + 1 + rnd(p) % 20);
        p->stats.duplicated++;
    }
    p->stats.forwarded++;
}

/* 1 if a and b are the same address and port (of the proxy's family). */
static int same_addr(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
    if (a->ss_family != b->ss_family)
        return 0;
    if (a->ss_family == AF_INET6) {
        const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
        return x->sin6_port == y->sin6_port &&
               memcmp(&x->sin6_addr, &y->sin6_addr, sizeof x->sin6_addr) == 0;
    }
    const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
    return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
}

static client *client_for(udp_proxy *p, const struct sockaddr_storage *from, socklen_t from_len)
{
    for (size_t i = 0; i < p->n_clients; i++)
        if (same_addr(&p->clients[i].addr, from))
            return &p->clients[i];
    if (p->n_clients == MAX_CLIENTS)
        return NULL;
    int fd = socket(p->family, SOCK_DGRAM, 0);
    if (fd < 0)
        return NULL;
    client *c = &p->clients[p->n_clients++];
    c->addr = *from;
    c->addr_len = from_len;
    c->upstream = fd;
    return c;
}

static void *run(void *arg)
{
    udp_proxy *p = arg;
    uint8_t buf[MAX_DGRAM];
    while (!p->stop) {
        struct pollfd pfd[1 + MAX_CLIENTS];
        size_t n = 0;
        pfd[n++] = (struct pollfd){.fd = p->listen_fd, .events = POLLIN};
        for (size_t i = 0; i < p->n_clients; i++)
            pfd[n++] = (struct pollfd){.fd = p->clients[i].upstream, .events = POLLIN};
        uint64_t t = now_ms(), next = t + 20;
        for (size_t i = 0; i < MAX_QUEUED; i++)
            if (p->queue[i].len && p->queue[i].due_ms < next)
                next = p->queue[i].due_ms;
        poll(pfd, n, next > t ? (int)(next - t) : 0);

        for (size_t i = 0; i < n; i++) {
            if (!(pfd[i].revents & POLLIN))
                continue;
            struct sockaddr_storage from;
            socklen_t fl = sizeof from;
            ssize_t len = recvfrom(pfd[i].fd, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl);
            if (len <= 0)
                continue;
            if (p->tap)
                p->tap(p->tap_arg, i == 0, buf, (size_t)len);
            if (i == 0) {
                pthread_mutex_lock(&p->last_lock);
                memcpy(p->last, buf, (size_t)len);
                p->last_len = (size_t)len;
                pthread_mutex_unlock(&p->last_lock);
                client *c = client_for(p, &from, fl);
                if (c)
                    relay(p, c->upstream, &p->target, p->target_len, buf, (size_t)len);
            } else if (atomic_load(&p->drop_replies) > 0) {
                atomic_fetch_sub(&p->drop_replies, 1);
                p->stats.dropped++;
            } else {
                client *c = &p->clients[i - 1];
                relay(p, p->listen_fd, &c->addr, c->addr_len, buf, (size_t)len);
            }
        }
        t = now_ms();
        for (size_t i = 0; i < MAX_QUEUED; i++) {
            queued *q = &p->queue[i];
            if (q->len && q->due_ms <= t) {
                sendto(q->fd, q->data, q->len, 0, (const struct sockaddr *)&q->to, q->to_len);
                q->len = 0;
            }
        }
    }
    return NULL;
}

/* The proxy on the loopback address of `family`, with a tap (NULL: none). */
static udp_proxy *start(const udp_proxy_cfg *cfg, int family, udp_proxy_tap tap, void *tap_arg,
                        uint16_t target_port, uint16_t *port)
{
    if (family != AF_INET && family != AF_INET6)
        return NULL;
    udp_proxy *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->tap = tap;
    p->tap_arg = tap_arg;
    atomic_init(&p->drop_replies, 0);
    atomic_init(&p->faults_off, 0);
    pthread_mutex_init(&p->last_lock, NULL);
    p->queue = calloc(MAX_QUEUED, sizeof *p->queue);
    p->cfg = *cfg;
    p->rng = cfg->seed ? cfg->seed : 0x9e3779b97f4a7c15ULL;
    p->family = family;
    p->target_len = loopback_addr(family, target_port, &p->target);
    struct sockaddr_storage a;
    socklen_t al = loopback_addr(family, 0, &a);
    p->listen_fd = socket(family, SOCK_DGRAM, 0);
    if (!p->queue || p->listen_fd < 0 || bind(p->listen_fd, (struct sockaddr *)&a, al) != 0 ||
        getsockname(p->listen_fd, (struct sockaddr *)&a, &al) != 0 ||
        pthread_create(&p->thread, NULL, run, p) != 0) {
        if (p->listen_fd >= 0)
            close(p->listen_fd);
        pthread_mutex_destroy(&p->last_lock);
        free(p->queue);
        free(p);
        return NULL;
    }
    *port = loopback_port(&a);
    return p;
}

udp_proxy *udp_proxy_start_af(const udp_proxy_cfg *cfg, int family, uint16_t target_port,
                              uint16_t *port)
{
    return start(cfg, family, NULL, NULL, target_port, port);
}

udp_proxy *udp_proxy_start_tap(const udp_proxy_cfg *cfg, udp_proxy_tap tap, void *tap_arg,
                               uint16_t target_port, uint16_t *port)
{
    return start(cfg, AF_INET, tap, tap_arg, target_port, port);
}

udp_proxy *udp_proxy_start(const udp_proxy_cfg *cfg, uint16_t target_port, uint16_t *port)
{
    return start(cfg, AF_INET, NULL, NULL, target_port, port);
}

void udp_proxy_drop_next_reply(udp_proxy *p)
{
    atomic_fetch_add(&p->drop_replies, 1);
}

size_t udp_proxy_last_request(udp_proxy *p, uint8_t *out, size_t cap)
{
    pthread_mutex_lock(&p->last_lock);
    size_t n = p->last_len <= cap ? p->last_len : 0;
    memcpy(out, p->last, n);
    pthread_mutex_unlock(&p->last_lock);
    return n;
}

void udp_proxy_set_faults(udp_proxy *p, int on)
{
    atomic_store(&p->faults_off, !on);
}

void udp_proxy_stop(udp_proxy *p, udp_proxy_stats *stats)
{
    if (!p)
        return;
    p->stop = 1;
    pthread_join(p->thread, NULL);
    if (stats)
        *stats = p->stats;
    for (size_t i = 0; i < p->n_clients; i++)
        close(p->clients[i].upstream);
    close(p->listen_fd);
    pthread_mutex_destroy(&p->last_lock);
    free(p->queue);
    free(p);
}

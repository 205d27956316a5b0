/* A loopback UDP proxy (IPv4 or IPv6) for fault-injection tests: drops, duplicates,
 * reorders, delays and corrupts datagrams in both directions, deterministically from a
 * seed. */
#ifndef PQCOAP_TEST_UDP_PROXY_H
#define PQCOAP_TEST_UDP_PROXY_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h> /* AF_INET, AF_INET6 */

/** Fault probabilities in percent (0..100) and delays; all zero = a transparent relay. */
typedef struct udp_proxy_cfg {
    unsigned drop_pct;       /* datagram silently lost */
    unsigned dup_pct;        /* datagram delivered twice */
    unsigned reorder_pct;    /* datagram held back behind later ones */
    unsigned corrupt_pct;    /* one random bit flipped */
    unsigned delay_max_ms;   /* each datagram delayed uniformly in [0, delay_max_ms] */
    uint64_t seed;
} udp_proxy_cfg;

/** Counters of what the proxy did, read after udp_proxy_stop. */
typedef struct udp_proxy_stats {
    unsigned long forwarded, dropped, duplicated, reordered, corrupted;
} udp_proxy_stats;

typedef struct udp_proxy udp_proxy;

/** Starts a proxy thread listening on 127.0.0.1 (ephemeral port, returned in *port) that
 *  relays to 127.0.0.1:target_port. Returns NULL on failure. */
udp_proxy *udp_proxy_start(const udp_proxy_cfg *cfg, uint16_t target_port, uint16_t *port);

/** Sees every datagram, and may change data[0..len) in place, before the faults; called on
 *  the proxy's thread, to_target 1 toward the target, 0 back. */
typedef void (*udp_proxy_tap)(void *arg, int to_target, uint8_t *data, size_t len);

/** udp_proxy_start with a tap (NULL: none) and its argument. */
udp_proxy *udp_proxy_start_tap(const udp_proxy_cfg *cfg, udp_proxy_tap tap, void *tap_arg,
                               uint16_t target_port, uint16_t *port);

/** As udp_proxy_start, on the loopback address of `family`: AF_INET (127.0.0.1) or AF_INET6
 *  (::1, listening and relaying to [::1]:target_port). NULL for another family. */
udp_proxy *udp_proxy_start_af(const udp_proxy_cfg *cfg, int family, uint16_t target_port,
                              uint16_t *port);

/** Makes the proxy drop the next datagram that comes back from the target (to any client),
 *  deterministically: for tests of a lost response. Callable from any thread. */
void udp_proxy_drop_next_reply(udp_proxy *p);

/** Copies the last datagram a client sent to the proxy (as received, before any fault) into
 *  out[0..cap) and returns its length; 0 if there was none or it does not fit. For tests
 *  that replay a captured request. Callable from any thread. */
size_t udp_proxy_last_request(udp_proxy *p, uint8_t *out, size_t cap);

/** Switches fault injection off (on = 0: a transparent relay from now on, datagrams already
 *  queued keep their delay) or back on (on = 1). Callable from any thread. */
void udp_proxy_set_faults(udp_proxy *p, int on);

/** Stops the thread, frees the proxy and returns its counters in *stats (may be NULL). */
void udp_proxy_stop(udp_proxy *p, udp_proxy_stats *stats);

#endif

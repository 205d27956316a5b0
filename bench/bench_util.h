/* Helpers shared by the benchmark programs: clocks, CPU time of a process, latency
 * percentiles, the fixed benchmark identities, and a raw CoAP datagram codec for the load
 * generator (which talks UDP directly so that it stays cheaper than the servers it loads). */
#ifndef PQCOAP_BENCH_UTIL_H
#define PQCOAP_BENCH_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "pqcoap/pqcoap.h"
#include "pqcoap/client.h"
#include "pqcoap/server.h"
#include "pqcoap/sign.h"
#include "pqcoap/session.h"
#include "common/buf_internal.h"

/** Server and client ids of the benchmark; their keys come from fixed seeds, so that the
 *  server and the generators (separate processes) agree on them without key files. */
#define BENCH_SERVER_ID "bench-server"
#define BENCH_CLIENT_ID "bench-client"

/** Monotonic time in nanoseconds. */
uint64_t bench_now_ns(void);
/** Milliseconds since the Unix epoch (for protocol timestamps). */
uint64_t bench_wall_ms(void);
/** CPU time (user + system) of this thread, nanoseconds. */
uint64_t bench_thread_cpu_ns(void);
/** CPU time of process `pid` (sum over its live threads) from /proc, nanoseconds; 0 if
 *  unreadable. */
uint64_t bench_proc_cpu_ns(pid_t pid);
/** Resident set size of process `pid` in bytes (VmRSS of /proc/pid/status); 0 if unreadable. */
uint64_t bench_proc_rss(pid_t pid);
/** Allocations counted so far by bench_alloc_count.so in the counter file `path` (its
 *  first 8 bytes, host order); 0 if path is NULL or the file unreadable. */
uint64_t bench_alloc_count(const char *path);

/** Sorts v[0..n) and returns the q-quantile (0..1) by the nearest-rank method; 0 if n = 0. */
double bench_quantile(double *v, size_t n, double q);

/** Deterministic Falcon-512 identity of `name` (the seed is the name). */
pqcoap_err bench_identity(const char *name, pqcoap_identity *out);
/** Deterministic identity of `name` and signature algorithm `alg`. */
pqcoap_err bench_identity_alg(const char *name, const char *alg, pqcoap_identity *out);

/** Suites of the per-suite handshake benchmark: the server holds an identity of each as
 *  "bench-server-<suite name>", the client "suite-client-<suite name>" of the same
 *  algorithm is trusted with it. */
#define BENCH_N_SUITES 4

/** The device of the per-algorithm Mode A v2 measurement (bench_server sign2:ALG trusts it):
 *  ML-DSA-44, whose signatures the generator can make ten times as fast as Falcon-512's. */
#define BENCH_DEVICE_ID "bench-device"
#define BENCH_DEVICE_ALG "ml-dsa-44"

/** Deterministic sign-v1 identity of `name` (another key than bench_identity's: Mode A v1
 *  keys serve nothing else, PROTOCOL.md "Key usage"). */
pqcoap_err bench_identity_v1(const char *name, pqcoap_identity *out);

/** Prints one result line "key value" on stdout (the format run.sh collects). */
void bench_out(const char *key, double value);

/* ---- raw CoAP datagrams (RFC 7252 section 3) ---- */

#define BENCH_CON 0
#define BENCH_NON 1
#define BENCH_ACK 2
#define BENCH_RST 3
#define BENCH_MAX_OPTS 16

/** A decoded datagram: type, message ID and a view (pointers into the datagram). */
typedef struct bench_dgram {
    uint8_t type;
    uint16_t mid;
    pqcoap_msg msg;
    pqcoap_opt opts[BENCH_MAX_OPTS];
} bench_dgram;

/** Encodes a CoAP datagram of `type` and `mid` from the view `m` (options in ascending
 *  order) into out[0..cap). Returns PQCOAP_OK and *out_len, PQCOAP_ERR_BUFFER, or
 *  PQCOAP_ERR_ARG for a token over 8 bytes or options out of order. */
pqcoap_err bench_encode(uint8_t type, uint16_t mid, const pqcoap_msg *m, uint8_t *out,
                        size_t cap, size_t *out_len);

/** Decodes datagram p[0..len) into *d (views into p). Returns PQCOAP_OK or
 *  PQCOAP_ERR_MALFORMED. */
pqcoap_err bench_decode(const uint8_t *p, size_t len, bench_dgram *d);


/* ---- Mode B handshake over the plain pqcoap client ---- */

/** What one handshake cost and carried. */
typedef struct bench_hs {
    size_t init_len, resp_len;      /**< INIT and RESP bytes (the CoAP payloads) */
    size_t sig_i_len, sig_r_len;    /**< signature lengths inside them */
    size_t init_crypto, resp_crypto; /**< bytes of cryptographic objects in them (nonce,
                                          KEM key or ciphertext, X25519 key, signature) */
    uint64_t latency_ns;            /**< INIT built to session ready, client-observed */
    uint64_t cpu_ns;                /**< this thread's CPU over the same span */
} bench_hs;

/** Runs one Mode B handshake (PROTOCOL.md "Handshake") as initiator `id` with identity
 *  `me` against the server of client `cl` (POST pqc/session/init, Content-Format 42),
 *  pinning `server_pk`; session_seq `seq`. On success *out is the client session and
 *  *info (may be NULL) what it cost. Errors of the initiator functions and the client. */
pqcoap_err bench_handshake(pqcoap_client *cl, const char *id, const pqcoap_identity *me,
                           const pqcoap_pubkey *server_pk, uint64_t seq, pqcoap_session *out,
                           bench_hs *info);

/** As bench_handshake for an OSCORE context keyed by the handshake (AEAD `aead`): *out is
 *  the initiator's context (PROTOCOL.md "OSCORE keyed by the handshake"). */
pqcoap_err bench_handshake_oscore(pqcoap_client *cl, const char *id, const pqcoap_identity *me,
                                  const pqcoap_pubkey *server_pk, uint64_t seq, int aead,
                                  pqcoap_oscore_ctx *out);

/** The Master Secret of the benchmark's provisioned OSCORE context (AES-CCM-16-64-128, the
 *  default; the client's Sender ID is empty, the server's 01): 32 hex digits from the
 *  environment variable BENCH_OSCORE_SECRET, which bench/run.sh draws anew for each server
 *  it starts (Sender Sequence Numbers of a generator start at 0), else a fixed value.
 *  Writes the hex digits (NUL-terminated) to hex and the bytes to out. */
void bench_oscore_secret(char hex[33], uint8_t out[16]);

/** Builds (and signs) an INIT of initiator `id` without sending it, into out[0..cap). */
pqcoap_err bench_make_init(const char *id, const pqcoap_identity *me,
                           const pqcoap_pubkey *server_pk, uint64_t seq, uint8_t *out,
                           size_t cap, size_t *out_len);

/** Opens a plain client for coap://127.0.0.1:port/ with `window` requests in flight. */
pqcoap_err bench_client(uint16_t port, size_t window, pqcoap_client **out);

#endif

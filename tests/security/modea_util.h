/* Helpers of the Mode A security regression tests (modea_*.c): capturing the datagram a
 * Mode A client sends, on a raw UDP socket that stands in for its server. */
#ifndef PQCOAP_TEST_MODEA_UTIL_H
#define PQCOAP_TEST_MODEA_UTIL_H

#include "sign/sign_net.h"

/** The local port of socket fd, 0 on failure. */
static inline uint16_t sock_port(int fd)
{
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    if (getsockname(fd, (struct sockaddr *)&a, &len) != 0)
        return 0;
    return ntohs(a.sin_port);
}

/** Starts `req` on `c`, whose URI points at the raw socket `trap`, and copies the datagram
 *  the client sent into out[0..cap). Returns its length, 0 on failure. The request stays in
 *  flight on `c`. */
static inline size_t capture(pqcoap_sign_client *c, int trap, const pqcoap_req *req,
                             uint8_t *out, size_t cap)
{
    uint32_t id;
    if (pqcoap_client_send(pqcoap_sign_client_net(c), req, NULL, &id) != PQCOAP_OK)
        return 0;
    ssize_t n = recv(trap, out, cap, 0);
    return n > 4 ? (size_t)n : 0;
}

/** A v2 POST "echo" with body "go", signed by `id` with `seq` for the recipient kid `to`,
 *  as a CON datagram with message ID `mid` in out[0..cap); with `forge` set one byte of the
 *  signature is flipped. Returns its length, 0 on failure. */
static inline size_t signed_post(const pqcoap_identity *id, const uint8_t *to, uint64_t seq,
                                 uint16_t mid, int forge, uint8_t *out, size_t cap)
{
    static const uint8_t token[] = {0x51, 0x52};
    pqcoap_signer signer;
    uint8_t opt[PQCOAP_SIG_OPT_LEN], payload[2 + PQCOAP_SIGN_OVERHEAD_MAX];
    size_t plen = 0;
    pqcoap_opt opts[2] = {{PQCOAP_OPT_URI_PATH, (const uint8_t *)"echo", 4},
                          {PQCOAP_OPT_PQ_SIG, opt, sizeof opt}};
    pqcoap_msg m = {PQCOAP_POST, token, sizeof token, opts, 1, (const uint8_t *)"go", 2};
    if (pqcoap_signer_from_identity(&signer, id, NULL) != PQCOAP_OK ||
        pqcoap_sign_v2(&signer, seq, &m, to, NULL, opt, payload, sizeof payload, &plen) !=
            PQCOAP_OK)
        return 0;
    if (forge)
        payload[plen - 20] ^= 0x10;
    m.n_opts = 2;
    m.payload = payload;
    m.payload_len = plen;
    return coap_encode(mid, &m, out, cap);
}

/** Opens the SQLite store file `db` into *st and starts a Mode A server of `gw` on it with
 *  room for `max_peers` replay windows; 1 on success. */
static inline int sign_server_start_db(sign_server *srv, const pqcoap_identity *gw,
                                       const char *db, pqcoap_store *st, size_t max_peers)
{
    pqcoap_sign_server_config cfg = PQCOAP_SIGN_SERVER_CONFIG_INIT;
    cfg.max_peers = max_peers;
    return pqcoap_store_open_sqlite(db, st) == PQCOAP_OK && sign_server_start(srv, gw, st, &cfg);
}

/** Stops a server of sign_server_start_db and closes its store. */
static inline void sign_server_stop_db(sign_server *srv, pqcoap_store *st)
{
    sign_server_stop(srv);
    pqcoap_store_close(st);
}

/** Removes the SQLite store file `db` and its -wal and -shm files. */
static inline void remove_db(const char *db)
{
    char side[128];
    const char *suffix[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(side, sizeof side, "%s%s", db, suffix[i]);
        remove(side);
    }
}

/** The CoAP message ID of datagram d. */
static inline uint16_t dgram_mid(const uint8_t *d)
{
    return (uint16_t)(d[2] << 8 | d[3]);
}

#endif

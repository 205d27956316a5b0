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

/** The CoAP message ID of datagram d. */
static inline uint16_t dgram_mid(const uint8_t *d)
{
    return (uint16_t)(d[2] << 8 | d[3]);
}

#endif

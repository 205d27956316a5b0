/* Raw CoAP datagrams for the hardening and security tests (RFC 7252 section 3): options and
 * block-wise POSTs built by hand over a connected UDP socket, and the header, token, a few
 * options and the start of the payload of what comes back. */
#ifndef PQCOAP_TEST_RAW_COAP_H
#define PQCOAP_TEST_RAW_COAP_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include "pqcoap/msg.h"

#define CODE_CONTINUE PQCOAP_CODE(2, 31)

/* Appends option `num` after option `*last` with value v of `len` bytes (at most 268). */
static inline size_t put_opt(uint8_t *d, size_t n, uint16_t *last, uint16_t num,
                             const uint8_t *v, size_t len)
{
    unsigned delta = num - *last;
    uint8_t *head = &d[n++];
    if (delta < 13) {
        *head = (uint8_t)(delta << 4);
    } else if (delta < 269) {
        *head = 13 << 4;
        d[n++] = (uint8_t)(delta - 13);
    } else {
        *head = 14 << 4;
        d[n++] = (uint8_t)((delta - 269) >> 8);
        d[n++] = (uint8_t)(delta - 269);
    }
    if (len < 13) {
        *head |= (uint8_t)len;
    } else {
        *head |= 13;
        d[n++] = (uint8_t)(len - 13);
    }
    if (len)
        memcpy(d + n, v, len);
    *last = num;
    return n + len;
}

/* Appends option `num` holding the unsigned integer v in as few bytes as possible. */
static inline size_t put_uint(uint8_t *d, size_t n, uint16_t *last, uint16_t num, uint32_t v)
{
    uint8_t b[4];
    size_t len = 0;
    for (int shift = 24; shift >= 0; shift -= 8)
        if (len || (v >> shift) & 0xff)
            b[len++] = (uint8_t)(v >> shift);
    return put_opt(d, n, last, num, b, len);
}

/* Writes the header of a CON (con = 1) or NON request with `code`, message ID `mid` and
 * token = mid (2 bytes), then Uri-Path `path` (one segment); returns its length. */
static inline size_t raw_request(uint8_t *d, int con, uint8_t code, uint16_t mid,
                                 const char *path, uint16_t *last)
{
    size_t n = 0;
    d[n++] = con ? 0x42 : 0x52; /* version 1, CON or NON, token length 2 */
    d[n++] = code;
    d[n++] = (uint8_t)(mid >> 8);
    d[n++] = (uint8_t)mid;
    d[n++] = (uint8_t)(mid >> 8);
    d[n++] = (uint8_t)mid;
    *last = 0;
    return put_opt(d, n, last, PQCOAP_OPT_URI_PATH, (const uint8_t *)path, strlen(path));
}

/* A CON POST of `path` (one segment) with token = mid, Block1 (num, m, SZX 6) and, when
 * not 0, Size1 and a one-byte Request-Tag; `payload_len` bytes of 'x'. */
static inline size_t block_post(uint8_t *d, const char *path, uint16_t mid, uint32_t num, int m,
                                uint32_t size1, uint8_t rtag, size_t payload_len)
{
    uint16_t last;
    size_t n = raw_request(d, 1, PQCOAP_POST, mid, path, &last);
    n = put_uint(d, n, &last, PQCOAP_OPT_BLOCK1, num << 4 | (uint32_t)m << 3 | 6);
    if (size1)
        n = put_uint(d, n, &last, PQCOAP_OPT_SIZE1, size1);
    if (rtag)
        n = put_opt(d, n, &last, PQCOAP_OPT_REQUEST_TAG, &rtag, 1);
    if (payload_len) {
        d[n++] = 0xff;
        memset(d + n, 'x', payload_len);
        n += payload_len;
    }
    return n;
}

/* A message as seen on the wire: header, token, the options the tests look at (values up
 * to 4 bytes as unsigned integers) and the start of the payload (NUL-terminated). */
typedef struct answer {
    uint8_t type, code;
    uint16_t mid;
    uint8_t token[8];
    size_t token_len;
    int has_size1, has_max_age, has_block1, has_block2, has_size2;
    uint32_t size1, max_age, block1, block2, size2;
    size_t payload_len;
    char payload[32];
} answer;

/* Reads datagram d (n bytes) into a. 0 if it is not well formed. */
static inline int parse(const uint8_t *d, size_t n, answer *a)
{
    memset(a, 0, sizeof(*a));
    if (n < 4 || (d[0] >> 6) != 1 || (d[0] & 0x0f) > 8 || n < 4u + (d[0] & 0x0f))
        return 0;
    a->type = (d[0] >> 4) & 3;
    a->code = d[1];
    a->mid = (uint16_t)(d[2] << 8 | d[3]);
    a->token_len = d[0] & 0x0f;
    memcpy(a->token, d + 4, a->token_len);
    size_t i = 4u + a->token_len;
    unsigned num = 0;
    while (i < n && d[i] != 0xff) {
        unsigned delta = d[i] >> 4, len = d[i] & 0x0f;
        i++;
        if (delta == 15 || len == 15)
            return 0;
        if (delta == 13 && i < n)
            delta = 13u + d[i++];
        else if (delta == 14 && i + 1 < n)
            delta = 269u + ((unsigned)d[i] << 8 | d[i + 1]), i += 2;
        if (len == 13 && i < n)
            len = 13u + d[i++];
        else if (len == 14 && i + 1 < n)
            len = 269u + ((unsigned)d[i] << 8 | d[i + 1]), i += 2;
        if (i + len > n)
            return 0;
        num += delta;
        uint32_t v = 0;
        for (unsigned k = 0; k < len && len <= 4; k++)
            v = v << 8 | d[i + k];
        if (num == PQCOAP_OPT_SIZE1)
            a->has_size1 = 1, a->size1 = v;
        if (num == PQCOAP_OPT_MAX_AGE)
            a->has_max_age = 1, a->max_age = v;
        if (num == PQCOAP_OPT_BLOCK1)
            a->has_block1 = 1, a->block1 = v;
        if (num == PQCOAP_OPT_BLOCK2)
            a->has_block2 = 1, a->block2 = v;
        if (num == PQCOAP_OPT_SIZE2)
            a->has_size2 = 1, a->size2 = v;
        i += len;
    }
    if (i < n) {
        a->payload_len = n - i - 1;
        memcpy(a->payload, d + i + 1,
               a->payload_len < sizeof(a->payload) ? a->payload_len : sizeof(a->payload) - 1);
    }
    return 1;
}

/* A UDP socket connected to 127.0.0.1:port, with a 2 s receive timeout. */
static inline int raw_socket(uint16_t port)
{
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    struct timeval tv = {2, 0};
    if (s >= 0 && (setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0 ||
                   connect(s, (struct sockaddr *)&a, sizeof(a)) != 0)) {
        close(s);
        s = -1;
    }
    return s;
}

/* Sends the block request and reads the piggybacked answer with the same message ID.
 * Returns 1 and fills *a, or 0 when none came within the receive timeout. */
static inline int exchange(int s, const char *path, uint16_t mid, uint32_t num, int m, uint32_t size1,
                    uint8_t rtag, size_t payload_len, answer *a)
{
    uint8_t d[1200];
    size_t n = block_post(d, path, mid, num, m, size1, rtag, payload_len);
    if (send(s, d, n, 0) != (ssize_t)n)
        return 0;
    for (int tries = 0; tries < 8; tries++) {
        ssize_t got = recv(s, d, sizeof(d), 0);
        if (got < 0)
            return 0;
        if (got >= 4 && (d[2] << 8 | d[3]) == mid && parse(d, (size_t)got, a))
            return 1;
    }
    return 0;
}

#endif

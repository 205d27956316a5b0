/* Raw CoAP over UDP for the Mode B security tests: a session made with the core initiator
 * (INIT posted by a plain client), protected requests built by hand with a chosen message ID
 * and sent from a chosen socket, and the answers as they come off the wire. */
#ifndef PQCOAP_TEST_MODEB_RAW_H
#define PQCOAP_TEST_MODEB_RAW_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include "session/snet.h"

#define RAW_DGRAM_MAX 2048

static inline void raw_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Handshake of `who` as `id` with "server" on 127.0.0.1:port (or [::1]), session_seq `seq`, into *out
 * (client clock: 1 ms). A refusal gives the error its CoAP answer maps to. */
static inline pqcoap_err raw_handshake(uint16_t port, const char *id, const pqcoap_identity *who,
                                       uint64_t seq, pqcoap_session *out)
{
    static pqcoap_initiator st;
    static uint8_t init[PQCOAP_INIT_MAX];
    size_t init_len = 0;
    pqcoap_initiator_cfg cfg = PQCOAP_INITIATOR_CFG_INIT;
    cfg.id = id;
    cfg.sk = who->sk;
    cfg.sk_len = who->pub.alg->sk_len;
    cfg.responder_id = "server";
    cfg.responder_pk = id_server.pub.pk;
    cfg.responder_pk_len = id_server.pub.pk_len;
    pqcoap_err err = pqcoap_initiator_start(&st, &cfg, seq, 0, NULL, init, sizeof init,
                                            &init_len);
    if (err != PQCOAP_OK)
        return err;
    pqcoap_client *cl = snet_plain_client(port);
    pqcoap_req req = snet_init_req(init, init_len);
    pqcoap_reply r = {PQCOAP_MSG_INIT, NULL};
    err = pqcoap_client_request(cl, &req, &r);
    if (err == PQCOAP_OK && r.msg.code == PQCOAP_CODE(2, 4))
        err = pqcoap_initiator_finish(&st, r.msg.payload, r.msg.payload_len, 1, out);
    else if (err == PQCOAP_OK)
        err = pqcoap_error_from_coap(r.msg.code, r.msg.payload, r.msg.payload_len);
    pqcoap_initiator_wipe(&st);
    pqcoap_reply_free(&r);
    pqcoap_client_free(cl);
    return err;
}

/* A CON request datagram into d[0..RAW_DGRAM_MAX): `code`, message ID and token `mid`, one
 * Uri-Path segment `path` (under 13 bytes), and as payload `body` protected in session s
 * (its next n). Returns the datagram length, 0 on failure. */
static inline size_t raw_protected(pqcoap_session *s, uint8_t code, const char *path,
                                   const char *body, uint16_t mid, uint8_t *d)
{
    pqcoap_opt opt = {PQCOAP_OPT_URI_PATH, (const uint8_t *)path, strlen(path)};
    pqcoap_msg m = PQCOAP_MSG_INIT;
    m.code = code;
    m.opts = &opt;
    m.n_opts = 1;
    m.payload = (const uint8_t *)body;
    m.payload_len = strlen(body);
    size_t k = 0, plen = 0;
    uint64_t n;
    d[k++] = 0x42; /* version 1, CON, token length 2 */
    d[k++] = code;
    d[k++] = (uint8_t)(mid >> 8);
    d[k++] = (uint8_t)mid;
    d[k++] = (uint8_t)(mid >> 8);
    d[k++] = (uint8_t)mid;
    d[k++] = (uint8_t)(PQCOAP_OPT_URI_PATH << 4 | opt.len);
    memcpy(d + k, path, opt.len);
    k += opt.len;
    d[k++] = 0xff;
    if (pqcoap_session_protect_request(s, &m, 2, d + k, RAW_DGRAM_MAX - k, &plen, &n) !=
        PQCOAP_OK)
        return 0;
    return k + plen;
}

/* A UDP socket connected to 127.0.0.1:port (or [::1]:port, see snet_family), each one from
 * its own source port, with a 2 s receive timeout. */
static inline int raw_socket_to(uint16_t port)
{
    int s = socket(snet_family, SOCK_DGRAM, 0);
    struct sockaddr_storage a;
    socklen_t al = loopback_addr(snet_family, port, &a);
    struct timeval tv = {2, 0};
    if (s >= 0 && (setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) != 0 ||
                   connect(s, (struct sockaddr *)&a, al) != 0)) {
        close(s);
        s = -1;
    }
    return s;
}

/* An answer as received: the whole datagram, its code and where its payload is. */
typedef struct raw_answer {
    uint8_t d[RAW_DGRAM_MAX];
    size_t len;
    uint8_t code;
    size_t payload_off;             /* == len when there is no payload */
} raw_answer;

/* Offset of the payload of datagram d[0..n) (n when none), skipping header, token and
 * options (RFC 7252 section 3.1); 0 if it is not well formed. *blockwise (may be NULL) is
 * set to 1 if a Block1 or Block2 option is present. */
static inline size_t raw_payload_offset(const uint8_t *d, size_t n, int *blockwise)
{
    if (n < 4 || (d[0] & 0x0f) > 8)
        return 0;
    size_t i = 4u + (d[0] & 0x0f), number = 0;
    if (blockwise)
        *blockwise = 0;
    while (i < n && d[i] != 0xff) {
        size_t delta = d[i] >> 4, len = d[i] & 0x0f;
        size_t ext = delta == 13 ? 1 : delta == 14 ? 2 : 0;
        i++;
        if (delta == 15 || len == 15 || i + ext > n)
            return 0;
        if (ext == 1)
            delta = 13u + d[i];
        else if (ext == 2)
            delta = 269u + ((size_t)d[i] << 8 | d[i + 1]);
        i += ext;
        number += delta;
        if (blockwise && (number == PQCOAP_OPT_BLOCK1 || number == PQCOAP_OPT_BLOCK2))
            *blockwise = 1;
        if (len == 13 && i < n) {
            len = 13u + d[i];
            i += 1;
        } else if (len == 14 && i + 1 < n) {
            len = 269u + ((size_t)d[i] << 8 | d[i + 1]);
            i += 2;
        }
        if (i > n || len > n - i)
            return 0;
        i += len;
    }
    return i < n ? i + 1 : n;
}

/* Sends d[0..n) on socket s and reads the answer carrying message ID `mid` into *a.
 * Returns 1, or 0 when none came within the receive timeout. */
static inline int raw_exchange(int s, const uint8_t *d, size_t n, uint16_t mid, raw_answer *a)
{
    if (send(s, d, n, 0) != (ssize_t)n)
        return 0;
    for (int tries = 0; tries < 8; tries++) {
        ssize_t got = recv(s, a->d, sizeof a->d, 0);
        if (got < 0)
            return 0;
        a->len = (size_t)got;
        if (a->len >= 4 && (a->d[2] << 8 | a->d[3]) == mid) {
            a->code = a->d[1];
            a->payload_off = raw_payload_offset(a->d, a->len, NULL);
            return a->payload_off != 0;
        }
    }
    return 0;
}

/* 1 if the answer's payload is exactly the text t (a diagnostic). */
static inline int raw_payload_is(const raw_answer *a, const char *t)
{
    size_t len = a->len - a->payload_off;
    return len == strlen(t) && memcmp(a->d + a->payload_off, t, len) == 0;
}

#endif

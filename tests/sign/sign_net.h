/* Helpers of the Mode A endpoint tests: a counting echo handler, a Mode A server in a
 * background thread, trust store pinning, and a raw UDP socket with a minimal CoAP encoder
 * for sending hand-made (captured, replayed, tampered) datagrams; over 127.0.0.1, or ::1
 * when a program sets sign_net_family. */
#ifndef PQCOAP_TEST_SIGN_NET_H
#define PQCOAP_TEST_SIGN_NET_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "loopback.h"
#include "net/net_test.h"
#include "pqcoap/sign_endpoint.h"

/* The address family of servers, clients and raw sockets: AF_INET (127.0.0.1) or AF_INET6
 * (::1). */
static int sign_net_family = AF_INET;

/* Number of times a handler ran (the server thread writes, the test thread reads). */
static atomic_int handler_runs;

/* Echoes "echo:" || payload, and each Uri-Query as option 65000. */
static pqcoap_err echo_handler(void *arg, pqcoap_server_req *rq, const pqcoap_msg *req,
                               pqcoap_msgbuf *resp)
{
    (void)arg;
    (void)rq;
    atomic_fetch_add(&handler_runs, 1);
    for (size_t i = 0; i < req->n_opts; i++)
        if (req->opts[i].number == PQCOAP_OPT_URI_QUERY) {
            pqcoap_err err = pqcoap_msgbuf_add_opt(resp, 65000, req->opts[i].value,
                                                   req->opts[i].len);
            if (err != PQCOAP_OK)
                return err;
        }
    if (req->payload_len + 5 > resp->payload_cap)
        return PQCOAP_ERR_TOO_LARGE;
    memcpy(resp->payload, "echo:", 5);
    if (req->payload_len)
        memcpy(resp->payload + 5, req->payload, req->payload_len);
    resp->payload_len = req->payload_len + 5;
    return PQCOAP_OK;
}

/** Size and byte i of the body of "big". */
#define BIG_LEN 5120
#define BIG_BYTE(i) ((uint8_t)((i) * 7 + 3))

/* Answers GET "big" with BIG_LEN bytes. */
static pqcoap_err big_handler(void *arg, pqcoap_server_req *rq, const pqcoap_msg *req,
                              pqcoap_msgbuf *resp)
{
    (void)arg;
    (void)rq;
    (void)req;
    atomic_fetch_add(&handler_runs, 1);
    if (resp->payload_cap < BIG_LEN)
        return PQCOAP_ERR_TOO_LARGE;
    for (size_t i = 0; i < BIG_LEN; i++)
        resp->payload[i] = BIG_BYTE(i);
    resp->payload_len = BIG_LEN;
    return PQCOAP_OK;
}

/* Answers GET "later" with a deferred response "later", completed at once (the layer signs
 * it when the I/O thread sends it). */
static pqcoap_err later_handler(void *arg, pqcoap_server_req *rq, const pqcoap_msg *req,
                                pqcoap_msgbuf *resp)
{
    (void)req;
    (void)resp;
    uint64_t ticket;
    pqcoap_msg answer = {PQCOAP_CODE(2, 5), NULL, 0, NULL, 0, (const uint8_t *)"later", 5};
    atomic_fetch_add(&handler_runs, 1);
    pqcoap_err err = pqcoap_server_defer(rq, &ticket);
    return err != PQCOAP_OK ? err : pqcoap_server_complete(arg, ticket, &answer);
}

/** A Mode A server: its layer state, the layer the server uses (the Mode A layer, or a copy
 *  with a spy in front of its check_request) and the CoAP server running in a thread. */
typedef struct sign_server {
    pqcoap_sign_server *layer;
    pqcoap_layer used;
    test_server ts;
} sign_server;

/* The Mode A layer the spy forwards to, and the seq of the last request it let through. */
static const pqcoap_layer *spied_layer;
static _Atomic uint64_t spied_seq;

/* check_request in front of the Mode A layer's: records the PQ-Sig seq of accepted requests. */
static pqcoap_err spy_check_request(void *ctx, void *state, const pqcoap_exchange *x,
                                    const pqcoap_msg *wire, pqcoap_msgbuf *out,
                                    pqcoap_layer_verdict *verdict)
{
    pqcoap_err err = spied_layer->check_request(ctx, state, x, wire, out, verdict);
    const pqcoap_opt *o = pqcoap_msg_find_opt(wire, PQCOAP_OPT_PQ_SIG);
    uint8_t kid[PQCOAP_KID_LEN];
    uint64_t seq;
    if (err == PQCOAP_OK && *verdict == PQCOAP_LAYER_HANDLE && o &&
        pqcoap_sig_opt_parse(o->value, o->len, kid, &seq) == PQCOAP_OK)
        atomic_store(&spied_seq, seq);
    return err;
}

/** Creates the layer (identity `id`, trust store `store`, settings `cfg` or NULL), a server
 *  on the loopback address of sign_net_family with the echo handler for every method on "echo", GET "big" and GET
 *  "later" (deferred), and starts it. With `spy` set, spy_check_request records accepted seqs in spied_seq (one
 *  spied server at a time). */
static inline int sign_server_start_spy(sign_server *s, const pqcoap_identity *id,
                                        const pqcoap_store *store,
                                        const pqcoap_sign_server_config *cfg, int spy)
{
    static const uint8_t methods[] = {PQCOAP_GET, PQCOAP_POST, PQCOAP_PUT, PQCOAP_DELETE,
                                      PQCOAP_FETCH};
    memset(s, 0, sizeof *s);
    if (pqcoap_sign_server_new(id, store, cfg, &s->layer) != PQCOAP_OK)
        return 0;
    s->used = *pqcoap_sign_server_layer(s->layer);
    if (spy) {
        spied_layer = pqcoap_sign_server_layer(s->layer);
        s->used.check_request = spy_check_request;
    }
    if (!test_server_new(&s->ts, loopback_bind(sign_net_family), &s->used, 0)) {
        pqcoap_sign_server_free(s->layer);
        return 0;
    }
    for (size_t i = 0; i < sizeof methods; i++)
        pqcoap_server_handle(s->ts.srv, "echo", methods[i], echo_handler, NULL);
    pqcoap_server_handle(s->ts.srv, "big", PQCOAP_GET, big_handler, NULL);
    pqcoap_server_handle(s->ts.srv, "later", PQCOAP_GET, later_handler, s->ts.srv);
    return test_server_start(&s->ts);
}

static inline int sign_server_start(sign_server *s, const pqcoap_identity *id,
                                    const pqcoap_store *store,
                                    const pqcoap_sign_server_config *cfg)
{
    return sign_server_start_spy(s, id, store, cfg, 0);
}

static inline void sign_server_stop(sign_server *s)
{
    test_server_end(&s->ts);
    pqcoap_sign_server_free(s->layer);
    s->layer = NULL;
}

static inline uint16_t sign_server_port(const sign_server *s)
{
    return pqcoap_server_port(s->ts.srv);
}

/** Pins `pk` in `store` under `name`. */
static inline pqcoap_err trust(const pqcoap_store *store, const char *name,
                               const pqcoap_pubkey *pk)
{
    pqcoap_peer peer;
    pqcoap_err err = pqcoap_peer_from_pubkey(name, pk, (int64_t)time(NULL), &peer);
    return err == PQCOAP_OK ? pqcoap_store_peer_add(store, &peer) : err;
}

/** Opens a signing client for coap://127.0.0.1:port/path (or [::1]) with blocks of
 *  block_size bytes (0 = default). */
static inline pqcoap_sign_client *sign_client_blocks(uint16_t port, const char *path,
                                                     const pqcoap_identity *id,
                                                     const pqcoap_store *store, int version,
                                                     uint16_t block_size)
{
    char uri[128], msg[160];
    pqcoap_sign_client_config cfg = PQCOAP_SIGN_CLIENT_CONFIG_INIT;
    pqcoap_sign_client *c = NULL;
    cfg.version = version;
    cfg.net.timeout_ms = 5000;
    if (block_size)
        cfg.net.block_size = block_size;
    snprintf(uri, sizeof uri, "coap://%s:%u/%s", loopback_uri_host(sign_net_family), port, path);
    if (pqcoap_sign_client_open(uri, id, store, &cfg, &c, msg, sizeof msg) != PQCOAP_OK)
        fprintf(stderr, "sign client %s: %s\n", uri, msg);
    return c;
}

/** Opens a signing client for coap://127.0.0.1:port/path (or [::1]). */
static inline pqcoap_sign_client *sign_client(uint16_t port, const char *path,
                                              const pqcoap_identity *id,
                                              const pqcoap_store *store, int version)
{
    return sign_client_blocks(port, path, id, store, version, 0);
}

/* ---- raw CoAP over a UDP socket -------------------------------------------------------- */

/* Writes an option delta or length nibble's extension (RFC 7252 section 3.1). */
static inline size_t coap_ext(uint32_t v, uint8_t *nibble, uint8_t *ext)
{
    if (v < 13) {
        *nibble = (uint8_t)v;
        return 0;
    }
    if (v < 269) {
        *nibble = 13;
        ext[0] = (uint8_t)(v - 13);
        return 1;
    }
    *nibble = 14;
    ext[0] = (uint8_t)((v - 269) >> 8);
    ext[1] = (uint8_t)(v - 269);
    return 2;
}

/** Encodes `m` as a CON message with message ID `mid` into out[0..cap); returns its length
 *  (0 if it does not fit). Options must be in encoded order. */
static inline size_t coap_encode(uint16_t mid, const pqcoap_msg *m, uint8_t *out, size_t cap)
{
    size_t n = 0;
    uint16_t prev = 0;
    if (cap < 4 + m->token_len)
        return 0;
    out[n++] = (uint8_t)(0x40 | m->token_len); /* version 1, CON, TKL */
    out[n++] = m->code;
    out[n++] = (uint8_t)(mid >> 8);
    out[n++] = (uint8_t)mid;
    memcpy(out + n, m->token, m->token_len);
    n += m->token_len;
    for (size_t i = 0; i < m->n_opts; i++) {
        uint8_t dn, ln, dext[2], lext[2];
        size_t dl = coap_ext((uint32_t)(m->opts[i].number - prev), &dn, dext);
        size_t ll = coap_ext((uint32_t)m->opts[i].len, &ln, lext);
        if (n + 1 + dl + ll + m->opts[i].len > cap)
            return 0;
        out[n++] = (uint8_t)(dn << 4 | ln);
        memcpy(out + n, dext, dl);
        n += dl;
        memcpy(out + n, lext, ll);
        n += ll;
        memcpy(out + n, m->opts[i].value, m->opts[i].len);
        n += m->opts[i].len;
        prev = m->opts[i].number;
    }
    if (m->payload_len) {
        if (n + 1 + m->payload_len > cap)
            return 0;
        out[n++] = 0xff;
        memcpy(out + n, m->payload, m->payload_len);
        n += m->payload_len;
    }
    return n;
}

/** A UDP socket on 127.0.0.1 or ::1 (ephemeral port) with a 5 s receive timeout; -1 on
 *  failure. */
static inline int raw_socket(void)
{
    int fd = loopback_socket(sign_net_family, NULL);
    struct timeval tv = {5, 0};
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) != 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

/** As raw_exchange, and the whole answer datagram goes to answer[0..RAW_ANSWER_MAX) with
 *  its length in *answer_len (answer may be NULL). */
#define RAW_ANSWER_MAX 2048
static inline int raw_exchange_answer(int fd, uint16_t port, const uint8_t *dgram, size_t len,
                                      uint16_t mid, char *diag, size_t cap, uint8_t *answer,
                                      size_t *answer_len)
{
    struct sockaddr_storage to;
    socklen_t tl = loopback_addr(sign_net_family, port, &to);
    if (sendto(fd, dgram, len, 0, (struct sockaddr *)&to, tl) != (ssize_t)len)
        return -1;
    for (int tries = 0; tries < 8; tries++) {
        uint8_t in[RAW_ANSWER_MAX];
        ssize_t n = recv(fd, in, sizeof in, 0);
        if (n < 0)
            return -1;
        if (n < 4 || (size_t)((in[2] << 8) | in[3]) != mid)
            continue;
        if (answer) {
            memcpy(answer, in, (size_t)n);
            *answer_len = (size_t)n;
        }
        /* An unsigned error answer has no options: its diagnostic follows the token. */
        size_t at = 4 + (in[0] & 15u);
        if (diag && cap) {
            size_t plen = at < (size_t)n && in[at] == 0xff ? (size_t)n - at - 1 : 0;
            if (plen >= cap)
                plen = cap - 1;
            if (plen)
                memcpy(diag, in + at + 1, plen);
            diag[plen] = '\0';
        }
        return in[1];
    }
    return -1;
}

/** Sends dgram[0..len) to 127.0.0.1:port (or [::1]) and returns the code of the answer with message ID
 *  `mid` (or -1 when none came). For an answer without options (an unsigned refusal) its
 *  payload goes to diag[0..cap) NUL-terminated, else diag is ""; diag may be NULL. Other
 *  datagrams are skipped. */
static inline int raw_exchange(int fd, uint16_t port, const uint8_t *dgram, size_t len,
                               uint16_t mid, char *diag, size_t cap)
{
    return raw_exchange_answer(fd, port, dgram, len, mid, diag, cap, NULL, NULL);
}

#endif

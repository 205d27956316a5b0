/* The client against a hostile Block2 server (a raw UDP socket on loopback): a Size2 above
 * the client's body limit on the first block ends the request at once with
 * PQCOAP_ERR_TOO_LARGE; endless blocks without Size2 end it at the first block past the limit,
 * so the blocks the client asks for (and the memory it holds) stay bounded by the limit; the
 * Mode A and Mode B clients, which sit on this client, stop the same way; a block that comes
 * without its Block2 option is not taken for the rest of the body; honest block-wise bodies
 * up to the limit still arrive whole. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include "check.h"
#include "crypto/crypto_internal.h" /* secret key length of an identity's algorithm */
#include "hardening/raw_coap.h"
#include "net/net_test.h"
#include "pqcoap/keys.h"
#include "pqcoap/session_endpoint.h"
#include "pqcoap/sign_endpoint.h"
#include "pqcoap/store.h"

#define LIMIT 4096              /* the clients' max_body */
#define HUGE_SIZE2 (64u << 20)  /* what the hostile server announces */
#define MAX_ANSWERS 300         /* the server falls silent after this many blocks */

/* A server that answers every request with blocks of a body of `total` bytes (0 = endless,
 * every block with M=1), with Size2 = size2 on block 0 when size2 is not 0, and 2.31 to every
 * Block1 block but the last. */
typedef struct hostile {
    int fd;
    uint16_t port;
    uint32_t size2;
    size_t total;
    int unblocked;              /* blocks after block 0 come without Block2 option */
    atomic_int asked;           /* requests answered with a Block2 block */
    atomic_int stop;
    pthread_t thread;
} hostile;

static uint8_t body_byte(size_t offset)
{
    return (uint8_t)('a' + offset % 26);
}

static void answer_request(hostile *h, const uint8_t *d, size_t n, const struct sockaddr *from,
                           socklen_t from_len)
{
    answer q;
    if (!parse(d, n, &q) || q.code == 0 || q.code >= 32 || q.type > 1)
        return;
    uint8_t out[1400];
    size_t o = 0;
    uint16_t last = 0;
    out[o++] = (uint8_t)(0x40 | (q.type == 0 ? 2 : 1) << 4 | q.token_len); /* ACK or NON */
    out[o++] = 0;
    out[o++] = (uint8_t)(q.mid >> 8);
    out[o++] = (uint8_t)(q.mid + (q.type == 0 ? 0 : 1));
    memcpy(out + o, q.token, q.token_len);
    o += q.token_len;
    if (q.has_block1 && (q.block1 & 8)) {
        out[1] = CODE_CONTINUE;
        o = put_uint(out, o, &last, PQCOAP_OPT_BLOCK1, q.block1);
    } else {
        if (atomic_load(&h->asked) >= MAX_ANSWERS)
            return;
        atomic_fetch_add(&h->asked, 1);
        uint32_t szx = q.has_block2 && (q.block2 & 7) < 6 ? (q.block2 & 7) : 6;
        size_t bs = (size_t)16 << szx, offset = (size_t)(q.block2 >> 4) * bs, len = bs;
        int more = 1;
        if (h->total) {
            len = offset < h->total ? h->total - offset : 0;
            if (len > bs)
                len = bs;
            more = offset + len < h->total;
        }
        out[1] = q.code == PQCOAP_GET ? PQCOAP_CODE(2, 5) : PQCOAP_CODE(2, 4);
        if (!h->unblocked || offset == 0)
            o = put_uint(out, o, &last, PQCOAP_OPT_BLOCK2,
                         (uint32_t)(offset / bs) << 4 | (uint32_t)more << 3 | szx);
        if (q.has_block1)
            o = put_uint(out, o, &last, PQCOAP_OPT_BLOCK1, q.block1);
        if (h->size2 && offset == 0)
            o = put_uint(out, o, &last, PQCOAP_OPT_SIZE2, h->size2);
        if (len) {
            out[o++] = 0xff;
            for (size_t i = 0; i < len; i++)
                out[o++] = body_byte(offset + i);
        }
    }
    sendto(h->fd, out, o, 0, from, from_len);
}

static void *hostile_main(void *arg)
{
    hostile *h = arg;
    while (!atomic_load(&h->stop)) {
        uint8_t d[1500];
        struct sockaddr_storage from;
        socklen_t from_len = sizeof(from);
        ssize_t n = recvfrom(h->fd, d, sizeof(d), 0, (struct sockaddr *)&from, &from_len);
        if (n > 0)
            answer_request(h, d, (size_t)n, (struct sockaddr *)&from, from_len);
    }
    return NULL;
}

static int hostile_start(hostile *h, uint32_t size2, size_t total, int unblocked)
{
    memset(h, 0, sizeof(*h));
    h->size2 = size2;
    h->total = total;
    h->unblocked = unblocked;
    h->fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a;
    socklen_t alen = sizeof(a);
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct timeval tv = {0, 100000}; /* lets the loop see `stop` */
    if (h->fd < 0 || bind(h->fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
        getsockname(h->fd, (struct sockaddr *)&a, &alen) != 0 ||
        setsockopt(h->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0)
        return 0;
    h->port = ntohs(a.sin_port);
    return pthread_create(&h->thread, NULL, hostile_main, h) == 0;
}

/* Stops the server; returns how many Block2 blocks it was asked for. */
static int hostile_stop(hostile *h)
{
    atomic_store(&h->stop, 1);
    pthread_join(h->thread, NULL);
    close(h->fd);
    return atomic_load(&h->asked);
}

static pqcoap_client_config client_cfg(uint16_t block_size)
{
    pqcoap_client_config cfg = PQCOAP_CLIENT_CONFIG_INIT;
    cfg.max_body = LIMIT;
    cfg.block_size = block_size;
    cfg.timeout_ms = 4000;
    cfg.ack_timeout_ms = 1000;
    return cfg;
}

/* A plain GET of the hostile server's body; returns the client's result and, when the GET
 * succeeds, checks that the whole body of body_len bytes arrived. */
static pqcoap_err plain_get(const hostile *h, uint16_t block_size, size_t body_len)
{
    char uri[64];
    snprintf(uri, sizeof(uri), "coap://127.0.0.1:%u/big", h->port);
    pqcoap_client_config cfg = client_cfg(block_size);
    pqcoap_client *cl = test_client(uri, &cfg);
    CHECK(cl != NULL);
    if (!cl)
        return PQCOAP_ERR_IO;
    pqcoap_req req = PQCOAP_REQ_INIT;
    pqcoap_reply r;
    pqcoap_err err = pqcoap_client_request(cl, &req, &r);
    if (err == PQCOAP_OK) {
        int same = r.msg.payload_len == body_len;
        for (size_t i = 0; same && i < body_len; i++)
            same = r.msg.payload[i] == body_byte(i);
        CHECK(same);
    } else {
        fprintf(stderr, "  plain GET: %s\n", pqcoap_client_last_error(cl));
    }
    pqcoap_reply_free(&r);
    pqcoap_client_free(cl);
    return err;
}

/* Plain client: Size2 too large, endless blocks, honest bodies. */
static void test_plain(void)
{
    hostile h;
    /* Size2 far above the limit on block 0: refused at once, no second block asked for. */
    CHECK(hostile_start(&h, HUGE_SIZE2, 0, 0));
    CHECK_EQ_INT(plain_get(&h, 1024, 0), PQCOAP_ERR_TOO_LARGE);
    CHECK_EQ_INT(hostile_stop(&h), 1);
    /* One byte too many announced. */
    CHECK(hostile_start(&h, LIMIT + 1, LIMIT + 1, 0));
    CHECK_EQ_INT(plain_get(&h, 1024, 0), PQCOAP_ERR_TOO_LARGE);
    CHECK_EQ_INT(hostile_stop(&h), 1);
    /* No Size2, blocks with M=1 without end: the client stops at the first block past the
     * limit (blocks 0..3 fill it, block 4 is refused). */
    CHECK(hostile_start(&h, 0, 0, 0));
    CHECK_EQ_INT(plain_get(&h, 1024, 0), PQCOAP_ERR_TOO_LARGE);
    CHECK_EQ_INT(hostile_stop(&h), LIMIT / 1024 + 1);
    /* The same in 64-byte blocks. */
    CHECK(hostile_start(&h, 0, 0, 0));
    CHECK_EQ_INT(plain_get(&h, 64, 0), PQCOAP_ERR_TOO_LARGE);
    CHECK_EQ_INT(hostile_stop(&h), LIMIT / 64 + 1);
    /* One byte past the limit, no Size2: refused at the block holding that byte. */
    CHECK(hostile_start(&h, 0, LIMIT + 1, 0));
    CHECK_EQ_INT(plain_get(&h, 1024, 0), PQCOAP_ERR_TOO_LARGE);
    CHECK_EQ_INT(hostile_stop(&h), LIMIT / 1024 + 1);
    /* Block 1 comes as a whole response of its own (no Block2): not taken for the body. */
    CHECK(hostile_start(&h, 0, 3000, 1));
    CHECK_EQ_INT(plain_get(&h, 1024, 0), PQCOAP_ERR_MALFORMED);
    CHECK_EQ_INT(hostile_stop(&h), 2);
    /* Honest bodies: exactly the limit, with Size2, in 1024- and 64-byte blocks. */
    CHECK(hostile_start(&h, LIMIT, LIMIT, 0));
    CHECK_EQ_INT(plain_get(&h, 1024, LIMIT), PQCOAP_OK);
    CHECK_EQ_INT(hostile_stop(&h), LIMIT / 1024);
    CHECK(hostile_start(&h, 0, LIMIT - 100, 0));
    CHECK_EQ_INT(plain_get(&h, 64, LIMIT - 100), PQCOAP_OK);
    CHECK_EQ_INT(hostile_stop(&h), (LIMIT - 100 + 63) / 64);
}

static pqcoap_identity me, server; /* the clients' identity and the key they pin */
static pqcoap_store store;          /* the clients' counters */

/* A GET by a Mode A client (session = 0) or the handshake of a Mode B client (session = 1)
 * with the hostile server: the RESP of the handshake, like every response, arrives through
 * the same client. Returns the result. */
static pqcoap_err layered_request(const hostile *h, int session)
{
    char uri[64], msg[160];
    snprintf(uri, sizeof(uri), "coap://127.0.0.1:%u/big", h->port);
    pqcoap_err err = PQCOAP_ERR_ARG;
    if (!session) {
        pqcoap_sign_client_config cfg = PQCOAP_SIGN_CLIENT_CONFIG_INIT;
        cfg.net = client_cfg(1024);
        pqcoap_sign_client *c = NULL;
        pqcoap_reply r;
        memset(&r, 0, sizeof(r));
        if (pqcoap_sign_client_open(uri, &me, &store, &cfg, &c, msg, sizeof(msg)) == PQCOAP_OK &&
            pqcoap_sign_client_pin(c, &server.pub) == PQCOAP_OK)
            err = pqcoap_sign_client_get(c, NULL, &r);
        pqcoap_reply_free(&r);
        pqcoap_sign_client_free(c);
        return err;
    }
    pqcoap_session_client_config cfg = PQCOAP_SESSION_CLIENT_CONFIG_INIT;
    cfg.id = "client";
    cfg.sk = me.sk;
    cfg.sk_len = me.pub.alg->sk_len;
    cfg.server_id = "server";
    cfg.server_pk = server.pub.pk;
    cfg.server_pk_len = server.pub.pk_len;
    cfg.store = &store;
    cfg.coap = client_cfg(1024);
    pqcoap_session_client *sc = NULL;
    if (pqcoap_session_client_open(uri, &cfg, &sc, msg, sizeof(msg)) == PQCOAP_OK)
        err = pqcoap_session_client_connect(sc);
    pqcoap_session_client_free(sc);
    return err;
}

/* Mode A and Mode B clients are refused alike, before any signature is checked. */
static void test_layers(void)
{
    for (int session = 0; session <= 1; session++) {
        for (int endless = 0; endless <= 1; endless++) {
            hostile h;
            CHECK(hostile_start(&h, endless ? 0 : HUGE_SIZE2, 0, 0));
            CHECK_EQ_INT(layered_request(&h, session), PQCOAP_ERR_TOO_LARGE);
            /* the limit is the body's plus the layer's overhead (Mode A: the longest
             * signature of any algorithm) */
            size_t overhead = session ? PQCOAP_PROTECTED_REQ_OVERHEAD_MAX
                                      : PQCOAP_SIGN_OVERHEAD_MAX;
            CHECK_EQ_INT(hostile_stop(&h), endless ? (LIMIT + overhead) / 1024 + 1 : 1);
        }
    }
}

int main(void)
{
    test_plain();
    if (pqcoap_identity_generate("falcon-512", NULL, &me) != PQCOAP_OK ||
        pqcoap_identity_generate("falcon-512", NULL, &server) != PQCOAP_OK ||
        pqcoap_store_open_memory(&store) != PQCOAP_OK) {
        fprintf(stderr, "set-up failed\n");
        return 2;
    }
    test_layers();
    pqcoap_store_close(&store);
    pqcoap_identity_wipe(&me);
    pqcoap_identity_wipe(&server);
    return check_done();
}

/* The server's block-wise state over real UDP on loopback. A Block1 request leaves nothing
 * that changes the next one: a new body under the same Request-Tag with another
 * Content-Format is a new transfer (not "4.08 Content-Format mismatch" from state kept after
 * the first). A Block2 response's later blocks come from the kept response, with block 0's
 * ETag and without running the handler again, also when asked for after a pause, twice, or
 * after the last one was sent; a handshake completes when its client asks for block 1 of the
 * RESP late, and when every datagram arrives twice. After 300 handshakes of distinct initiators the session
 * server keeps at most max_transfers responses and Block1 bodies, and protected requests,
 * small and block-wise, still work. */
#include <poll.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "snet.h"
#include "udp_proxy.h"
#include "net/blockwise_internal.h"

#define HANDSHAKES 300

/* ---- a raw CoAP client: datagrams made and read here ----------------------------------- */

typedef struct ropt {
    uint16_t num;
    const uint8_t *val;
    size_t len;
} ropt;

static int fd = -1;
static struct sockaddr_storage server_addr;
static socklen_t server_len;
static uint16_t next_mid = 0x4000;
static atomic_int big_runs;

/* Writes option header nibble `v` (delta or length) and its extension. */
static void ext(uint8_t *h, uint8_t *m, size_t *n, unsigned v, int shift)
{
    if (v < 13) {
        *h |= (uint8_t)(v << shift);
    } else if (v < 269) {
        *h |= (uint8_t)(13 << shift);
        m[(*n)++] = (uint8_t)(v - 13);
    } else {
        *h |= (uint8_t)(14 << shift);
        m[(*n)++] = (uint8_t)((v - 269) >> 8);
        m[(*n)++] = (uint8_t)(v - 269);
    }
}

/* A CON request (options in increasing number order); returns its length. */
static size_t request(uint8_t *m, uint8_t code, uint16_t mid, const char *tok, const ropt *o,
                      size_t n_opts, const uint8_t *payload, size_t len)
{
    size_t n = 0, tkl = strlen(tok);
    unsigned last = 0;
    m[n++] = (uint8_t)(0x40 | tkl);
    m[n++] = code;
    m[n++] = (uint8_t)(mid >> 8);
    m[n++] = (uint8_t)mid;
    memcpy(m + n, tok, tkl);
    n += tkl;
    for (size_t i = 0; i < n_opts; i++) {
        size_t h = n++;
        m[h] = 0;
        ext(&m[h], m, &n, o[i].num - last, 4);
        ext(&m[h], m, &n, (unsigned)o[i].len, 0);
        last = o[i].num;
        if (o[i].len)
            memcpy(m + n, o[i].val, o[i].len);
        n += o[i].len;
    }
    if (len) {
        m[n++] = 0xff;
        memcpy(m + n, payload, len);
        n += len;
    }
    return n;
}

/* Sends m[0..n) to the server and serves it until the answer arrives; the answer parsed
 * (caller deletes), or NULL. */
static coap_pdu_t *exchange(pqcoap_server *srv, const uint8_t *m, size_t n)
{
    static uint8_t in[2048];
    CHECK(sendto(fd, m, n, 0, (struct sockaddr *)&server_addr, server_len) == (ssize_t)n);
    for (int i = 0; i < 300; i++) {
        CHECK_EQ_INT(pqcoap_server_step(srv, 10), PQCOAP_OK);
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, 0) != 1)
            continue;
        ssize_t got = recv(fd, in, sizeof in, 0);
        coap_pdu_t *pdu = coap_pdu_init(0, 0, 0, sizeof in);
        if (got > 0 && pdu && coap_pdu_parse(COAP_PROTO_UDP, in, (size_t)got, pdu))
            return pdu;
        coap_delete_pdu(pdu);
        return NULL;
    }
    return NULL;
}

/* The unsigned value of option `num` of pdu, or -1 when absent. */
static long opt_uint(const coap_pdu_t *pdu, uint16_t num)
{
    coap_opt_iterator_t it;
    coap_opt_t *o = coap_check_option(pdu, num, &it);
    return o ? (long)coap_decode_var_bytes(coap_opt_value(o), coap_opt_length(o)) : -1;
}

/* The value of option `num` of pdu into v (8 bytes); its length, 0 when absent. */
static size_t opt_bytes(const coap_pdu_t *pdu, uint16_t num, uint8_t v[8])
{
    coap_opt_iterator_t it;
    coap_opt_t *o = coap_check_option(pdu, num, &it);
    size_t len = o && coap_opt_length(o) <= 8 ? coap_opt_length(o) : 0;
    if (len)
        memcpy(v, coap_opt_value(o), len);
    return len;
}

static void pause_serving(pqcoap_server *srv, int ms)
{
    for (int i = 0; i < ms / 10; i++)
        CHECK_EQ_INT(pqcoap_server_step(srv, 10), PQCOAP_OK);
}

/* "big", GET: counts its runs, answers BIG_LEN bytes. */
static pqcoap_err h_big_counted(void *arg, pqcoap_server_req *rq, const pqcoap_msg *req,
                                pqcoap_msgbuf *resp)
{
    atomic_fetch_add(&big_runs, 1);
    return h_big(arg, rq, req, resp);
}

/* ---- Block1: one transfer's state ends with it ----------------------------------------- */

/* POST "echo" of body[0..32) in two 16-byte blocks under Request-Tag "T1" with
 * Content-Format `cf`: 2.31 with Block1 0/M for the first, the echo for the second. */
static void post_two_blocks(pqcoap_server *srv, uint8_t cf, const char *tok)
{
    uint8_t m[256], body[32], b1, size1 = sizeof body;
    for (size_t i = 0; i < sizeof body; i++)
        body[i] = (uint8_t)(cf + i);
    uint8_t cf_val[1] = {cf};
    for (unsigned num = 0; num < 2; num++) {
        b1 = (uint8_t)(num << 4 | (num == 0 ? 8 : 0)); /* SZX 0: 16 bytes */
        ropt o[] = {{COAP_OPTION_URI_PATH, (const uint8_t *)"echo", 4},
                    {COAP_OPTION_CONTENT_FORMAT, cf_val, cf ? 1 : 0},
                    {COAP_OPTION_BLOCK1, &b1, 1},
                    {COAP_OPTION_SIZE1, &size1, 1},
                    {COAP_OPTION_RTAG, (const uint8_t *)"T1", 2}};
        size_t n = request(m, COAP_REQUEST_CODE_POST, next_mid++, tok, o, 5, body + 16 * num, 16);
        coap_pdu_t *a = exchange(srv, m, n);
        CHECK(a != NULL);
        if (!a)
            return;
        if (num == 0) {
            CHECK_EQ_INT(coap_pdu_get_code(a), COAP_RESPONSE_CODE(231));
            CHECK_EQ_INT(opt_uint(a, COAP_OPTION_BLOCK1), 0x08); /* block 0, M, SZX 0 */
        } else {
            size_t len;
            const uint8_t *data;
            CHECK_EQ_INT(coap_pdu_get_code(a) >> 5, 2);
            CHECK(coap_get_data(a, &len, &data) && len == sizeof body &&
                  memcmp(data, body, len) == 0);
        }
        coap_delete_pdu(a);
    }
}

static void test_block1_state_ends(pqcoap_server *srv)
{
    post_two_blocks(srv, 0, "p1");
    /* the same Request-Tag again after the first body was served: a new body */
    post_two_blocks(srv, 42, "p2");
}

/* ---- Block2: later blocks from the kept response --------------------------------------- */

/* Asks for block num of "big" (SZX 6) under token tok and message ID mid; checks the block
 * against the body and, past block 0, its ETag against etag0. Returns the answer's M. */
static int get_block(pqcoap_server *srv, uint32_t num, const char *tok, uint16_t mid,
                     uint8_t etag0[8], size_t *etag0_len)
{
    uint8_t m[64], b2[3], etag[8];
    size_t b2_len = coap_encode_var_safe(b2, sizeof b2, num << 4 | 6);
    ropt o[] = {{COAP_OPTION_URI_PATH, (const uint8_t *)"big", 3},
                {COAP_OPTION_BLOCK2, b2, b2_len}};
    coap_pdu_t *a = exchange(srv, m, request(m, COAP_REQUEST_CODE_GET, mid, tok, o, 2, NULL, 0));
    CHECK(a != NULL);
    if (!a)
        return 0;
    CHECK_EQ_INT(coap_pdu_get_code(a), COAP_RESPONSE_CODE(205));
    long v = opt_uint(a, COAP_OPTION_BLOCK2);
    CHECK(v >= 0 && (uint32_t)v >> 4 == num && (v & 7) == 6);
    size_t len, etag_len = opt_bytes(a, COAP_OPTION_ETAG, etag);
    const uint8_t *data;
    CHECK(etag_len > 0);
    if (num == 0) {
        CHECK_EQ_INT(opt_uint(a, COAP_OPTION_SIZE2), BIG_LEN);
        memcpy(etag0, etag, etag_len);
        *etag0_len = etag_len;
    } else {
        CHECK(etag_len == *etag0_len && memcmp(etag, etag0, etag_len) == 0);
    }
    int ok = coap_get_data(a, &len, &data) && len > 0 && (size_t)num * 1024 + len <= BIG_LEN;
    for (size_t i = 0; ok && i < len; i++)
        ok = data[i] == big_byte((size_t)num * 1024 + i);
    CHECK(ok);
    int more = v >= 0 && (v & 8) != 0;
    coap_delete_pdu(a);
    return more;
}

static void test_block2_kept(pqcoap_server *srv)
{
    uint8_t etag0[8];
    size_t etag0_len = 0;
    unsigned replies, transfers;
    CHECK(get_block(srv, 0, "g0", next_mid++, etag0, &etag0_len));
    CHECK_EQ_INT(atomic_load(&big_runs), 1);
    pause_serving(srv, 1000); /* a client that asks for block 1 late */
    CHECK(get_block(srv, 1, "g1", next_mid++, etag0, &etag0_len));
    CHECK(get_block(srv, 1, "g2", next_mid++, etag0, &etag0_len)); /* asked for twice */
    uint16_t mid = next_mid++;
    CHECK(get_block(srv, 2, "g3", mid, etag0, &etag0_len));
    CHECK(get_block(srv, 2, "g3", mid, etag0, &etag0_len)); /* its retransmission */
    uint32_t num = 3;
    while (num < 40 && get_block(srv, num, "g4", next_mid++, etag0, &etag0_len))
        num++;
    CHECK_EQ_INT(num, BIG_LEN / 1024 - 1);
    CHECK(!get_block(srv, num, "g5", next_mid++, etag0, &etag0_len)); /* the last again */
    CHECK_EQ_INT(atomic_load(&big_runs), 1);
    pqcoap_server_bw_counts(srv, &replies, &transfers);
    CHECK_EQ_INT(replies, 1);
    /* PQCOAP_BW_SENT_KEEP_MS after its last block the response is let go, also while no
     * Block1 transfer is open */
    pause_serving(srv, PQCOAP_BW_SENT_KEEP_MS + 500);
    pqcoap_server_bw_counts(srv, &replies, &transfers);
    CHECK_EQ_INT(transfers, 0);
    CHECK_EQ_INT(replies, 0);
}

static void plain_server_tests(void)
{
    pqcoap_server_config cfg = PQCOAP_SERVER_CONFIG_INIT;
    pqcoap_server *srv = NULL;
    char msg[160];
    uint16_t port = 0;
    cfg.addr = loopback_bind(AF_INET);
    cfg.port = 0;
    snet_must(pqcoap_server_create(&cfg, &srv, msg, sizeof msg) == PQCOAP_OK, msg);
    snet_must(pqcoap_server_handle(srv, "echo", PQCOAP_POST, h_echo, NULL) == PQCOAP_OK, "echo");
    snet_must(pqcoap_server_handle(srv, "big", PQCOAP_GET, h_big_counted, NULL) == PQCOAP_OK,
              "big");
    server_len = loopback_addr(AF_INET, pqcoap_server_port(srv), &server_addr);
    fd = loopback_socket(AF_INET, &port);
    snet_must(fd >= 0, "socket");
    test_block2_kept(srv); /* first: no Block1 transfer is open or kept meanwhile */
    test_block1_state_ends(srv);
    close(fd);
    pqcoap_server_free(srv);
}

/* ---- handshakes of distinct initiators --------------------------------------------------- */

static atomic_int held; /* the tap held a request for block 1 back */

/* The tap: holds the first request for block 1 of a response back for 1.5 s. */
static void hold_block1(void *arg, int to_target, uint8_t *data, size_t len)
{
    coap_block_t b;
    (void)arg;
    if (!to_target || atomic_load(&held))
        return;
    coap_pdu_t *pdu = coap_pdu_init(0, 0, 0, len + 16);
    if (pdu && coap_pdu_parse(COAP_PROTO_UDP, data, len, pdu) &&
        coap_get_block(pdu, COAP_OPTION_BLOCK2, &b) && b.num == 1) {
        struct timespec ts = {1, 500000000L};
        atomic_store(&held, 1);
        nanosleep(&ts, NULL);
    }
    coap_delete_pdu(pdu);
}

/* A handshake of `id` (key who) through a proxy with faults `pc` and tap `tap`, then a
 * protected request: 1 if both worked. */
static int handshake_through(uint16_t server_port, const udp_proxy_cfg *pc, udp_proxy_tap tap,
                             const char *id, const pqcoap_identity *who, pqcoap_store *cstore,
                             udp_proxy_stats *st)
{
    uint16_t port = 0;
    udp_proxy *p = udp_proxy_start_tap(pc, tap, NULL, server_port, &port);
    snet_must(p != NULL, "proxy");
    pqcoap_session_client_config cc = snet_client_cfg(id, who, &id_server, cstore);
    pqcoap_session_client *sc = snet_client(port, &cc);
    int ok = snet_echo(sc, PQCOAP_POST, id) && snet_echo(sc, PQCOAP_GET, "then");
    pqcoap_session_client_free(sc);
    udp_proxy_stop(p, st);
    return ok;
}

static void test_many_handshakes(void)
{
    pqcoap_store cstore;
    snet_server t;
    unsigned replies, transfers;
    CHECK_EQ_INT(pqcoap_store_open_memory(&cstore), PQCOAP_OK);
    static pqcoap_identity who[HANDSHAKES];
    for (int k = 0; k < HANDSHAKES; k++) {
        char id[32];
        snprintf(id, sizeof id, "init-%d", k);
        snet_must(pqcoap_identity_generate("ml-dsa-44", NULL, &who[k]) == PQCOAP_OK, "key");
        fx_trust(&trust, id, &who[k]);
    }
    pqcoap_session_server_config cfg = snet_server_cfg(&trust, 0);
    cfg.handshakes_per_s = 100000; /* all from 127.0.0.1 */
    cfg.max_sessions = HANDSHAKES + 2;
    snet_server_start(&t, &cfg);
    pqcoap_session_client *last = NULL;
    int ok = 1;
    for (int k = 0; k < HANDSHAKES && ok; k++) {
        char id[32];
        snprintf(id, sizeof id, "init-%d", k);
        pqcoap_session_client_config cc = snet_client_cfg(id, &who[k], &id_server, &cstore);
        pqcoap_session_client *sc = snet_client(t.port, &cc);
        ok = snet_echo(sc, PQCOAP_POST, id);
        if (k < HANDSHAKES - 1)
            pqcoap_session_client_free(sc);
        else
            last = sc;
    }
    CHECK(ok);
    CHECK(last && snet_echo(last, PQCOAP_GET, "after"));
    CHECK(last && snet_big_bodies(last));
    udp_proxy_cfg clean = {0, 0, 0, 0, 0, 1}, twice = {0, 100, 0, 0, 0, 2};
    udp_proxy_stats st;
    CHECK(handshake_through(t.port, &clean, hold_block1, "other", &id_other, &cstore, &st));
    CHECK_EQ_INT(atomic_load(&held), 1);
    CHECK(handshake_through(t.port, &twice, NULL, "client", &id_client, &cstore, &st));
    CHECK(st.duplicated > 0);
    pqcoap_server *srv = pqcoap_session_server_coap(t.ss);
    pqcoap_server_stop(srv);
    pthread_join(t.thread, NULL);
    pqcoap_server_bw_counts(srv, &replies, &transfers);
    pqcoap_server_config dflt = PQCOAP_SERVER_CONFIG_INIT;
    CHECK(replies <= dflt.max_transfers);
    CHECK(transfers <= dflt.max_transfers);
    pqcoap_session_server_free(t.ss);
    pqcoap_session_client_free(last);
    pqcoap_store_close(&cstore);
    for (int k = 0; k < HANDSHAKES; k++)
        pqcoap_identity_wipe(&who[k]);
}

int main(void)
{
    snet_init();
    plain_server_tests();
    test_many_handshakes();
    snet_fini();
    return check_done();
}

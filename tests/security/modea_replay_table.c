/* Regression test (Mode A replay table): a server must not give a replay-window slot to a
 * kid before the request naming it verifies, or forged datagrams naming trusted kids with a
 * persisted floor fill the table and legitimate peers get 5.03. A full table evicts its
 * least recently used window, which is safe because every kid's highest accepted seq is
 * persisted: an evicted kid's old requests are still replays. Real UDP on loopback, a real
 * SQLite store file, a table of 4 windows. */
#include <sys/stat.h>

#include "modea_util.h"

#define NPEERS 5

static pqcoap_identity gw, peer[NPEERS], late;
static pqcoap_store cstore[NPEERS];
static char dir[64], db[96];

/* A signed v2 POST of `id` with `seq` for gw (see signed_post). */
static size_t make_request(const pqcoap_identity *id, uint64_t seq, uint16_t mid, int forge,
                           uint8_t *out, size_t cap)
{
    return signed_post(id, gw.pub.kid, seq, mid, forge, out, cap);
}

/* One signed POST of peer i through the Mode A client on its own store. */
static pqcoap_err peer_post(uint16_t port, int i)
{
    pqcoap_sign_client *c = sign_client(port, "echo", &peer[i], &cstore[i], 2);
    if (!c)
        return PQCOAP_ERR_IO;
    pqcoap_reply r;
    pqcoap_err err = pqcoap_sign_client_pin(c, &gw.pub);
    if (err == PQCOAP_OK)
        err = pqcoap_sign_client_post(c, NULL, (const uint8_t *)"hi", 2, &r);
    pqcoap_reply_free(&r);
    pqcoap_sign_client_free(c);
    return err;
}

int main(void)
{
    CHECK_EQ_INT(pqcoap_identity_generate("falcon-512", NULL, &gw), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_identity_generate("falcon-512", NULL, &late), PQCOAP_OK);
    snprintf(dir, sizeof dir, "/tmp/pqcoap-modea-replay-XXXXXX");
    CHECK(mkdtemp(dir) != NULL);
    snprintf(db, sizeof db, "%s/gw.db", dir);
    pqcoap_store st;
    CHECK_EQ_INT(pqcoap_store_open_sqlite(db, &st), PQCOAP_OK);
    for (int i = 0; i < NPEERS; i++) {
        char name[16];
        snprintf(name, sizeof name, "peer%d", i);
        CHECK_EQ_INT(pqcoap_identity_generate("falcon-512", NULL, &peer[i]), PQCOAP_OK);
        CHECK_EQ_INT(pqcoap_store_open_memory(&cstore[i]), PQCOAP_OK);
        CHECK_EQ_INT(trust(&st, name, &peer[i].pub), PQCOAP_OK);
    }
    CHECK_EQ_INT(trust(&st, "late", &late.pub), PQCOAP_OK);
    pqcoap_store_close(&st);

    /* Every peer has been served once: each has a persisted floor. */
    sign_server srv;
    CHECK(sign_server_start_db(&srv, &gw, db, &st, 256));
    for (int i = 0; i < NPEERS; i++)
        CHECK_EQ_INT(peer_post(sign_server_port(&srv), i), PQCOAP_OK);
    sign_server_stop_db(&srv, &st);

    /* Restarted with room for 4 windows. Forged datagrams naming peers 0..3 (fresh seqs,
     * broken signatures): 4.01 each, and no slot is taken. */
    CHECK(sign_server_start_db(&srv, &gw, db, &st, 4));
    uint16_t port = sign_server_port(&srv);
    int fd = raw_socket();
    CHECK(fd >= 0);
    uint8_t d[RAW_ANSWER_MAX];
    char diag[128];
    for (int i = 0; i < 4; i++) {
        size_t n = make_request(&peer[i], 1000000, (uint16_t)(0x100 + i), 1, d, sizeof d);
        CHECK_EQ_INT(raw_exchange(fd, port, d, n, (uint16_t)(0x100 + i), diag, sizeof diag),
                     PQCOAP_CODE(4, 1));
    }
    /* A legitimate peer the server has not seen since its start is served. */
    int runs = atomic_load(&handler_runs);
    uint8_t kept[RAW_ANSWER_MAX];
    size_t kept_len = make_request(&late, 50, 0x200, 0, kept, sizeof kept);
    CHECK_EQ_INT(raw_exchange(fd, port, kept, kept_len, 0x200, diag, sizeof diag),
                 PQCOAP_CODE(2, 4));
    CHECK_EQ_INT(atomic_load(&handler_runs), runs + 1);

    /* Five more peers fill the table: the least recently used windows (late's first) are
     * evicted, and every peer is served. */
    for (int i = 0; i < NPEERS; i++)
        CHECK_EQ_INT(peer_post(port, i), PQCOAP_OK);
    /* late's window was evicted, but its request is still a replay (its floor is 50) under
     * another message ID; under its own it is a duplicate, which the server answers with
     * the response it kept (RFC 7252 section 4.5); the handler runs for neither. */
    runs = atomic_load(&handler_runs);
    CHECK_EQ_INT(raw_exchange(fd, port, kept, kept_len, 0x200, diag, sizeof diag),
                 PQCOAP_CODE(2, 4));
    kept[3] ^= 1;
    CHECK_EQ_INT(raw_exchange(fd, port, kept, kept_len, 0x201, diag, sizeof diag),
                 PQCOAP_CODE(4, 1));
    CHECK(strstr(diag, "replay") != NULL);
    size_t n = make_request(&late, 49, 0x202, 0, d, sizeof d);
    CHECK_EQ_INT(raw_exchange(fd, port, d, n, 0x202, diag, sizeof diag), PQCOAP_CODE(4, 1));
    CHECK_EQ_INT(atomic_load(&handler_runs), runs);
    /* It goes on above its floor. */
    n = make_request(&late, 51, 0x203, 0, d, sizeof d);
    CHECK_EQ_INT(raw_exchange(fd, port, d, n, 0x203, diag, sizeof diag), PQCOAP_CODE(2, 4));
    CHECK_EQ_INT(atomic_load(&handler_runs), runs + 1);

    close(fd);
    sign_server_stop_db(&srv, &st);
    for (int i = 0; i < NPEERS; i++) {
        pqcoap_store_close(&cstore[i]);
        pqcoap_identity_wipe(&peer[i]);
    }
    pqcoap_identity_wipe(&gw);
    pqcoap_identity_wipe(&late);
    remove_db(db);
    rmdir(dir);
    return check_done();
}

/* Mode A replay-window slots go to verified requests only: forged datagrams naming trusted
 * kids whose floors are persisted take no slot, so they cannot evict the window of an active
 * sender. Evicted, that window would come back from the persisted floor with every seq below
 * it counted as seen, and the sender's requests still in flight (a lower seq arriving after a
 * higher one) would be refused as replays. Real UDP on loopback, a real SQLite store file, a
 * table of as many windows as there are forged kids. */
#include <sys/stat.h>

#include "modea_util.h"

#define NFORGED 4

static pqcoap_identity gw, active, named[NFORGED];
static char dir[64], db[96];

/* Sends `id`'s signed POST with `seq` (its signature broken if `forge`) under message ID mid
 * and returns the answer's code. */
static int post(int fd, uint16_t port, const pqcoap_identity *id, uint64_t seq, uint16_t mid,
                int forge)
{
    uint8_t d[RAW_ANSWER_MAX];
    char diag[128];
    size_t n = signed_post(id, gw.pub.kid, seq, mid, forge, d, sizeof d);
    CHECK(n > 0);
    return raw_exchange(fd, port, d, n, mid, diag, sizeof diag);
}

int main(void)
{
    CHECK_EQ_INT(pqcoap_identity_generate("falcon-512", NULL, &gw), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_identity_generate("falcon-512", NULL, &active), PQCOAP_OK);
    snprintf(dir, sizeof dir, "/tmp/pqcoap-modea-slots-XXXXXX");
    CHECK(mkdtemp(dir) != NULL);
    snprintf(db, sizeof db, "%s/gw.db", dir);
    pqcoap_store st;
    CHECK_EQ_INT(pqcoap_store_open_sqlite(db, &st), PQCOAP_OK);
    CHECK_EQ_INT(trust(&st, "active", &active.pub), PQCOAP_OK);
    for (int i = 0; i < NFORGED; i++) {
        char name[16];
        snprintf(name, sizeof name, "named%d", i);
        CHECK_EQ_INT(pqcoap_identity_generate("falcon-512", NULL, &named[i]), PQCOAP_OK);
        CHECK_EQ_INT(trust(&st, name, &named[i].pub), PQCOAP_OK);
    }
    pqcoap_store_close(&st);
    int fd = raw_socket();
    CHECK(fd >= 0);

    /* Each named peer was served once: each has a persisted floor. */
    sign_server srv;
    CHECK(sign_server_start_db(&srv, &gw, db, &st, 256));
    for (int i = 0; i < NFORGED; i++)
        CHECK_EQ_INT(post(fd, sign_server_port(&srv), &named[i], 1, (uint16_t)(0x100 + i), 0),
                     PQCOAP_CODE(2, 4));
    sign_server_stop_db(&srv, &st);

    /* Restarted with room for NFORGED windows. The active sender's request with seq 10 is
     * served; its seq 9, sent before it, is still on the way. */
    CHECK(sign_server_start_db(&srv, &gw, db, &st, NFORGED));
    uint16_t port = sign_server_port(&srv);
    CHECK_EQ_INT(post(fd, port, &active, 10, 0x200, 0), PQCOAP_CODE(2, 4));
    /* Forged datagrams naming each named peer (fresh seqs, broken signatures): 4.01 each. */
    for (int i = 0; i < NFORGED; i++)
        CHECK_EQ_INT(post(fd, port, &named[i], 1000000, (uint16_t)(0x300 + i), 1),
                     PQCOAP_CODE(4, 1));
    /* The active sender's window is still there: seq 9 is served, once. */
    int runs = atomic_load(&handler_runs);
    CHECK_EQ_INT(post(fd, port, &active, 9, 0x400, 0), PQCOAP_CODE(2, 4));
    CHECK_EQ_INT(post(fd, port, &active, 9, 0x401, 0), PQCOAP_CODE(4, 1));
    CHECK_EQ_INT(atomic_load(&handler_runs), runs + 1);

    close(fd);
    sign_server_stop_db(&srv, &st);
    for (int i = 0; i < NFORGED; i++)
        pqcoap_identity_wipe(&named[i]);
    pqcoap_identity_wipe(&gw);
    pqcoap_identity_wipe(&active);
    remove_db(db);
    rmdir(dir);
    return check_done();
}

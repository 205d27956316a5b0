/* Regression test (Mode A floors apart from Mode B's): the highest accepted Mode A seq of a
 * sender kid and the Mode B anti-rollback floor of an initiator id live in one store file;
 * a Mode B peer whose id is "sign:" and the kid of a Mode A sender in hex must not share
 * that sender's floor. Mode A and Mode B servers over real UDP on one SQLite store file;
 * a store of the earlier schema, where Mode A floors were "sign:" rows among Mode B's, has
 * them moved over when it is opened. */
#include <pthread.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include "modea_util.h"
#include "pqcoap/session_endpoint.h"

static pqcoap_identity gw, dev, mb;
static char dir[64], db[96], mb_id[32];

/* Runs a Mode A server on the store file and sends it dev's request `seq` (raw, message
 * ID `mid`); returns the answer's code. */
static int mode_a_exchange(uint64_t seq, uint16_t mid)
{
    pqcoap_store st;
    sign_server srv;
    int code = -1;
    uint8_t d[RAW_ANSWER_MAX];
    int fd = raw_socket();
    size_t n = signed_post(&dev, gw.pub.kid, seq, mid, 0, d, sizeof d);
    if (fd >= 0 && n && pqcoap_store_open_sqlite(db, &st) == PQCOAP_OK) {
        if (sign_server_start(&srv, &gw, &st, NULL)) {
            code = raw_exchange(fd, sign_server_port(&srv), d, n, mid, NULL, 0);
            sign_server_stop(&srv);
        }
        pqcoap_store_close(&st);
    }
    if (fd >= 0)
        close(fd);
    return code;
}

static void *run_coap(void *srv)
{
    pqcoap_server_run(srv);
    return NULL;
}

/* Runs a Mode B server on the store file and makes one handshake as mb (id mb_id, session
 * numbers from `mstore`); returns its result. */
static pqcoap_err mode_b_handshake(const pqcoap_store *mstore)
{
    pqcoap_store st;
    pqcoap_err err = pqcoap_store_open_sqlite(db, &st);
    if (err != PQCOAP_OK)
        return err;
    pqcoap_session_server_config sc = PQCOAP_SESSION_SERVER_CONFIG_INIT;
    sc.id = "gw";
    sc.sk = gw.sk;
    sc.sk_len = PQCOAP_SIGN_SK_LEN;
    sc.store = &st;
    sc.coap.addr = "127.0.0.1";
    sc.coap.port = 0;
    pqcoap_session_server *ss = NULL;
    char msg[160], uri[64];
    pthread_t thread;
    err = pqcoap_session_server_create(&sc, &ss, msg, sizeof msg);
    if (err == PQCOAP_OK && pthread_create(&thread, NULL, run_coap,
                                           pqcoap_session_server_coap(ss)) != 0)
        err = PQCOAP_ERR_IO;
    if (err == PQCOAP_OK) {
        pqcoap_session_client_config cc = PQCOAP_SESSION_CLIENT_CONFIG_INIT;
        cc.id = mb_id;
        cc.sk = mb.sk;
        cc.sk_len = PQCOAP_SIGN_SK_LEN;
        cc.server_id = "gw";
        cc.server_pk = gw.pub.pk;
        cc.server_pk_len = gw.pub.pk_len;
        cc.store = mstore;
        cc.coap.timeout_ms = 5000;
        snprintf(uri, sizeof uri, "coap://127.0.0.1:%u/",
                 pqcoap_server_port(pqcoap_session_server_coap(ss)));
        pqcoap_session_client *c = NULL;
        err = pqcoap_session_client_open(uri, &cc, &c, msg, sizeof msg);
        if (err == PQCOAP_OK)
            err = pqcoap_session_client_connect(c);
        if (err != PQCOAP_OK)
            fprintf(stderr, "  Mode B handshake of %s: %s\n", mb_id,
                    c ? pqcoap_session_client_last_error(c) : msg);
        pqcoap_session_client_free(c);
        pqcoap_server_stop(pqcoap_session_server_coap(ss));
        pthread_join(thread, NULL);
    }
    pqcoap_session_server_free(ss);
    pqcoap_store_close(&st);
    return err;
}

/* A store file of schema version 1 (Mode A floors as "sign:" || hex(kid) rows in the Mode
 * B floors table), opened by this library: dev's floor is Mode A's, the other rows stay. */
static void test_migration(void)
{
    char old_db[128], sql[1024];
    snprintf(old_db, sizeof old_db, "%s/old.db", dir);
    sqlite3 *h = NULL;
    CHECK_EQ_INT(sqlite3_open(old_db, &h), SQLITE_OK);
    snprintf(sql, sizeof sql,
             "CREATE TABLE peers(id TEXT PRIMARY KEY NOT NULL, alg TEXT NOT NULL,"
             " kid BLOB NOT NULL UNIQUE, pk BLOB NOT NULL, added INTEGER NOT NULL);"
             "CREATE TABLE floors(id TEXT PRIMARY KEY NOT NULL, session_seq INTEGER NOT NULL,"
             " init_hash BLOB NOT NULL);"
             "CREATE TABLE counters(name TEXT PRIMARY KEY NOT NULL, next INTEGER NOT NULL);"
             "INSERT INTO floors VALUES('%s', 777, zeroblob(32));"
             "INSERT INTO floors VALUES('sign:not-a-kid', 3, zeroblob(32));"
             "INSERT INTO floors VALUES('alice', 5, zeroblob(32));"
             "PRAGMA application_id = 1347502931; PRAGMA user_version = 1;", mb_id);
    CHECK_EQ_INT(sqlite3_exec(h, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(h);

    pqcoap_store st;
    pqcoap_floor f;
    uint64_t seq = 0;
    CHECK_EQ_INT(pqcoap_store_open_sqlite(old_db, &st), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_store_sign_floor_get(&st, dev.pub.kid, &seq), PQCOAP_OK);
    CHECK_EQ_INT(seq, 777);
    CHECK_EQ_INT(pqcoap_store_floor_get(&st, mb_id, &f), PQCOAP_ERR_NOT_FOUND);
    CHECK_EQ_INT(pqcoap_store_floor_get(&st, "sign:not-a-kid", &f), PQCOAP_OK);
    CHECK_EQ_INT(f.session_seq, 3);
    CHECK_EQ_INT(pqcoap_store_floor_get(&st, "alice", &f), PQCOAP_OK);
    CHECK_EQ_INT(f.session_seq, 5);
    pqcoap_store_close(&st);
    remove_db(old_db);
}

int main(void)
{
    CHECK_EQ_INT(pqcoap_identity_generate("falcon-512", NULL, &gw), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_identity_generate("falcon-512", NULL, &dev), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_identity_generate("falcon-512", NULL, &mb), PQCOAP_OK);
    /* The Mode B peer's id: "sign:" and dev's kid in hex. */
    int at = snprintf(mb_id, sizeof mb_id, "sign:");
    for (size_t i = 0; i < PQCOAP_KID_LEN; i++)
        at += snprintf(mb_id + at, sizeof mb_id - (size_t)at, "%02x", dev.pub.kid[i]);
    snprintf(dir, sizeof dir, "/tmp/pqcoap-modea-floors-XXXXXX");
    CHECK(mkdtemp(dir) != NULL);
    snprintf(db, sizeof db, "%s/gw.db", dir);
    pqcoap_store st, mstore;
    CHECK_EQ_INT(pqcoap_store_open_sqlite(db, &st), PQCOAP_OK);
    CHECK_EQ_INT(trust(&st, "device", &dev.pub), PQCOAP_OK);
    CHECK_EQ_INT(trust(&st, mb_id, &mb.pub), PQCOAP_OK);
    pqcoap_store_close(&st);
    CHECK_EQ_INT(pqcoap_store_open_memory(&mstore), PQCOAP_OK);

    /* Mode B first (its floor for mb_id: a low session_seq), then dev's Mode A request with
     * seq 5000: both accepted. */
    CHECK_EQ_INT(mode_b_handshake(&mstore), PQCOAP_OK);
    CHECK_EQ_INT(mode_a_exchange(5000, 0x700), PQCOAP_CODE(2, 4));
    /* dev's accepted seq does not raise the Mode B floor of mb_id: mb's next handshake (a
     * higher session_seq, far below 5000) is accepted. */
    CHECK_EQ_INT(mode_b_handshake(&mstore), PQCOAP_OK);

    /* The Mode B floor of mb_id, set low as its server does, does not lower dev's: after a
     * restart dev's captured request is still a replay, and so is any older seq. */
    pqcoap_floor low;
    memset(&low, 0, sizeof low);
    low.session_seq = 1;
    CHECK_EQ_INT(pqcoap_store_open_sqlite(db, &st), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_store_floor_set(&st, mb_id, &low), PQCOAP_OK);
    pqcoap_store_close(&st);
    CHECK_EQ_INT(mode_a_exchange(5000, 0x701), PQCOAP_CODE(4, 1));
    CHECK_EQ_INT(mode_a_exchange(4000, 0x702), PQCOAP_CODE(4, 1));
    CHECK_EQ_INT(mode_a_exchange(5001, 0x703), PQCOAP_CODE(2, 4));

    pqcoap_store_close(&mstore);
    remove_db(db);
    test_migration();
    rmdir(dir);
    pqcoap_identity_wipe(&gw);
    pqcoap_identity_wipe(&dev);
    pqcoap_identity_wipe(&mb);
    return check_done();
}

/* Regression (Mode B revocation): the trust store was read only at handshake time, so a
 * peer removed with `pqcoap trust remove` (or whose key was replaced) kept its live session
 * for up to lifetime_s. Now a session ends once its initiator is no longer pinned with the
 * key it made the session with, also when another process changes the SQLite file: its
 * next protected request gets 4.01 "unknown session" and a new handshake is rejected. The
 * store's change count, the core's pqcoap_responder_revalidate, and a session server on an
 * SQLite file changed by the pqcoap CLI (a second process) and by a second connection. */
#include <stdlib.h>

#include "check.h"
#include "modeb_raw.h"
#include "util/proc.h"

/* ---- the store's change count ---- */

static void test_change_count(const char *path)
{
    pqcoap_store a, b, mem;
    CHECK_EQ_INT(pqcoap_store_open_sqlite(path, &a), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_store_open_sqlite(path, &b), PQCOAP_OK);
    uint64_t c0 = 0, c1 = 0, c2 = 0, c3 = 0;
    CHECK_EQ_INT(pqcoap_store_change_count(&a, &c0), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_store_change_count(&a, &c1), PQCOAP_OK);
    CHECK(c0 == c1);                                /* nothing happened */
    fx_trust(&b, "someone", &id_stranger);          /* another connection commits */
    CHECK_EQ_INT(pqcoap_store_change_count(&a, &c2), PQCOAP_OK);
    CHECK(c2 != c1);
    CHECK_EQ_INT(pqcoap_store_peer_remove(&a, "someone"), PQCOAP_OK); /* its own write */
    CHECK_EQ_INT(pqcoap_store_change_count(&a, &c3), PQCOAP_OK);
    CHECK(c3 != c2);
    pqcoap_store_close(&a);
    pqcoap_store_close(&b);

    CHECK_EQ_INT(pqcoap_store_open_memory(&mem), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_store_change_count(&mem, &c0), PQCOAP_OK);
    fx_trust(&mem, "someone", &id_stranger);
    CHECK_EQ_INT(pqcoap_store_change_count(&mem, &c1), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_store_peer_remove(&mem, "someone"), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_store_change_count(&mem, &c2), PQCOAP_OK);
    CHECK(c0 != c1 && c1 != c2);
    pqcoap_store_close(&mem);
}

/* ---- the sans-I/O responder ---- */

static int ended_by_revalidate(fixture *fx)
{
    size_t ended = 99;
    CHECK_EQ_INT(pqcoap_responder_revalidate(&fx->responder, &ended), PQCOAP_OK);
    return (int)ended;
}

static void test_core(void)
{
    static fixture fx;
    fx_setup(&fx, "modeb revoke", 4, 0, 0, 0);
    pqcoap_session c, o;
    CHECK_EQ_INT(fx_handshake(&fx, &fx.client, "client", 1, 10, &c), PQCOAP_OK);
    CHECK_EQ_INT(fx_handshake(&fx, &fx.other, "other", 1, 10, &o), PQCOAP_OK);
    CHECK_EQ_INT(ended_by_revalidate(&fx), 0);      /* nothing changed */
    CHECK(fx_session_works(&fx, &c, 20));

    /* removed: its session ends, the other one stays */
    CHECK_EQ_INT(pqcoap_store_peer_remove(&fx.mem, "client"), PQCOAP_OK);
    CHECK_EQ_INT(ended_by_revalidate(&fx), 1);
    CHECK(!fx_session_works(&fx, &c, 30));
    CHECK(fx_session_works(&fx, &o, 30));
    CHECK_EQ_INT(pqcoap_responder_live(&fx.responder), 1);

    /* its key replaced (the removed client's key now pinned as "other") */
    fx_trust(&fx.mem, "other", &fx.client);
    CHECK_EQ_INT(ended_by_revalidate(&fx), 1);
    CHECK(!fx_session_works(&fx, &o, 40));
    CHECK_EQ_INT(pqcoap_responder_live(&fx.responder), 0);

    /* its key made a sign-v1 key */
    CHECK_EQ_INT(fx_handshake(&fx, &fx.client, "other", 2, 50, &o), PQCOAP_OK);
    pqcoap_peer peer;
    CHECK_EQ_INT(pqcoap_store_peer_by_id(&fx.mem, "other", &peer), PQCOAP_OK);
    peer.usage = PQCOAP_USAGE_SIGN_V1;
    CHECK_EQ_INT(pqcoap_store_peer_add(&fx.mem, &peer), PQCOAP_OK);
    CHECK_EQ_INT(ended_by_revalidate(&fx), 1);
    CHECK(!fx_session_works(&fx, &o, 60));

    pqcoap_session_wipe(&c);
    pqcoap_session_wipe(&o);
    fx_teardown(&fx);
}

/* ---- a session server on an SQLite file ---- */

/* Sends protected GETs of session s to "echo" (a new n each), 20 ms apart, until the answer
 * is not 2.05 (at most 10 s); 1 with that answer in *a, 0 if none came. */
static int until_refused(int sock, pqcoap_session *s, uint16_t *mid, raw_answer *a)
{
    static uint8_t d[RAW_DGRAM_MAX];
    for (int i = 0; i < 500; i++) {
        size_t n = raw_protected(s, PQCOAP_GET, "echo", "", ++*mid, d);
        if (n == 0 || !raw_exchange(sock, d, n, *mid, a))
            return 0;
        if (a->code != PQCOAP_CODE(2, 5))
            return 1;
        raw_sleep_ms(20);
    }
    return 0;
}

static void test_server(const char *path)
{
    pqcoap_store server_store, admin, cstore;
    snet_must(pqcoap_store_open_sqlite(path, &server_store) == PQCOAP_OK, "server store");
    fx_trust(&server_store, "client", &id_client);
    fx_trust(&server_store, "other", &id_other);
    snet_must(pqcoap_store_open_memory(&cstore) == PQCOAP_OK, "client store");
    snet_server srv;
    pqcoap_session_server_config scfg = snet_server_cfg(&server_store, 0);
    snet_server_start(&srv, &scfg);

    /* two live sessions: "client" through the session client, "other" by hand */
    pqcoap_session_client_config ccfg = snet_client_cfg("client", &id_client, &id_server,
                                                        &cstore);
    pqcoap_session_client *sc = snet_client(srv.port, &ccfg);
    CHECK(snet_echo(sc, PQCOAP_GET, "live"));
    pqcoap_session o;
    CHECK_EQ_INT(raw_handshake(srv.port, "other", &id_other, 1, &o), PQCOAP_OK);
    int sock = raw_socket_to(srv.port);
    uint16_t mid = 0x2000;
    static raw_answer a;
    static uint8_t d[RAW_DGRAM_MAX];
    size_t n = raw_protected(&o, PQCOAP_GET, "echo", "", ++mid, d);
    CHECK(raw_exchange(sock, d, n, mid, &a) && a.code == PQCOAP_CODE(2, 5));

    /* another process removes "client": its session ends; the client's next request gets
     * "unknown session", its new handshake is rejected, the handler does not run */
    char *argv[] = {PQCOAP_CLI, "trust", "--db", (char *)path, "remove", "client", NULL};
    CHECK_EQ_INT(proc_run(argv), 0);
    pqcoap_err err = PQCOAP_OK;
    for (int i = 0; i < 500 && err == PQCOAP_OK; i++) {
        int before = atomic_load(&runs[PQCOAP_GET]);
        pqcoap_reply r;
        err = snet_req(sc, PQCOAP_GET, "echo", "x", 1, &r);
        pqcoap_reply_free(&r);
        if (err != PQCOAP_OK)
            CHECK_EQ_INT(atomic_load(&runs[PQCOAP_GET]), before);
        else
            raw_sleep_ms(20);
    }
    CHECK_EQ_INT(err, PQCOAP_ERR_HANDSHAKE);
    pqcoap_session_client_info info;
    CHECK_EQ_INT(pqcoap_session_client_info_get(sc, &info), PQCOAP_OK);
    CHECK(!info.live);
    /* "other" is not affected */
    n = raw_protected(&o, PQCOAP_GET, "echo", "", ++mid, d);
    CHECK(raw_exchange(sock, d, n, mid, &a) && a.code == PQCOAP_CODE(2, 5));

    /* a second connection replaces the key of "other": its session ends too */
    snet_must(pqcoap_store_open_sqlite(path, &admin) == PQCOAP_OK, "admin store");
    fx_trust(&admin, "other", &id_stranger);
    CHECK(until_refused(sock, &o, &mid, &a));
    CHECK_EQ_INT(a.code, PQCOAP_CODE(4, 1));
    CHECK(raw_payload_is(&a, "unknown session"));
    pqcoap_session o2;
    CHECK_EQ_INT(raw_handshake(srv.port, "other", &id_other, 2, &o2), PQCOAP_ERR_HANDSHAKE);
    CHECK_EQ_INT(raw_handshake(srv.port, "other", &id_stranger, 3, &o2), PQCOAP_OK);
    n = raw_protected(&o2, PQCOAP_GET, "echo", "", ++mid, d);
    CHECK(raw_exchange(sock, d, n, mid, &a) && a.code == PQCOAP_CODE(2, 5));

    close(sock);
    pqcoap_session_wipe(&o);
    pqcoap_session_wipe(&o2);
    pqcoap_session_client_free(sc);
    snet_server_stop(&srv);
    pqcoap_store_close(&admin);
    pqcoap_store_close(&server_store);
    pqcoap_store_close(&cstore);
}

/* Removes the store file and its WAL companions, then the folder. */
static void remove_store(const char *dir, const char *path)
{
    char p[512];
    static const char *const tails[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s%s", path, tails[i]);
        unlink(p);
    }
    rmdir(dir);
}

int main(void)
{
    snet_init();
    char dir[] = "/tmp/pqcoap-modeb-revoke.XXXXXX", count_db[300], server_db[300];
    snet_must(mkdtemp(dir) != NULL, "temporary folder");
    snprintf(count_db, sizeof count_db, "%s/count.db", dir);
    snprintf(server_db, sizeof server_db, "%s/server.db", dir);
    test_change_count(count_db);
    test_core();
    test_server(server_db);
    remove_store(dir, count_db);
    remove_store(dir, server_db);
    snet_fini();
    return check_done();
}

/* A client keyed by the handshake whose server lost its context (RFC 8613 section 8.2: an
 * unprotected 4.01 "Security context not found"), over real UDP on loopback: after the
 * server restarts between two requests, the second request succeeds after exactly one new
 * handshake and is sent twice in all; a server that answers every protected request with
 * that 4.01 makes the request fail after one new handshake and one repeat, never more. */
#include "oscorekey_common.h"

#include <unistd.h>

static char dir[] = "/tmp/pqcoap-oscorekey.XXXXXX";

static void test_restart(const char *db, pqcoap_store *dev_store)
{
    pqcoap_store store;
    gateway g;
    must(pqcoap_store_open_sqlite(db, &store) == PQCOAP_OK, "store");
    gateway_start(&g, &store, 0, 20);
    uint16_t port = pqcoap_server_port(g.ts.srv);
    pqcoap_oscore_client *c = device_open(&g, dev_store);
    must(c != NULL, "the device's handshake");
    CHECK_EQ_INT(echo(c, "before the restart"), PQCOAP_OK);
    CHECK_EQ_INT(atomic_load(&g.count.inits), 1);

    /* the server restarts on the same port and database: its contexts are gone */
    gateway_stop(&g);
    pqcoap_store_close(&store);
    must(pqcoap_store_open_sqlite(db, &store) == PQCOAP_OK, "store");
    gateway_start(&g, &store, port, 20);
    CHECK_EQ_INT(echo(c, "after the restart"), PQCOAP_OK);
    CHECK_EQ_INT(atomic_load(&g.count.inits), 1);
    CHECK_EQ_INT(atomic_load(&g.count.requests), 2); /* refused once, then handled */
    CHECK_EQ_INT(echo(c, "and on"), PQCOAP_OK);
    CHECK_EQ_INT(atomic_load(&g.count.inits), 1);

    pqcoap_oscore_client_free(c);
    gateway_stop(&g);
    pqcoap_store_close(&store);
}

static void test_always_lost(const char *db, pqcoap_store *dev_store)
{
    pqcoap_store store;
    gateway g;
    must(pqcoap_store_open_sqlite(db, &store) == PQCOAP_OK, "store");
    gateway_start(&g, &store, 0, 20);
    atomic_store(&g.count.refuse_all, 1);
    pqcoap_oscore_client *c = device_open(&g, dev_store);
    must(c != NULL, "the device's handshake");
    CHECK_EQ_INT(echo(c, "never found"), PQCOAP_ERR_REJECTED);
    CHECK_EQ_INT(atomic_load(&g.count.inits), 2);    /* the first handshake and one more */
    CHECK_EQ_INT(atomic_load(&g.count.requests), 2); /* the request and its one repeat */
    const char *why = pqcoap_oscore_client_last_error(c);
    CHECK(strstr(why, "Security context not found") != NULL);
    CHECK(strstr(why, "again right after a new handshake") != NULL);
    fprintf(stderr, "  %s\n", why);
    /* the next request tries once more, again once */
    CHECK_EQ_INT(echo(c, "still not"), PQCOAP_ERR_REJECTED);
    CHECK_EQ_INT(atomic_load(&g.count.inits), 3);
    CHECK_EQ_INT(atomic_load(&g.count.requests), 4);
    pqcoap_oscore_client_free(c);
    gateway_stop(&g);
    pqcoap_store_close(&store);
}

int main(void)
{
    char db[300];
    must(mkdtemp(dir) != NULL, "temporary folder");
    snprintf(db, sizeof db, "%s/gw.db", dir);
    must(pqcoap_identity_generate("falcon-512", NULL, &gw_key) == PQCOAP_OK, "key");
    must(pqcoap_identity_generate("falcon-512", NULL, &dev_key) == PQCOAP_OK, "key");
    pqcoap_store store, dev_store;
    must(pqcoap_store_open_sqlite(db, &store) == PQCOAP_OK, "store");
    trust(&store, "dev", &dev_key);
    pqcoap_store_close(&store);
    must(pqcoap_store_open_memory(&dev_store) == PQCOAP_OK, "store");

    test_restart(db, &dev_store);
    test_always_lost(db, &dev_store);

    pqcoap_store_close(&dev_store);
    pqcoap_identity_wipe(&gw_key);
    pqcoap_identity_wipe(&dev_key);
    char path[320];
    const char *const files[] = {"gw.db", "gw.db-wal", "gw.db-shm"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        unlink(path);
    }
    rmdir(dir);
    return check_done();
}

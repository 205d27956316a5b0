/* OSCORE keyed by the post-quantum handshake over real UDP on loopback (PROTOCOL.md "OSCORE
 * keyed by the handshake"): an OSCORE server holding a provisioned context and the
 * identities of two suites keys one context per device by handshakes (a Falcon-512 and an
 * ML-DSA-65 device, A256GCM by default and AES-CCM-16-64-128 when asked); GET and POST go
 * through under each device's own context, whose Recipient ID is never the provisioned
 * one's; a context ends with its device's revocation (removed from the trust store by
 * another process's handle), after max_msgs requests and after its lifetime (the client
 * then keys a new one by a handshake, unless its device was revoked); a server that does not
 * key OSCORE refuses the handshake. */
#include "check.h"
#include "net/net_test.h"
#include "pqcoap/keys.h"
#include "pqcoap/oscore_endpoint.h"
#include "pqcoap/session_endpoint.h"
#include "session/fixture.h"

#include <stdlib.h>
#include <time.h>

static const char conf_text[] =          /* a provisioned context: recipient_id 01 */
    "master_secret,hex,0102030405060708090a0b0c0d0e0f10\n"
    "sender_id,hex,\"\"\n"
    "recipient_id,hex,01\n";

static pqcoap_identity gw_falcon, gw_mldsa, dev_falcon, dev_mldsa;
static pqcoap_store sa, sb;             /* the devices' stores: session_seq counters */
static char dir[] = "/tmp/pqcoap-oscore-keyed.XXXXXX";

static void must(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "set-up failed: %s\n", what);
        exit(2);
    }
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static pqcoap_err on_echo(void *arg, pqcoap_server_req *rq, const pqcoap_msg *req,
                          pqcoap_msgbuf *resp)
{
    (void)arg;
    (void)rq;
    return pqcoap_msgbuf_set_payload(resp, req->payload, req->payload_len);
}

typedef struct server {
    test_server ts;
    pqcoap_oscore_server *os;
    pqcoap_store store;
} server;

/* An OSCORE server over the SQLite store `db` with the provisioned context, keying
 * contexts by handshakes with max_msgs and lifetime_s (0: defaults) unless `no_keying`. */
static void start(server *s, const char *db, uint32_t max_msgs, uint32_t lifetime_s,
                  int no_keying)
{
    char msg[200];
    pqcoap_oscore_conf conf;
    must(pqcoap_store_open_sqlite(db, &s->store) == PQCOAP_OK, "store");
    must(pqcoap_oscore_conf_parse(conf_text, strlen(conf_text), &conf, msg, sizeof msg) ==
         PQCOAP_OK, msg);
    must(pqcoap_oscore_server_new(&s->store, NULL, &s->os) == PQCOAP_OK, "oscore server");
    must(pqcoap_oscore_server_add_conf(s->os, &conf) == PQCOAP_OK, "add conf");
    pqcoap_oscore_conf_wipe(&conf);
    pqcoap_server *srv = test_server_new(&s->ts, "127.0.0.1", pqcoap_oscore_server_layer(s->os),
                                         0);
    must(srv != NULL, "server");
    for (uint8_t m = PQCOAP_GET; m <= PQCOAP_POST; m++)
        must(pqcoap_server_handle(srv, "echo", m, on_echo, NULL) == PQCOAP_OK, "handle");
    if (!no_keying) {
        pqcoap_oscore_keying_config kc = PQCOAP_OSCORE_KEYING_CONFIG_INIT;
        const pqcoap_responder_key falcon = {0x01, gw_falcon.sk, pqcoap_identity_sk_len(&gw_falcon),
                                             PQCOAP_USAGE_GENERAL};
        kc.id = "gw";
        kc.sk = gw_mldsa.sk;
        kc.sk_len = pqcoap_identity_sk_len(&gw_mldsa);
        kc.suite = 0x03;
        kc.more = &falcon;
        kc.n_more = 1;
        kc.store = &s->store;
        if (max_msgs)
            kc.max_msgs = max_msgs;
        if (lifetime_s)
            kc.lifetime_s = lifetime_s;
        pqcoap_err err = pqcoap_oscore_server_keying(s->os, srv, &kc, msg, sizeof msg);
        must(err == PQCOAP_OK, msg);
        CHECK_EQ_INT(pqcoap_oscore_server_keying(s->os, srv, &kc, msg, sizeof msg),
                     PQCOAP_ERR_EXISTS);
    }
    must(test_server_start(&s->ts), "server thread");
}

static void stop(server *s)
{
    pqcoap_oscore_server_stop(s->os);
    test_server_end(&s->ts);
    pqcoap_oscore_server_free(s->os);
    pqcoap_store_close(&s->store);
}

/* Opens a client of device `dev` (id) pinning the gateway key `gw`, asking for `aead`. */
static pqcoap_oscore_client *keyed_client(const server *s, const char *id,
                                          const pqcoap_identity *dev, const pqcoap_identity *gw,
                                          int aead, pqcoap_store *st, pqcoap_err *err)
{
    char uri[128], msg[256];
    pqcoap_session_client_config cfg = PQCOAP_SESSION_CLIENT_CONFIG_INIT;
    cfg.id = id;
    cfg.sk = dev->sk;
    cfg.sk_len = pqcoap_identity_sk_len(dev);
    cfg.alg = pqcoap_pubkey_alg(&dev->pub);
    cfg.server_id = "gw";
    cfg.server_pk = gw->pub.pk;
    cfg.server_pk_len = gw->pub.pk_len;
    cfg.store = st;
    pqcoap_oscore_client *c = NULL;
    test_uri(uri, sizeof uri, "127.0.0.1", &s->ts, "");
    *err = pqcoap_oscore_client_open_keyed(uri, &cfg, aead, &c, msg, sizeof msg);
    if (*err != PQCOAP_OK)
        fprintf(stderr, "  keyed client %s: %s\n", id, msg);
    return c;
}

/* A request of `method` on "echo" with `text`; PQCOAP_OK only if echoed. */
static pqcoap_err echo(pqcoap_oscore_client *c, uint8_t method, const char *text)
{
    pqcoap_req req = PQCOAP_REQ_INIT;
    pqcoap_reply r = {PQCOAP_MSG_INIT, NULL};
    req.method = method;
    req.path = "echo";
    req.payload = (const uint8_t *)text;
    req.payload_len = strlen(text);
    pqcoap_err err = pqcoap_oscore_client_request(c, &req, &r);
    if (err == PQCOAP_OK && (r.msg.payload_len != strlen(text) ||
                             memcmp(r.msg.payload, text, r.msg.payload_len) != 0))
        err = PQCOAP_ERR_AUTH;
    pqcoap_reply_free(&r);
    return err;
}

/* The Partial IV (the Sender Sequence Number) of a request. */
static uint64_t piv_of(const pqcoap_oscore_binding *b)
{
    uint64_t v = 0;
    for (size_t i = 0; i < b->piv_len; i++)
        v = v << 8 | b->piv[i];
    return v;
}

static void test_devices(const char *db)
{
    server s;
    pqcoap_err err;
    start(&s, db, 0, 0, 0);
    pqcoap_oscore_client *a = keyed_client(&s, "dev-mldsa", &dev_mldsa, &gw_mldsa, 0, &sa, &err);
    CHECK_EQ_INT(err, PQCOAP_OK);
    pqcoap_oscore_client *b = keyed_client(&s, "dev-falcon", &dev_falcon, &gw_falcon,
                                           PQCOAP_COSE_AES_CCM_16_64_128, &sb, &err);
    CHECK_EQ_INT(err, PQCOAP_OK);
    if (!a || !b) {
        stop(&s);
        return;
    }
    CHECK_EQ_INT(echo(a, PQCOAP_GET, "a get"), PQCOAP_OK);
    CHECK_EQ_INT(echo(b, PQCOAP_POST, "b post"), PQCOAP_OK);
    CHECK_EQ_INT(echo(a, PQCOAP_POST, "a post"), PQCOAP_OK);
    /* each device its own context: the kids (the server's Recipient IDs) differ, and
     * neither is the provisioned context's 01 */
    pqcoap_oscore_binding ba, bb;
    CHECK_EQ_INT(pqcoap_oscore_client_last_request(a, &ba), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_oscore_client_last_request(b, &bb), PQCOAP_OK);
    CHECK(ba.kid_len >= 1 && bb.kid_len >= 1);
    CHECK(!(ba.kid_len == bb.kid_len && memcmp(ba.kid, bb.kid, ba.kid_len) == 0));
    CHECK(!(ba.kid_len == 1 && ba.kid[0] == 0x01) && !(bb.kid_len == 1 && bb.kid[0] == 0x01));

    /* revocation: another handle of the store removes dev-falcon; within about 250 ms its
     * context ends (its next request: "Security context not found", and the new handshake
     * the client then makes is refused), dev-mldsa's stays */
    pqcoap_store admin;
    must(pqcoap_store_open_sqlite(db, &admin) == PQCOAP_OK, "admin store");
    CHECK_EQ_INT(pqcoap_store_peer_remove(&admin, "dev-falcon"), PQCOAP_OK);
    pqcoap_store_close(&admin);
    sleep_ms(400);
    CHECK_EQ_INT(echo(b, PQCOAP_GET, "after revocation"), PQCOAP_ERR_HANDSHAKE);
    CHECK(strstr(pqcoap_oscore_client_last_error(b), "Security context not found") != NULL);
    CHECK_EQ_INT(echo(a, PQCOAP_GET, "still"), PQCOAP_OK);
    /* and its new handshake is refused */
    pqcoap_oscore_client *b2 = keyed_client(&s, "dev-falcon", &dev_falcon, &gw_falcon, 0, &sb,
                                            &err);
    CHECK(b2 == NULL);
    CHECK_EQ_INT(err, PQCOAP_ERR_HANDSHAKE);
    /* a new handshake of dev-mldsa replaces its context: the old one ends, and its client
     * gets "Security context not found" and makes a handshake of its own again */
    pqcoap_oscore_client *a2 = keyed_client(&s, "dev-mldsa", &dev_mldsa, &gw_mldsa, 0, &sa, &err);
    CHECK_EQ_INT(err, PQCOAP_OK);
    if (a2) {
        CHECK_EQ_INT(echo(a2, PQCOAP_GET, "new context"), PQCOAP_OK);
        pqcoap_oscore_binding before, after;
        CHECK_EQ_INT(pqcoap_oscore_client_last_request(a, &before), PQCOAP_OK);
        CHECK_EQ_INT(echo(a, PQCOAP_GET, "old context"), PQCOAP_OK);
        CHECK_EQ_INT(pqcoap_oscore_client_last_request(a, &after), PQCOAP_OK);
        CHECK(piv_of(&after) < piv_of(&before)); /* a new context: its SSNs start anew */
    }
    pqcoap_oscore_client_free(a);
    pqcoap_oscore_client_free(a2);
    pqcoap_oscore_client_free(b);
    stop(&s);
}

static void test_limits(const char *db)
{
    server s;
    pqcoap_err err;
    /* max_msgs 3: the fourth request finds no context; the client keys a new one */
    start(&s, db, 3, 0, 0);
    pqcoap_oscore_client *c = keyed_client(&s, "dev-mldsa", &dev_mldsa, &gw_mldsa, 0, &sa, &err);
    CHECK_EQ_INT(err, PQCOAP_OK);
    for (int i = 0; c && i < 3; i++)
        CHECK_EQ_INT(echo(c, PQCOAP_GET, "counted"), PQCOAP_OK);
    if (c) {
        pqcoap_oscore_binding before, after;
        CHECK_EQ_INT(pqcoap_oscore_client_last_request(c, &before), PQCOAP_OK);
        CHECK_EQ_INT(echo(c, PQCOAP_GET, "one too many"), PQCOAP_OK);
        CHECK_EQ_INT(pqcoap_oscore_client_last_request(c, &after), PQCOAP_OK);
        CHECK(piv_of(&after) < piv_of(&before)); /* a new context: its SSNs start anew */
    }
    pqcoap_oscore_client_free(c);
    stop(&s);
    /* lifetime 1 s */
    start(&s, db, 0, 1, 0);
    c = keyed_client(&s, "dev-mldsa", &dev_mldsa, &gw_mldsa, 0, &sa, &err);
    CHECK_EQ_INT(err, PQCOAP_OK);
    if (c) {
        CHECK_EQ_INT(echo(c, PQCOAP_GET, "young"), PQCOAP_OK);
        CHECK_EQ_INT(echo(c, PQCOAP_GET, "young again"), PQCOAP_OK);
        pqcoap_oscore_binding before, after;
        CHECK_EQ_INT(pqcoap_oscore_client_last_request(c, &before), PQCOAP_OK);
        sleep_ms(1200);
        CHECK_EQ_INT(echo(c, PQCOAP_GET, "old"), PQCOAP_OK); /* after a new handshake */
        CHECK_EQ_INT(pqcoap_oscore_client_last_request(c, &after), PQCOAP_OK);
        CHECK(piv_of(&after) < piv_of(&before));
    }
    pqcoap_oscore_client_free(c);
    stop(&s);
    /* a server that keys no OSCORE context: the handshake is not even routed */
    start(&s, db, 0, 0, 1);
    c = keyed_client(&s, "dev-mldsa", &dev_mldsa, &gw_mldsa, 0, &sa, &err);
    CHECK(c == NULL);
    CHECK_EQ_INT(err, PQCOAP_ERR_UNAUTHENTICATED); /* 4.01 "OSCORE required" */
    stop(&s);
}

int main(void)
{
    must(mkdtemp(dir) != NULL, "temporary folder");
    char db[300];
    snprintf(db, sizeof db, "%s/gw.db", dir);
    must(pqcoap_identity_generate("falcon-512", NULL, &gw_falcon) == PQCOAP_OK, "key");
    must(pqcoap_identity_generate("ml-dsa-65", NULL, &gw_mldsa) == PQCOAP_OK, "key");
    must(pqcoap_identity_generate("falcon-512", NULL, &dev_falcon) == PQCOAP_OK, "key");
    must(pqcoap_identity_generate("ml-dsa-65", NULL, &dev_mldsa) == PQCOAP_OK, "key");
    pqcoap_store trust;
    must(pqcoap_store_open_sqlite(db, &trust) == PQCOAP_OK, "trust store");
    fx_trust(&trust, "dev-falcon", &dev_falcon);
    fx_trust(&trust, "dev-mldsa", &dev_mldsa);
    pqcoap_store_close(&trust);
    must(pqcoap_store_open_memory(&sa) == PQCOAP_OK && pqcoap_store_open_memory(&sb) == PQCOAP_OK,
         "client stores");

    test_devices(db);
    test_limits(db);

    pqcoap_store_close(&sa);
    pqcoap_store_close(&sb);
    pqcoap_identity_wipe(&gw_falcon);
    pqcoap_identity_wipe(&gw_mldsa);
    pqcoap_identity_wipe(&dev_falcon);
    pqcoap_identity_wipe(&dev_mldsa);
    unlink(db);
    rmdir(dir);
    return check_done();
}

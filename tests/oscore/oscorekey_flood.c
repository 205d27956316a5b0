/* A flood of INITs on a server keying OSCORE contexts by handshakes (real UDP on loopback):
 * while two clients send INITs (a trusted device's real INIT, each costing a signature
 * check before anything is decided) as fast as they are answered, every protected request
 * of a device that keyed its context before is answered, and the INITs beyond the per-address
 * rate get 5.03 with Max-Age at once, as Mode B's handshakes. */
#include "oscorekey_common.h"
#include "pqcoap/session.h"

#define FLOOD_INITS 40      /* per flooding client */
#define PROTECTED 30        /* protected requests sent during the flood */

static uint8_t init_msg[PQCOAP_INIT_MAX];
static size_t init_len;
static char uri[128];

typedef struct flood_count {
    int busy;               /* 5.03 with a Max-Age of at least 1 s */
    int made;               /* 2.04: a handshake ran */
    int other;
} flood_count;

/* The device "flooder"'s INIT to the gateway, sent again and again. */
static void make_init(pqcoap_identity *flooder)
{
    const pqcoap_oscore_request oreq = {PQCOAP_COSE_A256GCM, NULL, 0};
    pqcoap_initiator_cfg ic = PQCOAP_INITIATOR_CFG_INIT;
    ic.id = "flooder";
    ic.sk = flooder->sk;
    ic.sk_len = pqcoap_identity_sk_len(flooder);
    ic.responder_id = "gw";
    ic.responder_pk = gw_key.pub.pk;
    ic.responder_pk_len = gw_key.pub.pk_len;
    ic.oscore = &oreq;
    pqcoap_initiator *st = calloc(1, sizeof *st);
    must(st != NULL, "memory");
    must(pqcoap_initiator_start(st, &ic, 1, 0, NULL, init_msg, sizeof init_msg, &init_len) ==
         PQCOAP_OK, "INIT");
    pqcoap_initiator_wipe(st);
    free(st);
}

static void *flood(void *arg)
{
    flood_count *n = arg;
    pqcoap_client *cl = test_client(uri, NULL);
    for (int i = 0; cl && i < FLOOD_INITS; i++) {
        pqcoap_req req = PQCOAP_REQ_INIT;
        pqcoap_reply r = {PQCOAP_MSG_INIT, NULL};
        req.method = PQCOAP_POST;
        req.path = PQCOAP_SESSION_INIT_PATH;
        req.content_format = PQCOAP_SESSION_INIT_FORMAT;
        req.payload = init_msg;
        req.payload_len = init_len;
        uint32_t max_age = 0;
        const pqcoap_opt *o = NULL;
        if (pqcoap_client_request(cl, &req, &r) != PQCOAP_OK)
            n->other++;
        else if (r.msg.code == PQCOAP_CODE(5, 3) &&
                 (o = pqcoap_msg_find_opt(&r.msg, PQCOAP_OPT_MAX_AGE)) != NULL &&
                 pqcoap_opt_uint(o, &max_age) == PQCOAP_OK && max_age >= 1)
            n->busy++;
        else if (r.msg.code == PQCOAP_CODE(2, 4))
            n->made++;
        else
            n->other++;
        pqcoap_reply_free(&r);
    }
    pqcoap_client_free(cl);
    return NULL;
}

int main(void)
{
    pqcoap_identity flooder;
    pqcoap_store gw_store, dev_store;
    must(pqcoap_identity_generate("falcon-512", NULL, &gw_key) == PQCOAP_OK, "key");
    must(pqcoap_identity_generate("falcon-512", NULL, &dev_key) == PQCOAP_OK, "key");
    must(pqcoap_identity_generate("falcon-512", NULL, &flooder) == PQCOAP_OK, "key");
    must(pqcoap_store_open_memory(&gw_store) == PQCOAP_OK, "store");
    must(pqcoap_store_open_memory(&dev_store) == PQCOAP_OK, "store");
    trust(&gw_store, "dev", &dev_key);
    trust(&gw_store, "flooder", &flooder);
    make_init(&flooder);

    /* one handshake per second per address: the device's own takes the first token */
    gateway g;
    gateway_start(&g, &gw_store, 0, 1);
    test_uri(uri, sizeof uri, "127.0.0.1", &g.ts, "");
    pqcoap_oscore_client *dev = device_open(&g, &dev_store);
    must(dev != NULL, "the device's handshake");

    flood_count counts[2] = {{0, 0, 0}, {0, 0, 0}};
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        must(pthread_create(&th[i], NULL, flood, &counts[i]) == 0, "flood thread");
    int answered = 0;
    for (int i = 0; i < PROTECTED; i++)
        answered += echo(dev, "during the flood") == PQCOAP_OK;
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);

    /* every protected request is answered; every INIT is answered, and those beyond the
     * rate with 5.03 and Max-Age (at most one per second elapsed got through) */
    CHECK_EQ_INT(answered, PROTECTED);
    int busy = counts[0].busy + counts[1].busy, made = counts[0].made + counts[1].made;
    CHECK_EQ_INT(counts[0].other + counts[1].other, 0);
    CHECK_EQ_INT(busy + made, 2 * FLOOD_INITS);
    CHECK(busy >= 1);
    fprintf(stderr, "  %d protected answers; INITs: %d with 5.03 and Max-Age, %d handshakes\n",
            answered, busy, made);
    /* and the device still speaks OSCORE afterwards */
    CHECK_EQ_INT(echo(dev, "after the flood"), PQCOAP_OK);

    pqcoap_oscore_client_free(dev);
    gateway_stop(&g);
    pqcoap_store_close(&gw_store);
    pqcoap_store_close(&dev_store);
    pqcoap_identity_wipe(&gw_key);
    pqcoap_identity_wipe(&dev_key);
    pqcoap_identity_wipe(&flooder);
    return check_done();
}

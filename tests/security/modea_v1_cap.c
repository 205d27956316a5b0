/* Regression test (Mode A v1 verification cost): a v1 request carries no key id, so a v1
 * server tries each of its pinned v1 keys on every request, forged ones included (with 200
 * keys one forged datagram cost ~13 ms of the I/O thread). The number of v1 keys a server
 * takes is capped (max_v1_keys, default 8): beyond the cap it refuses to start, with
 * PQCOAP_ERR_LIMIT. */
#include "modea_util.h"

#define MANY 200

int main(void)
{
    pqcoap_identity gw, dev;
    CHECK_EQ_INT(pqcoap_identity_generate("falcon-512", NULL, &gw), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_identity_generate("falcon-512", NULL, &dev), PQCOAP_OK);
    gw.pub.usage = dev.pub.usage = PQCOAP_USAGE_SIGN_V1;
    static pqcoap_pubkey keys[MANY];
    for (size_t i = 0; i < MANY; i++)
        keys[i] = dev.pub; /* the count is what matters, not the keys */
    pqcoap_store st;
    CHECK_EQ_INT(pqcoap_store_open_memory(&st), PQCOAP_OK);
    pqcoap_sign_server_config cfg = PQCOAP_SIGN_SERVER_CONFIG_INIT;
    cfg.policy = PQCOAP_SIGN_V1_ONLY;
    cfg.v1_keys = keys;
    pqcoap_sign_server *s = NULL;

    /* 200 v1 keys: refused at start. */
    cfg.n_v1_keys = MANY;
    CHECK_EQ_INT(pqcoap_sign_server_new(&gw, &st, &cfg, &s), PQCOAP_ERR_LIMIT);
    CHECK(s == NULL);
    pqcoap_sign_server_free(s);
    /* The default cap, 8, is taken; one more is not. */
    CHECK_EQ_INT(cfg.max_v1_keys, 8);
    cfg.n_v1_keys = 8;
    CHECK_EQ_INT(pqcoap_sign_server_new(&gw, &st, &cfg, &s), PQCOAP_OK);
    pqcoap_sign_server_free(s);
    s = NULL;
    cfg.n_v1_keys = 9;
    CHECK_EQ_INT(pqcoap_sign_server_new(&gw, &st, &cfg, &s), PQCOAP_ERR_LIMIT);
    CHECK(s == NULL);
    /* An operator who accepts the cost raises the cap. */
    cfg.max_v1_keys = MANY;
    cfg.n_v1_keys = MANY;
    CHECK_EQ_INT(pqcoap_sign_server_new(&gw, &st, &cfg, &s), PQCOAP_OK);
    pqcoap_sign_server_free(s);

    pqcoap_store_close(&st);
    pqcoap_identity_wipe(&gw);
    pqcoap_identity_wipe(&dev);
    return check_done();
}

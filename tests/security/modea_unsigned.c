/* Regression test (Mode A unsigned answers): a Mode A server leaves only its refusals and
 * transport errors unsigned (4.00, 4.01, 4.02, 4.08, 4.13, 5.00, 5.03, PROTOCOL.md). Any
 * other code without a valid signature, e.g. a 4.04 or a 2.05 forged by an on-path
 * attacker, is a security failure at the client (PQCOAP_ERR_UNAUTHENTICATED), not an
 * answer; the unsigned refusals keep their errors. A raw UDP socket plays the server. */
#include "modea_util.h"
#include "unprotected.h"

static pqcoap_identity gw, gw_v1, dev, dev_v1;

/* Sends one request of `c` to the fake server `fake`, answers it with an unsigned
 * piggybacked `code` and diagnostic payload, and returns the request's result. */
static pqcoap_err answer_unsigned(pqcoap_sign_client *c, int fake, uint8_t code)
{
    return answer_unprotected(pqcoap_sign_client_net(c), fake, code);
}

/* A Mode A client of `version` for the fake server, pinning `server`. */
static pqcoap_sign_client *client_of(int fake, const pqcoap_identity *id,
                                     const pqcoap_pubkey *server, const pqcoap_store *st,
                                     int version)
{
    pqcoap_sign_client *c = sign_client(sock_port(fake), "sensors/temp", id, st, version);
    CHECK(c != NULL);
    if (c)
        CHECK_EQ_INT(pqcoap_sign_client_pin(c, server), PQCOAP_OK);
    return c;
}

int main(void)
{
    CHECK_EQ_INT(pqcoap_identity_generate("falcon-512", NULL, &gw), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_identity_generate("falcon-512", NULL, &dev), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_identity_generate("falcon-512", NULL, &gw_v1), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_identity_generate("falcon-512", NULL, &dev_v1), PQCOAP_OK);
    gw_v1.pub.usage = dev_v1.pub.usage = PQCOAP_USAGE_SIGN_V1;
    pqcoap_store st;
    CHECK_EQ_INT(pqcoap_store_open_memory(&st), PQCOAP_OK);
    int fake = raw_socket();
    CHECK(fake >= 0);

    for (int version = 1; version <= 2; version++) {
        pqcoap_sign_client *c = version == 2 ? client_of(fake, &dev, &gw.pub, &st, 2)
                                             : client_of(fake, &dev_v1, &gw_v1.pub, NULL, 1);
        if (!c)
            continue;
        /* Not a code a Mode A server leaves unsigned: a security failure. */
        CHECK_EQ_INT(answer_unsigned(c, fake, PQCOAP_CODE(4, 4)), PQCOAP_ERR_UNAUTHENTICATED);
        CHECK_EQ_INT(answer_unsigned(c, fake, PQCOAP_CODE(2, 5)), PQCOAP_ERR_UNAUTHENTICATED);
        CHECK_EQ_INT(answer_unsigned(c, fake, PQCOAP_CODE(4, 3)), PQCOAP_ERR_UNAUTHENTICATED);
        CHECK_EQ_INT(answer_unsigned(c, fake, PQCOAP_CODE(5, 4)), PQCOAP_ERR_UNAUTHENTICATED);
        /* The unsigned refusals and transport errors keep their meaning. */
        CHECK_EQ_INT(answer_unsigned(c, fake, PQCOAP_CODE(5, 3)), PQCOAP_ERR_BUSY);
        CHECK_EQ_INT(answer_unsigned(c, fake, PQCOAP_CODE(4, 1)), PQCOAP_ERR_REJECTED);
        CHECK_EQ_INT(answer_unsigned(c, fake, PQCOAP_CODE(4, 0)), PQCOAP_ERR_REJECTED);
        CHECK_EQ_INT(answer_unsigned(c, fake, PQCOAP_CODE(4, 2)), PQCOAP_ERR_REJECTED);
        CHECK_EQ_INT(answer_unsigned(c, fake, PQCOAP_CODE(4, 13)), PQCOAP_ERR_TOO_LARGE);
        CHECK_EQ_INT(answer_unsigned(c, fake, PQCOAP_CODE(4, 8)), PQCOAP_ERR_COAP);
        CHECK_EQ_INT(answer_unsigned(c, fake, PQCOAP_CODE(5, 0)), PQCOAP_ERR_COAP);
        pqcoap_sign_client_free(c);
    }

    close(fake);
    pqcoap_store_close(&st);
    pqcoap_identity_wipe(&gw);
    pqcoap_identity_wipe(&dev);
    pqcoap_identity_wipe(&gw_v1);
    pqcoap_identity_wipe(&dev_v1);
    return check_done();
}

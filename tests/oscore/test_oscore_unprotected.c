/* The OSCORE client against answers without OSCORE (a raw UDP socket plays the server):
 * RFC 8613 section 8.2 leaves the server's refusals unprotected (4.00, 4.01, 4.02), and
 * overload and size (5.03, 4.13) may come so too; any other code without OSCORE, e.g. a 2.05
 * or a 4.04 that anyone on the path can send, is PQCOAP_ERR_UNAUTHENTICATED, never taken
 * for the server's answer. */
#include "check.h"
#include "pqcoap/oscore_endpoint.h"
#include "pqcoap/store.h"
#include "security/unprotected.h"

static const char client_conf[] =
    "master_secret,hex,0102030405060708090a0b0c0d0e0f10\n"
    "sender_id,hex,\"\"\n"
    "recipient_id,hex,01\n";

int main(void)
{
    uint16_t port = 0;
    int fake = fake_server_socket(&port);
    CHECK(fake >= 0);
    char uri[64], msg[160];
    snprintf(uri, sizeof uri, "coap://127.0.0.1:%u/sensors/temp", port);
    pqcoap_store store;
    pqcoap_oscore_conf conf;
    pqcoap_oscore_client *c = NULL;
    CHECK_EQ_INT(pqcoap_store_open_memory(&store), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_oscore_conf_parse(client_conf, strlen(client_conf), &conf, msg,
                                          sizeof msg), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_oscore_client_open(uri, &conf, &store, NULL, &c, msg, sizeof msg),
                 PQCOAP_OK);
    pqcoap_oscore_conf_wipe(&conf);
    if (!c)
        return check_done();
    pqcoap_client *net = pqcoap_oscore_client_net(c);

    /* Not a code a server leaves unprotected: a security failure. */
    CHECK_EQ_INT(answer_unprotected(net, fake, PQCOAP_CODE(2, 5)), PQCOAP_ERR_UNAUTHENTICATED);
    CHECK_EQ_INT(answer_unprotected(net, fake, PQCOAP_CODE(4, 4)), PQCOAP_ERR_UNAUTHENTICATED);
    CHECK_EQ_INT(answer_unprotected(net, fake, PQCOAP_CODE(5, 0)), PQCOAP_ERR_UNAUTHENTICATED);
    CHECK(strstr(pqcoap_oscore_client_last_error(c), "not authenticated") != NULL);
    /* The unprotected refusals keep their meaning. */
    CHECK_EQ_INT(answer_unprotected(net, fake, PQCOAP_CODE(4, 0)), PQCOAP_ERR_REJECTED);
    CHECK_EQ_INT(answer_unprotected(net, fake, PQCOAP_CODE(4, 1)), PQCOAP_ERR_REJECTED);
    CHECK_EQ_INT(answer_unprotected(net, fake, PQCOAP_CODE(4, 2)), PQCOAP_ERR_REJECTED);
    CHECK_EQ_INT(answer_unprotected(net, fake, PQCOAP_CODE(5, 3)), PQCOAP_ERR_BUSY);
    CHECK_EQ_INT(answer_unprotected(net, fake, PQCOAP_CODE(4, 13)), PQCOAP_ERR_TOO_LARGE);

    pqcoap_oscore_client_free(c);
    pqcoap_store_close(&store);
    close(fake);
    return check_done();
}

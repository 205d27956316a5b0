/* Regression test (Mode A recipient binding): a signed v2 POST captured on its way to
 * gateway A is refused by gateway B, which trusts the same device, with 4.01, and B's
 * handler does not run; A itself accepts it. Real UDP on loopback. */
#include "modea_util.h"

int main(void)
{
    pqcoap_identity gw_a, gw_b, device;
    pqcoap_store sa, sb, cstore;
    CHECK_EQ_INT(pqcoap_identity_generate("falcon-512", NULL, &gw_a), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_identity_generate("falcon-512", NULL, &gw_b), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_identity_generate("falcon-512", NULL, &device), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_store_open_memory(&sa), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_store_open_memory(&sb), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_store_open_memory(&cstore), PQCOAP_OK);
    CHECK_EQ_INT(trust(&sa, "device", &device.pub), PQCOAP_OK);
    CHECK_EQ_INT(trust(&sb, "device", &device.pub), PQCOAP_OK);
    sign_server a, b;
    CHECK(sign_server_start(&a, &gw_a, &sa, NULL));
    CHECK(sign_server_start(&b, &gw_b, &sb, NULL));

    /* The device means gateway A: it pins A's key. Its request is captured on the way. */
    int trap = raw_socket(), fd = raw_socket();
    CHECK(trap >= 0 && fd >= 0);
    pqcoap_sign_client *c = sign_client(sock_port(trap), "echo", &device, &cstore, 2);
    CHECK(c != NULL);
    uint8_t d[RAW_ANSWER_MAX];
    size_t n = 0;
    if (c) {
        CHECK_EQ_INT(pqcoap_sign_client_pin(c, &gw_a.pub), PQCOAP_OK);
        pqcoap_req req = PQCOAP_REQ_INIT;
        req.method = PQCOAP_POST;
        req.payload = (const uint8_t *)"open valve 7";
        req.payload_len = 12;
        n = capture(c, trap, &req, d, sizeof d);
    }
    CHECK(n > 0);

    /* Delivered to B: refused with 4.01, B's handler does not run. */
    char diag[128] = "";
    int runs = atomic_load(&handler_runs);
    CHECK_EQ_INT(raw_exchange(fd, sign_server_port(&b), d, n, dgram_mid(d), diag, sizeof diag),
                 PQCOAP_CODE(4, 1));
    CHECK_EQ_INT(atomic_load(&handler_runs), runs);
    /* A second try under another message ID changes nothing. */
    d[3] ^= 0x5a;
    CHECK_EQ_INT(raw_exchange(fd, sign_server_port(&b), d, n, dgram_mid(d), diag, sizeof diag),
                 PQCOAP_CODE(4, 1));
    CHECK_EQ_INT(atomic_load(&handler_runs), runs);
    /* Delivered to A, the gateway it was meant for: accepted once. */
    CHECK_EQ_INT(raw_exchange(fd, sign_server_port(&a), d, n, dgram_mid(d), diag, sizeof diag),
                 PQCOAP_CODE(2, 4));
    CHECK_EQ_INT(atomic_load(&handler_runs), runs + 1);

    pqcoap_sign_client_free(c);
    close(trap);
    close(fd);
    sign_server_stop(&a);
    sign_server_stop(&b);
    pqcoap_store_close(&sa);
    pqcoap_store_close(&sb);
    pqcoap_store_close(&cstore);
    pqcoap_identity_wipe(&gw_a);
    pqcoap_identity_wipe(&gw_b);
    pqcoap_identity_wipe(&device);
    return check_done();
}

/* Mode A v2 over IPv6: a client of [::1] through a relay on ::1 that counts datagrams. A GET
 * and a POST of 5 KiB in 64-byte blocks, each verified as one message, the handler run once
 * each; then the client's request, captured on the wire and sent again from another ::1
 * address, or under another message ID, is refused as a replay and never handled. */
#include "sign/sign_net.h"
#include "udp_proxy.h"

static pqcoap_identity server_id, client_id;

/* 1 if r is a 2.xx whose body is "echo:" || body[0..len) (or BIG_LEN bytes of big when
 * body is NULL). */
static int body_ok(pqcoap_err err, const pqcoap_reply *r, const uint8_t *body, size_t len)
{
    if (err != PQCOAP_OK || (r->msg.code >> 5) != 2)
        return 0;
    if (!body) {
        for (size_t i = 0; i < BIG_LEN; i++)
            if (r->msg.payload_len != BIG_LEN || r->msg.payload[i] != BIG_BYTE(i))
                return 0;
        return 1;
    }
    return r->msg.payload_len == len + 5 && memcmp(r->msg.payload, "echo:", 5) == 0 &&
           memcmp(r->msg.payload + 5, body, len) == 0;
}

int main(void)
{
    sign_net_family = AF_INET6;
    CHECK_EQ_INT(pqcoap_identity_generate("falcon-512", NULL, &server_id), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_identity_generate("falcon-512", NULL, &client_id), PQCOAP_OK);
    pqcoap_store sstore, cstore;
    CHECK_EQ_INT(pqcoap_store_open_memory(&sstore), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_store_open_memory(&cstore), PQCOAP_OK);
    CHECK_EQ_INT(trust(&sstore, "client", &client_id.pub), PQCOAP_OK);
    sign_server srv;
    CHECK(sign_server_start(&srv, &server_id, &sstore, NULL));
    udp_proxy_cfg clean;
    memset(&clean, 0, sizeof clean);
    uint16_t pport = 0;
    udp_proxy *proxy = udp_proxy_start_af(&clean, AF_INET6, sign_server_port(&srv), &pport);
    CHECK(proxy != NULL);
    pqcoap_sign_client *c = sign_client_blocks(pport, "echo", &client_id, &cstore, 2, 64);
    CHECK(c != NULL);
    if (!proxy || !c)
        return check_done();
    CHECK_EQ_INT(pqcoap_sign_client_pin(c, &server_id.pub), PQCOAP_OK);

    /* Block-wise both ways: 5120 bytes in 64-byte blocks are 80 blocks, each a request and
     * a response on the wire, so far more than 2 x 80 datagrams in all. */
    pqcoap_reply r;
    int runs = atomic_load(&handler_runs);
    CHECK(body_ok(pqcoap_sign_client_get(c, "big", &r), &r, NULL, 0));
    pqcoap_reply_free(&r);
    static uint8_t body[BIG_LEN];
    for (size_t i = 0; i < sizeof body; i++)
        body[i] = BIG_BYTE(i + 1);
    CHECK(body_ok(pqcoap_sign_client_post(c, NULL, body, sizeof body, &r), &r, body,
                  sizeof body));
    pqcoap_reply_free(&r);
    CHECK_EQ_INT(atomic_load(&handler_runs), runs + 2);
    udp_proxy_stats st;
    udp_proxy_stop(proxy, &st);
    printf("5 KiB both ways over ::1 in 64-byte blocks: %lu datagrams\n", st.forwarded);
    CHECK(st.forwarded >= 6 * (BIG_LEN / 64) - 2); /* GET: 80 x 2; POST: 80 x 2 + 79 x 2 */

    /* A request captured on the wire, sent again by an attacker on ::1. */
    proxy = udp_proxy_start_af(&clean, AF_INET6, sign_server_port(&srv), &pport);
    CHECK(proxy != NULL);
    pqcoap_sign_client_free(c);
    c = sign_client(pport, "echo", &client_id, &cstore, 2);
    CHECK(c != NULL && pqcoap_sign_client_pin(c, &server_id.pub) == PQCOAP_OK);
    static const uint8_t valve[] = "open valve";
    CHECK(body_ok(pqcoap_sign_client_post(c, NULL, valve, sizeof valve - 1, &r), &r, valve,
                  sizeof valve - 1));
    pqcoap_reply_free(&r);
    uint8_t captured[RAW_ANSWER_MAX];
    size_t n = udp_proxy_last_request(proxy, captured, sizeof captured);
    CHECK(n > sizeof valve);
    uint16_t mid = (uint16_t)(captured[2] << 8 | captured[3]);
    runs = atomic_load(&handler_runs);
    int fd = raw_socket();
    CHECK(fd >= 0);
    char diag[128] = "";
    /* The same message ID from another address: not a retransmission but a replay. */
    CHECK_EQ_INT(raw_exchange(fd, sign_server_port(&srv), captured, n, mid, diag, sizeof diag),
                 PQCOAP_CODE(4, 1));
    CHECK(strstr(diag, "replay") != NULL);
    /* Another message ID: a replay. */
    captured[3] ^= 0x5a;
    CHECK_EQ_INT(raw_exchange(fd, sign_server_port(&srv), captured, n, mid ^ 0x5a, diag,
                              sizeof diag), PQCOAP_CODE(4, 1));
    CHECK(strstr(diag, "replay") != NULL);
    CHECK_EQ_INT(atomic_load(&handler_runs), runs);
    close(fd);
    /* The client goes on. */
    CHECK(body_ok(pqcoap_sign_client_post(c, NULL, valve, 4, &r), &r, valve, 4));
    pqcoap_reply_free(&r);
    CHECK_EQ_INT(atomic_load(&handler_runs), runs + 1);

    pqcoap_sign_client_free(c);
    udp_proxy_stop(proxy, NULL);
    sign_server_stop(&srv);
    pqcoap_store_close(&sstore);
    pqcoap_store_close(&cstore);
    pqcoap_identity_wipe(&server_id);
    pqcoap_identity_wipe(&client_id);
    return check_done();
}

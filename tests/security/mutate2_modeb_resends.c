/* The Mode B session layer's own bound on its kept response. Copies of a session's last
 * request under its message ID and from its address, but with another token, are not
 * duplicates to the server (they differ byte for byte) and reach the session layer, which
 * takes them for retransmissions (the token is not protected). A sender spoofing the
 * client's address could so draw the kept response again and again, each time from a short
 * datagram: the layer sends it at most 5 times, then answers with a short 4.01 "rejected".
 * Real UDP on loopback, protected requests by hand. */
#include "check.h"
#include "modeb_raw.h"

#define RESENDS_MAX 5
#define COPIES (RESENDS_MAX + 2)

int main(void)
{
    snet_init();
    pqcoap_session_server_config cfg = snet_server_cfg(&trust, 0);
    snet_server srv;
    snet_server_start(&srv, &cfg);
    pqcoap_session s;
    CHECK_EQ_INT(raw_handshake(srv.port, "client", &id_client, 1, &s), PQCOAP_OK);
    int sock = raw_socket_to(srv.port);
    CHECK(sock >= 0);

    static uint8_t req[RAW_DGRAM_MAX];
    static raw_answer first, again;
    size_t n = raw_protected(&s, PQCOAP_GET, "echo", "", 0x1234, req);
    CHECK(n > 0);
    CHECK(raw_exchange(sock, req, n, 0x1234, &first));
    CHECK_EQ_INT(first.code, PQCOAP_CODE(2, 5));
    CHECK_EQ_INT(atomic_load(&runs[PQCOAP_GET]), 1);

    int resent = 0, rejected = 0;
    for (int i = 0; i < COPIES; i++) {
        req[4] = 0xA0;                  /* the token: 0xA0, i instead of 0x12, 0x34 */
        req[5] = (uint8_t)i;
        CHECK(raw_exchange(sock, req, n, 0x1234, &again));
        if (again.code == PQCOAP_CODE(2, 5) && again.len == first.len &&
            memcmp(again.d + 6, first.d + 6, first.len - 6) == 0)
            resent++;
        else if (again.code == PQCOAP_CODE(4, 1) && raw_payload_is(&again, "rejected"))
            rejected++;
    }
    CHECK_EQ_INT(resent, RESENDS_MAX);
    CHECK_EQ_INT(rejected, COPIES - RESENDS_MAX);
    CHECK_EQ_INT(atomic_load(&runs[PQCOAP_GET]), 1);
    CHECK_EQ_INT(snet_stats(&srv).retransmissions, RESENDS_MAX);

    close(sock);
    pqcoap_session_wipe(&s);
    snet_server_stop(&srv);
    snet_fini();
    return check_done();
}

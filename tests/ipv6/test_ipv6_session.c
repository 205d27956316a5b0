/* Mode B over IPv6: a session client of [::1] through a relay on ::1 that counts datagrams.
 * The handshake in 256-byte blocks (INIT by Block1, RESP by Block2), 20 KiB bodies both
 * ways in the session, and a protected request captured on the wire and sent again from
 * another ::1 address, or under another message ID: refused (4.01 "rejected"), never
 * handled, and the session goes on. */
#include "check.h"
#include "security/modeb_raw.h"
#include "udp_proxy.h"

#define BLOCK 256

static snet_server srv;

/* A session client of the server through a new clean relay on ::1 (in *proxy). */
static pqcoap_session_client *client_via_proxy(pqcoap_store *cstore, udp_proxy **proxy)
{
    udp_proxy_cfg clean;
    memset(&clean, 0, sizeof clean);
    uint16_t pport = 0;
    *proxy = udp_proxy_start_af(&clean, AF_INET6, srv.port, &pport);
    snet_must(*proxy != NULL, "proxy");
    pqcoap_session_client_config cfg = snet_client_cfg("client", &id_client, &id_server, cstore);
    cfg.coap.block_size = BLOCK;
    return snet_client(pport, &cfg);
}

/* The handshake alone: INIT and RESP each span several blocks, so the relay carries a
 * request and an answer per INIT block, and a request and an answer per further RESP
 * block. */
static void test_blockwise_handshake(pqcoap_store *cstore)
{
    udp_proxy *proxy;
    pqcoap_session_client *sc = client_via_proxy(cstore, &proxy);
    uint64_t created = snet_stats(&srv).sessions_created;
    CHECK_EQ_INT(pqcoap_session_client_connect(sc), PQCOAP_OK);
    pqcoap_session_client_info info;
    CHECK_EQ_INT(pqcoap_session_client_info_get(sc, &info), PQCOAP_OK);
    CHECK(info.live);
    CHECK_EQ_INT(info.handshakes, 1);
    CHECK_EQ_INT(snet_stats(&srv).sessions_created, created + 1);
    CHECK(info.handshake_bytes_sent > 4 * BLOCK && info.handshake_bytes_received > 4 * BLOCK);
    pqcoap_session_client_free(sc);
    udp_proxy_stats st;
    udp_proxy_stop(proxy, &st);
    /* whole blocks in each message: a lower bound on its number of blocks */
    unsigned long init_blocks = (unsigned long)info.handshake_bytes_sent / BLOCK;
    unsigned long resp_blocks = (unsigned long)info.handshake_bytes_received / BLOCK;
    printf("handshake over ::1: INIT %lu B, RESP %lu B, %lu datagrams\n",
           (unsigned long)info.handshake_bytes_sent,
           (unsigned long)info.handshake_bytes_received, st.forwarded);
    CHECK(st.forwarded >= 2 * init_blocks + 2 * (resp_blocks - 1));
}

/* 20 KiB each way in the session, then a captured request sent again by an attacker. */
static void test_bodies_and_replay(pqcoap_store *cstore)
{
    udp_proxy *proxy;
    pqcoap_session_client *sc = client_via_proxy(cstore, &proxy);
    int posts = atomic_load(&runs[PQCOAP_POST]);
    CHECK(snet_big_bodies(sc));
    CHECK_EQ_INT(atomic_load(&runs[PQCOAP_POST]), posts + 1);

    CHECK(snet_echo(sc, PQCOAP_POST, "open valve"));
    static uint8_t captured[RAW_DGRAM_MAX];
    size_t n = udp_proxy_last_request(proxy, captured, sizeof captured);
    CHECK(n > 4);
    uint16_t mid = (uint16_t)(captured[2] << 8 | captured[3]);
    posts = atomic_load(&runs[PQCOAP_POST]);
    int fd = raw_socket_to(srv.port);
    CHECK(fd >= 0);
    static raw_answer a;
    /* the same message ID from another address: a replay, not a retransmission */
    CHECK(raw_exchange(fd, captured, n, mid, &a));
    CHECK_EQ_INT(a.code, PQCOAP_CODE(4, 1));
    CHECK(raw_payload_is(&a, "rejected"));
    /* another message ID: a replay */
    captured[3] ^= 0x5a;
    CHECK(raw_exchange(fd, captured, n, mid ^ 0x5a, &a));
    CHECK_EQ_INT(a.code, PQCOAP_CODE(4, 1));
    CHECK(raw_payload_is(&a, "rejected"));
    CHECK_EQ_INT(atomic_load(&runs[PQCOAP_POST]), posts);
    close(fd);
    /* the session goes on */
    CHECK(snet_echo(sc, PQCOAP_POST, "close valve"));
    CHECK_EQ_INT(atomic_load(&runs[PQCOAP_POST]), posts + 1);
    pqcoap_session_client_info info;
    CHECK_EQ_INT(pqcoap_session_client_info_get(sc, &info), PQCOAP_OK);
    CHECK_EQ_INT(info.handshakes, 1);
    pqcoap_session_client_free(sc);
    udp_proxy_stop(proxy, NULL);
}

int main(void)
{
    snet_family = AF_INET6;
    snet_init();
    pqcoap_store cstore;
    snet_must(pqcoap_store_open_memory(&cstore) == PQCOAP_OK, "store");
    pqcoap_session_server_config cfg = snet_server_cfg(&trust, 0);
    snet_server_start(&srv, &cfg);

    test_blockwise_handshake(&cstore);
    test_bodies_and_replay(&cstore);

    snet_server_stop(&srv);
    pqcoap_store_close(&cstore);
    snet_fini();
    return check_done();
}

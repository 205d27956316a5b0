/* A relay (tests/util/udp_proxy) between a device proxy and a gateway proxy, both real
 * processes, in front of coap-server-notls: in session and oscore mode the relay never sees
 * a payload of the application in clear (in sign mode, which does not encrypt, it does: the
 * check is real), and a datagram changed on the way in either direction reaches neither the backend
 * nor the application, which gets 5.02 instead; the pair keeps working afterwards. */
#include <stdatomic.h>

#include "check.h"
#include "proxy_test.h"
#include "udp_proxy.h"

#define MARKER "relay-must-not-read-this-7f3a91"

/* What the relay saw, and what it is told to change. */
typedef struct tap_state {
    atomic_int marker_seen;         /* datagrams carrying MARKER in clear */
    atomic_int tamper_to_gateway;   /* 1: change the next long datagram to the gateway */
    atomic_int tamper_to_device;    /* 1: change the next long datagram back */
    atomic_int tampered;
} tap_state;

/* True if text occurs in d[0..len): each place where its first byte stands is compared. */
static int contains(const uint8_t *d, size_t len, const char *text)
{
    size_t k = strlen(text);
    for (const uint8_t *p = d; len >= k && (p = memchr(p, text[0], len - k + 1 - (size_t)(p - d)));
         p++)
        if (memcmp(p, text, k) == 0)
            return 1;
    return 0;
}

/* Runs on the relay's thread for every datagram. A datagram longer than 16 bytes carries a
 * protected request or answer (an empty ACK is 4): its last byte (tag, or signature length)
 * is flipped when asked. */
static void tap(void *arg, int to_target, uint8_t *data, size_t len)
{
    tap_state *t = arg;
    if (contains(data, len, MARKER))
        atomic_fetch_add(&t->marker_seen, 1);
    atomic_int *flag = to_target ? &t->tamper_to_gateway : &t->tamper_to_device;
    int one = 1;
    if (len > 16 && atomic_compare_exchange_strong(flag, &one, 0)) {
        data[len - 1] ^= 0x01;
        atomic_fetch_add(&t->tampered, 1);
    }
}

/* GET example_data through the pair; 1 if it is 2.05 with exactly `want`. */
static int data_is(pqcoap_client *app, const char *want)
{
    pqcoap_reply r;
    int ok = proxy_request(app, PQCOAP_GET, "example_data", NULL, 0, NULL, &r) == PQCOAP_OK &&
             r.msg.code == PQCOAP_CODE(2, 5) && proxy_body_is(&r, want);
    pqcoap_reply_free(&r);
    return ok;
}

static void run_mode(const char *pq, const char *mode, uint16_t backend)
{
    fprintf(stderr, "-- mode %s\n", mode);
    tap_state t;
    atomic_init(&t.marker_seen, 0);
    atomic_init(&t.tamper_to_gateway, 0);
    atomic_init(&t.tamper_to_device, 0);
    atomic_init(&t.tampered, 0);
    char glog[32], dlog[32];
    snprintf(glog, sizeof glog, "gw-%s", mode);
    snprintf(dlog, sizeof dlog, "dev-%s", mode);
    uint16_t gport = 0, rport = 0, dport = 0;
    pid_t gw = proxy_start_gateway(pq, mode, backend, "dev", NULL, glog, &gport);
    CHECK(gport != 0);
    udp_proxy_cfg rcfg;
    memset(&rcfg, 0, sizeof rcfg);
    udp_proxy *relay = gport ? udp_proxy_start_tap(&rcfg, tap, &t, gport, &rport) : NULL;
    CHECK(relay != NULL);
    pid_t dev = relay ? proxy_start_device(pq, mode, rport, dlog, &dport) : -1;
    CHECK(dport != 0);
    pqcoap_client *app = dport ? proxy_app(dport) : NULL;
    CHECK(app != NULL);
    if (app) {
        pqcoap_reply r;
        /* the application's body goes to the backend and comes back */
        CHECK_EQ_INT(proxy_request(app, PQCOAP_PUT, "example_data", NULL, 0, MARKER, &r),
                     PQCOAP_OK);
        CHECK(r.msg.code == PQCOAP_CODE(2, 4) || r.msg.code == PQCOAP_CODE(2, 1));
        pqcoap_reply_free(&r);
        CHECK(data_is(app, MARKER));
        int seen = atomic_load(&t.marker_seen);
        if (strcmp(mode, "sign") != 0)
            CHECK_EQ_INT(seen, 0);
        else
            CHECK(seen >= 2); /* Mode A signs but does not encrypt: PUT and answer in clear */

        /* a changed request: refused by the gateway, the backend keeps its data */
        atomic_store(&t.tamper_to_gateway, 1);
        CHECK_EQ_INT(proxy_request(app, PQCOAP_PUT, "example_data", NULL, 0, "forged", &r),
                     PQCOAP_OK);
        CHECK_EQ_INT(r.msg.code, PQCOAP_CODE(5, 2));
        pqcoap_reply_free(&r);
        CHECK_EQ_INT(atomic_load(&t.tampered), 1);
        CHECK(data_is(app, MARKER));

        /* a changed answer: the device refuses it, the application gets 5.02 and no body of
         * the backend */
        atomic_store(&t.tamper_to_device, 1);
        CHECK_EQ_INT(proxy_request(app, PQCOAP_GET, "example_data", NULL, 0, NULL, &r),
                     PQCOAP_OK);
        CHECK_EQ_INT(r.msg.code, PQCOAP_CODE(5, 2));
        CHECK(!contains(r.msg.payload, r.msg.payload_len, MARKER));
        pqcoap_reply_free(&r);
        CHECK_EQ_INT(atomic_load(&t.tampered), 2);

        /* the pair still works; each refusal was one line on the device proxy */
        CHECK(data_is(app, MARKER));
        CHECK_EQ_INT(proxy_err_lines(dlog, "-> 5.02"), 2);
        pqcoap_client_free(app);
    }
    CHECK_EQ_INT(proxy_stop(dev), 0);
    udp_proxy_stop(relay, NULL);
    CHECK_EQ_INT(proxy_stop(gw), 0);
}

int main(void)
{
    CHECK(access(COAP_SERVER, X_OK) == 0);
    if (access(COAP_SERVER, X_OK) != 0)
        return check_done();
    const char *pq = PQCOAP_CLI;
    CHECK(proxy_tmp_init());
    CHECK(proxy_keygen(pq, "gw") && proxy_keygen(pq, "dev"));
    CHECK(proxy_oscore_confs());
    uint16_t backend = 0;
    pid_t be = proxy_libcoap_server(&backend);
    CHECK(be > 0);
    if (be > 0) {
        run_mode(pq, "session", backend);
        run_mode(pq, "sign", backend);
        run_mode(pq, "oscore", backend);
    }
    proxy_stop(be);
    proxy_tmp_remove();
    return check_done();
}

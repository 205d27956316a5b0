/* Regression test (Mode A client responses): a response is bound to its request by the
 * request's kid and seq, so the client needs no window over the server's response seqs;
 * one shared by all requests refused a valid response 64 or more behind the newest. Here
 * 100 requests are in flight at once through a relay on a raw UDP socket, the server's
 * responses are delivered in reverse order and all are accepted, while a response given as
 * the answer to another request is refused. Real UDP on loopback. */
#include "modea_util.h"

#define N 100

typedef struct exch {
    uint8_t req[RAW_ANSWER_MAX], resp[RAW_ANSWER_MAX];
    size_t req_len, resp_len;
} exch;

static exch ex[N];
static char bodies[N][4];

/* Index of the exchange whose request has message ID `mid`, or -1. */
static int by_mid(uint16_t mid)
{
    for (int i = 0; i < N; i++)
        if (ex[i].req_len && dgram_mid(ex[i].req) == mid)
            return i;
    return -1;
}

/* Takes the requests waiting at the relay (not those already taken: retransmissions) into
 * ex[at..]; returns how many. */
static int relay_take(int relay, struct sockaddr_in *client, socklen_t *client_len, int at)
{
    int n_new = 0;
    uint8_t d[RAW_ANSWER_MAX];
    ssize_t n;
    while (at + n_new < N && (n = recvfrom(relay, d, sizeof d, MSG_DONTWAIT,
                                           (struct sockaddr *)client, client_len)) >= 4) {
        if (by_mid(dgram_mid(d)) >= 0)
            continue;
        memcpy(ex[at + n_new].req, d, (size_t)n);
        ex[at + n_new++].req_len = (size_t)n;
    }
    return n_new;
}

int main(void)
{
    pqcoap_identity gw, dev;
    pqcoap_store sstore, cstore;
    CHECK_EQ_INT(pqcoap_identity_generate("falcon-512", NULL, &gw), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_identity_generate("falcon-512", NULL, &dev), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_store_open_memory(&sstore), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_store_open_memory(&cstore), PQCOAP_OK);
    CHECK_EQ_INT(trust(&sstore, "dev", &dev.pub), PQCOAP_OK);
    sign_server srv;
    CHECK(sign_server_start(&srv, &gw, &sstore, NULL));

    /* The client talks to the relay socket; retransmissions come late (10 s). */
    int relay = raw_socket(), fwd = raw_socket();
    CHECK(relay >= 0 && fwd >= 0);
    char uri[64], msg[160];
    snprintf(uri, sizeof uri, "coap://127.0.0.1:%u/echo", sock_port(relay));
    pqcoap_sign_client_config cfg = PQCOAP_SIGN_CLIENT_CONFIG_INIT;
    cfg.net.max_in_flight = N;
    cfg.net.nstart = N;
    cfg.net.ack_timeout_ms = 10000;
    cfg.net.timeout_ms = 120000;
    pqcoap_sign_client *c = NULL;
    CHECK_EQ_INT(pqcoap_sign_client_open(uri, &dev, &cstore, &cfg, &c, msg, sizeof msg),
                 PQCOAP_OK);
    if (!c)
        return check_done();
    CHECK_EQ_INT(pqcoap_sign_client_pin(c, &gw.pub), PQCOAP_OK);
    /* The relay takes the 100 requests as they are sent (in that order) and then gets each
     * one's response from the server, which signs them with rising seqs. */
    pqcoap_client *net = pqcoap_sign_client_net(c);
    struct sockaddr_in client;
    socklen_t client_len = sizeof client;
    int got = 0;
    for (int i = 0; i < N; i++) {
        pqcoap_req req = PQCOAP_REQ_INIT;
        uint32_t id;
        req.method = PQCOAP_POST;
        snprintf(bodies[i], sizeof bodies[i], "%03d", i);
        req.payload = (const uint8_t *)bodies[i];
        req.payload_len = 3;
        CHECK_EQ_INT(pqcoap_client_send(net, &req, bodies[i], &id), PQCOAP_OK);
        got += relay_take(relay, &client, &client_len, got);
    }
    for (int tries = 0; got < N && tries < 100; tries++) {
        pqcoap_completion none;
        int finished = 0;
        CHECK_EQ_INT(pqcoap_client_poll(net, 20, &none, &finished), PQCOAP_OK);
        got += relay_take(relay, &client, &client_len, got);
    }
    CHECK_EQ_INT(got, N);
    for (int i = 0; i < got; i++)
        CHECK_EQ_INT(raw_exchange_answer(fwd, sign_server_port(&srv), ex[i].req,
                                         ex[i].req_len, dgram_mid(ex[i].req), NULL, 0,
                                         ex[i].resp, &ex[i].resp_len), PQCOAP_CODE(2, 4));

    /* Request 1 is answered with the response to request 0 (its message ID and token put
     * in), then every other request with its own response, newest first. The client runs
     * its network between datagrams, so that none is lost in its socket. */
    uint8_t wrong[RAW_ANSWER_MAX];
    size_t tkl = ex[0].resp[0] & 15u;
    CHECK(tkl == (ex[1].req[0] & 15u) && ex[0].resp_len > 4 + tkl);
    memcpy(wrong, ex[0].resp, ex[0].resp_len);
    memcpy(wrong + 2, ex[1].req + 2, 2 + tkl); /* message ID and token of request 1 */
    memcpy(ex[1].resp, wrong, ex[0].resp_len); /* request 1's own response is never sent */
    ex[1].resp_len = ex[0].resp_len;
    int order[N], n_order = 0;
    order[n_order++] = 1;
    for (int i = got - 1; i >= 0; i--)
        if (i != 1)
            order[n_order++] = i;
    int ok = 0, refused = 0, done_n = 0;
    for (int k = 0; k < n_order + 50 && done_n < N; k++) {
        int i = k < n_order ? order[k] : -1;
        if (i >= 0)
            CHECK(sendto(relay, ex[i].resp, ex[i].resp_len, 0, (struct sockaddr *)&client,
                         client_len) == (ssize_t)ex[i].resp_len);
        pqcoap_completion done;
        int finished = 0;
        CHECK_EQ_INT(pqcoap_client_poll(net, i >= 0 ? 50 : 1000, &done, &finished), PQCOAP_OK);
        if (!finished)
            continue;
        done_n++;
        const char *body = done.user;
        if (done.err == PQCOAP_OK && done.reply.msg.payload_len == 8 &&
            memcmp(done.reply.msg.payload, "echo:", 5) == 0 &&
            memcmp(done.reply.msg.payload + 5, body, 3) == 0)
            ok++;
        else if (body == bodies[1] && done.err == PQCOAP_ERR_AUTH)
            refused++;
        else
            fprintf(stderr, "request %s: %s\n", body, pqcoap_strerror(done.err));
        pqcoap_reply_free(&done.reply);
    }
    CHECK_EQ_INT(ok, N - 1);
    CHECK_EQ_INT(refused, 1);

    pqcoap_sign_client_free(c);
    close(relay);
    close(fwd);
    sign_server_stop(&srv);
    pqcoap_store_close(&sstore);
    pqcoap_store_close(&cstore);
    pqcoap_identity_wipe(&gw);
    pqcoap_identity_wipe(&dev);
    return check_done();
}

/* Mode A v2 with every signature algorithm on the CoAP endpoints, over UDP on loopback
 * (PROTOCOL.md Mode A v2 "Algorithms"): a server of each algorithm serves devices of every
 * algorithm side by side (GET and POST; each request verified by the device's trusted key,
 * each response by the pinned server key; ML-DSA signatures make requests and responses
 * block-wise); a response whose signature is of another algorithm than the pinned key's is
 * refused with an error that says so; a request signed with another algorithm than its
 * trusted key's gets 4.01 and its handler does not run; Mode A v1 refuses every key but
 * Falcon-512. */
#include "sign_net.h"
#include "common/buf_internal.h"

enum { F512, F1024, D44, D65, D87, NALG };
static const char *const ALG[NALG] = {"falcon-512", "falcon-1024", "ml-dsa-44", "ml-dsa-65",
                                      "ml-dsa-87"};

static pqcoap_identity server_id[NALG], device_id[NALG];

static const uint8_t BODY[] = "valve 7: open";
#define BODY_LEN (sizeof BODY - 1)

/* Checks reply r of a request by device `d` to server `s`: code and "echo:" || body. */
static void check_echo(pqcoap_err err, const pqcoap_reply *r, uint8_t code, const uint8_t *body,
                       size_t len, pqcoap_sign_client *c, int s, int d)
{
    CHECK_EQ_INT(err, PQCOAP_OK);
    if (err != PQCOAP_OK) {
        fprintf(stderr, "  %s device, %s server: %s\n", ALG[d], ALG[s],
                pqcoap_sign_client_last_error(c));
        return;
    }
    CHECK_EQ_INT(r->msg.code, code);
    CHECK(r->msg.payload_len == len + 5 && memcmp(r->msg.payload, "echo:", 5) == 0 &&
          (len == 0 || memcmp(r->msg.payload + 5, body, len) == 0));
}

/* One server of algorithm s, with every device trusted in its store; the devices, one per
 * algorithm, open their clients first and then take turns: GET, POST, and GET "big". */
static void test_server_of(int s)
{
    pqcoap_store store, dstore[NALG];
    CHECK_EQ_INT(pqcoap_store_open_memory(&store), PQCOAP_OK);
    for (int d = 0; d < NALG; d++) {
        char name[32];
        snprintf(name, sizeof name, "device-%s", ALG[d]);
        CHECK_EQ_INT(trust(&store, name, &device_id[d].pub), PQCOAP_OK);
        CHECK_EQ_INT(pqcoap_store_open_memory(&dstore[d]), PQCOAP_OK);
    }
    sign_server srv;
    CHECK(sign_server_start(&srv, &server_id[s], &store, NULL));
    pqcoap_sign_client *c[NALG];
    for (int d = 0; d < NALG; d++) {
        c[d] = sign_client(sign_server_port(&srv), "echo", &device_id[d], &dstore[d], 2);
        CHECK(c[d] != NULL);
        if (c[d])
            CHECK_EQ_INT(pqcoap_sign_client_pin(c[d], &server_id[s].pub), PQCOAP_OK);
    }
    for (int round = 0; round < 3; round++) {
        for (int d = 0; d < NALG; d++) {
            if (!c[d])
                continue;
            pqcoap_reply r;
            pqcoap_err err;
            if (round == 0) {
                err = pqcoap_sign_client_get(c[d], NULL, &r);
                check_echo(err, &r, PQCOAP_CODE(2, 5), NULL, 0, c[d], s, d);
            } else if (round == 1) {
                err = pqcoap_sign_client_post(c[d], NULL, BODY, BODY_LEN, &r);
                check_echo(err, &r, PQCOAP_CODE(2, 4), BODY, BODY_LEN, c[d], s, d);
            } else {
                err = pqcoap_sign_client_get(c[d], "big", &r);
                CHECK_EQ_INT(err, PQCOAP_OK);
                int same = err == PQCOAP_OK && r.msg.payload_len == BIG_LEN;
                for (size_t i = 0; same && i < BIG_LEN; i++)
                    same = r.msg.payload[i] == BIG_BYTE(i);
                CHECK(same);
            }
            if (err == PQCOAP_OK)
                CHECK(pqcoap_msg_find_opt(&r.msg, PQCOAP_OPT_PQ_SIG) == NULL);
            pqcoap_reply_free(&r);
        }
    }
    for (int d = 0; d < NALG; d++) {
        pqcoap_sign_client_free(c[d]);
        pqcoap_store_close(&dstore[d]);
    }
    sign_server_stop(&srv);
    pqcoap_store_close(&store);
}

/* ---- a server that signs its responses with a key of the test's choosing ---------------- */

/* The layer of a server whose responses are signed by `signer`, whose kid may be another
 * key's: it takes each request without verifying it (kid and seq from its PQ-Sig option,
 * the message before its signature) and binds its response to it as PROTOCOL.md says. */
typedef struct forger {
    pqcoap_signer signer;
    uint64_t seq;
    pqcoap_layer layer;
} forger;

static const uint16_t PQ_SIG_OPT[1] = {PQCOAP_OPT_PQ_SIG};

typedef struct forger_state {
    pqcoap_sig_req req;
} forger_state;

static pqcoap_err forger_check(void *ctx, void *state, const pqcoap_exchange *x,
                               const pqcoap_msg *wire, pqcoap_msgbuf *out,
                               pqcoap_layer_verdict *verdict)
{
    (void)ctx;
    (void)x;
    forger_state *st = state;
    const pqcoap_opt *o = pqcoap_msg_find_opt(wire, PQCOAP_OPT_PQ_SIG);
    size_t n = wire->payload_len;
    size_t sig_len = n >= 2 ? (size_t)wire->payload[n - 2] << 8 | wire->payload[n - 1] : 0;
    *verdict = PQCOAP_LAYER_HANDLE;
    if (!o || pqcoap_sig_opt_parse(o->value, o->len, st->req.kid, &st->req.seq) != PQCOAP_OK ||
        n < 2 || sig_len > n - 2) {
        *verdict = PQCOAP_LAYER_ANSWER;
        pqcoap_msgbuf_error(out, PQCOAP_CODE(4, 0), "not Mode A v2");
        return PQCOAP_OK;
    }
    PQCOAP_TRY(pqcoap_msgbuf_copy_opts(out, wire));
    pqcoap_msgbuf_remove_opt(out, PQCOAP_OPT_PQ_SIG);
    return pqcoap_msgbuf_set_payload(out, wire->payload, n - 2 - sig_len);
}

static pqcoap_err forger_protect(void *ctx, void *state, const pqcoap_exchange *x,
                                 const pqcoap_msg *resp, pqcoap_msgbuf *wire)
{
    (void)x;
    forger *f = ctx;
    const forger_state *st = state;
    uint8_t opt[PQCOAP_SIG_OPT_LEN];
    size_t len = 0;
    PQCOAP_TRY(pqcoap_msgbuf_copy_opts(wire, resp));
    PQCOAP_TRY(pqcoap_sign_v2(&f->signer, ++f->seq, resp, NULL, &st->req, opt, wire->payload,
                              wire->payload_cap, &len));
    wire->payload_len = len;
    return pqcoap_msgbuf_add_opt(wire, PQCOAP_OPT_PQ_SIG, opt, sizeof opt);
}

/* Starts a server on "echo" whose responses `signer` signs under the kid `kid`. */
static int forger_start(forger *f, test_server *ts, const pqcoap_identity *signer,
                        const uint8_t *kid)
{
    memset(f, 0, sizeof *f);
    if (pqcoap_signer_from_identity(&f->signer, signer, NULL) != PQCOAP_OK)
        return 0;
    memcpy(f->signer.kid, kid, PQCOAP_KID_LEN);
    f->layer.ctx = f;
    f->layer.state_size = sizeof(forger_state);
    f->layer.overhead = PQCOAP_SIGN_OVERHEAD_MAX;
    f->layer.critical_opts = PQ_SIG_OPT;
    f->layer.n_critical_opts = 1;
    f->layer.check_request = forger_check;
    f->layer.protect_response = forger_protect;
    if (!test_server_new(ts, loopback_bind(sign_net_family), &f->layer, 0))
        return 0;
    pqcoap_server_handle(ts->srv, "echo", PQCOAP_GET, echo_handler, NULL);
    return test_server_start(ts);
}

/* A GET by a device (ML-DSA-44) that pins `pinned`'s key, to a server signing with
 * `signer` under the pinned key's kid. Returns the result; the client's last error goes to
 * err[0..cap). */
static pqcoap_err get_from_forger(const pqcoap_identity *pinned, const pqcoap_identity *signer,
                                  char *err_text, size_t cap)
{
    forger f;
    test_server ts;
    pqcoap_store cstore;
    pqcoap_err err = PQCOAP_ERR_STATE;
    CHECK_EQ_INT(pqcoap_store_open_memory(&cstore), PQCOAP_OK);
    CHECK(forger_start(&f, &ts, signer, pinned->pub.kid));
    pqcoap_sign_client *c = sign_client(pqcoap_server_port(ts.srv), "echo", &device_id[D44],
                                        &cstore, 2);
    CHECK(c != NULL);
    if (c && pqcoap_sign_client_pin(c, &pinned->pub) == PQCOAP_OK) {
        pqcoap_reply r;
        err = pqcoap_sign_client_get(c, NULL, &r);
        snprintf(err_text, cap, "%s", pqcoap_sign_client_last_error(c));
        if (err == PQCOAP_OK)
            CHECK(r.msg.payload_len == 5 && memcmp(r.msg.payload, "echo:", 5) == 0);
        pqcoap_reply_free(&r);
    }
    pqcoap_sign_client_free(c);
    test_server_end(&ts);
    pqcoap_store_close(&cstore);
    return err;
}

/* A response signed with another algorithm than the pinned key's, under the pinned key's
 * kid (so only the algorithm is wrong), is refused and the error says why. */
static void test_response_of_other_algorithm(void)
{
    static const struct {
        int pinned, signer;
    } cases[] = {{D65, F512}, {F512, D87}, {D44, D65}, {F1024, F512}};
    char text[256];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const pqcoap_identity *pinned = &server_id[cases[i].pinned];
        /* the same server signing with the pinned key itself: accepted */
        CHECK_EQ_INT(get_from_forger(pinned, pinned, text, sizeof text), PQCOAP_OK);
        pqcoap_err err = get_from_forger(pinned, &server_id[cases[i].signer], text, sizeof text);
        CHECK_EQ_INT(err, PQCOAP_ERR_AUTH);
        char want[128];
        /* Falcon-512 in Falcon-1024's range still has the length of one: it does not
         * verify, the usual message */
        if (cases[i].pinned == F1024)
            snprintf(want, sizeof want, "not signed by the pinned server key");
        else
            snprintf(want, sizeof want, "of another algorithm than the pinned server key (%s)",
                     ALG[cases[i].pinned]);
        CHECK(strstr(text, want) != NULL);
        if (!strstr(text, want))
            fprintf(stderr, "  pinned %s, signed %s: '%s'\n", ALG[cases[i].pinned],
                    ALG[cases[i].signer], text);
    }
}

/* A request signed with another algorithm under the kid of a trusted device: 4.01, and the
 * handler does not run; the genuine device is served after it. */
static void test_request_of_other_algorithm(void)
{
    pqcoap_store store, cstore, fstore;
    CHECK_EQ_INT(pqcoap_store_open_memory(&store), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_store_open_memory(&cstore), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_store_open_memory(&fstore), PQCOAP_OK);
    CHECK_EQ_INT(trust(&store, "device", &device_id[F512].pub), PQCOAP_OK);
    sign_server srv;
    CHECK(sign_server_start(&srv, &server_id[D65], &store, NULL));
    /* an ML-DSA-87 key presenting the Falcon-512 device's kid */
    pqcoap_identity forged = device_id[D87];
    memcpy(forged.pub.kid, device_id[F512].pub.kid, PQCOAP_KID_LEN);
    pqcoap_sign_client *f = sign_client(sign_server_port(&srv), "echo", &forged, &fstore, 2);
    pqcoap_sign_client *c = sign_client(sign_server_port(&srv), "echo", &device_id[F512],
                                        &cstore, 2);
    CHECK(f != NULL && c != NULL);
    if (f && c) {
        CHECK_EQ_INT(pqcoap_sign_client_pin(f, &server_id[D65].pub), PQCOAP_OK);
        CHECK_EQ_INT(pqcoap_sign_client_pin(c, &server_id[D65].pub), PQCOAP_OK);
        int runs = atomic_load(&handler_runs);
        pqcoap_reply r;
        CHECK_EQ_INT(pqcoap_sign_client_post(f, NULL, BODY, BODY_LEN, &r), PQCOAP_ERR_REJECTED);
        CHECK(strstr(pqcoap_sign_client_last_error(f),
                     "server rejected the request: 4.01 signature or tag does not verify"));
        pqcoap_reply_free(&r);
        CHECK_EQ_INT(atomic_load(&handler_runs), runs);
        CHECK_EQ_INT(pqcoap_sign_client_post(c, NULL, BODY, BODY_LEN, &r), PQCOAP_OK);
        CHECK_EQ_INT(atomic_load(&handler_runs), runs + 1);
        pqcoap_reply_free(&r);
    }
    pqcoap_sign_client_free(f);
    pqcoap_sign_client_free(c);
    pqcoap_identity_wipe(&forged);
    sign_server_stop(&srv);
    pqcoap_store_close(&store);
    pqcoap_store_close(&cstore);
    pqcoap_store_close(&fstore);
}

/* Mode A v1 is the seed's format: Falcon-512 only, on both ends. */
static void test_v1_falcon512_only(void)
{
    pqcoap_identity v1[NALG];
    pqcoap_store store;
    CHECK_EQ_INT(pqcoap_store_open_memory(&store), PQCOAP_OK);
    for (int i = 0; i < NALG; i++) {
        v1[i] = server_id[i];
        v1[i].pub.usage = PQCOAP_USAGE_SIGN_V1;
    }
    pqcoap_sign_client_config cfg = PQCOAP_SIGN_CLIENT_CONFIG_INIT;
    cfg.version = 1;
    char msg[160];
    for (int i = F1024; i < NALG; i++) {
        pqcoap_sign_client *c = NULL;
        CHECK_EQ_INT(pqcoap_sign_client_open("coap://127.0.0.1:9/echo", &v1[i], &store, &cfg,
                                             &c, msg, sizeof msg), PQCOAP_ERR_UNSUPPORTED);
        CHECK(c == NULL && strstr(msg, "falcon-512"));
        pqcoap_sign_server *s = NULL;
        pqcoap_sign_server_config sc = PQCOAP_SIGN_SERVER_CONFIG_INIT;
        sc.policy = PQCOAP_SIGN_V1_ONLY;
        sc.v1_keys = &v1[F512].pub;
        sc.n_v1_keys = 1;
        CHECK_EQ_INT(pqcoap_sign_server_new(&v1[i], &store, &sc, &s), PQCOAP_ERR_UNSUPPORTED);
        /* a Falcon-512 v1 server that would trust a v1 key of another algorithm */
        sc.v1_keys = &v1[i].pub;
        CHECK_EQ_INT(pqcoap_sign_server_new(&v1[F512], &store, &sc, &s), PQCOAP_ERR_UNSUPPORTED);
        CHECK(s == NULL);
    }
    /* a Falcon-512 v1 client that would pin a v1 key of another algorithm */
    pqcoap_sign_client *c = NULL;
    CHECK_EQ_INT(pqcoap_sign_client_open("coap://127.0.0.1:9/echo", &v1[F512], &store, &cfg,
                                         &c, msg, sizeof msg), PQCOAP_OK);
    for (int i = F1024; c && i < NALG; i++)
        CHECK_EQ_INT(pqcoap_sign_client_pin(c, &v1[i].pub), PQCOAP_ERR_UNSUPPORTED);
    pqcoap_sign_client_free(c);
    for (int i = 0; i < NALG; i++)
        pqcoap_identity_wipe(&v1[i]);
    pqcoap_store_close(&store);
}

int main(void)
{
    for (int i = 0; i < NALG; i++) {
        CHECK_EQ_INT(pqcoap_identity_generate(ALG[i], NULL, &server_id[i]), PQCOAP_OK);
        CHECK_EQ_INT(pqcoap_identity_generate(ALG[i], NULL, &device_id[i]), PQCOAP_OK);
    }
    for (int s = 0; s < NALG; s++)
        test_server_of(s);
    test_response_of_other_algorithm();
    test_request_of_other_algorithm();
    test_v1_falcon512_only();
    for (int i = 0; i < NALG; i++) {
        pqcoap_identity_wipe(&server_id[i]);
        pqcoap_identity_wipe(&device_id[i]);
    }
    return check_done();
}

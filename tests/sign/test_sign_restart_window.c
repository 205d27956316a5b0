/* The Mode A server layer's replay window across a restart (PROTOCOL.md Mode A v2, "Receiver
 * state across restarts"): called directly, without sockets. After a restart on the same
 * store every seq from the persisted floor down to floor - 63 is a replay, and so is every
 * seq below; the sender continues above the floor. */
#include <netinet/in.h>
#include <string.h>

#include "check.h"
#include "pqcoap/sign_endpoint.h"

static pqcoap_identity server_id, alice;

/* Alice's signed POST with `seq` as the server receives it. */
typedef struct request {
    uint8_t opt_value[PQCOAP_SIG_OPT_LEN];
    pqcoap_opt opts[2];
    uint8_t payload[1024];
    pqcoap_msg msg;
} request;

static void make_request(request *r, uint64_t seq)
{
    pqcoap_signer signer;
    size_t len = 0;
    r->opts[0] = (pqcoap_opt){PQCOAP_OPT_URI_PATH, (const uint8_t *)"valve", 5};
    pqcoap_msg m = {PQCOAP_POST, NULL, 0, r->opts, 1, (const uint8_t *)"open", 4};
    CHECK_EQ_INT(pqcoap_signer_from_identity(&signer, &alice, NULL), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_sign_v2(&signer, seq, &m, server_id.pub.kid, NULL, r->opt_value,
                                r->payload, sizeof r->payload, &len), PQCOAP_OK);
    r->opts[1] = (pqcoap_opt){PQCOAP_OPT_PQ_SIG, r->opt_value, sizeof r->opt_value};
    r->msg = m;
    r->msg.n_opts = 2;
    r->msg.payload = r->payload;
    r->msg.payload_len = len;
}

/* 1 if the server's layer hands Alice's request with `seq` to the handler. */
static int accepted(const pqcoap_layer *layer, uint64_t seq)
{
    static request r;
    pqcoap_opt opts[8];
    uint8_t vals[256], payload[1024], state[256];
    pqcoap_msgbuf out;
    pqcoap_exchange x;
    pqcoap_layer_verdict verdict = PQCOAP_LAYER_ANSWER;
    make_request(&r, seq);
    memset(&x, 0, sizeof x);
    x.peer.ss_family = AF_INET;
    x.peer_len = sizeof(struct sockaddr_in);
    x.mid = (uint16_t)seq;
    x.confirmable = 1;
    CHECK(layer->state_size <= sizeof state);
    memset(state, 0, sizeof state);
    pqcoap_msgbuf_init(&out, opts, 8, vals, sizeof vals, payload, sizeof payload);
    CHECK_EQ_INT(layer->check_request(layer->ctx, state, &x, &r.msg, &out, &verdict),
                 PQCOAP_OK);
    if (verdict == PQCOAP_LAYER_ANSWER)
        CHECK_EQ_INT(out.code, PQCOAP_CODE(4, 1));
    if (layer->end)
        layer->end(layer->ctx, state);
    return verdict == PQCOAP_LAYER_HANDLE;
}

int main(void)
{
    pqcoap_store store;
    pqcoap_peer peer;
    pqcoap_sign_server *s = NULL;
    CHECK_EQ_INT(pqcoap_identity_generate("falcon-512", NULL, &server_id), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_identity_generate("falcon-512", NULL, &alice), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_store_open_memory(&store), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_peer_from_pubkey("alice", &alice.pub, 0, &peer), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_store_peer_add(&store, &peer), PQCOAP_OK);

    /* seqs 100 and 37 (= 100 - 63, the window's lower edge) are accepted, once each */
    CHECK_EQ_INT(pqcoap_sign_server_new(&server_id, &store, NULL, &s), PQCOAP_OK);
    CHECK(accepted(pqcoap_sign_server_layer(s), 100));
    CHECK(accepted(pqcoap_sign_server_layer(s), 37));
    CHECK(!accepted(pqcoap_sign_server_layer(s), 37));
    pqcoap_sign_server_free(s);

    /* restarted on the same store: 100 and 37 are still replays, as are 38 and 99 (never
     * sent) and 36 (below the window); 101 is fresh */
    CHECK_EQ_INT(pqcoap_sign_server_new(&server_id, &store, NULL, &s), PQCOAP_OK);
    const pqcoap_layer *layer = pqcoap_sign_server_layer(s);
    static const uint64_t replays[] = {100, 37, 38, 99, 36, 1};
    for (size_t i = 0; i < sizeof replays / sizeof replays[0]; i++)
        CHECK(!accepted(layer, replays[i]));
    CHECK(accepted(layer, 101));
    pqcoap_sign_server_free(s);

    pqcoap_store_close(&store);
    pqcoap_identity_wipe(&server_id);
    pqcoap_identity_wipe(&alice);
    return check_done();
}

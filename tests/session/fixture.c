/* Shared set-up of the Mode B session tests (see fixture.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "common/buf_internal.h"

static void must(pqcoap_err err, const char *what)
{
    if (err != PQCOAP_OK) {
        fprintf(stderr, "fixture: %s: %s\n", what, pqcoap_strerror(err));
        exit(2);
    }
}

static pqcoap_err floor_set_maybe_failing(void *ctx, const char *id, const pqcoap_floor *floor)
{
    fixture *fx = ctx;
    if (fx->fail_floor_set)
        return PQCOAP_ERR_STORE;
    return fx->mem.ops->floor_set(fx->mem.ctx, id, floor);
}

/* Store ops forwarding to the in-memory store, with floor_set able to fail. Every op gets
 * the fixture as ctx. */
static pqcoap_err fwd_peer_by_id(void *ctx, const char *id, pqcoap_peer *out)
{
    fixture *fx = ctx;
    return fx->mem.ops->peer_by_id(fx->mem.ctx, id, out);
}

static pqcoap_err fwd_floor_get(void *ctx, const char *id, pqcoap_floor *out)
{
    fixture *fx = ctx;
    return fx->mem.ops->floor_get(fx->mem.ctx, id, out);
}

void fx_trust(pqcoap_store *store, const char *id, const pqcoap_identity *who)
{
    pqcoap_peer peer;
    must(pqcoap_peer_from_pubkey(id, &who->pub, 0, &peer), "peer_from_pubkey");
    must(pqcoap_store_peer_add(store, &peer), "peer_add");
}

void fx_restart_responder(fixture *fx, size_t n_slots)
{
    pqcoap_responder_wipe(&fx->responder);
    must(pqcoap_responder_init(&fx->responder, &fx->cfg, fx->slots, n_slots), "responder_init");
}

void fx_setup(fixture *fx, const char *seed, size_t n_slots, uint32_t lifetime_s,
              uint32_t max_msgs, uint64_t evict_idle_ms)
{
    fx_setup_suite(fx, seed, 0x01, n_slots, lifetime_s, max_msgs, evict_idle_ms);
}

void fx_setup_suite(fixture *fx, const char *seed, uint8_t suite, size_t n_slots,
                    uint32_t lifetime_s, uint32_t max_msgs, uint64_t evict_idle_ms)
{
    memset(fx, 0, sizeof *fx);
    must(pqcoap_test_rng_init(&fx->rng_state, &fx->rng, (const uint8_t *)seed, strlen(seed)),
         "rng");
    const pqcoap_suite *s = pqcoap_suite_find(suite);
    if (!s)
        must(PQCOAP_ERR_UNSUPPORTED, "suite");
    must(pqcoap_identity_generate(s->sig->name, &fx->rng, &fx->client), "client key");
    must(pqcoap_identity_generate(s->sig->name, &fx->rng, &fx->server), "server key");
    must(pqcoap_identity_generate(s->sig->name, &fx->rng, &fx->other), "other key");
    must(pqcoap_store_open_memory(&fx->mem), "store");
    fx_trust(&fx->mem, "client", &fx->client);
    fx_trust(&fx->mem, "other", &fx->other);
    fx->ops = *fx->mem.ops;
    fx->ops.peer_by_id = fwd_peer_by_id;
    fx->ops.floor_get = fwd_floor_get;
    fx->ops.floor_set = floor_set_maybe_failing;
    fx->ops.close = NULL;
    fx->store.ops = &fx->ops;
    fx->store.ctx = fx;

    pqcoap_responder_cfg cfg = PQCOAP_RESPONDER_CFG_INIT;
    cfg.id = "server";
    cfg.sk = fx->server.sk;
    cfg.sk_len = fx->server.pub.alg->sk_len;
    cfg.suite = suite;
    if (lifetime_s)
        cfg.lifetime_s = lifetime_s;
    if (max_msgs)
        cfg.max_msgs = max_msgs;
    cfg.evict_idle_ms = evict_idle_ms;
    cfg.store = &fx->store;
    cfg.rng = &fx->rng;
    fx->cfg = cfg;
    fx_restart_responder(fx, n_slots);
}

void fx_teardown(fixture *fx)
{
    pqcoap_responder_wipe(&fx->responder);
    pqcoap_store_close(&fx->mem);
    pqcoap_identity_wipe(&fx->client);
    pqcoap_identity_wipe(&fx->server);
    pqcoap_identity_wipe(&fx->other);
}

pqcoap_initiator_cfg fx_initiator_cfg(fixture *fx, const pqcoap_identity *who, const char *id)
{
    pqcoap_initiator_cfg cfg = PQCOAP_INITIATOR_CFG_INIT;
    cfg.id = id;
    cfg.sk = who->sk;
    cfg.sk_len = who->pub.alg->sk_len;
    cfg.responder_id = "server";
    cfg.responder_pk = fx->server.pub.pk;
    cfg.responder_pk_len = fx->server.pub.pk_len;
    cfg.suite = fx->cfg.suite;
    cfg.alg = who->pub.alg->name;
    return cfg;
}

pqcoap_err fx_handshake(fixture *fx, const pqcoap_identity *who, const char *id, uint64_t seq,
                        uint64_t now_ms, pqcoap_session *out)
{
    static pqcoap_initiator st;
    static uint8_t init[PQCOAP_INIT_MAX], resp[PQCOAP_RESP_MAX];
    size_t init_len, resp_len;
    pqcoap_initiator_cfg cfg = fx_initiator_cfg(fx, who, id);
    PQCOAP_TRY(pqcoap_initiator_start(&st, &cfg, seq, now_ms, &fx->rng, init, sizeof init,
                                      &init_len));
    pqcoap_err err = pqcoap_responder_handshake(&fx->responder, init, init_len, now_ms, resp,
                                                sizeof resp, &resp_len);
    if (err == PQCOAP_OK)
        err = pqcoap_initiator_finish(&st, resp, resp_len, now_ms, out);
    pqcoap_initiator_wipe(&st);
    return err;
}

pqcoap_session *fx_server_session(fixture *fx, uint32_t sid)
{
    return pqcoap_peer_table_by_id(&fx->responder.table, sid);
}

int fx_session_works(fixture *fx, pqcoap_session *c, uint64_t now_ms)
{
    uint8_t prot[64], plain[16];
    size_t len, plain_len;
    uint64_t n;
    pqcoap_req_ctx ctx;
    pqcoap_msg req = fx_request(PQCOAP_GET, (const uint8_t *)"t", 1, (const uint8_t *)"ping", 4);
    if (pqcoap_session_protect_request(c, &req, now_ms, prot, sizeof prot, &len, &n) != PQCOAP_OK)
        return 0;
    req.payload = prot;
    req.payload_len = len;
    return pqcoap_responder_unprotect(&fx->responder, &req, now_ms, plain, sizeof plain,
                                      &plain_len, &ctx) == PQCOAP_OK
        && plain_len == 4 && memcmp(plain, "ping", 4) == 0;
}

size_t fx_snapshot(const pqcoap_session *s, uint8_t *buf)
{
    size_t len = 0;
    must(pqcoap_session_snapshot(s, buf, PQCOAP_SNAPSHOT_MAX, &len), "snapshot");
    return len;
}

static const pqcoap_opt REQ_OPTS[] = {
    {PQCOAP_OPT_URI_PATH, (const uint8_t *)"sensors", 7},
    {PQCOAP_OPT_URI_PATH, (const uint8_t *)"temp", 4},
};
static const uint8_t CF_TEXT[] = {0};
static const pqcoap_opt RESP_OPTS[] = {{PQCOAP_OPT_CONTENT_FORMAT, CF_TEXT, 0}};

pqcoap_msg fx_request(uint8_t code, const uint8_t *token, size_t token_len,
                      const uint8_t *payload, size_t payload_len)
{
    pqcoap_msg m = {code, token, token_len, REQ_OPTS, 2, payload, payload_len};
    return m;
}

pqcoap_msg fx_response(uint8_t code, const uint8_t *token, size_t token_len,
                       const uint8_t *payload, size_t payload_len)
{
    pqcoap_msg m = {code, token, token_len, RESP_OPTS, 1, payload, payload_len};
    return m;
}

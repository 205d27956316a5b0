/* Mode A server layer (sign_endpoint.h): verifies signed requests against the trust store
 * or the pinned v1 keys, keeps per-kid replay windows whose floors persist in the store,
 * and signs every response the handlers (or the server's 4.04 / 4.05) give. */
#include "pqcoap/sign_endpoint.h"
#include "net/sign_internal.h"
#include "common/buf_internal.h"

#include <stdlib.h>
#include <string.h>

struct pqcoap_sign_server {
    pqcoap_identity id;
    pqcoap_signer signer;
    pqcoap_store store;             /* borrowed handle (copied struct) */
    pqcoap_sign_policy policy;
    pqcoap_pubkey *v1_keys;
    size_t n_v1_keys;
    pqcoap_store_lookup lookup;     /* v2: peer by kid */
    pqcoap_replay_table replay;
    pqcoap_replay_entry *entries;
    pqcoap_seq_counter counter;     /* response seq */
    pqcoap_layer layer;
};

/* Per-exchange state, from check_request to protect_response (no pointers: it is moved). */
typedef struct srv_state {
    int version;                    /* 0: the request was not accepted */
    uint8_t kid[PQCOAP_KID_LEN];
    uint64_t seq;
    uint8_t token[PQCOAP_TOKEN_MAX];
    size_t token_len;
} srv_state;

/* The replay slot of kid, or NULL if the table has none yet. */
static pqcoap_replay_entry *find_entry(const pqcoap_sign_server *s, const uint8_t *kid)
{
    for (size_t i = 0; i < s->replay.cap; i++)
        if (s->entries[i].used && memcmp(s->entries[i].kid, kid, PQCOAP_KID_LEN) == 0)
            return &s->entries[i];
    return NULL;
}

/* PROTOCOL.md Mode A v2, receiver state: the first time a kid's window is needed after a
 * start, every seq up to the persisted floor counts as seen. Sets *top to the window's
 * highest seq (0 if nothing is known about kid). */
static pqcoap_err load_window(pqcoap_sign_server *s, const uint8_t *kid, uint64_t *top)
{
    pqcoap_replay_entry *e = find_entry(s, kid);
    *top = 0;
    if (!e) {
        char name[PQCOAP_SIGN_NAME_LEN];
        pqcoap_floor floor;
        pqcoap_sign_name(kid, name);
        pqcoap_err err = pqcoap_store_floor_get(&s->store, name, &floor);
        if (err == PQCOAP_ERR_NOT_FOUND || (err == PQCOAP_OK && floor.session_seq == 0))
            return PQCOAP_OK;
        PQCOAP_TRY(err);
        PQCOAP_TRY(pqcoap_replay_table_update(&s->replay, kid, floor.session_seq));
        e = find_entry(s, kid);
        e->window.bitmap = UINT64_MAX; /* the floor and the 63 below it: seen */
    }
    *top = e->window.top;
    return PQCOAP_OK;
}

/* Persists the highest accepted seq of kid when `seq` raised it above `top`. */
static pqcoap_err save_floor(pqcoap_sign_server *s, const uint8_t *kid, uint64_t seq,
                             uint64_t top)
{
    if (seq <= top)
        return PQCOAP_OK;
    char name[PQCOAP_SIGN_NAME_LEN];
    pqcoap_floor floor;
    memset(&floor, 0, sizeof floor);
    floor.session_seq = seq;
    pqcoap_sign_name(kid, name);
    return pqcoap_store_floor_set(&s->store, name, &floor);
}

/* Verifies `wire` under the policy: v2 against the trust store and the kid's window, v1
 * against each pinned v1 key in turn. */
static pqcoap_err verify_request(pqcoap_sign_server *s, const pqcoap_msg *wire,
                                 pqcoap_sig_info *info, const uint8_t **message,
                                 size_t *len)
{
    pqcoap_verifier v = PQCOAP_VERIFIER_INIT;
    v.policy = s->policy;
    v.lookup = pqcoap_store_key_lookup;
    v.lookup_ctx = &s->lookup;
    v.replay = &s->replay;
    const pqcoap_opt *o = pqcoap_msg_find_opt(wire, PQCOAP_OPT_PQ_SIG);
    uint8_t kid[PQCOAP_KID_LEN];
    uint64_t seq, top = 0;
    int v2 = o && s->policy != PQCOAP_SIGN_V1_ONLY &&
             pqcoap_sig_opt_parse(o->value, o->len, kid, &seq) == PQCOAP_OK;
    if (v2)
        PQCOAP_TRY(load_window(s, kid, &top));
    pqcoap_err err = PQCOAP_ERR_AUTH;
    size_t tries = o || s->n_v1_keys == 0 ? 1 : s->n_v1_keys;
    for (size_t i = 0; i < tries && err == PQCOAP_ERR_AUTH; i++) {
        v.v1_pk = s->n_v1_keys ? s->v1_keys[i].pk : NULL;
        v.v1_pk_len = s->n_v1_keys ? s->v1_keys[i].pk_len : 0;
        err = pqcoap_verify_msg(&v, wire, NULL, info, message, len);
    }
    if (err == PQCOAP_OK && info->version == 2)
        err = save_floor(s, info->kid, info->seq, top);
    return err;
}

static pqcoap_err check_request(void *ctx, void *state, const pqcoap_exchange *x,
                                const pqcoap_msg *wire, pqcoap_msgbuf *out,
                                pqcoap_layer_verdict *verdict)
{
    (void)x;
    pqcoap_sign_server *s = ctx;
    srv_state *st = state;
    pqcoap_sig_info info;
    const uint8_t *message = NULL;
    size_t len = 0;
    if (wire->token_len > sizeof st->token)
        return PQCOAP_ERR_MALFORMED;
    pqcoap_err err = verify_request(s, wire, &info, &message, &len);
    if (err != PQCOAP_OK) {
        /* Refused before the handler: unsigned 4.00 / 4.01 with a short diagnostic. */
        pqcoap_msgbuf_error(out, pqcoap_sign_error_code(err), pqcoap_strerror(err));
        *verdict = PQCOAP_LAYER_ANSWER;
        return PQCOAP_OK;
    }
    st->version = info.version;
    memcpy(st->kid, info.kid, sizeof st->kid);
    st->seq = info.seq;
    st->token_len = wire->token_len;
    if (wire->token_len)
        memcpy(st->token, wire->token, wire->token_len);
    *verdict = PQCOAP_LAYER_HANDLE;
    return pqcoap_sign_unwrap(wire, message, len, out);
}

static pqcoap_err protect_response(void *ctx, void *state, const pqcoap_exchange *x,
                                   const pqcoap_msg *resp, pqcoap_msgbuf *wire)
{
    (void)x;
    pqcoap_sign_server *s = ctx;
    const srv_state *st = state;
    if (st->version != 1 && st->version != 2)
        return PQCOAP_ERR_STATE;
    /* PROTOCOL.md v2: the response binds the request's token, kid and seq. */
    pqcoap_sig_req req = {st->token, st->token_len, {0}, st->seq};
    memcpy(req.kid, st->kid, sizeof req.kid);
    uint64_t seq;
    return pqcoap_sign_wrap(&s->signer, st->version, &s->counter, resp,
                            st->version == 2 ? &req : NULL, wire, &seq);
}

/* Copies the v1 keys, each of which must be Falcon-512. */
static pqcoap_err copy_v1_keys(pqcoap_sign_server *s, const pqcoap_sign_server_config *cfg)
{
    if (cfg->n_v1_keys == 0)
        return cfg->policy == PQCOAP_SIGN_V2_ONLY ? PQCOAP_OK : PQCOAP_ERR_ARG;
    if (!cfg->v1_keys)
        return PQCOAP_ERR_ARG;
    s->v1_keys = calloc(cfg->n_v1_keys, sizeof *s->v1_keys);
    if (!s->v1_keys)
        return PQCOAP_ERR_NOMEM;
    s->n_v1_keys = cfg->n_v1_keys;
    for (size_t i = 0; i < cfg->n_v1_keys; i++) {
        if (!pqcoap_sign_key_ok(&cfg->v1_keys[i]))
            return PQCOAP_ERR_UNSUPPORTED;
        s->v1_keys[i] = cfg->v1_keys[i];
    }
    return PQCOAP_OK;
}

static pqcoap_err server_setup(pqcoap_sign_server *s, const pqcoap_identity *id,
                               const pqcoap_sign_server_config *cfg)
{
    char name[PQCOAP_SIGN_NAME_LEN];
    s->id = *id;
    PQCOAP_TRY(pqcoap_signer_from_identity(&s->signer, &s->id, cfg->rng));
    PQCOAP_TRY(copy_v1_keys(s, cfg));
    s->entries = calloc(cfg->max_peers, sizeof *s->entries);
    if (!s->entries)
        return PQCOAP_ERR_NOMEM;
    PQCOAP_TRY(pqcoap_replay_table_init(&s->replay, s->entries, cfg->max_peers));
    pqcoap_sign_name(s->signer.kid, name);
    PQCOAP_TRY(pqcoap_seq_counter_init(&s->counter, &s->store, name, cfg->seq_block));
    s->lookup.store = &s->store;
    s->layer.ctx = s;
    s->layer.state_size = sizeof(srv_state);
    s->layer.overhead = PQCOAP_SIGN_OVERHEAD_MAX;
    s->layer.critical_opts = pqcoap_sign_critical_opts;
    s->layer.n_critical_opts = 1;
    s->layer.check_request = check_request;
    s->layer.protect_response = protect_response;
    return PQCOAP_OK;
}

pqcoap_err pqcoap_sign_server_new(const pqcoap_identity *id, const pqcoap_store *store,
                                  const pqcoap_sign_server_config *cfg,
                                  pqcoap_sign_server **out)
{
    pqcoap_sign_server_config defaults = PQCOAP_SIGN_SERVER_CONFIG_INIT;
    if (!out)
        return PQCOAP_ERR_ARG;
    *out = NULL;
    if (!cfg)
        cfg = &defaults;
    if (!id || !store || !store->ops || cfg->max_peers == 0 || cfg->seq_block == 0 ||
        (cfg->policy != PQCOAP_SIGN_V2_ONLY && cfg->policy != PQCOAP_SIGN_V1_ONLY &&
         cfg->policy != PQCOAP_SIGN_V1_AND_V2) ||
        cfg->max_peers > SIZE_MAX / sizeof(pqcoap_replay_entry))
        return PQCOAP_ERR_ARG;
    pqcoap_sign_server *s = calloc(1, sizeof *s);
    if (!s)
        return PQCOAP_ERR_NOMEM;
    s->store = *store;
    s->policy = cfg->policy;
    pqcoap_err err = server_setup(s, id, cfg);
    if (err != PQCOAP_OK) {
        pqcoap_sign_server_free(s);
        return err;
    }
    *out = s;
    return PQCOAP_OK;
}

const pqcoap_layer *pqcoap_sign_server_layer(const pqcoap_sign_server *s)
{
    return s ? &s->layer : NULL;
}

void pqcoap_sign_server_free(pqcoap_sign_server *s)
{
    if (!s)
        return;
    pqcoap_identity_wipe(&s->id);
    free(s->v1_keys);
    free(s->entries);
    free(s);
}

/* Mode A of PROTOCOL.md: v1 and v2 signed payloads over the neutral message view, the
 * PQ-Sig option, the signature algorithms and key usage (v1 keys apart), the endpoint policy
 * and the CoAP codes of rejections. */
#include "pqcoap/sign.h"
#include "common/buf_internal.h"
#include "crypto/crypto_internal.h"

#include <string.h>

/* v1 signs with Falcon-512 (the seed's algorithm, suite 0x01). */
#define V1_ALG (&pqcoap_sig_falcon512)

/* PROTOCOL.md Mode A v2 "Algorithms": the algorithms v2 signs with and the lengths L of
 * their signatures: Falcon from 41 bytes (header byte and 40-byte nonce) up to its longest,
 * ML-DSA exactly its one length. */
static const struct v2_alg {
    const pqcoap_sig_alg *alg;
    int fixed_len;                  /* 1: every signature is alg->sig_max bytes */
} V2_ALGS[] = {
    {&pqcoap_sig_falcon512, 0}, {&pqcoap_sig_falcon1024, 0}, {&pqcoap_sig_mldsa44, 1},
    {&pqcoap_sig_mldsa65, 1},   {&pqcoap_sig_mldsa87, 1},
};

_Static_assert(PQCOAP_SIGN_V2_SIG_MAX == PQCOAP_SIG_MAX, "v2 takes every signature length");

static const uint8_t LABEL_REQ[] = "pqcoap v2 req";
static const uint8_t LABEL_RESP[] = "pqcoap v2 resp";
static const uint8_t LABEL_NOTIF[] = "pqcoap v2 notif";

/* u8 code */
#define TBS_HEAD_MAX 1
/* kid || u64 seq || recipient_kid, or kid || u64 seq || request_kid || u64 request_seq */
#define TBS_TAIL_MAX (2 * (8 + 8))

/* The v2 entry of alg, or NULL if v2 does not sign with it. */
static const struct v2_alg *v2_alg(const pqcoap_sig_alg *alg)
{
    for (size_t i = 0; i < sizeof V2_ALGS / sizeof V2_ALGS[0]; i++)
        if (V2_ALGS[i].alg == alg)
            return &V2_ALGS[i];
    return NULL;
}

/* 1 if a signature of sig_len bytes can be one of alg's in Mode A `version`: v1
 * 41..752 with Falcon-512 (PROTOCOL.md v1), v2 the lengths of V2_ALGS. */
static int sig_len_ok(const pqcoap_sig_alg *alg, int version, size_t sig_len)
{
    const struct v2_alg *a = v2_alg(alg);
    if (!a || (version == 1 && alg != V1_ALG))
        return 0;
    if (a->fixed_len)
        return sig_len == alg->sig_max;
    return sig_len >= PQCOAP_SIGN_SIG_MIN && sig_len <= alg->sig_max;
}

/* PQCOAP_OK if `key` is of an algorithm Mode A `version` signs with (v1: Falcon-512; v2:
 * V2_ALGS) and of that algorithm's length, else PQCOAP_ERR_UNSUPPORTED. */
static pqcoap_err alg_check(const pqcoap_pubkey *key, int version)
{
    const pqcoap_sig_alg *alg = key->alg;
    if (!alg || !v2_alg(alg) || (version == 1 && alg != V1_ALG) || key->pk_len != alg->pk_len)
        return PQCOAP_ERR_UNSUPPORTED;
    return PQCOAP_OK;
}

pqcoap_err pqcoap_sign_key_check(const pqcoap_pubkey *key, int version)
{
    if (!key || (version != 1 && version != 2))
        return PQCOAP_ERR_ARG;
    PQCOAP_TRY(alg_check(key, version));
    pqcoap_key_usage want = version == 1 ? PQCOAP_USAGE_SIGN_V1 : PQCOAP_USAGE_GENERAL;
    return key->usage == want ? PQCOAP_OK : PQCOAP_ERR_KEY_USAGE;
}

int pqcoap_sign_v2_len_ok(const pqcoap_pubkey *key, size_t sig_len)
{
    return key && alg_check(key, 2) == PQCOAP_OK && sig_len_ok(key->alg, 2, sig_len);
}

pqcoap_err pqcoap_signer_init(pqcoap_signer *s, const uint8_t *sk, size_t sk_len,
                              const uint8_t *pk, size_t pk_len, pqcoap_key_usage usage,
                              const pqcoap_rng *rng)
{
    if (!s || !sk || !pk || sk_len != V1_ALG->sk_len || pk_len != V1_ALG->pk_len ||
        (usage != PQCOAP_USAGE_GENERAL && usage != PQCOAP_USAGE_SIGN_V1))
        return PQCOAP_ERR_ARG;
    PQCOAP_TRY(pqcoap_kid(pk, pk_len, s->kid));
    s->alg = V1_ALG;
    s->sk = sk;
    s->usage = usage;
    s->rng = rng;
    s->ek = NULL;
    return PQCOAP_OK;
}

pqcoap_err pqcoap_signer_from_identity(pqcoap_signer *s, const pqcoap_identity *id,
                                       const pqcoap_rng *rng)
{
    if (!s || !id)
        return PQCOAP_ERR_ARG;
    if (!v2_alg(id->pub.alg))
        return PQCOAP_ERR_UNSUPPORTED;
    s->alg = id->pub.alg;
    s->sk = id->sk;
    memcpy(s->kid, id->pub.kid, sizeof s->kid);
    s->usage = id->pub.usage;
    s->rng = rng;
    s->ek = id->ek.len != 0 ? &id->ek : NULL;
    return PQCOAP_OK;
}

/* Checks that out[0..cap) can hold a msg_len-byte message and the largest signature of s. */
static pqcoap_err check_cap(const pqcoap_signer *s, size_t msg_len, size_t cap)
{
    size_t overhead = s->alg->sig_max + 2;
    if (cap < overhead || cap - overhead < msg_len)
        return PQCOAP_ERR_BUFFER;
    return PQCOAP_OK;
}

/* With the message already in out[0..msg_len), signs the concatenation of tbs[0..n) and
 * appends `signature || u16 len` (PROTOCOL.md Mode A payload layout) for Mode A `version`. */
static pqcoap_err append_signature(const pqcoap_signer *s, int version, const pqcoap_span *tbs,
                                   size_t n, uint8_t *out, size_t msg_len, size_t *out_len)
{
    size_t sig_len = 0;
    pqcoap_err err = pqcoap_sig_sign(s->alg, s->rng, s->sk, s->ek ? s->ek->k : NULL,
                                     s->ek ? s->ek->len : 0, tbs, n, out + msg_len, &sig_len);
    if (err != PQCOAP_OK)
        return err;
    if (!sig_len_ok(s->alg, version, sig_len))
        return PQCOAP_ERR_CRYPTO;
    out[msg_len + sig_len] = (uint8_t)(sig_len >> 8);
    out[msg_len + sig_len + 1] = (uint8_t)sig_len;
    *out_len = msg_len + sig_len + 2;
    return PQCOAP_OK;
}

pqcoap_err pqcoap_sign_v1(const pqcoap_signer *s, const uint8_t *message, size_t msg_len,
                          uint8_t *out, size_t cap, size_t *out_len)
{
    if (!s || !s->sk || !s->alg || (msg_len && !message) || !out || !out_len)
        return PQCOAP_ERR_ARG;
    /* PROTOCOL.md "Key usage": only a sign-v1 key signs bare messages. */
    if (s->usage != PQCOAP_USAGE_SIGN_V1)
        return PQCOAP_ERR_KEY_USAGE;
    if (s->alg != V1_ALG) /* PROTOCOL.md v1: Falcon-512 only */
        return PQCOAP_ERR_UNSUPPORTED;
    PQCOAP_TRY(check_cap(s, msg_len, cap));
    if (msg_len)
        memmove(out, message, msg_len);
    /* PROTOCOL.md v1: the signature covers `message` alone. */
    pqcoap_span tbs = {out, msg_len};
    return append_signature(s, 1, &tbs, 1, out, msg_len, out_len);
}

/* Splits a signed payload `message || signature || u16 L`: malformed unless
 * min_len <= L <= max_len and L <= len(payload) - 2 (PROTOCOL.md v1: 41..752; v2: 1..4627,
 * then the length of the key's algorithm, checked once the key is known). */
static pqcoap_err split_payload(const uint8_t *payload, size_t len, size_t min_len,
                                size_t max_len, pqcoap_span *message, pqcoap_span *sig)
{
    pqcoap_reader r;
    const uint8_t *body;
    uint16_t sig_len;
    pqcoap_rd_init(&r, payload, len);
    if (pqcoap_rd_left(&r) < 2)
        return PQCOAP_ERR_MALFORMED;
    size_t body_len = pqcoap_rd_left(&r) - 2;
    PQCOAP_TRY(pqcoap_rd_bytes(&r, body_len, &body));
    PQCOAP_TRY(pqcoap_rd_u16(&r, &sig_len));
    if (sig_len < min_len || sig_len > max_len || sig_len > body_len)
        return PQCOAP_ERR_MALFORMED;
    pqcoap_rd_init(&r, body, body_len);
    message->n = body_len - sig_len;
    sig->n = sig_len;
    PQCOAP_TRY(pqcoap_rd_bytes(&r, message->n, &message->p));
    PQCOAP_TRY(pqcoap_rd_bytes(&r, sig->n, &sig->p));
    return pqcoap_rd_end(&r);
}

/* Verifies a signature over the concatenation of tbs[0..n) under `key`, which must be a key
 * of Mode A `version` (v1: Falcon-512 and usage sign-v1; v2: an algorithm of V2_ALGS and
 * usage general; PROTOCOL.md "Key usage": checked before anything is verified). A signature
 * of a length the key's algorithm never makes (made with another algorithm) does not
 * verify: it is refused before the algorithm sees it. */
static pqcoap_err verify_signature(const pqcoap_pubkey *key, int version,
                                   const pqcoap_span *tbs, size_t n, const pqcoap_span *sig)
{
    if (alg_check(key, version) != PQCOAP_OK)
        return PQCOAP_ERR_ARG;
    if (key->usage != (version == 1 ? PQCOAP_USAGE_SIGN_V1 : PQCOAP_USAGE_GENERAL))
        return PQCOAP_ERR_KEY_USAGE;
    if (!sig_len_ok(key->alg, version, sig->n))
        return PQCOAP_ERR_AUTH;
    pqcoap_err err = key->alg->verify(key->pk, tbs, n, sig->p, sig->n);
    if (err == PQCOAP_OK || err == PQCOAP_ERR_CRYPTO)
        return err;
    return PQCOAP_ERR_AUTH;
}

pqcoap_err pqcoap_verify_v1(const pqcoap_pubkey *pk, const uint8_t *payload,
                            size_t payload_len, const uint8_t **message, size_t *msg_len)
{
    if ((payload_len && !payload) || !message || !msg_len)
        return PQCOAP_ERR_ARG;
    pqcoap_span msg, sig;
    PQCOAP_TRY(split_payload(payload, payload_len, PQCOAP_SIGN_SIG_MIN, PQCOAP_SIGN_SIG_MAX,
                             &msg, &sig));
    if (!pk)
        return PQCOAP_ERR_NO_PEER_KEY;
    PQCOAP_TRY(verify_signature(pk, 1, &msg, 1, &sig));
    *message = msg.p;
    *msg_len = msg.n;
    return PQCOAP_OK;
}

void pqcoap_sig_opt_encode(const uint8_t kid[8], uint64_t seq,
                           uint8_t out[PQCOAP_SIG_OPT_LEN])
{
    /* PROTOCOL.md v2: PQ-Sig value = u8 version(=2) || kid[8] || u64 seq. */
    pqcoap_writer w;
    pqcoap_wr_init(&w, out, PQCOAP_SIG_OPT_LEN);
    pqcoap_wr_u8(&w, PQCOAP_SIG_OPT_VERSION);
    pqcoap_wr_bytes(&w, kid, 8);
    pqcoap_wr_u64(&w, seq);
}

pqcoap_err pqcoap_sig_opt_parse(const uint8_t *value, size_t len, uint8_t kid[8],
                                uint64_t *seq)
{
    if ((len && !value) || !kid || !seq)
        return PQCOAP_ERR_ARG;
    pqcoap_reader r;
    uint8_t version, k[8];
    uint64_t s;
    pqcoap_rd_init(&r, value, len);
    PQCOAP_TRY(pqcoap_rd_u8(&r, &version));
    PQCOAP_TRY(pqcoap_rd_copy(&r, k, sizeof k));
    PQCOAP_TRY(pqcoap_rd_u64(&r, &s));
    PQCOAP_TRY(pqcoap_rd_end(&r));
    if (version != PQCOAP_SIG_OPT_VERSION)
        return PQCOAP_ERR_MALFORMED;
    memcpy(kid, k, sizeof k);
    *seq = s;
    return PQCOAP_OK;
}

/* Buffers for the parts of a v2 signature input other than the label and the message. */
typedef struct tbs_parts {
    uint8_t head[TBS_HEAD_MAX];
    uint8_t opts[PQCOAP_OPTS_MAX];
    uint8_t tail[TBS_TAIL_MAX];
} tbs_parts;

/* Which v2 signature input: a request, a response, or a notification (RFC 7641). */
typedef enum tbs_kind { TBS_REQ, TBS_RESP, TBS_NOTIF } tbs_kind;

/* Lays out the v2 signature input of PROTOCOL.md as five pieces in tbs[0..5):
 *   request:  "pqcoap v2 req" || u8 code || opts(msg) || kid || u64 seq || recipient_kid
 *             || message
 *   response: "pqcoap v2 resp" || u8 code || opts(msg) || kid || u64 seq || request_kid
 *             || u64 request_seq || message
 *   notification: "pqcoap v2 notif" and then as a response
 * `req` NULL = request, bound to `recipient` (the kid of the key it is meant for). The
 * token is not part of it (PROTOCOL.md "The token"). */
static pqcoap_err v2_tbs(tbs_kind kind, const pqcoap_msg *msg, const uint8_t kid[8],
                         uint64_t seq, const uint8_t *recipient, const pqcoap_sig_req *req,
                         const pqcoap_span *message, tbs_parts *parts, pqcoap_span tbs[5])
{
    pqcoap_writer head, tail;
    size_t opts_len;
    if ((kind == TBS_REQ) != (req == NULL) || (!req && !recipient))
        return PQCOAP_ERR_ARG;
    PQCOAP_TRY(pqcoap_opts(msg, parts->opts, sizeof parts->opts, &opts_len));
    pqcoap_wr_init(&head, parts->head, sizeof parts->head);
    pqcoap_wr_u8(&head, msg->code);
    pqcoap_wr_init(&tail, parts->tail, sizeof parts->tail);
    pqcoap_wr_bytes(&tail, kid, 8);
    pqcoap_wr_u64(&tail, seq);
    if (req) {
        pqcoap_wr_bytes(&tail, req->kid, 8);
        pqcoap_wr_u64(&tail, req->seq);
    } else {
        pqcoap_wr_bytes(&tail, recipient, 8);
    }
    if (head.err != PQCOAP_OK || tail.err != PQCOAP_OK)
        return PQCOAP_ERR_ARG;
    /* the labels exclude their C string terminators; they differ within the shortest, so
     * no input of one kind is an input of another (PROTOCOL.md "Observe") */
    if (kind == TBS_NOTIF)
        tbs[0] = (pqcoap_span){LABEL_NOTIF, sizeof LABEL_NOTIF - 1};
    else if (kind == TBS_RESP)
        tbs[0] = (pqcoap_span){LABEL_RESP, sizeof LABEL_RESP - 1};
    else
        tbs[0] = (pqcoap_span){LABEL_REQ, sizeof LABEL_REQ - 1};
    tbs[1] = (pqcoap_span){parts->head, head.len};
    tbs[2] = (pqcoap_span){parts->opts, opts_len};
    tbs[3] = (pqcoap_span){parts->tail, tail.len};
    tbs[4] = *message;
    return PQCOAP_OK;
}

/* Validates the borrowed pointers of a message view. */
static int msg_ok(const pqcoap_msg *msg)
{
    return msg && (!msg->n_opts || msg->opts) && (!msg->payload_len || msg->payload) &&
           (!msg->token_len || msg->token);
}

/* Signs msg as a v2 message of `kind` (see v2_tbs). */
static pqcoap_err sign_v2_kind(tbs_kind kind, const pqcoap_signer *s, uint64_t seq,
                               const pqcoap_msg *msg, const uint8_t *recipient_kid,
                               const pqcoap_sig_req *req,
                               uint8_t opt_value[PQCOAP_SIG_OPT_LEN], uint8_t *out, size_t cap,
                               size_t *out_len)
{
    if (!s || !s->sk || !s->alg || !msg_ok(msg) || !opt_value || !out || !out_len)
        return PQCOAP_ERR_ARG;
    if (s->usage != PQCOAP_USAGE_GENERAL) /* PROTOCOL.md "Key usage" */
        return PQCOAP_ERR_KEY_USAGE;
    if (!v2_alg(s->alg)) /* PROTOCOL.md Mode A v2 "Algorithms" */
        return PQCOAP_ERR_UNSUPPORTED;
    PQCOAP_TRY(check_cap(s, msg->payload_len, cap));
    tbs_parts parts;
    pqcoap_span tbs[5];
    pqcoap_span message = {out, msg->payload_len};
    PQCOAP_TRY(v2_tbs(kind, msg, s->kid, seq, recipient_kid, req, &message, &parts, tbs));
    if (msg->payload_len)
        memcpy(out, msg->payload, msg->payload_len);
    PQCOAP_TRY(append_signature(s, 2, tbs, 5, out, msg->payload_len, out_len));
    pqcoap_sig_opt_encode(s->kid, seq, opt_value);
    return PQCOAP_OK;
}

pqcoap_err pqcoap_sign_v2(const pqcoap_signer *s, uint64_t seq, const pqcoap_msg *msg,
                          const uint8_t *recipient_kid, const pqcoap_sig_req *req,
                          uint8_t opt_value[PQCOAP_SIG_OPT_LEN], uint8_t *out, size_t cap,
                          size_t *out_len)
{
    return sign_v2_kind(req ? TBS_RESP : TBS_REQ, s, seq, msg, recipient_kid, req, opt_value,
                        out, cap, out_len);
}

pqcoap_err pqcoap_sign_v2_notification(const pqcoap_signer *s, uint64_t seq,
                                       const pqcoap_msg *msg, const pqcoap_sig_req *req,
                                       uint8_t opt_value[PQCOAP_SIG_OPT_LEN], uint8_t *out,
                                       size_t cap, size_t *out_len)
{
    if (!req)
        return PQCOAP_ERR_ARG;
    return sign_v2_kind(TBS_NOTIF, s, seq, msg, NULL, req, opt_value, out, cap, out_len);
}

/* Counts the PQ-Sig options of msg and points *found at the first. */
static size_t find_sig_opt(const pqcoap_msg *msg, const pqcoap_opt **found)
{
    size_t count = 0;
    *found = NULL;
    for (size_t i = 0; i < msg->n_opts; i++) {
        if (msg->opts[i].number != PQCOAP_OPT_PQ_SIG)
            continue;
        if (count++ == 0)
            *found = &msg->opts[i];
    }
    return count;
}

/* Looks up the key of kid; an unknown kid is PQCOAP_ERR_UNKNOWN_PEER whatever the
 * look-up calls it. */
static pqcoap_err lookup_key(const pqcoap_verifier *v, const uint8_t kid[8],
                             const pqcoap_pubkey **key)
{
    *key = NULL;
    pqcoap_err err = v->lookup(v->lookup_ctx, kid, key);
    if (err == PQCOAP_ERR_NOT_FOUND)
        return PQCOAP_ERR_UNKNOWN_PEER;
    if (err != PQCOAP_OK)
        return err;
    return *key ? PQCOAP_OK : PQCOAP_ERR_UNKNOWN_PEER;
}

/* Verifies msg as a v2 message of `kind`; a notification (req set) must carry a seq above
 * `floor` when `ordered` (checked before the signature, which a replayed or older
 * notification never costs). */
static pqcoap_err verify_v2_kind(tbs_kind kind, const pqcoap_verifier *v,
                                 const pqcoap_msg *msg, const pqcoap_sig_req *req,
                                 int ordered, uint64_t floor, pqcoap_sig_info *info,
                                 const uint8_t **message, size_t *msg_len)
{
    if (!v || !v->lookup || (!req && !v->replay) || !msg_ok(msg) || !message || !msg_len)
        return PQCOAP_ERR_ARG;
    /* PROTOCOL.md v2: a message whose PQ-Sig option is missing or malformed is rejected. */
    const pqcoap_opt *opt;
    if (find_sig_opt(msg, &opt) != 1)
        return PQCOAP_ERR_MALFORMED;
    uint8_t kid[8];
    uint64_t seq;
    PQCOAP_TRY(pqcoap_sig_opt_parse(opt->value, opt->len, kid, &seq));
    pqcoap_span body, sig;
    PQCOAP_TRY(split_payload(msg->payload, msg->payload_len, 1, PQCOAP_SIGN_V2_SIG_MAX, &body,
                             &sig));
    /* PROTOCOL.md "Observe": a notification not newer than the newest one accepted for its
     * observation is a replay or came late; refused unverified */
    if (ordered && seq <= floor)
        return PQCOAP_ERR_REPLAY;
    tbs_parts parts;
    pqcoap_span tbs[5];
    /* A response is accepted only for the request it answers (request_kid and
     * request_seq are in its signature input), a request only by the recipient it names
     * (its own kid is in the signature input). */
    PQCOAP_TRY(v2_tbs(kind, msg, kid, seq, v->own_kid, req, &body, &parts, tbs));
    const pqcoap_pubkey *key;
    PQCOAP_TRY(lookup_key(v, kid, &key));
    if (v->replay)
        PQCOAP_TRY(pqcoap_replay_table_check(v->replay, kid, seq));
    PQCOAP_TRY(verify_signature(key, 2, tbs, 5, &sig));
    /* Only an authenticated message moves the window. */
    if (v->replay)
        PQCOAP_TRY(pqcoap_replay_table_update(v->replay, kid, seq));
    if (info) {
        info->version = 2;
        memcpy(info->kid, kid, sizeof kid);
        info->seq = seq;
    }
    *message = body.p;
    *msg_len = body.n;
    return PQCOAP_OK;
}

pqcoap_err pqcoap_verify_v2(const pqcoap_verifier *v, const pqcoap_msg *msg,
                            const pqcoap_sig_req *req, pqcoap_sig_info *info,
                            const uint8_t **message, size_t *msg_len)
{
    return verify_v2_kind(req ? TBS_RESP : TBS_REQ, v, msg, req, 0, 0, info, message, msg_len);
}

pqcoap_err pqcoap_verify_v2_notification(const pqcoap_verifier *v, const pqcoap_msg *msg,
                                         const pqcoap_sig_req *req, int seen,
                                         uint64_t last_seq, pqcoap_sig_info *info,
                                         const uint8_t **message, size_t *msg_len)
{
    if (!req)
        return PQCOAP_ERR_ARG;
    return verify_v2_kind(TBS_NOTIF, v, msg, req, seen, last_seq, info, message, msg_len);
}

pqcoap_err pqcoap_verify_msg(const pqcoap_verifier *v, const pqcoap_msg *msg,
                             const pqcoap_sig_req *req, pqcoap_sig_info *info,
                             const uint8_t **message, size_t *msg_len)
{
    if (!v || !msg_ok(msg) || !message || !msg_len)
        return PQCOAP_ERR_ARG;
    if (v->policy != PQCOAP_SIGN_V2_ONLY && v->policy != PQCOAP_SIGN_V1_ONLY &&
        v->policy != PQCOAP_SIGN_V1_AND_V2)
        return PQCOAP_ERR_ARG;
    const pqcoap_opt *opt;
    if (find_sig_opt(msg, &opt) > 0) {
        if (v->policy == PQCOAP_SIGN_V1_ONLY)
            return PQCOAP_ERR_UNSUPPORTED;
        return pqcoap_verify_v2(v, msg, req, info, message, msg_len);
    }
    /* PROTOCOL.md: a v1 message to a v2-only endpoint is rejected, never downgraded. */
    if (v->policy == PQCOAP_SIGN_V2_ONLY)
        return PQCOAP_ERR_DOWNGRADE;
    PQCOAP_TRY(pqcoap_verify_v1(v->v1_key, msg->payload, msg->payload_len, message, msg_len));
    if (info) {
        memset(info, 0, sizeof *info);
        info->version = 1;
    }
    return PQCOAP_OK;
}

pqcoap_err pqcoap_store_key_lookup(void *ctx, const uint8_t kid[8], const pqcoap_pubkey **key)
{
    pqcoap_store_lookup *l = ctx;
    if (!l || !l->store || !l->store->ops || !l->store->ops->peer_by_kid || !kid || !key)
        return PQCOAP_ERR_ARG;
    pqcoap_err err = l->store->ops->peer_by_kid(l->store->ctx, kid, &l->peer);
    if (err == PQCOAP_ERR_NOT_FOUND)
        return PQCOAP_ERR_UNKNOWN_PEER;
    if (err != PQCOAP_OK)
        return err;
    /* PROTOCOL.md Mode A v2 "Algorithms": the key's algorithm is the one its entry records. */
    const pqcoap_sig_alg *alg = NULL;
    for (size_t i = 0; i < sizeof V2_ALGS / sizeof V2_ALGS[0] && !alg; i++)
        if (strncmp(l->peer.alg, V2_ALGS[i].alg->name, sizeof l->peer.alg) == 0)
            alg = V2_ALGS[i].alg;
    if (!alg || l->peer.pk_len != alg->pk_len)
        return PQCOAP_ERR_UNKNOWN_PEER;
    l->key.alg = alg;
    memcpy(l->key.pk, l->peer.pk, l->peer.pk_len);
    l->key.pk_len = l->peer.pk_len;
    memcpy(l->key.kid, l->peer.kid, sizeof l->key.kid);
    l->key.usage = l->peer.usage;
    *key = &l->key;
    return PQCOAP_OK;
}

uint8_t pqcoap_sign_error_code(pqcoap_err err)
{
    switch (err) {
    case PQCOAP_OK:
        return 0;
    case PQCOAP_ERR_MALFORMED:
        return PQCOAP_CODE(4, 0);
    case PQCOAP_ERR_NO_PEER_KEY:
    case PQCOAP_ERR_KEY_USAGE: /* a trusted key pinned for the other version */
        return PQCOAP_CODE(4, 1);
    case PQCOAP_ERR_UNSUPPORTED: /* RFC 7252 5.4.1: unrecognised critical option */
        return PQCOAP_CODE(4, 2);
    case PQCOAP_ERR_TOO_LARGE:
        return PQCOAP_CODE(4, 13);
    case PQCOAP_ERR_LIMIT:
        return PQCOAP_CODE(5, 3);
    default:
        /* authentication class: bad signature, unknown kid, replay, downgrade */
        return PQCOAP_IS_AUTH_ERR(err) ? PQCOAP_CODE(4, 1) : PQCOAP_CODE(5, 0);
    }
}

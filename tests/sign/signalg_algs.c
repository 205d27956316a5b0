/* Mode A v2 with every signature algorithm of the table (PROTOCOL.md Mode A v2 "Algorithms"),
 * without sockets: each algorithm signs and verifies requests and responses; a signature of
 * one algorithm under the kid of a key of another is refused as not verifying (before the
 * algorithm sees it, so without moving the replay window); the length rules (ML-DSA one
 * length, Falcon 41 up to its longest; malformed beyond 4627 or beyond the payload); the
 * store look-up takes the algorithm its entry records; v1 stays Falcon-512 only. */
#include "check.h"
#include "pqcoap/sign.h"
#include "crypto/crypto_internal.h"

#include <stdlib.h>

enum { F512, F1024, D44, D65, D87, NALG };
static const char *const ALG[NALG] = {"falcon-512", "falcon-1024", "ml-dsa-44", "ml-dsa-65",
                                      "ml-dsa-87"};
static const size_t SIG_MAX[NALG] = {752, 1462, 2420, 3309, 4627};

static pqcoap_identity id[NALG], server;
static pqcoap_signer signer[NALG];

static const uint8_t MESSAGE[] = "t=21.5";
#define MESSAGE_LEN (sizeof MESSAGE - 1)
#define PAYLOAD_CAP (MESSAGE_LEN + PQCOAP_SIGN_OVERHEAD_MAX)
static const uint8_t PATH[] = "temp";
static const pqcoap_opt OPTS[] = {{PQCOAP_OPT_URI_PATH, PATH, sizeof PATH - 1}};

/* The key of a kid: each algorithm's identity, all trusted. */
static pqcoap_err lookup(void *ctx, const uint8_t kid[8], const pqcoap_pubkey **key)
{
    (void)ctx;
    for (int i = 0; i < NALG; i++)
        if (memcmp(kid, id[i].pub.kid, 8) == 0) {
            *key = &id[i].pub;
            return PQCOAP_OK;
        }
    return PQCOAP_ERR_NOT_FOUND;
}

typedef struct endpoint {
    pqcoap_replay_entry slots[8];
    pqcoap_replay_table table;
    pqcoap_verifier v;
} endpoint;

/* A server (own kid: `server`'s) verifying requests of every trusted algorithm. */
static void endpoint_init(endpoint *e)
{
    pqcoap_verifier init = PQCOAP_VERIFIER_INIT;
    CHECK_EQ_INT(pqcoap_replay_table_init(&e->table, e->slots, 8), PQCOAP_OK);
    e->v = init;
    e->v.lookup = lookup;
    e->v.replay = &e->table;
    e->v.own_kid = server.pub.kid;
}

typedef struct wire {
    pqcoap_opt opts[2];
    uint8_t sig_opt[PQCOAP_SIG_OPT_LEN];
    uint8_t payload[PAYLOAD_CAP];
    pqcoap_msg msg;
} wire;

/* POST temp with MESSAGE, signed by `s` with `seq`: a request for `server` (req NULL) or a
 * response to req. */
static pqcoap_err sign_msg(wire *w, const pqcoap_signer *s, uint64_t seq,
                           const pqcoap_sig_req *req)
{
    pqcoap_msg m = PQCOAP_MSG_INIT;
    size_t len = 0;
    m.code = req ? PQCOAP_CODE(2, 4) : PQCOAP_POST;
    m.opts = OPTS;
    m.n_opts = 1;
    m.payload = MESSAGE;
    m.payload_len = MESSAGE_LEN;
    pqcoap_err err = pqcoap_sign_v2(s, seq, &m, req ? NULL : server.pub.kid, req, w->sig_opt,
                                    w->payload, sizeof w->payload, &len);
    w->opts[0] = OPTS[0];
    w->opts[1] = (pqcoap_opt){PQCOAP_OPT_PQ_SIG, w->sig_opt, sizeof w->sig_opt};
    w->msg = m;
    w->msg.opts = w->opts;
    w->msg.n_opts = 2;
    w->msg.payload = w->payload;
    w->msg.payload_len = len;
    return err;
}

static pqcoap_err verify(endpoint *e, const wire *w, const pqcoap_sig_req *req)
{
    const uint8_t *m = NULL;
    size_t n = 0;
    pqcoap_err err = pqcoap_verify_v2(&e->v, &w->msg, req, NULL, &m, &n);
    if (err == PQCOAP_OK)
        CHECK(n == MESSAGE_LEN && memcmp(m, MESSAGE, n) == 0);
    return err;
}

/* The length field of a signed payload, and the signature length it gives. */
static void set_len(wire *w, size_t len)
{
    w->payload[w->msg.payload_len - 2] = (uint8_t)(len >> 8);
    w->payload[w->msg.payload_len - 1] = (uint8_t)len;
}

static void make_keys(void)
{
    for (int i = 0; i < NALG; i++) {
        CHECK_EQ_INT(pqcoap_identity_generate(ALG[i], NULL, &id[i]), PQCOAP_OK);
        CHECK_EQ_INT(pqcoap_signer_from_identity(&signer[i], &id[i], NULL), PQCOAP_OK);
        CHECK(signer[i].alg == id[i].pub.alg);
    }
    CHECK_EQ_INT(pqcoap_identity_generate("ml-dsa-65", NULL, &server), PQCOAP_OK);
}

/* Which lengths each algorithm's signatures may have. */
static void test_lengths(void)
{
    for (int i = 0; i < NALG; i++) {
        const pqcoap_pubkey *k = &id[i].pub;
        int falcon = i <= F1024;
        CHECK_EQ_INT(pqcoap_sign_v2_len_ok(k, SIG_MAX[i]), 1);
        CHECK_EQ_INT(pqcoap_sign_v2_len_ok(k, SIG_MAX[i] + 1), 0);
        CHECK_EQ_INT(pqcoap_sign_v2_len_ok(k, SIG_MAX[i] - 1), falcon);
        CHECK_EQ_INT(pqcoap_sign_v2_len_ok(k, PQCOAP_SIGN_SIG_MIN), falcon);
        CHECK_EQ_INT(pqcoap_sign_v2_len_ok(k, PQCOAP_SIGN_SIG_MIN - 1), 0);
        CHECK_EQ_INT(pqcoap_sign_v2_len_ok(k, 0), 0);
        /* the signatures of each other algorithm */
        for (int j = 0; j < NALG; j++)
            if (j != i && j > F1024)
                CHECK_EQ_INT(pqcoap_sign_v2_len_ok(k, SIG_MAX[j]), 0);
    }
    pqcoap_pubkey odd = id[D65].pub;
    odd.pk_len--;
    CHECK_EQ_INT(pqcoap_sign_v2_len_ok(&odd, SIG_MAX[D65]), 0);
    odd.alg = NULL;
    CHECK_EQ_INT(pqcoap_sign_v2_len_ok(&odd, SIG_MAX[D65]), 0);
    CHECK_EQ_INT(pqcoap_sign_v2_len_ok(NULL, SIG_MAX[D65]), 0);
}

/* Which keys each version takes. */
static void test_key_check(void)
{
    for (int i = 0; i < NALG; i++) {
        pqcoap_pubkey v1 = id[i].pub;
        v1.usage = PQCOAP_USAGE_SIGN_V1;
        CHECK_EQ_INT(pqcoap_sign_key_check(&id[i].pub, 2), PQCOAP_OK);
        CHECK_EQ_INT(pqcoap_sign_key_check(&v1, 2), PQCOAP_ERR_KEY_USAGE);
        /* v1 is Falcon-512 only */
        CHECK_EQ_INT(pqcoap_sign_key_check(&v1, 1),
                     i == F512 ? PQCOAP_OK : PQCOAP_ERR_UNSUPPORTED);
    }
    pqcoap_pubkey odd = id[D44].pub;
    odd.pk_len = id[D65].pub.pk_len;
    CHECK_EQ_INT(pqcoap_sign_key_check(&odd, 2), PQCOAP_ERR_UNSUPPORTED);
    odd.alg = NULL;
    CHECK_EQ_INT(pqcoap_sign_key_check(&odd, 2), PQCOAP_ERR_UNSUPPORTED);
    CHECK_EQ_INT(pqcoap_sign_key_check(&id[D44].pub, 3), PQCOAP_ERR_ARG);
    CHECK_EQ_INT(pqcoap_sign_key_check(NULL, 2), PQCOAP_ERR_ARG);
}

/* Every algorithm signs requests and responses of its length, verified by its key. */
static void test_each_algorithm(void)
{
    endpoint e;
    endpoint_init(&e);
    for (int i = 0; i < NALG; i++) {
        wire w;
        CHECK_EQ_INT(sign_msg(&w, &signer[i], 10, NULL), PQCOAP_OK);
        size_t sig_len = w.msg.payload_len - MESSAGE_LEN - 2;
        CHECK(i <= F1024 ? sig_len >= PQCOAP_SIGN_SIG_MIN && sig_len <= SIG_MAX[i]
                         : sig_len == SIG_MAX[i]);
        CHECK_EQ_INT(w.payload[w.msg.payload_len - 2] << 8 | w.payload[w.msg.payload_len - 1],
                     sig_len);
        CHECK_EQ_INT(verify(&e, &w, NULL), PQCOAP_OK);
        CHECK_EQ_INT(verify(&e, &w, NULL), PQCOAP_ERR_REPLAY);
        /* a response to it, verified by the client that sent it */
        pqcoap_sig_req req = {{0}, 10};
        memcpy(req.kid, signer[i].kid, 8);
        CHECK_EQ_INT(sign_msg(&w, &signer[i], 3, &req), PQCOAP_OK);
        endpoint client;
        endpoint_init(&client);
        client.v.replay = NULL;
        CHECK_EQ_INT(verify(&client, &w, &req), PQCOAP_OK);
        req.seq++;
        CHECK_EQ_INT(verify(&client, &w, &req), PQCOAP_ERR_AUTH);
        /* the output buffer: the message and this algorithm's longest signature */
        pqcoap_msg m = w.msg;
        m.opts = OPTS;
        m.n_opts = 1;
        m.payload = MESSAGE;
        m.payload_len = MESSAGE_LEN;
        uint8_t opt[PQCOAP_SIG_OPT_LEN], out[PAYLOAD_CAP];
        size_t len;
        CHECK_EQ_INT(pqcoap_sign_v2(&signer[i], 11, &m, NULL, &req, opt, out,
                                    MESSAGE_LEN + SIG_MAX[i] + 2 - 1, &len), PQCOAP_ERR_BUFFER);
        CHECK_EQ_INT(pqcoap_sign_v2(&signer[i], 11, &m, NULL, &req, opt, out,
                                    MESSAGE_LEN + SIG_MAX[i] + 2, &len), PQCOAP_OK);
    }
}

/* A signature of algorithm s under the kid of a key of algorithm k (k != s): refused as not
 * verifying, and the window of that kid does not move (the genuine request with the same
 * seq is accepted after it). */
static void test_other_algorithm(void)
{
    for (int k = 0; k < NALG; k++) {
        endpoint e;
        endpoint_init(&e);
        for (int s = 0; s < NALG; s++) {
            if (s == k)
                continue;
            pqcoap_signer forged = signer[s];
            memcpy(forged.kid, signer[k].kid, 8);
            wire w;
            CHECK_EQ_INT(sign_msg(&w, &forged, 100 + (uint64_t)s, NULL), PQCOAP_OK);
            pqcoap_err err = verify(&e, &w, NULL);
            CHECK_EQ_INT(err, PQCOAP_ERR_AUTH);
            if (err != PQCOAP_ERR_AUTH)
                fprintf(stderr, "  %s signature under a %s key: %s\n", ALG[s], ALG[k],
                        pqcoap_strerror(err));
            /* the client side: a response of another algorithm than the pinned key's */
            pqcoap_sig_req req = {{0}, 7};
            memcpy(req.kid, signer[D44].kid, 8);
            CHECK_EQ_INT(sign_msg(&w, &forged, 200, &req), PQCOAP_OK);
            endpoint client;
            endpoint_init(&client);
            client.v.replay = NULL;
            CHECK_EQ_INT(verify(&client, &w, &req), PQCOAP_ERR_AUTH);
        }
        for (int s = 0; s < NALG; s++) {
            wire w;
            if (s == k)
                continue;
            CHECK_EQ_INT(sign_msg(&w, &signer[k], 100 + (uint64_t)s, NULL), PQCOAP_OK);
            CHECK_EQ_INT(verify(&e, &w, NULL), PQCOAP_OK);
        }
    }
}

/* The length field: malformed beyond the longest signature of any algorithm or beyond the
 * payload; not verifying when it is no length of the key's algorithm. Under ASan, no read
 * leaves the payload. */
static void test_length_field(void)
{
    endpoint e;
    endpoint_init(&e);
    wire good, w;
    CHECK_EQ_INT(sign_msg(&good, &signer[D87], 50, NULL), PQCOAP_OK);
    /* Malformed beyond the longest signature of any algorithm; in range but no length of
     * ML-DSA-87's: not verifying. */
    static const struct {
        size_t len;
        pqcoap_err want;
    } lens[] = {{0, PQCOAP_ERR_MALFORMED},    {PQCOAP_SIGN_V2_SIG_MAX + 1, PQCOAP_ERR_MALFORMED},
                {0x2000, PQCOAP_ERR_MALFORMED}, {0xffff, PQCOAP_ERR_MALFORMED},
                {1, PQCOAP_ERR_AUTH},          {40, PQCOAP_ERR_AUTH},
                {41, PQCOAP_ERR_AUTH},         {752, PQCOAP_ERR_AUTH},
                {2420, PQCOAP_ERR_AUTH},       {3309, PQCOAP_ERR_AUTH},
                {4626, PQCOAP_ERR_AUTH}};
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        w = good;
        w.msg.payload = w.payload;
        w.msg.opts = w.opts;
        set_len(&w, lens[i].len);
        CHECK_EQ_INT(verify(&e, &w, NULL), lens[i].want);
    }
    /* The longest signature with no message before it, in heap buffers of exactly the
     * payload's size: L = 4627 splits (and does not verify: it signed another input); one
     * byte less before the length field and L runs past the payload: malformed. */
    for (size_t cut = 0; cut <= 1; cut++) {
        size_t n = PQCOAP_SIGN_V2_SIG_MAX + 2 - cut;
        uint8_t *exact = malloc(n);
        CHECK(exact != NULL);
        if (!exact)
            return;
        memcpy(exact, good.payload + MESSAGE_LEN + cut, n);
        w = good;
        w.msg.opts = w.opts;
        w.msg.payload = exact;
        w.msg.payload_len = n;
        CHECK_EQ_INT(verify(&e, &w, NULL), cut ? PQCOAP_ERR_MALFORMED : PQCOAP_ERR_AUTH);
        free(exact);
    }
    /* the genuine one is still accepted: nothing above moved the window */
    CHECK_EQ_INT(verify(&e, &good, NULL), PQCOAP_OK);
    /* the longest signature under the kid of the key with the shortest */
    pqcoap_signer forged = signer[D87];
    memcpy(forged.kid, signer[F512].kid, 8);
    CHECK_EQ_INT(sign_msg(&w, &forged, 51, NULL), PQCOAP_OK);
    CHECK_EQ_INT(w.msg.payload_len, MESSAGE_LEN + PQCOAP_SIGN_OVERHEAD_MAX);
    CHECK_EQ_INT(verify(&e, &w, NULL), PQCOAP_ERR_AUTH);
    /* a Falcon-512 payload whose length field names one byte more than precedes it */
    CHECK_EQ_INT(sign_msg(&w, &signer[F512], 52, NULL), PQCOAP_OK);
    set_len(&w, w.msg.payload_len - 1);
    CHECK_EQ_INT(verify(&e, &w, NULL), PQCOAP_ERR_MALFORMED);
    CHECK_EQ_INT(sign_msg(&w, &signer[F512], 52, NULL), PQCOAP_OK);
    CHECK_EQ_INT(verify(&e, &w, NULL), PQCOAP_OK);
}

/* v1 is the seed's format: Falcon-512 keys only, whatever their usage says. */
static void test_v1_falcon512_only(void)
{
    uint8_t out[PAYLOAD_CAP];
    size_t len = 0;
    for (int i = 0; i < NALG; i++) {
        pqcoap_signer v1 = signer[i];
        v1.usage = PQCOAP_USAGE_SIGN_V1;
        CHECK_EQ_INT(pqcoap_sign_v1(&v1, MESSAGE, MESSAGE_LEN, out, sizeof out, &len),
                     i == F512 ? PQCOAP_OK : PQCOAP_ERR_UNSUPPORTED);
    }
    /* a v1 payload checked against a sign-v1 key of another algorithm: nothing verified */
    pqcoap_signer v1 = signer[F512];
    v1.usage = PQCOAP_USAGE_SIGN_V1;
    CHECK_EQ_INT(pqcoap_sign_v1(&v1, MESSAGE, MESSAGE_LEN, out, sizeof out, &len), PQCOAP_OK);
    const uint8_t *m;
    size_t n;
    for (int i = 0; i < NALG; i++) {
        pqcoap_pubkey k = id[i].pub;
        k.usage = PQCOAP_USAGE_SIGN_V1;
        pqcoap_err want = i == F512 ? PQCOAP_OK : PQCOAP_ERR_ARG;
        CHECK_EQ_INT(pqcoap_verify_v1(&k, out, len, &m, &n), want);
    }
}

/* A store backend with one entry per algorithm and some broken ones, read by kid. */
typedef struct fake_entry {
    const char *alg;
    const pqcoap_pubkey *key;
    size_t pk_len;
} fake_entry;
static fake_entry entries[NALG + 2];

static pqcoap_err fake_by_kid(void *ctx, const uint8_t kid[8], pqcoap_peer *out)
{
    (void)ctx;
    for (size_t i = 0; i < sizeof entries / sizeof entries[0]; i++) {
        if (memcmp(kid, entries[i].key->kid, 8) != 0)
            continue;
        memset(out, 0, sizeof *out);
        snprintf(out->id, sizeof out->id, "peer%zu", i);
        snprintf(out->alg, sizeof out->alg, "%s", entries[i].alg);
        memcpy(out->kid, kid, 8);
        memcpy(out->pk, entries[i].key->pk, entries[i].pk_len);
        out->pk_len = entries[i].pk_len;
        return PQCOAP_OK;
    }
    return PQCOAP_ERR_NOT_FOUND;
}

/* The store look-up gives each key the algorithm its entry records. */
static void test_store_lookup(void)
{
    pqcoap_pubkey odd1 = id[D44].pub, odd2 = id[F1024].pub;
    odd1.kid[0] ^= 1;
    odd2.kid[0] ^= 1;
    for (int i = 0; i < NALG; i++)
        entries[i] = (fake_entry){ALG[i], &id[i].pub, id[i].pub.pk_len};
    entries[NALG] = (fake_entry){"ml-dsa-65", &odd1, odd1.pk_len}; /* ML-DSA-44 bytes */
    entries[NALG + 1] = (fake_entry){"rsa-2048", &odd2, odd2.pk_len};
    pqcoap_store_ops ops;
    memset(&ops, 0, sizeof ops);
    ops.peer_by_kid = fake_by_kid;
    pqcoap_store store = {&ops, NULL};
    pqcoap_store_lookup l;
    memset(&l, 0, sizeof l);
    l.store = &store;
    const pqcoap_pubkey *key = NULL;
    for (int i = 0; i < NALG; i++) {
        CHECK_EQ_INT(pqcoap_store_key_lookup(&l, id[i].pub.kid, &key), PQCOAP_OK);
        CHECK(key && key->alg == id[i].pub.alg && key->pk_len == id[i].pub.pk_len &&
              memcmp(key->pk, id[i].pub.pk, key->pk_len) == 0);
    }
    CHECK_EQ_INT(pqcoap_store_key_lookup(&l, odd1.kid, &key), PQCOAP_ERR_UNKNOWN_PEER);
    CHECK_EQ_INT(pqcoap_store_key_lookup(&l, odd2.kid, &key), PQCOAP_ERR_UNKNOWN_PEER);
}

int main(void)
{
    make_keys();
    test_lengths();
    test_key_check();
    test_each_algorithm();
    test_other_algorithm();
    test_length_field();
    test_v1_falcon512_only();
    test_store_lookup();
    for (int i = 0; i < NALG; i++)
        pqcoap_identity_wipe(&id[i]);
    pqcoap_identity_wipe(&server);
    return check_done();
}

/* Every store operation, with one test body run against the in-memory and the SQLite
 * backend: look-ups, replacement, kid uniqueness, removal, listing order, floors,
 * reservations, the sequence counter and argument checks. */
#include <stdint.h>
#include "check.h"
#include "pqcoap/store.h"
#include "store_util.h"

typedef struct list_state {
    int calls;
    int stop_at;                    /* return an error on this call (0: never) */
    char ids[8][PQCOAP_ID_MAX + 1];
    int intact;
} list_state;

static pqcoap_err list_cb(void *arg, const pqcoap_peer *peer)
{
    list_state *ls = arg;
    if (ls->calls < 8)
        snprintf(ls->ids[ls->calls], sizeof ls->ids[0], "%s", peer->id);
    ls->calls++;
    ls->intact += peer_intact(peer);
    if (ls->stop_at && ls->calls == ls->stop_at)
        return PQCOAP_ERR_LIMIT;
    return PQCOAP_OK;
}

static int peer_equal(const pqcoap_peer *a, const pqcoap_peer *b)
{
    return strcmp(a->id, b->id) == 0 && strcmp(a->alg, b->alg) == 0 &&
           memcmp(a->kid, b->kid, PQCOAP_KID_LEN) == 0 && a->pk_len == b->pk_len &&
           memcmp(a->pk, b->pk, a->pk_len) == 0 && a->added_s == b->added_s &&
           a->usage == b->usage;
}

static void test_peers(const pqcoap_store *s)
{
    pqcoap_peer a, b, c, got;
    peer_make(2, &a);
    peer_make(10, &b);
    peer_make(1, &c);
    list_state ls = {0};

    CHECK_EQ_INT(pqcoap_store_peer_by_id(s, a.id, &got), PQCOAP_ERR_NOT_FOUND);
    CHECK_EQ_INT(pqcoap_store_peer_by_kid(s, a.kid, &got), PQCOAP_ERR_NOT_FOUND);
    CHECK_EQ_INT(pqcoap_store_peer_list(s, list_cb, &ls), PQCOAP_OK);
    CHECK_EQ_INT(ls.calls, 0);

    CHECK_EQ_INT(pqcoap_store_peer_add(s, &a), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_store_peer_add(s, &b), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_store_peer_add(s, &c), PQCOAP_OK);

    memset(&got, 0xAA, sizeof got);
    CHECK_EQ_INT(pqcoap_store_peer_by_id(s, b.id, &got), PQCOAP_OK);
    CHECK(peer_equal(&got, &b));
    memset(&got, 0xAA, sizeof got);
    CHECK_EQ_INT(pqcoap_store_peer_by_kid(s, c.kid, &got), PQCOAP_OK);
    CHECK(peer_equal(&got, &c));

    /* listed in bytewise id order, each complete */
    CHECK_EQ_INT(pqcoap_store_peer_list(s, list_cb, &ls), PQCOAP_OK);
    CHECK_EQ_INT(ls.calls, 3);
    CHECK_EQ_INT(ls.intact, 3);
    CHECK(strcmp(ls.ids[0], c.id) == 0 && strcmp(ls.ids[1], a.id) == 0 &&
          strcmp(ls.ids[2], b.id) == 0);

    /* the callback's error stops the listing and is returned */
    memset(&ls, 0, sizeof ls);
    ls.stop_at = 2;
    CHECK_EQ_INT(pqcoap_store_peer_list(s, list_cb, &ls), PQCOAP_ERR_LIMIT);
    CHECK_EQ_INT(ls.calls, 2);

    /* same id replaces: the old kid no longer finds anything */
    pqcoap_peer a2;
    peer_make(7, &a2);
    memcpy(a2.id, a.id, sizeof a2.id);
    CHECK_EQ_INT(pqcoap_store_peer_add(s, &a2), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_store_peer_by_id(s, a.id, &got), PQCOAP_OK);
    CHECK(peer_equal(&got, &a2));
    CHECK_EQ_INT(pqcoap_store_peer_by_kid(s, a.kid, &got), PQCOAP_ERR_NOT_FOUND);
    CHECK_EQ_INT(pqcoap_store_peer_by_kid(s, a2.kid, &got), PQCOAP_OK);
    CHECK(strcmp(got.id, a.id) == 0);

    /* another id with a kid already pinned is refused, nothing changes */
    pqcoap_peer dup;
    peer_make(99, &dup);
    memcpy(dup.kid, b.kid, PQCOAP_KID_LEN);
    CHECK_EQ_INT(pqcoap_store_peer_add(s, &dup), PQCOAP_ERR_EXISTS);
    CHECK_EQ_INT(pqcoap_store_peer_by_id(s, dup.id, &got), PQCOAP_ERR_NOT_FOUND);
    CHECK_EQ_INT(pqcoap_store_peer_by_kid(s, b.kid, &got), PQCOAP_OK);
    CHECK(peer_equal(&got, &b));

    /* removal: both look-ups miss, a second removal too */
    CHECK_EQ_INT(pqcoap_store_peer_remove(s, b.id), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_store_peer_by_id(s, b.id, &got), PQCOAP_ERR_NOT_FOUND);
    CHECK_EQ_INT(pqcoap_store_peer_by_kid(s, b.kid, &got), PQCOAP_ERR_NOT_FOUND);
    CHECK_EQ_INT(pqcoap_store_peer_remove(s, b.id), PQCOAP_ERR_NOT_FOUND);
    memset(&ls, 0, sizeof ls);
    CHECK_EQ_INT(pqcoap_store_peer_list(s, list_cb, &ls), PQCOAP_OK);
    CHECK_EQ_INT(ls.calls, 2);
    /* the kid is free again once its peer is gone */
    CHECK_EQ_INT(pqcoap_store_peer_add(s, &dup), PQCOAP_OK);

    /* limits: 64-byte id and the largest public key round-trip */
    pqcoap_peer big;
    peer_make(5, &big);
    memset(big.id, 'x', PQCOAP_ID_MAX);
    big.id[PQCOAP_ID_MAX] = '\0';
    big.pk_len = PQCOAP_PK_MAX;
    for (size_t k = 0; k < big.pk_len; k++)
        big.pk[k] = (uint8_t)(k * 13 + 1);
    CHECK_EQ_INT(pqcoap_store_peer_add(s, &big), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_store_peer_by_id(s, big.id, &got), PQCOAP_OK);
    CHECK(peer_equal(&got, &big));
}

static void test_peer_args(const pqcoap_store *s)
{
    pqcoap_peer p, got;
    char long_id[PQCOAP_ID_MAX + 2];
    memset(long_id, 'y', PQCOAP_ID_MAX + 1);
    long_id[PQCOAP_ID_MAX + 1] = '\0';

    peer_make(3, &p);
    p.id[0] = '\0';
    CHECK_EQ_INT(pqcoap_store_peer_add(s, &p), PQCOAP_ERR_ARG);
    peer_make(3, &p);
    memset(p.id, 'z', sizeof p.id);           /* not NUL-terminated */
    CHECK_EQ_INT(pqcoap_store_peer_add(s, &p), PQCOAP_ERR_ARG);
    peer_make(3, &p);
    memset(p.alg, 'a', sizeof p.alg);
    CHECK_EQ_INT(pqcoap_store_peer_add(s, &p), PQCOAP_ERR_ARG);
    peer_make(3, &p);
    p.alg[0] = '\0';
    CHECK_EQ_INT(pqcoap_store_peer_add(s, &p), PQCOAP_ERR_ARG);
    peer_make(3, &p);
    p.pk_len = 0;
    CHECK_EQ_INT(pqcoap_store_peer_add(s, &p), PQCOAP_ERR_ARG);
    p.pk_len = PQCOAP_PK_MAX + 1;
    CHECK_EQ_INT(pqcoap_store_peer_add(s, &p), PQCOAP_ERR_ARG);
    peer_make(3, &p);
    p.usage = (pqcoap_key_usage)2;            /* no such usage */
    CHECK_EQ_INT(pqcoap_store_peer_add(s, &p), PQCOAP_ERR_ARG);
    CHECK_EQ_INT(pqcoap_store_peer_add(s, NULL), PQCOAP_ERR_ARG);
    CHECK_EQ_INT(pqcoap_store_peer_by_id(s, "peer-00003", &got), PQCOAP_ERR_NOT_FOUND);

    CHECK_EQ_INT(pqcoap_store_peer_by_id(s, "", &got), PQCOAP_ERR_ARG);
    CHECK_EQ_INT(pqcoap_store_peer_by_id(s, long_id, &got), PQCOAP_ERR_ARG);
    CHECK_EQ_INT(pqcoap_store_peer_by_id(s, NULL, &got), PQCOAP_ERR_ARG);
    CHECK_EQ_INT(pqcoap_store_peer_by_id(s, "a", NULL), PQCOAP_ERR_ARG);
    CHECK_EQ_INT(pqcoap_store_peer_by_kid(s, NULL, &got), PQCOAP_ERR_ARG);
    CHECK_EQ_INT(pqcoap_store_peer_remove(s, long_id), PQCOAP_ERR_ARG);
    CHECK_EQ_INT(pqcoap_store_peer_list(s, NULL, NULL), PQCOAP_ERR_ARG);

    pqcoap_store none = {0};
    CHECK_EQ_INT(pqcoap_store_peer_by_id(&none, "a", &got), PQCOAP_ERR_ARG);
    CHECK_EQ_INT(pqcoap_store_peer_by_id(NULL, "a", &got), PQCOAP_ERR_ARG);
    pqcoap_store_close(&none);                /* a zeroed store is accepted */
    pqcoap_store_close(NULL);
}

static void test_floors(const pqcoap_store *s)
{
    pqcoap_floor f = {0}, got;
    CHECK_EQ_INT(pqcoap_store_floor_get(s, "client-1", &got), PQCOAP_ERR_NOT_FOUND);
    f.session_seq = 5;
    memset(f.init_hash, 0x11, sizeof f.init_hash);
    CHECK_EQ_INT(pqcoap_store_floor_set(s, "client-1", &f), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_store_floor_get(s, "client-1", &got), PQCOAP_OK);
    CHECK_EQ_INT(got.session_seq, 5);
    CHECK_MEM(got.init_hash, f.init_hash, sizeof f.init_hash);
    CHECK_EQ_INT(pqcoap_store_floor_get(s, "client-2", &got), PQCOAP_ERR_NOT_FOUND);

    /* set replaces; the full unsigned 64-bit range round-trips */
    f.session_seq = UINT64_MAX;
    memset(f.init_hash, 0x22, sizeof f.init_hash);
    CHECK_EQ_INT(pqcoap_store_floor_set(s, "client-1", &f), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_store_floor_get(s, "client-1", &got), PQCOAP_OK);
    CHECK(got.session_seq == UINT64_MAX);
    CHECK_MEM(got.init_hash, f.init_hash, sizeof f.init_hash);

    CHECK_EQ_INT(pqcoap_store_floor_set(s, "", &f), PQCOAP_ERR_ARG);
    CHECK_EQ_INT(pqcoap_store_floor_set(s, "c", NULL), PQCOAP_ERR_ARG);
    CHECK_EQ_INT(pqcoap_store_floor_get(s, "c", NULL), PQCOAP_ERR_ARG);
}

static void test_counters(const pqcoap_store *s)
{
    uint64_t first = 0, next = 0;
    CHECK_EQ_INT(pqcoap_store_seq_peek(s, "a", &next), PQCOAP_OK);
    CHECK_EQ_INT(next, 1);
    CHECK_EQ_INT(pqcoap_store_seq_reserve(s, "a", 5, &first), PQCOAP_OK);
    CHECK_EQ_INT(first, 1);
    CHECK_EQ_INT(pqcoap_store_seq_reserve(s, "a", 3, &first), PQCOAP_OK);
    CHECK_EQ_INT(first, 6);
    CHECK_EQ_INT(pqcoap_store_seq_peek(s, "a", &next), PQCOAP_OK);
    CHECK_EQ_INT(next, 9);
    CHECK_EQ_INT(pqcoap_store_seq_reserve(s, "b", 1, &first), PQCOAP_OK);
    CHECK_EQ_INT(first, 1);

    /* up to the limit, then PQCOAP_ERR_LIMIT and no change */
    CHECK_EQ_INT(pqcoap_store_seq_reserve(s, "top", PQCOAP_SEQ_LIMIT - 1, &first), PQCOAP_OK);
    CHECK_EQ_INT(first, 1);
    first = 77;
    CHECK_EQ_INT(pqcoap_store_seq_reserve(s, "top", 1, &first), PQCOAP_ERR_LIMIT);
    CHECK_EQ_INT(first, 77);
    CHECK_EQ_INT(pqcoap_store_seq_reserve(s, "b", UINT64_MAX, &first), PQCOAP_ERR_LIMIT);
    CHECK_EQ_INT(pqcoap_store_seq_peek(s, "top", &next), PQCOAP_OK);
    CHECK(next == PQCOAP_SEQ_LIMIT);

    CHECK_EQ_INT(pqcoap_store_seq_reserve(s, "a", 0, &first), PQCOAP_ERR_ARG);
    CHECK_EQ_INT(pqcoap_store_seq_reserve(s, "", 1, &first), PQCOAP_ERR_ARG);
    CHECK_EQ_INT(pqcoap_store_seq_reserve(s, "a", 1, NULL), PQCOAP_ERR_ARG);
    CHECK_EQ_INT(pqcoap_store_seq_peek(s, "a", NULL), PQCOAP_ERR_ARG);
}

static void test_seq_counter(const pqcoap_store *s)
{
    pqcoap_seq_counter c;
    uint64_t v = 0, next = 0;
    int in_order = 1;
    CHECK_EQ_INT(pqcoap_seq_counter_init(&c, s, "sender", 4), PQCOAP_OK);
    /* nothing is reserved before the first number is asked for */
    CHECK_EQ_INT(pqcoap_store_seq_peek(s, "sender", &next), PQCOAP_OK);
    CHECK_EQ_INT(next, 1);
    for (uint64_t want = 1; want <= 10; want++) {
        CHECK_EQ_INT(pqcoap_seq_next(&c, &v), PQCOAP_OK);
        in_order &= v == want;
    }
    CHECK(in_order);
    /* three blocks of 4 were reserved ahead: 1-4, 5-8, 9-12 */
    CHECK_EQ_INT(pqcoap_store_seq_peek(s, "sender", &next), PQCOAP_OK);
    CHECK_EQ_INT(next, 13);

    /* a second counter on the same name (a restart) skips what the first reserved */
    pqcoap_seq_counter c2;
    CHECK_EQ_INT(pqcoap_seq_counter_init(&c2, s, "sender", 4), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_seq_next(&c2, &v), PQCOAP_OK);
    CHECK_EQ_INT(v, 13);
    CHECK_EQ_INT(pqcoap_seq_next(&c, &v), PQCOAP_OK);
    CHECK_EQ_INT(v, 11);

    /* an exhausted counter reports the limit and hands nothing out */
    CHECK_EQ_INT(pqcoap_seq_counter_init(&c, s, "top", 1), PQCOAP_OK);
    v = 5;
    CHECK_EQ_INT(pqcoap_seq_next(&c, &v), PQCOAP_ERR_LIMIT);
    CHECK_EQ_INT(v, 5);

    CHECK_EQ_INT(pqcoap_seq_counter_init(&c, s, "x", 0), PQCOAP_ERR_ARG);
    CHECK_EQ_INT(pqcoap_seq_counter_init(&c, s, "", 1), PQCOAP_ERR_ARG);
    CHECK_EQ_INT(pqcoap_seq_counter_init(&c, NULL, "x", 1), PQCOAP_ERR_ARG);
    CHECK_EQ_INT(pqcoap_seq_next(&c2, NULL), PQCOAP_ERR_ARG);
}

static void run_all(const pqcoap_store *s)
{
    test_peers(s);
    test_peer_args(s);
    test_floors(s);
    test_counters(s);
    test_seq_counter(s);
}

int main(void)
{
    pqcoap_store s;
    CHECK_EQ_INT(pqcoap_store_open_memory(NULL), PQCOAP_ERR_ARG);
    CHECK_EQ_INT(pqcoap_store_open_memory(&s), PQCOAP_OK);
    run_all(&s);
    pqcoap_store_close(&s);
    CHECK(s.ops == NULL && s.ctx == NULL);

    char dir[256], path[300];
    tmpdir_make(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/endpoint.db", dir);
    CHECK_EQ_INT(pqcoap_store_open_sqlite(path, &s), PQCOAP_OK);
    if (s.ops) {
        run_all(&s);
        pqcoap_store_close(&s);
    }
    CHECK_EQ_INT(pqcoap_store_open_sqlite(NULL, &s), PQCOAP_ERR_ARG);
    CHECK_EQ_INT(pqcoap_store_open_sqlite(path, NULL), PQCOAP_ERR_ARG);
    tmpdir_remove(dir);
    return check_done();
}

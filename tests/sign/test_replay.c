/* Tests of the Mode A v2 replay window and its per-kid table (no crypto). */
#include "check.h"
#include "pqcoap/replay.h"

/* Accepts seq in w the way a verifier does: check, then update. */
static int accept(pqcoap_replay_window *w, uint64_t seq)
{
    if (pqcoap_replay_check(w, seq) != PQCOAP_OK)
        return 0;
    return pqcoap_replay_update(w, seq) == PQCOAP_OK;
}

static void test_window(void)
{
    pqcoap_replay_window w = PQCOAP_REPLAY_WINDOW_INIT;
    /* An empty window accepts anything once, including 0. */
    CHECK(accept(&w, 0));
    CHECK(!accept(&w, 0));
    CHECK(accept(&w, 100));
    CHECK(!accept(&w, 100));
    /* Out of order inside the window: each accepted exactly once. */
    for (uint64_t s = 99; s > 37; s--) {
        CHECK(accept(&w, s));
        CHECK_EQ_INT(pqcoap_replay_check(&w, s), PQCOAP_ERR_REPLAY);
    }
    /* 37 = 100 - 63 is the lowest in the window; 36 is below it. */
    CHECK(accept(&w, 37));
    CHECK_EQ_INT(pqcoap_replay_check(&w, 36), PQCOAP_ERR_REPLAY);
    CHECK_EQ_INT(pqcoap_replay_update(&w, 36), PQCOAP_ERR_REPLAY);
    CHECK_EQ_INT(w.top, 100);
    /* Sliding by a few keeps the marks of what is still inside. */
    CHECK(accept(&w, 103));
    CHECK_EQ_INT(pqcoap_replay_check(&w, 100), PQCOAP_ERR_REPLAY);
    CHECK_EQ_INT(pqcoap_replay_check(&w, 40), PQCOAP_ERR_REPLAY);  /* 103 - 63 = 40 */
    CHECK_EQ_INT(pqcoap_replay_check(&w, 39), PQCOAP_ERR_REPLAY);  /* below */
    CHECK(accept(&w, 101));
    CHECK(accept(&w, 102));
    /* A check alone changes nothing. */
    pqcoap_replay_window before = w;
    CHECK_EQ_INT(pqcoap_replay_check(&w, 500), PQCOAP_OK);
    CHECK_MEM(&before, &w, sizeof w);
    /* A jump beyond the window forgets everything below it. */
    CHECK(accept(&w, 1000));
    CHECK_EQ_INT(w.bitmap, 1);
    CHECK_EQ_INT(pqcoap_replay_check(&w, 936), PQCOAP_ERR_REPLAY);
    CHECK(accept(&w, 937));
    /* Exactly 64 ahead: the old top falls out of the window. */
    pqcoap_replay_window x = PQCOAP_REPLAY_WINDOW_INIT;
    CHECK(accept(&x, 5));
    CHECK(accept(&x, 69));
    CHECK_EQ_INT(pqcoap_replay_check(&x, 5), PQCOAP_ERR_REPLAY);
    CHECK(accept(&x, 6));
    /* Largest seq. */
    CHECK(accept(&x, UINT64_MAX));
    CHECK(!accept(&x, UINT64_MAX));
    CHECK(accept(&x, UINT64_MAX - 63));
    CHECK_EQ_INT(pqcoap_replay_check(&x, UINT64_MAX - 64), PQCOAP_ERR_REPLAY);
    CHECK_EQ_INT(pqcoap_replay_check(NULL, 1), PQCOAP_ERR_ARG);
}

static void test_table(void)
{
    pqcoap_replay_entry slots[2];
    pqcoap_replay_table t;
    const uint8_t a[8] = {1}, b[8] = {2}, c[8] = {3};
    CHECK_EQ_INT(pqcoap_replay_table_init(&t, slots, 0), PQCOAP_ERR_ARG);
    CHECK_EQ_INT(pqcoap_replay_table_init(&t, slots, 2), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_replay_table_check(&t, a, 7), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_replay_table_update(&t, a, 7), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_replay_table_check(&t, a, 7), PQCOAP_ERR_REPLAY);
    /* Windows are per kid. */
    CHECK_EQ_INT(pqcoap_replay_table_check(&t, b, 7), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_replay_table_update(&t, b, 7), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_replay_table_update(&t, b, 7), PQCOAP_ERR_REPLAY);
    CHECK_EQ_INT(pqcoap_replay_table_update(&t, a, 8), PQCOAP_OK);
    /* Full: a third kid is refused, the known ones keep working, nothing is evicted. */
    CHECK_EQ_INT(pqcoap_replay_table_check(&t, c, 1), PQCOAP_ERR_LIMIT);
    CHECK_EQ_INT(pqcoap_replay_table_update(&t, c, 1), PQCOAP_ERR_LIMIT);
    CHECK_EQ_INT(pqcoap_replay_table_check(&t, a, 7), PQCOAP_ERR_REPLAY);
    CHECK_EQ_INT(pqcoap_replay_table_check(&t, b, 8), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_replay_table_check(NULL, a, 1), PQCOAP_ERR_ARG);
}

int main(void)
{
    test_window();
    test_table();
    return check_done();
}

/* Regression tests for what fuzz_store_rows found in the SQLite store's row checks: rows
 * of other types than the store writes, in a real store file changed behind its back:
 * - a floor whose session_seq is not an INTEGER is corruption; before the fix it was read
 *   converted (REAL 42.5 as 42, TEXT 'abc' as 0: a lowered anti-rollback floor);
 * - a peer row whose columns are not of the types the store writes (id and alg TEXT, kid
 *   and pk BLOB, added INTEGER) is corruption; before the fix a BLOB id "alice" beside the
 *   TEXT one was listed twice and found by its kid as "alice" with another key than
 *   peer_by_id("alice") gives, and a TEXT kid was copied out though no look-up by kid
 *   finds it. */
#include <sqlite3.h>
#include "check.h"
#include "store/store_util.h"

static void floors(pqcoap_store *s)
{
    pqcoap_floor f;
    CHECK_EQ_INT(pqcoap_store_floor_get(s, "int", &f), PQCOAP_OK);
    CHECK_EQ_INT(f.session_seq, 42);
    CHECK_EQ_INT(pqcoap_store_floor_get(s, "real", &f), PQCOAP_ERR_STORE_CORRUPT);
    CHECK_EQ_INT(pqcoap_store_floor_get(s, "text", &f), PQCOAP_ERR_STORE_CORRUPT);
}

static pqcoap_err ignore_peer(void *arg, const pqcoap_peer *peer)
{
    (void)arg;
    (void)peer;
    return PQCOAP_OK;
}

static void peers(pqcoap_store *s)
{
    static const uint8_t kid_blob[PQCOAP_KID_LEN] = {0x4b, 2, 0, 0, 0, 0, 0, 0};
    pqcoap_peer p;
    CHECK_EQ_INT(pqcoap_store_peer_by_id(s, "alice", &p), PQCOAP_OK);
    CHECK_EQ_INT(p.pk_len, 1);
    CHECK_EQ_INT(pqcoap_store_peer_by_kid(s, kid_blob, &p), PQCOAP_ERR_STORE_CORRUPT);
    CHECK_EQ_INT(pqcoap_store_peer_by_id(s, "kid-text", &p), PQCOAP_ERR_STORE_CORRUPT);
    CHECK_EQ_INT(pqcoap_store_peer_by_id(s, "alg-blob", &p), PQCOAP_ERR_STORE_CORRUPT);
    CHECK_EQ_INT(pqcoap_store_peer_by_id(s, "pk-text", &p), PQCOAP_ERR_STORE_CORRUPT);
    CHECK_EQ_INT(pqcoap_store_peer_by_id(s, "added-real", &p), PQCOAP_ERR_STORE_CORRUPT);
    CHECK_EQ_INT(pqcoap_store_peer_list(s, ignore_peer, NULL), PQCOAP_ERR_STORE_CORRUPT);
}

/* a peer row in the columns of the table before `usage`, which takes its default */
#define PEER "INSERT INTO peers(id, alg, kid, pk, added) VALUES"

int main(void)
{
    char dir[256], path[320];
    tmpdir_make(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/store.db", dir);
    pqcoap_store s;
    CHECK_EQ_INT(pqcoap_store_open_sqlite(path, &s), PQCOAP_OK);
    /* the rows go in through the store's own SQLite connection, behind its back */
    CHECK_EQ_INT(sqlite3_exec(s.ctx,
                              "INSERT INTO floors VALUES('int', 42, zeroblob(32));"
                              "INSERT INTO floors VALUES('real', 42.5, zeroblob(32));"
                              "INSERT INTO floors VALUES('text', 'abc', zeroblob(32));"
                              PEER "('alice', 'falcon-512', x'4b01000000000000', x'01', 1);"
                              PEER "(CAST('alice' AS BLOB), 'falcon-512',"
                              " x'4b02000000000000', x'02', 1);"
                              PEER "('kid-text', 'falcon-512', 'KKKKKKKK', x'03', 1);"
                              PEER "('alg-blob', x'616c67', x'4b04000000000000', x'04', 1);"
                              PEER "('pk-text', 'falcon-512', x'4b05000000000000', 'pk', 1);"
                              PEER "('added-real', 'falcon-512', x'4b06000000000000', x'06',"
                              " 1.5);",
                              NULL, NULL, NULL),
                 SQLITE_OK);
    floors(&s);
    peers(&s);
    pqcoap_store_close(&s);
    tmpdir_remove(dir);
    return check_done();
}

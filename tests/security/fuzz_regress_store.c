/* Regression tests for what fuzz_store_rows found in the SQLite store's row checks: rows
 * of other types than the store writes, in a real store file changed behind its back:
 * - a floor whose session_seq is not an INTEGER is corruption; before the fix it was read
 *   converted (REAL 42.5 as 42, TEXT 'abc' as 0: a lowered anti-rollback floor). */
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
                              "INSERT INTO floors VALUES('text', 'abc', zeroblob(32));",
                              NULL, NULL, NULL),
                 SQLITE_OK);
    floors(&s);
    pqcoap_store_close(&s);
    tmpdir_remove(dir);
    return check_done();
}

/* The SQLite store on real files: trust entries, floors and counters survive closing and
 * reopening; a corrupt file, a file that is not SQLite, another application's database and
 * a newer schema are refused with their own error and left byte for byte unchanged. */
#include <sqlite3.h>
#include <sys/stat.h>
#include "check.h"
#include "pqcoap/store.h"
#include "store_util.h"

static char dir[256];

static void path_of(char *out, size_t cap, const char *name)
{
    snprintf(out, cap, "%s/%s", dir, name);
}

static int exists(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0;
}

static int64_t sql_int(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    int64_t v = -1;
    if (sqlite3_open(path, &db) == SQLITE_OK &&
        sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

/* Opening `path` fails with `want`, names the file in its message, and leaves every byte
 * of the file as it was. */
static void expect_refused(const char *path, pqcoap_err want)
{
    size_t before_len = 0, after_len = 0;
    unsigned char *before = file_read(path, &before_len);
    char msg[512];
    pqcoap_store s = {0};
    pqcoap_err err = pqcoap_store_open_sqlite_msg(path, msg, sizeof msg, &s);
    CHECK_EQ_INT(err, want);
    CHECK(s.ops == NULL);
    CHECK(strstr(msg, path) != NULL && strchr(msg, '\n') == NULL);
    if (err != want)
        fprintf(stderr, "  %s\n", msg);
    pqcoap_store_close(&s);
    /* the plain variant gives the same answer */
    CHECK_EQ_INT(pqcoap_store_open_sqlite(path, &s), want);
    pqcoap_store_close(&s);
    unsigned char *after = file_read(path, &after_len);
    CHECK(before && after && before_len == after_len);
    if (before && after && before_len == after_len)
        CHECK_MEM(before, after, before_len);
    free(before);
    free(after);
}

/* Makes a valid pqcoap store with enough peers to span several pages, closed (its WAL
 * checkpointed into the file). Returns the file's size. */
static size_t make_valid(const char *path)
{
    char wal[320];
    snprintf(wal, sizeof wal, "%s-wal", path);
    unlink(path);
    pqcoap_store s;
    CHECK_EQ_INT(pqcoap_store_open_sqlite(path, &s), PQCOAP_OK);
    for (unsigned i = 0; i < 24; i++) {
        pqcoap_peer p;
        peer_make(i, &p);
        CHECK_EQ_INT(pqcoap_store_peer_add(&s, &p), PQCOAP_OK);
    }
    pqcoap_store_close(&s);
    CHECK(!exists(wal));
    size_t len = 0;
    free(file_read(path, &len));
    return len;
}

/* Overwrites n bytes at off with a fixed pseudo-random pattern. */
static void garble(const char *path, size_t off, size_t n)
{
    size_t len = 0;
    unsigned char *b = file_read(path, &len);
    CHECK(b && off + n <= len);
    if (!b || off + n > len) {
        free(b);
        return;
    }
    uint32_t x = 0x9E3779B9u;
    for (size_t k = 0; k < n; k++) {
        x = x * 1664525u + 1013904223u;
        b[off + k] = (unsigned char)(x >> 24);
    }
    CHECK_EQ_INT(file_write(path, b, len), 0);
    free(b);
}

static void test_persistence(void)
{
    char path[320];
    path_of(path, sizeof path, "persist.db");
    pqcoap_store s;
    pqcoap_peer p, got;
    pqcoap_floor f = {.session_seq = 42}, fgot;
    memset(f.init_hash, 0x5A, sizeof f.init_hash);
    uint64_t first = 0;

    CHECK_EQ_INT(pqcoap_store_open_sqlite(path, &s), PQCOAP_OK);
    for (unsigned i = 0; i < 3; i++) {
        peer_make(i, &p);
        CHECK_EQ_INT(pqcoap_store_peer_add(&s, &p), PQCOAP_OK);
    }
    CHECK_EQ_INT(pqcoap_store_floor_set(&s, "client-a", &f), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_store_seq_reserve(&s, "mode-a", 100, &first), PQCOAP_OK);
    pqcoap_store_close(&s);

    /* the file is a pqcoap store in WAL mode */
    CHECK_EQ_INT(sql_int(path, "PRAGMA application_id"), 0x50514353);
    CHECK(sql_int(path, "PRAGMA user_version") >= 3); /* 2: peers.usage, 3: sign_floors */
    CHECK_EQ_INT(sql_int(path, "SELECT count(*) FROM peers"), 3);

    CHECK_EQ_INT(pqcoap_store_open_sqlite(path, &s), PQCOAP_OK);
    for (unsigned i = 0; i < 3; i++) {
        peer_make(i, &p);
        CHECK_EQ_INT(pqcoap_store_peer_by_kid(&s, p.kid, &got), PQCOAP_OK);
        CHECK(peer_intact(&got) && strcmp(got.id, p.id) == 0);
    }
    CHECK_EQ_INT(pqcoap_store_floor_get(&s, "client-a", &fgot), PQCOAP_OK);
    CHECK_EQ_INT(fgot.session_seq, 42);
    CHECK_MEM(fgot.init_hash, f.init_hash, sizeof f.init_hash);
    CHECK_EQ_INT(pqcoap_store_seq_reserve(&s, "mode-a", 1, &first), PQCOAP_OK);
    CHECK_EQ_INT(first, 101);
    peer_make(1, &p);
    CHECK_EQ_INT(pqcoap_store_peer_remove(&s, p.id), PQCOAP_OK);
    pqcoap_store_close(&s);

    /* the removal survives too */
    CHECK_EQ_INT(pqcoap_store_open_sqlite(path, &s), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_store_peer_by_id(&s, p.id, &got), PQCOAP_ERR_NOT_FOUND);
    CHECK_EQ_INT(pqcoap_store_peer_by_kid(&s, p.kid, &got), PQCOAP_ERR_NOT_FOUND);
    peer_make(2, &p);
    CHECK_EQ_INT(pqcoap_store_peer_by_id(&s, p.id, &got), PQCOAP_OK);
    pqcoap_store_close(&s);
    /* file format write/read versions 2 = WAL mode, kept in the header across opens */
    size_t len = 0;
    unsigned char *b = file_read(path, &len);
    CHECK(b && len >= 100 && b[18] == 2 && b[19] == 2);
    free(b);
}

static void test_empty_file(void)
{
    /* a zero-byte file is an empty database: it becomes a store */
    char path[320];
    path_of(path, sizeof path, "empty.db");
    CHECK_EQ_INT(file_write(path, "", 0), 0);
    pqcoap_store s;
    CHECK_EQ_INT(pqcoap_store_open_sqlite(path, &s), PQCOAP_OK);
    pqcoap_store_close(&s);
    CHECK_EQ_INT(sql_int(path, "PRAGMA application_id"), 0x50514353);
}

static void test_corrupt(void)
{
    char path[320];
    path_of(path, sizeof path, "corrupt.db");

    /* the magic string of the header */
    size_t len = make_valid(path);
    CHECK(len >= 8 * 4096);
    garble(path, 0, 16);
    expect_refused(path, PQCOAP_ERR_STORE_CORRUPT);

    /* page size, format versions and payload fractions of the header */
    make_valid(path);
    garble(path, 16, 8);
    expect_refused(path, PQCOAP_ERR_STORE_CORRUPT);

    /* the b-tree page header of page 1 (the schema table) */
    make_valid(path);
    garble(path, 100, 12);
    expect_refused(path, PQCOAP_ERR_STORE_CORRUPT);

    /* 1 KiB in the middle of the file, across a page boundary */
    len = make_valid(path);
    size_t mid = (len / 2) / 4096 * 4096;
    garble(path, mid - 512, 1024);
    expect_refused(path, PQCOAP_ERR_STORE_CORRUPT);

    /* the head of every page but the first */
    len = make_valid(path);
    for (size_t off = 4096; off + 16 <= len; off += 4096)
        garble(path, off, 16);
    expect_refused(path, PQCOAP_ERR_STORE_CORRUPT);
}

static void test_not_sqlite(void)
{
    char path[320];
    path_of(path, sizeof path, "notes.txt");
    const char *text = "This is a text file, not a database.\n"
                       "It has several lines, more than a hundred bytes in all, so that\n"
                       "SQLite reads a whole header's worth of it.\n";
    CHECK_EQ_INT(file_write(path, text, strlen(text)), 0);
    expect_refused(path, PQCOAP_ERR_STORE_CORRUPT);

    path_of(path, sizeof path, "short.txt");
    CHECK_EQ_INT(file_write(path, "hello\n", 6), 0);
    expect_refused(path, PQCOAP_ERR_STORE_CORRUPT);
}

static void test_foreign(void)
{
    char path[320];
    /* another application's tables, no application_id */
    path_of(path, sizeof path, "inventory.db");
    CHECK_EQ_INT(sql_run(path, "CREATE TABLE items(sku TEXT PRIMARY KEY, qty INTEGER);"
                               "INSERT INTO items VALUES('a-1', 3), ('b-2', 7);"), SQLITE_OK);
    expect_refused(path, PQCOAP_ERR_STORE_FOREIGN);

    /* tables named like pqcoap's, but no pqcoap application_id */
    path_of(path, sizeof path, "lookalike.db");
    CHECK_EQ_INT(sql_run(path, "CREATE TABLE peers(id TEXT);"), SQLITE_OK);
    expect_refused(path, PQCOAP_ERR_STORE_FOREIGN);

    /* another application_id, no tables at all */
    path_of(path, sizeof path, "other-app.db");
    CHECK_EQ_INT(sql_run(path, "PRAGMA application_id = 305419896;"), SQLITE_OK);
    expect_refused(path, PQCOAP_ERR_STORE_FOREIGN);

    /* another application in WAL mode with tables and its own id */
    path_of(path, sizeof path, "other-wal.db");
    CHECK_EQ_INT(sql_run(path, "PRAGMA journal_mode = WAL; PRAGMA application_id = 7;"
                               "CREATE TABLE t(x); INSERT INTO t VALUES(1);"), SQLITE_OK);
    expect_refused(path, PQCOAP_ERR_STORE_FOREIGN);
}

static void test_newer(void)
{
    char path[320];
    path_of(path, sizeof path, "newer.db");
    make_valid(path);
    long long current = sql_int(path, "PRAGMA user_version");
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA user_version = %lld;", current + 1);
    CHECK_EQ_INT(sql_run(path, sql), SQLITE_OK);
    expect_refused(path, PQCOAP_ERR_STORE_NEWER);
    /* an older library's file is still fine once the version is back */
    snprintf(sql, sizeof sql, "PRAGMA user_version = %lld;", current);
    CHECK_EQ_INT(sql_run(path, sql), SQLITE_OK);
    pqcoap_store s;
    CHECK_EQ_INT(pqcoap_store_open_sqlite(path, &s), PQCOAP_OK);
    pqcoap_store_close(&s);
}

static pqcoap_err ignore_peer(void *arg, const pqcoap_peer *peer)
{
    (void)arg;
    (void)peer;
    return PQCOAP_OK;
}

static void test_bad_rows(void)
{
    /* rows written behind pqcoap's back that do not fit its types are reported as
     * corruption, not copied out */
    char path[320];
    path_of(path, sizeof path, "rows.db");
    make_valid(path);
    CHECK_EQ_INT(sql_run(path, "INSERT INTO peers(id, alg, kid, pk, added)"
                               " VALUES('short-kid', 'falcon-512', x'0102', x'00', 0);"
                               "INSERT INTO floors VALUES('c', 1, x'0102');"
                               "INSERT INTO counters VALUES('n', 'abc');"
                               "INSERT INTO counters VALUES('z', 0);"), SQLITE_OK);
    pqcoap_store s;
    pqcoap_peer got;
    pqcoap_floor f;
    uint64_t next;
    CHECK_EQ_INT(pqcoap_store_open_sqlite(path, &s), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_store_peer_by_id(&s, "short-kid", &got), PQCOAP_ERR_STORE_CORRUPT);
    CHECK_EQ_INT(pqcoap_store_peer_list(&s, ignore_peer, NULL), PQCOAP_ERR_STORE_CORRUPT);
    CHECK_EQ_INT(pqcoap_store_peer_by_id(&s, "peer-00003", &got), PQCOAP_OK);
    CHECK(peer_intact(&got));
    CHECK_EQ_INT(pqcoap_store_floor_get(&s, "c", &f), PQCOAP_ERR_STORE_CORRUPT);
    CHECK_EQ_INT(pqcoap_store_seq_peek(&s, "n", &next), PQCOAP_ERR_STORE_CORRUPT);
    CHECK_EQ_INT(pqcoap_store_seq_reserve(&s, "z", 1, &next), PQCOAP_ERR_STORE_CORRUPT);
    pqcoap_store_close(&s);
}

static void test_cannot_open(void)
{
    char path[320], msg[512];
    path_of(path, sizeof path, "no-such-folder/x.db");
    pqcoap_store s;
    CHECK_EQ_INT(pqcoap_store_open_sqlite_msg(path, msg, sizeof msg, &s), PQCOAP_ERR_STORE);
    CHECK(strstr(msg, path) != NULL);
    CHECK(!exists(path));
    /* a tiny message buffer is truncated, still terminated */
    CHECK_EQ_INT(pqcoap_store_open_sqlite_msg(path, msg, 4, &s), PQCOAP_ERR_STORE);
    CHECK_EQ_INT(strlen(msg), 3);
    CHECK_EQ_INT(pqcoap_store_open_sqlite_msg(path, NULL, 8, &s), PQCOAP_ERR_ARG);
}

int main(void)
{
    tmpdir_make(dir, sizeof dir);
    test_persistence();
    test_empty_file();
    test_corrupt();
    test_not_sqlite();
    test_foreign();
    test_newer();
    test_bad_rows();
    test_cannot_open();
    tmpdir_remove(dir);
    return check_done();
}

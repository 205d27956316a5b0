/* libFuzzer target: the SQLite store's row decoding (src/store/sqlite.c). A real store file
 * is made once per process; each input replaces its rows with rows of any SQLite type and
 * value, written through sqlite3 as a damaged or tampered file would hold them, and reads
 * them back through the store: peer_list, peer_by_id, peer_by_kid, floor_get, seq_peek and
 * seq_reserve. Input: row*, each row
 *   u8 table (mod 3: peers, floors, counters) || one value per column of the table,
 *   value = u8 type (mod 5: NULL, INTEGER, REAL, TEXT, BLOB; bit 7: negative number)
 *           || [varint for INTEGER and REAL] || [str16 for TEXT and BLOB].
 * What is read back must be consistent: a listed peer is found by its id and by its kid
 * with the same content, the list is in id order, look-ups return what was asked for, a
 * floor and a counter are the integers stored. */
#include "fuzz_common.h"
#include "pqcoap/store.h"

#include <sqlite3.h>
#include <stdio.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_NAMES 16
#define MAX_LISTED 16

static char dir[4096], file[4200];
static pqcoap_store store;
static sqlite3 *db;                 /* the store's own connection */
static sqlite3_stmt *insert[3];

static const char *const insert_sql[3] = {
    "INSERT OR IGNORE INTO peers(id, alg, kid, pk, added) VALUES(?1, ?2, ?3, ?4, ?5)",
    "INSERT OR IGNORE INTO floors(id, session_seq, init_hash) VALUES(?1, ?2, ?3)",
    "INSERT OR IGNORE INTO counters(name, next) VALUES(?1, ?2)",
};
static const int n_columns[3] = {5, 3, 2};

static void cleanup(void)
{
    for (int i = 0; i < 3; i++)
        sqlite3_finalize(insert[i]);
    pqcoap_store_close(&store);
    static const char *const suffixes[] = {"", "-wal", "-shm"};
    char p[4300];
    for (size_t i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s%s", file, suffixes[i]);
        unlink(p);
    }
    rmdir(dir);
}

static void setup(void)
{
    const char *base = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/pqcoap-fuzz-store-XXXXXX", base && base[0] ? base : "/tmp");
    if (!mkdtemp(dir))
        abort();
    snprintf(file, sizeof file, "%s/store.db", dir);
    fuzz_must(pqcoap_store_open_sqlite(file, &store));
    atexit(cleanup);
    db = store.ctx;
    /* speed only: the fuzzer needs no durability */
    if (sqlite3_exec(db, "PRAGMA synchronous=OFF", NULL, NULL, NULL) != SQLITE_OK)
        abort();
    for (int i = 0; i < 3; i++)
        if (sqlite3_prepare_v2(db, insert_sql[i], -1, &insert[i], NULL) != SQLITE_OK)
            abort();
}

/* Reads one value from r and binds it to parameter col of st. A TEXT or BLOB value of
 * 1..PQCOAP_ID_MAX bytes without NUL goes to names[] (look-ups by id and name); one of
 * PQCOAP_KID_LEN bytes to kids[] (look-ups by kid). 0 at the end of the input. */
static int bind_value(pqcoap_reader *r, sqlite3_stmt *st, int col, char names[][PQCOAP_ID_MAX + 1],
                      size_t *n_names, uint8_t kids[][PQCOAP_KID_LEN], size_t *n_kids)
{
    uint8_t type;
    uint64_t v;
    const uint8_t *p;
    size_t n;
    if (pqcoap_rd_u8(r, &type) != PQCOAP_OK)
        return 0;
    unsigned kind = (type & 0x7fu) % 5;
    if (kind == 0) {
        sqlite3_bind_null(st, col);
        return 1;
    }
    if (kind <= 2) {
        if (pqcoap_rd_varint(r, &v) != PQCOAP_OK)
            return 0;
        int64_t i = (type & 0x80) ? -(int64_t)v : (int64_t)v;
        if (kind == 1)
            sqlite3_bind_int64(st, col, i);
        else
            sqlite3_bind_double(st, col, (double)i / 8);
        return 1;
    }
    if (pqcoap_rd_str16(r, &p, &n) != PQCOAP_OK)
        return 0;
    if (kind == 3)
        sqlite3_bind_text(st, col, n ? (const char *)p : "", (int)n, SQLITE_STATIC);
    else
        sqlite3_bind_blob(st, col, n ? p : (const void *)"", (int)n, SQLITE_STATIC);
    if (n >= 1 && n <= PQCOAP_ID_MAX && !memchr(p, '\0', n) && *n_names < MAX_NAMES) {
        memcpy(names[*n_names], p, n);
        names[(*n_names)++][n] = '\0';
    }
    if (n == PQCOAP_KID_LEN && *n_kids < MAX_NAMES)
        memcpy(kids[(*n_kids)++], p, n);
    return 1;
}

/* A peer as the store hands it out: every field within its bounds and NUL-terminated. */
static void check_shape(const pqcoap_peer *p)
{
    size_t id_len = strnlen(p->id, sizeof p->id), alg_len = strnlen(p->alg, sizeof p->alg);
    if (id_len < 1 || id_len > PQCOAP_ID_MAX || alg_len < 1 || alg_len == sizeof p->alg ||
        p->pk_len < 1 || p->pk_len > PQCOAP_PK_MAX)
        __builtin_trap();
}

typedef struct listed {
    pqcoap_peer peers[MAX_LISTED];
    size_t n;
} listed;

static pqcoap_err on_peer(void *arg, const pqcoap_peer *peer)
{
    listed *l = arg;
    check_shape(peer);
    if (l->n < MAX_LISTED)
        l->peers[l->n++] = *peer;
    return PQCOAP_OK;
}

/* SELECT of one integer column of `table` for key `name`: 1 if there is a row whose value
 * is an INTEGER, with it in *v; 0 if the row holds another type; -1 if there is no row. */
static int stored_int(const char *sql, const char *name, int64_t *v)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        abort();
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st), res = -1;
    if (rc == SQLITE_ROW) {
        res = sqlite3_column_type(st, 0) == SQLITE_INTEGER;
        *v = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    return res;
}

static void check_lookups(char names[][PQCOAP_ID_MAX + 1], size_t n_names,
                          uint8_t kids[][PQCOAP_KID_LEN], size_t n_kids)
{
    pqcoap_peer p, q;
    pqcoap_floor f;
    uint64_t next, first, after;
    int64_t v;
    for (size_t i = 0; i < n_names; i++) {
        const char *name = names[i];
        if (pqcoap_store_peer_by_id(&store, name, &p) == PQCOAP_OK) {
            check_shape(&p);
            if (strcmp(p.id, name) != 0)
                __builtin_trap();
        }
        if (pqcoap_store_floor_get(&store, name, &f) == PQCOAP_OK &&
            (stored_int("SELECT session_seq FROM floors WHERE id = ?1", name, &v) != 1 ||
             f.session_seq != (uint64_t)v))
            __builtin_trap();
        if (pqcoap_store_seq_peek(&store, name, &next) == PQCOAP_OK) {
            int has = stored_int("SELECT next FROM counters WHERE name = ?1", name, &v);
            if (has == 0 || (has == 1 && (v < 1 || next != (uint64_t)v)) ||
                (has == -1 && next != 1))
                __builtin_trap();
            /* a reservation starts at the peeked value and moves the counter past it */
            pqcoap_err err = pqcoap_store_seq_reserve(&store, name, 1, &first);
            if ((err == PQCOAP_OK &&
                 (first != next || pqcoap_store_seq_peek(&store, name, &after) != PQCOAP_OK ||
                  after != next + 1)) ||
                (err == PQCOAP_ERR_LIMIT && next < PQCOAP_SEQ_LIMIT))
                __builtin_trap();
        }
    }
    for (size_t i = 0; i < n_kids; i++) {
        if (pqcoap_store_peer_by_kid(&store, kids[i], &p) == PQCOAP_OK) {
            check_shape(&p);
            if (memcmp(p.kid, kids[i], PQCOAP_KID_LEN) != 0)
                __builtin_trap();
        }
    }
    /* every listed peer, in id order, is the one its id and its kid find */
    listed *l = malloc(sizeof *l);
    if (!l)
        abort();
    l->n = 0;
    if (pqcoap_store_peer_list(&store, on_peer, l) == PQCOAP_OK) {
        for (size_t i = 0; i < l->n; i++) {
            const pqcoap_peer *lp = &l->peers[i];
            if ((i && strcmp(l->peers[i - 1].id, lp->id) >= 0) ||
                pqcoap_store_peer_by_id(&store, lp->id, &p) != PQCOAP_OK ||
                memcmp(&p, lp, sizeof p) != 0 ||
                pqcoap_store_peer_by_kid(&store, lp->kid, &q) != PQCOAP_OK ||
                memcmp(&q, lp, sizeof q) != 0)
                __builtin_trap();
        }
    }
    free(l);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!db)
        setup();
    static char names[MAX_NAMES][PQCOAP_ID_MAX + 1];
    static uint8_t kids[MAX_NAMES][PQCOAP_KID_LEN];
    size_t n_names = 0, n_kids = 0;
    if (sqlite3_exec(db, "BEGIN; DELETE FROM peers; DELETE FROM floors; DELETE FROM counters",
                     NULL, NULL, NULL) != SQLITE_OK)
        abort();
    pqcoap_reader r;
    pqcoap_rd_init(&r, data, size);
    uint8_t table;
    while (pqcoap_rd_u8(&r, &table) == PQCOAP_OK) {
        sqlite3_stmt *st = insert[table % 3];
        int ok = 1;
        for (int col = 1; ok && col <= n_columns[table % 3]; col++)
            ok = bind_value(&r, st, col, names, &n_names, kids, &n_kids);
        if (ok)
            sqlite3_step(st); /* a row breaking NOT NULL or UNIQUE is left out */
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        if (!ok)
            break;
    }
    if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        abort();
    check_lookups(names, n_names, kids, n_kids);
    return 0;
}

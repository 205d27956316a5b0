/* SQLite store backend (pqcoap_store_open_sqlite): one database file per endpoint in WAL
 * mode with synchronous=FULL, identified by PRAGMA application_id and versioned by
 * PRAGMA user_version through a table of migration steps. docs/STORE.md describes it. */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sqlite3.h>
#include "pqcoap/store.h"
#include "store/store_internal.h"

/* PRAGMA application_id of a pqcoap store: "PQCS". */
#define PQCOAP_APP_ID 0x50514353
/* How long a connection waits for another process's lock before failing. */
#define BUSY_TIMEOUT_MS 10000

/* GLOB pattern of 16 lowercase hex digits (a kid as Mode A named it in the floors table). */
#define HEX4 "[0-9a-f][0-9a-f][0-9a-f][0-9a-f]"
#define HEX16 HEX4 HEX4 HEX4 HEX4

/* Schema migrations: step i moves user_version from i to i + 1. All pending steps run in
 * one transaction that also sets application_id and user_version. A released step is
 * never edited; a schema change is a new step. */
static const char *const migrations[] = {
    /* 1: trust store, Mode B anti-rollback floors, reserved sequence counters */
    "CREATE TABLE peers(id TEXT PRIMARY KEY NOT NULL, alg TEXT NOT NULL,"
    " kid BLOB NOT NULL UNIQUE, pk BLOB NOT NULL, added INTEGER NOT NULL);"
    "CREATE TABLE floors(id TEXT PRIMARY KEY NOT NULL, session_seq INTEGER NOT NULL,"
    " init_hash BLOB NOT NULL);"
    "CREATE TABLE counters(name TEXT PRIMARY KEY NOT NULL, next INTEGER NOT NULL);",
    /* 2: what each pinned key may be used for (pqcoap_key_usage); earlier keys are general */
    "ALTER TABLE peers ADD COLUMN usage INTEGER NOT NULL DEFAULT 0;",
    /* 3: Mode A floors apart from Mode B's (their "sign:" || hex(kid) rows move over, so a
     * Mode B initiator id of that form no longer shares them) */
    "CREATE TABLE sign_floors(kid TEXT PRIMARY KEY NOT NULL, seq INTEGER NOT NULL);"
    "INSERT INTO sign_floors(kid, seq) SELECT substr(id, 6), session_seq FROM floors"
    " WHERE id GLOB 'sign:" HEX16 "';"
    "DELETE FROM floors WHERE id GLOB 'sign:" HEX16 "';",
};
#define SCHEMA_VERSION ((int64_t)(sizeof migrations / sizeof migrations[0]))

/* Writes a formatted message into msg[cap] when the caller asked for one. */
__attribute__((format(printf, 3, 4)))
static void set_msg(char *msg, size_t cap, const char *fmt, ...)
{
    if (cap == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, cap, fmt, ap);
    va_end(ap);
}

static pqcoap_err map_rc(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_ROW:
    case SQLITE_DONE:
        return PQCOAP_OK;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
        return PQCOAP_ERR_STORE_CORRUPT;
    case SQLITE_NOMEM:
        return PQCOAP_ERR_NOMEM;
    case SQLITE_CONSTRAINT:
        /* The only constraint a checked write can break is the unique kid of peers. */
        return PQCOAP_ERR_EXISTS;
    default:
        return PQCOAP_ERR_STORE;
    }
}

static pqcoap_err exec(sqlite3 *db, const char *sql)
{
    return map_rc(sqlite3_exec(db, sql, NULL, NULL, NULL));
}

/* Ends a failed write transaction, if one is open. */
static void rollback(sqlite3 *db)
{
    if (!sqlite3_get_autocommit(db))
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
}

static pqcoap_err prepare(sqlite3 *db, const char *sql, sqlite3_stmt **st)
{
    return map_rc(sqlite3_prepare_v2(db, sql, -1, st, NULL));
}

/* The error for a step that did not end as expected (e.g. no row where one was due). */
static pqcoap_err unexpected(int rc)
{
    pqcoap_err err = map_rc(rc);
    return err ? err : PQCOAP_ERR_STORE;
}

/* Steps a write statement to its end and finalizes it. */
static pqcoap_err step_done(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? PQCOAP_OK : unexpected(rc);
}

/* Runs `sql` (a pragma or a query) and stores the first column of its first row in *v. */
static pqcoap_err query_int(sqlite3 *db, const char *sql, int64_t *v)
{
    sqlite3_stmt *st;
    pqcoap_err err = prepare(db, sql, &st);
    if (err)
        return err;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *v = sqlite3_column_int64(st, 0);
    else
        err = unexpected(rc);
    sqlite3_finalize(st);
    return err;
}

/* As query_int for a text result, copied NUL-terminated (truncated) into out[cap]. */
static pqcoap_err query_text(sqlite3 *db, const char *sql, char *out, size_t cap)
{
    sqlite3_stmt *st;
    pqcoap_err err = prepare(db, sql, &st);
    if (err)
        return err;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        const unsigned char *t = sqlite3_column_text(st, 0);
        snprintf(out, cap, "%s", t ? (const char *)t : "");
    } else {
        err = unexpected(rc);
    }
    sqlite3_finalize(st);
    return err;
}

/* SQLite integers are signed: unsigned 64-bit values are stored bit for bit. */
static int64_t u64_to_i64(uint64_t u)
{
    int64_t i;
    memcpy(&i, &u, sizeof i);
    return i;
}

static uint64_t i64_to_u64(int64_t i)
{
    uint64_t u;
    memcpy(&u, &i, sizeof u);
    return u;
}

/* ---- opening: identify the file before writing anything ---- */

typedef struct identity {
    int64_t app_id;                 /* PRAGMA application_id */
    int64_t version;                /* PRAGMA user_version */
    int64_t objects;                /* tables, indexes, views, triggers not SQLite's own */
} identity;

static pqcoap_err read_identity(sqlite3 *db, identity *id)
{
    pqcoap_err err = query_int(db, "PRAGMA application_id", &id->app_id);
    if (!err)
        err = query_int(db, "PRAGMA user_version", &id->version);
    if (!err)
        err = query_int(db, "SELECT count(*) FROM sqlite_master"
                            " WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\'", &id->objects);
    return err;
}

/* Decides from the header fields whose file this is: an empty database (*version = 0), a
 * pqcoap store of schema *version, or an error. */
static pqcoap_err classify(const identity *id, const char *path, char *msg, size_t cap,
                           int64_t *version)
{
    if (id->app_id != PQCOAP_APP_ID) {
        if (id->app_id == 0 && id->version == 0 && id->objects == 0) {
            *version = 0;
            return PQCOAP_OK;
        }
        if (id->app_id != 0)
            set_msg(msg, cap, "%s: SQLite database of another application"
                    " (application_id 0x%08x), not a pqcoap store", path,
                    (unsigned)(uint32_t)id->app_id);
        else
            set_msg(msg, cap, "%s: SQLite database without the pqcoap application_id"
                    " (another application's), not a pqcoap store", path);
        return PQCOAP_ERR_STORE_FOREIGN;
    }
    if (id->version < 1) {
        set_msg(msg, cap, "%s: pqcoap store with invalid schema version %lld", path,
                (long long)id->version);
        return PQCOAP_ERR_STORE_CORRUPT;
    }
    if (id->version > SCHEMA_VERSION) {
        set_msg(msg, cap, "%s: pqcoap store schema version %lld is newer than this pqcoap"
                " (up to %lld): upgrade pqcoap", path, (long long)id->version,
                (long long)SCHEMA_VERSION);
        return PQCOAP_ERR_STORE_NEWER;
    }
    *version = id->version;
    return PQCOAP_OK;
}

/* Structural check of every page (read only), so that damage is reported before the file
 * is written to rather than half-way through an operation. */
static pqcoap_err check_structure(sqlite3 *db, const char *path, char *msg, size_t cap)
{
    char res[160];
    pqcoap_err err = query_text(db, "PRAGMA quick_check(1)", res, sizeof res);
    if (!err && strcmp(res, "ok") != 0) {
        for (char *c = res; *c; c++)        /* the message is one line */
            if ((unsigned char)*c < 0x20)
                *c = ' ';
        set_msg(msg, cap, "%s: pqcoap store is corrupt (%s)", path, res);
        err = PQCOAP_ERR_STORE_CORRUPT;
    }
    return err;
}

/* Brings an empty or older file to SCHEMA_VERSION, deciding again under the write lock in
 * case another process opened the same file at the same time. */
static pqcoap_err migrate(sqlite3 *db, const char *path, char *msg, size_t cap)
{
    pqcoap_err err = exec(db, "BEGIN IMMEDIATE");
    if (err)
        return err;
    identity id;
    int64_t version = 0;
    err = read_identity(db, &id);
    if (!err)
        err = classify(&id, path, msg, cap, &version);
    for (int64_t v = version; !err && v < SCHEMA_VERSION; v++)
        err = exec(db, migrations[v]);
    if (!err && version < SCHEMA_VERSION) {
        char sql[80];
        snprintf(sql, sizeof sql, "PRAGMA application_id=%d; PRAGMA user_version=%lld",
                 PQCOAP_APP_ID, (long long)SCHEMA_VERSION);
        err = exec(db, sql);
    }
    if (!err)
        err = exec(db, "COMMIT");
    if (err)
        rollback(db);
    return err;
}

/* fsyncs the folder holding `path`, so that a newly created file's name survives a power
 * loss (SQLite syncs the folder for its journals, not for the database file). */
static pqcoap_err sync_parent_dir(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir = slash == NULL ? strdup(".")
              : slash == path ? strdup("/")
              : strndup(path, (size_t)(slash - path));
    if (!dir)
        return PQCOAP_ERR_NOMEM;
    pqcoap_err err = PQCOAP_ERR_STORE;
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
        if (fsync(fd) == 0)
            err = PQCOAP_OK;
        close(fd);
    }
    free(dir);
    return err;
}

/* Reads only: decides whether the file is an intact pqcoap store (*version >= 1) or an
 * empty database (*version = 0). One read transaction, so that the header fields and the
 * schema come from one snapshot even while another process is creating the file. */
static pqcoap_err inspect(sqlite3 *db, const char *path, char *msg, size_t cap,
                          int64_t *version)
{
    identity id;
    pqcoap_err err = exec(db, "BEGIN");
    if (!err)
        err = read_identity(db, &id);
    if (!err)
        err = classify(&id, path, msg, cap, version);
    if (!err && *version > 0)
        err = check_structure(db, path, msg, cap);
    if (!err)
        err = exec(db, "COMMIT");
    if (err)
        rollback(db);
    return err;
}

/* Puts the file in WAL mode, which lets a reader process and a writer work side by side.
 * Switching a file to WAL needs every other connection to be idle and SQLite reports
 * SQLITE_BUSY at once rather than through the busy handler, so this retries for up to the
 * busy timeout (only when several processes create the same file at once). */
static pqcoap_err use_wal(sqlite3 *db, const char *path, char *msg, size_t cap)
{
    char mode[16] = "";
    int rc = SQLITE_BUSY;
    for (int waited = 0; (rc & 0xff) == SQLITE_BUSY && waited <= BUSY_TIMEOUT_MS;
         waited += 10) {
        if (waited)
            sqlite3_sleep(10);
        sqlite3_stmt *st = NULL;
        rc = sqlite3_prepare_v2(db, "PRAGMA journal_mode=WAL", -1, &st, NULL);
        if (rc == SQLITE_OK)
            rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            const unsigned char *t = sqlite3_column_text(st, 0);
            snprintf(mode, sizeof mode, "%s", t ? (const char *)t : "");
        }
        sqlite3_finalize(st);
    }
    if (rc != SQLITE_ROW)
        return unexpected(rc);
    if (strcmp(mode, "wal") != 0) {
        set_msg(msg, cap, "%s: cannot use WAL journal mode (journal_mode is %s)", path, mode);
        return PQCOAP_ERR_STORE;
    }
    return PQCOAP_OK;
}

static const pqcoap_store_ops sq_ops;

pqcoap_err pqcoap_store_open_sqlite_msg(const char *path, char *msg, size_t msg_cap,
                                        pqcoap_store *out)
{
    if (msg_cap && !msg)
        return PQCOAP_ERR_ARG;
    if (msg_cap)
        msg[0] = '\0';
    if (!path || !path[0] || !out) {
        set_msg(msg, msg_cap, "store: no file name given");
        return PQCOAP_ERR_ARG;
    }
    struct stat sb;
    int existed = stat(path, &sb) == 0;
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    pqcoap_err err = map_rc(rc);
    if (!err) {
        sqlite3_busy_timeout(db, BUSY_TIMEOUT_MS);
        sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, (int *)NULL);
    }
    /* Nothing is written to the file before inspect() has accepted it. */
    int64_t version = 0;
    if (!err)
        err = inspect(db, path, msg, msg_cap, &version);
    /* Ours from here on. synchronous=FULL makes every commit (floors, reservations)
     * durable before it returns. */
    if (!err)
        err = use_wal(db, path, msg, msg_cap);
    if (!err)
        err = exec(db, "PRAGMA synchronous=FULL");
    if (!err && version < SCHEMA_VERSION)
        err = migrate(db, path, msg, msg_cap);
    if (!err && !existed)
        err = sync_parent_dir(path);
    if (err) {
        if (msg_cap && !msg[0])
            set_msg(msg, msg_cap, "%s: %s (%s)", path, pqcoap_strerror(err),
                    db ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_close(db);
        return err;
    }
    out->ops = &sq_ops;
    out->ctx = db;
    return PQCOAP_OK;
}

pqcoap_err pqcoap_store_open_sqlite(const char *path, pqcoap_store *out)
{
    return pqcoap_store_open_sqlite_msg(path, NULL, 0, out);
}

/* ---- operations ---- */

#define PEER_COLUMNS "SELECT id, alg, kid, pk, added, usage FROM peers"

/* The SQLite type of each column of PEER_COLUMNS as the store writes it. */
static const int peer_types[] = {SQLITE_TEXT, SQLITE_TEXT, SQLITE_BLOB, SQLITE_BLOB,
                                 SQLITE_INTEGER};

/* Copies a row of PEER_COLUMNS into *out, checking each column's type and shape: a row
 * that does not fit a pqcoap_peer is reported as corruption. A value of another type is
 * never converted: a BLOB id or a TEXT kid is not what a look-up by id or kid matches. */
static pqcoap_err row_to_peer(sqlite3_stmt *st, pqcoap_peer *out)
{
    for (int col = 0; col < (int)(sizeof peer_types / sizeof peer_types[0]); col++)
        if (sqlite3_column_type(st, col) != peer_types[col])
            return PQCOAP_ERR_STORE_CORRUPT;
    const unsigned char *id = sqlite3_column_text(st, 0);
    int id_len = sqlite3_column_bytes(st, 0);
    const unsigned char *alg = sqlite3_column_text(st, 1);
    int alg_len = sqlite3_column_bytes(st, 1);
    const void *kid = sqlite3_column_blob(st, 2);
    int kid_len = sqlite3_column_bytes(st, 2);
    const void *pk = sqlite3_column_blob(st, 3);
    int pk_len = sqlite3_column_bytes(st, 3);
    int64_t usage = sqlite3_column_int64(st, 5);
    if (sqlite3_column_type(st, 5) != SQLITE_INTEGER ||
        (usage != PQCOAP_USAGE_GENERAL && usage != PQCOAP_USAGE_SIGN_V1))
        return PQCOAP_ERR_STORE_CORRUPT;
    if (!id || id_len < 1 || id_len > PQCOAP_ID_MAX || memchr(id, '\0', (size_t)id_len) ||
        !alg || alg_len < 1 || (size_t)alg_len >= sizeof out->alg ||
        memchr(alg, '\0', (size_t)alg_len) || !kid || kid_len != PQCOAP_KID_LEN || !pk ||
        pk_len < 1 || pk_len > PQCOAP_PK_MAX)
        return PQCOAP_ERR_STORE_CORRUPT;
    memset(out, 0, sizeof *out);
    memcpy(out->id, id, (size_t)id_len);
    memcpy(out->alg, alg, (size_t)alg_len);
    memcpy(out->kid, kid, PQCOAP_KID_LEN);
    memcpy(out->pk, pk, (size_t)pk_len);
    out->pk_len = (size_t)pk_len;
    out->added_s = sqlite3_column_int64(st, 4);
    out->usage = (pqcoap_key_usage)usage;
    return PQCOAP_OK;
}

/* Steps a look-up of at most one peer and finalizes it. */
static pqcoap_err fetch_peer(sqlite3_stmt *st, int rc, pqcoap_peer *out)
{
    pqcoap_err err = map_rc(rc);
    if (!err) {
        rc = sqlite3_step(st);
        err = rc == SQLITE_ROW ? row_to_peer(st, out)
            : rc == SQLITE_DONE ? PQCOAP_ERR_NOT_FOUND : map_rc(rc);
    }
    sqlite3_finalize(st);
    return err;
}

static pqcoap_err sq_peer_add(void *ctx, const pqcoap_peer *peer)
{
    sqlite3_stmt *st;
    pqcoap_err err = prepare(ctx,
        "INSERT INTO peers(id, alg, kid, pk, added, usage) VALUES(?1, ?2, ?3, ?4, ?5, ?6)"
        " ON CONFLICT(id) DO UPDATE SET alg = excluded.alg, kid = excluded.kid,"
        " pk = excluded.pk, added = excluded.added, usage = excluded.usage", &st);
    if (err)
        return err;
    int rc = sqlite3_bind_text(st, 1, peer->id, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(st, 2, peer->alg, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_blob(st, 3, peer->kid, PQCOAP_KID_LEN, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_blob(st, 4, peer->pk, (int)peer->pk_len, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 5, peer->added_s);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int(st, 6, (int)peer->usage);
    if (rc != SQLITE_OK) {
        sqlite3_finalize(st);
        return map_rc(rc);
    }
    return step_done(st);
}

static pqcoap_err sq_peer_remove(void *ctx, const char *id)
{
    sqlite3_stmt *st;
    pqcoap_err err = prepare(ctx, "DELETE FROM peers WHERE id = ?1", &st);
    if (err)
        return err;
    int rc = sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    if (rc != SQLITE_OK) {
        sqlite3_finalize(st);
        return map_rc(rc);
    }
    err = step_done(st);
    if (!err && sqlite3_changes(ctx) == 0)
        err = PQCOAP_ERR_NOT_FOUND;
    return err;
}

static pqcoap_err sq_peer_by_id(void *ctx, const char *id, pqcoap_peer *out)
{
    sqlite3_stmt *st;
    pqcoap_err err = prepare(ctx, PEER_COLUMNS " WHERE id = ?1", &st);
    if (err)
        return err;
    return fetch_peer(st, sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC), out);
}

static pqcoap_err sq_peer_by_kid(void *ctx, const uint8_t kid[PQCOAP_KID_LEN],
                                 pqcoap_peer *out)
{
    sqlite3_stmt *st;
    pqcoap_err err = prepare(ctx, PEER_COLUMNS " WHERE kid = ?1", &st);
    if (err)
        return err;
    return fetch_peer(st, sqlite3_bind_blob(st, 1, kid, PQCOAP_KID_LEN, SQLITE_STATIC), out);
}

static pqcoap_err sq_peer_list(void *ctx, pqcoap_err (*cb)(void *arg, const pqcoap_peer *peer),
                               void *arg)
{
    sqlite3_stmt *st;
    /* One statement reads one snapshot: a concurrent writer's changes are all or nothing. */
    pqcoap_err err = prepare(ctx, PEER_COLUMNS " ORDER BY id", &st);
    if (err)
        return err;
    pqcoap_peer peer;
    int rc = SQLITE_DONE;
    while (!err && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        err = row_to_peer(st, &peer);
        if (!err)
            err = cb(arg, &peer);
    }
    if (!err && rc != SQLITE_DONE)
        err = unexpected(rc);
    sqlite3_finalize(st);
    return err;
}

static pqcoap_err sq_floor_get(void *ctx, const char *id, pqcoap_floor *out)
{
    sqlite3_stmt *st;
    pqcoap_err err = prepare(ctx, "SELECT session_seq, init_hash FROM floors WHERE id = ?1",
                             &st);
    if (err)
        return err;
    int rc = sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        /* the floor is the INTEGER written, never a value SQLite converted */
        const void *hash = sqlite3_column_blob(st, 1);
        if (sqlite3_column_type(st, 0) != SQLITE_INTEGER || !hash ||
            sqlite3_column_bytes(st, 1) != (int)sizeof out->init_hash) {
            err = PQCOAP_ERR_STORE_CORRUPT;
        } else {
            out->session_seq = i64_to_u64(sqlite3_column_int64(st, 0));
            memcpy(out->init_hash, hash, sizeof out->init_hash);
        }
    } else {
        err = rc == SQLITE_DONE ? PQCOAP_ERR_NOT_FOUND : map_rc(rc);
    }
    sqlite3_finalize(st);
    return err;
}

static pqcoap_err sq_floor_set(void *ctx, const char *id, const pqcoap_floor *floor)
{
    sqlite3_stmt *st;
    pqcoap_err err = prepare(ctx,
        "INSERT INTO floors(id, session_seq, init_hash) VALUES(?1, ?2, ?3)"
        " ON CONFLICT(id) DO UPDATE SET session_seq = excluded.session_seq,"
        " init_hash = excluded.init_hash", &st);
    if (err)
        return err;
    int rc = sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 2, u64_to_i64(floor->session_seq));
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_blob(st, 3, floor->init_hash, sizeof floor->init_hash,
                               SQLITE_STATIC);
    if (rc != SQLITE_OK) {
        sqlite3_finalize(st);
        return map_rc(rc);
    }
    return step_done(st);
}

/* The key of a kid in sign_floors: 16 lowercase hex digits. */
static void kid_hex(const uint8_t kid[PQCOAP_KID_LEN], char out[2 * PQCOAP_KID_LEN + 1])
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < PQCOAP_KID_LEN; i++) {
        out[2 * i] = digits[kid[i] >> 4];
        out[2 * i + 1] = digits[kid[i] & 15];
    }
    out[2 * PQCOAP_KID_LEN] = '\0';
}

static pqcoap_err sq_sign_floor_get(void *ctx, const uint8_t kid[PQCOAP_KID_LEN], uint64_t *seq)
{
    char hex[2 * PQCOAP_KID_LEN + 1];
    sqlite3_stmt *st;
    pqcoap_err err = prepare(ctx, "SELECT seq FROM sign_floors WHERE kid = ?1", &st);
    if (err)
        return err;
    kid_hex(kid, hex);
    int rc = sqlite3_bind_text(st, 1, hex, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        if (sqlite3_column_type(st, 0) != SQLITE_INTEGER)
            err = PQCOAP_ERR_STORE_CORRUPT;
        else
            *seq = i64_to_u64(sqlite3_column_int64(st, 0));
    } else {
        err = rc == SQLITE_DONE ? PQCOAP_ERR_NOT_FOUND : map_rc(rc);
    }
    sqlite3_finalize(st);
    return err;
}

static pqcoap_err sq_sign_floor_set(void *ctx, const uint8_t kid[PQCOAP_KID_LEN], uint64_t seq)
{
    char hex[2 * PQCOAP_KID_LEN + 1];
    sqlite3_stmt *st;
    pqcoap_err err = prepare(ctx, "INSERT INTO sign_floors(kid, seq) VALUES(?1, ?2)"
                                  " ON CONFLICT(kid) DO UPDATE SET seq = excluded.seq", &st);
    if (err)
        return err;
    kid_hex(kid, hex);
    int rc = sqlite3_bind_text(st, 1, hex, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 2, u64_to_i64(seq));
    if (rc != SQLITE_OK) {
        sqlite3_finalize(st);
        return map_rc(rc);
    }
    return step_done(st);
}

static pqcoap_err sq_seq_peek(void *ctx, const char *name, uint64_t *next)
{
    sqlite3_stmt *st;
    pqcoap_err err = prepare(ctx, "SELECT next FROM counters WHERE name = ?1", &st);
    if (err)
        return err;
    int rc = sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        int64_t v = sqlite3_column_int64(st, 0);
        if (sqlite3_column_type(st, 0) != SQLITE_INTEGER || v < 1)
            err = PQCOAP_ERR_STORE_CORRUPT;
        else
            *next = (uint64_t)v;
    } else if (rc == SQLITE_DONE) {
        *next = 1;                  /* counters start at 1 */
    } else {
        err = map_rc(rc);
    }
    sqlite3_finalize(st);
    return err;
}

static pqcoap_err sq_seq_reserve(void *ctx, const char *name, uint64_t count, uint64_t *first)
{
    /* Read and advance under the write lock, so that two processes never reserve the same
     * numbers; the COMMIT is synced (synchronous=FULL) before the numbers are returned. */
    pqcoap_err err = exec(ctx, "BEGIN IMMEDIATE");
    if (err)
        return err;
    uint64_t next = 0, after = 0;
    sqlite3_stmt *st = NULL;
    err = sq_seq_peek(ctx, name, &next);
    if (!err)
        err = pqcoap_seq_advance(next, count, &after);
    if (!err)
        err = prepare(ctx, "INSERT INTO counters(name, next) VALUES(?1, ?2)"
                           " ON CONFLICT(name) DO UPDATE SET next = excluded.next", &st);
    if (!err) {
        int rc = sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
        if (rc == SQLITE_OK)
            rc = sqlite3_bind_int64(st, 2, (int64_t)after);
        if (rc == SQLITE_OK)
            err = step_done(st);
        else {
            sqlite3_finalize(st);
            err = map_rc(rc);
        }
    }
    if (!err)
        err = exec(ctx, "COMMIT");
    if (err) {
        rollback(ctx);
        return err;
    }
    *first = next;
    return PQCOAP_OK;
}

/* PRAGMA data_version changes when another connection commits; this connection's own
 * writes are counted by SQLite. Both only grow, so their sum changes when either does. */
static pqcoap_err sq_change_count(void *ctx, uint64_t *count)
{
    int64_t others = 0;
    pqcoap_err err = query_int(ctx, "PRAGMA data_version", &others);
    if (!err)
        *count = (uint64_t)others + (uint64_t)sqlite3_total_changes64(ctx);
    return err;
}

static void sq_close(void *ctx)
{
    sqlite3_close(ctx);
}

static const pqcoap_store_ops sq_ops = {
    .peer_add = sq_peer_add,
    .peer_remove = sq_peer_remove,
    .peer_by_id = sq_peer_by_id,
    .peer_by_kid = sq_peer_by_kid,
    .peer_list = sq_peer_list,
    .floor_get = sq_floor_get,
    .floor_set = sq_floor_set,
    .sign_floor_get = sq_sign_floor_get,
    .sign_floor_set = sq_sign_floor_set,
    .seq_reserve = sq_seq_reserve,
    .seq_peek = sq_seq_peek,
    .close = sq_close,
    .change_count = sq_change_count,
};

/* Key separation in key files and trust stores: a key made for sign-v1 says so in its key
 * files (docs/KEYS.md `usage: sign-v1`), keeps it through pqcoap_peer_from_pubkey, and the
 * in-memory and SQLite stores keep it (docs/STORE.md; a store of schema 1 is migrated,
 * its peers general). */
#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "crypto/crypto_internal.h"
#include "pqcoap/keys.h"
#include "store/store_util.h"

static pqcoap_identity general, v1, got;
static uint8_t text[PQCOAP_KEYFILE_MAX], edited[PQCOAP_KEYFILE_MAX + 64];

static void make_identity(pqcoap_identity *id, pqcoap_key_usage usage, const char *seed)
{
    pqcoap_test_rng st;
    pqcoap_rng rng;
    pqcoap_test_rng_init(&st, &rng, (const uint8_t *)seed, strlen(seed));
    CHECK_EQ_INT(pqcoap_identity_generate_usage("falcon-512", usage, &rng, id), PQCOAP_OK);
    CHECK_EQ_INT(id->pub.usage, usage);
}

static int contains(const uint8_t *t, size_t len, const char *s)
{
    size_t n = strlen(s);
    for (size_t i = 0; i + n <= len; i++)
        if (memcmp(t + i, s, n) == 0)
            return 1;
    return 0;
}

/* Parses the secret key file `text` with its first `from` replaced by `to`. */
static pqcoap_err parse_replaced(size_t len, const char *from, const char *to)
{
    size_t n = strlen(from), m = strlen(to), at = 0;
    while (at + n <= len && memcmp(text + at, from, n) != 0)
        at++;
    if (at + n > len)
        return PQCOAP_ERR_NOT_FOUND; /* `from` is not in the file */
    memcpy(edited, text, at);
    memcpy(edited + at, to, m);
    memcpy(edited + at + m, text + at + n, len - at - n);
    return pqcoap_identity_parse(edited, len - n + m, &got);
}

static void test_key_files(void)
{
    size_t len = 0;
    pqcoap_pubkey pub;

    /* a general key file has no usage line (files written before usage existed) */
    CHECK_EQ_INT(pqcoap_identity_encode(&general, text, sizeof text, &len), PQCOAP_OK);
    CHECK(!contains(text, len, "usage:"));
    CHECK_EQ_INT(pqcoap_identity_parse(text, len, &got), PQCOAP_OK);
    CHECK_EQ_INT(got.pub.usage, PQCOAP_USAGE_GENERAL);

    /* a v1 key: "usage: sign-v1" right after "alg:", in both files, and read back */
    CHECK_EQ_INT(pqcoap_identity_encode(&v1, text, sizeof text, &len), PQCOAP_OK);
    CHECK(contains(text, len, "pqcoap secret key v1\nalg: falcon-512\nusage: sign-v1\nkid: "));
    CHECK_EQ_INT(pqcoap_identity_parse(text, len, &got), PQCOAP_OK);
    CHECK_EQ_INT(got.pub.usage, PQCOAP_USAGE_SIGN_V1);
    CHECK_MEM(got.pub.pk, v1.pub.pk, v1.pub.pk_len);

    /* strictly checked: no other value, no other place, no repetition */
    CHECK_EQ_INT(parse_replaced(len, "usage: sign-v1\n", "usage: general\n"), PQCOAP_ERR_KEYFILE);
    CHECK_EQ_INT(parse_replaced(len, "usage: sign-v1\n", "usage: sign-v2\n"), PQCOAP_ERR_KEYFILE);
    CHECK_EQ_INT(parse_replaced(len, "usage: sign-v1\n", "usage: Sign-v1\n"), PQCOAP_ERR_KEYFILE);
    CHECK_EQ_INT(parse_replaced(len, "usage: sign-v1\n", "usage:  sign-v1\n"), PQCOAP_ERR_KEYFILE);
    CHECK_EQ_INT(parse_replaced(len, "usage: sign-v1\n", "usage: sign-v1 \n"), PQCOAP_ERR_KEYFILE);
    CHECK_EQ_INT(parse_replaced(len, "usage: sign-v1\n", "usage: sign-v1\nusage: sign-v1\n"),
                 PQCOAP_ERR_KEYFILE);
    CHECK_EQ_INT(parse_replaced(len, "alg: falcon-512\nusage: sign-v1\n",
                                "usage: sign-v1\nalg: falcon-512\n"), PQCOAP_ERR_KEYFILE);
    CHECK_EQ_INT(parse_replaced(len, "usage: sign-v1\n", ""), PQCOAP_OK);
    CHECK_EQ_INT(got.pub.usage, PQCOAP_USAGE_GENERAL); /* without the line: general */
    CHECK_EQ_INT(parse_replaced(len, "x", "x"), PQCOAP_OK);

    CHECK_EQ_INT(pqcoap_pubkey_encode(&v1.pub, text, sizeof text, &len), PQCOAP_OK);
    CHECK(contains(text, len, "pqcoap public key v1\nalg: falcon-512\nusage: sign-v1\nkid: "));
    CHECK_EQ_INT(pqcoap_pubkey_parse(text, len, &pub), PQCOAP_OK);
    CHECK_EQ_INT(pub.usage, PQCOAP_USAGE_SIGN_V1);
    CHECK_EQ_INT(pqcoap_pubkey_encode(&general.pub, text, sizeof text, &len), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_pubkey_parse(text, len, &pub), PQCOAP_OK);
    CHECK_EQ_INT(pub.usage, PQCOAP_USAGE_GENERAL);

    /* an unknown usage value is not written */
    pqcoap_identity odd = v1;
    odd.pub.usage = (pqcoap_key_usage)7;
    CHECK_EQ_INT(pqcoap_identity_encode(&odd, text, sizeof text, &len), PQCOAP_ERR_ARG);
    pqcoap_identity_wipe(&odd);
    CHECK_EQ_INT(pqcoap_identity_generate_usage("falcon-512", (pqcoap_key_usage)7, NULL, &got),
                 PQCOAP_ERR_ARG);
}

static void test_peer_from_pubkey(void)
{
    pqcoap_peer peer;
    CHECK_EQ_INT(pqcoap_peer_from_pubkey("gw", &v1.pub, 1, &peer), PQCOAP_OK);
    CHECK_EQ_INT(peer.usage, PQCOAP_USAGE_SIGN_V1);
    CHECK_EQ_INT(pqcoap_peer_from_pubkey("gw", &general.pub, 1, &peer), PQCOAP_OK);
    CHECK_EQ_INT(peer.usage, PQCOAP_USAGE_GENERAL);
}

typedef struct seen {
    int v1, general;
} seen;

static pqcoap_err count_usage(void *arg, const pqcoap_peer *peer)
{
    seen *s = arg;
    s->v1 += peer->usage == PQCOAP_USAGE_SIGN_V1;
    s->general += peer->usage == PQCOAP_USAGE_GENERAL;
    return PQCOAP_OK;
}

/* Pins "old" (general) and "v1dev" (sign-v1) and reads them back every way. */
static void check_store(const pqcoap_store *s, int add)
{
    pqcoap_peer a, b, out;
    CHECK_EQ_INT(pqcoap_peer_from_pubkey("old", &general.pub, 5, &a), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_peer_from_pubkey("v1dev", &v1.pub, 6, &b), PQCOAP_OK);
    if (add) {
        CHECK_EQ_INT(pqcoap_store_peer_add(s, &a), PQCOAP_OK);
        CHECK_EQ_INT(pqcoap_store_peer_add(s, &b), PQCOAP_OK);
    }
    memset(&out, 0xAA, sizeof out);
    CHECK_EQ_INT(pqcoap_store_peer_by_id(s, "v1dev", &out), PQCOAP_OK);
    CHECK_EQ_INT(out.usage, PQCOAP_USAGE_SIGN_V1);
    memset(&out, 0xAA, sizeof out);
    CHECK_EQ_INT(pqcoap_store_peer_by_kid(s, v1.pub.kid, &out), PQCOAP_OK);
    CHECK_EQ_INT(out.usage, PQCOAP_USAGE_SIGN_V1);
    memset(&out, 0xAA, sizeof out);
    CHECK_EQ_INT(pqcoap_store_peer_by_id(s, "old", &out), PQCOAP_OK);
    CHECK_EQ_INT(out.usage, PQCOAP_USAGE_GENERAL);
    seen n = {0, 0};
    CHECK_EQ_INT(pqcoap_store_peer_list(s, count_usage, &n), PQCOAP_OK);
    CHECK(n.v1 == 1 && n.general == 1);
}

static void test_stores(void)
{
    pqcoap_store s;
    CHECK_EQ_INT(pqcoap_store_open_memory(&s), PQCOAP_OK);
    check_store(&s, 1);
    pqcoap_store_close(&s);

    char dir[256], path[320];
    tmpdir_make(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/usage.db", dir);
    CHECK_EQ_INT(pqcoap_store_open_sqlite(path, &s), PQCOAP_OK);
    check_store(&s, 1);
    pqcoap_store_close(&s);
    CHECK_EQ_INT(pqcoap_store_open_sqlite(path, &s), PQCOAP_OK);
    check_store(&s, 0); /* persisted */
    pqcoap_store_close(&s);

    /* a usage value no pqcoap writes is corruption, never a usable key */
    CHECK_EQ_INT(sql_run(path, "UPDATE peers SET usage = 7 WHERE id = 'v1dev'"), SQLITE_OK);
    CHECK_EQ_INT(pqcoap_store_open_sqlite(path, &s), PQCOAP_OK);
    pqcoap_peer out;
    CHECK_EQ_INT(pqcoap_store_peer_by_id(&s, "v1dev", &out), PQCOAP_ERR_STORE_CORRUPT);
    pqcoap_store_close(&s);

    /* a store of schema version 1 (before usage): its peers become general on opening */
    snprintf(path, sizeof path, "%s/schema1.db", dir);
    char hex[2 * PQCOAP_PK_MAX + 1], sql[sizeof hex + 1024];
    for (size_t i = 0; i < general.pub.pk_len; i++)
        snprintf(hex + 2 * i, 3, "%02x", general.pub.pk[i]);
    char kid[2 * PQCOAP_KID_LEN + 1];
    for (size_t i = 0; i < PQCOAP_KID_LEN; i++)
        snprintf(kid + 2 * i, 3, "%02x", general.pub.kid[i]);
    snprintf(sql, sizeof sql,
             "CREATE TABLE peers(id TEXT PRIMARY KEY NOT NULL, alg TEXT NOT NULL,"
             " kid BLOB NOT NULL UNIQUE, pk BLOB NOT NULL, added INTEGER NOT NULL);"
             "CREATE TABLE floors(id TEXT PRIMARY KEY NOT NULL, session_seq INTEGER NOT NULL,"
             " init_hash BLOB NOT NULL);"
             "CREATE TABLE counters(name TEXT PRIMARY KEY NOT NULL, next INTEGER NOT NULL);"
             "INSERT INTO peers VALUES('old', 'falcon-512', x'%s', x'%s', 5);"
             "PRAGMA application_id = 1347502931; PRAGMA user_version = 1;", kid, hex);
    CHECK_EQ_INT(sql_run(path, sql), SQLITE_OK);
    CHECK_EQ_INT(pqcoap_store_open_sqlite(path, &s), PQCOAP_OK);
    pqcoap_peer b;
    CHECK_EQ_INT(pqcoap_peer_from_pubkey("v1dev", &v1.pub, 6, &b), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_store_peer_add(&s, &b), PQCOAP_OK);
    check_store(&s, 0);
    pqcoap_store_close(&s);
    tmpdir_remove(dir);
}

int main(void)
{
    make_identity(&general, PQCOAP_USAGE_GENERAL, "general key");
    make_identity(&v1, PQCOAP_USAGE_SIGN_V1, "sign-v1 key");
    /* pqcoap_identity_generate makes general keys */
    CHECK_EQ_INT(pqcoap_identity_generate("falcon-512", NULL, &got), PQCOAP_OK);
    CHECK_EQ_INT(got.pub.usage, PQCOAP_USAGE_GENERAL);
    test_key_files();
    test_peer_from_pubkey();
    test_stores();
    pqcoap_identity_wipe(&general);
    pqcoap_identity_wipe(&v1);
    pqcoap_identity_wipe(&got);
    return check_done();
}

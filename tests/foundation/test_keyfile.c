/* Key files (docs/KEYS.md): round trips, and wrong, truncated or foreign files rejected with
 * PQCOAP_ERR_KEYFILE; file helpers: modes, no silent overwrite, missing files. */
#include <dirent.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "crypto/crypto_internal.h"
#include "pqcoap/keys.h"

static pqcoap_identity id1, id2, got;
static uint8_t text[PQCOAP_KEYFILE_MAX], bad[PQCOAP_KEYFILE_MAX + 16];

static void make_identity(pqcoap_identity *id, const char *alg, const char *seed)
{
    pqcoap_test_rng st;
    pqcoap_rng rng;
    pqcoap_test_rng_init(&st, &rng, (const uint8_t *)seed, strlen(seed));
    CHECK_EQ_INT(pqcoap_identity_generate(alg, &rng, id), PQCOAP_OK);
}

static int same_identity(const pqcoap_identity *a, const pqcoap_identity *b)
{
    return a->pub.alg == b->pub.alg && a->pub.pk_len == b->pub.pk_len &&
           memcmp(a->pub.pk, b->pub.pk, a->pub.pk_len) == 0 &&
           memcmp(a->pub.kid, b->pub.kid, PQCOAP_KID_LEN) == 0 &&
           memcmp(a->sk, b->sk, sizeof a->sk) == 0;
}

/* Position of the first occurrence of s in text[0..len). */
static size_t find(const uint8_t *t, size_t len, const char *s)
{
    size_t n = strlen(s);
    for (size_t i = 0; i + n <= len; i++)
        if (memcmp(t + i, s, n) == 0)
            return i;
    return (size_t)-1;
}

/* Parses a copy of text with bytes [at, at+cut) replaced by `with`. */
static pqcoap_err parse_edited(size_t len, size_t at, size_t cut, const char *with)
{
    size_t wl = strlen(with);
    memcpy(bad, text, at);
    memcpy(bad + at, with, wl);
    memcpy(bad + at + wl, text + at + cut, len - at - cut);
    return pqcoap_identity_parse(bad, len - cut + wl, &got);
}

static void test_roundtrip(void)
{
    size_t len = 0;
    CHECK_EQ_INT(pqcoap_identity_encode(&id1, text, sizeof text, &len), PQCOAP_OK);
    CHECK(find(text, len, "pqcoap secret key v1\nalg: falcon-512\nkid: ") == 0);
    CHECK_EQ_INT(pqcoap_identity_parse(text, len, &got), PQCOAP_OK);
    CHECK(same_identity(&id1, &got));
    CHECK(strcmp(pqcoap_pubkey_alg(&got.pub), "falcon-512") == 0);

    /* kid = first 8 bytes of SHA-256(pk) */
    uint8_t h[32];
    const pqcoap_span pk = {id1.pub.pk, id1.pub.pk_len};
    pqcoap_sha256(&pk, 1, h);
    CHECK_MEM(id1.pub.kid, h, PQCOAP_KID_LEN);

    pqcoap_pubkey pub;
    CHECK_EQ_INT(pqcoap_pubkey_encode(&id1.pub, text, sizeof text, &len), PQCOAP_OK);
    CHECK(find(text, len, "pqcoap public key v1\n") == 0);
    CHECK(find(text, len, "sk: ") == (size_t)-1);
    CHECK_EQ_INT(pqcoap_pubkey_parse(text, len, &pub), PQCOAP_OK);
    CHECK(pub.alg == id1.pub.alg && pub.pk_len == 897);
    CHECK_MEM(pub.pk, id1.pub.pk, 897);
    CHECK_MEM(pub.kid, id1.pub.kid, PQCOAP_KID_LEN);
    /* a secret key file is not a public key file and vice versa */
    CHECK_EQ_INT(pqcoap_identity_parse(text, len, &got), PQCOAP_ERR_KEYFILE);
    CHECK_EQ_INT(pqcoap_identity_encode(&id1, text, sizeof text, &len), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_pubkey_parse(text, len, &pub), PQCOAP_ERR_KEYFILE);

    CHECK_EQ_INT(pqcoap_identity_encode(&id1, text, 100, &len), PQCOAP_ERR_BUFFER);
    CHECK_EQ_INT(pqcoap_pubkey_set("falcon-512", id1.pub.pk, 897, &pub), PQCOAP_OK);
    CHECK_MEM(pub.kid, id1.pub.kid, PQCOAP_KID_LEN);
    CHECK_EQ_INT(pqcoap_pubkey_set("falcon-512", id1.pub.pk, 896, &pub), PQCOAP_ERR_MALFORMED);
    CHECK_EQ_INT(pqcoap_pubkey_set("rsa", id1.pub.pk, 897, &pub), PQCOAP_ERR_UNSUPPORTED);
    CHECK_EQ_INT(pqcoap_identity_generate("ed25519", NULL, &got), PQCOAP_ERR_UNSUPPORTED);

    /* a trust-store entry pinning the public key */
    pqcoap_peer peer;
    CHECK_EQ_INT(pqcoap_peer_from_pubkey("device-7", &id1.pub, 1700000000, &peer), PQCOAP_OK);
    CHECK(strcmp(peer.id, "device-7") == 0 && strcmp(peer.alg, "falcon-512") == 0);
    CHECK(peer.pk_len == 897 && peer.added_s == 1700000000);
    CHECK_MEM(peer.pk, id1.pub.pk, 897);
    CHECK_MEM(peer.kid, id1.pub.kid, PQCOAP_KID_LEN);
    char long_id[PQCOAP_ID_MAX + 2];
    memset(long_id, 'x', sizeof long_id - 1);
    long_id[sizeof long_id - 1] = '\0';
    CHECK_EQ_INT(pqcoap_peer_from_pubkey(long_id, &id1.pub, 0, &peer), PQCOAP_ERR_ARG);
    CHECK_EQ_INT(pqcoap_peer_from_pubkey("", &id1.pub, 0, &peer), PQCOAP_ERR_ARG);
}

static void test_rejected(void)
{
    size_t len = 0;
    CHECK_EQ_INT(pqcoap_identity_encode(&id1, text, sizeof text, &len), PQCOAP_OK);
    /* every truncation */
    int all_rejected = 1;
    for (size_t n = 0; n < len; n++)
        if (pqcoap_identity_parse(text, n, &got) != PQCOAP_ERR_KEYFILE)
            all_rejected = 0;
    CHECK(all_rejected);
    /* the parser wipes its output on failure */
    static const pqcoap_identity zero;
    CHECK(memcmp(&got, &zero, sizeof got) == 0);

    size_t alg = find(text, len, "falcon-512"), kid = find(text, len, "kid: ") + 5;
    size_t pk = find(text, len, "pk: ") + 4, sk = find(text, len, "sk: ") + 4;
    CHECK_EQ_INT(parse_edited(len, alg, 10, "falcon-1024"), PQCOAP_ERR_KEYFILE);
    CHECK_EQ_INT(parse_edited(len, alg, 10, "Falcon-512"), PQCOAP_ERR_KEYFILE);
    CHECK_EQ_INT(parse_edited(len, 0, 6, "PQCOAP"), PQCOAP_ERR_KEYFILE);
    CHECK_EQ_INT(parse_edited(len, 19, 1, "2"), PQCOAP_ERR_KEYFILE);       /* version */
    CHECK_EQ_INT(parse_edited(len, kid, 1, text[kid] == '0' ? "1" : "0"), PQCOAP_ERR_KEYFILE);
    CHECK_EQ_INT(parse_edited(len, kid, 0, " "), PQCOAP_ERR_KEYFILE);
    CHECK_EQ_INT(parse_edited(len, pk + 10, 1, text[pk + 10] == 'A' ? "B" : "A"),
                 PQCOAP_ERR_KEYFILE);
    CHECK_EQ_INT(parse_edited(len, sk + 200, 1, text[sk + 200] == 'A' ? "B" : "A"),
                 PQCOAP_ERR_KEYFILE);
    CHECK_EQ_INT(parse_edited(len, sk + 200, 1, "*"), PQCOAP_ERR_KEYFILE);
    CHECK_EQ_INT(parse_edited(len, sk - 1, 0, " "), PQCOAP_ERR_KEYFILE);
    CHECK_EQ_INT(parse_edited(len, len - 1, 0, "="), PQCOAP_ERR_KEYFILE);
    CHECK_EQ_INT(parse_edited(len, len - 1, 1, "\r\n"), PQCOAP_ERR_KEYFILE);
    CHECK_EQ_INT(parse_edited(len, len, 0, "\n"), PQCOAP_ERR_KEYFILE);
    CHECK_EQ_INT(parse_edited(len, len, 0, "x"), PQCOAP_ERR_KEYFILE);
    CHECK_EQ_INT(parse_edited(len, 0, 0, "\n"), PQCOAP_ERR_KEYFILE);
    CHECK_EQ_INT(parse_edited(len, 0, 0, ""), PQCOAP_OK); /* the unedited copy is fine */

    /* a consistent pk and kid of another identity with this sk: the pair does not match */
    uint8_t other[PQCOAP_KEYFILE_MAX];
    size_t other_len = 0;
    CHECK_EQ_INT(pqcoap_identity_encode(&id2, other, sizeof other, &other_len), PQCOAP_OK);
    size_t other_sk = find(other, other_len, "sk: ");
    memcpy(bad, other, other_sk);
    memcpy(bad + other_sk, text + sk - 4, len - (sk - 4));
    CHECK_EQ_INT(pqcoap_identity_parse(bad, other_sk + len - (sk - 4), &got), PQCOAP_ERR_KEYFILE);

    /* foreign content */
    static const char *foreign[] = {
        "", "\n", "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA==\n-----END PRIVATE KEY-----\n",
        "pqcoap secret key v1\n", "pqcoap secret key v1\nalg: falcon-512\n",
    };
    for (size_t i = 0; i < sizeof foreign / sizeof foreign[0]; i++) {
        pqcoap_pubkey pub;
        CHECK_EQ_INT(pqcoap_identity_parse((const uint8_t *)foreign[i], strlen(foreign[i]), &got),
                     PQCOAP_ERR_KEYFILE);
        CHECK_EQ_INT(pqcoap_pubkey_parse((const uint8_t *)foreign[i], strlen(foreign[i]), &pub),
                     PQCOAP_ERR_KEYFILE);
    }
    for (size_t i = 0; i < sizeof bad; i++)
        bad[i] = (uint8_t)(i * 131 + 7);
    CHECK_EQ_INT(pqcoap_identity_parse(bad, sizeof bad, &got), PQCOAP_ERR_KEYFILE);
}

static size_t count_entries(const char *dir)
{
    size_t n = 0;
    DIR *d = opendir(dir);
    for (struct dirent *e; d != NULL && (e = readdir(d)) != NULL;)
        n += e->d_name[0] != '.';
    if (d != NULL)
        closedir(d);
    return n;
}

static void test_files(void)
{
    char dir[] = "/tmp/pqcoap-keyfile-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char sec[64], pub_path[64], missing[64], big[64];
    snprintf(sec, sizeof sec, "%s/id.key", dir);
    snprintf(pub_path, sizeof pub_path, "%s/id.pub", dir);
    snprintf(missing, sizeof missing, "%s/none.key", dir);
    snprintf(big, sizeof big, "%s/big.key", dir);

    struct stat st;
    CHECK_EQ_INT(pqcoap_identity_save(&id1, sec, 0), PQCOAP_OK);
    CHECK(stat(sec, &st) == 0 && (st.st_mode & 0777) == 0600);
    CHECK_EQ_INT(pqcoap_identity_load(sec, &got), PQCOAP_OK);
    CHECK(same_identity(&id1, &got));
    /* no silent overwrite; the file keeps the first identity */
    CHECK_EQ_INT(pqcoap_identity_save(&id2, sec, 0), PQCOAP_ERR_EXISTS);
    CHECK_EQ_INT(pqcoap_identity_load(sec, &got), PQCOAP_OK);
    CHECK(same_identity(&id1, &got));
    CHECK_EQ_INT(pqcoap_identity_save(&id2, sec, 1), PQCOAP_OK);
    CHECK(stat(sec, &st) == 0 && (st.st_mode & 0777) == 0600);
    CHECK_EQ_INT(pqcoap_identity_load(sec, &got), PQCOAP_OK);
    CHECK(same_identity(&id2, &got));

    pqcoap_pubkey pub;
    CHECK_EQ_INT(pqcoap_pubkey_save(&id2.pub, pub_path, 0), PQCOAP_OK);
    CHECK(stat(pub_path, &st) == 0 && (st.st_mode & 0777) == 0644);
    CHECK_EQ_INT(pqcoap_pubkey_load(pub_path, &pub), PQCOAP_OK);
    CHECK_MEM(pub.pk, id2.pub.pk, pub.pk_len);
    CHECK_EQ_INT(pqcoap_pubkey_save(&id2.pub, pub_path, 0), PQCOAP_ERR_EXISTS);
    CHECK_EQ_INT(pqcoap_pubkey_load(sec, &pub), PQCOAP_ERR_KEYFILE);
    CHECK_EQ_INT(pqcoap_identity_load(pub_path, &got), PQCOAP_ERR_KEYFILE);
    CHECK_EQ_INT(pqcoap_identity_load(missing, &got), PQCOAP_ERR_NOT_FOUND);

    /* a valid file followed by more bytes than any key file has */
    size_t len = 0;
    pqcoap_identity_encode(&id1, text, sizeof text, &len);
    FILE *f = fopen(big, "wb");
    CHECK(f != NULL);
    if (f != NULL) {
        fwrite(text, 1, len, f);
        for (size_t i = 0; i < PQCOAP_KEYFILE_MAX; i++)
            fputc('\n', f);
        fclose(f);
    }
    CHECK_EQ_INT(pqcoap_identity_load(big, &got), PQCOAP_ERR_KEYFILE);

    /* only the files asked for are left: no temporary files */
    CHECK_EQ_INT(count_entries(dir), 3);
    unlink(sec);
    unlink(pub_path);
    unlink(big);
    CHECK(rmdir(dir) == 0);
}

int main(void)
{
    make_identity(&id1, "falcon-512", "identity one");
    make_identity(&id2, "falcon-512", "identity two");
    test_roundtrip();
    test_rejected();
    test_files();

    /* Falcon-1024 identities use the same format */
    pqcoap_identity big;
    size_t len = 0;
    make_identity(&big, "falcon-1024", "identity three");
    CHECK_EQ_INT(pqcoap_identity_encode(&big, text, sizeof text, &len), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_identity_parse(text, len, &got), PQCOAP_OK);
    CHECK(same_identity(&big, &got));
    CHECK(strcmp(pqcoap_pubkey_alg(&got.pub), "falcon-1024") == 0);
    /* Its 2305-byte sk ends in "c1 c2 = =": c2 carries 2 data bits and 4 unused ones.
     * Setting an unused bit decodes to the same bytes but is not canonical: rejected. */
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    CHECK(len > 4 && memcmp(text + len - 3, "==\n", 3) == 0);
    const char *c2 = memchr(b64, text[len - 4], 64);
    CHECK(c2 != NULL && ((c2 - b64) & 15) == 0);
    if (c2 != NULL) {
        char repl[2] = {b64[(c2 - b64) | 1], 0};
        CHECK_EQ_INT(parse_edited(len, len - 4, 1, repl), PQCOAP_ERR_KEYFILE);
        CHECK_EQ_INT(parse_edited(len, 0, 0, ""), PQCOAP_OK);
    }
    pqcoap_identity_wipe(&big);
    pqcoap_identity_wipe(&id1);
    pqcoap_identity_wipe(&id2);
    pqcoap_identity_wipe(&got);
    return check_done();
}

/* ML-DSA identities end to end: key generation by name, key files written, read back and
 * loaded (an ML-DSA-87 secret key file is the largest key file), and the public key pinned
 * in a real SQLite trust store and read back. */
#include "check.h"
#include "crypto/crypto_internal.h"
#include "pqcoap/keys.h"
#include "store/store_util.h"

static pqcoap_identity id, got;
static pqcoap_pubkey pub;
static uint8_t text[PQCOAP_KEYFILE_MAX];

static void test_alg(const char *alg, const pqcoap_sig_alg *table, const char *dir,
                     const pqcoap_store *store)
{
    pqcoap_test_rng st;
    pqcoap_rng rng;
    pqcoap_test_rng_init(&st, &rng, (const uint8_t *)alg, strlen(alg));
    CHECK_EQ_INT(pqcoap_identity_generate(alg, &rng, &id), PQCOAP_OK);
    if (id.pub.alg != table)
        return;
    CHECK(id.pub.pk_len == table->pk_len && strcmp(pqcoap_pubkey_alg(&id.pub), alg) == 0);

    /* secret and public key file texts round trip */
    size_t len = 0;
    CHECK_EQ_INT(pqcoap_identity_encode(&id, text, sizeof text, &len), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_identity_parse(text, len, &got), PQCOAP_OK);
    CHECK(got.pub.alg == table && got.pub.pk_len == table->pk_len);
    CHECK_MEM(got.pub.pk, id.pub.pk, table->pk_len);
    CHECK_MEM(got.sk, id.sk, table->sk_len);
    CHECK_EQ_INT(pqcoap_pubkey_encode(&id.pub, text, sizeof text, &len), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_pubkey_parse(text, len, &pub), PQCOAP_OK);
    CHECK(pub.alg == table);
    CHECK_MEM(pub.kid, id.pub.kid, PQCOAP_KID_LEN);

    /* ...and as files */
    char key_path[512], pub_path[512];
    snprintf(key_path, sizeof key_path, "%s/%s.key", dir, alg);
    snprintf(pub_path, sizeof pub_path, "%s/%s.pub", dir, alg);
    CHECK_EQ_INT(pqcoap_identity_save(&id, key_path, 0), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_pubkey_save(&id.pub, pub_path, 0), PQCOAP_OK);
    pqcoap_identity_wipe(&got);
    CHECK_EQ_INT(pqcoap_identity_load(key_path, &got), PQCOAP_OK);
    CHECK_MEM(got.sk, id.sk, table->sk_len);
    CHECK_EQ_INT(pqcoap_pubkey_load(pub_path, &pub), PQCOAP_OK);
    CHECK_MEM(pub.pk, id.pub.pk, table->pk_len);

    /* the public key is pinned whole and found by id and by kid */
    pqcoap_peer peer, back;
    CHECK_EQ_INT(pqcoap_peer_from_pubkey(alg, &pub, 1700000000, &peer), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_store_peer_add(store, &peer), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_store_peer_by_id(store, alg, &back), PQCOAP_OK);
    CHECK(strcmp(back.alg, alg) == 0 && back.pk_len == table->pk_len);
    CHECK_MEM(back.pk, id.pub.pk, table->pk_len);
    memset(&back, 0, sizeof back);
    CHECK_EQ_INT(pqcoap_store_peer_by_kid(store, id.pub.kid, &back), PQCOAP_OK);
    CHECK(strcmp(back.id, alg) == 0);
    pqcoap_identity_wipe(&id);
    pqcoap_identity_wipe(&got);
}

int main(void)
{
    char dir[256], db[300];
    tmpdir_make(dir, sizeof dir);
    snprintf(db, sizeof db, "%s/trust.db", dir);
    pqcoap_store store;
    CHECK_EQ_INT(pqcoap_store_open_sqlite(db, &store), PQCOAP_OK);
    test_alg("ml-dsa-44", &pqcoap_sig_mldsa44, dir, &store);
    test_alg("ml-dsa-65", &pqcoap_sig_mldsa65, dir, &store);
    test_alg("ml-dsa-87", &pqcoap_sig_mldsa87, dir, &store);
    pqcoap_store_close(&store);
    tmpdir_remove(dir);
    return check_done();
}

/* Known-answer tests of the symmetric and X25519 primitives: RFC 5869 HKDF-SHA256 cases 1-3,
 * RFC 7748 X25519 (section 5.2 and the section 6.1 exchange), the GCM specification's
 * AES-256 case with AAD (test case 16), SHA-256("abc") (FIPS 180-2) and RFC 4231 HMAC
 * cases 1 and 2. */
#include "check.h"
#include "hex.h"
#include "crypto/crypto_internal.h"

static void test_hkdf(void)
{
    static const struct {
        const char *ikm, *salt, *info, *prk, *okm;
    } tc[] = {
        {/* RFC 5869 A.1 */
         "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "000102030405060708090a0b0c",
         "f0f1f2f3f4f5f6f7f8f9",
         "077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5",
         "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"},
        {/* RFC 5869 A.2 */
         "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
         "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
         "404142434445464748494a4b4c4d4e4f",
         "606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f"
         "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"
         "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf",
         "b0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecf"
         "d0d1d2d3d4d5d6d7d8d9dadbdcdddedfe0e1e2e3e4e5e6e7e8e9eaebecedeeef"
         "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff",
         "06a6b88c5853361a06104c9ceb35b45cef760014904671014a193f40c15fc244",
         "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c"
         "59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71"
         "cc30c58179ec3e87c14c01d5c1f3434f1d87"},
        {/* RFC 5869 A.3: no salt, no info */
         "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "", "",
         "19ef24a32c717b167f33a91d6f648bdf96596776afdb6377ac434c1c293ccb04",
         "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8"},
    };
    for (size_t i = 0; i < sizeof tc / sizeof tc[0]; i++) {
        uint8_t ikm[80], salt[80], info[80], prk_want[32], okm_want[82], prk[32], okm[82];
        size_t ikm_len = unhex(tc[i].ikm, ikm, sizeof ikm);
        size_t salt_len = unhex(tc[i].salt, salt, sizeof salt);
        size_t info_len = unhex(tc[i].info, info, sizeof info);
        unhex(tc[i].prk, prk_want, sizeof prk_want);
        size_t okm_len = unhex(tc[i].okm, okm_want, sizeof okm_want);
        /* IKM split in two pieces: spans are processed as their concatenation */
        const pqcoap_span in[2] = {{ikm, 5}, {ikm + 5, ikm_len - 5}};
        CHECK_EQ_INT(pqcoap_hkdf_extract(salt, salt_len, in, 2, prk), PQCOAP_OK);
        CHECK_MEM(prk, prk_want, 32);
        CHECK_EQ_INT(pqcoap_hkdf_expand(prk, 32, info, info_len, okm, okm_len), PQCOAP_OK);
        CHECK_MEM(okm, okm_want, okm_len);
    }
    uint8_t prk[32] = {0}, out[1];
    CHECK_EQ_INT(pqcoap_hkdf_expand(prk, 32, NULL, 0, out, 255 * 32 + 1), PQCOAP_ERR_ARG);
    CHECK_EQ_INT(pqcoap_hkdf_expand(prk, 16, NULL, 0, out, 1), PQCOAP_ERR_ARG);
}

static void test_x25519(void)
{
    /* RFC 7748 section 5.2 */
    static const struct { const char *k, *u, *out; } tc[] = {
        {"a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
         "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c",
         "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552"},
        {"4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d",
         "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493",
         "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957"},
    };
    for (size_t i = 0; i < sizeof tc / sizeof tc[0]; i++) {
        uint8_t k[32], u[32], want[32], out[32];
        unhex(tc[i].k, k, 32);
        unhex(tc[i].u, u, 32);
        unhex(tc[i].out, want, 32);
        CHECK_EQ_INT(pqcoap_x25519_derive(k, u, out), PQCOAP_OK);
        CHECK_MEM(out, want, 32);
    }
    /* RFC 7748 section 6.1 */
    uint8_t a_sk[32], a_pk_want[32], b_sk[32], b_pk_want[32], k_want[32];
    uint8_t a_pk[32], b_pk[32], k_a[32], k_b[32];
    unhex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a", a_sk, 32);
    unhex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a", a_pk_want, 32);
    unhex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb", b_sk, 32);
    unhex("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f", b_pk_want, 32);
    unhex("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742", k_want, 32);
    CHECK_EQ_INT(pqcoap_x25519_public(a_sk, a_pk), PQCOAP_OK);
    CHECK_MEM(a_pk, a_pk_want, 32);
    CHECK_EQ_INT(pqcoap_x25519_public(b_sk, b_pk), PQCOAP_OK);
    CHECK_MEM(b_pk, b_pk_want, 32);
    CHECK_EQ_INT(pqcoap_x25519_derive(a_sk, b_pk, k_a), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_x25519_derive(b_sk, a_pk, k_b), PQCOAP_OK);
    CHECK_MEM(k_a, k_want, 32);
    CHECK_MEM(k_b, k_want, 32);
    /* A low-order peer point (u = 0) gives the all-zero secret: refused, output wiped. */
    uint8_t zero[32] = {0}, ss[32];
    memset(ss, 0xaa, sizeof ss);
    CHECK_EQ_INT(pqcoap_x25519_derive(a_sk, zero, ss), PQCOAP_ERR_AUTH);
    CHECK_MEM(ss, zero, 32);
    /* keygen from the rng: a pair whose halves agree */
    uint8_t pk[32], sk[32], pk2[32];
    CHECK_EQ_INT(pqcoap_x25519_keygen(NULL, pk, sk), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_x25519_public(sk, pk2), PQCOAP_OK);
    CHECK_MEM(pk, pk2, 32);
}

static void test_aead(void)
{
    /* GCM specification (McGrew and Viega), test case 16: AES-256, 60-byte text, AAD */
    uint8_t key[32], iv[12], pt[60], aad[20], ct_want[60], tag_want[16];
    unhex("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308", key, 32);
    unhex("cafebabefacedbaddecaf888", iv, 12);
    unhex("d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
          "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39", pt, 60);
    unhex("feedfacedeadbeeffeedfacedeadbeefabaddad2", aad, 20);
    unhex("522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
          "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662", ct_want, 60);
    unhex("76fc6ece0f4e1768cddf8853bb2d551b", tag_want, 16);
    /* AAD in three pieces, one of them empty */
    const pqcoap_span a[3] = {{aad, 7}, {NULL, 0}, {aad + 7, 13}};
    uint8_t ct[76], out[60];
    CHECK_EQ_INT(pqcoap_aead_seal(key, iv, a, 3, pt, 60, ct), PQCOAP_OK);
    CHECK_MEM(ct, ct_want, 60);
    CHECK_MEM(ct + 60, tag_want, 16);
    CHECK_EQ_INT(pqcoap_aead_open(key, iv, a, 3, ct, 76, out), PQCOAP_OK);
    CHECK_MEM(out, pt, 60);
    /* in place */
    uint8_t buf[76];
    memcpy(buf, pt, 60);
    CHECK_EQ_INT(pqcoap_aead_seal(key, iv, a, 3, buf, 60, buf), PQCOAP_OK);
    CHECK_MEM(buf, ct, 76);
    CHECK_EQ_INT(pqcoap_aead_open(key, iv, a, 3, buf, 76, buf), PQCOAP_OK);
    CHECK_MEM(buf, pt, 60);
    /* a flipped bit in ciphertext, tag or AAD is rejected and the output wiped */
    static const uint8_t zero[60];
    for (size_t pos = 0; pos < 76; pos += 25) {
        memcpy(buf, ct, 76);
        buf[pos] ^= 0x01;
        memset(out, 0x55, sizeof out);
        CHECK_EQ_INT(pqcoap_aead_open(key, iv, a, 3, buf, 76, out), PQCOAP_ERR_AUTH);
        CHECK_MEM(out, zero, 60);
    }
    aad[19] ^= 0x80;
    CHECK_EQ_INT(pqcoap_aead_open(key, iv, a, 3, ct, 76, out), PQCOAP_ERR_AUTH);
    CHECK_EQ_INT(pqcoap_aead_open(key, iv, NULL, 0, ct, 15, out), PQCOAP_ERR_MALFORMED);
    /* empty plaintext: only a tag */
    uint8_t tag_only[16];
    CHECK_EQ_INT(pqcoap_aead_seal(key, iv, NULL, 0, NULL, 0, tag_only), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_aead_open(key, iv, NULL, 0, tag_only, 16, NULL), PQCOAP_OK);
    tag_only[0] ^= 1;
    CHECK_EQ_INT(pqcoap_aead_open(key, iv, NULL, 0, tag_only, 16, NULL), PQCOAP_ERR_AUTH);
}

static void test_sha256_hmac(void)
{
    uint8_t want[32], out[32];
    /* FIPS 180-2: SHA-256("abc"), given in two pieces */
    unhex("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", want, 32);
    const pqcoap_span abc[2] = {{(const uint8_t *)"a", 1}, {(const uint8_t *)"bc", 2}};
    CHECK_EQ_INT(pqcoap_sha256(abc, 2, out), PQCOAP_OK);
    CHECK_MEM(out, want, 32);
    /* RFC 4231 test case 1 */
    uint8_t key1[20];
    memset(key1, 0x0b, sizeof key1);
    const pqcoap_span d1 = {(const uint8_t *)"Hi There", 8};
    unhex("b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7", want, 32);
    CHECK_EQ_INT(pqcoap_hmac_sha256(key1, sizeof key1, &d1, 1, out), PQCOAP_OK);
    CHECK_MEM(out, want, 32);
    /* RFC 4231 test case 2 */
    const pqcoap_span d2[2] = {{(const uint8_t *)"what do ya want ", 16},
                               {(const uint8_t *)"for nothing?", 12}};
    unhex("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843", want, 32);
    CHECK_EQ_INT(pqcoap_hmac_sha256((const uint8_t *)"Jefe", 4, d2, 2, out), PQCOAP_OK);
    CHECK_MEM(out, want, 32);
    /* an empty key is the key of zero bytes, not the previous key */
    uint8_t out2[32];
    static const uint8_t zeros[32];
    CHECK_EQ_INT(pqcoap_hmac_sha256(NULL, 0, &d1, 1, out), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_hmac_sha256(zeros, sizeof zeros, &d1, 1, out2), PQCOAP_OK);
    CHECK_MEM(out, out2, 32);
}

static void test_util(void)
{
    uint8_t a[16], b[16];
    memset(a, 7, sizeof a);
    memset(b, 7, sizeof b);
    CHECK(pqcoap_ct_equal(a, b, sizeof a));
    b[15] ^= 1;
    CHECK(!pqcoap_ct_equal(a, b, sizeof a));
    pqcoap_wipe(a, sizeof a);
    static const uint8_t zero[16];
    CHECK_MEM(a, zero, 16);
}

int main(void)
{
    test_hkdf();
    test_x25519();
    test_aead();
    test_sha256_hmac();
    test_util();
    return check_done();
}

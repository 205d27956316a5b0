/* Identity key pairs, kid, and the strict text format of key files (docs/KEYS.md). */
#include "pqcoap/keys.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/evp.h>

#include "common/buf_internal.h"
#include "crypto/crypto_internal.h"

_Static_assert(PQCOAP_SK_MAX == PQCOAP_SIG_SK_MAX, "keys.h and crypto_internal.h disagree");
_Static_assert(PQCOAP_PK_MAX == PQCOAP_SIG_PK_MAX, "store.h and crypto_internal.h disagree");

/* Signature algorithms an identity may use, by the name written in key files. */
static const pqcoap_sig_alg *const sig_algs[] = {&pqcoap_sig_falcon512, &pqcoap_sig_falcon1024,
    &pqcoap_sig_mldsa44, &pqcoap_sig_mldsa65, &pqcoap_sig_mldsa87};

const pqcoap_sig_alg *pqcoap_sig_alg_by_name(const uint8_t *name, size_t n)
{
    for (size_t i = 0; i < sizeof sig_algs / sizeof sig_algs[0]; i++)
        if (strlen(sig_algs[i]->name) == n && memcmp(sig_algs[i]->name, name, n) == 0)
            return sig_algs[i];
    return NULL;
}

static int usage_known(pqcoap_key_usage usage)
{
    return usage == PQCOAP_USAGE_GENERAL || usage == PQCOAP_USAGE_SIGN_V1;
}

pqcoap_err pqcoap_kid(const uint8_t *pk, size_t pk_len, uint8_t kid[PQCOAP_KID_LEN])
{
    if (pk == NULL || kid == NULL)
        return PQCOAP_ERR_ARG;
    /* PROTOCOL.md Mode A v2: kid = first 8 bytes of SHA-256(sender public key). */
    uint8_t h[PQCOAP_SHA256_LEN];
    const pqcoap_span in = {pk, pk_len};
    PQCOAP_TRY(pqcoap_sha256(&in, 1, h));
    memcpy(kid, h, PQCOAP_KID_LEN);
    return PQCOAP_OK;
}

void pqcoap_identity_wipe(pqcoap_identity *id)
{
    if (id != NULL)
        pqcoap_wipe(id, sizeof *id);
}

pqcoap_err pqcoap_identity_generate(const char *alg, const pqcoap_rng *rng,
                                    pqcoap_identity *out)
{
    return pqcoap_identity_generate_usage(alg, PQCOAP_USAGE_GENERAL, rng, out);
}

pqcoap_err pqcoap_identity_generate_usage(const char *alg, pqcoap_key_usage usage,
                                          const pqcoap_rng *rng, pqcoap_identity *out)
{
    if (alg == NULL || out == NULL || !usage_known(usage))
        return PQCOAP_ERR_ARG;
    const pqcoap_sig_alg *a = pqcoap_sig_alg_by_name((const uint8_t *)alg, strlen(alg));
    if (a == NULL)
        return PQCOAP_ERR_UNSUPPORTED;
    memset(out, 0, sizeof *out);
    out->pub.alg = a;
    out->pub.pk_len = a->pk_len;
    out->pub.usage = usage;
    pqcoap_err err = a->keygen(rng, out->pub.pk, out->sk);
    if (err == PQCOAP_OK)
        err = pqcoap_kid(out->pub.pk, out->pub.pk_len, out->pub.kid);
    if (err == PQCOAP_OK)
        err = pqcoap_sig_expand(a, out->sk, &out->ek);
    if (err != PQCOAP_OK)
        pqcoap_identity_wipe(out);
    return err;
}

pqcoap_err pqcoap_pubkey_set(const char *alg, const uint8_t *pk, size_t pk_len,
                             pqcoap_pubkey *out)
{
    if (alg == NULL || pk == NULL || out == NULL)
        return PQCOAP_ERR_ARG;
    const pqcoap_sig_alg *a = pqcoap_sig_alg_by_name((const uint8_t *)alg, strlen(alg));
    if (a == NULL)
        return PQCOAP_ERR_UNSUPPORTED;
    if (pk_len != a->pk_len)
        return PQCOAP_ERR_MALFORMED;
    memset(out, 0, sizeof *out);
    out->alg = a;
    out->pk_len = pk_len;
    memcpy(out->pk, pk, pk_len);
    return pqcoap_kid(out->pk, out->pk_len, out->kid);
}

size_t pqcoap_identity_sk_len(const pqcoap_identity *id)
{
    return id && id->pub.alg ? id->pub.alg->sk_len : 0;
}

const char *pqcoap_pubkey_alg(const pqcoap_pubkey *pk)
{
    return pk != NULL && pk->alg != NULL ? pk->alg->name : NULL;
}

pqcoap_err pqcoap_peer_from_pubkey(const char *id, const pqcoap_pubkey *pk, int64_t added_s,
                                   pqcoap_peer *out)
{
    if (id == NULL || pk == NULL || pk->alg == NULL || !usage_known(pk->usage) || out == NULL)
        return PQCOAP_ERR_ARG;
    size_t id_len = strlen(id);
    if (id_len == 0 || id_len > PQCOAP_ID_MAX || pk->pk_len > sizeof out->pk)
        return PQCOAP_ERR_ARG;
    memset(out, 0, sizeof *out);
    memcpy(out->id, id, id_len);
    snprintf(out->alg, sizeof out->alg, "%s", pk->alg->name);
    out->usage = pk->usage;
    memcpy(out->kid, pk->kid, sizeof out->kid);
    memcpy(out->pk, pk->pk, pk->pk_len);
    out->pk_len = pk->pk_len;
    out->added_s = added_s;
    return PQCOAP_OK;
}

/* ---- text format (docs/KEYS.md) ---- */

static const char secret_header[] = "pqcoap secret key v1";
static const char public_header[] = "pqcoap public key v1";
/* The line that marks a key made for sign-v1; a key without it is general. */
static const char usage_label[] = "usage: ";
static const char usage_sign_v1[] = "sign-v1";

/* Base64 text of a secret key of the largest algorithm, with its NUL. */
#define B64_MAX (4 * ((PQCOAP_SK_MAX + 2) / 3) + 1)

static size_t b64_len(size_t n)
{
    return 4 * ((n + 2) / 3);
}

static void wr_str(pqcoap_writer *w, const char *s)
{
    pqcoap_wr_bytes(w, (const uint8_t *)s, strlen(s));
}

static void wr_b64_line(pqcoap_writer *w, const char *label, const uint8_t *p, size_t n)
{
    uint8_t text[B64_MAX];
    int len = EVP_EncodeBlock(text, p, (int)n);
    wr_str(w, label);
    pqcoap_wr_bytes(w, text, (size_t)len);
    pqcoap_wr_u8(w, '\n');
    pqcoap_wipe(text, sizeof text);
}

static pqcoap_err encode(const pqcoap_pubkey *pub, const uint8_t *sk, uint8_t *out, size_t cap,
                         size_t *out_len)
{
    if (pub == NULL || pub->alg == NULL || pub->pk_len != pub->alg->pk_len ||
        !usage_known(pub->usage) || out == NULL || out_len == NULL)
        return PQCOAP_ERR_ARG;
    static const char hex[] = "0123456789abcdef";
    pqcoap_writer w;
    pqcoap_wr_init(&w, out, cap);
    wr_str(&w, sk != NULL ? secret_header : public_header);
    wr_str(&w, "\nalg: ");
    wr_str(&w, pub->alg->name);
    if (pub->usage == PQCOAP_USAGE_SIGN_V1) {
        wr_str(&w, "\n");
        wr_str(&w, usage_label);
        wr_str(&w, usage_sign_v1);
    }
    wr_str(&w, "\nkid: ");
    for (size_t i = 0; i < PQCOAP_KID_LEN; i++) {
        pqcoap_wr_u8(&w, (uint8_t)hex[pub->kid[i] >> 4]);
        pqcoap_wr_u8(&w, (uint8_t)hex[pub->kid[i] & 15]);
    }
    pqcoap_wr_u8(&w, '\n');
    wr_b64_line(&w, "pk: ", pub->pk, pub->pk_len);
    if (sk != NULL)
        wr_b64_line(&w, "sk: ", sk, pub->alg->sk_len);
    if (w.err != PQCOAP_OK) {
        pqcoap_wipe(out, cap);
        return w.err;
    }
    *out_len = w.len;
    return PQCOAP_OK;
}

pqcoap_err pqcoap_identity_encode(const pqcoap_identity *id, uint8_t *out, size_t cap,
                                  size_t *out_len)
{
    if (id == NULL)
        return PQCOAP_ERR_ARG;
    return encode(&id->pub, id->sk, out, cap, out_len);
}

pqcoap_err pqcoap_pubkey_encode(const pqcoap_pubkey *pk, uint8_t *out, size_t cap,
                                size_t *out_len)
{
    return encode(pk, NULL, out, cap, out_len);
}

/* Reads one line "<label><value>\n" and borrows the value. */
static int rd_line(pqcoap_reader *r, const char *label, const uint8_t **value, size_t *n)
{
    const uint8_t *rest = NULL;
    size_t left = pqcoap_rd_left(r), label_len = strlen(label);
    if (pqcoap_rd_bytes(r, 0, &rest) != PQCOAP_OK || left == 0)
        return 0;
    const uint8_t *nl = memchr(rest, '\n', left);
    if (nl == NULL)
        return 0;
    size_t line = (size_t)(nl - rest);
    const uint8_t *p;
    if (line < label_len || pqcoap_rd_bytes(r, line + 1, &p) != PQCOAP_OK ||
        memcmp(p, label, label_len) != 0)
        return 0;
    *value = p + label_len;
    *n = line - label_len;
    return 1;
}

/* Reads the optional usage line that may follow "alg:": only "usage: sign-v1" is written,
 * so only it is accepted; without the line the key is general. */
static int rd_usage(pqcoap_reader *r, pqcoap_key_usage *usage)
{
    const uint8_t *rest = NULL, *v;
    size_t left = pqcoap_rd_left(r), n, label_len = sizeof usage_label - 1;
    *usage = PQCOAP_USAGE_GENERAL;
    if (pqcoap_rd_bytes(r, 0, &rest) != PQCOAP_OK || left < label_len ||
        memcmp(rest, usage_label, label_len) != 0)
        return 1;
    if (!rd_line(r, usage_label, &v, &n) || n != sizeof usage_sign_v1 - 1 ||
        memcmp(v, usage_sign_v1, n) != 0)
        return 0;
    *usage = PQCOAP_USAGE_SIGN_V1;
    return 1;
}

/* Decodes base64 text that must be the canonical encoding of exactly n bytes. */
static int b64_exact(const uint8_t *text, size_t text_len, uint8_t *out, size_t n)
{
    uint8_t bin[PQCOAP_SK_MAX + 3], again[B64_MAX];
    int ok = n <= PQCOAP_SK_MAX && text_len == b64_len(n) &&
             EVP_DecodeBlock(bin, text, (int)text_len) == (int)(3 * (text_len / 4));
    /* Canonical: re-encoding gives the same text (padding, unused bits, no stray bytes). */
    ok = ok && EVP_EncodeBlock(again, bin, (int)n) == (int)text_len &&
         pqcoap_ct_equal(again, text, text_len);
    if (ok)
        memcpy(out, bin, n);
    pqcoap_wipe(bin, sizeof bin);
    pqcoap_wipe(again, sizeof again);
    return ok;
}

static int hex_exact(const uint8_t *text, size_t text_len, uint8_t *out, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    if (text_len != 2 * n)
        return 0;
    for (size_t i = 0; i < text_len; i++) {
        const char *d = memchr(hex, text[i], 16);
        if (d == NULL)
            return 0;
        uint8_t v = (uint8_t)(d - hex);
        out[i / 2] = (uint8_t)(i % 2 == 0 ? v << 4 : out[i / 2] | v);
    }
    return 1;
}

/* The secret key, from its expanded form where it has one (the form the identity will sign
 * from), must produce signatures the public key accepts. */
static int pair_matches(const pqcoap_pubkey *pub, const uint8_t *sk,
                        const pqcoap_expanded_key *ek)
{
    static const uint8_t probe[] = "pqcoap key file check";
    const pqcoap_span msg = {probe, sizeof probe - 1};
    uint8_t sig[PQCOAP_SIG_MAX];
    size_t sig_len = 0;
    return pqcoap_sig_sign(pub->alg, NULL, sk, ek->k, ek->len, &msg, 1, sig, &sig_len) ==
               PQCOAP_OK &&
           pub->alg->verify(pub->pk, &msg, 1, sig, sig_len) == PQCOAP_OK;
}

/* Parses a key file into pub and, for a secret key file (sk not NULL), sk and its expanded
 * form ek. */
static pqcoap_err parse(const uint8_t *in, size_t len, pqcoap_pubkey *pub, uint8_t *sk,
                        pqcoap_expanded_key *ek)
{
    pqcoap_reader r;
    const uint8_t *v;
    size_t n;
    uint8_t kid[PQCOAP_KID_LEN];
    pqcoap_rd_init(&r, in, len);
    int ok = rd_line(&r, sk != NULL ? secret_header : public_header, &v, &n) && n == 0 &&
             rd_line(&r, "alg: ", &v, &n) && (pub->alg = pqcoap_sig_alg_by_name(v, n)) != NULL &&
             rd_usage(&r, &pub->usage) &&
             rd_line(&r, "kid: ", &v, &n) && hex_exact(v, n, kid, sizeof kid) &&
             rd_line(&r, "pk: ", &v, &n) && b64_exact(v, n, pub->pk, pub->alg->pk_len);
    if (ok && sk != NULL)
        ok = rd_line(&r, "sk: ", &v, &n) && b64_exact(v, n, sk, pub->alg->sk_len);
    ok = ok && pqcoap_rd_end(&r) == PQCOAP_OK;
    if (ok) {
        pub->pk_len = pub->alg->pk_len;
        ok = pqcoap_kid(pub->pk, pub->pk_len, pub->kid) == PQCOAP_OK &&
             memcmp(kid, pub->kid, sizeof kid) == 0;
    }
    if (ok && sk != NULL)
        ok = pqcoap_sig_expand(pub->alg, sk, ek) == PQCOAP_OK && pair_matches(pub, sk, ek);
    return ok ? PQCOAP_OK : PQCOAP_ERR_KEYFILE;
}

pqcoap_err pqcoap_identity_parse(const uint8_t *in, size_t len, pqcoap_identity *out)
{
    if (in == NULL || out == NULL)
        return PQCOAP_ERR_ARG;
    memset(out, 0, sizeof *out);
    pqcoap_err err = parse(in, len, &out->pub, out->sk, &out->ek);
    if (err != PQCOAP_OK)
        pqcoap_identity_wipe(out);
    return err;
}

pqcoap_err pqcoap_pubkey_parse(const uint8_t *in, size_t len, pqcoap_pubkey *out)
{
    if (in == NULL || out == NULL)
        return PQCOAP_ERR_ARG;
    memset(out, 0, sizeof *out);
    pqcoap_err err = parse(in, len, out, NULL, NULL);
    if (err != PQCOAP_OK)
        memset(out, 0, sizeof *out);
    return err;
}

/* ---- files ---- */

/* Writes text to a fresh temporary file beside path, then moves it into place: rename
 * replaces an existing file, link refuses to (EEXIST). */
static pqcoap_err save(const char *path, const uint8_t *text, size_t len, mode_t mode,
                       int overwrite)
{
    /* mkstemp's template: the path, a dot and six 'X' that it replaces */
    static const char suffix[] = {'.', 'X', 'X', 'X', 'X', 'X', 'X', '\0'};
    size_t path_len = strlen(path);
    char *tmp = malloc(path_len + sizeof suffix);
    if (tmp == NULL)
        return PQCOAP_ERR_NOMEM;
    memcpy(tmp, path, path_len);
    memcpy(tmp + path_len, suffix, sizeof suffix);
    int fd = mkstemp(tmp); /* created with mode 0600 */
    if (fd < 0) {
        free(tmp);
        return PQCOAP_ERR_IO;
    }
    size_t done = 0;
    while (done < len) {
        ssize_t w = write(fd, text + done, len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        done += (size_t)w;
    }
    int ok = done == len && fchmod(fd, mode) == 0 && fsync(fd) == 0;
    ok = close(fd) == 0 && ok;
    pqcoap_err err = PQCOAP_ERR_IO;
    if (ok && overwrite)
        err = rename(tmp, path) == 0 ? PQCOAP_OK : PQCOAP_ERR_IO;
    else if (ok)
        err = link(tmp, path) == 0 ? PQCOAP_OK : errno == EEXIST ? PQCOAP_ERR_EXISTS
                                                                 : PQCOAP_ERR_IO;
    if (err != PQCOAP_OK || !overwrite)
        unlink(tmp);
    free(tmp);
    return err;
}

/* Reads the whole file at path into buf[0..PQCOAP_KEYFILE_MAX); a larger file is no key file.
 * *mode (if not NULL) gets the permission bits of the file read. */
static pqcoap_err load(const char *path, uint8_t *buf, size_t *len, mode_t *mode)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? PQCOAP_ERR_NOT_FOUND : PQCOAP_ERR_IO;
    struct stat st;
    FILE *f = fstat(fd, &st) == 0 ? fdopen(fd, "rb") : NULL;
    if (f == NULL) {
        close(fd);
        return PQCOAP_ERR_IO;
    }
    if (mode != NULL)
        *mode = st.st_mode & 07777;
    uint8_t extra;
    *len = fread(buf, 1, PQCOAP_KEYFILE_MAX, f);
    pqcoap_err err = ferror(f) ? PQCOAP_ERR_IO : PQCOAP_OK;
    if (err == PQCOAP_OK && *len == PQCOAP_KEYFILE_MAX && fread(&extra, 1, 1, f) == 1)
        err = PQCOAP_ERR_KEYFILE;
    fclose(f);
    return err;
}

pqcoap_err pqcoap_identity_save(const pqcoap_identity *id, const char *path, int overwrite)
{
    if (id == NULL || path == NULL)
        return PQCOAP_ERR_ARG;
    uint8_t text[PQCOAP_KEYFILE_MAX];
    size_t len = 0;
    pqcoap_err err = pqcoap_identity_encode(id, text, sizeof text, &len);
    if (err == PQCOAP_OK)
        err = save(path, text, len, 0600, overwrite);
    pqcoap_wipe(text, sizeof text);
    return err;
}

pqcoap_err pqcoap_pubkey_save(const pqcoap_pubkey *pk, const char *path, int overwrite)
{
    if (pk == NULL || path == NULL)
        return PQCOAP_ERR_ARG;
    uint8_t text[PQCOAP_KEYFILE_MAX];
    size_t len = 0;
    PQCOAP_TRY(pqcoap_pubkey_encode(pk, text, sizeof text, &len));
    return save(path, text, len, 0644, overwrite);
}

pqcoap_err pqcoap_identity_load_msg(const char *path, char *msg, size_t msg_cap,
                                    pqcoap_identity *out)
{
    if ((msg == NULL && msg_cap != 0) || path == NULL || out == NULL)
        return PQCOAP_ERR_ARG;
    if (msg_cap != 0)
        msg[0] = '\0';
    uint8_t text[PQCOAP_KEYFILE_MAX];
    size_t len = 0;
    mode_t mode = 0;
    pqcoap_err err = load(path, text, &len, &mode);
    if (err == PQCOAP_OK)
        err = pqcoap_identity_parse(text, len, out);
    /* A secret key that its group or others may read or replace is refused, as ssh refuses
     * such a private key: it may be known or chosen by someone else. */
    int exposed = err == PQCOAP_OK && (mode & 077) != 0;
    if (exposed)
        err = PQCOAP_ERR_KEYFILE;
    if (err != PQCOAP_OK)
        pqcoap_identity_wipe(out);
    pqcoap_wipe(text, sizeof text);
    if (err == PQCOAP_OK || msg_cap == 0)
        return err;
    if (exposed)
        snprintf(msg, msg_cap, "secret key file '%s' may be accessed by its group or others "
                 "(mode %04o): it must be private to its owner; run chmod 600 '%s'", path,
                 (unsigned)mode, path);
    else if (err == PQCOAP_ERR_NOT_FOUND)
        snprintf(msg, msg_cap, "secret key file '%s' does not exist", path);
    else if (err == PQCOAP_ERR_KEYFILE)
        snprintf(msg, msg_cap, "'%s' is not a valid secret key file (wrong, truncated or of "
                 "another kind; see docs/KEYS.md)", path);
    else
        snprintf(msg, msg_cap, "cannot read secret key file '%s': %s", path,
                 pqcoap_strerror(err));
    return err;
}

pqcoap_err pqcoap_identity_load(const char *path, pqcoap_identity *out)
{
    return pqcoap_identity_load_msg(path, NULL, 0, out);
}

pqcoap_err pqcoap_pubkey_load(const char *path, pqcoap_pubkey *out)
{
    if (path == NULL || out == NULL)
        return PQCOAP_ERR_ARG;
    uint8_t text[PQCOAP_KEYFILE_MAX];
    size_t len = 0;
    PQCOAP_TRY(load(path, text, &len, NULL));
    return pqcoap_pubkey_parse(text, len, out);
}

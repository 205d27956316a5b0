/* Parser of OSCORE security context files in libcoap's format (coap-oscore-conf(5)):
 * `keyword,encoding,value` per line, so pqcoap shares provisioning files with libcoap. */
#include "pqcoap/oscore.h"
#include "crypto/crypto_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* One line's fields, trimmed; the value without its enclosing quotes. */
typedef struct conf_line {
    const char *key, *enc, *val;
    size_t key_len, enc_len, val_len;
} conf_line;

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

static void trim(const char **p, size_t *n)
{
    while (*n > 0 && is_space(**p)) {
        (*p)++;
        (*n)--;
    }
    while (*n > 0 && is_space((*p)[*n - 1]))
        (*n)--;
}

static int eq(const char *p, size_t n, const char *s)
{
    return n == strlen(s) && memcmp(p, s, n) == 0;
}

/* Splits line[0..n) at its first two commas. Returns 0 if there are fewer than two. */
static int split(const char *line, size_t n, conf_line *out)
{
    const char *c1 = memchr(line, ',', n);
    if (c1 == NULL)
        return 0;
    const char *c2 = memchr(c1 + 1, ',', n - (size_t)(c1 + 1 - line));
    if (c2 == NULL)
        return 0;
    out->key = line;
    out->key_len = (size_t)(c1 - line);
    out->enc = c1 + 1;
    out->enc_len = (size_t)(c2 - c1 - 1);
    out->val = c2 + 1;
    out->val_len = n - (size_t)(c2 + 1 - line);
    trim(&out->key, &out->key_len);
    trim(&out->enc, &out->enc_len);
    trim(&out->val, &out->val_len);
    if (out->val_len >= 2 && out->val[0] == '"' && out->val[out->val_len - 1] == '"') {
        out->val++;
        out->val_len -= 2;
    }
    return 1;
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* A byte string in encoding hex or ascii, at most cap bytes. Returns 0 if malformed. */
static int bytes_value(const conf_line *l, uint8_t *out, size_t cap, size_t *len)
{
    if (eq(l->enc, l->enc_len, "ascii")) {
        if (l->val_len > cap)
            return 0;
        memcpy(out, l->val, l->val_len);
        *len = l->val_len;
        return 1;
    }
    if (!eq(l->enc, l->enc_len, "hex") || l->val_len % 2 != 0 || l->val_len / 2 > cap)
        return 0;
    for (size_t i = 0; i < l->val_len / 2; i++) {
        int hi = hex_digit(l->val[2 * i]), lo = hex_digit(l->val[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return 0;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    *len = l->val_len / 2;
    return 1;
}

/* A decimal integer (encoding integer; a leading '-' allowed) within [lo, hi]. */
static int int_value(const conf_line *l, long long lo, long long hi, long long *v)
{
    if (!eq(l->enc, l->enc_len, "integer") || l->val_len == 0 || l->val_len > 19)
        return 0;
    size_t i = l->val[0] == '-';
    if (i == l->val_len)
        return 0;
    long long x = 0;
    for (; i < l->val_len; i++) {
        if (l->val[i] < '0' || l->val[i] > '9')
            return 0;
        x = x * 10 + (l->val[i] - '0');
    }
    if (l->val[0] == '-')
        x = -x;
    if (x < lo || x > hi)
        return 0;
    *v = x;
    return 1;
}

static int bool_value(const conf_line *l, int *v)
{
    if (!eq(l->enc, l->enc_len, "bool"))
        return 0;
    if (eq(l->val, l->val_len, "true"))
        *v = 1;
    else if (eq(l->val, l->val_len, "false"))
        *v = 0;
    else
        return 0;
    return 1;
}

/* An algorithm as integer or as its COSE name (encoding text). */
static int alg_value(const conf_line *l, int *v)
{
    static const struct { const char *name; int id; } names[] = {
        {"AES-CCM-16-64-128", PQCOAP_COSE_AES_CCM_16_64_128},
        {"AES-CCM-16-128-256", PQCOAP_COSE_AES_CCM_16_128_256},
        {"A256GCM", PQCOAP_COSE_A256GCM},
        {"direct+HKDF-SHA-256", PQCOAP_COSE_HKDF_SHA256},
    };
    if (eq(l->enc, l->enc_len, "text")) {
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
            if (eq(l->val, l->val_len, names[i].name)) {
                *v = names[i].id;
                return 1;
            }
        return 0;
    }
    long long x;
    if (!int_value(l, -65536, 65535, &x))
        return 0;
    *v = (int)x;
    return 1;
}

__attribute__((format(printf, 4, 5)))
static pqcoap_err fail(pqcoap_err err, char *msg, size_t cap, const char *fmt, ...)
{
    if (msg != NULL && cap > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, cap, fmt, ap);
        va_end(ap);
    }
    return err;
}

/* Applies one line to *c; `seen` has a bit per keyword for the repeat check. Returns a
 * static reason, or NULL when the line is good. */
static const char *apply(const conf_line *l, pqcoap_oscore_conf *c, unsigned *seen)
{
    static const char *const keys[] = {
        "master_secret", "master_salt", "id_context", "sender_id", "recipient_id",
        "replay_window", "ssn_freq", "aead_alg", "hkdf_alg", "rfc8613_b_1_2", "rfc8613_b_2",
        "break_sender_key", "break_recipient_key",
    };
    size_t k = 0;
    while (k < sizeof keys / sizeof keys[0] && !eq(l->key, l->key_len, keys[k]))
        k++;
    if (k == sizeof keys / sizeof keys[0])
        return "unknown keyword";
    if (k != 4 && (*seen & (1u << k)))
        return "keyword given twice";
    *seen |= 1u << k;
    long long x;
    int b;
    switch (k) {
    case 0:
        return bytes_value(l, c->master_secret, sizeof c->master_secret,
                           &c->master_secret_len) && c->master_secret_len > 0
                   ? NULL : "master_secret must be 1..64 bytes, hex or ascii";
    case 1:
        return bytes_value(l, c->master_salt, sizeof c->master_salt, &c->master_salt_len)
                   ? NULL : "master_salt must be 0..64 bytes, hex or ascii";
    case 2:
        c->has_id_context = 1;
        return bytes_value(l, c->id_context, sizeof c->id_context, &c->id_context_len)
                   ? NULL : "id_context must be 0..64 bytes, hex or ascii";
    case 3:
        return bytes_value(l, c->sender_id, sizeof c->sender_id, &c->sender_id_len)
                   ? NULL : "sender_id must be 0..7 bytes, hex or ascii";
    case 4:
        if (c->n_recipients == PQCOAP_OSCORE_RECIPIENTS_MAX)
            return "too many recipient_id lines";
        if (!bytes_value(l, c->recipient_id[c->n_recipients],
                         sizeof c->recipient_id[0], &c->recipient_id_len[c->n_recipients]))
            return "recipient_id must be 0..7 bytes, hex or ascii";
        c->n_recipients++;
        return NULL;
    case 5:
        if (!int_value(l, 1, PQCOAP_REPLAY_WINDOW, &x))
            return "replay_window must be an integer from 1 to 64";
        c->replay_window = (unsigned)x;
        return NULL;
    case 6:
        if (!int_value(l, 1, 1000000, &x))
            return "ssn_freq must be an integer from 1 to 1000000";
        c->ssn_freq = (uint64_t)x;
        return NULL;
    case 7:
        return alg_value(l, &c->aead_alg) ? NULL : "aead_alg: unknown algorithm";
    case 8:
        return alg_value(l, &c->hkdf_alg) ? NULL : "hkdf_alg: unknown algorithm";
    case 9:
        return bool_value(l, &c->rfc8613_b_1_2) ? NULL : "rfc8613_b_1_2 must be a bool";
    case 10:
        if (!bool_value(l, &c->rfc8613_b_2))
            return "rfc8613_b_2 must be a bool";
        return c->rfc8613_b_2 ? "rfc8613_b_2 (Appendix B.2) is not supported" : NULL;
    default: /* break_*: test switches of libcoap that deliberately break keys */
        if (!bool_value(l, &b))
            return "must be a bool";
        return b ? "break_sender_key / break_recipient_key are not supported" : NULL;
    }
}

pqcoap_err pqcoap_oscore_conf_parse(const char *in, size_t len, pqcoap_oscore_conf *out,
                                    char *msg, size_t msg_cap)
{
    if (in == NULL || out == NULL || (msg == NULL && msg_cap > 0))
        return PQCOAP_ERR_ARG;
    if (msg_cap > 0)
        msg[0] = 0;
    memset(out, 0, sizeof *out);
    if (len > PQCOAP_OSCORE_CONF_MAX)
        return fail(PQCOAP_ERR_MALFORMED, msg, msg_cap, "larger than %d bytes",
                    PQCOAP_OSCORE_CONF_MAX);
    out->aead_alg = PQCOAP_COSE_AES_CCM_16_64_128;
    out->hkdf_alg = PQCOAP_COSE_HKDF_SHA256;
    out->replay_window = PQCOAP_OSCORE_WINDOW_DEFAULT;
    out->ssn_freq = 1;
    out->rfc8613_b_1_2 = 1;
    unsigned seen = 0;
    size_t pos = 0, lineno = 0;
    while (pos < len) {
        const char *line = in + pos;
        const char *nl = memchr(line, '\n', len - pos);
        size_t n = nl != NULL ? (size_t)(nl - line) : len - pos;
        pos += n + (nl != NULL);
        lineno++;
        trim(&line, &n);
        if (n == 0 || line[0] == '#')
            continue;
        conf_line l;
        const char *why = memchr(line, 0, n) != NULL ? "NUL byte"
                        : !split(line, n, &l) ? "expected keyword,encoding,value"
                        : apply(&l, out, &seen);
        if (why != NULL) {
            pqcoap_oscore_conf_wipe(out);
            return fail(PQCOAP_ERR_MALFORMED, msg, msg_cap, "line %zu: %s", lineno, why);
        }
    }
    const char *missing = !(seen & 1u) ? "master_secret" : !(seen & 8u) ? "sender_id"
                        : out->n_recipients == 0 ? "recipient_id" : NULL;
    if (missing != NULL) {
        pqcoap_oscore_conf_wipe(out);
        return fail(PQCOAP_ERR_MALFORMED, msg, msg_cap, "%s is missing", missing);
    }
    const pqcoap_cose_aead *alg = pqcoap_cose_aead_find(out->aead_alg);
    if (alg == NULL || out->hkdf_alg != PQCOAP_COSE_HKDF_SHA256) {
        pqcoap_oscore_conf_wipe(out);
        return fail(PQCOAP_ERR_UNSUPPORTED, msg, msg_cap,
                    "unsupported algorithm (AEAD 10, 31 or 3; HKDF -10)");
    }
    /* RFC 8613 section 3.3: IDs at most nonce length - 6 bytes. */
    size_t id_max = alg->nonce_len - 6;
    int too_long = out->sender_id_len > id_max;
    for (size_t i = 0; i < out->n_recipients; i++)
        too_long |= out->recipient_id_len[i] > id_max;
    if (too_long) {
        pqcoap_oscore_conf_wipe(out);
        return fail(PQCOAP_ERR_MALFORMED, msg, msg_cap,
                    "sender_id or recipient_id longer than %zu bytes", id_max);
    }
    return PQCOAP_OK;
}

pqcoap_err pqcoap_oscore_conf_params(const pqcoap_oscore_conf *conf, size_t recipient,
                                     pqcoap_oscore_params *p)
{
    if (conf == NULL || p == NULL || recipient >= conf->n_recipients)
        return PQCOAP_ERR_ARG;
    *p = (pqcoap_oscore_params)PQCOAP_OSCORE_PARAMS_INIT;
    p->master_secret = conf->master_secret;
    p->master_secret_len = conf->master_secret_len;
    p->master_salt = conf->master_salt;
    p->master_salt_len = conf->master_salt_len;
    p->id_context = conf->id_context;
    p->id_context_len = conf->id_context_len;
    p->has_id_context = conf->has_id_context;
    p->sender_id = conf->sender_id;
    p->sender_id_len = conf->sender_id_len;
    p->recipient_id = conf->recipient_id[recipient];
    p->recipient_id_len = conf->recipient_id_len[recipient];
    p->aead_alg = conf->aead_alg;
    p->hkdf_alg = conf->hkdf_alg;
    p->replay_window = conf->replay_window;
    return PQCOAP_OK;
}

void pqcoap_oscore_conf_wipe(pqcoap_oscore_conf *conf)
{
    if (conf != NULL)
        pqcoap_wipe(conf, sizeof *conf);
}

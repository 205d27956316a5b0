/* libFuzzer target: the client's URI parsers (src/net/client.c): pqcoap_client_parse_uri,
 * which pqcoap_client_open runs on its coap:// URI, and pqcoap_client_path_query, which a
 * request's "path?query" goes through. Input: u8 choice (bit 0: 0 = URI, 1 = path?query)
 * || the string (up to its first NUL). Buffers are the sizes the client uses. */
#include "fuzz_common.h"
#include "net/client_internal.h"
#include "net/net_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The options of b are Uri-Path options, then Uri-Query options, and their values are no
 * longer than the path and query they were decoded from (percent-decoding only shrinks). */
static void check_opts(const pqcoap_msgbuf *b, size_t path_len, size_t query_len)
{
    size_t path_sum = 0, query_sum = 0;
    for (size_t i = 0; i < b->n_opts; i++) {
        const pqcoap_opt *o = &b->opts[i];
        if (o->number == PQCOAP_OPT_URI_PATH && (i == 0 || b->opts[i - 1].number == o->number))
            path_sum += o->len;
        else if (o->number == PQCOAP_OPT_URI_QUERY)
            query_sum += o->len;
        else
            __builtin_trap();
    }
    if (path_sum > path_len || query_sum > query_len || b->n_opts > b->opts_cap ||
        b->vals_len > b->vals_cap)
        __builtin_trap();
}

/* True if s[0..n) lies inside str[0..len). */
static int inside(const uint8_t *s, size_t n, const char *str, size_t len)
{
    return n == 0 || ((const char *)s >= str && n <= len && (const char *)s - str <= (ptrdiff_t)(len - n));
}

static void parse_uri(const char *str, size_t len)
{
    pqcoap_opt opts[32];
    uint8_t vals[1024];
    pqcoap_msgbuf b;
    coap_uri_t uri;
    char msg[256] = "";
    pqcoap_msgbuf_init(&b, opts, 32, vals, sizeof vals, NULL, 0);
    pqcoap_err err = pqcoap_client_parse_uri(str, &uri, &b, msg, sizeof msg);
    if (err != PQCOAP_OK) {
        if (err != PQCOAP_ERR_BAD_URI || msg[0] == '\0')
            __builtin_trap();
        return;
    }
    if (len < 7 || memcmp(str, "coap://", 7) != 0 || uri.scheme != COAP_URI_SCHEME_COAP ||
        !inside(uri.host.s, uri.host.length, str, len) ||
        !inside(uri.path.s, uri.path.length, str, len) ||
        !inside(uri.query.s, uri.query.length, str, len))
        __builtin_trap();
    check_opts(&b, uri.path.length, uri.query.length);
}

static void path_query(const char *str, size_t len)
{
    pqcoap_net_scratch *s = malloc(sizeof *s);
    if (!s)
        abort();
    pqcoap_msgbuf_init(&s->b, s->opts, PQCOAP_NET_MAX_OPTS, s->vals, sizeof s->vals, NULL, 0);
    pqcoap_err err = pqcoap_client_path_query(&s->b, str);
    const char *q = memchr(str, '?', len);
    size_t plen = q ? (size_t)(q - str) : len;
    if (err == PQCOAP_OK)
        check_opts(&s->b, plen, q ? len - plen - 1 : 0);
    else if (err != PQCOAP_ERR_BAD_URI)
        __builtin_trap();
    free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    /* a heap copy ending at its NUL, so that any read past the string is caught */
    size_t len = strnlen((const char *)data + 1, size - 1);
    char *str = malloc(len + 1);
    if (!str)
        abort();
    memcpy(str, data + 1, len);
    str[len] = '\0';
    if (data[0] & 1)
        path_query(str, len);
    else
        parse_uri(str, len);
    free(str);
    return 0;
}

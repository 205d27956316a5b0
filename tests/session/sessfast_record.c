/* Mode B receive path without a copy of the window: a message that fails authentication
 * leaves the session byte for byte as it was, whether its key is derived ahead, is the next
 * one or is a held skipped key; and a retransmission is the request accepted last (its n,
 * length and tag), so another request under the same n is a replay. */
#include <string.h>

#include "check.h"
#include "fixture.h"

#define T0 7000000

static fixture fx;
static pqcoap_session client;

/* A protected request: its payload and number. */
typedef struct req {
    uint8_t prot[96];
    size_t len;
    uint64_t n;
} req;

static void protect(pqcoap_session *c, const char *text, req *out)
{
    pqcoap_msg m = fx_request(PQCOAP_GET, (const uint8_t *)"tk", 2, (const uint8_t *)text,
                              strlen(text));
    CHECK_EQ_INT(pqcoap_session_protect_request(c, &m, T0, out->prot, sizeof out->prot,
                                                &out->len, &out->n), PQCOAP_OK);
}

static pqcoap_err deliver(const req *r)
{
    uint8_t plain[64];
    size_t plain_len;
    pqcoap_req_ctx ctx;
    pqcoap_msg m = fx_request(PQCOAP_GET, (const uint8_t *)"tk", 2, r->prot, r->len);
    return pqcoap_responder_unprotect(&fx.responder, &m, T0, plain, sizeof plain, &plain_len,
                                      &ctx);
}

/* Delivers r with its last tag byte changed: refused, and the session unchanged. */
static void forged_changes_nothing(const req *r, int line)
{
    static uint8_t a[PQCOAP_SNAPSHOT_MAX], b[PQCOAP_SNAPSHOT_MAX];
    pqcoap_session *s = fx_server_session(&fx, client.sid);
    req bad = *r;
    bad.prot[bad.len - 1] ^= 0x80;
    size_t la = fx_snapshot(s, a);
    pqcoap_err err = deliver(&bad);
    if (err != PQCOAP_ERR_AUTH)
        fprintf(stderr, "line %d: got %d\n", line, err);
    CHECK_EQ_INT(err, PQCOAP_ERR_AUTH);
    CHECK(fx_snapshot(s, b) == la && memcmp(a, b, la) == 0);
}

#define FORGED(r) forged_changes_nothing(r, __LINE__)

static void test_failed_tag_moves_nothing(void)
{
    static req r[6];
    fx_restart_responder(&fx, FX_SLOTS);
    CHECK_EQ_INT(fx_handshake(&fx, &fx.client, "client", 10, T0, &client), PQCOAP_OK);
    for (size_t i = 0; i < 6; i++)
        protect(&client, "reading", &r[i]);
    FORGED(&r[0]);                          /* the next number */
    FORGED(&r[3]);                          /* ahead: skipped keys derived, not kept */
    CHECK_EQ_INT(deliver(&r[3]), PQCOAP_OK);
    FORGED(&r[1]);                          /* a held skipped key: still held after */
    CHECK_EQ_INT(deliver(&r[1]), PQCOAP_OK);
    FORGED(&r[4]);                          /* the next number again */
    FORGED(&r[5]);
    CHECK_EQ_INT(deliver(&r[0]), PQCOAP_OK);
    CHECK_EQ_INT(deliver(&r[2]), PQCOAP_OK);
    CHECK_EQ_INT(deliver(&r[5]), PQCOAP_OK);
    CHECK_EQ_INT(deliver(&r[4]), PQCOAP_OK);
    for (size_t i = 0; i < 6; i++)          /* each accepted once; 4 the last */
        CHECK_EQ_INT(deliver(&r[i]), i == 4 ? PQCOAP_ERR_RETRANSMIT : PQCOAP_ERR_REPLAY);
}

static void test_same_n_other_request(void)
{
    req a, b, longer;
    fx_restart_responder(&fx, FX_SLOTS);
    CHECK_EQ_INT(fx_handshake(&fx, &fx.client, "client", 20, T0, &client), PQCOAP_OK);
    pqcoap_session fork = client;           /* a second request under the same n */
    protect(&client, "open valve 1", &a);
    protect(&fork, "open valve 2", &b);
    pqcoap_session_wipe(&fork);
    CHECK(a.n == b.n && a.len == b.len);
    CHECK_EQ_INT(deliver(&a), PQCOAP_OK);
    CHECK_EQ_INT(deliver(&a), PQCOAP_ERR_RETRANSMIT);
    /* another request with the same n and length, another tag: a replay, no kept response */
    CHECK_EQ_INT(deliver(&b), PQCOAP_ERR_REPLAY);
    /* the same tag after one more byte: another length, a replay */
    longer = a;
    memmove(longer.prot + longer.len - 15, longer.prot + longer.len - 16, 16);
    longer.len++;
    CHECK_EQ_INT(deliver(&longer), PQCOAP_ERR_REPLAY);
    CHECK_EQ_INT(deliver(&a), PQCOAP_ERR_RETRANSMIT);
    /* once a newer request is accepted, a is a replay too */
    protect(&client, "close valve 1", &b);
    CHECK_EQ_INT(deliver(&b), PQCOAP_OK);
    CHECK_EQ_INT(deliver(&a), PQCOAP_ERR_REPLAY);
    CHECK_EQ_INT(deliver(&b), PQCOAP_ERR_RETRANSMIT);
}

int main(void)
{
    fx_setup(&fx, "sessfast-record", FX_SLOTS, 0, 0, 0);
    test_failed_tag_moves_nothing();
    test_same_n_other_request();
    pqcoap_session_wipe(&client);
    fx_teardown(&fx);
    return check_done();
}

/* A client and a server driven against each other in memory over a simulated network that
 * loses, duplicates, delays and reorders messages (deterministic PRNG): every request is
 * handled at most once, every delivered response is accepted exactly once. */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "fixture.h"

#define T0 7000000
#define CON_REQUESTS 150
#define NON_ROUNDS 60
#define MAX_REQ (CON_REQUESTS + NON_ROUNDS * 8)
#define MAX_LATE 64

static fixture fx;
static pqcoap_session client;

static uint64_t prng_state = 0x9e3779b97f4a7c15u;

/* xorshift64*: the network's deterministic dice. */
static uint64_t prng(void)
{
    prng_state ^= prng_state >> 12;
    prng_state ^= prng_state << 25;
    prng_state ^= prng_state >> 27;
    return prng_state * 0x2545f4914f6cdd1du;
}

static int chance(unsigned percent) { return prng() % 100 < percent; }

/* One request as the client made it, and what each side observed. */
typedef struct request {
    uint8_t token[2];
    uint8_t prot[64];
    size_t len;
    uint64_t n;
    int handled;                    /* times the server ran the handler */
    int answered;                   /* times the client accepted a response */
    uint8_t resp[64];               /* the server's protected response (its cache) */
    size_t resp_len;
} request;

static request reqs[MAX_REQ];
static size_t n_reqs;

static void make(size_t i)
{
    char text[16];
    int len = snprintf(text, sizeof text, "get %zu", i);
    reqs[i].token[0] = (uint8_t)(i >> 8);
    reqs[i].token[1] = (uint8_t)i;
    pqcoap_msg m = fx_request(PQCOAP_GET, reqs[i].token, 2, (const uint8_t *)text, (size_t)len);
    CHECK_EQ_INT(pqcoap_session_protect_request(&client, &m, T0, reqs[i].prot,
                                                sizeof reqs[i].prot, &reqs[i].len, &reqs[i].n),
                 PQCOAP_OK);
}

/* The server receives a copy of request i. Returns 1 if it sends a response (new or the
 * cached one for a retransmission). */
static int server_receive(size_t i)
{
    uint8_t plain[64];
    size_t plain_len;
    pqcoap_req_ctx ctx;
    pqcoap_msg m = fx_request(PQCOAP_GET, reqs[i].token, 2, reqs[i].prot, reqs[i].len);
    pqcoap_err err = pqcoap_responder_unprotect(&fx.responder, &m, T0, plain, sizeof plain,
                                                &plain_len, &ctx);
    if (err == PQCOAP_OK) {
        char text[16];
        int len = snprintf(text, sizeof text, "val %zu", i);
        reqs[i].handled++;
        pqcoap_msg r = fx_response(PQCOAP_CODE(2, 5), reqs[i].token, 2, (const uint8_t *)text,
                                   (size_t)len);
        CHECK_EQ_INT(pqcoap_responder_protect(&fx.responder, &ctx, &r, T0, reqs[i].resp,
                                              sizeof reqs[i].resp, &reqs[i].resp_len),
                     PQCOAP_OK);
        return 1;
    }
    if (err == PQCOAP_ERR_RETRANSMIT) {
        CHECK(ctx.request_n == reqs[i].n && reqs[i].handled == 1);
        return 1; /* the net layer resends reqs[i].resp */
    }
    CHECK_EQ_INT(err, PQCOAP_ERR_REPLAY);
    CHECK_EQ_INT(reqs[i].handled, 1); /* only copies of handled requests are refused */
    return 0;
}

/* The client receives a copy of the response to request i. */
static void client_receive(size_t i)
{
    uint8_t plain[64];
    size_t plain_len;
    char text[16];
    int len = snprintf(text, sizeof text, "val %zu", i);
    pqcoap_msg r = fx_response(PQCOAP_CODE(2, 5), reqs[i].token, 2, reqs[i].resp,
                               reqs[i].resp_len);
    pqcoap_err err = pqcoap_session_unprotect_response(&client, reqs[i].n, &r, T0, plain,
                                                       sizeof plain, &plain_len);
    if (err == PQCOAP_OK) {
        CHECK(plain_len == (size_t)len && memcmp(plain, text, plain_len) == 0);
        reqs[i].answered++;
    } else {
        CHECK_EQ_INT(err, PQCOAP_ERR_REPLAY);
        CHECK_EQ_INT(reqs[i].answered, 1);
    }
}

/* How many copies the network delivers: 0 (lost), 1 or 2 (duplicated). */
static int copies(unsigned loss, unsigned dup)
{
    return chance(loss) ? 0 : chance(dup) ? 2 : 1;
}

/* Confirmable requests one at a time (NSTART = 1), retransmitted until answered; now and
 * then an old copy delayed in the network arrives late. */
static void con_phase(void)
{
    static size_t late[MAX_LATE];
    size_t n_late = 0;
    for (size_t k = 0; k < CON_REQUESTS; k++) {
        size_t i = n_reqs++;
        make(i);
        if (n_late < MAX_LATE && chance(10))
            late[n_late++] = i;
        for (int attempt = 0; attempt < 40 && !reqs[i].answered; attempt++) {
            for (int c = copies(25, 15); c > 0; c--)
                if (server_receive(i))
                    for (int d = copies(25, 15); d > 0; d--)
                        client_receive(i);
        }
        CHECK_EQ_INT(reqs[i].answered, 1);
        CHECK_EQ_INT(reqs[i].handled, 1);
        if (n_late && chance(20)) {
            size_t j = late[prng() % n_late];
            if (server_receive(j))
                client_receive(j);
        }
    }
}

static void shuffle(size_t *v, size_t n)
{
    for (size_t i = n; i > 1; i--) {
        size_t j = prng() % i, t = v[i - 1];
        v[i - 1] = v[j];
        v[j] = t;
    }
}

/* Non-confirmable requests in batches of up to 8: lost, duplicated and reordered on the
 * way there and back, never retransmitted. */
static void non_phase(void)
{
    for (size_t round = 0; round < NON_ROUNDS; round++) {
        size_t first = n_reqs, batch = 1 + prng() % 8;
        size_t there[16], back[32], n_there = 0, n_back = 0;
        for (size_t k = 0; k < batch; k++) {
            size_t i = n_reqs++;
            make(i);
            for (int c = copies(20, 20); c > 0; c--)
                there[n_there++] = i;
        }
        shuffle(there, n_there);
        for (size_t k = 0; k < n_there; k++)
            if (server_receive(there[k]))
                for (int c = copies(20, 20); c > 0; c--)
                    back[n_back++] = there[k];
        shuffle(back, n_back);
        for (size_t k = 0; k < n_back; k++)
            client_receive(back[k]);
        for (size_t i = first; i < n_reqs; i++) {
            int sent = 0, returned = 0;
            for (size_t k = 0; k < n_there; k++)
                sent |= there[k] == i;
            for (size_t k = 0; k < n_back; k++)
                returned |= back[k] == i;
            CHECK_EQ_INT(reqs[i].handled, sent);
            CHECK_EQ_INT(reqs[i].answered, returned);
        }
    }
}

int main(void)
{
    fx_setup(&fx, "pqcoap lossy network simulation", FX_SLOTS, 0, 0, 0);
    CHECK_EQ_INT(fx_handshake(&fx, &fx.client, "client", 1, T0, &client), PQCOAP_OK);
    con_phase();
    non_phase();
    size_t handled = 0;
    for (size_t i = 0; i < n_reqs; i++)
        handled += reqs[i].handled;
    printf("%zu requests, %zu handled\n", n_reqs, handled);
    pqcoap_session_wipe(&client);
    fx_teardown(&fx);
    return check_done();
}

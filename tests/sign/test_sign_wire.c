/* Mode A against an attacker on the wire, over raw UDP on loopback: a retransmitted request
 * answered with the same signed response, a captured signed request replayed (another
 * message ID, after a server restart on the same SQLite store), tampered requests, and a
 * client restarted on its own store continuing with higher sequence numbers. */
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>

#include "sign_net.h"

static pqcoap_identity server_id, raw_id, client_id;
static char dir[64], server_db[96], client_db[96];

/* A request of raw_id signed with the core: POST echo?<query> with `body`, seq `seq`,
 * encoded as a CON datagram with message ID `mid`. Returns its length (0 on failure). */
static size_t signed_request(uint64_t seq, const char *query, const char *body, uint16_t mid,
                             uint8_t *out, size_t cap)
{
    static const uint8_t token[] = {0x42, 0x43};
    pqcoap_signer signer;
    uint8_t opt[PQCOAP_SIG_OPT_LEN], payload[1024];
    size_t plen = 0;
    pqcoap_opt opts[3] = {{PQCOAP_OPT_URI_PATH, (const uint8_t *)"echo", 4},
                          {PQCOAP_OPT_URI_QUERY, (const uint8_t *)query, strlen(query)},
                          {PQCOAP_OPT_PQ_SIG, opt, sizeof opt}};
    pqcoap_msg m = {PQCOAP_POST, token, sizeof token, opts, 2, (const uint8_t *)body,
                    strlen(body)};
    if (pqcoap_signer_from_identity(&signer, &raw_id, NULL) != PQCOAP_OK ||
        pqcoap_sign_v2(&signer, seq, &m, server_id.pub.kid, NULL, opt, payload, sizeof payload,
                       &plen) !=
            PQCOAP_OK)
        return 0;
    m.n_opts = 3;
    m.payload = payload;
    m.payload_len = plen;
    return coap_encode(mid, &m, out, cap);
}

/* Index of the first occurrence of from[0..n) in d[0..len), or len if there is none. */
static size_t find(const uint8_t *d, size_t len, const void *from, size_t n)
{
    for (size_t i = 0; i + n <= len; i++)
        if (memcmp(d + i, from, n) == 0)
            return i;
    return len;
}

/* Replaces the first occurrence of `from` in d[0..len) by `to` (same length). */
static int patch(uint8_t *d, size_t len, const char *from, const char *to)
{
    size_t at = find(d, len, from, strlen(from));
    if (at == len)
        return 0;
    memcpy(d + at, to, strlen(to));
    return 1;
}

/* The Mode A floor the server persisted for raw_id. */
static uint64_t raw_floor(const pqcoap_store *store)
{
    uint64_t seq = 0;
    return pqcoap_store_sign_floor_get(store, raw_id.pub.kid, &seq) == PQCOAP_OK ? seq : 0;
}

static int open_server(sign_server *srv, pqcoap_store *store)
{
    if (pqcoap_store_open_sqlite(server_db, store) != PQCOAP_OK)
        return 0;
    return sign_server_start_spy(srv, &server_id, store, NULL, 1);
}

static void close_server(sign_server *srv, pqcoap_store *store)
{
    sign_server_stop(srv);
    pqcoap_store_close(store);
}

static void test_replay_and_tamper(void)
{
    sign_server srv;
    pqcoap_store store;
    CHECK(open_server(&srv, &store));
    int fd = raw_socket();
    CHECK(fd >= 0);
    uint16_t port = sign_server_port(&srv);
    uint8_t a[1400], b[1400], t[1400];
    char diag[128];
    size_t alen = signed_request(5000, "x=1", "open valve", 0x1234, a, sizeof a);
    CHECK(alen > 0);

    /* Sent twice (a retransmission, or a byte-identical copy): the second gets the same
     * signed response byte for byte, and the handler runs once. */
    int runs = atomic_load(&handler_runs);
    uint8_t first[RAW_ANSWER_MAX], again[RAW_ANSWER_MAX];
    size_t first_len = 0, again_len = 0;
    CHECK_EQ_INT(raw_exchange_answer(fd, port, a, alen, 0x1234, diag, sizeof diag, first,
                                     &first_len), PQCOAP_CODE(2, 4));
    CHECK_EQ_INT(atomic_load(&handler_runs), runs + 1);
    CHECK_EQ_INT(raw_exchange_answer(fd, port, a, alen, 0x1234, diag, sizeof diag, again,
                                     &again_len), PQCOAP_CODE(2, 4));
    CHECK_EQ_INT(again_len, first_len);
    CHECK(again_len == first_len && memcmp(again, first, first_len) == 0);
    CHECK_EQ_INT(atomic_load(&handler_runs), runs + 1);
    /* The same message ID with the signature broken does not fetch the kept response. */
    memcpy(t, a, alen);
    t[alen - 10] ^= 0x01;
    CHECK_EQ_INT(raw_exchange(fd, port, t, alen, 0x1234, diag, sizeof diag), PQCOAP_CODE(4, 1));
    CHECK_EQ_INT(atomic_load(&handler_runs), runs + 1);
    /* The message ID is not protected; another one with a used seq is a replay. */
    a[2] = 0x55;
    CHECK_EQ_INT(raw_exchange(fd, port, a, alen, 0x5534, diag, sizeof diag), PQCOAP_CODE(4, 1));
    CHECK(strstr(diag, "replay") != NULL);
    CHECK_EQ_INT(atomic_load(&handler_runs), runs + 1);
    /* The original message ID from another address is a replay too. */
    int fd2 = raw_socket();
    CHECK(fd2 >= 0);
    a[2] = 0x12;
    CHECK_EQ_INT(raw_exchange(fd2, port, a, alen, 0x1234, diag, sizeof diag), PQCOAP_CODE(4, 1));
    CHECK(strstr(diag, "replay") != NULL);
    close(fd2);
    a[2] = 0x55;
    CHECK_EQ_INT(atomic_load(&handler_runs), runs + 1);

    /* Tampered in transit (query, then payload): 4.01, the handler does not run, and the
     * forged copies do not use up the genuine request's seq. */
    size_t blen = signed_request(5001, "x=1", "close valve", 0x2000, b, sizeof b);
    CHECK(blen > 0);
    memcpy(t, b, blen);
    CHECK(patch(t, blen, "x=1", "x=2"));
    CHECK_EQ_INT(raw_exchange(fd, port, t, blen, 0x2000, diag, sizeof diag), PQCOAP_CODE(4, 1));
    CHECK(strstr(diag, "verify") != NULL);
    memcpy(t, b, blen);
    t[1] = PQCOAP_PUT;
    CHECK_EQ_INT(raw_exchange(fd, port, t, blen, 0x2000, diag, sizeof diag), PQCOAP_CODE(4, 1));
    memcpy(t, b, blen);
    CHECK(patch(t, blen, "close", "clove"));
    CHECK_EQ_INT(raw_exchange(fd, port, t, blen, 0x2000, diag, sizeof diag), PQCOAP_CODE(4, 1));
    CHECK_EQ_INT(atomic_load(&handler_runs), runs + 1);
    CHECK_EQ_INT(raw_exchange(fd, port, b, blen, 0x2000, diag, sizeof diag), PQCOAP_CODE(2, 4));
    CHECK_EQ_INT(atomic_load(&handler_runs), runs + 2);
    /* A malformed PQ-Sig option: 4.00. */
    memcpy(t, b, blen);
    size_t at = find(t, blen, raw_id.pub.kid, PQCOAP_KID_LEN);
    CHECK(at > 0 && at < blen && t[at - 1] == PQCOAP_SIG_OPT_VERSION);
    t[at - 1] = 3; /* PQ-Sig version 3 */
    CHECK_EQ_INT(raw_exchange(fd, port, t, blen, 0x2000, diag, sizeof diag), PQCOAP_CODE(4, 0));

    /* An older seq never seen, inside the window: accepted once. */
    uint8_t c[1400];
    size_t clen = signed_request(4990, "x=1", "status", 0x3000, c, sizeof c);
    CHECK_EQ_INT(raw_exchange(fd, port, c, clen, 0x3000, diag, sizeof diag), PQCOAP_CODE(2, 4));
    CHECK_EQ_INT(atomic_load(&handler_runs), runs + 3);
    close_server(&srv, &store);

    /* The highest accepted seq is in the store. */
    CHECK_EQ_INT(pqcoap_store_open_sqlite(server_db, &store), PQCOAP_OK);
    CHECK_EQ_INT(raw_floor(&store), 5001);
    pqcoap_store_close(&store);

    /* Restarted on the same store file: the captured requests are still replays, and so is
     * an older seq never seen before the restart (every seq up to the floor counts as seen). */
    CHECK(open_server(&srv, &store));
    port = sign_server_port(&srv);
    runs = atomic_load(&handler_runs);
    CHECK_EQ_INT(raw_exchange(fd, port, a, alen, 0x5534, diag, sizeof diag), PQCOAP_CODE(4, 1));
    CHECK(strstr(diag, "replay") != NULL);
    CHECK_EQ_INT(raw_exchange(fd, port, b, blen, 0x2000, diag, sizeof diag), PQCOAP_CODE(4, 1));
    clen = signed_request(4995, "x=1", "status", 0x3001, c, sizeof c);
    CHECK_EQ_INT(raw_exchange(fd, port, c, clen, 0x3001, diag, sizeof diag), PQCOAP_CODE(4, 1));
    CHECK_EQ_INT(atomic_load(&handler_runs), runs);
    /* The sender continues above the floor: accepted. */
    clen = signed_request(5002, "x=1", "status", 0x3002, c, sizeof c);
    CHECK_EQ_INT(raw_exchange(fd, port, c, clen, 0x3002, diag, sizeof diag), PQCOAP_CODE(2, 4));
    CHECK_EQ_INT(atomic_load(&handler_runs), runs + 1);
    CHECK_EQ_INT(atomic_load(&spied_seq), 5002);
    close_server(&srv, &store);
    close(fd);
}

/* `n` requests of a client on the SQLite store at client_db; the seq of each accepted one
 * goes to seqs[]. */
static void client_round(uint16_t port, int n, uint64_t *seqs)
{
    pqcoap_store cstore;
    CHECK_EQ_INT(pqcoap_store_open_sqlite(client_db, &cstore), PQCOAP_OK);
    char uri[96], msg[160];
    pqcoap_sign_client_config cfg = PQCOAP_SIGN_CLIENT_CONFIG_INIT;
    pqcoap_sign_client *c = NULL;
    cfg.seq_block = 4;
    snprintf(uri, sizeof uri, "coap://127.0.0.1:%u/echo", port);
    CHECK_EQ_INT(pqcoap_sign_client_open(uri, &client_id, &cstore, &cfg, &c, msg, sizeof msg),
                 PQCOAP_OK);
    if (c) {
        CHECK_EQ_INT(pqcoap_sign_client_pin(c, &server_id.pub), PQCOAP_OK);
        for (int i = 0; i < n; i++) {
            pqcoap_reply r;
            pqcoap_err err = pqcoap_sign_client_put(c, NULL, (const uint8_t *)"on", 2, &r);
            CHECK_EQ_INT(err, PQCOAP_OK);
            if (err != PQCOAP_OK)
                fprintf(stderr, "  %s\n", pqcoap_sign_client_last_error(c));
            seqs[i] = atomic_load(&spied_seq);
            pqcoap_reply_free(&r);
        }
    }
    pqcoap_sign_client_free(c);
    pqcoap_store_close(&cstore);
}

/* A client restarted on the same state store goes on with higher seqs and is accepted. */
static void test_client_restart(void)
{
    sign_server srv;
    pqcoap_store store;
    CHECK(open_server(&srv, &store));
    uint64_t first[3] = {0}, second[3] = {0};
    client_round(sign_server_port(&srv), 3, first);
    client_round(sign_server_port(&srv), 3, second);
    CHECK(first[0] >= 1 && first[1] > first[0] && first[2] > first[1]);
    CHECK(second[0] > first[2] && second[1] > second[0] && second[2] > second[1]);
    close_server(&srv, &store);
    /* And after a restart of the server too. */
    CHECK(open_server(&srv, &store));
    uint64_t third[1] = {0};
    client_round(sign_server_port(&srv), 1, third);
    CHECK(third[0] > second[2]);
    close_server(&srv, &store);
}

static void remove_db(const char *path)
{
    char side[128];
    remove(path);
    snprintf(side, sizeof side, "%s-wal", path);
    remove(side);
    snprintf(side, sizeof side, "%s-shm", path);
    remove(side);
}

int main(void)
{
    CHECK_EQ_INT(pqcoap_identity_generate("falcon-512", NULL, &server_id), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_identity_generate("falcon-512", NULL, &raw_id), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_identity_generate("falcon-512", NULL, &client_id), PQCOAP_OK);
    snprintf(dir, sizeof dir, "/tmp/pqcoap-signwire-XXXXXX");
    CHECK(mkdtemp(dir) != NULL);
    snprintf(server_db, sizeof server_db, "%s/server.db", dir);
    snprintf(client_db, sizeof client_db, "%s/client.db", dir);
    pqcoap_store store;
    CHECK_EQ_INT(pqcoap_store_open_sqlite(server_db, &store), PQCOAP_OK);
    CHECK_EQ_INT(trust(&store, "raw", &raw_id.pub), PQCOAP_OK);
    CHECK_EQ_INT(trust(&store, "client", &client_id.pub), PQCOAP_OK);
    pqcoap_store_close(&store);

    test_replay_and_tamper();
    test_client_restart();

    remove_db(server_db);
    remove_db(client_db);
    rmdir(dir);
    pqcoap_identity_wipe(&server_id);
    pqcoap_identity_wipe(&raw_id);
    pqcoap_identity_wipe(&client_id);
    return check_done();
}

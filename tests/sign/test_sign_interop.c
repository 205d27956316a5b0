/* Mode A v1 interoperability with libcoap's own client (Debian libcoap3-bin): a v1 payload
 * made by the library is sent by coap-client-notls to our v1 server, and the signed response
 * it writes out verifies with pqcoap_verify_v1 against the server key. */
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "proc.h"
#include "sign_net.h"

#define COAP_CLIENT "/usr/bin/coap-client-notls"

/* Keys made for v1 (PROTOCOL.md "Key usage"), and a general one for the v2-only server. */
static pqcoap_identity server_id, client_id, other_id, server_v2_id;
static char tmpdir[64], in_path[96], out_path[96];

/* Writes the v1 signed payload of message[0..len) by `id` to in_path. */
static int write_signed(const pqcoap_identity *id, const uint8_t *message, size_t len)
{
    static uint8_t buf[8192];
    pqcoap_signer signer;
    size_t n = 0;
    if (pqcoap_signer_from_identity(&signer, id, NULL) != PQCOAP_OK ||
        pqcoap_sign_v1(&signer, message, len, buf, sizeof buf, &n) != PQCOAP_OK)
        return 0;
    FILE *f = fopen(in_path, "wb");
    int ok = f && fwrite(buf, 1, n, f) == n;
    if (f)
        fclose(f);
    return ok;
}

/* Verifies the file coap-client wrote as a v1 payload of the server and checks its message
 * is "echo:" || want[0..len). */
static void check_signed_answer(const uint8_t *want, size_t len)
{
    static uint8_t buf[8192];
    FILE *f = fopen(out_path, "rb");
    size_t n = f ? fread(buf, 1, sizeof buf, f) : 0;
    if (f)
        fclose(f);
    const uint8_t *msg = NULL;
    size_t msg_len = 0;
    CHECK_EQ_INT(pqcoap_verify_v1(&server_id.pub, buf, n, &msg, &msg_len), PQCOAP_OK);
    CHECK(msg_len == len + 5 && memcmp(msg, "echo:", 5) == 0 && memcmp(msg + 5, want, len) == 0);
    /* Not a signature of any other key. */
    CHECK_EQ_INT(pqcoap_verify_v1(&other_id.pub, buf, n, &msg, &msg_len), PQCOAP_ERR_AUTH);
}

/* coap-client-notls -m method -f in_path -o out_path [-b 64] uri; returns its exit status. */
static int coap_client(const char *method, const char *uri, int small_blocks)
{
    unlink(out_path);
    char *argv[] = {COAP_CLIENT, "-B", "20", "-m", (char *)method, "-f", in_path, "-o",
                    out_path, (char *)uri, NULL, NULL, NULL};
    if (small_blocks) {
        argv[9] = "-b";
        argv[10] = "64";
        argv[11] = (char *)uri;
    }
    return proc_run(argv);
}

static void test_v1_server(void)
{
    pqcoap_store store;
    CHECK_EQ_INT(pqcoap_store_open_memory(&store), PQCOAP_OK);
    pqcoap_sign_server_config cfg = PQCOAP_SIGN_SERVER_CONFIG_INIT;
    cfg.policy = PQCOAP_SIGN_V1_ONLY;
    cfg.v1_keys = &client_id.pub;
    cfg.n_v1_keys = 1;
    sign_server srv;
    CHECK(sign_server_start(&srv, &server_id, &store, &cfg));
    char uri[96];
    snprintf(uri, sizeof uri, "coap://127.0.0.1:%u/echo", sign_server_port(&srv));

    static const uint8_t msg[] = "set point 42";
    const size_t len = sizeof msg - 1;
    static const char *methods[] = {"post", "put"};
    for (size_t m = 0; m < 2; m++) {
        int runs = atomic_load(&handler_runs);
        CHECK(write_signed(&client_id, msg, len));
        CHECK_EQ_INT(coap_client(methods[m], uri, 0), 0);
        check_signed_answer(msg, len);
        CHECK_EQ_INT(atomic_load(&handler_runs), runs + 1);
    }
    /* 5 KiB in 64-byte blocks both ways: v1 binds no token, so libcoap's blocks are fine. */
    static uint8_t big[BIG_LEN];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = BIG_BYTE(i);
    CHECK(write_signed(&client_id, big, sizeof big));
    CHECK_EQ_INT(coap_client("post", uri, 1), 0);
    check_signed_answer(big, sizeof big);

    /* Signed by a key the server does not pin: refused before the handler. */
    int runs = atomic_load(&handler_runs);
    CHECK(write_signed(&other_id, msg, len));
    coap_client("post", uri, 0);
    CHECK_EQ_INT(atomic_load(&handler_runs), runs);
    sign_server_stop(&srv);

    /* The same seed-format request to a v2-only server: refused, never downgraded. */
    CHECK_EQ_INT(trust(&store, "client", &client_id.pub), PQCOAP_OK);
    CHECK(sign_server_start(&srv, &server_v2_id, &store, NULL));
    snprintf(uri, sizeof uri, "coap://127.0.0.1:%u/echo", sign_server_port(&srv));
    CHECK(write_signed(&client_id, msg, len));
    coap_client("post", uri, 0);
    CHECK_EQ_INT(atomic_load(&handler_runs), runs);
    sign_server_stop(&srv);
    pqcoap_store_close(&store);
}

int main(void)
{
    CHECK(access(COAP_CLIENT, X_OK) == 0);
    if (access(COAP_CLIENT, X_OK) != 0) {
        fprintf(stderr, "libcoap3-bin tools missing (scripts/bootstrap.sh installs them)\n");
        return check_done();
    }
    CHECK_EQ_INT(pqcoap_identity_generate("falcon-512", NULL, &server_id), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_identity_generate("falcon-512", NULL, &client_id), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_identity_generate("falcon-512", NULL, &other_id), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_identity_generate("falcon-512", NULL, &server_v2_id), PQCOAP_OK);
    server_id.pub.usage = client_id.pub.usage = other_id.pub.usage = PQCOAP_USAGE_SIGN_V1;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/pqcoap-signinterop-XXXXXX");
    CHECK(mkdtemp(tmpdir) != NULL);
    snprintf(in_path, sizeof in_path, "%s/in", tmpdir);
    snprintf(out_path, sizeof out_path, "%s/out", tmpdir);
    test_v1_server();
    unlink(in_path);
    unlink(out_path);
    rmdir(tmpdir);
    pqcoap_identity_wipe(&server_id);
    pqcoap_identity_wipe(&client_id);
    pqcoap_identity_wipe(&other_id);
    pqcoap_identity_wipe(&server_v2_id);
    return check_done();
}

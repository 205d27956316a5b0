/* Interoperability with libcoap's own tools (Debian libcoap3-bin): our client against
 * coap-server-notls, and coap-client-notls against our server, including 5 KiB bodies in
 * 64-byte blocks both ways. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "proc.h"
#include "net_test.h"

#define COAP_SERVER "/usr/bin/coap-server-notls"
#define COAP_CLIENT "/usr/bin/coap-client-notls"

static pid_t server_pid = -1;
static char tmpdir[64];
static uint8_t body[5120];

static void stop_server(void)
{
    if (server_pid > 0) {
        kill(server_pid, SIGTERM);
        waitpid(server_pid, NULL, 0);
        server_pid = -1;
    }
}

static pqcoap_err request(pqcoap_client *cl, uint8_t method, const char *path, int non,
                          const uint8_t *p, size_t n, pqcoap_reply *r)
{
    pqcoap_req req = PQCOAP_REQ_INIT;
    req.method = method;
    req.path = path;
    req.non = non;
    req.payload = p;
    req.payload_len = n;
    return pqcoap_client_request(cl, &req, r);
}

/* Starts coap-server-notls on a free port and returns a client for it (64-byte blocks). */
static pqcoap_client *start_libcoap_server(void)
{
    for (int attempt = 0; attempt < 5; attempt++) {
        char port[8], uri[64];
        snprintf(port, sizeof(port), "%u", test_free_port());
        char *argv[] = {COAP_SERVER, "-A", "127.0.0.1", "-p", port, NULL};
        server_pid = proc_spawn(argv);
        snprintf(uri, sizeof(uri), "coap://127.0.0.1:%s/", port);
        pqcoap_client_config cfg = PQCOAP_CLIENT_CONFIG_INIT;
        cfg.timeout_ms = 300;
        cfg.block_size = 64;
        pqcoap_client *cl = test_client(uri, &cfg);
        /* Wait until it answers (bounded: 30 tries). */
        for (int i = 0; cl && i < 30; i++) {
            pqcoap_reply r;
            pqcoap_err err = request(cl, PQCOAP_GET, "", 0, NULL, 0, &r);
            pqcoap_reply_free(&r);
            if (err == PQCOAP_OK) {
                pqcoap_client_free(cl);
                cfg.timeout_ms = 10000;
                return test_client(uri, &cfg);
            }
        }
        pqcoap_client_free(cl);
        stop_server();
    }
    return NULL;
}

/* True if `needle` occurs in p[0..n). */
static int contains(const uint8_t *p, size_t n, const char *needle)
{
    size_t k = strlen(needle);
    for (size_t i = 0; i + k <= n; i++)
        if (memcmp(p + i, needle, k) == 0)
            return 1;
    return 0;
}

static void our_client_vs_libcoap_server(void)
{
    pqcoap_client *cl = start_libcoap_server();
    CHECK(cl != NULL);
    if (!cl)
        return;
    pqcoap_reply r;
    CHECK_EQ_INT(request(cl, PQCOAP_GET, "", 0, NULL, 0, &r), PQCOAP_OK);
    CHECK_EQ_INT(r.msg.code, PQCOAP_CODE(2, 5));
    CHECK(contains(r.msg.payload, r.msg.payload_len, "libcoap"));
    pqcoap_reply_free(&r);
    for (int non = 0; non < 2; non++) {
        CHECK_EQ_INT(request(cl, PQCOAP_GET, "time", non, NULL, 0, &r), PQCOAP_OK);
        CHECK_EQ_INT(r.msg.code, PQCOAP_CODE(2, 5));
        CHECK(r.msg.payload_len > 0);
        pqcoap_reply_free(&r);
    }
    /* 5 KiB up and down in 64-byte blocks. */
    CHECK_EQ_INT(request(cl, PQCOAP_PUT, "example_data", 0, body, sizeof(body), &r), PQCOAP_OK);
    CHECK(r.msg.code == PQCOAP_CODE(2, 4) || r.msg.code == PQCOAP_CODE(2, 1));
    pqcoap_reply_free(&r);
    CHECK_EQ_INT(request(cl, PQCOAP_GET, "example_data", 0, NULL, 0, &r), PQCOAP_OK);
    CHECK_EQ_INT(r.msg.code, PQCOAP_CODE(2, 5));
    CHECK(r.msg.payload_len == sizeof(body) && memcmp(r.msg.payload, body, sizeof(body)) == 0);
    pqcoap_reply_free(&r);
    CHECK_EQ_INT(request(cl, PQCOAP_GET, "no/such/resource", 0, NULL, 0, &r), PQCOAP_OK);
    CHECK_EQ_INT(r.msg.code, PQCOAP_CODE(4, 4));
    pqcoap_reply_free(&r);
    pqcoap_client_free(cl);
    stop_server();
}

static pqcoap_err echo(void *arg, pqcoap_server_req *rq, const pqcoap_msg *req, pqcoap_msgbuf *resp)
{
    (void)arg;
    (void)rq;
    return pqcoap_msgbuf_set_payload(resp, req->payload, req->payload_len);
}

static pqcoap_err data(void *arg, pqcoap_server_req *rq, const pqcoap_msg *req, pqcoap_msgbuf *resp)
{
    (void)arg;
    (void)rq;
    (void)req;
    return pqcoap_msgbuf_set_payload(resp, body, sizeof(body));
}

/* True if file `path` holds exactly p[0..n). */
static int file_is(const char *path, const uint8_t *p, size_t n)
{
    static uint8_t buf[sizeof(body) + 1];
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    size_t got = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    return got == n && memcmp(buf, p, n) == 0;
}

static void libcoap_client_vs_our_server(void)
{
    test_server ts;
    CHECK(test_server_new(&ts, "127.0.0.1", NULL, 0) != NULL);
    if (!ts.srv)
        return;
    CHECK_EQ_INT(pqcoap_server_handle(ts.srv, "echo", PQCOAP_POST, echo, NULL), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_server_handle(ts.srv, "echo", PQCOAP_PUT, echo, NULL), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_server_handle(ts.srv, "data", PQCOAP_GET, data, NULL), PQCOAP_OK);
    CHECK(test_server_start(&ts));
    char in[96], out[96], uri_echo[96], uri_data[96];
    snprintf(in, sizeof(in), "%s/in", tmpdir);
    snprintf(out, sizeof(out), "%s/out", tmpdir);
    test_uri(uri_echo, sizeof(uri_echo), "127.0.0.1", &ts, "echo");
    test_uri(uri_data, sizeof(uri_data), "127.0.0.1", &ts, "data");
    FILE *f = fopen(in, "wb");
    CHECK(f && fwrite(body, 1, sizeof(body), f) == sizeof(body));
    if (f)
        fclose(f);
    static const char *methods[] = {"post", "put"};
    for (size_t m = 0; m < 2; m++) {
        unlink(out);
        char *argv[] = {COAP_CLIENT, "-B", "20", "-m", (char *)methods[m], "-b", "64", "-f", in,
                        "-o", out, uri_echo, NULL};
        CHECK_EQ_INT(proc_run(argv), 0);
        CHECK(file_is(out, body, sizeof(body)));
    }
    unlink(out);
    char *get[] = {COAP_CLIENT, "-B", "20", "-b", "64", "-o", out, uri_data, NULL};
    CHECK_EQ_INT(proc_run(get), 0);
    CHECK(file_is(out, body, sizeof(body)));
    unlink(out);
    char *small[] = {COAP_CLIENT, "-B", "20", "-m", "post", "-e", "hi", "-o", out, uri_echo, NULL};
    CHECK_EQ_INT(proc_run(small), 0);
    CHECK(file_is(out, (const uint8_t *)"hi", 2));
    unlink(out);
    unlink(in);
    test_server_end(&ts);
}

int main(void)
{
    CHECK(access(COAP_SERVER, X_OK) == 0 && access(COAP_CLIENT, X_OK) == 0);
    if (access(COAP_SERVER, X_OK) != 0 || access(COAP_CLIENT, X_OK) != 0) {
        fprintf(stderr, "libcoap3-bin tools missing (scripts/bootstrap.sh installs them)\n");
        return check_done();
    }
    atexit(stop_server);
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/pqcoap-net-XXXXXX");
    CHECK(mkdtemp(tmpdir) != NULL);
    for (size_t i = 0; i < sizeof(body); i++)
        body[i] = (uint8_t)((i * 131) ^ (i >> 7));
    our_client_vs_libcoap_server();
    libcoap_client_vs_our_server();
    rmdir(tmpdir);
    return check_done();
}

/* Sender Sequence Numbers survive SIGKILL (RFC 8613 Appendix B.1.1): a child process runs
 * the real OSCORE client over a real SQLite store and sends requests to an OSCORE server
 * in this process until it is killed at a random moment, 50 times. The server records the
 * Partial IV and message ID of every request that reaches it: no Partial IV may ever come
 * under two message IDs (a retransmission keeps its message ID), i.e. no SSN is used twice,
 * and every request after a restart still verifies. */
#include "check.h"
#include "net/net_test.h"
#include "pqcoap/oscore_endpoint.h"
#include "store/store_util.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>

#define ROUNDS 50
#define MAX_SEEN 200000

static const char server_conf[] = "master_secret,hex,00112233445566778899aabbccddeeff\n"
                                  "sender_id,hex,53\nrecipient_id,hex,43\n"
                                  "rfc8613_b_1_2,bool,false\n";
static const char client_conf[] = "master_secret,hex,00112233445566778899aabbccddeeff\n"
                                  "sender_id,hex,43\nrecipient_id,hex,53\n"
                                  "ssn_freq,integer,16\n";

/* What the server saw, in arrival order. */
typedef struct seen_req {
    uint64_t piv;
    uint16_t mid;
} seen_req;
static seen_req seen[MAX_SEEN];
static size_t n_seen;
static long accepted;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static const pqcoap_layer *inner;

/* check_request of the OSCORE layer, recording each request's Partial IV first. */
static pqcoap_err record(void *ctx, void *state, const pqcoap_exchange *x,
                         const pqcoap_msg *wire, pqcoap_msgbuf *out,
                         pqcoap_layer_verdict *verdict)
{
    const pqcoap_opt *o = pqcoap_msg_find_opt(wire, PQCOAP_OPT_OSCORE);
    pqcoap_oscore_option opt;
    if (o != NULL && pqcoap_oscore_option_parse(o->value, o->len, &opt) == PQCOAP_OK &&
        opt.piv_len > 0) {
        uint64_t v = 0;
        for (size_t i = 0; i < opt.piv_len; i++)
            v = v << 8 | opt.piv[i];
        pthread_mutex_lock(&lock);
        if (n_seen < MAX_SEEN) {
            seen[n_seen].piv = v;
            seen[n_seen].mid = x->mid;
            n_seen++;
        }
        pthread_mutex_unlock(&lock);
    }
    pqcoap_err err = inner->check_request(ctx, state, x, wire, out, verdict);
    if (err == PQCOAP_OK && *verdict == PQCOAP_LAYER_HANDLE) {
        pthread_mutex_lock(&lock);
        accepted++;
        pthread_mutex_unlock(&lock);
    }
    return err;
}

static pqcoap_err on_get(void *arg, pqcoap_server_req *rq, const pqcoap_msg *req,
                         pqcoap_msgbuf *resp)
{
    (void)arg;
    (void)rq;
    (void)req;
    return pqcoap_msgbuf_set_payload(resp, (const uint8_t *)"ok", 2);
}

static void parse(const char *text, pqcoap_oscore_conf *c)
{
    if (pqcoap_oscore_conf_parse(text, strlen(text), c, NULL, 0) != PQCOAP_OK)
        _exit(5);
}

/* The child: OSCORE requests forever (bounded) until killed. */
static int child(const char *uri, const char *db)
{
    pqcoap_store s;
    pqcoap_oscore_conf conf;
    pqcoap_oscore_client *c;
    parse(client_conf, &conf);
    if (pqcoap_store_open_sqlite(db, &s) != PQCOAP_OK ||
        pqcoap_oscore_client_open(uri, &conf, &s, NULL, &c, NULL, 0) != PQCOAP_OK)
        return 2;
    for (long i = 0; i < 1000000; i++) {
        pqcoap_req req = PQCOAP_REQ_INIT;
        pqcoap_reply r;
        if (pqcoap_oscore_client_request(c, &req, &r) != PQCOAP_OK)
            return 3;
        pqcoap_reply_free(&r);
    }
    return 0;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static size_t seen_now(void)
{
    pthread_mutex_lock(&lock);
    size_t n = n_seen;
    pthread_mutex_unlock(&lock);
    return n;
}

static int cmp_seen(const void *a, const void *b)
{
    const seen_req *x = a, *y = b;
    if (x->piv != y->piv)
        return x->piv < y->piv ? -1 : 1;
    return x->mid < y->mid ? -1 : x->mid > y->mid;
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "child") == 0)
        return child(argv[2], argv[3]);
    char dir[256], db[320], uri[128];
    tmpdir_make(dir, sizeof dir);
    snprintf(db, sizeof db, "%s/client.db", dir);
    srand(8613);

    pqcoap_store sstore;
    pqcoap_oscore_conf conf;
    pqcoap_oscore_server *os;
    CHECK_EQ_INT(pqcoap_store_open_memory(&sstore), PQCOAP_OK);
    parse(server_conf, &conf);
    CHECK_EQ_INT(pqcoap_oscore_server_new(&sstore, NULL, &os), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_oscore_server_add_conf(os, &conf), PQCOAP_OK);
    inner = pqcoap_oscore_server_layer(os);
    pqcoap_layer layer = *inner;
    layer.check_request = record;
    test_server ts;
    CHECK(test_server_new(&ts, "127.0.0.1", &layer, 0) != NULL);
    pqcoap_server_handle(ts.srv, "x", PQCOAP_GET, on_get, NULL);
    CHECK(test_server_start(&ts));
    test_uri(uri, sizeof uri, "127.0.0.1", &ts, "x");

    for (int round = 0; round < ROUNDS; round++) {
        size_t before = seen_now();
        pid_t pid = fork();
        if (pid == 0) {
            execl("/proc/self/exe", argv[0], "child", uri, db, (char *)NULL);
            _exit(6);
        }
        CHECK(pid > 0);
        if (pid < 0)
            break;
        /* Odd rounds wait for a request, so kills land both while the child starts and
         * while it sends. */
        for (int i = 0; round % 2 == 1 && i < 30000 && seen_now() == before; i++) {
            int st;
            if (waitpid(pid, &st, WNOHANG) == pid) {
                fprintf(stderr, "child exited early, status %d\n", st);
                CHECK(0);
                break;
            }
            sleep_ms(1);
        }
        sleep_ms(1 + rand() % 50);
        kill(pid, SIGKILL);
        int status = 0;
        CHECK_EQ_INT(waitpid(pid, &status, 0), pid);
        CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    }
    test_server_end(&ts);

    /* No Partial IV under two message IDs. */
    qsort(seen, n_seen, sizeof seen[0], cmp_seen);
    long reused = 0;
    for (size_t i = 1; i < n_seen; i++)
        if (seen[i].piv == seen[i - 1].piv && seen[i].mid != seen[i - 1].mid) {
            reused++;
            fprintf(stderr, "SSN %llu used twice\n", (unsigned long long)seen[i].piv);
        }
    CHECK_EQ_INT(reused, 0);
    CHECK(n_seen >= ROUNDS / 2);
    CHECK_EQ_INT(accepted, (long)n_seen); /* every request verified, none was a replay */
    printf("%zu requests from %d killed clients, %ld accepted, 0 SSNs reused\n", n_seen,
           ROUNDS, accepted);
    pqcoap_oscore_server_free(os);
    pqcoap_store_close(&sstore);
    pqcoap_oscore_conf_wipe(&conf);
    tmpdir_remove(dir);
    return check_done();
}

/* Benchmark server: a pqcoap server on 127.0.0.1 (ephemeral port) serving GET "time" the
 * way libcoap's example server (coap-server) does: 2.05, Content-Format 0, Max-Age 1 and
 * the text "Mon DD HH:MM:SS", in plain CoAP or one of the security modes. Prints
 * "port N" once it listens and serves until SIGTERM or SIGINT.
 * Usage: bench_server plain|sign1|sign2|session [--probe]
 * (--probe: only checks that the mode is available, exit status 0 if so). */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "bench_util.h"

static pqcoap_server *g_srv;

static void on_signal(int sig)
{
    (void)sig;
    pqcoap_server_stop(g_srv);
}

/* GET time: as libcoap's coap-server "time" resource without a query. */
static pqcoap_err get_time(void *arg, pqcoap_server_req *rq, const pqcoap_msg *req,
                           pqcoap_msgbuf *resp)
{
    (void)arg;
    (void)rq;
    (void)req;
    char text[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    size_t n = strftime(text, sizeof text, "%b %d %H:%M:%S", &tm);
    PQCOAP_TRY(pqcoap_msgbuf_add_uint(resp, PQCOAP_OPT_CONTENT_FORMAT, 0));
    PQCOAP_TRY(pqcoap_msgbuf_add_uint(resp, PQCOAP_OPT_MAX_AGE, 1));
    return pqcoap_msgbuf_set_payload(resp, (const uint8_t *)text, n);
}

/* Creates the server of `mode` on 127.0.0.1, ephemeral port. */
static pqcoap_err make_server(const char *mode, pqcoap_server **out, char *msg, size_t cap)
{
    pqcoap_server_config cfg = PQCOAP_SERVER_CONFIG_INIT;
    cfg.addr = "127.0.0.1";
    cfg.port = 0;
    if (strcmp(mode, "plain") == 0)
        return pqcoap_server_create(&cfg, out, msg, cap);
    snprintf(msg, cap, "unknown or unavailable mode '%s'", mode);
    return PQCOAP_ERR_ARG;
}

int main(int argc, char **argv)
{
    int probe = argc == 3 && strcmp(argv[2], "--probe") == 0;
    if (argc != 2 && !probe) {
        fprintf(stderr, "usage: bench_server plain|sign1|sign2|session [--probe]\n");
        return 2;
    }
    char msg[200];
    pqcoap_server *srv = NULL;
    if (make_server(argv[1], &srv, msg, sizeof msg) != PQCOAP_OK ||
        pqcoap_server_handle(srv, "time", PQCOAP_GET, get_time, NULL) != PQCOAP_OK) {
        fprintf(stderr, "bench_server: %s\n", msg);
        pqcoap_server_free(srv);
        return 1;
    }
    if (probe) {
        pqcoap_server_free(srv);
        return 0;
    }
    g_srv = srv;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    printf("port %u\n", pqcoap_server_port(srv));
    fflush(stdout);
    pqcoap_err err = pqcoap_server_run(srv);
    pqcoap_server_free(srv);
    return err == PQCOAP_OK ? 0 : 1;
}

/* The whole chain with real processes: libcoap's coap-client-notls -> pqcoap proxy device ->
 * pqcoap proxy gateway -> libcoap's coap-server-notls, in one mode (argument: plain, the
 * default, sign, session or oscore): GET time, PUT and GET of example_data, a POST that creates a
 * resource and a GET of it, a 5 KiB body up and down (in 64-byte blocks toward the
 * application and toward the backend the proxies' own 1024-byte blocks), a 4.04 of the
 * backend passed on, and both proxies stop with exit code 0 on SIGTERM. */
#include <stdarg.h>

#include "check.h"
#include "proxy_test.h"

#define BODY 5120

static char uri_base[64];

/* Runs coap-client-notls with args (NULL-terminated) against the device proxy's `path`;
 * its output is in proxy_tmp/app.out and app.err. Returns its exit status. */
static int app(const char *path, ...)
{
    char uri[160];
    char *argv[24] = {COAP_CLIENT, "-B", "60"};
    size_t n = 3;
    va_list ap;
    va_start(ap, path);
    for (const char *a; (a = va_arg(ap, const char *)) != NULL && n + 2 < 24;)
        argv[n++] = (char *)a;
    va_end(ap);
    snprintf(uri, sizeof uri, "%s%s", uri_base, path);
    argv[n++] = uri;
    argv[n] = NULL;
    return proxy_run_logged(argv, "app");
}

/* True if the application printed exactly `want` (coap-client-notls ends it with a newline)
 * and nothing on stderr. */
static int app_printed(const char *want)
{
    char out[256], err[256];
    proxy_read("app.out", out, sizeof out);
    proxy_read("app.err", err, sizeof err);
    int ok = strcmp(out, want) == 0 && err[0] == '\0';
    if (!ok)
        fprintf(stderr, "application printed '%s' (stderr '%s'), wanted '%s'\n", out, err, want);
    return ok;
}

/* True if proxy_tmp/<name> holds exactly body[0..BODY). */
static int file_is(const char *name, const uint8_t *body)
{
    static char buf[BODY + 2];
    return proxy_read(name, buf, sizeof buf) == BODY && memcmp(buf, body, BODY) == 0;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "plain";
    CHECK(access(COAP_SERVER, X_OK) == 0 && access(COAP_CLIENT, X_OK) == 0);
    CHECK(proxy_tmp_init());
    if (access(COAP_SERVER, X_OK) != 0 || access(COAP_CLIENT, X_OK) != 0 || !proxy_tmp[0])
        return check_done();
    CHECK(proxy_keygen(PQCOAP_CLI, "gw") && proxy_keygen(PQCOAP_CLI, "dev"));
    CHECK(proxy_oscore_confs());
    static uint8_t body[BODY];
    for (size_t i = 0; i < BODY; i++)
        body[i] = (uint8_t)('a' + (i * 7 + i / 26) % 26);
    char big[128], got[128];
    proxy_path(big, sizeof big, "big");
    proxy_path(got, sizeof got, "got");
    FILE *f = fopen(big, "wb");
    CHECK(f && fwrite(body, 1, BODY, f) == BODY);
    if (f)
        fclose(f);

    uint16_t backend = 0, gport = 0, dport = 0;
    pid_t be = proxy_libcoap_server(&backend);
    CHECK(be > 0);
    pid_t gw = be > 0 ? proxy_start_gateway(PQCOAP_CLI, mode, backend, "dev", NULL, "gw", &gport)
                      : -1;
    CHECK(gport != 0);
    pid_t dev = gport ? proxy_start_device(PQCOAP_CLI, mode, gport, "dev", &dport) : -1;
    CHECK(dport != 0);
    snprintf(uri_base, sizeof uri_base, "coap://127.0.0.1:%u/", dport);
    if (dport) {
        char out[256];
        /* GET time: "Mon DD HH:MM:SS" */
        CHECK_EQ_INT(app("time", NULL), 0);
        CHECK(proxy_read("app.out", out, sizeof out) >= 15 && strchr(out, ':'));

        /* PUT then GET */
        CHECK_EQ_INT(app("example_data", "-m", "put", "-e", "through the proxies", NULL), 0);
        CHECK_EQ_INT(app("example_data", NULL), 0);
        CHECK(app_printed("through the proxies\n"));

        /* POST creates a resource (coap-server-notls -d), GET reads it */
        CHECK_EQ_INT(app("made/by/post", "-m", "post", "-e", "posted body", NULL), 0);
        CHECK_EQ_INT(app("made/by/post", NULL), 0);
        CHECK(app_printed("posted body\n"));

        /* 5 KiB up and down, block-wise on every hop */
        CHECK_EQ_INT(app("example_data", "-m", "put", "-b", "64", "-f", big, NULL), 0);
        unlink(got);
        CHECK_EQ_INT(app("example_data", "-b", "64", "-o", got, NULL), 0);
        CHECK(file_is("got", body));
        unlink(got);
        CHECK_EQ_INT(app("example_data", "-o", got, NULL), 0);
        CHECK(file_is("got", body));

        /* an error of the backend is an answer like any other */
        CHECK_EQ_INT(app("no/such/resource", NULL), 0);
        proxy_read("app.err", out, sizeof out);
        CHECK(strstr(out, "4.04") != NULL);
    }
    CHECK_EQ_INT(proxy_stop(dev), 0);
    CHECK_EQ_INT(proxy_stop(gw), 0);
    CHECK_EQ_INT(proxy_err_lines("dev", ""), 0); /* nothing failed: no log line */
    CHECK_EQ_INT(proxy_err_lines("gw", ""), 0);
    proxy_stop(be);
    proxy_tmp_remove();
    return check_done();
}

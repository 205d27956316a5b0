/* What the application (coap-client-notls) gets when the chain cannot serve it, with real
 * processes: the backend down gives 5.04 (or 5.02), a device proxy the gateway does not trust
 * gives 5.02 with one line on the device proxy (Mode A and Mode B), a request for another
 * URI through Proxy-Uri gives 5.05; and the command line of pqcoap proxy refuses what it
 * cannot do with exit code 2 and one line. */
#include "check.h"
#include "proxy_test.h"

/* GET coap://127.0.0.1:port/time with coap-client-notls (extra flags before the URI);
 * returns what it printed on stderr (the code of an error answer) in err. */
static void app_get(uint16_t port, const char *flag, const char *flag_value, char *err,
                    size_t cap)
{
    char uri[64];
    snprintf(uri, sizeof uri, "coap://127.0.0.1:%u/time", port);
    char *argv[] = {COAP_CLIENT, "-B", "60", (char *)flag, (char *)flag_value, uri, NULL};
    if (!flag) {
        argv[3] = uri;
        argv[4] = NULL;
    }
    CHECK_EQ_INT(proxy_run_logged(argv, "app"), 0);
    proxy_read("app.err", err, cap);
}

static void backend_down(void)
{
    static const char *const quick[] = {"-B", "2", NULL};
    uint16_t gport = 0, dport = 0;
    pid_t gw = proxy_start_gateway(PQCOAP_CLI, "session", test_free_port(), "dev", quick,
                                   "gw-down", &gport);
    pid_t dev = gport ? proxy_start_device(PQCOAP_CLI, "session", gport, "dev-down", &dport) : -1;
    CHECK(gport && dport);
    char err[256] = "";
    if (dport)
        app_get(dport, NULL, NULL, err, sizeof err);
    CHECK(strncmp(err, "5.04", 4) == 0 || strncmp(err, "5.02", 4) == 0);
    CHECK(strstr(err, "backend") != NULL);
    CHECK_EQ_INT(proxy_stop(dev), 0);
    CHECK_EQ_INT(proxy_stop(gw), 0);
    CHECK_EQ_INT(proxy_err_lines("gw-down", "GET /time -> 5.0"), 1);
}

/* The gateway trusts "other", not "dev". */
static void untrusted(const char *mode, uint16_t backend)
{
    char glog[32], dlog[32];
    snprintf(glog, sizeof glog, "gw-untrusted-%s", mode);
    snprintf(dlog, sizeof dlog, "dev-untrusted-%s", mode);
    uint16_t gport = 0, dport = 0;
    pid_t gw = proxy_start_gateway(PQCOAP_CLI, mode, backend, "other", NULL, glog, &gport);
    pid_t dev = gport ? proxy_start_device(PQCOAP_CLI, mode, gport, dlog, &dport) : -1;
    CHECK(gport && dport);
    char err[256] = "";
    if (dport)
        app_get(dport, NULL, NULL, err, sizeof err);
    CHECK(strncmp(err, "5.02", 4) == 0 && strstr(err, "gateway") != NULL);
    CHECK_EQ_INT(proxy_stop(dev), 0);
    CHECK_EQ_INT(proxy_stop(gw), 0);
    CHECK_EQ_INT(proxy_err_lines(dlog, "GET /time -> 5.02"), 1);
}

/* coap-client-notls -P: the request names another server in Proxy-Uri. */
static void proxy_uri(uint16_t backend)
{
    uint16_t gport = 0, dport = 0;
    pid_t gw = proxy_start_gateway(PQCOAP_CLI, "plain", backend, "dev", NULL, "gw-puri", &gport);
    pid_t dev = gport ? proxy_start_device(PQCOAP_CLI, "plain", gport, "dev-puri", &dport) : -1;
    CHECK(gport && dport);
    char via[64], err[256] = "";
    snprintf(via, sizeof via, "coap://127.0.0.1:%u", dport);
    if (dport)
        app_get(backend, "-P", via, err, sizeof err);
    CHECK(strncmp(err, "5.05", 4) == 0);
    CHECK_EQ_INT(proxy_stop(dev), 0);
    CHECK_EQ_INT(proxy_stop(gw), 0);
}

/* pqcoap ARGS... exits 2 with one "pqcoap: " line containing `text`. */
static void usage_error(const char *text, const char *const *args)
{
    char *argv[24] = {PQCOAP_CLI};
    for (size_t i = 0; args[i] && i + 2 < 24; i++)
        argv[i + 1] = (char *)args[i];
    CHECK_EQ_INT(proxy_run_logged(argv, "usage"), 2);
    char err[512];
    proxy_read("usage.err", err, sizeof err);
    char *nl = strchr(err, '\n');
    CHECK(strncmp(err, "pqcoap: ", 8) == 0 && nl && nl[1] == '\0' && strstr(err, text));
}

static void command_line(void)
{
    static const char *const no_role[] = {"proxy", NULL};
    static const char *const no_to[] = {"proxy", "device", "--mode", "plain", NULL};
    static const char *const v1[] = {"proxy", "device", "--mode", "sign-v1", "--to",
                                     "coap://127.0.0.1:9", NULL};
    static const char *const no_key[] = {"proxy", "device", "--mode", "session", "--to",
                                         "coap://127.0.0.1:9", NULL};
    static const char *const query[] = {"proxy", "gateway", "--mode", "plain", "-p", "0", "--to",
                                        "coap://127.0.0.1:9/a?b", NULL};
    static const char *const plain_id[] = {"proxy", "gateway", "--mode", "plain", "--to",
                                           "coap://127.0.0.1:9", "--forward-identity", NULL};
    static const char *const peer[] = {"proxy", "gateway", "--mode", "plain", "--to",
                                       "coap://127.0.0.1:9", "--peer", "x.pub", NULL};
    usage_error("device or gateway", no_role);
    usage_error("--to", no_to);
    usage_error("plain, sign, session or oscore", v1);
    usage_error("--key", no_key);
    usage_error("query", query);
    usage_error("--forward-identity", plain_id);
    usage_error("for a device", peer);
}

int main(void)
{
    CHECK(access(COAP_SERVER, X_OK) == 0 && access(COAP_CLIENT, X_OK) == 0);
    CHECK(proxy_tmp_init());
    if (access(COAP_SERVER, X_OK) != 0 || access(COAP_CLIENT, X_OK) != 0 || !proxy_tmp[0])
        return check_done();
    CHECK(proxy_keygen(PQCOAP_CLI, "gw") && proxy_keygen(PQCOAP_CLI, "dev") &&
          proxy_keygen(PQCOAP_CLI, "other"));
    command_line();
    backend_down();
    uint16_t backend = 0;
    pid_t be = proxy_libcoap_server(&backend);
    CHECK(be > 0);
    if (be > 0) {
        untrusted("sign", backend);
        untrusted("session", backend);
        proxy_uri(backend);
    }
    proxy_stop(be);
    proxy_tmp_remove();
    return check_done();
}

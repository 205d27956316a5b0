/* What the server and request commands share: the security mode, the endpoint's identity,
 * pinned peer key and store file with their defaults, and the mode's security layer. */
#include "cli.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

static const char *const mode_names[] = {
    [CLI_MODE_PLAIN] = "plain",
    [CLI_MODE_SIGN] = "sign",
    [CLI_MODE_SIGN_V1] = "sign-v1",
    [CLI_MODE_SESSION] = "session",
    [CLI_MODE_OSCORE] = "oscore",
};

int cli_parse_mode(const char *name, cli_mode *out)
{
    for (size_t m = 0; m < sizeof mode_names / sizeof mode_names[0]; m++)
        if (strcmp(name, mode_names[m]) == 0) {
            *out = (cli_mode)m;
            return CLI_OK;
        }
    return cli_fail(CLI_USAGE, "unknown mode '%s' (plain, sign, sign-v1, session or oscore)",
                    name);
}

const char *cli_mode_name(cli_mode mode)
{
    return mode_names[mode];
}

const char *cli_usage_name(pqcoap_key_usage usage)
{
    return usage == PQCOAP_USAGE_SIGN_V1 ? "sign-v1" : "general";
}

int cli_check_usage(const char *path, pqcoap_key_usage usage, cli_mode mode)
{
    if (mode == CLI_MODE_PLAIN)
        return CLI_OK;
    if (mode == CLI_MODE_SIGN_V1 && usage != PQCOAP_USAGE_SIGN_V1)
        return cli_fail(CLI_USAGE, "'%s' is a general key, but sign-v1 signatures take only "
                        "keys made for them (pqcoap keygen --v1)", path);
    if (mode != CLI_MODE_SIGN_V1 && usage != PQCOAP_USAGE_GENERAL)
        return cli_fail(CLI_USAGE, "'%s' is a key for sign-v1 only (made with pqcoap keygen "
                        "--v1), not for mode %s", path, cli_mode_name(mode));
    return CLI_OK;
}

int cli_parse_ulong(const char *text, unsigned long max, unsigned long *out)
{
    char *end = NULL;
    if (!text[0] || text[0] == '-' || text[0] == '+')
        return -1;
    unsigned long v = strtoul(text, &end, 10);
    if (*end != '\0' || v > max)
        return -1;
    *out = v;
    return 0;
}

/* out = path with its suffix `from` replaced by `to` (appended if it lacks `from`). */
static void replace_suffix(const char *path, const char *from, const char *to, char *out,
                           size_t cap)
{
    size_t n = strlen(path), k = strlen(from);
    if (n > k && strcmp(path + n - k, from) == 0)
        n -= k;
    snprintf(out, cap, "%.*s%s", (int)n, path, to);
}

/* out = the file name of path without its suffix `ext`. */
static void base_name(const char *path, const char *ext, char *out, size_t cap)
{
    const char *slash = strrchr(path, '/');
    replace_suffix(slash ? slash + 1 : path, ext, "", out, cap);
}

void cli_endpoint_init(cli_endpoint *ep)
{
    memset(ep, 0, sizeof *ep);
    ep->mode = CLI_MODE_PLAIN;
}

/* Mode oscore takes its contexts from --oscore-conf, or (--key, and --peer on a client)
 * from post-quantum handshakes, or on a server both. Reads and parses the context file;
 * without --key its store file defaults to the context file's name with .db (server) or
 * .state (client). */
static int load_oscore(cli_endpoint *ep, int server)
{
    if (!ep->oscore_conf && !ep->key)
        return cli_fail(CLI_USAGE, "mode oscore needs --oscore-conf FILE (a context in "
                        "libcoap's coap-oscore-conf format) or --key FILE%s (contexts keyed "
                        "by the post-quantum handshake)", server ? "" : " --peer PUBFILE");
    if (!server && ep->oscore_conf && (ep->key || ep->peer))
        return cli_fail(CLI_USAGE, "mode oscore takes a request's context from --oscore-conf, "
                        "not from --key or --peer as well (without --oscore-conf, --key and "
                        "--peer make it by a handshake)");
    if (!ep->oscore_conf)
        return CLI_OK;
    uint8_t *text = NULL;
    size_t len = 0;
    int rc = cli_read_file(ep->oscore_conf, PQCOAP_OSCORE_CONF_MAX, &text, &len);
    if (rc != CLI_OK)
        return rc;
    char msg[160];
    pqcoap_err err = pqcoap_oscore_conf_parse((const char *)text, len, &ep->oscore, msg,
                                              sizeof msg);
    OPENSSL_cleanse(text, len); /* the Master Secret */
    free(text);
    if (err != PQCOAP_OK)
        return cli_fail(CLI_USAGE, "%s: %s", ep->oscore_conf, msg);
    ep->have_oscore = 1;
    if (!ep->db) {
        replace_suffix(ep->oscore_conf, ".conf", server ? ".db" : ".state", ep->db_buf,
                       sizeof ep->db_buf);
        ep->db = ep->db_buf;
    }
    return CLI_OK;
}

int cli_endpoint_open(cli_endpoint *ep, int server, int need_store)
{
    const char *mode = cli_mode_name(ep->mode);
    int secured = ep->mode != CLI_MODE_PLAIN;
    if (secured && !cli_mode_available(ep->mode))
        return cli_fail(CLI_USAGE, "mode '%s' is not available in this build", mode);
    if (ep->oscore_conf && ep->mode != CLI_MODE_OSCORE)
        return cli_fail(CLI_USAGE, "--oscore-conf goes with --mode oscore");
    if (ep->mode == CLI_MODE_OSCORE) {
        int rc = load_oscore(ep, server);
        if (rc != CLI_OK)
            return rc;
        secured = ep->key != NULL; /* with --key: keyed by handshakes, as mode session */
        need_store = 1;
    }
    if (secured && !ep->key)
        return cli_fail(CLI_USAGE, "mode %s needs --key FILE (own secret key)", mode);
    if (secured && !server && !ep->peer)
        return cli_fail(CLI_USAGE, "mode %s needs --peer PUBFILE (the server's public key)", mode);
    if (ep->key) {
        int rc = cli_load_identity(ep->key, &ep->identity);
        if (rc != CLI_OK)
            return rc;
        ep->have_identity = 1;
        rc = cli_check_usage(ep->key, ep->identity.pub.usage, ep->mode);
        if (rc != CLI_OK)
            return rc;
        if (!ep->id) {
            base_name(ep->key, ".key", ep->id_buf, sizeof ep->id_buf);
            ep->id = ep->id_buf;
        }
    }
    int pq = ep->mode == CLI_MODE_SESSION || ep->mode == CLI_MODE_OSCORE;
    if (ep->n_more_keys && !pq)
        return cli_fail(CLI_USAGE, "several --key only in modes session and oscore (one "
                        "identity per suite)");
    if (ep->suite && !(pq && ep->key))
        return cli_fail(CLI_USAGE, "--suite goes with --mode session, or oscore with --key");
    for (size_t i = 0; i < ep->n_more_keys; i++) {
        int rc = cli_load_identity(ep->more_keys[i], &ep->more_identity[i]);
        if (rc == CLI_OK)
            rc = cli_check_usage(ep->more_keys[i], ep->more_identity[i].pub.usage, ep->mode);
        if (rc != CLI_OK)
            return rc;
    }
    if (ep->peer) {
        int rc = cli_load_pubkey(ep->peer, &ep->peer_key);
        if (rc != CLI_OK)
            return rc;
        ep->have_peer = 1;
        rc = cli_check_usage(ep->peer, ep->peer_key.usage, ep->mode);
        if (rc != CLI_OK)
            return rc;
        if (!ep->peer_id) {
            base_name(ep->peer, ".pub", ep->peer_id_buf, sizeof ep->peer_id_buf);
            ep->peer_id = ep->peer_id_buf;
        }
    }
    if (!secured && !need_store)
        return CLI_OK;
    if (!ep->db && ep->key) {
        replace_suffix(ep->key, ".key", server ? ".db" : ".state", ep->db_buf, sizeof ep->db_buf);
        ep->db = ep->db_buf;
    }
    if (!ep->db)
        return cli_fail(CLI_USAGE, "--allow needs --db FILE or --key FILE");
    int rc = cli_open_store(ep->db, &ep->store);
    ep->have_store = rc == CLI_OK;
    return rc;
}

/* Splits one --allow ID=PUBFILE into id (NUL-terminated) and *file. */
static int split_allow(const cli_command *cmd, const char *arg, char id[PQCOAP_ID_MAX + 1],
                       const char **file)
{
    const char *eq = strchr(arg, '=');
    size_t id_len = eq ? (size_t)(eq - arg) : 0;
    if (!eq || id_len == 0 || id_len > PQCOAP_ID_MAX || !eq[1])
        return cli_usage_error(cmd, "--allow needs ID=PUBFILE");
    memcpy(id, arg, id_len);
    id[id_len] = '\0';
    *file = eq + 1;
    return CLI_OK;
}

int cli_allow_check(const cli_command *cmd, cli_mode mode, const char *const *allow, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char id[PQCOAP_ID_MAX + 1];
        const char *file = NULL;
        pqcoap_pubkey pk;
        int rc = split_allow(cmd, allow[i], id, &file);
        if (rc == CLI_OK)
            rc = cli_load_pubkey(file, &pk);
        if (rc == CLI_OK)
            rc = cli_check_usage(file, pk.usage, mode);
        if (rc != CLI_OK)
            return rc;
    }
    return CLI_OK;
}

int cli_allow(cli_endpoint *ep, const cli_command *cmd, const char *const *allow, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char id[PQCOAP_ID_MAX + 1];
        const char *file = NULL;
        int rc = split_allow(cmd, allow[i], id, &file);
        if (rc == CLI_OK)
            rc = cli_trust_add(&ep->store, id, file);
        if (rc != CLI_OK)
            return rc;
    }
    return CLI_OK;
}

static pqcoap_server *volatile running_server;

static void on_signal(int sig)
{
    (void)sig;
    if (running_server)
        pqcoap_server_stop(running_server);
}

int cli_serve(pqcoap_server *srv, const char *addr, const char *what)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    running_server = srv;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    int v6 = strchr(addr, ':') != NULL;
    printf("listening on coap://%s%s%s:%u (%s)\n", v6 ? "[" : "", addr, v6 ? "]" : "",
           (unsigned)pqcoap_server_port(srv), what);
    fflush(stdout);
    pqcoap_err err = pqcoap_server_run(srv);
    running_server = NULL;
    if (err != PQCOAP_OK)
        return cli_fail(CLI_NETWORK, "server stopped: %s", pqcoap_strerror(err));
    return CLI_OK;
}

void cli_endpoint_free(cli_endpoint *ep)
{
    if (ep->have_store)
        pqcoap_store_close(&ep->store);
    pqcoap_identity_wipe(&ep->identity);
    for (size_t i = 0; i < CLI_MORE_KEYS; i++)
        pqcoap_identity_wipe(&ep->more_identity[i]);
    pqcoap_oscore_conf_wipe(&ep->oscore);
    memset(ep, 0, sizeof *ep);
}

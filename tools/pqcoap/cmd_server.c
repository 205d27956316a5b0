/* pqcoap server: serves the demo resources (sensors/temp, actuators/led, echo, counter) and
 * optionally the files under a folder, in one security mode, until SIGINT or SIGTERM. */
#include "cli.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "pqcoap/server.h"

#define SERVER_MAX_BODY ((size_t)1 << 20)
#define DIR_MAX_DEPTH 8
#define DIR_MAX_FILES 1024
#define CF_TEXT 0       /* Content-Format text/plain;charset=utf-8 (RFC 7252 section 12.3) */
#define CF_OCTET 42     /* application/octet-stream */

enum { SV_ADDR, SV_PORT, SV_MODE, SV_ID, SV_KEY, SV_DB, SV_ALLOW, SV_DIR };
static const cli_flag server_flags[] = {
    [SV_ADDR] = {"--addr", "-A", "ADDR", "numeric IPv4 or IPv6 address to bind (default ::)"},
    [SV_PORT] = {"--port", "-p", "PORT", "UDP port (default 5683; 0: any free port)"},
    [SV_MODE] = {"--mode", NULL, "MODE", "plain, sign (Mode A v2), sign-v1 or session (Mode B)"},
    [SV_ID] = {"--id", NULL, "ID", "own id (default: key file name without .key)"},
    [SV_KEY] = {"--key", NULL, "FILE", "own secret key file (all modes but plain)"},
    [SV_DB] = {"--db", NULL, "FILE", "store: trust store, floors, counters (default KEY.db)"},
    [SV_ALLOW] = {"--allow", NULL, "ID=PUBFILE", "trust this peer (repeatable)"},
    [SV_DIR] = {"--dir", NULL, "DIR", "also serve the files under DIR by GET"},
};

/* State of the demo resources. */
typedef struct demo_state {
    int led_on;
    unsigned long long counter;
} demo_state;

static pqcoap_err set_text(pqcoap_msgbuf *resp, const char *text)
{
    pqcoap_err err = pqcoap_msgbuf_add_uint(resp, PQCOAP_OPT_CONTENT_FORMAT, CF_TEXT);
    return err != PQCOAP_OK ? err
                            : pqcoap_msgbuf_set_payload(resp, (const uint8_t *)text, strlen(text));
}

/* GET sensors/temp: a simulated reading that drifts with the time of day. */
static pqcoap_err temp_get(void *arg, pqcoap_server_req *rq, const pqcoap_msg *req,
                           pqcoap_msgbuf *resp)
{
    (void)arg, (void)rq, (void)req;
    unsigned tenths = 200 + (unsigned)(time(NULL) % 60);
    char text[32];
    snprintf(text, sizeof text, "%u.%u C", tenths / 10, tenths % 10);
    return set_text(resp, text);
}

static pqcoap_err led_get(void *arg, pqcoap_server_req *rq, const pqcoap_msg *req,
                          pqcoap_msgbuf *resp)
{
    (void)rq, (void)req;
    return set_text(resp, ((demo_state *)arg)->led_on ? "on" : "off");
}

static int body_is(const pqcoap_msg *req, const char *word)
{
    return req->payload_len == strlen(word) && memcmp(req->payload, word, req->payload_len) == 0;
}

/* PUT actuators/led with "on" or "off" (also "1" / "0"): 2.04 with the new state. */
static pqcoap_err led_put(void *arg, pqcoap_server_req *rq, const pqcoap_msg *req,
                          pqcoap_msgbuf *resp)
{
    (void)rq;
    demo_state *st = arg;
    if (body_is(req, "on") || body_is(req, "1")) {
        st->led_on = 1;
    } else if (body_is(req, "off") || body_is(req, "0")) {
        st->led_on = 0;
    } else {
        pqcoap_msgbuf_error(resp, PQCOAP_CODE(4, 0), "expected on or off");
        return PQCOAP_OK;
    }
    return set_text(resp, st->led_on ? "on" : "off");
}

/* POST echo: 2.05 with the request body and its Content-Format. */
static pqcoap_err echo_post(void *arg, pqcoap_server_req *rq, const pqcoap_msg *req,
                            pqcoap_msgbuf *resp)
{
    (void)arg, (void)rq;
    resp->code = PQCOAP_CODE(2, 5);
    const pqcoap_opt *cf = pqcoap_msg_find_opt(req, PQCOAP_OPT_CONTENT_FORMAT);
    pqcoap_err err = cf ? pqcoap_msgbuf_add_opt(resp, cf->number, cf->value, cf->len) : PQCOAP_OK;
    return err != PQCOAP_OK ? err : pqcoap_msgbuf_set_payload(resp, req->payload, req->payload_len);
}

static pqcoap_err counter_reply(const demo_state *st, pqcoap_msgbuf *resp)
{
    char text[32];
    snprintf(text, sizeof text, "%llu", st->counter);
    return set_text(resp, text);
}

static pqcoap_err counter_get(void *arg, pqcoap_server_req *rq, const pqcoap_msg *req,
                              pqcoap_msgbuf *resp)
{
    (void)rq, (void)req;
    return counter_reply(arg, resp);
}

static pqcoap_err counter_post(void *arg, pqcoap_server_req *rq, const pqcoap_msg *req,
                               pqcoap_msgbuf *resp)
{
    (void)rq, (void)req;
    demo_state *st = arg;
    st->counter++;
    return counter_reply(st, resp);
}

/* GET of one file found under --dir at start; arg is its full path. The file is read at
 * request time. */
static pqcoap_err file_get(void *arg, pqcoap_server_req *rq, const pqcoap_msg *req,
                           pqcoap_msgbuf *resp)
{
    (void)rq, (void)req;
    FILE *f = fopen(arg, "rb");
    if (!f) {
        pqcoap_msgbuf_error(resp, PQCOAP_CODE(4, 4), "no such file");
        return PQCOAP_OK;
    }
    size_t n = fread(resp->payload, 1, resp->payload_cap, f);
    int too_large = n == resp->payload_cap && fgetc(f) != EOF;
    int failed = ferror(f);
    fclose(f);
    if (too_large || failed) {
        pqcoap_msgbuf_error(resp, PQCOAP_CODE(5, 0), too_large ? "file too large" : "read error");
        return PQCOAP_OK;
    }
    resp->payload_len = n;
    return pqcoap_msgbuf_add_uint(resp, PQCOAP_OPT_CONTENT_FORMAT, CF_OCTET);
}

/* The files served under --dir: full paths, kept for the handlers. */
typedef struct file_list {
    char *paths[DIR_MAX_FILES];
    size_t n;
} file_list;

/* Registers every regular file under root/rel (rel "" at the top) as a GET resource at its
 * relative path. Symbolic links are not followed and names starting with '.' are skipped,
 * so no request can reach outside the folder ("..", links, hidden files). */
static int serve_dir(pqcoap_server *srv, file_list *files, const char *root, const char *rel,
                     int depth)
{
    char dir_path[4096];
    snprintf(dir_path, sizeof dir_path, "%s%s%s", root, rel[0] ? "/" : "", rel);
    DIR *d = opendir(dir_path);
    if (!d)
        return cli_fail(CLI_USAGE, "cannot open folder '%s': %s", dir_path, strerror(errno));
    int rc = CLI_OK;
    struct dirent *e;
    while (rc == CLI_OK && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char child_rel[1024], child[4096];
        int n1 = snprintf(child_rel, sizeof child_rel, "%s%s%s", rel, rel[0] ? "/" : "", e->d_name);
        int n2 = snprintf(child, sizeof child, "%s/%s", root, child_rel);
        struct stat st;
        if (n1 < 0 || (size_t)n1 >= sizeof child_rel || n2 < 0 || (size_t)n2 >= sizeof child ||
            lstat(child, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode) && depth < DIR_MAX_DEPTH) {
            rc = serve_dir(srv, files, root, child_rel, depth + 1);
        } else if (S_ISREG(st.st_mode) && files->n < DIR_MAX_FILES) {
            char *copy = strdup(child);
            pqcoap_err err = copy ? pqcoap_server_handle(srv, child_rel, PQCOAP_GET, file_get, copy)
                                  : PQCOAP_ERR_NOMEM;
            if (copy)
                files->paths[files->n++] = copy;
            if (err != PQCOAP_OK)
                rc = cli_fail(CLI_NETWORK, "cannot serve '%s': %s", child_rel, pqcoap_strerror(err));
        }
    }
    closedir(d);
    return rc;
}

static int register_demo(pqcoap_server *srv, demo_state *st)
{
    static const struct {
        const char *path;
        uint8_t method;
        pqcoap_handler_fn fn;
    } routes[] = {
        {"sensors/temp", PQCOAP_GET, temp_get},
        {"actuators/led", PQCOAP_GET, led_get},
        {"actuators/led", PQCOAP_PUT, led_put},
        {"echo", PQCOAP_POST, echo_post},
        {"counter", PQCOAP_GET, counter_get},
        {"counter", PQCOAP_POST, counter_post},
    };
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        pqcoap_err err = pqcoap_server_handle(srv, routes[i].path, routes[i].method,
                                              routes[i].fn, st);
        if (err != PQCOAP_OK)
            return cli_fail(CLI_NETWORK, "cannot serve '%s': %s", routes[i].path,
                            pqcoap_strerror(err));
    }
    return CLI_OK;
}

static int server(const cli_command *cmd, int argc, char **argv)
{
    cli_endpoint ep;
    cli_endpoint_init(&ep);
    const char *addr = "::", *port_text = "5683", *dir = NULL, *v;
    const char **allow = calloc((size_t)argc + 1, sizeof *allow);
    size_t n_allow = 0;
    int mode_set = 0, f, rc = allow ? CLI_OK : cli_fail(CLI_NETWORK, "out of memory");
    cli_args a;
    cli_args_init(&a, cmd, argc, argv);
    while (rc == CLI_OK && (f = cli_next(&a, &v)) != CLI_END) {
        switch (f) {
        case SV_ADDR: addr = v; break;
        case SV_PORT: port_text = v; break;
        case SV_MODE: rc = cli_parse_mode(v, &ep.mode), mode_set = 1; break;
        case SV_ID: ep.id = v; break;
        case SV_KEY: ep.key = v; break;
        case SV_DB: ep.db = v; break;
        case SV_ALLOW: allow[n_allow++] = v; break;
        case SV_DIR: dir = v; break;
        case CLI_HELP: rc = CLI_HELP; break;
        case CLI_POSITIONAL: rc = cli_usage_error(cmd, "unexpected argument"); break;
        default: rc = CLI_USAGE; break;
        }
    }
    unsigned long port = 0;
    if (rc == CLI_OK && cli_parse_ulong(port_text, 65535, &port) != 0)
        rc = cli_usage_error(cmd, "-p PORT must be 0..65535");
    if (rc == CLI_OK && !mode_set)
        rc = cli_usage_error(cmd, "--mode is required");
    if (rc == CLI_OK)
        rc = cli_endpoint_open(&ep, 1, n_allow > 0);
    if (rc == CLI_OK)
        rc = cli_allow(&ep, cmd, allow, n_allow);
    cli_server cs = {CLI_MODE_PLAIN, NULL, NULL};
    demo_state st = {0, 0};
    file_list files;
    files.n = 0;
    if (rc == CLI_OK) {
        pqcoap_server_config cfg = PQCOAP_SERVER_CONFIG_INIT;
        cfg.addr = addr;
        cfg.port = (uint16_t)port;
        cfg.max_body = SERVER_MAX_BODY;
        rc = cli_server_create(&ep, &cfg, &cs);
    }
    pqcoap_server *srv = cs.coap;
    if (rc == CLI_OK)
        rc = register_demo(srv, &st);
    if (rc == CLI_OK && dir)
        rc = serve_dir(srv, &files, dir, "", 0);
    char what[32];
    snprintf(what, sizeof what, "mode %s", cli_mode_name(ep.mode));
    if (rc == CLI_OK)
        rc = cli_serve(srv, addr, what);
    cli_server_free(&cs);
    for (size_t i = 0; i < files.n; i++)
        free(files.paths[i]);
    cli_endpoint_free(&ep);
    free(allow);
    return rc == CLI_HELP ? CLI_OK : rc;
}

const cli_command cli_cmd_server = {
    "server",
    "[-A ADDR] [-p PORT] --mode plain|sign|sign-v1|session [--id ID] [--key FILE] "
    "[--db FILE] [--allow ID=PUBFILE]... [--dir DIR]",
    "Serve sensors/temp, actuators/led, echo, counter (and files) until SIGINT or SIGTERM.",
    CLI_FLAGS(server_flags), server};

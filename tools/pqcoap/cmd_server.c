/* pqcoap server: serves the demo resources (sensors/temp, actuators/led, echo, counter; no
 * echo in sign-v1; sensors/temp and counter observable) and optionally the files under a
 * folder, in one security mode, until SIGINT or SIGTERM. */
#include "cli.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "pqcoap/server.h"

#define SERVER_MAX_BODY ((size_t)1 << 20)
#define DIR_MAX_DEPTH 8
#define DIR_MAX_FILES 1024
#define CF_TEXT 0       /* Content-Format text/plain;charset=utf-8 (RFC 7252 section 12.3) */
#define CF_OCTET 42     /* application/octet-stream */

enum { SV_ADDR, SV_PORT, SV_MODE, SV_ID, SV_KEY, SV_DB, SV_ALLOW, SV_DIR, SV_OSCORE };
static const cli_flag server_flags[] = {
    [SV_ADDR] = {"--addr", "-A", "ADDR", "numeric IPv4 or IPv6 address to bind (default ::)"},
    [SV_PORT] = {"--port", "-p", "PORT", "UDP port (default 5683; 0: any free port)"},
    [SV_MODE] = {"--mode", NULL, "MODE", "plain, sign (Mode A v2), sign-v1, session (Mode B) or oscore"},
    [SV_ID] = {"--id", NULL, "ID", "own id (default: key file name without .key)"},
    [SV_KEY] = {"--key", NULL, "FILE", "own secret key file (all modes but plain); session: "
                                       "repeatable, one per suite, the first preferred"},
    [SV_DB] = {"--db", NULL, "FILE", "store: trust store, floors, counters (default KEY.db)"},
    [SV_ALLOW] = {"--allow", NULL, "ID=PUBFILE", "trust this peer (repeatable)"},
    [SV_DIR] = {"--dir", NULL, "DIR", "also serve the files under DIR by GET"},
    [SV_OSCORE] = {"--oscore-conf", NULL, "FILE", "oscore: the security context(s), in "
                                                 "libcoap's coap-oscore-conf format"},
};

/* State of the demo resources. */
typedef struct demo_state {
    int led_on;
    unsigned long long counter;
    pqcoap_server *srv;
    atomic_int stop;                /* ends the ticker */
} demo_state;

/* Observers of sensors/temp get a notification once a second (RFC 7641) until stop. */
static void *temp_ticker(void *arg)
{
    demo_state *st = arg;
    for (unsigned tick = 0; !atomic_load(&st->stop); tick++) {
        struct timespec ts = {0, 100 * 1000 * 1000};
        nanosleep(&ts, NULL);
        if (tick % 10 == 9)
            pqcoap_server_notify(st->srv, "sensors/temp");
    }
    return NULL;
}

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

/* POST echo: 2.05 with the request body and its Content-Format. Never in sign-v1, where the
 * response signature covers the bare body: the server would sign whatever a peer chose. */
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
    pqcoap_server_notify(st->srv, "counter"); /* observers see every change */
    return counter_reply(st, resp);
}

/* A file served under --dir: the folder, opened once at start, and the file's path below
 * it, '/'-separated. */
typedef struct served_file {
    int root;
    char rel[];
} served_file;

/* Opens the file at rel below the folder root one component at a time, following no
 * symbolic link (O_NOFOLLOW) and taking every component but the last as a folder
 * (O_DIRECTORY), so that nothing outside root is reached whatever replaced a component
 * since the start. O_NONBLOCK keeps a FIFO from blocking the open. Returns the descriptor,
 * or -1 with errno set. */
static int open_below(int root, const char *rel)
{
    int dir = root, fd = -1;
    for (const char *p = rel;;) {
        const char *slash = strchr(p, '/');
        char part[NAME_MAX + 1];
        size_t n = slash ? (size_t)(slash - p) : strlen(p);
        if (n == 0 || n > NAME_MAX) {
            errno = ENOENT;
            fd = -1;
        } else {
            memcpy(part, p, n);
            part[n] = '\0';
            fd = openat(dir, part, O_RDONLY | O_NOFOLLOW | O_CLOEXEC |
                                   (slash ? O_DIRECTORY : O_NONBLOCK));
        }
        int saved = errno;
        if (dir != root)
            close(dir);
        errno = saved;
        if (fd < 0 || !slash)
            return fd;
        dir = fd;
        p = slash + 1;
    }
}

/* GET of one file found under --dir at start (arg: its served_file). The file is opened and
 * read at request time: only a regular file still below the folder is served (4.04 if it is
 * gone, 4.03 if it became a link, a folder or anything else). */
static pqcoap_err file_get(void *arg, pqcoap_server_req *rq, const pqcoap_msg *req,
                           pqcoap_msgbuf *resp)
{
    (void)rq, (void)req;
    const served_file *sf = arg;
    int fd = open_below(sf->root, sf->rel);
    if (fd < 0) {
        if (errno == ENOENT)
            pqcoap_msgbuf_error(resp, PQCOAP_CODE(4, 4), "no such file");
        else
            pqcoap_msgbuf_error(resp, PQCOAP_CODE(4, 3), "not a regular file under the folder");
        return PQCOAP_OK;
    }
    struct stat st;
    FILE *f = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? fdopen(fd, "rb") : NULL;
    if (!f) {
        close(fd);
        pqcoap_msgbuf_error(resp, PQCOAP_CODE(4, 3), "not a regular file under the folder");
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

/* The files served under --dir, kept for the handlers, and their folder. */
typedef struct file_list {
    const char *dir;                /* as given to --dir, for messages */
    int root;                       /* the folder, opened at start; -1 if none */
    served_file *files[DIR_MAX_FILES];
    size_t n;
} file_list;

/* Registers every regular file below the folder `fd` (at rel below the root; "" at the top)
 * as a GET resource at its relative path; takes `fd`. Symbolic links are not followed and
 * names starting with '.' are skipped, so no request can reach outside the folder ("..",
 * links, hidden files). */
static int serve_dir(pqcoap_server *srv, file_list *files, int fd, const char *rel, int depth)
{
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return cli_fail(CLI_USAGE, "cannot open folder '%s/%s': %s", files->dir, rel,
                        strerror(errno));
    }
    int rc = CLI_OK;
    struct dirent *e;
    while (rc == CLI_OK && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char child[1024];
        int n = snprintf(child, sizeof child, "%s%s%s", rel, rel[0] ? "/" : "", e->d_name);
        struct stat st;
        if (n < 0 || (size_t)n >= sizeof child ||
            fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
            continue;
        if (S_ISDIR(st.st_mode) && depth < DIR_MAX_DEPTH) {
            int sub = openat(dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            rc = sub >= 0 ? serve_dir(srv, files, sub, child, depth + 1)
                          : cli_fail(CLI_USAGE, "cannot open folder '%s/%s': %s", files->dir,
                                     child, strerror(errno));
        } else if (S_ISREG(st.st_mode) && files->n < DIR_MAX_FILES) {
            served_file *sf = malloc(sizeof *sf + (size_t)n + 1);
            pqcoap_err err = sf ? PQCOAP_OK : PQCOAP_ERR_NOMEM;
            if (sf) {
                sf->root = files->root;
                memcpy(sf->rel, child, (size_t)n + 1);
                files->files[files->n++] = sf;
                err = pqcoap_server_handle(srv, child, PQCOAP_GET, file_get, sf);
            }
            if (err != PQCOAP_OK)
                rc = cli_fail(CLI_NETWORK, "cannot serve '%s': %s", child, pqcoap_strerror(err));
        }
    }
    closedir(d);
    return rc;
}

/* Opens the folder of --dir and serves the files below it. */
static int serve_folder(pqcoap_server *srv, file_list *files, const char *dir)
{
    files->dir = dir;
    files->root = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int top = files->root >= 0 ? dup(files->root) : -1;
    if (top < 0)
        return cli_fail(CLI_USAGE, "cannot open folder '%s': %s", dir, strerror(errno));
    return serve_dir(srv, files, top, "", 0);
}

static int register_demo(pqcoap_server *srv, demo_state *st, cli_mode mode)
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
        if (routes[i].fn == echo_post && mode == CLI_MODE_SIGN_V1)
            continue;
        pqcoap_err err = pqcoap_server_handle(srv, routes[i].path, routes[i].method,
                                              routes[i].fn, st);
        if (err != PQCOAP_OK)
            return cli_fail(CLI_NETWORK, "cannot serve '%s': %s", routes[i].path,
                            pqcoap_strerror(err));
    }
    st->srv = srv;
    pqcoap_err err = pqcoap_server_observable(srv, "sensors/temp", 0);
    if (err == PQCOAP_OK)
        err = pqcoap_server_observable(srv, "counter", 0);
    if (err != PQCOAP_OK)
        return cli_fail(CLI_NETWORK, "cannot make the demo resources observable: %s",
                        pqcoap_strerror(err));
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
        case SV_KEY:
            if (!ep.key)
                ep.key = v;
            else if (ep.n_more_keys < CLI_MORE_KEYS)
                ep.more_keys[ep.n_more_keys++] = v;
            else
                rc = cli_usage_error(cmd, "at most 4 --key (one per suite)");
            break;
        case SV_DB: ep.db = v; break;
        case SV_ALLOW: allow[n_allow++] = v; break;
        case SV_DIR: dir = v; break;
        case SV_OSCORE: ep.oscore_conf = v; break;
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
    /* Every key is checked against the mode before the store is opened. */
    if (rc == CLI_OK)
        rc = cli_allow_check(cmd, ep.mode, allow, n_allow);
    if (rc == CLI_OK)
        rc = cli_endpoint_open(&ep, 1, n_allow > 0);
    if (rc == CLI_OK)
        rc = cli_allow(&ep, cmd, allow, n_allow);
    cli_server cs = {CLI_MODE_PLAIN, NULL, NULL};
    demo_state st = {0, 0, NULL, 0};
    pthread_t ticker;
    int ticking = 0;
    file_list files;
    files.root = -1;
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
        rc = register_demo(srv, &st, ep.mode);
    if (rc == CLI_OK && dir)
        rc = serve_folder(srv, &files, dir);
    char what[32];
    snprintf(what, sizeof what, "mode %s", cli_mode_name(ep.mode));
    if (rc == CLI_OK && pthread_create(&ticker, NULL, temp_ticker, &st) == 0)
        ticking = 1;
    if (rc == CLI_OK)
        rc = cli_serve(srv, addr, what);
    if (ticking) {
        atomic_store(&st.stop, 1);
        pthread_join(ticker, NULL);
    }
    cli_server_free(&cs);
    for (size_t i = 0; i < files.n; i++)
        free(files.files[i]);
    if (files.root >= 0)
        close(files.root);
    cli_endpoint_free(&ep);
    free(allow);
    return rc == CLI_HELP ? CLI_OK : rc;
}

const cli_command cli_cmd_server = {
    "server",
    "[-A ADDR] [-p PORT] --mode plain|sign|sign-v1|session|oscore [--id ID] [--key FILE]... "
    "[--db FILE] [--allow ID=PUBFILE]... [--oscore-conf FILE] [--dir DIR]",
    "Serve sensors/temp (observable, notifies once a second), actuators/led, echo, counter "
    "(observable, notifies on every change) and files until SIGINT or SIGTERM.",
    CLI_FLAGS(server_flags), server};

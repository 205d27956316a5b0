/* Helpers of the proxy tests: the pqcoap CLI and libcoap's coap-server-notls as real
 * processes on loopback (their output in files, their ports from it), bounded waits, a clean
 * stop that reports the exit status, and a plain client for the application side. */
#ifndef PQCOAP_TEST_PROXY_H
#define PQCOAP_TEST_PROXY_H

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pqcoap/client.h"
#include "net/net_test.h"
#include "proc.h"

#define COAP_SERVER "/usr/bin/coap-server-notls"
#define COAP_CLIENT "/usr/bin/coap-client-notls"

static char proxy_tmp[64];

static inline void proxy_sleep_ms(unsigned ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/** Makes the test's temporary folder (proxy_tmp). 1 on success. */
static inline int proxy_tmp_init(void)
{
    snprintf(proxy_tmp, sizeof proxy_tmp, "/tmp/pqcoap-proxy-XXXXXX");
    return mkdtemp(proxy_tmp) != NULL;
}

/** Removes the temporary folder and what the test left in it. */
static inline void proxy_tmp_remove(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", proxy_tmp);
    if (proxy_tmp[0] && system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", proxy_tmp);
}

/** proxy_tmp/name into out. */
static inline const char *proxy_path(char *out, size_t cap, const char *name)
{
    snprintf(out, cap, "%s/%s", proxy_tmp, name);
    return out;
}

/** Starts argv (argv[0] a path) with stdout into proxy_tmp/<log>.out and stderr into
 *  proxy_tmp/<log>.err. Returns the pid or -1. */
static inline pid_t proxy_spawn(char *const argv[], const char *log)
{
    char out[128], err[128], name[64];
    snprintf(name, sizeof name, "%s.out", log);
    proxy_path(out, sizeof out, name);
    snprintf(name, sizeof name, "%s.err", log);
    proxy_path(err, sizeof err, name);
    pid_t pid = fork();
    if (pid == 0) {
        int o = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int e = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (o >= 0 && e >= 0) {
            dup2(o, 1);
            dup2(e, 2);
        }
        execv(argv[0], argv);
        _exit(127);
    }
    return pid;
}

/** Waits (at most 60 s) for the line "listening on coap://127.0.0.1:PORT" in proxy_tmp/<log>.out
 *  of process pid; returns PORT, or 0 if the process ended or never said it. */
static inline uint16_t proxy_wait_port(pid_t pid, const char *log)
{
    char out[128], name[64], line[256];
    snprintf(name, sizeof name, "%s.out", log);
    proxy_path(out, sizeof out, name);
    for (int i = 0; i < 600; i++) {
        FILE *f = fopen(out, "r");
        unsigned port = 0;
        if (f) {
            if (fgets(line, sizeof line, f))
                sscanf(line, "listening on coap://127.0.0.1:%u", &port);
            fclose(f);
        }
        if (port)
            return (uint16_t)port;
        if (waitpid(pid, NULL, WNOHANG) == pid)
            return 0;
        proxy_sleep_ms(100);
    }
    return 0;
}

/** SIGTERM, then waits (at most 60 s, then SIGKILL); returns the exit status, -1 if it did not
 *  exit by itself. */
static inline int proxy_stop(pid_t pid)
{
    int status = 0;
    if (pid <= 0)
        return -1;
    kill(pid, SIGTERM);
    for (int i = 0; i < 600; i++) {
        if (waitpid(pid, &status, WNOHANG) == pid)
            return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        proxy_sleep_ms(100);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return -1;
}

/** Counts the lines of proxy_tmp/<log>.err that contain `text`. */
static inline int proxy_err_lines(const char *log, const char *text)
{
    char err[128], name[64], line[512];
    snprintf(name, sizeof name, "%s.err", log);
    proxy_path(err, sizeof err, name);
    FILE *f = fopen(err, "r");
    int n = 0;
    while (f && fgets(line, sizeof line, f))
        n += strstr(line, text) != NULL;
    if (f)
        fclose(f);
    return n;
}

/** Reads proxy_tmp/<name> into buf (NUL-terminated, at most cap - 1 bytes); its length. */
static inline size_t proxy_read(const char *name, char *buf, size_t cap)
{
    char path[128];
    FILE *f = fopen(proxy_path(path, sizeof path, name), "rb");
    size_t n = f ? fread(buf, 1, cap - 1, f) : 0;
    if (f)
        fclose(f);
    buf[n] = '\0';
    return n;
}

/** Runs argv to its end (at most 120 s) with its output in proxy_tmp/<log>.out and .err;
 *  returns its exit status, or -1. */
static inline int proxy_run_logged(char *const argv[], const char *log)
{
    pid_t pid = proxy_spawn(argv, log);
    int status = 0;
    for (int i = 0; pid > 0 && i < 1200; i++) {
        if (waitpid(pid, &status, WNOHANG) == pid)
            return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        proxy_sleep_ms(100);
    }
    if (pid > 0) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
    }
    return -1;
}

/** Makes the key pair proxy_tmp/<name>.key, .pub with the CLI `pq`. 1 on success. */
static inline int proxy_keygen(const char *pq, const char *name)
{
    char prefix[128];
    proxy_path(prefix, sizeof prefix, name);
    char *argv[] = {(char *)pq, "keygen", "-o", prefix, NULL};
    return proc_run(argv) == 0;
}

/** A plain client for coap://127.0.0.1:port/ (the application), 20 s per request. */
static inline pqcoap_client *proxy_app(uint16_t port)
{
    char uri[64];
    pqcoap_client_config cfg = PQCOAP_CLIENT_CONFIG_INIT;
    cfg.timeout_ms = 20000;
    snprintf(uri, sizeof uri, "coap://127.0.0.1:%u/", port);
    return test_client(uri, &cfg);
}

/** One request of the application: method, path, extra options, body. */
static inline pqcoap_err proxy_request(pqcoap_client *cl, uint8_t method, const char *path,
                                const pqcoap_opt *opts, size_t n_opts, const char *body,
                                pqcoap_reply *r)
{
    pqcoap_req req = PQCOAP_REQ_INIT;
    req.method = method;
    req.path = path;
    req.opts = opts;
    req.n_opts = n_opts;
    req.payload = (const uint8_t *)body;
    req.payload_len = body ? strlen(body) : 0;
    return pqcoap_client_request(cl, &req, r);
}

/** True if the reply's payload is exactly `text`. */
static inline int proxy_body_is(const pqcoap_reply *r, const char *text)
{
    return r->msg.payload_len == strlen(text) &&
           (r->msg.payload_len == 0 || memcmp(r->msg.payload, text, r->msg.payload_len) == 0);
}

/** Starts coap-server-notls (dynamic resources allowed) on a free port of 127.0.0.1 and waits
 *  until it answers; sets *port. Returns its pid or -1. */
static inline pid_t proxy_libcoap_server(uint16_t *port)
{
    for (int attempt = 0; attempt < 5; attempt++) {
        char p[8];
        *port = test_free_port();
        snprintf(p, sizeof p, "%u", *port);
        char *argv[] = {COAP_SERVER, "-A", "127.0.0.1", "-p", p, "-d", "10", "-v", "0", NULL};
        pid_t pid = proxy_spawn(argv, "backend");
        pqcoap_client_config cfg = PQCOAP_CLIENT_CONFIG_INIT;
        cfg.timeout_ms = 300;
        char uri[64];
        snprintf(uri, sizeof uri, "coap://127.0.0.1:%u/", *port);
        pqcoap_client *cl = test_client(uri, &cfg);
        for (int i = 0; cl && i < 30; i++) {
            pqcoap_reply r;
            pqcoap_err err = proxy_request(cl, PQCOAP_GET, "time", NULL, 0, NULL, &r);
            pqcoap_reply_free(&r);
            if (err == PQCOAP_OK) {
                pqcoap_client_free(cl);
                return pid;
            }
        }
        pqcoap_client_free(cl);
        proxy_stop(pid);
    }
    return -1;
}

/** Writes proxy_tmp/gw.conf and dev.conf, one OSCORE context (A256GCM) seen from each end.
 *  Returns 1 on success. */
static inline int proxy_oscore_confs(void)
{
    static const char *const names[2] = {"gw.conf", "dev.conf"};
    static const char *const ids[2][2] = {{"01", "02"}, {"02", "01"}};
    for (int i = 0; i < 2; i++) {
        char path[128];
        proxy_path(path, sizeof path, names[i]);
        FILE *f = fopen(path, "w");
        if (!f)
            return 0;
        fprintf(f, "master_secret,hex,00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n"
                   "sender_id,hex,%s\nrecipient_id,hex,%s\naead_alg,text,A256GCM\n",
                ids[i][0], ids[i][1]);
        fclose(f);
    }
    return 1;
}

/** Starts `pqcoap proxy gateway --mode MODE` on 127.0.0.1 (free port, into *port) toward the
 *  backend on `backend`, with proxy_tmp/gw.key and the store proxy_tmp/<log>.db trusting
 *  proxy_tmp/<trusted>.pub as <trusted>, then the flags in extra[] (NULL-terminated, may be
 *  NULL). Returns its pid. */
static inline pid_t proxy_start_gateway(const char *pq, const char *mode, uint16_t backend,
                                        const char *trusted, const char *const *extra,
                                        const char *log, uint16_t *port)
{
    char to[64], key[128], db[128], allow[160], name[64];
    snprintf(to, sizeof to, "coap://127.0.0.1:%u", backend);
    proxy_path(key, sizeof key, "gw.key");
    snprintf(name, sizeof name, "%s.db", log);
    proxy_path(db, sizeof db, name);
    snprintf(allow, sizeof allow, "%s=%s/%s.pub", trusted, proxy_tmp, trusted);
    char *argv[32] = {(char *)pq, "proxy", "gateway", "--mode", (char *)mode, "-A",
                      "127.0.0.1", "-p", "0", "--to", to, "--key", key, "--db", db, "--allow",
                      allow};
    size_t n = 17;
    if (strcmp(mode, "oscore") == 0) { /* the context file instead of keys */
        proxy_path(key, sizeof key, "gw.conf");
        argv[11] = "--oscore-conf";
        n = 15;
    }
    for (size_t i = 0; extra && extra[i] && n + 1 < 32; i++)
        argv[n++] = (char *)extra[i];
    argv[n] = NULL;
    pid_t pid = proxy_spawn(argv, log);
    *port = pid > 0 ? proxy_wait_port(pid, log) : 0;
    return pid;
}

/** Starts `pqcoap proxy device --mode MODE` on 127.0.0.1 (free port, into *port) toward
 *  127.0.0.1:to_port, with proxy_tmp/dev.key, gw.pub pinned and the state proxy_tmp/<log>.state.
 *  Returns its pid. */
static inline pid_t proxy_start_device(const char *pq, const char *mode, uint16_t to_port,
                                const char *log, uint16_t *port)
{
    char to[64], key[128], peer[128], state[128], name[64];
    snprintf(to, sizeof to, "coap://127.0.0.1:%u", to_port);
    proxy_path(key, sizeof key, "dev.key");
    proxy_path(peer, sizeof peer, "gw.pub");
    snprintf(name, sizeof name, "%s.state", log);
    proxy_path(state, sizeof state, name);
    char *argv[] = {(char *)pq, "proxy", "device", "--mode", (char *)mode, "-p", "0", "--to", to,
                    "--key", key, "--peer", peer, "--state", state, NULL};
    if (strcmp(mode, "oscore") == 0) { /* the context file instead of keys */
        proxy_path(key, sizeof key, "dev.conf");
        argv[9] = "--oscore-conf";
        argv[11] = "--state";
        argv[12] = state;
        argv[13] = NULL;
    }
    pid_t pid = proxy_spawn(argv, log);
    *port = pid > 0 ? proxy_wait_port(pid, log) : 0;
    return pid;
}

#endif

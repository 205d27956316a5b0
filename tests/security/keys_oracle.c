/* End to end, the attack that key separation stops. A Mode A v1 signature covers the bare
 * message; with one key for every mode and the `echo` resource, a device trusted by a
 * `pqcoap server --mode sign-v1` gets the gateway's signature over bytes it chooses. It
 * chooses "pqcoap v1 resp" || SHA-256(INIT) || RESP-before-sig, with its own ML-KEM
 * ciphertext and X25519 share: a Mode B RESP that every client pinning the gateway key
 * accepts, the attacker holding the session keys (a man in the middle).
 * Checked here on real processes and sockets: a sign-v1 server refuses a general key (so the
 * gateway's Mode B key never signs v1); with a key made for sign-v1 there is no echo and no
 * resource returns bytes of the request; a RESP signed by the v1 key is refused by a Mode B
 * initiator pinning the gateway's key, and the CLI's Mode B initiator refuses to pin a v1
 * key at all. If the sign-v1 server does start with the general key, the test plays the
 * attack to the end and fails. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "common/buf_internal.h"
#include "core/session_internal.h"
#include "pqcoap/client.h"
#include "pqcoap/keys.h"
#include "pqcoap/sign.h"

static char dir[] = "/tmp/pqcoap-keys-oracle-XXXXXX";
static pqcoap_identity gw, dev, client, gw1, dev1;

static void path_of(char *out, size_t cap, const char *name)
{
    snprintf(out, cap, "%s/%s", dir, name);
}

static void make_key(pqcoap_identity *id, pqcoap_key_usage usage, const char *name)
{
    char key[256], pub[256];
    path_of(key, sizeof key, name);
    path_of(pub, sizeof pub, name);
    strcat(key, ".key");
    strcat(pub, ".pub");
    CHECK_EQ_INT(pqcoap_identity_generate_usage("falcon-512", usage, NULL, id), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_identity_save(id, key, 0), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_pubkey_save(&id->pub, pub, 0), PQCOAP_OK);
}

static size_t read_file(const char *path, char *buf, size_t cap)
{
    buf[0] = '\0';
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, cap - 1, f);
    buf[n] = '\0';
    fclose(f);
    return n;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Runs `pqcoap ARGS...` with stdout and stderr in files of the folder (named after `tag`). */
static pid_t spawn(const char *tag, char *const args[])
{
    char out[256], err[256];
    snprintf(out, sizeof out, "%s/%s.out", dir, tag);
    snprintf(err, sizeof err, "%s/%s.err", dir, tag);
    pid_t pid = fork();
    if (pid == 0) {
        int o = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int e = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (o < 0 || e < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0)
            _exit(127);
        execv(PQCOAP_CLI_PATH, args);
        _exit(127);
    }
    return pid;
}

/* Exit code of `pqcoap ARGS...` (bounded: 60 s); its stderr in err[cap]. */
static int run_cli(char *const args[], char *err, size_t cap)
{
    pid_t pid = spawn("cli", args);
    int status = 0, rc = -1;
    for (int i = 0; i < 600 && rc < 0; i++) {
        if (waitpid(pid, &status, WNOHANG) == pid)
            rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128;
        else
            sleep_ms(100);
    }
    if (rc < 0) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
    }
    char path[256];
    snprintf(path, sizeof path, "%s/cli.err", dir);
    read_file(path, err, cap);
    return rc;
}

/* 1 if err is exactly one line "pqcoap: ..." containing `text`. */
static int one_line_with(const char *err, const char *text)
{
    const char *nl = strchr(err, '\n');
    return strncmp(err, "pqcoap: ", 8) == 0 && nl && nl[1] == '\0' && strstr(err, text);
}

/* Starts `pqcoap server -A 127.0.0.1 -p 0 --mode sign-v1 --key KEY.key --db KEY.db --allow
 * ALLOW`. Returns 0 with *port and *pid once it listens, else the exit code with the
 * server's stderr in err[cap]. */
static int start_v1_server(const char *key, const char *allow, int *port, pid_t *pid,
                           char *err, size_t cap)
{
    char key_path[256], db_path[256], allow_arg[300];
    snprintf(key_path, sizeof key_path, "%s/%s.key", dir, key);
    snprintf(db_path, sizeof db_path, "%s/%s.db", dir, key);
    snprintf(allow_arg, sizeof allow_arg, "%s=%s/%s.pub", allow, dir, allow);
    char *args[] = {"pqcoap", "server", "-A", "127.0.0.1", "-p", "0", "--mode", "sign-v1",
                    "--key", key_path, "--db", db_path, "--allow", allow_arg, NULL};
    char out_path[256], err_path[256], out[256];
    snprintf(out_path, sizeof out_path, "%s/%s.server.out", dir, key);
    snprintf(err_path, sizeof err_path, "%s/%s.server.err", dir, key);
    char tag[64];
    snprintf(tag, sizeof tag, "%s.server", key);
    *pid = spawn(tag, args);
    for (int i = 0; i < 600; i++) {
        read_file(out_path, out, sizeof out);
        if (sscanf(out, "listening on coap://127.0.0.1:%d", port) == 1)
            return 0;
        int status;
        if (waitpid(*pid, &status, WNOHANG) == *pid) {
            read_file(err_path, err, cap);
            *pid = 0;
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
        }
        sleep_ms(100);
    }
    snprintf(err, cap, "server did not start");
    return -1;
}

static void stop_server(pid_t pid)
{
    if (pid <= 0)
        return;
    kill(pid, SIGTERM);
    int status = 0;
    waitpid(pid, &status, 0);
}

/* Sends `body` signed in the v1 format by `who` to path on the server, as a device would,
 * and gives the raw response (its payload still carries the server's v1 signature). */
static pqcoap_err v1_request(int port, const pqcoap_identity *who, uint8_t method,
                             const char *path, const uint8_t *body, size_t len,
                             pqcoap_reply *reply)
{
    char uri[128];
    snprintf(uri, sizeof uri, "coap://127.0.0.1:%d/%s", port, path);
    pqcoap_signer signer;
    PQCOAP_TRY(pqcoap_signer_from_identity(&signer, who, NULL));
    static uint8_t signed_body[4096];
    size_t signed_len = 0;
    PQCOAP_TRY(pqcoap_sign_v1(&signer, body, len, signed_body, sizeof signed_body, &signed_len));
    pqcoap_client *cl = NULL;
    PQCOAP_TRY(pqcoap_client_open(uri, NULL, &cl, NULL, 0));
    pqcoap_req req = PQCOAP_REQ_INIT;
    req.method = method;
    req.payload = signed_body;
    req.payload_len = signed_len;
    pqcoap_err err = pqcoap_client_request(cl, &req, reply);
    pqcoap_client_free(cl);
    return err;
}

static int contains(const uint8_t *hay, size_t n, const uint8_t *needle, size_t m)
{
    for (size_t i = 0; m <= n && i <= n - m; i++)
        if (memcmp(hay + i, needle, m) == 0)
            return 1;
    return 0;
}

/* ---- the forged RESP ---- */

typedef struct forgery {
    pqcoap_initiator ini;           /* the victim: a Mode B client pinning gw */
    uint8_t init[PQCOAP_INIT_MAX];
    size_t init_len;
    uint8_t kem_ss[32], x_ss[32];   /* the attacker's shares of the session keys */
    uint8_t resp[PQCOAP_RESP_MAX];  /* RESP before sig_r, then the whole RESP */
    size_t prefix_len;
    uint8_t signed_bytes[PQCOAP_RESP_MAX + 64]; /* "pqcoap v2 resp" || SHA-256(INIT) || prefix */
    size_t signed_len;
} forgery;

/* The victim sends INIT to "gw"; the attacker answers with its own KEM ciphertext and X25519
 * share and works out the bytes sig_r must cover (PROTOCOL.md Mode B). */
static void forge(forgery *f)
{
    memset(f, 0, sizeof *f);
    pqcoap_initiator_cfg cfg = PQCOAP_INITIATOR_CFG_INIT;
    cfg.id = "client";
    cfg.sk = client.sk;
    cfg.sk_len = PQCOAP_SIGN_SK_LEN;
    cfg.responder_id = "gw";
    cfg.responder_pk = gw.pub.pk;
    cfg.responder_pk_len = gw.pub.pk_len;
    CHECK_EQ_INT(pqcoap_initiator_start(&f->ini, &cfg, 1, 0, NULL, f->init, sizeof f->init,
                                        &f->init_len), PQCOAP_OK);
    pqcoap_init_view iv;
    CHECK_EQ_INT(pqcoap_init_decode(f->init, f->init_len, &iv), PQCOAP_OK);
    const pqcoap_kem_alg *kem = iv.suite->kem;
    uint8_t ct[PQCOAP_KEM_CT_MAX], x_pk[32], x_sk[32];
    CHECK_EQ_INT(kem->encaps(NULL, iv.kem_pk, ct, f->kem_ss), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_x25519_keygen(NULL, x_pk, x_sk), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_x25519_derive(x_sk, iv.x25519_pk, f->x_ss), PQCOAP_OK);

    pqcoap_writer w;
    pqcoap_wr_init(&w, f->resp, sizeof f->resp);
    pqcoap_wr_u8(&w, 2);                  /* version */
    pqcoap_wr_u8(&w, iv.suite->id);
    pqcoap_wr_u32(&w, 1);                 /* sid */
    pqcoap_wr_u32(&w, 3600);              /* lifetime_s */
    pqcoap_wr_u32(&w, 16384);             /* max_msgs */
    pqcoap_wr_u16(&w, (uint16_t)kem->ct_len);
    pqcoap_wr_bytes(&w, ct, kem->ct_len);
    pqcoap_wr_bytes(&w, x_pk, sizeof x_pk);
    pqcoap_wr_u8(&w, 0);                  /* protection: a Mode B session */
    pqcoap_wr_u8(&w, 0);                  /* str8(params), empty */
    CHECK_EQ_INT(w.err, PQCOAP_OK);
    f->prefix_len = w.len;

    static const char label[] = "pqcoap v2 resp";
    uint8_t h[32];
    const pqcoap_span in = {f->init, f->init_len};
    CHECK_EQ_INT(pqcoap_sha256(&in, 1, h), PQCOAP_OK);
    pqcoap_wr_init(&w, f->signed_bytes, sizeof f->signed_bytes);
    pqcoap_wr_bytes(&w, (const uint8_t *)label, sizeof label - 1);
    pqcoap_wr_bytes(&w, h, sizeof h);
    pqcoap_wr_bytes(&w, f->resp, f->prefix_len);
    CHECK_EQ_INT(w.err, PQCOAP_OK);
    f->signed_len = w.len;
}

/* Completes the RESP with sig_r = sig and hands it to the victim. On acceptance, reports
 * whether the attacker derives the victim's session keys. */
static pqcoap_err deliver(forgery *f, const uint8_t *sig, size_t sig_len)
{
    size_t len = f->prefix_len;
    f->resp[len++] = (uint8_t)(sig_len >> 8);
    f->resp[len++] = (uint8_t)sig_len;
    memcpy(f->resp + len, sig, sig_len);
    len += sig_len;
    pqcoap_session victim;
    pqcoap_err err = pqcoap_initiator_finish(&f->ini, f->resp, len, 0, &victim);
    if (err == PQCOAP_OK) {
        uint8_t c2s[32], s2c[32];
        pqcoap_key_schedule(f->init, f->init_len, f->resp, len, f->kem_ss, f->x_ss, c2s, s2c);
        fprintf(stderr, "ATTACK: the client accepted a RESP signed through sign-v1%s\n",
                memcmp(c2s, victim.send.ck, 32) == 0
                    ? "; the attacker holds its session keys" : "");
    }
    return err;
}

/* Phase 1: the gateway's general key (the one Mode B clients pin) in a sign-v1 server. */
static void general_key_in_sign_v1(void)
{
    forgery f;
    forge(&f);
    int port = 0;
    pid_t pid = 0;
    char err[1024];
    int rc = start_v1_server("gw", "dev", &port, &pid, err, sizeof err);
    if (rc != 0) {
        /* refused before it signs anything */
        CHECK_EQ_INT(rc, 2);
        CHECK(one_line_with(err, "keygen --v1"));
        if (!one_line_with(err, "keygen --v1"))
            fprintf(stderr, "server said: %s\n", err);
        return;
    }
    CHECK(!"a sign-v1 server started with a general key");
    /* The oracle: the device posts the bytes to echo, the gateway signs them. */
    pqcoap_reply reply = {PQCOAP_MSG_INIT, NULL};
    pqcoap_err err_v1 = v1_request(port, &dev, PQCOAP_POST, "echo", f.signed_bytes,
                                   f.signed_len, &reply);
    const uint8_t *msg = NULL;
    size_t msg_len = 0;
    if (err_v1 == PQCOAP_OK &&
        pqcoap_verify_v1(&gw.pub, reply.msg.payload, reply.msg.payload_len,
                         &msg, &msg_len) == PQCOAP_OK &&
        msg_len == f.signed_len && memcmp(msg, f.signed_bytes, msg_len) == 0) {
        const uint8_t *sig = msg + msg_len;
        size_t sig_len = reply.msg.payload_len - msg_len - 2;
        CHECK(deliver(&f, sig, sig_len) != PQCOAP_OK);
    }
    pqcoap_reply_free(&reply);
    pqcoap_initiator_wipe(&f.ini);
    stop_server(pid);
}

/* Phase 2: a gateway key made for sign-v1: it runs, signs nothing the request chose, and
 * what it signs does not pass as a Mode B RESP. */
static void v1_key_in_sign_v1(void)
{
    forgery f;
    forge(&f);
    int port = 0;
    pid_t pid = 0;
    char err[1024];
    int rc = start_v1_server("gw1", "dev1", &port, &pid, err, sizeof err);
    CHECK_EQ_INT(rc, 0);
    if (rc != 0) {
        fprintf(stderr, "sign-v1 server with a v1 key: %s\n", err);
        return;
    }
    /* It serves, signed with the v1 key. */
    pqcoap_reply reply = {PQCOAP_MSG_INIT, NULL};
    const uint8_t *msg = NULL;
    size_t msg_len = 0;
    CHECK_EQ_INT(v1_request(port, &dev1, PQCOAP_GET, "sensors/temp", NULL, 0, &reply),
                 PQCOAP_OK);
    CHECK_EQ_INT(reply.msg.code, PQCOAP_CODE(2, 5));
    CHECK_EQ_INT(pqcoap_verify_v1(&gw1.pub, reply.msg.payload,
                                  reply.msg.payload_len, &msg, &msg_len), PQCOAP_OK);
    pqcoap_reply_free(&reply);

    /* No echo; no resource and method gives back the bytes the request carried. */
    CHECK_EQ_INT(v1_request(port, &dev1, PQCOAP_POST, "echo", f.signed_bytes, f.signed_len,
                            &reply), PQCOAP_OK);
    CHECK_EQ_INT(reply.msg.code, PQCOAP_CODE(4, 4));
    pqcoap_reply_free(&reply);
    static const char *const paths[] = {"echo", "sensors/temp", "actuators/led", "counter"};
    static const uint8_t methods[] = {PQCOAP_GET, PQCOAP_POST, PQCOAP_PUT, PQCOAP_DELETE,
                                      PQCOAP_FETCH};
    int echoed = 0, answered = 0;
    for (size_t p = 0; p < sizeof paths / sizeof paths[0]; p++)
        for (size_t m = 0; m < sizeof methods; m++) {
            if (v1_request(port, &dev1, methods[m], paths[p], f.signed_bytes, f.signed_len,
                           &reply) == PQCOAP_OK) {
                answered++;
                echoed += contains(reply.msg.payload, reply.msg.payload_len, f.resp,
                                   f.prefix_len);
            }
            pqcoap_reply_free(&reply);
        }
    CHECK_EQ_INT(answered, 20);
    CHECK_EQ_INT(echoed, 0);
    stop_server(pid);

    /* Were the v1 key made to sign the bytes anyway, the RESP fails against the key the
     * Mode B client pins (the gateway's general key). */
    uint8_t sig[PQCOAP_SIG_MAX];
    size_t sig_len = 0;
    const pqcoap_span in = {f.signed_bytes, f.signed_len};
    CHECK_EQ_INT(pqcoap_sig_falcon512.sign(NULL, gw1.sk, &in, 1, sig, &sig_len), PQCOAP_OK);
    CHECK_EQ_INT(deliver(&f, sig, sig_len), PQCOAP_ERR_AUTH);
    pqcoap_initiator_wipe(&f.ini);

    /* And no Mode B (or Mode A v2) client of the CLI pins a v1 key. */
    char uri[128], key[256], peer[256];
    snprintf(uri, sizeof uri, "coap://127.0.0.1:%d/sensors/temp", port);
    path_of(key, sizeof key, "client.key");
    path_of(peer, sizeof peer, "gw1.pub");
    static char *const modes[] = {"session", "sign"};
    for (size_t i = 0; i < 2; i++) {
        char *args[] = {"pqcoap", "get", uri, "--mode", modes[i], "--key", key, "--peer",
                        peer, NULL};
        CHECK_EQ_INT(run_cli(args, err, sizeof err), 2);
        CHECK(one_line_with(err, "sign-v1"));
    }
}

int main(void)
{
    CHECK(mkdtemp(dir) != NULL);
    make_key(&gw, PQCOAP_USAGE_GENERAL, "gw");
    make_key(&dev, PQCOAP_USAGE_GENERAL, "dev");
    make_key(&client, PQCOAP_USAGE_GENERAL, "client");
    make_key(&gw1, PQCOAP_USAGE_SIGN_V1, "gw1");
    make_key(&dev1, PQCOAP_USAGE_SIGN_V1, "dev1");
    general_key_in_sign_v1();
    v1_key_in_sign_v1();
    pqcoap_identity_wipe(&gw);
    pqcoap_identity_wipe(&dev);
    pqcoap_identity_wipe(&client);
    pqcoap_identity_wipe(&gw1);
    pqcoap_identity_wipe(&dev1);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK_EQ_INT(system(cmd), 0);
    return check_done();
}

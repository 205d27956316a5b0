/* pqcoap get, post, put, delete and fetch: one request to a CoAP URI in one security mode;
 * the verified (and in Mode B decrypted) response payload goes to stdout or -o. */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "pqcoap/client.h"

#define REQUEST_MAX_BODY ((size_t)1 << 20)

enum { RQ_MODE, RQ_ID, RQ_KEY, RQ_PEER, RQ_PEER_ID, RQ_STATE, RQ_TEXT, RQ_FILE, RQ_OUT,
       RQ_FORMAT, RQ_BLOCK, RQ_NON, RQ_WAIT, RQ_VERBOSE, RQ_OSCORE, RQ_SUITE, RQ_OBSERVE };
static const cli_flag request_flags[] = {
    [RQ_MODE] = {"--mode", NULL, "MODE", "plain (default), sign, sign-v1, session or oscore"},
    [RQ_ID] = {"--id", NULL, "ID", "own id (default: key file name without .key)"},
    [RQ_KEY] = {"--key", NULL, "FILE", "own secret key file (all modes but plain)"},
    [RQ_PEER] = {"--peer", NULL, "PUBFILE", "the server's public key file, pinned"},
    [RQ_PEER_ID] = {"--peer-id", NULL, "ID", "the server's id (default: --peer name without .pub)"},
    [RQ_STATE] = {"--state", NULL, "FILE", "persisted counters (default: KEY with .state)"},
    [RQ_TEXT] = {"--text", "-e", "TEXT", "request payload, as text"},
    [RQ_FILE] = {"--file", "-f", "FILE", "request payload from FILE ('-': standard input)"},
    [RQ_OUT] = {"--output", "-o", "FILE", "write the response payload to FILE"},
    [RQ_FORMAT] = {"--format", "-t", "FORMAT", "Content-Format: a number or text, json, cbor, octet, link, xml"},
    [RQ_BLOCK] = {"--block", "-b", "SIZE", "block-wise block size: 16, 32, ... 1024"},
    [RQ_NON] = {"--non", "-N", NULL, "send a non-confirmable (NON) request"},
    [RQ_WAIT] = {"--wait", "-B", "SECONDS", "wait at most this long for the exchange (default 10)"},
    [RQ_VERBOSE] = {"--verbose", "-v", NULL, "print mode, handshake time and bytes on the wire to stderr"},
    [RQ_OSCORE] = {"--oscore-conf", NULL, "FILE", "oscore: the security context, in libcoap's "
                                                 "coap-oscore-conf format"},
    [RQ_SUITE] = {"--suite", NULL, "NAME", "session: the suite (default: that of the --peer "
                                           "key's algorithm; --version lists them)"},
    [RQ_OBSERVE] = {"--observe", "-s", "SECONDS", "get: observe the resource (RFC 7641) for "
                                                  "SECONDS, one line per notification"},
};

/* Content-Format names (RFC 7252 section 12.3, RFC 7049 for CBOR). */
static const struct {
    const char *name;
    int value;
} formats[] = {
    {"text", 0}, {"text/plain", 0}, {"link", 40}, {"application/link-format", 40},
    {"xml", 41}, {"application/xml", 41}, {"octet", 42}, {"binary", 42},
    {"application/octet-stream", 42}, {"exi", 47}, {"application/exi", 47},
    {"json", 50}, {"application/json", 50}, {"cbor", 60}, {"application/cbor", 60},
};

static int parse_format(const char *text, int *out)
{
    unsigned long v;
    if (cli_parse_ulong(text, 65535, &v) == 0) {
        *out = (int)v;
        return CLI_OK;
    }
    for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++)
        if (strcasecmp(text, formats[i].name) == 0) {
            *out = formats[i].value;
            return CLI_OK;
        }
    return cli_fail(CLI_USAGE, "-t %s: not a Content-Format number or name", text);
}

/* Names of CoAP response codes (RFC 7252 section 12.1.2, RFC 7959, RFC 8132). */
static const char *code_name(uint8_t code)
{
    static const struct {
        uint8_t code;
        const char *name;
    } names[] = {
        {PQCOAP_CODE(2, 1), "Created"}, {PQCOAP_CODE(2, 2), "Deleted"},
        {PQCOAP_CODE(2, 3), "Valid"}, {PQCOAP_CODE(2, 4), "Changed"},
        {PQCOAP_CODE(2, 5), "Content"}, {PQCOAP_CODE(2, 31), "Continue"},
        {PQCOAP_CODE(4, 0), "Bad Request"}, {PQCOAP_CODE(4, 1), "Unauthorized"},
        {PQCOAP_CODE(4, 2), "Bad Option"}, {PQCOAP_CODE(4, 3), "Forbidden"},
        {PQCOAP_CODE(4, 4), "Not Found"}, {PQCOAP_CODE(4, 5), "Method Not Allowed"},
        {PQCOAP_CODE(4, 6), "Not Acceptable"}, {PQCOAP_CODE(4, 8), "Request Entity Incomplete"},
        {PQCOAP_CODE(4, 9), "Conflict"}, {PQCOAP_CODE(4, 12), "Precondition Failed"},
        {PQCOAP_CODE(4, 13), "Request Entity Too Large"},
        {PQCOAP_CODE(4, 15), "Unsupported Content-Format"},
        {PQCOAP_CODE(4, 22), "Unprocessable Entity"}, {PQCOAP_CODE(4, 29), "Too Many Requests"},
        {PQCOAP_CODE(5, 0), "Internal Server Error"}, {PQCOAP_CODE(5, 1), "Not Implemented"},
        {PQCOAP_CODE(5, 2), "Bad Gateway"}, {PQCOAP_CODE(5, 3), "Service Unavailable"},
        {PQCOAP_CODE(5, 4), "Gateway Timeout"}, {PQCOAP_CODE(5, 5), "Proxying Not Supported"},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (names[i].code == code)
            return names[i].name;
    return "";
}

/* Reports an error response: its code, name and diagnostic payload (printable part). */
static int error_response(const cli_endpoint *ep, const pqcoap_msg *m)
{
    char diag[128];
    size_t n = 0;
    for (size_t i = 0; i < m->payload_len && n + 1 < sizeof diag; i++) {
        uint8_t c = m->payload[i];
        diag[n++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
    }
    diag[n] = '\0';
    /* In a secured mode a 4.01 is the server refusing our credentials or our messages. */
    int code = ep->mode != CLI_MODE_PLAIN && m->code == PQCOAP_CODE(4, 1) ? CLI_SECURITY : CLI_COAP;
    return cli_fail(code, "%u.%02u %s%s%s%s", m->code >> 5, m->code & 31, code_name(m->code),
                    n ? " (" : "", diag, n ? ")" : "");
}

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* -v: one line on stderr with the mode, the response code, the handshake and the bytes of
 * the CoAP messages on the wire (as the mode's client reports them). */
static void report(const cli_endpoint *ep, const cli_client *cl, const pqcoap_msg *m,
                   uint64_t elapsed_us)
{
    cli_client_stats st;
    cli_client_info(cl, &st);
    char hs[160] = "no handshake", wire[96] = "";
    if (st.handshake_us)
        snprintf(hs, sizeof hs, "handshake %.1f ms (INIT %zu B, RESP %zu B)%s%s",
                 (double)st.handshake_us / 1000.0, st.handshake_bytes_sent,
                 st.handshake_bytes_received, st.suite ? " | suite " : "",
                 st.suite ? st.suite : "");
    if (st.known)
        snprintf(wire, sizeof wire, " | request %zu B, response %zu B on the wire",
                 st.bytes_sent, st.bytes_received);
    if (st.oscore[0])
        snprintf(hs, sizeof hs, "%s", st.oscore);
    fprintf(stderr, "mode %s | %u.%02u %s | %s | exchange %.1f ms%s | payload %zu B\n",
            cli_mode_name(ep->mode), m->code >> 5, m->code & 31, code_name(m->code), hs,
            (double)elapsed_us / 1000.0, wire, m->payload_len);
}

typedef struct request_opts {
    const char *uri, *text, *file, *out, *format, *block, *wait, *observe;
    int non, verbose;
} request_opts;

static int parse(const cli_command *cmd, int argc, char **argv, cli_endpoint *ep,
                 request_opts *o)
{
    const char *v;
    int f;
    cli_args a;
    cli_args_init(&a, cmd, argc, argv);
    while ((f = cli_next(&a, &v)) != CLI_END) {
        int rc = CLI_OK;
        switch (f) {
        case RQ_MODE: rc = cli_parse_mode(v, &ep->mode); break;
        case RQ_ID: ep->id = v; break;
        case RQ_KEY: ep->key = v; break;
        case RQ_PEER: ep->peer = v; break;
        case RQ_PEER_ID: ep->peer_id = v; break;
        case RQ_STATE: ep->db = v; break;
        case RQ_TEXT: o->text = v; break;
        case RQ_FILE: o->file = v; break;
        case RQ_OUT: o->out = v; break;
        case RQ_FORMAT: o->format = v; break;
        case RQ_BLOCK: o->block = v; break;
        case RQ_NON: o->non = 1; break;
        case RQ_WAIT: o->wait = v; break;
        case RQ_VERBOSE: o->verbose = 1; break;
        case RQ_OSCORE: ep->oscore_conf = v; break;
        case RQ_SUITE: ep->suite = v; break;
        case RQ_OBSERVE: o->observe = v; break;
        case CLI_HELP: return CLI_HELP;
        case CLI_POSITIONAL:
            if (o->uri)
                return cli_usage_error(cmd, "only one URI");
            o->uri = v;
            break;
        default: return CLI_USAGE;
        }
        if (rc != CLI_OK)
            return rc;
    }
    if (!o->uri)
        return cli_usage_error(cmd, "URI is required");
    if (o->text && o->file)
        return cli_usage_error(cmd, "-e and -f exclude each other");
    return CLI_OK;
}

/* Turns the numeric flags into client settings. */
static int settings(const request_opts *o, pqcoap_client_config *cfg, pqcoap_req *req)
{
    unsigned long v;
    if (o->format && parse_format(o->format, &req->content_format) != CLI_OK)
        return CLI_USAGE;
    if (o->block) {
        if (cli_parse_ulong(o->block, 1024, &v) != 0 || v < 16 || (v & (v - 1)) != 0)
            return cli_fail(CLI_USAGE, "-b %s: block size must be 16, 32, 64, 128, 256, 512 or 1024",
                            o->block);
        cfg->block_size = (uint16_t)v;
    }
    if (o->wait) {
        if (cli_parse_ulong(o->wait, 86400, &v) != 0 || v == 0)
            return cli_fail(CLI_USAGE, "-B %s: wait must be 1..86400 seconds", o->wait);
        cfg->timeout_ms = (uint32_t)(v * 1000);
    }
    cfg->max_body = REQUEST_MAX_BODY;
    req->non = o->non;
    return CLI_OK;
}

/* What the notifications of `get -s` go to. */
typedef struct observer {
    const cli_endpoint *ep;
    const cli_client *cl;
    FILE *out;
    int verbose;
    int rc;                     /* set when the observation ended */
    unsigned count;
} observer;

static void on_notification(void *user, const pqcoap_notification *n)
{
    observer *ob = user;
    const pqcoap_msg *m = n->msg;
    if (n->err != PQCOAP_OK) {
        ob->rc = m && m->code >= PQCOAP_CODE(4, 0)
                     ? error_response(ob->ep, m)
                     : cli_request_failed(n->err, cli_client_last_error(ob->cl));
        return;
    }
    if (m->code >= PQCOAP_CODE(4, 0)) { /* a registration's error answer: reported after */
        return;
    }
    ob->count++;
    if (ob->verbose)
        fprintf(stderr, "notification %u | seq %u | %u.%02u %s | %zu B on the wire | "
                "payload %zu B\n", ob->count, (unsigned)n->seq, m->code >> 5, m->code & 31,
                code_name(m->code), n->wire_len, m->payload_len);
    fwrite(m->payload, 1, m->payload_len, ob->out);
    fputc('\n', ob->out);
    fflush(ob->out);
}

/* get -s: registers, prints each verified notification as it comes, and deregisters after
 * `seconds` (as libcoap's coap-client -s). */
static int observe(const cli_endpoint *ep, cli_client *cl, const pqcoap_req *req,
                   const request_opts *o, unsigned long seconds)
{
    observer ob = {ep, cl, stdout, o->verbose, CLI_OK, 0};
    if (o->out && !(ob.out = fopen(o->out, "wb")))
        return cli_fail(CLI_USAGE, "cannot write '%s'", o->out);
    uint32_t id = 0;
    pqcoap_err err = cli_client_observe(cl, req, on_notification, &ob, &id);
    int rc = CLI_OK;
    if (err != PQCOAP_OK) {
        rc = cli_request_failed(err, cli_client_last_error(cl));
    } else {
        pqcoap_client *net = cli_client_net(cl);
        uint64_t end = now_us() + (uint64_t)seconds * 1000000u;
        while (ob.rc == CLI_OK && now_us() < end) {
            uint64_t left_ms = (end - now_us()) / 1000u;
            pqcoap_completion c;
            int done = 0;
            if (pqcoap_client_poll(net, left_ms < 200 ? (uint32_t)left_ms + 1 : 200, &c, &done) !=
                PQCOAP_OK)
                break;
            if (done)
                pqcoap_reply_free(&c.reply);
        }
        rc = ob.rc;
        if (rc == CLI_OK) /* RFC 7641 section 3.6 */
            pqcoap_client_observe_cancel(net, id);
    }
    if (ob.out != stdout && fclose(ob.out) != 0 && rc == CLI_OK)
        rc = cli_fail(CLI_USAGE, "cannot write '%s'", o->out);
    return rc;
}

static int request(const cli_command *cmd, uint8_t method, int argc, char **argv)
{
    cli_endpoint ep;
    cli_endpoint_init(&ep);
    request_opts o;
    memset(&o, 0, sizeof o);
    pqcoap_client_config cfg = PQCOAP_CLIENT_CONFIG_INIT;
    pqcoap_req req = PQCOAP_REQ_INIT;
    req.method = method;
    uint8_t *body = NULL;
    size_t body_len = 0;
    cli_client cl = {CLI_MODE_PLAIN, NULL};
    pqcoap_reply reply = {PQCOAP_MSG_INIT, NULL};
    uint64_t elapsed_us = 0;

    int rc = parse(cmd, argc, argv, &ep, &o);
    unsigned long seconds = 0;
    if (rc == CLI_OK && o.observe &&
        (method != PQCOAP_GET || cli_parse_ulong(o.observe, 86400, &seconds) != 0 || !seconds))
        rc = cli_usage_error(cmd, method != PQCOAP_GET ? "-s is for get only"
                                                       : "-s SECONDS must be 1..86400");
    if (rc == CLI_OK)
        rc = settings(&o, &cfg, &req);
    if (rc == CLI_OK && o.file)
        rc = cli_read_file(o.file, REQUEST_MAX_BODY, &body, &body_len);
    if (rc == CLI_OK && o.text) {
        body_len = strlen(o.text);
        body = malloc(body_len + 1);
        rc = body ? CLI_OK : cli_fail(CLI_NETWORK, "out of memory");
        if (body)
            memcpy(body, o.text, body_len);
    }
    if (rc == CLI_OK)
        rc = cli_endpoint_open(&ep, 0, 0);
    if (rc == CLI_OK)
        rc = cli_client_open(&ep, o.uri, &cfg, &cl);
    if (rc == CLI_OK && o.observe) {
        rc = observe(&ep, &cl, &req, &o, seconds);
        pqcoap_reply_free(&reply);
        cli_client_free(&cl);
        cli_endpoint_free(&ep);
        free(body);
        return rc;
    }
    if (rc == CLI_OK) {
        req.payload = body;
        req.payload_len = body_len;
        uint64_t start = now_us();
        pqcoap_err err = cli_client_request(&cl, &req, &reply);
        elapsed_us = now_us() - start;
        if (err != PQCOAP_OK)
            rc = cli_request_failed(err, cli_client_last_error(&cl));
    }
    if (rc == CLI_OK && o.verbose)
        report(&ep, &cl, &reply.msg, elapsed_us);
    if (rc == CLI_OK && reply.msg.code >= PQCOAP_CODE(4, 0))
        rc = error_response(&ep, &reply.msg);
    else if (rc == CLI_OK)
        rc = cli_write_output(o.out, reply.msg.payload, reply.msg.payload_len);
    pqcoap_reply_free(&reply);
    cli_client_free(&cl);
    cli_endpoint_free(&ep);
    free(body);
    return rc == CLI_HELP ? CLI_OK : rc;
}

#define REQUEST_USAGE                                                                      \
    "URI [--mode MODE] [--id ID] [--key FILE] [--peer PUBFILE] [--peer-id ID] "            \
    "[--state FILE] [--suite NAME] [--oscore-conf FILE] [-e TEXT | -f FILE] [-o FILE] [-t FORMAT] [-b SIZE] "  \
    "[-N] [-B SECONDS] [-s SECONDS] [-v]"

/* One command per method: name, method, summary. */
#define REQUEST_COMMAND(var, name, method, summary)                                        \
    static int run_##var(const cli_command *cmd, int argc, char **argv)                     \
    {                                                                                      \
        return request(cmd, method, argc, argv);                                          \
    }                                                                                      \
    const cli_command cli_cmd_##var = {name, REQUEST_USAGE, summary,                       \
                                       CLI_FLAGS(request_flags), run_##var}

REQUEST_COMMAND(get, "get", PQCOAP_GET, "Send a GET request and print the verified response.");
REQUEST_COMMAND(post, "post", PQCOAP_POST, "Send a POST request (-e / -f payload).");
REQUEST_COMMAND(put, "put", PQCOAP_PUT, "Send a PUT request (-e / -f payload).");
REQUEST_COMMAND(delete, "delete", PQCOAP_DELETE, "Send a DELETE request.");
REQUEST_COMMAND(fetch, "fetch", PQCOAP_FETCH, "Send a FETCH request (-e / -f payload).");

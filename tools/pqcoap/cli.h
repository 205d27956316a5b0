/* Shared pieces of the pqcoap CLI: exit codes, one-line errors, the flag parser, --help
 * text built from a command's flag table, and whole-file input/output. */
#ifndef PQCOAP_CLI_H
#define PQCOAP_CLI_H

#include <stddef.h>
#include <stdint.h>
#include "pqcoap/client.h"
#include "pqcoap/layer.h"
#include "pqcoap/server.h"
#include "pqcoap/pqcoap.h"

/* Exit codes (docs/CLI.md). */
enum {
    CLI_OK = 0,
    CLI_COAP = 1,      /* the peer answered with a CoAP error response */
    CLI_USAGE = 2,     /* bad arguments, or a file named on the command line is unusable */
    CLI_SECURITY = 3,  /* verification, handshake or replay failure */
    CLI_NETWORK = 4    /* network, timeout or other I/O failure */
};

/** Prints "pqcoap: <message>\n" on stderr (one line) and returns `code`. */
int cli_fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/** Exit code for a library error met while talking to a peer: 1 for a CoAP error
 *  response, 3 for the authentication class (a response not authenticated, a request bound
 *  to another recipient, ...) and malformed protected input, 2 for usage errors (a key made
 *  for another mode, ...), 4 otherwise (network, timeout, a body over the limit, store,
 *  I/O). */
int cli_exit_for(pqcoap_err err);

/** Reports a failed request: one line with `why` (the endpoint's last error; "" = the
 *  error's name), saying first that the response was not authenticated for
 *  PQCOAP_ERR_UNAUTHENTICATED. Returns cli_exit_for(err). */
int cli_request_failed(pqcoap_err err, const char *why);

/** One flag of a command. `arg` names its value in --help (NULL: the flag takes none). */
typedef struct cli_flag {
    const char *name;       /* long name with its dashes, "--key" */
    const char *short_name; /* "-o", or NULL */
    const char *arg;
    const char *help;
} cli_flag;

/** A command: its name, positional arguments for --help, summary, flags and code. */
typedef struct cli_command {
    const char *name;
    const char *usage;
    const char *summary;
    const cli_flag *flags;
    size_t n_flags;
    int (*run)(const struct cli_command *cmd, int argc, char **argv);
} cli_command;

/** The flags and count fields of a cli_command literal, from a flag array. */
#define CLI_FLAGS(arr) (arr), sizeof(arr) / sizeof((arr)[0])

/** Walks argv[0..argc) of one command. */
typedef struct cli_args {
    const cli_command *cmd;
    int argc;
    char **argv;
    int i;
    int only_positional;    /* after "--" */
} cli_args;

#define CLI_END (-1)        /* no more arguments */
#define CLI_POSITIONAL (-2) /* *value is a positional argument */
#define CLI_HELP (-3)       /* --help was printed: return 0 */
#define CLI_ERROR (-4)      /* an error was printed: return CLI_USAGE */

void cli_args_init(cli_args *a, const cli_command *cmd, int argc, char **argv);

/** Next argument: the index of the flag in cmd->flags (its value, if it takes one, in
 *  *value), or one of CLI_END, CLI_POSITIONAL, CLI_HELP, CLI_ERROR. "-" alone is
 *  positional; "--" makes the rest positional; "--flag=value" is accepted. */
int cli_next(cli_args *a, const char **value);

/** Prints the --help text of `cmd` to stdout. */
void cli_help(const cli_command *cmd);

/** Reports an unexpected positional argument or a missing required one (exit 2). */
int cli_usage_error(const cli_command *cmd, const char *what);

/** Reads the whole file `path` ("-" = stdin) into a malloc'd buffer (*out, *out_len);
 *  at most `max` bytes. Returns 0, or prints the error and returns CLI_USAGE. */
int cli_read_file(const char *path, size_t max, uint8_t **out, size_t *out_len);

/** Writes data[0..len) to `path` (NULL or "-" = stdout). Returns 0, or prints the error
 *  and returns CLI_NETWORK (an I/O failure). */
int cli_write_output(const char *path, const uint8_t *data, size_t len);

/** Loads a secret key file; on failure prints why (naming the file) and returns
 *  CLI_USAGE. */
int cli_load_identity(const char *path, pqcoap_identity *out);

/** Loads a public key file; as cli_load_identity. */
int cli_load_pubkey(const char *path, pqcoap_pubkey *out);

/** Formats `n` bytes as lowercase hex into out (2n + 1 bytes, NUL-terminated). */
void cli_hex(const uint8_t *p, size_t n, char *out);

/** Opens the SQLite store file `path`; on failure prints the store's one-line reason and
 *  returns CLI_USAGE (corrupt, foreign or newer file) or CLI_NETWORK. */
int cli_open_store(const char *path, pqcoap_store *out);

/** Pins the public key file `pubfile` as peer `id` in `store`. Prints the error and returns
 *  its exit code on failure. */
int cli_trust_add(const pqcoap_store *store, const char *id, const char *pubfile);

/** Parses a decimal number 0..max (no sign, no spaces). Returns 0, or -1 if it is not one. */
int cli_parse_ulong(const char *text, unsigned long max, unsigned long *out);

/* ---- endpoints: security mode, identity, peer key, store (endpoint.c, layers.c) ---- */

typedef enum cli_mode {
    CLI_MODE_PLAIN = 0,   /* no protection */
    CLI_MODE_SIGN,        /* Mode A v2 */
    CLI_MODE_SIGN_V1,     /* Mode A v1 (the seed format) */
    CLI_MODE_SESSION,     /* Mode B */
    CLI_MODE_OSCORE       /* OSCORE (RFC 8613) with a provisioned context */
} cli_mode;

/** Parses a mode name; prints the error and returns CLI_USAGE for an unknown one. */
int cli_parse_mode(const char *name, cli_mode *out);

/** The name of `mode` ("sign-v1"). */
const char *cli_mode_name(cli_mode mode);

/** The name of a key usage as `trust list` shows it: "general" or "sign-v1". */
const char *cli_usage_name(pqcoap_key_usage usage);

/** Checks that the key in file `path`, of usage `usage`, may be used in `mode` (KEYS.md "Key
 *  usage"): sign-v1 takes only sign-v1 keys, sign and session only general ones, plain any.
 *  Prints why not (naming the file) and returns CLI_USAGE. */
int cli_check_usage(const char *path, pqcoap_key_usage usage, cli_mode mode);

/** True if this build of the library offers `mode`. */
int cli_mode_available(cli_mode mode);

/** Further identities a session server takes (one per suite, after the first --key). */
#define CLI_MORE_KEYS 3

/** One endpoint's security set-up. The command fills mode and the paths and ids from its
 *  flags (NULL: default), then calls cli_endpoint_open and a layer function. */
typedef struct cli_endpoint {
    cli_mode mode;
    const char *id;       /* own id (default: key file name without .key) */
    const char *key;      /* own secret key file */
    const char *db;       /* store file (server --db, client --state) */
    const char *peer;     /* client: the server's public key file */
    const char *peer_id;  /* client: the server's id (default: --peer name without .pub) */
    const char *oscore_conf; /* OSCORE context file (coap-oscore-conf(5) format) */
    const char *more_keys[CLI_MORE_KEYS]; /* server, session: further --key files */
    size_t n_more_keys;
    pqcoap_identity more_identity[CLI_MORE_KEYS];
    const char *suite;    /* client, session: --suite NAME (default: the --peer key's) */
    char id_buf[PQCOAP_ID_MAX + 1];
    char peer_id_buf[PQCOAP_ID_MAX + 1];
    char db_buf[4096];
    pqcoap_identity identity;
    int have_identity;
    pqcoap_pubkey peer_key;
    int have_peer;
    pqcoap_store store;
    int have_store;
    pqcoap_oscore_conf oscore;
    int have_oscore;
} cli_endpoint;

void cli_endpoint_init(cli_endpoint *ep);

/** Checks the flags the mode needs, loads the key files and checks their usage against the
 *  mode, fills the default id, peer id and store path and opens the store (in every mode
 *  but plain, or when need_store is set). Prints the error and returns its exit code on failure. */
int cli_endpoint_open(cli_endpoint *ep, int server, int need_store);

/** A server of one mode: the CoAP server and the mode's object behind it. */
typedef struct cli_server {
    cli_mode mode;
    pqcoap_server *coap;
    void *obj;
} cli_server;

/** Creates the server of ep->mode with CoAP settings `cfg` (its layer is set here). Prints
 *  the error and returns its exit code on failure. */
int cli_server_create(cli_endpoint *ep, pqcoap_server_config *cfg, cli_server *out);

/** Frees the server. A zeroed one is fine. */
void cli_server_free(cli_server *s);

/** A client of one mode: the library's plain, signing or session client. */
typedef struct cli_client {
    cli_mode mode;
    void *obj;
} cli_client;

/** Opens the client of ep->mode for `uri` with transport settings `net`, the server key
 *  pinned. Prints the error and returns its exit code on failure. */
int cli_client_open(cli_endpoint *ep, const char *uri, const pqcoap_client_config *net,
                    cli_client *out);

/** Sends `req` and waits for the verified reply (the mode's request function). */
pqcoap_err cli_client_request(cli_client *c, const pqcoap_req *req, pqcoap_reply *reply);

/** Observes `req` (pqcoap_client_observe through the mode's client; in session mode after
 *  a handshake). */
pqcoap_err cli_client_observe(cli_client *c, const pqcoap_req *req, pqcoap_observe_fn fn,
                              void *user, uint32_t *id);

/** The mode's underlying CoAP client (for pqcoap_client_poll and _observe_cancel). */
pqcoap_client *cli_client_net(cli_client *c);

/** Why the last request failed (the mode's last_error). */
const char *cli_client_last_error(const cli_client *c);

/** What -v reports: the handshake of the exchange and the CoAP bytes on the wire. */
typedef struct cli_client_stats {
    int known;                  /* 0: the mode's client does not report sizes */
    uint64_t handshake_us;      /* 0: no handshake */
    size_t handshake_bytes_sent, handshake_bytes_received;
    size_t bytes_sent, bytes_received;
    char oscore[64];            /* oscore: "kid 0x.. piv 0x.." of the last request, else "" */
    const char *suite;          /* session: the suite's name, else NULL */
} cli_client_stats;

/** Fills *out after a request. */
void cli_client_info(const cli_client *c, cli_client_stats *out);

/** Closes the client. A zeroed client is fine. */
void cli_client_free(cli_client *c);

/** Frees everything the endpoint holds and wipes the identity. */
void cli_endpoint_free(cli_endpoint *ep);

/** Checks each `--allow ID=PUBFILE` value of allow[0..n): its form, its key file and the
 *  key's usage against `mode` (before any store is opened). Prints the error and returns
 *  its exit code on failure. */
int cli_allow_check(const cli_command *cmd, cli_mode mode, const char *const *allow, size_t n);

/** Pins each `--allow ID=PUBFILE` value of allow[0..n) in ep->store (cli_trust_add). Prints
 *  the error and returns its exit code on failure. */
int cli_allow(cli_endpoint *ep, const cli_command *cmd, const char *const *allow, size_t n);

/** Prints "listening on coap://ADDR:PORT (WHAT)" on stdout and serves until SIGINT or
 *  SIGTERM. Returns 0, or prints the error and returns its exit code. */
int cli_serve(pqcoap_server *srv, const char *addr, const char *what);

/* Commands, one file per group; main.c lists them. */
extern const cli_command cli_cmd_keygen, cli_cmd_pubkey, cli_cmd_sign, cli_cmd_verify,
    cli_cmd_trust, cli_cmd_server, cli_cmd_get, cli_cmd_post, cli_cmd_put, cli_cmd_delete,
    cli_cmd_fetch, cli_cmd_proxy;

#endif

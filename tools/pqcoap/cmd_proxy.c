/* pqcoap proxy device | gateway: the two ends of a protected hop in front of an existing CoAP
 * application and server (the library's proxies, proxy.h), serving until SIGINT or SIGTERM. */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pqcoap/proxy.h"

#define PROXY_MAX_BODY ((size_t)1 << 20)

enum { PX_ADDR, PX_PORT, PX_MODE, PX_TO, PX_ID, PX_KEY, PX_PEER, PX_PEER_ID, PX_STATE, PX_DB,
       PX_ALLOW, PX_FORWARD_ID, PX_WAIT, PX_OSCORE };
static const cli_flag proxy_flags[] = {
    [PX_ADDR] = {"--addr", "-A", "ADDR", "numeric address to listen on (device: 127.0.0.1, gateway: ::)"},
    [PX_PORT] = {"--port", "-p", "PORT", "UDP port (default 5683; 0: any free port)"},
    [PX_MODE] = {"--mode", NULL, "MODE", "plain, sign (Mode A v2), session (Mode B) or oscore, on both ends"},
    [PX_TO] = {"--to", NULL, "URI", "device: the gateway; gateway: the backend (coap://host[:port][/prefix])"},
    [PX_ID] = {"--id", NULL, "ID", "own id (default: key file name without .key)"},
    [PX_KEY] = {"--key", NULL, "FILE", "own secret key file (sign, session)"},
    [PX_PEER] = {"--peer", NULL, "PUBFILE", "device: the gateway's public key file, pinned"},
    [PX_PEER_ID] = {"--peer-id", NULL, "ID", "device: the gateway's id (default: --peer name without .pub)"},
    [PX_STATE] = {"--state", NULL, "FILE", "device: persisted counters (default: KEY with .state)"},
    [PX_DB] = {"--db", NULL, "FILE", "gateway: trusted devices, floors, counters (default KEY.db)"},
    [PX_ALLOW] = {"--allow", NULL, "ID=PUBFILE", "gateway: trust this device (repeatable)"},
    [PX_FORWARD_ID] = {"--forward-identity", NULL, NULL, "gateway: tell the backend who asked (option 65004)"},
    [PX_WAIT] = {"--wait", "-B", "SECONDS", "wait at most this long for an answer (device 15, gateway 5)"},
    [PX_OSCORE] = {"--oscore-conf", NULL, "FILE", "oscore: the security context(s), in libcoap's "
                                                 "coap-oscore-conf format"},
};

/* What the command line gave. */
typedef struct proxy_args {
    const char *addr, *port, *to, *wait;
    const char **allow;
    size_t n_allow;
    int forward_identity;
    int mode_set;
} proxy_args;

/* The flags of the other role. */
static int wrong_role(int f, int gateway)
{
    static const int device_only[] = {PX_PEER, PX_PEER_ID, PX_STATE};
    static const int gateway_only[] = {PX_DB, PX_ALLOW, PX_FORWARD_ID};
    for (size_t i = 0; i < 3; i++)
        if (f == (gateway ? device_only[i] : gateway_only[i]))
            return 1;
    return 0;
}

static int parse(const cli_command *cmd, int gateway, int argc, char **argv, cli_endpoint *ep,
                 proxy_args *o)
{
    const char *v;
    int f, rc = CLI_OK;
    cli_args a;
    cli_args_init(&a, cmd, argc, argv);
    while (rc == CLI_OK && (f = cli_next(&a, &v)) != CLI_END) {
        if (f >= 0 && wrong_role(f, gateway))
            return cli_usage_error(cmd, gateway ? "--peer, --peer-id and --state are for a device"
                                                : "--db, --allow and --forward-identity are for a "
                                                  "gateway");
        switch (f) {
        case PX_ADDR: o->addr = v; break;
        case PX_PORT: o->port = v; break;
        case PX_MODE: rc = cli_parse_mode(v, &ep->mode), o->mode_set = 1; break;
        case PX_TO: o->to = v; break;
        case PX_ID: ep->id = v; break;
        case PX_KEY: ep->key = v; break;
        case PX_PEER: ep->peer = v; break;
        case PX_PEER_ID: ep->peer_id = v; break;
        case PX_STATE: case PX_DB: ep->db = v; break;
        case PX_ALLOW: o->allow[o->n_allow++] = v; break;
        case PX_FORWARD_ID: o->forward_identity = 1; break;
        case PX_WAIT: o->wait = v; break;
        case PX_OSCORE: ep->oscore_conf = v; break;
        case CLI_HELP: return CLI_HELP;
        case CLI_POSITIONAL: return cli_usage_error(cmd, "unexpected argument");
        default: return CLI_USAGE;
        }
    }
    if (rc != CLI_OK)
        return rc;
    if (!o->mode_set)
        return cli_usage_error(cmd, "--mode is required");
    if (ep->mode == CLI_MODE_SIGN_V1)
        return cli_usage_error(cmd, "--mode must be plain, sign, session or oscore");
    if (!o->to)
        return cli_usage_error(cmd, "--to URI is required");
    if (o->forward_identity && (ep->mode == CLI_MODE_PLAIN || ep->mode == CLI_MODE_OSCORE))
        return cli_usage_error(cmd, "--forward-identity needs --mode sign or session");
    return CLI_OK;
}

/* Prints each line of the proxy about a request it could not forward. */
static void log_line(void *arg, const char *line)
{
    fprintf(stderr, "pqcoap: %s: %s\n", (const char *)arg, line);
}

static int run_role(const cli_command *cmd, int gateway, int argc, char **argv)
{
    cli_endpoint ep;
    cli_endpoint_init(&ep);
    proxy_args o;
    memset(&o, 0, sizeof o);
    o.addr = gateway ? "::" : "127.0.0.1";
    o.port = "5683";
    o.allow = calloc((size_t)argc + 1, sizeof *o.allow);
    int rc = o.allow ? parse(cmd, gateway, argc, argv, &ep, &o)
                     : cli_fail(CLI_NETWORK, "out of memory");
    unsigned long port = 0, wait = 0;
    if (rc == CLI_OK && cli_parse_ulong(o.port, 65535, &port) != 0)
        rc = cli_usage_error(cmd, "-p PORT must be 0..65535");
    if (rc == CLI_OK && o.wait && (cli_parse_ulong(o.wait, 86400, &wait) != 0 || wait == 0))
        rc = cli_usage_error(cmd, "-B SECONDS must be 1..86400");
    if (rc == CLI_OK)
        rc = cli_allow_check(cmd, ep.mode, o.allow, o.n_allow);
    if (rc == CLI_OK)
        rc = cli_endpoint_open(&ep, gateway, o.n_allow > 0);
    if (rc == CLI_OK)
        rc = cli_allow(&ep, cmd, o.allow, o.n_allow);
    pqcoap_proxy *px = NULL;
    if (rc == CLI_OK) {
        static const pqcoap_proxy_mode modes[] = {
            [CLI_MODE_PLAIN] = PQCOAP_PROXY_PLAIN, [CLI_MODE_SIGN] = PQCOAP_PROXY_SIGN,
            [CLI_MODE_SIGN_V1] = PQCOAP_PROXY_PLAIN, [CLI_MODE_SESSION] = PQCOAP_PROXY_SESSION,
            [CLI_MODE_OSCORE] = PQCOAP_PROXY_OSCORE};
        pqcoap_proxy_config cfg = PQCOAP_PROXY_CONFIG_INIT;
        cfg.mode = modes[ep.mode];
        cfg.addr = o.addr;
        cfg.port = (uint16_t)port;
        cfg.to = o.to;
        cfg.identity = ep.have_identity ? &ep.identity : NULL;
        cfg.id = ep.id;
        cfg.peer = ep.have_peer ? &ep.peer_key : NULL;
        cfg.peer_id = ep.peer_id;
        cfg.store = ep.have_store ? &ep.store : NULL;
        cfg.oscore = ep.have_oscore ? &ep.oscore : NULL;
        cfg.forward_identity = o.forward_identity;
        cfg.max_body = PROXY_MAX_BODY;
        cfg.timeout_ms = (uint32_t)(wait * 1000);
        cfg.log = log_line;
        cfg.log_arg = (void *)cmd->name;
        char msg[256] = "";
        pqcoap_err err = gateway ? pqcoap_proxy_gateway_create(&cfg, &px, msg, sizeof msg)
                                 : pqcoap_proxy_device_create(&cfg, &px, msg, sizeof msg);
        if (err != PQCOAP_OK)
            rc = cli_fail(cli_exit_for(err) == CLI_USAGE ? CLI_USAGE : CLI_NETWORK, "%s: %s",
                          cmd->name, msg[0] ? msg : pqcoap_strerror(err));
    }
    if (rc == CLI_OK) {
        char what[160];
        snprintf(what, sizeof what, "%s, mode %s, to %s", cmd->name, cli_mode_name(ep.mode),
                 o.to);
        rc = cli_serve(pqcoap_proxy_server(px), o.addr, what);
    }
    pqcoap_proxy_free(px);
    cli_endpoint_free(&ep);
    free(o.allow);
    return rc == CLI_HELP ? CLI_OK : rc;
}

static int run_device(const cli_command *cmd, int argc, char **argv)
{
    return run_role(cmd, 0, argc, argv);
}

static int run_gateway(const cli_command *cmd, int argc, char **argv)
{
    return run_role(cmd, 1, argc, argv);
}

static const cli_command proxy_device = {
    "proxy device",
    "--mode plain|sign|session|oscore [-A ADDR] [-p PORT] --to URI [--id ID] [--key FILE] "
    "[--peer PUBFILE] [--peer-id ID] [--state FILE] [--oscore-conf FILE] [-B SECONDS]",
    "Take plain CoAP from local applications and forward it, protected, to a gateway.",
    CLI_FLAGS(proxy_flags), run_device};

static const cli_command proxy_gateway = {
    "proxy gateway",
    "--mode plain|sign|session|oscore [-A ADDR] [-p PORT] --to URI [--id ID] [--key FILE] "
    "[--db FILE] [--allow ID=PUBFILE]... [--oscore-conf FILE] [--forward-identity] [-B SECONDS]",
    "Check protected requests and forward them in plain CoAP to a backend server.",
    CLI_FLAGS(proxy_flags), run_gateway};

static int proxy(const cli_command *cmd, int argc, char **argv)
{
    if (argc >= 1 && strcmp(argv[0], "device") == 0)
        return proxy_device.run(&proxy_device, argc - 1, argv + 1);
    if (argc >= 1 && strcmp(argv[0], "gateway") == 0)
        return proxy_gateway.run(&proxy_gateway, argc - 1, argv + 1);
    if (argc >= 1 && (strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0)) {
        printf("usage: pqcoap proxy device %s\n       pqcoap proxy gateway %s\n\n%s\n"
               "(pqcoap proxy device --help, pqcoap proxy gateway --help for the options)\n",
               proxy_device.usage, proxy_gateway.usage, cmd->summary);
        return CLI_OK;
    }
    return cli_usage_error(cmd, "device or gateway expected");
}

const cli_command cli_cmd_proxy = {
    "proxy", "device|gateway OPTIONS",
    "Secure an existing CoAP application: a device proxy and a gateway proxy.", NULL, 0, proxy};

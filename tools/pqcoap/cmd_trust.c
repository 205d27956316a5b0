/* pqcoap trust: the trust store (peer id -> pinned public key) in an endpoint's SQLite
 * store file; also the store helpers that server and client commands share. */
#include "cli.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

int cli_open_store(const char *path, pqcoap_store *out)
{
    char msg[256];
    pqcoap_err err = pqcoap_store_open_sqlite_msg(path, msg, sizeof msg, out);
    if (err == PQCOAP_OK)
        return CLI_OK;
    int code = err == PQCOAP_ERR_STORE_CORRUPT || err == PQCOAP_ERR_STORE_FOREIGN ||
               err == PQCOAP_ERR_STORE_NEWER ? CLI_USAGE : CLI_NETWORK;
    return cli_fail(code, "%s", msg[0] ? msg : pqcoap_strerror(err));
}

int cli_trust_add(const pqcoap_store *store, const char *id, const char *pubfile)
{
    size_t id_len = strlen(id);
    if (id_len == 0 || id_len > PQCOAP_ID_MAX)
        return cli_fail(CLI_USAGE, "peer id '%s' must be 1 to %d bytes", id, PQCOAP_ID_MAX);
    pqcoap_pubkey pk;
    int rc = cli_load_pubkey(pubfile, &pk);
    if (rc != CLI_OK)
        return rc;
    pqcoap_peer peer;
    pqcoap_err err = pqcoap_peer_from_pubkey(id, &pk, (int64_t)time(NULL), &peer);
    if (err == PQCOAP_OK)
        err = pqcoap_store_peer_add(store, &peer);
    if (err == PQCOAP_ERR_EXISTS) {
        pqcoap_peer other;
        if (pqcoap_store_peer_by_kid(store, pk.kid, &other) == PQCOAP_OK)
            return cli_fail(CLI_USAGE, "the key in '%s' is already trusted as '%s'", pubfile,
                            other.id);
    }
    if (err != PQCOAP_OK)
        return cli_fail(cli_exit_for(err), "cannot add '%s': %s", id, pqcoap_strerror(err));
    return CLI_OK;
}

enum { TR_DB };
static const cli_flag trust_flags[] = {
    [TR_DB] = {"--db", NULL, "FILE", "store file (created if absent)"},
};

static pqcoap_err print_peer(void *arg, const pqcoap_peer *peer)
{
    (void)arg;
    char kid[2 * PQCOAP_KID_LEN + 1], added[32];
    cli_hex(peer->kid, sizeof peer->kid, kid);
    time_t t = (time_t)peer->added_s;
    struct tm tm;
    if (!gmtime_r(&t, &tm) || !strftime(added, sizeof added, "%Y-%m-%dT%H:%M:%SZ", &tm))
        snprintf(added, sizeof added, "%lld", (long long)peer->added_s);
    printf("%-20s %-12s %-8s %s %s\n", peer->id, peer->alg, cli_usage_name(peer->usage), kid,
           added);
    return PQCOAP_OK;
}

static int trust(const cli_command *cmd, int argc, char **argv)
{
    const char *db = NULL, *v, *pos[4] = {0};
    int n_pos = 0, f;
    cli_args a;
    cli_args_init(&a, cmd, argc, argv);
    while ((f = cli_next(&a, &v)) != CLI_END) {
        if (f == CLI_HELP)
            return CLI_OK;
        if (f == TR_DB) {
            db = v;
        } else if (f == CLI_POSITIONAL && n_pos < 4) {
            pos[n_pos++] = v;
        } else {
            return f == CLI_POSITIONAL ? cli_usage_error(cmd, "too many arguments") : CLI_USAGE;
        }
    }
    if (!db)
        return cli_usage_error(cmd, "--db FILE is required");
    const char *op = pos[0] ? pos[0] : "";
    int want = strcmp(op, "add") == 0 ? 3 : strcmp(op, "remove") == 0 ? 2
             : strcmp(op, "list") == 0 ? 1 : 0;
    if (want == 0)
        return cli_usage_error(cmd, "expected add, remove or list");
    if (n_pos != want)
        return cli_usage_error(cmd, "wrong number of arguments");

    pqcoap_store store;
    int rc = cli_open_store(db, &store);
    if (rc != CLI_OK)
        return rc;
    if (want == 3) {
        rc = cli_trust_add(&store, pos[1], pos[2]);
    } else if (want == 2) {
        pqcoap_err err = pqcoap_store_peer_remove(&store, pos[1]);
        if (err == PQCOAP_ERR_NOT_FOUND)
            rc = cli_fail(CLI_USAGE, "no trusted peer '%s' in '%s'", pos[1], db);
        else if (err != PQCOAP_OK)
            rc = cli_fail(cli_exit_for(err), "cannot remove '%s': %s", pos[1],
                          pqcoap_strerror(err));
    } else {
        pqcoap_err err = pqcoap_store_peer_list(&store, print_peer, NULL);
        if (err != PQCOAP_OK)
            rc = cli_fail(cli_exit_for(err), "cannot list '%s': %s", db, pqcoap_strerror(err));
    }
    pqcoap_store_close(&store);
    return rc;
}

const cli_command cli_cmd_trust = {
    "trust", "--db FILE add ID PUBFILE | remove ID | list",
    "Pin, unpin or list trusted peers (list: id, algorithm, usage, kid in hex, time added, UTC).",
    CLI_FLAGS(trust_flags), trust};

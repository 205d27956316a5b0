/* What the server and request commands share: the security mode, the endpoint's identity,
 * pinned peer key and store file with their defaults, and the mode's security layer. */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const mode_names[] = {
    [CLI_MODE_PLAIN] = "plain",
    [CLI_MODE_SIGN] = "sign",
    [CLI_MODE_SIGN_V1] = "sign-v1",
    [CLI_MODE_SESSION] = "session",
};

int cli_parse_mode(const char *name, cli_mode *out)
{
    for (size_t m = 0; m < sizeof mode_names / sizeof mode_names[0]; m++)
        if (strcmp(name, mode_names[m]) == 0) {
            *out = (cli_mode)m;
            return CLI_OK;
        }
    return cli_fail(CLI_USAGE, "unknown mode '%s' (plain, sign, sign-v1 or session)", name);
}

const char *cli_mode_name(cli_mode mode)
{
    return mode_names[mode];
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

int cli_endpoint_open(cli_endpoint *ep, int server, int need_store)
{
    const char *mode = cli_mode_name(ep->mode);
    int secured = ep->mode != CLI_MODE_PLAIN;
    if (secured && !cli_mode_available(ep->mode))
        return cli_fail(CLI_USAGE, "mode '%s' is not available in this build", mode);
    if (secured && !ep->key)
        return cli_fail(CLI_USAGE, "mode %s needs --key FILE (own secret key)", mode);
    if (secured && !server && !ep->peer)
        return cli_fail(CLI_USAGE, "mode %s needs --peer PUBFILE (the server's public key)", mode);
    if (ep->key) {
        int rc = cli_load_identity(ep->key, &ep->identity);
        if (rc != CLI_OK)
            return rc;
        ep->have_identity = 1;
        if (!ep->id) {
            base_name(ep->key, ".key", ep->id_buf, sizeof ep->id_buf);
            ep->id = ep->id_buf;
        }
    }
    if (ep->peer) {
        int rc = cli_load_pubkey(ep->peer, &ep->peer_key);
        if (rc != CLI_OK)
            return rc;
        ep->have_peer = 1;
        if (!ep->peer_id) {
            base_name(ep->peer, ".pub", ep->peer_id_buf, sizeof ep->peer_id_buf);
            ep->peer_id = ep->peer_id_buf;
        }
    }
    if (ep->mode == CLI_MODE_SIGN_V1) {
        /* Until key files carry a key's usage, keys given for sign-v1 count as made for it
         * (PROTOCOL.md "Key usage"). */
        ep->identity.pub.usage = PQCOAP_USAGE_SIGN_V1;
        ep->peer_key.usage = PQCOAP_USAGE_SIGN_V1;
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

void cli_endpoint_free(cli_endpoint *ep)
{
    if (ep->have_store)
        pqcoap_store_close(&ep->store);
    pqcoap_identity_wipe(&ep->identity);
    memset(ep, 0, sizeof *ep);
}

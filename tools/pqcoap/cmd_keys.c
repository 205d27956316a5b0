/* pqcoap keygen and pubkey: identity key files (format in docs/KEYS.md). */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

enum { KG_OUT, KG_ALG, KG_V1, KG_FORCE };
static const cli_flag keygen_flags[] = {
    [KG_OUT] = {"--out", "-o", "PREFIX", "write PREFIX.key (secret, mode 0600) and PREFIX.pub"},
    [KG_ALG] = {"--alg", "-a", "ALG", "signature algorithm: falcon-512 (default), falcon-1024, "
                                      "ml-dsa-44, ml-dsa-65 or ml-dsa-87"},
    [KG_V1] = {"--v1", NULL, NULL, "a key for sign-v1 only (Mode A v1); other modes refuse it"},
    [KG_FORCE] = {"--force", NULL, NULL, "replace existing key files"},
};

static int keygen(const cli_command *cmd, int argc, char **argv)
{
    const char *prefix = NULL, *alg = "falcon-512", *v;
    int force = 0, v1 = 0, f;
    cli_args a;
    cli_args_init(&a, cmd, argc, argv);
    while ((f = cli_next(&a, &v)) != CLI_END) {
        switch (f) {
        case KG_OUT: prefix = v; break;
        case KG_ALG: alg = v; break;
        case KG_V1: v1 = 1; break;
        case KG_FORCE: force = 1; break;
        case CLI_HELP: return CLI_OK;
        case CLI_POSITIONAL: return cli_usage_error(cmd, "unexpected argument");
        default: return CLI_USAGE;
        }
    }
    if (!prefix || !prefix[0])
        return cli_usage_error(cmd, "-o PREFIX is required");

    size_t n = strlen(prefix) + 5;
    char *key_path = malloc(n), *pub_path = malloc(n);
    int rc = key_path && pub_path ? CLI_OK : cli_fail(CLI_NETWORK, "out of memory");
    if (rc == CLI_OK) {
        snprintf(key_path, n, "%s.key", prefix);
        snprintf(pub_path, n, "%s.pub", prefix);
    }
    /* Check both before writing either, so a refusal leaves nothing half done. */
    struct stat st;
    for (int i = 0; rc == CLI_OK && !force && i < 2; i++) {
        const char *p = i ? pub_path : key_path;
        if (stat(p, &st) == 0)
            rc = cli_fail(CLI_USAGE, "'%s' exists; use --force to replace it", p);
    }
    pqcoap_identity id;
    memset(&id, 0, sizeof id);
    if (rc == CLI_OK) {
        pqcoap_key_usage usage = v1 ? PQCOAP_USAGE_SIGN_V1 : PQCOAP_USAGE_GENERAL;
        pqcoap_err err = pqcoap_identity_generate_usage(alg, usage, NULL, &id);
        if (err == PQCOAP_ERR_UNSUPPORTED)
            rc = cli_fail(CLI_USAGE, "keygen: unknown algorithm '%s' (falcon-512, falcon-1024, "
                          "ml-dsa-44, ml-dsa-65 or ml-dsa-87)", alg);
        else if (err != PQCOAP_OK)
            rc = cli_fail(CLI_NETWORK, "keygen: %s", pqcoap_strerror(err));
    }
    if (rc == CLI_OK) {
        pqcoap_err err = pqcoap_identity_save(&id, key_path, force);
        if (err == PQCOAP_OK)
            err = pqcoap_pubkey_save(&id.pub, pub_path, force);
        if (err == PQCOAP_ERR_EXISTS)
            rc = cli_fail(CLI_USAGE, "key file exists; use --force to replace it");
        else if (err != PQCOAP_OK)
            rc = cli_fail(CLI_NETWORK, "cannot write '%s' or '%s': %s", key_path, pub_path,
                          pqcoap_strerror(err));
    }
    if (rc == CLI_OK) {
        char kid[2 * PQCOAP_KID_LEN + 1];
        cli_hex(id.pub.kid, sizeof id.pub.kid, kid);
        printf("%s: %s key%s, kid %s\n%s: public key\n", key_path, pqcoap_pubkey_alg(&id.pub),
               v1 ? " for sign-v1 only" : "", kid, pub_path);
    }
    pqcoap_identity_wipe(&id);
    free(key_path);
    free(pub_path);
    return rc;
}

const cli_command cli_cmd_keygen = {
    "keygen", "-o PREFIX [--alg ALG] [--v1] [--force]",
    "Generate an identity key pair into PREFIX.key (secret) and PREFIX.pub (public).",
    CLI_FLAGS(keygen_flags), keygen};

static int pubkey(const cli_command *cmd, int argc, char **argv)
{
    const char *path = NULL, *v;
    int f;
    cli_args a;
    cli_args_init(&a, cmd, argc, argv);
    while ((f = cli_next(&a, &v)) != CLI_END) {
        if (f == CLI_HELP)
            return CLI_OK;
        if (f != CLI_POSITIONAL)
            return CLI_USAGE;
        if (path)
            return cli_usage_error(cmd, "only one KEYFILE");
        path = v;
    }
    if (!path)
        return cli_usage_error(cmd, "KEYFILE is required");
    pqcoap_identity id;
    int rc = cli_load_identity(path, &id);
    if (rc != CLI_OK)
        return rc;
    uint8_t text[PQCOAP_KEYFILE_MAX];
    size_t len = 0;
    pqcoap_err err = pqcoap_pubkey_encode(&id.pub, text, sizeof text, &len);
    pqcoap_identity_wipe(&id);
    if (err != PQCOAP_OK)
        return cli_fail(CLI_NETWORK, "pubkey: %s", pqcoap_strerror(err));
    return cli_write_output(NULL, text, len);
}

const cli_command cli_cmd_pubkey = {
    "pubkey", "KEYFILE", "Print the public key file of the secret key file KEYFILE.",
    NULL, 0, pubkey};

/* pqcoap sign and verify: the Mode A v1 signed-payload format `message || signature ||
 * u16 len` (PROTOCOL.md) on files or standard input and output. */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>

#include "pqcoap/sign.h"

#define SIGN_INPUT_MAX ((size_t)16 << 20)

enum { SG_KEY, SG_IN, SG_OUT };
static const cli_flag sign_flags[] = {
    [SG_KEY] = {"--key", "-k", "FILE", "secret key file (Falcon-512, keygen --v1) to sign with"},
    [SG_IN] = {"--file", "-f", "IN", "message to sign ('-' or absent: standard input)"},
    [SG_OUT] = {"--output", "-o", "OUT", "where to write the signed payload (default: stdout)"},
};

enum { VF_PEER, VF_IN, VF_OUT };
static const cli_flag verify_flags[] = {
    [VF_PEER] = {"--peer", NULL, "PUBFILE", "public key file of the signer (a sign-v1 key)"},
    [VF_IN] = {"--file", "-f", "IN", "signed payload ('-' or absent: standard input)"},
    [VF_OUT] = {"--output", "-o", "OUT", "where to write the verified message (default: stdout)"},
};

/* Parses the three flags both commands share: key file, input, output. */
static int parse(const cli_command *cmd, int argc, char **argv, const char **key,
                 const char **in, const char **out)
{
    const char *v;
    int f;
    cli_args a;
    cli_args_init(&a, cmd, argc, argv);
    while ((f = cli_next(&a, &v)) != CLI_END) {
        if (f == CLI_HELP)
            return CLI_HELP;
        if (f == CLI_POSITIONAL)
            return cli_usage_error(cmd, "unexpected argument");
        if (f < 0)
            return CLI_USAGE;
        const char **slot[] = {key, in, out};
        *slot[f] = v;
    }
    if (!*key) {
        char what[64];
        snprintf(what, sizeof what, "%s %s is required", cmd->flags[0].name, cmd->flags[0].arg);
        return cli_usage_error(cmd, what);
    }
    return CLI_OK;
}

static int sign(const cli_command *cmd, int argc, char **argv)
{
    const char *key = NULL, *in = "-", *out = NULL;
    int rc = parse(cmd, argc, argv, &key, &in, &out);
    if (rc != CLI_OK)
        return rc == CLI_HELP ? CLI_OK : rc;
    pqcoap_identity id;
    if ((rc = cli_load_identity(key, &id)) != CLI_OK)
        return rc;
    if ((rc = cli_check_usage(key, id.pub.usage, CLI_MODE_SIGN_V1)) != CLI_OK) {
        pqcoap_identity_wipe(&id);
        return rc;
    }
    pqcoap_signer signer;
    pqcoap_err err = pqcoap_sign_key_check(&id.pub, 1);
    if (err == PQCOAP_OK)
        err = pqcoap_signer_from_identity(&signer, &id, NULL);
    if (err != PQCOAP_OK) {
        pqcoap_identity_wipe(&id);
        return cli_fail(CLI_USAGE, "'%s': Mode A signs with falcon-512 keys only", key);
    }
    uint8_t *msg = NULL, *signed_msg = NULL;
    size_t msg_len = 0, signed_len = 0;
    rc = cli_read_file(in, SIGN_INPUT_MAX, &msg, &msg_len);
    if (rc == CLI_OK) {
        signed_msg = malloc(msg_len + PQCOAP_SIGN_OVERHEAD_MAX);
        err = signed_msg ? pqcoap_sign_v1(&signer, msg, msg_len, signed_msg,
                                          msg_len + PQCOAP_SIGN_OVERHEAD_MAX, &signed_len)
                         : PQCOAP_ERR_NOMEM;
        rc = err == PQCOAP_OK ? cli_write_output(out, signed_msg, signed_len)
                              : cli_fail(CLI_NETWORK, "sign: %s", pqcoap_strerror(err));
    }
    pqcoap_identity_wipe(&id);
    free(msg);
    free(signed_msg);
    return rc;
}

const cli_command cli_cmd_sign = {
    "sign", "--key FILE [-f IN] [-o OUT]",
    "Sign a message in the Mode A v1 format: message || signature || u16 length.",
    CLI_FLAGS(sign_flags), sign};

static int verify(const cli_command *cmd, int argc, char **argv)
{
    const char *peer = NULL, *in = "-", *out = NULL;
    int rc = parse(cmd, argc, argv, &peer, &in, &out);
    if (rc != CLI_OK)
        return rc == CLI_HELP ? CLI_OK : rc;
    pqcoap_pubkey pk;
    if ((rc = cli_load_pubkey(peer, &pk)) != CLI_OK ||
        (rc = cli_check_usage(peer, pk.usage, CLI_MODE_SIGN_V1)) != CLI_OK)
        return rc;
    if (pk.pk_len != PQCOAP_SIGN_PK_LEN)
        return cli_fail(CLI_USAGE, "'%s': Mode A verifies falcon-512 keys only", peer);
    uint8_t *payload = NULL;
    size_t payload_len = 0;
    if ((rc = cli_read_file(in, SIGN_INPUT_MAX + PQCOAP_SIGN_OVERHEAD_MAX, &payload,
                            &payload_len)) != CLI_OK)
        return rc;
    const uint8_t *msg = NULL;
    size_t msg_len = 0;
    pqcoap_err err = pqcoap_verify_v1(&pk, payload, payload_len, &msg, &msg_len);
    if (err == PQCOAP_ERR_MALFORMED)
        rc = cli_fail(CLI_SECURITY, "verify: not a v1 signed payload (bad signature length)");
    else if (err == PQCOAP_ERR_AUTH)
        rc = cli_fail(CLI_SECURITY, "verify: signature does not verify against '%s'", peer);
    else if (err != PQCOAP_OK)
        rc = cli_fail(cli_exit_for(err), "verify: %s", pqcoap_strerror(err));
    else
        rc = cli_write_output(out, msg, msg_len);
    free(payload);
    return rc;
}

const cli_command cli_cmd_verify = {
    "verify", "--peer PUBFILE [-f IN] [-o OUT]",
    "Verify a Mode A v1 signed payload and output the message; exit 3 if it does not verify.",
    CLI_FLAGS(verify_flags), verify};

/* Shared pieces of the pqcoap CLI: one-line errors, exit codes, flag parsing, --help,
 * whole-file input and output, key file loading. */
#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cli_fail(int code, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    /* One line, whatever the message holds. */
    for (char *c = line; *c; c++)
        if (*c == '\n' || *c == '\r')
            *c = ' ';
    fprintf(stderr, "pqcoap: %s\n", line);
    return code;
}

int cli_exit_for(pqcoap_err err)
{
    if (err == PQCOAP_OK)
        return CLI_OK;
    if (err == PQCOAP_ERR_COAP)
        return CLI_COAP;
    if (PQCOAP_IS_AUTH_ERR(err) || err == PQCOAP_ERR_MALFORMED)
        return CLI_SECURITY;
    if ((err <= -1 && err > -20) || err == PQCOAP_ERR_KEYFILE)
        return CLI_USAGE;
    return CLI_NETWORK;
}

int cli_request_failed(pqcoap_err err, const char *why)
{
    if (!why || !why[0])
        why = pqcoap_strerror(err);
    if (err == PQCOAP_ERR_UNAUTHENTICATED)
        return cli_fail(cli_exit_for(err), "the response was not authenticated, nothing was "
                        "output (%s)", why);
    return cli_fail(cli_exit_for(err), "%s", why);
}

void cli_args_init(cli_args *a, const cli_command *cmd, int argc, char **argv)
{
    a->cmd = cmd;
    a->argc = argc;
    a->argv = argv;
    a->i = 0;
    a->only_positional = 0;
}

int cli_next(cli_args *a, const char **value)
{
    *value = NULL;
    if (a->i >= a->argc)
        return CLI_END;
    const char *arg = a->argv[a->i++];
    if (a->only_positional || arg[0] != '-' || arg[1] == '\0') {
        *value = arg;
        return CLI_POSITIONAL;
    }
    if (strcmp(arg, "--") == 0) {
        a->only_positional = 1;
        return cli_next(a, value);
    }
    if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
        cli_help(a->cmd);
        return CLI_HELP;
    }
    const char *eq = strncmp(arg, "--", 2) == 0 ? strchr(arg, '=') : NULL;
    size_t name_len = eq ? (size_t)(eq - arg) : strlen(arg);
    for (size_t f = 0; f < a->cmd->n_flags; f++) {
        const cli_flag *fl = &a->cmd->flags[f];
        int long_match = strlen(fl->name) == name_len && strncmp(fl->name, arg, name_len) == 0;
        int short_match = !eq && fl->short_name && strcmp(fl->short_name, arg) == 0;
        if (!long_match && !short_match)
            continue;
        if (!fl->arg) {
            if (eq)
                break;
            return (int)f;
        }
        if (eq) {
            *value = eq + 1;
        } else if (a->i < a->argc) {
            *value = a->argv[a->i++];
        } else {
            cli_fail(CLI_USAGE, "%s: %s needs a value (%s)", a->cmd->name, fl->name, fl->arg);
            return CLI_ERROR;
        }
        return (int)f;
    }
    cli_fail(CLI_USAGE, "%s: unknown option '%s' (see pqcoap %s --help)", a->cmd->name, arg,
             a->cmd->name);
    return CLI_ERROR;
}

void cli_help(const cli_command *cmd)
{
    printf("usage: pqcoap %s%s%s\n\n%s\n", cmd->name, cmd->usage[0] ? " " : "", cmd->usage,
           cmd->summary);
    if (cmd->n_flags)
        printf("\noptions:\n");
    for (size_t f = 0; f < cmd->n_flags; f++) {
        const cli_flag *fl = &cmd->flags[f];
        char left[64];
        snprintf(left, sizeof left, "%s%s%s%s%s", fl->short_name ? fl->short_name : "",
                 fl->short_name ? ", " : "", fl->name, fl->arg ? " " : "",
                 fl->arg ? fl->arg : "");
        printf("  %-26s %s\n", left, fl->help);
    }
    printf("  %-26s %s\n", "-h, --help", "print this help");
}

int cli_usage_error(const cli_command *cmd, const char *what)
{
    return cli_fail(CLI_USAGE, "%s: %s (usage: pqcoap %s %s)", cmd->name, what, cmd->name,
                    cmd->usage);
}

int cli_read_file(const char *path, size_t max, uint8_t **out, size_t *out_len)
{
    int is_stdin = strcmp(path, "-") == 0;
    FILE *f = is_stdin ? stdin : fopen(path, "rb");
    if (!f)
        return cli_fail(CLI_USAGE, "cannot open '%s': %s", path, strerror(errno));
    size_t cap = 4096, len = 0;
    uint8_t *buf = NULL;
    int rc = 0;
    for (;;) {
        if (len == cap || !buf) {
            uint8_t *bigger = realloc(buf, buf ? cap * 2 : cap);
            if (!bigger) {
                rc = cli_fail(CLI_NETWORK, "out of memory");
                break;
            }
            cap = buf ? cap * 2 : cap;
            buf = bigger;
        }
        size_t n = fread(buf + len, 1, cap - len, f);
        len += n;
        if (len > max) {
            rc = cli_fail(CLI_USAGE, "'%s' is larger than %zu bytes", path, max);
            break;
        }
        if (n == 0) {
            if (ferror(f))
                rc = cli_fail(CLI_USAGE, "cannot read '%s': %s", path, strerror(errno));
            break;
        }
    }
    if (!is_stdin)
        fclose(f);
    if (rc != 0) {
        free(buf);
        return rc;
    }
    *out = buf;
    *out_len = len;
    return 0;
}

int cli_write_output(const char *path, const uint8_t *data, size_t len)
{
    int is_stdout = !path || strcmp(path, "-") == 0;
    FILE *f = is_stdout ? stdout : fopen(path, "wb");
    if (!f)
        return cli_fail(CLI_NETWORK, "cannot write '%s': %s", path, strerror(errno));
    int ok = fwrite(data, 1, len, f) == len;
    ok = (is_stdout ? fflush(f) : fclose(f)) == 0 && ok;
    if (!ok)
        return cli_fail(CLI_NETWORK, "cannot write '%s'", is_stdout ? "stdout" : path);
    return 0;
}

int cli_load_identity(const char *path, pqcoap_identity *out)
{
    char msg[512];
    pqcoap_err err = pqcoap_identity_load_msg(path, msg, sizeof msg, out);
    return err == PQCOAP_OK ? 0 : cli_fail(CLI_USAGE, "%s", msg);
}

int cli_load_pubkey(const char *path, pqcoap_pubkey *out)
{
    pqcoap_err err = pqcoap_pubkey_load(path, out);
    if (err == PQCOAP_ERR_NOT_FOUND)
        return cli_fail(CLI_USAGE, "public key file '%s' does not exist", path);
    if (err == PQCOAP_ERR_KEYFILE)
        return cli_fail(CLI_USAGE, "'%s' is not a valid public key file (wrong, truncated or of "
                        "another kind; see docs/KEYS.md)", path);
    if (err != PQCOAP_OK)
        return cli_fail(CLI_USAGE, "cannot read public key file '%s': %s", path,
                        pqcoap_strerror(err));
    return 0;
}

void cli_hex(const uint8_t *p, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 15];
    }
    out[2 * n] = '\0';
}

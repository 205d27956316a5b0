/* pqcoap command-line tool: dispatches to the command named by the first argument. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const cli_command *const commands[] = {
    &cli_cmd_keygen,
    &cli_cmd_pubkey,
    &cli_cmd_trust,
    &cli_cmd_server,
    &cli_cmd_proxy,
    &cli_cmd_get,
    &cli_cmd_post,
    &cli_cmd_put,
    &cli_cmd_delete,
    &cli_cmd_fetch,
    &cli_cmd_sign,
    &cli_cmd_verify,
};
#define N_COMMANDS (sizeof commands / sizeof commands[0])

static void usage(FILE *out)
{
    fprintf(out, "usage: pqcoap COMMAND [ARGS]   (pqcoap COMMAND --help for its options)\n\n"
                 "commands:\n");
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(out, "  %-8s %s\n", commands[i]->name, commands[i]->summary);
    fprintf(out, "  %-8s %s\n", "--version", "print the version, the suites and library versions");
    fprintf(out, "\nexit codes: 0 success, 1 CoAP error response, 2 usage, 3 security failure,\n"
                 "4 network or timeout (docs/CLI.md)\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return CLI_USAGE;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("%s\n", pqcoap_build_info());
        return CLI_OK;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return CLI_OK;
    }
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (strcmp(argv[1], commands[i]->name) == 0)
            return commands[i]->run(commands[i], argc - 2, argv + 2);
    return cli_fail(CLI_USAGE, "unknown command '%s' (see pqcoap --help)", argv[1]);
}

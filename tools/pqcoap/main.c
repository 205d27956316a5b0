/* pqcoap command-line tool: a table of commands, each a function taking its arguments. */
#include <stdio.h>
#include <string.h>

#include "pqcoap/pqcoap.h"

/* Exit codes: 0 success, 1 operation failed, 2 usage error. */
enum { EXIT_USAGE = 2 };

typedef struct command {
    const char *name;
    const char *usage;   /* arguments, for --help */
    const char *summary;
    int (*run)(int argc, char **argv);
} command;

static int cmd_version(int argc, char **argv);
static int cmd_help(int argc, char **argv);

static const command commands[] = {
    {"--version", "", "print the version, the suite and the library versions", cmd_version},
    {"--help", "", "print this help", cmd_help},
};

static int cmd_version(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    printf("%s\n", pqcoap_build_info());
    return 0;
}

static void usage(FILE *out)
{
    fprintf(out, "usage: pqcoap COMMAND [ARGS]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-12s %-20s %s\n", commands[i].name, commands[i].usage,
                commands[i].summary);
}

static int cmd_help(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    usage(stdout);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(argc - 2, argv + 2);
    fprintf(stderr, "pqcoap: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return EXIT_USAGE;
}

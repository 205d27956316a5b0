/* The CLI's exit code and one-line message for what a request can fail with
 * (tools/pqcoap/cli.c, docs/CLI.md "Exit codes"): a response that is not authenticated
 * exits 3 and says so, a request bound to another recipient exits 3, a key made for
 * another mode exits 2, a response body over the limit exits 4. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "cli.h"

static char err_path[] = "/tmp/pqcoap-keys-exit-XXXXXX";

/* Calls cli_request_failed(err, why) with stderr in a file; returns its exit code and the
 * text written to stderr in line[cap]. */
static int failed(pqcoap_err err, const char *why, char *line, size_t cap)
{
    fflush(stderr);
    int saved = dup(2);
    FILE *f = fopen(err_path, "w+");
    if (!f || saved < 0)
        return -1;
    dup2(fileno(f), 2);
    int code = cli_request_failed(err, why);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    rewind(f);
    size_t n = fread(line, 1, cap - 1, f);
    line[n] = '\0';
    fclose(f);
    return code;
}

/* 1 if text is exactly one line "pqcoap: ..." that contains every one of want[]. */
static int one_line(const char *text, const char *const *want, size_t n_want)
{
    const char *nl = strchr(text, '\n');
    if (strncmp(text, "pqcoap: ", 8) != 0 || !nl || nl[1] != '\0')
        return 0;
    for (size_t i = 0; i < n_want; i++)
        if (!strstr(text, want[i]))
            return 0;
    return 1;
}

int main(void)
{
    int fd = mkstemp(err_path);
    CHECK(fd >= 0);
    close(fd);
    char line[1024];

    /* whatever the endpoint's last error says, the line says the response was not
     * authenticated */
    static const char *const unauth[] = {"not authenticated", "no PQ-Sig option"};
    CHECK_EQ_INT(failed(PQCOAP_ERR_UNAUTHENTICATED, "no PQ-Sig option", line, sizeof line), 3);
    CHECK(one_line(line, unauth, 2));
    CHECK_EQ_INT(failed(PQCOAP_ERR_UNAUTHENTICATED, "", line, sizeof line), 3);
    CHECK(one_line(line, unauth, 1));

    static const char *const recipient[] = {"another recipient"};
    CHECK_EQ_INT(failed(PQCOAP_ERR_WRONG_RECIPIENT, "", line, sizeof line), 3);
    CHECK(one_line(line, recipient, 1));

    static const char *const usage[] = {"sign-v1 key"};
    CHECK_EQ_INT(failed(PQCOAP_ERR_KEY_USAGE, "sign-v1 key used in mode sign", line, sizeof line),
                 2);
    CHECK(one_line(line, usage, 1));

    static const char *const large[] = {"exceeds the limit"};
    CHECK_EQ_INT(failed(PQCOAP_ERR_TOO_LARGE, "response body of 2000000 bytes exceeds the "
                        "limit of 1048576", line, sizeof line), 4);
    CHECK(one_line(line, large, 1));

    /* a message with a line break is still one line */
    static const char *const auth[] = {"does not verify"};
    CHECK_EQ_INT(failed(PQCOAP_ERR_AUTH, "signature\ndoes not verify", line, sizeof line), 3);
    CHECK(one_line(line, auth, 0) && strstr(line, "signature does not verify"));

    CHECK_EQ_INT(cli_exit_for(PQCOAP_ERR_UNAUTHENTICATED), 3);
    CHECK_EQ_INT(cli_exit_for(PQCOAP_ERR_WRONG_RECIPIENT), 3);
    CHECK_EQ_INT(cli_exit_for(PQCOAP_ERR_KEY_USAGE), 2);
    CHECK_EQ_INT(cli_exit_for(PQCOAP_ERR_TOO_LARGE), 4);
    unlink(err_path);
    return check_done();
}

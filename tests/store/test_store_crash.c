/* Crash safety of the sequence counter (RFC 8613 Appendix B.1.1): a child process takes
 * numbers from a counter on a real file and logs each one (write + fsync) before it counts
 * as used; it is killed with SIGKILL at random moments, 50 times. Every number any child
 * ever logged must be greater than all numbers logged before it: none is used twice. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include "check.h"
#include "pqcoap/store.h"
#include "store_util.h"

#define ROUNDS 50
#define BLOCK 16

static char db_path[320], log_path[320];

/* The child: takes numbers forever (bounded), each logged durably before the next. */
static void child_run(void)
{
    int fd = open(log_path, O_WRONLY | O_APPEND | O_CREAT, 0600);
    pqcoap_store s;
    pqcoap_seq_counter c;
    if (fd < 0 || pqcoap_store_open_sqlite(db_path, &s) != PQCOAP_OK ||
        pqcoap_seq_counter_init(&c, &s, "sender", BLOCK) != PQCOAP_OK)
        _exit(2);
    for (long i = 0; i < 10000000; i++) {
        uint64_t v;
        if (pqcoap_seq_next(&c, &v) != PQCOAP_OK)
            _exit(3);
        char line[32];
        int n = snprintf(line, sizeof line, "%llu\n", (unsigned long long)v);
        if (write(fd, line, (size_t)n) != n || fsync(fd) != 0)
            _exit(4);
    }
    _exit(0);
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static off_t log_size(void)
{
    struct stat sb;
    return stat(log_path, &sb) == 0 ? sb.st_size : 0;
}

/* Reads the log lines from byte `from` on: counts in *reused each number not above *max,
 * which it raises. A last line without its newline was not counted as used: it is cut
 * off. Returns the offset of the end of the last complete line. */
static off_t check_log(off_t from, uint64_t *max, long *lines, long *reused)
{
    size_t len = 0;
    unsigned char *b = file_read(log_path, &len);
    if (!b)
        return from;
    size_t pos = (size_t)from, end = (size_t)from;
    while (pos < len) {
        unsigned char *nl = memchr(b + pos, '\n', len - pos);
        if (!nl)
            break;
        unsigned long long v = strtoull((const char *)b + pos, NULL, 10);
        if (v <= *max) {
            (*reused)++;
            fprintf(stderr, "number %llu used again (max before %llu)\n", v,
                    (unsigned long long)*max);
        } else {
            *max = v;
        }
        (*lines)++;
        pos = end = (size_t)(nl - b) + 1;
    }
    free(b);
    if (end < len)
        CHECK_EQ_INT(truncate(log_path, (off_t)end), 0);
    return (off_t)end;
}

int main(void)
{
    char dir[256];
    tmpdir_make(dir, sizeof dir);
    snprintf(db_path, sizeof db_path, "%s/endpoint.db", dir);
    snprintf(log_path, sizeof log_path, "%s/used.log", dir);
    srand(8613);

    uint64_t max = 0;
    long lines = 0, reused = 0;
    off_t done = 0;
    for (int round = 0; round < ROUNDS; round++) {
        pid_t pid = fork();
        if (pid == 0)
            child_run();
        CHECK(pid > 0);
        if (pid < 0)
            break;
        /* Odd rounds wait until the child has used a number, so that kills land both
         * while it opens (or creates) the file and while it takes numbers. */
        if (round % 2 == 1) {
            for (int i = 0; i < 30000 && log_size() <= done; i++) {
                int st;
                if (waitpid(pid, &st, WNOHANG) == pid) {
                    fprintf(stderr, "child exited early, status %d\n", st);
                    CHECK(0);
                    break;
                }
                sleep_ms(1);
            }
        }
        sleep_ms(1 + rand() % 50);
        kill(pid, SIGKILL);
        int status = 0;
        CHECK_EQ_INT(waitpid(pid, &status, 0), pid);
        CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
        done = check_log(done, &max, &lines, &reused);
    }
    CHECK_EQ_INT(reused, 0);
    /* Odd rounds each logged at least one number. */
    CHECK(lines >= ROUNDS / 2);

    /* after the last crash, this process carries on above everything used */
    pqcoap_store s;
    pqcoap_seq_counter c;
    uint64_t v = 0;
    CHECK_EQ_INT(pqcoap_store_open_sqlite(db_path, &s), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_seq_counter_init(&c, &s, "sender", BLOCK), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_seq_next(&c, &v), PQCOAP_OK);
    CHECK(v > max);
    pqcoap_store_close(&s);
    printf("%ld numbers used by %d killed processes, highest %llu, next %llu\n", lines,
           ROUNDS, (unsigned long long)max, (unsigned long long)v);
    tmpdir_remove(dir);
    return check_done();
}

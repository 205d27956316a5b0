/* Two processes on one SQLite store: a reader process lists peers, peeks at a counter and
 * reads a floor in a loop while this process adds peers, reserves numbers and raises the
 * floor. The reader must never get an error (locks are waited for) and must always see
 * consistent data: complete peers, nothing going backwards. Also several processes
 * creating the same new file at once all succeed and never share a number. */
#include <poll.h>
#include <sys/wait.h>
#include "check.h"
#include "pqcoap/store.h"
#include "store_util.h"

#define WRITES 150
#define OPENERS 4

static char db_path[320];

/* The hash a floor of session_seq n is given by the writer. */
static void floor_make(uint64_t n, pqcoap_floor *f)
{
    f->session_seq = n;
    for (size_t k = 0; k < sizeof f->init_hash; k++)
        f->init_hash[k] = (uint8_t)(n * 3 + k);
}

typedef struct seen {
    long peers, broken, unordered;
    char last_id[PQCOAP_ID_MAX + 1];
} seen;

static pqcoap_err count_peer(void *arg, const pqcoap_peer *p)
{
    seen *sn = arg;
    sn->peers++;
    sn->broken += !peer_intact(p);
    sn->unordered += strcmp(sn->last_id, p->id) >= 0;
    memcpy(sn->last_id, p->id, sizeof sn->last_id);
    return PQCOAP_OK;
}

/* The reader process; returns the number of problems it saw (its exit status). */
static int reader(int done_fd)
{
    pqcoap_store s;
    pqcoap_err err = pqcoap_store_open_sqlite(db_path, &s);
    if (err) {
        fprintf(stderr, "reader: open: %s\n", pqcoap_strerror(err));
        return 1;
    }
    int problems = 0;
    long last_peers = 0;
    uint64_t last_next = 0, last_floor = 0;
    long rounds = 0;
    for (int finishing = 0; !finishing && rounds < 2000000; rounds++) {
        struct pollfd pfd = {.fd = done_fd, .events = POLLIN};
        finishing = poll(&pfd, 1, 0) == 1;   /* the writer is done: one last look */
        seen sn;
        memset(&sn, 0, sizeof sn);
        err = pqcoap_store_peer_list(&s, count_peer, &sn);
        uint64_t next = 0;
        if (!err)
            err = pqcoap_store_seq_peek(&s, "sender", &next);
        pqcoap_floor f, want;
        pqcoap_err ferr = err ? err : pqcoap_store_floor_get(&s, "client", &f);
        if (err || (ferr && !(ferr == PQCOAP_ERR_NOT_FOUND && last_floor == 0))) {
            fprintf(stderr, "reader: %s\n", pqcoap_strerror(err ? err : ferr));
            problems++;
            continue;
        }
        if (sn.broken || sn.unordered || sn.peers < last_peers || next < last_next) {
            fprintf(stderr, "reader: %ld broken, %ld out of order, peers %ld after %ld,"
                    " counter %llu after %llu\n", sn.broken, sn.unordered, sn.peers,
                    last_peers, (unsigned long long)next, (unsigned long long)last_next);
            problems++;
        }
        if (!ferr) {
            floor_make(f.session_seq, &want);
            if (f.session_seq < last_floor || memcmp(f.init_hash, want.init_hash, 32) != 0) {
                fprintf(stderr, "reader: floor %llu after %llu or its hash torn\n",
                        (unsigned long long)f.session_seq, (unsigned long long)last_floor);
                problems++;
            }
            last_floor = f.session_seq;
        }
        last_peers = sn.peers;
        last_next = next;
        if (finishing && (sn.peers != WRITES || next != 1 + 3 * WRITES ||
                          last_floor != WRITES)) {
            fprintf(stderr, "reader: final state not seen\n");
            problems++;
        }
    }
    pqcoap_store_close(&s);
    fprintf(stderr, "reader: %ld rounds\n", rounds);
    return problems > 100 ? 100 : problems;
}

static void test_reader_and_writer(void)
{
    pqcoap_store s;
    CHECK_EQ_INT(pqcoap_store_open_sqlite(db_path, &s), PQCOAP_OK);   /* create the file */
    pqcoap_store_close(&s);

    int done[2];
    CHECK_EQ_INT(pipe(done), 0);
    pid_t pid = fork();
    if (pid == 0) {
        close(done[1]);
        _exit(reader(done[0]));
    }
    close(done[0]);
    CHECK(pid > 0);

    CHECK_EQ_INT(pqcoap_store_open_sqlite(db_path, &s), PQCOAP_OK);
    int failed = 0;
    for (unsigned i = 0; i < WRITES && s.ops; i++) {
        pqcoap_peer p;
        pqcoap_floor f;
        uint64_t first = 0;
        peer_make(i, &p);
        floor_make(i + 1, &f);
        failed += pqcoap_store_peer_add(&s, &p) != PQCOAP_OK;
        failed += pqcoap_store_seq_reserve(&s, "sender", 3, &first) != PQCOAP_OK;
        failed += first != 1 + 3 * (uint64_t)i;
        failed += pqcoap_store_floor_set(&s, "client", &f) != PQCOAP_OK;
    }
    CHECK_EQ_INT(failed, 0);
    pqcoap_store_close(&s);
    CHECK_EQ_INT(write(done[1], "x", 1), 1);
    close(done[1]);

    int status = 0;
    CHECK_EQ_INT(waitpid(pid, &status, 0), pid);
    CHECK(WIFEXITED(status));
    CHECK_EQ_INT(WEXITSTATUS(status), 0);
}

/* OPENERS processes create the same new file at once and each reserve numbers. */
static void test_concurrent_create(const char *dir)
{
    char path[320], out[OPENERS][320];
    snprintf(path, sizeof path, "%s/fresh.db", dir);
    pid_t pids[OPENERS];
    for (int k = 0; k < OPENERS; k++) {
        snprintf(out[k], sizeof out[k], "%s/opener-%d", dir, k);
        pids[k] = fork();
        if (pids[k] == 0) {
            pqcoap_store s;
            uint64_t first[10];
            char msg[400];
            if (pqcoap_store_open_sqlite_msg(path, msg, sizeof msg, &s) != PQCOAP_OK) {
                fprintf(stderr, "opener %d: %s\n", k, msg);
                _exit(1);
            }
            for (int j = 0; j < 10; j++)
                if (pqcoap_store_seq_reserve(&s, "sender", 5, &first[j]) != PQCOAP_OK)
                    _exit(2);
            pqcoap_store_close(&s);
            _exit(file_write(out[k], first, sizeof first) == 0 ? 0 : 3);
        }
    }
    uint8_t used[OPENERS * 10 * 5 + 1] = {0};
    int overlaps = 0, exits = 0;
    for (int k = 0; k < OPENERS; k++) {
        int status = 0;
        CHECK_EQ_INT(waitpid(pids[k], &status, 0), pids[k]);
        exits += WIFEXITED(status) && WEXITSTATUS(status) == 0;
        size_t len = 0;
        uint64_t *first = (uint64_t *)file_read(out[k], &len);
        for (size_t j = 0; first && j < len / sizeof *first; j++)
            for (uint64_t v = first[j]; v < first[j] + 5; v++) {
                if (v < 1 || v >= sizeof used || used[v]++)
                    overlaps++;
            }
        free(first);
    }
    CHECK_EQ_INT(exits, OPENERS);
    CHECK_EQ_INT(overlaps, 0);
    for (size_t v = 1; v < sizeof used; v++)
        overlaps += used[v] != 1;
    CHECK_EQ_INT(overlaps, 0);
}

int main(void)
{
    char dir[256];
    tmpdir_make(dir, sizeof dir);
    snprintf(db_path, sizeof db_path, "%s/endpoint.db", dir);
    test_reader_and_writer();
    test_concurrent_create(dir);
    tmpdir_remove(dir);
    return check_done();
}

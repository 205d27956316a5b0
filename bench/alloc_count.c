/* Allocation counter for the benchmarks: loaded with LD_PRELOAD into a benchmark server, it
 * counts calls of malloc, calloc and realloc (all threads) in a 64-bit counter at offset 0 of
 * the file named by BENCH_ALLOC_FILE, mapped shared, so that bench_load reads the count
 * before and after its timed phase (bench/run.sh, allocations per request). Allocation is
 * glibc's own (__libc_malloc and friends); without BENCH_ALLOC_FILE nothing is counted. */
#include <fcntl.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

void *__libc_malloc(size_t size);
void *__libc_calloc(size_t n, size_t size);
void *__libc_realloc(void *p, size_t size);

static _Atomic uint64_t *g_count;

__attribute__((constructor)) static void alloc_count_init(void)
{
    const char *path = getenv("BENCH_ALLOC_FILE");
    if (!path)
        return;
    int fd = open(path, O_RDWR | O_CREAT, 0600);
    if (fd < 0)
        return;
    if (ftruncate(fd, sizeof(uint64_t)) == 0) {
        void *m = mmap(NULL, sizeof(uint64_t), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (m != MAP_FAILED)
            g_count = m;
    }
    close(fd);
}

static void counted(void)
{
    if (g_count)
        atomic_fetch_add_explicit(g_count, 1, memory_order_relaxed);
}

void *malloc(size_t size)
{
    counted();
    return __libc_malloc(size);
}

void *calloc(size_t n, size_t size)
{
    counted();
    return __libc_calloc(n, size);
}

void *realloc(void *p, size_t size)
{
    counted();
    return __libc_realloc(p, size);
}

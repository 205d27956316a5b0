/* Minimal assertion helpers for pqcoap's test programs: CHECK counts failures, main returns
 * check_done() which prints "N passed, N failed" and yields the exit code for ctest. */
#ifndef PQCOAP_TEST_CHECK_H
#define PQCOAP_TEST_CHECK_H

#include <stdio.h>
#include <string.h>

static int check_pass_, check_fail_;

#define CHECK(cond) do { if (cond) check_pass_++; else { check_fail_++; \
    fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); } } while (0)
#define CHECK_EQ_INT(a, b) do { long long a_ = (long long)(a), b_ = (long long)(b); \
    if (a_ == b_) check_pass_++; else { check_fail_++; \
    fprintf(stderr, "%s:%d: CHECK failed: %s == %s (%lld != %lld)\n", \
            __FILE__, __LINE__, #a, #b, a_, b_); } } while (0)
#define CHECK_MEM(a, b, n) CHECK(memcmp((a), (b), (n)) == 0)

static inline int check_done(void)
{
    printf("%d passed, %d failed\n", check_pass_, check_fail_);
    return check_fail_ ? 1 : 0;
}

#endif

/* Internal helpers shared by the store backends (memory.c, sqlite.c). */
#ifndef PQCOAP_STORE_INTERNAL_H
#define PQCOAP_STORE_INTERNAL_H

#include <stdint.h>
#include <string.h>
#include "pqcoap/store.h"

/** True for a NUL-terminated id or counter name of 1..PQCOAP_ID_MAX bytes (PROTOCOL.md:
 *  ids are 1..64 bytes). */
static inline int pqcoap_store_name_ok(const char *s)
{
    if (!s)
        return 0;
    size_t n = strnlen(s, PQCOAP_ID_MAX + 1);
    return n >= 1 && n <= PQCOAP_ID_MAX;
}

/** Computes the counter value after reserving `count` (>= 1) numbers from `next` (>= 1):
 *  *after = next + count, or PQCOAP_ERR_LIMIT if that would pass PQCOAP_SEQ_LIMIT. */
static inline pqcoap_err pqcoap_seq_advance(uint64_t next, uint64_t count, uint64_t *after)
{
    if (count > PQCOAP_SEQ_LIMIT || next > PQCOAP_SEQ_LIMIT - count)
        return PQCOAP_ERR_LIMIT;
    *after = next + count;
    return PQCOAP_OK;
}

#endif

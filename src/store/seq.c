/* Sequence counter that reserves numbers ahead in the store and hands them out one by one,
 * as RFC 8613 Appendix B.1.1 does for OSCORE Sender Sequence Numbers. */
#include <string.h>
#include "pqcoap/store.h"
#include "store/store_internal.h"

pqcoap_err pqcoap_seq_counter_init(pqcoap_seq_counter *ctr, const pqcoap_store *store,
                                   const char *name, uint64_t block)
{
    if (!ctr || !store || !store->ops || !pqcoap_store_name_ok(name) || block < 1 ||
        block > PQCOAP_SEQ_LIMIT)
        return PQCOAP_ERR_ARG;
    memset(ctr, 0, sizeof *ctr);
    ctr->store = *store;
    memcpy(ctr->name, name, strlen(name));
    ctr->block = block;
    /* next == end: the first call reserves a block before handing anything out. */
    return PQCOAP_OK;
}

pqcoap_err pqcoap_seq_next(pqcoap_seq_counter *ctr, uint64_t *value)
{
    if (!ctr || !value || ctr->block < 1)
        return PQCOAP_ERR_ARG;
    if (ctr->next == ctr->end) {
        /* RFC 8613 B.1.1: the reservation is stored durably before any number of it is
         * used, so after a reboot the counter resumes above every number handed out. */
        uint64_t first;
        pqcoap_err err = pqcoap_store_seq_reserve(&ctr->store, ctr->name, ctr->block, &first);
        if (err)
            return err;
        ctr->next = first;
        ctr->end = first + ctr->block;
    }
    *value = ctr->next++;
    return PQCOAP_OK;
}

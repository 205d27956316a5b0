/* Helpers shared by the libFuzzer targets and the seed generator: the message-view layout
 * fuzz inputs use, and the fixed Mode A signing identity (made once, deterministically). */
#ifndef PQCOAP_FUZZ_COMMON_H
#define PQCOAP_FUZZ_COMMON_H

#include <stdlib.h>
#include <string.h>

#include "common/buf_internal.h"
#include "pqcoap/keys.h"
#include "pqcoap/msg.h"

/* Most options a fuzz message view carries. */
#define FUZZ_MAX_OPTS 12

/* Set-up steps cannot fail with fixed inputs; if one does, the harness is broken. */
static inline void fuzz_must(pqcoap_err err)
{
    if (err != PQCOAP_OK)
        abort();
}

/* A CoAP message view read from fuzz input; options point into the input. */
typedef struct fuzz_msg {
    pqcoap_msg msg;
    pqcoap_opt opts[FUZZ_MAX_OPTS];
    uint8_t extra; /* 4 bits the target may use for its own choices */
} fuzz_msg;

/* Reads a message view from data[0..size), each field until the input runs out:
 *   u8 code || u8 flags (bits 0-3: token length mod 9, bits 4-7: extra)
 *   || token || u8 option count (mod FUZZ_MAX_OPTS + 1) || (u16 number || str8 value)*
 *   || payload (the rest).
 * The seed generator writes this layout (fuzz/make_seeds.c, msg_write). */
static inline void fuzz_msg_read(const uint8_t *data, size_t size, fuzz_msg *out)
{
    pqcoap_reader r;
    uint8_t flags = 0, count = 0;
    memset(out, 0, sizeof *out);
    out->msg.opts = out->opts;
    pqcoap_rd_init(&r, data, size);
    if (pqcoap_rd_u8(&r, &out->msg.code) != PQCOAP_OK || pqcoap_rd_u8(&r, &flags) != PQCOAP_OK)
        return;
    out->extra = (uint8_t)(flags >> 4);
    size_t token_len = (size_t)(flags & 0x0f) % (PQCOAP_TOKEN_MAX + 1);
    if (pqcoap_rd_bytes(&r, token_len, &out->msg.token) != PQCOAP_OK)
        return;
    out->msg.token_len = token_len;
    if (pqcoap_rd_u8(&r, &count) == PQCOAP_OK) {
        count %= FUZZ_MAX_OPTS + 1;
        for (size_t i = 0; i < count; i++) {
            pqcoap_opt *o = &out->opts[out->msg.n_opts];
            if (pqcoap_rd_u16(&r, &o->number) != PQCOAP_OK ||
                pqcoap_rd_str8(&r, &o->value, &o->len) != PQCOAP_OK)
                break;
            out->msg.n_opts++;
        }
    }
    out->msg.payload_len = pqcoap_rd_left(&r);
    if (pqcoap_rd_bytes(&r, out->msg.payload_len, &out->msg.payload) != PQCOAP_OK)
        out->msg.payload_len = 0;
}

/* The fixed Falcon-512 identity Mode A targets verify against, made once from a fixed seed
 * with the deterministic test RNG. */
static inline const pqcoap_identity *fuzz_sign_identity(void)
{
    static pqcoap_identity id;
    static int ready;
    if (!ready) {
        static const char seed[] = "pqcoap fuzz sign";
        pqcoap_test_rng st;
        pqcoap_rng rng;
        fuzz_must(pqcoap_test_rng_init(&st, &rng, (const uint8_t *)seed, sizeof seed - 1));
        fuzz_must(pqcoap_identity_generate("falcon-512", &rng, &id));
        ready = 1;
    }
    return &id;
}

#endif

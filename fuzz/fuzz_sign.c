/* libFuzzer target for Mode A: arbitrary bytes as a v1 signed payload, as a PQ-Sig option
 * value and as a v2 request or response message view, verified against a fixed key. */
#include "pqcoap/sign.h"
#include "common/buf_internal.h"
#include "crypto/crypto_internal.h"

#include <stdlib.h>
#include <string.h>

#define MAX_OPTS 12

static uint8_t fixed_pk[PQCOAP_SIGN_PK_LEN];

/* The fixed key, made once from a fixed seed (the fuzzer needs no valid signature to
 * reach every parser; Falcon verification itself runs on every well-formed input). */
static void make_key(void)
{
    static int done;
    if (done)
        return;
    static uint8_t sk[PQCOAP_SIGN_SK_LEN];
    pqcoap_test_rng st;
    pqcoap_rng rng;
    if (pqcoap_test_rng_init(&st, &rng, (const uint8_t *)"fuzz_sign", 9) != PQCOAP_OK ||
        pqcoap_sig_falcon512.keygen(&rng, fixed_pk, sk) != PQCOAP_OK)
        abort();
    done = 1;
}

/* Every kid maps to the fixed key, so verification runs to the signature check. */
static pqcoap_err lookup(void *ctx, const uint8_t kid[8], const uint8_t **pk, size_t *pk_len)
{
    (void)ctx;
    (void)kid;
    *pk = fixed_pk;
    *pk_len = sizeof fixed_pk;
    return PQCOAP_OK;
}

/* Input layout, each field read until the input runs out:
 *   u8 code || u8 flags (bits 0-3 token length mod 9, bit 4 response, bits 5-6 policy)
 *   || token || u8 option count (mod MAX_OPTS+1) || (u16 number || str8 value)*
 *   || payload (the rest). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    make_key();
    const uint8_t *m;
    size_t n;
    uint8_t kid[8];
    uint64_t seq;

    (void)pqcoap_verify_v1(fixed_pk, sizeof fixed_pk, data, size, &m, &n);
    (void)pqcoap_sig_opt_parse(data, size, kid, &seq);

    pqcoap_reader r;
    pqcoap_rd_init(&r, data, size);
    pqcoap_msg msg = PQCOAP_MSG_INIT;
    pqcoap_opt opts[MAX_OPTS];
    uint8_t flags = 0, count = 0;
    if (pqcoap_rd_u8(&r, &msg.code) != PQCOAP_OK || pqcoap_rd_u8(&r, &flags) != PQCOAP_OK)
        return 0;
    msg.token_len = (size_t)(flags & 0x0f) % (PQCOAP_TOKEN_MAX + 1);
    if (pqcoap_rd_bytes(&r, msg.token_len, &msg.token) != PQCOAP_OK)
        return 0;
    if (pqcoap_rd_u8(&r, &count) == PQCOAP_OK) {
        count %= MAX_OPTS + 1;
        for (size_t i = 0; i < count; i++) {
            pqcoap_opt *o = &opts[msg.n_opts];
            if (pqcoap_rd_u16(&r, &o->number) != PQCOAP_OK ||
                pqcoap_rd_str8(&r, &o->value, &o->len) != PQCOAP_OK)
                break;
            msg.n_opts++;
        }
    }
    msg.opts = opts;
    msg.payload_len = pqcoap_rd_left(&r);
    (void)pqcoap_rd_bytes(&r, msg.payload_len, &msg.payload);

    pqcoap_replay_entry slots[2];
    pqcoap_replay_table table;
    pqcoap_verifier v = PQCOAP_VERIFIER_INIT;
    if (pqcoap_replay_table_init(&table, slots, 2) != PQCOAP_OK)
        abort();
    v.policy = (pqcoap_sign_policy)((flags >> 5) % 3);
    v.v1_pk = fixed_pk;
    v.v1_pk_len = sizeof fixed_pk;
    v.lookup = lookup;
    v.replay = &table;
    pqcoap_sig_req req = {msg.token, msg.token_len, {1, 2, 3, 4, 5, 6, 7, 8}, 42};
    pqcoap_sig_info info;
    pqcoap_err err = pqcoap_verify_msg(&v, &msg, (flags & 0x10) ? &req : NULL, &info, &m, &n);
    /* An accepted message's slice lies inside the payload. */
    if (err == PQCOAP_OK && (m < msg.payload || n > msg.payload_len ||
                             (size_t)(m - msg.payload) > msg.payload_len - n))
        abort();
    (void)pqcoap_sign_error_code(err);
    return 0;
}

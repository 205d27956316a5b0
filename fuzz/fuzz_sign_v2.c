/* libFuzzer target for Mode A v2: a message view read from the input (layout in
 * fuzz_common.h) verified under each policy, PQ-Sig option parsing included, against a
 * fixed key and a fresh replay table. Extra bits: bit 0 response (bound to a fixed
 * request), bits 1-2 policy. */
#include "fuzz_common.h"
#include "pqcoap/sign.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Every kid maps to the fixed key, so verification runs to the signature check. */
static pqcoap_err lookup(void *ctx, const uint8_t kid[8], const pqcoap_pubkey **key)
{
    const pqcoap_identity *id = ctx;
    (void)kid;
    *key = &id->pub;
    return PQCOAP_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const pqcoap_identity *id = fuzz_sign_identity();
    fuzz_msg fm;
    fuzz_msg_read(data, size, &fm);

    /* the option parser alone, over the first option's value */
    uint8_t kid[8];
    uint64_t seq;
    if (fm.msg.n_opts > 0)
        (void)pqcoap_sig_opt_parse(fm.opts[0].value, fm.opts[0].len, kid, &seq);

    pqcoap_replay_entry slots[2];
    pqcoap_replay_table table;
    fuzz_must(pqcoap_replay_table_init(&table, slots, 2));
    pqcoap_verifier v = PQCOAP_VERIFIER_INIT;
    v.policy = (pqcoap_sign_policy)(((fm.extra >> 1) & 3) % 3);
    pqcoap_pubkey v1_key = id->pub; /* the fixed key material, marked for v1 */
    v1_key.usage = PQCOAP_USAGE_SIGN_V1;
    v.v1_key = &v1_key;
    v.lookup = lookup;
    v.lookup_ctx = (void *)id;
    v.replay = &table;
    static const uint8_t own_kid[8] = {8, 7, 6, 5, 4, 3, 2, 1}; /* requests are signed for it */
    v.own_kid = own_kid;
    /* the request a response answers (the seed generator signs responses to it) */
    pqcoap_sig_req req = {{1, 2, 3, 4, 5, 6, 7, 8}, 42};
    pqcoap_sig_info info;
    const uint8_t *m = NULL;
    size_t n = 0;
    pqcoap_err err = pqcoap_verify_msg(&v, &fm.msg, (fm.extra & 1) ? &req : NULL, &info, &m, &n);
    /* an accepted message's slice lies inside the payload */
    if (err == PQCOAP_OK && (m != fm.msg.payload || n > fm.msg.payload_len))
        __builtin_trap();
    (void)pqcoap_sign_error_code(err);
    return 0;
}

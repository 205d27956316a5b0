/* Mode A layer pieces shared by the client and the server (see sign_internal.h). */
#include "net/sign_internal.h"
#include "common/buf_internal.h"

#include <stdio.h>

const uint16_t pqcoap_sign_critical_opts[1] = {PQCOAP_OPT_PQ_SIG};

void pqcoap_sign_name(const uint8_t kid[PQCOAP_KID_LEN], char out[PQCOAP_SIGN_NAME_LEN])
{
    int n = snprintf(out, PQCOAP_SIGN_NAME_LEN, "sign:");
    for (size_t i = 0; i < PQCOAP_KID_LEN; i++)
        n += snprintf(out + n, PQCOAP_SIGN_NAME_LEN - (size_t)n, "%02x", kid[i]);
}

pqcoap_err pqcoap_sign_wrap(const pqcoap_signer *s, int version, pqcoap_seq_counter *ctr,
                            const pqcoap_msg *plain, const uint8_t *recipient_kid,
                            const pqcoap_sig_req *req, pqcoap_msgbuf *out, uint64_t *seq)
{
    *seq = 0;
    if (pqcoap_msg_find_opt(plain, PQCOAP_OPT_PQ_SIG))
        return PQCOAP_ERR_ARG;
    PQCOAP_TRY(pqcoap_msgbuf_copy_opts(out, plain));
    if (version == 1)
        return pqcoap_sign_v1(s, plain->payload, plain->payload_len, out->payload,
                              out->payload_cap, &out->payload_len);
    /* PROTOCOL.md v2: seq strictly increasing per key, reserved ahead of use. */
    uint8_t opt[PQCOAP_SIG_OPT_LEN];
    PQCOAP_TRY(pqcoap_seq_next(ctr, seq));
    PQCOAP_TRY(pqcoap_sign_v2(s, *seq, plain, recipient_kid, req, opt, out->payload,
                              out->payload_cap, &out->payload_len));
    return pqcoap_msgbuf_add_opt(out, PQCOAP_OPT_PQ_SIG, opt, sizeof opt);
}

pqcoap_err pqcoap_sign_wrap_notification(const pqcoap_signer *s, pqcoap_seq_counter *ctr,
                                         const pqcoap_msg *plain, const pqcoap_sig_req *req,
                                         pqcoap_msgbuf *out)
{
    if (pqcoap_msg_find_opt(plain, PQCOAP_OPT_PQ_SIG))
        return PQCOAP_ERR_ARG;
    PQCOAP_TRY(pqcoap_msgbuf_copy_opts(out, plain));
    uint8_t opt[PQCOAP_SIG_OPT_LEN];
    uint64_t seq;
    PQCOAP_TRY(pqcoap_seq_next(ctr, &seq));
    PQCOAP_TRY(pqcoap_sign_v2_notification(s, seq, plain, req, opt, out->payload,
                                           out->payload_cap, &out->payload_len));
    return pqcoap_msgbuf_add_opt(out, PQCOAP_OPT_PQ_SIG, opt, sizeof opt);
}

pqcoap_err pqcoap_sign_unwrap(const pqcoap_msg *wire, const uint8_t *message, size_t len,
                              pqcoap_msgbuf *plain)
{
    PQCOAP_TRY(pqcoap_msgbuf_copy_opts(plain, wire));
    pqcoap_msgbuf_remove_opt(plain, PQCOAP_OPT_PQ_SIG);
    return pqcoap_msgbuf_set_payload(plain, message, len);
}

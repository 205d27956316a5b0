/* What the Mode B session client and server (session_client.c, session_server.c) share. */
#ifndef PQCOAP_SESSION_NET_INTERNAL_H
#define PQCOAP_SESSION_NET_INTERNAL_H

#include "pqcoap/msg.h"

/** The view of m whose protection the endpoints compute: m with an empty token.
 *  PROTOCOL.md "Protected message": over CoAP the token field of the AAD is empty, because
 *  block-wise transfer (RFC 7959) may carry each block of a request under another token
 *  (libcoap does), so the server's token is not the client's; the response is bound to its
 *  request by request_n. */
static inline pqcoap_msg pqcoap_session_aad_view(const pqcoap_msg *m)
{
    pqcoap_msg v = *m;
    v.token = NULL;
    v.token_len = 0;
    return v;
}

#endif

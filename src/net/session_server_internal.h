/* The Mode B session server's layer on its own, without CoAP server or handshake thread,
 * for the fuzz target that drives the layer's hooks itself. */
#ifndef PQCOAP_SESSION_SERVER_INTERNAL_H
#define PQCOAP_SESSION_SERVER_INTERNAL_H

#include "pqcoap/layer.h"
#include "pqcoap/session.h"
#include "pqcoap/session_endpoint.h"

/** Creates a session server of which only the layer (*layer) and its responder
 *  (*responder, whose session table the caller fills, e.g. with
 *  pqcoap_responder_handshake) are set up from cfg: no CoAP server and no handshake thread
 *  (cfg->coap and the handshake limits are not used). Both stay owned by *out; free it with
 *  pqcoap_session_server_free. Errors as pqcoap_session_server_create. */
pqcoap_err pqcoap_session_server_layer_only(const pqcoap_session_server_config *cfg,
                                            pqcoap_session_server **out,
                                            const pqcoap_layer **layer,
                                            pqcoap_responder **responder);

#endif

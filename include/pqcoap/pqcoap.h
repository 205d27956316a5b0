/* Umbrella header of libpqcoap: includes every public header and names the build. */
#ifndef PQCOAP_PQCOAP_H
#define PQCOAP_PQCOAP_H

#include "pqcoap/client.h"
#include "pqcoap/error.h"
#include "pqcoap/keys.h"
#include "pqcoap/layer.h"
#include "pqcoap/msg.h"
#include "pqcoap/oscore.h"
#include "pqcoap/oscore_endpoint.h"
#include "pqcoap/proxy.h"
#include "pqcoap/rng.h"
#include "pqcoap/server.h"
#include "pqcoap/replay.h"
#include "pqcoap/session.h"
#include "pqcoap/session_endpoint.h"
#include "pqcoap/sign.h"
#include "pqcoap/sign_endpoint.h"
#include "pqcoap/store.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The library version, "MAJOR.MINOR.PATCH". Static string, never NULL. */
const char *pqcoap_version(void);

/** One line naming the library version, the default suite, the signature algorithms of
 *  identity keys and the versions of OpenSSL, libcoap and PQClean it was built with.
 *  Static string, never NULL. */
const char *pqcoap_build_info(void);

#ifdef __cplusplus
}
#endif
#endif

/* Internal interface of Mode B in the core, for the endpoints, tests and fuzz targets: the
 * handshake, the record layer and the table of live peer contexts. */
#ifndef PQCOAP_SESSION_INTERNAL_H
#define PQCOAP_SESSION_INTERNAL_H

#include "core/handshake_internal.h"
#include "core/record_internal.h"
#include "core/peer_table_internal.h"

#endif

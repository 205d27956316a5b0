/* libFuzzer target: the OSCORE server layer (pqcoap_oscore_server_layer,
 * src/net/oscore_server.c) driven by a sequence of requests (fuzz_layer.h) against a fresh
 * server per input holding the Appendix C.1 context and a second one awaiting Echo
 * recovery. The handler may be given only what the clients protected, each request once. */
#include "fuzz_layer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    (void)fuzz_oscore_layer_input(data, size);
    return 0;
}

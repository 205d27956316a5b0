/* libFuzzer target: the Mode A server layer (pqcoap_sign_server_layer, src/net/sign_server.c)
 * driven by a sequence of requests (fuzz_layer.h) against a fresh trust store and server per
 * input: v2 or v1 policy, one to four replay windows in memory. The handler may be given
 * only what alice and bob signed for the v2 server (each once) or what the v1 device signed
 * for the v1 server, and the layer must name the signer. */
#include "fuzz_layer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    (void)fuzz_sign_layer_input(data, size);
    return 0;
}

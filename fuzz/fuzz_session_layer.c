/* libFuzzer target: the Mode B session server's layer (src/net/session_server.c, without its
 * CoAP server and handshake thread) driven by a sequence of requests (fuzz_layer.h) over the
 * fixed session of fuzz_session.h; a POST to pqc/session/init runs the handshake as the
 * handshake thread would. The handler may be given only what the client protected, each
 * request once, and the layer must name "client". */
#include "fuzz_layer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    (void)fuzz_session_layer_input(data, size);
    return 0;
}

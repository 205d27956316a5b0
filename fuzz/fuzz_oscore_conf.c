/* libFuzzer target: OSCORE configuration files (coap-oscore-conf(5) format). An accepted
 * file must give parameters the context derivation accepts. */
#include "fuzz_common.h"
#include "pqcoap/oscore.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pqcoap_oscore_conf c;
    char msg[96];
    if (pqcoap_oscore_conf_parse((const char *)data, size, &c, msg, sizeof msg) != PQCOAP_OK) {
        if (msg[0] == 0)
            __builtin_trap(); /* every refusal says why */
        return 0;
    }
    for (size_t i = 0; i < c.n_recipients; i++) {
        pqcoap_oscore_params p;
        pqcoap_oscore_ctx ctx;
        if (pqcoap_oscore_conf_params(&c, i, &p) != PQCOAP_OK ||
            pqcoap_oscore_derive(&p, &ctx) != PQCOAP_OK)
            __builtin_trap();
        pqcoap_oscore_wipe(&ctx);
    }
    pqcoap_oscore_conf_wipe(&c);
    return 0;
}

/* libFuzzer target: a protected OSCORE message (layout in fuzz_common.h) unprotected as a
 * request by the Appendix C.1 server and as a response to the C.4 request by the client
 * (extra bit 0 chooses), and its payload read as an inner CoAP option list. Nothing but the
 * real seeds may be accepted, and a refused request leaves the server context unchanged. */
#include "core/coapopt_internal.h"
#include "fuzz_oscore.h"
#include "pqcoap/layer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static pqcoap_oscore_ctx server, client;
    static int ready;
    if (!ready) {
        fuzz_oscore_ctx(1, &server);
        fuzz_oscore_ctx(0, &client);
        ready = 1;
    }
    fuzz_msg fm;
    fuzz_msg_read(data, size, &fm);
    pqcoap_opt opts[16];
    uint8_t buf[4096];
    const pqcoap_oscore_out room = {opts, 16, buf, sizeof buf};
    const pqcoap_opt *o = pqcoap_msg_find_opt(&fm.msg, PQCOAP_OPT_OSCORE);
    pqcoap_oscore_option opt;
    if (o != NULL && pqcoap_oscore_option_parse(o->value, o->len, &opt) == PQCOAP_OK) {
        pqcoap_msg out;
        if (fm.extra & 1) {
            (void)pqcoap_oscore_unprotect_response(&client, &fuzz_oscore_bind, &fm.msg, &opt,
                                                   &room, &out);
        } else {
            pqcoap_oscore_ctx before = server;
            pqcoap_oscore_binding bind;
            /* The window is reset each time, so the valid seed is accepted every run. */
            if (pqcoap_oscore_unprotect_request(&server, &fm.msg, &opt, &room, &out, &bind) !=
                    PQCOAP_OK &&
                memcmp(&before, &server, sizeof server) != 0)
                __builtin_trap();
            server.window = before.window;
        }
    }
    pqcoap_reader r;
    size_t n;
    const uint8_t *payload;
    size_t payload_len;
    pqcoap_rd_init(&r, fm.msg.payload, fm.msg.payload_len);
    if (pqcoap_coapopt_read(&r, opts, 16, &n, &payload, &payload_len) == PQCOAP_OK) {
        for (size_t i = 1; i < n; i++)
            if (opts[i].number < opts[i - 1].number)
                __builtin_trap();
        if (payload_len > 0 && (payload < fm.msg.payload ||
                                payload + payload_len != fm.msg.payload + fm.msg.payload_len))
            __builtin_trap();
    }
    return 0;
}

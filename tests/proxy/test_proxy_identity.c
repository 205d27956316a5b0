/* --forward-identity: a gateway proxy (a real process) adds the authenticated id of the
 * device to each request it forwards, in option 65004, and removes any such option a device
 * sent itself, with or without the flag. The backend is our own plain server, which answers
 * with what it saw; the device proxy is a real process too, and the application sends a
 * forged 65004 through it. */
#include "check.h"
#include "proxy_test.h"
#include "pqcoap/proxy.h"

/* Backend: "n=<number of 65004 options> id=<value of the first>" for any path. */
static pqcoap_err who(void *arg, pqcoap_server_req *rq, const pqcoap_msg *req,
                      pqcoap_msgbuf *resp)
{
    (void)arg;
    (void)rq;
    char text[128];
    int n = 0;
    const pqcoap_opt *first = NULL;
    for (size_t i = 0; i < req->n_opts; i++)
        if (req->opts[i].number == PQCOAP_OPT_PEER_ID) {
            first = first ? first : &req->opts[i];
            n++;
        }
    snprintf(text, sizeof text, "n=%d id=%.*s", n, first ? (int)first->len : 0,
             first ? (const char *)first->value : "");
    resp->code = PQCOAP_CODE(2, 5);
    return pqcoap_msgbuf_set_payload(resp, (const uint8_t *)text, strlen(text));
}

/* GET who through the pair, with a forged 65004 if asked; 1 if the backend saw `want`. */
static int backend_saw(pqcoap_client *app, int forge, const char *want)
{
    static const uint8_t forged[] = "mallory";
    pqcoap_opt o = {PQCOAP_OPT_PEER_ID, forged, sizeof forged - 1};
    pqcoap_reply r;
    pqcoap_err err = proxy_request(app, PQCOAP_GET, "who", forge ? &o : NULL, forge ? 1 : 0,
                                   NULL, &r);
    int ok = err == PQCOAP_OK && r.msg.code == PQCOAP_CODE(2, 5) && proxy_body_is(&r, want);
    if (!ok)
        fprintf(stderr, "backend saw '%.*s' (code %u, err %d), wanted '%s'\n",
                (int)r.msg.payload_len, r.msg.payload ? (const char *)r.msg.payload : "",
                r.msg.code, err, want);
    pqcoap_reply_free(&r);
    return ok;
}

static void run(const char *mode, int forward, uint16_t backend)
{
    fprintf(stderr, "-- mode %s, forward identity %d\n", mode, forward);
    char glog[32], dlog[32];
    snprintf(glog, sizeof glog, "gw-%s-%d", mode, forward);
    snprintf(dlog, sizeof dlog, "dev-%s-%d", mode, forward);
    uint16_t gport = 0, dport = 0;
    static const char *const flag[] = {"--forward-identity", NULL};
    pid_t gw = proxy_start_gateway(PQCOAP_CLI, mode, backend, "dev", forward ? flag : NULL, glog,
                                   &gport);
    CHECK(gport != 0);
    pid_t dev = gport ? proxy_start_device(PQCOAP_CLI, mode, gport, dlog, &dport) : -1;
    CHECK(dport != 0);
    pqcoap_client *app = dport ? proxy_app(dport) : NULL;
    CHECK(app != NULL);
    if (app) {
        const char *want = forward ? "n=1 id=dev" : "n=0 id=";
        CHECK(backend_saw(app, 0, want));
        CHECK(backend_saw(app, 1, want)); /* the device's own copy is gone */
        pqcoap_client_free(app);
    }
    CHECK_EQ_INT(proxy_stop(dev), 0);
    CHECK_EQ_INT(proxy_stop(gw), 0);
}

int main(void)
{
    CHECK(proxy_tmp_init());
    CHECK(proxy_keygen(PQCOAP_CLI, "gw") && proxy_keygen(PQCOAP_CLI, "dev"));
    test_server ts;
    CHECK(test_server_new(&ts, "127.0.0.1", NULL, 0) != NULL);
    if (ts.srv) {
        CHECK_EQ_INT(pqcoap_server_handle_default(ts.srv, who, NULL), PQCOAP_OK);
        CHECK(test_server_start(&ts));
        uint16_t backend = pqcoap_server_port(ts.srv);
        run("sign", 1, backend);
        run("session", 1, backend);
        run("session", 0, backend);
        test_server_end(&ts);
    }
    proxy_tmp_remove();
    return check_done();
}

/* Example Mode B (sessions): a device opens a post-quantum session with a gateway (Falcon
 * signatures, ML-KEM-768 + X25519), then sends a GET and a POST protected with AES-256-GCM
 * under fresh per-message keys.
 *
 *   session_get URI CLIENT_KEY CLIENT_ID SERVER_PUB SERVER_ID STATE_DB
 *   e.g. session_get coap://[::1]/counter device.key device gateway.pub gateway device.state
 *
 * The GET and the POST go to the path of URI; STATE_DB keeps the session sequence number
 * across runs (the gateway refuses an older one: anti-rollback). */
#include <stdio.h>

#include <pqcoap/pqcoap.h>
#include <pqcoap/session_endpoint.h>
#include <pqcoap/sign.h>

static void print_reply(const char *what, const pqcoap_reply *r)
{
    printf("%s: %u.%02u %.*s\n", what, r->msg.code >> 5, r->msg.code & 31,
           (int)r->msg.payload_len, (const char *)r->msg.payload);
}

int main(int argc, char **argv)
{
    if (argc != 7) {
        fprintf(stderr, "usage: %s URI CLIENT_KEY CLIENT_ID SERVER_PUB SERVER_ID STATE_DB\n",
                argv[0]);
        return 2;
    }
    pqcoap_identity me;
    pqcoap_pubkey server;
    pqcoap_store store = {0};
    pqcoap_session_client *client = NULL;
    pqcoap_reply got = {PQCOAP_MSG_INIT, NULL}, posted = {PQCOAP_MSG_INIT, NULL};
    char why[256] = "";
    int rc = 1;

    pqcoap_err err = pqcoap_identity_load(argv[2], &me);
    if (err == PQCOAP_OK)
        err = pqcoap_pubkey_load(argv[4], &server);
    if (err == PQCOAP_OK)
        err = pqcoap_store_open_sqlite_msg(argv[6], why, sizeof why, &store);
    if (err == PQCOAP_OK) {
        /* Our identity and id, the server's pinned key and id, the store of session_seq. */
        pqcoap_session_client_config cfg = PQCOAP_SESSION_CLIENT_CONFIG_INIT;
        cfg.id = argv[3];
        cfg.sk = me.sk;
        cfg.sk_len = PQCOAP_SIGN_SK_LEN;
        cfg.usage = me.pub.usage;           /* a sign-v1 key is refused (key separation) */
        cfg.server_id = argv[5];
        cfg.server_pk = server.pk;
        cfg.server_pk_len = server.pk_len;
        cfg.server_usage = server.usage;
        cfg.store = &store;
        err = pqcoap_session_client_open(argv[1], &cfg, &client, why, sizeof why);
    }
    /* The first request makes the handshake; both share the session. */
    if (err == PQCOAP_OK) {
        pqcoap_req req = PQCOAP_REQ_INIT;
        err = pqcoap_session_client_request(client, &req, &got);
        if (err == PQCOAP_OK) {
            req.method = PQCOAP_POST;
            err = pqcoap_session_client_request(client, &req, &posted);
        }
        if (err != PQCOAP_OK)
            snprintf(why, sizeof why, "%s", pqcoap_session_client_last_error(client));
    }
    if (err == PQCOAP_OK) {
        pqcoap_session_client_info info;
        pqcoap_session_client_info_get(client, &info);
        print_reply("GET", &got);
        print_reply("POST", &posted);
        printf("handshakes: %llu, session requests: %llu\n", (unsigned long long)info.handshakes,
               (unsigned long long)info.sent);
        rc = 0;
    } else {
        fprintf(stderr, "session failed: %s%s%s\n", pqcoap_strerror(err), why[0] ? ": " : "",
                why);
    }
    pqcoap_reply_free(&got);
    pqcoap_reply_free(&posted);
    pqcoap_session_client_free(client);
    pqcoap_store_close(&store);
    pqcoap_identity_wipe(&me);
    return rc;
}

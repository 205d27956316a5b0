/* Example "Secure GET" (Mode A, signed payloads v2): a device with its identity key asks a
 * gateway for a reading and accepts the answer only if the gateway's pinned key signed it,
 * bound to this very request.
 *
 *   secure_get URI CLIENT_KEY SERVER_PUB STATE_DB
 *   e.g. secure_get coap://[::1]/sensors/temp device.key gateway.pub device.state
 *
 * STATE_DB is the client's store file: it keeps the request sequence number across runs,
 * so that the gateway can refuse replays. */
#include <stdio.h>

#include <pqcoap/pqcoap.h>
#include <pqcoap/sign_endpoint.h>

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: %s URI CLIENT_KEY SERVER_PUB STATE_DB\n", argv[0]);
        return 2;
    }
    const char *uri = argv[1], *key_file = argv[2], *server_pub = argv[3], *db = argv[4];

    pqcoap_identity me;             /* our key pair, from a file made by `pqcoap keygen` */
    pqcoap_pubkey server;           /* the gateway's public key: the one we trust */
    pqcoap_store store = {0};
    pqcoap_sign_client *client = NULL;
    pqcoap_reply reply = {PQCOAP_MSG_INIT, NULL};
    char why[256] = "";
    int rc = 1;

    pqcoap_err err = pqcoap_identity_load(key_file, &me);
    if (err != PQCOAP_OK) {
        fprintf(stderr, "%s: %s\n", key_file, pqcoap_strerror(err));
        return 1;
    }
    err = pqcoap_pubkey_load(server_pub, &server);
    if (err == PQCOAP_OK)
        err = pqcoap_store_open_sqlite_msg(db, why, sizeof why, &store);
    /* 1. A signing client with our identity; its sequence numbers live in the store. */
    if (err == PQCOAP_OK)
        err = pqcoap_sign_client_open(uri, &me, &store, NULL, &client, why, sizeof why);
    /* 2. Pin the server key: only responses it signed are accepted. */
    if (err == PQCOAP_OK)
        err = pqcoap_sign_client_pin(client, &server);
    /* 3. GET; 4. the library verifies the response before we see it. */
    if (err == PQCOAP_OK) {
        err = pqcoap_sign_client_get(client, NULL, &reply);
        if (err != PQCOAP_OK)
            snprintf(why, sizeof why, "%s", pqcoap_sign_client_last_error(client));
    }
    if (err == PQCOAP_OK && reply.msg.code == PQCOAP_CODE(2, 5)) {
        printf("verified reading: %.*s\n", (int)reply.msg.payload_len,
               (const char *)reply.msg.payload);
        rc = 0;
    } else if (err == PQCOAP_OK) {
        fprintf(stderr, "server answered %u.%02u\n", reply.msg.code >> 5, reply.msg.code & 31);
    } else {
        fprintf(stderr, "secure GET failed: %s%s%s\n", pqcoap_strerror(err), why[0] ? ": " : "",
                why);
    }
    pqcoap_reply_free(&reply);
    pqcoap_sign_client_free(client);
    pqcoap_store_close(&store);
    pqcoap_identity_wipe(&me);
    return rc;
}

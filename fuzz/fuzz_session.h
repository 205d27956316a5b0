/* Fixed Mode B set-up shared by the session fuzz targets and the seed generator:
 * deterministic keys, an in-memory store trusting "client", a responder "server" with an
 * established session (sid 1) to the client, and an initiator waiting for the RESP to its
 * second INIT. fuzz_session_reset brings every piece of state back to how the set-up left
 * it, so each input meets the same state and a run is deterministic. */
#ifndef PQCOAP_FUZZ_SESSION_H
#define PQCOAP_FUZZ_SESSION_H

#include "fuzz_common.h"
#include "pqcoap/session.h"
#include "pqcoap/store.h"
#include "core/session_internal.h"

typedef struct fuzz_session {
    pqcoap_test_rng rng_state;
    pqcoap_rng rng;
    pqcoap_identity client, server;
    pqcoap_store store;
    pqcoap_responder responder;
    pqcoap_session slots[2];
    pqcoap_initiator initiator;     /* started: INIT with session_seq 2 sent, no RESP yet */
    pqcoap_session client_session;  /* established with slots[0] (sid 1) */
    /* the state after set-up, restored by fuzz_session_reset */
    pqcoap_test_rng pristine_rng;
    pqcoap_responder pristine_responder;
    pqcoap_session pristine_slots[2];
    pqcoap_initiator pristine_initiator;
    pqcoap_session pristine_client;
    pqcoap_floor pristine_floor;
} fuzz_session;

/* Builds everything once; *fs must stay where it is (the responder points into it). */
static inline void fuzz_session_setup(fuzz_session *fs)
{
    static const char seed[] = "pqcoap fuzz session";
    uint8_t init[PQCOAP_INIT_MAX], resp[PQCOAP_RESP_MAX];
    size_t init_len, resp_len;
    memset(fs, 0, sizeof *fs);
    fuzz_must(pqcoap_test_rng_init(&fs->rng_state, &fs->rng, (const uint8_t *)seed,
                                   sizeof seed - 1));
    fuzz_must(pqcoap_identity_generate("falcon-512", &fs->rng, &fs->client));
    fuzz_must(pqcoap_identity_generate("falcon-512", &fs->rng, &fs->server));
    fuzz_must(pqcoap_store_open_memory(&fs->store));
    pqcoap_peer peer;
    memset(&peer, 0, sizeof peer);
    strcpy(peer.id, "client");
    strcpy(peer.alg, "falcon-512");
    memcpy(peer.kid, fs->client.pub.kid, sizeof peer.kid);
    memcpy(peer.pk, fs->client.pub.pk, fs->client.pub.pk_len);
    peer.pk_len = fs->client.pub.pk_len;
    fuzz_must(pqcoap_store_peer_add(&fs->store, &peer));

    pqcoap_responder_cfg cfg = PQCOAP_RESPONDER_CFG_INIT;
    cfg.id = "server";
    cfg.sk = fs->server.sk;
    cfg.sk_len = fs->server.pub.alg->sk_len;
    cfg.store = &fs->store;
    cfg.rng = &fs->rng;
    fuzz_must(pqcoap_responder_init(&fs->responder, &cfg, fs->slots, 2));

    pqcoap_initiator_cfg icfg = PQCOAP_INITIATOR_CFG_INIT;
    icfg.id = "client";
    icfg.sk = fs->client.sk;
    icfg.sk_len = fs->client.pub.alg->sk_len;
    icfg.responder_id = "server";
    icfg.responder_pk = fs->server.pub.pk;
    icfg.responder_pk_len = fs->server.pub.pk_len;
    /* a session pair, then a second initiator left waiting for its RESP */
    fuzz_must(pqcoap_initiator_start(&fs->initiator, &icfg, 1, 0, &fs->rng, init, sizeof init,
                                     &init_len));
    fuzz_must(pqcoap_responder_handshake(&fs->responder, init, init_len, 0, resp, sizeof resp,
                                         &resp_len));
    fuzz_must(pqcoap_initiator_finish(&fs->initiator, resp, resp_len, 0, &fs->client_session));
    fuzz_must(pqcoap_initiator_start(&fs->initiator, &icfg, 2, 0, &fs->rng, init, sizeof init,
                                     &init_len));

    fs->pristine_rng = fs->rng_state;
    fs->pristine_responder = fs->responder;
    memcpy(fs->pristine_slots, fs->slots, sizeof fs->slots);
    fs->pristine_initiator = fs->initiator;
    fs->pristine_client = fs->client_session;
    fuzz_must(pqcoap_store_floor_get(&fs->store, "client", &fs->pristine_floor));
}

/* Restores the state fuzz_session_setup left: RNG, responder (RESP cache included),
 * session table, floor of "client", the waiting initiator and the client session. */
static inline void fuzz_session_reset(fuzz_session *fs)
{
    fs->rng_state = fs->pristine_rng;
    fs->responder = fs->pristine_responder;
    memcpy(fs->slots, fs->pristine_slots, sizeof fs->slots);
    fs->initiator = fs->pristine_initiator;
    fs->client_session = fs->pristine_client;
    fuzz_must(pqcoap_store_floor_set(&fs->store, "client", &fs->pristine_floor));
}

/* The fuzz targets need one fuzz_session each for the whole run. */
static inline fuzz_session *fuzz_session_get(void)
{
    static fuzz_session fs;
    static int ready;
    if (!ready) {
        fuzz_session_setup(&fs);
        ready = 1;
    }
    fuzz_session_reset(&fs);
    return &fs;
}

#endif

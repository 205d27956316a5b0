/* Shared set-up of the Mode B session tests: deterministic identities, an in-memory store
 * that trusts the client, a responder with a small session table, and message helpers. */
#ifndef PQCOAP_TEST_SESSION_FIXTURE_H
#define PQCOAP_TEST_SESSION_FIXTURE_H

#include "pqcoap/keys.h"
#include "pqcoap/session.h"
#include "core/session_internal.h"

#define FX_SLOTS 4

typedef struct fixture {
    pqcoap_test_rng rng_state;
    pqcoap_rng rng;                 /* deterministic: every key and signature comes from it */
    pqcoap_identity client;         /* trusted as "client" */
    pqcoap_identity server;         /* the responder "server" */
    pqcoap_identity other;          /* trusted as "other"; also a wrong key to pin */
    pqcoap_store store;             /* in-memory store, possibly wrapped (fail_floor_set) */
    pqcoap_store mem;               /* the in-memory store itself */
    pqcoap_store_ops ops;           /* mem's ops with floor_set failing when asked */
    int fail_floor_set;
    pqcoap_responder_cfg cfg;
    pqcoap_responder responder;
    pqcoap_session slots[FX_SLOTS];
} fixture;

/* Pins `who`'s public key as peer `id` in `store`. Exits on failure. */
void fx_trust(pqcoap_store *store, const char *id, const pqcoap_identity *who);

/* Makes identities from `seed`, trusts "client" and "other", and starts a responder over
 * n_slots (<= FX_SLOTS) slots with the given parameters (0 = default). Exits on failure. */
void fx_setup(fixture *fx, const char *seed, size_t n_slots, uint32_t lifetime_s,
              uint32_t max_msgs, uint64_t evict_idle_ms);
/* As fx_setup, with identities of the signature algorithm of `suite` and a responder of
 * that suite. */
void fx_setup_suite(fixture *fx, const char *seed, uint8_t suite, size_t n_slots,
                    uint32_t lifetime_s, uint32_t max_msgs, uint64_t evict_idle_ms);
/* Re-initialises the responder with fx->cfg (after changing it); sessions are dropped. */
void fx_restart_responder(fixture *fx, size_t n_slots);
void fx_teardown(fixture *fx);

/* Initiator configuration of `who` (fx->client or fx->other, id "client" or "other")
 * addressing "server" with its pinned key, offering the responder's suite. */
pqcoap_initiator_cfg fx_initiator_cfg(fixture *fx, const pqcoap_identity *who, const char *id);

/* Full handshake of `who` with session_seq `seq` at now_ms into *out. */
pqcoap_err fx_handshake(fixture *fx, const pqcoap_identity *who, const char *id, uint64_t seq,
                        uint64_t now_ms, pqcoap_session *out);

/* The responder's live session with sid, or NULL. */
pqcoap_session *fx_server_session(fixture *fx, uint32_t sid);

/* 1 if a GET protected by the client session c at now_ms is accepted by the responder. */
int fx_session_works(fixture *fx, pqcoap_session *c, uint64_t now_ms);

/* Snapshot of a session's state into buf (PQCOAP_SNAPSHOT_MAX bytes); returns its length. */
size_t fx_snapshot(const pqcoap_session *s, uint8_t *buf);

/* A request or response view: code, token, the options Uri-Path "sensors"/"temp" (for
 * requests) or Content-Format 0 (responses), and a payload. */
pqcoap_msg fx_request(uint8_t code, const uint8_t *token, size_t token_len,
                      const uint8_t *payload, size_t payload_len);
pqcoap_msg fx_response(uint8_t code, const uint8_t *token, size_t token_len,
                       const uint8_t *payload, size_t payload_len);

#endif

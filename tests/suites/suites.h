/* Shared set-up of the suites tests in memory: the session fixture (Falcon-512 "client",
 * "other" and "server"), one more server identity per suite, and a trusted ML-DSA-65 device
 * "mldsa"; a responder holding the identities of a list of suites, in preference order. */
#ifndef PQCOAP_TEST_SUITES_H
#define PQCOAP_TEST_SUITES_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "session/fixture.h"
#include "common/buf_internal.h"

static fixture fx;
static pqcoap_identity srv_key[5];      /* the server's identity of suite 1..4 */
static pqcoap_identity dev_mldsa;       /* trusted as "mldsa" */

static inline void suites_must(pqcoap_err err, const char *what)
{
    if (err != PQCOAP_OK) {
        fprintf(stderr, "set-up failed: %s: %s\n", what, pqcoap_strerror(err));
        exit(2);
    }
}

static inline void suites_setup(const char *seed)
{
    fx_setup(&fx, seed, FX_SLOTS, 0, 0, 0);
    srv_key[1] = fx.server;
    for (uint8_t s = 2; s <= 4; s++)
        suites_must(pqcoap_identity_generate(pqcoap_suite_find(s)->sig->name, &fx.rng,
                                             &srv_key[s]), "server key");
    suites_must(pqcoap_identity_generate("ml-dsa-65", &fx.rng, &dev_mldsa), "device key");
    fx_trust(&fx.mem, "mldsa", &dev_mldsa);
}

static inline void suites_teardown(void)
{
    for (uint8_t s = 1; s <= 4; s++)
        pqcoap_identity_wipe(&srv_key[s]);
    pqcoap_identity_wipe(&dev_mldsa);
    fx_teardown(&fx);
}

/* Restarts the responder with the identities of suites[0..n), the first preferred. */
static inline void responder_with(const uint8_t *suites, size_t n)
{
    static pqcoap_responder_key more[PQCOAP_RESPONDER_KEYS_MAX];
    fx.cfg.suite = suites[0];
    fx.cfg.sk = srv_key[suites[0]].sk;
    fx.cfg.sk_len = srv_key[suites[0]].pub.alg->sk_len;
    for (size_t i = 1; i < n; i++)
        more[i - 1] = (pqcoap_responder_key){suites[i], srv_key[suites[i]].sk,
                                             srv_key[suites[i]].pub.alg->sk_len,
                                             PQCOAP_USAGE_GENERAL};
    fx.cfg.more = more;
    fx.cfg.n_more = n - 1;
    fx_restart_responder(&fx, FX_SLOTS);
}

/* Initiator settings of device `who` (id) offering suites[0..n), preferred first, each with
 * the server's key of that suite. */
static inline pqcoap_initiator_cfg offer_of(const char *id, const pqcoap_identity *who,
                                            const uint8_t *suites, size_t n)
{
    static pqcoap_suite_offer more[PQCOAP_OFFER_MAX];
    pqcoap_initiator_cfg cfg = fx_initiator_cfg(&fx, who, id);
    cfg.suite = suites[0];
    cfg.responder_pk = srv_key[suites[0]].pub.pk;
    cfg.responder_pk_len = srv_key[suites[0]].pub.pk_len;
    for (size_t i = 1; i < n; i++)
        more[i - 1] = (pqcoap_suite_offer){suites[i], srv_key[suites[i]].pub.pk,
                                           srv_key[suites[i]].pub.pk_len, PQCOAP_USAGE_GENERAL};
    cfg.more = more;
    cfg.n_more = n - 1;
    return cfg;
}

#endif

/* Public store functions: argument checks in front of a backend's pqcoap_store_ops. */
#include <string.h>
#include "pqcoap/store.h"
#include "store/store_internal.h"

static int store_ok(const pqcoap_store *store)
{
    return store && store->ops;
}

void pqcoap_store_close(pqcoap_store *store)
{
    if (!store_ok(store))
        return;
    store->ops->close(store->ctx);
    store->ops = NULL;
    store->ctx = NULL;
}

pqcoap_err pqcoap_store_peer_add(const pqcoap_store *store, const pqcoap_peer *peer)
{
    if (!store_ok(store) || !peer)
        return PQCOAP_ERR_ARG;
    /* id must be NUL-terminated inside its array and 1..64 bytes. */
    if (!memchr(peer->id, '\0', sizeof peer->id) || !pqcoap_store_name_ok(peer->id))
        return PQCOAP_ERR_ARG;
    if (!memchr(peer->alg, '\0', sizeof peer->alg) || peer->alg[0] == '\0')
        return PQCOAP_ERR_ARG;
    if (peer->pk_len < 1 || peer->pk_len > PQCOAP_PK_MAX)
        return PQCOAP_ERR_ARG;
    if (peer->usage != PQCOAP_USAGE_GENERAL && peer->usage != PQCOAP_USAGE_SIGN_V1)
        return PQCOAP_ERR_ARG;
    return store->ops->peer_add(store->ctx, peer);
}

pqcoap_err pqcoap_store_peer_remove(const pqcoap_store *store, const char *id)
{
    if (!store_ok(store) || !pqcoap_store_name_ok(id))
        return PQCOAP_ERR_ARG;
    return store->ops->peer_remove(store->ctx, id);
}

pqcoap_err pqcoap_store_peer_by_id(const pqcoap_store *store, const char *id,
                                   pqcoap_peer *out)
{
    if (!store_ok(store) || !pqcoap_store_name_ok(id) || !out)
        return PQCOAP_ERR_ARG;
    return store->ops->peer_by_id(store->ctx, id, out);
}

pqcoap_err pqcoap_store_peer_by_kid(const pqcoap_store *store,
                                    const uint8_t kid[PQCOAP_KID_LEN], pqcoap_peer *out)
{
    if (!store_ok(store) || !kid || !out)
        return PQCOAP_ERR_ARG;
    return store->ops->peer_by_kid(store->ctx, kid, out);
}

pqcoap_err pqcoap_store_peer_list(const pqcoap_store *store,
                                  pqcoap_err (*cb)(void *arg, const pqcoap_peer *peer),
                                  void *arg)
{
    if (!store_ok(store) || !cb)
        return PQCOAP_ERR_ARG;
    return store->ops->peer_list(store->ctx, cb, arg);
}

pqcoap_err pqcoap_store_floor_get(const pqcoap_store *store, const char *id,
                                  pqcoap_floor *out)
{
    if (!store_ok(store) || !pqcoap_store_name_ok(id) || !out)
        return PQCOAP_ERR_ARG;
    return store->ops->floor_get(store->ctx, id, out);
}

pqcoap_err pqcoap_store_floor_set(const pqcoap_store *store, const char *id,
                                  const pqcoap_floor *floor)
{
    if (!store_ok(store) || !pqcoap_store_name_ok(id) || !floor)
        return PQCOAP_ERR_ARG;
    return store->ops->floor_set(store->ctx, id, floor);
}

pqcoap_err pqcoap_store_sign_floor_get(const pqcoap_store *store,
                                       const uint8_t kid[PQCOAP_KID_LEN], uint64_t *seq)
{
    if (!store_ok(store) || !kid || !seq)
        return PQCOAP_ERR_ARG;
    return store->ops->sign_floor_get(store->ctx, kid, seq);
}

pqcoap_err pqcoap_store_sign_floor_set(const pqcoap_store *store,
                                       const uint8_t kid[PQCOAP_KID_LEN], uint64_t seq)
{
    if (!store_ok(store) || !kid)
        return PQCOAP_ERR_ARG;
    return store->ops->sign_floor_set(store->ctx, kid, seq);
}

pqcoap_err pqcoap_store_seq_reserve(const pqcoap_store *store, const char *name,
                                    uint64_t count, uint64_t *first)
{
    if (!store_ok(store) || !pqcoap_store_name_ok(name) || count < 1 || !first)
        return PQCOAP_ERR_ARG;
    return store->ops->seq_reserve(store->ctx, name, count, first);
}

pqcoap_err pqcoap_store_seq_peek(const pqcoap_store *store, const char *name,
                                 uint64_t *next)
{
    if (!store_ok(store) || !pqcoap_store_name_ok(name) || !next)
        return PQCOAP_ERR_ARG;
    return store->ops->seq_peek(store->ctx, name, next);
}

pqcoap_err pqcoap_store_change_count(const pqcoap_store *store, uint64_t *count)
{
    if (!store_ok(store) || !count)
        return PQCOAP_ERR_ARG;
    if (!store->ops->change_count)
        return PQCOAP_ERR_UNSUPPORTED;
    return store->ops->change_count(store->ctx, count);
}

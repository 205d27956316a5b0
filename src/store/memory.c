/* In-memory store backend (pqcoap_store_open_memory): four growable arrays, nothing
 * persists. For tests and for endpoints that keep no state across restarts. */
#include <stdlib.h>
#include <string.h>
#include "pqcoap/store.h"
#include "store/store_internal.h"

typedef struct mem_floor {
    char id[PQCOAP_ID_MAX + 1];
    pqcoap_floor floor;
} mem_floor;

typedef struct mem_sign_floor {
    uint8_t kid[PQCOAP_KID_LEN];
    uint64_t seq;
} mem_sign_floor;

typedef struct mem_counter {
    char name[PQCOAP_ID_MAX + 1];
    uint64_t next;
} mem_counter;

typedef struct mem_store {
    pqcoap_peer *peers;             /* sorted by id (strcmp), as peer_list reports them */
    size_t n_peers, cap_peers;
    mem_floor *floors;
    size_t n_floors, cap_floors;
    mem_sign_floor *sign_floors;
    size_t n_sign_floors, cap_sign_floors;
    mem_counter *counters;
    size_t n_counters, cap_counters;
    uint64_t peer_writes;           /* the change count */
} mem_store;

/* Makes room for one more element in arr (n used of *cap, each elem bytes). Returns the
 * array to use from now on, or NULL (arr unchanged) when out of memory. */
static void *grow(void *arr, size_t n, size_t *cap, size_t elem)
{
    if (n < *cap)
        return arr;
    size_t new_cap = *cap ? *cap * 2 : 8;
    if (new_cap > SIZE_MAX / elem)
        return NULL;
    void *p = realloc(arr, new_cap * elem);
    if (p)
        *cap = new_cap;
    return p;
}

/* Index of the first peer whose id is >= id; *found tells whether it is equal. */
static size_t peer_pos(const mem_store *m, const char *id, int *found)
{
    size_t i = 0;
    while (i < m->n_peers && strcmp(m->peers[i].id, id) < 0)
        i++;
    *found = i < m->n_peers && strcmp(m->peers[i].id, id) == 0;
    return i;
}

static pqcoap_err mem_peer_add(void *ctx, const pqcoap_peer *peer)
{
    mem_store *m = ctx;
    for (size_t i = 0; i < m->n_peers; i++)
        if (memcmp(m->peers[i].kid, peer->kid, PQCOAP_KID_LEN) == 0 &&
            strcmp(m->peers[i].id, peer->id) != 0)
            return PQCOAP_ERR_EXISTS;
    int found;
    size_t i = peer_pos(m, peer->id, &found);
    if (!found) {
        pqcoap_peer *p = grow(m->peers, m->n_peers, &m->cap_peers, sizeof *p);
        if (!p)
            return PQCOAP_ERR_NOMEM;
        m->peers = p;
        memmove(&m->peers[i + 1], &m->peers[i], (m->n_peers - i) * sizeof *m->peers);
        m->n_peers++;
    }
    m->peers[i] = *peer;
    m->peer_writes++;
    return PQCOAP_OK;
}

static pqcoap_err mem_peer_remove(void *ctx, const char *id)
{
    mem_store *m = ctx;
    int found;
    size_t i = peer_pos(m, id, &found);
    if (!found)
        return PQCOAP_ERR_NOT_FOUND;
    memmove(&m->peers[i], &m->peers[i + 1], (m->n_peers - i - 1) * sizeof *m->peers);
    m->n_peers--;
    m->peer_writes++;
    return PQCOAP_OK;
}

static pqcoap_err mem_peer_by_id(void *ctx, const char *id, pqcoap_peer *out)
{
    mem_store *m = ctx;
    int found;
    size_t i = peer_pos(m, id, &found);
    if (!found)
        return PQCOAP_ERR_NOT_FOUND;
    *out = m->peers[i];
    return PQCOAP_OK;
}

static pqcoap_err mem_peer_by_kid(void *ctx, const uint8_t kid[PQCOAP_KID_LEN],
                                  pqcoap_peer *out)
{
    mem_store *m = ctx;
    for (size_t i = 0; i < m->n_peers; i++) {
        if (memcmp(m->peers[i].kid, kid, PQCOAP_KID_LEN) == 0) {
            *out = m->peers[i];
            return PQCOAP_OK;
        }
    }
    return PQCOAP_ERR_NOT_FOUND;
}

static pqcoap_err mem_peer_list(void *ctx, pqcoap_err (*cb)(void *arg, const pqcoap_peer *peer),
                                void *arg)
{
    mem_store *m = ctx;
    for (size_t i = 0; i < m->n_peers; i++) {
        pqcoap_err err = cb(arg, &m->peers[i]);
        if (err)
            return err;
    }
    return PQCOAP_OK;
}

static mem_floor *floor_find(mem_store *m, const char *id)
{
    for (size_t i = 0; i < m->n_floors; i++)
        if (strcmp(m->floors[i].id, id) == 0)
            return &m->floors[i];
    return NULL;
}

static pqcoap_err mem_floor_get(void *ctx, const char *id, pqcoap_floor *out)
{
    mem_floor *f = floor_find(ctx, id);
    if (!f)
        return PQCOAP_ERR_NOT_FOUND;
    *out = f->floor;
    return PQCOAP_OK;
}

static pqcoap_err mem_floor_set(void *ctx, const char *id, const pqcoap_floor *floor)
{
    mem_store *m = ctx;
    mem_floor *f = floor_find(m, id);
    if (!f) {
        mem_floor *p = grow(m->floors, m->n_floors, &m->cap_floors, sizeof *p);
        if (!p)
            return PQCOAP_ERR_NOMEM;
        m->floors = p;
        f = &m->floors[m->n_floors++];
        memset(f, 0, sizeof *f);
        memcpy(f->id, id, strlen(id));
    }
    f->floor = *floor;
    return PQCOAP_OK;
}

static mem_sign_floor *sign_floor_find(mem_store *m, const uint8_t kid[PQCOAP_KID_LEN])
{
    for (size_t i = 0; i < m->n_sign_floors; i++)
        if (memcmp(m->sign_floors[i].kid, kid, PQCOAP_KID_LEN) == 0)
            return &m->sign_floors[i];
    return NULL;
}

static pqcoap_err mem_sign_floor_get(void *ctx, const uint8_t kid[PQCOAP_KID_LEN], uint64_t *seq)
{
    mem_sign_floor *f = sign_floor_find(ctx, kid);
    if (!f)
        return PQCOAP_ERR_NOT_FOUND;
    *seq = f->seq;
    return PQCOAP_OK;
}

static pqcoap_err mem_sign_floor_set(void *ctx, const uint8_t kid[PQCOAP_KID_LEN], uint64_t seq)
{
    mem_store *m = ctx;
    mem_sign_floor *f = sign_floor_find(m, kid);
    if (!f) {
        mem_sign_floor *p = grow(m->sign_floors, m->n_sign_floors, &m->cap_sign_floors,
                                 sizeof *p);
        if (!p)
            return PQCOAP_ERR_NOMEM;
        m->sign_floors = p;
        f = &m->sign_floors[m->n_sign_floors++];
        memcpy(f->kid, kid, PQCOAP_KID_LEN);
    }
    f->seq = seq;
    return PQCOAP_OK;
}

static mem_counter *counter_find(mem_store *m, const char *name)
{
    for (size_t i = 0; i < m->n_counters; i++)
        if (strcmp(m->counters[i].name, name) == 0)
            return &m->counters[i];
    return NULL;
}

static pqcoap_err mem_seq_peek(void *ctx, const char *name, uint64_t *next)
{
    mem_counter *c = counter_find(ctx, name);
    *next = c ? c->next : 1;
    return PQCOAP_OK;
}

static pqcoap_err mem_seq_reserve(void *ctx, const char *name, uint64_t count, uint64_t *first)
{
    mem_store *m = ctx;
    mem_counter *c = counter_find(m, name);
    uint64_t next = c ? c->next : 1, after;
    pqcoap_err err = pqcoap_seq_advance(next, count, &after);
    if (err)
        return err;
    if (!c) {
        mem_counter *p = grow(m->counters, m->n_counters, &m->cap_counters, sizeof *p);
        if (!p)
            return PQCOAP_ERR_NOMEM;
        m->counters = p;
        c = &m->counters[m->n_counters++];
        memset(c, 0, sizeof *c);
        memcpy(c->name, name, strlen(name));
    }
    c->next = after;
    *first = next;
    return PQCOAP_OK;
}

static pqcoap_err mem_change_count(void *ctx, uint64_t *count)
{
    *count = ((mem_store *)ctx)->peer_writes;
    return PQCOAP_OK;
}

static void mem_close(void *ctx)
{
    mem_store *m = ctx;
    free(m->peers);
    free(m->floors);
    free(m->sign_floors);
    free(m->counters);
    free(m);
}

static const pqcoap_store_ops mem_ops = {
    .peer_add = mem_peer_add,
    .peer_remove = mem_peer_remove,
    .peer_by_id = mem_peer_by_id,
    .peer_by_kid = mem_peer_by_kid,
    .peer_list = mem_peer_list,
    .floor_get = mem_floor_get,
    .floor_set = mem_floor_set,
    .sign_floor_get = mem_sign_floor_get,
    .sign_floor_set = mem_sign_floor_set,
    .seq_reserve = mem_seq_reserve,
    .seq_peek = mem_seq_peek,
    .close = mem_close,
    .change_count = mem_change_count,
};

pqcoap_err pqcoap_store_open_memory(pqcoap_store *out)
{
    if (!out)
        return PQCOAP_ERR_ARG;
    mem_store *m = calloc(1, sizeof *m);
    if (!m)
        return PQCOAP_ERR_NOMEM;
    out->ops = &mem_ops;
    out->ctx = m;
    return PQCOAP_OK;
}

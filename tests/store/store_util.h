/* Helpers shared by the store tests: a temporary folder, whole-file reads and writes, SQL
 * run behind the store's back, and deterministic peers whose every byte can be checked. */
#ifndef PQCOAP_TEST_STORE_UTIL_H
#define PQCOAP_TEST_STORE_UTIL_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sqlite3.h>
#include "pqcoap/store.h"

/* Creates a fresh folder under $TMPDIR (or /tmp) into dir[cap]; exits on failure. */
static inline void tmpdir_make(char *dir, size_t cap)
{
    const char *base = getenv("TMPDIR");
    snprintf(dir, cap, "%s/pqcoap-store-XXXXXX", base && base[0] ? base : "/tmp");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        exit(2);
    }
}

/* Removes every file in dir, then dir itself. */
static inline void tmpdir_remove(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    char p[512];
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        unlink(p);
    }
    closedir(d);
    rmdir(dir);
}

/* Reads a whole file into a malloc'ed buffer (caller frees); NULL if it cannot. */
static inline unsigned char *file_read(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    unsigned char *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n == cap) {
            cap = cap ? cap * 2 : 4096;
            unsigned char *p = realloc(buf, cap);
            if (!p)
                break;
            buf = p;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    fclose(f);
    *len = n;
    return buf;
}

/* Writes len bytes to path (created or truncated); 0 on success. */
static inline int file_write(const char *path, const void *p, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    int ok = fwrite(p, 1, len, f) == len;
    return fclose(f) == 0 && ok ? 0 : -1;
}

/* Runs SQL on a database through the SQLite API directly, as another program would. */
static inline int sql_run(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    int rc = sqlite3_open(path, &db);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    sqlite3_close(db);
    return rc;
}

/* Peer number i: id "peer-<i>", a pk of 100..1700 bytes, every byte derived from i; every
 * third one a sign-v1 key. */
static inline void peer_make(unsigned i, pqcoap_peer *p)
{
    memset(p, 0, sizeof *p);
    snprintf(p->id, sizeof p->id, "peer-%05u", i);
    snprintf(p->alg, sizeof p->alg, "falcon-512");
    for (int k = 0; k < PQCOAP_KID_LEN; k++)
        p->kid[k] = (uint8_t)(k < 4 ? 0xC0u + (unsigned)k : i >> (8 * (7 - k)));
    p->pk_len = 100 + (i * 37) % 1600;
    for (size_t k = 0; k < p->pk_len; k++)
        p->pk[k] = (uint8_t)(i * 31 + k * 7);
    p->added_s = 1700000000 + (int64_t)i;
    p->usage = i % 3 == 0 ? PQCOAP_USAGE_SIGN_V1 : PQCOAP_USAGE_GENERAL;
}

/* True if *p is exactly what peer_make made for the number in its id. */
static inline int peer_intact(const pqcoap_peer *p)
{
    unsigned i;
    if (sscanf(p->id, "peer-%05u", &i) != 1)
        return 0;
    pqcoap_peer want;
    peer_make(i, &want);
    return strcmp(p->id, want.id) == 0 && strcmp(p->alg, want.alg) == 0 &&
           memcmp(p->kid, want.kid, PQCOAP_KID_LEN) == 0 && p->pk_len == want.pk_len &&
           memcmp(p->pk, want.pk, want.pk_len) == 0 && p->added_s == want.added_s &&
           p->usage == want.usage;
}

#endif

/* Reads fields of the RFC 8613 Appendix C vectors (tests/vectors/rfc8613-appc.json): a
 * field is the string value of "name" inside the object of one vector ("C.4"). The file
 * is our own flat transcription, so a scan for the quoted keys is all it takes. */
#ifndef PQCOAP_TEST_OSCORE_VECTORS_H
#define PQCOAP_TEST_OSCORE_VECTORS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "hex.h"

static char *vec_text;

static int vec_load(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return 0;
    static char buf[65536];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    vec_text = buf;
    return n > 0;
}

/* Hex field `name` of vector `id` into out[0..cap); returns its length, or (size_t)-1 if
 * absent. A field absent from the vector means the empty string only if `empty_ok`. */
static size_t vec_hex(const char *id, const char *name, uint8_t *out, size_t cap)
{
    char key[64];
    snprintf(key, sizeof key, "\"%s\": {", id);
    const char *obj = strstr(vec_text, key);
    if (obj == NULL)
        return (size_t)-1;
    const char *end = strchr(obj, '}');
    snprintf(key, sizeof key, "\"%s\": \"", name);
    const char *v = strstr(obj, key);
    if (v == NULL || v > end)
        return (size_t)-1;
    v += strlen(key);
    char hex[1024];
    size_t i = 0;
    while (v[i] != '"' && i < sizeof hex - 1) {
        hex[i] = v[i];
        i++;
    }
    hex[i] = 0;
    return unhex(hex, out, cap);
}

#endif

/* Hex helpers for test programs: test vectors are written as hex strings. */
#ifndef PQCOAP_TEST_HEX_H
#define PQCOAP_TEST_HEX_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Decodes hex text into out[0..cap); returns the byte count, or (size_t)-1 if the text is
 * not hex of at most cap bytes. */
static inline size_t unhex(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = strlen(hex);
    if (n % 2 != 0 || n / 2 > cap)
        return (size_t)-1;
    for (size_t i = 0; i < n / 2; i++) {
        unsigned v;
        if (sscanf(hex + 2 * i, "%2x", &v) != 1)
            return (size_t)-1;
        out[i] = (uint8_t)v;
    }
    return n / 2;
}

/* Writes bytes as lowercase hex followed by a newline. */
static inline void print_hex(FILE *f, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%02x", p[i]);
    fputc('\n', f);
}

#endif

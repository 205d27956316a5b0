/* Tests of the bounds-checked reader/writer, the varint and opts() against PROTOCOL.md. */
#include "check.h"
#include "common/buf_internal.h"
#include "pqcoap/msg.h"

static void test_varint(void)
{
    static const struct { uint64_t v; uint8_t enc[8]; size_t len; } vec[] = {
        {0, {0x00}, 1}, {1, {0x01}, 1}, {127, {0x7f}, 1}, {128, {0x80, 0x01}, 2},
        {300, {0xac, 0x02}, 2}, {16383, {0xff, 0x7f}, 2}, {16384, {0x80, 0x80, 0x01}, 3},
        {PQCOAP_VARINT_MAX, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f}, 8},
    };
    for (size_t i = 0; i < sizeof vec / sizeof vec[0]; i++) {
        uint8_t buf[16];
        pqcoap_writer w;
        pqcoap_wr_init(&w, buf, sizeof buf);
        pqcoap_wr_varint(&w, vec[i].v);
        CHECK_EQ_INT(w.err, PQCOAP_OK);
        CHECK_EQ_INT(w.len, vec[i].len);
        CHECK_EQ_INT(pqcoap_varint_len(vec[i].v), vec[i].len);
        CHECK_MEM(buf, vec[i].enc, vec[i].len);
        pqcoap_reader r;
        uint64_t v = 0;
        pqcoap_rd_init(&r, vec[i].enc, vec[i].len);
        CHECK_EQ_INT(pqcoap_rd_varint(&r, &v), PQCOAP_OK);
        CHECK(v == vec[i].v);
        CHECK_EQ_INT(pqcoap_rd_end(&r), PQCOAP_OK);
    }
    /* non-minimal, too long, truncated */
    static const struct { uint8_t enc[9]; size_t len; } bad[] = {
        {{0x80, 0x00}, 2}, {{0x81, 0x80, 0x00}, 3}, {{0x80}, 1}, {{0}, 0},
        {{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, 9},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        pqcoap_reader r;
        uint64_t v;
        pqcoap_rd_init(&r, bad[i].enc, bad[i].len);
        CHECK_EQ_INT(pqcoap_rd_varint(&r, &v), PQCOAP_ERR_MALFORMED);
        CHECK_EQ_INT(r.pos, 0);
    }
    uint8_t buf[16];
    pqcoap_writer w;
    pqcoap_wr_init(&w, buf, sizeof buf);
    pqcoap_wr_varint(&w, PQCOAP_VARINT_MAX + 1);
    CHECK_EQ_INT(w.err, PQCOAP_ERR_ARG);
}

static void test_reader_writer(void)
{
    uint8_t buf[32];
    pqcoap_writer w;
    pqcoap_wr_init(&w, buf, sizeof buf);
    pqcoap_wr_u8(&w, 0x01);
    pqcoap_wr_u16(&w, 0x0203);
    pqcoap_wr_u32(&w, 0x04050607);
    pqcoap_wr_u64(&w, 0x08090a0b0c0d0e0fULL);
    pqcoap_wr_str8(&w, (const uint8_t *)"ab", 2);
    pqcoap_wr_str16(&w, (const uint8_t *)"c", 1);
    CHECK_EQ_INT(w.err, PQCOAP_OK);
    static const uint8_t want[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
                                   2, 'a', 'b', 0, 1, 'c'};
    CHECK_EQ_INT(w.len, sizeof want);
    CHECK_MEM(buf, want, sizeof want);

    pqcoap_reader r;
    uint8_t a; uint16_t b; uint32_t c; uint64_t d;
    const uint8_t *s; size_t n;
    pqcoap_rd_init(&r, want, sizeof want);
    CHECK_EQ_INT(pqcoap_rd_u8(&r, &a), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_rd_u16(&r, &b), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_rd_u32(&r, &c), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_rd_u64(&r, &d), PQCOAP_OK);
    CHECK(a == 1 && b == 0x0203 && c == 0x04050607 && d == 0x08090a0b0c0d0e0fULL);
    CHECK_EQ_INT(pqcoap_rd_str8(&r, &s, &n), PQCOAP_OK);
    CHECK(n == 2 && s[0] == 'a');
    CHECK_EQ_INT(pqcoap_rd_end(&r), PQCOAP_ERR_MALFORMED);
    CHECK_EQ_INT(pqcoap_rd_str16(&r, &s, &n), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_rd_end(&r), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_rd_u8(&r, &a), PQCOAP_ERR_MALFORMED);

    /* a str16 whose length passes the end fails and consumes nothing */
    static const uint8_t shortstr[] = {0x00, 0x05, 'x'};
    pqcoap_rd_init(&r, shortstr, sizeof shortstr);
    CHECK_EQ_INT(pqcoap_rd_str16(&r, &s, &n), PQCOAP_ERR_MALFORMED);
    CHECK_EQ_INT(r.pos, 0);

    /* the writer's error is sticky */
    pqcoap_wr_init(&w, buf, 3);
    pqcoap_wr_u32(&w, 1);
    pqcoap_wr_u8(&w, 1);
    CHECK_EQ_INT(w.err, PQCOAP_ERR_BUFFER);
    CHECK_EQ_INT(w.len, 0);
}

static void test_opts(void)
{
    /* Uri-Host (excluded), Uri-Path x2 (repeated, in order), Content-Format,
     * Uri-Query, Block2 (excluded), PQ-Sig (excluded). */
    const pqcoap_opt o[] = {
        {PQCOAP_OPT_URI_HOST, (const uint8_t *)"h", 1},
        {PQCOAP_OPT_URI_PATH, (const uint8_t *)"a", 1},
        {PQCOAP_OPT_URI_PATH, (const uint8_t *)"bc", 2},
        {PQCOAP_OPT_CONTENT_FORMAT, NULL, 0},
        {PQCOAP_OPT_URI_QUERY, (const uint8_t *)"q=1", 3},
        {PQCOAP_OPT_BLOCK2, (const uint8_t *)"\x02", 1},
        {PQCOAP_OPT_PQ_SIG, (const uint8_t *)"x", 1},
    };
    pqcoap_msg m = PQCOAP_MSG_INIT;
    m.code = PQCOAP_GET;
    m.opts = o;
    m.n_opts = sizeof o / sizeof o[0];
    static const uint8_t want[] = {
        0x00, 0x04,
        0x00, 0x0b, 0x00, 0x01, 'a',
        0x00, 0x0b, 0x00, 0x02, 'b', 'c',
        0x00, 0x0c, 0x00, 0x00,
        0x00, 0x0f, 0x00, 0x03, 'q', '=', '1',
    };
    uint8_t out[64];
    size_t len = 0;
    CHECK_EQ_INT(pqcoap_opts(&m, out, sizeof out, &len), PQCOAP_OK);
    CHECK_EQ_INT(len, sizeof want);
    CHECK_MEM(out, want, sizeof want);
    CHECK_EQ_INT(pqcoap_opts(&m, out, 10, &len), PQCOAP_ERR_BUFFER);

    /* no options at all: just the count */
    pqcoap_msg empty = PQCOAP_MSG_INIT;
    CHECK_EQ_INT(pqcoap_opts(&empty, out, sizeof out, &len), PQCOAP_OK);
    CHECK(len == 2 && out[0] == 0 && out[1] == 0);

    /* options out of order are malformed */
    const pqcoap_opt rev[] = {{15, (const uint8_t *)"a", 1}, {11, (const uint8_t *)"b", 1}};
    m.opts = rev;
    m.n_opts = 2;
    CHECK_EQ_INT(pqcoap_opts(&m, out, sizeof out, &len), PQCOAP_ERR_MALFORMED);

    /* every excluded number of PROTOCOL.md, and nothing else */
    static const uint16_t excl[] = {3, 7, 14, 23, 27, 28, 35, 39, 60, 292, 65003};
    size_t n_excl = 0;
    for (uint32_t num = 0; num <= 65535; num++)
        n_excl += (size_t)pqcoap_opt_excluded((uint16_t)num);
    CHECK_EQ_INT(n_excl, sizeof excl / sizeof excl[0]);
    for (size_t i = 0; i < sizeof excl / sizeof excl[0]; i++)
        CHECK(pqcoap_opt_excluded(excl[i]));
}

int main(void)
{
    test_varint();
    test_reader_writer();
    test_opts();
    return check_done();
}

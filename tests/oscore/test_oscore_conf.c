/* OSCORE configuration files in libcoap's format: the Appendix C.1 contexts provisioned
 * from a file derive the RFC's keys; every malformed line is refused with its number. */
#include "check.h"
#include "pqcoap/oscore.h"

static const char server_conf[] =
    "# RFC 8613 Appendix C.1, server side\n"
    "master_secret,hex,\"0102030405060708090a0b0c0d0e0f10\"\n"
    "master_salt,hex,9e7ca92223786340\r\n"
    "  sender_id , hex , 01\n"
    "recipient_id,hex,\"\"\n"
    "recipient_id,ascii,\"dev2\"\n"
    "\n"
    "replay_window,integer,64\n"
    "ssn_freq,integer,20\n"
    "aead_alg,text,AES-CCM-16-64-128\n"
    "hkdf_alg,integer,-10\n"
    "rfc8613_b_1_2,bool,true\n"
    "rfc8613_b_2,bool,false\n";

static const uint8_t c1_server_key[16] = {0xff, 0xb1, 0x4e, 0x09, 0x3c, 0x94, 0xc9, 0xca,
                                          0xc9, 0x47, 0x16, 0x48, 0xb4, 0xf9, 0x87, 0x10};
static const uint8_t c1_client_key[16] = {0xf0, 0x91, 0x0e, 0xd7, 0x29, 0x5e, 0x6a, 0xd4,
                                          0xb5, 0x4f, 0xc7, 0x93, 0x15, 0x43, 0x02, 0xff};

static void test_good(void)
{
    pqcoap_oscore_conf c;
    char msg[128];
    CHECK_EQ_INT(pqcoap_oscore_conf_parse(server_conf, sizeof server_conf - 1, &c, msg,
                                          sizeof msg), PQCOAP_OK);
    CHECK_EQ_INT(c.n_recipients, 2);
    CHECK_EQ_INT(c.recipient_id_len[0], 0);
    CHECK_EQ_INT(c.recipient_id_len[1], 4);
    CHECK_MEM(c.recipient_id[1], "dev2", 4);
    CHECK_EQ_INT(c.replay_window, 64);
    CHECK_EQ_INT(c.ssn_freq, 20);
    CHECK_EQ_INT(c.rfc8613_b_1_2, 1);
    pqcoap_oscore_params p;
    pqcoap_oscore_ctx ctx;
    CHECK_EQ_INT(pqcoap_oscore_conf_params(&c, 0, &p), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_oscore_derive(&p, &ctx), PQCOAP_OK);
    CHECK_MEM(ctx.sender_key, c1_server_key, 16);
    CHECK_MEM(ctx.recipient_key, c1_client_key, 16);
    CHECK_EQ_INT(ctx.window_size, 64);
    CHECK_EQ_INT(pqcoap_oscore_conf_params(&c, 2, &p), PQCOAP_ERR_ARG);
    pqcoap_oscore_wipe(&ctx);
    pqcoap_oscore_conf_wipe(&c);
    /* Defaults: window 32, AES-CCM-16-64-128, Echo recovery on, no salt, no ID Context. */
    static const char minimal[] = "master_secret,ascii,secret\nsender_id,hex,\n"
                                  "recipient_id,hex,01";
    CHECK_EQ_INT(pqcoap_oscore_conf_parse(minimal, sizeof minimal - 1, &c, NULL, 0),
                 PQCOAP_OK);
    CHECK_EQ_INT(c.replay_window, 32);
    CHECK_EQ_INT(c.aead_alg, 10);
    CHECK_EQ_INT(c.has_id_context, 0);
    CHECK_EQ_INT(c.master_salt_len, 0);
    CHECK_EQ_INT(c.ssn_freq, 1);
}

static void expect_bad(const char *text, pqcoap_err want, const char *needle)
{
    pqcoap_oscore_conf c;
    char msg[128] = "untouched";
    pqcoap_err e = pqcoap_oscore_conf_parse(text, strlen(text), &c, msg, sizeof msg);
    CHECK_EQ_INT(e, want);
    CHECK(strstr(msg, needle) != NULL);
    if (strstr(msg, needle) == NULL)
        fprintf(stderr, "  got \"%s\", wanted \"%s\"\n", msg, needle);
    static const pqcoap_oscore_conf zero;
    CHECK(memcmp(&c, &zero, sizeof c) == 0); /* wiped */
}

#define BASE "master_secret,hex,0102\nsender_id,hex,01\nrecipient_id,hex,02\n"

static void test_bad(void)
{
    expect_bad(BASE "bogus,hex,00\n", PQCOAP_ERR_MALFORMED, "line 4: unknown keyword");
    expect_bad(BASE "master_salt,base64,00\n", PQCOAP_ERR_MALFORMED, "line 4: master_salt");
    expect_bad(BASE "master_salt,hex,0g\n", PQCOAP_ERR_MALFORMED, "line 4");
    expect_bad(BASE "master_salt,hex,012\n", PQCOAP_ERR_MALFORMED, "line 4");
    expect_bad(BASE "sender_id,hex,01\n", PQCOAP_ERR_MALFORMED, "line 4: keyword given twice");
    expect_bad(BASE "replay_window,integer,65\n", PQCOAP_ERR_MALFORMED, "replay_window");
    expect_bad(BASE "replay_window,integer,0\n", PQCOAP_ERR_MALFORMED, "replay_window");
    expect_bad(BASE "replay_window,integer,3x\n", PQCOAP_ERR_MALFORMED, "replay_window");
    expect_bad(BASE "rfc8613_b_2,bool,true\n", PQCOAP_ERR_MALFORMED, "not supported");
    expect_bad(BASE "rfc8613_b_1_2,bool,yes\n", PQCOAP_ERR_MALFORMED, "line 4");
    expect_bad(BASE "break_sender_key,bool,true\n", PQCOAP_ERR_MALFORMED, "not supported");
    expect_bad(BASE "aead_alg,text,ChaCha20/Poly1305\n", PQCOAP_ERR_MALFORMED, "aead_alg");
    expect_bad(BASE "aead_alg,integer,24\n", PQCOAP_ERR_UNSUPPORTED, "unsupported");
    expect_bad(BASE "just two,fields\n", PQCOAP_ERR_MALFORMED, "line 4: expected");
    expect_bad("sender_id,hex,01\nrecipient_id,hex,02\n", PQCOAP_ERR_MALFORMED,
               "master_secret is missing");
    expect_bad("master_secret,hex,01\nrecipient_id,hex,02\n", PQCOAP_ERR_MALFORMED,
               "sender_id is missing");
    expect_bad("master_secret,hex,01\nsender_id,hex,02\n", PQCOAP_ERR_MALFORMED,
               "recipient_id is missing");
    expect_bad("master_secret,hex,01\nsender_id,hex,01020304050607\nrecipient_id,hex,02\n"
               "aead_alg,integer,3\n", PQCOAP_ERR_MALFORMED, "longer than 6 bytes");
    expect_bad("master_secret,hex,01\nsender_id,hex,0102030405060708\nrecipient_id,hex,02\n",
               PQCOAP_ERR_MALFORMED, "line 2: sender_id");
    char big[PQCOAP_OSCORE_CONF_MAX + 2];
    memset(big, '#', sizeof big - 1);
    big[sizeof big - 1] = 0;
    expect_bad(big, PQCOAP_ERR_MALFORMED, "larger than");
}

int main(void)
{
    test_good();
    test_bad();
    return check_done();
}

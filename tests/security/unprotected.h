/* A raw UDP socket playing a server that answers without any protection, for the tests of
 * what a client makes of unprotected answers (modea_unsigned.c, tests/oscore). */
#ifndef PQCOAP_TEST_UNPROTECTED_H
#define PQCOAP_TEST_UNPROTECTED_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "check.h"
#include "pqcoap/client.h"

/** A UDP socket on 127.0.0.1, ephemeral port (into *port), for the fake server; -1 on
 *  failure. */
static inline int fake_server_socket(uint16_t *port)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a;
    socklen_t alen = sizeof a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd >= 0 && (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
                    getsockname(fd, (struct sockaddr *)&a, &alen) != 0)) {
        close(fd);
        fd = -1;
    }
    *port = ntohs(a.sin_port);
    return fd;
}

/** Starts a GET on `net` (a client whose security layer protects it) to the raw socket
 *  `fake`, answers it with a piggybacked `code` and a short diagnostic payload, unprotected,
 *  and returns the request's result. */
static inline pqcoap_err answer_unprotected(pqcoap_client *net, int fake, uint8_t code)
{
    pqcoap_req req = PQCOAP_REQ_INIT;
    uint32_t id;
    CHECK_EQ_INT(pqcoap_client_send(net, &req, NULL, &id), PQCOAP_OK);
    uint8_t d[2048];
    struct sockaddr_storage from;
    socklen_t from_len = sizeof from;
    pqcoap_completion done;
    int finished = 0;
    for (int polls = 0; polls < 100; polls++) { /* the client sends in its poll */
        ssize_t n = recvfrom(fake, d, sizeof d, MSG_DONTWAIT, (struct sockaddr *)&from,
                             &from_len);
        if (n >= 4) {
            static const char diag[] = "no such thing";
            size_t tkl = d[0] & 15u, len = 4 + tkl;
            d[0] = (uint8_t)(0x60 | tkl); /* ACK, same message ID and token */
            d[1] = code;
            d[len++] = 0xff;
            memcpy(d + len, diag, sizeof diag - 1);
            len += sizeof diag - 1;
            CHECK(sendto(fake, d, len, 0, (struct sockaddr *)&from, from_len) == (ssize_t)len);
        }
        CHECK_EQ_INT(pqcoap_client_poll(net, 50, &done, &finished), PQCOAP_OK);
        if (finished)
            break;
    }
    CHECK(finished);
    if (!finished)
        return PQCOAP_ERR_TIMEOUT;
    pqcoap_reply_free(&done.reply);
    return done.err;
}

#endif

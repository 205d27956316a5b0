/* Tests of the fault-injecting UDP proxy itself: a transparent relay loses nothing, a lossy
 * one drops and duplicates about as configured, and over IPv4 and IPv6 each of two clients
 * gets the answers to its own datagrams. */
#include "check.h"
#include "loopback.h"
#include "udp_proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Sends n numbered datagrams through a proxy with cfg; returns how many the sink received. */
static unsigned relay_count(const udp_proxy_cfg *cfg, unsigned n, udp_proxy_stats *st)
{
    uint16_t sink_port, src_port, proxy_port;
    int sink = loopback_socket(AF_INET, &sink_port), src = loopback_socket(AF_INET, &src_port);
    udp_proxy *p = udp_proxy_start(cfg, sink_port, &proxy_port);
    CHECK(p != NULL);
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(proxy_port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    for (unsigned i = 0; i < n; i++) {
        uint8_t d[4] = {(uint8_t)(i >> 8), (uint8_t)i, 0xab, 0xcd};
        sendto(src, d, sizeof d, 0, (struct sockaddr *)&to, sizeof to);
        if (i % 32 == 0)
            nanosleep(&(struct timespec){0, 1000000}, NULL);
    }
    unsigned got = 0;
    struct pollfd pfd = {.fd = sink, .events = POLLIN};
    while (poll(&pfd, 1, 300) > 0) {
        uint8_t d[64];
        if (recv(sink, d, sizeof d, 0) > 0)
            got++;
    }
    udp_proxy_stop(p, st);
    close(sink);
    close(src);
    return got;
}

/* Through a transparent proxy on `family`'s loopback, two clients each send `n` datagrams
 * tagged with their number; the target answers each from the address it came from. Every
 * answer must come back to the client that sent the datagram, and nothing else; the proxy
 * holds each datagram as the last request once the target got it. */
static void two_clients(int family, unsigned n)
{
    uint16_t target_port, port[2], proxy_port;
    int target = loopback_socket(family, &target_port);
    int src[2] = {loopback_socket(family, &port[0]), loopback_socket(family, &port[1])};
    udp_proxy_cfg clean = {0};
    udp_proxy *p = udp_proxy_start_af(&clean, family, target_port, &proxy_port);
    CHECK(p != NULL);
    if (!p)
        return;
    struct sockaddr_storage to;
    socklen_t tl = loopback_addr(family, proxy_port, &to);
    unsigned got[2] = {0, 0}, wrong = 0;
    for (unsigned i = 0; i < n; i++) {
        for (unsigned k = 0; k < 2; k++) {
            uint8_t d[2] = {(uint8_t)k, (uint8_t)i};
            sendto(src[k], d, sizeof d, 0, (struct sockaddr *)&to, tl);
            /* the target answers where the datagram came from: the proxy's upstream */
            struct pollfd tp = {.fd = target, .events = POLLIN};
            if (poll(&tp, 1, 2000) == 1) {
                struct sockaddr_storage from;
                socklen_t fl = sizeof from;
                uint8_t in[16];
                ssize_t len = recvfrom(target, in, sizeof in, 0, (struct sockaddr *)&from, &fl);
                if (len > 0)
                    sendto(target, in, (size_t)len, 0, (struct sockaddr *)&from, fl);
            }
            uint8_t seen[16];
            if (udp_proxy_last_request(p, seen, sizeof seen) != sizeof d ||
                memcmp(seen, d, sizeof d) != 0)
                wrong++;
            struct pollfd sp = {.fd = src[k], .events = POLLIN};
            if (poll(&sp, 1, 2000) == 1) {
                uint8_t in[16];
                ssize_t len = recv(src[k], in, sizeof in, 0);
                if (len == 2 && in[0] == k && in[1] == (uint8_t)i)
                    got[k]++;
                else
                    wrong++;
            }
        }
    }
    udp_proxy_stats st;
    udp_proxy_stop(p, &st);
    CHECK_EQ_INT(got[0], n);
    CHECK_EQ_INT(got[1], n);
    CHECK_EQ_INT(wrong, 0);
    CHECK_EQ_INT(st.forwarded, 4 * n); /* both ways */
    close(target);
    close(src[0]);
    close(src[1]);
}

int main(void)
{
    two_clients(AF_INET, 20);
    two_clients(AF_INET6, 20);
    /* Another family is refused. */
    uint16_t unused;
    udp_proxy_cfg none = {0};
    CHECK(udp_proxy_start_af(&none, AF_UNIX, 5683, &unused) == NULL);

    udp_proxy_cfg clean = {0};
    udp_proxy_stats st;
    CHECK_EQ_INT(relay_count(&clean, 200, &st), 200);
    CHECK_EQ_INT(st.forwarded, 200);

    udp_proxy_cfg lossy = {.drop_pct = 30, .dup_pct = 10, .reorder_pct = 10, .delay_max_ms = 5,
                           .seed = 42};
    unsigned got = relay_count(&lossy, 200, &st);
    CHECK(st.dropped > 20 && st.dropped < 100);
    CHECK(st.duplicated > 0 && st.reordered > 0);
    CHECK_EQ_INT(got, 200 - st.dropped + st.duplicated);
    return check_done();
}

/* Tests of the fault-injecting UDP proxy itself: a transparent relay loses nothing, and a
 * lossy one drops and duplicates about as configured. */
#include "check.h"
#include "udp_proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int udp_socket(uint16_t *port)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    bind(fd, (struct sockaddr *)&a, sizeof a);
    getsockname(fd, (struct sockaddr *)&a, &al);
    *port = ntohs(a.sin_port);
    return fd;
}

/* Sends n numbered datagrams through a proxy with cfg; returns how many the sink received. */
static unsigned relay_count(const udp_proxy_cfg *cfg, unsigned n, udp_proxy_stats *st)
{
    uint16_t sink_port, src_port, proxy_port;
    int sink = udp_socket(&sink_port), src = udp_socket(&src_port);
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

int main(void)
{
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

/* Loopback addresses of either family for the tests (see loopback.h). */
#include "loopback.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <unistd.h>

socklen_t loopback_addr(int family, uint16_t port, struct sockaddr_storage *a)
{
    memset(a, 0, sizeof *a);
    if (family == AF_INET6) {
        struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)a;
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons(port);
        a6->sin6_addr = in6addr_loopback;
        return sizeof *a6;
    }
    struct sockaddr_in *a4 = (struct sockaddr_in *)a;
    a4->sin_family = AF_INET;
    a4->sin_port = htons(port);
    a4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return sizeof *a4;
}

uint16_t loopback_port(const struct sockaddr_storage *a)
{
    if (a->ss_family == AF_INET6)
        return ntohs(((const struct sockaddr_in6 *)a)->sin6_port);
    return ntohs(((const struct sockaddr_in *)a)->sin_port);
}

const char *loopback_bind(int family)
{
    return family == AF_INET6 ? "::1" : "127.0.0.1";
}

const char *loopback_uri_host(int family)
{
    return family == AF_INET6 ? "[::1]" : "127.0.0.1";
}

const char *loopback_name(int family)
{
    return family == AF_INET6 ? "ipv6" : "ipv4";
}

int loopback_socket(int family, uint16_t *port)
{
    struct sockaddr_storage a;
    socklen_t al = loopback_addr(family, 0, &a);
    int fd = socket(family, SOCK_DGRAM, 0);
    if (fd < 0)
        return -1;
    if (bind(fd, (struct sockaddr *)&a, al) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &al) != 0) {
        close(fd);
        return -1;
    }
    if (port)
        *port = loopback_port(&a);
    return fd;
}

/* Loopback addresses of either family for the tests: 127.0.0.1 and ::1 as socket addresses,
 * bind addresses and URI hosts, and UDP sockets bound to them. */
#ifndef PQCOAP_TEST_LOOPBACK_H
#define PQCOAP_TEST_LOOPBACK_H

#include <stdint.h>
#include <sys/socket.h>

/** The loopback address of `family` (AF_INET: 127.0.0.1, AF_INET6: ::1) with `port` in *a;
 *  returns its length. */
socklen_t loopback_addr(int family, uint16_t port, struct sockaddr_storage *a);

/** The port of an AF_INET or AF_INET6 address. */
uint16_t loopback_port(const struct sockaddr_storage *a);

/** "127.0.0.1" or "::1": the address a server of `family` binds. */
const char *loopback_bind(int family);

/** "127.0.0.1" or "[::1]": the host of a coap:// URI of `family`. */
const char *loopback_uri_host(int family);

/** "ipv4" or "ipv6", for messages. */
const char *loopback_name(int family);

/** A UDP socket bound to the loopback address of `family` on an ephemeral port (returned in
 *  *port, which may be NULL); -1 on failure. */
int loopback_socket(int family, uint16_t *port);

#endif

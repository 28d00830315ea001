/* args: egressctl's command-line values, checked and put in canonical
 * form before they reach egressd: addresses through inet_pton/inet_ntop,
 * ports 0-65535, protocols by name or number, policy names. Parsers
 * return NULL when the text is good, else a reason for the user. */
#ifndef EGRESS_EGRESSCTL_ARGS_H
#define EGRESS_EGRESSCTL_ARGS_H

#include <arpa/inet.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ARGS_TEXT_MAX 256	/* longest address, endpoint or flow accepted */

struct cli_addr {
	int family;				/* AF_INET or AF_INET6 */
	char text[INET6_ADDRSTRLEN];		/* canonical, no brackets */
};

struct cli_endpoint {
	struct cli_addr addr;
	bool has_port, has_proto;
	uint16_t port;
	uint8_t proto;
};

/* Decimal digits only, no sign or space, value <= max. */
bool args_parse_uint(const char *text, unsigned long max, unsigned long *out);
/* A literal IPv4 or IPv6 address. */
const char *args_parse_addr(const char *text, struct cli_addr *out);
/* ADDR or ADDR/LEN, written canonically into out ("2001:db8::/32"). */
const char *args_parse_prefix(const char *text, char *out, size_t cap);
/* tcp, udp, icmp, icmpv6 (icmp6, ipv6-icmp), gre, esp, ah, sctp, or
 * 0-255. */
const char *args_parse_proto(const char *text, uint8_t *out);
/* How a protocol travels in a request: "tcp", "udp", "icmp" (IPv4 only;
 * ICMP towards an IPv6 address is sent as 58), else its number. */
const char *args_proto_wire(uint8_t proto, int family, char *buf, size_t cap);
const char *args_proto_name(uint8_t proto, char *buf, size_t cap);

/* ADDR, ADDR:PORT (IPv4), IPV6, [IPV6], [IPV6]:PORT; then /PROTO when
 * with_proto. A bare "icmp" towards IPv6 becomes ICMPv6. */
const char *args_parse_endpoint(const char *text, bool with_proto, struct cli_endpoint *out);
/* SRC:SPORT-DST:DPORT/PROTO, both addresses of one family, every part
 * required; the protocol is left in dst->proto. */
const char *args_parse_flow(const char *text, struct cli_endpoint *src, struct cli_endpoint *dst);

/* A policy name: [A-Za-z0-9_.-]{1,63}. */
bool args_valid_name(const char *text);
/* A DNS name as policies and SNI carry it: [A-Za-z0-9_.*-]{1,253}. */
bool args_valid_domain(const char *text);
/* An interface name as egressd accepts it: 1-15 bytes, no '/', no
 * whitespace. */
bool args_valid_ifname(const char *text);

#endif

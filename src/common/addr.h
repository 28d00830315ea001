/* addr: IP addresses and prefixes as values, the one representation the
 * policy, the flow table, the routing engine and the control socket share.
 * IPv4 lives in the first 4 bytes of a[]; the rest is zero, so two equal
 * addresses are equal byte for byte and hash the same. */
#ifndef EGRESS_ADDR_H
#define EGRESS_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct ip_addr {
	uint8_t family;		/* AF_INET or AF_INET6; 0 = none */
	uint8_t a[16];
};

struct ip_prefix {
	struct ip_addr addr;	/* host bits are zero after parsing */
	uint8_t len;		/* 0..32 or 0..128 */
};

#define IP_ADDR_STRLEN   46	/* INET6_ADDRSTRLEN */
#define IP_PREFIX_STRLEN 50

static inline size_t ip_addr_bytes(int family)
{
	return family == AF_INET6 ? 16 : 4;
}

static inline size_t ip_addr_bits(int family)
{
	return family == AF_INET6 ? 128 : 32;
}

void ip_addr_set(struct ip_addr *out, int family, const uint8_t *bytes);
bool ip_addr_equal(const struct ip_addr *a, const struct ip_addr *b);

/* Literal addresses only ("192.0.2.1", "2001:db8::1"). */
bool ip_addr_parse(const char *text, struct ip_addr *out);
/* "203.0.113.0/24", "2001:db8::/32"; a bare address is a host prefix.
 * Rejects set host bits when strict is true. */
bool ip_prefix_parse(const char *text, struct ip_prefix *out, bool strict);
bool ip_prefix_contains(const struct ip_prefix *p, const struct ip_addr *a);

void ip_addr_format(const struct ip_addr *a, char *out, size_t cap);
void ip_prefix_format(const struct ip_prefix *p, char *out, size_t cap);

#endif

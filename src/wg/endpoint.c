/* endpoint: comparing, printing and parsing underlay addresses, and the
 * address bytes cookies and the rate limiter key on. Text forms follow
 * wg(8): "192.0.2.1:51820", "[2001:db8::1]:51820", "[fe80::1%eth0]:51820".
 * Only literal addresses are parsed; name resolution is the caller's job. */
#include "wg/endpoint.h"

#include <arpa/inet.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool wg_sockaddr_equal(const union wg_sockaddr *a, const union wg_sockaddr *b)
{
	if (a->sa.sa_family != b->sa.sa_family)
		return false;
	if (a->sa.sa_family == AF_INET)
		return a->in.sin_port == b->in.sin_port &&
		       a->in.sin_addr.s_addr == b->in.sin_addr.s_addr;
	if (a->sa.sa_family == AF_INET6)
		return a->in6.sin6_port == b->in6.sin6_port &&
		       a->in6.sin6_scope_id == b->in6.sin6_scope_id &&
		       memcmp(&a->in6.sin6_addr, &b->in6.sin6_addr,
			      sizeof(a->in6.sin6_addr)) == 0;
	return false;
}

size_t wg_sockaddr_cookie_bytes(const union wg_sockaddr *a, uint8_t out[18])
{
	/* Ports are already big endian in a sockaddr. */
	if (a->sa.sa_family == AF_INET) {
		memcpy(out, &a->in.sin_addr, 4);
		memcpy(out + 4, &a->in.sin_port, 2);
		return 6;
	}
	if (a->sa.sa_family == AF_INET6) {
		memcpy(out, &a->in6.sin6_addr, 16);
		memcpy(out + 16, &a->in6.sin6_port, 2);
		return 18;
	}
	return 0;
}

/* Decimal 1..65535, digits only: no sign, no spaces, no service names. */
static bool parse_port(const char *s, uint16_t *port)
{
	unsigned long v = 0;

	if (!*s || strlen(s) > 5)
		return false;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return false;
		v = v * 10 + (unsigned long)(*p - '0');
	}
	if (v == 0 || v > 65535)
		return false;
	*port = (uint16_t)v;
	return true;
}

/* A zone is an interface name or a number, as getaddrinfo accepts it. */
static bool parse_scope(const char *zone, uint32_t *scope)
{
	char *end;
	unsigned long v;

	if (!*zone)
		return false;
	v = strtoul(zone, &end, 10);
	if (*end == '\0' && zone[0] >= '0' && zone[0] <= '9' && v <= UINT32_MAX) {
		*scope = (uint32_t)v;
		return true;
	}
	*scope = if_nametoindex(zone);
	return *scope != 0;
}

static bool parse_in6(const char *host, size_t hostlen, const char *port,
		      union wg_sockaddr *out)
{
	char buf[INET6_ADDRSTRLEN + IF_NAMESIZE + 2];
	struct sockaddr_in6 in6 = { .sin6_family = AF_INET6 };
	uint16_t p;
	char *zone;

	if (hostlen == 0 || hostlen >= sizeof(buf) || !parse_port(port, &p))
		return false;
	memcpy(buf, host, hostlen);
	buf[hostlen] = '\0';
	zone = strchr(buf, '%');
	if (zone) {
		*zone++ = '\0';
		if (!parse_scope(zone, &in6.sin6_scope_id))
			return false;
	}
	if (inet_pton(AF_INET6, buf, &in6.sin6_addr) != 1)
		return false;
	in6.sin6_port = htons(p);
	out->in6 = in6;
	return true;
}

static bool parse_in4(const char *host, size_t hostlen, const char *port,
		      union wg_sockaddr *out)
{
	char buf[INET_ADDRSTRLEN];
	struct sockaddr_in in = { .sin_family = AF_INET };
	uint16_t p;

	if (hostlen == 0 || hostlen >= sizeof(buf) || !parse_port(port, &p))
		return false;
	memcpy(buf, host, hostlen);
	buf[hostlen] = '\0';
	/* inet_pton takes dotted quads only, no "1.2.3" shorthands. */
	if (inet_pton(AF_INET, buf, &in.sin_addr) != 1)
		return false;
	in.sin_port = htons(p);
	out->in = in;
	return true;
}

bool wg_sockaddr_parse(const char *text, union wg_sockaddr *out)
{
	const char *colon, *close;
	union wg_sockaddr tmp;

	if (!text)
		return false;
	memset(&tmp, 0, sizeof(tmp));
	if (text[0] == '[') {
		close = strchr(text, ']');
		if (!close || close[1] != ':' ||
		    !parse_in6(text + 1, (size_t)(close - text - 1), close + 2, &tmp))
			return false;
	} else {
		/* Unbracketed: exactly one colon, so IPv6 needs brackets as in wg. */
		colon = strchr(text, ':');
		if (!colon || strchr(colon + 1, ':') ||
		    !parse_in4(text, (size_t)(colon - text), colon + 1, &tmp))
			return false;
	}
	*out = tmp;
	return true;
}

static void format_in6(const struct sockaddr_in6 *in6, char *out, size_t cap)
{
	char addr[INET6_ADDRSTRLEN], zone[IF_NAMESIZE + 12] = "";
	char ifname[IF_NAMESIZE];

	inet_ntop(AF_INET6, &in6->sin6_addr, addr, sizeof(addr));
	if (in6->sin6_scope_id) {
		if (if_indextoname(in6->sin6_scope_id, ifname))
			snprintf(zone, sizeof(zone), "%%%s", ifname);
		else
			snprintf(zone, sizeof(zone), "%%%u", in6->sin6_scope_id);
	}
	snprintf(out, cap, "[%s%s]:%u", addr, zone, ntohs(in6->sin6_port));
}

void wg_sockaddr_format(const union wg_sockaddr *a, char *out, size_t cap)
{
	char addr[INET_ADDRSTRLEN];

	if (!cap)
		return;
	if (a->sa.sa_family == AF_INET) {
		inet_ntop(AF_INET, &a->in.sin_addr, addr, sizeof(addr));
		snprintf(out, cap, "%s:%u", addr, ntohs(a->in.sin_port));
	} else if (a->sa.sa_family == AF_INET6) {
		format_in6(&a->in6, out, cap);
	} else {
		snprintf(out, cap, "(none)");
	}
}

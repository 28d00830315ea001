/* endpoint: where a peer is reached on the underlay. Besides the remote
 * address it remembers the local address the peer last reached us at, so
 * replies leave from that address (sticky source, as the Linux driver does):
 * with several underlay links per node this is what keeps a path a path. */
#ifndef EGRESS_WG_ENDPOINT_H
#define EGRESS_WG_ENDPOINT_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

union wg_sockaddr {
	struct sockaddr sa;
	struct sockaddr_in in;
	struct sockaddr_in6 in6;
};

struct wg_endpoint {
	union wg_sockaddr addr;		/* remote; sa_family AF_UNSPEC = none */
	union {
		struct in_addr src4;
		struct in6_addr src6;
	};
	int src_ifindex;		/* 0 = let the kernel choose */
	bool has_src;
};

static inline bool wg_endpoint_is_set(const struct wg_endpoint *e)
{
	return e->addr.sa.sa_family == AF_INET || e->addr.sa.sa_family == AF_INET6;
}

static inline socklen_t wg_sockaddr_len(const union wg_sockaddr *a)
{
	return a->sa.sa_family == AF_INET6 ? sizeof(a->in6) : sizeof(a->in);
}

/* Equal remote address and port. */
bool wg_sockaddr_equal(const union wg_sockaddr *a, const union wg_sockaddr *b);

/* The bytes that identify a remote for cookies and rate limiting:
 * address then port (big endian). Returns the length written (6 or 18). */
size_t wg_sockaddr_cookie_bytes(const union wg_sockaddr *a, uint8_t out[18]);

/* Text forms as wg(8) shows them: 192.0.2.1:51820, [2001:db8::1]:51820.
 * Parse accepts literal addresses only (no DNS) and returns false with no
 * change to *out on anything else. */
bool wg_sockaddr_parse(const char *text, union wg_sockaddr *out);
void wg_sockaddr_format(const union wg_sockaddr *a, char *out, size_t cap);

#endif

/* config: growing the peer and allowed-IP arrays of a parsed configuration,
 * and freeing it. The peer array holds preshared keys, so it never goes
 * through realloc (which could leave a copy behind): it is copied into a
 * new block and the old one wiped. */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <openssl/crypto.h>

#include "wg/config.h"

/* Room for n + 1 elements of size sz, doubling from 4; false on overflow. */
static bool grow_cap(size_t n, size_t cap, size_t sz, size_t *newcap)
{
	size_t c = cap ? cap : 4;

	while (c <= n) {
		if (c > SIZE_MAX / 2)
			return false;
		c *= 2;
	}
	if (c > SIZE_MAX / sz)
		return false;
	*newcap = c;
	return true;
}

struct wg_peer_conf *wg_device_conf_add_peer(struct wg_device_conf *c)
{
	struct wg_peer_conf *p;

	if (c->n_peers == c->cap_peers) {
		size_t cap;

		if (!grow_cap(c->n_peers, c->cap_peers, sizeof(*p), &cap))
			return NULL;
		p = malloc(cap * sizeof(*p));
		if (!p)
			return NULL;
		if (c->peers) {
			memcpy(p, c->peers, c->n_peers * sizeof(*p));
			OPENSSL_cleanse(c->peers, c->cap_peers * sizeof(*p));
			free(c->peers);
		}
		c->peers = p;
		c->cap_peers = cap;
	}
	p = &c->peers[c->n_peers++];
	memset(p, 0, sizeof(*p));
	return p;
}

bool wg_peer_conf_add_allowed_ip(struct wg_peer_conf *p, const struct wg_allowed_ip *ip)
{
	if (p->n_allowed_ips == p->cap_allowed_ips) {
		struct wg_allowed_ip *a;
		size_t cap;

		if (!grow_cap(p->n_allowed_ips, p->cap_allowed_ips, sizeof(*a), &cap))
			return false;
		a = realloc(p->allowed_ips, cap * sizeof(*a));
		if (!a)
			return false;
		p->allowed_ips = a;
		p->cap_allowed_ips = cap;
	}
	p->allowed_ips[p->n_allowed_ips++] = *ip;
	return true;
}

/* Leaves *c all zero (OPENSSL_cleanse writes zeros): freeing it again, or
 * reusing it, is safe. */
void wg_device_conf_free(struct wg_device_conf *c)
{
	for (size_t i = 0; i < c->n_peers; i++)
		free(c->peers[i].allowed_ips);
	if (c->peers) {
		OPENSSL_cleanse(c->peers, c->cap_peers * sizeof(*c->peers));
		free(c->peers);
	}
	OPENSSL_cleanse(c, sizeof(*c));
}

void wg_allowed_ip_canonicalize(struct wg_allowed_ip *ip)
{
	unsigned len = ip->family == AF_INET ? 4 : 16;
	unsigned cidr = ip->cidr > len * 8 ? len * 8 : ip->cidr;

	for (unsigned i = 0; i < 16; i++) {
		unsigned bits = cidr > i * 8 ? cidr - i * 8 : 0;

		if (i >= len)
			ip->addr[i] = 0;
		else if (bits < 8)
			ip->addr[i] &= (uint8_t)(0xff00u >> bits);
	}
}

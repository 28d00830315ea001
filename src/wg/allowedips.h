/* allowedips: cryptokey routing. A binary trie per address family mapping
 * prefixes to peers, longest-prefix match; used in both directions (which
 * peer gets an outgoing packet; may this peer send from that source). */
#ifndef EGRESS_WG_ALLOWEDIPS_H
#define EGRESS_WG_ALLOWEDIPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct allowedips_node;

struct allowedips {
	struct allowedips_node *root4;
	struct allowedips_node *root6;
	uint64_t seq;		/* bumped on every change */
};

void allowedips_init(struct allowedips *t);
void allowedips_free(struct allowedips *t);

/* Maps family/addr/cidr to peer, replacing any owner (cidr <= 32 or 128;
 * host bits are ignored). Returns 0 or -ENOMEM / -EINVAL. */
int allowedips_insert(struct allowedips *t, int family, const uint8_t *addr,
		      uint8_t cidr, void *peer);
/* Removes the exact prefix if peer owns it. Returns 0 or -ENOENT. */
int allowedips_remove(struct allowedips *t, int family, const uint8_t *addr,
		      uint8_t cidr, void *peer);
void allowedips_remove_by_peer(struct allowedips *t, void *peer);
/* Longest-prefix match; NULL when nothing covers addr. */
void *allowedips_lookup(const struct allowedips *t, int family, const uint8_t *addr);

/* Calls fn for every prefix peer owns, in a stable order; stop by
 * returning false. */
typedef bool (*allowedips_walk_fn)(void *ctx, int family, const uint8_t *addr,
				   uint8_t cidr);
void allowedips_walk_by_peer(const struct allowedips *t, void *peer,
			     allowedips_walk_fn fn, void *ctx);

#endif

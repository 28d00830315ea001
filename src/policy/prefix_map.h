/* prefix_map: "which sets contain this address" in one lookup. The
 * prefixes (nested or disjoint, in any number of sets) are flattened into
 * sorted disjoint ranges; each range carries the interned union of the
 * sets of every prefix that covers it, which is what a longest-prefix
 * match whose nodes carry their ancestors' sets would answer. A lookup is
 * one binary search. In most-specific mode a range carries the sets of the
 * longest covering prefix only (destination region: the most specific
 * region prefix wins). Immutable once built. */
#ifndef EGRESS_POLICY_PREFIX_MAP_H
#define EGRESS_POLICY_PREFIX_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/addr.h"
#include "policy/setlist.h"

struct policy_arena;

struct prefix_map_entry {
	struct ip_prefix prefix;
	uint32_t value;
};

struct prefix_map {
	uint32_t *v4_starts;		/* ascending */
	uint32_t *v4_lists;		/* list id from v4_starts[i] on */
	size_t n_v4;
	unsigned __int128 *v6_starts;
	uint32_t *v6_lists;
	size_t n_v6;
};

/* Sorts entries in place. False on ENOMEM. */
bool policy_prefix_map_build(struct prefix_map *m, struct prefix_map_entry *entries,
			     size_t n, bool most_specific, struct setlists *lists,
			     struct policy_arena *arena);
/* The list id for a (SETLIST_EMPTY when no prefix covers it). */
uint32_t policy_prefix_map_lookup(const struct prefix_map *m, const struct ip_addr *a);

#endif

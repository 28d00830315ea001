/* setlist: interned sorted lists of indices (destination sets, regions).
 * The prefix map, the country table and the domain table all answer with a
 * list id; equal lists share one id, so half a million prefixes in the same
 * few sets cost one list each. Id 0 is the empty list. */
#ifndef EGRESS_POLICY_SETLIST_H
#define EGRESS_POLICY_SETLIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SETLIST_EMPTY 0u
#define SETLIST_ERROR UINT32_MAX

struct setlists {
	uint32_t *items;
	size_t n_items, cap_items;
	uint32_t *off;			/* list i is items[off[i] .. off[i + 1]) */
	size_t n_lists, cap_lists;
	uint32_t *slots;		/* intern table: list id + 1, 0 = empty */
	size_t mask;
};

bool policy_setlists_init(struct setlists *s);
void policy_setlists_free(struct setlists *s);
/* items must be sorted and unique. SETLIST_ERROR on ENOMEM. */
uint32_t policy_setlist_intern(struct setlists *s, const uint32_t *items, size_t n);
/* The union of list a and the sorted unique items; SETLIST_ERROR on ENOMEM. */
uint32_t policy_setlist_union(struct setlists *s, uint32_t a, const uint32_t *items,
			      size_t n);

static inline const uint32_t *policy_setlist_items(const struct setlists *s, uint32_t id,
						   size_t *n)
{
	*n = s->off[id + 1] - s->off[id];
	return s->items + s->off[id];
}

/* Sorts and removes duplicates; returns the new count. */
size_t policy_sort_unique(uint32_t *v, size_t n);
/* Whether two sorted lists share an element. */
bool policy_sorted_intersects(const uint32_t *a, size_t na, const uint32_t *b, size_t nb);
bool policy_sorted_contains(const uint32_t *a, size_t n, uint32_t x);

#endif

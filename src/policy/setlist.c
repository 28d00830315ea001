/* setlist: lists live back to back in one array; the intern table hashes
 * their contents. */
#include "policy/setlist.h"

#include <stdlib.h>
#include <string.h>

#include "policy/strmap.h"

bool policy_setlists_init(struct setlists *s)
{
	memset(s, 0, sizeof(*s));
	s->off = calloc(16, sizeof(*s->off));
	s->slots = calloc(64, sizeof(*s->slots));
	s->items = calloc(64, sizeof(*s->items));	/* never NULL: items + 0 is valid */
	if (!s->off || !s->slots || !s->items) {
		policy_setlists_free(s);
		return false;
	}
	s->cap_lists = 15;	/* off has one more entry than lists */
	s->cap_items = 64;
	s->mask = 63;
	s->n_lists = 1;		/* the empty list */
	return true;
}

void policy_setlists_free(struct setlists *s)
{
	free(s->items);
	free(s->off);
	free(s->slots);
	memset(s, 0, sizeof(*s));
}

static bool setlist_equal(const struct setlists *s, uint32_t id, const uint32_t *items,
			  size_t n)
{
	size_t len;
	const uint32_t *v = policy_setlist_items(s, id, &len);

	return len == n && !memcmp(v, items, n * sizeof(*items));
}

static bool setlist_rehash(struct setlists *s)
{
	size_t cap = (s->mask + 1) * 2;
	uint32_t *slots = calloc(cap, sizeof(*slots));

	if (!slots)
		return false;
	for (uint32_t id = 1; id < s->n_lists; id++) {
		size_t len;
		const uint32_t *v = policy_setlist_items(s, id, &len);
		size_t i = policy_strmap_hash(v, len * sizeof(*v)) & (cap - 1);

		while (slots[i])
			i = (i + 1) & (cap - 1);
		slots[i] = id + 1;
	}
	free(s->slots);
	s->slots = slots;
	s->mask = cap - 1;
	return true;
}

static bool setlist_reserve(struct setlists *s, size_t n)
{
	if (s->n_items + n > s->cap_items) {
		size_t cap = s->cap_items;
		uint32_t *v;

		while (cap < s->n_items + n)
			cap *= 2;
		v = realloc(s->items, cap * sizeof(*v));
		if (!v)
			return false;
		s->items = v;
		s->cap_items = cap;
	}
	if (s->n_lists == s->cap_lists) {
		uint32_t *off = realloc(s->off, (s->cap_lists * 2 + 1) * sizeof(*off));

		if (!off)
			return false;
		s->off = off;
		s->cap_lists *= 2;
	}
	return (s->n_lists + 1) * 2 <= s->mask + 1 || setlist_rehash(s);
}

uint32_t policy_setlist_intern(struct setlists *s, const uint32_t *items, size_t n)
{
	size_t i;

	if (n == 0)
		return SETLIST_EMPTY;
	i = policy_strmap_hash(items, n * sizeof(*items)) & s->mask;
	for (; s->slots[i]; i = (i + 1) & s->mask)
		if (setlist_equal(s, s->slots[i] - 1, items, n))
			return s->slots[i] - 1;
	if (s->n_lists >= UINT32_MAX - 2 || !setlist_reserve(s, n))
		return SETLIST_ERROR;
	/* The table may have been rehashed: find the free slot again. */
	i = policy_strmap_hash(items, n * sizeof(*items)) & s->mask;
	while (s->slots[i])
		i = (i + 1) & s->mask;
	memcpy(s->items + s->n_items, items, n * sizeof(*items));
	s->n_items += n;
	s->off[s->n_lists + 1] = (uint32_t)s->n_items;
	s->slots[i] = (uint32_t)s->n_lists + 1;
	return (uint32_t)s->n_lists++;
}

uint32_t policy_setlist_union(struct setlists *s, uint32_t a, const uint32_t *items,
			      size_t n)
{
	size_t na, k = 0, i = 0, j = 0;
	const uint32_t *va = policy_setlist_items(s, a, &na);
	uint32_t *tmp, id;

	if (n == 0)
		return a;
	tmp = malloc((na + n) * sizeof(*tmp));
	if (!tmp)
		return SETLIST_ERROR;
	while (i < na || j < n) {
		if (j == n || (i < na && va[i] < items[j]))
			tmp[k++] = va[i++];
		else if (i == na || items[j] < va[i])
			tmp[k++] = items[j++];
		else
			tmp[k++] = va[i++], j++;
	}
	id = policy_setlist_intern(s, tmp, k);
	free(tmp);
	return id;
}

static int setlist_cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

size_t policy_sort_unique(uint32_t *v, size_t n)
{
	size_t k = 0;

	if (n < 2)
		return n;
	qsort(v, n, sizeof(*v), setlist_cmp_u32);
	for (size_t i = 0; i < n; i++)
		if (k == 0 || v[k - 1] != v[i])
			v[k++] = v[i];
	return k;
}

bool policy_sorted_contains(const uint32_t *a, size_t n, uint32_t x)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (a[mid] < x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && a[lo] == x;
}

bool policy_sorted_intersects(const uint32_t *a, size_t na, const uint32_t *b, size_t nb)
{
	if (na > nb)
		return policy_sorted_intersects(b, nb, a, na);
	for (size_t i = 0; i < na; i++)
		if (policy_sorted_contains(b, nb, a[i]))
			return true;
	return false;
}

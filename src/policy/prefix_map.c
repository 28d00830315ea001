/* prefix_map: built by one sweep over the prefixes sorted by (start,
 * length): a stack holds the prefixes that cover the current position
 * (at most 129 deep, since each is inside the one below), and a boundary
 * is written wherever the covering set changes. Keys are the address as a
 * big-endian number; IPv4 and IPv6 are built separately. */
#include "policy/prefix_map.h"

#include <stdlib.h>
#include <string.h>

#include "policy/arena.h"

typedef unsigned __int128 u128;

struct pm_bound {
	u128 start;
	uint32_t list;
};

struct pm_open {
	u128 end;
	uint32_t list;
};

struct pm_sweep {
	struct pm_bound *v;
	size_t n, cap;
	struct pm_open stack[130];
	size_t depth;
	struct setlists *lists;
	bool ok;
};

static u128 pm_key(const struct ip_addr *a)
{
	size_t bytes = ip_addr_bytes(a->family);
	u128 k = 0;

	for (size_t i = 0; i < bytes; i++)
		k = k << 8 | a->a[i];
	return k;
}

static u128 pm_host_mask(unsigned bits, unsigned len)
{
	return len == 0 && bits == 128 ? ~(u128)0 : ((u128)1 << (bits - len)) - 1;
}

static int pm_entry_cmp(const void *a, const void *b)
{
	const struct prefix_map_entry *x = a, *y = b;
	int c = memcmp(x->prefix.addr.a, y->prefix.addr.a, 16);

	if (c)
		return c;
	if (x->prefix.len != y->prefix.len)
		return x->prefix.len < y->prefix.len ? -1 : 1;
	return x->value < y->value ? -1 : x->value > y->value;
}

/* A boundary at pos; a later one at the same pos replaces it. */
static void pm_emit(struct pm_sweep *s, u128 pos, uint32_t list)
{
	if (s->n && s->v[s->n - 1].start == pos) {
		s->v[s->n - 1].list = list;
		return;
	}
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		struct pm_bound *v = realloc(s->v, cap * sizeof(*v));

		if (!v) {
			s->ok = false;
			return;
		}
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = (struct pm_bound){ pos, list };
}

static uint32_t pm_top(const struct pm_sweep *s)
{
	return s->depth ? s->stack[s->depth - 1].list : SETLIST_EMPTY;
}

/* Closes every open prefix that ends before pos (all of them: pos NULL). */
static void pm_close(struct pm_sweep *s, const u128 *pos, u128 max)
{
	while (s->depth && (!pos || s->stack[s->depth - 1].end < *pos)) {
		u128 end = s->stack[--s->depth].end;

		if (end != max)
			pm_emit(s, end + 1, pm_top(s));
	}
}

/* One prefix with its sorted values own[0..n). */
static void pm_open(struct pm_sweep *s, u128 start, u128 end, const uint32_t *own,
		    size_t n, bool most_specific, u128 max)
{
	uint32_t list;

	pm_close(s, &start, max);
	if (most_specific)
		list = policy_setlist_intern(s->lists, own, n);
	else
		list = policy_setlist_union(s->lists, pm_top(s), own, n);
	if (list == SETLIST_ERROR || s->depth == 130) {
		s->ok = false;
		return;
	}
	s->stack[s->depth++] = (struct pm_open){ end, list };
	pm_emit(s, start, list);
}

/* Sweeps entries of one family (sorted) into boundaries. */
static bool pm_sweep_family(struct pm_sweep *s, const struct prefix_map_entry *e, size_t n,
			    unsigned bits, bool most_specific)
{
	u128 max = pm_host_mask(bits, 0);
	uint32_t *own = malloc((n ? n : 1) * sizeof(*own));

	if (!own)
		return false;
	for (size_t i = 0; i < n && s->ok;) {
		u128 start = pm_key(&e[i].prefix.addr);
		unsigned len = e[i].prefix.len;
		size_t k = 0;

		for (; i < n && e[i].prefix.len == len && pm_key(&e[i].prefix.addr) == start; i++)
			if (k == 0 || own[k - 1] != e[i].value)
				own[k++] = e[i].value;
		pm_open(s, start, start | pm_host_mask(bits, len), own, k, most_specific, max);
	}
	pm_close(s, NULL, max);
	free(own);
	return s->ok;
}

/* Drops boundaries that repeat the list before them. */
static size_t pm_coalesce(struct pm_bound *v, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		uint32_t prev = k ? v[k - 1].list : SETLIST_EMPTY;

		if (v[i].list != prev)
			v[k++] = v[i];
	}
	return k;
}

static bool pm_store(struct prefix_map *m, const struct pm_bound *v, size_t n, bool v6,
		     struct policy_arena *arena)
{
	uint32_t *lists = policy_arena_alloc(arena, n, sizeof(*lists));
	void *starts = policy_arena_alloc(arena, n, v6 ? sizeof(u128) : sizeof(uint32_t));

	if (!lists || !starts)
		return false;
	for (size_t i = 0; i < n; i++) {
		lists[i] = v[i].list;
		if (v6)
			((u128 *)starts)[i] = v[i].start;
		else
			((uint32_t *)starts)[i] = (uint32_t)v[i].start;
	}
	if (v6) {
		m->v6_starts = starts;
		m->v6_lists = lists;
		m->n_v6 = n;
	} else {
		m->v4_starts = starts;
		m->v4_lists = lists;
		m->n_v4 = n;
	}
	return true;
}

static bool pm_build_family(struct prefix_map *m, const struct prefix_map_entry *e,
			    size_t n, bool v6, bool most_specific, struct setlists *lists,
			    struct policy_arena *arena)
{
	struct pm_sweep s = { .lists = lists, .ok = true };
	bool ok = pm_sweep_family(&s, e, n, v6 ? 128 : 32, most_specific);

	if (ok) {
		s.n = pm_coalesce(s.v, s.n);
		ok = pm_store(m, s.v, s.n, v6, arena);
	}
	free(s.v);
	return ok;
}

bool policy_prefix_map_build(struct prefix_map *m, struct prefix_map_entry *entries,
			     size_t n, bool most_specific, struct setlists *lists,
			     struct policy_arena *arena)
{
	size_t n4 = 0;

	memset(m, 0, sizeof(*m));
	if (n == 0)
		return pm_build_family(m, NULL, 0, false, most_specific, lists, arena) &&
		       pm_build_family(m, NULL, 0, true, most_specific, lists, arena);
	/* IPv4 first, then IPv6, each in (start, length) order. */
	for (size_t i = 0; i < n; i++) {
		if (entries[i].prefix.addr.family == AF_INET) {
			struct prefix_map_entry t = entries[n4];

			entries[n4++] = entries[i];
			entries[i] = t;
		}
	}
	qsort(entries, n4, sizeof(*entries), pm_entry_cmp);
	qsort(entries + n4, n - n4, sizeof(*entries), pm_entry_cmp);
	return pm_build_family(m, entries, n4, false, most_specific, lists, arena) &&
	       pm_build_family(m, entries + n4, n - n4, true, most_specific, lists, arena);
}

uint32_t policy_prefix_map_lookup(const struct prefix_map *m, const struct ip_addr *a)
{
	size_t lo = 0, hi;

	if (a->family == AF_INET) {
		uint32_t k = (uint32_t)pm_key(a);

		for (hi = m->n_v4; lo < hi;) {
			size_t mid = lo + (hi - lo) / 2;

			if (m->v4_starts[mid] <= k)
				lo = mid + 1;
			else
				hi = mid;
		}
		return lo ? m->v4_lists[lo - 1] : SETLIST_EMPTY;
	}
	if (a->family == AF_INET6) {
		u128 k = pm_key(a);

		for (hi = m->n_v6; lo < hi;) {
			size_t mid = lo + (hi - lo) / 2;

			if (m->v6_starts[mid] <= k)
				lo = mid + 1;
			else
				hi = mid;
		}
		return lo ? m->v6_lists[lo - 1] : SETLIST_EMPTY;
	}
	return SETLIST_EMPTY;
}

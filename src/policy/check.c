/* check: what can only be checked once the whole document is read
 * (OpenBGPD's habit): name id collisions, keys used twice, overlapping
 * device addresses and pool prefixes, roles against pools, inspection,
 * countries without a geoip file. Errors point at the later of two
 * clashing things and name the earlier. */
#include <stdlib.h>
#include <string.h>

#include "policy/arena.h"
#include "policy/diag.h"
#include "policy/doc.h"
#include "policy/policy_internal.h"

typedef unsigned __int128 u128;

/* ---- name ids ---- */

struct check_id {
	uint32_t id, index;
};

static int check_id_cmp(const void *a, const void *b)
{
	const struct check_id *x = a, *y = b;

	if (x->id != y->id)
		return x->id < y->id ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

static void check_ids(struct policy_build *b, enum policy_kind kind, const void *arr,
		      size_t n, size_t elem)
{
	struct check_id *v = n ? malloc(n * sizeof(*v)) : NULL;

	if (!v)
		return;
	for (size_t i = 0; i < n; i++) {
		const char *name = (const char *)arr + i * elem;

		v[i] = (struct check_id){ policy_name_id(name), (uint32_t)i };
	}
	qsort(v, n, sizeof(*v), check_id_cmp);
	for (size_t i = 1; i < n; i++) {
		const char *a = (const char *)arr + v[i - 1].index * elem;
		const char *c = (const char *)arr + v[i].index * elem;

		if (v[i].id == v[i - 1].id && strcmp(a, c) && a[0] && c[0])
			policy_diag_at(b->diag, b->at[kind] ? b->at[kind][v[i].index] : NULL,
				       "%s name \"%s\" has the same id (0x%08x) as \"%s\"; "
				       "rename one", policy_kind_name(kind), c, v[i].id, a);
	}
	free(v);
}

static void check_all_ids(struct policy_build *b)
{
	const struct policy *p = b->p;

	/* Names are the first member of each struct; elem is the stride. */
	check_ids(b, KIND_REGION, p->regions, p->n_regions, sizeof(*p->regions));
	check_ids(b, KIND_NODE, p->nodes, p->n_nodes, sizeof(*p->nodes));
	check_ids(b, KIND_POOL, p->pools, p->n_pools, sizeof(*p->pools));
	check_ids(b, KIND_GROUP, p->groups, p->n_groups, sizeof(*p->groups));
	check_ids(b, KIND_USER, p->users, p->n_users, sizeof(*p->users));
	check_ids(b, KIND_DEVICE, p->devices, p->n_devices, sizeof(*p->devices));
	check_ids(b, KIND_DEST, p->dest_sets, p->n_dest_sets, sizeof(*p->dest_sets));
	check_ids(b, KIND_CLASS, p->classes, p->n_classes, sizeof(*p->classes));
}

/* ---- keys ---- */

static void check_keys(struct policy_build *b)
{
	const struct policy *p = b->p;
	size_t total = p->n_nodes + p->n_devices;
	struct strmap seen;

	policy_strmap_init(&seen);
	for (uint32_t i = 0; i < total; i++) {
		bool is_node = i < p->n_nodes;
		const uint8_t *key = is_node ? p->nodes[i].public_key :
					       p->devices[i - p->n_nodes].public_key;
		const struct doc_node *at = is_node ? b->at[KIND_NODE][i] :
						      b->at[KIND_DEVICE][i - p->n_nodes];
		uint32_t first;

		if (!memcmp(key, (uint8_t[POLICY_KEY_LEN]){ 0 }, POLICY_KEY_LEN))
			continue;	/* missing or bad: reported already */
		first = policy_strmap_put(&seen, key, POLICY_KEY_LEN, i);
		if (first == i || first == UINT32_MAX)
			continue;
		policy_diag_at(b->diag, at, "%s \"%s\" has the same key as %s \"%s\"",
			       is_node ? "node" : "device",
			       is_node ? p->nodes[i].name : p->devices[i - p->n_nodes].name,
			       first < p->n_nodes ? "node" : "device",
			       first < p->n_nodes ? p->nodes[first].name :
						    p->devices[first - p->n_nodes].name);
	}
	policy_strmap_free(&seen);
}

/* ---- overlapping prefixes ---- */

struct check_range {
	u128 start, end;
	uint8_t family;
	uint32_t owner, item;		/* whose, and which of its prefixes */
};

static struct check_range check_range_of(const struct ip_prefix *p, uint32_t owner,
					 uint32_t item)
{
	unsigned bits = (unsigned)ip_addr_bits(p->addr.family);
	u128 start = 0, mask;

	for (size_t i = 0; i < ip_addr_bytes(p->addr.family); i++)
		start = start << 8 | p->addr.a[i];
	mask = p->len == 0 && bits == 128 ? ~(u128)0 : ((u128)1 << (bits - p->len)) - 1;
	return (struct check_range){ start, start | mask, p->addr.family, owner, item };
}

static int check_range_cmp(const void *a, const void *b)
{
	const struct check_range *x = a, *y = b;

	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	if (x->end != y->end)
		return x->end > y->end ? -1 : 1;	/* the wider first */
	if (x->owner != y->owner)
		return x->owner < y->owner ? -1 : 1;
	return x->item < y->item ? -1 : x->item > y->item;
}

typedef void (*check_overlap_fn)(struct policy_build *b, const void *ctx,
				 const struct check_range *first,
				 const struct check_range *second);

/* Prefixes are nested or disjoint: one overlaps an earlier one exactly when
 * it starts before the furthest end seen so far (in start order). */
static void check_overlaps(struct policy_build *b, struct check_range *v, size_t n,
			   check_overlap_fn report, const void *ctx)
{
	size_t widest = 0;

	if (n < 2)
		return;
	qsort(v, n, sizeof(*v), check_range_cmp);
	for (size_t i = 1; i < n; i++) {
		if (v[i].family == v[widest].family && v[i].start <= v[widest].end) {
			report(b, ctx, &v[widest], &v[i]);
			continue;
		}
		widest = i;
	}
}

static void check_device_overlap(struct policy_build *b, const void *ctx,
				 const struct check_range *x, const struct check_range *y)
{
	const struct policy *p = b->p;
	char a[IP_PREFIX_STRLEN], c[IP_PREFIX_STRLEN];

	(void)ctx;
	ip_prefix_format(&p->devices[x->owner].addresses[x->item], a, sizeof(a));
	ip_prefix_format(&p->devices[y->owner].addresses[y->item], c, sizeof(c));
	policy_diag_at(b->diag, b->device_addr_at[y->owner][y->item],
		       "address %s of device \"%s\" overlaps %s of device \"%s\"", c,
		       p->devices[y->owner].name, a, p->devices[x->owner].name);
}

static void check_devices(struct policy_build *b)
{
	const struct policy *p = b->p;
	struct check_range *v;
	size_t n = 0;

	for (size_t i = 0; i < p->n_devices; i++)
		n += p->devices[i].n_addresses;
	v = n ? malloc(n * sizeof(*v)) : NULL;
	if (!v)
		return;
	n = 0;
	for (uint32_t i = 0; i < p->n_devices; i++)
		for (uint32_t j = 0; j < p->devices[i].n_addresses; j++)
			v[n++] = check_range_of(&p->devices[i].addresses[j], i, j);
	check_overlaps(b, v, n, check_device_overlap, NULL);
	free(v);
}

/* ---- pools and roles ---- */

struct check_members {
	uint32_t *pool, *member;	/* per flat member index */
};

static void check_pool_overlap(struct policy_build *b, const void *ctx,
			       const struct check_range *x, const struct check_range *y)
{
	const struct check_members *cm = ctx;
	const struct policy *p = b->p;
	uint32_t xp = cm->pool[x->owner], xm = cm->member[x->owner];
	uint32_t yp = cm->pool[y->owner], ym = cm->member[y->owner];
	const struct policy_pool_member *mx = &p->pools[xp].members[xm];
	const struct policy_pool_member *my = &p->pools[yp].members[ym];
	char a[IP_PREFIX_STRLEN], c[IP_PREFIX_STRLEN];

	ip_prefix_format(&mx->prefixes[x->item], a, sizeof(a));
	ip_prefix_format(&my->prefixes[y->item], c, sizeof(c));
	policy_diag_at(b->diag, b->member_at[yp][ym].prefixes[y->item],
		       "pool prefix %s (node \"%s\", pool \"%s\") overlaps %s (node \"%s\", "
		       "pool \"%s\")", c, p->nodes[my->node].name, p->pools[yp].name, a,
		       p->nodes[mx->node].name, p->pools[xp].name);
}

static void check_pool_prefixes(struct policy_build *b, size_t n_members, size_t n_prefixes)
{
	const struct policy *p = b->p;
	struct check_range *v = malloc((n_prefixes + 1) * sizeof(*v));
	struct check_members cm;
	size_t n = 0, flat = 0;

	cm.pool = malloc((n_members + 1) * sizeof(uint32_t));
	cm.member = malloc((n_members + 1) * sizeof(uint32_t));
	if (v && cm.pool && cm.member) {
		for (uint32_t i = 0; i < p->n_pools; i++) {
			for (uint32_t j = 0; j < p->pools[i].n_members; j++, flat++) {
				const struct policy_pool_member *m = &p->pools[i].members[j];

				cm.pool[flat] = i;
				cm.member[flat] = j;
				for (uint32_t k = 0; k < m->n_prefixes; k++)
					v[n++] = check_range_of(&m->prefixes[k], (uint32_t)flat, k);
			}
		}
		check_overlaps(b, v, n, check_pool_overlap, &cm);
	}
	free(v);
	free(cm.pool);
	free(cm.member);
}

static void check_pools(struct policy_build *b)
{
	const struct policy *p = b->p;
	size_t n_members = 0, n_prefixes = 0;
	bool *in_pool = calloc(p->n_nodes + 1, sizeof(bool));

	if (!in_pool)
		return;
	for (uint32_t i = 0; i < p->n_pools; i++) {
		for (uint32_t j = 0; j < p->pools[i].n_members; j++) {
			const struct policy_pool_member *m = &p->pools[i].members[j];

			n_members++;
			n_prefixes += m->n_prefixes;
			in_pool[m->node] = true;
			if (!(p->nodes[m->node].roles & POLICY_ROLE_EGRESS))
				policy_diag_at(b->diag, b->member_at[i][j].node, "node \"%s\" is in "
					       "pool \"%s\" but does not have the egress role",
					       p->nodes[m->node].name, p->pools[i].name);
		}
	}
	for (uint32_t i = 0; i < p->n_nodes; i++)
		if ((p->nodes[i].roles & POLICY_ROLE_EGRESS) && !in_pool[i])
			policy_diag_at(b->diag, b->roles_at[i], "node \"%s\" has the egress role "
				       "but is in no pool", p->nodes[i].name);
	free(in_pool);
	check_pool_prefixes(b, n_members, n_prefixes);
}

static void check_inspection(struct policy_build *b)
{
	const struct policy *p = b->p;
	bool any = false;

	for (uint32_t i = 0; i < p->n_nodes; i++) {
		if ((p->nodes[i].roles & POLICY_ROLE_INSPECTION) &&
		    !(p->nodes[i].roles & POLICY_ROLE_EGRESS))
			policy_diag_at(b->diag, b->roles_at[i], "node \"%s\" has the inspection "
				       "role without the egress role", p->nodes[i].name);
		any |= (p->nodes[i].roles & POLICY_ROLE_INSPECTION) != 0;
	}
	for (uint32_t i = 0; !any && i < p->n_classes; i++)
		if (p->classes[i].inspection && b->inspection_at && b->inspection_at[i])
			policy_diag_at(b->diag, b->inspection_at[i], "class \"%s\" needs inspection "
				       "but no node has the inspection role", p->classes[i].name);
}

/* ---- countries, regions ---- */

static void check_geoip(struct policy_build *b)
{
	const struct policy *p = b->p;

	if (b->geoip_at)
		return;
	for (uint32_t i = 0; b->dests && i < p->n_dest_sets; i++) {
		const char *name = p->dest_sets[i].name;
		bool inline_set = i >= b->n_named_dests;

		if (b->dests[i].n_countries)
			policy_diag_at(b->diag, b->dests[i].countries_at, "%s \"%s\" matches "
				       "countries, which needs a geoip file (top-level \"geoip: "
				       "FILE.mmdb\")", inline_set ? "class" : "destination",
				       inline_set ? name + strlen("class:") : name);
	}
}

/* Nested region prefixes are fine (the most specific wins); the same
 * prefix in two regions is not. */
static void check_regions(struct policy_build *b)
{
	const struct prefix_map_entry *e = b->region_prefixes.v;
	const struct doc_node **at = b->region_prefix_at.v;
	size_t n = b->region_prefixes.n;
	struct check_range *v = n ? malloc(n * sizeof(*v)) : NULL;

	if (!v)
		return;
	for (uint32_t i = 0; i < n; i++)
		v[i] = check_range_of(&e[i].prefix, e[i].value, i);
	qsort(v, n, sizeof(*v), check_range_cmp);
	for (size_t i = 1; i < n; i++)
		if (v[i].family == v[i - 1].family && v[i].start == v[i - 1].start &&
		    v[i].end == v[i - 1].end && v[i].owner != v[i - 1].owner)
			policy_diag_at(b->diag, at[v[i].item], "prefix %s is in region \"%s\" "
				       "and in region \"%s\"", at[v[i].item]->str,
				       b->p->regions[v[i].owner].name,
				       b->p->regions[v[i - 1].owner].name);
	free(v);
}

void policy_check(struct policy_build *b)
{
	check_all_ids(b);
	check_keys(b);
	check_devices(b);
	check_pools(b);
	check_inspection(b);
	check_geoip(b);
	check_regions(b);
}

/* rule_index: where each access rule is filed so that a session only
 * evaluates rules that could match it. Each rule goes under one dimension,
 * the one expected to match the fewest sessions: its devices (1/devices
 * each), else the cheapest of its users (1/users each), groups (members /
 * users each) and destination sets (a guess of 2/sets each, since traffic
 * is unknown here); a rule naming none of these is global. Rules that also
 * name classes are filed under (subject, class) for each class. Within a
 * bucket rules keep document order; classify merges buckets. */
#include <stdlib.h>
#include <string.h>

#include "policy/arena.h"
#include "policy/policy_internal.h"

struct rule_filing {
	uint64_t key;
	uint32_t rule;
};

/* Expected share of sessions a rule filed under this dimension visits. */
static double rule_dim_cost(const struct policy *p, const uint32_t *members,
			    enum policy_rule_dim dim, const uint32_t *keys, size_t n)
{
	double users = p->n_users ? (double)p->n_users : 1, cost = 0;

	for (size_t i = 0; i < n; i++) {
		if (dim == DIM_USER)
			cost += 1 / users;
		else if (dim == DIM_GROUP)
			cost += members[keys[i]] / users;
		else
			cost += p->n_dest_sets ? 2.0 / (double)p->n_dest_sets : 1;
	}
	return cost;
}

static enum policy_rule_dim rule_dim(const struct policy *p, const uint32_t *members,
				     const struct policy_rule *r, const uint32_t **keys,
				     size_t *n)
{
	const struct { enum policy_rule_dim dim; const uint32_t *v; size_t n; } c[] = {
		{ DIM_USER, r->users, r->n_users }, { DIM_GROUP, r->groups, r->n_groups },
		{ DIM_DEST, r->dest_sets, r->n_dest_sets },
	};
	enum policy_rule_dim best = DIM_GLOBAL;
	double best_cost = 2;

	*keys = NULL;
	*n = 1;
	if (r->n_devices) {
		*keys = r->devices;
		*n = r->n_devices;
		return DIM_DEVICE;
	}
	for (size_t i = 0; i < 3; i++) {
		double cost = c[i].n ? rule_dim_cost(p, members, c[i].dim, c[i].v, c[i].n) : 3;

		if (cost < best_cost) {
			best_cost = cost;
			best = c[i].dim;
			*keys = c[i].v;
			*n = c[i].n;
		}
	}
	return best;
}

/* Every (key, rule) filing, in rule order; n_out set. */
static struct rule_filing *rule_filings(const struct policy *p, size_t *n_out)
{
	uint32_t *members = calloc(p->n_groups + 1, sizeof(*members));
	struct rule_filing *v = NULL;
	size_t n = 0, cap = 0;

	for (size_t u = 0; members && u < p->n_users; u++)
		for (size_t g = 0; g < p->users[u].n_groups; g++)
			members[p->users[u].groups[g]]++;
	for (uint32_t i = 0; members && i < p->n_rules; i++) {
		const struct policy_rule *r = &p->rules[i];
		const uint32_t *keys;
		size_t nk, nc = r->n_classes ? r->n_classes : 1;
		enum policy_rule_dim dim = rule_dim(p, members, r, &keys, &nk);

		if (n + nk * nc > cap) {
			struct rule_filing *w;

			cap = (cap + nk * nc) * 2;
			w = realloc(v, cap * sizeof(*v));
			if (!w)
				goto fail;
			v = w;
		}
		for (size_t k = 0; k < nk; k++)
			for (size_t c = 0; c < nc; c++)
				v[n++] = (struct rule_filing){
					policy_rule_key(dim, keys ? keys[k] : 0,
							r->n_classes ? r->classes[c] : POLICY_NONE),
					i };
	}
	free(members);
	*n_out = n;
	return v ? v : calloc(1, sizeof(*v));
fail:
	free(members);
	free(v);
	return NULL;
}

static int rule_filing_cmp(const void *a, const void *b)
{
	const struct rule_filing *x = a, *y = b;

	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return x->rule < y->rule ? -1 : x->rule > y->rule;
}

static uint64_t rule_key_hash(uint64_t key)
{
	key ^= key >> 33;
	key *= 0xff51afd7ed558ccdull;
	return key ^ (key >> 33);
}

static void rule_slot_put(struct policy_rule_index *ri, uint64_t key, struct policy_bucket b)
{
	size_t i = rule_key_hash(key) & ri->class_mask;

	while (ri->by_class[i].key)
		i = (i + 1) & ri->class_mask;
	ri->by_class[i] = (struct policy_rule_slot){ key, b };
}

const struct policy_bucket *policy_rule_index_find(const struct policy_rule_index *ri,
						   enum policy_rule_dim dim, uint32_t subject,
						   uint32_t class_)
{
	uint64_t key = policy_rule_key(dim, subject, class_);
	size_t i = rule_key_hash(key) & ri->class_mask;

	for (; ri->by_class[i].key; i = (i + 1) & ri->class_mask)
		if (ri->by_class[i].key == key)
			return &ri->by_class[i].bucket;
	return NULL;
}

/* The plain (any class) bucket of a key. */
static struct policy_bucket *rule_plain_bucket(struct policy_rule_index *ri, uint64_t key)
{
	uint32_t subject = (uint32_t)key;

	switch ((enum policy_rule_dim)(key >> 61)) {
	case DIM_DEVICE: return &ri->by_device[subject];
	case DIM_USER: return &ri->by_user[subject];
	case DIM_GROUP: return &ri->by_group[subject];
	case DIM_DEST: return &ri->by_dest[subject];
	default: return &ri->global;
	}
}

static bool rule_index_alloc(struct policy_rule_index *ri, const struct policy *p,
			     struct policy_arena *a, size_t n, size_t n_class_keys)
{
	size_t slots = 16;

	while (slots < n_class_keys * 2)
		slots *= 2;
	ri->class_mask = slots - 1;
	ri->rules = policy_arena_alloc(a, n + 1, sizeof(*ri->rules));
	ri->by_device = policy_arena_alloc(a, p->n_devices + 1, sizeof(struct policy_bucket));
	ri->by_user = policy_arena_alloc(a, p->n_users + 1, sizeof(struct policy_bucket));
	ri->by_group = policy_arena_alloc(a, p->n_groups + 1, sizeof(struct policy_bucket));
	ri->by_dest = policy_arena_alloc(a, p->n_dest_sets + 1, sizeof(struct policy_bucket));
	ri->by_class = policy_arena_alloc(a, slots, sizeof(*ri->by_class));
	ri->class_has_rules = policy_arena_alloc(a, p->n_classes + 1, sizeof(bool));
	return ri->rules && ri->by_device && ri->by_user && ri->by_group && ri->by_dest &&
	       ri->by_class && ri->class_has_rules;
}

bool policy_rule_index_build(struct policy *p, struct policy_arena *arena)
{
	struct policy_rule_index *ri = &p->compiled->rules;
	size_t n = 0, n_class_keys = 0;
	struct rule_filing *v = rule_filings(p, &n);
	bool ok;

	if (!v)
		return false;
	qsort(v, n, sizeof(*v), rule_filing_cmp);
	for (size_t i = 0; i < n; i++)
		n_class_keys += (i == 0 || v[i].key != v[i - 1].key) &&
				((uint32_t)(v[i].key >> 32) & 0x1fffffffu);
	ok = rule_index_alloc(ri, p, arena, n, n_class_keys);
	for (size_t i = 0; ok && i < n;) {
		uint64_t key = v[i].key;
		uint32_t class1 = (uint32_t)(key >> 32) & 0x1fffffffu;
		struct policy_bucket b = { (uint32_t)i, 0 };

		for (; i < n && v[i].key == key; i++, b.n++)
			ri->rules[i] = v[i].rule;
		ri->dim_used[key >> 61] = true;
		if (class1) {
			rule_slot_put(ri, key, b);
			ri->class_has_rules[class1 - 1] = true;
		} else {
			*rule_plain_bucket(ri, key) = b;
		}
	}
	free(v);
	return ok;
}

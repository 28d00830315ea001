/* compile: the document's sets and rules turned into what classify reads:
 * one prefix map for destination sets and one for regions, a country
 * table, the domain table, the rule index, and the lookup tables by name
 * and key. Everything lands in the policy's arena or in the compiled
 * struct's own tables; the build context is dropped after. */
#include <stdlib.h>
#include <string.h>

#include "policy/arena.h"
#include "policy/diag.h"
#include "policy/policy_internal.h"

/* ---- destinations ---- */

static bool compile_prefixes(struct policy_build *b)
{
	struct policy_compiled *c = b->p->compiled;

	return policy_prefix_map_build(&c->dests, b->dest_prefixes.v, b->dest_prefixes.n,
				       false, &c->lists, b->arena) &&
	       policy_prefix_map_build(&c->regions, b->region_prefixes.v,
				       b->region_prefixes.n, true, &c->lists, b->arena);
}

struct compile_pair {
	uint32_t key, value;
};

static int compile_pair_cmp(const void *a, const void *b)
{
	const struct compile_pair *x = a, *y = b;

	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return x->value < y->value ? -1 : x->value > y->value;
}

/* country -> list of sets naming it (directly or through a region). */
static bool compile_countries(struct policy_build *b)
{
	const struct policy *p = b->p;
	struct policy_compiled *c = p->compiled;
	struct compile_pair *v;
	uint32_t *sets;
	size_t n = 0;

	for (size_t i = 0; i < p->n_dest_sets; i++)
		n += b->dests[i].n_countries;
	v = malloc((n + 1) * sizeof(*v));
	sets = malloc((n + 1) * sizeof(*sets));
	if (!v || !sets) {
		free(v);
		free(sets);
		return false;
	}
	n = 0;
	for (uint32_t i = 0; i < p->n_dest_sets; i++)
		for (size_t j = 0; j < b->dests[i].n_countries; j++)
			v[n++] = (struct compile_pair){
				policy_country_index(b->dests[i].countries[j]), i };
	qsort(v, n, sizeof(*v), compile_pair_cmp);
	for (size_t i = 0; i < n;) {
		size_t k = 0, first = i;

		for (; i < n && v[i].key == v[first].key; i++)
			if (k == 0 || sets[k - 1] != v[i].value)
				sets[k++] = v[i].value;
		c->country_sets[v[first].key] = policy_setlist_intern(&c->lists, sets, k);
	}
	free(v);
	free(sets);
	for (size_t i = 0; i < POLICY_COUNTRIES; i++)
		if (c->country_sets[i] == SETLIST_ERROR)
			return false;
	return true;
}

static void compile_country_regions(struct policy *p)
{
	struct policy_compiled *c = p->compiled;

	for (size_t i = 0; i < POLICY_COUNTRIES; i++)
		c->country_region[i] = POLICY_NONE;
	for (uint32_t r = 0; r < p->n_regions; r++)
		for (size_t j = 0; j < p->regions[r].n_countries; j++)
			c->country_region[policy_country_index(p->regions[r].countries[j])] = r;
}

static bool compile_domains(struct policy_build *b)
{
	const struct policy *p = b->p;
	struct domain_entry *v;
	size_t n = 0;
	bool ok;

	for (size_t i = 0; i < p->n_dest_sets; i++)
		n += b->dests[i].n_domains;
	v = malloc((n + 1) * sizeof(*v));
	if (!v)
		return false;
	n = 0;
	for (size_t i = 0; i < p->n_dest_sets; i++) {
		if (!b->dests[i].n_domains)
			continue;
		memcpy(v + n, b->dests[i].domains, b->dests[i].n_domains * sizeof(*v));
		n += b->dests[i].n_domains;
	}
	ok = policy_domain_map_build(&p->compiled->domains, v, n, &p->compiled->lists);
	free(v);
	return ok;
}

/* ---- lookups by name and key ---- */

static bool compile_names(struct policy *p)
{
	struct policy_compiled *c = p->compiled;
	bool ok = true;

	for (uint32_t i = 0; i < p->n_nodes; i++) {
		ok &= policy_strmap_put(&c->node_names, p->nodes[i].name,
					strlen(p->nodes[i].name), i) != UINT32_MAX;
		ok &= policy_strmap_put(&c->node_keys, p->nodes[i].public_key, POLICY_KEY_LEN,
					i) != UINT32_MAX;
	}
	for (uint32_t i = 0; i < p->n_users; i++)
		ok &= policy_strmap_put(&c->user_names, p->users[i].name,
					strlen(p->users[i].name), i) != UINT32_MAX;
	for (uint32_t i = 0; i < p->n_classes; i++)
		ok &= policy_strmap_put(&c->class_names, p->classes[i].name,
					strlen(p->classes[i].name), i) != UINT32_MAX;
	for (uint32_t i = 0; i < p->n_devices; i++)
		ok &= policy_strmap_put(&c->device_keys, p->devices[i].public_key,
					POLICY_KEY_LEN, i) != UINT32_MAX;
	return ok;
}

bool policy_compile(struct policy_build *b)
{
	struct policy *p = b->p;
	bool ok;

	compile_country_regions(p);
	ok = compile_prefixes(b) && compile_countries(b) && compile_domains(b) &&
	     policy_rule_index_build(p, b->arena) && compile_names(p);
	if (!ok)
		policy_diag_pos(b->diag, 0, 0, "out of memory while compiling the policy");
	return ok;
}

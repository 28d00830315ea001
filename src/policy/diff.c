/* diff: the changes between two compiled policies, by kind and name, and
 * how sample sessions would move (docs/api.md: DIFF and MOVE).
 *
 * Everything is compared by name: indices mean nothing across two
 * policies. A reference (a node's region, a rule's users) compares as the
 * set of names it points to. A class or rule whose order changed relative
 * to the others reports "position"; the items that moved are those outside
 * a longest run kept in order, so inserting one rule does not mark every
 * rule below it.
 *
 * Destination sets keep no list of their own in struct policy: they are
 * compared through the compiled matchers, so "prefixes" means the
 * addresses covered (a /24 split into two /25s is no change), "countries"
 * the countries mapped to the set, "domains" the patterns. Region
 * prefixes compare the same way. */
#include <errno.h>
#include <stddef.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "policy/diff.h"
#include "policy/policy_internal.h"
#include "routing/select.h"

struct diff_ctx {
	const struct policy *o, *n;
};

/* ---- names ---- */

static size_t kind_count(const struct policy *p, enum policy_kind k)
{
	switch (k) {
	case KIND_REGION: return p->n_regions;
	case KIND_NODE:   return p->n_nodes;
	case KIND_POOL:   return p->n_pools;
	case KIND_GROUP:  return p->n_groups;
	case KIND_USER:   return p->n_users;
	case KIND_DEVICE: return p->n_devices;
	case KIND_DEST:   return p->n_dest_sets;
	case KIND_CLASS:  return p->n_classes;
	case KIND_RULE:   return p->n_rules;
	default:          return 0;
	}
}

static const char *kind_name(const struct policy *p, enum policy_kind k, size_t i)
{
	switch (k) {
	case KIND_REGION: return p->regions[i].name;
	case KIND_NODE:   return p->nodes[i].name;
	case KIND_POOL:   return p->pools[i].name;
	case KIND_GROUP:  return p->groups[i].name;
	case KIND_USER:   return p->users[i].name;
	case KIND_DEVICE: return p->devices[i].name;
	case KIND_DEST:   return p->dest_sets[i].name;
	case KIND_CLASS:  return p->classes[i].name;
	case KIND_RULE:   return p->rules[i].name;
	default:          return "";
	}
}

/* A class's inline match is an anonymous set "class:NAME": it is part of
 * the class, not a destination of its own. */
static bool dest_is_inline(const char *name)
{
	return !strncmp(name, "class:", 6);
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Fills names[] with the names of a reference list, sorted. */
static void ref_names(const struct policy *p, enum policy_kind k, const uint32_t *v,
		      size_t n, const char **names)
{
	for (size_t i = 0; i < n; i++)
		names[i] = v[i] < kind_count(p, k) ? kind_name(p, k, v[i]) : "";
	qsort(names, n, sizeof(*names), str_cmp);
}

/* Whether two reference lists name the same things. -ENOMEM counts as
 * "differ": a diff may over-report, never under-report. */
static bool refs_same(const struct diff_ctx *d, enum policy_kind k, const uint32_t *a,
		      size_t na, const uint32_t *b, size_t nb)
{
	const char **x, **y;
	bool same = true;

	if (na != nb)
		return false;
	if (!na)
		return true;
	x = calloc(na, sizeof(*x));
	y = calloc(nb, sizeof(*y));
	if (!x || !y) {
		same = false;
		goto out;
	}
	ref_names(d->o, k, a, na, x);
	ref_names(d->n, k, b, nb, y);
	for (size_t i = 0; i < na && same; i++)
		same = !strcmp(x[i], y[i]);
out:
	free(x);
	free(y);
	return same;
}

static bool ref_same(const struct diff_ctx *d, enum policy_kind k, uint32_t a, uint32_t b)
{
	if (a == POLICY_NONE || b == POLICY_NONE)
		return a == b;
	return refs_same(d, k, &a, 1, &b, 1);
}

static void field(json_t *fields, bool differ, const char *name)
{
	if (differ)
		json_array_append_new(fields, json_string(name));
}

/* ---- what the compiled matchers hold ---- */

static bool list_has(const struct setlists *l, uint32_t id, uint32_t x)
{
	size_t n;
	const uint32_t *v;

	if (id == SETLIST_EMPTY || id == SETLIST_ERROR)
		return false;
	v = policy_setlist_items(l, id, &n);
	return policy_sorted_contains(v, n, x);
}

/* Walks the points where membership of one set changes along the
 * address space: equal walks mean equal coverage. */
struct pm_walk {
	const struct prefix_map *m;
	const struct setlists *l;
	uint32_t set;
	bool v6, in;
	size_t i;
};

static bool pm_walk_next(struct pm_walk *w, unsigned __int128 *start)
{
	size_t n = w->v6 ? w->m->n_v6 : w->m->n_v4;

	while (w->i < n) {
		size_t i = w->i++;
		uint32_t id = w->v6 ? w->m->v6_lists[i] : w->m->v4_lists[i];
		bool in = list_has(w->l, id, w->set);

		if (in != w->in) {
			w->in = in;
			*start = w->v6 ? w->m->v6_starts[i] : w->m->v4_starts[i];
			return true;
		}
	}
	return false;
}

static bool coverage_same(const struct prefix_map *ma, const struct setlists *la, uint32_t sa,
			  const struct prefix_map *mb, const struct setlists *lb, uint32_t sb)
{
	for (int v6 = 0; v6 < 2; v6++) {
		struct pm_walk a = { ma, la, sa, v6, false, 0 };
		struct pm_walk b = { mb, lb, sb, v6, false, 0 };

		for (;;) {
			unsigned __int128 x = 0, y = 0;
			bool more_a = pm_walk_next(&a, &x), more_b = pm_walk_next(&b, &y);

			if (more_a != more_b || x != y)
				return false;
			if (!more_a)
				break;
		}
	}
	return true;
}

static bool countries_same(const struct policy_compiled *a, uint32_t sa,
			   const struct policy_compiled *b, uint32_t sb)
{
	for (size_t c = 0; c < POLICY_COUNTRIES; c++)
		if (list_has(&a->lists, a->country_sets[c], sa) !=
		    list_has(&b->lists, b->country_sets[c], sb))
			return false;
	return true;
}

struct domain_name {
	const char *s;
	uint32_t len;
	bool below;
};

static int domain_cmp(const void *pa, const void *pb)
{
	const struct domain_name *a = pa, *b = pb;
	uint32_t len = a->len < b->len ? a->len : b->len;
	int c = memcmp(a->s, b->s, len);

	if (c)
		return c;
	if (a->len != b->len)
		return a->len < b->len ? -1 : 1;
	return (int)a->below - (int)b->below;
}

/* The domain patterns of one set, sorted; NULL with *n 0 when none (or
 * on ENOMEM, *n = SIZE_MAX). */
static struct domain_name *domains_of(const struct policy_compiled *c, uint32_t set, size_t *n)
{
	const struct strmap *maps[2] = { &c->domains.exact, &c->domains.below };
	size_t cap = c->domains.exact.n + c->domains.below.n;
	struct domain_name *v;

	*n = 0;
	if (!cap)
		return NULL;
	v = calloc(cap, sizeof(*v));
	if (!v) {
		*n = SIZE_MAX;
		return NULL;
	}
	for (int b = 0; b < 2; b++)
		for (size_t i = 0; maps[b]->mask && i <= maps[b]->mask; i++) {
			const struct strmap_slot *s = &maps[b]->slots[i];

			if (s->key && list_has(&c->lists, s->value, set) && *n < cap)
				v[(*n)++] = (struct domain_name){ s->key, s->len, b == 1 };
		}
	qsort(v, *n, sizeof(*v), domain_cmp);
	return v;
}

static bool domains_same(const struct policy_compiled *a, uint32_t sa,
			 const struct policy_compiled *b, uint32_t sb)
{
	size_t na, nb;
	struct domain_name *x = domains_of(a, sa, &na), *y = domains_of(b, sb, &nb);
	bool same = na == nb && na != SIZE_MAX;

	for (size_t i = 0; same && i < na; i++)
		same = !domain_cmp(&x[i], &y[i]);
	free(x);
	free(y);
	return same;
}

static void dest_fields(const struct diff_ctx *d, uint32_t a, uint32_t b, json_t *f)
{
	const struct policy_compiled *ca = d->o->compiled, *cb = d->n->compiled;

	field(f, !coverage_same(&ca->dests, &ca->lists, a, &cb->dests, &cb->lists, b),
	      "prefixes");
	field(f, !countries_same(ca, a, cb, b), "countries");
	field(f, !domains_same(ca, a, cb, b), "domains");
}

/* ---- fields per kind ---- */

static bool link_same(const struct policy_link *a, const struct policy_link *b)
{
	return !strcmp(a->name, b->name) && !strcmp(a->network, b->network) &&
	       a->endpoint.sa.sa_family == b->endpoint.sa.sa_family &&
	       (a->endpoint.sa.sa_family == AF_UNSPEC ||
		wg_sockaddr_equal(&a->endpoint, &b->endpoint)) &&
	       ip_addr_equal(&a->source, &b->source);
}

static bool links_same(const struct policy_node *a, const struct policy_node *b)
{
	if (a->n_links != b->n_links)
		return false;
	for (size_t i = 0; i < a->n_links; i++)
		if (!link_same(&a->links[i], &b->links[i]))
			return false;
	return true;
}

static void node_fields(const struct diff_ctx *d, size_t oi, size_t ni, json_t *f)
{
	const struct policy_node *a = &d->o->nodes[oi], *b = &d->n->nodes[ni];

	field(f, !links_same(a, b), "links");
	field(f, a->roles != b->roles, "roles");
	field(f, !ref_same(d, KIND_REGION, a->region, b->region), "region");
	field(f, strcmp(a->provider, b->provider), "provider");
	field(f, a->price_per_gb != b->price_per_gb, "price_per_gb");
	field(f, a->capacity_mbps != b->capacity_mbps, "capacity_mbps");
	field(f, memcmp(a->public_key, b->public_key, POLICY_KEY_LEN), "key");
	field(f, a->listen_port != b->listen_port, "listen_port");
}

static bool addrs_same(const struct ip_addr *a, size_t na, const struct ip_addr *b, size_t nb)
{
	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++)
		if (!ip_addr_equal(&a[i], &b[i]))
			return false;
	return true;
}

static bool prefixes_same(const struct ip_prefix *a, size_t na, const struct ip_prefix *b,
			  size_t nb)
{
	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++)
		if (a[i].len != b[i].len || !ip_addr_equal(&a[i].addr, &b[i].addr))
			return false;
	return true;
}

static void region_fields(const struct diff_ctx *d, size_t oi, size_t ni, json_t *f)
{
	const struct policy_region *a = &d->o->regions[oi], *b = &d->n->regions[ni];
	const struct policy_compiled *ca = d->o->compiled, *cb = d->n->compiled;
	bool same = a->n_countries == b->n_countries;

	for (size_t i = 0; same && i < a->n_countries; i++)
		same = !strcmp(a->countries[i], b->countries[i]);
	field(f, !same, "countries");
	field(f, !coverage_same(&ca->regions, &ca->lists, (uint32_t)oi, &cb->regions,
				&cb->lists, (uint32_t)ni), "prefixes");
	field(f, !addrs_same(a->probe_targets, a->n_probe_targets, b->probe_targets,
			     b->n_probe_targets), "probe_targets");
}

static bool ports_same(const struct policy_class *a, const struct policy_class *b)
{
	if (a->n_ports != b->n_ports)
		return false;
	for (size_t i = 0; i < a->n_ports; i++)
		if (a->ports[i].lo != b->ports[i].lo || a->ports[i].hi != b->ports[i].hi)
			return false;
	return true;
}

/* The inline sets of two classes with the same named sets. */
static bool inline_dests_same(const struct diff_ctx *d, const struct policy_class *a,
			      const struct policy_class *b)
{
	json_t *f = json_array();
	bool same = f != NULL;

	for (size_t i = 0; same && i < a->n_dest_sets; i++) {
		uint32_t sa = a->dest_sets[i];

		if (!dest_is_inline(d->o->dest_sets[sa].name))
			continue;
		for (size_t j = 0; j < b->n_dest_sets; j++)
			if (dest_is_inline(d->n->dest_sets[b->dest_sets[j]].name))
				dest_fields(d, sa, b->dest_sets[j], f);
		same = json_array_size(f) == 0;
	}
	json_decref(f);
	return same;
}

static bool match_same(const struct diff_ctx *d, const struct policy_class *a,
		       const struct policy_class *b)
{
	return a->protocol == b->protocol && ports_same(a, b) && a->dscp_mask == b->dscp_mask &&
	       refs_same(d, KIND_DEST, a->dest_sets, a->n_dest_sets, b->dest_sets,
			 b->n_dest_sets) &&
	       inline_dests_same(d, a, b);
}

static void class_fields(const struct diff_ctx *d, size_t oi, size_t ni, json_t *f)
{
	const struct policy_class *a = &d->o->classes[oi], *b = &d->n->classes[ni];
	const struct policy_weights *wa = &a->weights, *wb = &b->weights;

	field(f, !match_same(d, a, b), "match");
	field(f, a->objective != b->objective, "objective");
	field(f, wa->rtt_ms != wb->rtt_ms || wa->jitter_ms != wb->jitter_ms ||
	      wa->loss_pct != wb->loss_pct || wa->price_per_gb != wb->price_per_gb ||
	      wa->utilisation_pct != wb->utilisation_pct, "weights");
	field(f, a->max_loss_pct != b->max_loss_pct || a->max_rtt_ms != b->max_rtt_ms ||
	      a->max_jitter_ms != b->max_jitter_ms, "limits");
	field(f, !refs_same(d, KIND_REGION, a->allowed_regions, a->n_allowed_regions,
			    b->allowed_regions, b->n_allowed_regions), "regions");
	field(f, a->inspection != b->inspection, "inspection");
	field(f, !ref_same(d, KIND_POOL, a->pool, b->pool), "pool");
}

static void rule_fields(const struct diff_ctx *d, size_t oi, size_t ni, json_t *f)
{
	const struct policy_rule *a = &d->o->rules[oi], *b = &d->n->rules[ni];

	field(f, a->action != b->action, "action");
	field(f, !refs_same(d, KIND_USER, a->users, a->n_users, b->users, b->n_users), "users");
	field(f, !refs_same(d, KIND_GROUP, a->groups, a->n_groups, b->groups, b->n_groups),
	      "groups");
	field(f, !refs_same(d, KIND_DEVICE, a->devices, a->n_devices, b->devices, b->n_devices),
	      "devices");
	field(f, !refs_same(d, KIND_CLASS, a->classes, a->n_classes, b->classes, b->n_classes),
	      "classes");
	field(f, !refs_same(d, KIND_DEST, a->dest_sets, a->n_dest_sets, b->dest_sets,
			    b->n_dest_sets), "destinations");
}

/* A user's devices: same names, and each the same key and addresses. */
static bool devices_same(const struct diff_ctx *d, uint32_t ua, uint32_t ub)
{
	size_t na = 0, nb = 0;

	for (size_t i = 0; i < d->o->n_devices; i++) {
		const struct policy_device *x = &d->o->devices[i];
		uint32_t j;

		if (x->user != ua)
			continue;
		na++;
		for (j = 0; j < d->n->n_devices; j++)
			if (d->n->devices[j].user == ub && !strcmp(d->n->devices[j].name, x->name))
				break;
		if (j == d->n->n_devices ||
		    memcmp(x->public_key, d->n->devices[j].public_key, POLICY_KEY_LEN) ||
		    !prefixes_same(x->addresses, x->n_addresses, d->n->devices[j].addresses,
				   d->n->devices[j].n_addresses))
			return false;
	}
	for (size_t j = 0; j < d->n->n_devices; j++)
		nb += d->n->devices[j].user == ub;
	return na == nb;
}

static void user_fields(const struct diff_ctx *d, size_t oi, size_t ni, json_t *f)
{
	const struct policy_user *a = &d->o->users[oi], *b = &d->n->users[ni];

	field(f, !refs_same(d, KIND_GROUP, a->groups, a->n_groups, b->groups, b->n_groups),
	      "groups");
	field(f, !devices_same(d, (uint32_t)oi, (uint32_t)ni), "devices");
}

static const struct policy_pool_member *pool_member(const struct policy *p,
						    const struct policy_pool *pool,
						    const char *node)
{
	for (size_t i = 0; i < pool->n_members; i++)
		if (pool->members[i].node < p->n_nodes &&
		    !strcmp(p->nodes[pool->members[i].node].name, node))
			return &pool->members[i];
	return NULL;
}

static void pool_fields(const struct diff_ctx *d, size_t oi, size_t ni, json_t *f)
{
	const struct policy_pool *a = &d->o->pools[oi], *b = &d->n->pools[ni];
	bool members = a->n_members == b->n_members, prefixes = true;

	for (size_t i = 0; i < a->n_members; i++) {
		const struct policy_pool_member *x = &a->members[i], *y;

		y = x->node < d->o->n_nodes ?
		    pool_member(d->n, b, d->o->nodes[x->node].name) : NULL;
		if (!y)
			members = false;
		else if (!prefixes_same(x->prefixes, x->n_prefixes, y->prefixes, y->n_prefixes))
			prefixes = false;
	}
	field(f, !members, "members");
	field(f, !prefixes, "prefixes");
}

static void destination_fields(const struct diff_ctx *d, size_t oi, size_t ni, json_t *f)
{
	dest_fields(d, (uint32_t)oi, (uint32_t)ni, f);
}

/* ---- one kind: added, removed, changed ---- */

struct diff_kind {
	const char *key;
	enum policy_kind kind;
	bool ordered;		/* order matters: report "position" */
	void (*fields)(const struct diff_ctx *d, size_t oi, size_t ni, json_t *f);
};

static const struct diff_kind diff_kinds[] = {
	{ "nodes", KIND_NODE, false, node_fields },
	{ "classes", KIND_CLASS, true, class_fields },
	{ "rules", KIND_RULE, true, rule_fields },
	{ "users", KIND_USER, false, user_fields },
	{ "pools", KIND_POOL, false, pool_fields },
	{ "destinations", KIND_DEST, false, destination_fields },
	{ "regions", KIND_REGION, false, region_fields },
};

static bool kind_skip(const struct diff_kind *k, const struct policy *p, size_t i)
{
	return k->kind == KIND_DEST && dest_is_inline(p->dest_sets[i].name);
}

/* name -> index of every item of a kind in p; false on ENOMEM. */
static bool kind_map(const struct policy *p, enum policy_kind k, struct strmap *m)
{
	policy_strmap_init(m);
	for (size_t i = 0; i < kind_count(p, k); i++) {
		const char *name = kind_name(p, k, i);

		if (policy_strmap_put(m, name, strlen(name), (uint32_t)i) == UINT32_MAX)
			return false;
	}
	return true;
}

/* moved[i] for each new item i present in both: outside a longest
 * increasing run of old indices (patience sorting, O(n log n)). */
static bool mark_moved(const uint32_t *old_of, size_t n, bool *moved)
{
	size_t *tail = calloc(n + 1, sizeof(*tail)), *prev = calloc(n + 1, sizeof(*prev));
	size_t len = 0;

	if (!tail || !prev) {
		free(tail);
		free(prev);
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		size_t lo = 0, hi = len;

		moved[i] = old_of[i] != POLICY_NONE;
		if (old_of[i] == POLICY_NONE)
			continue;
		while (lo < hi) {
			size_t mid = (lo + hi) / 2;

			if (old_of[tail[mid]] < old_of[i])
				lo = mid + 1;
			else
				hi = mid;
		}
		prev[i] = lo ? tail[lo - 1] : SIZE_MAX;
		tail[lo] = i;
		len += lo == len;
	}
	for (size_t i = len ? tail[len - 1] : SIZE_MAX; i != SIZE_MAX; i = prev[i])
		moved[i] = false;
	free(tail);
	free(prev);
	return true;
}

struct kind_lists {
	json_t *added, *removed, *changed;
};

static void kind_changed(const struct diff_ctx *d, const struct diff_kind *k, size_t oi,
			 size_t ni, bool moved, struct kind_lists *out)
{
	json_t *f = json_array();

	if (!f)
		return;
	k->fields(d, oi, ni, f);
	field(f, moved, "position");
	if (json_array_size(f))
		json_array_append_new(out->changed,
				      json_pack("{s:s,s:o}", "name", kind_name(d->n, k->kind, ni),
						"fields", f));
	else
		json_decref(f);
}

static bool kind_walk(const struct diff_ctx *d, const struct diff_kind *k,
		      const struct strmap *old_names, const struct strmap *new_names,
		      struct kind_lists *out)
{
	size_t n_new = kind_count(d->n, k->kind);
	uint32_t *old_of = calloc(n_new + 1, sizeof(*old_of));
	bool *moved = calloc(n_new + 1, sizeof(*moved));
	bool ok = old_of && moved;

	for (size_t i = 0; ok && i < n_new; i++) {
		const char *name = kind_name(d->n, k->kind, i);

		old_of[i] = policy_strmap_gets(old_names, name);
		if (old_of[i] == POLICY_NONE && !kind_skip(k, d->n, i))
			json_array_append_new(out->added, json_string(name));
	}
	ok = ok && (!k->ordered || mark_moved(old_of, n_new, moved));
	for (size_t i = 0; ok && i < n_new; i++)
		if (old_of[i] != POLICY_NONE && !kind_skip(k, d->n, i))
			kind_changed(d, k, old_of[i], i, moved[i], out);
	for (size_t i = 0; ok && i < kind_count(d->o, k->kind); i++) {
		const char *name = kind_name(d->o, k->kind, i);

		if (policy_strmap_gets(new_names, name) == UINT32_MAX && !kind_skip(k, d->o, i))
			json_array_append_new(out->removed, json_string(name));
	}
	free(old_of);
	free(moved);
	return ok;
}

static json_t *kind_diff(const struct diff_ctx *d, const struct diff_kind *k)
{
	struct kind_lists l = { json_array(), json_array(), json_array() };
	struct strmap old_names, new_names;
	bool ok = kind_map(d->o, k->kind, &old_names);

	/* both maps initialised whatever happens: both are freed below */
	ok = kind_map(d->n, k->kind, &new_names) && ok;
	ok = ok && l.added && l.removed && l.changed &&
	     kind_walk(d, k, &old_names, &new_names, &l);
	policy_strmap_free(&old_names);
	policy_strmap_free(&new_names);
	if (!ok) {
		json_decref(l.added);
		json_decref(l.removed);
		json_decref(l.changed);
		return NULL;
	}
	return json_pack("{s:o,s:o,s:o}", "added", l.added, "removed", l.removed,
			 "changed", l.changed);
}

/* ---- settings ---- */

#define SETTING(sect, type, doc, member) \
	{ #sect "." doc, offsetof(struct policy, sect) + offsetof(struct type, member), \
	  sizeof(((struct type *)0)->member) }
#define PROBE(doc, m)     SETTING(probe, policy_probe_settings, doc, m)
#define FLOWS(doc, m)     SETTING(flows, policy_flow_settings, doc, m)
#define SELECTION(doc, m) SETTING(selection, policy_selection_settings, doc, m)

static const struct {
	const char *name;
	size_t off, size;
} settings[] = {
	PROBE("interval", interval),
	PROBE("down_after", down_after),
	PROBE("up_after", up_after),
	PROBE("loss_window", loss_window),
	PROBE("degraded_loss", degraded_loss_pct),
	PROBE("degraded_clear", degraded_clear_pct),
	PROBE("region_interval", region_interval),
	FLOWS("max", max_flows),
	FLOWS("tcp_syn", tcp_syn),
	FLOWS("tcp_established", tcp_established),
	FLOWS("tcp_closing", tcp_closing),
	FLOWS("udp", udp),
	FLOWS("icmp", icmp),
	FLOWS("other", other),
	SELECTION("switch_margin", switch_margin_pct),
	SELECTION("switch_hold", switch_hold),
	SELECTION("spread", spread_pct),
	SELECTION("max_utilisation", max_utilisation_pct),
};

static json_t *settings_diff(const struct diff_ctx *d)
{
	json_t *out = json_array();

	for (size_t i = 0; out && i < sizeof(settings) / sizeof(settings[0]); i++)
		field(out, memcmp((const char *)d->o + settings[i].off,
				  (const char *)d->n + settings[i].off, settings[i].size),
		      settings[i].name);
	if (out) {
		field(out, d->o->default_action != d->n->default_action, "default");
		field(out, !prefixes_same(d->o->overlay, d->o->n_overlay, d->n->overlay,
					  d->n->n_overlay), "overlay");
	}
	return out;
}

/* ---- DIFF ---- */

/* Stands in for "no previous version": nothing in it, default settings
 * never reported. */
static json_t *diff_from_nothing(const struct policy *new_)
{
	static struct policy_compiled none_compiled;
	struct policy none = *new_;

	none.nodes = NULL; none.n_nodes = 0;
	none.regions = NULL; none.n_regions = 0;
	none.pools = NULL; none.n_pools = 0;
	none.groups = NULL; none.n_groups = 0;
	none.users = NULL; none.n_users = 0;
	none.devices = NULL; none.n_devices = 0;
	none.dest_sets = NULL; none.n_dest_sets = 0;
	none.classes = NULL; none.n_classes = 0;
	none.rules = NULL; none.n_rules = 0;
	none.compiled = &none_compiled;
	return policy_diff_json(&none, new_);
}

json_t *policy_diff_json(const struct policy *old, const struct policy *new_)
{
	struct diff_ctx d = { old, new_ };
	json_t *out;

	if (!new_)
		return NULL;
	if (!old)
		return diff_from_nothing(new_);
	out = json_object();
	for (size_t i = 0; out && i < sizeof(diff_kinds) / sizeof(diff_kinds[0]); i++)
		if (json_object_set_new(out, diff_kinds[i].key, kind_diff(&d, &diff_kinds[i])))
			goto enomem;
	if (out && json_object_set_new(out, "settings_changed", settings_diff(&d)))
		goto enomem;
	return out;
enomem:
	json_decref(out);
	return NULL;
}

/* ---- MOVE: sample sessions under both policies ---- */

struct plan_session {
	const char *user;
	struct policy_session s;
};

static _Thread_local char plan_err[192];

static const char *plan_fail(size_t i, const char *field_, const char *why)
{
	snprintf(plan_err, sizeof(plan_err), "sessions[%zu]%s%s: %s", i, *field_ ? "." : "",
		 field_, why);
	return plan_err;
}

static int plan_proto(const json_t *v, int family)
{
	const char *s = json_string_value(v);
	json_int_t n;

	if (!v || json_is_null(v))
		return IPPROTO_TCP;
	if (s) {
		if (!strcasecmp(s, "tcp"))
			return IPPROTO_TCP;
		if (!strcasecmp(s, "udp"))
			return IPPROTO_UDP;
		if (!strcasecmp(s, "icmp"))
			return family == AF_INET6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP;
		return -1;
	}
	n = json_is_integer(v) ? json_integer_value(v) : -1;
	return n >= 1 && n <= 255 ? (int)n : -1;
}

/* An optional integer field in [0, max]; false when present and wrong. */
static bool plan_uint(const json_t *o, const char *key, json_int_t max, json_int_t *out)
{
	const json_t *v = json_object_get(o, key);

	*out = 0;
	if (!v || json_is_null(v))
		return true;
	if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > max)
		return false;
	*out = json_integer_value(v);
	return true;
}

static const char *plan_addrs(const json_t *o, size_t i, struct policy_session *s)
{
	const json_t *src = json_object_get(o, "src");
	const char *dst = json_string_value(json_object_get(o, "dst"));

	if (!dst || !ip_addr_parse(dst, &s->dst))
		return plan_fail(i, "dst", "required: an IPv4 or IPv6 address");
	if (src && !json_is_null(src) &&
	    (!json_is_string(src) || !ip_addr_parse(json_string_value(src), &s->src) ||
	     s->src.family != s->dst.family))
		return plan_fail(i, "src", "an address of the destination's family");
	return NULL;
}

static const char *plan_parse(const json_t *o, size_t i, struct plan_session *ps)
{
	struct policy_session *s = &ps->s;
	const json_t *domain = json_object_get(o, "domain");
	const char *err;
	json_int_t port, dscp;
	int proto;

	memset(ps, 0, sizeof(*ps));
	if (!json_is_object(o))
		return plan_fail(i, "", "not an object");
	ps->user = json_string_value(json_object_get(o, "user"));
	if (!ps->user)
		return plan_fail(i, "user", "required: a user name");
	err = plan_addrs(o, i, s);
	if (err)
		return err;
	proto = plan_proto(json_object_get(o, "proto"), s->dst.family);
	if (proto < 0)
		return plan_fail(i, "proto", "tcp, udp, icmp or a number 1-255");
	s->protocol = (uint8_t)proto;
	if (!plan_uint(o, "dport", 65535, &port))
		return plan_fail(i, "dport", "a port 0-65535");
	if (!plan_uint(o, "dscp", 63, &dscp))
		return plan_fail(i, "dscp", "a number 0-63");
	if (domain && !json_is_null(domain) && !json_is_string(domain))
		return plan_fail(i, "domain", "a string or null");
	s->dport = (uint16_t)port;
	s->dscp = (uint8_t)dscp;
	s->domain = json_string_value(domain);
	return NULL;
}

/* Nominal views: every egress node, one path up at 10 ms, nothing else
 * known. */
static size_t plan_views(const struct policy *p, struct route_node_view *views,
			 struct route_path_view *paths)
{
	size_t n = 0;

	for (size_t i = 0; i < p->n_nodes && n < ROUTE_MAX_CANDIDATES; i++) {
		if (!(p->nodes[i].roles & POLICY_ROLE_EGRESS))
			continue;
		memset(&paths[n], 0, sizeof(paths[n]));
		paths[n].state = PATH_UP;
		paths[n].metrics.srtt_ms = 10;
		views[n] = (struct route_node_view){
			.node = (uint32_t)i, .paths = &paths[n], .n_paths = 1,
			.region_rtt_ms = -1, .region_loss_pct = -1,
		};
		n++;
	}
	return n;
}

static json_t *plan_outcome(const struct policy *p, const struct plan_session *ps)
{
	static _Thread_local struct route_decision rd;
	struct route_node_view views[ROUTE_MAX_CANDIDATES];
	struct route_path_view paths[ROUTE_MAX_CANDIDATES];
	struct policy_session s = ps->s;
	struct policy_decision pd;
	const char *egress = NULL;

	if (!p)
		return json_null();
	s.device = POLICY_NONE;
	s.user = policy_find_user(p, ps->user);
	policy_classify(p, &s, &pd);
	if (pd.action == POLICY_ALLOW) {
		size_t n = plan_views(p, views, paths);
		uint32_t uid = pd.user != POLICY_NONE ? p->users[pd.user].id : 0;

		route_select(p, &p->classes[pd.class_], pd.dst_region, uid, views, n, NULL, 0,
			     false, &rd);
		if (rd.found)
			egress = p->nodes[rd.node].name;
	}
	return json_pack("{s:s,s:s?,s:s,s:s?}", "class", p->classes[pd.class_].name,
			 "rule", pd.rule == POLICY_NONE ? NULL : p->rules[pd.rule].name,
			 "action", pd.action == POLICY_ALLOW ? "allow" : "deny", "egress", egress);
}

static json_t *plan_move(const struct policy *old, const struct policy *new_,
			 const json_t *session, const struct plan_session *ps)
{
	json_t *before = plan_outcome(old, ps), *after = plan_outcome(new_, ps);

	if (!before || !after) {
		json_decref(before);
		json_decref(after);
		return NULL;
	}
	return json_pack("{s:O,s:o,s:o,s:b}", "session", session, "before", before,
			 "after", after, "changed", !json_equal(before, after));
}

json_t *policy_plan_sessions_json(const struct policy *old, const struct policy *new_,
				  const json_t *sessions, const char **err)
{
	struct plan_session ps;
	json_t *out;

	*err = NULL;
	if (!new_ || !json_is_array(sessions)) {
		*err = "sessions: not an array";
		return NULL;
	}
	out = json_array();
	for (size_t i = 0; out && i < json_array_size(sessions); i++) {
		const json_t *o = json_array_get(sessions, i);

		*err = plan_parse(o, i, &ps);
		if (*err) {
			json_decref(out);
			return NULL;
		}
		if (json_array_append_new(out, plan_move(old, new_, o, &ps)))
			break;
	}
	if (!out || json_array_size(out) != json_array_size(sessions)) {
		json_decref(out);
		*err = strerror(ENOMEM);
		return NULL;
	}
	return out;
}

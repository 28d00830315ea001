/* parse_infra: the fabric's side of the document: settings, overlay,
 * regions, nodes with their links, and egress pools. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "policy/arena.h"
#include "policy/diag.h"
#include "policy/doc.h"
#include "policy/policy_internal.h"
#include "policy/value.h"

/* ---- settings ---- */

static const char *const settings_keys[] = { "probe", "flows", "selection", NULL };
static const char *const probe_keys[] = {
	"interval", "down_after", "up_after", "loss_window", "degraded_loss",
	"degraded_clear", "region_interval", NULL,
};
static const char *const flows_keys[] = {
	"max", "tcp_syn", "tcp_established", "tcp_closing", "udp", "icmp", "other", NULL,
};
static const char *const selection_keys[] = {
	"switch_margin", "switch_hold", "spread", "max_utilisation", NULL,
};

static void settings_defaults(struct policy *p)
{
	p->probe = (struct policy_probe_settings){
		.interval = MSECONDS(100), .down_after = 5, .up_after = 3, .loss_window = 200,
		.degraded_loss_pct = 20, .degraded_clear_pct = 10, .region_interval = SECONDS(1),
	};
	p->flows = (struct policy_flow_settings){
		.max_flows = 1000000, .tcp_syn = SECONDS(30), .tcp_established = SECONDS(7200),
		.tcp_closing = SECONDS(30), .udp = SECONDS(60), .icmp = SECONDS(30),
		.other = SECONDS(60),
	};
	p->selection = (struct policy_selection_settings){
		.switch_margin_pct = 10, .switch_hold = SECONDS(2), .spread_pct = 5,
		.max_utilisation_pct = 90,
	};
}

static void settings_unsigned(struct policy_build *b, const struct doc_node *n,
			      const char *what, uint64_t max, unsigned *out)
{
	uint64_t v;

	if (n && policy_val_uint(b->diag, n, what, 1, max, &v))
		*out = (unsigned)v;
}

static void settings_duration(struct policy_build *b, const struct doc_node *n,
			      const char *what, monotime_ns min, monotime_ns *out)
{
	if (n)
		policy_val_duration(b->diag, n, what, min, out);
}

static void settings_percent(struct policy_build *b, const struct doc_node *n,
			     const char *what, double *out)
{
	if (n)
		policy_val_percent(b->diag, n, what, out);
}

static void settings_probe(struct policy_build *b, const struct doc_node *n)
{
	struct policy_probe_settings *s = &b->p->probe;
	struct doc_fields f = { .keys = probe_keys };

	if (!n || !policy_doc_fields(b->diag, n, "settings.probe", &f))
		return;
	settings_duration(b, f.vals[0], "probe interval", MSECONDS(1), &s->interval);
	settings_unsigned(b, f.vals[1], "down_after", 1000, &s->down_after);
	settings_unsigned(b, f.vals[2], "up_after", 1000, &s->up_after);
	settings_unsigned(b, f.vals[3], "loss_window", 2048, &s->loss_window);
	settings_percent(b, f.vals[4], "degraded_loss", &s->degraded_loss_pct);
	settings_percent(b, f.vals[5], "degraded_clear", &s->degraded_clear_pct);
	settings_duration(b, f.vals[6], "region_interval", MSECONDS(1), &s->region_interval);
	/* Hysteresis: a path must get better than it was to be up again. */
	if (s->degraded_clear_pct > s->degraded_loss_pct)
		policy_diag_at(b->diag, f.vals[5] ? f.vals[5] : f.vals[4],
			       "degraded_clear (%g%%) must not be above degraded_loss (%g%%)",
			       s->degraded_clear_pct, s->degraded_loss_pct);
}

static void settings_flows(struct policy_build *b, const struct doc_node *n)
{
	struct policy_flow_settings *s = &b->p->flows;
	struct doc_fields f = { .keys = flows_keys };
	monotime_ns *timeouts[] = { &s->tcp_syn, &s->tcp_established, &s->tcp_closing,
				    &s->udp, &s->icmp, &s->other };
	uint64_t v;

	if (!n || !policy_doc_fields(b->diag, n, "settings.flows", &f))
		return;
	if (f.vals[0] && policy_val_uint(b->diag, f.vals[0], "flows max", 1, 1u << 30, &v))
		s->max_flows = (size_t)v;
	for (size_t i = 0; i < 6; i++)
		settings_duration(b, f.vals[i + 1], flows_keys[i + 1], SECONDS(1), timeouts[i]);
}

static void settings_selection(struct policy_build *b, const struct doc_node *n)
{
	struct policy_selection_settings *s = &b->p->selection;
	struct doc_fields f = { .keys = selection_keys };

	if (!n || !policy_doc_fields(b->diag, n, "settings.selection", &f))
		return;
	settings_percent(b, f.vals[0], "switch_margin", &s->switch_margin_pct);
	settings_duration(b, f.vals[1], "switch_hold", 0, &s->switch_hold);
	settings_percent(b, f.vals[2], "spread", &s->spread_pct);
	settings_percent(b, f.vals[3], "max_utilisation", &s->max_utilisation_pct);
	if (f.vals[3] && s->max_utilisation_pct <= 0)
		policy_diag_at(b->diag, f.vals[3], "max_utilisation must be above 0%%");
}

void policy_parse_settings(struct policy_build *b, const struct doc_node *n)
{
	struct doc_fields f = { .keys = settings_keys };

	settings_defaults(b->p);
	if (!n || !policy_doc_fields(b->diag, n, "settings", &f))
		return;
	settings_probe(b, f.vals[0]);
	settings_flows(b, f.vals[1]);
	settings_selection(b, f.vals[2]);
}

/* ---- overlay ---- */

/* A list of prefixes into an arena array. */
static bool parse_prefixes(struct policy_build *b, const struct doc_node *n,
			   const char *what, struct ip_prefix **out, size_t *count)
{
	struct doc_node *const *items;
	size_t k = 0, len;

	*out = NULL;
	*count = 0;
	if (!policy_val_list(b->diag, n, what, &items, &len) || !len)
		return false;
	*out = policy_arena_alloc(b->arena, len, sizeof(**out));
	if (!*out)
		return false;
	for (size_t i = 0; i < len; i++)
		if (policy_val_prefix(b->diag, items[i], what, &(*out)[k]))
			k++;
	*count = k;
	return k == len;
}

void policy_parse_overlay(struct policy_build *b, const struct doc_node *n)
{
	parse_prefixes(b, n, "overlay prefix", &b->p->overlay, &b->p->n_overlay);
}

/* ---- regions ---- */

static const char *const region_keys[] = { "countries", "prefixes", "probe_targets", NULL };

/* Each country belongs to one region, so a destination's country names
 * one region. owner[] is per country: the region, or POLICY_NONE. */
static void region_countries(struct policy_build *b, uint32_t r, const struct doc_node *n,
			     uint32_t *owner, const struct doc_node **owner_at)
{
	struct policy_region *reg = &b->p->regions[r];
	struct doc_node *const *items;
	size_t len;

	if (!policy_val_list(b->diag, n, "countries", &items, &len) || !len)
		return;
	reg->countries = policy_arena_alloc(b->arena, len, sizeof(*reg->countries));
	if (!reg->countries)
		return;
	for (size_t i = 0; i < len; i++) {
		char *cc = reg->countries[reg->n_countries];
		unsigned ci;

		if (!policy_val_country(b->diag, items[i], cc))
			continue;
		ci = policy_country_index(cc);
		if (owner[ci] == r)
			continue;	/* listed twice in one region: harmless */
		if (owner[ci] != POLICY_NONE) {
			policy_diag_at(b->diag, items[i], "country %s is already in region %s "
				       "(line %u); a country belongs to one region", cc,
				       b->p->regions[owner[ci]].name, owner_at[ci]->line);
			continue;
		}
		owner[ci] = r;
		owner_at[ci] = items[i];
		reg->n_countries++;
	}
}

static void region_prefixes(struct policy_build *b, uint32_t r, const struct doc_node *n)
{
	struct doc_node *const *items;
	size_t len;

	b->region_pfx_off[r] = b->region_prefixes.n;
	if (!policy_val_list(b->diag, n, "region prefixes", &items, &len))
		return;
	for (size_t i = 0; i < len; i++) {
		struct ip_prefix pfx;
		struct prefix_map_entry *e;
		const struct doc_node **at;

		if (!policy_val_prefix(b->diag, items[i], "region prefix", &pfx))
			continue;
		e = policy_vec_push(&b->region_prefixes);
		at = policy_vec_push(&b->region_prefix_at);
		if (!e || !at)
			return;
		*e = (struct prefix_map_entry){ .prefix = pfx, .value = r };
		*at = items[i];
		b->region_pfx_n[r]++;
	}
}

static void region_targets(struct policy_build *b, struct policy_region *reg,
			   const struct doc_node *n)
{
	struct doc_node *const *items;
	size_t len;

	if (!policy_val_list(b->diag, n, "probe_targets", &items, &len) || !len)
		return;
	reg->probe_targets = policy_arena_alloc(b->arena, len, sizeof(*reg->probe_targets));
	for (size_t i = 0; reg->probe_targets && i < len; i++)
		if (policy_val_addr(b->diag, items[i], "probe target",
				    &reg->probe_targets[reg->n_probe_targets]))
			reg->n_probe_targets++;
}

/* Allocates the array of a name-keyed section and registers the names. */
static bool parse_named_section(struct policy_build *b, const struct doc_node *n,
				enum policy_kind kind, const char *what, void **arr,
				size_t elem, size_t name_off, size_t id_off, size_t *count)
{
	*count = 0;
	if (!n || policy_doc_is_null(n))
		return false;
	if (n->type != DOC_MAP) {
		policy_diag_at(b->diag, n, "%s must be a mapping of name: settings", what);
		return false;
	}
	*arr = policy_arena_alloc(b->arena, n->n ? n->n : 1, elem);
	b->at[kind] = policy_arena_alloc(b->arena, n->n ? n->n : 1, sizeof(*b->at[kind]));
	if (!*arr || !b->at[kind])
		return false;
	*count = n->n;
	for (uint32_t i = 0; i < n->n; i++) {
		char *name = (char *)*arr + i * elem + name_off;
		uint32_t *id = (uint32_t *)(void *)((char *)*arr + i * elem + id_off);

		b->at[kind][i] = n->pairs[i].key;
		if (!policy_val_name(b->diag, n->pairs[i].key, policy_kind_name(kind), name))
			continue;
		*id = policy_name_id(name);
		policy_build_name(b, kind, n->pairs[i].key, name, i);
	}
	return true;
}

void policy_parse_regions(struct policy_build *b, const struct doc_node *n)
{
	struct policy *p = b->p;
	uint32_t owner[POLICY_COUNTRIES];
	const struct doc_node *owner_at[POLICY_COUNTRIES];

	if (!parse_named_section(b, n, KIND_REGION, "regions", (void **)&p->regions,
				 sizeof(*p->regions), offsetof(struct policy_region, name),
				 offsetof(struct policy_region, id), &p->n_regions))
		return;
	b->region_pfx_off = policy_arena_alloc(b->arena, p->n_regions, sizeof(size_t));
	b->region_pfx_n = policy_arena_alloc(b->arena, p->n_regions, sizeof(size_t));
	if (!b->region_pfx_off || !b->region_pfx_n)
		return;
	for (size_t i = 0; i < POLICY_COUNTRIES; i++)
		owner[i] = POLICY_NONE;
	for (uint32_t r = 0; r < p->n_regions; r++) {
		struct doc_fields f = { .keys = region_keys };
		char what[96];

		snprintf(what, sizeof(what), "region \"%s\"", p->regions[r].name);
		b->region_pfx_off[r] = b->region_prefixes.n;
		if (!policy_doc_fields(b->diag, n->pairs[r].value, what, &f))
			continue;
		region_countries(b, r, f.vals[0], owner, owner_at);
		region_prefixes(b, r, f.vals[1]);
		region_targets(b, &p->regions[r], f.vals[2]);
	}
}

/* ---- nodes ---- */

static const char *const node_keys[] = {
	"region", "provider", "roles", "key", "listen_port", "links", "price_per_gb",
	"capacity_mbps", NULL,
};
enum { NODE_REGION, NODE_PROVIDER, NODE_ROLES, NODE_KEY, NODE_PORT, NODE_LINKS,
       NODE_PRICE, NODE_CAPACITY };
static const char *const link_keys[] = { "name", "network", "endpoint", "source", NULL };

static void node_roles(struct policy_build *b, struct policy_node *node,
		       const struct doc_node *n)
{
	static const char *const names[] = { "access", "egress", "inspection" };
	struct doc_node *const *items;
	size_t len;

	if (!policy_val_list(b->diag, n, "roles", &items, &len))
		return;
	for (size_t i = 0; i < len; i++) {
		size_t r;

		if (!policy_val_scalar(b->diag, items[i], "role"))
			continue;
		for (r = 0; r < 3 && strcmp(items[i]->str, names[r]); r++)
			;
		if (r == 3)
			policy_diag_at(b->diag, items[i], "unknown role \"%.64s\"; roles are: "
				       "access, egress, inspection", items[i]->str);
		else
			node->roles |= 1u << r;
	}
}

static void link_endpoint(struct policy_build *b, struct policy_link *l,
			  const struct doc_node *n)
{
	if (!policy_val_scalar(b->diag, n, "endpoint"))
		return;
	if (!wg_sockaddr_parse(n->str, &l->endpoint) ||
	    (l->endpoint.sa.sa_family == AF_INET ? l->endpoint.in.sin_port :
						   l->endpoint.in6.sin6_port) == 0) {
		memset(&l->endpoint, 0, sizeof(l->endpoint));
		policy_diag_at(b->diag, n, "bad endpoint \"%.64s\": expected address:port, "
			       "e.g. 198.51.100.1:51820 or [2001:db8::1]:51820", n->str);
	}
}

static void node_link(struct policy_build *b, struct policy_node *node, size_t i,
		      const struct doc_node *n)
{
	struct policy_link *l = &node->links[i];
	struct doc_fields f = { .keys = link_keys };
	char what[160];

	snprintf(l->network, sizeof(l->network), "internet");
	snprintf(what, sizeof(what), "link \"%.64s\" of node \"%s\"", policy_doc_name_of(n),
		 node->name);
	if (!policy_doc_fields(b->diag, n, what, &f))
		return;
	if (!f.vals[0])
		policy_diag_at(b->diag, n, "link of node \"%s\" has no name", node->name);
	else if (policy_val_name(b->diag, f.vals[0], "link", l->name))
		for (size_t j = 0; j < i; j++)
			if (!strcmp(node->links[j].name, l->name))
				policy_diag_at(b->diag, f.vals[0], "duplicate link name \"%s\" "
					       "in node \"%s\"", l->name, node->name);
	if (f.vals[1])
		policy_val_name(b->diag, f.vals[1], "network", l->network);
	if (f.vals[2])
		link_endpoint(b, l, f.vals[2]);
	if (f.vals[3] && policy_val_addr(b->diag, f.vals[3], "source", &l->source) &&
	    l->endpoint.sa.sa_family && l->endpoint.sa.sa_family != l->source.family)
		policy_diag_at(b->diag, f.vals[3], "source %s is not of the endpoint's address "
			       "family", f.vals[3]->str);
}

static void node_links(struct policy_build *b, struct policy_node *node,
		       const struct doc_node *n)
{
	struct doc_node *const *items;
	size_t len;

	if (!policy_val_list(b->diag, n, "links", &items, &len))
		return;
	if (!n || !len) {
		/* The common case: one link to the internet, kernel routes. */
		node->links = policy_arena_alloc(b->arena, 1, sizeof(*node->links));
		if (!node->links)
			return;
		node->n_links = 1;
		snprintf(node->links[0].name, POLICY_NAME_MAX, "internet");
		snprintf(node->links[0].network, POLICY_NAME_MAX, "internet");
		return;
	}
	node->links = policy_arena_alloc(b->arena, len, sizeof(*node->links));
	if (!node->links)
		return;
	node->n_links = len;
	for (size_t i = 0; i < len; i++)
		node_link(b, node, i, items[i]);
}

static void node_required(struct policy_build *b, const struct doc_fields *f,
			  const struct doc_node *name, const char *node)
{
	if (!f->vals[NODE_REGION])
		policy_diag_at(b->diag, name, "node \"%s\" has no region", node);
	if (!f->vals[NODE_ROLES])
		policy_diag_at(b->diag, name, "node \"%s\" has no roles (access, egress, "
			       "inspection)", node);
	if (!f->vals[NODE_KEY])
		policy_diag_at(b->diag, name, "node \"%s\" has no key", node);
}

static void node_parse(struct policy_build *b, uint32_t i, const struct doc_node *name,
		       const struct doc_node *n)
{
	struct policy_node *node = &b->p->nodes[i];
	struct doc_fields f = { .keys = node_keys };
	char what[96];
	uint64_t port;

	node->region = POLICY_NONE;
	b->roles_at[i] = name;
	snprintf(what, sizeof(what), "node \"%s\"", node->name);
	if (!policy_doc_fields(b->diag, n, what, &f))
		return;
	node_required(b, &f, name, node->name);
	if (f.vals[NODE_REGION])
		node->region = policy_build_ref(b, KIND_REGION, f.vals[NODE_REGION]);
	if (f.vals[NODE_PROVIDER])
		policy_val_name(b->diag, f.vals[NODE_PROVIDER], "provider", node->provider);
	b->roles_at[i] = f.vals[NODE_ROLES] ? f.vals[NODE_ROLES] : name;
	node_roles(b, node, f.vals[NODE_ROLES]);
	if (f.vals[NODE_ROLES] && !node->roles)
		policy_diag_at(b->diag, f.vals[NODE_ROLES], "node \"%s\" has no roles (access, "
			       "egress, inspection)", node->name);
	if (f.vals[NODE_KEY])
		policy_val_key(b->diag, f.vals[NODE_KEY], node->public_key);
	if (f.vals[NODE_PORT] &&
	    policy_val_uint(b->diag, f.vals[NODE_PORT], "listen_port", 1, 65535, &port))
		node->listen_port = (uint16_t)port;
	node_links(b, node, f.vals[NODE_LINKS]);
	if (f.vals[NODE_PRICE])
		policy_val_number(b->diag, f.vals[NODE_PRICE], "price_per_gb", 0, 1e9,
				  &node->price_per_gb);
	if (f.vals[NODE_CAPACITY])
		policy_val_number(b->diag, f.vals[NODE_CAPACITY], "capacity_mbps", 0, 1e9,
				  &node->capacity_mbps);
}

void policy_parse_nodes(struct policy_build *b, const struct doc_node *n)
{
	struct policy *p = b->p;

	if (!parse_named_section(b, n, KIND_NODE, "nodes", (void **)&p->nodes,
				 sizeof(*p->nodes), offsetof(struct policy_node, name),
				 offsetof(struct policy_node, id), &p->n_nodes))
		return;
	b->roles_at = policy_arena_alloc(b->arena, p->n_nodes ? p->n_nodes : 1,
					 sizeof(*b->roles_at));
	if (!b->roles_at)
		return;
	for (uint32_t i = 0; i < p->n_nodes; i++)
		node_parse(b, i, n->pairs[i].key, n->pairs[i].value);
}

/* ---- pools ---- */

static void pool_member(struct policy_build *b, struct policy_pool *pool,
			const struct doc_pair *pair, struct policy_member_at *at)
{
	struct policy_pool_member *m = &pool->members[pool->n_members];
	struct doc_node *const *items;
	size_t len;

	*m = (struct policy_pool_member){ .node = policy_build_ref(b, KIND_NODE, pair->key) };
	if (!policy_val_list(b->diag, pair->value, "pool prefixes", &items, &len))
		return;
	if (!len) {
		policy_diag_at(b->diag, pair->key, "node \"%s\" in pool \"%s\" has no prefixes",
			       pair->key->str, pool->name);
		return;
	}
	m->prefixes = policy_arena_alloc(b->arena, len, sizeof(*m->prefixes));
	at->node = pair->key;
	at->prefixes = policy_arena_alloc(b->arena, len, sizeof(*at->prefixes));
	if (!m->prefixes || !at->prefixes)
		return;
	for (size_t i = 0; i < len; i++) {
		if (policy_val_prefix(b->diag, items[i], "pool prefix",
				      &m->prefixes[m->n_prefixes]))
			at->prefixes[m->n_prefixes++] = items[i];
	}
	if (m->node != POLICY_NONE)
		pool->n_members++;
}

static void pool_parse(struct policy_build *b, uint32_t i, const struct doc_node *name,
		       const struct doc_node *n)
{
	struct policy_pool *pool = &b->p->pools[i];

	if (policy_doc_is_null(n) || (n->type == DOC_MAP && n->n == 0)) {
		policy_diag_at(b->diag, name, "pool \"%s\" has no members (node: [prefixes])",
			       pool->name);
		return;
	}
	if (n->type != DOC_MAP) {
		policy_diag_at(b->diag, n, "pool \"%s\" must be a mapping of node: [prefixes]",
			       pool->name);
		return;
	}
	policy_doc_check_dup_keys(b->diag, n);
	pool->members = policy_arena_alloc(b->arena, n->n, sizeof(*pool->members));
	b->member_at[i] = policy_arena_alloc(b->arena, n->n, sizeof(*b->member_at[i]));
	if (!pool->members || !b->member_at[i])
		return;
	for (uint32_t j = 0; j < n->n; j++)
		pool_member(b, pool, &n->pairs[j], &b->member_at[i][pool->n_members]);
}

void policy_parse_pools(struct policy_build *b, const struct doc_node *n)
{
	struct policy *p = b->p;

	if (!parse_named_section(b, n, KIND_POOL, "pools", (void **)&p->pools,
				 sizeof(*p->pools), offsetof(struct policy_pool, name),
				 offsetof(struct policy_pool, id), &p->n_pools))
		return;
	b->member_at = policy_arena_alloc(b->arena, p->n_pools ? p->n_pools : 1,
					  sizeof(*b->member_at));
	if (!b->member_at)
		return;
	for (uint32_t i = 0; i < p->n_pools; i++)
		pool_parse(b, i, n->pairs[i].key, n->pairs[i].value);
}

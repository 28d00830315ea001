/* parse_class: traffic classes. Classes are ordered and the first whose
 * match holds wins; the last is always "default" (implicit unless given
 * last without a match). A class says what its sessions need of an
 * egress: objective (how candidates are scored), limits, allowed regions,
 * inspection, and the pool their source addresses come from. */
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "policy/arena.h"
#include "policy/diag.h"
#include "policy/doc.h"
#include "policy/policy_internal.h"
#include "policy/value.h"

static const char *const class_keys[] = {
	"name", "match", "objective", "limits", "regions", "inspection", "pool", NULL,
};
enum { CLASS_NAME, CLASS_MATCH, CLASS_OBJECTIVE, CLASS_LIMITS, CLASS_REGIONS,
       CLASS_INSPECTION, CLASS_POOL };
static const char *const match_keys[] = {
	"protocol", "ports", "dscp", "destinations", "domains", "countries", "prefixes", NULL,
};
enum { MATCH_PROTOCOL, MATCH_PORTS, MATCH_DSCP, MATCH_DESTS, MATCH_DOMAINS,
       MATCH_COUNTRIES, MATCH_PREFIXES };
static const char *const weight_keys[] = {
	"rtt", "jitter", "loss", "price", "utilisation", NULL,
};
static const char *const limit_keys[] = { "max_loss", "max_rtt", "max_jitter", NULL };

static void class_ports(struct policy_build *b, struct policy_class *c,
			const struct doc_node *n)
{
	struct doc_node *const *items;
	size_t len;

	if (!policy_val_list(b->diag, n, "ports", &items, &len) || !len)
		return;
	c->ports = policy_arena_alloc(b->arena, len, sizeof(*c->ports));
	for (size_t i = 0; c->ports && i < len; i++)
		if (policy_val_ports(b->diag, items[i], &c->ports[c->n_ports]))
			c->n_ports++;
}

static void class_dscp(struct policy_build *b, struct policy_class *c,
		       const struct doc_node *n)
{
	struct doc_node *const *items;
	size_t len;
	uint8_t v;

	if (!policy_val_list(b->diag, n, "dscp", &items, &len))
		return;
	for (size_t i = 0; i < len; i++)
		if (policy_val_dscp(b->diag, items[i], &v))
			c->dscp_mask |= 1ull << v;
}

/* Inline domains / countries / prefixes: an anonymous destination set
 * named "class:NAME" (':' cannot be in a name, so it never clashes). */
static uint32_t class_inline_set(struct policy_build *b, const struct policy_class *c,
				 const struct doc_fields *m)
{
	uint32_t set = (uint32_t)b->p->n_dest_sets;
	struct policy_dest_set *ds;

	if (!m->vals[MATCH_DOMAINS] && !m->vals[MATCH_COUNTRIES] && !m->vals[MATCH_PREFIXES])
		return POLICY_NONE;
	if (!b->dests || set >= b->n_named_dests + b->max_inline_dests)
		return POLICY_NONE;
	ds = &b->p->dest_sets[set];
	snprintf(ds->name, sizeof(ds->name), "class:%.56s", c->name);
	ds->id = policy_name_id(ds->name);
	b->at[KIND_DEST][set] = m->keynodes[MATCH_DOMAINS] ? m->keynodes[MATCH_DOMAINS] :
				m->keynodes[MATCH_COUNTRIES] ? m->keynodes[MATCH_COUNTRIES] :
				m->keynodes[MATCH_PREFIXES];
	b->dests[set].at = b->at[KIND_DEST][set];
	b->p->n_dest_sets++;
	return set;
}

static void class_dests(struct policy_build *b, struct policy_class *c,
			const struct doc_fields *m)
{
	uint32_t *named = NULL, set;
	size_t n_named = 0;

	policy_build_refs(b, KIND_DEST, m->vals[MATCH_DESTS], "destinations", &named, &n_named);
	set = class_inline_set(b, c, m);
	if (set != POLICY_NONE)
		policy_parse_inline_dest(b, set, m->vals[MATCH_DOMAINS],
					 m->vals[MATCH_COUNTRIES], m->vals[MATCH_PREFIXES]);
	c->dest_sets = policy_arena_alloc(b->arena, n_named + 1, sizeof(*c->dest_sets));
	if (!c->dest_sets)
		return;
	if (n_named)
		memcpy(c->dest_sets, named, n_named * sizeof(*named));
	c->n_dest_sets = n_named;
	if (set != POLICY_NONE)
		c->dest_sets[c->n_dest_sets++] = set;
}

/* True if the class has any condition. */
static bool class_match(struct policy_build *b, struct policy_class *c,
			const struct doc_node *n, const char *cls)
{
	struct doc_fields m = { .keys = match_keys };
	char what[128];

	snprintf(what, sizeof(what), "match of %s", cls);
	if (!n || !policy_doc_fields(b->diag, n, what, &m))
		return false;
	if (m.vals[MATCH_PROTOCOL])
		policy_val_protocol(b->diag, m.vals[MATCH_PROTOCOL], &c->protocol);
	class_ports(b, c, m.vals[MATCH_PORTS]);
	class_dscp(b, c, m.vals[MATCH_DSCP]);
	class_dests(b, c, &m);
	return c->protocol || c->n_ports || c->dscp_mask || c->n_dest_sets ||
	       (n->type == DOC_MAP && n->n);
}

static void class_objective(struct policy_build *b, struct policy_class *c,
			    const struct doc_node *n)
{
	struct doc_fields f = { .keys = weight_keys };
	double *w[] = { &c->weights.rtt_ms, &c->weights.jitter_ms, &c->weights.loss_pct,
			&c->weights.price_per_gb, &c->weights.utilisation_pct };

	c->objective = POLICY_OBJ_BALANCED;
	if (n && n->type == DOC_SCALAR && !policy_doc_is_null(n)) {
		if (!strcmp(n->str, "latency"))
			c->objective = POLICY_OBJ_LATENCY;
		else if (!strcmp(n->str, "cost"))
			c->objective = POLICY_OBJ_COST;
		else if (strcmp(n->str, "balanced"))
			policy_diag_at(b->diag, n, "unknown objective \"%.64s\"; expected latency, "
				       "cost, balanced or weights {rtt, jitter, loss, price, "
				       "utilisation}", n->str);
	} else if (n && policy_doc_fields(b->diag, n, "objective", &f)) {
		c->objective = POLICY_OBJ_WEIGHTS;
		c->weights = (struct policy_weights){ 0 };
		for (size_t i = 0; i < 5; i++)
			if (f.vals[i])
				policy_val_number(b->diag, f.vals[i], weight_keys[i], 0, 1e9, w[i]);
		return;
	}
	c->weights = policy_objective_weights(c->objective);
}

static void class_limits(struct policy_build *b, struct policy_class *c,
			 const struct doc_node *n)
{
	struct doc_fields f = { .keys = limit_keys };
	monotime_ns t;

	if (!n || !policy_doc_fields(b->diag, n, "limits", &f))
		return;
	if (f.vals[0])
		policy_val_percent(b->diag, f.vals[0], "max_loss", &c->max_loss_pct);
	if (f.vals[1] && policy_val_duration(b->diag, f.vals[1], "max_rtt", 0, &t))
		c->max_rtt_ms = (double)t / NSEC_PER_MSEC;
	if (f.vals[2] && policy_val_duration(b->diag, f.vals[2], "max_jitter", 0, &t))
		c->max_jitter_ms = (double)t / NSEC_PER_MSEC;
}

/* The class's pool, else the pool named "default" (when pools exist). */
static void class_pool(struct policy_build *b, struct policy_class *c,
		       const struct doc_node *pool, const struct doc_node *at)
{
	c->pool = POLICY_NONE;
	if (pool) {
		c->pool = policy_build_ref(b, KIND_POOL, pool);
		return;
	}
	c->pool = policy_strmap_gets(&b->names[KIND_POOL], "default");
	if (c->pool != UINT32_MAX || !b->p->n_pools)
		return;
	if (at)
		policy_diag_at(b->diag, at, "class \"%s\" has no pool and there is no pool "
			       "named \"default\"", c->name);
	else
		policy_diag_at(b->diag, b->pools_at, "there is no pool named \"default\" for "
			       "the implicit last class \"default\"; add one, or end the classes "
			       "with a class named default that has a pool");
}

static void class_parse(struct policy_build *b, uint32_t i, const struct doc_node *n,
			bool last)
{
	struct policy_class *c = &b->p->classes[i];
	struct doc_fields f = { .keys = class_keys };
	char what[96];
	bool any;

	c->pool = POLICY_NONE;
	b->at[KIND_CLASS][i] = n;
	snprintf(what, sizeof(what), "class \"%.64s\"", policy_doc_name_of(n));
	if (!policy_doc_fields(b->diag, n, what, &f))
		return;
	if (!f.vals[CLASS_NAME])
		policy_diag_at(b->diag, n, "class has no name");
	else if (policy_val_name(b->diag, f.vals[CLASS_NAME], "class", c->name))
		policy_build_name(b, KIND_CLASS, f.vals[CLASS_NAME], c->name, i);
	c->id = policy_name_id(c->name);
	any = class_match(b, c, f.vals[CLASS_MATCH], what);
	if (!strcmp(c->name, "default") && (!last || any))
		policy_diag_at(b->diag, f.vals[CLASS_NAME], "class \"default\" must be the last "
			       "class and have no match: it takes what no other class matched");
	else if (!any && !last)
		policy_diag_at(b->diag, f.vals[CLASS_NAME] ? f.vals[CLASS_NAME] : n,
			       "class \"%s\" has no match, so it matches everything and the "
			       "classes after it are never used", c->name);
	class_objective(b, c, f.vals[CLASS_OBJECTIVE]);
	class_limits(b, c, f.vals[CLASS_LIMITS]);
	policy_build_refs(b, KIND_REGION, f.vals[CLASS_REGIONS], "regions",
			  &c->allowed_regions, &c->n_allowed_regions);
	if (f.vals[CLASS_INSPECTION])
		policy_val_bool(b->diag, f.vals[CLASS_INSPECTION], "inspection", &c->inspection);
	b->inspection_at[i] = c->inspection ? f.vals[CLASS_INSPECTION] : NULL;
	class_pool(b, c, f.vals[CLASS_POOL], f.vals[CLASS_NAME] ? f.vals[CLASS_NAME] : n);
}

static void class_implicit_default(struct policy_build *b)
{
	struct policy_class *c = &b->p->classes[b->p->n_classes++];

	snprintf(c->name, sizeof(c->name), "default");
	c->id = policy_name_id(c->name);
	c->objective = POLICY_OBJ_BALANCED;
	c->weights = policy_objective_weights(c->objective);
	class_pool(b, c, NULL, NULL);
}

void policy_parse_classes(struct policy_build *b, const struct doc_node *n)
{
	struct policy *p = b->p;
	struct doc_node *const *items;
	size_t len = 0;

	policy_val_list(b->diag, n, "classes", &items, &len);
	p->classes = policy_arena_alloc(b->arena, len + 1, sizeof(*p->classes));
	b->at[KIND_CLASS] = policy_arena_alloc(b->arena, len + 1, sizeof(void *));
	b->inspection_at = policy_arena_alloc(b->arena, len + 1, sizeof(void *));
	if (!p->classes || !b->at[KIND_CLASS] || !b->inspection_at)
		return;
	p->n_classes = len;
	for (uint32_t i = 0; i < len; i++)
		class_parse(b, i, items[i], i + 1 == len);
	if (policy_strmap_gets(&b->names[KIND_CLASS], "default") == UINT32_MAX)
		class_implicit_default(b);
}

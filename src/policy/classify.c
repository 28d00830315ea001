/* classify: the data path's question, "what is this new session?".
 * Identity first (device -> user -> groups), then the destination sets
 * that hold dst (one prefix map lookup, the country's sets, the domain's
 * sets), then the first class whose match holds, then the first rule that
 * holds, visiting only the rule buckets this session can match, merged in
 * rule order so that first-match semantics are kept. Pure: reads the
 * immutable policy and the caller's stack. */
#include <netinet/in.h>
#include <string.h>

#include "policy/geoip.h"
#include "policy/policy_internal.h"

#define CLASSIFY_MAX_SPANS  (DOMAIN_MAX_LABELS + 3)
#define CLASSIFY_MAX_CURSORS 256

struct classify_span {
	const uint32_t *v;
	size_t n;
};

struct classify_ctx {
	const struct policy *p;
	const struct policy_session *s;
	uint32_t user, device, class_;
	const uint32_t *groups;
	size_t n_groups;
	struct classify_span sets[CLASSIFY_MAX_SPANS];	/* sets that hold dst */
	size_t n_sets;
};

static void classify_identity(struct classify_ctx *x)
{
	const struct policy *p = x->p;
	const struct policy_session *s = x->s;

	x->device = s->device < p->n_devices ? s->device : POLICY_NONE;
	if (x->device != POLICY_NONE)
		x->user = p->devices[x->device].user;
	else
		x->user = s->user < p->n_users ? s->user : POLICY_NONE;
	if (x->user != POLICY_NONE) {
		x->groups = p->users[x->user].groups;
		x->n_groups = p->users[x->user].n_groups;
	}
}

static void classify_add_list(struct classify_ctx *x, uint32_t id)
{
	size_t n;
	const uint32_t *v;

	if (id == SETLIST_EMPTY || x->n_sets == CLASSIFY_MAX_SPANS)
		return;
	v = policy_setlist_items(&x->p->compiled->lists, id, &n);
	x->sets[x->n_sets++] = (struct classify_span){ v, n };
}

/* The destination sets that hold dst, its country and its region. */
static void classify_destination(struct classify_ctx *x, struct policy_decision *out)
{
	const struct policy_compiled *c = x->p->compiled;
	uint32_t ids[DOMAIN_MAX_LABELS + 1], region;
	size_t n_ids, n;

	classify_add_list(x, policy_prefix_map_lookup(&c->dests, &x->s->dst));
	if (c->has_geoip && policy_geoip_country(&c->geoip, &x->s->dst, out->country))
		classify_add_list(x, c->country_sets[policy_country_index(out->country)]);
	n_ids = policy_domain_map_lookup(&c->domains, x->s->domain, ids);
	for (size_t i = 0; i < n_ids; i++)
		classify_add_list(x, ids[i]);
	region = policy_prefix_map_lookup(&c->regions, &x->s->dst);
	if (region != SETLIST_EMPTY)
		out->dst_region = policy_setlist_items(&c->lists, region, &n)[0];
	else if (out->country[0])
		out->dst_region = c->country_region[policy_country_index(out->country)];
}

static bool classify_in_sets(const struct classify_ctx *x, const uint32_t *sets, size_t n)
{
	for (size_t i = 0; i < x->n_sets; i++)
		if (policy_sorted_intersects(sets, n, x->sets[i].v, x->sets[i].n))
			return true;
	return false;
}

static bool classify_class_matches(const struct classify_ctx *x, const struct policy_class *c)
{
	const struct policy_session *s = x->s;
	bool ok = !c->n_ports;

	if (c->protocol == IPPROTO_ICMP ?
	    s->protocol != IPPROTO_ICMP && s->protocol != IPPROTO_ICMPV6 :
	    c->protocol && c->protocol != s->protocol)
		return false;
	for (size_t i = 0; i < c->n_ports && !ok; i++)
		ok = s->dport >= c->ports[i].lo && s->dport <= c->ports[i].hi;
	if (!ok || (c->dscp_mask && (s->dscp > 63 || !(c->dscp_mask >> s->dscp & 1))))
		return false;
	return !c->n_dest_sets || classify_in_sets(x, c->dest_sets, c->n_dest_sets);
}

static uint32_t classify_class(const struct classify_ctx *x)
{
	const struct policy *p = x->p;

	for (uint32_t i = 0; i + 1 < p->n_classes; i++)
		if (classify_class_matches(x, &p->classes[i]))
			return i;
	return (uint32_t)p->n_classes - 1;	/* default */
}

static bool classify_rule_matches(const struct classify_ctx *x, const struct policy_rule *r)
{
	if (r->n_users && (x->user == POLICY_NONE ||
			   !policy_sorted_contains(r->users, r->n_users, x->user)))
		return false;
	if (r->n_groups && !policy_sorted_intersects(r->groups, r->n_groups, x->groups,
						     x->n_groups))
		return false;
	if (r->n_devices && (x->device == POLICY_NONE ||
			     !policy_sorted_contains(r->devices, r->n_devices, x->device)))
		return false;
	if (r->n_classes && !policy_sorted_contains(r->classes, r->n_classes, x->class_))
		return false;
	return !r->n_dest_sets || classify_in_sets(x, r->dest_sets, r->n_dest_sets);
}

struct classify_cursor {
	const uint32_t *v, *end;
};

struct classify_merge {
	struct classify_cursor c[CLASSIFY_MAX_CURSORS];
	size_t n;
	bool overflow;
};

static void classify_bucket(struct classify_merge *m, const struct policy_rule_index *ri,
			    const struct policy_bucket *b)
{
	if (!b || !b->n)
		return;
	if (m->n == CLASSIFY_MAX_CURSORS) {
		m->overflow = true;
		return;
	}
	m->c[m->n++] = (struct classify_cursor){ ri->rules + b->off, ri->rules + b->off + b->n };
}

/* A subject's plain bucket and, when its class has any, its class bucket. */
static void classify_subject(const struct classify_ctx *x, struct classify_merge *m,
			     enum policy_rule_dim dim, uint32_t subject,
			     const struct policy_bucket *plain)
{
	const struct policy_rule_index *ri = &x->p->compiled->rules;

	if (!ri->dim_used[dim])
		return;
	classify_bucket(m, ri, plain);
	if (ri->class_has_rules[x->class_])
		classify_bucket(m, ri, policy_rule_index_find(ri, dim, subject, x->class_));
}

/* Every bucket this session can match: global, its device, its user, its
 * groups, the destination sets that hold dst; each also by its class. */
static void classify_buckets(const struct classify_ctx *x, struct classify_merge *m)
{
	const struct policy_rule_index *ri = &x->p->compiled->rules;

	classify_subject(x, m, DIM_GLOBAL, 0, &ri->global);
	if (x->device != POLICY_NONE)
		classify_subject(x, m, DIM_DEVICE, x->device, &ri->by_device[x->device]);
	if (x->user != POLICY_NONE)
		classify_subject(x, m, DIM_USER, x->user, &ri->by_user[x->user]);
	for (size_t i = 0; i < x->n_groups; i++)
		classify_subject(x, m, DIM_GROUP, x->groups[i], &ri->by_group[x->groups[i]]);
	for (size_t i = 0; i < x->n_sets && ri->dim_used[DIM_DEST]; i++)
		for (size_t j = 0; j < x->sets[i].n; j++)
			classify_subject(x, m, DIM_DEST, x->sets[i].v[j],
					 &ri->by_dest[x->sets[i].v[j]]);
}

/* The smallest rule index at the head of any cursor, consumed from every
 * cursor that holds it; UINT32_MAX when all are done. */
static uint32_t classify_next(struct classify_merge *m)
{
	uint32_t best = UINT32_MAX;

	for (size_t i = 0; i < m->n; i++)
		if (*m->c[i].v < best)
			best = *m->c[i].v;
	for (size_t i = 0; i < m->n;) {
		if (*m->c[i].v == best && ++m->c[i].v == m->c[i].end)
			m->c[i] = m->c[--m->n];
		else
			i++;
	}
	return best;
}

static uint32_t classify_rule(const struct classify_ctx *x)
{
	const struct policy *p = x->p;
	struct classify_merge m;
	uint32_t r;

	m.n = 0;
	m.overflow = false;
	classify_buckets(x, &m);
	if (m.overflow) {
		/* A session in more sets than cursors: every rule, in order. */
		for (r = 0; r < p->n_rules; r++)
			if (classify_rule_matches(x, &p->rules[r]))
				return r;
		return POLICY_NONE;
	}
	while ((r = classify_next(&m)) != UINT32_MAX)
		if (classify_rule_matches(x, &p->rules[r]))
			return r;
	return POLICY_NONE;
}

void policy_classify(const struct policy *p, const struct policy_session *s,
		     struct policy_decision *out)
{
	struct classify_ctx x = { .p = p, .s = s, .user = POLICY_NONE };

	memset(out, 0, sizeof(*out));
	out->dst_region = POLICY_NONE;
	classify_identity(&x);
	out->user = x.user;
	classify_destination(&x, out);
	x.class_ = classify_class(&x);
	out->class_ = x.class_;
	out->rule = classify_rule(&x);
	out->action = out->rule == POLICY_NONE ? p->default_action : p->rules[out->rule].action;
}

bool policy_is_overlay(const struct policy *p, const struct ip_addr *dst)
{
	for (size_t i = 0; i < p->n_overlay; i++)
		if (ip_prefix_contains(&p->overlay[i], dst))
			return true;
	return false;
}

/* ---- egress pool addresses ---- */

#define POOL_MAX_HOSTS 65536u	/* per prefix: a /64 is not 2^64 choices */

static uint64_t pool_mix(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static uint64_t pool_hash_prefix(uint64_t seed, const struct ip_prefix *pfx)
{
	uint64_t h = pool_mix(seed ^ pfx->len);

	for (size_t i = 0; i < 16; i += 8) {
		uint64_t w;

		memcpy(&w, pfx->addr.a + i, 8);
		h = pool_mix(h ^ w);
	}
	return h;
}

/* -ln(u) for u in (0, 1), without libm: u = m * 2^e with m in [1, 2),
 * ln(m) = 2 atanh((m - 1) / (m + 1)) by its series. Precise to ~1e-9,
 * plenty for ranking, and the same on every node. */
static double pool_neg_ln(double u)
{
	uint64_t bits;
	double m, t, t2, sum = 0, term;
	int e;

	memcpy(&bits, &u, sizeof(bits));
	e = (int)((bits >> 52) & 0x7ff) - 1023;
	bits = (bits & 0x000fffffffffffffull) | 0x3ff0000000000000ull;
	memcpy(&m, &bits, sizeof(m));
	t = (m - 1) / (m + 1);
	t2 = t * t;
	term = t;
	for (int k = 1; k < 40; k += 2) {
		sum += term / k;
		term *= t2;
	}
	return -(e * 0.69314718055994530942 + 2 * sum);
}

/* Usable hosts of a prefix and the first one: IPv4 skips the network and
 * broadcast addresses below /31, IPv6 the subnet-router anycast below
 * /127. */
static uint32_t pool_hosts(const struct ip_prefix *pfx, uint32_t *first)
{
	unsigned host_bits = (unsigned)ip_addr_bits(pfx->addr.family) - pfx->len;
	uint64_t n = host_bits >= 32 ? UINT64_MAX : 1ull << host_bits;
	unsigned edge = pfx->addr.family == AF_INET ? 31 : 127;

	*first = 0;
	if (pfx->len < edge) {
		*first = 1;
		n -= pfx->addr.family == AF_INET ? 2 : 1;
	}
	return n > POOL_MAX_HOSTS ? POOL_MAX_HOSTS : (uint32_t)n;
}

static void pool_add(struct ip_addr *a, uint32_t off)
{
	size_t i = ip_addr_bytes(a->family);
	uint64_t carry = off;

	while (carry && i--) {
		carry += a->a[i];
		a->a[i] = (uint8_t)carry;
		carry >>= 8;
	}
}

bool policy_pool_address(const struct policy *p, uint32_t pool, uint32_t node,
			 uint32_t user_id, int family, struct ip_addr *out)
{
	const struct policy_pool_member *m = NULL;
	const struct ip_prefix *best = NULL;
	double best_score = -1;
	uint64_t seed;
	uint32_t first, count;

	if (pool >= p->n_pools || node >= p->n_nodes)
		return false;
	for (size_t i = 0; i < p->pools[pool].n_members && !m; i++)
		if (p->pools[pool].members[i].node == node)
			m = &p->pools[pool].members[i];
	if (!m || !m->n_prefixes)
		return false;
	seed = pool_mix((uint64_t)user_id << 32 ^ p->pools[pool].id);
	/* Weighted rendezvous over the prefixes: adding a prefix moves only
	 * the users it wins, not everyone. */
	for (size_t i = 0; i < m->n_prefixes; i++) {
		uint64_t h = pool_hash_prefix(seed, &m->prefixes[i]);

		if (family && m->prefixes[i].addr.family != family)
			continue;
		double u = ((double)(h >> 11) + 0.5) / 9007199254740992.0;
		double score = pool_hosts(&m->prefixes[i], &first) / pool_neg_ln(u);

		if (score > best_score) {
			best_score = score;
			best = &m->prefixes[i];
		}
	}
	if (!best)
		return false;
	count = pool_hosts(best, &first);
	*out = best->addr;
	pool_add(out, first + (uint32_t)(pool_mix(seed ^ 0x5bd1e995u) % count));
	return true;
}

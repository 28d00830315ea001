/* select: the routing engine's decision for a new session (select.h has
 * the rules). One pass evaluates every node view in the documented
 * constraint order and scores the survivors; then the stability context
 * of (class, destination region) may hold the incumbent against a
 * challenger; then near-equal candidates share users by weighted
 * rendezvous hashing. Every candidate leaves with a reason and a sentence,
 * which is all `egressctl explain` prints. The only state is the
 * stability table, and commit = false works on a copy of its entry. */
#include "routing/select.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *const route_reason_names[ROUTE_REASON__MAX] = {
	[ROUTE_CHOSEN] = "chosen",
	[ROUTE_NOT_EGRESS] = "not-egress",
	[ROUTE_REGION_NOT_ALLOWED] = "region-not-allowed",
	[ROUTE_NO_INSPECTION] = "no-inspection",
	[ROUTE_NOT_IN_POOL] = "not-in-pool",
	[ROUTE_NO_USABLE_PATH] = "no-usable-path",
	[ROUTE_NO_CAPACITY] = "no-capacity",
	[ROUTE_OVER_LIMIT] = "over-limit",
	[ROUTE_HIGHER_SCORE] = "higher-score",
	[ROUTE_HASHED_ELSEWHERE] = "hashed-elsewhere",
	[ROUTE_INCUMBENT_HELD] = "incumbent-held",
};

const char *const route_region_source_names[ROUTE_REGION__MAX] = {
	[ROUTE_REGION_UNKNOWN] = "unknown",
	[ROUTE_REGION_SELF] = "own-probes",
	[ROUTE_REGION_PROBE] = "probe-reply",
	[ROUTE_REGION_CONTROLLER] = "controller",
};

/* ---- the stability table ---- */

struct stability_ctx {
	uint32_t class_id, region_id;
	uint32_t incumbent, challenger;		/* node name ids */
	bool has_incumbent, has_challenger;
	monotime_ns since;			/* challenger better since */
	uint64_t last_used;			/* for recycling the oldest */
};

/* Contexts in an array; an open-addressing index over it (position + 1,
 * 0 = empty) is rebuilt whenever a context is recycled, which only
 * happens once the table is full. */
struct route_stability {
	struct stability_ctx *ctx;
	size_t n, max;
	uint32_t *index;
	size_t index_mask;
	uint64_t uses;
};

static uint64_t splitmix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static size_t ctx_slot(const struct route_stability *s, uint32_t class_id, uint32_t region_id)
{
	return (size_t)splitmix64((uint64_t)class_id << 32 | region_id) & s->index_mask;
}

struct route_stability *route_stability_create(size_t max_contexts)
{
	struct route_stability *s = calloc(1, sizeof(*s));
	size_t slots = 4;

	if (!s)
		return NULL;
	s->max = max_contexts ? max_contexts : 1;
	while (slots < 2 * s->max)
		slots *= 2;
	s->ctx = calloc(s->max, sizeof(*s->ctx));
	s->index = calloc(slots, sizeof(*s->index));
	s->index_mask = slots - 1;
	if (!s->ctx || !s->index || s->max > UINT32_MAX - 1) {
		route_stability_destroy(s);
		return NULL;
	}
	return s;
}

void route_stability_destroy(struct route_stability *s)
{
	if (!s)
		return;
	free(s->ctx);
	free(s->index);
	free(s);
}

static struct stability_ctx *ctx_find(const struct route_stability *s, uint32_t class_id,
				      uint32_t region_id)
{
	for (size_t i = ctx_slot(s, class_id, region_id);; i = (i + 1) & s->index_mask) {
		struct stability_ctx *c;

		if (!s->index[i])
			return NULL;
		c = &s->ctx[s->index[i] - 1];
		if (c->class_id == class_id && c->region_id == region_id)
			return c;
	}
}

static void index_insert(struct route_stability *s, size_t pos)
{
	size_t i = ctx_slot(s, s->ctx[pos].class_id, s->ctx[pos].region_id);

	while (s->index[i])
		i = (i + 1) & s->index_mask;
	s->index[i] = (uint32_t)pos + 1;
}

/* A new context: a free one, else the least recently used one. */
static struct stability_ctx *ctx_add(struct route_stability *s, const struct stability_ctx *v)
{
	size_t pos = s->n, i;

	if (s->n < s->max) {
		s->n++;
	} else {
		for (pos = 0, i = 1; i < s->n; i++)
			if (s->ctx[i].last_used < s->ctx[pos].last_used)
				pos = i;
		memset(s->index, 0, (s->index_mask + 1) * sizeof(*s->index));
		for (i = 0; i < s->n; i++)
			if (i != pos)
				index_insert(s, i);
	}
	s->ctx[pos] = *v;
	index_insert(s, pos);
	return &s->ctx[pos];
}

/* ---- evaluation of one candidate ---- */

/* The detail sentences are written by hand, not by snprintf: with 64
 * candidates, printf's float conversion was 70 % of a decision. A text
 * is always terminated and silently truncated at its capacity. */
struct text {
	char *buf;
	size_t cap, len;
};

static struct text text_on(char *buf, size_t cap)
{
	buf[0] = '\0';
	return (struct text){ .buf = buf, .cap = cap };
}

static void put_c(struct text *t, char ch)
{
	if (t->len + 1 < t->cap) {
		t->buf[t->len++] = ch;
		t->buf[t->len] = '\0';
	}
}

static void put_s(struct text *t, const char *s)
{
	while (*s)
		put_c(t, *s++);
}

static void put_u(struct text *t, uint64_t v)
{
	char digits[20];
	int n = 0;

	do {
		digits[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		put_c(t, digits[--n]);
}

/* v with 0..3 decimals, rounded half up. */
static void put_f(struct text *t, double v, unsigned decimals)
{
	uint64_t scale = 1, x;

	if (isnan(v) || v >= 1e15 || v <= -1e15) {
		put_s(t, isnan(v) ? "nan" : v < 0 ? "-huge" : "huge");
		return;
	}
	if (v < 0) {
		put_c(t, '-');
		v = -v;
	}
	for (unsigned i = 0; i < decimals && i < 3; i++)
		scale *= 10;
	x = (uint64_t)(v * (double)scale + 0.5);
	put_u(t, x / scale);
	if (scale > 1)
		put_c(t, '.');
	for (uint64_t d = scale / 10; d; d /= 10)
		put_c(t, (char)('0' + x / d % 10));
}

/* As %g does for settings: 5 -> "5", 2.5 -> "2.5", 0.25 -> "0.25". */
static void put_g(struct text *t, double v)
{
	uint64_t x = v >= 0 && v < 1e15 ? (uint64_t)(v * 100 + 0.5) : 1;

	put_f(t, v, x % 100 == 0 ? 0 : x % 10 == 0 ? 1 : 2);
}

static void put_ms(struct text *t, double v)
{
	put_f(t, v, 1);
	put_s(t, " ms");
}

static void put_pct(struct text *t, double v, unsigned decimals)
{
	put_f(t, v, decimals);
	put_c(t, '%');
}

static struct text detail_of(struct route_candidate *c)
{
	return text_on(c->detail, sizeof(c->detail));
}

static void reject(struct route_candidate *c, enum route_reason why)
{
	c->reason = why;
	c->score = NAN;
}

static const char *node_name(const struct policy *p, uint32_t node)
{
	return node < p->n_nodes ? p->nodes[node].name : "?";
}

static const char *region_name(const struct policy *p, uint32_t region)
{
	return region < p->n_regions ? p->regions[region].name : "?";
}

static double path_score(const struct policy_weights *w, const struct path_metrics *m)
{
	return w->rtt_ms * m->srtt_ms + w->jitter_ms * m->jitter_ms + w->loss_pct * m->loss_pct;
}

static struct policy_weights class_weights(const struct policy_class *cls)
{
	if (cls)
		return cls->weights;
	/* The latency preset, for a caller without a class. */
	return (struct policy_weights){ .rtt_ms = 1, .jitter_ms = 1, .loss_pct = 2,
					.utilisation_pct = 0.05 };
}

/* Position in node->paths of the best usable path: UP before DEGRADED,
 * then the lowest path score. */
static int best_path_pos(const struct policy_weights *w, const struct route_node_view *node)
{
	static const enum path_state order[] = { PATH_UP, PATH_DEGRADED };

	for (size_t k = 0; k < sizeof(order) / sizeof(order[0]); k++) {
		double best_score = INFINITY;
		int best = -1;

		for (size_t i = 0; i < node->n_paths; i++) {
			double s = path_score(w, &node->paths[i].metrics);

			if (node->paths[i].state == order[k] && (best < 0 || s < best_score)) {
				best = (int)i;
				best_score = s;
			}
		}
		if (best >= 0)
			return best;
	}
	return -1;
}

int route_best_path(const struct policy_class *cls, const struct route_node_view *node)
{
	struct policy_weights w = class_weights(cls);
	int pos;

	if (node->is_self)
		return ROUTE_PATH_LOCAL;
	pos = best_path_pos(&w, node);
	return pos < 0 ? -1 : node->paths[pos].index;
}

/* The metrics every candidate shows, filtered or not. */
static void fill_metrics(const struct policy *p, const struct policy_class *cls,
			 const struct route_node_view *v, struct route_candidate *c)
{
	struct policy_weights w = class_weights(cls);
	double region = v->region_rtt_ms >= 0 ? v->region_rtt_ms : 0;
	int pos = v->is_self ? -1 : best_path_pos(&w, v);

	c->node = v->node;
	c->region_rtt_ms = v->region_rtt_ms;
	c->region_source = v->region_rtt_ms >= 0 ? v->region_source : ROUTE_REGION_UNKNOWN;
	c->price = v->node < p->n_nodes ? p->nodes[v->node].price_per_gb : 0;
	c->utilisation_pct = v->utilisation_pct;
	c->rtt_ms = region;
	if (v->is_self) {
		c->path = ROUTE_PATH_LOCAL;
		c->path_state = PATH_UP;
	} else if (pos >= 0) {
		const struct path_metrics *m = &v->paths[pos].metrics;

		c->path = v->paths[pos].index;
		c->path_state = v->paths[pos].state;
		c->rtt_ms += m->srtt_ms;
		c->jitter_ms = m->jitter_ms;
		c->loss_pct = m->loss_pct;
	} else {
		c->path_state = v->n_paths ? PATH_DOWN : PATH_UNKNOWN;
	}
}

static bool region_allowed(const struct policy *p, const struct policy_class *cls,
			   uint32_t region, struct route_candidate *c)
{
	struct text t = detail_of(c);

	for (size_t i = 0; i < cls->n_allowed_regions; i++)
		if (cls->allowed_regions[i] == region)
			return true;
	put_s(&t, "region ");
	put_s(&t, region_name(p, region));
	put_s(&t, " not in [");
	for (size_t i = 0; i < cls->n_allowed_regions; i++) {
		if (i)
			put_c(&t, ',');
		put_s(&t, region_name(p, cls->allowed_regions[i]));
	}
	put_c(&t, ']');
	return false;
}

static bool in_pool(const struct policy *p, const struct policy_class *cls, uint32_t node,
		    struct route_candidate *c)
{
	const struct policy_pool *pool;
	struct text t;

	if (cls->pool == POLICY_NONE || cls->pool >= p->n_pools)
		return true;
	pool = &p->pools[cls->pool];
	for (size_t i = 0; i < pool->n_members; i++)
		if (pool->members[i].node == node)
			return true;
	t = detail_of(c);
	put_s(&t, "not a member of pool ");
	put_s(&t, pool->name);
	return false;
}

static void no_path_detail(const struct route_node_view *v, struct route_candidate *c)
{
	struct text t = detail_of(c);
	size_t down = 0;

	for (size_t i = 0; i < v->n_paths; i++)
		down += v->paths[i].state == PATH_DOWN;
	if (!v->n_paths) {
		put_s(&t, "no paths");
	} else if (down == v->n_paths) {
		put_s(&t, "all ");
		put_u(&t, down);
		put_s(&t, " paths down");
	} else {
		put_s(&t, "no usable path: ");
		put_u(&t, down);
		put_s(&t, " of ");
		put_u(&t, v->n_paths);
		put_s(&t, " down, ");
		put_u(&t, v->n_paths - down);
		put_s(&t, " unknown");
	}
}

static bool within_limits(const struct policy_class *cls, struct route_candidate *c)
{
	struct text t = detail_of(c);

	if (cls->max_loss_pct > 0 && c->loss_pct > cls->max_loss_pct) {
		put_s(&t, "loss ");
		put_pct(&t, c->loss_pct, 1);
		put_s(&t, " > limit ");
		put_pct(&t, cls->max_loss_pct, 1);
	} else if (cls->max_rtt_ms > 0 && c->rtt_ms > cls->max_rtt_ms) {
		put_s(&t, "rtt ");
		put_ms(&t, c->rtt_ms);
		put_s(&t, " > limit ");
		put_ms(&t, cls->max_rtt_ms);
	} else if (cls->max_jitter_ms > 0 && c->jitter_ms > cls->max_jitter_ms) {
		put_s(&t, "jitter ");
		put_ms(&t, c->jitter_ms);
		put_s(&t, " > limit ");
		put_ms(&t, cls->max_jitter_ms);
	} else {
		return true;
	}
	return false;
}

static double candidate_score(const struct policy_weights *w, const struct route_candidate *c)
{
	return w->rtt_ms * c->rtt_ms + w->jitter_ms * c->jitter_ms + w->loss_pct * c->loss_pct +
	       w->price_per_gb * c->price + w->utilisation_pct * c->utilisation_pct;
}

/* The constraints in the documented order; the first that fails is the
 * reason. Survivors (and those only over a limit) get a score. */
static void evaluate(const struct policy *p, const struct policy_class *cls,
		     const struct route_node_view *v, struct route_candidate *c)
{
	const struct policy_node *pn = v->node < p->n_nodes ? &p->nodes[v->node] : NULL;
	struct policy_weights w = class_weights(cls);
	double max_util = p->selection.max_utilisation_pct;
	struct text t = detail_of(c);

	fill_metrics(p, cls, v, c);
	c->reason = ROUTE_CHOSEN;
	if (!pn || !(pn->roles & POLICY_ROLE_EGRESS)) {
		put_s(&t, pn ? pn->name : "unknown node");
		put_s(&t, " is not an egress node");
		reject(c, ROUTE_NOT_EGRESS);
	} else if (cls->n_allowed_regions && !region_allowed(p, cls, pn->region, c)) {
		reject(c, ROUTE_REGION_NOT_ALLOWED);
	} else if (cls->inspection && !(pn->roles & POLICY_ROLE_INSPECTION)) {
		put_s(&t, "inspection required; ");
		put_s(&t, pn->name);
		put_s(&t, " has no inspection role");
		reject(c, ROUTE_NO_INSPECTION);
	} else if (!in_pool(p, cls, v->node, c)) {
		reject(c, ROUTE_NOT_IN_POOL);
	} else if (!v->is_self && best_path_pos(&w, v) < 0) {
		no_path_detail(v, c);
		reject(c, ROUTE_NO_USABLE_PATH);
	} else if (max_util > 0 && v->utilisation_pct >= max_util) {
		put_s(&t, "utilisation ");
		put_pct(&t, v->utilisation_pct, 1);
		put_s(&t, " >= ");
		put_pct(&t, max_util, 1);
		reject(c, ROUTE_NO_CAPACITY);
	} else {
		c->score = candidate_score(&w, c);
		if (!within_limits(cls, c))
			c->reason = ROUTE_OVER_LIMIT;
	}
}

/* ---- choosing among the eligible ---- */

struct choice {
	const struct policy *p;
	struct route_decision *out;
	bool eligible[ROUTE_MAX_CANDIDATES];
	int best;		/* lowest score */
	int effective;		/* best, or the incumbent held against it */
	double gain_pct;	/* how much best beats a held incumbent by */
	monotime_ns held_for;	/* and for how long it has */
	bool held;		/* best is a challenger held back */
	bool in_spread[ROUTE_MAX_CANDIDATES];
	size_t n_spread;
};

static uint32_t candidate_id(const struct choice *ch, int i)
{
	uint32_t node = ch->out->candidates[i].node;

	return node < ch->p->n_nodes ? ch->p->nodes[node].id : POLICY_NONE;
}

static void mark_eligible(struct choice *ch)
{
	struct route_decision *out = ch->out;
	bool any = false;

	for (size_t i = 0; i < out->n_candidates; i++) {
		ch->eligible[i] = out->candidates[i].reason == ROUTE_CHOSEN;
		any = any || ch->eligible[i];
	}
	if (any)
		return;
	/* Limits are preferences: nobody meets them, so they are relaxed. */
	for (size_t i = 0; i < out->n_candidates; i++) {
		ch->eligible[i] = out->candidates[i].reason == ROUTE_OVER_LIMIT;
		out->limits_relaxed |= ch->eligible[i];
	}
}

static int find_best(const struct choice *ch)
{
	int best = -1;

	for (size_t i = 0; i < ch->out->n_candidates; i++)
		if (ch->eligible[i] && (best < 0 || ch->out->candidates[i].score <
						    ch->out->candidates[best].score))
			best = (int)i;
	return best;
}

static int find_by_id(const struct choice *ch, uint32_t id)
{
	for (size_t i = 0; i < ch->out->n_candidates; i++)
		if (ch->eligible[i] && candidate_id(ch, (int)i) == id)
			return (int)i;
	return -1;
}

static void promote(struct stability_ctx *ctx, uint32_t id)
{
	ctx->incumbent = id;
	ctx->has_incumbent = true;
	ctx->has_challenger = false;
}

/* Updates ctx (a copy when not committing) and sets ch->effective: a
 * challenger must beat the incumbent by the margin, continuously (as seen
 * by the decisions made), for switch_hold. An incumbent that is no longer
 * eligible is replaced at once: failover never waits. */
static void apply_stability(struct choice *ch, struct stability_ctx *ctx, monotime_ns now)
{
	const struct policy_selection_settings *sel = &ch->p->selection;
	int inc = ctx->has_incumbent ? find_by_id(ch, ctx->incumbent) : -1;
	uint32_t best_id = candidate_id(ch, ch->best);
	double s_inc;

	ch->effective = ch->best;
	if (inc < 0 || inc == ch->best) {
		promote(ctx, best_id);
		return;
	}
	s_inc = ch->out->candidates[inc].score;
	ch->gain_pct = s_inc > 0 ? 100 * (s_inc - ch->out->candidates[ch->best].score) / s_inc : 0;
	ch->effective = inc;
	ch->held = true;
	if (ch->gain_pct < sel->switch_margin_pct) {
		ctx->has_challenger = false;	/* not better enough: the clock restarts */
		return;
	}
	if (!ctx->has_challenger || ctx->challenger != best_id) {
		ctx->challenger = best_id;
		ctx->has_challenger = true;
		ctx->since = now;
	}
	ch->held_for = now - ctx->since;
	if (ch->held_for >= sel->switch_hold) {
		promote(ctx, best_id);
		ch->effective = ch->best;
		ch->held = false;
	}
}

/* ln(x) for x in (0, 1], by hand: the split into exponent and mantissa,
 * then the atanh series. Not libm's, so every node computes the same
 * rendezvous winner whatever its libm. */
static double ln_pos(double x)
{
	const double ln2 = 0.69314718055994530942;
	uint64_t bits;
	double m, z, z2, term, sum = 0;
	int e;

	memcpy(&bits, &x, sizeof(bits));
	e = (int)((bits >> 52) & 0x7ff) - 1023;
	bits = (bits & 0x000fffffffffffffULL) | 0x3ff0000000000000ULL;
	memcpy(&m, &bits, sizeof(m));
	if (m > 1.41421356237309504880) {
		m /= 2;
		e++;
	}
	z = (m - 1) / (m + 1);
	z2 = z * z;
	term = z;
	for (int k = 1; k < 24; k += 2) {	/* z < 0.172: 1e-17 by k = 23 */
		sum += term / k;
		term *= z2;
	}
	return 2 * sum + e * ln2;
}

/* Weighted rendezvous (highest random weight): -weight / ln(u), u in
 * (0, 1) from a 64-bit mix of (user, node). */
static double rendezvous(uint32_t user_id, uint32_t node_id, double score)
{
	uint64_t h = splitmix64((uint64_t)user_id << 32 | node_id);
	double u = ((double)(h >> 11) + 0.5) / 9007199254740992.0;
	double weight = score > 0 ? 1 / score : 1;

	return -weight / ln_pos(u);
}

/* Near-equal candidates (within spread_pct of the effective best, either
 * side) share the users; returns the one this user hashes to. */
static int spread(struct choice *ch, uint32_t user_id)
{
	double s_eff = ch->out->candidates[ch->effective].score;
	double tol = (s_eff > 0 ? s_eff : 0) * ch->p->selection.spread_pct / 100;
	double best_key = -1;
	int pick = ch->effective;

	for (size_t i = 0; i < ch->out->n_candidates; i++) {
		double s = ch->out->candidates[i].score, key;

		if (!ch->eligible[i] || s > s_eff + tol || s < s_eff - tol)
			continue;
		ch->in_spread[i] = true;
		ch->n_spread++;
		key = rendezvous(user_id, candidate_id(ch, (int)i), s);
		if (key > best_key) {
			best_key = key;
			pick = (int)i;
		}
	}
	return pick;
}

static void put_within_spread(struct text *t, const struct choice *ch)
{
	put_s(t, "within ");
	put_g(t, ch->p->selection.spread_pct);
	put_s(t, "% of best; user hashes ");
}

/* "beats it by 14% for 0.8s of 2s" or "beats it by 5%, less than the
 * 10% margin". */
static void put_challenge(struct text *t, const struct choice *ch)
{
	const struct policy_selection_settings *sel = &ch->p->selection;

	put_s(t, " by ");
	put_pct(t, ch->gain_pct, 0);
	if (ch->gain_pct >= sel->switch_margin_pct) {
		put_s(t, " for ");
		put_f(t, (double)ch->held_for / NSEC_PER_SEC, 1);
		put_s(t, "s of ");
		put_g(t, (double)sel->switch_hold / NSEC_PER_SEC);
		put_c(t, 's');
	} else {
		put_s(t, ", less than the ");
		put_g(t, sel->switch_margin_pct);
		put_s(t, "% margin");
	}
}

static void explain_chosen(const struct choice *ch, int pick)
{
	struct route_candidate *c = &ch->out->candidates[pick];
	char over[sizeof(c->detail)];
	struct text t;

	memcpy(over, c->detail, sizeof(over));	/* the limit it is over, if relaxed */
	t = detail_of(c);
	if (ch->n_spread > 1) {
		put_within_spread(&t, ch);
		put_s(&t, "here (1 of ");
		put_u(&t, ch->n_spread);
		put_c(&t, ')');
	} else if (ch->held) {
		put_s(&t, "incumbent; ");
		put_s(&t, node_name(ch->p, ch->out->candidates[ch->best].node));
		put_s(&t, " beats it");
		put_challenge(&t, ch);
	} else {
		put_s(&t, "lowest score ");
		put_f(&t, c->score, 1);
	}
	if (ch->out->limits_relaxed) {
		put_s(&t, "; limits relaxed (");
		put_s(&t, over);
		put_c(&t, ')');
	}
	c->reason = ROUTE_CHOSEN;
}

static void explain_loser(const struct choice *ch, int i, int pick)
{
	struct route_candidate *c = &ch->out->candidates[i];
	struct text t = detail_of(c);

	if (ch->in_spread[i]) {
		c->reason = ROUTE_HASHED_ELSEWHERE;
		put_within_spread(&t, ch);
		put_s(&t, "to ");
		put_s(&t, node_name(ch->p, ch->out->candidates[pick].node));
	} else if (ch->held && i == ch->best) {
		c->reason = ROUTE_INCUMBENT_HELD;
		put_s(&t, "beats incumbent ");
		put_s(&t, node_name(ch->p, ch->out->candidates[ch->effective].node));
		put_challenge(&t, ch);
	} else {
		c->reason = ROUTE_HIGHER_SCORE;
		put_s(&t, "score ");
		put_f(&t, c->score, 1);
		put_s(&t, " > ");
		put_f(&t, ch->out->candidates[pick].score, 1);
	}
}

static void stability_key(const struct policy *p, const struct policy_class *cls,
			  uint32_t dst_region, struct stability_ctx *key)
{
	memset(key, 0, sizeof(*key));
	key->class_id = cls->id;
	key->region_id = dst_region < p->n_regions ? p->regions[dst_region].id : POLICY_NONE;
}

static void choose(struct choice *ch, struct route_stability *stab, const struct policy_class *cls,
		   uint32_t dst_region, uint32_t user_id, monotime_ns now, bool commit)
{
	struct stability_ctx work, *ctx = NULL;
	int pick;

	stability_key(ch->p, cls, dst_region, &work);
	if (stab) {
		ctx = ctx_find(stab, work.class_id, work.region_id);
		if (ctx)
			work = *ctx;
		apply_stability(ch, &work, now);
		if (commit) {
			work.last_used = ++stab->uses;
			if (ctx)
				*ctx = work;
			else
				ctx_add(stab, &work);
		}
	} else {
		ch->effective = ch->best;
	}
	pick = spread(ch, user_id);
	for (size_t i = 0; i < ch->out->n_candidates; i++)
		if (ch->eligible[i] && (int)i != pick)
			explain_loser(ch, (int)i, pick);
	explain_chosen(ch, pick);
	ch->out->found = true;
	ch->out->node = ch->out->candidates[pick].node;
	ch->out->path = ch->out->candidates[pick].path;
	ch->out->score = ch->out->candidates[pick].score;
}

void route_select(const struct policy *p, const struct policy_class *cls,
		  uint32_t dst_region, uint32_t user_id,
		  const struct route_node_view *nodes, size_t n_nodes,
		  struct route_stability *stab, monotime_ns now, bool commit,
		  struct route_decision *out)
{
	struct choice ch = { .p = p, .out = out };

	out->found = false;
	out->node = POLICY_NONE;
	out->path = 0;
	out->score = NAN;
	out->limits_relaxed = false;
	out->n_candidates = n_nodes < ROUTE_MAX_CANDIDATES ? n_nodes : ROUTE_MAX_CANDIDATES;
	for (size_t i = 0; i < out->n_candidates; i++) {
		memset(&out->candidates[i], 0, sizeof(out->candidates[i]));
		evaluate(p, cls, &nodes[i], &out->candidates[i]);
	}
	mark_eligible(&ch);
	ch.best = find_best(&ch);
	if (ch.best < 0)
		return;
	choose(&ch, stab, cls, dst_region, user_id, now, commit);
}

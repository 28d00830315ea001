/* flow_summary: where this node's sessions egress, for the telemetry the
 * controller's dashboard shows ("egress_summary"). Active flows are
 * counted by pinned egress node, class and kind into a small fixed table
 * keyed by ids; names are resolved per row, not per flow.
 *
 * A small table is counted in one walk when telemetry asks (100,000 flows
 * take about 2.6 ms). A big one would stall the single-threaded data path
 * (a million flows: ~40 ms), so above SUMMARY_SYNC_MAX the node counts it
 * in pieces of SUMMARY_STEP_SLOTS slots, one per expiry tick (250 ms), and
 * telemetry sends the last finished pass: a million-slot table is counted
 * every 4 s, at most ~1 ms a tick. */
#include "node/report.h"

#include <stdlib.h>
#include <string.h>

/* Distinct (egress, class, kind) rows kept; flows beyond go to one
 * "other" row. Telemetry is stored up to 64 KiB, a row is ~70 bytes. */
#define SUMMARY_ROWS  128
#define SUMMARY_SLOTS 256		/* open addressing, at most half full */
#define SUMMARY_SYNC_MAX   65536	/* flows counted in one walk */
#define SUMMARY_STEP_SLOTS 65536	/* a piece of the walk in pieces */

enum summary_kind {
	SUMMARY_ACCESS,			/* pinned to another egress node */
	SUMMARY_LOCAL,			/* broken out here */
	SUMMARY_TRANSIT,		/* from another node, broken out here */
	SUMMARY_DENIED,			/* denied by a rule */
};

struct summary_row {
	uint32_t node_id, class_id;	/* ids: flows keep ids, not indices */
	uint8_t kind;			/* enum summary_kind */
	bool used;
	uint64_t flows;
};

struct summary {
	struct summary_row slot[SUMMARY_SLOTS];
	size_t used;
	uint64_t other;
};

struct flow_summary_pass {
	struct summary building, done;
	size_t next_slot;
	bool have_done;
};

static enum summary_kind summary_kind_of(const struct flow *f)
{
	if (f->data.flags & FLOW_F_DENIED)
		return SUMMARY_DENIED;
	if (f->data.flags & FLOW_F_TRANSIT)
		return SUMMARY_TRANSIT;
	if (f->data.flags & FLOW_F_LOCAL)
		return SUMMARY_LOCAL;
	return SUMMARY_ACCESS;
}

static size_t summary_hash(uint32_t node_id, uint32_t class_id, uint8_t kind)
{
	uint64_t h = ((uint64_t)node_id << 32 | class_id) * 0x9e3779b97f4a7c15ULL;

	return (size_t)((h >> 40) ^ kind) % SUMMARY_SLOTS;
}

static bool summary_count(void *ctx, struct flow *f)
{
	struct summary *s = ctx;
	uint8_t kind = (uint8_t)summary_kind_of(f);
	/* Only access flows carry an egress node; the others are keyed by
	 * kind alone, whatever node_id holds. */
	uint32_t node_id = kind == SUMMARY_ACCESS ? f->data.node_id : 0;
	size_t i = summary_hash(node_id, f->data.class_id, kind);
	struct summary_row *r;

	for (;; i = (i + 1) % SUMMARY_SLOTS) {
		r = &s->slot[i];
		if (!r->used || (r->node_id == node_id && r->class_id == f->data.class_id &&
				 r->kind == kind))
			break;
	}
	if (!r->used) {
		if (s->used == SUMMARY_ROWS) {
			s->other++;
			return true;
		}
		*r = (struct summary_row){ .node_id = node_id, .class_id = f->data.class_id,
					   .kind = kind, .used = true };
		s->used++;
	}
	r->flows++;
	return true;
}

/* A row with its names resolved; rows whose names resolve alike (ids no
 * longer in the policy) are merged. */
struct summary_out {
	const char *egress, *class_;	/* NULL: none (denied, unknown class) */
	uint8_t kind;
	uint64_t flows;
};

static const char *summary_egress(const struct node *n, const struct summary_row *r)
{
	const struct policy *p = n->policy;

	if (r->kind == SUMMARY_DENIED)
		return NULL;
	if (r->kind != SUMMARY_ACCESS)
		return n->name;
	for (size_t i = 0; i < p->n_nodes; i++)
		if (p->nodes[i].id == r->node_id)
			return p->nodes[i].name;
	return "?";			/* pinned to a node the policy dropped */
}

static const char *summary_class(const struct policy *p, uint32_t class_id)
{
	uint32_t c = policy_find_class_by_id(p, class_id);

	return c == POLICY_NONE ? NULL : p->classes[c].name;
}

static bool same_name(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

static size_t summary_resolve(const struct node *n, const struct summary *s,
			      struct summary_out *out)
{
	size_t count = 0;

	for (size_t i = 0; i < SUMMARY_SLOTS; i++) {
		const struct summary_row *r = &s->slot[i];
		struct summary_out o;
		size_t k;

		if (!r->used)
			continue;
		o = (struct summary_out){ summary_egress(n, r), summary_class(n->policy, r->class_id),
					  r->kind, r->flows };
		for (k = 0; k < count; k++)
			if (out[k].kind == o.kind && same_name(out[k].egress, o.egress) &&
			    same_name(out[k].class_, o.class_))
				break;
		if (k < count)
			out[k].flows += o.flows;
		else
			out[count++] = o;
	}
	return count;
}

static int name_cmp(const char *a, const char *b)
{
	return a && b ? strcmp(a, b) : (a != NULL) - (b != NULL);
}

/* Most flows first, then by name: the dashboard and tests see a stable
 * order. */
static int summary_out_cmp(const void *pa, const void *pb)
{
	const struct summary_out *a = pa, *b = pb;
	int c;

	if (a->flows != b->flows)
		return a->flows < b->flows ? 1 : -1;
	if ((c = name_cmp(a->egress, b->egress)))
		return c;
	if ((c = name_cmp(a->class_, b->class_)))
		return c;
	return (int)a->kind - (int)b->kind;
}

static json_t *name_json(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *summary_row_json(const struct summary_out *o)
{
	return json_pack("{s:o, s:o, s:I, s:b, s:b}", "egress", name_json(o->egress),
			 "class", name_json(o->class_), "flows", (json_int_t)o->flows,
			 "denied", o->kind == SUMMARY_DENIED, "transit", o->kind == SUMMARY_TRANSIT);
}

static bool summary_big(const struct node *n)
{
	return flow_table_count(n->flows) > SUMMARY_SYNC_MAX;
}

void node_flow_summary_step(struct node *n)
{
	struct flow_summary_pass *ps = n->summary_pass;

	if (!n->flows || (!ps && !summary_big(n)))
		return;
	if (!ps && !(ps = n->summary_pass = calloc(1, sizeof(*ps))))
		return;
	ps->next_slot = flow_table_walk_slots(n->flows, ps->next_slot, SUMMARY_STEP_SLOTS,
					      summary_count, &ps->building);
	if (ps->next_slot)
		return;
	ps->done = ps->building;
	memset(&ps->building, 0, sizeof(ps->building));
	ps->have_done = true;
}

void node_flow_summary_free(struct node *n)
{
	free(n->summary_pass);
	n->summary_pass = NULL;
}

json_t *node_report_flow_summary(const struct node *n)
{
	struct summary s = { 0 };	/* ~6 KB */
	const struct summary *use = &s;
	struct summary_out out[SUMMARY_ROWS];
	json_t *arr = json_array();
	size_t count;

	if (!arr || !n->policy || !n->flows)
		return arr;
	if (!summary_big(n))
		flow_table_walk(n->flows, summary_count, &s);
	else if (n->summary_pass && n->summary_pass->have_done)
		use = &n->summary_pass->done;
	/* else: big, and the first pass is not done yet: nothing to say. */
	count = summary_resolve(n, use, out);
	qsort(out, count, sizeof(out[0]), summary_out_cmp);
	for (size_t i = 0; i < count; i++)
		json_array_append_new(arr, summary_row_json(&out[i]));
	if (use->other)
		json_array_append_new(arr, summary_row_json(&(struct summary_out){
			NULL, NULL, SUMMARY_ACCESS, use->other }));
	return arr;
}

/* decide: the decision for a new session: classify it against the policy
 * (identity, class, access rule), then let the routing engine pick the
 * egress and path from live measurements. The same function answers
 * `egressctl explain` with commit = false, so the explanation is the
 * decision, not a second implementation of it. */
#include "node/node.h"
#include "common/log.h"

#include <inttypes.h>
#include <math.h>
#include <string.h>
#include <time.h>

#define NODE_MAX_VIEWS      ROUTE_MAX_CANDIDATES
#define NODE_MAX_PATH_VIEWS 1024
#define EVENTS_PER_SECOND   100

static bool region_lookup(const struct fabric_region_metric *m, unsigned count,
			  uint32_t region_id, struct route_node_view *v)
{
	for (unsigned i = 0; i < count; i++) {
		if (m[i].region_id != region_id || m[i].rtt_us == UINT32_MAX)
			continue;
		v->region_rtt_ms = m[i].rtt_us / 1000.0;
		v->region_loss_pct = m[i].loss_permille / 10.0;
		return true;
	}
	return false;
}

/* egress -> destination region: what the node told us in its last probe
 * reply, else what it told the controller (shared with every node), so
 * an egress we have not heard from yet is still scored by its region. */
static void region_metric(const struct node_peer *np, const struct policy *p,
			  uint32_t dst_region, struct route_node_view *v)
{
	uint32_t id;

	v->region_rtt_ms = -1;
	v->region_loss_pct = 0;
	v->region_source = ROUTE_REGION_UNKNOWN;
	if (dst_region == POLICY_NONE)
		return;
	id = p->regions[dst_region].id;
	if (region_lookup(np->regions, np->n_regions, id, v))
		v->region_source = ROUTE_REGION_PROBE;
	else if (region_lookup(np->shared_regions, np->n_shared_regions, id, v))
		v->region_source = ROUTE_REGION_CONTROLLER;
}

static void self_view(struct node *n, uint32_t dst_region, struct route_node_view *v)
{
	double rtt = -1, loss = 0;

	memset(v, 0, sizeof(*v));
	v->node = n->self_idx;
	v->is_self = true;
	v->utilisation_pct = n->utilisation_pct;
	if (dst_region != POLICY_NONE && region_probe_metric(n->regions, dst_region, &rtt, &loss)) {
		v->region_rtt_ms = rtt;
		v->region_loss_pct = loss;
		v->region_source = ROUTE_REGION_SELF;
	} else {
		v->region_rtt_ms = -1;
	}
}

size_t node_route_views(struct node *n, uint32_t dst_region, struct route_node_view *views,
			size_t max_views, struct route_path_view *path_views, size_t cap)
{
	const struct policy *p = n->policy;
	size_t k = 0, used = 0;

	if (max_views && (p->nodes[n->self_idx].roles & POLICY_ROLE_EGRESS))
		self_view(n, dst_region, &views[k++]);
	for (size_t i = 0; i < n->n_peers && k < max_views; i++) {
		struct node_peer *np = &n->peers[i];
		struct route_node_view *v = &views[k];

		if (!(p->nodes[np->policy_idx].roles & POLICY_ROLE_EGRESS) || !np->peer)
			continue;
		memset(v, 0, sizeof(*v));
		v->node = np->policy_idx;
		v->paths = &path_views[used];
		for (size_t j = 0; j < np->n_paths && used < cap; j++, used++) {
			path_views[used].index = (uint16_t)j;
			path_views[used].state = np->paths[j].mon.state;
			path_views[used].metrics = np->paths[j].mon.m;
			v->n_paths++;
		}
		v->utilisation_pct = np->utilisation_pct;
		region_metric(np, p, dst_region, v);
		k++;
	}
	return k;
}

static void note_context(struct node *n, uint32_t class_id, uint32_t region_id)
{
	for (unsigned i = 0; i < n->n_contexts; i++)
		if (n->contexts[i].class_id == class_id && n->contexts[i].region_id == region_id)
			return;
	if (n->n_contexts < NODE_MAX_CONTEXTS)
		n->n_contexts++;
	else
		n->next_context %= NODE_MAX_CONTEXTS;
	n->contexts[n->next_context].class_id = class_id;
	n->contexts[n->next_context].region_id = region_id;
	n->next_context++;
}

void node_decide(struct node *n, const struct policy_session *s, monotime_ns now,
		 bool commit, struct node_session_decision *out)
{
	struct route_node_view views[NODE_MAX_VIEWS];
	/* Static: too big for the stack, and the node has one owner thread. */
	static struct route_path_view path_views[NODE_MAX_PATH_VIEWS];
	const struct policy *p = n->policy;
	const struct policy_class *cls;
	size_t count;
	uint32_t user_id;

	memset(out, 0, sizeof(*out));
	out->domain = s->domain;
	policy_classify(p, s, &out->policy);
	if (out->policy.action != POLICY_ALLOW)
		return;
	cls = &p->classes[out->policy.class_];
	user_id = out->policy.user != POLICY_NONE ? p->users[out->policy.user].id : 0;
	count = node_route_views(n, out->policy.dst_region, views, NODE_MAX_VIEWS,
				 path_views, NODE_MAX_PATH_VIEWS);
	route_select(p, cls, out->policy.dst_region, user_id, views, count,
		     n->stability, now, commit, &out->route);
	if (commit)
		note_context(n, cls->id, out->policy.dst_region == POLICY_NONE ? 0 :
			     p->regions[out->policy.dst_region].id);
}

static uint32_t region_by_id(const struct policy *p, uint32_t id)
{
	for (uint32_t i = 0; id && i < p->n_regions; i++)
		if (p->regions[i].id == id)
			return i;
	return POLICY_NONE;
}

void node_stability_refresh(struct node *n, monotime_ns now)
{
	struct route_node_view views[NODE_MAX_VIEWS];
	static struct route_path_view path_views[NODE_MAX_PATH_VIEWS];
	static struct route_decision scratch;
	const struct policy *p = n->policy;

	if (now < n->next_refresh_at)
		return;
	n->next_refresh_at = now + NODE_REFRESH_INTERVAL;
	for (unsigned i = 0; i < n->n_contexts; i++) {
		uint32_t cls = policy_find_class_by_id(p, n->contexts[i].class_id);
		uint32_t region = region_by_id(p, n->contexts[i].region_id);
		size_t count;

		if (cls == POLICY_NONE)
			continue;
		count = node_route_views(n, region, views, NODE_MAX_VIEWS, path_views,
					 NODE_MAX_PATH_VIEWS);
		route_select(p, &p->classes[cls], region, 0, views, count, n->stability, now,
			     true, &scratch);
	}
}

/* ---- security events: one JSON line per denied session ---- */

static bool event_allowed(struct node *n, monotime_ns now)
{
	if (now >= n->event_budget.refill_at) {
		n->event_budget.tokens = EVENTS_PER_SECOND;
		n->event_budget.refill_at = now + SECONDS(1);
	}
	if (!n->event_budget.tokens) {
		node_count(n, NODE_CTR_security_events_suppressed);
		return false;
	}
	n->event_budget.tokens--;
	return true;
}

static const char *proto_name(uint8_t proto, char *buf, size_t cap)
{
	switch (proto) {
	case 6: return "tcp";
	case 17: return "udp";
	case 1: return "icmp";
	case 58: return "icmpv6";
	}
	snprintf(buf, cap, "%u", proto);
	return buf;
}

void node_security_event(struct node *n, const struct policy_session *s,
			 const struct policy_decision *d, monotime_ns now)
{
	const struct policy *p = n->policy;
	char src[IP_ADDR_STRLEN], dst[IP_ADDR_STRLEN], ts[40], pbuf[8];
	struct timespec wall = walltime_now();
	struct tm tm;

	node_count(n, NODE_CTR_security_events);
	if (!n->events || !event_allowed(n, now))
		return;
	gmtime_r(&wall.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	ip_addr_format(&s->src, src, sizeof(src));
	ip_addr_format(&s->dst, dst, sizeof(dst));
	fprintf(n->events,
		"{\"time\":\"%s.%03ldZ\",\"event\":\"deny\",\"node\":\"%s\","
		"\"user\":\"%s\",\"device\":\"%s\",\"proto\":\"%s\",\"src\":\"%s\","
		"\"sport\":%u,\"dst\":\"%s\",\"dport\":%u,\"class\":\"%s\","
		"\"rule\":\"%s\",\"reason\":\"%s\"}\n",
		ts, wall.tv_nsec / 1000000, n->name,
		d->user != POLICY_NONE ? p->users[d->user].name : "",
		s->device != POLICY_NONE ? p->devices[s->device].name : "",
		proto_name(s->protocol, pbuf, sizeof(pbuf)), src, s->sport, dst, s->dport,
		p->classes[d->class_].name,
		d->rule != POLICY_NONE ? p->rules[d->rule].name : "default",
		d->rule != POLICY_NONE ? "rule denies" : "default verdict is deny");
	fflush(n->events);
}

/* report: JSON answers for egressctl paths, flows and explain. Everything
 * here only reads the node's state; explain runs the same decision code
 * as the data path with commit = false. */
#include "node/report.h"
#include "dataplane/packet_parse.h"
#include "wg/peer.h"

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#define FLOWS_DEFAULT_LIMIT 1000

/* ---- arguments ---- */

const char *report_args_parse(char *line, struct report_args *args, const char **error)
{
	char *save = NULL, *cmd = strtok_r(line, " ", &save), *tok;

	args->n = 0;
	*error = "empty request";
	if (!cmd)
		return NULL;
	while ((tok = strtok_r(NULL, " ", &save))) {
		char *eq = strchr(tok, '=');

		*error = "arguments are key=value";
		if (!eq || eq == tok)
			return NULL;
		*error = "too many arguments";
		if (args->n == sizeof(args->keys) / sizeof(args->keys[0]))
			return NULL;
		*eq = '\0';
		args->keys[args->n] = tok;
		args->values[args->n++] = eq + 1;
	}
	*error = NULL;
	return cmd;
}

const char *report_arg(const struct report_args *args, const char *key)
{
	for (size_t i = 0; i < args->n; i++)
		if (!strcmp(args->keys[i], key))
			return args->values[i];
	return NULL;
}

static json_t *error_json(const char *msg)
{
	return json_pack("{s:s}", "error", msg);
}

/* ---- small formatters ---- */

static json_t *addr_json(const struct ip_addr *a)
{
	char buf[IP_ADDR_STRLEN];

	ip_addr_format(a, buf, sizeof(buf));
	return json_string(buf);
}

static json_t *endpoint_json(const struct wg_endpoint *ep)
{
	char buf[80];

	if (!wg_endpoint_is_set(ep))
		return json_null();
	wg_sockaddr_format(&ep->addr, buf, sizeof(buf));
	return json_string(buf);
}

static json_t *real_or_null(double v)
{
	return isfinite(v) ? json_real(round(v * 1000) / 1000) : json_null();
}

static const char *proto_name(uint8_t proto, char *buf, size_t cap)
{
	switch (proto) {
	case IPPROTO_TCP: return "tcp";
	case IPPROTO_UDP: return "udp";
	case IPPROTO_ICMP: return "icmp";
	case IPPROTO_ICMPV6: return "icmpv6";
	}
	snprintf(buf, cap, "%u", proto);
	return buf;
}

static double seconds_between(monotime_ns then, monotime_ns now)
{
	return then && now > then ? (double)(now - then) / NSEC_PER_SEC : 0;
}

static json_t *roles_json(unsigned roles)
{
	json_t *a = json_array();

	if (roles & POLICY_ROLE_ACCESS)
		json_array_append_new(a, json_string("access"));
	if (roles & POLICY_ROLE_EGRESS)
		json_array_append_new(a, json_string("egress"));
	if (roles & POLICY_ROLE_INSPECTION)
		json_array_append_new(a, json_string("inspection"));
	return a;
}

/* ---- paths ---- */

static json_t *path_json(const struct node_peer *np, size_t i, int best, monotime_ns now)
{
	const struct node_path *path = &np->paths[i];
	const struct path_monitor *m = &path->mon;

	return json_pack("{s:s, s:s, s:i, s:o, s:s, s:o, s:o, s:o, s:o, s:o, s:I, s:I, s:b}",
			 "peer", np->name, "path", path->name, "index", (json_int_t)i,
			 "endpoint", endpoint_json(&path->ep),
			 "state", path_state_names[m->state],
			 "since_s", real_or_null(seconds_between(m->state_since, now)),
			 "rtt_ms", m->have_rtt ? real_or_null(m->m.srtt_ms) : json_null(),
			 "rttvar_ms", m->have_rtt ? real_or_null(m->m.rttvar_ms) : json_null(),
			 "jitter_ms", m->have_rtt ? real_or_null(m->m.jitter_ms) : json_null(),
			 "loss_pct", real_or_null(m->m.loss_pct),
			 "probes_sent", (json_int_t)m->m.probes_sent,
			 "replies", (json_int_t)m->m.replies, "best", (int)i == best);
}

static const char *region_name_by_id(const struct policy *p, uint32_t id)
{
	for (size_t i = 0; i < p->n_regions; i++)
		if (p->regions[i].id == id)
			return p->regions[i].name;
	return "?";
}

static void append_regions(const struct node *n, const struct node_peer *np, json_t *out)
{
	for (unsigned i = 0; i < np->n_regions; i++) {
		const struct fabric_region_metric *r = &np->regions[i];

		json_array_append_new(out, json_pack("{s:s, s:s, s:o, s:o}", "peer", np->name,
			"region", region_name_by_id(n->policy, r->region_id),
			"rtt_ms", r->rtt_us == UINT32_MAX ? json_null() : json_real(r->rtt_us / 1000.0),
			"loss_pct", json_real(r->loss_permille / 10.0)));
	}
}

json_t *node_report_paths(struct node *n, monotime_ns now)
{
	json_t *paths, *regions, *peers;

	paths = json_array();
	regions = json_array();
	peers = json_array();
	if (!n->policy)
		return json_pack("{s:n, s:n, s:o, s:o, s:o}", "node", "policy_version", "paths",
				 paths, "regions", regions, "peers", peers);
	for (size_t i = 0; i < n->n_peers; i++) {
		const struct node_peer *np = &n->peers[i];
		const struct policy_node *pn = &n->policy->nodes[np->policy_idx];
		int best = node_paths_best(np);

		for (size_t k = 0; np->probe && k < np->n_paths; k++)
			json_array_append_new(paths, path_json(np, k, best, now));
		append_regions(n, np, regions);
		json_array_append_new(peers, json_pack("{s:s, s:s, s:o, s:o, s:o}",
			"name", np->name, "region", n->policy->regions[pn->region].name,
			"roles", roles_json(pn->roles),
			"utilisation_pct", real_or_null(np->utilisation_pct),
			"last_report_s", np->last_report ?
				real_or_null(seconds_between(np->last_report, now)) : json_null()));
	}
	return json_pack("{s:s, s:I, s:o, s:o, s:o}", "node", n->name,
			 "policy_version", (json_int_t)n->policy->version,
			 "paths", paths, "regions", regions, "peers", peers);
}

/* ---- flows ---- */

static const char *flow_kind(const struct flow *f)
{
	if (f->data.flags & FLOW_F_DENIED)
		return "denied";
	if (f->data.flags & FLOW_F_LOCAL)
		return "local";
	if (f->data.flags & FLOW_F_TRANSIT)
		return "transit";
	return "access";
}

static const char *user_name_by_id(const struct policy *p, uint32_t id)
{
	for (size_t i = 0; id && i < p->n_users; i++)
		if (p->users[i].id == id)
			return p->users[i].name;
	return NULL;
}

static json_t *name_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *nat_json(const struct flow *f)
{
	const struct flow_tuple *r = &f->tuple[FLOW_DIR_REPLY];
	char a[IP_ADDR_STRLEN], buf[IP_ADDR_STRLEN + 10];
	struct ip_addr addr;

	if (!(f->data.flags & (FLOW_F_LOCAL | FLOW_F_TRANSIT)))
		return json_null();
	ip_addr_set(&addr, r->family, r->dst);
	ip_addr_format(&addr, a, sizeof(a));
	snprintf(buf, sizeof(buf), r->family == AF_INET6 ? "[%s]:%u" : "%s:%u", a, r->dport);
	return json_string(buf);
}

/* Where the flow goes: egress node and path names (access flows). */
static void flow_egress(struct node *n, const struct flow *f, const char **egress,
			const char **path, const char **state)
{
	struct node_peer *np;

	*egress = *path = *state = NULL;
	if (f->data.flags & (FLOW_F_LOCAL | FLOW_F_TRANSIT)) {
		*egress = n->name;
		return;
	}
	if (f->data.flags & FLOW_F_DENIED)
		return;
	np = node_peer_by_id(n, f->data.node_id);
	if (!np)
		return;
	*egress = np->name;
	if (f->data.path < np->n_paths) {
		*path = np->paths[f->data.path].name;
		*state = path_state_names[np->paths[f->data.path].mon.state];
	}
}

static const char *device_name_of(struct node *n, const struct flow *f)
{
	const struct wg_peer *peer = f->data.peer;
	uint32_t d;

	if (!peer || (f->data.flags & FLOW_F_TRANSIT))
		return NULL;
	d = policy_find_device_by_key(n->policy, peer->public_key);
	return d == POLICY_NONE ? NULL : n->policy->devices[d].name;
}

static json_t *flow_json(struct node *n, const struct flow *f, monotime_ns now)
{
	const struct flow_tuple *t = &f->tuple[FLOW_DIR_ORIG];
	const struct policy *p = n->policy;
	uint32_t cls = policy_find_class_by_id(p, f->data.class_id);
	struct ip_addr src, dst;
	const char *egress, *path, *state, *domain;
	char pbuf[8];
	struct node_peer *origin = (f->data.flags & FLOW_F_TRANSIT) ?
				   node_peer_by_id(n, f->data.node_id) : NULL;
	json_t *o;

	ip_addr_set(&src, t->family, t->src);
	ip_addr_set(&dst, t->family, t->dst);
	flow_egress(n, f, &egress, &path, &state);
	domain = name_cache_get(n->names, &dst, now);
	o = json_pack("{s:s, s:s, s:o, s:i, s:o, s:i, s:o, s:o, s:o}",
		      "kind", flow_kind(f), "proto", proto_name(t->protocol, pbuf, sizeof(pbuf)),
		      "src", addr_json(&src), "sport", t->sport, "dst", addr_json(&dst),
		      "dport", t->dport, "user", name_or_null(user_name_by_id(p, f->data.user_id)),
		      "device", name_or_null(device_name_of(n, f)),
		      "class", name_or_null(cls == POLICY_NONE ? NULL : p->classes[cls].name));
	json_object_set_new(o, "rule", name_or_null(f->data.rule < p->n_rules &&
		!(f->data.flags & FLOW_F_TRANSIT) ? p->rules[f->data.rule].name : NULL));
	json_object_set_new(o, "egress", name_or_null(egress));
	json_object_set_new(o, "path", name_or_null(path));
	json_object_set_new(o, "path_state", name_or_null(state));
	json_object_set_new(o, "origin", name_or_null(origin ? origin->name : NULL));
	json_object_set_new(o, "nat", nat_json(f));
	json_object_set_new(o, "tcp_state", t->protocol == IPPROTO_TCP ?
			    json_string(flow_tcp_state_name(f->tcp_state)) : json_null());
	json_object_set_new(o, "domain", name_or_null(domain));
	json_object_set_new(o, "age_s", real_or_null(seconds_between(f->created, now)));
	json_object_set_new(o, "idle_s", real_or_null(seconds_between(f->last_seen, now)));
	json_object_set_new(o, "packets_out", json_integer((json_int_t)f->packets[0]));
	json_object_set_new(o, "packets_in", json_integer((json_int_t)f->packets[1]));
	json_object_set_new(o, "bytes_out", json_integer((json_int_t)f->bytes[0]));
	json_object_set_new(o, "bytes_in", json_integer((json_int_t)f->bytes[1]));
	return o;
}

static bool str_filter(const char *want, json_t *o, const char *key)
{
	const char *have = json_string_value(json_object_get(o, key));

	return !want || (have && !strcmp(want, have));
}

/* The filters of a flows request, parsed once. */
struct flow_filter {
	const struct report_args *args;
	bool has_src, has_dst;
	struct ip_prefix src, dst;
	int proto;				/* -1: any */
	size_t limit;
};

static bool addr_filter(const struct ip_prefix *want, const struct flow_tuple *t, bool dst)
{
	struct ip_addr a;

	ip_addr_set(&a, t->family, dst ? t->dst : t->src);
	return ip_prefix_contains(want, &a);
}

/* The address and protocol filters, checked before a flow's JSON is built:
 * a query over a million flows mostly stops here. */
static bool tuple_matches(const struct flow *f, const struct flow_filter *ff)
{
	const struct flow_tuple *t = &f->tuple[FLOW_DIR_ORIG];

	return (!ff->has_src || addr_filter(&ff->src, t, false)) &&
	       (!ff->has_dst || addr_filter(&ff->dst, t, true)) &&
	       (ff->proto < 0 || t->protocol == ff->proto);
}

/* The filters on names, which the JSON holds already resolved. */
static bool names_match(json_t *o, const struct flow_filter *ff)
{
	static const char *const keys[] = { "user", "egress", "class", "kind" };

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (!str_filter(report_arg(ff->args, keys[i]), o, keys[i]))
			return false;
	return true;
}

struct flows_walk {
	struct node *n;
	const struct flow_filter *filter;
	json_t *out;
	size_t total;
	monotime_ns now;
};

static bool collect_flow(void *ctx, struct flow *f)
{
	struct flows_walk *w = ctx;
	json_t *o;

	if (!tuple_matches(f, w->filter))
		return true;
	o = flow_json(w->n, f, w->now);
	if (!names_match(o, w->filter)) {
		json_decref(o);
		return true;
	}
	w->total++;
	if (!w->filter->limit || json_array_size(w->out) < w->filter->limit)
		json_array_append_new(w->out, o);
	else
		json_decref(o);
	return true;
}

static bool parse_proto(const char *s, uint8_t *out);

/* Unknown keys are errors: a typo must never silently widen a query. */
static const char *check_keys(const struct report_args *a, const char *const *known)
{
	static char msg[96];

	for (size_t i = 0; i < a->n; i++) {
		size_t k = 0;

		while (known[k] && strcmp(known[k], a->keys[i]))
			k++;
		if (!known[k]) {
			snprintf(msg, sizeof(msg), "unknown argument %.40s", a->keys[i]);
			return msg;
		}
	}
	return NULL;
}

static const char *parse_flow_filter(const struct report_args *a, struct flow_filter *ff)
{
	static const char *const known[] = { "user", "egress", "class", "dst", "src", "proto",
					     "kind", "limit", NULL };
	const char *v, *err = check_keys(a, known);
	uint8_t proto;
	char *end;

	memset(ff, 0, sizeof(*ff));
	ff->args = a;
	ff->proto = -1;
	ff->limit = FLOWS_DEFAULT_LIMIT;
	if (err)
		return err;
	if ((v = report_arg(a, "src")) && !(ff->has_src = ip_prefix_parse(v, &ff->src, false)))
		return "bad value for src";
	if ((v = report_arg(a, "dst")) && !(ff->has_dst = ip_prefix_parse(v, &ff->dst, false)))
		return "bad value for dst";
	if ((v = report_arg(a, "proto"))) {
		if (!parse_proto(v, &proto))
			return "bad value for proto";
		ff->proto = proto;
	}
	if ((v = report_arg(a, "limit"))) {
		ff->limit = strtoul(v, &end, 10);
		if (!*v || *end)
			return "bad value for limit";
	}
	return NULL;
}

json_t *node_report_flows(struct node *n, const struct report_args *args, monotime_ns now)
{
	struct flow_filter ff;
	struct flows_walk w = { .n = n, .filter = &ff, .now = now };
	const char *err = parse_flow_filter(args, &ff);

	if (err)
		return error_json(err);
	w.out = json_array();
	if (n->flows)
		flow_table_walk(n->flows, collect_flow, &w);
	return json_pack("{s:I, s:I, s:o}", "total", (json_int_t)w.total,
			 "count", (json_int_t)json_array_size(w.out), "flows", w.out);
}

/* ---- explain ---- */

static bool parse_proto(const char *s, uint8_t *out)
{
	char *end;
	unsigned long v;

	if (!s || !strcmp(s, "tcp"))
		*out = IPPROTO_TCP;
	else if (!strcmp(s, "udp"))
		*out = IPPROTO_UDP;
	else if (!strcmp(s, "icmp"))
		*out = IPPROTO_ICMP;
	else if (!strcmp(s, "icmpv6"))
		*out = IPPROTO_ICMPV6;
	else if ((v = strtoul(s, &end, 10)) <= 255 && !*end && *s)
		*out = (uint8_t)v;
	else
		return false;
	return true;
}

static bool parse_u16(const char *s, uint16_t *out, unsigned max)
{
	char *end;
	unsigned long v;

	if (!s)
		return true;
	v = strtoul(s, &end, 10);
	if (!*s || *end || v > max)
		return false;
	*out = (uint16_t)v;
	return true;
}

/* A session from explain's arguments; *why on error. */
static bool session_from_args(struct node *n, const struct report_args *a,
			      struct policy_session *s, const char **why)
{
	const char *user = report_arg(a, "user"), *src = report_arg(a, "src");
	uint16_t dscp = 0;

	memset(s, 0, sizeof(*s));
	s->device = s->user = POLICY_NONE;
	*why = "dst= must be an IP address";
	if (!report_arg(a, "dst") || !ip_addr_parse(report_arg(a, "dst"), &s->dst))
		return false;
	*why = "unknown user";
	if (user && (s->user = policy_find_user(n->policy, user)) == POLICY_NONE)
		return false;
	*why = "src= must be an IP address of the same family as dst";
	if (src && (!ip_addr_parse(src, &s->src) || s->src.family != s->dst.family))
		return false;
	if (!src)
		s->src.family = s->dst.family;
	*why = "bad proto, dport, sport or dscp";
	if (!parse_proto(report_arg(a, "proto"), &s->protocol) ||
	    !parse_u16(report_arg(a, "dport"), &s->dport, 65535) ||
	    !parse_u16(report_arg(a, "sport"), &s->sport, 65535) ||
	    !parse_u16(report_arg(a, "dscp"), &dscp, 63))
		return false;
	s->dscp = (uint8_t)dscp;
	return true;
}

struct flow_find {
	struct flow_tuple want;
	struct flow *found;
};

/* The live flow explain asks about, from its 5-tuple as the client sent it. */
static struct flow *find_live_flow(struct node *n, const struct policy_session *s)
{
	struct flow_tuple t = { .family = s->dst.family, .protocol = s->protocol,
				.sport = s->sport, .dport = s->dport };
	enum flow_dir dir;

	memcpy(t.src, s->src.a, sizeof(t.src));
	memcpy(t.dst, s->dst.a, sizeof(t.dst));
	return flow_table_lookup(n->flows, &t, &dir);
}

static json_t *candidates_json(const struct node *n, const struct route_decision *r)
{
	const struct policy *p = n->policy;
	json_t *a = json_array();

	for (size_t i = 0; i < r->n_candidates; i++) {
		const struct route_candidate *c = &r->candidates[i];
		struct node_peer *np = node_peer_by_id((struct node *)n, p->nodes[c->node].id);
		bool local = c->path == ROUTE_PATH_LOCAL;
		const char *path = !local && np && c->path < np->n_paths ?
				   np->paths[c->path].name : NULL;

		json_array_append_new(a, json_pack(
			"{s:s, s:o, s:b, s:o, s:s, s:o, s:o, s:o, s:s, s:o, s:o, s:o, s:o, s:s}",
			"node", p->nodes[c->node].name, "path", name_or_null(path), "local", local,
			"path_state", name_or_null(path ? path_state_names[c->path_state] : NULL),
			"result", c->reason == ROUTE_CHOSEN ? "chosen" : route_reason_names[c->reason],
			"score", real_or_null(c->score), "rtt_ms", real_or_null(c->rtt_ms),
			"region_rtt_ms", c->region_rtt_ms >= 0 ? real_or_null(c->region_rtt_ms) :
							       json_null(),
			"region_source", route_region_source_names[c->region_source],
			"jitter_ms", real_or_null(c->jitter_ms), "loss_pct", real_or_null(c->loss_pct),
			"price", real_or_null(c->price),
			"utilisation_pct", real_or_null(c->utilisation_pct), "detail", c->detail));
	}
	return a;
}

static json_t *decision_json(struct node *n, const struct node_session_decision *d, int family)
{
	const struct policy *p = n->policy;
	const struct route_decision *r = &d->route;
	const struct policy_class *cls = &p->classes[d->policy.class_];
	uint32_t user_id = d->policy.user != POLICY_NONE ? p->users[d->policy.user].id : 0;
	struct node_peer *np;
	struct ip_addr pool = { 0 };
	const char *path = NULL;
	bool local;

	if (d->policy.action != POLICY_ALLOW)
		return json_null();
	if (!r->found)
		return json_pack("{s:n, s:n, s:b, s:n, s:b}", "egress", "path", "local", 0,
				 "pool_address", "limits_relaxed", 0);
	local = r->path == ROUTE_PATH_LOCAL;
	np = node_peer_by_id(n, p->nodes[r->node].id);
	if (!local && np && r->path < np->n_paths)
		path = np->paths[r->path].name;
	if (cls->pool != POLICY_NONE)
		policy_pool_address(p, cls->pool, r->node, user_id, family, &pool);
	return json_pack("{s:s, s:o, s:b, s:o, s:b}", "egress", p->nodes[r->node].name,
			 "path", name_or_null(path), "local", local,
			 "pool_address", pool.family ? addr_json(&pool) : json_null(),
			 "limits_relaxed", r->limits_relaxed);
}

static json_t *session_json(const struct node *n, const struct policy_session *s,
			    const struct policy_decision *pd)
{
	const struct policy *p = n->policy;
	char pbuf[8];

	return json_pack("{s:o, s:o, s:o, s:o, s:s, s:i, s:i, s:i, s:o}",
		"user", name_or_null(pd->user != POLICY_NONE ? p->users[pd->user].name : NULL),
		"device", name_or_null(s->device != POLICY_NONE ? p->devices[s->device].name : NULL),
		"src", s->src.family ? addr_json(&s->src) : json_null(), "dst", addr_json(&s->dst),
		"proto", proto_name(s->protocol, pbuf, sizeof(pbuf)), "sport", s->sport,
		"dport", s->dport, "dscp", s->dscp, "domain", name_or_null(s->domain));
}

static json_t *groups_json(const struct policy *p, uint32_t user)
{
	json_t *a = json_array();

	for (size_t i = 0; user != POLICY_NONE && i < p->users[user].n_groups; i++)
		json_array_append_new(a, json_string(p->groups[p->users[user].groups[i]].name));
	return a;
}

static json_t *explain_json(struct node *n, const struct policy_session *s,
			    const struct node_session_decision *d, struct flow *live,
			    monotime_ns now)
{
	const struct policy *p = n->policy;
	const struct policy_decision *pd = &d->policy;
	json_t *o = json_object();

	json_object_set_new(o, "session", session_json(n, s, pd));
	json_object_set_new(o, "groups", groups_json(p, pd->user));
	json_object_set_new(o, "country", pd->country[0] ? json_string(pd->country) : json_null());
	json_object_set_new(o, "dst_region", pd->dst_region != POLICY_NONE ?
			    json_string(p->regions[pd->dst_region].name) : json_null());
	json_object_set_new(o, "class", json_string(p->classes[pd->class_].name));
	json_object_set_new(o, "rule", pd->rule != POLICY_NONE ?
			    json_string(p->rules[pd->rule].name) : json_null());
	json_object_set_new(o, "rule_line", pd->rule != POLICY_NONE ?
			    json_integer(p->rules[pd->rule].line) : json_null());
	json_object_set_new(o, "action", json_string(pd->action == POLICY_ALLOW ? "allow" : "deny"));
	json_object_set_new(o, "candidates", candidates_json(n, &d->route));
	json_object_set_new(o, "decision", decision_json(n, d, s->dst.family));
	json_object_set_new(o, "flow", live ? flow_json(n, live, now) : json_null());
	return o;
}

json_t *node_report_explain(struct node *n, const struct report_args *args, monotime_ns now)
{
	struct node_session_decision d;
	struct policy_session s;
	struct flow *live = NULL;
	const char *why, *flow = report_arg(args, "flow");

	static const char *const known[] = { "flow", "user", "dst", "dport", "proto", "dscp",
					     "domain", "src", "sport", NULL };

	if (!n->policy)
		return error_json("no policy: egressd runs as plain WireGuard");
	if ((why = check_keys(args, known)))
		return error_json(why);
	if (!session_from_args(n, args, &s, &why))
		return error_json(why);
	if (flow && strcmp(flow, "0")) {
		live = find_live_flow(n, &s);
		if (!live)
			return error_json("no such flow");
		if (live->data.peer && !(live->data.flags & FLOW_F_TRANSIT))
			s.device = policy_find_device_by_key(n->policy,
				((const struct wg_peer *)live->data.peer)->public_key);
		s.dscp = live->data.dscp;
	}
	if (s.device == POLICY_NONE && s.user == POLICY_NONE && report_arg(args, "src")) {
		/* A tunnel address names its device, as on the data path. */
		const struct wg_peer *peer = allowedips_lookup(&n->dev->allowedips,
							       s.src.family, s.src.a);

		if (peer)
			s.device = policy_find_device_by_key(n->policy, peer->public_key);
	}
	s.domain = name_cache_get(n->names, &s.dst, now);
	if (report_arg(args, "domain"))
		s.domain = report_arg(args, "domain");
	node_decide(n, &s, now, false, &d);
	return explain_json(n, &s, &d, live, now);
}

/* ---- counters ---- */

size_t node_report_counters(const struct node *n, char *out, size_t cap)
{
	size_t len = 0;

	for (int i = 0; i < NODE_CTR__MAX && len < cap; i++)
		len += (size_t)snprintf(out + len, cap - len, "%s %llu\n", node_counter_names[i],
					(unsigned long long)n->counters[i]);
	if (n->flows && len < cap) {
		const struct flow_table_counters *c = flow_table_counters(n->flows);

		len += (size_t)snprintf(out + len, cap - len,
			"flows_active %zu\nflows_capacity %zu\nflows_memory_bytes %zu\n"
			"flows_inserted %llu\nflows_expired %llu\nflows_evicted_full %llu\n",
			flow_table_count(n->flows), flow_table_capacity(n->flows),
			flow_table_memory(n->flows), (unsigned long long)c->inserted,
			(unsigned long long)c->expired, (unsigned long long)c->evicted_full);
	}
	return len < cap ? len : cap;
}

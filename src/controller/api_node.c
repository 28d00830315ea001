/* api_node: what nodes ask for (enroll, the policy long-poll, telemetry)
 * and the operator's view of them (GET /nodes). Each node's latest report
 * is kept in memory and written to the store at most once per
 * API_SEEN_WRITE_S (every store write is an fsync; a fleet polling every
 * few seconds would otherwise be a disk benchmark); what is still unwritten
 * at shutdown is written by api_close(). */
#include "controller/api_internal.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

struct api_node_live *api_node_live_find(struct api *a, const char *name, bool create)
{
	struct api_node_live *n;

	for (size_t i = 0; i < a->n_nodes; i++)
		if (!strcmp(a->nodes[i].name, name))
			return &a->nodes[i];
	if (!create || strlen(name) >= STORE_NAME_MAX)
		return NULL;
	if (a->n_nodes == a->cap_nodes) {
		size_t cap = a->cap_nodes ? 2 * a->cap_nodes : 16;
		void *p = realloc(a->nodes, cap * sizeof(*a->nodes));

		if (!p)
			return NULL;
		a->nodes = p;
		a->cap_nodes = cap;
	}
	n = &a->nodes[a->n_nodes++];
	memset(n, 0, sizeof(*n));
	strcpy(n->name, name);
	return n;
}

static int load_one(const struct store_node *sn, void *arg)
{
	struct api_node_live *n = api_node_live_find(arg, sn->name, true);
	json_t *t;

	if (!n)
		return -ENOMEM;
	n->last_seen = sn->last_seen;
	n->running_version = sn->running_version;
	t = json_loads(sn->telemetry ? sn->telemetry : "{}", 0, NULL);
	if (t && json_object_size(t))
		n->telemetry = t;
	else
		json_decref(t);
	return 0;
}

int api_nodes_load(struct api *a)
{
	return store_node_list(a->store, load_one, a);
}

void api_nodes_free(struct api *a)
{
	for (size_t i = 0; i < a->n_nodes; i++)
		json_decref(a->nodes[i].telemetry);
	free(a->nodes);
	a->nodes = NULL;
	a->n_nodes = a->cap_nodes = 0;
}

/* Telemetry over the store's 64 KiB is kept in memory only. */
static void live_write(struct api *a, struct api_node_live *n, monotime_ns now)
{
	char *text = n->telemetry ? json_dumps(n->telemetry, JSON_COMPACT) : NULL;

	if (text && strlen(text) > STORE_DETAIL_MAX) {
		free(text);
		text = NULL;
	}
	store_node_seen(a->store, n->name, n->running_version, text);
	free(text);
	n->last_write = now ? now : 1;
	n->dirty = false;
}

void api_nodes_flush(struct api *a, monotime_ns now, bool all)
{
	for (size_t i = 0; i < a->n_nodes; i++) {
		struct api_node_live *n = &a->nodes[i];

		if (n->dirty && (all || now - n->last_write >= SECONDS(API_SEEN_WRITE_S)))
			live_write(a, n, now);
	}
}

/* A report from the authenticated node c->who; telemetry (stolen) may be
 * NULL to keep the last one. */
static void node_seen(struct api_call *c, const uint64_t *running, json_t *telemetry)
{
	struct api_node_live *n = api_node_live_find(c->api, c->who, true);
	monotime_ns now = c->rq->now;

	if (!n) {
		json_decref(telemetry);
		return;
	}
	n->last_seen = c->rq->wall;
	if (running)
		n->running_version = *running;
	if (telemetry) {
		json_decref(n->telemetry);
		n->telemetry = telemetry;
		n->telemetry_at = c->rq->wall;
	}
	n->dirty = true;
	if (!n->last_write || now - n->last_write >= SECONDS(API_SEEN_WRITE_S))
		live_write(c->api, n, now);
}

static const char *const enroll_keys[] = { "token", "node", NULL };

void api_enroll(struct api_call *c)
{
	char node[STORE_NAME_MAX], cred[STORE_TOKEN_SIZE];
	const char *token, *want;
	int ret;

	if (!api_body_keys(c, enroll_keys) || !api_body_string(c, "token", true, &token, NULL) ||
	    !api_body_name(c, "node", &want))
		return;
	ret = store_enroll_token_consume(c->api->store, token, want, node, cred);
	if (ret == -EACCES) {
		api_auth_fail(c, "bad enrollment token");
		return;
	}
	if (ret) {
		api_reply_store(c, ret);
		return;
	}
	api_reply_json(c->rs, 200, json_pack("{s:s, s:s}", "node", node, "credential", cred));
	memset(cred, 0, sizeof(cred));
}

static void send_policy(struct api_call *c)
{
	struct store_policy_meta m;
	char *doc = NULL;
	int ret = store_policy_get(c->api->store, c->api->version, &m, &doc);

	if (ret) {
		api_reply_store(c, ret);
		return;
	}
	api_reply_json(c->rs, 200, json_pack("{s:I, s:s%, s:s}", "version",
					     (json_int_t)m.version, "document", doc, m.len,
					     "digest", m.hash));
	free(doc);
}

/* Answers at once when the node is behind; else "wait" (status 0) until
 * the adapter sees a new version or the deadline, then 204. */
void api_node_policy(struct api_call *c)
{
	uint64_t known = 0, wait = API_WAIT_DEFAULT_S;
	const struct api_request *rq = c->rq;

	if (!api_query_u64(c, "known", 0, INT64_MAX, &known) ||
	    !api_query_u64(c, "wait", 0, API_WAIT_MAX_S, &wait))
		return;
	node_seen(c, NULL, NULL);
	if (c->api->version != known && c->api->version) {
		send_policy(c);
		return;
	}
	if (rq->wait_deadline ? rq->now >= rq->wait_deadline : wait == 0) {
		api_reply_text(c->rs, 204, "application/json", "", 0);
		return;
	}
	c->rs->status = 0;
	c->rs->wait_known = known;
	c->rs->wait_deadline = rq->wait_deadline ? rq->wait_deadline : rq->now + SECONDS(wait);
}

static bool number_ok(const json_t *v, double lo, double hi)
{
	double d;

	if (!json_is_number(v))
		return false;
	d = json_number_value(v);
	return isfinite(d) && d >= lo && d <= hi;
}

static bool regions_ok(struct api_call *c, const json_t *regions)
{
	size_t i;
	json_t *r;

	if (!json_is_array(regions)) {
		api_reply_error(c->rs, 400, "field \"regions\" must be an array");
		return false;
	}
	json_array_foreach(regions, i, r) {
		const json_t *name = json_object_get(r, "region");

		if (!json_is_object(r) || !json_is_string(name) ||
		    json_string_length(name) == 0 || json_string_length(name) > 63 ||
		    !number_ok(json_object_get(r, "rtt_ms"), 0, 1e7) ||
		    !number_ok(json_object_get(r, "loss_pct"), 0, 100)) {
			api_reply_errorf(c->rs, 400, "regions[%zu]: want {\"region\":NAME,"
					 "\"rtt_ms\":N>=0,\"loss_pct\":0..100}", i);
			return false;
		}
	}
	return true;
}

static bool counters_ok(struct api_call *c, const json_t *counters)
{
	const char *key;
	json_t *v;

	if (!json_is_object(counters)) {
		api_reply_error(c->rs, 400, "field \"counters\" must be an object");
		return false;
	}
	json_object_foreach((json_t *)counters, key, v) {
		if (!json_is_number(v)) {
			api_reply_errorf(c->rs, 400, "counters.%.64s must be a number", key);
			return false;
		}
	}
	return true;
}

/* Unknown fields are kept: a newer node may report more. */
static bool telemetry_ok(struct api_call *c, uint64_t *running)
{
	const json_t *paths = json_object_get(c->body, "paths");
	const json_t *counters = json_object_get(c->body, "counters");
	const json_t *regions = json_object_get(c->body, "regions");

	if (!api_body_u64(c, "running_version", true, running))
		return false;
	if (paths && !json_is_array(paths)) {
		api_reply_error(c->rs, 400, "field \"paths\" must be an array");
		return false;
	}
	return (!counters || counters_ok(c, counters)) && (!regions || regions_ok(c, regions));
}

/* A node's region figures are shared while its telemetry is fresh: an
 * egress that went quiet (down, cut off) must not keep steering others
 * with what it measured before. Telemetry read back from the store after
 * a restart is not fresh until the node reports again. */
#define API_REGION_FRESH_MS (6 * 5000)	/* six telemetry periods */

static void region_metrics_add(json_t *out, const struct api_node_live *n, unix_ms wall)
{
	const json_t *regions = n->telemetry ? json_object_get(n->telemetry, "regions") : NULL;
	size_t i;
	json_t *r;

	if (!n->telemetry_at || wall - n->telemetry_at > API_REGION_FRESH_MS)
		return;
	json_array_foreach(regions, i, r)
		json_array_append_new(out, json_pack("{s:s, s:O, s:O, s:O}", "node", n->name,
						     "region", json_object_get(r, "region"),
						     "rtt_ms", json_object_get(r, "rtt_ms"),
						     "loss_pct", json_object_get(r, "loss_pct")));
}

void api_node_telemetry(struct api_call *c)
{
	struct api *a = c->api;
	uint64_t running;
	json_t *out;

	if (c->rq->body_len > API_TELEMETRY_MAX) {
		api_reply_error(c->rs, 413, "telemetry over 1 MiB");
		return;
	}
	if (!telemetry_ok(c, &running))
		return;
	node_seen(c, &running, json_incref(c->body));
	out = json_array();
	for (size_t i = 0; i < a->n_nodes; i++)
		if (strcmp(a->nodes[i].name, c->who))
			region_metrics_add(out, &a->nodes[i], c->rq->wall);
	api_reply_json(c->rs, 200, json_pack("{s:o}", "region_metrics", out));
}

struct nodes_walk {
	struct api *api;
	unix_ms wall;
	json_t *arr;
};

static int node_one(const struct store_node *sn, void *arg)
{
	struct nodes_walk *w = arg;
	struct api_node_live *n = api_node_live_find(w->api, sn->name, false);
	unix_ms seen = n ? n->last_seen : sn->last_seen;
	unix_ms online_ms = (unix_ms)API_ONLINE_PERIODS * API_WAIT_DEFAULT_S * 1000;
	json_t *t = n && n->telemetry ? json_incref(n->telemetry) : json_null();

	json_array_append_new(w->arr, json_pack(
		"{s:s, s:I, s:I, s:b, s:I, s:o}", "name", sn->name,
		"enrolled_ms", (json_int_t)sn->enrolled, "last_seen_ms", (json_int_t)seen,
		"online", seen > 0 && w->wall - seen <= online_ms,
		"running_version", (json_int_t)(n ? n->running_version : sn->running_version),
		"telemetry", t));
	return 0;
}

void api_nodes_list(struct api_call *c)
{
	struct nodes_walk w = { .api = c->api, .wall = c->rq->wall, .arr = json_array() };
	int ret = store_node_list(c->api->store, node_one, &w);

	if (ret) {
		json_decref(w.arr);
		api_reply_store(c, ret);
		return;
	}
	api_reply_json(c->rs, 200, json_pack("{s:o}", "nodes", w.arr));
}

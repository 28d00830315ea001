/* api: the route table and the request's way through it: find the route,
 * check the method, authenticate, parse the JSON body, call the handler,
 * count the answer. Also the reply helpers every handler uses. */
#include "controller/api_internal.h"
#include "policy/policy.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum api_auth { AUTH_NONE, AUTH_ADMIN, AUTH_NODE };

struct api_route_def {
	const char *path;
	const char *method;		/* the only one allowed */
	enum api_auth auth;
	bool body;			/* a JSON object body is required */
	void (*fn)(struct api_call *c);
};

static const struct api_route_def routes[API_R_COUNT] = {
	[API_R_POLICY]		= { "/api/v1/policy", "GET", AUTH_ADMIN, false, api_policy_get },
	[API_R_VERSIONS]	= { "/api/v1/policy/versions", "GET", AUTH_ADMIN, false,
				    api_policy_versions },
	[API_R_PLAN]		= { "/api/v1/policy/plan", "POST", AUTH_ADMIN, true,
				    api_policy_plan },
	[API_R_APPLY]		= { "/api/v1/policy/apply", "POST", AUTH_ADMIN, true,
				    api_policy_apply },
	[API_R_ROLLBACK]	= { "/api/v1/policy/rollback", "POST", AUTH_ADMIN, true,
				    api_policy_rollback },
	[API_R_NODES]		= { "/api/v1/nodes", "GET", AUTH_ADMIN, false, api_nodes_list },
	[API_R_AUDIT]		= { "/api/v1/audit", "GET", AUTH_ADMIN, false, api_audit_list },
	[API_R_TOKENS_ENROLL]	= { "/api/v1/tokens/enroll", "POST", AUTH_ADMIN, true,
				    api_tokens_enroll },
	[API_R_ENROLL]		= { "/api/v1/enroll", "POST", AUTH_NONE, true, api_enroll },
	[API_R_NODE_POLICY]	= { "/api/v1/node/policy", "GET", AUTH_NODE, false,
				    api_node_policy },
	[API_R_TELEMETRY]	= { "/api/v1/node/telemetry", "POST", AUTH_NODE, true,
				    api_node_telemetry },
	[API_R_METRICS]		= { "/metrics", "GET", AUTH_NONE, false, api_metrics },
	[API_R_DASHBOARD]	= { "/", "GET", AUTH_NONE, false, api_dashboard },
	[API_R_OTHER]		= { NULL, NULL, AUTH_NONE, false, NULL },
};

const char *const api_route_names[API_R_COUNT] = {
	[API_R_POLICY] = "policy", [API_R_VERSIONS] = "policy_versions",
	[API_R_PLAN] = "policy_plan", [API_R_APPLY] = "policy_apply",
	[API_R_ROLLBACK] = "policy_rollback", [API_R_NODES] = "nodes",
	[API_R_AUDIT] = "audit", [API_R_TOKENS_ENROLL] = "tokens_enroll",
	[API_R_ENROLL] = "enroll", [API_R_NODE_POLICY] = "node_policy",
	[API_R_TELEMETRY] = "node_telemetry", [API_R_METRICS] = "metrics",
	[API_R_DASHBOARD] = "dashboard", [API_R_OTHER] = "other",
};

static const unsigned api_codes[API_N_CODES] = API_CODES;

int api_open(struct api **out, struct store *s)
{
	struct api *a = calloc(1, sizeof(*a));
	int ret;

	if (!a)
		return -ENOMEM;
	a->store = s;
	a->auth_tokens = API_AUTH_AUDIT_PER_S;
	ret = store_policy_current(s, &a->version);
	if (!ret)
		ret = api_nodes_load(a);
	if (ret) {
		api_close(a);
		return ret;
	}
	*out = a;
	return 0;
}

void api_close(struct api *a)
{
	if (!a)
		return;
	api_nodes_flush(a, 0, true);
	api_nodes_free(a);
	api_policy_cache_free(a);
	free(a);
}

uint64_t api_policy_version(const struct api *a)
{
	return a->version;
}

void api_set_waiters(struct api *a, size_t n)
{
	a->waiters = n;
}

uint64_t api_auth_fail_unaudited(const struct api *a)
{
	return a->auth_unaudited;
}

void api_response_free(struct api_response *rs)
{
	free(rs->body);
	rs->body = NULL;
	rs->len = 0;
}

void api_reply_text(struct api_response *rs, unsigned status, const char *type,
		    const char *text, size_t len)
{
	free(rs->body);
	rs->body = malloc(len + 1);
	rs->status = rs->body ? status : 500;
	rs->len = rs->body ? len : 0;
	rs->content_type = type;
	if (rs->body) {
		memcpy(rs->body, text, len);
		rs->body[len] = '\0';
	}
}

void api_reply_json(struct api_response *rs, unsigned status, json_t *obj)
{
	char *text = obj ? json_dumps(obj, JSON_COMPACT) : NULL;

	json_decref(obj);
	free(rs->body);
	rs->content_type = "application/json";
	if (!text) {
		static const char oom[] = "{\"error\":\"out of memory\"}";

		rs->body = strdup(oom);
		rs->len = rs->body ? strlen(oom) : 0;
		rs->status = 500;
		return;
	}
	rs->body = text;
	rs->len = strlen(text);
	rs->status = status;
}

void api_reply_error(struct api_response *rs, unsigned status, const char *msg)
{
	api_reply_json(rs, status, json_pack("{s:s}", "error", msg));
}

void api_reply_errorf(struct api_response *rs, unsigned status, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	api_reply_error(rs, status, msg);
}

void api_reply_store(struct api_call *c, int err)
{
	switch (err) {
	case -ENOENT:
		api_reply_error(c->rs, 404, "not found");
		break;
	case -EINVAL:
		api_reply_errorf(c->rs, 400, "%s", store_errmsg(c->api->store));
		break;
	case -E2BIG:
		api_reply_errorf(c->rs, 413, "%s", store_errmsg(c->api->store));
		break;
	default:
		api_reply_error(c->rs, 500, "store error");
		break;
	}
}

const char *api_query(const struct api_request *rq, const char *key)
{
	for (size_t i = 0; i < rq->n_query; i++)
		if (rq->query[i].key && !strcmp(rq->query[i].key, key))
			return rq->query[i].value ? rq->query[i].value : "";
	return NULL;
}

bool api_query_u64(struct api_call *c, const char *key, uint64_t lo, uint64_t hi,
		   uint64_t *out)
{
	const char *v = api_query(c->rq, key);
	unsigned long long n;
	char *end;

	if (!v)
		return true;
	errno = 0;
	n = strtoull(v, &end, 10);
	if (!*v || *v == '-' || *end || errno || n < lo || n > hi) {
		api_reply_errorf(c->rs, 400, "query parameter %s: want an integer %llu..%llu",
				 key, (unsigned long long)lo, (unsigned long long)hi);
		return false;
	}
	*out = n;
	return true;
}

static enum api_route route_find(const char *path)
{
	for (int r = 0; r < API_R_OTHER; r++)
		if (!strcmp(routes[r].path, path))
			return r;
	return API_R_OTHER;
}

static bool method_ok(const struct api_route_def *d, const char *method)
{
	if (!strcmp(method, d->method))
		return true;
	return !strcmp(d->method, "GET") && !strcmp(method, "HEAD");
}

/* Bodies are parsed once here: strict JSON, no duplicate keys, no NULs. */
static bool body_parse(struct api_call *c)
{
	json_error_t jerr;

	if (c->rq->body_too_big) {
		api_reply_error(c->rs, 413, "body over 8 MiB");
		return false;
	}
	c->body = json_loadb(c->rq->body ? c->rq->body : "", c->rq->body_len,
			     JSON_REJECT_DUPLICATES, &jerr);
	if (!c->body) {
		api_reply_errorf(c->rs, 400, "body is not JSON: line %d column %d: %s",
				 jerr.line, jerr.column, jerr.text);
		return false;
	}
	if (!json_is_object(c->body)) {
		api_reply_error(c->rs, 400, "body must be a JSON object");
		return false;
	}
	return true;
}

static void dispatch(struct api_call *c, enum api_route r)
{
	const struct api_route_def *d = &routes[r];

	if (r == API_R_OTHER) {
		api_reply_error(c->rs, 404, "no such endpoint");
		return;
	}
	if (!method_ok(d, c->rq->method)) {
		c->rs->allow = !strcmp(d->method, "GET") ? "GET, HEAD" : d->method;
		api_reply_error(c->rs, 405, "method not allowed");
		return;
	}
	if (d->auth == AUTH_ADMIN && !api_auth_admin(c))
		return;
	if (d->auth == AUTH_NODE && !api_auth_node(c))
		return;
	if (d->body && !body_parse(c))
		return;
	d->fn(c);
}

static void count(struct api *a, enum api_route r, unsigned status, double seconds,
		  double latency)
{
	for (size_t i = 0; i < API_N_CODES; i++) {
		if (api_codes[i] == status) {
			a->requests[r][i]++;
			break;
		}
	}
	a->seconds[r] += seconds;
	api_metrics_observe(a, r, latency);
}

static double elapsed_s(monotime_ns start)
{
	return (double)(monotime_now() - start) / 1e9;
}

void api_handle(struct api *a, const struct api_request *rq, struct api_response *rs)
{
	struct api_call c = { .api = a, .rq = rq, .rs = rs };
	monotime_ns start = monotime_now();
	enum api_route r = route_find(rq->path ? rq->path : "");

	memset(rs, 0, sizeof(*rs));
	if (!rq->method || !rq->path) {
		api_reply_error(rs, 400, "no method or path");
		r = API_R_OTHER;
	} else {
		dispatch(&c, r);
	}
	json_decref(c.body);
	if (rs->status)
		count(a, r, rs->status, elapsed_s(start),
		      elapsed_s(rq->started ? rq->started : start));
}

/* api_internal: what the api_*.c files share: the API's state, the route
 * table's types, and the reply and body helpers. Nothing outside
 * src/controller/api*.c includes it. */
#ifndef EGRESS_CONTROLLER_API_INTERNAL_H
#define EGRESS_CONTROLLER_API_INTERNAL_H

#include <jansson.h>

#include "controller/api.h"
#include "metrics/prom.h"

struct policy;

enum api_route {
	API_R_POLICY,
	API_R_VERSIONS,
	API_R_PLAN,
	API_R_APPLY,
	API_R_ROLLBACK,
	API_R_NODES,
	API_R_AUDIT,
	API_R_TOKENS_ENROLL,
	API_R_ENROLL,
	API_R_NODE_POLICY,
	API_R_TELEMETRY,
	API_R_METRICS,
	API_R_DASHBOARD,
	API_R_OTHER,		/* 404s */
	API_R_COUNT
};

/* The status codes the API answers, counted per route. */
#define API_CODES { 200, 204, 400, 401, 404, 405, 409, 413, 422, 500 }
#define API_N_CODES 10

/* A node's latest report, kept in memory: the store is written at most
 * once per API_SEEN_WRITE_S per node (each write is an fsync). */
struct api_node_live {
	char name[STORE_NAME_MAX];
	char cred_id[17];		/* id half of its credential, "" = unknown */
	unix_ms last_seen;
	uint64_t running_version;
	json_t *telemetry;		/* NULL = none */
	unix_ms telemetry_at;		/* when this process got it; 0 = from the store */
	monotime_ns last_write;		/* 0 = never written by us */
	bool dirty;			/* newer than the store */
};

struct api {
	struct store *store;
	uint64_t version;		/* current policy version */
	/* The compiled current policy, for plan's "before" (NULL: none, or
	 * it no longer loads); version it belongs to. */
	struct policy *current;
	uint64_t current_version;
	bool current_loaded;

	struct api_node_live *nodes;
	size_t n_nodes, cap_nodes;

	/* auth.fail audit rows: a token bucket, API_AUTH_AUDIT_PER_S. */
	monotime_ns auth_refill;
	unsigned auth_tokens;
	uint64_t auth_failures, auth_unaudited;

	size_t waiters;
	uint64_t requests[API_R_COUNT][API_N_CODES];
	double seconds[API_R_COUNT];	/* handling only, long-poll waits aside */
	/* Latency from the first call to the answer, waits included (so
	 * node_policy's long-polls sit in its own series' top buckets). */
	struct prom_histogram duration[API_R_COUNT];
};

/* What a handler gets: the request, its parsed JSON body (NULL for GETs),
 * and who is asking (admin name or node name; "" when unauthenticated). */
struct api_call {
	struct api *api;
	const struct api_request *rq;
	struct api_response *rs;
	json_t *body;
	char who[STORE_NAME_MAX];
};

extern const char *const api_route_names[API_R_COUNT];

/* ---- replies (api.c) ---- */
void api_reply_json(struct api_response *rs, unsigned status, json_t *obj);	/* steals */
void api_reply_error(struct api_response *rs, unsigned status, const char *msg);
void api_reply_errorf(struct api_response *rs, unsigned status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void api_reply_text(struct api_response *rs, unsigned status, const char *type,
		    const char *text, size_t len);
/* A store error as the API's status: -ENOENT 404, -ESTALE 409, ... */
void api_reply_store(struct api_call *c, int err);
const char *api_query(const struct api_request *rq, const char *key);
/* ?key=N: false (and 400 sent) when present but not a number in [lo, hi]. */
bool api_query_u64(struct api_call *c, const char *key, uint64_t lo, uint64_t hi,
		   uint64_t *out);

/* ---- bodies (api_body.c): each false sends 400 naming the field ---- */
bool api_body_keys(struct api_call *c, const char *const *allowed);
bool api_body_string(struct api_call *c, const char *key, bool required,
		     const char **out, size_t *len);
bool api_body_u64(struct api_call *c, const char *key, bool required, uint64_t *out);
bool api_body_name(struct api_call *c, const char *key, const char **out);

/* ---- auth (api_auth.c) ---- */
bool api_auth_admin(struct api_call *c);
bool api_auth_node(struct api_call *c);
/* Counts a refused credential and audits it, rate-limited; sends 401. */
void api_auth_fail(struct api_call *c, const char *reason);

/* ---- metrics (api_metrics.c) ---- */
/* Records one answered request's latency in its route's histogram. */
void api_metrics_observe(struct api *a, enum api_route r, double seconds);

/* ---- handlers ---- */
void api_policy_get(struct api_call *c);
void api_policy_versions(struct api_call *c);
void api_policy_plan(struct api_call *c);
void api_policy_apply(struct api_call *c);
void api_policy_rollback(struct api_call *c);
void api_audit_list(struct api_call *c);
void api_tokens_enroll(struct api_call *c);
void api_enroll(struct api_call *c);
void api_node_policy(struct api_call *c);
void api_node_telemetry(struct api_call *c);
void api_nodes_list(struct api_call *c);
void api_metrics(struct api_call *c);
void api_dashboard(struct api_call *c);

/* ---- node reports (api_node.c) ---- */
struct api_node_live *api_node_live_find(struct api *a, const char *name, bool create);
int api_nodes_load(struct api *a);
void api_nodes_flush(struct api *a, monotime_ns now, bool all);
void api_nodes_free(struct api *a);
/* The current policy compiled (cached per version); NULL if none. */
struct policy *api_policy_current(struct api *a);
void api_policy_cache_free(struct api *a);

#endif

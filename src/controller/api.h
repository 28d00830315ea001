/* api: egress-controller's REST API (docs/api.md), in two layers.
 *
 * api_handle() is the whole API as a pure function of one request: method,
 * path, query, credentials and body in, status and body out, with the store
 * as its only side effect. It routes, authenticates, validates every body
 * and answers; tests and the fuzz target call it directly.
 *
 * api_http (api_http.c) is the thin libmicrohttpd adapter: it accumulates
 * bodies (8 MiB at most), calls api_handle(), and parks long-polls. The
 * controller runs it from its own epoll loop, one thread (the store is one
 * SQLite connection), so suspending and resuming a waiting node is a list
 * operation, never a race (docs/controller.md). */
#ifndef EGRESS_CONTROLLER_API_H
#define EGRESS_CONTROLLER_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/monotime.h"
#include "controller/store.h"

#define API_BODY_MAX		(8u << 20)	/* any request body */
#define API_TELEMETRY_MAX	(1u << 20)	/* POST /node/telemetry */
#define API_WAIT_DEFAULT_S	25		/* long-poll, seconds */
#define API_WAIT_MAX_S		60
#define API_ONLINE_PERIODS	3		/* online = seen within 3 polls */
#define API_SEEN_WRITE_S	5		/* one store write per node per 5 s */
#define API_AUTH_AUDIT_PER_S	10		/* auth.fail rows per second */
#define API_QUERY_MAX		16		/* query parameters kept */
/* Nodes name themselves in this header next to their credential. */
#define API_NODE_HEADER		"X-Egress-Node"

struct api;

struct api_param {
	const char *key;
	const char *value;	/* may be NULL ("?flag") */
};

struct api_request {
	const char *method;
	const char *path;		/* without the query */
	const struct api_param *query;
	size_t n_query;
	const char *authorization;	/* the header's value, or NULL */
	const char *node;		/* API_NODE_HEADER's value, or NULL */
	const char *body;		/* need not be NUL-terminated */
	size_t body_len;
	bool body_too_big;		/* over API_BODY_MAX: answered 413 */
	const char *remote;		/* client address for the audit log */
	monotime_ns now;
	unix_ms wall;			/* "now" for last_seen and online */
	/* A long-poll being answered again after a wake-up: its deadline
	 * from the first call (0 = first call). */
	monotime_ns wait_deadline;
	/* When api_handle() first saw the request (0: now); a parked
	 * long-poll keeps its first call's, so its latency counts the wait. */
	monotime_ns started;
};

struct api_response {
	/* An HTTP status, or 0: "wait" (a long-poll with nothing new). The
	 * caller parks the request until the policy version is no longer
	 * wait_known or wait_deadline passes, then calls api_handle() again
	 * with rq.wait_deadline set. */
	unsigned status;
	char *body;			/* malloc'd; api_response_free() */
	size_t len;
	const char *content_type;
	const char *allow;		/* for 405: the Allow header */
	uint64_t wait_known;
	monotime_ns wait_deadline;
};

/* The api does not own the store. Needs crypto_init() (policy digests). */
int api_open(struct api **out, struct store *s);
/* Writes node reports still held in memory, then frees. */
void api_close(struct api *a);

void api_handle(struct api *a, const struct api_request *rq, struct api_response *rs);
void api_response_free(struct api_response *rs);

/* The current policy version (changes only in api_handle). */
uint64_t api_policy_version(const struct api *a);
/* The adapter reports how many long-polls it holds (a metric). */
void api_set_waiters(struct api *a, size_t n);
/* Auth failures not written to the audit log (over the rate limit). */
uint64_t api_auth_fail_unaudited(const struct api *a);

/* ---- the HTTP adapter ---- */
struct api_http;

struct api_http_config {
	const char *listen;		/* ADDR:PORT, [V6]:PORT */
	const char *tls_cert_pem;	/* both NULL: plain HTTP */
	const char *tls_key_pem;
};

int api_http_open(struct api_http **out, struct api *api, const struct api_http_config *cfg);
/* Resumes every parked long-poll (they answer 204), then stops. */
void api_http_close(struct api_http *h);
/* An fd to poll for input, and how long the caller may sleep (ms, -1 =
 * no limit) before calling api_http_run() again. */
int api_http_fd(const struct api_http *h);
int api_http_timeout_ms(const struct api_http *h, monotime_ns now);
/* Serves what is ready and wakes long-polls that are due. */
void api_http_run(struct api_http *h, monotime_ns now);
/* The port bound (useful with port 0). */
unsigned api_http_port(const struct api_http *h);

#endif

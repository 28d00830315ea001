/* http: one blocking HTTP request to the controller through libcurl's
 * easy interface, for the agent's threads only. Each thread keeps its own
 * handle (libcurl handles are not shared between threads), so a thread's
 * connection is reused from one request to the next. A request gives up
 * within about a second once the agent is asked to stop. */
#ifndef EGRESS_AGENT_HTTP_H
#define EGRESS_AGENT_HTTP_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

/* The biggest answer read: a policy document is at most 8 MiB (api.md),
 * JSON-escaped in its answer. */
#define AGENT_HTTP_MAX_BODY (20u << 20)

struct agent_http {
	void *curl;			/* CURL *, created on first use */
	const char *base_url;		/* "https://ctl:8443", no trailing '/' */
	const char *node;		/* sent as X-Egress-Node with a bearer */
	const char *cacert;		/* NULL: the system's CAs */
	const atomic_bool *stop;	/* aborts the transfer when set */
};

struct agent_http_resp {
	long status;			/* 0 when no answer came */
	char *body;			/* NUL-terminated, malloc'ed; may be NULL */
	size_t len;
	char error[256];		/* why there was no answer */
};

/* method "GET" or "POST"; body (JSON) only for POST; bearer may be NULL.
 * Returns true when an HTTP answer came (any status), false with
 * resp->error set otherwise. Free resp->body with agent_http_resp_free. */
bool agent_http_request(struct agent_http *h, const char *method, const char *path,
			const char *bearer, const char *body, long timeout_s,
			struct agent_http_resp *resp);
void agent_http_resp_free(struct agent_http_resp *resp);
void agent_http_close(struct agent_http *h);

#endif

/* api_http: libmicrohttpd in front of api_handle(). MHD does HTTP and TLS
 * and its limits (connections, idle timeout, header memory); this file
 * accumulates bodies (413 past API_BODY_MAX, without reading the rest),
 * turns a connection into a struct api_request, and parks long-polls.
 *
 * MHD runs in external epoll mode, driven by the controller's own loop:
 * everything, the store included, runs on one thread. A long-poll that has
 * nothing new is suspended (MHD_suspend_connection) and kept on a list;
 * every pass of api_http_run() resumes those whose version went stale or
 * whose deadline passed, and MHD calls the handler again for them, which
 * answers 200 or 204. An apply is served in the same pass that wakes the
 * waiters, so a wake-up costs no timer at all. */
#include "controller/api.h"
#include "controller/http_body.h"
#include "common/log.h"
#include "wg/endpoint.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define HTTP_CONNECTIONS	4096	/* parked long-polls hold one each */
#define HTTP_TIMEOUT_S		(API_WAIT_MAX_S + 30)	/* idle, not parked */
#define HTTP_MEMORY		(64 * 1024)	/* per connection: headers, read buffer */
#define HTTP_DISCARD_MAX	(4 * (size_t)API_BODY_MAX)	/* past the cap */

struct http_req {
	struct http_body body;
	struct MHD_Connection *conn;
	struct api_param query[API_QUERY_MAX];
	size_t n_query;
	size_t discarded;	/* body bytes dropped past the cap */
	bool answered;
	bool parked;
	uint64_t known;
	monotime_ns deadline;	/* 0 until first parked */
	monotime_ns started;	/* first api_handle() call: latency metric */
	struct http_req *prev, *next;	/* the parked list */
};

struct api_http {
	struct MHD_Daemon *mhd;
	struct api *api;
	int epoll_fd;
	unsigned port;
	bool closing;		/* waiters answer 204 at once */
	struct http_req *parked;
	size_t n_parked;
};

__attribute__((format(printf, 2, 0)))
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	static struct log_ratelimit rl;

	(void)cls;
	log_library_line(&rl, LOG_LVL_WARN, "http", fmt, ap);
}

static unix_ms wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (unix_ms)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void park(struct api_http *h, struct http_req *r)
{
	r->parked = true;
	r->prev = NULL;
	r->next = h->parked;
	if (h->parked)
		h->parked->prev = r;
	h->parked = r;
	h->n_parked++;
	api_set_waiters(h->api, h->n_parked);
}

static void unpark(struct api_http *h, struct http_req *r)
{
	if (!r->parked)
		return;
	if (r->prev)
		r->prev->next = r->next;
	else
		h->parked = r->next;
	if (r->next)
		r->next->prev = r->prev;
	r->parked = false;
	h->n_parked--;
	api_set_waiters(h->api, h->n_parked);
}

static enum MHD_Result queue(struct MHD_Connection *c, struct http_req *r,
			     const struct api_response *rs)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	resp = MHD_create_response_from_buffer(rs->len, rs->body ? rs->body : (void *)"",
					       MHD_RESPMEM_MUST_COPY);
	if (!resp)
		return MHD_NO;
	if (rs->content_type && rs->status != 204)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, rs->content_type);
	if (rs->allow)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, rs->allow);
	if (rs->status == 401)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	ret = MHD_queue_response(c, rs->status, resp);
	MHD_destroy_response(resp);
	r->answered = true;
	return ret;
}

static enum MHD_Result queue_413(struct MHD_Connection *c, struct http_req *r)
{
	static const char msg[] = "{\"error\":\"body over 8 MiB\"}";
	struct api_response rs = {
		.status = 413, .body = (char *)msg, .len = sizeof(msg) - 1,
		.content_type = "application/json",
	};

	return queue(c, r, &rs);
}

static enum MHD_Result collect_arg(void *cls, enum MHD_ValueKind kind, const char *key,
				   const char *value)
{
	struct http_req *r = cls;

	(void)kind;
	if (r->n_query < API_QUERY_MAX)
		r->query[r->n_query++] = (struct api_param){ key, value };
	return MHD_YES;
}

static void remote_text(struct MHD_Connection *c, char *buf, size_t len)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;

	buf[0] = '\0';
	if (sa && sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr,
			  buf, len);
	else if (sa && sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
			  buf, len);
}

static enum MHD_Result answer(struct api_http *h, struct http_req *r, struct MHD_Connection *c,
			      const char *url, const char *method)
{
	struct api_response rs;
	struct api_request rq = {
		.method = method, .path = url, .body = r->body.data, .body_len = r->body.len,
		.body_too_big = r->body.too_big, .now = monotime_now(), .wall = wall_ms(),
		.wait_deadline = r->deadline,
	};
	char remote[INET6_ADDRSTRLEN];
	enum MHD_Result ret;

	if (!r->started)
		r->started = rq.now;
	rq.started = r->started;
	r->n_query = 0;
	MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, collect_arg, r);
	rq.query = r->query;
	rq.n_query = r->n_query;
	rq.authorization = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
						       MHD_HTTP_HEADER_AUTHORIZATION);
	rq.node = MHD_lookup_connection_value(c, MHD_HEADER_KIND, API_NODE_HEADER);
	remote_text(c, remote, sizeof(remote));
	rq.remote = remote;
	/* Shutting down: every long-poll answers 204 at once, also one that
	 * arrives now (a node re-polls as soon as its last one is answered):
	 * MHD must not be stopped with a connection suspended. */
	if (h->closing)
		rq.wait_deadline = rq.now;
	api_handle(h->api, &rq, &rs);
	if (rs.status == 0) {
		r->known = rs.wait_known;
		r->deadline = rs.wait_deadline;
		park(h, r);
		MHD_suspend_connection(c);
		api_response_free(&rs);
		return MHD_YES;
	}
	ret = queue(c, r, &rs);
	api_response_free(&rs);
	return ret;
}

static bool content_length_over(struct MHD_Connection *c)
{
	const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
						     MHD_HTTP_HEADER_CONTENT_LENGTH);

	return cl && strtoull(cl, NULL, 10) > API_BODY_MAX;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version,
				  const char *upload_data, size_t *upload_data_size,
				  void **req_ctx)
{
	struct http_req *r = *req_ctx;

	(void)version;
	if (!r) {
		r = calloc(1, sizeof(*r));
		if (!r)
			return MHD_NO;
		http_body_init(&r->body, API_BODY_MAX);
		r->conn = c;
		*req_ctx = r;
		/* Refused before a byte of body is read (or 100-continue). */
		return content_length_over(c) ? queue_413(c, r) : MHD_YES;
	}
	if (*upload_data_size) {
		size_t n = *upload_data_size;

		*upload_data_size = 0;
		if (r->answered || http_body_append(&r->body, upload_data, n))
			return MHD_YES;
		/* A chunked body past the cap: read and drop the rest, so the
		 * 413 is not lost to a reset; a body that will not end is cut
		 * off (a response queued early stops MHD reading, then closes). */
		r->discarded += n;
		return r->discarded > HTTP_DISCARD_MAX ? queue_413(c, r) : MHD_YES;
	}
	if (r->answered)
		return MHD_YES;
	if (r->body.too_big)
		return queue_413(c, r);
	return answer(cls, r, c, url, method);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **req_ctx,
			 enum MHD_RequestTerminationCode toe)
{
	struct http_req *r = *req_ctx;

	(void)c; (void)toe;
	if (!r)
		return;
	unpark(cls, r);
	http_body_free(&r->body);
	free(r);
	*req_ctx = NULL;
}

static struct MHD_Daemon *start_mhd(struct api_http *h, const union wg_sockaddr *sa,
				    const struct api_http_config *cfg)
{
	unsigned flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;

	if (sa->sa.sa_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	if (cfg->tls_cert_pem)
		flags |= MHD_USE_TLS;
	/* No address reuse: a second controller must fail to start. The TLS
	 * options come last; without TLS they end the list early. */
	return MHD_start_daemon(flags, 0, NULL, NULL, on_request, h,
				MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
				MHD_OPTION_SOCK_ADDR, &sa->sa,
				MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
				MHD_OPTION_CONNECTION_LIMIT, (unsigned)HTTP_CONNECTIONS,
				MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)HTTP_TIMEOUT_S,
				MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HTTP_MEMORY,
				cfg->tls_cert_pem ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END,
				cfg->tls_cert_pem,
				MHD_OPTION_HTTPS_MEM_KEY, cfg->tls_key_pem,
				MHD_OPTION_END);
}

/* ADDR:PORT; port 0 (any free port, for tests) is refused by the endpoint
 * parser, so it is parsed as port 1 and cleared. */
static bool listen_parse(const char *text, union wg_sockaddr *sa)
{
	size_t len = strlen(text);
	char tmp[128];

	if (wg_sockaddr_parse(text, sa))
		return true;
	if (len < 2 || len >= sizeof(tmp) || strcmp(text + len - 2, ":0"))
		return false;
	memcpy(tmp, text, len + 1);
	tmp[len - 1] = '1';
	if (!wg_sockaddr_parse(tmp, sa))
		return false;
	if (sa->sa.sa_family == AF_INET)
		sa->in.sin_port = 0;
	else
		sa->in6.sin6_port = 0;
	return true;
}

int api_http_open(struct api_http **out, struct api *api, const struct api_http_config *cfg)
{
	const union MHD_DaemonInfo *info;
	struct api_http *h;
	union wg_sockaddr sa;

	if (!listen_parse(cfg->listen, &sa))
		return -EINVAL;
	if (!cfg->tls_cert_pem != !cfg->tls_key_pem)
		return -EINVAL;
	if (cfg->tls_cert_pem && MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES)
		return -ENOTSUP;
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->api = api;
	errno = 0;
	h->mhd = start_mhd(h, &sa, cfg);
	if (!h->mhd) {
		free(h);
		return errno ? -errno : -EADDRINUSE;
	}
	info = MHD_get_daemon_info(h->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	h->epoll_fd = info ? info->epoll_fd : -1;
	info = MHD_get_daemon_info(h->mhd, MHD_DAEMON_INFO_BIND_PORT);
	h->port = info ? info->port : 0;
	if (h->epoll_fd < 0) {
		api_http_close(h);
		return -ENOTSUP;
	}
	*out = h;
	return 0;
}

/* Resumes the parked requests that have something to say. */
static bool wake(struct api_http *h, monotime_ns now)
{
	uint64_t version = api_policy_version(h->api);
	struct http_req *r = h->parked, *next;
	bool any = false;

	for (; r; r = next) {
		next = r->next;
		if (!h->closing && r->known == version && now < r->deadline)
			continue;
		unpark(h, r);
		MHD_resume_connection(r->conn);
		any = true;
	}
	return any;
}

void api_http_run(struct api_http *h, monotime_ns now)
{
	uint64_t before;
	int passes = 0;

	/* An apply can commit in any MHD_run (a kept-alive connection may read
	 * its body in one and answer in the next), and nothing would wake the
	 * loop again for the polls parked on the old version: repeat the pass
	 * while the version moved during it. */
	do {
		before = api_policy_version(h->api);
		MHD_run(h->mhd);
		if (wake(h, now))
			MHD_run(h->mhd);
		/* A connection finished in that pass is only closed by the next. */
		MHD_run(h->mhd);
	} while (api_policy_version(h->api) != before && ++passes < 8);
	if (wake(h, now))
		MHD_run(h->mhd);
}

int api_http_fd(const struct api_http *h)
{
	return h->epoll_fd;
}

int api_http_timeout_ms(const struct api_http *h, monotime_ns now)
{
	MHD_UNSIGNED_LONG_LONG mhd_ms;
	long long ms = -1;

	if (MHD_get_timeout(h->mhd, &mhd_ms) == MHD_YES)
		ms = mhd_ms > 60000 ? 60000 : (long long)mhd_ms;
	for (const struct http_req *r = h->parked; r; r = r->next) {
		long long left = r->deadline > now ?
			(long long)((r->deadline - now + NSEC_PER_MSEC - 1) / NSEC_PER_MSEC) : 0;

		if (ms < 0 || left < ms)
			ms = left;
	}
	return (int)ms;
}

unsigned api_http_port(const struct api_http *h)
{
	return h->port;
}

void api_http_close(struct api_http *h)
{
	if (!h)
		return;
	h->closing = true;
	/* Bounded: a parked poll is answered within two passes, and no new
	 * one parks while closing. */
	for (int pass = 0; h->mhd && pass < 8 && (h->parked || pass < 2); pass++) {
		wake(h, 0);
		MHD_run(h->mhd);
	}
	if (h->mhd)
		MHD_stop_daemon(h->mhd);
	free(h);
}

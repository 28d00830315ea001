/* metrics_http: the /metrics endpoint. libmicrohttpd does the HTTP (and
 * its limits: connections, per-address connections, idle timeout, request
 * size); this file only wires it into the daemon's loop and answers the
 * one request it serves. */
#include "egressd/metrics_http.h"
#include "common/log.h"
#include "wg/endpoint.h"

#include <errno.h>
#include <limits.h>
#include <microhttpd.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"
#define MEMORY_LIMIT (16 * 1024)	/* per connection: headers of a GET */

__attribute__((format(printf, 2, 0)))
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	static struct log_ratelimit rl;	/* a client can make MHD talk */

	(void)cls;
	log_library_line(&rl, LOG_LVL_WARN, "metrics", fmt, ap);
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *body,
			     size_t len, const char *content_type)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
	if (!r)
		return MHD_NO;	/* MHD closes the connection */
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result reply_text(struct MHD_Connection *c, unsigned status, const char *text)
{
	return reply(c, status, text, strlen(text), "text/plain; charset=utf-8");
}

static enum MHD_Result serve_metrics(struct metrics_http *m, struct MHD_Connection *c)
{
	int ret;

	prom_buf_reset(&m->buf);
	ret = m->render(m->ctx, &m->buf);
	if (ret == 0 && m->buf.err)
		ret = m->buf.err;
	if (ret < 0) {
		m->errors++;
		log_ratelimited(LOG_LVL_WARN, "metrics: render failed: %s", strerror(-ret));
		return reply_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "render failed\n");
	}
	m->scrapes++;
	return reply(c, MHD_HTTP_OK, m->buf.data ? m->buf.data : "", m->buf.len, CONTENT_TYPE);
}

/* Answers on the first call, before any body: a request with a body is
 * never read (MHD closes such a connection after the reply). */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version,
				  const char *upload_data, size_t *upload_data_size,
				  void **req_ctx)
{
	struct metrics_http *m = cls;

	(void)version; (void)upload_data; (void)upload_data_size; (void)req_ctx;
	if (strcmp(url, "/metrics"))
		return reply_text(c, MHD_HTTP_NOT_FOUND, "not found: try /metrics\n");
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return reply_text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed\n");
	return serve_metrics(m, c);
}

static struct MHD_Daemon *start_mhd(struct metrics_http *m, const union wg_sockaddr *sa)
{
	unsigned flags = MHD_USE_EPOLL | MHD_USE_ERROR_LOG;

	if (sa->sa.sa_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	/* The logger first, so MHD says nothing on stderr by itself. No
	 * address reuse option: with it (SO_REUSEPORT) a second egressd
	 * would share the port instead of failing to start. */
	return MHD_start_daemon(flags, 0, NULL, NULL, on_request, m,
				MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
				MHD_OPTION_SOCK_ADDR, &sa->sa,
				MHD_OPTION_CONNECTION_LIMIT, (unsigned)METRICS_HTTP_MAX_CONNECTIONS,
				MHD_OPTION_PER_IP_CONNECTION_LIMIT,
				(unsigned)METRICS_HTTP_PER_IP_LIMIT,
				MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)METRICS_HTTP_TIMEOUT_S,
				MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)MEMORY_LIMIT,
				MHD_OPTION_END);
}

int metrics_http_open(struct metrics_http *m, const char *listen,
		      int (*render)(void *ctx, struct prom_buf *out), void *ctx)
{
	const union MHD_DaemonInfo *info;
	union wg_sockaddr sa;

	memset(m, 0, sizeof(*m));
	m->epoll_fd = -1;
	prom_buf_init(&m->buf);
	m->render = render;
	m->ctx = ctx;
	if (!wg_sockaddr_parse(listen, &sa))
		return -EINVAL;
	errno = 0;
	m->mhd = start_mhd(m, &sa);
	if (!m->mhd)
		return errno ? -errno : -EADDRINUSE;
	info = MHD_get_daemon_info(m->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	if (!info || info->epoll_fd < 0) {
		metrics_http_close(m);
		return -ENOTSUP;
	}
	m->epoll_fd = info->epoll_fd;
	return 0;
}

int metrics_http_fd(const struct metrics_http *m)
{
	return m->mhd ? m->epoll_fd : -1;
}

void metrics_http_run(struct metrics_http *m)
{
	if (!m->mhd)
		return;
	MHD_run(m->mhd);
	/* A connection that finished in that pass ("Connection: close") is
	 * only closed by the next one, and nothing would wake us for it. */
	MHD_run(m->mhd);
}

int metrics_http_timeout_ms(const struct metrics_http *m)
{
	MHD_UNSIGNED_LONG_LONG ms;

	if (!m->mhd || MHD_get_timeout(m->mhd, &ms) != MHD_YES)
		return -1;
	return ms > INT_MAX ? INT_MAX : (int)ms;
}

void metrics_http_close(struct metrics_http *m)
{
	if (m->mhd)
		MHD_stop_daemon(m->mhd);
	m->mhd = NULL;
	m->epoll_fd = -1;
	prom_buf_free(&m->buf);
}

/* metrics_http: GET /metrics over HTTP for Prometheus, served by
 * libmicrohttpd inside egressd's own epoll loop (no thread): MHD runs in
 * external mode with its own epoll set, whose one fd the daemon watches;
 * when it is readable the daemon calls metrics_http_run(), and it bounds
 * its epoll_wait by metrics_http_timeout_ms(). Each scrape calls render
 * on the loop's thread, so the renderer reads live state without locks.
 *
 * Only GET (and HEAD) /metrics: 200, text/plain; version=0.0.4. Another
 * method on /metrics gets 405, another path 404. At most
 * METRICS_HTTP_MAX_CONNECTIONS connections (4 per client address), each
 * closed after METRICS_HTTP_TIMEOUT_S idle. */
#ifndef EGRESS_EGRESSD_METRICS_HTTP_H
#define EGRESS_EGRESSD_METRICS_HTTP_H

#include "metrics/prom.h"

#define METRICS_HTTP_MAX_CONNECTIONS 16
#define METRICS_HTTP_PER_IP_LIMIT    4
#define METRICS_HTTP_TIMEOUT_S       10

struct MHD_Daemon;

struct metrics_http {
	struct MHD_Daemon *mhd;
	int epoll_fd;			/* MHD's; the daemon watches it */
	int (*render)(void *ctx, struct prom_buf *out);
	void *ctx;
	struct prom_buf buf;		/* reused by every scrape */
	unsigned long long scrapes, errors;
};

/* Listens on listen ("127.0.0.1:9586", "[::1]:9586", "0.0.0.0:9586").
 * render appends the exposition to out and returns 0 or -errno (then the
 * scrape gets a 500). Returns 0 or -errno (-EINVAL: a bad address). */
int metrics_http_open(struct metrics_http *m, const char *listen,
		      int (*render)(void *ctx, struct prom_buf *out), void *ctx);
/* The fd to add to the daemon's epoll set (EPOLLIN); -1 when closed. */
int metrics_http_fd(const struct metrics_http *m);
/* Accepts, reads and answers whatever is ready; never blocks. */
void metrics_http_run(struct metrics_http *m);
/* How long the loop may sleep before metrics_http_run is due again (a
 * connection timeout); -1 for "only when the fd is readable". */
int metrics_http_timeout_ms(const struct metrics_http *m);
void metrics_http_close(struct metrics_http *m);

#endif

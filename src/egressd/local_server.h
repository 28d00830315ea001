/* local_server: a Unix stream socket that answers framed text requests:
 * the UAPI socket for wg(8) and the control socket for egressctl. Clients
 * are served one request at a time from the event loop; a client that
 * sends more than the framer allows is disconnected. */
#ifndef EGRESS_EGRESSD_LOCAL_SERVER_H
#define EGRESS_EGRESSD_LOCAL_SERVER_H

#include <stddef.h>
#include <sys/types.h>

#define LOCAL_SERVER_MAX_CLIENTS 16

/* Length of the first complete request in buf, 0 if incomplete, <0 if
 * the client must be dropped. */
typedef ssize_t (*local_frame_fn)(const char *buf, size_t len);
/* Answers one request; *resp is malloc'd. <0: drop the client. */
typedef int (*local_handle_fn)(void *ctx, const char *req, size_t len,
			       char **resp, size_t *resp_len);

struct local_client {
	int fd;
	char *buf;
	size_t len, cap;
};

struct local_server {
	int listen_fd;
	char path[108];
	local_frame_fn frame;
	local_handle_fn handle;
	void *ctx;
	size_t max_request;
	struct local_client clients[LOCAL_SERVER_MAX_CLIENTS];
};

/* Returns 0, -EADDRINUSE when a live server already answers on path, or
 * another -errno. A stale socket file is replaced. */
int local_server_open(struct local_server *s, const char *path, local_frame_fn frame,
		      local_handle_fn handle, void *ctx, size_t max_request);
void local_server_close(struct local_server *s);
/* Accepts a pending connection (listen_fd readable). */
void local_server_accept(struct local_server *s);
/* Reads from and answers client i (its fd readable). */
void local_server_serve(struct local_server *s, size_t i);

#endif

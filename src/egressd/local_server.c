/* local_server: accept, read, frame, answer. Answers are written with a
 * short send timeout: a local client that stops reading is dropped
 * rather than stalling the data path. */
#include "egressd/local_server.h"
#include "common/log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

static bool someone_listens(const struct sockaddr_un *sun)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool live;

	if (fd < 0)
		return false;
	live = connect(fd, (const struct sockaddr *)sun, sizeof(*sun)) == 0;
	close(fd);
	return live;
}

int local_server_open(struct local_server *s, const char *path, local_frame_fn frame,
		      local_handle_fn handle, void *ctx, size_t max_request)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	mode_t old_umask;
	int ret;

	memset(s, 0, sizeof(*s));
	for (size_t i = 0; i < LOCAL_SERVER_MAX_CLIENTS; i++)
		s->clients[i].fd = -1;
	s->listen_fd = -1;
	if (strlen(path) >= sizeof(sun.sun_path))
		return -ENAMETOOLONG;
	strcpy(sun.sun_path, path);
	if (someone_listens(&sun))
		return -EADDRINUSE;
	unlink(path);
	s->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->listen_fd < 0)
		return -errno;
	old_umask = umask(0077);	/* configuration holds private keys */
	ret = bind(s->listen_fd, (struct sockaddr *)&sun, sizeof(sun));
	umask(old_umask);
	if (ret < 0 || listen(s->listen_fd, 16) < 0) {
		ret = -errno;
		close(s->listen_fd);
		s->listen_fd = -1;
		return ret;
	}
	strcpy(s->path, path);
	s->frame = frame;
	s->handle = handle;
	s->ctx = ctx;
	s->max_request = max_request;
	return 0;
}

static void client_drop(struct local_client *c)
{
	if (c->fd >= 0)
		close(c->fd);
	free(c->buf);
	*c = (struct local_client){ .fd = -1 };
}

void local_server_close(struct local_server *s)
{
	for (size_t i = 0; i < LOCAL_SERVER_MAX_CLIENTS; i++)
		client_drop(&s->clients[i]);
	if (s->listen_fd >= 0) {
		close(s->listen_fd);
		unlink(s->path);
	}
	s->listen_fd = -1;
}

void local_server_accept(struct local_server *s)
{
	struct timeval tv = { .tv_sec = 1 };
	int fd = accept4(s->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (fd < 0)
		return;
	for (size_t i = 0; i < LOCAL_SERVER_MAX_CLIENTS; i++) {
		if (s->clients[i].fd < 0) {
			setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
			s->clients[i].fd = fd;
			return;
		}
	}
	log_warn("%s: too many clients, refusing one", s->path);
	close(fd);
}

static bool write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EAGAIN) {
			struct timeval tv = { .tv_usec = 10000 };

			select(0, NULL, NULL, NULL, &tv);	/* brief: client is slow */
			continue;
		}
		if (n <= 0)
			return false;
		p += n;
		len -= (size_t)n;
	}
	return true;
}

static bool client_read(struct local_server *s, struct local_client *c)
{
	ssize_t n;

	if (c->cap - c->len < 4096) {
		size_t cap = c->cap ? c->cap * 2 : 8192;
		char *nb;

		if (cap > s->max_request + 8192)
			return false;
		nb = realloc(c->buf, cap);
		if (!nb)
			return false;
		c->buf = nb;
		c->cap = cap;
	}
	n = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return true;
	if (n <= 0)
		return false;
	c->len += (size_t)n;
	return true;
}

/* Answers every complete request buffered; false to drop the client. */
static bool client_answer(struct local_server *s, struct local_client *c)
{
	ssize_t reqlen;

	while ((reqlen = s->frame(c->buf, c->len)) > 0) {
		char *resp = NULL;
		size_t resp_len = 0;
		bool ok = s->handle(s->ctx, c->buf, (size_t)reqlen, &resp, &resp_len) == 0 &&
			  write_all(c->fd, resp, resp_len);

		if (resp) {
			memset(resp, 0, resp_len);	/* may hold keys */
			free(resp);
		}
		memmove(c->buf, c->buf + reqlen, c->len - (size_t)reqlen);
		c->len -= (size_t)reqlen;
		if (!ok)
			return false;
	}
	return reqlen == 0;
}

void local_server_serve(struct local_server *s, size_t i)
{
	struct local_client *c = &s->clients[i];

	if (!client_read(s, c) || !client_answer(s, c))
		client_drop(c);
}

/* control_client: one request, one answer over egressd's control socket.
 * The answer has no size limit but memory: `flows` can be megabytes. A
 * stalled daemon costs at most CONTROL_CLIENT_TIMEOUT_S per read. */
#include "egressctl/control_client.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

void control_request_init(struct control_request *req, const char *command)
{
	req->len = (size_t)snprintf(req->text, sizeof(req->text), "%s", command);
}

static bool value_is_clean(const char *value)
{
	if (!*value)
		return false;
	for (const unsigned char *c = (const unsigned char *)value; *c; c++)
		if (isspace(*c) || iscntrl(*c) || *c == '=')
			return false;
	return true;
}

int control_request_add(struct control_request *req, const char *key, const char *value)
{
	size_t room = sizeof(req->text) - req->len;
	int n;

	if (!value_is_clean(value))
		return -EINVAL;
	n = snprintf(req->text + req->len, room, " %s=%s", key, value);
	/* + 2: the closing "\n\n" must fit as well */
	if (n < 0 || (size_t)n + 2 >= room) {
		req->text[req->len] = '\0';
		return -E2BIG;
	}
	req->len += (size_t)n;
	return 0;
}

static const char *control_dir(void)
{
	const char *dir = getenv(CONTROL_CLIENT_DIR_ENV);

	return dir && *dir ? dir : CONTROL_CLIENT_DIR;
}

static int control_connect(const char *ifname, char *path, size_t cap)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = CONTROL_CLIENT_TIMEOUT_S };
	int fd, err;

	if ((size_t)snprintf(path, cap, "%s/%s.ctl", control_dir(), ifname) >= cap ||
	    strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "egressctl: %s: socket path too long\n", path);
		return -ENAMETOOLONG;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0)
		return fd;
fail:
	err = errno;
	fprintf(stderr, "egressctl: %s: %s (is egressd running on %s?)\n", path,
		strerror(err), ifname);
	if (fd >= 0)
		close(fd);
	return -err;
}

static int control_send(int fd, const struct control_request *req)
{
	char msg[CONTROL_CLIENT_MAX_REQUEST + 2];
	size_t len = req->len, off = 0;

	memcpy(msg, req->text, len);
	memcpy(msg + len, "\n\n", 2);
	len += 2;
	while (off < len) {
		ssize_t n = send(fd, msg + off, len - off, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		off += (size_t)n;
	}
	return 0;
}

/* Makes room for at least one more read of want bytes (and a NUL). */
static int answer_reserve(struct control_answer *ans, size_t *cap, size_t want)
{
	size_t need = ans->len + want + 1, ncap = *cap ? *cap : 8192;
	char *nbuf;

	if (need <= *cap)
		return 0;
	while (ncap < need) {
		if (ncap > SIZE_MAX / 2)
			return -ENOMEM;
		ncap *= 2;
	}
	nbuf = realloc(ans->buf, ncap);
	if (!nbuf)
		return -ENOMEM;
	ans->buf = nbuf;
	*cap = ncap;
	return 0;
}

/* Reads until the first "\n\n" or EOF. Only the bytes that arrived since
 * the last read (plus one) are searched, so this stays linear. */
static int control_receive(int fd, struct control_answer *ans)
{
	size_t cap = 0, scanned = 0;

	for (;;) {
		ssize_t n;
		int ret = answer_reserve(ans, &cap, 65536);

		if (ret)
			return ret;
		n = recv(fd, ans->buf + ans->len, cap - ans->len - 1, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		ans->len += (size_t)n;
		ans->buf[ans->len] = '\0';
		if (n == 0 || memmem(ans->buf + scanned, ans->len - scanned, "\n\n", 2))
			return 0;
		scanned = ans->len - 1;
	}
}

int control_call(const char *ifname, const struct control_request *req,
		 struct control_answer *ans)
{
	char path[512];
	int fd = control_connect(ifname, path, sizeof(path)), ret;

	ans->buf = NULL;
	ans->len = 0;
	if (fd < 0)
		return fd;
	ret = control_send(fd, req);
	if (!ret)
		ret = control_receive(fd, ans);
	close(fd);
	if (ret) {
		fprintf(stderr, "egressctl: %s: %s\n", path,
			ret == -EAGAIN ? "egressd did not answer in time" : strerror(-ret));
		control_answer_free(ans);
		return ret;
	}
	control_answer_trim(ans);
	return 0;
}

void control_answer_trim(struct control_answer *ans)
{
	char *end;

	if (!ans->buf)
		return;
	end = memmem(ans->buf, ans->len, "\n\n", 2);
	if (end) {
		ans->len = (size_t)(end - ans->buf) + 1;
		ans->buf[ans->len] = '\0';
	}
}

void control_answer_free(struct control_answer *ans)
{
	free(ans->buf);
	ans->buf = NULL;
	ans->len = 0;
}

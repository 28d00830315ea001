/* egressctl: the operator's command line for egressd.
 *
 *   egressctl stats IFNAME      every counter of a running egressd
 *
 * Talks to /var/run/egress/IFNAME.ctl. Later issues add plan, apply,
 * paths, flows and explain here, one file per subcommand. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define CONTROL_DIR "/var/run/egress"

static int connect_control(const char *ifname)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd;

	if (snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/%s.ctl", CONTROL_DIR, ifname) >=
	    (int)sizeof(sun.sun_path)) {
		fprintf(stderr, "egressctl: interface name too long\n");
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		fprintf(stderr, "egressctl: %s: %s (is egressd running on %s?)\n", sun.sun_path,
			strerror(errno), ifname);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* Sends one request and copies the answer, up to its empty line, to stdout. */
static int request(const char *ifname, const char *req)
{
	char buf[4096];
	size_t have = 0;
	int fd = connect_control(ifname);

	if (fd < 0)
		return 1;
	if (send(fd, req, strlen(req), MSG_NOSIGNAL) < 0) {
		perror("egressctl: send");
		close(fd);
		return 1;
	}
	for (;;) {
		ssize_t n = recv(fd, buf + have, sizeof(buf) - have, 0);

		if (n <= 0)
			break;
		have += (size_t)n;
		char *end = memmem(buf, have, "\n\n", 2);
		size_t out = end ? (size_t)(end - buf) + 1 : have > 1 ? have - 1 : 0;

		fwrite(buf, 1, out, stdout);
		memmove(buf, buf + out, have - out);
		have -= out;
		if (end)
			break;
	}
	close(fd);
	return 0;
}

static void usage(FILE *out)
{
	fprintf(out, "Usage: egressctl stats IFNAME\n");
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "stats"))
		return request(argv[2], "stats\n\n");
	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		usage(stdout);
		return 0;
	}
	usage(stderr);
	return 2;
}

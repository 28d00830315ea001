/* egress-controller: the control plane's program. It opens the store,
 * makes the bootstrap admin token on first start, and serves the REST API
 * (src/controller/api*.c) from one epoll loop: libmicrohttpd's epoll fd
 * and a signalfd, one thread, so the store needs no lock and a long-poll
 * is woken by the same pass that commits an apply. See docs/controller.md. */
#include "common/log.h"
#include "controller/api.h"
#include "controller/store.h"
#include "crypto/crypto.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEFAULT_LISTEN	"127.0.0.1:8443"
#define DEFAULT_DB	"/var/lib/egress/controller.db"
#define PEM_MAX		(1u << 20)
#define ACTOR		"controller"

struct options {
	const char *listen, *db, *tls_cert, *tls_key, *admin_token_file, *create_admin;
	bool insecure_http, foreground, verbose;
};

static void usage(FILE *f)
{
	fputs("usage: egress-controller [options]\n"
	      "  --listen ADDR:PORT       where to serve the API (" DEFAULT_LISTEN ")\n"
	      "  --db PATH                the store (" DEFAULT_DB ")\n"
	      "  --tls-cert FILE          PEM certificate (chain) for HTTPS\n"
	      "  --tls-key FILE           its PEM private key\n"
	      "  --insecure-http          serve plain HTTP (loopback tests only)\n"
	      "  --admin-token-file PATH  first start: write a \"bootstrap\" admin token here\n"
	      "  --create-admin-token NAME  print a new admin token NAME and exit\n"
	      "  -f, --foreground         do not fork\n"
	      "  -v, --verbose            log debug lines\n", f);
}

static int parse_args(int argc, char **argv, struct options *o)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "db", required_argument, NULL, 'd' },
		{ "tls-cert", required_argument, NULL, 'c' },
		{ "tls-key", required_argument, NULL, 'k' },
		{ "insecure-http", no_argument, NULL, 'i' },
		{ "admin-token-file", required_argument, NULL, 'a' },
		{ "create-admin-token", required_argument, NULL, 'n' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*o = (struct options){ .listen = DEFAULT_LISTEN, .db = DEFAULT_DB };
	while ((c = getopt_long(argc, argv, "fvh", opts, NULL)) != -1) {
		switch (c) {
		case 'l': o->listen = optarg; break;
		case 'd': o->db = optarg; break;
		case 'c': o->tls_cert = optarg; break;
		case 'k': o->tls_key = optarg; break;
		case 'i': o->insecure_http = true; break;
		case 'a': o->admin_token_file = optarg; break;
		case 'n': o->create_admin = optarg; break;
		case 'f': o->foreground = true; break;
		case 'v': o->verbose = true; break;
		case 'h': usage(stdout); exit(0);
		default: return -EINVAL;
		}
	}
	return optind == argc ? 0 : -EINVAL;
}

static char *read_pem(const char *path)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = fopen(path, "r");

	if (!f)
		return NULL;
	buf = malloc(PEM_MAX + 1);
	if (buf)
		len = fread(buf, 1, PEM_MAX, f);
	if (buf && (ferror(f) || len == 0 || len == PEM_MAX)) {
		free(buf);
		buf = NULL;
	}
	if (buf)
		buf[len] = '\0';
	fclose(f);
	return buf;
}

static int any_admin_created(const struct store_audit_entry *e, void *arg)
{
	(void)arg;
	return !strcmp(e->action, "token.admin.create");
}

static int write_secret(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	size_t len = strlen(text);
	int ret = 0;

	if (fd < 0)
		return -errno;
	if (fchmod(fd, 0600) || write(fd, text, len) != (ssize_t)len || write(fd, "\n", 1) != 1 ||
	    fsync(fd))
		ret = -errno ? -errno : -EIO;
	close(fd);
	return ret;
}

/* First start: no admin token was ever made (the audit log says so), so
 * make "bootstrap" and hand it over in a 0600 file. */
static int bootstrap_admin(struct store *s, const char *path)
{
	char token[STORE_TOKEN_SIZE];
	int ret = store_audit_list(s, 0, SIZE_MAX, any_admin_created, NULL);

	if (ret < 0)
		return ret;
	if (ret > 0)
		return 0;
	if (!path) {
		log_warn("the store has no admin token: start once with --admin-token-file PATH");
		return 0;
	}
	ret = store_admin_token_create(s, "bootstrap", ACTOR, token);
	if (ret)
		return ret;
	ret = write_secret(path, token);
	memset(token, 0, sizeof(token));
	if (ret) {
		log_err("%s: %s", path, strerror(-ret));
		store_admin_token_revoke(s, "bootstrap", ACTOR);
		return ret;
	}
	printf("bootstrap admin token written to %s\n", path);
	fflush(stdout);
	return 0;
}

static int create_admin(struct store *s, const char *name)
{
	char token[STORE_TOKEN_SIZE];
	int ret = store_admin_token_create(s, name, ACTOR, token);

	if (ret) {
		fprintf(stderr, "egress-controller: %s\n", store_errmsg(s));
		return 1;
	}
	printf("%s\n", token);
	memset(token, 0, sizeof(token));
	return 0;
}

static int daemonize(void)
{
	pid_t pid = fork();

	if (pid < 0)
		return -errno;
	if (pid > 0)
		_exit(0);
	setsid();
	if (!freopen("/dev/null", "r", stdin))
		return -errno;
	return 0;
}

static int signal_fd(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	return signalfd(-1, &set, SFD_CLOEXEC);
}

static int serve(struct api_http *h)
{
	struct epoll_event ev = { .events = EPOLLIN }, out[4];
	int ep = epoll_create1(EPOLL_CLOEXEC), sfd = signal_fd();
	bool stop = false;

	if (ep < 0 || sfd < 0)
		return -errno;
	ev.data.fd = api_http_fd(h);
	epoll_ctl(ep, EPOLL_CTL_ADD, ev.data.fd, &ev);
	ev.data.fd = sfd;
	epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &ev);
	while (!stop) {
		int n = epoll_wait(ep, out, 4, api_http_timeout_ms(h, monotime_now()));

		for (int i = 0; i < n; i++)
			if (out[i].data.fd == sfd)
				stop = true;
		api_http_run(h, monotime_now());
	}
	log_info("stopping");
	close(sfd);
	close(ep);
	return 0;
}

static int run(const struct options *o, struct store *s)
{
	struct api_http_config cfg = { .listen = o->listen };
	struct api_http *h = NULL;
	struct api *api = NULL;
	int ret;

	if (o->tls_cert) {
		cfg.tls_cert_pem = read_pem(o->tls_cert);
		cfg.tls_key_pem = read_pem(o->tls_key);
		if (!cfg.tls_cert_pem || !cfg.tls_key_pem) {
			log_err("cannot read %s", !cfg.tls_cert_pem ? o->tls_cert : o->tls_key);
			ret = -EINVAL;
			goto out;
		}
	}
	ret = api_open(&api, s);
	if (!ret)
		ret = api_http_open(&h, api, &cfg);
	if (ret) {
		log_err("%s: %s", o->listen, strerror(-ret));
		goto out;
	}
	printf("listening on %s port %u (%s)\n", o->listen, api_http_port(h),
	       cfg.tls_cert_pem ? "https" : "http");
	fflush(stdout);
	ret = o->foreground ? 0 : daemonize();
	if (!ret)
		ret = serve(h);
out:
	api_http_close(h);
	api_close(api);
	free((char *)cfg.tls_cert_pem);
	free((char *)cfg.tls_key_pem);
	return ret;
}

static int check_tls_options(const struct options *o)
{
	if (!o->tls_cert != !o->tls_key) {
		fprintf(stderr, "egress-controller: --tls-cert and --tls-key go together\n");
		return -EINVAL;
	}
	if (!o->tls_cert && !o->insecure_http && !o->create_admin) {
		fprintf(stderr, "egress-controller: no --tls-cert/--tls-key; refusing plain "
			"HTTP without --insecure-http\n");
		return -EINVAL;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct options o;
	struct store *s;
	char err[256];
	int ret;

	if (parse_args(argc, argv, &o) < 0) {
		usage(stderr);
		return 2;
	}
	if (check_tls_options(&o))
		return 2;
	log_set_prefix("egress-controller");
	log_set_level(o.verbose ? LOG_LVL_DEBUG : LOG_LVL_INFO);
	if (!crypto_init())
		return 1;
	if (store_open(&s, o.db, err, sizeof(err))) {
		fprintf(stderr, "egress-controller: %s\n", err);
		return 1;
	}
	if (o.create_admin)
		ret = create_admin(s, o.create_admin);
	else
		ret = bootstrap_admin(s, o.admin_token_file) || run(&o, s) ? 1 : 0;
	store_close(s);
	return ret;
}

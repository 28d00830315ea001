/* egressd: a WireGuard-compatible tunnel endpoint in user space.
 *
 *   egressd [-f|--foreground] [-v|--verbose] IFNAME
 *
 * Creates TUN interface IFNAME and the UAPI socket
 * /var/run/wireguard/IFNAME.sock that wg(8) configures, like wireguard-go
 * (which it accepts WG_PROCESS_FOREGROUND=1 from, too). */
#include "egressd/daemon.h"
#include "common/log.h"
#include "crypto/crypto.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void usage(FILE *out)
{
	fprintf(out, "Usage: egressd [-f|--foreground] [-v|--verbose] IFNAME\n"
		     "  A WireGuard-compatible endpoint; configure it with wg(8).\n");
}

/* Forks once everything is set up, so setup errors reach the caller's
 * terminal and a zero exit means the interface exists. */
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

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "foreground", no_argument, NULL, 'f' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *fg_env = getenv("WG_PROCESS_FOREGROUND");
	bool foreground = fg_env && !strcmp(fg_env, "1");
	static struct daemon d;
	int c, ret;

	while ((c = getopt_long(argc, argv, "fvh", opts, NULL)) != -1) {
		switch (c) {
		case 'f': foreground = true; break;
		case 'v': log_set_level(LOG_LVL_DEBUG); break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		return 2;
	}
	log_set_prefix("egressd");
	if (!crypto_init()) {
		fprintf(stderr, "egressd: crypto libraries unusable\n");
		return 1;
	}
	if (daemon_open(&d, argv[optind]) < 0)
		return 1;
	log_info("%s: up (UAPI %s)", d.ifname, d.uapi.path);
	if (!foreground && daemonize() < 0) {
		daemon_close(&d);
		return 1;
	}
	ret = daemon_run(&d);
	daemon_close(&d);
	return ret < 0 ? 1 : 0;
}

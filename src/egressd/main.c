/* egressd: a WireGuard-compatible tunnel endpoint in user space.
 *
 *   egressd [-f] [-v] [--policy FILE --node NAME [--events FILE]] IFNAME
 *   egressd [-f] [-v] --controller URL --node NAME [--enroll TOKEN] IFNAME
 *   egressd --check-policy FILE
 *
 * Creates TUN interface IFNAME and the UAPI socket
 * /var/run/wireguard/IFNAME.sock that wg(8) configures, like wireguard-go
 * (which it accepts WG_PROCESS_FOREGROUND=1 from, too). With --policy it
 * runs as node NAME of that policy: it classifies, steers, probes and
 * breaks out (docs/node.md); SIGHUP reloads the file. */
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
	fprintf(out, "Usage: egressd [-f|--foreground] [-v|--verbose] [--metrics ADDR:PORT]\n"
		     "               [--policy FILE --node NAME [--events FILE]] IFNAME\n"
		     "       egressd ... --controller URL --node NAME [--enroll TOKEN]\n"
		     "               [--state-dir DIR] [--cacert FILE] IFNAME\n"
		     "       egressd --check-policy FILE\n"
		     "  A WireGuard-compatible endpoint; configure it with wg(8).\n"
		     "  --policy FILE   run as node NAME of this policy (SIGHUP reloads it)\n"
		     "  --events FILE   security events as JSON lines (default: stderr)\n"
		     "  --metrics ADDR:PORT  serve Prometheus /metrics\n"
		     "  --controller URL  take the policy from an egress-controller\n"
		     "  --enroll TOKEN    enroll with this one-time token (once)\n"
		     "  --state-dir DIR   credential and last good policy (" AGENT_DEFAULT_STATE_DIR ")\n"
		     "  --cacert FILE     CA certificate of the controller\n"
		     "  --check-policy  validate a policy file, print every error, exit\n");
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

/* Parses, validates and compiles; prints every error; exit 1 if any. */
static int check_policy(const char *path)
{
	struct policy_errors errs = { 0 };
	struct policy *p;

	crypto_init();
	p = policy_load_file(path, &errs);
	for (size_t i = 0; i < errs.n; i++)
		fprintf(stderr, "%s\n", errs.msgs[i]);
	policy_errors_free(&errs);
	if (!p)
		return 1;
	printf("%s: ok: %zu nodes, %zu users, %zu devices, %zu classes, %zu rules\n", path,
	       p->n_nodes, p->n_users, p->n_devices, p->n_classes, p->n_rules);
	policy_unref(p);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "foreground", no_argument, NULL, 'f' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "policy", required_argument, NULL, 'p' },
		{ "node", required_argument, NULL, 'n' },
		{ "events", required_argument, NULL, 'e' },
		{ "check-policy", required_argument, NULL, 'c' },
		{ "metrics", required_argument, NULL, 'm' },
		{ "controller", required_argument, NULL, 'C' },
		{ "enroll", required_argument, NULL, 'E' },
		{ "state-dir", required_argument, NULL, 'S' },
		{ "cacert", required_argument, NULL, 'A' },
		{ 0 },
	};
	const char *metrics = NULL;
	struct agent_config ctl = { .state_dir = AGENT_DEFAULT_STATE_DIR };
	const char *policy = NULL, *node = NULL, *events = NULL;
	const char *fg_env = getenv("WG_PROCESS_FOREGROUND");
	bool foreground = fg_env && !strcmp(fg_env, "1");
	static struct daemon d;
	int c, ret;

	while ((c = getopt_long(argc, argv, "fvh", opts, NULL)) != -1) {
		switch (c) {
		case 'f': foreground = true; break;
		case 'v': log_set_level(LOG_LVL_DEBUG); break;
		case 'h': usage(stdout); return 0;
		case 'p': policy = optarg; break;
		case 'n': node = optarg; break;
		case 'e': events = optarg; break;
		case 'c': return check_policy(optarg);
		case 'm': metrics = optarg; break;
		case 'C': ctl.url = optarg; break;
		case 'E': ctl.enroll_token = optarg; break;
		case 'S': ctl.state_dir = optarg; break;
		case 'A': ctl.cacert = optarg; break;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc - 1 || (policy && ctl.url) || !(policy || ctl.url) != !node) {
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
	if (metrics && daemon_open_metrics(&d, metrics) < 0) {
		daemon_close(&d);
		return 1;
	}
	if (policy && daemon_attach_policy(&d, policy, node, events) < 0) {
		daemon_close(&d);
		return 1;
	}
	log_info("%s: up (UAPI %s)", d.ifname, d.uapi.path);
	if (!foreground && daemonize() < 0) {
		daemon_close(&d);
		return 1;
	}
	/* After the fork: the agent's threads would not survive it. */
	ctl.node = node;
	if (ctl.url && daemon_attach_controller(&d, &ctl, events) < 0) {
		daemon_close(&d);
		return 1;
	}
	ret = daemon_run(&d);
	daemon_close(&d);
	return ret < 0 ? 1 : 0;
}

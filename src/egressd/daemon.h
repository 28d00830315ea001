/* daemon: one egressd instance: its TUN interface, underlay sockets, the
 * WireGuard device, the UAPI and control sockets, and the event loop that
 * drives them all from one thread. */
#ifndef EGRESS_EGRESSD_DAEMON_H
#define EGRESS_EGRESSD_DAEMON_H

#include <stdbool.h>

#include "agent/agent.h"
#include "egressd/local_server.h"
#include "egressd/metrics_http.h"
#include "node/node.h"
#include "os/udp.h"
#include "wg/device.h"

#define UAPI_DIR "/var/run/wireguard"

struct daemon {
	char ifname[16];
	int tun_fd;
	int epoll_fd;
	int signal_fd;
	struct udp_sockets udp;
	struct wg_device dev;
	struct local_server uapi;
	struct local_server control;
	bool epoll_has_udp;
	volatile bool stop;

	/* With --policy: the node this daemon runs (node/). */
	bool has_node;
	struct node node;
	char policy_path[4096];
	FILE *events;
	int region_fds[2];
	struct metrics_http metrics;
	bool has_metrics;
	uint64_t policy_version;	/* the controller's; 0 for a local file */

	/* With --controller (agent/): the policy comes from the controller
	 * and the node is attached when the first one arrives. */
	struct agent *agent;
	char node_name[64];
	const char *events_path;
	json_t *region_metrics;		/* the controller's latest, or NULL */
	monotime_ns region_metrics_at;	/* when it came */
};
int daemon_open_metrics(struct daemon *d, const char *listen);

/* Creates the interface and sockets; on failure prints why and returns
 * -errno with nothing left behind. */
int daemon_open(struct daemon *d, const char *ifname);
/* Loads the policy file and runs this daemon as node `name` of it; on any
 * error prints every problem (file:line:col) and returns -errno. */
int daemon_attach_policy(struct daemon *d, const char *path, const char *name,
			 const char *events_path);
/* Runs node cfg->node of the policy the controller at cfg->url gives,
 * starting at once from the last one saved in cfg->state_dir if any. */
int daemon_attach_controller(struct daemon *d, const struct agent_config *cfg,
			     const char *events_path);
/* SIGHUP: parse, validate, compile, swap; on error the old policy stays. */
void daemon_reload_policy(struct daemon *d);
/* Runs until SIGTERM or SIGINT. */
int daemon_run(struct daemon *d);
/* Removes the interface and the sockets. */
void daemon_close(struct daemon *d);

#endif

/* daemon: one egressd instance: its TUN interface, underlay sockets, the
 * WireGuard device, the UAPI and control sockets, and the event loop that
 * drives them all from one thread. */
#ifndef EGRESS_EGRESSD_DAEMON_H
#define EGRESS_EGRESSD_DAEMON_H

#include <stdbool.h>

#include "egressd/local_server.h"
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
};

/* Creates the interface and sockets; on failure prints why and returns
 * -errno with nothing left behind. */
int daemon_open(struct daemon *d, const char *ifname);
/* Runs until SIGTERM or SIGINT. */
int daemon_run(struct daemon *d);
/* Removes the interface and the sockets. */
void daemon_close(struct daemon *d);

#endif

/* udp: the underlay sockets. One IPv4 and one IPv6 socket on the same
 * port; packet-info ancillary data tells which local address a datagram
 * reached, and replies are sent from that address (sticky source). */
#ifndef EGRESS_OS_UDP_H
#define EGRESS_OS_UDP_H

#include <stddef.h>
#include <stdint.h>

#include "wg/packet.h"

struct udp_sockets {
	int fd4, fd6;		/* -1 when closed or unavailable */
	uint16_t port;
	uint32_t fwmark;
};

void udp_sockets_init(struct udp_sockets *s);
/* (Re)binds both sockets to port (0: any free port, the same on both).
 * On failure the old sockets stay as they were. Returns 0 or -errno. */
int udp_sockets_bind(struct udp_sockets *s, uint16_t port);
int udp_sockets_set_fwmark(struct udp_sockets *s, uint32_t fwmark);
void udp_sockets_close(struct udp_sockets *s);

/* Receives up to n datagrams from fd into pkts (data at buf + headroom),
 * filling pkt->ep with sender and local address. Returns the count. */
size_t udp_recv_batch(int fd, struct pkt **pkts, size_t n);
/* Sends pkts to their pkt->ep; returns how many were sent. */
size_t udp_send_batch(struct udp_sockets *s, struct pkt **pkts, size_t n);

#endif

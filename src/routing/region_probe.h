/* region_probe: what an egress node knows of egress -> destination region.
 * Every region of the policy may name probe targets; this node sends an
 * ICMP echo to each of them every region_interval and keeps a
 * path_monitor per target (the same RTT, jitter, loss and up/down rules
 * as the fabric's paths, with the region interval). The best target
 * stands for its region: in route_node_view.region_rtt_ms for local
 * breakout, and in the probe replies this node sends to access nodes.
 *
 * One ICMP socket per family: SOCK_RAW (root or CAP_NET_RAW), else an
 * unprivileged SOCK_DGRAM ping socket (net.ipv4.ping_group_range); a
 * family with neither counts its targets' probes as lost. A reply must
 * come from the target, carry our echo id and, in its payload, our
 * random cookie, the target's key and the sequence number: raw sockets
 * see every echo reply on the host. Parsing goes through cursors; IPv4
 * raw sockets deliver the IP header first.
 *
 * Single-threaded, like the rest of a node: the caller owns the loop,
 * puts the fds in its epoll, calls on_readable and tick, and sleeps until
 * next_event. */
#ifndef EGRESS_ROUTING_REGION_PROBE_H
#define EGRESS_ROUTING_REGION_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/addr.h"
#include "common/monotime.h"
#include "fabric/messages.h"
#include "policy/policy.h"
#include "routing/path_monitor.h"

#define REGION_PROBE_PAYLOAD_LEN 16	/* cookie u32 | target key u32 | seq u32 | 0 u32 */

struct region_probe;

struct region_probe_counters {
	uint64_t sent, send_errors, replies, stale;	/* stale: late, duplicate */
	uint64_t not_ours, malformed;			/* dropped before matching */
};

/* Opens the sockets (what the privileges allow); NULL only without
 * memory. A probe with no socket for a family still works: its targets
 * are lost, so they go DOWN and the region reads unreachable. */
struct region_probe *region_probe_create(void);
void region_probe_destroy(struct region_probe *rp);

/* Takes the targets of every region from p. A target whose region name
 * and address are unchanged keeps its monitor (and measurements); new
 * ones start UNKNOWN, removed ones are forgotten. Only a node with the
 * egress role probes (self is its index in p; POLICY_NONE probes
 * regardless). -ENOMEM leaves the previous targets in place. */
int region_probe_configure(struct region_probe *rp, const struct policy *p, uint32_t self);

/* The sockets for the caller's epoll: fills fds[0] (IPv4), fds[1] (IPv6),
 * -1 where absent; returns how many are open. */
int region_probe_fds(const struct region_probe *rp, int fds[2]);
/* Reads every datagram waiting on fd (non-blocking) and matches replies. */
void region_probe_on_readable(struct region_probe *rp, int fd, monotime_ns now);
/* Sends the probes that are due, declares losses, moves states. */
void region_probe_tick(struct region_probe *rp, monotime_ns now);
/* The earliest time tick is needed; 0 when there is nothing to probe. */
monotime_ns region_probe_next_event(const struct region_probe *rp);

/* The best usable target of region (an index into the policy given to
 * configure): its srtt and loss. False when no target of the region is
 * usable (none, all unknown, all down). */
bool region_probe_metric(const struct region_probe *rp, uint32_t region,
			 double *rtt_ms, double *loss_pct);
/* Fills r->regions / r->n_regions: one entry per region with a target
 * whose state is known (usable: best srtt and its loss; all down:
 * rtt_us = UINT32_MAX, loss 1000 permille), at most FABRIC_MAX_REGIONS.
 * region_id is the region's name id. */
void region_probe_fill_reply(const struct region_probe *rp, struct fabric_probe_reply *r);

/* Introspection for egressctl and tests. */
size_t region_probe_n_targets(const struct region_probe *rp);
/* The i-th target: its address, region index and monitor; false past the end. */
bool region_probe_target(const struct region_probe *rp, size_t i, struct ip_addr *addr,
			 uint32_t *region, const struct path_monitor **mon);
const struct region_probe_counters *region_probe_counters(const struct region_probe *rp);

/* ---- the wire, exposed for tests and the fuzz target ---- */

struct region_echo {
	uint16_t id, seq;
	uint32_t cookie, key, seq32;
};

/* Writes an echo request (type 8 or 128, checksum filled for IPv4; the
 * kernel fills IPv6's) with our payload; returns its length, 0 if cap is
 * too small. */
size_t region_probe_build_echo(uint8_t *out, size_t cap, int family,
			       const struct region_echo *e);
/* Parses what a socket delivered: an echo reply (type 0 or 129, code 0)
 * with a full payload, after the IPv4 header when ip_header is true
 * (raw IPv4 sockets). Checks the IPv4 checksum. False for anything else. */
bool region_probe_parse_reply(const uint8_t *buf, size_t len, int family, bool ip_header,
			      struct region_echo *out);

#endif

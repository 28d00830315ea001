/* nat: source NAT on an egress node, built on the flow table. A session
 * leaving for the internet gets a source address from its class's egress
 * pool and a source port on it such that the reply tuple (internet ->
 * pool address:port) is unique in the table; the reply tuple is then the
 * flow's second key, so return traffic finds the flow with one lookup and
 * no separate mapping table exists to fall out of step. */
#ifndef EGRESS_DATAPLANE_NAT_H
#define EGRESS_DATAPLANE_NAT_H

#include <stdbool.h>
#include <stdint.h>

#include "common/addr.h"
#include "dataplane/flow_table.h"

#define NAT_PORT_MIN 1024
#define NAT_PORT_MAX 65535

/* Builds the reply tuple for orig leaving from pool_addr: keeps the
 * original source port when that is free, else probes ports from a hash of
 * orig. ICMP echo gets a fresh id the same way. Returns false when no port
 * is free after max_tries probes (the caller counts a drop). */
bool nat_reserve(struct flow_table *ft, const struct flow_tuple *orig,
		 const struct ip_addr *pool_addr, uint32_t reply_zone,
		 unsigned max_tries, struct flow_tuple *reply);

#endif

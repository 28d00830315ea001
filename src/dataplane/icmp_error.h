/* icmp_error: ICMP and ICMPv6 errors that belong to a flow (destination
 * unreachable incl. "fragmentation needed", packet too big, time exceeded,
 * parameter problem). An error quotes the packet that caused it, so its
 * outer 5-tuple matches no flow; the quoted header does. This file parses
 * the quote (usually truncated to its header + 8 bytes of L4), gives its
 * tuple, and un-NATs the whole error for delivery to the client with every
 * checksum fixed incrementally, so PMTU discovery works through a NAT.
 *
 * How the egress data path uses it, for an error arriving from the TUN:
 *
 *	if (icmp_error_parse(pkt, len, &outer, &quote, &qoff)) {
 *		icmp_error_embedded_tuple(&quote, &t);
 *		flow_tuple_invert(&t, &key);		// now server -> pool
 *		key.zone = <zone of reply tuples>;
 *		f = flow_table_lookup(ft, &key, &dir);	// expect FLOW_DIR_REPLY
 *		orig = &f->tuple[FLOW_DIR_ORIG];	// client -> server
 *		icmp_error_rewrite(pkt, &outer, &quote, qoff,
 *				   <orig src address>, orig->sport);
 *	}
 */
#ifndef EGRESS_DATAPLANE_ICMP_ERROR_H
#define EGRESS_DATAPLANE_ICMP_ERROR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dataplane/flow_table.h"
#include "dataplane/packet_parse.h"

/* True when pkt, already parsed by packet_parse into outer, is an ICMP
 * error (v4 types 3, 11, 12; v6 types 1-4), not a fragment, quoting an IP
 * packet of the same family whose source is the error's destination (the
 * error went back to whoever sent the quoted packet), with the quoted L4
 * header readable: 8 bytes of TCP/UDP/ICMP (RFC 792's "64 bits"). A
 * quoted non-first fragment (no ports) and a quoted ICMP error (RFC 1122:
 * never an error about an error) are refused; other protocols are taken
 * with ports 0, as packet_parse gives them.
 *
 * embedded is filled as packet_parse would fill it for the quote alone,
 * with offsets relative to pkt + *embedded_off (the quoted IP header):
 * l3_len is the bytes of the quote present (its header's length, or less
 * when truncated); tcp_flags is 0 when byte 13 of TCP was cut off; the
 * quote carries no payload we report: payload_off = l3_len, payload_len 0.
 * On false, embedded and *embedded_off are undefined. */
bool icmp_error_parse(const uint8_t *pkt, size_t len, const struct packet_info *outer,
		      struct packet_info *embedded, uint16_t *embedded_off);

/* The tuple of the quoted packet as it is on the wire, zone 0.
 *
 * Convention: the quoted packet is one the flow SENT (after NAT: src =
 * pool address:NAT port, dst = server:port), so this tuple equals the
 * INVERSE of the flow's reply tuple (reply = server:port -> pool:NAT port;
 * for ICMP echo sport = dport = id on both). Invert it with
 * flow_tuple_invert, set the zone of the reply tuples, and look it up: a
 * hit must say FLOW_DIR_REPLY. Without NAT the reply tuple is the inverse
 * of the original, so the same steps find the flow the same way. */
void icmp_error_embedded_tuple(const struct packet_info *embedded, struct flow_tuple *t);

/* Un-NATs the error for the client: the outer destination becomes
 * new_addr (ICMP has no port), the quote's source address new_addr and
 * its source port (or echo id) new_port. Fixes the outer IPv4 header
 * checksum, the ICMP/ICMPv6 checksum (over the whole message incl. the
 * quote, and the v6 pseudo-header), the quoted IPv4 header checksum and
 * the quoted TCP/UDP/ICMP checksum when its bytes are in the quote (a
 * quoted UDPv4 checksum of 0 stays 0). outer and embedded must come from
 * icmp_error_parse on this pkt; both are updated. A new_addr of another
 * family leaves the packet untouched. */
void icmp_error_rewrite(uint8_t *pkt, struct packet_info *outer, struct packet_info *embedded,
			uint16_t embedded_off, const struct ip_addr *new_addr,
			uint16_t new_port);

#endif

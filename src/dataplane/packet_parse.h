/* packet_parse: one pass over an IP packet's headers, through a cursor,
 * into the facts the data path needs: addresses, protocol, ports (or the
 * ICMP echo id), DSCP, TCP flags, and where the payload starts. Lengths in
 * headers are checked against the buffer, never trusted. */
#ifndef EGRESS_DATAPLANE_PACKET_PARSE_H
#define EGRESS_DATAPLANE_PACKET_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/addr.h"

enum packet_parse_error {
	PACKET_OK = 0,
	PACKET_TRUNCATED,	/* shorter than its headers say */
	PACKET_BAD_VERSION,
	PACKET_BAD_HEADER,	/* IHL < 5, total length < header, ... */
	PACKET_BAD_EXT_HEADER,	/* IPv6 extension chain too long or cut */
	PACKET_PARSE__MAX
};

struct packet_info {
	struct ip_addr src, dst;
	uint8_t protocol;	/* final next-header: IPPROTO_TCP/UDP/ICMP/ICMPV6/... */
	uint8_t dscp;		/* 0..63 */
	uint8_t tcp_flags;	/* TCP only */
	bool is_fragment;	/* a non-first fragment has no ports */
	/* Ports in host order; for ICMP echo request/reply sport = dport = id,
	 * for other ICMP types both 0. */
	uint16_t sport, dport;
	uint8_t icmp_type, icmp_code;
	uint16_t l3_len;	/* true packet length from the IP header */
	uint16_t l4_off;	/* offset of the TCP/UDP/ICMP header */
	uint16_t payload_off;	/* offset of the L4 payload */
	uint16_t payload_len;
};

/* Fills info and returns PACKET_OK, or an error (info then undefined). A
 * buffer longer than the IP total length is fine (padding). */
enum packet_parse_error packet_parse(const uint8_t *pkt, size_t len,
				     struct packet_info *info);
extern const char *const packet_parse_error_names[PACKET_PARSE__MAX];

/* Header rewriting for NAT, with incremental checksum updates (RFC 1624)
 * of the IP and TCP/UDP/ICMP checksums. The packet must have been parsed
 * by packet_parse into info; info is updated. */
void packet_set_src(uint8_t *pkt, struct packet_info *info,
		    const struct ip_addr *addr, uint16_t port);
void packet_set_dst(uint8_t *pkt, struct packet_info *info,
		    const struct ip_addr *addr, uint16_t port);

#endif

/* icmp_error: the quote inside ICMP/ICMPv6 errors, read through a cursor,
 * and the un-NAT rewrite of a whole error with incremental checksums.
 *
 * The quote is parsed like packet_parse parses a packet, except that it is
 * expected to be truncated: its IP header claims more bytes than are
 * there, so the cursor is bounded by what is present (and by the claimed
 * length, when that is shorter), and only the first 8 bytes of L4 are
 * required. Every byte the rewrite touches lies in what was checked here.
 *
 * The ICMP checksum covers the quote, so every byte written into the quote
 * (address, port, and the quote's own checksums) goes through quote_write,
 * which adds its old -> new change to the ICMP checksum's delta (RFC 1624).
 * One's-complement deltas commute, so only "every change is counted" and
 * "each delta is taken from the bytes it replaces" matter. */
#include "dataplane/icmp_error.h"
#include "dataplane/checksum.h"

#include <netinet/in.h>
#include <string.h>

#include "common/cursor.h"

#define ICMP_HDR_LEN 8		/* type, code, checksum, 4 bytes of "rest" */
#define QUOTE_L4_MIN 8		/* RFC 792: header + first 64 bits of data */
#define ICMP_CSUM_OFF 2
#define ICMP_ID_OFF 4
#define UDP_CSUM_OFF 6
#define TCP_CSUM_OFF 16
#define TCP_FLAGS_OFF 13
#define IPV4_HDR_MIN 20
#define IPV4_CSUM_OFF 10
#define IPV4_SRC_OFF 12
#define IPV4_OFFSET_MASK 0x1fff
#define IPV6_HDR_LEN 40
#define IPV6_SRC_OFF 8
#define IPV6_FRAG_OFFSET_MASK 0xfff8
#define IPV6_EXT_MAX 8		/* as packet_parse: longer chains are refused */

/* ICMPv4 types (RFC 792, RFC 1122 3.2.2) */
#define ICMP_ECHO_REPLY 0
#define ICMP_DEST_UNREACH 3
#define ICMP_SOURCE_QUENCH 4
#define ICMP_REDIRECT 5
#define ICMP_ECHO_REQUEST 8
#define ICMP_TIME_EXCEEDED 11
#define ICMP_PARAM_PROBLEM 12
/* ICMPv6 types (RFC 4443): errors are 0-127, informational 128-255 */
#define ICMP6_DEST_UNREACH 1
#define ICMP6_PARAM_PROBLEM 4
#define ICMP6_INFO_MIN 128
#define ICMP6_ECHO_REQUEST 128
#define ICMP6_ECHO_REPLY 129

/* ---- parsing ---------------------------------------------------------- */

static bool icmp_is_proto(int family, uint8_t protocol)
{
	return (family == AF_INET && protocol == IPPROTO_ICMP) ||
	       (family == AF_INET6 && protocol == IPPROTO_ICMPV6);
}

/* The errors this file handles: they quote a packet a flow sent. */
static bool icmp_is_flow_error(int family, uint8_t type)
{
	if (family == AF_INET)
		return type == ICMP_DEST_UNREACH || type == ICMP_TIME_EXCEEDED ||
		       type == ICMP_PARAM_PROBLEM;
	return type >= ICMP6_DEST_UNREACH && type <= ICMP6_PARAM_PROBLEM;
}

/* Any error type: a quote of one is refused (no error about an error). */
static bool icmp_is_any_error(int family, uint8_t type)
{
	if (family == AF_INET)
		return icmp_is_flow_error(family, type) || type == ICMP_SOURCE_QUENCH ||
		       type == ICMP_REDIRECT;
	return type < ICMP6_INFO_MIN;
}

static bool icmp_is_echo(int family, uint8_t type)
{
	if (family == AF_INET)
		return type == ICMP_ECHO_REQUEST || type == ICMP_ECHO_REPLY;
	return type == ICMP6_ECHO_REQUEST || type == ICMP6_ECHO_REPLY;
}

/* The quoted L4 header at c: ports (or echo id) from its first 8 bytes. */
static bool quote_parse_l4(struct cursor *c, struct packet_info *e)
{
	int family = e->src.family;
	struct cursor flags = *c;
	const uint8_t *h;

	if (e->protocol != IPPROTO_TCP && e->protocol != IPPROTO_UDP &&
	    !icmp_is_proto(family, e->protocol))
		return true;	/* no ports to find: the addresses are the key */
	h = rd_ptr(c, QUOTE_L4_MIN);
	if (!h)
		return false;
	if (icmp_is_proto(family, e->protocol)) {
		e->icmp_type = h[0];
		e->icmp_code = h[1];
		if (icmp_is_any_error(family, e->icmp_type))
			return false;
		if (icmp_is_echo(family, e->icmp_type)) {
			e->sport = (uint16_t)(h[ICMP_ID_OFF] << 8 | h[ICMP_ID_OFF + 1]);
			e->dport = e->sport;
		}
		return true;
	}
	e->sport = (uint16_t)(h[0] << 8 | h[1]);
	e->dport = (uint16_t)(h[2] << 8 | h[3]);
	if (e->protocol == IPPROTO_TCP && rd_skip(&flags, TCP_FLAGS_OFF))
		rd_u8(&flags, &e->tcp_flags);	/* absent in a short quote: 0 */
	return true;
}

/* The quote's IPv4 header; q holds avail bytes of it. */
static bool quote_parse_v4(const uint8_t *q, size_t avail, struct packet_info *e)
{
	struct cursor c = cursor_init(q, avail);
	const uint8_t *h = rd_ptr(&c, IPV4_HDR_MIN);
	size_t ihl, total;

	if (!h || h[0] >> 4 != 4)
		return false;
	ihl = (size_t)(h[0] & 0x0f) * 4;
	total = (size_t)(h[2] << 8 | h[3]);
	if (ihl < IPV4_HDR_MIN || total < ihl)
		return false;
	if (total < avail)
		avail = total;	/* what follows is not the quoted packet's */
	c = cursor_init(q, avail);
	if (!rd_skip(&c, ihl) || ((h[6] << 8 | h[7]) & IPV4_OFFSET_MASK))
		return false;	/* options cut, or a later fragment: no ports */
	ip_addr_set(&e->src, AF_INET, h + 12);
	ip_addr_set(&e->dst, AF_INET, h + 16);
	e->dscp = h[1] >> 2;
	e->protocol = h[9];
	e->l3_len = (uint16_t)avail;
	e->l4_off = (uint16_t)ihl;
	return quote_parse_l4(&c, e);
}

static bool ipv6_is_ext(uint8_t type)
{
	return type == IPPROTO_HOPOPTS || type == IPPROTO_ROUTING ||
	       type == IPPROTO_DSTOPTS || type == IPPROTO_FRAGMENT;
}

/* One extension header; a later fragment is refused (its ports are in
 * the first). Headers are (len + 1) * 8 bytes, the fragment header 8. */
static bool quote_parse_ext(struct cursor *c, uint8_t type, uint8_t *next)
{
	uint8_t hlen;
	uint16_t frag;

	if (!rd_u8(c, next) || !rd_u8(c, &hlen))
		return false;
	if (type == IPPROTO_FRAGMENT)
		return rd_u16be(c, &frag) && !(frag & IPV6_FRAG_OFFSET_MASK) && rd_skip(c, 4);
	return rd_skip(c, (size_t)hlen * 8 + 6);
}

/* The quote's IPv6 header and extension chain (hop-by-hop only first). */
static bool quote_parse_v6(const uint8_t *q, size_t avail, struct packet_info *e)
{
	struct cursor c = cursor_init(q, avail);
	const uint8_t *h = rd_ptr(&c, IPV6_HDR_LEN);
	size_t total;
	uint8_t next;

	if (!h || h[0] >> 4 != 6)
		return false;
	total = IPV6_HDR_LEN + (size_t)(h[4] << 8 | h[5]);
	if (total < avail)
		avail = total;
	c = cursor_init(q, avail);
	rd_skip(&c, IPV6_HDR_LEN);
	next = h[6];
	for (unsigned n = 0; ipv6_is_ext(next); n++) {
		if (n == IPV6_EXT_MAX || (next == IPPROTO_HOPOPTS && n > 0) ||
		    !quote_parse_ext(&c, next, &next))
			return false;
	}
	ip_addr_set(&e->src, AF_INET6, h + 8);
	ip_addr_set(&e->dst, AF_INET6, h + 24);
	e->dscp = (uint8_t)(((h[0] & 0x0f) << 4 | h[1] >> 4) >> 2);
	e->protocol = next;
	e->l3_len = (uint16_t)avail;
	e->l4_off = (uint16_t)(avail - c.left);
	return quote_parse_l4(&c, e);
}

bool icmp_error_parse(const uint8_t *pkt, size_t len, const struct packet_info *outer,
		      struct packet_info *embedded, uint16_t *embedded_off)
{
	int family = outer->src.family;
	struct cursor c;
	size_t off;
	bool ok;

	memset(embedded, 0, sizeof(*embedded));
	if (!icmp_is_proto(family, outer->protocol) || outer->is_fragment ||
	    !icmp_is_flow_error(family, outer->icmp_type) || outer->l3_len > len)
		return false;
	c = cursor_init(pkt, outer->l3_len);
	if (!rd_skip(&c, (size_t)outer->l4_off + ICMP_HDR_LEN))
		return false;
	off = outer->l3_len - c.left;
	if (family == AF_INET)
		ok = quote_parse_v4(c.p, c.left, embedded);
	else
		ok = quote_parse_v6(c.p, c.left, embedded);
	if (!ok || !ip_addr_equal(&embedded->src, &outer->dst))
		return false;
	embedded->payload_off = embedded->l3_len;
	embedded->payload_len = 0;
	*embedded_off = (uint16_t)off;
	return true;
}

void icmp_error_embedded_tuple(const struct packet_info *embedded, struct flow_tuple *t)
{
	memset(t, 0, sizeof(*t));
	t->family = embedded->src.family;
	t->protocol = embedded->protocol;
	t->sport = embedded->sport;
	t->dport = embedded->dport;
	memcpy(t->src, embedded->src.a, sizeof(t->src));
	memcpy(t->dst, embedded->dst.a, sizeof(t->dst));
}

/* ---- rewriting -------------------------------------------------------- */

/* Every write into the quote: the ICMP checksum covers these bytes. All
 * fields written start at an even offset of the ICMP message. */
static void quote_write(uint8_t *field, const uint8_t *val, size_t n, uint32_t *icmp_delta)
{
	*icmp_delta = csum_delta(*icmp_delta, field, val, n);
	memcpy(field, val, n);
}

/* The quoted L4 checksum, or NULL when it is not in the quote. */
static uint8_t *quote_l4_csum(uint8_t *q, const struct packet_info *e, enum csum_kind *kind)
{
	uint8_t *l4 = q + e->l4_off;

	*kind = CSUM_PLAIN;
	if (e->protocol == IPPROTO_TCP)
		return e->l3_len >= e->l4_off + TCP_CSUM_OFF + 2 ? l4 + TCP_CSUM_OFF : NULL;
	if (e->protocol == IPPROTO_UDP) {
		*kind = e->src.family == AF_INET ? CSUM_UDP4 : CSUM_UDP6;
		return l4 + UDP_CSUM_OFF;
	}
	if (icmp_is_proto(e->src.family, e->protocol))
		return l4 + ICMP_CSUM_OFF;
	return NULL;
}

/* The quoted source port (or echo id), or NULL. */
static uint8_t *quote_port_field(uint8_t *q, const struct packet_info *e)
{
	if (e->protocol == IPPROTO_TCP || e->protocol == IPPROTO_UDP)
		return q + e->l4_off;
	if (icmp_is_proto(e->src.family, e->protocol) &&
	    icmp_is_echo(e->src.family, e->icmp_type))
		return q + e->l4_off + ICMP_ID_OFF;
	return NULL;
}

/* Rewrites the quote's source; returns the ICMP checksum's delta. */
static uint32_t quote_set_src(uint8_t *q, struct packet_info *e, const struct ip_addr *addr,
			      uint16_t port)
{
	bool v4 = e->src.family == AF_INET;
	uint8_t *a = q + (v4 ? IPV4_SRC_OFF : IPV6_SRC_OFF);
	uint8_t *pf = quote_port_field(q, e), pn[2] = { (uint8_t)(port >> 8), (uint8_t)port };
	enum csum_kind kind;
	uint8_t *l4c = quote_l4_csum(q, e, &kind), sum[2];
	uint32_t addr_delta = csum_delta(0, a, addr->a, ip_addr_bytes(e->src.family));
	uint32_t l4_delta = 0, icmp_delta = 0;

	if (v4 && csum_next(q + IPV4_CSUM_OFF, addr_delta, CSUM_PLAIN, sum))
		quote_write(q + IPV4_CSUM_OFF, sum, 2, &icmp_delta);
	if (!(v4 && e->protocol == IPPROTO_ICMP))	/* no pseudo-header */
		l4_delta = addr_delta;
	if (pf)
		l4_delta = csum_delta(l4_delta, pf, pn, 2);
	if (l4c && csum_next(l4c, l4_delta, kind, sum))
		quote_write(l4c, sum, 2, &icmp_delta);
	quote_write(a, addr->a, ip_addr_bytes(e->src.family), &icmp_delta);
	e->src = *addr;
	if (pf) {
		quote_write(pf, pn, 2, &icmp_delta);
		e->sport = port;
		if (e->protocol != IPPROTO_TCP && e->protocol != IPPROTO_UDP)
			e->dport = port;	/* one echo id serves both ways */
	}
	return icmp_delta;
}

void icmp_error_rewrite(uint8_t *pkt, struct packet_info *outer, struct packet_info *embedded,
			uint16_t embedded_off, const struct ip_addr *new_addr,
			uint16_t new_port)
{
	uint8_t *icmp_csum = pkt + outer->l4_off + ICMP_CSUM_OFF, sum[2];
	uint32_t delta;

	if (new_addr->family != outer->src.family || embedded->src.family != outer->src.family)
		return;
	delta = quote_set_src(pkt + embedded_off, embedded, new_addr, new_port);
	if (csum_next(icmp_csum, delta, CSUM_PLAIN, sum))
		memcpy(icmp_csum, sum, 2);
	/* Outer IPv4 header checksum, and the ICMPv6 pseudo-header's share;
	 * an error type has no id, so no port is written. */
	packet_set_dst(pkt, outer, new_addr, 0);
}

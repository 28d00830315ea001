/* packet_parse: the IP/L4 header walk every packet of the data path goes
 * through, and the NAT header rewrites with RFC 1624 incremental checksum
 * updates.
 *
 * The parser reads only through a cursor bounded by the IP total length
 * (or IPv6 payload length), so a header that claims more than the buffer
 * holds is caught before any byte past it is touched. A first fragment
 * must carry its whole L4 header (RFC 1858: tiny fragments are dropped),
 * so the rewrite below can always reach the L4 checksum it has to fix. */
#include "dataplane/packet_parse.h"
#include "dataplane/checksum.h"

#include <netinet/in.h>
#include <string.h>

#include "common/cursor.h"

#define IPV4_HDR_MIN 20
#define IPV6_HDR_LEN 40
#define IPV4_MF 0x2000
#define IPV4_OFFSET_MASK 0x1fff
#define IPV6_FRAG_OFFSET_MASK 0xfff8
#define IPV6_EXT_MAX 8		/* longer chains are dropped, not walked */
#define TCP_HDR_MIN 20
#define UDP_HDR_LEN 8
#define ICMP_HDR_LEN 8
#define ICMP_ECHO_REPLY 0
#define ICMP_ECHO_REQUEST 8
#define ICMP6_ECHO_REQUEST 128
#define ICMP6_ECHO_REPLY 129

const char *const packet_parse_error_names[PACKET_PARSE__MAX] = {
	[PACKET_OK] = "ok",
	[PACKET_TRUNCATED] = "truncated",
	[PACKET_BAD_VERSION] = "bad_version",
	[PACKET_BAD_HEADER] = "bad_header",
	[PACKET_BAD_EXT_HEADER] = "bad_ext_header",
};

/* The cursor over bytes [off, l3_len) of the packet. */
static struct cursor packet_cursor_at(const uint8_t *pkt, size_t l3_len, size_t off)
{
	struct cursor c = cursor_init(pkt, l3_len);

	rd_skip(&c, off);
	return c;
}

static bool packet_is_icmp(const struct packet_info *info)
{
	return (info->src.family == AF_INET && info->protocol == IPPROTO_ICMP) ||
	       (info->src.family == AF_INET6 && info->protocol == IPPROTO_ICMPV6);
}

static bool packet_icmp_is_echo(int family, uint8_t type)
{
	if (family == AF_INET)
		return type == ICMP_ECHO_REQUEST || type == ICMP_ECHO_REPLY;
	return type == ICMP6_ECHO_REQUEST || type == ICMP6_ECHO_REPLY;
}

static enum packet_parse_error packet_parse_tcp(struct cursor *c, struct packet_info *info)
{
	const uint8_t *h = rd_ptr(c, TCP_HDR_MIN);
	size_t hlen;

	if (!h)
		return PACKET_TRUNCATED;
	hlen = (size_t)(h[12] >> 4) * 4;
	if (hlen < TCP_HDR_MIN)
		return PACKET_BAD_HEADER;
	if (!rd_skip(c, hlen - TCP_HDR_MIN))
		return PACKET_TRUNCATED;
	info->sport = (uint16_t)(h[0] << 8 | h[1]);
	info->dport = (uint16_t)(h[2] << 8 | h[3]);
	info->tcp_flags = h[13];
	return PACKET_OK;
}

static enum packet_parse_error packet_parse_udp(struct cursor *c, struct packet_info *info)
{
	if (!rd_u16be(c, &info->sport) || !rd_u16be(c, &info->dport) ||
	    !rd_skip(c, UDP_HDR_LEN - 4))
		return PACKET_TRUNCATED;
	return PACKET_OK;
}

static enum packet_parse_error packet_parse_icmp(struct cursor *c, struct packet_info *info)
{
	uint16_t csum, id;

	if (!rd_u8(c, &info->icmp_type) || !rd_u8(c, &info->icmp_code) ||
	    !rd_u16be(c, &csum) || !rd_u16be(c, &id) || !rd_skip(c, 2))
		return PACKET_TRUNCATED;
	if (packet_icmp_is_echo(info->src.family, info->icmp_type)) {
		info->sport = id;
		info->dport = id;
	}
	return PACKET_OK;
}

/* From l4_off on: ports, flags and where the payload starts. */
static enum packet_parse_error packet_parse_l4(const uint8_t *pkt, struct packet_info *info)
{
	struct cursor c = packet_cursor_at(pkt, info->l3_len, info->l4_off);
	enum packet_parse_error err = PACKET_OK;

	if (info->is_fragment)
		;	/* a later fragment: no L4 header here */
	else if (info->protocol == IPPROTO_TCP)
		err = packet_parse_tcp(&c, info);
	else if (info->protocol == IPPROTO_UDP)
		err = packet_parse_udp(&c, info);
	else if (packet_is_icmp(info))
		err = packet_parse_icmp(&c, info);
	if (err != PACKET_OK)
		return err;
	info->payload_off = (uint16_t)(info->l3_len - c.left);
	info->payload_len = (uint16_t)c.left;
	return PACKET_OK;
}

static enum packet_parse_error packet_parse_v4(const uint8_t *pkt, size_t len,
					       struct packet_info *info)
{
	struct cursor c = cursor_init(pkt, len);
	const uint8_t *h = rd_ptr(&c, IPV4_HDR_MIN);
	size_t ihl, total;
	uint16_t frag;

	if (!h)
		return PACKET_TRUNCATED;
	ihl = (size_t)(h[0] & 0x0f) * 4;
	total = (size_t)(h[2] << 8 | h[3]);
	if (ihl < IPV4_HDR_MIN || total < ihl)
		return PACKET_BAD_HEADER;
	if (total > len)
		return PACKET_TRUNCATED;
	if (!rd_skip(&c, ihl - IPV4_HDR_MIN))	/* options: not interpreted */
		return PACKET_TRUNCATED;
	ip_addr_set(&info->src, AF_INET, h + 12);
	ip_addr_set(&info->dst, AF_INET, h + 16);
	info->dscp = h[1] >> 2;
	info->protocol = h[9];
	frag = (uint16_t)(h[6] << 8 | h[7]);
	info->is_fragment = (frag & IPV4_OFFSET_MASK) != 0;
	info->l3_len = (uint16_t)total;
	info->l4_off = (uint16_t)ihl;
	return packet_parse_l4(pkt, info);
}

/* One IPv6 extension header at c; sets *next and, for a fragment header,
 * is_fragment. Headers are (len + 1) * 8 bytes, the fragment header 8. */
static enum packet_parse_error packet_parse_ext(struct cursor *c, uint8_t type,
						uint8_t *next, struct packet_info *info)
{
	uint8_t hlen;
	uint16_t frag;

	if (!rd_u8(c, next) || !rd_u8(c, &hlen))
		return PACKET_BAD_EXT_HEADER;
	if (type == IPPROTO_FRAGMENT) {
		if (!rd_u16be(c, &frag) || !rd_skip(c, 4))
			return PACKET_BAD_EXT_HEADER;
		info->is_fragment = (frag & IPV6_FRAG_OFFSET_MASK) != 0;
		return PACKET_OK;
	}
	if (!rd_skip(c, (size_t)hlen * 8 + 6))
		return PACKET_BAD_EXT_HEADER;
	return PACKET_OK;
}

static bool packet_is_ext(uint8_t type)
{
	return type == IPPROTO_HOPOPTS || type == IPPROTO_ROUTING ||
	       type == IPPROTO_DSTOPTS || type == IPPROTO_FRAGMENT;
}

/* Walks the extension chain to the upper-layer protocol. Hop-by-hop is
 * only legal first (RFC 8200 4.1); a later fragment ends the walk since
 * what follows it is in the first fragment. */
static enum packet_parse_error packet_parse_ext_chain(struct cursor *c, uint8_t next,
						      struct packet_info *info)
{
	for (unsigned n = 0; packet_is_ext(next) && !info->is_fragment; n++) {
		uint8_t type = next;
		enum packet_parse_error err;

		if (n == IPV6_EXT_MAX || (type == IPPROTO_HOPOPTS && n > 0))
			return PACKET_BAD_EXT_HEADER;
		err = packet_parse_ext(c, type, &next, info);
		if (err != PACKET_OK)
			return err;
	}
	info->protocol = next;
	return PACKET_OK;
}

static enum packet_parse_error packet_parse_v6(const uint8_t *pkt, size_t len,
					       struct packet_info *info)
{
	struct cursor c = cursor_init(pkt, len);
	const uint8_t *h = rd_ptr(&c, IPV6_HDR_LEN);
	enum packet_parse_error err;
	size_t total;

	if (!h)
		return PACKET_TRUNCATED;
	/* A jumbogram would not fit l3_len; no tunnel MTU carries one. */
	total = IPV6_HDR_LEN + (size_t)(h[4] << 8 | h[5]);
	if (total > UINT16_MAX)
		return PACKET_BAD_HEADER;
	if (total > len)
		return PACKET_TRUNCATED;
	ip_addr_set(&info->src, AF_INET6, h + 8);
	ip_addr_set(&info->dst, AF_INET6, h + 24);
	info->dscp = (uint8_t)(((h[0] & 0x0f) << 4 | h[1] >> 4) >> 2);
	info->l3_len = (uint16_t)total;
	c = packet_cursor_at(pkt, total, IPV6_HDR_LEN);
	err = packet_parse_ext_chain(&c, h[6], info);
	if (err != PACKET_OK)
		return err;
	info->l4_off = (uint16_t)(total - c.left);
	return packet_parse_l4(pkt, info);
}

enum packet_parse_error packet_parse(const uint8_t *pkt, size_t len,
				     struct packet_info *info)
{
	memset(info, 0, sizeof(*info));
	if (len < 1)
		return PACKET_TRUNCATED;
	switch (pkt[0] >> 4) {
	case 4:
		return packet_parse_v4(pkt, len, info);
	case 6:
		return packet_parse_v6(pkt, len, info);
	default:
		return PACKET_BAD_VERSION;
	}
}

/* Where the L4 checksum lives, or NULL when this packet has none we fix. */
static uint8_t *packet_l4_csum(uint8_t *pkt, const struct packet_info *info,
			       enum csum_kind *kind)
{
	uint8_t *l4 = pkt + info->l4_off;

	*kind = CSUM_PLAIN;
	if (info->is_fragment)
		return NULL;
	if (info->protocol == IPPROTO_TCP)
		return l4 + 16;
	if (info->protocol == IPPROTO_UDP) {
		*kind = info->src.family == AF_INET ? CSUM_UDP4 : CSUM_UDP6;
		return l4 + 6;
	}
	if (packet_is_icmp(info))
		return l4 + 2;
	return NULL;
}

/* Where the port (or echo id) to rewrite lives, or NULL. */
static uint8_t *packet_port_field(uint8_t *pkt, const struct packet_info *info, bool src)
{
	uint8_t *l4 = pkt + info->l4_off;

	if (info->is_fragment)
		return NULL;
	if (info->protocol == IPPROTO_TCP || info->protocol == IPPROTO_UDP)
		return src ? l4 : l4 + 2;
	if (packet_is_icmp(info) && packet_icmp_is_echo(info->src.family, info->icmp_type))
		return l4 + 4;
	return NULL;
}

/* The rewrite both setters share. Offsets come from packet_parse, which
 * checked that every field written here lies inside the packet. */
static void packet_rewrite(uint8_t *pkt, struct packet_info *info, bool src,
			   const struct ip_addr *addr, uint16_t port)
{
	bool v4 = info->src.family == AF_INET;
	enum csum_kind kind;
	size_t alen = ip_addr_bytes(info->src.family);
	uint8_t *a = pkt + (v4 ? (src ? 12 : 16) : (src ? 8 : 24));
	uint8_t *pf = packet_port_field(pkt, info, src);
	uint8_t *l4c = packet_l4_csum(pkt, info, &kind);
	uint8_t pn[2] = { (uint8_t)(port >> 8), (uint8_t)port };
	uint32_t addr_delta = csum_delta(0, a, addr->a, alen), l4_delta = 0;

	if (v4)
		csum_apply(pkt + 10, addr_delta, CSUM_PLAIN);
	if (!(v4 && packet_is_icmp(info)))	/* ICMPv4 has no pseudo-header */
		l4_delta = addr_delta;
	if (pf)
		l4_delta = csum_delta(l4_delta, pf, pn, 2);
	if (l4c)
		csum_apply(l4c, l4_delta, kind);
	memcpy(a, addr->a, alen);
	if (pf)
		memcpy(pf, pn, 2);
}

static void packet_set(uint8_t *pkt, struct packet_info *info, bool src,
		       const struct ip_addr *addr, uint16_t port)
{
	bool has_port = packet_port_field(pkt, info, src) != NULL;

	if (addr->family != info->src.family)
		return;
	packet_rewrite(pkt, info, src, addr, port);
	if (src)
		info->src = *addr;
	else
		info->dst = *addr;
	if (!has_port)
		return;
	if (packet_is_icmp(info)) {
		info->sport = port;	/* one id serves both directions */
		info->dport = port;
	} else if (src) {
		info->sport = port;
	} else {
		info->dport = port;
	}
}

void packet_set_src(uint8_t *pkt, struct packet_info *info,
		    const struct ip_addr *addr, uint16_t port)
{
	packet_set(pkt, info, true, addr, port);
}

void packet_set_dst(uint8_t *pkt, struct packet_info *info,
		    const struct ip_addr *addr, uint16_t port)
{
	packet_set(pkt, info, false, addr, port);
}

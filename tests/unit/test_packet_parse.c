/* test_packet_parse: packet_parse on hand-built headers of every kind, and
 * packet_set_src/dst checked against a naive full checksum recomputation
 * on random packets (v4 and v6, TCP/UDP/ICMP/other, options, extension
 * headers, fragments). */
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include "dataplane/packet_parse.h"
#include "test.h"

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint32_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 16);
}

struct spec {
	int family;
	uint8_t protocol;
	uint8_t icmp_type;
	size_t v4_options;	/* bytes, multiple of 4 */
	unsigned v6_ext;	/* count of dest-options headers */
	bool hop_by_hop;
	int frag;		/* 0 none, 1 first (MF), 2 later */
	bool udp_zero_csum;
	size_t payload;
	uint8_t dscp;
};

/* Naive one's-complement sum over whole bytes, odd tail padded. */
static uint32_t sum16(uint32_t acc, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		acc += (i & 1) ? p[i] : (uint32_t)p[i] << 8;
	return acc;
}

static uint16_t fold_not(uint32_t acc)
{
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return (uint16_t)~acc;
}

static size_t addr_len(const uint8_t *pkt)
{
	return (pkt[0] >> 4) == 4 ? 4 : 16;
}

/* The full checksum of the L4 segment at l4 (field at csum_off zeroed). */
static uint16_t naive_l4_csum(const uint8_t *pkt, size_t l4, size_t l3_len, uint8_t proto,
			      size_t csum_off)
{
	uint8_t buf[2048];
	size_t n = l3_len - l4, al = addr_len(pkt);
	const uint8_t *src = pkt + (al == 4 ? 12 : 8);
	uint32_t acc = 0;

	memcpy(buf, pkt + l4, n);
	buf[csum_off] = buf[csum_off + 1] = 0;
	if (!(al == 4 && proto == IPPROTO_ICMP)) {
		uint8_t ph[8] = { 0, 0, (uint8_t)(n >> 8), (uint8_t)n, 0, 0, 0, proto };

		acc = sum16(acc, src, 2 * al);
		acc = al == 4 ? sum16(acc, (uint8_t[]){ 0, proto, (uint8_t)(n >> 8),
							(uint8_t)n }, 4)
			      : sum16(acc, ph, 8);
	}
	return fold_not(sum16(acc, buf, n));
}

static uint16_t naive_ip_csum(const uint8_t *pkt)
{
	uint8_t h[60];
	size_t ihl = (size_t)(pkt[0] & 15) * 4;

	memcpy(h, pkt, ihl);
	h[10] = h[11] = 0;
	return fold_not(sum16(0, h, ihl));
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static size_t l4_hdr_len(const struct spec *s)
{
	if (s->frag == 2)
		return 0;
	if (s->protocol == IPPROTO_TCP)
		return 20 + 4 * (rnd() % 3);
	if (s->protocol == IPPROTO_UDP)
		return 8;
	if (s->protocol == IPPROTO_ICMP || s->protocol == IPPROTO_ICMPV6)
		return 8;
	return 0;
}

static size_t build_l3_v4(uint8_t *p, const struct spec *s, size_t total)
{
	size_t ihl = 20 + s->v4_options;

	p[0] = (uint8_t)(0x40 | ihl / 4);
	p[1] = (uint8_t)(s->dscp << 2 | (rnd() & 3));
	put16(p + 2, (uint16_t)total);
	put16(p + 6, s->frag == 1 ? 0x2000 : s->frag == 2 ? (uint16_t)(0x2000 | 185) : 0x4000);
	p[8] = 64;
	p[9] = s->protocol;
	for (size_t i = 12; i < ihl; i++)
		p[i] = (uint8_t)rnd();
	return ihl;
}

static size_t build_l3_v6(uint8_t *p, const struct spec *s, size_t total)
{
	size_t off = 40;
	uint8_t *next = p + 6;

	p[0] = (uint8_t)(0x60 | s->dscp >> 2);
	p[1] = (uint8_t)((s->dscp & 3) << 6);
	put16(p + 4, (uint16_t)(total - 40));
	p[7] = 64;
	for (size_t i = 8; i < 40; i++)
		p[i] = (uint8_t)rnd();
	for (unsigned i = 0; i < s->v6_ext + s->hop_by_hop; i++) {
		*next = (i == 0 && s->hop_by_hop) ? IPPROTO_HOPOPTS : IPPROTO_DSTOPTS;
		next = p + off;
		p[off + 1] = (uint8_t)(i & 1);
		memset(p + off + 2, 1, 6 + 8 * (i & 1));
		off += 8 + 8 * (i & 1);
	}
	if (s->frag) {
		*next = IPPROTO_FRAGMENT;
		next = p + off;
		p[off + 1] = 0;
		put16(p + off + 2, s->frag == 1 ? 1 : (uint16_t)(185 << 3 | 1));
		off += 8;
	}
	*next = s->protocol;
	return off;
}

static size_t l3_len_for(const struct spec *s)
{
	return s->family == AF_INET ? 20 + s->v4_options
		: 40 + 8 * (s->hop_by_hop + s->v6_ext) + 8 * ((s->v6_ext + s->hop_by_hop) / 2) +
		  (s->frag ? 8 : 0);
}

static void fill_l4(uint8_t *p, size_t l4, size_t hl, size_t total, const struct spec *s)
{
	for (size_t i = l4; i < total; i++)
		p[i] = (uint8_t)rnd();
	if (s->protocol == IPPROTO_TCP && hl)
		p[l4 + 12] = (uint8_t)(hl / 4 << 4);
	if ((s->protocol == IPPROTO_ICMP || s->protocol == IPPROTO_ICMPV6) && hl)
		p[l4] = s->icmp_type;
}

static void fix_csums(uint8_t *p, size_t l4, size_t hl, size_t total, const struct spec *s)
{
	size_t off = s->protocol == IPPROTO_TCP ? 16 : s->protocol == IPPROTO_UDP ? 6 : 2;

	if (hl && (s->protocol == IPPROTO_TCP || s->protocol == IPPROTO_UDP ||
		   s->protocol == IPPROTO_ICMP || s->protocol == IPPROTO_ICMPV6)) {
		uint16_t c = naive_l4_csum(p, l4, total, s->protocol, off);

		if (s->protocol == IPPROTO_UDP && c == 0)
			c = 0xffff;
		if (s->protocol == IPPROTO_UDP && s->udp_zero_csum && s->family == AF_INET)
			c = 0;
		put16(p + l4 + off, c);
	}
	if (s->family == AF_INET)
		put16(p + 10, naive_ip_csum(p));
}

/* Builds the packet; returns its length, *l4 the L4 offset. */
static size_t build(uint8_t *p, const struct spec *s, size_t *l4)
{
	size_t hl = l4_hdr_len(s), off = l3_len_for(s), total = off + hl + s->payload;

	memset(p, 0, total);
	*l4 = s->family == AF_INET ? build_l3_v4(p, s, total) : build_l3_v6(p, s, total);
	fill_l4(p, *l4, hl, total, s);
	fix_csums(p, *l4, hl, total, s);
	return total;
}

static void random_spec(struct spec *s)
{
	static const uint8_t protos[] = { IPPROTO_TCP, IPPROTO_UDP, 0, 47 };
	uint8_t p = protos[rnd() % 4];

	memset(s, 0, sizeof(*s));
	s->family = rnd() & 1 ? AF_INET6 : AF_INET;
	if (p == 0)
		p = s->family == AF_INET ? IPPROTO_ICMP : IPPROTO_ICMPV6;
	s->protocol = p;
	if (p == IPPROTO_ICMP)
		s->icmp_type = (uint8_t[]){ 0, 8, 3, 11 }[rnd() % 4];
	if (p == IPPROTO_ICMPV6)
		s->icmp_type = (uint8_t[]){ 128, 129, 1, 3 }[rnd() % 4];
	s->v4_options = 4 * (rnd() % 11);
	s->v6_ext = rnd() % 3;
	s->hop_by_hop = rnd() & 1;
	s->frag = rnd() % 5 == 0 ? (int)(1 + rnd() % 2) : 0;
	s->udp_zero_csum = rnd() % 4 == 0;
	s->payload = rnd() % 200 + (rnd() & 1);
	s->dscp = (uint8_t)(rnd() & 63);
}

static bool csum_equiv(uint16_t a, uint16_t b)
{
	return a == b || ((a == 0 || a == 0xffff) && (b == 0 || b == 0xffff));
}

/* Every checksum in p agrees with a full recomputation. */
static bool csums_ok(const uint8_t *p, const struct packet_info *in, const struct spec *s)
{
	size_t off = s->protocol == IPPROTO_TCP ? 16 : s->protocol == IPPROTO_UDP ? 6 : 2;
	bool has_l4 = !in->is_fragment && off && (s->protocol == IPPROTO_TCP ||
		s->protocol == IPPROTO_UDP || s->protocol == IPPROTO_ICMP ||
		s->protocol == IPPROTO_ICMPV6);

	if (s->family == AF_INET && !csum_equiv((uint16_t)(p[10] << 8 | p[11]), naive_ip_csum(p)))
		return false;
	if (!has_l4)
		return true;
	uint16_t field = (uint16_t)(p[in->l4_off + off] << 8 | p[in->l4_off + off + 1]);
	uint16_t want = naive_l4_csum(p, in->l4_off, in->l3_len, s->protocol, off);

	if (s->protocol == IPPROTO_UDP && s->family == AF_INET && s->udp_zero_csum)
		return field == 0;
	if (s->protocol == IPPROTO_UDP)
		return field != 0 && csum_equiv(field, want);
	return csum_equiv(field, want);
}

static void allow(bool *ok, size_t off, size_t n)
{
	for (size_t i = 0; i < n; i++)
		ok[off + i] = true;
}

/* Nothing but the address, the port (or echo id) and checksums moved. */
static bool only_fields_changed(const uint8_t *before, const uint8_t *after, size_t len,
				const struct packet_info *in, const struct spec *s, bool src)
{
	bool ok[2048] = { false };
	bool l4 = !in->is_fragment, v4 = s->family == AF_INET;
	size_t o = in->l4_off;

	allow(ok, v4 ? (src ? 12 : 16) : (src ? 8 : 24), v4 ? 4 : 16);
	if (v4)
		allow(ok, 10, 2);
	if (l4 && s->protocol == IPPROTO_TCP)
		allow(ok, o + 16, 2);
	if (l4 && s->protocol == IPPROTO_UDP)
		allow(ok, o + 6, 2);
	if (l4 && (s->protocol == IPPROTO_TCP || s->protocol == IPPROTO_UDP))
		allow(ok, o + (src ? 0 : 2), 2);
	if (l4 && (s->protocol == IPPROTO_ICMP || s->protocol == IPPROTO_ICMPV6))
		allow(ok, o + 2, s->icmp_type == 0 || s->icmp_type == 8 ||
			  s->icmp_type == 128 || s->icmp_type == 129 ? 4 : 2);
	for (size_t i = 0; i < len; i++)
		if (before[i] != after[i] && !ok[i])
			return false;
	return true;
}

static void random_addr(struct ip_addr *a, int family)
{
	uint8_t b[16];

	for (int i = 0; i < 16; i++)
		b[i] = (uint8_t)rnd();
	ip_addr_set(a, family, b);
}

static void check_rewrite_once(void)
{
	uint8_t pkt[2048], orig[2048];
	struct packet_info info, again;
	struct ip_addr a;
	struct spec s;
	size_t l4, len;
	uint16_t port = (uint16_t)rnd();
	bool src;

	random_spec(&s);
	len = build(pkt, &s, &l4);
	memcpy(orig, pkt, len);
	CHECK(packet_parse(pkt, len, &info) == PACKET_OK);
	CHECK(csums_ok(pkt, &info, &s));
	random_addr(&a, s.family);
	src = rnd() & 1;
	if (src)
		packet_set_src(pkt, &info, &a, port);
	else
		packet_set_dst(pkt, &info, &a, port);
	CHECK(csums_ok(pkt, &info, &s));
	CHECK(only_fields_changed(orig, pkt, len, &info, &s, src));
	CHECK(packet_parse(pkt, len, &again) == PACKET_OK);
	CHECK(ip_addr_equal(&again.src, &info.src) && ip_addr_equal(&again.dst, &info.dst));
	CHECK(again.sport == info.sport && again.dport == info.dport);
	CHECK(again.protocol == s.protocol && again.l4_off == l4);
}

static void test_rewrite_random(void)
{
	for (int i = 0; i < 200000; i++)
		check_rewrite_once();
}

static void test_parse_fields_random(void)
{
	for (int i = 0; i < 20000; i++) {
		uint8_t pkt[2048];
		struct packet_info info;
		struct spec s;
		size_t l4, len;

		random_spec(&s);
		len = build(pkt, &s, &l4);
		CHECK(packet_parse(pkt, len, &info) == PACKET_OK);
		CHECK(info.protocol == s.protocol && info.dscp == s.dscp);
		CHECK(info.l3_len == len && info.l4_off == l4);
		CHECK(info.is_fragment == (s.frag == 2));
		CHECK(info.payload_off + info.payload_len == len);
		CHECK(info.src.family == s.family);
		/* every strict prefix is cut somewhere */
		for (size_t cut = 0; cut < len; cut += 1 + rnd() % 7)
			CHECK(packet_parse(pkt, cut, &info) != PACKET_OK);
	}
}

static const char tcp4_syn[] =
	"4500003c1c4640004006b1e6c0a80001c0a800c7"	/* 192.168.0.1 -> .199 */
	"d43101bb0000000100000000a0027210f4d50000"	/* 54321 -> 443, SYN, doff 10 */
	"020405b40402080a000000000000000001030307";	/* 20 bytes options */

static void test_tcp4_known(void)
{
	uint8_t pkt[64];
	size_t n = test_hex(tcp4_syn, pkt, sizeof(pkt));
	struct packet_info info;
	struct ip_addr a;

	CHECK(n == 60);
	CHECK(packet_parse(pkt, n, &info) == PACKET_OK);
	ip_addr_parse("192.168.0.1", &a);
	CHECK(ip_addr_equal(&info.src, &a));
	ip_addr_parse("192.168.0.199", &a);
	CHECK(ip_addr_equal(&info.dst, &a));
	CHECK(info.protocol == IPPROTO_TCP && info.sport == 54321 && info.dport == 443);
	CHECK(info.tcp_flags == 0x02 && info.l4_off == 20 && info.payload_off == 60);
	CHECK(info.payload_len == 0 && info.l3_len == 60 && !info.is_fragment);
	/* padding after the IP total length is fine */
	CHECK(packet_parse(pkt, n, &info) == PACKET_OK);
	pkt[32] = 0x40;		/* data offset 4 < 5 */
	CHECK(packet_parse(pkt, n, &info) == PACKET_BAD_HEADER);
	pkt[32] = 0xf0;		/* 60 bytes of TCP header: past the end */
	CHECK(packet_parse(pkt, n, &info) == PACKET_TRUNCATED);
}

static void test_ipv4_header_errors(void)
{
	uint8_t pkt[64];
	size_t n = test_hex(tcp4_syn, pkt, sizeof(pkt));
	struct packet_info info;

	CHECK(packet_parse(pkt, 0, &info) == PACKET_TRUNCATED);
	pkt[0] = 0x44;
	CHECK(packet_parse(pkt, n, &info) == PACKET_BAD_HEADER);
	pkt[0] = 0x55;
	CHECK(packet_parse(pkt, n, &info) == PACKET_BAD_VERSION);
	pkt[0] = 0x45;
	pkt[3] = 19;		/* total length < IHL */
	CHECK(packet_parse(pkt, n, &info) == PACKET_BAD_HEADER);
	pkt[3] = 61;		/* total length > buffer */
	CHECK(packet_parse(pkt, n, &info) == PACKET_TRUNCATED);
	pkt[3] = 60;
	pkt[0] = 0x4f;		/* 60-byte header: no room for TCP */
	CHECK(packet_parse(pkt, n, &info) == PACKET_TRUNCATED);
}

static void test_fragments(void)
{
	struct spec s = { .family = AF_INET, .protocol = IPPROTO_UDP, .frag = 2,
			  .payload = 40 };
	struct packet_info info;
	uint8_t pkt[256];
	size_t l4, len = build(pkt, &s, &l4);

	CHECK(packet_parse(pkt, len, &info) == PACKET_OK);
	CHECK(info.is_fragment && info.sport == 0 && info.dport == 0);
	CHECK(info.payload_off == 20 && info.payload_len == 40);
	s.frag = 1;
	len = build(pkt, &s, &l4);
	CHECK(packet_parse(pkt, len, &info) == PACKET_OK);
	CHECK(!info.is_fragment && info.sport == (uint16_t)(pkt[20] << 8 | pkt[21]));
	/* a first fragment too short for its UDP header is dropped */
	pkt[3] = 24;
	CHECK(packet_parse(pkt, 24, &info) == PACKET_TRUNCATED);
	s = (struct spec){ .family = AF_INET6, .protocol = IPPROTO_TCP, .frag = 2,
			   .v6_ext = 1, .payload = 16 };
	len = build(pkt, &s, &l4);
	CHECK(packet_parse(pkt, len, &info) == PACKET_OK);
	CHECK(info.is_fragment && info.protocol == IPPROTO_TCP && info.sport == 0);
	CHECK(info.l4_off == 56 && info.payload_len == 16);
}

static void test_ipv6_ext_chain(void)
{
	struct spec s = { .family = AF_INET6, .protocol = IPPROTO_UDP, .payload = 4 };
	struct packet_info info;
	uint8_t pkt[512];
	size_t l4, len;

	s.v6_ext = 7;
	len = build(pkt, &s, &l4);
	CHECK(packet_parse(pkt, len, &info) == PACKET_OK && info.l4_off == l4);
	s.v6_ext = 8;
	len = build(pkt, &s, &l4);
	CHECK(packet_parse(pkt, len, &info) == PACKET_OK);
	s.v6_ext = 9;	/* one header too many */
	len = build(pkt, &s, &l4);
	CHECK(packet_parse(pkt, len, &info) == PACKET_BAD_EXT_HEADER);
	s.v6_ext = 2;
	len = build(pkt, &s, &l4);
	pkt[41] = 200;	/* first header's length runs past the packet */
	CHECK(packet_parse(pkt, len, &info) == PACKET_BAD_EXT_HEADER);
	pkt[41] = 0;
	pkt[40] = IPPROTO_HOPOPTS;	/* hop-by-hop not first */
	CHECK(packet_parse(pkt, len, &info) == PACKET_BAD_EXT_HEADER);
	pkt[4] = 0xff;			/* payload length past the buffer */
	CHECK(packet_parse(pkt, len, &info) == PACKET_TRUNCATED);
}

static void test_icmp_echo(void)
{
	struct spec s = { .family = AF_INET, .protocol = IPPROTO_ICMP, .icmp_type = 8,
			  .payload = 56 };
	struct packet_info info;
	uint8_t pkt[256];
	size_t l4, len = build(pkt, &s, &l4);
	uint16_t id = (uint16_t)(pkt[24] << 8 | pkt[25]);
	struct ip_addr a;

	CHECK(packet_parse(pkt, len, &info) == PACKET_OK);
	CHECK(info.sport == id && info.dport == id && info.icmp_type == 8);
	ip_addr_parse("203.0.113.9", &a);
	packet_set_src(pkt, &info, &a, 4242);
	CHECK(info.sport == 4242 && info.dport == 4242);
	CHECK(pkt[24] == 4242 >> 8 && pkt[25] == (4242 & 0xff));
	CHECK(csums_ok(pkt, &info, &s));
	s.icmp_type = 3;	/* unreachable: no id */
	len = build(pkt, &s, &l4);
	CHECK(packet_parse(pkt, len, &info) == PACKET_OK);
	CHECK(info.sport == 0 && info.dport == 0 && info.icmp_type == 3);
	s = (struct spec){ .family = AF_INET6, .protocol = IPPROTO_ICMPV6, .icmp_type = 129 };
	len = build(pkt, &s, &l4);
	CHECK(packet_parse(pkt, len, &info) == PACKET_OK);
	CHECK(info.sport == (uint16_t)(pkt[44] << 8 | pkt[45]) && info.sport == info.dport);
}

static void test_udp_zero_checksum_stays_zero(void)
{
	for (int i = 0; i < 2000; i++) {
		struct spec s = { .family = AF_INET, .protocol = IPPROTO_UDP,
				  .udp_zero_csum = true, .payload = rnd() % 64 };
		struct packet_info info;
		struct ip_addr a;
		uint8_t pkt[256];
		size_t l4, len = build(pkt, &s, &l4);

		CHECK(packet_parse(pkt, len, &info) == PACKET_OK);
		random_addr(&a, AF_INET);
		packet_set_dst(pkt, &info, &a, (uint16_t)rnd());
		CHECK(pkt[26] == 0 && pkt[27] == 0);
	}
}

/* A UDP packet whose rewritten checksum computes to 0 must carry 0xffff. */
static void test_udp_computed_zero(void)
{
	int found = 0;

	for (int i = 0; i < 300000 && found < 3; i++) {
		struct spec s = { .family = i & 1 ? AF_INET6 : AF_INET,
				  .protocol = IPPROTO_UDP, .payload = 2 };
		struct packet_info info;
		struct ip_addr a;
		uint8_t pkt[128];
		size_t l4, len = build(pkt, &s, &l4);
		uint8_t *c;

		CHECK(packet_parse(pkt, len, &info) == PACKET_OK);
		random_addr(&a, s.family);
		packet_set_src(pkt, &info, &a, (uint16_t)rnd());
		c = pkt + info.l4_off + 6;
		CHECK(c[0] || c[1]);
		if (c[0] == 0xff && c[1] == 0xff)
			found++;
	}
	CHECK(found > 0);
}

static void test_wrong_family_ignored(void)
{
	uint8_t pkt[64], before[64];
	size_t n = test_hex(tcp4_syn, pkt, sizeof(pkt));
	struct packet_info info;
	struct ip_addr a;

	CHECK(packet_parse(pkt, n, &info) == PACKET_OK);
	memcpy(before, pkt, n);
	ip_addr_parse("2001:db8::1", &a);
	packet_set_src(pkt, &info, &a, 1);
	CHECK_MEM(before, pkt, n);
}

TEST_MAIN("packet_parse",
	  TEST(test_tcp4_known),
	  TEST(test_ipv4_header_errors),
	  TEST(test_fragments),
	  TEST(test_ipv6_ext_chain),
	  TEST(test_icmp_echo),
	  TEST(test_udp_zero_checksum_stays_zero),
	  TEST(test_udp_computed_zero),
	  TEST(test_wrong_family_ignored),
	  TEST(test_parse_fields_random),
	  TEST(test_rewrite_random))

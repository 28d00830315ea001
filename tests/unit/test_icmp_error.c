/* test_icmp_error: real ICMP/ICMPv6 errors built around TCP, UDP, ICMP
 * echo and other packets (v4 options, v6 extension headers, short and
 * long quotes), parsed and un-NATed; every checksum is then checked by a
 * naive full sum (outer IPv4 header, ICMP over the whole message with the
 * v6 pseudo-header, the quoted IPv4 header, and the quoted L4 checksum
 * against the whole original packet), on fixed cases and on thousands of
 * seeded random ones; truncation at every length; types that are not
 * flow errors. */
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include "dataplane/icmp_error.h"
#include "test.h"

#define BUF 2048
#define PROTO_GRE 47

static uint64_t rng_state = 0x2545f4914f6cdd1dULL;

static uint32_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 16);
}

/* ---- naive checksums ---- */

static uint32_t sum16(uint32_t acc, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		acc += (i & 1) ? p[i] : (uint32_t)p[i] << 8;
	return acc;
}

static uint16_t fold(uint32_t acc)
{
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return (uint16_t)acc;
}

static uint32_t pseudo(int family, const uint8_t *ip, size_t len, uint8_t proto)
{
	bool v4 = family == AF_INET;
	uint32_t acc = sum16(0, ip + (v4 ? 12 : 8), v4 ? 8 : 32);

	return acc + (uint32_t)(len >> 16) + (uint32_t)(len & 0xffff) + proto;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static bool ip4_hdr_ok(const uint8_t *ip)
{
	return fold(sum16(0, ip, (size_t)(ip[0] & 15) * 4)) == 0xffff;
}

static void ip4_hdr_fix(uint8_t *ip)
{
	put16(ip + 10, 0);
	put16(ip + 10, (uint16_t)~fold(sum16(0, ip, (size_t)(ip[0] & 15) * 4)));
}

static bool is_icmp(int family, uint8_t proto)
{
	return proto == (family == AF_INET ? IPPROTO_ICMP : IPPROTO_ICMPV6);
}

static bool is_echo(int family, uint8_t type)
{
	return family == AF_INET ? type == 0 || type == 8 : type == 128 || type == 129;
}

/* Offset of the L4 checksum, or -1. */
static int l4_csum_off(int family, uint8_t proto)
{
	if (proto == IPPROTO_TCP)
		return 16;
	if (proto == IPPROTO_UDP)
		return 6;
	if (is_icmp(family, proto))
		return 2;
	return -1;
}

static uint32_t l4_sum(int family, const uint8_t *ip, size_t l4_off, size_t len, uint8_t proto)
{
	uint32_t acc = 0;

	if (!(family == AF_INET && proto == IPPROTO_ICMP))
		acc = pseudo(family, ip, len - l4_off, proto);
	return sum16(acc, ip + l4_off, len - l4_off);
}

/* ---- the packet a flow sent (after NAT), built whole ---- */

struct orig {
	int family;
	uint8_t proto, icmp_type;
	uint8_t src[16], dst[16];
	uint16_t sport, dport;
	size_t v4_opts, v6_ext, payload;
	bool v6_frag_first, udp_zero;
	/* built */
	uint8_t b[BUF];
	size_t len, l4_off;
};

/* Whether the tuple has a port (or echo id) for this packet. */
static bool has_port(const struct orig *o)
{
	if (is_icmp(o->family, o->proto))
		return is_echo(o->family, o->icmp_type);
	return o->proto == IPPROTO_TCP || o->proto == IPPROTO_UDP;
}

static void orig_fix_l4(struct orig *o)
{
	int co = l4_csum_off(o->family, o->proto);
	uint16_t c;

	if (co < 0)
		return;
	put16(o->b + o->l4_off + co, 0);
	c = (uint16_t)~fold(l4_sum(o->family, o->b, o->l4_off, o->len, o->proto));
	if (o->proto == IPPROTO_UDP && c == 0)
		c = 0xffff;
	if (o->proto == IPPROTO_UDP && o->udp_zero)
		c = 0;
	put16(o->b + o->l4_off + co, c);
	if (o->family == AF_INET)
		ip4_hdr_fix(o->b);
}

static size_t orig_l4_hdr(struct orig *o, uint8_t *l4)
{
	if (o->proto == IPPROTO_TCP) {
		put16(l4, o->sport);
		put16(l4 + 2, o->dport);
		l4[12] = 5 << 4;
		l4[13] = 0x18;	/* PSH ACK */
		return 20;
	}
	if (o->proto == IPPROTO_UDP) {
		put16(l4, o->sport);
		put16(l4 + 2, o->dport);
		put16(l4 + 4, (uint16_t)(8 + o->payload));
		return 8;
	}
	if (is_icmp(o->family, o->proto)) {
		l4[0] = o->icmp_type;
		put16(l4 + 4, o->sport);
		put16(l4 + 6, 7);	/* sequence */
		return 8;
	}
	return 0;
}

static size_t orig_v6_ext(struct orig *o, uint8_t *p, uint8_t *first)
{
	size_t off = 0;
	uint8_t *next = first;

	if (o->v6_frag_first) {
		*next = IPPROTO_FRAGMENT;
		p[1] = 0;
		put16(p + 2, 1);	/* offset 0, M = 1 */
		next = p;
		off += 8;
	}
	for (size_t i = 0; i < o->v6_ext; i++) {
		*next = IPPROTO_DSTOPTS;
		p[off + 1] = (uint8_t)(i & 1);	/* 8 or 16 bytes */
		next = p + off;
		off += 8 * (size_t)(p[off + 1] + 1);
	}
	*next = o->proto;
	return off;
}

static void orig_build(struct orig *o)
{
	bool v4 = o->family == AF_INET;
	size_t hl = v4 ? 20 + o->v4_opts : 40, l4h;

	memset(o->b, 0, sizeof(o->b));
	if (v4) {
		o->b[0] = (uint8_t)(0x40 | hl / 4);
		o->b[1] = 0x28;
		o->b[8] = 64;
		o->b[9] = o->proto;
		memcpy(o->b + 12, o->src, 4);
		memcpy(o->b + 16, o->dst, 4);
		for (size_t i = 20; i < hl; i++)
			o->b[i] = 1;	/* NOP options */
	} else {
		o->b[0] = 0x60;
		o->b[7] = 64;
		memcpy(o->b + 8, o->src, 16);
		memcpy(o->b + 24, o->dst, 16);
		hl += orig_v6_ext(o, o->b + 40, o->b + 6);
	}
	o->l4_off = hl;
	l4h = orig_l4_hdr(o, o->b + hl);
	for (size_t i = 0; i < o->payload; i++)
		o->b[hl + l4h + i] = (uint8_t)rnd();
	o->len = hl + l4h + o->payload;
	if (v4)
		put16(o->b + 2, (uint16_t)o->len);
	else
		put16(o->b + 4, (uint16_t)(o->len - 40));
	orig_fix_l4(o);
	if (v4)
		ip4_hdr_fix(o->b);
}

/* The same packet as the client sent it: naive rewrite, full checksums. */
static void orig_set_src(struct orig *o, const uint8_t *addr, uint16_t port)
{
	memcpy(o->src, addr, 16);
	memcpy(o->b + (o->family == AF_INET ? 12 : 8), addr, o->family == AF_INET ? 4 : 16);
	if (!has_port(o))
		port = 0;	/* nothing to rewrite it in */
	else if (is_icmp(o->family, o->proto))
		put16(o->b + o->l4_off + 4, port);
	else
		put16(o->b + o->l4_off, port);
	o->sport = port;
	orig_fix_l4(o);
	if (o->family == AF_INET)
		ip4_hdr_fix(o->b);
}

static size_t quote_min(const struct orig *o)
{
	return o->l4_off + (l4_csum_off(o->family, o->proto) < 0 ? 0 : 8);
}

/* ---- the ICMP error around a quote ---- */

static const uint8_t router4[16] = { 198, 51, 100, 1 };
static const uint8_t router6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0xff, [15] = 1 };

static size_t error_build(uint8_t *b, int family, uint8_t type, uint8_t code, uint32_t rest,
			  const uint8_t *quote, size_t qlen)
{
	bool v4 = family == AF_INET;
	size_t hl = v4 ? 20 : 40, len = hl + 8 + qlen;
	uint8_t *icmp = b + hl;

	memset(b, 0, hl + 8);
	if (v4) {
		b[0] = 0x45;
		put16(b + 2, (uint16_t)len);
		b[8] = 255;
		b[9] = IPPROTO_ICMP;
		memcpy(b + 12, router4, 4);
		memcpy(b + 16, quote + 12, 4);	/* back to the quote's sender */
		ip4_hdr_fix(b);
	} else {
		b[0] = 0x60;
		put16(b + 4, (uint16_t)(len - 40));
		b[6] = IPPROTO_ICMPV6;
		b[7] = 255;
		memcpy(b + 8, router6, 16);
		memcpy(b + 24, quote + 8, 16);
	}
	icmp[0] = type;
	icmp[1] = code;
	put16(icmp + 4, (uint16_t)(rest >> 16));
	put16(icmp + 6, (uint16_t)rest);
	memmove(icmp + 8, quote, qlen);
	put16(icmp + 2, (uint16_t)~fold(l4_sum(family, b, hl, len, v4 ? IPPROTO_ICMP :
							  IPPROTO_ICMPV6)));
	return len;
}

static bool icmp_msg_ok(int family, const uint8_t *b, size_t l4_off, size_t len)
{
	uint8_t proto = family == AF_INET ? IPPROTO_ICMP : IPPROTO_ICMPV6;

	return fold(l4_sum(family, b, l4_off, len, proto)) == 0xffff;
}

static void addr_of(struct ip_addr *a, int family, const uint8_t *bytes)
{
	ip_addr_set(a, family, bytes);
}

/* Parses err as an error quoting o (qlen bytes of it) and checks every
 * field; returns false (with CHECKs failed) on a mismatch. */
static bool check_parse(const uint8_t *err, size_t len, const struct orig *o, size_t qlen,
			struct packet_info *outer, struct packet_info *emb, uint16_t *off)
{
	struct ip_addr s, d;
	size_t hl = o->family == AF_INET ? 20 : 40;
	bool echo = is_icmp(o->family, o->proto), ports = has_port(o);

	if (packet_parse(err, len, outer) != PACKET_OK || !icmp_error_parse(err, len, outer, emb, off))
		return false;
	addr_of(&s, o->family, o->src);
	addr_of(&d, o->family, o->dst);
	CHECK(*off == hl + 8);
	CHECK(ip_addr_equal(&emb->src, &s));
	CHECK(ip_addr_equal(&emb->dst, &d));
	CHECK(emb->protocol == o->proto);
	CHECK(emb->l4_off == o->l4_off);
	CHECK(emb->l3_len == (qlen < o->len ? qlen : o->len));
	CHECK(emb->sport == (ports ? o->sport : 0));
	CHECK(emb->dport == (ports ? (echo ? o->sport : o->dport) : 0));
	CHECK(emb->payload_off == emb->l3_len && emb->payload_len == 0);
	CHECK(!emb->is_fragment);
	return true;
}

/* After the rewrite: every checksum by a naive sum, every byte of the quote
 * as the client sent it (want: the whole original, naively rewritten). */
static void check_rewritten(const uint8_t *err, size_t len, const struct orig *want,
			    size_t qlen)
{
	struct packet_info outer, emb;
	int family = want->family, co = l4_csum_off(family, want->proto);
	size_t hl = family == AF_INET ? 20 : 40;
	const uint8_t *q = err + hl + 8;
	uint16_t off;
	struct orig full;

	CHECK(check_parse(err, len, want, qlen, &outer, &emb, &off));
	CHECK(!memcmp(outer.dst.a, want->src, 16));
	if (family == AF_INET) {
		CHECK(ip4_hdr_ok(err));
		CHECK(ip4_hdr_ok(q));
	}
	CHECK(icmp_msg_ok(family, err, hl, len));
	for (size_t i = 0; i < qlen && i < want->len; i++) {
		bool csum = (family == AF_INET && (i == 10 || i == 11)) ||
			    (co >= 0 && (i == want->l4_off + (size_t)co ||
					 i == want->l4_off + (size_t)co + 1));
		if (!csum && q[i] != want->b[i]) {
			CHECK(q[i] == want->b[i]);
			break;
		}
	}
	if (co < 0 || qlen < want->l4_off + (size_t)co + 2)
		return;
	/* The quoted L4 checksum must hold over the whole original packet. */
	full = *want;
	memcpy(full.b + full.l4_off + co, q + full.l4_off + co, 2);
	if (full.proto == IPPROTO_UDP && full.udp_zero)
		CHECK(!q[full.l4_off + co] && !q[full.l4_off + co + 1]);
	else
		CHECK(fold(l4_sum(family, full.b, full.l4_off, full.len, full.proto)) == 0xffff);
}

/* ---- fixed cases ---- */

static void orig_init(struct orig *o, int family, uint8_t proto)
{
	static const uint8_t pool4[] = { 203, 0, 113, 7 }, server4[] = { 93, 184, 216, 34 };
	static const uint8_t pool6[] = { 0x20, 0x01, 0x0d, 0xb8, 0, 1, [15] = 7 };
	static const uint8_t server6[] = { 0x26, 0x06, 0x28, 0x00, 0x02, 0x20, [15] = 0x34 };

	memset(o, 0, sizeof(*o));
	o->family = family;
	o->proto = proto;
	memcpy(o->src, family == AF_INET ? pool4 : pool6, family == AF_INET ? 4 : 16);
	memcpy(o->dst, family == AF_INET ? server4 : server6, family == AF_INET ? 4 : 16);
	o->sport = 40123;
	o->dport = proto == IPPROTO_TCP ? 443 : 53;
	o->icmp_type = family == AF_INET ? 8 : 128;
	o->payload = 1200;
}

static const uint8_t client4[16] = { 10, 7, 0, 2 };
static const uint8_t client6[16] = { 0xfd, 0x00, 0xee, [15] = 2 };

/* One whole round: error around qlen bytes of o, parse, tuple, rewrite,
 * naive check. */
static void round_trip(const struct orig *o, uint8_t type, uint8_t code, uint32_t rest, size_t qlen,
		       uint16_t new_port)
{
	static uint8_t err[BUF + 100];
	static struct orig w;
	struct packet_info outer, emb;
	struct flow_tuple t, key;
	struct ip_addr na;
	uint16_t off;
	size_t len = error_build(err, o->family, type, code, rest, o->b, qlen);
	const uint8_t *client = o->family == AF_INET ? client4 : client6;

	CHECK(check_parse(err, len, o, qlen, &outer, &emb, &off));
	icmp_error_embedded_tuple(&emb, &t);
	CHECK(t.zone == 0 && t.family == o->family && t.protocol == o->proto);
	CHECK(!memcmp(t.src, o->src, 16) && !memcmp(t.dst, o->dst, 16));
	flow_tuple_invert(&t, &key);	/* = the flow's reply tuple */
	CHECK(!memcmp(key.src, o->dst, 16) && !memcmp(key.dst, o->src, 16));
	CHECK(key.sport == t.dport && key.dport == t.sport);
	addr_of(&na, o->family, client);
	icmp_error_rewrite(err, &outer, &emb, off, &na, new_port);
	CHECK(ip_addr_equal(&outer.dst, &na) && ip_addr_equal(&emb.src, &na));
	if (has_port(o))
		CHECK(emb.sport == new_port);
	w = *o;
	orig_set_src(&w, client, new_port);
	check_rewritten(err, len, &w, qlen);
}

static void test_v4_udp_frag_needed(void)
{
	struct orig o;

	orig_init(&o, AF_INET, IPPROTO_UDP);
	orig_build(&o);
	round_trip(&o, 3, 4, 1400, o.l4_off + 8, 5353);		/* RFC 792 minimum */
	orig_build(&o);
	round_trip(&o, 3, 4, 1400, 548, 5353);			/* RFC 1812 576-byte error */
}

static void test_v4_udp_zero_csum(void)
{
	struct orig o;

	orig_init(&o, AF_INET, IPPROTO_UDP);
	o.udp_zero = true;
	orig_build(&o);
	round_trip(&o, 3, 3, 0, o.l4_off + 8, 1111);
}

static void test_v4_tcp_short_and_long(void)
{
	struct orig o;

	orig_init(&o, AF_INET, IPPROTO_TCP);
	o.v4_opts = 8;
	orig_build(&o);
	round_trip(&o, 3, 4, 1280, o.l4_off + 8, 50000);	/* TCP checksum absent */
	orig_build(&o);
	round_trip(&o, 3, 4, 1280, o.l4_off + 17, 50000);	/* half of it: still absent */
	orig_build(&o);
	round_trip(&o, 11, 0, 0, o.l4_off + 18, 50000);		/* just present */
	orig_build(&o);
	round_trip(&o, 12, 0, 0, o.len, 50000);
}

static void test_v4_echo_time_exceeded(void)
{
	struct orig o;

	orig_init(&o, AF_INET, IPPROTO_ICMP);
	o.payload = 56;
	orig_build(&o);
	round_trip(&o, 11, 0, 0, o.l4_off + 8, 0x1234);
	orig_init(&o, AF_INET, IPPROTO_ICMP);
	o.icmp_type = 0;	/* an echo reply quoted */
	o.payload = 56;
	orig_build(&o);
	round_trip(&o, 3, 1, 0, o.len, 0xbeef);
}

static void test_v6_packet_too_big(void)
{
	struct orig o;

	orig_init(&o, AF_INET6, IPPROTO_UDP);
	orig_build(&o);
	round_trip(&o, 2, 0, 1280, 1232, 443);	/* as much as fits in 1280 */
	orig_init(&o, AF_INET6, IPPROTO_TCP);
	o.v6_ext = 2;
	o.v6_frag_first = true;
	orig_build(&o);
	round_trip(&o, 2, 0, 1400, o.l4_off + 8, 60001);
	orig_build(&o);
	round_trip(&o, 1, 4, 0, o.l4_off + 20, 60001);
}

static void test_v6_echo_and_other(void)
{
	struct orig o;

	orig_init(&o, AF_INET6, IPPROTO_ICMPV6);
	o.payload = 56;
	orig_build(&o);
	round_trip(&o, 3, 0, 0, o.len, 0x4242);
	orig_init(&o, AF_INET6, PROTO_GRE);
	orig_build(&o);
	round_trip(&o, 4, 0, 40, o.l4_off + 4, 0);
	orig_init(&o, AF_INET, PROTO_GRE);
	orig_build(&o);
	round_trip(&o, 3, 4, 576, o.l4_off, 0);
}

/* A quote followed by bytes that are not its own (RFC 4884 padding). */
static void test_quote_shorter_than_message(void)
{
	static uint8_t q[BUF];
	struct orig o;

	orig_init(&o, AF_INET, IPPROTO_UDP);
	o.payload = 20;
	orig_build(&o);
	memcpy(q, o.b, o.len);
	memset(q + o.len, 0xaa, 40);
	memcpy(o.b, q, o.len + 40);	/* the error's quote: packet + padding */
	round_trip(&o, 3, 4, 1400, o.len + 40, 999);
}

/* ---- what must be refused ---- */

static bool parses_as_error(const uint8_t *err, size_t len)
{
	struct packet_info outer, emb;
	uint16_t off;

	return packet_parse(err, len, &outer) == PACKET_OK &&
	       icmp_error_parse(err, len, &outer, &emb, &off);
}

static void test_non_error_types(void)
{
	static uint8_t err[BUF];
	struct orig o4, o6;

	orig_init(&o4, AF_INET, IPPROTO_UDP);
	orig_build(&o4);
	orig_init(&o6, AF_INET6, IPPROTO_UDP);
	orig_build(&o6);
	for (unsigned t = 0; t < 256; t++) {
		size_t len = error_build(err, AF_INET, (uint8_t)t, 0, 0, o4.b, 64);
		bool want = t == 3 || t == 11 || t == 12;

		CHECK(parses_as_error(err, len) == want);
		len = error_build(err, AF_INET6, (uint8_t)t, 0, 0, o6.b, 64);
		CHECK(parses_as_error(err, len) == (t >= 1 && t <= 4));
	}
}

static void test_refused_quotes(void)
{
	static uint8_t err[BUF];
	struct orig o;
	size_t len;

	/* an error about an error */
	orig_init(&o, AF_INET, IPPROTO_ICMP);
	o.icmp_type = 3;
	orig_build(&o);
	CHECK(!parses_as_error(err, error_build(err, AF_INET, 3, 4, 0, o.b, 64)));
	orig_init(&o, AF_INET6, IPPROTO_ICMPV6);
	o.icmp_type = 2;
	orig_build(&o);
	CHECK(!parses_as_error(err, error_build(err, AF_INET6, 1, 0, 0, o.b, 64)));
	/* a later fragment quoted */
	orig_init(&o, AF_INET, IPPROTO_UDP);
	orig_build(&o);
	put16(o.b + 6, 100);
	ip4_hdr_fix(o.b);
	CHECK(!parses_as_error(err, error_build(err, AF_INET, 3, 4, 0, o.b, 64)));
	/* the error does not go to the quote's sender */
	orig_build(&o);
	len = error_build(err, AF_INET, 3, 4, 0, o.b, 64);
	CHECK(parses_as_error(err, len));
	err[19] ^= 1;
	CHECK(!parses_as_error(err, len));
	/* the other family quoted: the v6 packet's address bytes are copied as
	 * the v4 destination, so only the version check can refuse it */
	orig_init(&o, AF_INET6, IPPROTO_UDP);
	orig_build(&o);
	len = error_build(err, AF_INET, 3, 4, 0, o.b, 64);
	CHECK(!parses_as_error(err, len));
	/* a fragment of the error itself */
	orig_init(&o, AF_INET, IPPROTO_UDP);
	orig_build(&o);
	len = error_build(err, AF_INET, 3, 4, 0, o.b, 64);
	put16(err + 6, 0x2000 | 10);
	ip4_hdr_fix(err);
	CHECK(!parses_as_error(err, len));
}

/* Truncation at every length: cut raw (the outer header then claims more
 * than is there), and cut with the outer lengths and ICMP checksum made to
 * agree, so the quote is short. Buffers are exact-size so ASan sees any
 * read past them. */
static void truncate_all(struct orig *o, uint8_t type)
{
	static uint8_t err[BUF + 100];
	size_t full = error_build(err, o->family, type, 0, 0, o->b, o->len);
	size_t hl = o->family == AF_INET ? 20 : 40;

	for (size_t cut = 0; cut <= full; cut++) {
		uint8_t *p = malloc(cut ? cut : 1);
		struct packet_info outer, emb;
		uint16_t off;
		bool want;

		memcpy(p, err, cut);
		CHECK(parses_as_error(p, cut) == (cut == full));
		if (cut >= hl + 8) {
			size_t q = cut - hl - 8;

			error_build(p, o->family, type, 0, 0, o->b, q);
			want = q >= quote_min(o);
			CHECK(parses_as_error(p, cut) == want);
			if (want && check_parse(p, cut, o, q, &outer, &emb, &off)) {
				struct ip_addr na;
				struct orig w = *o;

				addr_of(&na, o->family, o->family == AF_INET ? client4 : client6);
				icmp_error_rewrite(p, &outer, &emb, off, &na, 777);
				orig_set_src(&w, na.a, 777);
				check_rewritten(p, cut, &w, q);
			}
		}
		free(p);
	}
}

static void test_truncated_every_length(void)
{
	static const uint8_t protos4[] = { IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP, PROTO_GRE };
	static const uint8_t protos6[] = { IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMPV6, PROTO_GRE };
	struct orig o;

	for (size_t i = 0; i < 4; i++) {
		orig_init(&o, AF_INET, protos4[i]);
		o.payload = 30;
		o.v4_opts = 4 * i;
		orig_build(&o);
		truncate_all(&o, 3);
		orig_init(&o, AF_INET6, protos6[i]);
		o.payload = 30;
		o.v6_ext = i;
		o.v6_frag_first = i & 1;
		orig_build(&o);
		truncate_all(&o, 2);
	}
}

/* ---- randomised against the naive reference ---- */

static void random_addr(uint8_t *a, int family)
{
	memset(a, 0, 16);
	for (size_t i = 0; i < (family == AF_INET ? 4u : 16u); i++)
		a[i] = (uint8_t)rnd();
}

static void random_orig(struct orig *o)
{
	static const uint8_t types4[] = { 0, 8, 13 }, types6[] = { 128, 129, 130 };
	unsigned k = rnd() % 4;

	memset(o, 0, sizeof(*o));
	o->family = rnd() & 1 ? AF_INET : AF_INET6;
	o->proto = k == 0 ? IPPROTO_TCP : k == 1 ? IPPROTO_UDP : k == 3 ? PROTO_GRE :
		   o->family == AF_INET ? IPPROTO_ICMP : IPPROTO_ICMPV6;
	o->icmp_type = o->family == AF_INET ? types4[rnd() % 3] : types6[rnd() % 3];
	random_addr(o->src, o->family);
	random_addr(o->dst, o->family);
	o->sport = (uint16_t)rnd();
	o->dport = (uint16_t)rnd();
	o->v4_opts = 4 * (rnd() % 11);
	o->v6_ext = rnd() % 3;
	o->v6_frag_first = rnd() % 4 == 0;
	o->udp_zero = o->family == AF_INET && rnd() % 4 == 0;
	o->payload = rnd() % 400;
	if (!has_port(o))
		o->sport = 0;	/* not an echo: no id in the tuple */
	orig_build(o);
}

static void test_random_rewrite(void)
{
	static const uint8_t err4[] = { 3, 11, 12 }, err6[] = { 1, 2, 3, 4 };
	static uint8_t err[BUF + 100];

	for (int n = 0; n < 20000; n++) {
		struct packet_info outer, emb;
		struct orig o;
		struct ip_addr na;
		uint8_t a[16];
		uint16_t off, port = (uint16_t)rnd();
		size_t min, qlen, len;
		bool v4;

		random_orig(&o);
		v4 = o.family == AF_INET;
		min = quote_min(&o);
		qlen = min + rnd() % (o.len + 16 - min + 1);
		len = error_build(err, o.family, v4 ? err4[rnd() % 3] : err6[rnd() % 4],
				  (uint8_t)rnd(), rnd(), o.b, qlen);
		if (!check_parse(err, len, &o, qlen, &outer, &emb, &off)) {
			CHECK(!"random error refused");
			continue;
		}
		random_addr(a, o.family);
		addr_of(&na, o.family, a);
		icmp_error_rewrite(err, &outer, &emb, off, &na, port);
		orig_set_src(&o, a, port);
		check_rewritten(err, len, &o, qlen);
	}
}

/* Random bytes after a valid outer header: never true with garbage. */
static void test_random_garbage(void)
{
	static uint8_t err[BUF];

	for (int n = 0; n < 20000; n++) {
		int family = rnd() & 1 ? AF_INET : AF_INET6;
		size_t qlen = rnd() % 120;
		uint8_t q[128];
		struct packet_info outer, emb;
		uint16_t off;
		size_t len;

		for (size_t i = 0; i < sizeof(q); i++)
			q[i] = (uint8_t)rnd();
		q[0] = (uint8_t)((family == AF_INET ? 0x40 : 0x60) | (q[0] & 0x0f));
		len = error_build(err, family, family == AF_INET ? 3 : 2, 0, 0, q, qlen);
		if (packet_parse(err, len, &outer) != PACKET_OK ||
		    !icmp_error_parse(err, len, &outer, &emb, &off))
			continue;
		CHECK(off + emb.l3_len <= len);
		CHECK(emb.l4_off <= emb.l3_len);
		CHECK(ip_addr_equal(&emb.src, &outer.dst));
	}
}

TEST_MAIN("icmp_error",
	  TEST(test_v4_udp_frag_needed),
	  TEST(test_v4_udp_zero_csum),
	  TEST(test_v4_tcp_short_and_long),
	  TEST(test_v4_echo_time_exceeded),
	  TEST(test_v6_packet_too_big),
	  TEST(test_v6_echo_and_other),
	  TEST(test_quote_shorter_than_message),
	  TEST(test_non_error_types),
	  TEST(test_refused_quotes),
	  TEST(test_truncated_every_length),
	  TEST(test_random_rewrite),
	  TEST(test_random_garbage))

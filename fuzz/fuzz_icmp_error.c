/* fuzz_icmp_error: packet_parse then icmp_error_parse on arbitrary bytes.
 * An accepted quote must lie inside the packet and come from the error's
 * destination; icmp_error_rewrite on a copy (address and port taken from
 * the input) must leave a packet that parses again, outer and quote, to
 * the same offsets with the new address and port, and every checksum
 * that held before by a naive full sum (outer IPv4 header, ICMP message,
 * quoted IPv4 header) must still hold. */
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dataplane/icmp_error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint32_t sum_bytes(uint32_t acc, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		acc += (i & 1) ? p[i] : (uint32_t)p[i] << 8;
	return acc;
}

static bool sum_ok(uint32_t acc)
{
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return acc == 0xffff;
}

/* Bit 0: outer IPv4 header, bit 1: ICMP message, bit 2: quoted IPv4 header. */
static unsigned csums_ok(const uint8_t *p, const struct packet_info *o, uint16_t qoff)
{
	bool v4 = o->src.family == AF_INET;
	size_t n = o->l3_len - o->l4_off;
	uint32_t acc = 0;
	unsigned ok = 0;

	if (v4 && sum_ok(sum_bytes(0, p, (size_t)(p[0] & 15) * 4)))
		ok |= 1;
	if (!v4) {
		acc = sum_bytes(acc, p + 8, 32);
		acc += (uint32_t)(n >> 16) + (uint32_t)(n & 0xffff) + IPPROTO_ICMPV6;
	}
	if (sum_ok(sum_bytes(acc, p + o->l4_off, n)))
		ok |= 2;
	if (v4 && sum_ok(sum_bytes(0, p + qoff, (size_t)(p[qoff] & 15) * 4)))
		ok |= 4;
	return ok;
}

static void pick(const uint8_t *data, size_t size, struct ip_addr *a, uint16_t *port,
		 int family)
{
	uint8_t b[16];

	for (size_t i = 0; i < 16; i++)
		b[i] = data[(i * 7 + 5) % size];
	ip_addr_set(a, family, b);
	*port = (uint16_t)(b[2] << 8 | b[9]);
}

static void check_accepted(const uint8_t *data, size_t size, const struct packet_info *o,
			   const struct packet_info *e, uint16_t qoff)
{
	if ((size_t)qoff + e->l3_len > o->l3_len || e->l4_off > e->l3_len ||
	    qoff < o->l4_off + 8 || !ip_addr_equal(&e->src, &o->dst) ||
	    e->src.family != o->src.family || (data[qoff] >> 4) != (o->src.family == AF_INET ? 4 : 6))
		abort();
	(void)size;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct packet_info outer, emb, outer2, emb2;
	struct ip_addr na;
	uint16_t qoff, qoff2, port;
	unsigned before;
	uint8_t *copy;

	if (packet_parse(data, size, &outer) != PACKET_OK ||
	    !icmp_error_parse(data, size, &outer, &emb, &qoff))
		return 0;
	check_accepted(data, size, &outer, &emb, qoff);
	copy = malloc(size);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	before = csums_ok(copy, &outer, qoff);
	pick(data, size, &na, &port, outer.src.family);
	icmp_error_rewrite(copy, &outer, &emb, qoff, &na, port);
	if (packet_parse(copy, size, &outer2) != PACKET_OK || outer2.l4_off != outer.l4_off ||
	    !ip_addr_equal(&outer2.dst, &na) || !ip_addr_equal(&outer.dst, &na) ||
	    !icmp_error_parse(copy, size, &outer2, &emb2, &qoff2) || qoff2 != qoff ||
	    emb2.l4_off != emb.l4_off || emb2.l3_len != emb.l3_len ||
	    emb2.protocol != emb.protocol || !ip_addr_equal(&emb2.src, &na) ||
	    emb2.sport != emb.sport || emb2.dport != emb.dport)
		abort();
	if ((before & csums_ok(copy, &outer2, qoff)) != before)
		abort();
	free(copy);
	return 0;
}

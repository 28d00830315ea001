/* fuzz_packet: packet_parse on arbitrary bytes; for every packet it
 * accepts, packet_set_src and packet_set_dst on a copy (address and port
 * taken from the input) must leave a packet that parses again to the same
 * protocol and offsets with the new address and port, and every checksum
 * that was valid before (by a naive full sum) must still be valid. */
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dataplane/packet_parse.h"

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

static bool ip_csum_ok(const uint8_t *p)
{
	return sum_ok(sum_bytes(0, p, (size_t)(p[0] & 15) * 4));
}

/* -1 when the packet has no L4 checksum to judge, else whether it holds. */
static int l4_csum_ok(const uint8_t *p, const struct packet_info *in)
{
	bool v4 = in->src.family == AF_INET;
	size_t n = in->l3_len - in->l4_off, al = v4 ? 4 : 16, coff;
	uint32_t acc = 0;

	if (in->is_fragment)
		return -1;
	if (in->protocol == IPPROTO_TCP)
		coff = 16;
	else if (in->protocol == IPPROTO_UDP)
		coff = 6;
	else if ((v4 && in->protocol == IPPROTO_ICMP) || (!v4 && in->protocol == IPPROTO_ICMPV6))
		coff = 2;
	else
		return -1;
	if (in->protocol == IPPROTO_UDP && !p[in->l4_off + coff] && !p[in->l4_off + coff + 1])
		return -1;
	if (!(v4 && in->protocol == IPPROTO_ICMP)) {
		acc = sum_bytes(acc, p + (v4 ? 12 : 8), 2 * al);
		acc += (uint32_t)(n >> 16) + (uint32_t)(n & 0xffff) + in->protocol;
	}
	return sum_ok(sum_bytes(acc, p + in->l4_off, n));
}

static void pick(const uint8_t *data, size_t size, struct ip_addr *a, uint16_t *port,
		 int family, size_t salt)
{
	uint8_t b[16];

	for (size_t i = 0; i < 16; i++)
		b[i] = data[(i * 7 + salt) % size];
	ip_addr_set(a, family, b);
	*port = (uint16_t)(b[0] << 8 | b[5]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct packet_info info, again;
	struct ip_addr s, d;
	uint16_t sp, dp;
	int ip_before, l4_before;
	uint8_t *copy;

	if (packet_parse(data, size, &info) != PACKET_OK)
		return 0;
	copy = malloc(size);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	ip_before = info.src.family == AF_INET ? ip_csum_ok(copy) : -1;
	l4_before = l4_csum_ok(copy, &info);
	pick(data, size, &s, &sp, info.src.family, 1);
	pick(data, size, &d, &dp, info.dst.family, 3);
	packet_set_src(copy, &info, &s, sp);
	packet_set_dst(copy, &info, &d, dp);
	if (packet_parse(copy, size, &again) != PACKET_OK || again.protocol != info.protocol ||
	    again.l4_off != info.l4_off || again.payload_off != info.payload_off ||
	    !ip_addr_equal(&again.src, &s) || !ip_addr_equal(&again.dst, &d) ||
	    again.sport != info.sport || again.dport != info.dport)
		abort();
	if ((ip_before == 1 && !ip_csum_ok(copy)) || (l4_before == 1 && l4_csum_ok(copy, &again) != 1))
		abort();
	free(copy);
	return 0;
}

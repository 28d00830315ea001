/* checksum: incremental Internet checksum updates (RFC 1624), shared by
 * NAT rewrites (packet_parse.c) and ICMP error translation (icmp_error.c).
 * A delta is accumulated over the 16-bit words that change, then applied
 * to each checksum field that covers them. */
#ifndef EGRESS_DATAPLANE_CHECKSUM_H
#define EGRESS_DATAPLANE_CHECKSUM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'), over a run of 16-bit words. */
static inline uint32_t csum_delta(uint32_t acc, const uint8_t *old, const uint8_t *new_,
				  size_t n)
{
	for (size_t i = 0; i + 1 < n; i += 2) {
		acc += (uint16_t)~(old[i] << 8 | old[i + 1]);
		acc += (uint32_t)(new_[i] << 8 | new_[i + 1]);
	}
	return acc;
}

static inline uint16_t csum_fold(uint32_t acc)
{
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return (uint16_t)acc;
}

/* How a protocol's checksum field treats zero. */
enum csum_kind {
	CSUM_PLAIN,		/* TCP, ICMP, IPv4 header */
	CSUM_UDP6,		/* zero is never sent: a computed 0 goes out as ~0 */
	CSUM_UDP4,		/* as UDP6, and a zero field means "no checksum" */
};

/* The big-endian checksum at field after delta, into out; false when the
 * field must stay as it is (UDP over IPv4 without a checksum). */
static inline bool csum_next(const uint8_t *field, uint32_t delta, enum csum_kind kind,
			     uint8_t out[2])
{
	uint32_t acc = (uint16_t)~(field[0] << 8 | field[1]);
	uint16_t sum;

	if (kind == CSUM_UDP4 && !field[0] && !field[1])
		return false;
	sum = (uint16_t)~csum_fold(acc + csum_fold(delta));
	if (kind != CSUM_PLAIN && sum == 0)
		sum = 0xffff;	/* RFC 768 */
	out[0] = (uint8_t)(sum >> 8);
	out[1] = (uint8_t)sum;
	return true;
}

/* Applies a delta to the checksum at field in place. */
static inline void csum_apply(uint8_t *field, uint32_t delta, enum csum_kind kind)
{
	uint8_t out[2];

	if (csum_next(field, delta, kind, out)) {
		field[0] = out[0];
		field[1] = out[1];
	}
}

#endif

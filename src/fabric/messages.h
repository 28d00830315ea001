/* fabric messages: what egress nodes say to each other inside the
 * WireGuard tunnel. A tunnel payload is either an IP packet (first nibble
 * 4 or 6: plain WireGuard, what standard clients send) or a fabric message
 * (first byte FABRIC_MAGIC). Standard clients never see fabric messages;
 * a node accepts them only from peers that the policy names as nodes.
 * Everything is big endian. See docs/fabric.md.
 *
 *   header   magic u8 (0xF0 | version) | type u8
 *   DATA     header | flags u16 | class_id u32 | pool_id u32 | user_id u32
 *            | inner IP packet                          (FABRIC_DATA_HDR_LEN)
 *   PROBE    header | path u16 | seq u32 | tx_ns u64 | node_id u32
 *   REPLY    header | path u16 | seq u32 | tx_ns u64 | node_id u32
 *            | utilisation_permille u16 | n u8 | n x REGION
 *   REGION   region_id u32 | rtt_us u32 | loss_permille u16
 *
 * Ids are policy_name_id() of names, so two nodes on different policy
 * versions still agree on what a class or pool is. */
#ifndef EGRESS_FABRIC_MESSAGES_H
#define EGRESS_FABRIC_MESSAGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FABRIC_MAGIC		0xF0	/* version 0 */
#define FABRIC_MAGIC_MASK	0xF0

enum fabric_type {
	FABRIC_DATA = 1,
	FABRIC_PROBE = 2,
	FABRIC_PROBE_REPLY = 3,
};

#define FABRIC_HDR_LEN		2
#define FABRIC_DATA_HDR_LEN	16
#define FABRIC_PROBE_LEN	20
#define FABRIC_REPLY_BASE_LEN	23
#define FABRIC_REGION_LEN	10
#define FABRIC_MAX_REGIONS	32

/* DATA flags. */
#define FABRIC_DATA_REPLY	0x0001	/* egress -> access: a reply packet */

struct fabric_data {
	uint16_t flags;
	uint32_t class_id, pool_id, user_id;
};

struct fabric_probe {
	uint16_t path;		/* the sender's path index, echoed */
	uint32_t seq;
	uint64_t tx_ns;		/* sender's monotonic clock, echoed */
	uint32_t node_id;	/* sender (probe) or responder (reply) */
};

struct fabric_region_metric {
	uint32_t region_id;
	uint32_t rtt_us;	/* UINT32_MAX = unreachable */
	uint16_t loss_permille;
};

struct fabric_probe_reply {
	struct fabric_probe probe;
	uint16_t utilisation_permille;
	uint8_t n_regions;
	struct fabric_region_metric regions[FABRIC_MAX_REGIONS];
};

static inline bool fabric_is_message(const uint8_t *payload, size_t len)
{
	return len >= 1 && (payload[0] & FABRIC_MAGIC_MASK) == FABRIC_MAGIC;
}

/* Decoders read through a cursor and check exact lengths; false on any
 * malformation (the caller counts a drop by type). WireGuard pads payloads
 * to 16 bytes, so fabric_decode_type checks the magic, the type and the
 * type's minimum length only; the caller then decodes with the real length
 * (PROBE 20, REPLY 23 + 10 x byte 22, DATA: the inner IP header's). */
bool fabric_decode_type(const uint8_t *msg, size_t len, enum fabric_type *type);
bool fabric_decode_data(const uint8_t *msg, size_t len, struct fabric_data *out,
			const uint8_t **inner, size_t *inner_len);
bool fabric_decode_probe(const uint8_t *msg, size_t len, struct fabric_probe *out);
bool fabric_decode_probe_reply(const uint8_t *msg, size_t len,
			       struct fabric_probe_reply *out);

/* Encoders return the bytes written, 0 if cap is too small. The DATA
 * header is written in front of an inner packet already in the buffer:
 * fabric_encode_data_header writes FABRIC_DATA_HDR_LEN bytes at out. */
size_t fabric_encode_data_header(uint8_t *out, size_t cap, const struct fabric_data *d);
size_t fabric_encode_probe(uint8_t *out, size_t cap, const struct fabric_probe *p);
size_t fabric_encode_probe_reply(uint8_t *out, size_t cap,
				 const struct fabric_probe_reply *r);

#endif

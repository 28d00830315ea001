/* messages: WireGuard wire formats to and from host-order structs. Every
 * read goes through a cursor; every handshake type has one exact length, a
 * data message a minimum and a maximum. The header is a type byte followed
 * by three reserved bytes that must be zero. */
#include "wg/messages.h"

#include "common/cursor.h"

/* Reads the 4-byte header and checks it names `type` exactly. */
static bool rd_header(struct cursor *c, enum message_type type)
{
	uint8_t t = 0, reserved[3] = { 0 };

	if (!rd_u8(c, &t) || !rd_bytes(c, reserved, sizeof(reserved)))
		return false;
	return t == type && (reserved[0] | reserved[1] | reserved[2]) == 0;
}

static bool wr_header(struct wcursor *w, enum message_type type)
{
	const uint8_t header[MESSAGE_HEADER_LEN] = { (uint8_t)type, 0, 0, 0 };

	return wr_bytes(w, header, sizeof(header));
}

static bool length_fits(enum message_type type, size_t len)
{
	switch (type) {
	case MESSAGE_HANDSHAKE_INITIATION:
		return len == MESSAGE_INITIATION_LEN;
	case MESSAGE_HANDSHAKE_RESPONSE:
		return len == MESSAGE_RESPONSE_LEN;
	case MESSAGE_HANDSHAKE_COOKIE:
		return len == MESSAGE_COOKIE_LEN;
	case MESSAGE_DATA:
		return len >= MESSAGE_DATA_MIN_LEN && len <= MESSAGE_MAX_LEN;
	default:
		return false;
	}
}

enum message_type message_determine_type(const uint8_t *buf, size_t len)
{
	struct cursor c = cursor_init(buf, len);
	uint8_t type = MESSAGE_INVALID;

	/* Length is the cheapest check that rejects most garbage. */
	if (len < MESSAGE_HEADER_LEN || len > MESSAGE_MAX_LEN || !rd_u8(&c, &type))
		return MESSAGE_INVALID;
	if (!length_fits((enum message_type)type, len))
		return MESSAGE_INVALID;
	c = cursor_init(buf, len);
	if (!rd_header(&c, (enum message_type)type))
		return MESSAGE_INVALID;
	return (enum message_type)type;
}

static bool rd_macs(struct cursor *c, struct message_macs *macs)
{
	return rd_bytes(c, macs->mac1, COOKIE_LEN) && rd_bytes(c, macs->mac2, COOKIE_LEN);
}

static bool wr_macs(struct wcursor *w, const struct message_macs *macs)
{
	return wr_bytes(w, macs->mac1, COOKIE_LEN) && wr_bytes(w, macs->mac2, COOKIE_LEN);
}

bool message_decode_initiation(const uint8_t *buf, size_t len,
			       struct message_handshake_initiation *m)
{
	struct cursor c = cursor_init(buf, len);

	if (len != MESSAGE_INITIATION_LEN || !rd_header(&c, MESSAGE_HANDSHAKE_INITIATION))
		return false;
	rd_u32le(&c, &m->sender_index);
	rd_bytes(&c, m->unencrypted_ephemeral, sizeof(m->unencrypted_ephemeral));
	rd_bytes(&c, m->encrypted_static, sizeof(m->encrypted_static));
	rd_bytes(&c, m->encrypted_timestamp, sizeof(m->encrypted_timestamp));
	rd_macs(&c, &m->macs);
	return c.ok && c.left == 0;
}

bool message_decode_response(const uint8_t *buf, size_t len,
			     struct message_handshake_response *m)
{
	struct cursor c = cursor_init(buf, len);

	if (len != MESSAGE_RESPONSE_LEN || !rd_header(&c, MESSAGE_HANDSHAKE_RESPONSE))
		return false;
	rd_u32le(&c, &m->sender_index);
	rd_u32le(&c, &m->receiver_index);
	rd_bytes(&c, m->unencrypted_ephemeral, sizeof(m->unencrypted_ephemeral));
	rd_bytes(&c, m->encrypted_nothing, sizeof(m->encrypted_nothing));
	rd_macs(&c, &m->macs);
	return c.ok && c.left == 0;
}

bool message_decode_cookie(const uint8_t *buf, size_t len,
			   struct message_handshake_cookie *m)
{
	struct cursor c = cursor_init(buf, len);

	if (len != MESSAGE_COOKIE_LEN || !rd_header(&c, MESSAGE_HANDSHAKE_COOKIE))
		return false;
	rd_u32le(&c, &m->receiver_index);
	rd_bytes(&c, m->nonce, sizeof(m->nonce));
	rd_bytes(&c, m->encrypted_cookie, sizeof(m->encrypted_cookie));
	return c.ok && c.left == 0;
}

bool message_decode_data(const uint8_t *buf, size_t len, struct message_data_header *h,
			 const uint8_t **payload, size_t *payload_len)
{
	struct cursor c = cursor_init(buf, len);
	const uint8_t *p;
	size_t plen;

	if (!length_fits(MESSAGE_DATA, len) || !rd_header(&c, MESSAGE_DATA))
		return false;
	rd_u32le(&c, &h->key_idx);
	rd_u64le(&c, &h->counter);
	plen = c.left;
	p = rd_ptr(&c, plen);
	if (!c.ok || plen < NOISE_AUTHTAG_LEN)
		return false;
	*payload = p;
	*payload_len = plen;
	return true;
}

size_t message_encode_initiation(uint8_t *buf, size_t cap,
				 const struct message_handshake_initiation *m)
{
	struct wcursor w = wcursor_init(buf, cap);

	if (cap < MESSAGE_INITIATION_LEN)
		return 0;
	wr_header(&w, MESSAGE_HANDSHAKE_INITIATION);
	wr_u32le(&w, m->sender_index);
	wr_bytes(&w, m->unencrypted_ephemeral, sizeof(m->unencrypted_ephemeral));
	wr_bytes(&w, m->encrypted_static, sizeof(m->encrypted_static));
	wr_bytes(&w, m->encrypted_timestamp, sizeof(m->encrypted_timestamp));
	wr_macs(&w, &m->macs);
	return w.ok ? MESSAGE_INITIATION_LEN : 0;
}

size_t message_encode_response(uint8_t *buf, size_t cap,
			       const struct message_handshake_response *m)
{
	struct wcursor w = wcursor_init(buf, cap);

	if (cap < MESSAGE_RESPONSE_LEN)
		return 0;
	wr_header(&w, MESSAGE_HANDSHAKE_RESPONSE);
	wr_u32le(&w, m->sender_index);
	wr_u32le(&w, m->receiver_index);
	wr_bytes(&w, m->unencrypted_ephemeral, sizeof(m->unencrypted_ephemeral));
	wr_bytes(&w, m->encrypted_nothing, sizeof(m->encrypted_nothing));
	wr_macs(&w, &m->macs);
	return w.ok ? MESSAGE_RESPONSE_LEN : 0;
}

size_t message_encode_cookie(uint8_t *buf, size_t cap,
			     const struct message_handshake_cookie *m)
{
	struct wcursor w = wcursor_init(buf, cap);

	if (cap < MESSAGE_COOKIE_LEN)
		return 0;
	wr_header(&w, MESSAGE_HANDSHAKE_COOKIE);
	wr_u32le(&w, m->receiver_index);
	wr_bytes(&w, m->nonce, sizeof(m->nonce));
	wr_bytes(&w, m->encrypted_cookie, sizeof(m->encrypted_cookie));
	return w.ok ? MESSAGE_COOKIE_LEN : 0;
}

size_t message_encode_data_header(uint8_t *buf, size_t cap,
				  const struct message_data_header *h)
{
	struct wcursor w = wcursor_init(buf, cap);

	if (cap < MESSAGE_DATA_HEADER_LEN)
		return 0;
	wr_header(&w, MESSAGE_DATA);
	wr_u32le(&w, h->key_idx);
	wr_u64le(&w, h->counter);
	return w.ok ? MESSAGE_DATA_HEADER_LEN : 0;
}

/* test_messages: encode/decode round trips of every WireGuard message, and
 * rejection of every truncation, extension, wrong type and nonzero
 * reserved byte. */
#include <stdint.h>

#include "test.h"
#include "wg/messages.h"

static void fill(void *p, size_t n, uint8_t seed)
{
	uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)(seed + i * 13);
}

static struct message_handshake_initiation sample_initiation(void)
{
	struct message_handshake_initiation m;

	fill(&m, sizeof(m), 1);
	m.sender_index = 0x11223344;
	return m;
}

static void test_sizes(void)
{
	CHECK(MESSAGE_INITIATION_LEN == 148);
	CHECK(MESSAGE_RESPONSE_LEN == 92);
	CHECK(MESSAGE_COOKIE_LEN == 64);
	CHECK(MESSAGE_DATA_MIN_LEN == 32);
}

static void test_initiation_round_trip(void)
{
	struct message_handshake_initiation m = sample_initiation(), d;
	uint8_t buf[200];

	CHECK(message_encode_initiation(buf, sizeof(buf), &m) == MESSAGE_INITIATION_LEN);
	/* Header and little-endian index at their wire offsets. */
	CHECK(buf[0] == 1 && buf[1] == 0 && buf[2] == 0 && buf[3] == 0);
	CHECK(buf[4] == 0x44 && buf[7] == 0x11);
	CHECK_MEM(buf + 8, m.unencrypted_ephemeral, 32);
	CHECK_MEM(buf + 116, m.macs.mac1, 16);
	CHECK_MEM(buf + 132, m.macs.mac2, 16);
	CHECK(message_determine_type(buf, MESSAGE_INITIATION_LEN) == MESSAGE_HANDSHAKE_INITIATION);
	CHECK(message_decode_initiation(buf, MESSAGE_INITIATION_LEN, &d));
	CHECK(d.sender_index == m.sender_index);
	CHECK_MEM(d.unencrypted_ephemeral, m.unencrypted_ephemeral, 32);
	CHECK_MEM(d.encrypted_static, m.encrypted_static, sizeof(d.encrypted_static));
	CHECK_MEM(d.encrypted_timestamp, m.encrypted_timestamp, sizeof(d.encrypted_timestamp));
	CHECK_MEM(&d.macs, &m.macs, sizeof(d.macs));
	CHECK(message_encode_initiation(buf, MESSAGE_INITIATION_LEN - 1, &m) == 0);
}

static void test_response_round_trip(void)
{
	struct message_handshake_response m, d;
	uint8_t buf[100];

	fill(&m, sizeof(m), 2);
	m.sender_index = 0xdeadbeef;
	m.receiver_index = 0x01020304;
	CHECK(message_encode_response(buf, sizeof(buf), &m) == MESSAGE_RESPONSE_LEN);
	CHECK(buf[0] == 2 && buf[8] == 0x04 && buf[11] == 0x01);
	CHECK(message_determine_type(buf, MESSAGE_RESPONSE_LEN) == MESSAGE_HANDSHAKE_RESPONSE);
	CHECK(message_decode_response(buf, MESSAGE_RESPONSE_LEN, &d));
	CHECK(d.sender_index == m.sender_index && d.receiver_index == m.receiver_index);
	CHECK_MEM(d.unencrypted_ephemeral, m.unencrypted_ephemeral, 32);
	CHECK_MEM(d.encrypted_nothing, m.encrypted_nothing, 16);
	CHECK_MEM(&d.macs, &m.macs, sizeof(d.macs));
	CHECK(message_encode_response(buf, MESSAGE_RESPONSE_LEN - 1, &m) == 0);
}

static void test_cookie_round_trip(void)
{
	struct message_handshake_cookie m, d;
	uint8_t buf[64];

	fill(&m, sizeof(m), 3);
	m.receiver_index = 7;
	CHECK(message_encode_cookie(buf, sizeof(buf), &m) == MESSAGE_COOKIE_LEN);
	CHECK(message_determine_type(buf, MESSAGE_COOKIE_LEN) == MESSAGE_HANDSHAKE_COOKIE);
	CHECK(message_decode_cookie(buf, MESSAGE_COOKIE_LEN, &d));
	CHECK(d.receiver_index == 7);
	CHECK_MEM(d.nonce, m.nonce, sizeof(d.nonce));
	CHECK_MEM(d.encrypted_cookie, m.encrypted_cookie, sizeof(d.encrypted_cookie));
	CHECK(message_encode_cookie(buf, MESSAGE_COOKIE_LEN - 1, &m) == 0);
}

static void test_data_round_trip(void)
{
	struct message_data_header h = { .key_idx = 0xa1b2c3d4, .counter = 0x0102030405060708ULL };
	struct message_data_header d;
	static uint8_t buf[MESSAGE_MAX_LEN + 1];
	const uint8_t *payload = NULL;
	size_t plen = 0;

	CHECK(message_encode_data_header(buf, sizeof(buf), &h) == MESSAGE_DATA_HEADER_LEN);
	CHECK(buf[0] == 4 && buf[4] == 0xd4 && buf[8] == 0x08 && buf[15] == 0x01);
	fill(buf + 16, 48, 9);
	CHECK(message_determine_type(buf, 64) == MESSAGE_DATA);
	CHECK(message_decode_data(buf, 64, &d, &payload, &plen));
	CHECK(d.key_idx == h.key_idx && d.counter == h.counter);
	CHECK(payload == buf + 16 && plen == 48);
	/* Bounds: a bare keepalive is the shortest, MESSAGE_MAX_LEN the longest. */
	CHECK(message_determine_type(buf, MESSAGE_DATA_MIN_LEN) == MESSAGE_DATA);
	CHECK(message_decode_data(buf, MESSAGE_DATA_MIN_LEN, &d, &payload, &plen) && plen == 16);
	CHECK(message_determine_type(buf, MESSAGE_DATA_MIN_LEN - 1) == MESSAGE_INVALID);
	CHECK(!message_decode_data(buf, MESSAGE_DATA_MIN_LEN - 1, &d, &payload, &plen));
	CHECK(message_determine_type(buf, MESSAGE_MAX_LEN) == MESSAGE_DATA);
	CHECK(message_determine_type(buf, MESSAGE_MAX_LEN + 1) == MESSAGE_INVALID);
	CHECK(!message_decode_data(buf, MESSAGE_MAX_LEN + 1, &d, &payload, &plen));
	CHECK(message_encode_data_header(buf, MESSAGE_DATA_HEADER_LEN - 1, &h) == 0);
}

/* Every length but the exact one is rejected, by the classifier and by the
 * decoder, for each handshake type. */
static void test_handshake_lengths(void)
{
	struct message_handshake_initiation m = sample_initiation(), di;
	struct message_handshake_response dr;
	struct message_handshake_cookie dc;
	uint8_t buf[256] = { 0 };

	message_encode_initiation(buf, sizeof(buf), &m);
	for (size_t len = 0; len < sizeof(buf); len++) {
		bool exact = len == MESSAGE_INITIATION_LEN;

		CHECK((message_determine_type(buf, len) == MESSAGE_HANDSHAKE_INITIATION) == exact);
		CHECK(message_decode_initiation(buf, len, &di) == exact);
	}
	for (uint8_t type = 2; type <= 3; type++) {
		size_t want = type == 2 ? MESSAGE_RESPONSE_LEN : MESSAGE_COOKIE_LEN;

		buf[0] = type;
		for (size_t len = 0; len < sizeof(buf); len++) {
			CHECK((message_determine_type(buf, len) != MESSAGE_INVALID) == (len == want));
			if (type == 2)
				CHECK(message_decode_response(buf, len, &dr) == (len == want));
			else
				CHECK(message_decode_cookie(buf, len, &dc) == (len == want));
		}
	}
}

static void test_reserved_and_type(void)
{
	struct message_handshake_initiation m = sample_initiation(), d;
	uint8_t buf[MESSAGE_INITIATION_LEN], data[32] = { 4, 0, 0, 1 };
	struct message_data_header h;
	const uint8_t *p;
	size_t plen;

	message_encode_initiation(buf, sizeof(buf), &m);
	for (int i = 1; i < 4; i++) {
		buf[i] = 0x80;
		CHECK(message_determine_type(buf, sizeof(buf)) == MESSAGE_INVALID);
		CHECK(!message_decode_initiation(buf, sizeof(buf), &d));
		buf[i] = 0;
	}
	/* 148 bytes of type 4 are a valid data message; no other type fits. */
	for (int t = 0; t < 256; t++) {
		buf[0] = (uint8_t)t;
		if (t != 1)
			CHECK(!message_decode_initiation(buf, sizeof(buf), &d));
		if (t != 1 && t != 4)
			CHECK(message_determine_type(buf, sizeof(buf)) == MESSAGE_INVALID);
	}
	/* A data message with a reserved bit set is no data message. */
	CHECK(message_determine_type(data, sizeof(data)) == MESSAGE_INVALID);
	CHECK(!message_decode_data(data, sizeof(data), &h, &p, &plen));
	CHECK(message_determine_type(NULL, 0) == MESSAGE_INVALID);
}

/* Decoders refuse messages of another type even at a matching length. */
static void test_decoder_type_mismatch(void)
{
	struct message_handshake_cookie c;
	struct message_data_header h;
	uint8_t buf[64] = { 4 };
	const uint8_t *p;
	size_t plen;

	CHECK(message_determine_type(buf, 64) == MESSAGE_DATA);
	CHECK(!message_decode_cookie(buf, 64, &c));
	buf[0] = 3;
	CHECK(message_determine_type(buf, 64) == MESSAGE_HANDSHAKE_COOKIE);
	CHECK(!message_decode_data(buf, 64, &h, &p, &plen));
}

static void test_mac_offsets(void)
{
	CHECK(message_mac1_offset(MESSAGE_INITIATION_LEN) == 116);
	CHECK(message_mac2_offset(MESSAGE_INITIATION_LEN) == 132);
	CHECK(message_mac1_offset(MESSAGE_RESPONSE_LEN) == 60);
	CHECK(message_mac2_offset(MESSAGE_RESPONSE_LEN) == 76);
}

TEST_MAIN("messages",
	  TEST(test_sizes),
	  TEST(test_initiation_round_trip),
	  TEST(test_response_round_trip),
	  TEST(test_cookie_round_trip),
	  TEST(test_data_round_trip),
	  TEST(test_handshake_lengths),
	  TEST(test_reserved_and_type),
	  TEST(test_decoder_type_mismatch),
	  TEST(test_mac_offsets))

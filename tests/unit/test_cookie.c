/* test_cookie: MAC1/MAC2 on handshake messages and the cookie reply round
 * trip between a peer (struct cookie) and a device under load (struct
 * cookie_checker), with time injected to test cookie and secret expiry. */
#include <stdint.h>

#include "crypto/crypto.h"
#include "test.h"
#include "wg/cookie.h"
#include "wg/endpoint.h"

#define T0 SECONDS(5000)

/* The device (responder) and one peer that sends it handshake messages. */
struct setup {
	struct cookie_checker checker;
	struct cookie peer;		/* the sender's view of the device */
	uint8_t device_pub[32];
	uint8_t msg[MESSAGE_INITIATION_LEN];
	uint8_t src[18];
	size_t srclen;
};

static void setup_init(struct setup *s)
{
	union wg_sockaddr a;

	memset(s, 0, sizeof(*s));
	crypto_random(s->device_pub, 32);
	cookie_checker_init(&s->checker);
	cookie_checker_precompute_device_keys(&s->checker, s->device_pub);
	cookie_init(&s->peer);
	cookie_precompute_peer_keys(&s->peer, s->device_pub);
	crypto_random(s->msg, sizeof(s->msg));
	CHECK(wg_sockaddr_parse("198.18.0.7:40000", &a));
	s->srclen = wg_sockaddr_cookie_bytes(&a, s->src);
	CHECK(s->srclen == 6);
}

static enum cookie_mac_state validate(struct setup *s, bool under_load, monotime_ns now)
{
	return cookie_validate_packet(&s->checker, s->msg, sizeof(s->msg), s->src, s->srclen,
				      under_load, now);
}

/* The device answers s->msg with a cookie reply; the peer consumes it. */
static bool cookie_round(struct setup *s, monotime_ns now)
{
	struct message_handshake_cookie reply, decoded;
	uint8_t wire[MESSAGE_COOKIE_LEN];

	cookie_message_create(&reply, s->msg, sizeof(s->msg), 0x55, &s->checker, s->src,
			      s->srclen, now);
	CHECK(reply.receiver_index == 0x55);
	CHECK(message_encode_cookie(wire, sizeof(wire), &reply) == sizeof(wire));
	CHECK(message_decode_cookie(wire, sizeof(wire), &decoded));
	return cookie_message_consume(&decoded, &s->peer, now);
}

static void test_init(void)
{
	CHECK(crypto_init());
}

static void test_mac1(void)
{
	struct setup s;
	struct cookie_checker other;
	uint8_t zero[16] = { 0 }, other_pub[32];

	setup_init(&s);
	cookie_add_mac_to_packet(s.msg, sizeof(s.msg), &s.peer, T0);
	CHECK(s.peer.have_sent_mac1);
	CHECK_MEM(s.peer.last_mac1_sent, s.msg + 116, 16);
	CHECK_MEM(s.msg + 132, zero, 16);	/* no cookie yet, so no MAC2 */
	CHECK(validate(&s, false, T0) == VALID_MAC_BUT_NO_COOKIE);

	s.msg[10] ^= 1;				/* body covered by MAC1 */
	CHECK(validate(&s, false, T0) == INVALID_MAC);
	s.msg[10] ^= 1;
	s.msg[120] ^= 1;			/* MAC1 itself */
	CHECK(validate(&s, false, T0) == INVALID_MAC);
	s.msg[120] ^= 1;
	s.msg[140] ^= 1;			/* MAC2 is not covered by MAC1 */
	CHECK(validate(&s, false, T0) == VALID_MAC_BUT_NO_COOKIE);

	/* Another device's key does not verify it. */
	crypto_random(other_pub, 32);
	cookie_checker_init(&other);
	cookie_checker_precompute_device_keys(&other, other_pub);
	CHECK(cookie_validate_packet(&other, s.msg, sizeof(s.msg), s.src, s.srclen, false,
				     T0) == INVALID_MAC);
	/* Too short to carry MACs at all. */
	CHECK(cookie_validate_packet(&s.checker, s.msg, 31, s.src, s.srclen, false, T0) ==
	      INVALID_MAC);
	CHECK(cookie_validate_packet(&s.checker, s.msg, 0, s.src, s.srclen, true, T0) ==
	      INVALID_MAC);
}

static void test_cookie_reply_enables_mac2(void)
{
	struct setup s;
	union wg_sockaddr elsewhere;
	uint8_t other_src[18];
	size_t other_len;

	setup_init(&s);
	cookie_add_mac_to_packet(s.msg, sizeof(s.msg), &s.peer, T0);
	/* Under load, MAC1 alone is not enough. */
	CHECK(validate(&s, true, T0) == VALID_MAC_BUT_NO_COOKIE);
	CHECK(cookie_round(&s, T0));
	CHECK(s.peer.is_valid && !s.peer.have_sent_mac1);
	/* The peer's next message carries MAC2, which the device accepts. */
	crypto_random(s.msg, 100);
	cookie_add_mac_to_packet(s.msg, sizeof(s.msg), &s.peer, T0 + SECONDS(1));
	CHECK(validate(&s, true, T0 + SECONDS(1)) == VALID_MAC_WITH_COOKIE);
	CHECK(validate(&s, false, T0 + SECONDS(1)) == VALID_MAC_BUT_NO_COOKIE);
	/* The cookie is bound to the source address and port. */
	CHECK(wg_sockaddr_parse("198.18.0.7:40001", &elsewhere));
	other_len = wg_sockaddr_cookie_bytes(&elsewhere, other_src);
	CHECK(cookie_validate_packet(&s.checker, s.msg, sizeof(s.msg), other_src, other_len,
				     true, T0 + SECONDS(1)) == VALID_MAC_BUT_NO_COOKIE);
	/* A tampered MAC2 fails. */
	s.msg[135] ^= 1;
	CHECK(validate(&s, true, T0 + SECONDS(1)) == VALID_MAC_BUT_NO_COOKIE);
}

static void test_cookie_expiry(void)
{
	struct setup s;
	uint8_t zero[16] = { 0 };
	monotime_ns used = COOKIE_SECRET_MAX_AGE_S - COOKIE_SECRET_LATENCY_S;

	setup_init(&s);
	cookie_add_mac_to_packet(s.msg, sizeof(s.msg), &s.peer, T0);
	CHECK(cookie_round(&s, T0));
	/* Used until 115 s after it arrived... */
	cookie_add_mac_to_packet(s.msg, sizeof(s.msg), &s.peer, T0 + SECONDS(used) - 1);
	CHECK(memcmp(s.msg + 132, zero, 16) != 0);
	CHECK(validate(&s, true, T0 + SECONDS(used) - 1) == VALID_MAC_WITH_COOKIE);
	/* ...then no longer sent. */
	cookie_add_mac_to_packet(s.msg, sizeof(s.msg), &s.peer, T0 + SECONDS(used));
	CHECK_MEM(s.msg + 132, zero, 16);
	CHECK(validate(&s, true, T0 + SECONDS(used)) == VALID_MAC_BUT_NO_COOKIE);
}

/* The device's secret changes every two minutes: a MAC2 made with a cookie
 * from the old secret stops verifying. */
static void test_secret_rotation(void)
{
	struct setup s;

	setup_init(&s);
	cookie_add_mac_to_packet(s.msg, sizeof(s.msg), &s.peer, T0);
	CHECK(cookie_round(&s, T0));
	cookie_add_mac_to_packet(s.msg, sizeof(s.msg), &s.peer, T0 + SECONDS(100));
	CHECK(validate(&s, true, T0 + SECONDS(119)) == VALID_MAC_WITH_COOKIE);
	CHECK(validate(&s, true, T0 + SECONDS(COOKIE_SECRET_MAX_AGE_S)) ==
	      VALID_MAC_BUT_NO_COOKIE);
	CHECK(s.checker.secret_birthdate == T0 + SECONDS(COOKIE_SECRET_MAX_AGE_S));
}

static void test_cookie_reply_rejected(void)
{
	struct message_handshake_cookie reply;
	uint8_t answered[MESSAGE_INITIATION_LEN];
	struct setup s;

	setup_init(&s);
	/* Nothing sent yet: no reply can be for us. */
	CHECK(!cookie_round(&s, T0));
	cookie_add_mac_to_packet(s.msg, sizeof(s.msg), &s.peer, T0);
	/* A reply to another message (so another MAC1 as AD) is refused. */
	crypto_random(answered, sizeof(answered));
	cookie_message_create(&reply, answered, sizeof(answered), 1, &s.checker, s.src,
			      s.srclen, T0);
	CHECK(!cookie_message_consume(&reply, &s.peer, T0));
	/* So is a tampered reply to the right message. */
	cookie_message_create(&reply, s.msg, sizeof(s.msg), 1, &s.checker, s.src, s.srclen, T0);
	reply.encrypted_cookie[3] ^= 1;
	CHECK(!cookie_message_consume(&reply, &s.peer, T0));
	reply.encrypted_cookie[3] ^= 1;
	reply.nonce[0] ^= 1;
	CHECK(!cookie_message_consume(&reply, &s.peer, T0));
	reply.nonce[0] ^= 1;
	CHECK(!s.peer.is_valid);
	CHECK(cookie_message_consume(&reply, &s.peer, T0));
	/* One reply per MAC1: the same reply again finds nothing to open. */
	CHECK(!cookie_message_consume(&reply, &s.peer, T0));
}

/* Without an identity the device's keys are zero and nothing verifies. */
static void test_no_identity(void)
{
	struct setup s;
	uint8_t zero[32] = { 0 };

	setup_init(&s);
	cookie_add_mac_to_packet(s.msg, sizeof(s.msg), &s.peer, T0);
	cookie_checker_precompute_device_keys(&s.checker, zero);
	CHECK(crypto_is_zero(s.checker.message_mac1_key, 32));
	CHECK(validate(&s, false, T0) == INVALID_MAC);
}

/* Cookie bytes: address then port, big endian, for both families. */
static void test_cookie_bytes(void)
{
	union wg_sockaddr a;
	uint8_t b[18];

	CHECK(wg_sockaddr_parse("[2001:db8::1]:51820", &a));
	CHECK(wg_sockaddr_cookie_bytes(&a, b) == 18);
	CHECK(b[0] == 0x20 && b[1] == 0x01 && b[15] == 1 && b[16] == 0xca && b[17] == 0x6c);
	CHECK(wg_sockaddr_parse("198.18.1.2:258", &a));
	CHECK(wg_sockaddr_cookie_bytes(&a, b) == 6);
	CHECK(b[0] == 198 && b[3] == 2 && b[4] == 1 && b[5] == 2);
}

TEST_MAIN("cookie",
	  TEST(test_init),
	  TEST(test_mac1),
	  TEST(test_cookie_reply_enables_mac2),
	  TEST(test_cookie_expiry),
	  TEST(test_secret_rotation),
	  TEST(test_cookie_reply_rejected),
	  TEST(test_no_identity),
	  TEST(test_cookie_bytes))

/* test_noise: the IKpsk2 handshake between our own initiator and responder
 * with fixed keys, every rejection the responder and initiator must make,
 * and a known-answer replay of a handshake captured from wireguard-go
 * (tests/fixtures/wireguard_go_handshake.h, made by tests/tools/wg_capture.sh). */
#include <stdint.h>

#include "crypto/crypto.h"
#include "test.h"
#include "wg/cookie.h"
#include "wg/noise.h"
#include "../fixtures/wireguard_go_handshake.h"

#define NOW SECONDS(1000)

/* Two peers: A initiates, B responds. */
struct pair {
	struct noise_static_identity a_id, b_id;
	struct noise_handshake a_hs;	/* A's handshake with B */
	struct noise_handshake b_hs;	/* B's handshake with A */
	uint8_t psk[32];
	uint8_t ts[NOISE_TIMESTAMP_LEN];
	uint8_t a_eph[32], b_eph[32];
};

static struct noise_handshake *lookup_static(void *ctx, const uint8_t pub[32])
{
	struct pair *p = ctx;

	return memcmp(pub, p->a_id.static_public, 32) == 0 ? &p->b_hs : NULL;
}

static struct noise_handshake *lookup_index(void *ctx, uint32_t index)
{
	struct pair *p = ctx;

	return index == p->a_hs.local_index ? &p->a_hs : NULL;
}

static void fill(uint8_t *b, size_t n, uint8_t seed)
{
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)(seed + 3 * i);
}

static void pair_setup(struct pair *p, const uint8_t *b_psk)
{
	uint8_t priv[32];

	memset(p, 0, sizeof(*p));
	fill(priv, 32, 0x10);
	noise_set_static_identity_private_key(&p->a_id, priv);
	fill(priv, 32, 0x20);
	noise_set_static_identity_private_key(&p->b_id, priv);
	fill(p->psk, 32, 0x30);
	fill(p->a_eph, 32, 0x40);
	fill(p->b_eph, 32, 0x50);
	noise_tai64n(p->ts, (struct timespec){ .tv_sec = 1700000000 });
	noise_handshake_init(&p->a_hs, &p->a_id, p->b_id.static_public, p->psk, p);
	noise_handshake_init(&p->b_hs, &p->b_id, p->a_id.static_public,
			     b_psk ? b_psk : p->psk, p);
	p->a_hs.local_index = 0x1111;
	p->b_hs.local_index = 0x2222;
}

/* Through the wire format and back, as the real receive path does. */
static void via_wire_init(struct message_handshake_initiation *m)
{
	uint8_t buf[MESSAGE_INITIATION_LEN];

	CHECK(message_encode_initiation(buf, sizeof(buf), m) == sizeof(buf));
	CHECK(message_decode_initiation(buf, sizeof(buf), m));
}

static void via_wire_resp(struct message_handshake_response *m)
{
	uint8_t buf[MESSAGE_RESPONSE_LEN];

	CHECK(message_encode_response(buf, sizeof(buf), m) == sizeof(buf));
	CHECK(message_decode_response(buf, sizeof(buf), m));
}

static bool run_initiation(struct pair *p, struct message_handshake_initiation *init,
			   monotime_ns now)
{
	if (!noise_handshake_create_initiation(init, &p->a_hs, p->ts, p->a_eph))
		return false;
	via_wire_init(init);
	return noise_handshake_consume_initiation(init, &p->b_id, lookup_static, p, now) ==
	       &p->b_hs;
}

static bool run_response(struct pair *p, struct message_handshake_response *resp)
{
	if (!noise_handshake_create_response(resp, &p->b_hs, p->b_eph))
		return false;
	via_wire_resp(resp);
	return noise_handshake_consume_response(resp, &p->a_id, lookup_index, p) == &p->a_hs;
}

static void test_init(void)
{
	CHECK(crypto_init());
}

static void test_full_handshake(void)
{
	struct message_handshake_initiation init;
	struct message_handshake_response resp;
	struct noise_keypair akp, bkp;
	uint8_t zero[32] = { 0 }, pkt[64], out[64];
	struct pair p;

	pair_setup(&p, NULL);
	CHECK(run_initiation(&p, &init, NOW));
	CHECK(init.sender_index == 0x1111);
	CHECK(p.a_hs.state == HANDSHAKE_CREATED_INITIATION);
	CHECK(p.b_hs.state == HANDSHAKE_CONSUMED_INITIATION);
	CHECK(p.b_hs.remote_index == 0x1111);
	CHECK_MEM(p.b_hs.latest_timestamp, p.ts, NOISE_TIMESTAMP_LEN);
	CHECK_MEM(p.a_hs.hash, p.b_hs.hash, 32);
	CHECK_MEM(p.a_hs.chaining_key, p.b_hs.chaining_key, 32);
	CHECK(run_response(&p, &resp));
	CHECK(resp.sender_index == 0x2222 && resp.receiver_index == 0x1111);
	CHECK(p.a_hs.state == HANDSHAKE_CONSUMED_RESPONSE);
	CHECK(p.b_hs.state == HANDSHAKE_CREATED_RESPONSE);

	CHECK(noise_handshake_begin_session(&p.a_hs, &akp, NOW + 1));
	CHECK(noise_handshake_begin_session(&p.b_hs, &bkp, NOW + 2));
	CHECK(akp.i_am_the_initiator && !bkp.i_am_the_initiator);
	CHECK(akp.local_index == 0x1111 && akp.remote_index == 0x2222);
	CHECK(bkp.local_index == 0x2222 && bkp.remote_index == 0x1111);
	CHECK_MEM(akp.sending.key, bkp.receiving.key, 32);
	CHECK_MEM(akp.receiving.key, bkp.sending.key, 32);
	CHECK(memcmp(akp.sending.key, akp.receiving.key, 32) != 0);
	CHECK(akp.sending.is_valid && akp.receiving.is_valid && akp.sending.birthdate == NOW + 1);
	CHECK(akp.sending_counter == 0 && akp.owner == &p);
	/* Handshakes are zeroed once the session began. */
	CHECK(p.a_hs.state == HANDSHAKE_ZEROED && p.b_hs.state == HANDSHAKE_ZEROED);
	CHECK_MEM(p.a_hs.chaining_key, zero, 32);
	CHECK_MEM(p.b_hs.ephemeral_private, zero, 32);

	/* Transport both ways. */
	memcpy(pkt, "hello from A, the initiator.....", 32);
	CHECK(aead_seal(pkt, pkt, 32, NULL, 0, 0, akp.sending.key));
	CHECK(aead_open(out, pkt, 48, NULL, 0, 0, bkp.receiving.key));
	CHECK_MEM(out, "hello from A, the initiator.....", 32);
	CHECK(aead_seal(pkt, (const uint8_t *)"reply", 5, NULL, 0, 1, bkp.sending.key));
	CHECK(aead_open(out, pkt, 21, NULL, 0, 1, akp.receiving.key));
	CHECK(!aead_open(out, pkt, 21, NULL, 0, 1, akp.sending.key));
	noise_keypair_wipe(&akp);
	CHECK(crypto_is_zero(&akp, sizeof(akp)));
}

static void test_replayed_initiation(void)
{
	struct message_handshake_initiation init;
	struct pair p;

	pair_setup(&p, NULL);
	CHECK(run_initiation(&p, &init, NOW));
	/* The same message (same timestamp) a second later: a replay. */
	CHECK(!noise_handshake_consume_initiation(&init, &p.b_id, lookup_static, &p,
						  NOW + SECONDS(1)));
	/* A fresh initiation with the same timestamp is just as old. */
	CHECK(!run_initiation(&p, &init, NOW + SECONDS(2)));
	/* An older timestamp too. */
	noise_tai64n(p.ts, (struct timespec){ .tv_sec = 1600000000 });
	CHECK(!run_initiation(&p, &init, NOW + SECONDS(3)));
	/* A newer one is accepted. */
	noise_tai64n(p.ts, (struct timespec){ .tv_sec = 1700000001 });
	CHECK(run_initiation(&p, &init, NOW + SECONDS(4)));
}

static void test_initiation_flood(void)
{
	struct message_handshake_initiation init;
	struct pair p;

	pair_setup(&p, NULL);
	CHECK(run_initiation(&p, &init, NOW));
	/* Newer timestamp but only 10ms later: more than 50 per second. */
	noise_tai64n(p.ts, (struct timespec){ .tv_sec = 1700000001 });
	CHECK(!run_initiation(&p, &init, NOW + MSECONDS(10)));
	CHECK(p.b_hs.last_initiation_consumption == NOW);
	/* 20ms after the last accepted one it is fine. */
	CHECK(run_initiation(&p, &init, NOW + MSECONDS(20)));
	CHECK(p.b_hs.last_initiation_consumption == NOW + MSECONDS(20));
}

static void test_unknown_static(void)
{
	struct message_handshake_initiation init;
	struct noise_static_identity c_id = { 0 };
	struct noise_handshake c_hs;
	struct pair p;
	uint8_t priv[32];

	pair_setup(&p, NULL);
	/* A third party who knows B's public key but is not B's peer. */
	fill(priv, 32, 0x77);
	noise_set_static_identity_private_key(&c_id, priv);
	noise_handshake_init(&c_hs, &c_id, p.b_id.static_public, NULL, NULL);
	CHECK(noise_handshake_create_initiation(&init, &c_hs, p.ts, p.a_eph));
	CHECK(!noise_handshake_consume_initiation(&init, &p.b_id, lookup_static, &p, NOW));
	CHECK(p.b_hs.state == HANDSHAKE_ZEROED);
}

static void test_tampered_initiation(void)
{
	struct message_handshake_initiation init, bad;
	struct pair p;

	pair_setup(&p, NULL);
	CHECK(noise_handshake_create_initiation(&init, &p.a_hs, p.ts, p.a_eph));
	for (size_t i = 0; i < 3; i++) {
		bad = init;
		if (i == 0)
			bad.unencrypted_ephemeral[5] ^= 1;
		else if (i == 1)
			bad.encrypted_static[40] ^= 1;
		else
			bad.encrypted_timestamp[3] ^= 1;
		CHECK(!noise_handshake_consume_initiation(&bad, &p.b_id, lookup_static, &p, NOW));
		CHECK(p.b_hs.state == HANDSHAKE_ZEROED);
		CHECK(crypto_is_zero(p.b_hs.latest_timestamp, NOISE_TIMESTAMP_LEN));
	}
	/* A responder without an identity consumes nothing. */
	p.b_id.has_identity = false;
	CHECK(!noise_handshake_consume_initiation(&init, &p.b_id, lookup_static, &p, NOW));
	p.b_id.has_identity = true;
	CHECK(noise_handshake_consume_initiation(&init, &p.b_id, lookup_static, &p, NOW));
}

static void test_tampered_response(void)
{
	struct message_handshake_initiation init;
	struct message_handshake_response resp, bad;
	struct pair p;
	uint8_t hash[32];

	pair_setup(&p, NULL);
	CHECK(run_initiation(&p, &init, NOW));
	CHECK(noise_handshake_create_response(&resp, &p.b_hs, p.b_eph));
	memcpy(hash, p.a_hs.hash, 32);
	bad = resp;
	bad.unencrypted_ephemeral[0] ^= 1;
	CHECK(!noise_handshake_consume_response(&bad, &p.a_id, lookup_index, &p));
	bad = resp;
	bad.encrypted_nothing[15] ^= 1;
	CHECK(!noise_handshake_consume_response(&bad, &p.a_id, lookup_index, &p));
	/* Nothing was written on failure; the genuine response still works. */
	CHECK(p.a_hs.state == HANDSHAKE_CREATED_INITIATION);
	CHECK_MEM(p.a_hs.hash, hash, 32);
	CHECK(noise_handshake_consume_response(&resp, &p.a_id, lookup_index, &p));
	/* ... once: the handshake has moved on. */
	CHECK(!noise_handshake_consume_response(&resp, &p.a_id, lookup_index, &p));
}

static void test_wrong_psk(void)
{
	struct message_handshake_initiation init;
	struct message_handshake_response resp;
	uint8_t other_psk[32];
	struct pair p;

	fill(other_psk, 32, 0x99);
	pair_setup(&p, other_psk);
	/* The PSK enters only in the response, so the initiation passes... */
	CHECK(run_initiation(&p, &init, NOW));
	/* ...and the response fails to authenticate at the initiator. */
	CHECK(!run_response(&p, &resp));
	CHECK(p.a_hs.state == HANDSHAKE_CREATED_INITIATION);
}

static void test_response_unknown_index(void)
{
	struct message_handshake_initiation init;
	struct message_handshake_response resp;
	struct pair p;

	pair_setup(&p, NULL);
	CHECK(run_initiation(&p, &init, NOW));
	CHECK(noise_handshake_create_response(&resp, &p.b_hs, p.b_eph));
	resp.receiver_index ^= 0x10000;
	CHECK(!noise_handshake_consume_response(&resp, &p.a_id, lookup_index, &p));
	CHECK(p.a_hs.state == HANDSHAKE_CREATED_INITIATION);
}

static void test_state_machine_misuse(void)
{
	struct message_handshake_initiation init;
	struct message_handshake_response resp;
	struct noise_keypair kp;
	struct pair p;

	pair_setup(&p, NULL);
	CHECK(!noise_handshake_begin_session(&p.a_hs, &kp, NOW));
	CHECK(!noise_handshake_create_response(&resp, &p.b_hs, NULL));
	CHECK(run_initiation(&p, &init, NOW));
	/* Neither side may start a session before the response. */
	CHECK(!noise_handshake_begin_session(&p.a_hs, &kp, NOW));
	CHECK(!noise_handshake_begin_session(&p.b_hs, &kp, NOW));
	/* An initiator cannot answer its own initiation. */
	CHECK(!noise_handshake_create_response(&resp, &p.a_hs, NULL));
	CHECK(run_response(&p, &resp));
	CHECK(noise_handshake_begin_session(&p.a_hs, &kp, NOW));
	/* Only once. */
	CHECK(!noise_handshake_begin_session(&p.a_hs, &kp, NOW));
	/* No identity: no initiation. */
	p.a_id.has_identity = false;
	CHECK(!noise_handshake_create_initiation(&init, &p.a_hs, p.ts, NULL));
	CHECK(p.a_hs.state == HANDSHAKE_ZEROED);
}

static void test_random_ephemerals(void)
{
	struct message_handshake_initiation init, init2;
	struct message_handshake_response resp;
	struct noise_keypair akp, bkp;
	struct pair p;

	pair_setup(&p, NULL);
	CHECK(noise_handshake_create_initiation(&init, &p.a_hs, p.ts, NULL));
	CHECK(noise_handshake_create_initiation(&init2, &p.a_hs, p.ts, NULL));
	CHECK(memcmp(init.unencrypted_ephemeral, init2.unencrypted_ephemeral, 32) != 0);
	CHECK(noise_handshake_consume_initiation(&init2, &p.b_id, lookup_static, &p, NOW));
	CHECK(noise_handshake_create_response(&resp, &p.b_hs, NULL));
	CHECK(noise_handshake_consume_response(&resp, &p.a_id, lookup_index, &p));
	CHECK(noise_handshake_begin_session(&p.a_hs, &akp, NOW));
	CHECK(noise_handshake_begin_session(&p.b_hs, &bkp, NOW));
	CHECK_MEM(akp.sending.key, bkp.receiving.key, 32);
}

/* A peer whose public key is a low-order point cannot be talked to. */
static void test_low_order_peer(void)
{
	struct message_handshake_initiation init;
	struct noise_handshake hs;
	struct pair p;
	uint8_t bad_pub[32] = { 0 };

	pair_setup(&p, NULL);
	noise_handshake_init(&hs, &p.a_id, bad_pub, NULL, NULL);
	CHECK(crypto_is_zero(hs.precomputed_static_static, 32));
	CHECK(!noise_handshake_create_initiation(&init, &hs, p.ts, NULL));
}

static void test_tai64n(void)
{
	uint8_t t[12], want[12];

	/* 2^62 + 10 + 1700000000 = 0x400000006553f10a; 999999999 ns rounds
	 * down to a multiple of 2^24: 989855744 = 0x3b000000. */
	noise_tai64n(t, (struct timespec){ .tv_sec = 1700000000, .tv_nsec = 999999999 });
	test_hex("400000006553f10a3b000000", want, 12);
	CHECK_MEM(t, want, 12);
	noise_tai64n(t, (struct timespec){ .tv_sec = 0, .tv_nsec = (1 << 24) - 1 });
	test_hex("400000000000000a00000000", want, 12);
	CHECK_MEM(t, want, 12);
}

/* The fixture was captured from wireguard-go: we were the initiator with
 * fixed keys, ephemeral and timestamp, so our initiation must come out byte
 * for byte the same, wireguard-go's response must complete our handshake,
 * and its data packet must decrypt to the plaintext it sent. */
struct wggo_ctx {
	struct noise_handshake hs;
};

static struct noise_handshake *wggo_lookup_index(void *ctx, uint32_t index)
{
	struct wggo_ctx *c = ctx;

	return index == c->hs.local_index ? &c->hs : NULL;
}

static void wggo_handshake(struct wggo_ctx *c, struct noise_static_identity *id,
			   struct noise_keypair *kp)
{
	uint8_t priv[32], peer_pub[32], psk[32], eph[32], ts[12], want[148], buf[148];
	uint8_t resp_bytes[92];
	struct message_handshake_initiation init;
	struct message_handshake_response resp;
	struct cookie_checker checker;
	struct cookie ck;

	test_hex(WGGO_OUR_PRIVATE, priv, 32);
	test_hex(WGGO_PEER_PUBLIC, peer_pub, 32);
	test_hex(WGGO_PSK, psk, 32);
	test_hex(WGGO_OUR_EPHEMERAL, eph, 32);
	test_hex(WGGO_TIMESTAMP, ts, 12);
	noise_set_static_identity_private_key(id, priv);
	noise_handshake_init(&c->hs, id, peer_pub, psk, NULL);
	c->hs.local_index = WGGO_OUR_INDEX;
	CHECK(noise_handshake_create_initiation(&init, &c->hs, ts, eph));
	CHECK(message_encode_initiation(buf, sizeof(buf), &init) == sizeof(buf));
	cookie_init(&ck);
	cookie_precompute_peer_keys(&ck, peer_pub);
	cookie_add_mac_to_packet(buf, sizeof(buf), &ck, NOW);
	CHECK(test_hex(WGGO_INITIATION, want, sizeof(want)) == sizeof(want));
	CHECK_MEM(buf, want, sizeof(want));

	CHECK(test_hex(WGGO_RESPONSE, resp_bytes, sizeof(resp_bytes)) == sizeof(resp_bytes));
	CHECK(message_determine_type(resp_bytes, sizeof(resp_bytes)) == MESSAGE_HANDSHAKE_RESPONSE);
	/* wireguard-go's MAC1 over its response checks out under our key. */
	cookie_checker_init(&checker);
	cookie_checker_precompute_device_keys(&checker, id->static_public);
	CHECK(cookie_validate_packet(&checker, resp_bytes, sizeof(resp_bytes), NULL, 0, false,
				     NOW) == VALID_MAC_BUT_NO_COOKIE);
	CHECK(message_decode_response(resp_bytes, sizeof(resp_bytes), &resp));
	CHECK(noise_handshake_consume_response(&resp, id, wggo_lookup_index, c) == &c->hs);
	CHECK(noise_handshake_begin_session(&c->hs, kp, NOW));
}

static void test_wireguard_go_fixture(void)
{
	static uint8_t pkt[2048], plain[2048], want_plain[2048];
	struct noise_static_identity id;
	struct message_data_header h;
	struct noise_keypair kp;
	struct wggo_ctx c;
	const uint8_t *payload;
	size_t len, plen, want_len;

	memset(&kp, 0, sizeof(kp));
	wggo_handshake(&c, &id, &kp);
	CHECK(kp.i_am_the_initiator && kp.remote_index == WGGO_PEER_INDEX);
	len = test_hex(WGGO_DATA, pkt, sizeof(pkt));
	want_len = test_hex(WGGO_DATA_PLAINTEXT, want_plain, sizeof(want_plain));
	CHECK(message_determine_type(pkt, len) == MESSAGE_DATA);
	CHECK(message_decode_data(pkt, len, &h, &payload, &plen));
	CHECK(h.key_idx == WGGO_OUR_INDEX);
	CHECK(aead_open(plain, payload, plen, NULL, 0, h.counter, kp.receiving.key));
	CHECK(plen - 16 == want_len);
	CHECK_MEM(plain, want_plain, want_len);
	/* What wireguard-go's side sent: a UDP datagram to our tunnel address
	 * carrying WGGO_UDP_PAYLOAD (IPv4: 20-byte header, then 8 of UDP). */
	CHECK(plain[0] == 0x45 && plain[9] == 17);
	CHECK(memcmp(plain + 28, WGGO_UDP_PAYLOAD, sizeof(WGGO_UDP_PAYLOAD) - 1) == 0);
	noise_keypair_wipe(&kp);
}

TEST_MAIN("noise",
	  TEST(test_init),
	  TEST(test_full_handshake),
	  TEST(test_replayed_initiation),
	  TEST(test_initiation_flood),
	  TEST(test_unknown_static),
	  TEST(test_tampered_initiation),
	  TEST(test_tampered_response),
	  TEST(test_wrong_psk),
	  TEST(test_response_unknown_index),
	  TEST(test_state_machine_misuse),
	  TEST(test_random_ephemerals),
	  TEST(test_low_order_peer),
	  TEST(test_tai64n),
	  TEST(test_wireguard_go_fixture))

/* test_fabric_messages: the fabric wire formats. Known vectors written
 * out by hand from the layout in messages.h, random structs through
 * encode and decode, and every malformation: truncation at each length,
 * trailing bytes, another version or type, unknown flags, a region count
 * over the limit or disagreeing with the length. */
#include "test.h"

#include <stdint.h>

#include "fabric/messages.h"

static uint64_t rng = 42;

static uint64_t next_rand(void)
{
	uint64_t z = (rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void test_is_message(void)
{
	uint8_t b[1];

	for (unsigned v = 0; v < 256; v++) {
		b[0] = (uint8_t)v;
		CHECK(fabric_is_message(b, 1) == (v >> 4 == 0xf));
	}
	CHECK(!fabric_is_message(b, 0));
	b[0] = 0x45;			/* IPv4, IHL 5 */
	CHECK(!fabric_is_message(b, 1));
	b[0] = 0x60;			/* IPv6 */
	CHECK(!fabric_is_message(b, 1));
}

static void test_data_vector(void)
{
	uint8_t msg[64], out[FABRIC_DATA_HDR_LEN];
	size_t n = test_hex("f0010001" "11223344" "55667788" "99aabbcc" "4500001c", msg,
			    sizeof(msg));
	struct fabric_data d;
	enum fabric_type type;
	const uint8_t *inner;
	size_t inner_len;

	CHECK(n == 20);
	CHECK(fabric_decode_type(msg, n, &type) && type == FABRIC_DATA);
	CHECK(fabric_decode_data(msg, n, &d, &inner, &inner_len));
	CHECK(d.flags == FABRIC_DATA_REPLY && d.class_id == 0x11223344 &&
	      d.pool_id == 0x55667788 && d.user_id == 0x99aabbcc);
	CHECK(inner == msg + 16 && inner_len == 4 && inner[0] == 0x45);
	CHECK(fabric_encode_data_header(out, sizeof(out), &d) == 16 && !memcmp(out, msg, 16));
	CHECK(fabric_encode_data_header(out, 15, &d) == 0);
	CHECK(fabric_decode_data(msg, 16, &d, &inner, &inner_len) && inner_len == 0);
	CHECK(!fabric_decode_data(msg, 15, &d, &inner, &inner_len));
	CHECK(!fabric_decode_type(msg, 15, &type));
	msg[3] = 0x02;				/* an unknown flag */
	CHECK(!fabric_decode_data(msg, n, &d, &inner, &inner_len));
	msg[3] = 0x01;
	msg[0] = 0xf1;				/* version 1 */
	CHECK(!fabric_decode_data(msg, n, &d, &inner, &inner_len));
	CHECK(!fabric_decode_type(msg, n, &type));
	msg[0] = 0xf0;
	msg[1] = 2;				/* a probe's type */
	CHECK(!fabric_decode_data(msg, n, &d, &inner, &inner_len));
}

static void test_probe_vector(void)
{
	uint8_t msg[64], out[64];
	size_t n = test_hex("f002" "0003" "0000002a" "0001020304050607" "deadbeef", msg,
			    sizeof(msg));
	struct fabric_probe p;
	enum fabric_type type;

	CHECK(n == FABRIC_PROBE_LEN);
	CHECK(fabric_decode_probe(msg, n, &p));
	CHECK(p.path == 3 && p.seq == 42 && p.tx_ns == 0x0001020304050607ULL &&
	      p.node_id == 0xdeadbeef);
	CHECK(fabric_encode_probe(out, sizeof(out), &p) == n && !memcmp(out, msg, n));
	CHECK(fabric_encode_probe(out, n - 1, &p) == 0);
	/* WireGuard pads to 16: the type passes, the exact decoder wants 20. */
	memset(msg + n, 0, 12);
	CHECK(fabric_decode_type(msg, 32, &type) && type == FABRIC_PROBE);
	CHECK(!fabric_decode_probe(msg, 32, &p));
	for (size_t len = 0; len < n; len++) {
		CHECK(!fabric_decode_probe(msg, len, &p));
		CHECK(!fabric_decode_type(msg, len, &type) || len >= 2);
	}
	CHECK(!fabric_decode_type(msg, 19, &type));
	msg[1] = 9;
	CHECK(!fabric_decode_type(msg, n, &type));
}

static void test_reply_vector(void)
{
	uint8_t msg[512], out[512];
	size_t n = test_hex("f003" "0001" "00000007" "0000000000000009" "0000000b" "012c" "02"
			    "000003e9" "00003039" "0005" "000003ea" "ffffffff" "03e8",
			    msg, sizeof(msg));
	struct fabric_probe_reply r;
	enum fabric_type type;

	CHECK(n == FABRIC_REPLY_BASE_LEN + 2 * FABRIC_REGION_LEN);
	CHECK(fabric_decode_type(msg, n, &type) && type == FABRIC_PROBE_REPLY);
	CHECK(fabric_decode_probe_reply(msg, n, &r));
	CHECK(r.probe.path == 1 && r.probe.seq == 7 && r.probe.tx_ns == 9 && r.probe.node_id == 11);
	CHECK(r.utilisation_permille == 300 && r.n_regions == 2);
	CHECK(r.regions[0].region_id == 1001 && r.regions[0].rtt_us == 12345 &&
	      r.regions[0].loss_permille == 5);
	CHECK(r.regions[1].rtt_us == UINT32_MAX && r.regions[1].loss_permille == 1000);
	CHECK(fabric_encode_probe_reply(out, sizeof(out), &r) == n && !memcmp(out, msg, n));
	for (size_t len = 0; len < n; len++)
		CHECK(!fabric_decode_probe_reply(msg, len, &r));
	CHECK(!fabric_decode_probe_reply(msg, n + 1, &r));	/* a trailing byte */
	msg[22] = 3;					/* count says 3, length 2 */
	CHECK(!fabric_decode_probe_reply(msg, n, &r));
	msg[22] = 1;
	CHECK(!fabric_decode_probe_reply(msg, n, &r));
	CHECK(fabric_decode_probe_reply(msg, n - FABRIC_REGION_LEN, &r) && r.n_regions == 1);
	msg[22] = 0;
	CHECK(fabric_decode_probe_reply(msg, FABRIC_REPLY_BASE_LEN, &r) && r.n_regions == 0);
}

/* 33 regions never decode, whatever the length; 32 do. */
static void test_reply_region_limit(void)
{
	static uint8_t buf[FABRIC_REPLY_BASE_LEN + 40 * FABRIC_REGION_LEN];
	struct fabric_probe_reply r = { .n_regions = FABRIC_MAX_REGIONS };
	size_t n;

	for (int i = 0; i < FABRIC_MAX_REGIONS; i++)
		r.regions[i].region_id = (uint32_t)i;
	n = fabric_encode_probe_reply(buf, sizeof(buf), &r);
	CHECK(n == FABRIC_REPLY_BASE_LEN + FABRIC_MAX_REGIONS * FABRIC_REGION_LEN);
	CHECK(fabric_decode_probe_reply(buf, n, &r) && r.n_regions == FABRIC_MAX_REGIONS);
	CHECK(fabric_encode_probe_reply(buf, n - 1, &r) == 0);
	buf[22] = FABRIC_MAX_REGIONS + 1;
	CHECK(!fabric_decode_probe_reply(buf, n + FABRIC_REGION_LEN, &r));
	buf[22] = 255;
	CHECK(!fabric_decode_probe_reply(buf, FABRIC_REPLY_BASE_LEN + 255 * FABRIC_REGION_LEN, &r));
	r.n_regions = FABRIC_MAX_REGIONS + 1;
	CHECK(fabric_encode_probe_reply(buf, sizeof(buf), &r) == 0);
}

/* Field by field: struct padding is not part of the message. */
static bool probe_equal(const struct fabric_probe *a, const struct fabric_probe *b)
{
	return a->path == b->path && a->seq == b->seq && a->tx_ns == b->tx_ns &&
	       a->node_id == b->node_id;
}

static bool reply_equal(const struct fabric_probe_reply *a, const struct fabric_probe_reply *b)
{
	if (!probe_equal(&a->probe, &b->probe) || a->n_regions != b->n_regions ||
	    a->utilisation_permille != b->utilisation_permille)
		return false;
	for (int i = 0; i < a->n_regions; i++)
		if (a->regions[i].region_id != b->regions[i].region_id ||
		    a->regions[i].rtt_us != b->regions[i].rtt_us ||
		    a->regions[i].loss_permille != b->regions[i].loss_permille)
			return false;
	return true;
}

/* Random structs: decode(encode(x)) == x, and the length is exact. */
static void test_random_round_trip(void)
{
	static uint8_t buf[FABRIC_REPLY_BASE_LEN + FABRIC_MAX_REGIONS * FABRIC_REGION_LEN];
	struct fabric_probe_reply r, back;
	struct fabric_data d, dback;
	const uint8_t *inner;
	size_t n, inner_len;

	for (int i = 0; i < 20000; i++) {
		memset(&r, 0, sizeof(r));
		r.probe = (struct fabric_probe){ (uint16_t)next_rand(), (uint32_t)next_rand(),
						 next_rand(), (uint32_t)next_rand() };
		r.utilisation_permille = (uint16_t)next_rand();
		r.n_regions = (uint8_t)(next_rand() % (FABRIC_MAX_REGIONS + 1));
		for (int k = 0; k < r.n_regions; k++)
			r.regions[k] = (struct fabric_region_metric){
				(uint32_t)next_rand(), (uint32_t)next_rand(), (uint16_t)next_rand() };
		n = fabric_encode_probe_reply(buf, sizeof(buf), &r);
		CHECK(n == FABRIC_REPLY_BASE_LEN + (size_t)r.n_regions * FABRIC_REGION_LEN);
		CHECK(fabric_decode_probe_reply(buf, n, &back) && reply_equal(&back, &r));
		n = fabric_encode_probe(buf, sizeof(buf), &r.probe);
		CHECK(fabric_decode_probe(buf, n, &back.probe) && probe_equal(&back.probe, &r.probe));
		d = (struct fabric_data){ (uint16_t)(next_rand() & FABRIC_DATA_REPLY),
					  (uint32_t)next_rand(), (uint32_t)next_rand(),
					  (uint32_t)next_rand() };
		n = fabric_encode_data_header(buf, sizeof(buf), &d);
		CHECK(fabric_decode_data(buf, n + 5, &dback, &inner, &inner_len));
		CHECK(dback.flags == d.flags && dback.class_id == d.class_id &&
		      dback.pool_id == d.pool_id && dback.user_id == d.user_id && inner_len == 5);
	}
}

TEST_MAIN("fabric_messages",
	  TEST(test_is_message),
	  TEST(test_data_vector),
	  TEST(test_probe_vector),
	  TEST(test_reply_vector),
	  TEST(test_reply_region_limit),
	  TEST(test_random_round_trip))

/* test_ratelimiter: token buckets per source with an injected clock. A
 * burst of 5, then one packet per 50 ms; IPv4 sources by address, IPv6 by
 * /64; idle entries collected; a full table refuses new sources. */
#include "test.h"

#include <stdint.h>
#include <sys/socket.h>

#include "wg/ratelimiter.h"

#define T0 SECONDS(100)

static const uint8_t v4a[4] = { 192, 0, 2, 1 };
static const uint8_t v4b[4] = { 192, 0, 2, 2 };
static const uint8_t v6a[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1,
				 0, 0, 0, 0, 0, 0, 0, 1 };
static const uint8_t v6a_same64[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1,
					0xff, 0xee, 0xdd, 0xcc, 0, 0, 0, 9 };
static const uint8_t v6b[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 2,
				 0, 0, 0, 0, 0, 0, 0, 1 };

static int allowed_burst(struct ratelimiter *rl, int family, const uint8_t *addr,
			 monotime_ns now)
{
	int n = 0;

	while (n < 100 && ratelimiter_allow(rl, family, addr, now))
		n++;
	return n;
}

static void test_burst_then_refill(void)
{
	struct ratelimiter rl;

	CHECK(ratelimiter_init(&rl, 64));
	CHECK(allowed_burst(&rl, AF_INET, v4a, T0) == RATELIMITER_PACKETS_BURST);
	CHECK(!ratelimiter_allow(&rl, AF_INET, v4a, T0 + MSECONDS(49)));
	/* The 49 ms already credited count toward the next packet. */
	CHECK(ratelimiter_allow(&rl, AF_INET, v4a, T0 + MSECONDS(50)));
	CHECK(!ratelimiter_allow(&rl, AF_INET, v4a, T0 + MSECONDS(50)));
	CHECK(ratelimiter_allow(&rl, AF_INET, v4a, T0 + MSECONDS(100)));
	CHECK(!ratelimiter_allow(&rl, AF_INET, v4a, T0 + MSECONDS(120)));
	/* A long pause refills only up to the burst. */
	CHECK(allowed_burst(&rl, AF_INET, v4a, T0 + MSECONDS(900)) ==
	      RATELIMITER_PACKETS_BURST);
	/* A clock that steps back grants nothing. */
	CHECK(!ratelimiter_allow(&rl, AF_INET, v4a, T0 + MSECONDS(500)));
	ratelimiter_free(&rl);
}

static void test_steady_rate(void)
{
	struct ratelimiter rl;
	int allowed = 0;

	CHECK(ratelimiter_init(&rl, 64));
	/* 1000 packets/s for 3 s: the burst, then 20 a second. */
	for (int ms = 0; ms < 3000; ms++)
		allowed += ratelimiter_allow(&rl, AF_INET, v4a, T0 + MSECONDS(ms));
	CHECK(allowed >= 5 + 3 * 20 - 1 && allowed <= 5 + 3 * 20);
	ratelimiter_free(&rl);
}

static void test_sources_independent(void)
{
	struct ratelimiter rl;

	CHECK(ratelimiter_init(&rl, 64));
	CHECK(allowed_burst(&rl, AF_INET, v4a, T0) == 5);
	CHECK(allowed_burst(&rl, AF_INET, v4b, T0) == 5);
	CHECK(allowed_burst(&rl, AF_INET6, v6a, T0) == 5);
	CHECK(rl.n_entries == 3);
	ratelimiter_free(&rl);
}

static void test_ipv6_per_64(void)
{
	struct ratelimiter rl;

	CHECK(ratelimiter_init(&rl, 64));
	CHECK(allowed_burst(&rl, AF_INET6, v6a, T0) == 5);
	CHECK(!ratelimiter_allow(&rl, AF_INET6, v6a_same64, T0));
	CHECK(allowed_burst(&rl, AF_INET6, v6b, T0) == 5);
	CHECK(rl.n_entries == 2);
	/* An IPv4 address equal to a prefix's first bytes is its own source. */
	CHECK(allowed_burst(&rl, AF_INET, v6a, T0) == 5);
	CHECK(!ratelimiter_allow(&rl, AF_UNIX, v4a, T0));
	ratelimiter_free(&rl);
}

static void test_gc(void)
{
	struct ratelimiter rl;

	CHECK(ratelimiter_init(&rl, 64));
	CHECK(ratelimiter_allow(&rl, AF_INET, v4a, T0));
	CHECK(ratelimiter_allow(&rl, AF_INET, v4b, T0 + MSECONDS(500)));
	CHECK(rl.n_entries == 2);
	ratelimiter_gc(&rl, T0 + MSECONDS(999));
	CHECK(rl.n_entries == 2);
	ratelimiter_gc(&rl, T0 + MSECONDS(1200));
	CHECK(rl.n_entries == 1);		/* v4a idle 1.2 s, v4b 0.7 s */
	/* allow() collects at most once a second: not yet at +1.9 s ... */
	CHECK(ratelimiter_allow(&rl, AF_INET6, v6a, T0 + MSECONDS(1900)));
	CHECK(rl.n_entries == 2);
	/* ... but at +2.2 s, which drops v4b and keeps v6a. */
	CHECK(ratelimiter_allow(&rl, AF_INET6, v6a, T0 + MSECONDS(2200)));
	CHECK(rl.n_entries == 1);
	ratelimiter_gc(&rl, T0 + SECONDS(10));
	CHECK(rl.n_entries == 0);
	ratelimiter_free(&rl);
}

static void test_table_full(void)
{
	struct ratelimiter rl;
	uint8_t addr[4] = { 10, 0, 0, 0 };

	CHECK(!ratelimiter_init(&rl, 0));
	CHECK(ratelimiter_init(&rl, 4));
	for (uint8_t i = 0; i < 4; i++) {
		addr[3] = i;
		CHECK(ratelimiter_allow(&rl, AF_INET, addr, T0));
	}
	addr[3] = 4;
	CHECK(!ratelimiter_allow(&rl, AF_INET, addr, T0));
	CHECK(rl.n_entries == 4);
	addr[3] = 0;
	CHECK(ratelimiter_allow(&rl, AF_INET, addr, T0));	/* known source */
	/* Once the others have been idle a second, there is room again. */
	addr[3] = 4;
	CHECK(ratelimiter_allow(&rl, AF_INET, addr, T0 + SECONDS(2)));
	CHECK(rl.n_entries == 1);
	ratelimiter_free(&rl);
}

/* Many sources: the chains stay correct as the table fills and empties. */
static void test_many_sources(void)
{
	struct ratelimiter rl;
	uint8_t addr[4] = { 10, 0, 0, 0 };
	int refused = 0;

	CHECK(ratelimiter_init(&rl, 5000));
	for (int i = 0; i < 6000; i++) {
		addr[2] = (uint8_t)(i >> 8);
		addr[3] = (uint8_t)i;
		refused += !ratelimiter_allow(&rl, AF_INET, addr, T0 + (monotime_ns)i);
	}
	CHECK(refused == 1000);
	CHECK(rl.n_entries == 5000);
	for (int i = 0; i < 5000; i++) {
		addr[2] = (uint8_t)(i >> 8);
		addr[3] = (uint8_t)i;
		CHECK(allowed_burst(&rl, AF_INET, addr, T0 + MSECONDS(10)) == 4);
	}
	ratelimiter_gc(&rl, T0 + SECONDS(2));
	CHECK(rl.n_entries == 0);
	ratelimiter_free(&rl);
}

TEST_MAIN("ratelimiter",
	  TEST(test_burst_then_refill),
	  TEST(test_steady_rate),
	  TEST(test_sources_independent),
	  TEST(test_ipv6_per_64),
	  TEST(test_gc),
	  TEST(test_table_full),
	  TEST(test_many_sources))

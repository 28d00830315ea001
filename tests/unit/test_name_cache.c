/* test_name_cache: TTL expiry and clamping with an injected clock, LRU
 * eviction, replacement, lower-casing, and a random run against a naive
 * reference (an array with LRU stamps). */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "dataplane/name_cache.h"
#include "test.h"

static struct ip_addr addr4(uint32_t n)
{
	uint8_t b[4] = { 10, (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n };
	struct ip_addr a;

	ip_addr_set(&a, AF_INET, b);
	return a;
}

static void test_put_get_lowercase(void)
{
	struct name_cache *nc = name_cache_create(16, 5, 3600);
	struct ip_addr a = addr4(1), b;
	const char *n;

	CHECK(nc != NULL);
	name_cache_put(nc, &a, "WWW.Example.COM", 60, SECONDS(1));
	n = name_cache_get(nc, &a, SECONDS(2));
	CHECK(n && !strcmp(n, "www.example.com"));
	ip_addr_parse("2001:db8::1", &b);
	CHECK(name_cache_get(nc, &b, SECONDS(2)) == NULL);
	name_cache_put(nc, &b, "v6.example.net", 60, SECONDS(2));
	n = name_cache_get(nc, &b, SECONDS(3));
	CHECK(n && !strcmp(n, "v6.example.net"));
	/* a new answer for the address replaces the name */
	name_cache_put(nc, &a, "cdn.example.org", 60, SECONDS(3));
	n = name_cache_get(nc, &a, SECONDS(3));
	CHECK(n && !strcmp(n, "cdn.example.org") && name_cache_count(nc) == 2);
	name_cache_destroy(nc);
}

static void test_ttl_clamp_and_expiry(void)
{
	struct name_cache *nc = name_cache_create(16, 30, 600);
	struct ip_addr a = addr4(1), b = addr4(2), c = addr4(3);

	name_cache_put(nc, &a, "short.example", 1, 0);	/* raised to 30 s */
	name_cache_put(nc, &b, "long.example", 86400, 0);	/* cut to 600 s */
	name_cache_put(nc, &c, "mid.example", 100, 0);
	CHECK(name_cache_get(nc, &a, SECONDS(30) - 1) != NULL);
	CHECK(name_cache_get(nc, &a, SECONDS(30)) == NULL);
	CHECK(name_cache_count(nc) == 2);	/* the expired one was dropped */
	CHECK(name_cache_get(nc, &c, SECONDS(99)) != NULL);
	CHECK(name_cache_get(nc, &c, SECONDS(100)) == NULL);
	CHECK(name_cache_get(nc, &b, SECONDS(600) - 1) != NULL);
	CHECK(name_cache_get(nc, &b, SECONDS(600)) == NULL);
	CHECK(name_cache_count(nc) == 0);
	name_cache_destroy(nc);
}

static void test_lru_eviction(void)
{
	struct name_cache *nc = name_cache_create(4, 1, 3600);
	struct ip_addr a[6];
	char name[32];

	for (uint32_t i = 0; i < 6; i++)
		a[i] = addr4(i);
	for (uint32_t i = 0; i < 4; i++) {
		snprintf(name, sizeof(name), "n%u.example", i);
		name_cache_put(nc, &a[i], name, 60, i);
	}
	CHECK(name_cache_get(nc, &a[0], 10) != NULL);	/* 0 is now recent */
	name_cache_put(nc, &a[4], "n4.example", 60, 11);	/* evicts 1 */
	CHECK(name_cache_count(nc) == 4);
	CHECK(name_cache_get(nc, &a[1], 12) == NULL);
	CHECK(name_cache_get(nc, &a[0], 12) != NULL);
	name_cache_put(nc, &a[5], "n5.example", 60, 13);	/* evicts 2 */
	CHECK(name_cache_get(nc, &a[2], 14) == NULL);
	CHECK(name_cache_get(nc, &a[3], 14) != NULL);
	name_cache_destroy(nc);
}

static void test_rejects(void)
{
	struct name_cache *nc = name_cache_create(4, 1, 60);
	struct ip_addr a = addr4(9), none = { 0 };
	char longname[300];

	CHECK(name_cache_create(0, 1, 60) == NULL);
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	name_cache_put(nc, &a, longname, 60, 0);
	name_cache_put(nc, &a, "", 60, 0);
	name_cache_put(nc, &none, "x.example", 60, 0);
	CHECK(name_cache_count(nc) == 0 && name_cache_get(nc, &none, 0) == NULL);
	longname[NAME_CACHE_NAME_MAX - 1] = '\0';	/* 253 characters: fits */
	name_cache_put(nc, &a, longname, 60, 0);
	CHECK(name_cache_get(nc, &a, 0) != NULL);
	name_cache_destroy(nc);
}

/* ---- random run against a reference ----------------------------------- */

#define RCAP 32

struct ref_entry {
	uint32_t addr;
	char name[16];
	monotime_ns expires, used;
};

static struct ref_entry ref[RCAP];
static size_t ref_n;

static int ref_find(uint32_t addr)
{
	for (size_t i = 0; i < ref_n; i++)
		if (ref[i].addr == addr)
			return (int)i;
	return -1;
}

static void ref_drop(size_t i)
{
	ref[i] = ref[--ref_n];
}

static void ref_put(uint32_t addr, const char *name, monotime_ns expires, monotime_ns now)
{
	int i = ref_find(addr);

	if (i < 0 && ref_n == RCAP) {
		size_t old = 0;

		for (size_t j = 1; j < ref_n; j++)
			if (ref[j].used < ref[old].used)
				old = j;
		ref_drop(old);
	}
	if (i < 0)
		i = (int)ref_n++;
	ref[i].addr = addr;
	snprintf(ref[i].name, sizeof(ref[i].name), "%s", name);
	ref[i].expires = expires;
	ref[i].used = now;
}

static void test_random_vs_reference(void)
{
	struct name_cache *nc = name_cache_create(RCAP, 2, 50);
	uint64_t s = 12345;
	monotime_ns now = 0;

	for (int op = 0; op < 50000; op++) {
		uint32_t r, addr;
		struct ip_addr a;
		const char *got;
		int i;

		s = s * 6364136223846793005ULL + 1442695040888963407ULL;
		r = (uint32_t)(s >> 33);
		addr = r % 80;
		a = addr4(addr);
		now += SECONDS(1) / 4 + 1;	/* strictly increasing: unique LRU stamps */
		if (r >> 28 & 1) {
			char name[16];
			uint32_t ttl = (r >> 8) % 70;

			snprintf(name, sizeof(name), "h%u.example", r >> 20 & 0xff);
			name_cache_put(nc, &a, name, ttl, now);
			ttl = ttl < 2 ? 2 : ttl > 50 ? 50 : ttl;
			ref_put(addr, name, now + SECONDS(ttl), now);
			continue;
		}
		got = name_cache_get(nc, &a, now);
		i = ref_find(addr);
		if (i >= 0 && now >= ref[i].expires) {
			ref_drop((size_t)i);
			i = -1;
		}
		CHECK((got != NULL) == (i >= 0));
		if (got && i >= 0) {
			CHECK(!strcmp(got, ref[i].name));
			ref[i].used = now;
		}
		CHECK(name_cache_count(nc) == ref_n);
	}
	name_cache_destroy(nc);
}

TEST_MAIN("name_cache",
	  TEST(test_put_get_lowercase),
	  TEST(test_ttl_clamp_and_expiry),
	  TEST(test_lru_eviction),
	  TEST(test_rejects),
	  TEST(test_random_vs_reference))

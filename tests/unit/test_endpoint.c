/* test_endpoint: parsing and printing underlay addresses as wg(8) does,
 * refusal of everything that is not a literal address with a port, and
 * address equality. */
#include <stdint.h>

#include "test.h"
#include "wg/endpoint.h"

static void round_trip(const char *text, const char *want)
{
	union wg_sockaddr a;
	char out[128];

	CHECK(wg_sockaddr_parse(text, &a));
	wg_sockaddr_format(&a, out, sizeof(out));
	if (strcmp(out, want) != 0)
		fprintf(stderr, "  %s -> %s, want %s\n", text, out, want);
	CHECK(strcmp(out, want) == 0);
}

static void test_parse_format(void)
{
	union wg_sockaddr a;

	round_trip("198.18.0.1:51820", "198.18.0.1:51820");
	round_trip("[2001:db8::1]:51820", "[2001:db8::1]:51820");
	round_trip("[2001:0db8:0000::0001]:1", "[2001:db8::1]:1");
	round_trip("[::ffff:198.18.0.1]:65535", "[::ffff:198.18.0.1]:65535");
	round_trip("[fe80::1%1]:51820", "[fe80::1%lo]:51820");
	round_trip("[fe80::1%lo]:51820", "[fe80::1%lo]:51820");
	CHECK(wg_sockaddr_parse("198.18.0.1:51820", &a));
	CHECK(a.sa.sa_family == AF_INET && ntohs(a.in.sin_port) == 51820);
	CHECK(wg_sockaddr_len(&a) == sizeof(struct sockaddr_in));
	CHECK(wg_sockaddr_parse("[2001:db8::1]:51820", &a));
	CHECK(a.sa.sa_family == AF_INET6 && ntohs(a.in6.sin6_port) == 51820);
	CHECK(wg_sockaddr_len(&a) == sizeof(struct sockaddr_in6));
}

static void test_parse_rejects(void)
{
	static const char *bad[] = {
		"", ":", "198.18.0.1", "198.18.0.1:", "198.18.0.1:0", "198.18.0.1:65536",
		"198.18.0.1:-1", "198.18.0.1:+5", "198.18.0.1: 5", "198.18.0.1:5x",
		"198.18.0.1:123456", "198.18.1:51820", "198.18.0.256:1", "example.com:51820",
		"2001:db8::1:51820", "[2001:db8::1]", "[2001:db8::1]51820", "[2001:db8::1:51820",
		"[]:51820", "[198.18.0.1]:51820", "[fe80::1%]:1", "[fe80::1%nosuchif0]:1",
		"[2001:db8::1]:51820x", " 198.18.0.1:1", "198.18.0.1:1 ",
	};
	union wg_sockaddr a, before;

	memset(&a, 0x5a, sizeof(a));
	before = a;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		bool ok = wg_sockaddr_parse(bad[i], &a);

		if (ok)
			fprintf(stderr, "  accepted: \"%s\"\n", bad[i]);
		CHECK(!ok);
	}
	CHECK(!wg_sockaddr_parse(NULL, &a));
	CHECK_MEM(&a, &before, sizeof(a));	/* untouched on failure */
}

static void test_equal(void)
{
	union wg_sockaddr a, b;
	char out[8];

	CHECK(wg_sockaddr_parse("198.18.0.1:1", &a) && wg_sockaddr_parse("198.18.0.1:1", &b));
	CHECK(wg_sockaddr_equal(&a, &b));
	CHECK(wg_sockaddr_parse("198.18.0.1:2", &b));
	CHECK(!wg_sockaddr_equal(&a, &b));
	CHECK(wg_sockaddr_parse("198.18.0.2:1", &b));
	CHECK(!wg_sockaddr_equal(&a, &b));
	CHECK(wg_sockaddr_parse("[::ffff:198.18.0.1]:1", &b));
	CHECK(!wg_sockaddr_equal(&a, &b));
	CHECK(wg_sockaddr_parse("[2001:db8::1]:1", &a) && wg_sockaddr_parse("[2001:db8::1]:1", &b));
	CHECK(wg_sockaddr_equal(&a, &b));
	b.in6.sin6_scope_id = 1;
	CHECK(!wg_sockaddr_equal(&a, &b));
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	CHECK(!wg_sockaddr_equal(&a, &b));	/* no address equals nothing */
	wg_sockaddr_format(&a, out, sizeof(out));
	CHECK(strcmp(out, "(none)") == 0);
	/* Truncation stays terminated. */
	CHECK(wg_sockaddr_parse("198.18.0.1:51820", &a));
	wg_sockaddr_format(&a, out, sizeof(out));
	CHECK(strlen(out) == sizeof(out) - 1);
}

TEST_MAIN("endpoint",
	  TEST(test_parse_format),
	  TEST(test_parse_rejects),
	  TEST(test_equal))

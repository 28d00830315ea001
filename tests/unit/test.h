/* test.h: the unit-test harness. A test file defines test functions and a
 * TEST_LIST; main() runs them and prints "N passed, N failed". A failing
 * CHECK reports file:line and the expression, and the test goes on. */
#ifndef EGRESS_TEST_H
#define EGRESS_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int test_failed_checks;

#define CHECK(cond) do {						\
		if (!(cond)) {						\
			fprintf(stderr, "%s:%d: CHECK failed: %s\n",	\
				__FILE__, __LINE__, #cond);		\
			test_failed_checks++;				\
		}							\
	} while (0)

#define CHECK_MEM(a, b, n) CHECK(memcmp((a), (b), (n)) == 0)

struct test_case {
	const char *name;
	void (*fn)(void);
};

#define TEST(name) { #name, name }

static inline int test_run_all(const char *suite, const struct test_case *cases, size_t n)
{
	int passed = 0, failed = 0;

	for (size_t i = 0; i < n; i++) {
		int before = test_failed_checks;

		cases[i].fn();
		if (test_failed_checks == before) {
			passed++;
		} else {
			failed++;
			fprintf(stderr, "%s: FAIL %s\n", suite, cases[i].name);
		}
	}
	printf("%s: %d passed, %d failed\n", suite, passed, failed);
	return failed ? 1 : 0;
}

#define TEST_MAIN(suite, ...)						\
	int main(void)							\
	{								\
		static const struct test_case cases_[] = { __VA_ARGS__ }; \
		return test_run_all(suite, cases_,			\
				    sizeof(cases_) / sizeof(cases_[0])); \
	}

/* Hex fixtures: parses a hex string into buf; returns the byte count. */
static inline size_t test_hex(const char *hex, unsigned char *buf, size_t cap)
{
	size_t n = 0;

	while (hex[0] && hex[1] && n < cap) {
		unsigned v;

		if (sscanf(hex, "%2x", &v) != 1)
			break;
		buf[n++] = (unsigned char)v;
		hex += 2;
	}
	return n;
}

#endif

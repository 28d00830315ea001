/* test_replay: the anti-replay window. The Linux driver's counter selftest
 * vectors around the window edges and REJECT_AFTER_MESSAGES, then random
 * sequences checked against a naive reference: a set of every counter
 * accepted plus the highest one. */
#include "test.h"

#include <stdint.h>

#include "wg/replay.h"

static struct replay_counter counter;

#define T_INIT replay_counter_init(&counter)
#define T_LIM (COUNTER_WINDOW_SIZE + 1)
#define T(n, v) CHECK(replay_counter_validate(&counter, (n)) == (v))

static void test_vectors(void)
{
	T_INIT;
	T(0, true);
	T(1, true);
	T(1, false);
	T(9, true);
	T(8, true);
	T(7, true);
	T(7, false);
	T(T_LIM, true);
	T(T_LIM - 1, true);
	T(T_LIM - 1, false);
	T(T_LIM - 2, true);
	T(2, true);
	T(2, false);
	T(T_LIM + 16, true);
	T(3, false);
	T(T_LIM + 16, false);
	T(T_LIM * 4, true);
	T(T_LIM * 4 - (T_LIM - 1), true);
	T(10, false);
	T(T_LIM * 4 - T_LIM, false);
	T(T_LIM * 4 - (T_LIM + 1), false);
	T(T_LIM * 4 - (T_LIM - 2), true);
	T(T_LIM * 4 + 1 - T_LIM, false);
	T(0, false);
	T(REJECT_AFTER_MESSAGES, false);
	T(REJECT_AFTER_MESSAGES - 1, true);
	T(REJECT_AFTER_MESSAGES, false);
	T(REJECT_AFTER_MESSAGES - 1, false);
	T(REJECT_AFTER_MESSAGES - 2, true);
	T(REJECT_AFTER_MESSAGES + 1, false);
	T(REJECT_AFTER_MESSAGES + 2, false);
	T(REJECT_AFTER_MESSAGES - 2, false);
	T(REJECT_AFTER_MESSAGES - 3, true);
	T(0, false);
	T(UINT64_MAX, false);
}

/* Filling the window from either end, then probing both edges. */
static void test_window_edges(void)
{
	uint64_t i;

	T_INIT;
	for (i = 1; i <= COUNTER_WINDOW_SIZE; i++)
		T(i, true);
	T(0, true);
	T(0, false);

	T_INIT;
	for (i = 2; i <= COUNTER_WINDOW_SIZE + 1; i++)
		T(i, true);
	T(1, true);
	T(0, false);	/* one past the window */

	T_INIT;
	for (i = COUNTER_WINDOW_SIZE + 1; i-- > 0;)
		T(i, true);

	T_INIT;
	for (i = COUNTER_WINDOW_SIZE + 2; i-- > 1;)
		T(i, true);
	T(0, false);

	T_INIT;
	for (i = COUNTER_WINDOW_SIZE + 1; i-- > 1;)
		T(i, true);
	T(COUNTER_WINDOW_SIZE + 1, true);
	T(0, false);

	T_INIT;
	for (i = COUNTER_WINDOW_SIZE + 1; i-- > 1;)
		T(i, true);
	T(0, true);
	T(COUNTER_WINDOW_SIZE + 1, true);
}

/* A jump of more than the whole ring must clear every word, and a jump
 * of exactly one word must clear just that one. */
static void test_jumps(void)
{
	T_INIT;
	T(5, true);
	T(5 + COUNTER_BITS_TOTAL, true);	/* same slot in the ring */
	T(5 + COUNTER_BITS_TOTAL, false);
	T(5, false);				/* too old now */
	T(5 + COUNTER_BITS_TOTAL - COUNTER_WINDOW_SIZE - 1, false);
	T(5 + COUNTER_BITS_TOTAL - COUNTER_WINDOW_SIZE, true);
	T(5 + COUNTER_BITS_TOTAL - COUNTER_WINDOW_SIZE, false);

	T_INIT;
	for (uint64_t i = 0; i < 64; i++)
		T(i, true);
	T(1000000, true);
	T(1000000 - COUNTER_WINDOW_SIZE, true);
	T(1000000 - COUNTER_WINDOW_SIZE - 1, false);
	T(1000000 + 64, true);
	T(1000000 + 1, true);
	T(1000000 + 1, false);
}

/* Reference: every accepted counter in an open-addressing set. */
#define REF_CAP (1u << 20)
static uint64_t ref_slots[REF_CAP];
static bool ref_used[REF_CAP];

static bool ref_insert(uint64_t v)
{
	uint64_t h = v * 0x9e3779b97f4a7c15ULL;
	size_t i = (size_t)(h >> 44) & (REF_CAP - 1);

	for (; ref_used[i]; i = (i + 1) & (REF_CAP - 1))
		if (ref_slots[i] == v)
			return false;
	ref_used[i] = true;
	ref_slots[i] = v;
	return true;
}

struct ref_counter {
	bool any;
	uint64_t highest;
};

/* The rule the bitmap implements: below the reject limit, not within the
 * window's reach behind the highest, and never seen. */
static bool ref_validate(struct ref_counter *ref, uint64_t n)
{
	if (n >= REJECT_AFTER_MESSAGES)
		return false;
	if (ref->any && n + COUNTER_WINDOW_SIZE < ref->highest)
		return false;
	if (!ref_insert(n))
		return false;
	if (!ref->any || n > ref->highest)
		ref->highest = n;
	ref->any = true;
	return true;
}

static uint64_t rng_state = 0x243f6a8885a308d3ULL;

static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* Mostly near the highest (both edges of the window), some jumps ahead
 * (within and beyond the ring), some far behind; at the end, counters
 * around the reject limit. Near 0 the window arithmetic wraps to values
 * above the limit, which are rejected: also worth checking. */
static uint64_t recent[64];

static uint64_t random_counter(const struct ref_counter *ref, bool near_limit)
{
	uint64_t base = ref->highest, r = rng() % 100;

	if (r < 15)
		return recent[rng() % 64];	/* a replay, or old news */
	if (r < 70)
		return base + COUNTER_WINDOW_SIZE / 2 + 20 -
		       rng() % (COUNTER_WINDOW_SIZE + 200);
	if (r < 80)
		return base - COUNTER_WINDOW_SIZE - 2 + rng() % 5;
	if (r < 90)
		return base + rng() % (4 * COUNTER_BITS_TOTAL);
	if (r < 97)
		return rng() % (base + 1);
	if (!near_limit)
		return base + rng() % (1u << 20);
	return REJECT_AFTER_MESSAGES - rng() % (2 * COUNTER_BITS_TOTAL) + 2;
}

static void test_random_vs_reference(void)
{
	struct ref_counter ref = { 0 };
	unsigned mismatches = 0, accepted = 0;

	memset(ref_used, 0, sizeof(ref_used));
	memset(recent, 0, sizeof(recent));
	T_INIT;
	for (unsigned i = 0; i < 400000; i++) {
		uint64_t n = random_counter(&ref, i >= 390000);
		bool want = ref_validate(&ref, n);
		bool got = replay_counter_validate(&counter, n);

		accepted += want;
		if (want)
			recent[i % 64] = n;
		if (got != want && mismatches++ < 10)
			fprintf(stderr, "step %u counter %llu: got %d want %d\n",
				i, (unsigned long long)n, got, want);
	}
	CHECK(mismatches == 0);
	printf("replay: %u of 400000 random counters accepted\n", accepted);
	CHECK(accepted > 10000);
}

TEST_MAIN("replay",
	  TEST(test_vectors),
	  TEST(test_window_edges),
	  TEST(test_jumps),
	  TEST(test_random_vs_reference))

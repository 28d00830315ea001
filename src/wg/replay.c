/* replay: the anti-replay window on received data counters.
 *
 * A ring of COUNTER_BITS_TOTAL bits, one per counter value, stored in
 * 64-bit words (RFC 6479). r->counter is one past the highest counter
 * accepted, so 0 means "nothing seen yet". When a counter lands ahead of
 * it, the words between the old and the new position are zeroed before
 * reuse; the extra COUNTER_REDUNDANT_BITS (one word) mean a whole word can
 * be cleared at once without losing any bit still inside the window.
 *
 * Not locked: one receive context owns a keypair's counter, or its caller
 * serialises (validation must be atomic with marking the bit). */
#include "wg/replay.h"

#include <string.h>

enum {
	REPLAY_WORD_BITS = 64,
	REPLAY_WORD_SHIFT = 6,
	REPLAY_WORDS = COUNTER_BITS_TOTAL / REPLAY_WORD_BITS,
};

_Static_assert((REPLAY_WORDS & (REPLAY_WORDS - 1)) == 0,
	       "the ring is indexed by masking: a power of two of words");

void replay_counter_init(struct replay_counter *r)
{
	memset(r, 0, sizeof(*r));
}

/* Zeroes the words that the window slides over when the highest counter
 * moves from word `from` to word `to`; at most the whole ring. */
static void replay_clear_words(struct replay_counter *r, uint64_t from,
			       uint64_t to)
{
	uint64_t top = to - from;

	if (top > REPLAY_WORDS)
		top = REPLAY_WORDS;
	for (uint64_t i = 1; i <= top; i++)
		r->backtrack[(from + i) & (REPLAY_WORDS - 1)] = 0;
}

bool replay_counter_validate(struct replay_counter *r, uint64_t counter)
{
	uint64_t index, bit, word;

	if (r->counter >= REJECT_AFTER_MESSAGES + 1 ||
	    counter >= REJECT_AFTER_MESSAGES)
		return false;

	/* Shifted by one so that r->counter == 0 can mean "none seen"; no
	 * overflow: counter < REJECT_AFTER_MESSAGES leaves room for both. */
	counter++;
	if (counter + COUNTER_WINDOW_SIZE < r->counter)
		return false;	/* older than the window */

	index = counter >> REPLAY_WORD_SHIFT;
	if (counter > r->counter) {
		replay_clear_words(r, r->counter >> REPLAY_WORD_SHIFT, index);
		r->counter = counter;
	}

	bit = 1ULL << (counter & (REPLAY_WORD_BITS - 1));
	word = r->backtrack[index & (REPLAY_WORDS - 1)];
	r->backtrack[index & (REPLAY_WORDS - 1)] = word | bit;
	return !(word & bit);
}

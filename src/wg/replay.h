/* replay: the anti-replay window on received data counters (RFC 6479's
 * bitmap scheme, as in the Linux driver): COUNTER_WINDOW_SIZE = 8128
 * packets of reordering tolerated, each counter accepted at most once. */
#ifndef EGRESS_WG_REPLAY_H
#define EGRESS_WG_REPLAY_H

#include <stdbool.h>
#include <stdint.h>

#include "wg/messages.h"

struct replay_counter {
	uint64_t counter;	/* highest counter seen + 1 */
	uint64_t backtrack[COUNTER_BITS_TOTAL / 64];
};

void replay_counter_init(struct replay_counter *r);
/* true if `counter` is new and within the window (and now marks it seen);
 * false for a replay, a counter too old, or >= REJECT_AFTER_MESSAGES. */
bool replay_counter_validate(struct replay_counter *r, uint64_t counter);

#endif

/* backoff: how long the agent waits before talking to the controller
 * again after a failure: 1 s doubling to 30 s, each wait drawn in
 * [delay/2, delay] so a fleet that lost its controller together does not
 * come back in lockstep. Pure: the caller passes the random draw. */
#ifndef EGRESS_AGENT_BACKOFF_H
#define EGRESS_AGENT_BACKOFF_H

#include <stdint.h>

#include "common/monotime.h"

#define AGENT_BACKOFF_MIN SECONDS(1)
#define AGENT_BACKOFF_MAX SECONDS(30)

struct agent_backoff {
	monotime_ns delay;	/* the ceiling of the next wait; 0 = no failure yet */
	uint32_t failures;	/* in a row */
};

/* A failure: returns how long to wait; rnd is any uniform 32-bit draw. */
monotime_ns agent_backoff_next(struct agent_backoff *b, uint32_t rnd);
/* A success: the next failure waits about 1 s again. */
void agent_backoff_reset(struct agent_backoff *b);

#endif

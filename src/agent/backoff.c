/* backoff: exponential retry delays with jitter (see backoff.h). */
#include "agent/backoff.h"

monotime_ns agent_backoff_next(struct agent_backoff *b, uint32_t rnd)
{
	monotime_ns half;

	if (b->delay == 0)
		b->delay = AGENT_BACKOFF_MIN;
	else if (b->delay < AGENT_BACKOFF_MAX / 2)
		b->delay *= 2;
	else
		b->delay = AGENT_BACKOFF_MAX;
	b->failures++;
	half = b->delay / 2;
	/* half + rnd/2^32 of the other half: in [delay/2, delay). */
	return half + (monotime_ns)((double)half * (rnd / 4294967296.0));
}

void agent_backoff_reset(struct agent_backoff *b)
{
	b->delay = 0;
	b->failures = 0;
}

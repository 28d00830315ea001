/* monotime: the only place that reads the system clocks. */
#include "common/monotime.h"

monotime_ns monotime_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (monotime_ns)ts.tv_sec * NSEC_PER_SEC + (monotime_ns)ts.tv_nsec;
}

struct timespec walltime_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts;
}

/* monotime: time as a type. Every timer decision takes "now" as an argument,
 * so tests drive the protocol's timers with an injected clock, never sleep. */
#ifndef EGRESS_MONOTIME_H
#define EGRESS_MONOTIME_H

#include <stdint.h>
#include <time.h>

typedef uint64_t monotime_ns;	/* CLOCK_MONOTONIC, nanoseconds */

#define NSEC_PER_MSEC 1000000ULL
#define NSEC_PER_SEC  1000000000ULL
#define SECONDS(s)    ((monotime_ns)(s) * NSEC_PER_SEC)
#define MSECONDS(ms)  ((monotime_ns)(ms) * NSEC_PER_MSEC)

monotime_ns monotime_now(void);

/* Wall clock, for TAI64N handshake timestamps and "last handshake" reports. */
struct timespec walltime_now(void);

/* true once more than `age` has passed since `birth` (a zero birth = never). */
static inline int monotime_expired(monotime_ns birth, monotime_ns age, monotime_ns now)
{
	return birth == 0 || now - birth >= age;
}

#endif

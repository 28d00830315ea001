/* path_monitor: the live health of one underlay path, from in-tunnel
 * probes. dpinger's habits: a ring of outstanding probes indexed by
 * sequence number, the monotonic clock, no trust in echoed timestamps.
 *
 *   RTT      smoothed mean and variance as TCP's SRTT/RTTVAR (RFC 6298:
 *            alpha 1/8, beta 1/4, first sample srtt = r, rttvar = r/2)
 *   jitter   RFC 3550 6.4.1: J += (|D| - J) / 16, D = difference of
 *            consecutive RTT samples
 *   loss     over the last loss_window probes whose fate is known; until
 *            loss_window fates are known the rest count as received, so a
 *            young path is not judged on a handful of probes
 *
 * A probe counts as lost once max(srtt + max(4 rttvar, srtt / 4),
 * interval) passed without its reply (srtt / 4 plays RFC 6298's clock
 * granularity G: a steady RTT drives rttvar to zero); before any RTT is
 * known, after max(1 s, interval) (RFC 6298's first RTO).
 * A reply after that is late: it changes neither loss nor state, but its
 * RTT still teaches srtt/rttvar, so a path whose RTT jumps above the
 * timeout comes back instead of staying down forever.
 *
 * The state machine (one transition function, events in):
 *   UNKNOWN --up_after replies in a row--> UP (or DEGRADED if lossy)
 *   UNKNOWN/UP/DEGRADED --down_after probes in a row lost--> DOWN (BFD-like)
 *   UP --loss >= degraded_loss_pct--> DEGRADED
 *   DEGRADED --loss < degraded_clear_pct--> UP            (hysteresis)
 *   DOWN --up_after replies in a row--> UP
 * While DOWN the loss window records nothing and restarts when the path
 * comes back: the outage is DOWN's to account for, not the loss rate's.
 * A blackholed path is down down_after x interval + that timeout after
 * the last probe that was answered (4 x 100 ms + 100 ms by default);
 * random loss takes it down only with down_after losses in a row, about
 * N p^down_after times in N probes (docs/routing.md has the figures). */
#ifndef EGRESS_ROUTING_PATH_MONITOR_H
#define EGRESS_ROUTING_PATH_MONITOR_H

#include <stdbool.h>
#include <stdint.h>

#include "common/monotime.h"
#include "policy/policy.h"

enum path_state { PATH_UNKNOWN, PATH_UP, PATH_DEGRADED, PATH_DOWN, PATH_STATE__MAX };
extern const char *const path_state_names[PATH_STATE__MAX];

#define PATH_PROBE_RING 1024	/* outstanding probes remembered, power of 2 */

struct path_metrics {
	double srtt_ms, rttvar_ms, jitter_ms, loss_pct;
	double last_rtt_ms;
	uint64_t probes_sent, replies, late_or_duplicate;
};

struct path_probe_slot {
	uint32_t seq;
	monotime_ns sent;
	uint8_t fate;		/* 0 pending, 1 answered, 2 lost, 3 closed (lost
				 * and answered late, or never used) */
};

struct path_monitor {
	struct policy_probe_settings cfg;
	enum path_state state;
	monotime_ns state_since;
	struct path_metrics m;
	uint32_t next_seq;
	monotime_ns next_probe_at, last_reply_at;
	unsigned replies_in_a_row, misses_in_a_row;
	bool have_rtt;
	/* loss window: a bit per probe whose fate is known, newest last */
	uint8_t window[256];	/* up to 2048 probes */
	unsigned window_len, window_pos, window_lost;
	uint32_t oldest_pending;
	struct path_probe_slot ring[PATH_PROBE_RING];
	uint64_t transitions;
};

void path_monitor_init(struct path_monitor *pm, const struct policy_probe_settings *cfg,
		       monotime_ns now);
/* Applies new settings (a reload) keeping measurements and state. */
void path_monitor_reconfigure(struct path_monitor *pm, const struct policy_probe_settings *cfg);

/* True when a probe is due; the caller then sends one with the returned
 * sequence number from path_monitor_probe_sent(). */
bool path_monitor_probe_due(const struct path_monitor *pm, monotime_ns now);
uint32_t path_monitor_probe_sent(struct path_monitor *pm, monotime_ns now);
/* A reply arrived for seq. False for an unknown, late or duplicate seq.
 * Only path_monitor_tick moves the state: call it right after. */
bool path_monitor_reply(struct path_monitor *pm, uint32_t seq, monotime_ns now);
/* Lets time pass: declares lost probes, moves the state. True when the
 * state changed (the caller re-routes flows pinned to a path gone down). */
bool path_monitor_tick(struct path_monitor *pm, monotime_ns now);
/* The earliest time tick or a probe is needed (never 0; a time in the
 * past means at once). */
monotime_ns path_monitor_next_event(const struct path_monitor *pm);

static inline bool path_usable(enum path_state s)
{
	return s == PATH_UP || s == PATH_DEGRADED;
}

#endif

/* timers: the protocol's per-peer timers (WireGuard paper, section 6; the
 * Linux driver's timers.c). Callers only report events; this file alone
 * decides when to retransmit a handshake, send a keepalive, start a new
 * handshake or forget keys. Deadlines are absolute monotonic times, 0 when
 * off; wg_timers_run(now) fires what is due, so tests inject the clock. */
#ifndef EGRESS_WG_TIMERS_H
#define EGRESS_WG_TIMERS_H

#include <stdbool.h>
#include <stdint.h>

#include "common/monotime.h"

enum wg_timer {
	TIMER_RETRANSMIT_HANDSHAKE,
	TIMER_SEND_KEEPALIVE,
	TIMER_NEW_HANDSHAKE,
	TIMER_ZERO_KEY_MATERIAL,
	TIMER_PERSISTENT_KEEPALIVE,
	TIMER__COUNT,
};

struct wg_peer;

/* What expiring timers do; the device provides these (tests mock them). */
struct wg_timer_actions {
	void (*send_initiation)(struct wg_peer *peer, bool is_retry, monotime_ns now);
	void (*send_keepalive)(struct wg_peer *peer, monotime_ns now);
	void (*zero_key_material)(struct wg_peer *peer);
	void (*purge_staged)(struct wg_peer *peer);
	void (*clear_endpoint_src)(struct wg_peer *peer);
};

struct wg_timers {
	monotime_ns deadline[TIMER__COUNT];
	unsigned handshake_attempts;
	bool need_another_keepalive;
	bool sent_lastminute_handshake;
	uint16_t persistent_keepalive_interval;	/* seconds, 0 = off */
	const struct wg_timer_actions *actions;
	uint64_t jitter_state;			/* for REKEY_TIMEOUT jitter */
};

void wg_timers_init(struct wg_timers *t, const struct wg_timer_actions *actions);
void wg_timers_stop(struct wg_timers *t);

/* Events, named as in the Linux driver. */
void wg_timers_data_sent(struct wg_timers *t, monotime_ns now);
void wg_timers_data_received(struct wg_timers *t, monotime_ns now);
void wg_timers_any_authenticated_packet_sent(struct wg_timers *t);
void wg_timers_any_authenticated_packet_received(struct wg_timers *t);
void wg_timers_any_authenticated_packet_traversal(struct wg_timers *t, monotime_ns now);
void wg_timers_handshake_initiated(struct wg_timers *t, monotime_ns now);
void wg_timers_handshake_complete(struct wg_timers *t);
void wg_timers_session_derived(struct wg_timers *t, monotime_ns now);

/* Fires every timer due at `now` on behalf of peer. */
void wg_timers_run(struct wg_timers *t, struct wg_peer *peer, monotime_ns now);
/* The earliest deadline, or 0 when none is set. */
monotime_ns wg_timers_next_deadline(const struct wg_timers *t);

#endif

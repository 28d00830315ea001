/* timers: deadlines and what happens when they pass.
 *
 *  retransmit_handshake  REKEY_TIMEOUT (+jitter) after an initiation with no
 *                        response; gives up after MAX_TIMER_HANDSHAKES tries.
 *  send_keepalive        KEEPALIVE_TIMEOUT after data arrived and nothing
 *                        was sent back (passive keepalive).
 *  new_handshake         KEEPALIVE_TIMEOUT + REKEY_TIMEOUT after data was
 *                        sent with nothing heard back: the peer may be gone.
 *  zero_key_material     3 * REJECT_AFTER_TIME after a session was derived.
 *  persistent_keepalive  the configured interval after any packet.
 */
#include "wg/timers.h"
#include "wg/messages.h"

#include <string.h>

void wg_timers_init(struct wg_timers *t, const struct wg_timer_actions *actions)
{
	memset(t, 0, sizeof(*t));
	t->actions = actions;
	t->jitter_state = 0x9e3779b97f4a7c15ULL ^ (uintptr_t)t;
}

void wg_timers_stop(struct wg_timers *t)
{
	memset(t->deadline, 0, sizeof(t->deadline));
}

static bool pending(const struct wg_timers *t, enum wg_timer which)
{
	return t->deadline[which] != 0;
}

static void mod_timer(struct wg_timers *t, enum wg_timer which, monotime_ns at)
{
	t->deadline[which] = at ? at : 1;	/* 0 means off */
}

static void del_timer(struct wg_timers *t, enum wg_timer which)
{
	t->deadline[which] = 0;
}

/* Up to REKEY_TIMEOUT_JITTER_MAX_MS of jitter, so peers that lost a
 * session together do not retry in lock step. Not security relevant:
 * xorshift is enough. */
static monotime_ns jitter(struct wg_timers *t)
{
	uint64_t x = t->jitter_state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	t->jitter_state = x;
	return (x % (REKEY_TIMEOUT_JITTER_MAX_MS + 1)) * NSEC_PER_MSEC;
}

void wg_timers_data_sent(struct wg_timers *t, monotime_ns now)
{
	if (!pending(t, TIMER_NEW_HANDSHAKE))
		mod_timer(t, TIMER_NEW_HANDSHAKE,
			  now + SECONDS(KEEPALIVE_TIMEOUT + REKEY_TIMEOUT) + jitter(t));
}

void wg_timers_data_received(struct wg_timers *t, monotime_ns now)
{
	if (!pending(t, TIMER_SEND_KEEPALIVE))
		mod_timer(t, TIMER_SEND_KEEPALIVE, now + SECONDS(KEEPALIVE_TIMEOUT));
	else
		t->need_another_keepalive = true;
}

void wg_timers_any_authenticated_packet_sent(struct wg_timers *t)
{
	del_timer(t, TIMER_SEND_KEEPALIVE);
}

void wg_timers_any_authenticated_packet_received(struct wg_timers *t)
{
	del_timer(t, TIMER_NEW_HANDSHAKE);
}

void wg_timers_any_authenticated_packet_traversal(struct wg_timers *t, monotime_ns now)
{
	if (t->persistent_keepalive_interval)
		mod_timer(t, TIMER_PERSISTENT_KEEPALIVE,
			  now + SECONDS(t->persistent_keepalive_interval));
}

void wg_timers_handshake_initiated(struct wg_timers *t, monotime_ns now)
{
	mod_timer(t, TIMER_RETRANSMIT_HANDSHAKE, now + SECONDS(REKEY_TIMEOUT) + jitter(t));
}

void wg_timers_handshake_complete(struct wg_timers *t)
{
	del_timer(t, TIMER_RETRANSMIT_HANDSHAKE);
	t->handshake_attempts = 0;
	t->sent_lastminute_handshake = false;
}

void wg_timers_session_derived(struct wg_timers *t, monotime_ns now)
{
	mod_timer(t, TIMER_ZERO_KEY_MATERIAL, now + SECONDS(REJECT_AFTER_TIME * 3));
}

static void expired_retransmit_handshake(struct wg_timers *t, struct wg_peer *peer,
					 monotime_ns now)
{
	if (t->handshake_attempts > MAX_TIMER_HANDSHAKES) {
		/* Gave up: forget what we wanted to send, and the keys soon. */
		del_timer(t, TIMER_SEND_KEEPALIVE);
		t->actions->purge_staged(peer);
		if (!pending(t, TIMER_ZERO_KEY_MATERIAL))
			mod_timer(t, TIMER_ZERO_KEY_MATERIAL,
				  now + SECONDS(REJECT_AFTER_TIME * 3));
		return;
	}
	t->handshake_attempts++;
	/* The peer may have moved: let the kernel pick a source address. */
	t->actions->clear_endpoint_src(peer);
	t->actions->send_initiation(peer, true, now);
}

static void expired_send_keepalive(struct wg_timers *t, struct wg_peer *peer,
				   monotime_ns now)
{
	t->actions->send_keepalive(peer, now);
	if (t->need_another_keepalive) {
		t->need_another_keepalive = false;
		mod_timer(t, TIMER_SEND_KEEPALIVE, now + SECONDS(KEEPALIVE_TIMEOUT));
	}
}

static void expired_new_handshake(struct wg_timers *t, struct wg_peer *peer,
				  monotime_ns now)
{
	t->actions->clear_endpoint_src(peer);
	t->actions->send_initiation(peer, false, now);
}

static void expire(struct wg_timers *t, enum wg_timer which, struct wg_peer *peer,
		   monotime_ns now)
{
	switch (which) {
	case TIMER_RETRANSMIT_HANDSHAKE:
		expired_retransmit_handshake(t, peer, now);
		break;
	case TIMER_SEND_KEEPALIVE:
		expired_send_keepalive(t, peer, now);
		break;
	case TIMER_NEW_HANDSHAKE:
		expired_new_handshake(t, peer, now);
		break;
	case TIMER_ZERO_KEY_MATERIAL:
		t->actions->zero_key_material(peer);
		break;
	case TIMER_PERSISTENT_KEEPALIVE:
		if (t->persistent_keepalive_interval)
			t->actions->send_keepalive(peer, now);
		break;
	case TIMER__COUNT:
		break;
	}
}

void wg_timers_run(struct wg_timers *t, struct wg_peer *peer, monotime_ns now)
{
	for (int i = 0; i < TIMER__COUNT; i++) {
		if (t->deadline[i] && t->deadline[i] <= now) {
			t->deadline[i] = 0;
			expire(t, (enum wg_timer)i, peer, now);
		}
	}
}

monotime_ns wg_timers_next_deadline(const struct wg_timers *t)
{
	monotime_ns next = 0;

	for (int i = 0; i < TIMER__COUNT; i++)
		if (t->deadline[i] && (next == 0 || t->deadline[i] < next))
			next = t->deadline[i];
	return next;
}

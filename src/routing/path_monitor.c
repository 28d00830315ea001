/* path_monitor: probe bookkeeping and the health state machine of one
 * underlay path (path_monitor.h has the rules). Outstanding probes live in
 * a ring indexed by sequence number; the oldest pending one is the only
 * candidate for loss, so a tick costs O(probes that changed fate). Nothing
 * here does I/O or reads the clock: the caller reports events and time. */
#include "routing/path_monitor.h"

#include <string.h>

const char *const path_state_names[PATH_STATE__MAX] = {
	[PATH_UNKNOWN] = "unknown",
	[PATH_UP] = "up",
	[PATH_DEGRADED] = "degraded",
	[PATH_DOWN] = "down",
};

enum probe_fate { PROBE_PENDING, PROBE_ANSWERED, PROBE_LOST, PROBE_CLOSED };

#define RING_MASK	(PATH_PROBE_RING - 1)
#define WINDOW_MAX	(8 * sizeof(((struct path_monitor *)0)->window))
#define FIRST_RTO	MSECONDS(1000)	/* RFC 6298 2.1, before any RTT sample */

static double absd(double x)
{
	return x < 0 ? -x : x;
}

/* Zero fields take the documented defaults, so an empty settings struct
 * (a test, a policy without a probe section) is usable as it is. */
static struct policy_probe_settings sane_settings(const struct policy_probe_settings *in)
{
	struct policy_probe_settings s = *in;

	if (!s.interval)
		s.interval = MSECONDS(100);
	if (!s.down_after)
		s.down_after = 4;
	if (!s.up_after)
		s.up_after = 3;
	if (!s.loss_window)
		s.loss_window = 100;
	if (s.loss_window > WINDOW_MAX)
		s.loss_window = WINDOW_MAX;
	if (s.degraded_loss_pct <= 0)
		s.degraded_loss_pct = 15;
	if (s.degraded_clear_pct <= 0 || s.degraded_clear_pct > s.degraded_loss_pct)
		s.degraded_clear_pct = s.degraded_loss_pct < 8 ? s.degraded_loss_pct : 8;
	if (!s.region_interval)
		s.region_interval = SECONDS(1);
	return s;
}

static void window_reset(struct path_monitor *pm)
{
	memset(pm->window, 0, sizeof(pm->window));
	pm->window_len = pm->window_pos = pm->window_lost = 0;
}

static void window_record(struct path_monitor *pm, bool lost)
{
	unsigned pos = pm->window_pos, byte = pos / 8;
	uint8_t bit = (uint8_t)(1u << (pos % 8));

	if (pm->window_len == pm->cfg.loss_window)
		pm->window_lost -= (pm->window[byte] & bit) ? 1 : 0;
	else
		pm->window_len++;
	if (lost) {
		pm->window[byte] |= bit;
		pm->window_lost++;
	} else {
		pm->window[byte] &= (uint8_t)~bit;
	}
	pm->window_pos = (pos + 1) % pm->cfg.loss_window;
}

static double window_loss_pct(const struct path_monitor *pm)
{
	unsigned den = pm->window_len > pm->cfg.loss_window ? pm->window_len
							     : pm->cfg.loss_window;

	return den ? 100.0 * pm->window_lost / den : 0;
}

static void publish_loss(struct path_monitor *pm)
{
	pm->m.loss_pct = pm->state == PATH_DOWN ? 100 : window_loss_pct(pm);
}

/* How long a probe may stay unanswered before it counts as lost:
 * max(srtt + max(4 rttvar, srtt / 4), interval). The srtt / 4 floor is
 * RFC 6298's clock-granularity term G: with a perfectly steady RTT,
 * rttvar decays to nothing and every reply a microsecond late would be
 * lost. */
static monotime_ns loss_timeout(const struct path_monitor *pm)
{
	monotime_ns rto;
	double var;

	if (!pm->have_rtt)
		return pm->cfg.interval > FIRST_RTO ? pm->cfg.interval : FIRST_RTO;
	var = 4 * pm->m.rttvar_ms;
	if (var < pm->m.srtt_ms / 4)
		var = pm->m.srtt_ms / 4;
	rto = (monotime_ns)((pm->m.srtt_ms + var) * NSEC_PER_MSEC);
	return rto > pm->cfg.interval ? rto : pm->cfg.interval;
}

void path_monitor_init(struct path_monitor *pm, const struct policy_probe_settings *cfg,
		       monotime_ns now)
{
	memset(pm, 0, sizeof(*pm));
	pm->cfg = sane_settings(cfg);
	pm->state = PATH_UNKNOWN;
	pm->state_since = now;
	pm->next_probe_at = now;
	for (size_t i = 0; i < PATH_PROBE_RING; i++)
		pm->ring[i].fate = PROBE_CLOSED;
}

void path_monitor_reconfigure(struct path_monitor *pm, const struct policy_probe_settings *cfg)
{
	struct policy_probe_settings s = sane_settings(cfg);
	monotime_ns last_sent;

	if (s.loss_window != pm->cfg.loss_window) {
		window_reset(pm);
		pm->cfg.loss_window = s.loss_window;
	}
	/* A shorter interval applies from the last probe, not the next one. */
	if (pm->m.probes_sent) {
		last_sent = pm->ring[(pm->next_seq - 1) & RING_MASK].sent;
		if (pm->next_probe_at > last_sent + s.interval)
			pm->next_probe_at = last_sent + s.interval;
	}
	pm->cfg = s;
	publish_loss(pm);
}

bool path_monitor_probe_due(const struct path_monitor *pm, monotime_ns now)
{
	return now >= pm->next_probe_at;
}

static void declare_lost(struct path_monitor *pm, struct path_probe_slot *slot)
{
	slot->fate = PROBE_LOST;
	pm->replies_in_a_row = 0;
	pm->misses_in_a_row++;
	if (pm->state != PATH_DOWN)
		window_record(pm, true);
}

/* Moves oldest_pending past every probe whose fate is known; with `now`,
 * also past those that waited longer than the loss timeout. */
static void advance_oldest(struct path_monitor *pm, const monotime_ns *now)
{
	monotime_ns timeout = loss_timeout(pm);

	while (pm->oldest_pending != pm->next_seq) {
		struct path_probe_slot *slot = &pm->ring[pm->oldest_pending & RING_MASK];

		if (slot->seq == pm->oldest_pending && slot->fate == PROBE_PENDING) {
			if (!now || *now < slot->sent + timeout)
				break;
			declare_lost(pm, slot);
		}
		pm->oldest_pending++;
	}
}

uint32_t path_monitor_probe_sent(struct path_monitor *pm, monotime_ns now)
{
	struct path_probe_slot *slot;
	uint32_t seq;

	/* The ring is full of pending probes: the oldest is lost by force. */
	while (pm->next_seq - pm->oldest_pending >= PATH_PROBE_RING) {
		slot = &pm->ring[pm->oldest_pending & RING_MASK];
		if (slot->seq == pm->oldest_pending && slot->fate == PROBE_PENDING)
			declare_lost(pm, slot);
		pm->oldest_pending++;
	}
	seq = pm->next_seq++;
	slot = &pm->ring[seq & RING_MASK];
	*slot = (struct path_probe_slot){ .seq = seq, .sent = now, .fate = PROBE_PENDING };
	pm->m.probes_sent++;
	pm->next_probe_at += pm->cfg.interval;
	if (pm->next_probe_at <= now)
		pm->next_probe_at = now + pm->cfg.interval;
	return seq;
}

/* RFC 6298 2.2 and 2.3, rttvar first since it uses the old srtt. */
static void learn_rtt(struct path_monitor *pm, double r)
{
	if (!pm->have_rtt) {
		pm->m.srtt_ms = r;
		pm->m.rttvar_ms = r / 2;
		pm->have_rtt = true;
		return;
	}
	pm->m.rttvar_ms += (absd(pm->m.srtt_ms - r) - pm->m.rttvar_ms) / 4;
	pm->m.srtt_ms += (r - pm->m.srtt_ms) / 8;
}

/* RFC 3550 6.4.1 over consecutive in-time samples. */
static void learn_jitter(struct path_monitor *pm, double r)
{
	if (pm->m.replies)
		pm->m.jitter_ms += (absd(r - pm->m.last_rtt_ms) - pm->m.jitter_ms) / 16;
	pm->m.last_rtt_ms = r;
}

static double sample_ms(const struct path_probe_slot *slot, monotime_ns now)
{
	return now > slot->sent ? (double)(now - slot->sent) / NSEC_PER_MSEC : 0;
}

bool path_monitor_reply(struct path_monitor *pm, uint32_t seq, monotime_ns now)
{
	struct path_probe_slot *slot = &pm->ring[seq & RING_MASK];
	uint32_t age = pm->next_seq - seq;
	double r;

	if (age == 0 || age > PATH_PROBE_RING || slot->seq != seq ||
	    slot->fate != PROBE_PENDING) {
		if (age && age <= PATH_PROBE_RING && slot->seq == seq &&
		    slot->fate == PROBE_LOST) {
			learn_rtt(pm, sample_ms(slot, now));
			slot->fate = PROBE_CLOSED;
		}
		pm->m.late_or_duplicate++;
		return false;
	}
	r = sample_ms(slot, now);
	slot->fate = PROBE_ANSWERED;
	learn_rtt(pm, r);
	learn_jitter(pm, r);
	pm->m.replies++;
	pm->replies_in_a_row++;
	pm->misses_in_a_row = 0;
	pm->last_reply_at = now;
	if (pm->state != PATH_DOWN)
		window_record(pm, false);
	advance_oldest(pm, NULL);
	publish_loss(pm);
	return true;
}

/* The state the counters call for; equal to pm->state when none. */
static enum path_state target_state(const struct path_monitor *pm)
{
	bool up = pm->replies_in_a_row >= pm->cfg.up_after;
	bool down = pm->misses_in_a_row >= pm->cfg.down_after;
	double loss = window_loss_pct(pm);

	switch (pm->state) {
	case PATH_UNKNOWN:
		if (up)
			return loss >= pm->cfg.degraded_loss_pct ? PATH_DEGRADED : PATH_UP;
		return down ? PATH_DOWN : PATH_UNKNOWN;
	case PATH_DOWN:
		return up ? PATH_UP : PATH_DOWN;
	case PATH_UP:
		if (down)
			return PATH_DOWN;
		return loss >= pm->cfg.degraded_loss_pct ? PATH_DEGRADED : PATH_UP;
	case PATH_DEGRADED:
		if (down)
			return PATH_DOWN;
		return loss < pm->cfg.degraded_clear_pct ? PATH_UP : PATH_DEGRADED;
	default:
		return PATH_UNKNOWN;
	}
}

static void transition(struct path_monitor *pm, enum path_state to, monotime_ns now)
{
	if (pm->state == PATH_DOWN)
		window_reset(pm);	/* a fresh start, see the header */
	pm->state = to;
	pm->state_since = now;
	pm->transitions++;
}

bool path_monitor_tick(struct path_monitor *pm, monotime_ns now)
{
	bool changed = false;

	advance_oldest(pm, &now);
	/* At most two steps: UNKNOWN -> UP -> DEGRADED cannot happen in one
	 * tick (the first step already weighs loss), but be bounded anyway. */
	for (int i = 0; i < PATH_STATE__MAX; i++) {
		enum path_state to = target_state(pm);

		if (to == pm->state)
			break;
		transition(pm, to, now);
		changed = true;
	}
	publish_loss(pm);
	return changed;
}

monotime_ns path_monitor_next_event(const struct path_monitor *pm)
{
	monotime_ns next = pm->next_probe_at;
	const struct path_probe_slot *slot = &pm->ring[pm->oldest_pending & RING_MASK];

	if (pm->oldest_pending != pm->next_seq && slot->seq == pm->oldest_pending &&
	    slot->fate == PROBE_PENDING && slot->sent + loss_timeout(pm) < next)
		next = slot->sent + loss_timeout(pm);
	if (target_state(pm) != pm->state && pm->last_reply_at < next)
		next = pm->last_reply_at;
	return next ? next : 1;
}

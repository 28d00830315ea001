/* select: the routing engine's decision for a new session. Given the
 * session's class and destination region, and a view of every node with
 * its paths' live metrics, it filters candidates by the class's
 * constraints, scores them by its objective, keeps the choice stable, and
 * spreads near-equal candidates by weighted rendezvous hashing on the
 * user. The same call, with commit = false, is what `egressctl explain`
 * shows: every candidate, its score and why it lost.
 *
 * Scoring (lower is better), per candidate egress E over its best path P:
 *   rtt     = srtt(access -> E over P) + rtt(E -> destination region)
 *             (the region term is 0 when unknown or for local breakout)
 *   score   = w.rtt_ms * rtt + w.jitter_ms * jitter(P) + w.loss_pct *
 *             loss(P) + w.price_per_gb * price(E) + w.utilisation_pct *
 *             utilisation(E)
 * Constraints, in this order (the first that fails is the reason):
 *   role egress, allowed region, inspection role, member of the pool,
 *   a usable path (up, else degraded), capacity headroom, class limits.
 * If no candidate meets the class's limits (max loss/RTT/jitter) the best
 * one that meets every hard constraint is used and limits_relaxed is set:
 * limits are preferences, regions and inspection are law.
 *
 * Stability: per (class, destination region) the engine remembers the
 * incumbent best. A challenger replaces it only after beating it by
 * switch_margin_pct continuously for switch_hold. Candidates within
 * spread_pct of the effective best share the load: each user goes to the
 * one with the highest weighted rendezvous hash (weight 1/score), so a
 * user keeps one egress (and one egress IP) while the set is stable. */
#ifndef EGRESS_ROUTING_SELECT_H
#define EGRESS_ROUTING_SELECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/monotime.h"
#include "policy/policy.h"
#include "routing/path_monitor.h"

#define ROUTE_MAX_CANDIDATES 64
#define ROUTE_PATH_LOCAL     UINT16_MAX	/* local breakout: no underlay path */

/* The live view of one underlay path to a node. */
struct route_path_view {
	uint16_t index;			/* the node's path index */
	enum path_state state;
	struct path_metrics metrics;
};

/* Where an egress -> destination region figure came from. */
enum route_region_source {
	ROUTE_REGION_UNKNOWN = 0,
	ROUTE_REGION_SELF,		/* this node's own region probes */
	ROUTE_REGION_PROBE,		/* the egress's last probe reply to us */
	ROUTE_REGION_CONTROLLER,	/* the egress's telemetry, shared by the controller */
	ROUTE_REGION__MAX
};
extern const char *const route_region_source_names[ROUTE_REGION__MAX];

/* The live view of one node, as the caller's runtime state sees it. */
struct route_node_view {
	uint32_t node;			/* index into policy nodes */
	bool is_self;			/* local breakout: no path needed */
	const struct route_path_view *paths;
	size_t n_paths;
	double utilisation_pct;		/* reported by the node; 0 unknown */
	/* egress -> destination region, as the node reported it; < 0 unknown */
	double region_rtt_ms;
	double region_loss_pct;
	enum route_region_source region_source;
};

enum route_reason {
	ROUTE_CHOSEN = 0,
	ROUTE_NOT_EGRESS,
	ROUTE_REGION_NOT_ALLOWED,
	ROUTE_NO_INSPECTION,
	ROUTE_NOT_IN_POOL,
	ROUTE_NO_USABLE_PATH,
	ROUTE_NO_CAPACITY,
	ROUTE_OVER_LIMIT,		/* loss, RTT or jitter over the class's limit */
	ROUTE_HIGHER_SCORE,		/* a better candidate won */
	ROUTE_HASHED_ELSEWHERE,		/* near-equal; the user hashes to another */
	ROUTE_INCUMBENT_HELD,		/* better, but not yet for long enough */
	ROUTE_REASON__MAX
};
extern const char *const route_reason_names[ROUTE_REASON__MAX];

struct route_candidate {
	uint32_t node;
	uint16_t path;			/* best path; ROUTE_PATH_LOCAL for self */
	enum path_state path_state;
	enum route_reason reason;
	double score;			/* NaN when filtered before scoring */
	double rtt_ms, region_rtt_ms, jitter_ms, loss_pct, price, utilisation_pct;
	enum route_region_source region_source;
	char detail[96];		/* e.g. "region us not in [eu]", "loss 12% > 5%" */
};

struct route_decision {
	bool found;
	uint32_t node;			/* chosen: index into policy nodes */
	uint16_t path;
	double score;
	bool limits_relaxed;
	size_t n_candidates;
	struct route_candidate candidates[ROUTE_MAX_CANDIDATES];
};

/* Remembers incumbents per (class id, region id). Bounded; old contexts
 * are recycled. */
struct route_stability;
struct route_stability *route_stability_create(size_t max_contexts);
void route_stability_destroy(struct route_stability *s);

/* Decides. commit = false leaves the stability state untouched (explain,
 * plan). stab may be NULL (no stability). dst_region is an index into
 * p->regions or POLICY_NONE; the stability context is keyed by the class's
 * and region's name ids, so it survives a reload. At most
 * ROUTE_MAX_CANDIDATES views are considered. */
void route_select(const struct policy *p, const struct policy_class *cls,
		  uint32_t dst_region, uint32_t user_id,
		  const struct route_node_view *nodes, size_t n_nodes,
		  struct route_stability *stab, monotime_ns now, bool commit,
		  struct route_decision *out);

/* The best usable path of one node for a class (failover within the same
 * egress): UP before DEGRADED, then the lowest rtt/jitter/loss score by
 * the class's weights (cls may be NULL: the latency preset). Returns the
 * path's index (route_path_view.index), ROUTE_PATH_LOCAL for is_self, -1
 * when none is usable. */
int route_best_path(const struct policy_class *cls, const struct route_node_view *node);

#endif

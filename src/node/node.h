/* node: what an egressd becomes under a policy. It owns the policy in
 * force, the flow table, the name cache, the other nodes with their
 * underlay paths and probes, and the data path hooks that the WireGuard
 * device calls:
 *
 *   client packet (decrypted)  -> forward.c: flow hit -> pinned egress/path
 *                                 miss -> decide.c: classify, rules, select
 *   fabric message from a node -> forward.c: DATA (egress side: NAT ->
 *                                 TUN; access side: reply -> client),
 *                                 PROBE -> reply, PROBE_REPLY -> paths.c
 *   packet from the TUN        -> forward.c: a NATed reply -> its flow
 *
 * Without a policy the node is inert and egressd is plain WireGuard.
 * Single-threaded: the daemon's loop owns it. */
#ifndef EGRESS_NODE_H
#define EGRESS_NODE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "dataplane/flow_table.h"
#include "dataplane/name_cache.h"
#include "policy/policy.h"
#include "routing/path_monitor.h"
#include "routing/region_probe.h"
#include "routing/select.h"
#include "wg/device.h"

/* Counters: every decision, failover and drop of the node's data path. */
#define NODE_COUNTERS(X)						\
	X(sessions_new) X(sessions_denied) X(sessions_local_breakout)	\
	X(sessions_no_egress) X(limits_relaxed)			\
	X(failover_same_egress) X(failover_other_egress)		\
	X(drop_parse) X(drop_denied) X(drop_no_egress)			\
	X(drop_fabric_not_node) X(drop_fabric_malformed)		\
	X(drop_fabric_bad_type) X(drop_fabric_no_pool) X(drop_fabric_not_egress)		\
	X(drop_reply_no_flow) X(drop_nat_exhausted)			\
	X(drop_flow_table_full) X(drop_no_buffer)			\
	X(fabric_data_tx) X(fabric_data_rx) X(fabric_reply_tx)	\
	X(fabric_reply_rx)						\
	X(probes_tx) X(probes_rx) X(probe_replies_tx) X(probe_replies_rx) \
	X(probe_replies_stale) X(path_state_changes)			\
	X(dns_answers_learned) X(sni_learned) X(dns_malformed)	\
	X(icmp_errors_returned)						\
	X(security_events) X(security_events_suppressed)		\
	X(policy_reloads) X(policy_reload_failures)

enum node_counter {
#define X(n) NODE_CTR_##n,
	NODE_COUNTERS(X)
#undef X
	NODE_CTR__MAX
};
extern const char *const node_counter_names[NODE_CTR__MAX];

#define NODE_MAX_REPLY_EPS 8
#define NODE_MAX_CONTEXTS  64
#define NODE_REFRESH_INTERVAL MSECONDS(200)

/* What kind of session a flow is (flow.data.flags). */
enum node_flow_flags {
	FLOW_F_DENIED   = 1 << 0,	/* access: denied by a rule; dropped fast */
	FLOW_F_LOCAL    = 1 << 1,	/* access: broken out here, NATed */
	FLOW_F_TRANSIT  = 1 << 2,	/* egress: came from another node, NATed */
	FLOW_F_SNI_DONE = 1 << 3,	/* first client payload already read */
};

/* One underlay path to a remote node: a local link, a remote link, the
 * endpoint packets go to, and its live health. */
struct node_path {
	char name[2 * POLICY_NAME_MAX + 4];	/* "internet" or "lan->private" */
	uint16_t local_link, remote_link;
	struct wg_endpoint ep;
	struct path_monitor mon;
	/* Fabric DATA carried over this path (metrics): sent and received,
	 * inner packet bytes. */
	uint64_t tx_packets, tx_bytes, rx_packets, rx_bytes;
};

/* Another node of the fabric, as this node knows it. Survives reloads
 * (matched by name); paths are rebuilt when their links change. */
struct node_peer {
	char name[POLICY_NAME_MAX];
	uint32_t id;				/* policy_name_id(name) */
	uint32_t policy_idx;			/* in the policy in force */
	struct wg_peer *peer;
	struct node_path *paths;
	size_t n_paths;
	bool probe;				/* we route to it: probe its paths */
	/* What it reported in its last probe reply. */
	double utilisation_pct;
	struct fabric_region_metric regions[FABRIC_MAX_REGIONS];
	uint8_t n_regions;
	monotime_ns last_report;
	/* Its egress -> region figures as the controller shared them (from
	 * the node's own telemetry): used where no probe reply of ours has
	 * them, e.g. before the first reply or for a node we do not probe. */
	struct fabric_region_metric shared_regions[FABRIC_MAX_REGIONS];
	uint8_t n_shared_regions;
	/* Egress side: where this node's packets arrived from, so replies
	 * take the path its sessions came on (flows keep a slot index). */
	struct wg_endpoint reply_eps[NODE_MAX_REPLY_EPS];
	unsigned n_reply_eps, next_reply_ep;
};

struct node {
	struct wg_device *dev;
	char name[POLICY_NAME_MAX];
	uint32_t self_id;
	struct policy *policy;			/* NULL until a policy is applied */
	uint32_t self_idx;

	struct node_peer *peers;		/* every other node in the policy */
	size_t n_peers;
	uint8_t (*managed_keys)[POLICY_KEY_LEN];	/* peers the policy created */
	size_t n_managed;

	struct flow_table *flows;
	struct name_cache *names;
	struct route_stability *stability;
	struct region_probe *regions;

	/* Egress utilisation: bytes sent to the internet, per second. */
	uint64_t breakout_bytes, breakout_bytes_mark;
	monotime_ns breakout_mark_at;
	double utilisation_pct;

	FILE *events;				/* security events, JSON lines */
	struct { uint32_t tokens; monotime_ns refill_at; } event_budget;

	/* Recent decision contexts (class id, region id): the stability
	 * clock of each is advanced by time, not only by new sessions. */
	struct { uint32_t class_id, region_id; } contexts[NODE_MAX_CONTEXTS];
	unsigned n_contexts, next_context;
	monotime_ns next_refresh_at;

	uint64_t counters[NODE_CTR__MAX];
	monotime_ns next_expire_at;
	monotime_ns shared_regions_at;		/* region_share.c; 0 = none */
	/* flow_summary.c: the pass in pieces over a big flow table. */
	struct flow_summary_pass *summary_pass;
};

int node_init(struct node *n, struct wg_device *dev, const char *name, FILE *events);
void node_destroy(struct node *n);

/* Applies a loaded policy: peers for devices and nodes, paths, settings.
 * Everything that can fail is checked first, so on error (returned as
 * -errno with *why set) the node keeps running on its old policy. Pinned
 * flows stay pinned. Takes a reference to p on success. */
int node_apply_policy(struct node *n, struct policy *p, monotime_ns now, const char **why);

/* region_share.c: the controller's per-region egress metrics
 * ([{"node","region","rtt_ms","loss_pct"}], docs/api.md) replace what
 * it shared before. Entries for unknown nodes or regions, or this node,
 * are skipped; returns how many were taken. They are dropped once older
 * than NODE_SHARED_REGIONS_TTL (the controller unreachable meanwhile):
 * received_at is when the controller sent them. */
#define NODE_SHARED_REGIONS_TTL SECONDS(60)
size_t node_set_shared_regions(struct node *n, const json_t *metrics, monotime_ns received_at);
void node_shared_regions_age(struct node *n, monotime_ns now);

/* flow_summary.c: a big flow table is summarised for telemetry in pieces,
 * one per expiry tick, so no tick stalls the data path. */
void node_flow_summary_step(struct node *n);
void node_flow_summary_free(struct node *n);

/* Probes, path health, flow expiry, region probes. */
void node_tick(struct node *n, monotime_ns now);
monotime_ns node_next_event(const struct node *n);

static inline void node_count(struct node *n, enum node_counter c)
{
	n->counters[c]++;
}

/* ---- shared by the node's files ---- */

extern const struct wg_device_hooks node_hooks;

struct node_peer *node_peer_by_id(struct node *n, uint32_t id);
struct node_peer *node_peer_by_wg(struct node *n, const struct wg_peer *peer);
/* Fills views (one per candidate egress node and this node) for select;
 * path views live in path_views (capacity cap). Returns the count. */
size_t node_route_views(struct node *n, uint32_t dst_region, struct route_node_view *views,
			size_t max_views, struct route_path_view *path_views, size_t cap);

/* decide.c: the session a new flow starts, and its decision. */
struct node_session_decision {
	struct policy_decision policy;
	struct route_decision route;
	const char *domain;
};
void node_decide(struct node *n, const struct policy_session *s, monotime_ns now,
		 bool commit, struct node_session_decision *out);
/* Re-runs the decision of every recent context so a better egress takes
 * over after switch_hold even when no session starts meanwhile. */
void node_stability_refresh(struct node *n, monotime_ns now);
void node_security_event(struct node *n, const struct policy_session *s,
			 const struct policy_decision *d, monotime_ns now);

/* paths.c */
void node_paths_rebuild(struct node *n, struct node_peer *np, const struct policy *p);
void node_paths_tick(struct node *n, monotime_ns now);
void node_paths_on_reply(struct node *n, struct node_peer *np,
			 const struct fabric_probe_reply *r, monotime_ns now);
void node_paths_on_probe(struct node *n, struct node_peer *np, const struct fabric_probe *pr,
			 const struct wg_endpoint *from, monotime_ns now);
/* The best usable path of np by RTT, -1 if none. */
int node_paths_best(const struct node_peer *np);

#endif

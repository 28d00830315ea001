/* metrics: renders the device, its peers, the node's counters, paths and
 * flow table as Prometheus families. Each family is written whole before
 * the next starts (the format wants them contiguous), so per-peer and
 * per-path families loop over the peers or paths once per family. */
#include "node/metrics.h"
#include "wg/peer.h"

#include <math.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#define KEY_B64_LEN 45		/* 44 characters and the NUL */

static void key_b64(const uint8_t key[NOISE_PUBLIC_KEY_LEN], char out[KEY_B64_LEN])
{
	EVP_EncodeBlock((unsigned char *)out, key, NOISE_PUBLIC_KEY_LEN);
}

/* ---- identity ---- */

static void render_info(const struct wg_device *dev, const struct node *node,
			const char *ifname, struct prom_buf *out)
{
	char key[KEY_B64_LEN] = "";

	prom_family(out, "egress_build_info", PROM_GAUGE, "Always 1; the egressd version.");
	prom_sample_u64(out, PROM_LABELS({ "version", EGRESS_VERSION }), 1);
	if (dev->identity.has_identity)
		key_b64(dev->identity.static_public, key);
	prom_family(out, "egress_device_info", PROM_GAUGE,
		    "Always 1; the interface, node name and public key of this egressd.");
	prom_sample_u64(out, PROM_LABELS({ "interface", ifname ? ifname : "" },
					 { "node", node ? node->name : "" },
					 { "public_key", key }), 1);
	prom_gauge(out, "egress_policy_version",
		   "Version of the policy in force (0 for a local file), -1 without a policy.",
		   node && node->policy ? (double)node->policy->version : -1);
	prom_gauge(out, "egress_peers", "WireGuard peers configured.", (double)dev->n_peers);
	prom_gauge(out, "egress_handshake_queue_length",
		   "Handshake messages waiting to be processed.", (double)dev->handshakes.len);
}

/* ---- peers ---- */

/* The policy's name for a peer: a device of a user, or another node. */
static const char *peer_name(const struct node *node, const struct wg_peer *peer)
{
	const struct policy *p = node ? node->policy : NULL;
	uint32_t i;

	if (!p)
		return "";
	if ((i = policy_find_device_by_key(p, peer->public_key)) != POLICY_NONE)
		return p->devices[i].name;
	if ((i = policy_find_node_by_key(p, peer->public_key)) != POLICY_NONE)
		return p->nodes[i].name;
	return "";
}

enum peer_value {
	PEER_RX_BYTES, PEER_TX_BYTES, PEER_RX_PACKETS, PEER_TX_PACKETS, PEER_LAST_HANDSHAKE
};

static const struct {
	const char *name, *help;
	enum prom_type type;
} peer_families[] = {
	[PEER_RX_BYTES] = { "egress_peer_rx_bytes_total",
			    "Bytes received from the peer (WireGuard packets, as wg show).",
			    PROM_COUNTER },
	[PEER_TX_BYTES] = { "egress_peer_tx_bytes_total",
			    "Bytes sent to the peer (WireGuard packets, as wg show).",
			    PROM_COUNTER },
	[PEER_RX_PACKETS] = { "egress_peer_rx_packets_total",
			      "WireGuard messages received from the peer (data, keepalives, "
			      "handshakes: what rx_bytes counts).", PROM_COUNTER },
	[PEER_TX_PACKETS] = { "egress_peer_tx_packets_total",
			      "WireGuard messages sent to the peer (data, keepalives, "
			      "handshakes: what tx_bytes counts).", PROM_COUNTER },
	[PEER_LAST_HANDSHAKE] = { "egress_peer_last_handshake_seconds",
				  "Unix time of the last completed handshake, 0 for never.",
				  PROM_GAUGE },
};

static double peer_value(const struct wg_peer *peer, enum peer_value v)
{
	const struct timespec *t = &peer->walltime_last_handshake;

	switch (v) {
	case PEER_RX_BYTES:
		return (double)peer->rx_bytes;
	case PEER_TX_BYTES:
		return (double)peer->tx_bytes;
	case PEER_RX_PACKETS:
		return (double)peer->rx_packets;
	case PEER_TX_PACKETS:
		return (double)peer->tx_packets;
	case PEER_LAST_HANDSHAKE:
		return t->tv_sec ? (double)t->tv_sec + (double)t->tv_nsec / 1e9 : 0;
	}
	return NAN;
}

static void render_peers(const struct wg_device *dev, const struct node *node,
			 struct prom_buf *out)
{
	for (size_t f = 0; f < sizeof(peer_families) / sizeof(peer_families[0]); f++) {
		if (!dev->peers_head)
			break;
		prom_family(out, peer_families[f].name, peer_families[f].type,
			    peer_families[f].help);
		for (const struct wg_peer *p = dev->peers_head; p; p = p->list_next) {
			char key[KEY_B64_LEN];

			key_b64(p->public_key, key);
			prom_sample_double(out, PROM_LABELS({ "peer", key },
							    { "name", peer_name(node, p) }),
					   peer_value(p, (enum peer_value)f));
		}
	}
}

/* ---- counters ---- */

static bool is_wg_drop(size_t i)
{
	return strstr(wg_counter_names[i], "drop") != NULL;
}

static bool is_node_drop(size_t i)
{
	return !strncmp(node_counter_names[i], "drop_", 5);
}

/* One family for every drop reason of the device and the node. */
static void render_drops(const struct wg_device *dev, const struct node *node,
			 struct prom_buf *out)
{
	prom_family(out, "egress_drops_total", PROM_COUNTER,
		    "Packets dropped, by reason: the device or node counter that counted them.");
	for (size_t i = 0; i < WG_CTR__MAX; i++)
		if (is_wg_drop(i))
			prom_sample_u64(out, PROM_LABELS({ "reason", wg_counter_names[i] }),
					dev->counters[i]);
	for (size_t i = 0; node && i < NODE_CTR__MAX; i++)
		if (is_node_drop(i))
			prom_sample_u64(out, PROM_LABELS({ "reason", node_counter_names[i] }),
					node->counters[i]);
}

static void render_wg_counters(const struct wg_device *dev, struct prom_buf *out)
{
	for (size_t i = 0; i < WG_CTR__MAX; i++) {
		char name[PROM_NAME_MAX], help[160];

		if (is_wg_drop(i))
			continue;
		snprintf(name, sizeof(name), "egress_%s_total", wg_counter_names[i]);
		snprintf(help, sizeof(help), "WireGuard device counter %s (src/wg/counters.h).",
			 wg_counter_names[i]);
		prom_counter(out, name, help, dev->counters[i]);
	}
}

/* Where a node counter goes: a family, and labels telling it from the
 * other counters of that family (label NULL: the family is its own;
 * label2 NULL: one label). */
struct node_series {
	char family[PROM_NAME_MAX];
	const char *label;
	char value[64];
	const char *label2, *value2;
	const char *help;
};

static const char sessions_help[] =
	"Decisions on new sessions: result=new counts every one; denied, local_breakout, "
	"no_egress and limits_relaxed count those among them with that outcome.";
static const char failovers_help[] =
	"Sessions moved off a failed path: to another path of the same egress because "
	"their path went down, or to another egress because it had no usable path left.";
static const char reloads_help[] =
	"Policy reloads (SIGHUP) by result; on error the old policy stays.";

/* Counters whose family and labels do not follow from their names. */
static const struct {
	const char *counter, *family, *label, *value, *label2, *value2, *help;
} node_named[] = {
	{ "policy_reloads", "egress_policy_reloads_total", "result", "ok", NULL, NULL,
	  reloads_help },
	{ "policy_reload_failures", "egress_policy_reloads_total", "result", "error", NULL,
	  NULL, reloads_help },
	{ "limits_relaxed", "egress_sessions_total", "result", "limits_relaxed", NULL, NULL,
	  sessions_help },
	{ "failover_same_egress", "egress_failovers_total", "kind", "same_egress",
	  "reason", "path_down", failovers_help },
	{ "failover_other_egress", "egress_failovers_total", "kind", "other_egress",
	  "reason", "egress_down", failovers_help },
};

/* Counters grouped by prefix: the rest of the name is the label's value. */
static const struct {
	const char *prefix, *family, *label, *help;
} node_groups[] = {
	{ "sessions_", "egress_sessions_total", "result", sessions_help },
	{ "failover_", "egress_failovers_total", "kind", failovers_help },
};

static bool node_series_named(const char *name, struct node_series *s)
{
	for (size_t i = 0; i < sizeof(node_named) / sizeof(node_named[0]); i++) {
		if (strcmp(name, node_named[i].counter))
			continue;
		snprintf(s->family, sizeof(s->family), "%s", node_named[i].family);
		s->label = node_named[i].label;
		snprintf(s->value, sizeof(s->value), "%s", node_named[i].value);
		s->label2 = node_named[i].label2;
		s->value2 = node_named[i].value2;
		s->help = node_named[i].help;
		return true;
	}
	return false;
}

static bool node_series_of(size_t i, struct node_series *s)
{
	const char *name = node_counter_names[i];
	size_t len = strlen(name);

	s->label = s->label2 = NULL;
	s->help = NULL;
	if (is_node_drop(i))
		return false;
	if (node_series_named(name, s))
		return true;
	for (size_t g = 0; g < sizeof(node_groups) / sizeof(node_groups[0]); g++) {
		size_t plen = strlen(node_groups[g].prefix);

		if (strncmp(name, node_groups[g].prefix, plen))
			continue;
		snprintf(s->family, sizeof(s->family), "%s", node_groups[g].family);
		s->label = node_groups[g].label;
		snprintf(s->value, sizeof(s->value), "%s", name + plen);
		s->help = node_groups[g].help;
		return true;
	}
	/* probes_tx, probes_rx -> egress_probes_total{dir="tx"|"rx"} */
	if (len > 3 && (!strcmp(name + len - 3, "_tx") || !strcmp(name + len - 3, "_rx"))) {
		snprintf(s->family, sizeof(s->family), "egress_%.*s_total", (int)(len - 3), name);
		s->label = "dir";
		snprintf(s->value, sizeof(s->value), "%s", name + len - 2);
		return true;
	}
	snprintf(s->family, sizeof(s->family), "egress_%s_total", name);
	return true;
}

/* Writes every node counter of family (those from first on). */
static void render_node_family(const struct node *node, size_t first,
			       const struct node_series *head, struct prom_buf *out)
{
	char help[160];

	if (!head->help)
		snprintf(help, sizeof(help), "Node counter %s (src/node/node.h).",
			 node_counter_names[first]);
	prom_family(out, head->family, PROM_COUNTER, head->help ? head->help : help);
	for (size_t k = first; k < NODE_CTR__MAX; k++) {
		struct node_series s;

		if (!node_series_of(k, &s) || strcmp(s.family, head->family))
			continue;
		if (s.label2)
			prom_sample_u64(out, PROM_LABELS({ s.label, s.value },
							 { s.label2, s.value2 }),
					node->counters[k]);
		else if (s.label)
			prom_sample_u64(out, PROM_LABELS({ s.label, s.value }), node->counters[k]);
		else
			prom_sample_u64(out, NULL, 0, node->counters[k]);
	}
}

static bool node_family_done(size_t i, const char *family)
{
	for (size_t j = 0; j < i; j++) {
		struct node_series s;

		if (node_series_of(j, &s) && !strcmp(s.family, family))
			return true;
	}
	return false;
}

static void render_node_counters(const struct node *node, struct prom_buf *out)
{
	for (size_t i = 0; i < NODE_CTR__MAX; i++) {
		struct node_series s;

		if (node_series_of(i, &s) && !node_family_done(i, s.family))
			render_node_family(node, i, &s, out);
	}
}

/* ---- paths ---- */

static double ms_to_s(double ms)
{
	return ms / 1e3;
}

enum path_field {
	PATH_RTT, PATH_RTTVAR, PATH_JITTER, PATH_LOSS, PATH_PROBES, PATH_REPLIES, PATH_LATE,
	PATH_TRANSITIONS, PATH_TX_PACKETS, PATH_TX_BYTES, PATH_RX_PACKETS, PATH_RX_BYTES,
};

static const struct {
	const char *name, *help;
	enum prom_type type;
	enum path_field field;
} path_families[] = {
	{ "egress_path_rtt_seconds", "Smoothed RTT of the path's probes (RFC 6298 SRTT).",
	  PROM_GAUGE, PATH_RTT },
	{ "egress_path_rttvar_seconds", "RTT variation of the path (RFC 6298 RTTVAR).",
	  PROM_GAUGE, PATH_RTTVAR },
	{ "egress_path_jitter_seconds", "Interarrival jitter of the path (RFC 3550).",
	  PROM_GAUGE, PATH_JITTER },
	{ "egress_path_loss_ratio", "Probe loss over the path's loss window, 0 to 1.",
	  PROM_GAUGE, PATH_LOSS },
	{ "egress_path_probes_sent_total", "Probes sent on the path.", PROM_COUNTER,
	  PATH_PROBES },
	{ "egress_path_probe_replies_total", "Probe replies received in time on the path.",
	  PROM_COUNTER, PATH_REPLIES },
	{ "egress_path_late_replies_total",
	  "Probe replies that came after their probe was counted lost, or twice.",
	  PROM_COUNTER, PATH_LATE },
	{ "egress_path_transitions_total", "Changes of the path's state.", PROM_COUNTER,
	  PATH_TRANSITIONS },
	{ "egress_path_tx_packets_total",
	  "Session packets sent to the egress over the path (fabric DATA).", PROM_COUNTER,
	  PATH_TX_PACKETS },
	{ "egress_path_tx_bytes_total",
	  "Bytes of the session packets sent over the path (inner IP packets).",
	  PROM_COUNTER, PATH_TX_BYTES },
	{ "egress_path_rx_packets_total",
	  "Session replies received from the egress over the path (fabric DATA).",
	  PROM_COUNTER, PATH_RX_PACKETS },
	{ "egress_path_rx_bytes_total",
	  "Bytes of the session replies received over the path (inner IP packets).",
	  PROM_COUNTER, PATH_RX_BYTES },
};

static double path_value(const struct node_path *path, enum path_field field)
{
	const struct path_monitor *pm = &path->mon;
	const struct path_metrics *m = &pm->m;

	switch (field) {
	case PATH_RTT: return pm->have_rtt ? ms_to_s(m->srtt_ms) : NAN;
	case PATH_RTTVAR: return pm->have_rtt ? ms_to_s(m->rttvar_ms) : NAN;
	case PATH_JITTER: return pm->have_rtt ? ms_to_s(m->jitter_ms) : NAN;
	case PATH_LOSS: return m->loss_pct / 100;
	case PATH_PROBES: return (double)m->probes_sent;
	case PATH_REPLIES: return (double)m->replies;
	case PATH_LATE: return (double)m->late_or_duplicate;
	case PATH_TRANSITIONS: return (double)pm->transitions;
	case PATH_TX_PACKETS: return (double)path->tx_packets;
	case PATH_TX_BYTES: return (double)path->tx_bytes;
	case PATH_RX_PACKETS: return (double)path->rx_packets;
	case PATH_RX_BYTES: return (double)path->rx_bytes;
	}
	return NAN;
}

/* Paths this node measures: those to nodes it routes to (as egressctl paths). */
static bool node_has_paths(const struct node *node)
{
	for (size_t i = 0; node->policy && i < node->n_peers; i++)
		if (node->peers[i].probe && node->peers[i].n_paths)
			return true;
	return false;
}

#define FOR_EACH_PATH(node, np, k)						\
	for (const struct node_peer *np = (node)->peers;			\
	     np < (node)->peers + (node)->n_peers; np++)			\
		for (size_t k = 0; np->probe && k < np->n_paths; k++)

static void render_path_states(const struct node *node, struct prom_buf *out)
{
	prom_family(out, "egress_path_state", PROM_GAUGE,
		    "1 for the path's current state (up, degraded, down, unknown), else 0.");
	FOR_EACH_PATH(node, np, k) {
		for (int s = 0; s < PATH_STATE__MAX; s++)
			prom_sample_u64(out, PROM_LABELS({ "peer", np->name },
							 { "path", np->paths[k].name },
							 { "state", path_state_names[s] }),
					np->paths[k].mon.state == (enum path_state)s);
	}
	prom_family(out, "egress_path_best", PROM_GAUGE,
		    "1 for the path the node's peer endpoint follows (best usable by RTT).");
	FOR_EACH_PATH(node, np, k)
		prom_sample_u64(out, PROM_LABELS({ "peer", np->name },
						 { "path", np->paths[k].name }),
				node_paths_best(np) == (int)k);
}

static void render_paths(const struct node *node, struct prom_buf *out)
{
	if (!node_has_paths(node))
		return;
	for (size_t f = 0; f < sizeof(path_families) / sizeof(path_families[0]); f++) {
		prom_family(out, path_families[f].name, path_families[f].type,
			    path_families[f].help);
		FOR_EACH_PATH(node, np, k)
			prom_sample_double(out, PROM_LABELS({ "peer", np->name },
							    { "path", np->paths[k].name }),
					   path_value(&np->paths[k], path_families[f].field));
	}
	render_path_states(node, out);
}

/* What egress nodes report about their reach to destination regions. */
static const char *region_name(const struct policy *p, uint32_t id)
{
	for (size_t i = 0; i < p->n_regions; i++)
		if (p->regions[i].id == id)
			return p->regions[i].name;
	return "?";
}

static double region_value(const struct fabric_region_metric *m, bool loss)
{
	if (loss)
		return m->loss_permille / 1e3;
	return m->rtt_us == UINT32_MAX ? INFINITY : m->rtt_us / 1e6;
}

static void render_region_family(const struct node *node, bool loss, struct prom_buf *out)
{
	for (size_t i = 0; i < node->n_peers; i++) {
		const struct node_peer *np = &node->peers[i];

		for (unsigned r = 0; r < np->n_regions; r++) {
			const struct fabric_region_metric *m = &np->regions[r];

			if (loss)
				prom_family(out, "egress_region_loss_ratio", PROM_GAUGE,
					    "Loss from an egress to a destination region, "
					    "as the egress reports it.");
			else
				prom_family(out, "egress_region_rtt_seconds", PROM_GAUGE,
					    "RTT from an egress to a destination region, as the "
					    "egress reports it (+Inf: unreachable).");
			prom_sample_double(out, PROM_LABELS({ "egress", np->name },
				{ "region", region_name(node->policy, m->region_id) }),
				region_value(m, loss));
		}
	}
}

/* ---- flows ---- */

static void render_flows(const struct node *node, struct prom_buf *out)
{
	const struct flow_table_counters *c;

	if (!node->flows)
		return;
	c = flow_table_counters(node->flows);
	prom_gauge(out, "egress_flows_active", "Sessions in the flow table.",
		   (double)flow_table_count(node->flows));
	prom_gauge(out, "egress_flows_capacity", "Most sessions the flow table holds.",
		   (double)flow_table_capacity(node->flows));
	prom_gauge(out, "egress_flow_table_bytes", "Memory of the flow table.",
		   (double)flow_table_memory(node->flows));
	prom_counter(out, "egress_flows_inserted_total", "Sessions added.", c->inserted);
	prom_counter(out, "egress_flows_expired_total", "Sessions removed after idling.",
		     c->expired);
	prom_counter(out, "egress_flows_evicted_total",
		     "Sessions evicted (least recently used) because the table was full.",
		     c->evicted_full);
	prom_counter(out, "egress_flow_lookups_total", "Flow table lookups.", c->lookups);
	prom_counter(out, "egress_flow_lookup_hits_total", "Flow table lookups that found a flow.",
		     c->hits);
}

static void render_node(const struct node *node, struct prom_buf *out)
{
	render_node_counters(node, out);
	render_flows(node, out);
	prom_counter(out, "egress_breakout_bytes_total",
		     "Bytes this node sent to the internet (as an egress).", node->breakout_bytes);
	prom_gauge(out, "egress_utilisation_ratio",
		   "Breakout rate over this node's capacity, 0 to 1 (0 when unlimited).",
		   node->utilisation_pct / 100);
	render_paths(node, out);
	if (node->policy) {
		render_region_family(node, false, out);
		render_region_family(node, true, out);
	}
}

int node_metrics_render(const struct wg_device *dev, const struct node *node,
			const char *ifname, struct prom_buf *out)
{
	render_info(dev, node, ifname, out);
	render_peers(dev, node, out);
	render_drops(dev, node, out);
	render_wg_counters(dev, out);
	if (node)
		render_node(node, out);
	return out->err;
}

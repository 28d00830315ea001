/* paths: the underlay paths to other nodes and their probes. A path is a
 * (local link, remote link) pair on the same network. The access side
 * probes every path of every egress node it may route to; the egress side
 * only answers, over the endpoint the probe came from, so a path is
 * measured the way its traffic flows (through NAT and relays too). */
#include "node/node.h"
#include "common/log.h"
#include "fabric/messages.h"
#include "wg/peer.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void path_name(char *out, size_t cap, const struct policy_link *local,
		      const struct policy_link *remote)
{
	if (!strcmp(local->name, remote->name))
		snprintf(out, cap, "%s", remote->name);
	else
		snprintf(out, cap, "%s->%s", local->name, remote->name);
}

static struct wg_endpoint link_endpoint(const struct policy_link *local,
					const struct policy_link *remote)
{
	struct wg_endpoint ep = { .addr = remote->endpoint };

	if (local->source.family == remote->endpoint.sa.sa_family) {
		ep.has_src = true;
		if (local->source.family == AF_INET)
			memcpy(&ep.src4, local->source.a, 4);
		else
			memcpy(&ep.src6, local->source.a, 16);
	}
	return ep;
}

/* Keeps the monitor of a path whose name and endpoint did not change, so
 * a reload loses no measurements. */
static const struct node_path *find_old_path(const struct node_path *old, size_t n_old,
					     const struct node_path *np)
{
	for (size_t i = 0; i < n_old; i++)
		if (!strcmp(old[i].name, np->name) &&
		    wg_sockaddr_equal(&old[i].ep.addr, &np->ep.addr))
			return &old[i];
	return NULL;
}

/* A path that survives a reload keeps its measurements and its traffic
 * counters (they are metrics: a reset would read as a restart). */
static void path_keep(struct node_path *path, const struct node_path *prev,
		      const struct policy *p)
{
	path->mon = prev->mon;
	path_monitor_reconfigure(&path->mon, &p->probe);
	path->tx_packets = prev->tx_packets;
	path->tx_bytes = prev->tx_bytes;
	path->rx_packets = prev->rx_packets;
	path->rx_bytes = prev->rx_bytes;
}

void node_paths_rebuild(struct node *n, struct node_peer *np, const struct policy *p)
{
	const struct policy_node *me = &p->nodes[policy_find_node(p, n->name)];
	const struct policy_node *them = &p->nodes[np->policy_idx];
	struct node_path *paths, *old = np->paths;
	size_t k = 0, n_old = np->n_paths;
	monotime_ns now = monotime_now();

	paths = calloc(me->n_links * them->n_links + 1, sizeof(*paths));
	if (!paths)
		return;		/* keeps the old paths: degraded, not broken */
	for (size_t l = 0; l < me->n_links; l++) {
		for (size_t r = 0; r < them->n_links; r++) {
			const struct policy_link *ll = &me->links[l], *rl = &them->links[r];
			struct node_path *path = &paths[k];
			const struct node_path *prev;

			if (strcmp(ll->network, rl->network) ||
			    !wg_endpoint_is_set(&(struct wg_endpoint){ .addr = rl->endpoint }))
				continue;
			path_name(path->name, sizeof(path->name), ll, rl);
			path->local_link = (uint16_t)l;
			path->remote_link = (uint16_t)r;
			path->ep = link_endpoint(ll, rl);
			prev = find_old_path(old, n_old, path);
			if (prev)
				path_keep(path, prev, p);
			else
				path_monitor_init(&path->mon, &p->probe, now);
			k++;
		}
	}
	free(old);
	np->paths = paths;
	np->n_paths = k;
}

int node_paths_best(const struct node_peer *np)
{
	int best = -1;
	double best_rtt = INFINITY;

	for (int pass = 0; pass < 2 && best < 0; pass++) {
		for (size_t i = 0; i < np->n_paths; i++) {
			const struct path_monitor *m = &np->paths[i].mon;
			enum path_state want = pass == 0 ? PATH_UP : PATH_DEGRADED;

			if (m->state == want && m->m.srtt_ms < best_rtt) {
				best_rtt = m->m.srtt_ms;
				best = (int)i;
			}
		}
	}
	return best;
}

/* Handshakes and keepalives follow the best path, so losing one underlay
 * never strands the session itself. */
static void steer_peer_endpoint(struct node_peer *np)
{
	int best = node_paths_best(np);

	if (best >= 0 && np->peer)
		wg_peer_set_endpoint(np->peer, &np->paths[best].ep);
}

static void send_probe(struct node *n, struct node_peer *np, uint16_t idx, monotime_ns now)
{
	struct node_path *path = &np->paths[idx];
	struct pkt *p = pkt_alloc(&n->dev->pool);
	struct fabric_probe pr = { .path = idx, .tx_ns = now, .node_id = n->self_id };

	if (!p) {
		node_count(n, NODE_CTR_drop_no_buffer);
		return;
	}
	pr.seq = path_monitor_probe_sent(&path->mon, now);
	p->len = fabric_encode_probe(p->data, FABRIC_PROBE_LEN, &pr);
	wg_device_send_to_peer(n->dev, np->peer, p, &path->ep);
	node_count(n, NODE_CTR_probes_tx);
}

static void log_transition(const struct node_peer *np, const struct node_path *path,
			   enum path_state from)
{
	log_info("path %s via %s: %s -> %s (rtt %.1f ms, jitter %.1f ms, loss %.1f%%)",
		 np->name, path->name, path_state_names[from],
		 path_state_names[path->mon.state], path->mon.m.srtt_ms,
		 path->mon.m.jitter_ms, path->mon.m.loss_pct);
}

void node_paths_tick(struct node *n, monotime_ns now)
{
	for (size_t i = 0; i < n->n_peers; i++) {
		struct node_peer *np = &n->peers[i];
		bool changed = false;

		if (!np->probe || !np->peer)
			continue;
		/* A probe waiting for a handshake would measure the handshake,
		 * not the path: without a session the probe counts as sent
		 * (and lost, so a dead node's paths go down) and a handshake
		 * is asked for instead. */
		bool session = wg_peer_sending_keypair(np->peer, now) != NULL;

		if (!session && wg_endpoint_is_set(&np->peer->endpoint))
			wg_send_handshake_initiation(np->peer, false, now);
		for (size_t k = 0; k < np->n_paths; k++) {
			struct node_path *path = &np->paths[k];
			enum path_state before = path->mon.state;

			if (path_monitor_probe_due(&path->mon, now)) {
				if (session)
					send_probe(n, np, (uint16_t)k, now);
				else
					path_monitor_probe_sent(&path->mon, now);
			}
			if (path_monitor_tick(&path->mon, now)) {
				log_transition(np, path, before);
				node_count(n, NODE_CTR_path_state_changes);
				changed = true;
			}
		}
		if (changed)
			steer_peer_endpoint(np);
	}
}

void node_paths_on_reply(struct node *n, struct node_peer *np,
			 const struct fabric_probe_reply *r, monotime_ns now)
{
	struct node_path *path;
	enum path_state before;

	if (r->probe.path >= np->n_paths || r->probe.node_id != np->id) {
		node_count(n, NODE_CTR_probe_replies_stale);
		return;
	}
	path = &np->paths[r->probe.path];
	before = path->mon.state;
	if (!path_monitor_reply(&path->mon, r->probe.seq, now)) {
		node_count(n, NODE_CTR_probe_replies_stale);
		return;
	}
	node_count(n, NODE_CTR_probe_replies_rx);
	np->utilisation_pct = r->utilisation_permille / 10.0;
	np->n_regions = r->n_regions;
	memcpy(np->regions, r->regions, r->n_regions * sizeof(r->regions[0]));
	np->last_report = now;
	if (path_monitor_tick(&path->mon, now)) {
		log_transition(np, path, before);
		node_count(n, NODE_CTR_path_state_changes);
		steer_peer_endpoint(np);
	}
}

/* Egress side: answer over the endpoint the probe came from, with what
 * the access side needs to score us: load and egress -> region RTTs. */
void node_paths_on_probe(struct node *n, struct node_peer *np, const struct fabric_probe *pr,
			 const struct wg_endpoint *from, monotime_ns now)
{
	struct fabric_probe_reply r = { .probe = *pr };
	struct pkt *p = pkt_alloc(&n->dev->pool);
	double util = n->utilisation_pct * 10;

	(void)now;
	if (!p) {
		node_count(n, NODE_CTR_drop_no_buffer);
		return;
	}
	r.probe.node_id = n->self_id;
	r.utilisation_permille = (uint16_t)(util > 65535 ? 65535 : util < 0 ? 0 : util);
	region_probe_fill_reply(n->regions, &r);
	p->len = fabric_encode_probe_reply(p->data, PKT_MAX_INNER, &r);
	wg_device_send_to_peer(n->dev, np->peer, p, from);
	node_count(n, NODE_CTR_probe_replies_tx);
}

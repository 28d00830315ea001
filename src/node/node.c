/* node: life cycle of a node under a policy: applying a policy to the
 * WireGuard device (peers for every device and node), keeping the other
 * nodes' runtime state across reloads, and the periodic work. */
#include "node/node.h"
#include "common/log.h"
#include "wg/peer.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

const char *const node_counter_names[NODE_CTR__MAX] = {
#define X(n) #n,
	NODE_COUNTERS(X)
#undef X
};

#define NODE_NAME_CACHE_MAX  65536
#define NODE_NAME_TTL_MIN    60
#define NODE_NAME_TTL_MAX    3600
#define NODE_STABILITY_MAX   4096
#define NODE_EXPIRE_BUDGET   4096
#define NODE_EXPIRE_INTERVAL MSECONDS(250)

int node_init(struct node *n, struct wg_device *dev, const char *name, FILE *events)
{
	memset(n, 0, sizeof(*n));
	n->dev = dev;
	snprintf(n->name, sizeof(n->name), "%s", name);
	n->self_id = policy_name_id(name);
	n->events = events;
	n->names = name_cache_create(NODE_NAME_CACHE_MAX, NODE_NAME_TTL_MIN, NODE_NAME_TTL_MAX);
	n->stability = route_stability_create(NODE_STABILITY_MAX);
	n->regions = region_probe_create();
	if (!n->names || !n->stability || !n->regions) {
		node_destroy(n);
		return -ENOMEM;
	}
	return 0;
}

static void free_peers(struct node_peer *peers, size_t count)
{
	for (size_t i = 0; i < count; i++)
		free(peers[i].paths);
	free(peers);
}

void node_destroy(struct node *n)
{
	if (n->flows)
		flow_table_destroy(n->flows);
	if (n->names)
		name_cache_destroy(n->names);
	if (n->stability)
		route_stability_destroy(n->stability);
	if (n->regions)
		region_probe_destroy(n->regions);
	free_peers(n->peers, n->n_peers);
	free(n->managed_keys);
	node_flow_summary_free(n);
	if (n->policy)
		policy_unref(n->policy);
	memset(n, 0, sizeof(*n));
}

struct node_peer *node_peer_by_id(struct node *n, uint32_t id)
{
	for (size_t i = 0; i < n->n_peers; i++)
		if (n->peers[i].id == id)
			return &n->peers[i];
	return NULL;
}

struct node_peer *node_peer_by_wg(struct node *n, const struct wg_peer *peer)
{
	for (size_t i = 0; i < n->n_peers; i++)
		if (n->peers[i].peer == peer)
			return &n->peers[i];
	return NULL;
}

/* ---- applying a policy to the device ---- */

static bool add_allowed_prefix(struct wg_peer_conf *pc, const struct ip_prefix *pfx)
{
	struct wg_allowed_ip ip = { .family = pfx->addr.family, .cidr = pfx->len };

	memcpy(ip.addr, pfx->addr.a, sizeof(ip.addr));
	return wg_peer_conf_add_allowed_ip(pc, &ip);
}

static bool conf_add_device(struct wg_device_conf *c, const struct policy_device *d)
{
	struct wg_peer_conf *pc = wg_device_conf_add_peer(c);

	if (!pc)
		return false;
	memcpy(pc->public_key, d->public_key, POLICY_KEY_LEN);
	pc->replace_allowed_ips = true;
	for (size_t i = 0; i < d->n_addresses; i++)
		if (!add_allowed_prefix(pc, &d->addresses[i]))
			return false;
	return true;
}

/* Other nodes carry only fabric messages: no allowed IPs. The endpoint is
 * set when the peer is new; afterwards paths.c steers it. */
static bool conf_add_node(struct wg_device_conf *c, const struct policy_node *pn,
			  const struct wg_device *dev)
{
	struct wg_peer_conf *pc = wg_device_conf_add_peer(c);

	if (!pc)
		return false;
	memcpy(pc->public_key, pn->public_key, POLICY_KEY_LEN);
	pc->replace_allowed_ips = true;
	if (!wg_peer_lookup(dev, pn->public_key)) {
		for (size_t l = 0; l < pn->n_links; l++) {
			if (wg_endpoint_is_set(&(struct wg_endpoint){ .addr = pn->links[l].endpoint })) {
				pc->has_endpoint = true;
				pc->endpoint = pn->links[l].endpoint;
				break;
			}
		}
	}
	return true;
}

static bool key_in_policy(const struct policy *p, const uint8_t *key)
{
	return policy_find_node_by_key(p, key) != POLICY_NONE ||
	       policy_find_device_by_key(p, key) != POLICY_NONE;
}

/* Managed peers the new policy no longer names are removed; peers added
 * by hand with `wg set` are left alone. */
static bool conf_remove_stale(struct wg_device_conf *c, const struct node *n,
			      const struct policy *p)
{
	for (size_t i = 0; i < n->n_managed; i++) {
		struct wg_peer_conf *pc;

		if (key_in_policy(p, n->managed_keys[i]) ||
		    !wg_peer_lookup(n->dev, n->managed_keys[i]))
			continue;
		pc = wg_device_conf_add_peer(c);
		if (!pc)
			return false;
		memcpy(pc->public_key, n->managed_keys[i], POLICY_KEY_LEN);
		pc->remove = true;
	}
	return true;
}

static int build_device_conf(struct node *n, const struct policy *p, uint32_t self,
			     struct wg_device_conf *c)
{
	const struct policy_node *me = &p->nodes[self];

	memset(c, 0, sizeof(*c));
	if (me->listen_port && me->listen_port != n->dev->listen_port) {
		c->has_listen_port = true;
		c->listen_port = me->listen_port;
	}
	for (size_t i = 0; i < p->n_devices; i++)
		if (!conf_add_device(c, &p->devices[i]))
			return -ENOMEM;
	for (size_t i = 0; i < p->n_nodes; i++)
		if (i != self && !conf_add_node(c, &p->nodes[i], n->dev))
			return -ENOMEM;
	return conf_remove_stale(c, n, p) ? 0 : -ENOMEM;
}

static int remember_managed(struct node *n, const struct policy *p)
{
	size_t count = p->n_devices + p->n_nodes;
	uint8_t (*keys)[POLICY_KEY_LEN] = calloc(count ? count : 1, POLICY_KEY_LEN);
	size_t k = 0;

	if (!keys)
		return -ENOMEM;
	for (size_t i = 0; i < p->n_devices; i++)
		memcpy(keys[k++], p->devices[i].public_key, POLICY_KEY_LEN);
	for (size_t i = 0; i < p->n_nodes; i++)
		memcpy(keys[k++], p->nodes[i].public_key, POLICY_KEY_LEN);
	free(n->managed_keys);
	n->managed_keys = keys;
	n->n_managed = k;
	return 0;
}

/* Flows that point at a peer that no longer exists must go: the flow
 * table holds raw peer pointers. */
struct purge_ctx {
	struct node *n;
	struct flow **victims;
	size_t count, cap;
};

static bool collect_orphans(void *ctx, struct flow *f)
{
	struct purge_ctx *pc = ctx;
	struct wg_peer *peer = f->data.peer;
	bool alive = false;

	if (!peer)
		return true;
	for (struct wg_peer *q = pc->n->dev->peers_head; q && !alive; q = q->list_next)
		alive = q == peer;
	if (!alive && pc->count < pc->cap)
		pc->victims[pc->count++] = f;
	return true;
}

static void purge_orphan_flows(struct node *n)
{
	struct purge_ctx pc = { .n = n };

	if (!n->flows || !flow_table_count(n->flows))
		return;
	pc.cap = flow_table_count(n->flows);
	pc.victims = calloc(pc.cap, sizeof(*pc.victims));
	if (!pc.victims)
		return;
	flow_table_walk(n->flows, collect_orphans, &pc);
	for (size_t i = 0; i < pc.count; i++)
		flow_table_remove(n->flows, pc.victims[i]);
	free(pc.victims);
}

/* The new set of other nodes, carrying over runtime state by name. */
static struct node_peer *build_peers(struct node *n, const struct policy *p, uint32_t self,
				     size_t *count)
{
	struct node_peer *peers = calloc(p->n_nodes ? p->n_nodes : 1, sizeof(*peers));
	bool i_route = p->nodes[self].roles & POLICY_ROLE_ACCESS;
	size_t k = 0;

	if (!peers)
		return NULL;
	for (uint32_t i = 0; i < p->n_nodes; i++) {
		const struct policy_node *pn = &p->nodes[i];
		struct node_peer *old, *np;

		if (i == self)
			continue;
		np = &peers[k++];
		old = node_peer_by_id(n, pn->id);
		if (old) {
			*np = *old;
			old->paths = NULL;	/* moved */
			old->n_paths = 0;
		}
		snprintf(np->name, sizeof(np->name), "%s", pn->name);
		np->id = pn->id;
		np->policy_idx = i;
		np->peer = wg_peer_lookup(n->dev, pn->public_key);
		np->probe = i_route && (pn->roles & POLICY_ROLE_EGRESS);
		node_paths_rebuild(n, np, p);
	}
	*count = k;
	return peers;
}

static struct flow_timeouts flow_timeouts_from(const struct policy_flow_settings *s)
{
	return (struct flow_timeouts){
		.tcp_syn = s->tcp_syn, .tcp_established = s->tcp_established,
		.tcp_closing = s->tcp_closing, .udp = s->udp, .icmp = s->icmp,
		.other = s->other,
	};
}

static int ensure_flow_table(struct node *n, const struct policy *p)
{
	struct flow_timeouts t = flow_timeouts_from(&p->flows);

	if (n->flows) {
		/* The table's size is fixed at creation: a new max applies on
		 * restart (said in docs/node.md). */
		flow_table_set_timeouts(n->flows, &t);
		return 0;
	}
	n->flows = flow_table_create(p->flows.max_flows, &t);
	return n->flows ? 0 : -ENOMEM;
}

int node_apply_policy(struct node *n, struct policy *p, monotime_ns now, const char **why)
{
	uint32_t self = policy_find_node(p, n->name);
	struct wg_device_conf conf;
	struct node_peer *peers;
	size_t n_peers = 0;
	int ret;

	(void)now;
	*why = "node not named in the policy";
	if (self == POLICY_NONE)
		return -ENOENT;
	*why = "out of memory";
	if (ensure_flow_table(n, p) < 0)
		return -ENOMEM;
	ret = build_device_conf(n, p, self, &conf);
	*why = "the device refused the peers (duplicate key or address?)";
	if (ret == 0)
		ret = wg_device_set_conf(n->dev, &conf, now);
	wg_device_conf_free(&conf);
	if (ret < 0)
		return ret;
	*why = "out of memory";
	peers = build_peers(n, p, self, &n_peers);
	if (!peers || remember_managed(n, p) < 0) {
		free(peers);
		return -ENOMEM;
	}
	free_peers(n->peers, n->n_peers);
	n->peers = peers;
	n->n_peers = n_peers;
	region_probe_configure(n->regions, p, self);
	if (n->policy)
		policy_unref(n->policy);
	n->policy = policy_ref(p);
	n->self_idx = self;
	purge_orphan_flows(n);
	*why = NULL;
	return 0;
}

/* ---- periodic work ---- */

static void update_utilisation(struct node *n, monotime_ns now)
{
	const struct policy_node *me = &n->policy->nodes[n->self_idx];
	double secs, mbps;

	if (now - n->breakout_mark_at < SECONDS(1))
		return;
	secs = (double)(now - n->breakout_mark_at) / NSEC_PER_SEC;
	mbps = (double)(n->breakout_bytes - n->breakout_bytes_mark) * 8 / 1e6 / secs;
	n->utilisation_pct = me->capacity_mbps > 0 ? 100.0 * mbps / me->capacity_mbps : 0;
	n->breakout_bytes_mark = n->breakout_bytes;
	n->breakout_mark_at = now;
}

void node_tick(struct node *n, monotime_ns now)
{
	if (!n->policy)
		return;
	node_paths_tick(n, now);
	node_stability_refresh(n, now);
	region_probe_tick(n->regions, now);
	update_utilisation(n, now);
	if (now >= n->next_expire_at) {
		flow_table_expire(n->flows, now, NODE_EXPIRE_BUDGET, NULL, NULL);
		node_flow_summary_step(n);
		node_shared_regions_age(n, now);
		n->next_expire_at = now + NODE_EXPIRE_INTERVAL;
	}
	wg_device_send_pending(n->dev, now);
}

monotime_ns node_next_event(const struct node *n)
{
	monotime_ns next;

	if (!n->policy)
		return 0;
	next = n->next_expire_at;
	for (size_t i = 0; i < n->n_peers; i++) {
		const struct node_peer *np = &n->peers[i];

		for (size_t k = 0; np->probe && k < np->n_paths; k++) {
			monotime_ns e = path_monitor_next_event(&np->paths[k].mon);

			if (e && e < next)
				next = e;
		}
	}
	monotime_ns r = region_probe_next_event(n->regions);

	if (r && r < next)
		next = r;
	if (n->n_contexts && n->next_refresh_at < next)
		next = n->next_refresh_at;
	return next;
}

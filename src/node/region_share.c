/* region_share: egress -> region costs measured elsewhere. Every egress
 * probes its regions' targets and reports the figures two ways: in its
 * probe replies (to the access nodes that probe it) and in telemetry to
 * the controller, which hands the fleet's figures to every node. This
 * file takes the controller's copy into the node's peers, where
 * decide.c uses it when no probe reply of its own has the region. */
#include "node/node.h"

#include <math.h>
#include <string.h>

static int region_index(const struct policy *p, const char *name)
{
	for (size_t i = 0; name && i < p->n_regions; i++)
		if (strcmp(p->regions[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* One entry into its peer; false when it names nothing we know. */
static bool share_one(struct node *n, const json_t *e)
{
	const char *node = json_string_value(json_object_get(e, "node"));
	double rtt = json_number_value(json_object_get(e, "rtt_ms"));
	double loss = json_number_value(json_object_get(e, "loss_pct"));
	int r = region_index(n->policy, json_string_value(json_object_get(e, "region")));
	struct node_peer *np = node ? node_peer_by_id(n, policy_name_id(node)) : NULL;
	struct fabric_region_metric *m;

	if (!np || r < 0 || np->n_shared_regions >= FABRIC_MAX_REGIONS ||
	    !json_is_number(json_object_get(e, "rtt_ms")) || !isfinite(rtt) || rtt < 0 ||
	    rtt > 60000 || !isfinite(loss))
		return false;
	m = &np->shared_regions[np->n_shared_regions++];
	m->region_id = n->policy->regions[r].id;
	m->rtt_us = (uint32_t)lround(rtt * 1000);
	m->loss_permille = (uint16_t)lround(fmin(fmax(loss, 0), 100) * 10);
	return true;
}

size_t node_set_shared_regions(struct node *n, const json_t *metrics, monotime_ns received_at)
{
	size_t i, taken = 0;
	const json_t *e;

	for (size_t k = 0; k < n->n_peers; k++)
		n->peers[k].n_shared_regions = 0;
	n->shared_regions_at = 0;
	if (!n->policy || !json_is_array(metrics))
		return 0;
	json_array_foreach(metrics, i, e)
		taken += share_one(n, e);
	n->shared_regions_at = taken ? received_at : 0;
	return taken;
}

/* From node_tick: figures the controller has not renewed for a minute
 * (it is unreachable) describe a network that may have changed since. */
void node_shared_regions_age(struct node *n, monotime_ns now)
{
	if (n->shared_regions_at && now - n->shared_regions_at > NODE_SHARED_REGIONS_TTL)
		node_set_shared_regions(n, NULL, 0);
}

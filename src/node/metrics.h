/* metrics: everything an egressd knows, as Prometheus text (docs/metrics.md
 * lists each metric). It only reads the device and the node; the daemon's
 * loop calls it for each scrape, so nothing here needs a lock. Counter
 * families come from the X-macro tables (WG_COUNTERS, NODE_COUNTERS): a
 * new counter shows up as a metric without an edit here. */
#ifndef EGRESS_NODE_METRICS_H
#define EGRESS_NODE_METRICS_H

#include "metrics/prom.h"
#include "node/node.h"
#include "wg/device.h"

#ifndef EGRESS_VERSION
#define EGRESS_VERSION "dev"
#endif

/* Appends the exposition to out. node may be NULL (plain WireGuard): then
 * only the device's families and egress_policy_version -1 are written.
 * Returns 0, or out->err (-ENOMEM, or -EINVAL/-EEXIST for a bug here). */
int node_metrics_render(const struct wg_device *dev, const struct node *node,
			const char *ifname, struct prom_buf *out);

#endif

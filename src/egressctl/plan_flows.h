/* plan_flows: a plan's sample sessions from a node's live flows. */
#ifndef EGRESS_EGRESSCTL_PLAN_FLOWS_H
#define EGRESS_EGRESSCTL_PLAN_FLOWS_H

#include <jansson.h>
#include <stddef.h>

#include "egressctl/control_client.h"

/* The "flows" answer of egressd on IFNAME (at most limit flows), or NULL
 * after saying why on stderr. */
json_t *plan_flows_fetch(const char *ifname, size_t limit);

/* SESSIONs for POST /policy/plan from a flows answer: at most max,
 * distinct but for the source port; *skipped counts flows left out
 * (transit, or without a user). Never NULL. */
json_t *plan_sessions_from_flows(const json_t *answer, size_t max, size_t *skipped);

#endif

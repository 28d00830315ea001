/* report: the node's state as JSON for the control socket (egressctl
 * paths, flows, explain; docs/control.md has the schemas). Requests carry
 * key=value arguments, already split by the caller. */
#ifndef EGRESS_NODE_REPORT_H
#define EGRESS_NODE_REPORT_H

#include <jansson.h>

#include "node/node.h"

struct report_args {
	const char *keys[16];
	const char *values[16];
	size_t n;
};

/* Splits "cmd k=v k=v" (the request's first line, modified in place).
 * Returns the command, or NULL when the line is malformed. */
const char *report_args_parse(char *line, struct report_args *args, const char **error);
const char *report_arg(const struct report_args *args, const char *key);

/* Each returns a new JSON object: the answer, or {"error": "..."}. */
json_t *node_report_paths(struct node *n, monotime_ns now);
json_t *node_report_flows(struct node *n, const struct report_args *args, monotime_ns now);
json_t *node_report_explain(struct node *n, const struct report_args *args, monotime_ns now);
/* Active flows counted by egress, class and kind (flow_summary.c):
 * [{"egress","class","flows","denied","transit"}], at most 129 rows. */
json_t *node_report_flow_summary(const struct node *n);
/* Node counters and flow table figures as "name value" lines appended to
 * out (cap bytes); returns the length added. */
size_t node_report_counters(const struct node *n, char *out, size_t cap);

#endif

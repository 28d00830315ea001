/* diff: what `egressctl plan` shows before an apply: the changes between
 * two compiled policies by kind and name (docs/api.md, DIFF), and how
 * sample sessions would change class, verdict and egress (MOVE). Egress
 * choices use nominal metrics (every path up, equal RTT): live RTTs are
 * the nodes' business, a plan shows what the rules and classes do. */
#ifndef EGRESS_POLICY_DIFF_H
#define EGRESS_POLICY_DIFF_H

#include <jansson.h>

#include "policy/policy.h"

/* old may be NULL (first version): everything is "added". */
json_t *policy_diff_json(const struct policy *old, const struct policy *new_);

/* sessions: a JSON array of SESSION objects. Returns a JSON array of MOVE
 * objects, or NULL with *err set (a malformed session, named by index). */
json_t *policy_plan_sessions_json(const struct policy *old, const struct policy *new_,
				  const json_t *sessions, const char **err);

#endif

/* agent: egressd as a node of an egress-controller (docs/agent.md).
 *
 * Two threads of its own do the blocking HTTP and never touch the node:
 *
 *   policy thread     enroll once (credential saved 0600), then long-poll
 *                     GET /node/policy; a new version is written to
 *                     STATE/NODE.policy.new.yaml and handed to the main
 *                     loop through an eventfd; the main loop applies it
 *                     the way SIGHUP does and answers; only a policy that
 *                     applied becomes STATE/NODE.policy.yaml (fail-static
 *                     across restarts).
 *   telemetry thread  POSTs the snapshot the main loop builds every 5 s and
 *                     hands back the region metrics from the answer.
 *
 * The main loop calls every function below except where said; the
 * struct's lock is the only thing both sides touch. */
#ifndef EGRESS_AGENT_H
#define EGRESS_AGENT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/monotime.h"

#define AGENT_DEFAULT_STATE_DIR "/var/lib/egress"
#define AGENT_TELEMETRY_INTERVAL SECONDS(5)
#define AGENT_POLL_WAIT_S 25

struct node;
struct agent;

struct agent_config {
	const char *url;		/* controller base URL */
	const char *enroll_token;	/* NULL: a saved credential must exist */
	const char *state_dir;
	const char *cacert;		/* NULL: the system's CAs */
	const char *node;		/* this node's name in the policy */
};

/* The persisted last good policy of node in state_dir: true with its path
 * and version when there is one (the daemon starts from it at once). */
bool agent_saved_policy(const char *state_dir, const char *node, char *path, size_t cap,
			uint64_t *version);

/* Checks the config, creates the state directory, starts the threads.
 * running: the version the node starts with (0: none). -errno on error,
 * with the reason printed. */
int agent_start(struct agent **out, const struct agent_config *cfg, uint64_t running);
/* Asks the threads to stop and joins them (about a second at most). */
void agent_stop(struct agent *a);

/* Becomes readable when there is something to take below. */
int agent_fd(const struct agent *a);
void agent_drain_fd(struct agent *a);

/* A fetched policy waits to be applied: true with its version and file. */
bool agent_take_policy(struct agent *a, uint64_t *version, char *path, size_t cap);
/* What came of it: ok, or why not (the node keeps its old policy; the
 * reason goes into telemetry). Must follow every agent_take_policy. */
void agent_policy_result(struct agent *a, uint64_t version, bool ok, const char *why);

/* When the next telemetry snapshot is due (0 before the first). */
monotime_ns agent_telemetry_due(const struct agent *a);
/* telemetry.c: builds the snapshot from the node (main loop only) and
 * hands it to the telemetry thread, replacing one not sent yet. */
void agent_telemetry_offer(struct agent *a, struct node *n, monotime_ns now);
/* The region metrics of the latest telemetry answer, if new since the
 * last call (a new reference), else NULL. */
json_t *agent_take_region_metrics(struct agent *a);

#endif

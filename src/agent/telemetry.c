/* telemetry: what the node tells the controller every 5 s, and the
 * per-region egress metrics the controller tells back.
 *
 * The snapshot is built on the main loop (the node's owner) as JSON text
 * and left in a one-entry slot; the telemetry thread POSTs whatever is in
 * the slot, newest wins, so a slow controller never queues snapshots. */
#include "agent/agent_internal.h"
#include "common/log.h"
#include "node/node.h"
#include "node/report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- main loop ---- */

static json_t *telemetry_counters(const struct node *n)
{
	json_t *c = json_object();

	for (int i = 0; n && i < NODE_CTR__MAX; i++)
		json_object_set_new(c, node_counter_names[i],
				    json_integer((json_int_t)n->counters[i]));
	return c;
}

/* This node's own egress -> region measurements (empty unless it is an
 * egress with probe targets). */
static json_t *telemetry_regions(const struct node *n)
{
	json_t *out = json_array();
	double rtt, loss;

	for (size_t i = 0; n && n->policy && n->regions && i < n->policy->n_regions; i++) {
		if (!region_probe_metric(n->regions, (uint32_t)i, &rtt, &loss))
			continue;
		json_array_append_new(out, json_pack("{s:s, s:s, s:f, s:f}", "node", n->name,
			"region", n->policy->regions[i].name, "rtt_ms", rtt, "loss_pct", loss));
	}
	return out;
}

static json_t *telemetry_paths(struct node *n, monotime_ns now)
{
	json_t *report, *paths;

	if (!n)
		return json_array();
	report = node_report_paths(n, now);
	paths = json_incref(json_object_get(report, "paths"));
	json_decref(report);
	return paths ? paths : json_array();
}

void agent_telemetry_offer(struct agent *a, struct node *n, monotime_ns now)
{
	json_t *snap;
	char *text;

	a->telemetry_due = now + AGENT_TELEMETRY_INTERVAL;
	snap = json_pack("{s:I, s:o, s:o, s:o, s:o}", "running_version",
			 (json_int_t)(n && n->policy ? n->policy->version : 0),
			 "paths", telemetry_paths(n, now), "counters", telemetry_counters(n),
			 "regions", telemetry_regions(n),
			 "egress_summary", n ? node_report_flow_summary(n) : json_array());
	if (!snap)
		return;
	pthread_mutex_lock(&a->lock);
	json_object_set_new(snap, "policy_error", a->policy_error[0] ?
			    json_string(a->policy_error) : json_null());
	pthread_mutex_unlock(&a->lock);
	text = json_dumps(snap, JSON_COMPACT);
	json_decref(snap);
	if (!text)
		return;
	pthread_mutex_lock(&a->lock);
	free(a->telemetry);
	a->telemetry = text;
	pthread_cond_broadcast(&a->cond);
	pthread_mutex_unlock(&a->lock);
}

/* ---- the telemetry thread ---- */

/* Waits for a snapshot and a credential; NULL once stopping. */
static char *telemetry_next(struct agent *a, char *cred, size_t cap)
{
	char *text = NULL;

	pthread_mutex_lock(&a->lock);
	while (!atomic_load(&a->stop) && (!a->telemetry || !a->credential[0]))
		agent_wait_locked(a, SECONDS(1));
	if (!atomic_load(&a->stop) && strlen(a->credential) < cap) {
		text = a->telemetry;
		a->telemetry = NULL;
		strcpy(cred, a->credential);
	}
	pthread_mutex_unlock(&a->lock);
	return text;
}

/* The answer {"region_metrics":[...]}: kept for the main loop. */
static void telemetry_answer(struct agent *a, const struct agent_http_resp *r)
{
	json_t *root = json_loadb(r->body ? r->body : "", r->len, 0, NULL);
	json_t *m = json_object_get(root, "region_metrics");

	if (json_is_array(m)) {
		pthread_mutex_lock(&a->lock);
		json_decref(a->region_metrics);
		a->region_metrics = json_incref(m);
		a->region_metrics_new = true;
		pthread_mutex_unlock(&a->lock);
		agent_wake_main(a);
	}
	json_decref(root);
}

void *agent_telemetry_main(void *arg)
{
	struct agent *a = arg;
	struct agent_http http;
	struct agent_http_resp r;
	char cred[AGENT_CREDENTIAL_MAX], *text;
	bool failing = false, ok;

	agent_http_init(a, &http);
	while ((text = telemetry_next(a, cred, sizeof(cred)))) {
		ok = agent_http_request(&http, "POST", "/api/v1/node/telemetry", cred, text, 10,
					&r) && r.status == 200;
		free(text);
		if (ok)
			telemetry_answer(a, &r);
		/* The policy thread logs the controller's reachability; this
		 * says only when telemetry stops and starts again. */
		if (!ok && !failing)
			log_warn("telemetry not delivered (%s)", r.status ? "HTTP error" : r.error);
		else if (ok && failing)
			log_info("telemetry delivered again");
		failing = !ok;
		agent_http_resp_free(&r);
	}
	explicit_bzero(cred, sizeof(cred));
	agent_http_close(&http);
	return NULL;
}

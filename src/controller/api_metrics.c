/* api_metrics: GET /metrics, the controller's own figures in Prometheus
 * text (through prom.h), and the latency histogram api_handle() feeds. */
#include "controller/api_internal.h"
#include "metrics/prom.h"

#include <stdio.h>
#include <string.h>

#define PROM_TYPE "text/plain; version=0.0.4; charset=utf-8"

static const unsigned codes[API_N_CODES] = API_CODES;

/* Upper bounds, seconds: half a millisecond (a GET served from memory) to
 * 2.5 s (a large plan) for the API, then up to a minute so a long-poll
 * (25 s by default, API_WAIT_MAX_S at most) lands in a bucket of its own
 * route instead of stretching the others. */
static const double duration_bounds[] = {
	0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
	5, 10, 30, 60,
};
#define N_BOUNDS (sizeof(duration_bounds) / sizeof(duration_bounds[0]))
_Static_assert(N_BOUNDS <= PROM_BUCKETS_MAX, "more buckets than prom.h keeps");

void api_metrics_observe(struct api *a, enum api_route r, double seconds)
{
	prom_histogram_observe(&a->duration[r], duration_bounds, N_BOUNDS, seconds);
}

static void render_durations(struct prom_buf *b, const struct api *a)
{
	prom_family(b, "egress_controller_request_duration_seconds", PROM_HISTOGRAM,
		    "Seconds from the arrival of a request to its answer, by route; node_policy "
		    "long-polls include their wait (up to 60 s).");
	for (int r = 0; r < API_R_COUNT; r++)
		if (a->duration[r].count)
			prom_sample_histogram(b, PROM_LABELS({ "route", api_route_names[r] }),
					      &a->duration[r], duration_bounds, N_BOUNDS);
}

static void render_requests(struct prom_buf *b, const struct api *a)
{
	char code[8];

	prom_family(b, "egress_controller_requests_total", PROM_COUNTER,
		    "Requests answered, by route and status code.");
	for (int r = 0; r < API_R_COUNT; r++) {
		for (size_t i = 0; i < API_N_CODES; i++) {
			if (!a->requests[r][i])
				continue;
			snprintf(code, sizeof(code), "%u", codes[i]);
			prom_sample_u64(b, PROM_LABELS({ "route", api_route_names[r] },
						       { "code", code }), a->requests[r][i]);
		}
	}
	prom_family(b, "egress_controller_request_seconds_total", PROM_COUNTER,
		    "Seconds spent answering, by route (excludes long-poll waits); "
		    "divide by requests_total for the mean.");
	for (int r = 0; r < API_R_COUNT; r++)
		prom_sample_double(b, PROM_LABELS({ "route", api_route_names[r] }),
				   a->seconds[r]);
	render_durations(b, a);
}

static void render_nodes(struct prom_buf *b, const struct api *a, unix_ms wall)
{
	unix_ms online_ms = (unix_ms)API_ONLINE_PERIODS * API_WAIT_DEFAULT_S * 1000;
	uint64_t online = 0;

	for (size_t i = 0; i < a->n_nodes; i++)
		if (a->nodes[i].last_seen && wall - a->nodes[i].last_seen <= online_ms)
			online++;
	prom_family(b, "egress_controller_nodes", PROM_GAUGE,
		    "Nodes that reported (online: within 3 long-poll periods).");
	prom_sample_u64(b, PROM_LABELS({ "state", "online" }), online);
	prom_sample_u64(b, PROM_LABELS({ "state", "offline" }), a->n_nodes - online);
}

void api_metrics(struct api_call *c)
{
	struct api *a = c->api;
	struct prom_buf b;

	prom_buf_init(&b);
	render_requests(&b, a);
	prom_gauge(&b, "egress_controller_policy_version", "The current policy version.",
		   (double)a->version);
	render_nodes(&b, a, c->rq->wall);
	prom_gauge(&b, "egress_controller_longpoll_waiters", "Node long-polls waiting now.",
		   (double)a->waiters);
	prom_counter(&b, "egress_controller_auth_failures_total",
		     "Refused credentials (401).", a->auth_failures);
	prom_counter(&b, "egress_controller_auth_failures_unaudited_total",
		     "Refused credentials over the audit rate limit.", a->auth_unaudited);
	if (b.err)
		api_reply_error(c->rs, 500, "metrics render failed");
	else
		api_reply_text(c->rs, 200, PROM_TYPE, b.data ? b.data : "", b.len);
	prom_buf_free(&b);
}

/* api_metrics: GET /metrics (Prometheus text through prom.h) and GET /,
 * the dashboard: a static page whose script reads the JSON API with an
 * admin token the operator pastes in (kept in the page's memory only). */
#include "controller/api_internal.h"
#include "metrics/prom.h"

#include <stdio.h>
#include <string.h>

#define PROM_TYPE "text/plain; version=0.0.4; charset=utf-8"

static const unsigned codes[API_N_CODES] = API_CODES;

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

static const char dashboard[] =
	"<!doctype html>\n<html><head><meta charset=\"utf-8\">"
	"<title>egress-controller</title>\n<style>body{font-family:sans-serif;margin:2em}"
	"pre{background:#f4f4f4;padding:1em;overflow:auto;max-height:30em}</style></head>\n"
	"<body><h1>egress-controller</h1>\n"
	"<p><label>Admin token <input id=\"tok\" type=\"password\" size=\"90\"></label> "
	"<button id=\"go\">Load</button></p>\n"
	"<h2>Policy</h2><pre id=\"policy\"></pre>\n"
	"<h2>Versions</h2><pre id=\"versions\"></pre>\n"
	"<h2>Nodes</h2><pre id=\"nodes\"></pre>\n"
	"<h2>Audit</h2><pre id=\"audit\"></pre>\n"
	"<script>\n"
	"async function get(path) {\n"
	"  const r = await fetch('/api/v1/' + path, {headers: {Authorization: 'Bearer ' +\n"
	"    document.getElementById('tok').value}});\n"
	"  return r.status + ' ' + (r.status == 204 ? '' : await r.text());\n"
	"}\n"
	"async function load() {\n"
	"  for (const [id, path] of [['policy', 'policy'], ['versions', 'policy/versions?limit=20'],\n"
	"      ['nodes', 'nodes'], ['audit', 'audit?limit=100']]) {\n"
	"    let t = await get(path);\n"
	"    try { t = JSON.stringify(JSON.parse(t.slice(4)), null, 2); } catch (e) {}\n"
	"    document.getElementById(id).textContent = t;\n"
	"  }\n"
	"}\n"
	"document.getElementById('go').onclick = load;\n"
	"</script></body></html>\n";

void api_dashboard(struct api_call *c)
{
	api_reply_text(c->rs, 200, "text/html; charset=utf-8", dashboard, sizeof(dashboard) - 1);
}

/* paths: the underlay paths to every other node with their live probe
 * metrics (the best one per peer marked '*'), then what egress nodes
 * report of their own paths to destination regions, then the peers. */
#include "egressctl/render.h"
#include "egressctl/subcommand.h"

static int paths_build(int argc, char **argv, struct control_request *req)
{
	if (argc > 0)
		return subcommand_bad_arg("paths", argv[0], NULL, "unexpected argument");
	control_request_init(req, "paths");
	return EGRESSCTL_OK;
}

static struct cell paths_probes(const json_t *p)
{
	unsigned long long sent, replies;
	struct cell c = { "-" };

	if (js_count(p, "probes_sent", &sent) && js_count(p, "replies", &replies))
		snprintf(c.s, sizeof(c.s), "%llu/%llu", replies, sent);
	return c;
}

static void paths_print_paths(const json_t *paths, FILE *out)
{
	struct table *t = table_new("llllllrrrr");
	const json_t *p;
	size_t i;

	if (!json_array_size(paths)) {
		fputs("no paths\n", out);
		table_free(t);
		return;
	}
	table_add_strs(t, "", "PEER", "PATH", "ENDPOINT", "STATE", "SINCE", "RTT", "JITTER",
		       "LOSS", "PROBES", NULL);
	json_array_foreach(paths, i, p) {
		table_add(t, js_true(p, "best") ? "*" : "");
		table_add(t, render_str(p, "peer").s);
		table_add(t, render_str(p, "path").s);
		table_add(t, render_str(p, "endpoint").s);
		table_add(t, render_str(p, "state").s);
		table_add(t, render_secs(p, "since_s").s);
		table_add(t, render_ms(p, "rtt_ms").s);
		table_add(t, render_ms(p, "jitter_ms").s);
		table_add(t, render_pct(p, "loss_pct").s);
		table_add(t, paths_probes(p).s);
	}
	table_print(t, out, "");
	table_free(t);
}

static void paths_print_regions(const json_t *regions, FILE *out)
{
	struct table *t = table_new("llrr");
	const json_t *r;
	size_t i;

	table_add_strs(t, "EGRESS", "REGION", "RTT", "LOSS", NULL);
	json_array_foreach(regions, i, r) {
		table_add(t, render_str(r, "peer").s);
		table_add(t, render_str(r, "region").s);
		table_add(t, render_ms(r, "rtt_ms").s);
		table_add(t, render_pct(r, "loss_pct").s);
	}
	fputs("\negress -> destination region\n", out);
	table_print(t, out, "");
	table_free(t);
}

/* "access,egress"; "-" when none are known. */
static struct cell paths_roles(const json_t *peer)
{
	const json_t *roles = js_array(peer, "roles"), *r;
	struct cell c = { "" };
	size_t i, len = 0;

	json_array_foreach(roles, i, r) {
		if (json_is_string(r) && len < sizeof(c.s))
			len += (size_t)snprintf(c.s + len, sizeof(c.s) - len, "%s%s",
						len ? "," : "", json_string_value(r));
	}
	return len ? c : (struct cell){ "-" };
}

static void paths_print_peers(const json_t *peers, FILE *out)
{
	struct table *t = table_new("lllrr");
	const json_t *p;
	size_t i;

	table_add_strs(t, "PEER", "REGION", "ROLES", "UTIL", "REPORTED", NULL);
	json_array_foreach(peers, i, p) {
		double s;

		table_add(t, render_str(p, "name").s);
		table_add(t, render_str(p, "region").s);
		table_add(t, paths_roles(p).s);
		table_add(t, render_pct(p, "utilisation_pct").s);
		if (js_num(p, "last_report_s", &s))
			table_addf(t, "%s ago", format_secs(s).s);
		else
			table_add(t, "never");
	}
	fputs("\npeers\n", out);
	table_print(t, out, "");
	table_free(t);
}

static void paths_render(const json_t *answer, FILE *out)
{
	const json_t *regions = js_array(answer, "regions");
	const json_t *peers = js_array(answer, "peers");
	unsigned long long version;

	if (!js_str(answer, "node")) {
		fputs("no policy: egressd runs as a plain WireGuard endpoint\n", out);
		return;
	}
	fprintf(out, "node %s", js_str(answer, "node"));
	if (js_count(answer, "policy_version", &version))
		fprintf(out, ", policy version %llu", version);
	fputs("\n\n", out);
	paths_print_paths(js_array(answer, "paths"), out);
	if (json_array_size(regions))
		paths_print_regions(regions, out);
	if (json_array_size(peers))
		paths_print_peers(peers, out);
}

const struct subcommand paths_subcommand = {
	.name = "paths",
	.summary = "underlay paths to every node with live RTT, jitter and loss",
	.usage = "",
	.details = "",
	.build = paths_build,
	.render = paths_render,
};

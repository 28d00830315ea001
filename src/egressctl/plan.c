/* plan: "what would this policy change?" before an apply. Sends the
 * document (and sample sessions) to POST /policy/plan and shows the
 * answer: valid or every error as file:line:col, the changes by kind,
 * and how each sample session would move. */
#include <stdlib.h>
#include <string.h>

#include "egressctl/api_client.h"
#include "egressctl/args.h"
#include "egressctl/plan_flows.h"
#include "egressctl/render.h"
#include "egressctl/subcommand.h"

static const char *const plan_kinds[] = {
	"nodes", "regions", "pools", "users", "destinations", "classes", "rules",
};

static void plan_print_kind(const json_t *diff, const char *kind, FILE *out, bool *any)
{
	const json_t *k = js_object(diff, kind), *v;
	const json_t *added = js_array(k, "added"), *removed = js_array(k, "removed");
	const json_t *changed = js_array(k, "changed");
	size_t i, j;

	if (!json_array_size(added) && !json_array_size(removed) && !json_array_size(changed))
		return;
	*any = true;
	fprintf(out, "%s:\n", kind);
	json_array_foreach(added, i, v)
		fprintf(out, "  + %s\n", json_is_string(v) ? json_string_value(v) : "-");
	json_array_foreach(removed, i, v)
		fprintf(out, "  - %s\n", json_is_string(v) ? json_string_value(v) : "-");
	json_array_foreach(changed, i, v) {
		const json_t *f;

		fprintf(out, "  ~ %s", render_str(v, "name").s);
		json_array_foreach(js_array(v, "fields"), j, f)
			fprintf(out, "%s%s", j ? ", " : ": ", json_is_string(f) ?
				json_string_value(f) : "-");
		fputc('\n', out);
	}
}

static void plan_print_diff(const json_t *diff, FILE *out)
{
	const json_t *settings = js_array(diff, "settings_changed"), *v;
	bool any = false;
	size_t i;

	for (i = 0; i < sizeof(plan_kinds) / sizeof(plan_kinds[0]); i++)
		plan_print_kind(diff, plan_kinds[i], out, &any);
	if (json_array_size(settings)) {
		any = true;
		fputs("settings:\n", out);
		json_array_foreach(settings, i, v)
			fprintf(out, "  ~ %s\n", json_is_string(v) ? json_string_value(v) : "-");
	}
	if (!any)
		fputs("no changes\n", out);
}

/* "alice 203.0.113.10:443/tcp dscp 46 zoom.us" */
static struct cell plan_session_text(const json_t *s)
{
	struct cell c, dst = render_addr_port(js_str(s, "dst"), s, "dport", true);
	const char *proto = js_str(s, "proto"), *domain = js_str(s, "domain");
	double dscp = 0, pnum;
	int n;

	n = snprintf(c.s, sizeof(c.s), "%s %s", render_str(s, "user").s, dst.s);
	if (proto)
		n += snprintf(c.s + n, sizeof(c.s) - (size_t)n, "/%s", proto);
	else if (js_num(s, "proto", &pnum))
		n += snprintf(c.s + n, sizeof(c.s) - (size_t)n, "/%.0f", pnum);
	if (n < (int)sizeof(c.s) && js_num(s, "dscp", &dscp) && dscp > 0)
		n += snprintf(c.s + n, sizeof(c.s) - (size_t)n, " dscp %.0f", dscp);
	if (n < (int)sizeof(c.s) && domain)
		snprintf(c.s + n, sizeof(c.s) - (size_t)n, " %s", domain);
	return c;
}

/* "allow voice -> fra1", "deny (no-zoom)", "-" for no previous version. */
static struct cell plan_outcome_text(const json_t *o)
{
	struct cell c = { "-" };
	const char *action = js_str(o, "action"), *rule = js_str(o, "rule");

	if (!json_is_object(o) || !action)
		return c;
	if (!strcmp(action, "allow"))
		snprintf(c.s, sizeof(c.s), "allow %.40s -> %.40s", render_str(o, "class").s,
			 js_str(o, "egress") ? js_str(o, "egress") : "no egress");
	else
		snprintf(c.s, sizeof(c.s), "%.8s %.40s (%.40s)", action, render_str(o, "class").s,
			 rule ? rule : "default");
	return c;
}

static void plan_print_sessions(const json_t *moves, FILE *out)
{
	struct table *t;
	const json_t *m;
	size_t i, changed = 0;

	if (!json_array_size(moves))
		return;
	t = table_new("lllll");
	table_add_strs(t, "", "SESSION", "BEFORE", "", "AFTER", NULL);
	json_array_foreach(moves, i, m) {
		changed += js_true(m, "changed");
		table_add(t, js_true(m, "changed") ? "*" : "");
		table_add(t, plan_session_text(js_object(m, "session")).s);
		table_add(t, plan_outcome_text(json_object_get(m, "before")).s);
		table_add(t, "->");
		table_add(t, plan_outcome_text(json_object_get(m, "after")).s);
	}
	fprintf(out, "\nsessions (%zu of %zu change, marked *):\n", changed,
		json_array_size(moves));
	table_print(t, out, "");
	table_free(t);
}

static void plan_render(const json_t *ans, FILE *out)
{
	unsigned long long base;

	if (js_count(ans, "base_version", &base) && base)
		fprintf(out, "valid (base version %llu)\n", base);
	else
		fputs("valid (no policy yet)\n", out);
	plan_print_diff(js_object(ans, "diff"), out);
	plan_print_sessions(js_array(ans, "sessions"), out);
}

/* --sessions FILE: a JSON array of SESSION objects, or {"sessions": [...]}. */
static json_t *plan_load_sessions(const char *path)
{
	json_error_t jerr;
	json_t *v = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr), *s;

	if (!v) {
		fprintf(stderr, "egressctl: plan: %s:%d:%d: %s\n", path, jerr.line, jerr.column,
			jerr.text);
		return NULL;
	}
	s = json_is_object(v) ? json_object_get(v, "sessions") : v;
	if (!json_is_array(s)) {
		fprintf(stderr, "egressctl: plan: %s: want an array of sessions\n", path);
		json_decref(v);
		return NULL;
	}
	json_incref(s);
	json_decref(v);
	return s;
}

#define PLAN_FLOWS_READ     10000	/* flows asked of egressd */
#define PLAN_FLOWS_SESSIONS 500		/* distinct sessions sent to the plan */

struct plan_args {
	const char *file, *sessions, *name, *from_flows;
};

static int plan_parse(int argc, char **argv, struct plan_args *a)
{
	memset(a, 0, sizeof(*a));
	for (int i = 1; i < argc; i++) {
		int r = subcommand_option("plan", argc, argv, &i, "--sessions", &a->sessions);

		if (!r)
			r = subcommand_option("plan", argc, argv, &i, "--name", &a->name);
		if (!r)
			r = subcommand_option("plan", argc, argv, &i, "--from-flows",
					      &a->from_flows);
		if (r < 0)
			return EGRESSCTL_USAGE;
		if (r)
			continue;
		if (argv[i][0] == '-' || a->file)
			return subcommand_bad_arg("plan", argv[i], NULL, argv[i][0] == '-' ?
						  "unknown option" : "unexpected argument");
		a->file = argv[i];
	}
	if (!a->file)
		return subcommand_bad_arg("plan", "FILE", NULL, "required");
	if (a->from_flows && !args_valid_ifname(a->from_flows))
		return subcommand_bad_arg("plan", "--from-flows", a->from_flows,
					  "not an interface name");
	return EGRESSCTL_OK;
}

/* --from-flows: the node's live sessions follow any --sessions ones. */
static bool plan_add_flows(json_t *sessions, const char *ifname)
{
	json_t *answer = plan_flows_fetch(ifname, PLAN_FLOWS_READ), *live;
	size_t skipped;

	if (!answer)
		return false;
	live = plan_sessions_from_flows(answer, PLAN_FLOWS_SESSIONS, &skipped);
	fprintf(stderr, "egressctl: plan: %zu sessions from %zu live flows on %s"
		" (%zu transit or without a user left out)\n", json_array_size(live),
		json_array_size(js_array(answer, "flows")), ifname, skipped);
	json_array_extend(sessions, live);
	json_decref(live);
	json_decref(answer);
	return true;
}

static int plan_run(const struct api_client *c, int argc, char **argv, bool json)
{
	struct plan_args a;
	json_t *body, *sessions;
	int ret = plan_parse(argc, argv, &a);

	if (ret)
		return ret;
	sessions = a.sessions ? plan_load_sessions(a.sessions) : json_array();
	if (sessions && a.from_flows && !plan_add_flows(sessions, a.from_flows)) {
		json_decref(sessions);
		return EGRESSCTL_FAIL;
	}
	body = sessions ? api_document_body("plan", a.file, a.name) : NULL;
	if (!body || json_object_set_new(body, "sessions", sessions)) {
		json_decref(body);
		return EGRESSCTL_FAIL;
	}
	ret = api_post_show(c, "plan", "/policy/plan", body, json, plan_render);
	json_decref(body);
	return ret;
}

const struct api_subcommand plan_subcommand = {
	.name = "plan",
	.summary = "check a policy and show what applying it would change",
	.usage = "FILE [--sessions FILE.json] [--from-flows IFNAME] [--name NAME]",
	.details =
		"  FILE                 the policy document (YAML or JSON)\n"
		"  --sessions FILE      sample sessions: a JSON array of\n"
		"                       {\"user\",\"dst\",\"dport\",\"proto\",\"dscp\",\"domain\",\"src\"}\n"
		"  --from-flows IFNAME  also the live sessions of egressd on IFNAME (this\n"
		"                       host), one per user, destination, port and domain\n"
		"  --name NAME          the file name in error messages (default: FILE's)\n"
		"Exit 0 when valid; 1 with every error (file:line:col) on stderr.\n",
	.run = plan_run,
	.render = plan_render,
};

/* nodes: the enrolled nodes, whether they are online and which policy
 * version each runs (GET /nodes); and enroll-token, which mints the
 * one-time token a new node enrolls with (POST /tokens/enroll). Both are
 * here because both are about a node's membership of the fabric. */
#include <string.h>

#include "egressctl/api_client.h"
#include "egressctl/args.h"
#include "egressctl/render.h"
#include "egressctl/subcommand.h"

static void nodes_render(const json_t *ans, FILE *out)
{
	const json_t *list = js_array(ans, "nodes"), *n;
	struct table *t;
	size_t i;

	if (!json_array_size(list)) {
		fputs("no nodes enrolled\n", out);
		return;
	}
	t = table_new("llrll");
	table_add_strs(t, "NODE", "STATE", "VERSION", "LAST SEEN", "ENROLLED", NULL);
	json_array_foreach(list, i, n) {
		table_add(t, render_str(n, "name").s);
		table_add(t, js_true(n, "online") ? "online" : "offline");
		table_add(t, render_count(n, "running_version").s);
		table_add(t, render_time_ms(n, "last_seen_ms").s);
		table_add(t, render_time_ms(n, "enrolled_ms").s);
	}
	table_print(t, out, "");
	table_free(t);
}

static int no_arguments(const char *cmd, int argc, char **argv)
{
	if (argc > 1)
		return subcommand_bad_arg(cmd, argv[1], NULL, argv[1][0] == '-' ?
					  "unknown option" : "unexpected argument");
	return EGRESSCTL_OK;
}

static int nodes_run(const struct api_client *c, int argc, char **argv, bool json)
{
	int ret = no_arguments("nodes", argc, argv);

	return ret ? ret : api_get_show(c, "nodes", "/nodes", json, nodes_render);
}

const struct api_subcommand nodes_subcommand = {
	.name = "nodes",
	.summary = "enrolled nodes: online or not, the policy version each runs",
	.usage = "",
	.details = "",
	.run = nodes_run,
	.render = nodes_render,
};

/* ---- enroll-token ---- */

static void enroll_render(const json_t *ans, FILE *out)
{
	fprintf(out, "%s\nexpires %s; usable once, by that node only\n",
		render_str(ans, "token").s, render_time_ms(ans, "expires_ms").s);
}

/* "90", "90s", "30m", "1h", "2d" -> seconds, 1 s to 30 days. */
static bool enroll_ttl(const char *text, unsigned long *out)
{
	static const struct { char unit; unsigned long secs; } units[] = {
		{ 's', 1 }, { 'm', 60 }, { 'h', 3600 }, { 'd', 86400 },
	};
	char num[16];
	size_t len = strlen(text);
	unsigned long mult = 1, n;

	if (!len || len >= sizeof(num))
		return false;
	memcpy(num, text, len + 1);
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (num[len - 1] == units[i].unit) {
			mult = units[i].secs;
			num[--len] = '\0';
		}
	if (!args_parse_uint(num, 30 * 86400, &n) || !n || n > 30 * 86400 / mult)
		return false;
	*out = n * mult;
	return true;
}

static int enroll_run(const struct api_client *c, int argc, char **argv, bool json)
{
	const char *node = NULL, *ttl = NULL;
	unsigned long secs = 3600;
	json_t *body;
	int ret;

	for (int i = 1; i < argc; i++) {
		int r = subcommand_option("enroll-token", argc, argv, &i, "--ttl", &ttl);

		if (r < 0)
			return EGRESSCTL_USAGE;
		if (!r && (argv[i][0] == '-' || node))
			return subcommand_bad_arg("enroll-token", argv[i], NULL, argv[i][0] == '-' ?
						  "unknown option" : "unexpected argument");
		if (!r)
			node = argv[i];
	}
	if (!node)
		return subcommand_bad_arg("enroll-token", "NODE", NULL, "required");
	if (!args_valid_name(node))
		return subcommand_bad_arg("enroll-token", "NODE", node, "not a policy name");
	if (ttl && !enroll_ttl(ttl, &secs))
		return subcommand_bad_arg("enroll-token", "--ttl", ttl,
					  "a duration 1s-30d (90, 90s, 30m, 1h, 2d)");
	body = json_pack("{s:s,s:I}", "node", node, "ttl_s", (json_int_t)secs);
	if (!body)
		return EGRESSCTL_FAIL;
	ret = api_post_show(c, "enroll-token", "/tokens/enroll", body, json, enroll_render);
	json_decref(body);
	return ret;
}

const struct api_subcommand enroll_token_subcommand = {
	.name = "enroll-token",
	.summary = "a one-time token for a new node to enroll with",
	.usage = "NODE [--ttl 1h]",
	.details =
		"  NODE         the node's name in the policy\n"
		"  --ttl T      how long the token stays valid: 90, 90s, 30m, 1h, 2d\n"
		"               (default 1h, at most 30d)\n"
		"Prints the token (shown once) and when it expires.\n",
	.run = enroll_run,
	.render = enroll_render,
};

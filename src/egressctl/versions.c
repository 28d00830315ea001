/* versions: the policy's history, newest first (GET /policy/versions). */
#include <string.h>

#include "egressctl/api_client.h"
#include "egressctl/args.h"
#include "egressctl/render.h"
#include "egressctl/subcommand.h"

/* The comment, with "(rollback of N)" for a rollback. */
static struct cell versions_comment(const json_t *v)
{
	struct cell c;
	unsigned long long of;
	const char *comment = js_str(v, "comment");

	if (js_count(v, "rollback_of", &of))
		snprintf(c.s, sizeof(c.s), "%s%s(rollback of %llu)", comment ? comment : "",
			 comment && *comment ? " " : "", of);
	else
		snprintf(c.s, sizeof(c.s), "%s", comment && *comment ? comment : "-");
	return c;
}

static void versions_render(const json_t *ans, FILE *out)
{
	const json_t *list = js_array(ans, "versions"), *v;
	struct table *t;
	size_t i;

	if (!json_array_size(list)) {
		fputs("no policy versions yet\n", out);
		return;
	}
	t = table_new("rllll");
	table_add_strs(t, "VERSION", "CREATED", "ACTOR", "DIGEST", "COMMENT", NULL);
	json_array_foreach(list, i, v) {
		const char *digest = js_str(v, "digest");

		table_add(t, render_count(v, "version").s);
		table_add(t, render_time_ms(v, "created_ms").s);
		table_add(t, render_str(v, "actor").s);
		table_addf(t, "%.12s", digest ? digest : "-");
		table_add(t, versions_comment(v).s);
	}
	table_print(t, out, "");
	table_free(t);
}

static int versions_run(const struct api_client *c, int argc, char **argv, bool json)
{
	const char *limit = NULL;
	unsigned long n = 20;
	char path[64];

	for (int i = 1; i < argc; i++) {
		int r = subcommand_option("versions", argc, argv, &i, "--limit", &limit);

		if (r < 0)
			return EGRESSCTL_USAGE;
		if (!r)
			return subcommand_bad_arg("versions", argv[i], NULL, argv[i][0] == '-' ?
						  "unknown option" : "unexpected argument");
	}
	if (limit && (!args_parse_uint(limit, 100000, &n) || !n))
		return subcommand_bad_arg("versions", "--limit", limit, "must be a number 1-100000");
	snprintf(path, sizeof(path), "/policy/versions?limit=%lu", n);
	return api_get_show(c, "versions", path, json, versions_render);
}

const struct api_subcommand versions_subcommand = {
	.name = "versions",
	.summary = "the policy's versions, newest first",
	.usage = "[--limit N]",
	.details = "  --limit N    at most N versions (default 20)\n",
	.run = versions_run,
	.render = versions_render,
};

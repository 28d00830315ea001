/* audit: the controller's audit log, oldest first (GET /audit): every
 * apply, rollback, enrollment and failed authentication, with who and
 * the details as the controller recorded them. */
#include <stdlib.h>
#include <string.h>

#include "egressctl/api_client.h"
#include "egressctl/args.h"
#include "egressctl/render.h"
#include "egressctl/subcommand.h"

/* The detail object on one line, compact JSON, cut to the cell. */
static struct cell audit_detail(const json_t *e)
{
	const json_t *d = json_object_get(e, "detail");
	char *text = d && !json_is_null(d) ?
		     json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY) : NULL;
	struct cell c = { "-" };

	if (text)
		snprintf(c.s, sizeof(c.s), "%s", text);
	free(text);
	return c;
}

static void audit_render(const json_t *ans, FILE *out)
{
	const json_t *list = js_array(ans, "entries"), *e;
	struct table *t;
	size_t i;

	if (!json_array_size(list)) {
		fputs("no audit entries\n", out);
		return;
	}
	t = table_new("rllll");
	table_add_strs(t, "ID", "TIME", "ACTOR", "ACTION", "DETAIL", NULL);
	json_array_foreach(list, i, e) {
		table_add(t, render_count(e, "id").s);
		table_add(t, render_time_ms(e, "time_ms").s);
		table_add(t, render_str(e, "actor").s);
		table_add(t, render_str(e, "action").s);
		table_add(t, audit_detail(e).s);
	}
	table_print(t, out, "");
	table_free(t);
}

static int audit_run(const struct api_client *c, int argc, char **argv, bool json)
{
	const char *since = NULL, *limit = NULL;
	unsigned long s = 0, n = 100;
	char path[96];

	for (int i = 1; i < argc; i++) {
		int r = subcommand_option("audit", argc, argv, &i, "--since", &since);

		if (!r)
			r = subcommand_option("audit", argc, argv, &i, "--limit", &limit);
		if (r < 0)
			return EGRESSCTL_USAGE;
		if (!r)
			return subcommand_bad_arg("audit", argv[i], NULL, argv[i][0] == '-' ?
						  "unknown option" : "unexpected argument");
	}
	if (since && !args_parse_uint(since, 0xffffffffffffUL, &s))
		return subcommand_bad_arg("audit", "--since", since, "must be an entry id");
	if (limit && (!args_parse_uint(limit, 100000, &n) || !n))
		return subcommand_bad_arg("audit", "--limit", limit, "must be a number 1-100000");
	snprintf(path, sizeof(path), "/audit?since=%lu&limit=%lu", s, n);
	return api_get_show(c, "audit", path, json, audit_render);
}

const struct api_subcommand audit_subcommand = {
	.name = "audit",
	.summary = "the controller's audit log, oldest first",
	.usage = "[--since ID] [--limit N]",
	.details =
		"  --since ID   entries after this id (default: from the start)\n"
		"  --limit N    at most N entries (default 100)\n",
	.run = audit_run,
	.render = audit_render,
};

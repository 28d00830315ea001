/* stats: every counter of a running egressd, "name value" per line, as
 * egressd sends them. With --json they become one object, numbers as
 * numbers. */
#include <stdlib.h>
#include <string.h>

#include "egressctl/subcommand.h"

static int stats_build(int argc, char **argv, struct control_request *req)
{
	if (argc > 0)
		return subcommand_bad_arg("stats", argv[0], NULL, "unexpected argument");
	control_request_init(req, "stats");
	return EGRESSCTL_OK;
}

/* One "name value" line into obj; other lines are kept as strings under
 * their first word, so nothing egressd says is lost. */
static void stats_line_to_json(json_t *obj, char *line)
{
	char *space = strchr(line, ' '), *value;
	size_t n;

	if (!space || space == line)
		return;
	*space = '\0';
	value = space + 1;
	n = strlen(value);
	/* up to 18 digits always fits a json_int_t (int64) */
	if (n > 0 && n <= 18 && strspn(value, "0123456789") == n)
		json_object_set_new(obj, line, json_integer(strtoll(value, NULL, 10)));
	else
		json_object_set_new(obj, line, json_string(value));
}

static int stats_print_json(const struct control_answer *ans, FILE *out)
{
	json_t *obj = json_object();
	char *copy = strndup(ans->buf, ans->len), *save = NULL;

	if (!obj || !copy) {
		json_decref(obj);
		free(copy);
		fputs("egressctl: out of memory\n", stderr);
		return EGRESSCTL_FAIL;
	}
	for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		stats_line_to_json(obj, line);
	json_dumpf(obj, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII);
	fputc('\n', out);
	json_decref(obj);
	free(copy);
	return EGRESSCTL_OK;
}

static int stats_show(const struct control_answer *ans, bool json, FILE *out)
{
	if (ans->len >= 6 && !memcmp(ans->buf, "error=", 6)) {
		size_t n = strcspn(ans->buf + 6, "\n");

		fprintf(stderr, "egressctl: stats: %.*s\n", (int)n, ans->buf + 6);
		return EGRESSCTL_FAIL;
	}
	if (json)
		return stats_print_json(ans, out);
	fwrite(ans->buf, 1, ans->len, out);
	return EGRESSCTL_OK;
}

const struct subcommand stats_subcommand = {
	.name = "stats",
	.summary = "every counter of a running egressd, one per line",
	.usage = "",
	.details = "",
	.build = stats_build,
	.show_text = stats_show,
};

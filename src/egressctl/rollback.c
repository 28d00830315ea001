/* rollback: makes an older version's document current again, as a new
 * version (the history only grows), under the same expected-version
 * check as apply. */
#include <string.h>

#include "egressctl/api_client.h"
#include "egressctl/args.h"
#include "egressctl/render.h"
#include "egressctl/subcommand.h"

struct rollback_args {
	const char *to, *expected, *comment;
};

static int rollback_parse(int argc, char **argv, struct rollback_args *a)
{
	memset(a, 0, sizeof(*a));
	for (int i = 1; i < argc; i++) {
		int r = subcommand_option("rollback", argc, argv, &i, "--expected-version",
					  &a->expected);

		if (!r)
			r = subcommand_option("rollback", argc, argv, &i, "--comment", &a->comment);
		if (r < 0)
			return EGRESSCTL_USAGE;
		if (r)
			continue;
		if (argv[i][0] == '-' || a->to)
			return subcommand_bad_arg("rollback", argv[i], NULL, argv[i][0] == '-' ?
						  "unknown option" : "unexpected argument");
		a->to = argv[i];
	}
	if (!a->to)
		return subcommand_bad_arg("rollback", "VERSION", NULL, "required");
	if (!a->expected)
		return subcommand_bad_arg("rollback", "--expected-version", NULL, "required");
	return EGRESSCTL_OK;
}

static int rollback_run(const struct api_client *c, int argc, char **argv, bool json)
{
	struct rollback_args a;
	struct api_answer ans;
	unsigned long to, expected;
	char what[64];
	json_t *body;
	int ret = rollback_parse(argc, argv, &a);

	if (ret)
		return ret;
	if (!args_parse_uint(a.to, 0xffffffffUL, &to) || !to)
		return subcommand_bad_arg("rollback", "VERSION", a.to, "must be a version number");
	if (!args_parse_uint(a.expected, 0xffffffffUL, &expected))
		return subcommand_bad_arg("rollback", "--expected-version", a.expected,
					  "must be a version number");
	body = json_pack("{s:I,s:I}", "to_version", (json_int_t)to, "expected_version",
			 (json_int_t)expected);
	if (!body || (a.comment && json_object_set_new(body, "comment", json_string(a.comment)))) {
		json_decref(body);
		return EGRESSCTL_FAIL;
	}
	snprintf(what, sizeof(what), "rolled back to version %lu", to);
	ret = EGRESSCTL_FAIL;
	if (api_call(c, "rollback", "POST", "/policy/rollback", body, &ans)) {
		ret = api_show_version("rollback", &ans, json, what);
		api_answer_free(&ans);
	}
	json_decref(body);
	return ret;
}

const struct api_subcommand rollback_subcommand = {
	.name = "rollback",
	.summary = "make an older version's policy current again (as a new version)",
	.usage = "VERSION --expected-version N [--comment TEXT]",
	.details =
		"  VERSION                 the version to go back to\n"
		"  --expected-version N    the current version, as you last saw it\n"
		"  --comment TEXT          kept with the version and in the audit log\n"
		"Prints \"rolled back to version V: version M\". Exit 1 when stale or\n"
		"there is no such version.\n",
	.run = rollback_run,
	.render = NULL,
};

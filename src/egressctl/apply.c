/* apply: makes a policy document the controller's current version, with
 * the optimistic-concurrency check docs/api.md requires: the version the
 * operator planned against (--expected-version N). "current" reads it
 * first with GET /policy, which is racy by nature: another apply may land
 * between the two requests, and the plan that was reviewed may not be
 * what this apply replaces. */
#include <stdlib.h>
#include <string.h>

#include "egressctl/api_client.h"
#include "egressctl/args.h"
#include "egressctl/render.h"
#include "egressctl/subcommand.h"

/* The current version; 0 when there is none yet (404). */
static bool apply_current_version(const struct api_client *c, unsigned long long *out)
{
	struct api_answer ans;
	bool ok = false;

	if (!api_call(c, "apply", "GET", "/policy", NULL, &ans))
		return false;
	*out = 0;
	if (ans.status == 404)
		ok = true;
	else if (ans.status == 200 && js_count(ans.json, "version", out))
		ok = true;
	else
		api_report_error("apply", &ans);
	api_answer_free(&ans);
	return ok;
}

struct apply_args {
	const char *file, *expected, *comment, *name;
};

static int apply_parse(int argc, char **argv, struct apply_args *a)
{
	memset(a, 0, sizeof(*a));
	for (int i = 1; i < argc; i++) {
		int r = subcommand_option("apply", argc, argv, &i, "--expected-version", &a->expected);

		if (!r)
			r = subcommand_option("apply", argc, argv, &i, "--comment", &a->comment);
		if (!r)
			r = subcommand_option("apply", argc, argv, &i, "--name", &a->name);
		if (r < 0)
			return EGRESSCTL_USAGE;
		if (r)
			continue;
		if (argv[i][0] == '-' || a->file)
			return subcommand_bad_arg("apply", argv[i], NULL, argv[i][0] == '-' ?
						  "unknown option" : "unexpected argument");
		a->file = argv[i];
	}
	if (!a->file)
		return subcommand_bad_arg("apply", "FILE", NULL, "required");
	if (!a->expected)
		return subcommand_bad_arg("apply", "--expected-version", NULL,
					  "required (a version number, or 'current')");
	return EGRESSCTL_OK;
}

static int apply_run(const struct api_client *c, int argc, char **argv, bool json)
{
	struct apply_args a;
	struct api_answer ans;
	unsigned long long expected;
	unsigned long n;
	json_t *body;
	int ret = apply_parse(argc, argv, &a);

	if (ret)
		return ret;
	if (!strcmp(a.expected, "current")) {
		if (!apply_current_version(c, &expected))
			return EGRESSCTL_FAIL;
	} else if (args_parse_uint(a.expected, 0xffffffffUL, &n)) {
		expected = n;
	} else {
		return subcommand_bad_arg("apply", "--expected-version", a.expected,
					  "must be a version number or 'current'");
	}
	body = api_document_body("apply", a.file, a.name);
	if (!body || json_object_set_new(body, "expected_version", json_integer((json_int_t)expected)) ||
	    (a.comment && json_object_set_new(body, "comment", json_string(a.comment)))) {
		json_decref(body);
		return EGRESSCTL_FAIL;
	}
	ret = EGRESSCTL_FAIL;
	if (api_call(c, "apply", "POST", "/policy/apply", body, &ans)) {
		ret = api_show_version("apply", &ans, json, "applied");
		api_answer_free(&ans);
	}
	json_decref(body);
	return ret;
}

const struct api_subcommand apply_subcommand = {
	.name = "apply",
	.summary = "make a policy document the current version",
	.usage = "FILE --expected-version N|current [--comment TEXT] [--name NAME]",
	.details =
		"  FILE                    the policy document (YAML or JSON)\n"
		"  --expected-version N    the version you planned against; the apply\n"
		"                          fails (stale) if the current one is another\n"
		"  --expected-version current\n"
		"                          read the current version first: racy, another\n"
		"                          apply can land in between\n"
		"  --comment TEXT          kept with the version and in the audit log\n"
		"  --name NAME             the file name in error messages\n"
		"Prints \"applied: version M\". Exit 1 when stale or invalid.\n",
	.run = apply_run,
	.render = NULL,
};

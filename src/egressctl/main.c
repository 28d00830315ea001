/* egressctl: the operator's command line for egressd. A table of
 * subcommands as in wireguard-tools' wg.c, one file each:
 *
 *   egressctl [--json] stats IFNAME     every counter
 *   egressctl [--json] paths IFNAME     underlay paths and their health
 *   egressctl [--json] flows IFNAME     live sessions
 *   egressctl [--json] explain IFNAME   why a session takes its egress
 *
 * and the controller's commands (plan, apply, rollback, versions, nodes,
 * enroll-token, audit: docs/egressctl.md), which take no IFNAME but the
 * global options --controller, --token / --token-file, --cacert and
 * --timeout (api_client.c) wherever they appear.
 *
 * This file owns what they share: options, the call to egressd over
 * $EGRESS_CONTROL_DIR/IFNAME.ctl (default /var/run/egress), error
 * answers and exit codes (0 ok, 1 egressd failed or said no, 2 usage).
 * The hidden "--render-file CMD FILE" renders a saved answer instead of
 * asking egressd: tests/egressctl/ uses it. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "egressctl/api_client.h"
#include "egressctl/args.h"
#include "egressctl/control_client.h"
#include "egressctl/render.h"
#include "egressctl/subcommand.h"

static const struct subcommand *const subcommands[] = {
	&stats_subcommand, &paths_subcommand, &flows_subcommand, &explain_subcommand,
};
#define N_SUBCOMMANDS (sizeof(subcommands) / sizeof(subcommands[0]))

static const struct api_subcommand *const api_subcommands[] = {
	&plan_subcommand, &apply_subcommand, &rollback_subcommand, &versions_subcommand,
	&nodes_subcommand, &enroll_token_subcommand, &audit_subcommand,
};
#define N_API_SUBCOMMANDS (sizeof(api_subcommands) / sizeof(api_subcommands[0]))

static const char *prog = "egressctl";

int subcommand_bad_arg(const char *cmd, const char *option, const char *value,
		       const char *why)
{
	if (value)
		fprintf(stderr, "%s: %s: %s '%s': %s\n", prog, cmd, option, value, why);
	else
		fprintf(stderr, "%s: %s: %s: %s\n", prog, cmd, option, why);
	fprintf(stderr, "Try '%s %s --help'.\n", prog, cmd);
	return EGRESSCTL_USAGE;
}

int subcommand_option(const char *cmd, int argc, char **argv, int *i, const char *name,
		      const char **value)
{
	size_t n = strlen(name);
	const char *arg = argv[*i];

	if (strncmp(arg, name, n))
		return 0;
	if (arg[n] == '=') {
		*value = arg + n + 1;
		return 1;
	}
	if (arg[n])
		return 0;
	if (*i + 1 >= argc) {
		subcommand_bad_arg(cmd, name, NULL, "needs a value");
		return -1;
	}
	*value = argv[++*i];
	return 1;
}

static void usage(FILE *out)
{
	fprintf(out, "Usage: %s [--json] <command> IFNAME [options]\n\n", prog);
	fputs("Commands:\n", out);
	for (size_t i = 0; i < N_SUBCOMMANDS; i++)
		fprintf(out, "  %-12s %s\n", subcommands[i]->name, subcommands[i]->summary);
	fprintf(out, "  %-12s %s\n\n", "help", "this list; 'help COMMAND' for its options");
	fprintf(out, "Usage: %s [--json] [CONTROLLER OPTIONS] <command> [options]\n\n", prog);
	fputs("Controller commands:\n", out);
	for (size_t i = 0; i < N_API_SUBCOMMANDS; i++)
		fprintf(out, "  %-12s %s\n", api_subcommands[i]->name, api_subcommands[i]->summary);
	fputs("\n  --json       print the JSON answer instead of tables\n\n", out);
	fputs(API_OPTIONS_HELP "\n", out);
	fputs("egressd's control socket: $EGRESS_CONTROL_DIR/IFNAME.ctl "
	      "(default " CONTROL_CLIENT_DIR ").\n", out);
}

static void subcommand_usage(const struct subcommand *sc, FILE *out)
{
	fprintf(out, "Usage: %s [--json] %s IFNAME%s%s\n", prog, sc->name,
		*sc->usage ? " " : "", sc->usage);
	fprintf(out, "\n%c%s.\n", toupper((unsigned char)sc->summary[0]), sc->summary + 1);
	if (*sc->details)
		fprintf(out, "\n%s", sc->details);
}

static void api_subcommand_usage(const struct api_subcommand *sc, FILE *out)
{
	fprintf(out, "Usage: %s [--json] [CONTROLLER OPTIONS] %s%s%s\n", prog, sc->name,
		*sc->usage ? " " : "", sc->usage);
	fprintf(out, "\n%c%s.\n", toupper((unsigned char)sc->summary[0]), sc->summary + 1);
	if (*sc->details)
		fprintf(out, "\n%s", sc->details);
	fputs("\n" API_OPTIONS_HELP, out);
}

static const struct api_subcommand *api_subcommand_find(const char *name)
{
	for (size_t i = 0; i < N_API_SUBCOMMANDS; i++)
		if (!strcmp(api_subcommands[i]->name, name))
			return api_subcommands[i];
	return NULL;
}

static const struct subcommand *subcommand_find(const char *name)
{
	for (size_t i = 0; i < N_SUBCOMMANDS; i++)
		if (!strcmp(subcommands[i]->name, name))
			return subcommands[i];
	return NULL;
}

/* --json may come anywhere; it is taken out so that subcommands never
 * see it. Returns the new argc. */
static int take_json_flag(int argc, char **argv, bool *json)
{
	int out = 0;

	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			*json = true;
		else
			argv[out++] = argv[i];
	}
	argv[out] = NULL;
	return out;
}

/* A JSON answer: an error says so on stderr, otherwise it is printed
 * as it came (--json) or rendered. */
static int show_json(const struct subcommand *sc, const struct control_answer *ans, bool json)
{
	json_error_t jerr;
	json_t *root;
	const json_t *error;

	if (ans->len >= 6 && !memcmp(ans->buf, "error=", 6)) {
		fprintf(stderr, "%s: %s: %.*s\n", prog, sc->name,
			(int)strcspn(ans->buf + 6, "\n"), ans->buf + 6);
		return EGRESSCTL_FAIL;
	}
	root = json_loadb(ans->buf, ans->len, JSON_REJECT_DUPLICATES, &jerr);
	if (!json_is_object(root)) {
		fprintf(stderr, "%s: %s: egressd's answer is not a JSON object: %s\n", prog,
			sc->name, root ? "another JSON value" : ans->len ? jerr.text : "empty");
		json_decref(root);
		return EGRESSCTL_FAIL;
	}
	error = json_object_get(root, "error");
	if (error) {
		fprintf(stderr, "%s: %s: %s\n", prog, sc->name,
			json_is_string(error) ? json_string_value(error) : "error");
		json_decref(root);
		return EGRESSCTL_FAIL;
	}
	if (json) {
		json_dumpf(root, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		fputc('\n', stdout);
	} else {
		render_sanitize(root);
		sc->render(root, stdout);
	}
	json_decref(root);
	return EGRESSCTL_OK;
}

static int show_answer(const struct subcommand *sc, const struct control_answer *ans, bool json)
{
	int ret = sc->show_text ? sc->show_text(ans, json, stdout) : show_json(sc, ans, json);

	if (fflush(stdout) || ferror(stdout)) {
		fprintf(stderr, "%s: writing the output: %s\n", prog, strerror(errno));
		return EGRESSCTL_FAIL;
	}
	return ret;
}

/* Reads a whole file into ans, NUL-terminated; false on error. */
static bool read_file(FILE *f, struct control_answer *ans)
{
	size_t cap = 0;

	for (;;) {
		char *nbuf;

		if (cap - ans->len < 4096) {
			cap = cap ? 2 * cap : 65536;
			nbuf = realloc(ans->buf, cap);
			if (!nbuf)
				return false;
			ans->buf = nbuf;
		}
		ans->len += fread(ans->buf + ans->len, 1, cap - ans->len - 1, f);
		ans->buf[ans->len] = '\0';
		if (feof(f) || ferror(f))
			return !ferror(f);
	}
}

/* A saved 200 answer of the controller, rendered as the command would. */
static int api_render_file(const char *cmd, const char *path, bool json)
{
	const struct api_subcommand *sc = api_subcommand_find(cmd);
	json_error_t jerr;
	json_t *root;

	if (!sc || !sc->render) {
		fprintf(stderr, "%s: --render-file: unknown command '%s'\n", prog, cmd);
		return EGRESSCTL_USAGE;
	}
	root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (!json_is_object(root)) {
		fprintf(stderr, "%s: %s: not a JSON object: %s\n", prog, path,
			root ? "another JSON value" : jerr.text);
		json_decref(root);
		return EGRESSCTL_FAIL;
	}
	if (json) {
		api_print_json(root);
	} else {
		render_sanitize(root);
		sc->render(root, stdout);
	}
	json_decref(root);
	return EGRESSCTL_OK;
}

/* Renders a saved answer, as control_call() would have received it. */
static int render_file(const char *cmd, const char *path, bool json)
{
	const struct subcommand *sc = subcommand_find(cmd);
	struct control_answer ans = { NULL, 0 };
	int ret = EGRESSCTL_FAIL;
	FILE *f;

	if (!sc)
		return api_render_file(cmd, path, json);
	f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(errno));
		return EGRESSCTL_FAIL;
	}
	if (read_file(f, &ans)) {
		control_answer_trim(&ans);
		ret = show_answer(sc, &ans, json);
	} else {
		fprintf(stderr, "%s: %s: cannot read\n", prog, path);
	}
	fclose(f);
	control_answer_free(&ans);
	return ret;
}

static int run_subcommand(const struct subcommand *sc, int argc, char **argv, bool json)
{
	struct control_request req;
	struct control_answer ans;
	int ret;

	if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		subcommand_usage(sc, stdout);
		return EGRESSCTL_OK;
	}
	if (argc < 2 || argv[1][0] == '-') {
		subcommand_usage(sc, stderr);
		return EGRESSCTL_USAGE;
	}
	if (!args_valid_ifname(argv[1]))
		return subcommand_bad_arg(sc->name, "IFNAME", argv[1], "not an interface name");
	ret = sc->build(argc - 2, argv + 2, &req);
	if (ret)
		return ret;
	if (control_call(argv[1], &req, &ans))
		return EGRESSCTL_FAIL;
	ret = show_answer(sc, &ans, json);
	control_answer_free(&ans);
	return ret;
}

static int run_api_subcommand(const struct api_subcommand *sc, const struct api_client *c,
			      int argc, char **argv, bool json)
{
	int ret;

	if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		api_subcommand_usage(sc, stdout);
		return EGRESSCTL_OK;
	}
	if (!api_client_ready(c, sc->name))
		return EGRESSCTL_USAGE;
	if (curl_global_init(CURL_GLOBAL_DEFAULT)) {
		fprintf(stderr, "%s: %s: cannot initialise libcurl\n", prog, sc->name);
		return EGRESSCTL_FAIL;
	}
	ret = sc->run(c, argc, argv, json);
	curl_global_cleanup();
	if (fflush(stdout) || ferror(stdout)) {
		fprintf(stderr, "%s: writing the output: %s\n", prog, strerror(errno));
		return EGRESSCTL_FAIL;
	}
	return ret;
}

static int help(int argc, char **argv)
{
	const struct subcommand *sc = argc > 1 ? subcommand_find(argv[1]) : NULL;

	if (argc > 1 && !sc && api_subcommand_find(argv[1])) {
		api_subcommand_usage(api_subcommand_find(argv[1]), stdout);
		return EGRESSCTL_OK;
	}
	if (argc > 1 && !sc) {
		fprintf(stderr, "%s: help: unknown command '%s'\n", prog, argv[1]);
		return EGRESSCTL_USAGE;
	}
	if (sc)
		subcommand_usage(sc, stdout);
	else
		usage(stdout);
	return EGRESSCTL_OK;
}

static int dispatch(int argc, char **argv, const struct api_client *c, bool json)
{
	const struct api_subcommand *asc;
	const struct subcommand *sc;

	if (argc < 2) {
		usage(stderr);
		return EGRESSCTL_USAGE;
	}
	if (!strcmp(argv[1], "help") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
		return help(argc - 1, argv + 1);
	if (!strcmp(argv[1], "--render-file")) {
		if (argc != 4) {
			fprintf(stderr, "Usage: %s [--json] --render-file COMMAND FILE\n", prog);
			return EGRESSCTL_USAGE;
		}
		return render_file(argv[2], argv[3], json);
	}
	asc = api_subcommand_find(argv[1]);
	if (asc)
		return run_api_subcommand(asc, c, argc - 1, argv + 1, json);
	sc = subcommand_find(argv[1]);
	if (!sc) {
		fprintf(stderr, "%s: unknown command '%s'\n\n", prog, argv[1]);
		usage(stderr);
		return EGRESSCTL_USAGE;
	}
	return run_subcommand(sc, argc - 1, argv + 1, json);
}

int main(int argc, char **argv)
{
	struct api_client c;
	bool json = false;
	int ret;

	argc = take_json_flag(argc, argv, &json);
	argc = api_client_options(argc, argv, &c);
	ret = argc < 0 ? EGRESSCTL_USAGE : dispatch(argc, argv, &c, json);
	api_client_free(&c);
	return ret;
}

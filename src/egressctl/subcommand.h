/* subcommand: what each egressctl subcommand provides to main.c, which
 * owns everything they share: --json, the interface argument, the call
 * to egressd (or --render-file), error answers and exit codes. */
#ifndef EGRESS_EGRESSCTL_SUBCOMMAND_H
#define EGRESS_EGRESSCTL_SUBCOMMAND_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "egressctl/control_client.h"

/* Exit codes. */
#define EGRESSCTL_OK    0
#define EGRESSCTL_FAIL  1	/* egressd unreachable, or it answered an error */
#define EGRESSCTL_USAGE 2

struct subcommand {
	const char *name;
	const char *summary;	/* one line for egressctl help */
	const char *usage;	/* what follows "egressctl NAME IFNAME" */
	const char *details;	/* option lines for "egressctl NAME --help" */
	/* Turns the arguments after IFNAME into a request; EGRESSCTL_OK, or
	 * EGRESSCTL_USAGE after saying what is wrong on stderr. */
	int (*build)(int argc, char **argv, struct control_request *req);
	/* Prints a JSON answer (an object, not an error) for humans. NULL
	 * for a text answer, which show_text handles instead. */
	void (*render)(const json_t *answer, FILE *out);
	int (*show_text)(const struct control_answer *ans, bool json, FILE *out);
};

extern const struct subcommand stats_subcommand;
extern const struct subcommand paths_subcommand;
extern const struct subcommand flows_subcommand;
extern const struct subcommand explain_subcommand;

/* A controller subcommand (docs/api.md): no IFNAME; it talks to the
 * controller through api_client with the global options main.c took
 * out of argv. */
struct api_client;
struct api_subcommand {
	const char *name;
	const char *summary;
	const char *usage;	/* what follows "egressctl NAME" */
	const char *details;
	/* argv[0] is the subcommand's name. Returns an exit code. */
	int (*run)(const struct api_client *c, int argc, char **argv, bool json);
	/* Prints a 200 answer for humans; "--render-file NAME FILE" uses it
	 * (tests). */
	void (*render)(const json_t *answer, FILE *out);
};

extern const struct api_subcommand plan_subcommand;
extern const struct api_subcommand apply_subcommand;
extern const struct api_subcommand rollback_subcommand;
extern const struct api_subcommand versions_subcommand;
extern const struct api_subcommand nodes_subcommand;
extern const struct api_subcommand enroll_token_subcommand;
extern const struct api_subcommand audit_subcommand;

/* Prints "egressctl: CMD: OPTION 'VALUE': why" and returns
 * EGRESSCTL_USAGE: the one way subcommands report a bad argument. */
int subcommand_bad_arg(const char *cmd, const char *option, const char *value,
		       const char *why);

/* Matches argv[*i] as "--name VALUE" or "--name=VALUE". 1: matched,
 * *value set, *i on the last argument consumed; 0: another argument;
 * -1: matched but the value is missing (reported). */
int subcommand_option(const char *cmd, int argc, char **argv, int *i, const char *name,
		      const char **value);

#endif

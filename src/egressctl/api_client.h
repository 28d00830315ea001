/* api_client: egressctl's side of the controller's REST API (docs/api.md).
 * One request per call over libcurl: HTTPS verified against --cacert or
 * the system store, a Bearer token, JSON bodies, timeouts; every failure
 * said in words (connect, TLS, timeout, HTTP status and the server's
 * error). The controller subcommands share what is here and the option
 * parsing in api_client_options(). */
#ifndef EGRESS_EGRESSCTL_API_CLIENT_H
#define EGRESS_EGRESSCTL_API_CLIENT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define API_MAX_ANSWER   (64u << 20)	/* bytes of an answer kept */
#define API_MAX_DOCUMENT (8u << 20)	/* the controller's body limit */

#define API_OPTIONS_HELP \
	"Controller options (anywhere on the line):\n" \
	"  --controller URL    https://host:port (else $EGRESS_CONTROLLER)\n" \
	"  --token TOKEN       admin token (else --token-file FILE, else $EGRESS_TOKEN)\n" \
	"  --token-file FILE   the token on the file's first line\n" \
	"  --cacert FILE       CA certificate(s) to verify the controller (else the system store)\n" \
	"  --timeout SECONDS   for the whole request (default 30)\n"

struct api_client {
	const char *url;	/* https://host:port, without /api/v1 */
	char *token;
	const char *cacert;	/* NULL: the system store */
	long timeout_s;		/* whole request; connect is at most 10 s */
};

struct api_answer {
	long status;		/* HTTP status */
	json_t *json;		/* the body parsed; NULL if empty or not JSON */
};

/* Takes the global options out of argv, wherever they are: --controller
 * URL (else $EGRESS_CONTROLLER), --token TOKEN (else --token-file FILE,
 * else $EGRESS_TOKEN), --cacert FILE, --timeout SECONDS. Returns the new
 * argc, or -1 after saying what is wrong (a usage error). */
int api_client_options(int argc, char **argv, struct api_client *c);
/* Checks that a controller and a token were given; false after saying
 * which is missing. */
bool api_client_ready(const struct api_client *c, const char *cmd);
void api_client_free(struct api_client *c);

/* One request: method "GET" or "POST", path after /api/v1 ("/policy"),
 * body NULL or a JSON value. True when an HTTP answer came back (any
 * status); false after printing "egressctl: CMD: what failed". */
bool api_call(const struct api_client *c, const char *cmd, const char *method,
	      const char *path, const json_t *body, struct api_answer *ans);
void api_answer_free(struct api_answer *ans);

/* For an answer that is not the one hoped for: prints "egressctl: CMD:
 * HTTP 401: unauthorized", and for 422 every error line of the document;
 * returns EGRESSCTL_FAIL. */
int api_report_error(const char *cmd, const struct api_answer *ans);
/* Prints an answer as the server sent it (--json). */
int api_print_json(const json_t *v);

/* A whole file for a request body, NUL-terminated, at most max bytes;
 * NULL after saying why. */
char *api_read_file(const char *cmd, const char *path, size_t max, size_t *len);
/* {"document": FILE's text, "name": name or FILE's base name}: what
 * plan and apply send; NULL after saying why. */
json_t *api_document_body(const char *cmd, const char *file, const char *name);

/* GET path and show the 200 answer: as JSON or through render. */
int api_get_show(const struct api_client *c, const char *cmd, const char *path, bool json,
		 void (*render)(const json_t *answer, FILE *out));
/* The same for POST with a body (the caller keeps it). */
int api_post_show(const struct api_client *c, const char *cmd, const char *path,
		  const json_t *body, bool json, void (*render)(const json_t *answer, FILE *out));
/* The answer of apply and rollback: 200 prints "WHAT: version M"; 409
 * says "stale: current version is X"; else api_report_error(). */
int api_show_version(const char *cmd, const struct api_answer *ans, bool json,
		     const char *what);

#endif

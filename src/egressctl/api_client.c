/* api_client: requests to the controller over libcurl, and what every
 * controller subcommand shares: the global options, error reports, JSON
 * output. An answer is read whole (at most API_MAX_ANSWER bytes) and
 * parsed once; the subcommands only see JSON. */
#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "egressctl/api_client.h"
#include "egressctl/args.h"
#include "egressctl/render.h"
#include "egressctl/subcommand.h"

#define API_CONNECT_TIMEOUT_S 10
#define API_DEFAULT_TIMEOUT_S 30

static char *token_from_file(const char *path)
{
	size_t len;
	char *t = api_read_file("--token-file", path, 4096, &len);

	if (!t)
		return NULL;
	t[strcspn(t, "\r\n")] = '\0';
	if (!*t) {
		fprintf(stderr, "egressctl: --token-file %s: empty\n", path);
		free(t);
		return NULL;
	}
	return t;
}

/* One global option at argv[*i]: 1 taken, 0 not one, -1 bad. */
static int api_option(int argc, char **argv, int *i, struct api_client *c,
		      const char **token_file)
{
	const char *v;
	unsigned long n;
	int r;

	if ((r = subcommand_option("egressctl", argc, argv, i, "--controller", &v)))
		return r < 0 ? -1 : (c->url = v, 1);
	if ((r = subcommand_option("egressctl", argc, argv, i, "--cacert", &v)))
		return r < 0 ? -1 : (c->cacert = v, 1);
	if ((r = subcommand_option("egressctl", argc, argv, i, "--token-file", &v)))
		return r < 0 ? -1 : (*token_file = v, 1);
	if ((r = subcommand_option("egressctl", argc, argv, i, "--token", &v))) {
		if (r < 0)
			return -1;
		free(c->token);
		c->token = strdup(v);
		return c->token ? 1 : -1;
	}
	if ((r = subcommand_option("egressctl", argc, argv, i, "--timeout", &v))) {
		if (r < 0)
			return -1;
		if (!args_parse_uint(v, 3600, &n) || !n) {
			subcommand_bad_arg("egressctl", "--timeout", v, "must be 1-3600 seconds");
			return -1;
		}
		c->timeout_s = (long)n;
		return 1;
	}
	return 0;
}

int api_client_options(int argc, char **argv, struct api_client *c)
{
	const char *token_file = NULL, *env;
	int out = 0;

	memset(c, 0, sizeof(*c));
	c->timeout_s = API_DEFAULT_TIMEOUT_S;
	for (int i = 0; i < argc; i++) {
		int r = i ? api_option(argc, argv, &i, c, &token_file) : 0;

		if (r < 0)
			return -1;
		if (!r)
			argv[out++] = argv[i];
	}
	argv[out] = NULL;
	if (!c->url)
		c->url = getenv("EGRESS_CONTROLLER");
	if (!c->token && token_file && !(c->token = token_from_file(token_file)))
		return -1;
	env = getenv("EGRESS_TOKEN");
	if (!c->token && env && *env)
		c->token = strdup(env);
	return out;
}

bool api_client_ready(const struct api_client *c, const char *cmd)
{
	if (!c->url || !*c->url) {
		fprintf(stderr, "egressctl: %s: no controller: give --controller URL or set "
			"EGRESS_CONTROLLER\n", cmd);
		return false;
	}
	if (strncmp(c->url, "https://", 8) && strncmp(c->url, "http://", 7)) {
		fprintf(stderr, "egressctl: %s: controller '%s': not an https:// or http:// URL\n",
			cmd, c->url);
		return false;
	}
	if (!c->token) {
		fprintf(stderr, "egressctl: %s: no token: give --token, --token-file or set "
			"EGRESS_TOKEN\n", cmd);
		return false;
	}
	return true;
}

void api_client_free(struct api_client *c)
{
	if (c->token)
		memset(c->token, 0, strlen(c->token));
	free(c->token);
	c->token = NULL;
}

struct api_buf {
	char *p;
	size_t len, cap;
	bool too_big;
};

static size_t api_write(char *data, size_t size, size_t n, void *arg)
{
	struct api_buf *b = arg;
	size_t len = size * n;

	if (len > API_MAX_ANSWER - b->len) {
		b->too_big = true;
		return 0;
	}
	if (b->len + len + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 65536;
		char *np;

		while (cap < b->len + len + 1)
			cap *= 2;
		np = realloc(b->p, cap);
		if (!np)
			return 0;
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, len);
	b->len += len;
	b->p[b->len] = '\0';
	return len;
}

/* What failed, in the words an operator looks for. */
static void api_say_failure(const struct api_client *c, const char *cmd, CURLcode rc,
			    const char *detail, const struct api_buf *b)
{
	const char *what;

	switch (rc) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
		what = "cannot connect to";
		break;
	case CURLE_OPERATION_TIMEDOUT:
		what = "timed out waiting for";
		break;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
		what = "TLS failed with";
		break;
	case CURLE_WRITE_ERROR:
		what = b->too_big ? "answer too big from" : "out of memory reading";
		break;
	default:
		what = "request failed to";
	}
	fprintf(stderr, "egressctl: %s: %s %s: %s\n", cmd, what, c->url,
		*detail ? detail : curl_easy_strerror(rc));
}

static struct curl_slist *api_headers(const struct api_client *c, bool body)
{
	struct curl_slist *h = NULL, *n;
	size_t len = strlen(c->token) + 32;
	char *auth = malloc(len);

	if (!auth)
		return NULL;
	snprintf(auth, len, "Authorization: Bearer %s", c->token);
	h = curl_slist_append(h, auth);
	memset(auth, 0, len);
	free(auth);
	if (h && (n = curl_slist_append(h, "Accept: application/json")))
		h = n;
	if (h && body && (n = curl_slist_append(h, "Content-Type: application/json")))
		h = n;
	return h;
}

static bool api_setup(CURL *curl, const struct api_client *c, const char *method,
		      const char *url, const char *body, char *errbuf)
{
	bool ok = !curl_easy_setopt(curl, CURLOPT_URL, url) &&
		  !curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https") &&
		  !curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf) &&
		  !curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L) &&
		  !curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, API_CONNECT_TIMEOUT_S) &&
		  !curl_easy_setopt(curl, CURLOPT_TIMEOUT, c->timeout_s) &&
		  !curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, api_write);

	if (ok && c->cacert)
		ok = !curl_easy_setopt(curl, CURLOPT_CAINFO, c->cacert);
	if (ok && !strcmp(method, "POST"))
		ok = !curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body ? body : "");
	return ok;
}

static char *api_url(const struct api_client *c, const char *path)
{
	size_t base = strlen(c->url), len;
	char *url;

	while (base && c->url[base - 1] == '/')
		base--;
	len = base + strlen("/api/v1") + strlen(path) + 1;
	url = malloc(len);
	if (url)
		snprintf(url, len, "%.*s/api/v1%s", (int)base, c->url, path);
	return url;
}

static bool api_perform(const struct api_client *c, const char *cmd, const char *method,
			const char *url, const char *body, struct api_buf *b, long *status)
{
	char errbuf[CURL_ERROR_SIZE] = "";
	struct curl_slist *headers = api_headers(c, body != NULL);
	CURL *curl = curl_easy_init();
	CURLcode rc = CURLE_OUT_OF_MEMORY;

	if (curl && headers && api_setup(curl, c, method, url, body, errbuf) &&
	    !curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers) &&
	    !curl_easy_setopt(curl, CURLOPT_WRITEDATA, b)) {
		rc = curl_easy_perform(curl);
		if (rc == CURLE_OK)
			curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, status);
	}
	if (rc != CURLE_OK)
		api_say_failure(c, cmd, rc, errbuf, b);
	curl_slist_free_all(headers);
	curl_easy_cleanup(curl);
	return rc == CURLE_OK;
}

bool api_call(const struct api_client *c, const char *cmd, const char *method,
	      const char *path, const json_t *body, struct api_answer *ans)
{
	struct api_buf b = { NULL, 0, 0, false };
	char *url = api_url(c, path);
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	bool ok = false;

	memset(ans, 0, sizeof(*ans));
	if (!url || (body && !text)) {
		fprintf(stderr, "egressctl: %s: out of memory\n", cmd);
		goto out;
	}
	ok = api_perform(c, cmd, method, url, text, &b, &ans->status);
	if (ok && b.len)
		ans->json = json_loadb(b.p, b.len, 0, NULL);
	if (ok && !ans->json && ans->status >= 200 && ans->status < 300 && ans->status != 204) {
		fprintf(stderr, "egressctl: %s: HTTP %ld from %s: the answer is not JSON\n", cmd,
			ans->status, c->url);
		ok = false;
	}
out:
	free(url);
	free(text);
	free(b.p);
	return ok;
}

void api_answer_free(struct api_answer *ans)
{
	json_decref(ans->json);
	ans->json = NULL;
}

int api_report_error(const char *cmd, const struct api_answer *ans)
{
	const char *msg = json_string_value(json_object_get(ans->json, "error"));
	const json_t *errors = json_object_get(ans->json, "errors"), *e;
	size_t i;

	fprintf(stderr, "egressctl: %s: HTTP %ld: %s\n", cmd, ans->status,
		msg ? msg : ans->json ? "unexpected answer" : "no JSON answer");
	json_array_foreach(errors, i, e)
		if (json_is_string(e))
			fprintf(stderr, "%s\n", json_string_value(e));
	return EGRESSCTL_FAIL;
}

int api_print_json(const json_t *v)
{
	json_dumpf(v, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', stdout);
	return EGRESSCTL_OK;
}

char *api_read_file(const char *cmd, const char *path, size_t max, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;

	*len = 0;
	if (!f) {
		fprintf(stderr, "egressctl: %s: %s: %s\n", cmd, path, strerror(errno));
		return NULL;
	}
	buf = malloc(max + 2);
	if (buf) {
		*len = fread(buf, 1, max + 1, f);
		buf[*len] = '\0';
	}
	if (!buf || ferror(f) || *len > max) {
		fprintf(stderr, "egressctl: %s: %s: %s\n", cmd, path,
			!buf ? "out of memory" : ferror(f) ? "cannot read" : "too big");
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

/* {"document":..., "name":...}: what plan and apply both send. */
json_t *api_document_body(const char *cmd, const char *file, const char *name)
{
	size_t len;
	char *doc = api_read_file(cmd, file, API_MAX_DOCUMENT, &len), *copy;
	json_t *body;

	if (!doc)
		return NULL;
	copy = strdup(file);
	body = json_pack("{s:s%,s:s}", "document", doc, len, "name",
			 name ? name : copy ? basename(copy) : "policy.yaml");
	if (!body)
		fprintf(stderr, "egressctl: %s: %s: not UTF-8 text\n", cmd, file);
	free(copy);
	free(doc);
	return body;
}

int api_post_show(const struct api_client *c, const char *cmd, const char *path,
		  const json_t *body, bool json, void (*render)(const json_t *answer, FILE *out))
{
	struct api_answer ans;
	int ret;

	if (!api_call(c, cmd, body ? "POST" : "GET", path, body, &ans))
		return EGRESSCTL_FAIL;
	if (ans.status != 200 || !json_is_object(ans.json)) {
		ret = api_report_error(cmd, &ans);
	} else if (json) {
		ret = api_print_json(ans.json);
	} else {
		render_sanitize(ans.json);
		render(ans.json, stdout);
		ret = EGRESSCTL_OK;
	}
	api_answer_free(&ans);
	return ret;
}

int api_get_show(const struct api_client *c, const char *cmd, const char *path, bool json,
		 void (*render)(const json_t *answer, FILE *out))
{
	return api_post_show(c, cmd, path, NULL, json, render);
}

/* 200, 409 and the rest, for apply and rollback alike. */
int api_show_version(const char *cmd, const struct api_answer *ans, bool json,
		     const char *what)
{
	unsigned long long v;

	if (ans->status == 200 && js_count(ans->json, "version", &v)) {
		if (json)
			return api_print_json(ans->json);
		printf("%s: version %llu\n", what, v);
		return EGRESSCTL_OK;
	}
	if (ans->status == 409 && js_count(ans->json, "current_version", &v)) {
		if (json)
			api_print_json(ans->json);
		fprintf(stderr, "egressctl: %s: stale: current version is %llu\n", cmd, v);
		return EGRESSCTL_FAIL;
	}
	return api_report_error(cmd, ans);
}

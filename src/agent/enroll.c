/* enroll: the node's credential. A saved one is used as is; otherwise the
 * one-time token from --enroll buys one (POST /api/v1/enroll), which is
 * saved 0600 before it is used, because the controller shows it once. */
#include "agent/agent_internal.h"
#include "common/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool credential_valid(const char *c, size_t len)
{
	if (len < 5 || len >= AGENT_CREDENTIAL_MAX || strncmp(c, "egn_", 4))
		return false;
	for (size_t i = 0; i < len; i++)
		if (c[i] <= ' ' || c[i] > '~')
			return false;	/* it goes into a header line */
	return true;
}

static void set_credential(struct agent *a, const char *c)
{
	pthread_mutex_lock(&a->lock);
	snprintf(a->credential, sizeof(a->credential), "%s", c);
	pthread_cond_broadcast(&a->cond);
	pthread_mutex_unlock(&a->lock);
}

static bool enroll_load(struct agent *a, char *why, size_t cap)
{
	char *text = NULL;
	ssize_t len = state_file_read(a->cred_path, AGENT_CREDENTIAL_MAX, &text);
	bool ok;

	if (len < 0)
		return false;
	while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r'))
		text[--len] = '\0';
	ok = credential_valid(text, (size_t)len);
	if (ok)
		set_credential(a, text);
	else
		snprintf(why, cap, "%s holds no valid credential", a->cred_path);
	explicit_bzero(text, (size_t)len);
	free(text);
	return ok;
}

/* The answer {"node":..., "credential":"egn_..."}: saved, then used. */
static bool enroll_accept(struct agent *a, const struct agent_http_resp *r, char *why,
			  size_t cap)
{
	json_t *root = json_loadb(r->body ? r->body : "", r->len, 0, NULL);
	const char *cred = json_string_value(json_object_get(root, "credential"));
	char line[AGENT_CREDENTIAL_MAX + 1];
	int ret;
	bool ok = false;

	if (!cred || !credential_valid(cred, strlen(cred))) {
		snprintf(why, cap, "enrollment answer without a valid credential");
		goto out;
	}
	snprintf(line, sizeof(line), "%s\n", cred);
	ret = state_file_write(a->cred_path, line, strlen(line), 0600);
	explicit_bzero(line, sizeof(line));
	if (ret < 0) {
		snprintf(why, cap, "cannot save %s: %s", a->cred_path, strerror(-ret));
		goto out;
	}
	set_credential(a, cred);
	log_info("enrolled with the controller as node %s; credential saved in %s", a->node,
		 a->cred_path);
	ok = true;
out:
	json_decref(root);
	return ok;
}

bool agent_enroll(struct agent *a, struct agent_http *h, char *why, size_t cap)
{
	struct agent_http_resp r;
	json_t *req;
	char *body;
	bool ok;

	if (enroll_load(a, why, cap))
		return true;
	if (!a->token[0]) {
		if (!why[0])
			snprintf(why, cap, "no credential and no enrollment token");
		return false;
	}
	req = json_pack("{s:s, s:s}", "token", a->token, "node", a->node);
	body = req ? json_dumps(req, JSON_COMPACT) : NULL;
	json_decref(req);
	if (!body) {
		snprintf(why, cap, "out of memory");
		return false;
	}
	ok = agent_http_request(h, "POST", "/api/v1/enroll", NULL, body, 15, &r);
	explicit_bzero(body, strlen(body));
	free(body);
	if (!ok) {
		snprintf(why, cap, "%s", r.error);
		return false;
	}
	ok = r.status == 200 && enroll_accept(a, &r, why, cap);
	if (r.status != 200)
		snprintf(why, cap, "enrollment refused: HTTP %ld%s", r.status,
			 r.status == 401 ? " (token used, expired, or for another node)" : "");
	agent_http_resp_free(&r);
	return ok;
}

/* api_auth: who is asking. "Authorization: Bearer TOKEN" checked by the
 * store (which compares hashes in constant time); a node also names itself
 * in X-Egress-Node, because the store checks a credential against a
 * name. A node that does not send the header is found by the id half of
 * its credential (remembered after the first success) or, the first time,
 * by trying each enrolled node. A refusal is 401 and an "auth.fail" audit row naming the
 * path and the reason, never the token; the rows are rate-limited (a token
 * bucket, API_AUTH_AUDIT_PER_S) so a flood of bad tokens cannot flood the
 * log, and the rest are counted. */
#include "controller/api_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The token after "Bearer ", or NULL. */
static const char *bearer(const char *header)
{
	if (!header || strncasecmp(header, "Bearer ", 7))
		return NULL;
	header += 7;
	while (*header == ' ')
		header++;
	return strlen(header) == STORE_TOKEN_LEN ? header : NULL;
}

static bool audit_allowed(struct api *a, monotime_ns now)
{
	if (a->auth_refill == 0 || now - a->auth_refill >= NSEC_PER_SEC) {
		a->auth_refill = now;
		a->auth_tokens = API_AUTH_AUDIT_PER_S;
	}
	if (!a->auth_tokens)
		return false;
	a->auth_tokens--;
	return true;
}

void api_auth_fail(struct api_call *c, const char *reason)
{
	struct api *a = c->api;
	json_t *d;
	char *text;

	a->auth_failures++;
	api_reply_error(c->rs, 401, "unauthorized");
	if (!audit_allowed(a, c->rq->now)) {
		a->auth_unaudited++;
		return;
	}
	d = json_pack("{s:s, s:s, s:s}", "method", c->rq->method, "path", c->rq->path,
		      "reason", reason);
	if (d && c->rq->remote)
		json_object_set_new(d, "remote", json_string(c->rq->remote));
	text = d ? json_dumps(d, JSON_COMPACT) : NULL;
	if (!text || store_audit_append(a->store, "anonymous", "auth.fail", text))
		a->auth_unaudited++;
	free(text);
	json_decref(d);
}

bool api_auth_admin(struct api_call *c)
{
	const char *tok = bearer(c->rq->authorization);

	if (!tok) {
		api_auth_fail(c, c->rq->authorization ? "malformed credential"
						      : "no credential");
		return false;
	}
	if (store_admin_token_verify(c->api->store, tok, c->who)) {
		c->who[0] = '\0';
		api_auth_fail(c, "bad admin token");
		return false;
	}
	return true;
}

#define CRED_ID_OFF 4	/* "egn_" + 16 hex id + "_" + secret */
#define CRED_ID_LEN 16

static int collect_name(const struct store_node *n, void *arg)
{
	return json_array_append_new(arg, json_string(n->name)) ? -ENOMEM : 0;
}

/* The enrolled node whose credential tok is; false if none. */
static bool node_by_credential(struct api *a, const char *tok, char name[STORE_NAME_MAX])
{
	json_t *names = json_array(), *v;
	bool found = false;
	size_t i;

	for (i = 0; i < a->n_nodes; i++) {
		if (!strncmp(a->nodes[i].cred_id, tok + CRED_ID_OFF, CRED_ID_LEN) &&
		    !store_node_verify(a->store, a->nodes[i].name, tok)) {
			strcpy(name, a->nodes[i].name);
			json_decref(names);
			return true;
		}
	}
	if (store_node_list(a->store, collect_name, names))
		json_array_clear(names);
	json_array_foreach(names, i, v) {
		if (!store_node_verify(a->store, json_string_value(v), tok)) {
			snprintf(name, STORE_NAME_MAX, "%s", json_string_value(v));
			found = true;
			break;
		}
	}
	json_decref(names);
	return found;
}

bool api_auth_node(struct api_call *c)
{
	const char *tok = bearer(c->rq->authorization);
	const char *node = c->rq->node;
	struct api_node_live *n;
	bool ok;

	if (!tok) {
		api_auth_fail(c, "no node credential");
		return false;
	}
	if (node)
		ok = strlen(node) < STORE_NAME_MAX &&
		     !store_node_verify(c->api->store, node, tok);
	else
		ok = node_by_credential(c->api, tok, c->who);
	if (!ok) {
		c->who[0] = '\0';
		api_auth_fail(c, "bad node credential");
		return false;
	}
	if (node)
		strcpy(c->who, node);
	n = api_node_live_find(c->api, c->who, true);
	if (n)
		snprintf(n->cred_id, sizeof(n->cred_id), "%.16s", tok + CRED_ID_OFF);
	return true;
}

/* api_audit: the operator's reading of the audit log, and the one token
 * the API mints (one-time enrollment tokens; admin tokens are made on the
 * controller's host, docs/controller.md). */
#include "controller/api_internal.h"

#include <errno.h>
#include <string.h>

#define AUDIT_DEFAULT 100
#define AUDIT_MAX     1000
#define TTL_DEFAULT_S 3600
#define TTL_MAX_S     (30 * 24 * 3600)

static int audit_one(const struct store_audit_entry *e, void *arg)
{
	json_t *detail = json_loads(e->detail ? e->detail : "{}", 0, NULL);

	return json_array_append_new(arg, json_pack(
		"{s:I, s:I, s:s, s:s, s:o}", "id", (json_int_t)e->id, "time_ms",
		(json_int_t)e->time, "actor", e->actor ? e->actor : "", "action",
		e->action ? e->action : "", "detail", detail ? detail : json_object()))
		? -ENOMEM : 0;
}

void api_audit_list(struct api_call *c)
{
	uint64_t since = 0, limit = AUDIT_DEFAULT;
	json_t *arr;
	int ret;

	if (!api_query_u64(c, "since", 0, INT64_MAX, &since) ||
	    !api_query_u64(c, "limit", 1, AUDIT_MAX, &limit))
		return;
	arr = json_array();
	ret = store_audit_list(c->api->store, (int64_t)since, limit, audit_one, arr);
	if (ret) {
		json_decref(arr);
		api_reply_store(c, ret);
		return;
	}
	api_reply_json(c->rs, 200, json_pack("{s:o}", "entries", arr));
}

static const char *const enroll_keys[] = { "node", "ttl_s", NULL };

void api_tokens_enroll(struct api_call *c)
{
	char token[STORE_TOKEN_SIZE];
	uint64_t ttl = TTL_DEFAULT_S;
	const char *node;
	int ret;

	if (!api_body_keys(c, enroll_keys) || !api_body_name(c, "node", &node) ||
	    !api_body_u64(c, "ttl_s", false, &ttl))
		return;
	if (ttl == 0 || ttl > TTL_MAX_S) {
		api_reply_error(c->rs, 400, "field \"ttl_s\": 1 to 2592000 seconds");
		return;
	}
	ret = store_enroll_token_create(c->api->store, node, (unix_ms)ttl * 1000, c->who, token);
	if (ret) {
		api_reply_store(c, ret);
		return;
	}
	api_reply_json(c->rs, 200, json_pack("{s:s, s:I}", "token", token, "expires_ms",
					     (json_int_t)(c->rq->wall + (unix_ms)ttl * 1000)));
	memset(token, 0, sizeof(token));
}

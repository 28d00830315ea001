/* api_policy: the operator's policy endpoints: get, versions, plan, apply,
 * rollback. A document is validated by the same loader the nodes use
 * (policy_load_buffer) before anything is stored; the store's expected
 * version check makes apply and rollback safe against a concurrent
 * operator, and its commit is what "200" means. */
#include "controller/api_internal.h"
#include "policy/diff.h"
#include "policy/policy.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define VERSIONS_DEFAULT 50
#define VERSIONS_MAX	 1000
#define DOC_NAME_MAX	 255
#define DEFAULT_DOC_NAME "policy.yaml"

static json_t *meta_json(const struct store_policy_meta *m)
{
	return json_pack("{s:I, s:I, s:s, s:s, s:s, s:o}",
			 "version", (json_int_t)m->version, "created_ms", (json_int_t)m->created,
			 "actor", m->actor, "comment", m->comment, "digest", m->hash,
			 "rollback_of", m->rollback_of ? json_integer((json_int_t)m->rollback_of)
						       : json_null());
}

void api_policy_get(struct api_call *c)
{
	struct store_policy_meta m;
	uint64_t version = 0;
	char *doc = NULL;
	json_t *o;
	int ret;

	if (!api_query_u64(c, "version", 1, INT64_MAX, &version))
		return;
	ret = store_policy_get(c->api->store, version, &m, &doc);
	if (ret == -ENOENT) {
		api_reply_error(c->rs, 404, version ? "no such version" : "no policy yet");
		return;
	}
	if (ret) {
		api_reply_store(c, ret);
		return;
	}
	o = meta_json(&m);
	json_object_del(o, "rollback_of");
	json_object_set_new(o, "document", json_stringn(doc, m.len));
	free(doc);
	api_reply_json(c->rs, 200, o);
}

/* Newest first: the store lists oldest first after a version. */
void api_policy_versions(struct api_call *c)
{
	uint64_t limit = VERSIONS_DEFAULT, cur = c->api->version, after;
	struct store_policy_meta *m;
	json_t *arr;
	size_t n = 0;
	int ret;

	if (!api_query_u64(c, "limit", 1, VERSIONS_MAX, &limit))
		return;
	m = calloc(limit, sizeof(*m));
	if (!m) {
		api_reply_error(c->rs, 500, "out of memory");
		return;
	}
	after = cur > limit ? cur - limit : 0;
	ret = store_policy_list(c->api->store, after, m, limit, &n);
	if (ret) {
		free(m);
		api_reply_store(c, ret);
		return;
	}
	arr = json_array();
	while (n--)
		json_array_append_new(arr, meta_json(&m[n]));
	free(m);
	api_reply_json(c->rs, 200, json_pack("{s:o}", "versions", arr));
}

/* The document's file name for messages: "name", default policy.yaml. */
static bool doc_name(struct api_call *c, const char **name)
{
	const char *given = NULL;
	size_t len = 0;

	*name = DEFAULT_DOC_NAME;
	if (!api_body_string(c, "name", false, &given, &len))
		return false;
	if (!given)
		return true;
	*name = given;
	if (len == 0 || len > DOC_NAME_MAX || strchr(given, '\n')) {
		api_reply_error(c->rs, 400, "field \"name\": 1-255 characters, one line");
		return false;
	}
	return true;
}

/* Validates the document; NULL after a 422 with every error. */
static struct policy *doc_load(struct api_call *c, const char *name, const char *doc,
			       size_t len)
{
	struct policy_errors errs = { 0 };
	struct policy *p = policy_load_buffer(name, doc, len, NULL, &errs);
	json_t *arr;

	if (p) {
		policy_errors_free(&errs);
		return p;
	}
	arr = json_array();
	for (size_t i = 0; i < errs.n; i++)
		json_array_append_new(arr, json_string(errs.msgs[i]));
	if (!errs.n)
		json_array_append_new(arr, json_sprintf("%s: does not load", name));
	policy_errors_free(&errs);
	api_reply_json(c->rs, 422, json_pack("{s:s, s:o}", "error", "policy does not validate",
					     "errors", arr));
	return NULL;
}

static const char *const plan_keys[] = { "document", "name", "sessions", NULL };

void api_policy_plan(struct api_call *c)
{
	const char *name, *doc, *err = NULL;
	json_t *sessions, *moves = NULL, *diff;
	struct policy *p, *old;
	size_t len;

	if (!api_body_keys(c, plan_keys) || !doc_name(c, &name) ||
	    !api_body_string(c, "document", true, &doc, &len))
		return;
	sessions = json_object_get(c->body, "sessions");
	if (sessions && !json_is_array(sessions)) {
		api_reply_error(c->rs, 400, "field \"sessions\" must be an array");
		return;
	}
	p = doc_load(c, name, doc, len);
	if (!p)
		return;
	old = api_policy_current(c->api);
	if (sessions) {
		moves = policy_plan_sessions_json(old, p, sessions, &err);
		if (!moves) {
			api_reply_errorf(c->rs, 400, "sessions: %s", err ? err : "invalid");
			policy_unref(p);
			return;
		}
	}
	diff = policy_diff_json(old, p);
	policy_unref(p);
	api_reply_json(c->rs, 200, json_pack("{s:b, s:I, s:o*, s:o}", "valid", 1,
					     "base_version", (json_int_t)c->api->version,
					     "diff", diff, "sessions",
					     moves ? moves : json_array()));
}

static bool comment_get(struct api_call *c, const char **comment)
{
	size_t len = 0;

	*comment = NULL;
	if (!api_body_string(c, "comment", false, comment, &len))
		return false;
	if (*comment && (len >= STORE_COMMENT_MAX || strlen(*comment) != len)) {
		api_reply_error(c->rs, 400, "field \"comment\": at most 511 bytes");
		return false;
	}
	return true;
}

static void reply_stale(struct api_call *c)
{
	uint64_t cur = c->api->version;

	store_policy_current(c->api->store, &cur);
	c->api->version = cur;
	api_reply_json(c->rs, 409, json_pack("{s:s, s:I}", "error", "stale expected version",
					     "current_version", (json_int_t)cur));
}

static void reply_committed(struct api_call *c, int ret, uint64_t version)
{
	if (ret == -ESTALE) {
		reply_stale(c);
		return;
	}
	if (ret) {
		api_reply_store(c, ret);
		return;
	}
	c->api->version = version;
	api_reply_json(c->rs, 200, json_pack("{s:I}", "version", (json_int_t)version));
}

static const char *const apply_keys[] = {
	"document", "expected_version", "comment", "name", NULL
};

void api_policy_apply(struct api_call *c)
{
	const char *name, *doc, *comment;
	uint64_t expected, v = 0;
	struct policy *p;
	size_t len;
	int ret;

	if (!api_body_keys(c, apply_keys) || !doc_name(c, &name) ||
	    !api_body_string(c, "document", true, &doc, &len) ||
	    !api_body_u64(c, "expected_version", true, &expected) || !comment_get(c, &comment))
		return;
	/* Cheap refusal before the expensive validation; the store checks
	 * again inside its transaction. */
	if (expected != c->api->version)
		store_policy_current(c->api->store, &c->api->version);
	if (expected != c->api->version) {
		reply_stale(c);
		return;
	}
	p = doc_load(c, name, doc, len);
	if (!p)
		return;
	policy_unref(p);
	ret = store_policy_apply(c->api->store, expected, doc, len, c->who, comment, &v);
	reply_committed(c, ret, v);
}

static const char *const rollback_keys[] = {
	"to_version", "expected_version", "comment", NULL
};

/* The store writes its own comment ("rollback to N") and takes none from
 * us: an operator's comment is checked, then not stored (docs/api.md). */
void api_policy_rollback(struct api_call *c)
{
	uint64_t to, expected, v = 0;
	const char *comment;
	int ret;

	if (!api_body_keys(c, rollback_keys) || !api_body_u64(c, "to_version", true, &to) ||
	    !api_body_u64(c, "expected_version", true, &expected) || !comment_get(c, &comment))
		return;
	if (to == 0 || to > INT64_MAX) {
		api_reply_error(c->rs, 400, "field \"to_version\" must be 1 or more");
		return;
	}
	ret = store_policy_rollback(c->api->store, to, expected, c->who, comment, &v);
	if (ret == -E2BIG) {
		api_reply_error(c->rs, 400, "field \"comment\" is too long");
		return;
	}
	if (ret == -ENOENT) {
		api_reply_error(c->rs, 404, "no such version");
		return;
	}
	reply_committed(c, ret, v);
}

struct policy *api_policy_current(struct api *a)
{
	struct policy_errors errs = { 0 };
	struct store_policy_meta m;
	char *doc = NULL;

	if (a->current_loaded && a->current_version == a->version)
		return a->current;
	api_policy_cache_free(a);
	if (a->version && !store_policy_get(a->store, a->version, &m, &doc))
		a->current = policy_load_buffer(DEFAULT_DOC_NAME, doc, m.len, NULL, &errs);
	policy_errors_free(&errs);
	free(doc);
	a->current_version = a->version;
	a->current_loaded = true;
	return a->current;
}

void api_policy_cache_free(struct api *a)
{
	if (a->current)
		policy_unref(a->current);
	a->current = NULL;
	a->current_loaded = false;
}

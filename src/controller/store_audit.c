/* store_audit: the append-only audit log. Every write path of the store
 * calls store_audit_insert inside its own transaction, so a change without
 * its audit row (or the reverse) can never be committed. Details are JSON
 * objects built with jansson, never by pasting strings. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "controller/store_internal.h"

static const char sql_audit_insert[] =
	"INSERT INTO audit(time_ms, actor, action, detail) VALUES (?, ?, ?, ?)";
static const char sql_audit_list[] =
	"SELECT id, time_ms, actor, action, detail FROM audit"
	" WHERE id > ? ORDER BY id LIMIT ?";

static bool store_action_ok(const char *action)
{
	size_t n = action ? strlen(action) : 0;

	return n > 0 && n < STORE_ACTION_MAX && store_name_ok(action);
}

int store_audit_insert(struct store *s, const char *actor, const char *action,
		       json_t *detail)
{
	sqlite3_stmt *st;
	char *text;
	int ret;

	if (!detail)
		detail = json_object();
	text = detail ? json_dumps(detail, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(detail);
	if (!text)
		return store_failf(s, -ENOMEM, "audit detail: out of memory");
	st = store_prepare(s, ST_AUDIT_INSERT, sql_audit_insert);
	if (!st) {
		free(text);
		return -EIO;
	}
	sqlite3_bind_int64(st, 1, store_now(s));
	store_bind_text(st, 2, actor);
	store_bind_text(st, 3, action);
	store_bind_text(st, 4, text);
	ret = store_step_done(s, st);
	sqlite3_reset(st);	/* drop the reference to text before freeing it */
	free(text);
	return ret;
}

/* Caller-supplied detail must be one JSON object of bounded size. */
static int store_detail_parse(struct store *s, const char *text, json_t **out)
{
	json_error_t jerr;

	*out = NULL;
	if (!text)
		return 0;
	if (strnlen(text, STORE_DETAIL_MAX + 1) > STORE_DETAIL_MAX)
		return store_failf(s, -E2BIG, "audit detail too long");
	*out = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
	if (!*out || !json_is_object(*out)) {
		json_decref(*out);
		*out = NULL;
		return store_failf(s, -EINVAL, "audit detail is not a JSON object");
	}
	return 0;
}

int store_audit_append(struct store *s, const char *actor, const char *action,
		       const char *detail)
{
	json_t *obj;
	int ret;

	if (!store_name_ok(actor) || !store_action_ok(action))
		return store_failf(s, -EINVAL, "bad actor or action name");
	ret = store_detail_parse(s, detail, &obj);
	if (ret)
		return ret;
	ret = store_tx_begin(s);
	if (ret) {
		json_decref(obj);
		return ret;
	}
	ret = store_audit_insert(s, actor, action, obj);
	if (ret)
		return store_tx_abort(s, ret);
	return store_tx_commit(s);
}

int store_audit_list(struct store *s, int64_t since_id, size_t limit,
		     int (*fn)(const struct store_audit_entry *e, void *arg), void *arg)
{
	sqlite3_stmt *st = store_prepare(s, ST_AUDIT_LIST, sql_audit_list);
	int rc = SQLITE_DONE, ret = 0;

	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, since_id);
	sqlite3_bind_int64(st, 2, limit > INT64_MAX ? INT64_MAX : (int64_t)limit);
	while (!ret && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_audit_entry e = {
			.id = sqlite3_column_int64(st, 0),
			.time = sqlite3_column_int64(st, 1),
			.actor = (const char *)sqlite3_column_text(st, 2),
			.action = (const char *)sqlite3_column_text(st, 3),
			.detail = (const char *)sqlite3_column_text(st, 4),
		};

		ret = fn(&e, arg);
	}
	if (!ret && rc != SQLITE_DONE)
		ret = store_fail(s, rc);
	sqlite3_reset(st);	/* ends the read transaction */
	return ret;
}

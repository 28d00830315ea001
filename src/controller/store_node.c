/* store_node: the enrolled nodes (rows are created by enrollment in
 * store_auth.c): when each was last seen, which policy version it runs and
 * its last telemetry. Reports are not audited: they change no
 * configuration, and a fleet sends many. */
#include <errno.h>
#include <string.h>

#include "controller/store_internal.h"

static const char sql_node_seen[] =
	"UPDATE nodes SET last_seen_ms = ?, running_version = ?,"
	" telemetry = coalesce(?, telemetry) WHERE name = ?";
static const char sql_node_remove[] = "DELETE FROM nodes WHERE name = ?";
#define NODE_COLS "name, enrolled_ms, last_seen_ms, running_version, telemetry"
static const char sql_node_get[] = "SELECT " NODE_COLS " FROM nodes WHERE name = ?";
static const char sql_node_list[] = "SELECT " NODE_COLS " FROM nodes ORDER BY name";

static int node_telemetry_ok(struct store *s, const char *telemetry)
{
	json_error_t jerr;
	json_t *obj;
	bool ok;

	if (!telemetry)
		return 0;
	if (strnlen(telemetry, STORE_DETAIL_MAX + 1) > STORE_DETAIL_MAX)
		return store_failf(s, -E2BIG, "telemetry too long");
	obj = json_loads(telemetry, JSON_REJECT_DUPLICATES, &jerr);
	ok = obj && json_is_object(obj);
	json_decref(obj);
	return ok ? 0 : store_failf(s, -EINVAL, "telemetry is not a JSON object");
}

int store_node_seen(struct store *s, const char *node, uint64_t running_version,
		    const char *telemetry)
{
	sqlite3_stmt *st;
	int ret;

	if (!store_name_ok(node) || running_version > INT64_MAX)
		return store_failf(s, -EINVAL, "bad node name or version");
	ret = node_telemetry_ok(s, telemetry);
	if (ret)
		return ret;
	st = store_prepare(s, ST_NODE_SEEN, sql_node_seen);
	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, store_now(s));
	sqlite3_bind_int64(st, 2, (int64_t)running_version);
	if (telemetry)
		store_bind_text(st, 3, telemetry);
	store_bind_text(st, 4, node);
	ret = store_step_done(s, st);	/* one statement: its own transaction */
	if (!ret && sqlite3_changes(s->db) != 1)
		ret = store_failf(s, -ENOENT, "no such node");
	sqlite3_reset(st);
	return ret;
}

int store_node_remove(struct store *s, const char *node, const char *actor)
{
	sqlite3_stmt *st;
	int ret;

	if (!store_name_ok(node) || !store_name_ok(actor))
		return store_failf(s, -EINVAL, "bad node or actor name");
	ret = store_tx_begin(s);
	if (ret)
		return ret;
	st = store_prepare(s, ST_NODE_REMOVE, sql_node_remove);
	if (!st)
		return store_tx_abort(s, -EIO);
	store_bind_text(st, 1, node);
	ret = store_step_done(s, st);
	if (!ret && sqlite3_changes(s->db) != 1)
		ret = store_failf(s, -ENOENT, "no such node");
	if (!ret)
		ret = store_audit_insert(s, actor, "node.remove", json_pack("{s:s}", "node", node));
	return ret ? store_tx_abort(s, ret) : store_tx_commit(s);
}

static int node_walk(struct store *s, sqlite3_stmt *st,
		     int (*fn)(const struct store_node *n, void *arg), void *arg,
		     size_t *rows)
{
	int rc = SQLITE_DONE, ret = 0;

	*rows = 0;
	while (!ret && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_node n = {
			.name = (const char *)sqlite3_column_text(st, 0),
			.enrolled = sqlite3_column_int64(st, 1),
			.last_seen = sqlite3_column_int64(st, 2),
			.running_version = (uint64_t)sqlite3_column_int64(st, 3),
			.telemetry = (const char *)sqlite3_column_text(st, 4),
		};

		(*rows)++;
		ret = fn(&n, arg);
	}
	if (!ret && rc != SQLITE_DONE)
		ret = store_fail(s, rc);
	sqlite3_reset(st);
	return ret;
}

int store_node_get(struct store *s, const char *node,
		   int (*fn)(const struct store_node *n, void *arg), void *arg)
{
	sqlite3_stmt *st;
	size_t rows;
	int ret;

	if (!store_name_ok(node))
		return store_failf(s, -EINVAL, "bad node name");
	st = store_prepare(s, ST_NODE_GET, sql_node_get);
	if (!st)
		return -EIO;
	store_bind_text(st, 1, node);
	ret = node_walk(s, st, fn, arg, &rows);
	if (!ret && rows == 0)
		ret = store_failf(s, -ENOENT, "no such node");
	return ret;
}

int store_node_list(struct store *s, int (*fn)(const struct store_node *n, void *arg),
		    void *arg)
{
	sqlite3_stmt *st = store_prepare(s, ST_NODE_LIST, sql_node_list);
	size_t rows;

	if (!st)
		return -EIO;
	return node_walk(s, st, fn, arg, &rows);
}

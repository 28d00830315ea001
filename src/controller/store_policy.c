/* store_policy: every policy version ever applied, numbered 1, 2, 3, ...
 * An apply names the version it expects to replace (optimistic
 * concurrency: two operators cannot silently overwrite each other); a
 * rollback is a new version that copies an old document. The version row
 * and its audit row are one transaction. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controller/store_internal.h"

static const char sql_policy_current[] =
	"SELECT coalesce(max(version), 0) FROM policy_versions";
static const char sql_policy_insert[] =
	"INSERT INTO policy_versions(version, created_ms, actor, comment, hash, document)"
	" VALUES (?, ?, ?, ?, ?, ?)";
static const char sql_policy_copy[] =
	"INSERT INTO policy_versions(version, created_ms, actor, comment, hash, document,"
	" rollback_of)"
	" SELECT ?1, ?2, ?3, 'rollback to ' || version || iif(?5 <> '', ': ' || ?5, ''),"
	" hash, document, version"
	" FROM policy_versions WHERE version = ?4";
#define POLICY_META_COLS \
	"version, created_ms, actor, comment, hash, length(document), rollback_of"
static const char sql_policy_get[] =
	"SELECT " POLICY_META_COLS ", document FROM policy_versions WHERE version ="
	" (CASE WHEN ?1 = 0 THEN (SELECT max(version) FROM policy_versions) ELSE ?1 END)";
static const char sql_policy_list[] =
	"SELECT " POLICY_META_COLS " FROM policy_versions"
	" WHERE version > ? ORDER BY version LIMIT ?";

/* Versions are SQLite integers; a uint64 above INT64_MAX matches nothing. */
static int64_t policy_version_arg(uint64_t v)
{
	return v > INT64_MAX ? -1 : (int64_t)v;
}

int store_policy_current(struct store *s, uint64_t *version)
{
	sqlite3_stmt *st = store_prepare(s, ST_POLICY_CURRENT, sql_policy_current);
	int rc;

	if (!st)
		return -EIO;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*version = (uint64_t)sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 0 : store_fail(s, rc);
}

/* Inside the transaction: the optimistic-concurrency check. */
static int policy_expect(struct store *s, uint64_t expected, uint64_t *current)
{
	int ret = store_policy_current(s, current);

	if (ret)
		return ret;
	if (*current != expected) {
		snprintf(s->err, sizeof(s->err), "expected version %" PRIu64
			 ", current is %" PRIu64, expected, *current);
		return -ESTALE;
	}
	return 0;
}

static int policy_args_ok(struct store *s, const void *doc, size_t len, const char *actor,
			  const char *comment)
{
	if (!store_name_ok(actor))
		return store_failf(s, -EINVAL, "bad actor name");
	if (!doc || len == 0)
		return store_failf(s, -EINVAL, "empty policy document");
	if (len > STORE_DOC_MAX)
		return store_failf(s, -E2BIG, "policy document too large");
	if (comment && strnlen(comment, STORE_COMMENT_MAX) >= STORE_COMMENT_MAX)
		return store_failf(s, -E2BIG, "comment too long");
	return 0;
}

static int policy_insert(struct store *s, uint64_t version, const void *doc, size_t len,
			 const char *actor, const char *comment, const char *hash)
{
	sqlite3_stmt *st = store_prepare(s, ST_POLICY_INSERT, sql_policy_insert);
	int ret;

	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, (int64_t)version);
	sqlite3_bind_int64(st, 2, store_now(s));
	store_bind_text(st, 3, actor);
	store_bind_text(st, 4, comment ? comment : "");
	store_bind_text(st, 5, hash);
	sqlite3_bind_blob64(st, 6, doc, len, SQLITE_STATIC);
	ret = store_step_done(s, st);
	sqlite3_reset(st);	/* drop the reference to the caller's doc */
	return ret;
}

int store_policy_apply(struct store *s, uint64_t expected, const void *doc, size_t len,
		       const char *actor, const char *comment, uint64_t *new_version)
{
	char hash[STORE_HASH_HEX_LEN + 1];
	uint64_t current;
	int ret = policy_args_ok(s, doc, len, actor, comment);

	if (ret)
		return ret;
	store_hash_hex(hash, doc, len);
	ret = store_tx_begin(s);
	if (ret)
		return ret;
	ret = policy_expect(s, expected, &current);
	if (!ret)
		ret = policy_insert(s, current + 1, doc, len, actor, comment, hash);
	if (!ret)
		ret = store_audit_insert(s, actor, "policy.apply",
					 json_pack("{s:I, s:I, s:s, s:I, s:s}",
						   "version", (json_int_t)(current + 1),
						   "previous", (json_int_t)current,
						   "hash", hash, "bytes", (json_int_t)len,
						   "comment", comment ? comment : ""));
	if (ret)
		return store_tx_abort(s, ret);
	ret = store_tx_commit(s);
	if (!ret && new_version)
		*new_version = current + 1;
	return ret;
}

static int policy_copy(struct store *s, uint64_t version, uint64_t from, const char *actor,
		       const char *comment)
{
	sqlite3_stmt *st = store_prepare(s, ST_POLICY_COPY, sql_policy_copy);
	int ret;

	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, (int64_t)version);
	sqlite3_bind_int64(st, 2, store_now(s));
	store_bind_text(st, 3, actor);
	sqlite3_bind_int64(st, 4, policy_version_arg(from));
	store_bind_text(st, 5, comment ? comment : "");
	ret = store_step_done(s, st);
	if (!ret && sqlite3_changes(s->db) != 1)
		ret = store_failf(s, -ENOENT, "no such policy version");
	return ret;
}

int store_policy_rollback(struct store *s, uint64_t to_version, uint64_t expected,
			  const char *actor, const char *comment, uint64_t *new_version)
{
	uint64_t current;
	int ret;

	if (!store_name_ok(actor))
		return store_failf(s, -EINVAL, "bad actor name");
	/* "rollback to N: " comes first, so the operator's part is shorter. */
	if (comment && strnlen(comment, STORE_COMMENT_MAX) >= STORE_COMMENT_MAX - 32)
		return store_failf(s, -E2BIG, "comment too long");
	ret = store_tx_begin(s);
	if (ret)
		return ret;
	ret = policy_expect(s, expected, &current);
	if (!ret)
		ret = policy_copy(s, current + 1, to_version, actor, comment);
	if (!ret)
		ret = store_audit_insert(s, actor, "policy.rollback",
					 json_pack("{s:I, s:I, s:I, s:s}",
						   "version", (json_int_t)(current + 1),
						   "previous", (json_int_t)current,
						   "rollback_to", (json_int_t)to_version,
						   "comment", comment ? comment : ""));
	if (ret)
		return store_tx_abort(s, ret);
	ret = store_tx_commit(s);
	if (!ret && new_version)
		*new_version = current + 1;
	return ret;
}

static void policy_meta_read(sqlite3_stmt *st, struct store_policy_meta *m)
{
	m->version = (uint64_t)sqlite3_column_int64(st, 0);
	m->created = sqlite3_column_int64(st, 1);
	store_copy_text(m->actor, sizeof(m->actor), sqlite3_column_text(st, 2));
	store_copy_text(m->comment, sizeof(m->comment), sqlite3_column_text(st, 3));
	store_copy_text(m->hash, sizeof(m->hash), sqlite3_column_text(st, 4));
	m->len = (size_t)sqlite3_column_int64(st, 5);
	m->rollback_of = (uint64_t)sqlite3_column_int64(st, 6);
}

/* The document is copied with the length SQLite reports for the blob it
 * returns, never with the stored length column. */
static int policy_doc_copy(struct store *s, sqlite3_stmt *st, char **doc)
{
	const void *blob = sqlite3_column_blob(st, 7);
	size_t n = (size_t)sqlite3_column_bytes(st, 7);

	*doc = malloc(n + 1);
	if (!*doc)
		return store_failf(s, -ENOMEM, "policy document: out of memory");
	if (n)
		memcpy(*doc, blob, n);
	(*doc)[n] = '\0';
	return 0;
}

int store_policy_get(struct store *s, uint64_t version, struct store_policy_meta *meta,
		     char **doc)
{
	sqlite3_stmt *st = store_prepare(s, ST_POLICY_GET, sql_policy_get);
	int rc, ret = 0;

	if (doc)
		*doc = NULL;
	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, policy_version_arg(version));
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		struct store_policy_meta m;

		policy_meta_read(st, &m);
		if (doc)
			ret = policy_doc_copy(s, st, doc);
		if (meta)
			*meta = m;
	} else {
		ret = rc == SQLITE_DONE ? store_failf(s, -ENOENT, "no such policy version")
					: store_fail(s, rc);
	}
	sqlite3_reset(st);
	return ret;
}

int store_policy_list(struct store *s, uint64_t after, struct store_policy_meta *out,
		      size_t cap, size_t *n)
{
	sqlite3_stmt *st = store_prepare(s, ST_POLICY_LIST, sql_policy_list);
	int rc = SQLITE_DONE;

	*n = 0;
	if (!st)
		return -EIO;
	if (after > INT64_MAX)
		return 0;
	sqlite3_bind_int64(st, 1, policy_version_arg(after));
	sqlite3_bind_int64(st, 2, cap > INT64_MAX ? INT64_MAX : (int64_t)cap);
	while (*n < cap && (rc = sqlite3_step(st)) == SQLITE_ROW)
		policy_meta_read(st, &out[(*n)++]);
	sqlite3_reset(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : store_fail(s, rc);
}

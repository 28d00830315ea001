/* store: opening the SQLite file, the schema (created on first start, in
 * one transaction), durability settings, the prepared-statement cache,
 * transactions and the mapping of SQLite errors to -errno. The tables are
 * used by store_policy.c, store_audit.c, store_auth.c and store_node.c. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "controller/store_internal.h"

/* "EGRS" in the file header: `file` and we can tell our stores apart. */
#define STORE_APPLICATION_ID	0x45475253
#define STORE_BUSY_TIMEOUT_MS	5000

static const char store_schema_sql[] =
	"CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;"
	"INSERT INTO meta VALUES('schema_version', '1');"
	"CREATE TABLE policy_versions("
	" version INTEGER PRIMARY KEY,"
	" created_ms INTEGER NOT NULL,"
	" actor TEXT NOT NULL,"
	" comment TEXT NOT NULL DEFAULT '',"
	" hash TEXT NOT NULL,"
	" document BLOB NOT NULL,"
	" rollback_of INTEGER REFERENCES policy_versions(version)) STRICT;"
	"CREATE TABLE audit("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" time_ms INTEGER NOT NULL,"
	" actor TEXT NOT NULL,"
	" action TEXT NOT NULL,"
	" detail TEXT NOT NULL) STRICT;"
	"CREATE TABLE tokens("
	" id TEXT PRIMARY KEY,"
	" kind TEXT NOT NULL CHECK (kind IN ('admin', 'enroll')),"
	" name TEXT NOT NULL,"
	" hash BLOB NOT NULL,"
	" created_ms INTEGER NOT NULL,"
	" expires_ms INTEGER,"
	" used_ms INTEGER,"
	" revoked_ms INTEGER) STRICT;"
	"CREATE UNIQUE INDEX tokens_admin_name ON tokens(name)"
	" WHERE kind = 'admin' AND revoked_ms IS NULL;"
	"CREATE TABLE nodes("
	" name TEXT PRIMARY KEY,"
	" enrolled_ms INTEGER NOT NULL,"
	" cred_hash BLOB NOT NULL,"
	" last_seen_ms INTEGER NOT NULL DEFAULT 0,"
	" running_version INTEGER NOT NULL DEFAULT 0,"
	" telemetry TEXT NOT NULL DEFAULT '{}') STRICT;"
	"PRAGMA application_id = 1162302035;";	/* STORE_APPLICATION_ID */

_Static_assert(STORE_APPLICATION_ID == 1162302035, "schema text names the id");

int store_fail(struct store *s, int rc)
{
	snprintf(s->err, sizeof(s->err), "%s", sqlite3_errmsg(s->db));
	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -EBUSY;
	case SQLITE_NOMEM:
		return -ENOMEM;
	case SQLITE_FULL:
		return -ENOSPC;
	case SQLITE_READONLY:
		return -EROFS;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		return -EBADMSG;
	case SQLITE_CONSTRAINT:
		return -EEXIST;
	case SQLITE_TOOBIG:
		return -E2BIG;
	default:
		return -EIO;
	}
}

int store_failf(struct store *s, int err, const char *what)
{
	snprintf(s->err, sizeof(s->err), "%s", what);
	return err;
}

const char *store_errmsg(const struct store *s)
{
	return s->err;
}

sqlite3_stmt *store_prepare(struct store *s, enum store_stmt id, const char *sql)
{
	sqlite3_stmt *st = s->stmt[id];
	int rc;

	if (st) {
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
		return st;
	}
	rc = sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s->stmt[id], NULL);
	if (rc != SQLITE_OK) {
		store_fail(s, rc);
		return NULL;
	}
	return s->stmt[id];
}

int store_step_done(struct store *s, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	if (rc == SQLITE_DONE)
		return 0;
	return store_fail(s, rc);
}

static int store_run(struct store *s, enum store_stmt id, const char *sql)
{
	sqlite3_stmt *st = store_prepare(s, id, sql);

	if (!st)
		return -EIO;
	return store_step_done(s, st);
}

/* IMMEDIATE takes the write lock up front: two writers queue on the busy
 * timeout instead of one failing half-way with SQLITE_BUSY. */
int store_tx_begin(struct store *s)
{
	return store_run(s, ST_BEGIN, "BEGIN IMMEDIATE");
}

int store_tx_commit(struct store *s)
{
	int ret = store_run(s, ST_COMMIT, "COMMIT");

	if (ret)
		store_tx_abort(s, ret);
	return ret;
}

int store_tx_abort(struct store *s, int ret)
{
	char keep[sizeof(s->err)];

	if (sqlite3_get_autocommit(s->db))
		return ret;	/* SQLite already rolled back */
	memcpy(keep, s->err, sizeof(keep));
	store_run(s, ST_ROLLBACK, "ROLLBACK");
	memcpy(s->err, keep, sizeof(keep));
	return ret;
}

static unix_ms store_wallclock(void *arg)
{
	struct timespec ts;

	(void)arg;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (unix_ms)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

unix_ms store_now(struct store *s)
{
	return s->now(s->now_arg);
}

void store_set_clock(struct store *s, unix_ms (*now)(void *arg), void *arg)
{
	s->now = now ? now : store_wallclock;
	s->now_arg = arg;
}

/* Names end up in audit lines and URLs: a small, printable alphabet. */
bool store_name_ok(const char *name)
{
	size_t n = 0;

	if (!name)
		return false;
	for (; name[n]; n++) {
		char c = name[n];

		if (n + 1 >= STORE_NAME_MAX)
			return false;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || strchr("._:@-", c)))
			return false;
	}
	return n > 0;
}

int store_bind_text(sqlite3_stmt *st, int col, const char *text)
{
	return sqlite3_bind_text(st, col, text, -1, SQLITE_STATIC);
}

void store_copy_text(char *dst, size_t cap, const unsigned char *src)
{
	snprintf(dst, cap, "%s", src ? (const char *)src : "");
}

/* One-row, one-column integer query for the checks at open. */
static int store_pragma_int(struct store *s, const char *sql, int64_t *v)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);

	if (rc != SQLITE_OK)
		return store_fail(s, rc);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : store_fail(s, rc == SQLITE_DONE ? SQLITE_CORRUPT : rc);
}

static int store_pragma_text(struct store *s, const char *sql, const char *want)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
	bool same;

	if (rc != SQLITE_OK)
		return store_fail(s, rc);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		rc = store_fail(s, rc);
		sqlite3_finalize(st);
		return rc;
	}
	same = strcmp((const char *)sqlite3_column_text(st, 0), want) == 0;
	if (!same)
		snprintf(s->err, sizeof(s->err), "%s: %s", sql, sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return same ? 0 : -EBADMSG;
}

/* Inside the open's transaction: an empty file gets the schema, ours is
 * checked for its version, anything else is refused untouched. */
static int store_schema_check(struct store *s)
{
	int64_t app = 0, tables = 0, version = 0;
	int ret;

	ret = store_pragma_int(s, "PRAGMA application_id", &app);
	if (!ret)
		ret = store_pragma_int(s, "SELECT count(*) FROM sqlite_schema", &tables);
	if (ret)
		return ret;
	if (app == 0 && tables == 0) {
		ret = sqlite3_exec(s->db, store_schema_sql, NULL, NULL, NULL);
		return ret == SQLITE_OK ? 0 : store_fail(s, ret);
	}
	if (app != STORE_APPLICATION_ID)
		return store_failf(s, -EBADMSG, "not an egress-controller store");
	ret = store_pragma_int(s, "SELECT CAST(value AS INTEGER) FROM meta"
			       " WHERE key = 'schema_version'", &version);
	if (ret)
		return store_failf(s, -EBADMSG, "store has no schema version");
	if (version != STORE_SCHEMA_VERSION)
		return store_failf(s, version > STORE_SCHEMA_VERSION ? -ENOTSUP : -EBADMSG,
				   "store schema version is not 1");
	return 0;
}

/* WAL: readers never block the writer. synchronous=FULL: the WAL is
 * fsync'd at every commit, so an acknowledged apply survives power loss,
 * not just kill -9 (NORMAL would; see docs/store.md). */
static int store_setup(struct store *s)
{
	int ret;

	sqlite3_busy_timeout(s->db, STORE_BUSY_TIMEOUT_MS);
	ret = store_pragma_text(s, "PRAGMA journal_mode = WAL", "wal");
	if (ret)
		return ret;
	ret = sqlite3_exec(s->db, "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;"
			   "PRAGMA trusted_schema = OFF;", NULL, NULL, NULL);
	if (ret != SQLITE_OK)
		return store_fail(s, ret);
	ret = store_tx_begin(s);
	if (ret)
		return ret;
	ret = store_schema_check(s);
	if (ret)
		return store_tx_abort(s, ret);
	ret = store_tx_commit(s);
	if (ret)
		return ret;
	return store_pragma_text(s, "PRAGMA quick_check", "ok");
}

static void store_set_err(char *err, size_t errlen, const char *path, const char *why)
{
	if (err && errlen)
		snprintf(err, errlen, "%s: %s", path, why);
}

int store_open(struct store **out, const char *path, char *err, size_t errlen)
{
	struct store *s;
	int ret, rc;

	*out = NULL;
	if (!crypto_init()) {	/* idempotent; tokens need BLAKE2s and randomness */
		store_set_err(err, errlen, path, "crypto libraries unusable");
		return -ENOTSUP;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	store_set_clock(s, NULL, NULL);
	rc = sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
	if (rc != SQLITE_OK) {
		ret = s->db ? store_fail(s, rc) : -ENOMEM;
		if (ret == -EIO)
			ret = -ENOENT;	/* SQLITE_CANTOPEN: missing folder, rights */
		store_set_err(err, errlen, path, s->db ? s->err : "out of memory");
		goto fail_close;
	}
	ret = store_setup(s);
	if (ret) {
		store_set_err(err, errlen, path, s->err);
		goto fail_close;
	}
	*out = s;
	return 0;

fail_close:
	store_close(s);
	return ret;
}

void store_close(struct store *s)
{
	if (!s)
		return;
	for (int i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(s->stmt[i]);
	sqlite3_close(s->db);
	free(s);
}

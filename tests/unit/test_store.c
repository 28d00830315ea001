/* test_store: the controller's store against a naive model of versions,
 * the audit trail of every change, tokens and node credentials, reopening,
 * refusing garbage and corrupt files, one-time enrollment under concurrent
 * consumers, and no acknowledged apply lost to kill -9. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "controller/store.h"
#include "crypto/crypto.h"
#include "store_crash_loop.h"
#include "test.h"

static char tmp_dir[] = "/tmp/test_store.XXXXXX";
static unix_ms fake_now = 1700000000000;

static unix_ms fake_clock(void *arg)
{
	(void)arg;
	return fake_now;
}

static const char *tmp_path(const char *name)
{
	static char path[4][PATH_MAX];
	static int next;
	char *p = path[next++ % 4];

	snprintf(p, PATH_MAX, "%s/%s", tmp_dir, name);
	return p;
}

static struct store *open_ok(const char *name)
{
	char err[256];
	struct store *s = NULL;
	int ret = store_open(&s, tmp_path(name), err, sizeof(err));

	if (ret)
		fprintf(stderr, "store_open: %s (%d)\n", err, ret);
	CHECK(ret == 0 && s);
	if (s)
		store_set_clock(s, fake_clock, NULL);
	return s;
}

/* The naive reference for the document hash: BLAKE2s-256 in hex. */
static void hex_hash(char out[STORE_HASH_HEX_LEN + 1], const void *buf, size_t len)
{
	uint8_t h[BLAKE2S_HASH_LEN];

	blake2s_hash(h, buf, len, NULL, 0);
	for (size_t i = 0; i < sizeof(h); i++)
		sprintf(out + 2 * i, "%02x", h[i]);
}

static int apply_str(struct store *s, uint64_t expected, const char *doc, uint64_t *v)
{
	return store_policy_apply(s, expected, doc, strlen(doc), "alice", "test", v);
}

/* Collects the audit log as "action" strings and JSON objects. */
struct audit_log {
	size_t n;
	int64_t last_id;
	bool ordered;
	char action[64][STORE_ACTION_MAX];
	char actor[64][STORE_NAME_MAX];
	json_t *detail[64];
	unix_ms time[64];
};

static int audit_collect(const struct store_audit_entry *e, void *arg)
{
	struct audit_log *log = arg;

	if (e->id <= log->last_id)
		log->ordered = false;
	log->last_id = e->id;
	if (log->n < 64) {
		snprintf(log->action[log->n], STORE_ACTION_MAX, "%s", e->action);
		snprintf(log->actor[log->n], STORE_NAME_MAX, "%s", e->actor);
		log->detail[log->n] = json_loads(e->detail, 0, NULL);
		log->time[log->n] = e->time;
	}
	log->n++;
	return 0;
}

static void audit_read(struct store *s, struct audit_log *log)
{
	memset(log, 0, sizeof(*log));
	log->ordered = true;
	CHECK(store_audit_list(s, 0, 1000, audit_collect, log) == 0);
	CHECK(log->ordered);
}

static void audit_free(struct audit_log *log)
{
	for (size_t i = 0; i < log->n && i < 64; i++)
		json_decref(log->detail[i]);
}

static int64_t detail_int(const struct audit_log *log, size_t i, const char *key)
{
	json_t *v = log->detail[i] ? json_object_get(log->detail[i], key) : NULL;

	return json_is_integer(v) ? json_integer_value(v) : -1;
}

static size_t audit_count(struct store *s)
{
	struct audit_log log;
	size_t n;

	audit_read(s, &log);
	n = log.n;
	audit_free(&log);
	return n;
}

static void test_open_creates_wal(void)
{
	struct store *s = open_ok("fresh.db");
	sqlite3 *db;
	sqlite3_stmt *st;
	uint64_t v = 99;

	CHECK(store_policy_current(s, &v) == 0 && v == 0);
	store_close(s);
	CHECK(sqlite3_open(tmp_path("fresh.db"), &db) == SQLITE_OK);
	CHECK(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL) == SQLITE_OK);
	CHECK(sqlite3_step(st) == SQLITE_ROW);
	CHECK(strcmp((const char *)sqlite3_column_text(st, 0), "wal") == 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
}

static void test_apply_get_list(void)
{
	struct store *s = open_ok("apply.db");
	struct store_policy_meta meta, list[8];
	char *doc = NULL, hash[STORE_HASH_HEX_LEN + 1];
	uint64_t v = 0;
	size_t n;

	CHECK(apply_str(s, 0, "one", &v) == 0 && v == 1);
	CHECK(apply_str(s, 1, "two", &v) == 0 && v == 2);
	fake_now += 5;
	CHECK(store_policy_apply(s, 2, "three", 5, "bob", NULL, &v) == 0 && v == 3);
	CHECK(store_policy_get(s, 0, &meta, &doc) == 0 && doc && strcmp(doc, "three") == 0);
	CHECK(meta.version == 3 && meta.len == 5 && strcmp(meta.actor, "bob") == 0);
	CHECK(meta.comment[0] == '\0' && meta.created == fake_now && meta.rollback_of == 0);
	hex_hash(hash, "three", 5);
	CHECK(strcmp(meta.hash, hash) == 0);
	free(doc);
	CHECK(store_policy_get(s, 1, NULL, &doc) == 0 && strcmp(doc, "one") == 0);
	free(doc);
	CHECK(store_policy_get(s, 4, &meta, &doc) == -ENOENT && doc == NULL);
	CHECK(store_policy_list(s, 0, list, 8, &n) == 0 && n == 3);
	CHECK(list[0].version == 1 && list[2].version == 3 && list[1].len == 3);
	CHECK(strcmp(list[0].comment, "test") == 0 && strcmp(list[0].hash, list[2].hash));
	CHECK(store_policy_list(s, 1, list, 1, &n) == 0 && n == 1 && list[0].version == 2);
	CHECK(store_policy_list(s, 3, list, 8, &n) == 0 && n == 0);
	store_close(s);
}

static void test_same_doc_same_hash(void)
{
	struct store *s = open_ok("hash.db");
	struct store_policy_meta a, b, c;
	uint64_t v;

	CHECK(apply_str(s, 0, "same", &v) == 0);
	CHECK(apply_str(s, 1, "same", &v) == 0);
	CHECK(apply_str(s, 2, "other", &v) == 0);
	CHECK(store_policy_get(s, 1, &a, NULL) == 0 && store_policy_get(s, 2, &b, NULL) == 0);
	CHECK(store_policy_get(s, 3, &c, NULL) == 0);
	CHECK(strcmp(a.hash, b.hash) == 0 && strcmp(a.hash, c.hash) != 0);
	/* known vector: BLAKE2s-256("abc"), RFC 7693 appendix B */
	CHECK(apply_str(s, 3, "abc", &v) == 0 && store_policy_get(s, 4, &a, NULL) == 0);
	CHECK(strcmp(a.hash, "508c5e8c327c14e2e1a72ba34eeb452f"
			     "37458b209ed63a294d999b4c86675982") == 0);
	store_close(s);
}

static void test_stale_refused(void)
{
	struct store *s = open_ok("stale.db");
	uint64_t v = 0, cur;
	size_t audit;

	CHECK(apply_str(s, 0, "one", &v) == 0 && v == 1);
	audit = audit_count(s);
	v = 77;
	CHECK(apply_str(s, 0, "lost", &v) == -ESTALE && v == 77);
	CHECK(strstr(store_errmsg(s), "current is 1") != NULL);
	CHECK(apply_str(s, 2, "ahead", &v) == -ESTALE);
	CHECK(apply_str(s, UINT64_MAX, "huge", &v) == -ESTALE);
	CHECK(store_policy_current(s, &cur) == 0 && cur == 1);
	CHECK(audit_count(s) == audit);
	store_close(s);
}

static void test_rollback(void)
{
	struct store *s = open_ok("rollback.db");
	struct store_policy_meta m1, m3;
	uint64_t v;
	char *doc = NULL;
	size_t audit;

	CHECK(apply_str(s, 0, "A", &v) == 0);
	CHECK(apply_str(s, 1, "B", &v) == 0);
	CHECK(store_policy_rollback(s, 1, 2, "carol", NULL, &v) == 0 && v == 3);
	CHECK(store_policy_get(s, 3, &m3, &doc) == 0 && doc && strcmp(doc, "A") == 0);
	CHECK(store_policy_get(s, 1, &m1, NULL) == 0);
	CHECK(m3.rollback_of == 1 && strcmp(m3.comment, "rollback to 1") == 0);
	CHECK(strcmp(m3.hash, m1.hash) == 0 && strcmp(m3.actor, "carol") == 0);
	free(doc);
	audit = audit_count(s);
	CHECK(store_policy_rollback(s, 1, 2, "carol", NULL, &v) == -ESTALE);
	CHECK(store_policy_rollback(s, 9, 3, "carol", NULL, &v) == -ENOENT);
	CHECK(store_policy_rollback(s, 0, 3, "carol", NULL, &v) == -ENOENT);
	CHECK(store_policy_current(s, &v) == 0 && v == 3);
	CHECK(audit_count(s) == audit);
	/* The operator's comment follows "rollback to N". */
	{
		char longc[STORE_COMMENT_MAX];

		memset(longc, 'x', sizeof(longc) - 1);
		longc[sizeof(longc) - 1] = '\0';
		CHECK(store_policy_rollback(s, 2, 3, "carol", longc, &v) == -E2BIG);
	}
	CHECK(store_policy_rollback(s, 2, 3, "carol", "bad push", &v) == 0 && v == 4);
	CHECK(store_policy_get(s, 4, &m3, NULL) == 0);
	CHECK(strcmp(m3.comment, "rollback to 2: bad push") == 0 && m3.rollback_of == 2);
	store_close(s);
}

static void test_audit_every_change(void)
{
	struct store *s = open_ok("audit.db");
	char tok[STORE_TOKEN_SIZE], node[STORE_NAME_MAX], cred[STORE_TOKEN_SIZE];
	static const char *const want[] = {
		"policy.apply", "policy.apply", "policy.rollback", "token.admin.create",
		"token.enroll.create", "node.enroll", "token.admin.revoke", "auth.fail",
		"node.remove",
	};
	struct audit_log log;
	uint64_t v;

	fake_now = 1700000000000;
	CHECK(apply_str(s, 0, "A", &v) == 0);
	fake_now += 1000;
	CHECK(apply_str(s, 1, "B", &v) == 0);
	CHECK(store_policy_rollback(s, 1, 2, "alice", NULL, &v) == 0);
	CHECK(store_admin_token_create(s, "ops", "alice", tok) == 0);
	CHECK(store_enroll_token_create(s, "acc1", 60000, "alice", tok) == 0);
	CHECK(store_enroll_token_consume(s, tok, NULL, node, cred) == 0);
	CHECK(store_admin_token_revoke(s, "ops", "alice") == 0);
	CHECK(store_audit_append(s, "198.51.100.7", "auth.fail", "{\"why\":\"bad token\"}") == 0);
	CHECK(store_node_seen(s, "acc1", 3, "{}") == 0);	/* not audited */
	CHECK(store_node_remove(s, "acc1", "alice") == 0);
	audit_read(s, &log);
	CHECK(log.n == sizeof(want) / sizeof(want[0]));
	for (size_t i = 0; i < log.n && i < 64; i++) {
		CHECK(strcmp(log.action[i], want[i]) == 0);
		CHECK(log.detail[i] && json_is_object(log.detail[i]));
	}
	CHECK(log.time[0] == 1700000000000 && log.time[1] == 1700000001000);
	CHECK(detail_int(&log, 1, "version") == 2 && detail_int(&log, 1, "previous") == 1);
	CHECK(detail_int(&log, 2, "rollback_to") == 1 && detail_int(&log, 2, "version") == 3);
	CHECK(strcmp(log.actor[5], "acc1") == 0 && strcmp(log.actor[7], "198.51.100.7") == 0);
	CHECK(json_is_string(json_object_get(log.detail[3], "id")));
	audit_free(&log);
	/* since_id and limit page through it */
	memset(&log, 0, sizeof(log));
	log.ordered = true;
	CHECK(store_audit_list(s, 2, 3, audit_collect, &log) == 0 && log.n == 3);
	CHECK(strcmp(log.action[0], "policy.rollback") == 0);
	audit_free(&log);
	CHECK(store_audit_append(s, "x", "auth.fail", "[1]") == -EINVAL);
	CHECK(store_audit_append(s, "x", "auth.fail", "{\"a\":") == -EINVAL);
	CHECK(store_audit_append(s, "x", "bad action", NULL) == -EINVAL);
	CHECK(audit_count(s) == sizeof(want) / sizeof(want[0]));
	store_close(s);
}

/* The secret half of a token text must appear nowhere in the files. */
static bool file_contains(const char *path, const char *needle)
{
	FILE *f = fopen(path, "rb");
	static char buf[1 << 20];
	size_t n;

	if (!f)
		return false;
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	return memmem(buf, n, needle, strlen(needle)) != NULL;
}

static void test_admin_tokens(void)
{
	struct store *s = open_ok("admin.db");
	char tok[STORE_TOKEN_SIZE], tok2[STORE_TOKEN_SIZE], bad[STORE_TOKEN_SIZE + 8];
	char name[STORE_NAME_MAX] = "";

	CHECK(store_admin_token_create(s, "alice", "bootstrap", tok) == 0);
	CHECK(strlen(tok) == STORE_TOKEN_LEN && strncmp(tok, "ega_", 4) == 0);
	CHECK(store_admin_token_verify(s, tok, name) == 0 && strcmp(name, "alice") == 0);
	CHECK(store_admin_token_create(s, "alice", "bootstrap", tok2) == -EEXIST);
	CHECK(store_admin_token_create(s, "bob", "bootstrap", tok2) == 0);
	CHECK(strcmp(tok, tok2) != 0);
	memcpy(bad, tok, sizeof(tok));
	bad[STORE_TOKEN_LEN - 1] = bad[STORE_TOKEN_LEN - 1] == '0' ? '1' : '0';
	CHECK(store_admin_token_verify(s, bad, name) == -EACCES);
	memcpy(bad, tok, sizeof(tok));
	bad[10] = 'A';					/* not lowercase hex */
	CHECK(store_admin_token_verify(s, bad, name) == -EACCES);
	memcpy(bad, tok, sizeof(tok));
	bad[STORE_TOKEN_LEN - 1] = '\0';		/* truncated */
	CHECK(store_admin_token_verify(s, bad, name) == -EACCES);
	snprintf(bad, sizeof(bad), "%sff", tok);	/* too long */
	CHECK(store_admin_token_verify(s, bad, name) == -EACCES);
	memcpy(bad, tok, sizeof(tok));
	bad[2] = 'e';					/* an enrollment prefix */
	CHECK(store_admin_token_verify(s, bad, name) == -EACCES);
	CHECK(store_admin_token_verify(s, "", name) == -EACCES);
	CHECK(store_admin_token_revoke(s, "alice", "bob") == 0);
	CHECK(store_admin_token_verify(s, tok, name) == -EACCES);
	CHECK(store_admin_token_revoke(s, "alice", "bob") == -ENOENT);
	CHECK(store_admin_token_verify(s, tok2, name) == 0 && strcmp(name, "bob") == 0);
	CHECK(store_admin_token_create(s, "alice", "bob", tok) == 0);	/* name free again */
	store_close(s);
	CHECK(!file_contains(tmp_path("admin.db"), tok + 21));
	CHECK(!file_contains(tmp_path("admin.db"), tok2 + 21));
}

static void test_enroll_once(void)
{
	struct store *s = open_ok("enroll.db");
	char tok[STORE_TOKEN_SIZE], tok2[STORE_TOKEN_SIZE];
	char node[STORE_NAME_MAX] = "", cred[STORE_TOKEN_SIZE] = "", cred2[STORE_TOKEN_SIZE];

	CHECK(store_enroll_token_create(s, "acc1", 60000, "alice", tok) == 0);
	CHECK(strncmp(tok, "ege_", 4) == 0);
	CHECK(store_node_verify(s, "acc1", "egn_x") == -EACCES);
	CHECK(store_enroll_token_consume(s, tok, NULL, node, cred) == 0);
	CHECK(strcmp(node, "acc1") == 0 && strncmp(cred, "egn_", 4) == 0);
	CHECK(store_node_verify(s, "acc1", cred) == 0);
	CHECK(store_node_verify(s, "acc2", cred) == -EACCES);
	CHECK(store_enroll_token_consume(s, tok, NULL, node, cred2) == -EACCES);
	CHECK(strstr(store_errmsg(s), "used") != NULL);
	CHECK(store_admin_token_verify(s, tok, node) == -EACCES);	/* kinds apart */
	/* re-enrolling replaces the credential */
	CHECK(store_enroll_token_create(s, "acc1", 60000, "alice", tok2) == 0);
	CHECK(store_enroll_token_consume(s, tok2, NULL, node, cred2) == 0);
	CHECK(store_node_verify(s, "acc1", cred) == -EACCES);
	CHECK(store_node_verify(s, "acc1", cred2) == 0);
	/* A token shown by the wrong node: refused, not spent, and the node
	 * it names keeps its credential. */
	CHECK(store_enroll_token_create(s, "acc1", 60000, "alice", tok2) == 0);
	CHECK(store_enroll_token_consume(s, tok2, "acc9", node, cred) == -EACCES);
	CHECK(strstr(store_errmsg(s), "another node") != NULL);
	CHECK(store_node_verify(s, "acc1", cred2) == 0);
	CHECK(store_enroll_token_consume(s, tok2, "acc1", node, cred) == 0);
	CHECK(store_node_verify(s, "acc1", cred) == 0);
	CHECK(store_enroll_token_create(s, "bad name", 60000, "alice", tok2) == -EINVAL);
	CHECK(store_enroll_token_create(s, "acc2", 0, "alice", tok2) == -EINVAL);
	store_close(s);
	CHECK(!file_contains(tmp_path("enroll.db"), cred2 + 21));
}

static int node_count_cb(const struct store_node *n, void *arg)
{
	(void)n;
	(*(int *)arg)++;
	return 0;
}

static void test_enroll_expired(void)
{
	struct store *s = open_ok("expired.db");
	char tok[STORE_TOKEN_SIZE], node[STORE_NAME_MAX], cred[STORE_TOKEN_SIZE];
	int nodes = 0;

	fake_now = 1700000000000;
	CHECK(store_enroll_token_create(s, "acc1", 1000, "alice", tok) == 0);
	fake_now += 1000;
	CHECK(store_enroll_token_consume(s, tok, NULL, node, cred) == -EACCES);
	CHECK(strstr(store_errmsg(s), "expired") != NULL);
	fake_now -= 1;
	CHECK(store_node_list(s, node_count_cb, &nodes) == 0 && nodes == 0);
	CHECK(store_enroll_token_consume(s, tok, NULL, node, cred) == 0);	/* 1 ms before */
	CHECK(store_node_list(s, node_count_cb, &nodes) == 0 && nodes == 1);
	store_close(s);
}

/* Several processes race for one token: exactly one enrolls. */
static void test_enroll_concurrent(void)
{
	struct store *s = open_ok("race.db");
	char tok[STORE_TOKEN_SIZE];
	pid_t pids[6];
	int wins = 0;

	CHECK(store_enroll_token_create(s, "acc1", 60000, "alice", tok) == 0);
	store_close(s);	/* no SQLite connection may cross a fork */
	for (int i = 0; i < 6; i++) {
		pids[i] = fork();
		if (pids[i] == 0) {
			char node[STORE_NAME_MAX], cred[STORE_TOKEN_SIZE], err[256];
			struct store *c;

			if (store_open(&c, tmp_path("race.db"), err, sizeof(err)))
				_exit(2);
			store_set_clock(c, fake_clock, NULL);
			_exit(store_enroll_token_consume(c, tok, NULL, node, cred) == 0 ? 0 : 1);
		}
	}
	for (int i = 0; i < 6; i++) {
		int st = 0;

		CHECK(pids[i] > 0 && waitpid(pids[i], &st, 0) == pids[i]);
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) <= 1);
		wins += WIFEXITED(st) && WEXITSTATUS(st) == 0;
	}
	CHECK(wins == 1);
}

struct node_seen {
	uint64_t version;
	unix_ms last_seen, enrolled;
	char telemetry[128];
};

static int node_get_cb(const struct store_node *n, void *arg)
{
	struct node_seen *out = arg;

	out->version = n->running_version;
	out->last_seen = n->last_seen;
	out->enrolled = n->enrolled;
	snprintf(out->telemetry, sizeof(out->telemetry), "%s", n->telemetry);
	return 0;
}

static void test_node_seen(void)
{
	struct store *s = open_ok("nodes.db");
	char tok[STORE_TOKEN_SIZE], node[STORE_NAME_MAX], cred[STORE_TOKEN_SIZE];
	struct node_seen got;

	fake_now = 1700000000000;
	CHECK(store_enroll_token_create(s, "eg1", 60000, "alice", tok) == 0);
	CHECK(store_enroll_token_consume(s, tok, NULL, node, cred) == 0);
	CHECK(store_node_get(s, "eg1", node_get_cb, &got) == 0);
	CHECK(got.version == 0 && got.last_seen == 0 && strcmp(got.telemetry, "{}") == 0);
	CHECK(got.enrolled == fake_now);
	fake_now += 500;
	CHECK(store_node_seen(s, "eg1", 7, "{\"paths\":[1,2]}") == 0);
	CHECK(store_node_seen(s, "eg1", 8, NULL) == 0);
	CHECK(store_node_get(s, "eg1", node_get_cb, &got) == 0);
	CHECK(got.version == 8 && got.last_seen == fake_now);
	CHECK(strcmp(got.telemetry, "{\"paths\":[1,2]}") == 0);
	CHECK(store_node_seen(s, "eg1", 9, "not json") == -EINVAL);
	CHECK(store_node_seen(s, "eg1", 9, "[]") == -EINVAL);
	CHECK(store_node_seen(s, "nobody", 9, "{}") == -ENOENT);
	CHECK(store_node_get(s, "nobody", node_get_cb, &got) == -ENOENT);
	CHECK(store_node_get(s, "eg1", node_get_cb, &got) == 0 && got.version == 8);
	store_close(s);
}

static void test_reopen_sees_all(void)
{
	struct store *s = open_ok("reopen.db");
	char admin[STORE_TOKEN_SIZE], tok[STORE_TOKEN_SIZE], cred[STORE_TOKEN_SIZE];
	char node[STORE_NAME_MAX], name[STORE_NAME_MAX];
	struct node_seen got;
	size_t audit;
	char *doc = NULL;
	uint64_t v;

	CHECK(apply_str(s, 0, "first", &v) == 0 && apply_str(s, 1, "second", &v) == 0);
	CHECK(store_admin_token_create(s, "ops", "alice", admin) == 0);
	CHECK(store_enroll_token_create(s, "acc1", 60000, "alice", tok) == 0);
	CHECK(store_enroll_token_consume(s, tok, NULL, node, cred) == 0);
	CHECK(store_node_seen(s, "acc1", 2, "{\"rtt\":5}") == 0);
	audit = audit_count(s);
	store_close(s);
	s = open_ok("reopen.db");
	CHECK(store_policy_current(s, &v) == 0 && v == 2);
	CHECK(store_policy_get(s, 1, NULL, &doc) == 0 && doc && strcmp(doc, "first") == 0);
	free(doc);
	CHECK(audit_count(s) == audit);
	CHECK(store_admin_token_verify(s, admin, name) == 0 && strcmp(name, "ops") == 0);
	CHECK(store_node_verify(s, "acc1", cred) == 0);
	CHECK(store_enroll_token_consume(s, tok, NULL, node, cred) == -EACCES);
	CHECK(store_node_get(s, "acc1", node_get_cb, &got) == 0 && got.version == 2);
	store_close(s);
}

static void write_file(const char *path, const void *buf, size_t len, long off)
{
	int fd = open(path, O_WRONLY | O_CREAT, 0600);

	CHECK(fd >= 0);
	if (fd < 0)
		return;
	CHECK(pwrite(fd, buf, len, off) == (ssize_t)len);
	close(fd);
}

static int open_err(const char *name, char *err, size_t errlen)
{
	struct store *s = NULL;
	int ret = store_open(&s, tmp_path(name), err, errlen);

	CHECK(ret != 0 || s != NULL);
	store_close(s);
	return ret;
}

static void test_garbage_refused(void)
{
	unsigned char junk[8192];
	char err[256] = "";
	sqlite3 *db;

	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (unsigned char)(i * 131 + 7);
	write_file(tmp_path("junk.db"), junk, sizeof(junk), 0);
	CHECK(open_err("junk.db", err, sizeof(err)) == -EBADMSG);
	CHECK(strstr(err, "junk.db") && strstr(err, "not a database"));
	/* a valid SQLite file of someone else's is left alone */
	CHECK(sqlite3_open(tmp_path("other.db"), &db) == SQLITE_OK);
	CHECK(sqlite3_exec(db, "CREATE TABLE t(x)", NULL, NULL, NULL) == SQLITE_OK);
	sqlite3_close(db);
	CHECK(open_err("other.db", err, sizeof(err)) == -EBADMSG);
	CHECK(strstr(err, "not an egress-controller store") != NULL);
	/* a newer schema is refused, not misread */
	store_close(open_ok("newer.db"));
	CHECK(sqlite3_open(tmp_path("newer.db"), &db) == SQLITE_OK);
	CHECK(sqlite3_exec(db, "UPDATE meta SET value = '2'", NULL, NULL, NULL) == SQLITE_OK);
	sqlite3_close(db);
	CHECK(open_err("newer.db", err, sizeof(err)) == -ENOTSUP);
	CHECK(open_err("no/such/dir.db", err, sizeof(err)) == -ENOENT);
}

/* A store whose b-tree pages were overwritten is refused at open. */
static void test_corrupt_refused(void)
{
	struct store *s = open_ok("corrupt.db");
	char doc[3000], err[256] = "";
	unsigned char junk[512];
	uint64_t v = 0;

	memset(doc, 'x', sizeof(doc) - 1);
	doc[sizeof(doc) - 1] = '\0';
	for (int i = 0; i < 20; i++)
		CHECK(apply_str(s, v, doc, &v) == 0);
	store_close(s);		/* last close checkpoints the WAL into the file */
	memset(junk, 0xa5, sizeof(junk));
	write_file(tmp_path("corrupt.db"), junk, sizeof(junk), 4096 * 2);
	write_file(tmp_path("corrupt.db"), junk, sizeof(junk), 4096 * 3);
	CHECK(open_err("corrupt.db", err, sizeof(err)) == -EBADMSG);
	CHECK(strstr(err, "corrupt.db") != NULL);
}

static void test_bad_arguments(void)
{
	struct store *s = open_ok("args.db");
	char long_name[80], *big = calloc(1, STORE_DOC_MAX + 2);
	static const char nasty[] = "a\0'\"); DROP TABLE audit;--";
	char comment[STORE_COMMENT_MAX + 1], *got = NULL;
	struct store_policy_meta meta;
	uint64_t v;

	memset(long_name, 'a', sizeof(long_name) - 1);
	long_name[STORE_NAME_MAX - 1] = '\0';	/* 63 chars: the longest allowed */
	CHECK(store_policy_apply(s, 0, "x", 1, long_name, NULL, &v) == 0);
	long_name[STORE_NAME_MAX - 1] = 'a';
	long_name[STORE_NAME_MAX] = '\0';
	CHECK(store_policy_apply(s, 1, "x", 1, long_name, NULL, &v) == -EINVAL);
	CHECK(store_policy_apply(s, 1, "x", 1, "", NULL, &v) == -EINVAL);
	CHECK(store_policy_apply(s, 1, "x", 1, "a b", NULL, &v) == -EINVAL);
	CHECK(store_policy_apply(s, 1, "x", 1, "a\"b", NULL, &v) == -EINVAL);
	CHECK(store_policy_apply(s, 1, NULL, 0, "a", NULL, &v) == -EINVAL);
	CHECK(big && store_policy_apply(s, 1, big, STORE_DOC_MAX + 1, "a", NULL, &v) == -E2BIG);
	memset(comment, 'c', sizeof(comment) - 1);
	comment[sizeof(comment) - 1] = '\0';
	CHECK(store_policy_apply(s, 1, "x", 1, "a", comment, &v) == -E2BIG);
	/* a document with NUL bytes and quotes is stored byte for byte */
	CHECK(store_policy_apply(s, 1, nasty, sizeof(nasty), "a", "'", &v) == 0);
	CHECK(store_policy_current(s, &v) == 0 && v == 2);
	CHECK(store_policy_get(s, 2, &meta, &got) == 0 && got && meta.len == sizeof(nasty));
	CHECK(got && memcmp(got, nasty, sizeof(nasty)) == 0);
	free(got);
	CHECK(audit_count(s) == 2);
	free(big);
	store_close(s);
}

/* Randomised: applies (right or wrong expected version) and rollbacks (to
 * existing or missing versions) against an array of documents. */
static void test_random_vs_model(void)
{
	struct store *s = open_ok("model.db");
	static char model[301][16];
	uint64_t cur = 0, x = 12345;

	for (int i = 0; i < 300; i++) {
		uint64_t v = 0, expected, to;
		char doc[16], *got = NULL;
		int ret, r;

		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		r = (int)(x % 10);
		expected = r == 0 ? cur + 1 : r == 1 && cur ? cur - 1 : cur;
		if (r < 7) {
			snprintf(doc, sizeof(doc), "d%" PRIu64, x % 1000);
			ret = apply_str(s, expected, doc, &v);
		} else {
			to = x % (cur + 3);
			ret = store_policy_rollback(s, to, expected, "m", NULL, &v);
			snprintf(doc, sizeof(doc), "%s", to >= 1 && to <= cur ? model[to] : "");
		}
		if (expected != cur) {
			CHECK(ret == -ESTALE);
		} else if (r >= 7 && (to == 0 || to > cur)) {
			CHECK(ret == -ENOENT);
		} else {
			CHECK(ret == 0 && v == cur + 1);
			cur++;
			snprintf(model[cur], sizeof(model[cur]), "%s", doc);
		}
		CHECK(store_policy_get(s, 0, NULL, &got) == (cur ? 0 : -ENOENT));
		CHECK(!cur || (got && strcmp(got, model[cur]) == 0));
		free(got);
	}
	for (uint64_t v = 1; v <= cur; v++) {
		char *got = NULL;

		CHECK(store_policy_get(s, v, NULL, &got) == 0 && got && !strcmp(got, model[v]));
		free(got);
	}
	CHECK(audit_count(s) >= 64);	/* the collector caps at 64, counts on */
	store_close(s);
}

static bool crash_tool(char *path, size_t cap)
{
	ssize_t n = readlink("/proc/self/exe", path, cap - 32);
	char *slash;

	if (n <= 0)
		return false;
	path[n] = '\0';
	slash = strrchr(path, '/');
	if (!slash)
		return false;
	strcpy(slash, "/../tools/store_crash");
	return access(path, X_OK) == 0;
}

/* Reads "acked V" lines; an unfinished last line is not an ack. */
struct ack_reader {
	char line[64];
	size_t len;
	uint64_t acked;
};

static void ack_feed(struct ack_reader *r, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i] != '\n') {
			if (r->len < sizeof(r->line) - 1)
				r->line[r->len++] = p[i];
			continue;
		}
		r->line[r->len] = '\0';
		if (strncmp(r->line, "acked ", 6) == 0)
			r->acked = strtoull(r->line + 6, NULL, 10);
		r->len = 0;
	}
}

static int ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int)((t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000);
}

/* Runs the writer for delay_ms, kills it with SIGKILL, returns the highest
 * version it acknowledged (0 if none). */
static uint64_t crash_round(const char *tool, const char *db, int delay_ms)
{
	struct ack_reader r = { .len = 0 };
	struct timespec t0;
	char buf[4096];
	int fds[2], st, left;
	ssize_t n;
	pid_t pid;

	CHECK(pipe(fds) == 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pid = fork();
	if (pid == 0) {
		close(fds[0]);
		dup2(fds[1], STDOUT_FILENO);
		if (tool)
			execl(tool, tool, db, "1000000", (char *)NULL);
		_exit(crash_run(db, 1000000, stdout));	/* no tool built: same loop */
	}
	close(fds[1]);
	while ((left = delay_ms - ms_since(&t0)) > 0) {
		struct pollfd p = { .fd = fds[0], .events = POLLIN };

		if (poll(&p, 1, left) <= 0 || (n = read(fds[0], buf, sizeof(buf))) <= 0)
			break;
		ack_feed(&r, buf, (size_t)n);
	}
	kill(pid, SIGKILL);
	CHECK(waitpid(pid, &st, 0) == pid && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	while ((n = read(fds[0], buf, sizeof(buf))) > 0)
		ack_feed(&r, buf, (size_t)n);
	close(fds[0]);
	return r.acked;
}

/* Every version 1..current present with its own document, each with one
 * policy.apply audit row, in order; returns current. */
static int crash_audit_cb(const struct store_audit_entry *e, void *arg)
{
	int64_t *next = arg;
	json_t *d = json_loads(e->detail, 0, NULL);
	json_t *v = d ? json_object_get(d, "version") : NULL;
	bool ok = strcmp(e->action, "policy.apply") == 0 && json_is_integer(v) &&
		  json_integer_value(v) == *next;

	json_decref(d);
	(*next)++;
	return ok ? 0 : 1;
}

static uint64_t crash_check(const char *db, uint64_t acked)
{
	char want[CRASH_DOC_MAX], err[256];
	struct store_policy_meta list[64];
	struct store *s;
	uint64_t cur = 0, seen = 0;
	int64_t next = 1;
	size_t n;

	if (store_open(&s, db, err, sizeof(err))) {
		fprintf(stderr, "crash_check: %s\n", err);
		CHECK(!"store opens after kill -9");
		return 0;
	}
	CHECK(store_policy_current(s, &cur) == 0 && cur >= acked);
	while (store_policy_list(s, seen, list, 64, &n) == 0 && n > 0) {
		for (size_t i = 0; i < n; i++) {
			char *doc = NULL;
			size_t len = crash_doc(list[i].version, want);

			CHECK(list[i].version == ++seen);	/* contiguous */
			CHECK(store_policy_get(s, list[i].version, NULL, &doc) == 0);
			CHECK(doc && list[i].len == len && memcmp(doc, want, len) == 0);
			free(doc);
		}
	}
	CHECK(seen == cur);
	CHECK(store_audit_list(s, 0, SIZE_MAX, crash_audit_cb, &next) == 0);
	CHECK(next == (int64_t)cur + 1);
	store_close(s);
	return cur;
}

static void test_crash_kill9(void)
{
	char tool[PATH_MAX], db[PATH_MAX];
	bool have_tool = crash_tool(tool, sizeof(tool));
	uint64_t seed = (uint64_t)time(NULL) ^ (uint64_t)getpid(), x = seed;
	uint64_t acked = 0, cur = 0;
	int kills_mid = 0, lost = 0;

	snprintf(db, sizeof(db), "%s", tmp_path("crash.db"));
	for (int round = 0; round < 20; round++) {
		uint64_t a;

		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		a = crash_round(have_tool ? tool : NULL, db, 30 + (int)(x % 120));
		CHECK(a == 0 || a > acked);
		if (a)
			acked = a;
		cur = crash_check(db, acked);
		kills_mid += cur > acked;	/* committed, killed before the ack */
		lost += cur < acked;
	}
	CHECK(acked > 0 && lost == 0);
	printf("store: kill -9 x20 (seed %" PRIu64 ", %s): %" PRIu64 " versions, %" PRIu64
	       " acked, %d rounds lost acked versions, %d kills between commit and ack\n",
	       seed, have_tool ? "store_crash tool" : "forked loop", cur, acked, lost,
	       kills_mid);
}

static void tmp_cleanup(void)
{
	DIR *d = opendir(tmp_dir);
	struct dirent *e;

	while (d && (e = readdir(d)))
		if (e->d_name[0] != '.')
			unlink(tmp_path(e->d_name));
	if (d)
		closedir(d);
	rmdir(tmp_dir);
}

static void test_setup(void)
{
	CHECK(crypto_init());
	CHECK(mkdtemp(tmp_dir) != NULL);
}

TEST_MAIN("store",
	  TEST(test_setup),
	  TEST(test_open_creates_wal),
	  TEST(test_apply_get_list),
	  TEST(test_same_doc_same_hash),
	  TEST(test_stale_refused),
	  TEST(test_rollback),
	  TEST(test_audit_every_change),
	  TEST(test_admin_tokens),
	  TEST(test_enroll_once),
	  TEST(test_enroll_expired),
	  TEST(test_enroll_concurrent),
	  TEST(test_node_seen),
	  TEST(test_reopen_sees_all),
	  TEST(test_garbage_refused),
	  TEST(test_corrupt_refused),
	  TEST(test_bad_arguments),
	  TEST(test_random_vs_model),
	  TEST(test_crash_kill9),
	  TEST(tmp_cleanup))

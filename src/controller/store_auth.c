/* store_auth: admin tokens, one-time enrollment tokens and per-node
 * credentials. A token text is "<kind>_<id>_<secret>": the id (64 random
 * bits, hex) finds the row, the secret (256 random bits, hex) proves
 * possession. Only a BLAKE2s hash of the whole text is stored, compared in
 * constant time; a plain hash suffices because the secret is random, not a
 * password. The texts are returned once and wiped from our memory. */
#include <errno.h>
#include <string.h>

#include "common/cursor.h"
#include "controller/store_internal.h"

static const char sql_token_insert[] =
	"INSERT INTO tokens(id, kind, name, hash, created_ms, expires_ms)"
	" VALUES (?, ?, ?, ?, ?, ?)";
static const char sql_token_get[] =
	"SELECT name, hash, coalesce(expires_ms, 9223372036854775807),"
	" used_ms IS NOT NULL, revoked_ms IS NOT NULL FROM tokens WHERE id = ? AND kind = ?";
/* The one-time guard: of two concurrent consumers only one changes a row. */
static const char sql_token_use[] =
	"UPDATE tokens SET used_ms = ?1 WHERE id = ?2 AND kind = 'enroll'"
	" AND used_ms IS NULL AND revoked_ms IS NULL AND expires_ms > ?1";
static const char sql_token_revoke[] =
	"UPDATE tokens SET revoked_ms = ? WHERE kind = 'admin' AND name = ?"
	" AND revoked_ms IS NULL";
static const char sql_node_enroll[] =
	"INSERT INTO nodes(name, enrolled_ms, cred_hash) VALUES (?1, ?2, ?3)"
	" ON CONFLICT(name) DO UPDATE SET enrolled_ms = ?2, cred_hash = ?3";
static const char sql_node_cred[] = "SELECT cred_hash FROM nodes WHERE name = ?";

static const char token_hash_label[] = "egress store token v1";

static void hex_encode(char *out, const uint8_t *in, size_t n)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

void store_hash_hex(char out[STORE_HASH_HEX_LEN + 1], const void *buf, size_t len)
{
	uint8_t h[BLAKE2S_HASH_LEN];

	blake2s_hash(h, buf, len, NULL, 0);
	hex_encode(out, h, sizeof(h));
}

static void token_hash(struct store_token *t)
{
	blake2s_hash(t->hash, token_hash_label, sizeof(token_hash_label),
		     t->text, STORE_TOKEN_LEN);
}

void store_token_new(struct store_token *t, const char *prefix)
{
	uint8_t id[STORE_TOKEN_ID_HEX / 2], secret[STORE_TOKEN_SECRET_HEX / 2];

	crypto_random(id, sizeof(id));
	crypto_random(secret, sizeof(secret));
	hex_encode(t->id, id, sizeof(id));
	memcpy(t->text, prefix, 4);
	memcpy(t->text + 4, t->id, STORE_TOKEN_ID_HEX);
	t->text[4 + STORE_TOKEN_ID_HEX] = '_';
	hex_encode(t->text + 5 + STORE_TOKEN_ID_HEX, secret, sizeof(secret));
	crypto_wipe(secret, sizeof(secret));
	token_hash(t);
}

static bool hex_lower_ok(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f')))
			return false;
	return true;
}

bool store_token_parse(struct store_token *t, const char *text, const char *prefix)
{
	struct cursor c;
	const uint8_t *kind, *id, *secret;
	uint8_t sep = 0;

	if (!text || strnlen(text, STORE_TOKEN_SIZE) != STORE_TOKEN_LEN)
		return false;
	c = cursor_init(text, STORE_TOKEN_LEN);
	kind = rd_ptr(&c, 4);
	id = rd_ptr(&c, STORE_TOKEN_ID_HEX);
	rd_u8(&c, &sep);
	secret = rd_ptr(&c, STORE_TOKEN_SECRET_HEX);
	if (!c.ok || c.left || sep != '_' || memcmp(kind, prefix, 4) ||
	    !hex_lower_ok(id, STORE_TOKEN_ID_HEX) || !hex_lower_ok(secret, STORE_TOKEN_SECRET_HEX))
		return false;
	memcpy(t->text, text, STORE_TOKEN_SIZE);
	memcpy(t->id, id, STORE_TOKEN_ID_HEX);
	t->id[STORE_TOKEN_ID_HEX] = '\0';
	token_hash(t);
	return true;
}

static int token_insert(struct store *s, const struct store_token *t, const char *kind,
			const char *name, unix_ms expires)
{
	sqlite3_stmt *st = store_prepare(s, ST_TOKEN_INSERT, sql_token_insert);
	int ret;

	if (!st)
		return -EIO;
	store_bind_text(st, 1, t->id);
	store_bind_text(st, 2, kind);
	store_bind_text(st, 3, name);
	sqlite3_bind_blob(st, 4, t->hash, sizeof(t->hash), SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, store_now(s));
	if (expires)
		sqlite3_bind_int64(st, 6, expires);
	ret = store_step_done(s, st);
	sqlite3_reset(st);
	if (ret == -EEXIST)
		store_failf(s, ret, "an active admin token has that name");
	return ret;
}

/* Token row and audit row in one transaction; the text goes out on commit. */
static int token_create(struct store *s, const char *prefix, const char *kind,
			const char *name, unix_ms expires, const char *actor,
			json_t *detail, char token[STORE_TOKEN_SIZE])
{
	struct store_token t;
	int ret;

	store_token_new(&t, prefix);
	json_object_set_new(detail, "id", json_string(t.id));
	ret = store_tx_begin(s);
	if (ret) {
		json_decref(detail);
		goto out_wipe;
	}
	ret = token_insert(s, &t, kind, name, expires);
	if (!ret)
		ret = store_audit_insert(s, actor, strcmp(kind, "admin") ?
					 "token.enroll.create" : "token.admin.create", detail);
	else
		json_decref(detail);
	ret = ret ? store_tx_abort(s, ret) : store_tx_commit(s);
	if (!ret)
		memcpy(token, t.text, STORE_TOKEN_SIZE);
out_wipe:
	crypto_wipe(&t, sizeof(t));
	return ret;
}

int store_admin_token_create(struct store *s, const char *name, const char *actor,
			     char token[STORE_TOKEN_SIZE])
{
	if (!store_name_ok(name) || !store_name_ok(actor))
		return store_failf(s, -EINVAL, "bad token or actor name");
	return token_create(s, STORE_TOKEN_ADMIN, "admin", name, 0, actor,
			    json_pack("{s:s}", "name", name), token);
}

int store_enroll_token_create(struct store *s, const char *node_name, unix_ms ttl_ms,
			      const char *actor, char token[STORE_TOKEN_SIZE])
{
	unix_ms expires;

	if (!store_name_ok(node_name) || !store_name_ok(actor))
		return store_failf(s, -EINVAL, "bad node or actor name");
	if (ttl_ms <= 0 || ttl_ms > INT64_MAX / 2)
		return store_failf(s, -EINVAL, "bad enrollment token lifetime");
	expires = store_now(s) + ttl_ms;
	return token_create(s, STORE_TOKEN_ENROLL, "enroll", node_name, expires, actor,
			    json_pack("{s:s, s:I}", "node", node_name,
				      "expires_ms", (json_int_t)expires), token);
}

/* What a token row says; the name is copied only once the hash matched. */
struct token_row {
	char name[STORE_NAME_MAX];
	unix_ms expires;
	bool used, revoked;
};

static int token_lookup(struct store *s, const struct store_token *t, const char *kind,
			struct token_row *row)
{
	sqlite3_stmt *st = store_prepare(s, ST_TOKEN_GET, sql_token_get);
	bool match = false;
	int rc;

	if (!st)
		return -EIO;
	store_bind_text(st, 1, t->id);
	store_bind_text(st, 2, kind);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && sqlite3_column_bytes(st, 1) == BLAKE2S_HASH_LEN)
		match = crypto_equal(sqlite3_column_blob(st, 1), t->hash, BLAKE2S_HASH_LEN);
	if (match) {
		store_copy_text(row->name, sizeof(row->name), sqlite3_column_text(st, 0));
		row->expires = sqlite3_column_int64(st, 2);
		row->used = sqlite3_column_int(st, 3);
		row->revoked = sqlite3_column_int(st, 4);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_fail(s, rc);
	return match ? 0 : store_failf(s, -EACCES, "unknown token");
}

int store_admin_token_verify(struct store *s, const char *token, char name[STORE_NAME_MAX])
{
	struct store_token t;
	struct token_row row;
	int ret;

	if (!store_token_parse(&t, token, STORE_TOKEN_ADMIN))
		return store_failf(s, -EACCES, "malformed admin token");
	ret = token_lookup(s, &t, "admin", &row);
	crypto_wipe(&t, sizeof(t));
	if (ret)
		return ret;
	if (row.revoked)
		return store_failf(s, -EACCES, "admin token revoked");
	memcpy(name, row.name, STORE_NAME_MAX);
	return 0;
}

int store_admin_token_revoke(struct store *s, const char *name, const char *actor)
{
	sqlite3_stmt *st;
	int ret;

	if (!store_name_ok(name) || !store_name_ok(actor))
		return store_failf(s, -EINVAL, "bad token or actor name");
	ret = store_tx_begin(s);
	if (ret)
		return ret;
	st = store_prepare(s, ST_TOKEN_REVOKE, sql_token_revoke);
	if (!st)
		return store_tx_abort(s, -EIO);
	sqlite3_bind_int64(st, 1, store_now(s));
	store_bind_text(st, 2, name);
	ret = store_step_done(s, st);
	if (!ret && sqlite3_changes(s->db) == 0)
		ret = store_failf(s, -ENOENT, "no active admin token of that name");
	if (!ret)
		ret = store_audit_insert(s, actor, "token.admin.revoke",
					 json_pack("{s:s}", "name", name));
	return ret ? store_tx_abort(s, ret) : store_tx_commit(s);
}

/* Marks the token used; 0 only for the one caller whose UPDATE changed it. */
static int token_use(struct store *s, const struct store_token *t, const struct token_row *row)
{
	sqlite3_stmt *st;
	unix_ms now = store_now(s);
	int ret;

	if (row->used || row->revoked)
		return store_failf(s, -EACCES, "enrollment token already used");
	if (row->expires <= now)
		return store_failf(s, -EACCES, "enrollment token expired");
	st = store_prepare(s, ST_TOKEN_USE, sql_token_use);
	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, now);
	store_bind_text(st, 2, t->id);
	ret = store_step_done(s, st);
	if (!ret && sqlite3_changes(s->db) != 1)
		ret = store_failf(s, -EACCES, "enrollment token already used");
	return ret;
}

static int node_enroll(struct store *s, const char *node, const struct store_token *cred)
{
	sqlite3_stmt *st = store_prepare(s, ST_NODE_ENROLL, sql_node_enroll);

	if (!st)
		return -EIO;
	store_bind_text(st, 1, node);
	sqlite3_bind_int64(st, 2, store_now(s));
	sqlite3_bind_blob(st, 3, cred->hash, sizeof(cred->hash), SQLITE_STATIC);
	return store_step_done(s, st);
}

/* Inside the transaction: check, use, enroll, audit. A token shown by
 * the wrong node is refused before it is used: spending it would let
 * anyone who saw it re-key the node it was made for. */
static int enroll_locked(struct store *s, const struct store_token *t, const char *want,
			 const struct store_token *cred, struct token_row *row)
{
	int ret = token_lookup(s, t, "enroll", row);

	if (!ret && want && strcmp(want, row->name))
		ret = store_failf(s, -EACCES, "enrollment token is for another node");
	if (!ret)
		ret = token_use(s, t, row);
	if (!ret)
		ret = node_enroll(s, row->name, cred);
	if (!ret)
		ret = store_audit_insert(s, row->name, "node.enroll",
					 json_pack("{s:s, s:s}", "node", row->name,
						   "token", t->id));
	return ret;
}

int store_enroll_token_consume(struct store *s, const char *token, const char *want,
			       char node_name[STORE_NAME_MAX],
			       char credential[STORE_TOKEN_SIZE])
{
	struct store_token t, cred;
	struct token_row row;
	int ret;

	if (!store_token_parse(&t, token, STORE_TOKEN_ENROLL))
		return store_failf(s, -EACCES, "malformed enrollment token");
	store_token_new(&cred, STORE_TOKEN_NODE);
	ret = store_tx_begin(s);
	if (!ret) {
		ret = enroll_locked(s, &t, want, &cred, &row);
		ret = ret ? store_tx_abort(s, ret) : store_tx_commit(s);
	}
	if (!ret) {
		memcpy(node_name, row.name, STORE_NAME_MAX);
		memcpy(credential, cred.text, STORE_TOKEN_SIZE);
	}
	crypto_wipe(&t, sizeof(t));
	crypto_wipe(&cred, sizeof(cred));
	return ret;
}

int store_node_verify(struct store *s, const char *node, const char *credential)
{
	sqlite3_stmt *st;
	struct store_token t;
	bool match = false;
	int rc;

	if (!store_name_ok(node) || !store_token_parse(&t, credential, STORE_TOKEN_NODE))
		return store_failf(s, -EACCES, "malformed node or credential");
	st = store_prepare(s, ST_NODE_CRED, sql_node_cred);
	if (!st)
		return -EIO;
	store_bind_text(st, 1, node);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && sqlite3_column_bytes(st, 0) == BLAKE2S_HASH_LEN)
		match = crypto_equal(sqlite3_column_blob(st, 0), t.hash, BLAKE2S_HASH_LEN);
	sqlite3_reset(st);
	crypto_wipe(&t, sizeof(t));
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_fail(s, rc);
	return match ? 0 : store_failf(s, -EACCES, "bad node credential");
}

/* store_internal: what the store_*.c files share and nobody else sees: the
 * connection with its cache of prepared statements, transactions, error
 * mapping, token texts and the audit insert that every write path calls
 * inside its own transaction. */
#ifndef EGRESS_CONTROLLER_STORE_INTERNAL_H
#define EGRESS_CONTROLLER_STORE_INTERNAL_H

#include <jansson.h>
#include <sqlite3.h>

#include "controller/store.h"
#include "crypto/crypto.h"

/* One slot per statement; each is prepared once, on first use, next to
 * the SQL text in the file that uses it. */
enum store_stmt {
	ST_BEGIN, ST_COMMIT, ST_ROLLBACK,
	ST_AUDIT_INSERT, ST_AUDIT_LIST,
	ST_POLICY_CURRENT, ST_POLICY_INSERT, ST_POLICY_COPY, ST_POLICY_GET,
	ST_POLICY_LIST,
	ST_TOKEN_INSERT, ST_TOKEN_GET, ST_TOKEN_USE, ST_TOKEN_REVOKE,
	ST_NODE_ENROLL, ST_NODE_CRED, ST_NODE_SEEN, ST_NODE_REMOVE, ST_NODE_GET,
	ST_NODE_LIST,
	ST_COUNT
};

struct store {
	sqlite3 *db;
	sqlite3_stmt *stmt[ST_COUNT];
	unix_ms (*now)(void *arg);
	void *now_arg;
	char err[256];
};

/* Token kinds, by the prefix of their text. */
#define STORE_TOKEN_ADMIN	"ega_"
#define STORE_TOKEN_ENROLL	"ege_"
#define STORE_TOKEN_NODE	"egn_"
#define STORE_TOKEN_ID_HEX	16	/* public part: finds the row */
#define STORE_TOKEN_SECRET_HEX	64	/* 256 random bits */

struct store_token {
	char text[STORE_TOKEN_SIZE];
	char id[STORE_TOKEN_ID_HEX + 1];
	uint8_t hash[BLAKE2S_HASH_LEN];
};

sqlite3_stmt *store_prepare(struct store *s, enum store_stmt id, const char *sql);
int store_fail(struct store *s, int rc);		/* SQLite rc -> -errno */
int store_failf(struct store *s, int err, const char *what);
int store_step_done(struct store *s, sqlite3_stmt *st);
int store_tx_begin(struct store *s);
int store_tx_commit(struct store *s);
/* Rolls back and passes ret through, for "return store_tx_abort(s, ret)". */
int store_tx_abort(struct store *s, int ret);
unix_ms store_now(struct store *s);

bool store_name_ok(const char *name);
/* Binds a C string as TEXT without copying (it outlives the step). */
int store_bind_text(sqlite3_stmt *st, int col, const char *text);
void store_copy_text(char *dst, size_t cap, const unsigned char *src);

/* Appends one audit row; detail is stolen (decref'd here), NULL = {}. */
int store_audit_insert(struct store *s, const char *actor, const char *action,
		       json_t *detail);

void store_token_new(struct store_token *t, const char *prefix);
/* Parses a token text of the given kind; false if malformed. */
bool store_token_parse(struct store_token *t, const char *text, const char *prefix);
void store_hash_hex(char out[STORE_HASH_HEX_LEN + 1], const void *buf, size_t len);

#endif

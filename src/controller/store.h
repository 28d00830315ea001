/* store: egress-controller's embedded store, one SQLite file (WAL mode,
 * synchronous=FULL; see docs/store.md). It keeps every policy version, the
 * audit log, admin and enrollment tokens, and the enrolled nodes with their
 * hashed credentials. Every write is one transaction that also appends its
 * audit record, so a change and its audit row are stored together or not at
 * all. A function that returns 0 has committed durably: the caller may
 * acknowledge.
 *
 * Returns: 0 or -errno. -ESTALE expected version is not the current one,
 * -ENOENT no such version/node, -EACCES bad, used, expired or revoked
 * token or credential, -EINVAL a malformed argument (name, JSON text),
 * -E2BIG an argument over its limit, -EEXIST an active admin token already
 * has that name, -EBUSY the database stayed locked past the busy timeout,
 * -EBADMSG the file is not (or no longer) a valid store, -ENOTSUP a newer
 * schema, -EIO/-ENOSPC/-EROFS/-ENOMEM from below. store_errmsg() says more.
 * Failed verifications are not audited here: the API appends "auth.fail"
 * itself (rate-limited), so bad credentials cannot flood the log.
 *
 * A struct store is one SQLite connection: use it from one thread at a
 * time. Several handles (threads, processes) may share one file. */
#ifndef EGRESS_CONTROLLER_STORE_H
#define EGRESS_CONTROLLER_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct store;

#define STORE_SCHEMA_VERSION	1
#define STORE_NAME_MAX		64	/* actor, token and node names, with NUL */
#define STORE_COMMENT_MAX	512	/* with NUL */
#define STORE_ACTION_MAX	32	/* with NUL */
#define STORE_HASH_HEX_LEN	64	/* BLAKE2s-256 in hex, without NUL */
#define STORE_DOC_MAX		(8u << 20)	/* a policy document, bytes */
#define STORE_DETAIL_MAX	(64u << 10)	/* audit detail, telemetry: bytes */
/* Token and credential texts: "egX_" + 16 hex id + "_" + 64 hex secret. */
#define STORE_TOKEN_LEN		85	/* without NUL */
#define STORE_TOKEN_SIZE	(STORE_TOKEN_LEN + 1)

typedef int64_t unix_ms;	/* wall clock, milliseconds since 1970 */

/* Opens (and on first start creates) the store at path; refuses a file that
 * is not a store of ours or a newer schema, with a line in err (may be
 * NULL). The schema and the WAL mode are set up in one transaction, so a
 * kill during the first start leaves either nothing or a whole store. */
int store_open(struct store **out, const char *path, char *err, size_t errlen);
void store_close(struct store *s);
/* The last error's text, for logs; never NULL. */
const char *store_errmsg(const struct store *s);
/* Tests inject a wall clock; the default reads CLOCK_REALTIME. */
void store_set_clock(struct store *s, unix_ms (*now)(void *arg), void *arg);

/* ---- policy versions: 1, 2, 3, ... ; 0 means "none yet" ---- */
struct store_policy_meta {
	uint64_t version;
	unix_ms created;
	char actor[STORE_NAME_MAX];
	char comment[STORE_COMMENT_MAX];
	char hash[STORE_HASH_HEX_LEN + 1];	/* BLAKE2s-256 of the document */
	size_t len;				/* document bytes */
	uint64_t rollback_of;			/* 0, or the version it copies */
};

/* Stores doc as version current+1 if current == expected, else -ESTALE and
 * nothing is stored. comment may be NULL. */
int store_policy_apply(struct store *s, uint64_t expected, const void *doc, size_t len,
		       const char *actor, const char *comment, uint64_t *new_version);
/* A new version whose document is to_version's; its comment is "rollback
 * to N", then ": comment" when one is given (may be NULL); audit says
 * "policy.rollback". */
int store_policy_rollback(struct store *s, uint64_t to_version, uint64_t expected,
			  const char *actor, const char *comment, uint64_t *new_version);
int store_policy_current(struct store *s, uint64_t *version);	/* 0 if none */
/* version 0 = current. *doc is malloc'd, NUL-terminated (not counted in
 * meta->len), freed by the caller; doc may be NULL to read only meta. */
int store_policy_get(struct store *s, uint64_t version, struct store_policy_meta *meta,
		     char **doc);
/* Up to cap versions > after, oldest first, into out; *n = how many. */
int store_policy_list(struct store *s, uint64_t after, struct store_policy_meta *out,
		      size_t cap, size_t *n);

/* ---- audit log ---- */
struct store_audit_entry {
	int64_t id;		/* increasing, never reused */
	unix_ms time;
	const char *actor;	/* pointers valid during the callback only */
	const char *action;	/* "policy.apply", "auth.fail", ... */
	const char *detail;	/* a JSON object */
};

/* For events that change nothing else, e.g. a refused login. detail is a
 * JSON object (NULL = {}); checked, -EINVAL if it is not one. */
int store_audit_append(struct store *s, const char *actor, const char *action,
		       const char *detail);
/* Calls fn for up to limit entries with id > since_id, oldest first; a
 * non-zero return from fn stops the walk and is returned. */
int store_audit_list(struct store *s, int64_t since_id, size_t limit,
		     int (*fn)(const struct store_audit_entry *e, void *arg), void *arg);

/* ---- tokens: the text is returned once; only its hash is stored ---- */
int store_admin_token_create(struct store *s, const char *name, const char *actor,
			     char token[STORE_TOKEN_SIZE]);
/* 0 and the token's name (the actor for the audit log), or -EACCES. */
int store_admin_token_verify(struct store *s, const char *token, char name[STORE_NAME_MAX]);
int store_admin_token_revoke(struct store *s, const char *name, const char *actor);

/* A one-time token that enrolls node_name, valid for ttl_ms. */
int store_enroll_token_create(struct store *s, const char *node_name, unix_ms ttl_ms,
			      const char *actor, char token[STORE_TOKEN_SIZE]);
/* Consumes the token (once, even against concurrent consumers), enrolls its
 * node (re-enrolling replaces the old credential) and returns the node's
 * name and a fresh credential, shown only here. want: the node the caller
 * says it is, or NULL; a token for another node is -EACCES and changes
 * nothing (neither the token nor that node's credential). */
int store_enroll_token_consume(struct store *s, const char *token, const char *want,
			       char node_name[STORE_NAME_MAX],
			       char credential[STORE_TOKEN_SIZE]);

/* ---- nodes ---- */
struct store_node {
	const char *name;	/* pointers valid during the callback only */
	unix_ms enrolled;
	unix_ms last_seen;	/* 0 = never */
	uint64_t running_version;
	const char *telemetry;	/* the last JSON pushed, "{}" if none */
};

/* 0 if credential is node's current one, else -EACCES. */
int store_node_verify(struct store *s, const char *node, const char *credential);
/* Records a node's report: when, which policy version it runs, and its
 * telemetry (a JSON object; NULL keeps the last). Not audited. */
int store_node_seen(struct store *s, const char *node, uint64_t running_version,
		    const char *telemetry);
int store_node_remove(struct store *s, const char *node, const char *actor);
int store_node_get(struct store *s, const char *node,
		   int (*fn)(const struct store_node *n, void *arg), void *arg);
int store_node_list(struct store *s, int (*fn)(const struct store_node *n, void *arg),
		    void *arg);

#endif

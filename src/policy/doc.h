/* doc: the policy document as a tree that remembers where every node was
 * written (1-based line:col), built from libyaml's events. Everything
 * after this file works on the tree and never on YAML itself, so JSON and
 * YAML documents are one case. Anchors are ignored and aliases refused:
 * an alias makes a tree a graph, and a graph of aliases is the "billion
 * laughs" blow-up. The tree lives in an arena and dies with the load. */
#ifndef EGRESS_POLICY_DOC_H
#define EGRESS_POLICY_DOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DOC_MAX_BYTES (64u * 1024u * 1024u)
#define DOC_MAX_DEPTH 32
#define DOC_MAX_NODES (8u * 1024u * 1024u)

struct policy_arena;
struct policy_diag;

enum doc_type { DOC_SCALAR, DOC_SEQ, DOC_MAP };

struct doc_pair;

struct doc_node {
	uint8_t type;		/* enum doc_type */
	bool plain;		/* scalar written without quotes */
	uint32_t line, col;
	uint32_t n;		/* scalar length; items; pairs */
	union {
		const char *str;		/* NUL-terminated, no NUL inside */
		struct doc_node **items;
		struct doc_pair *pairs;
	};
};

struct doc_pair {
	struct doc_node *key;	/* always a scalar */
	struct doc_node *value;
};

/* Parses one YAML document. NULL with errors in diag on failure. */
struct doc_node *policy_doc_parse(const char *buf, size_t len, struct policy_arena *arena,
				  struct policy_diag *diag);

/* A plain empty scalar, "~" or "null": a key written with no value. */
bool policy_doc_is_null(const struct doc_node *n);

/* A mapping checked against the keys it may hold. */
struct doc_fields {
	const char *const *keys;	/* allowed keys, NULL-terminated */
	const struct doc_node *vals[24];/* value per allowed key, or NULL */
	const struct doc_node *keynodes[24];
};

/* Fills f->vals; reports a non-mapping (as `what`), unknown keys (with a
 * suggestion) and duplicate keys. A null node is an empty mapping.
 * Returns false only when n is not a mapping. */
bool policy_doc_fields(struct policy_diag *d, const struct doc_node *n, const char *what,
		       struct doc_fields *f);

/* The "name" scalar of a mapping, or "" (for messages about list items). */
const char *policy_doc_name_of(const struct doc_node *n);

/* Reports duplicate keys of a mapping whose keys are names (regions,
 * nodes, users, ...). */
void policy_doc_check_dup_keys(struct policy_diag *d, const struct doc_node *map);

#endif

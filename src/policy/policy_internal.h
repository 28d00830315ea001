/* policy_internal: what the loader's files share and the compiled
 * matchers behind struct policy. Nothing outside src/policy/ includes it.
 *
 * Load = parse (parse_*.c walk the document tree in dependency order:
 * regions, nodes, pools, groups, users, destinations, classes, rules, so
 * that every reference can be resolved when it is read) -> check
 * (check.c: what needs the whole document) -> compile (compile.c). */
#ifndef EGRESS_POLICY_INTERNAL_H
#define EGRESS_POLICY_INTERNAL_H

#include <maxminddb.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy/domain.h"
#include "policy/policy.h"
#include "policy/prefix_map.h"
#include "policy/setlist.h"
#include "policy/strmap.h"

struct policy_arena;
struct policy_diag;
struct doc_node;

#define POLICY_MAX_USER_GROUPS 64	/* bounds the rule merge in classify */
#define POLICY_COUNTRIES (26 * 26)

enum policy_kind {
	KIND_REGION, KIND_NODE, KIND_POOL, KIND_GROUP, KIND_USER, KIND_DEVICE,
	KIND_DEST, KIND_CLASS, KIND_RULE, KIND__MAX
};

static inline unsigned policy_country_index(const char c[2])
{
	return (unsigned)(c[0] - 'A') * 26 + (unsigned)(c[1] - 'A');
}

/* ---- while loading ---- */

/* What a destination set is made of, until compile flattens it. */
struct policy_dest_def {
	const struct doc_node *at;		/* its name (or the class's match) */
	struct domain_entry *domains;
	size_t n_domains;
	char (*countries)[3];
	size_t n_countries;
	const struct doc_node *countries_at;	/* for the geoip check */
};

struct policy_member_at {
	const struct doc_node *node;		/* the node's name in the pool */
	const struct doc_node **prefixes;
};

struct policy_vec {
	void *v;
	size_t n, cap, size;
};

struct policy_build {
	struct policy *p;
	struct policy_arena *arena;		/* the policy's */
	struct policy_diag *diag;
	const char *base_dir;
	struct strmap names[KIND__MAX];		/* name -> index */
	/* Where things are, for errors found after parsing. */
	const struct doc_node **at[KIND__MAX];	/* the name of each */
	const struct doc_node ***device_addr_at;	/* per device, per address */
	size_t cap_devices;
	struct policy_member_at **member_at;	/* per pool, per member */
	const struct doc_node **roles_at;		/* per node */
	const struct doc_node **inspection_at;		/* per class, or NULL */
	const struct doc_node *pools_at, *geoip_at;
	char *geoip_path;
	/* Destination sets: named ones first, then one per class with an
	 * inline match. */
	struct policy_dest_def *dests;
	size_t n_named_dests;
	size_t max_inline_dests;		/* classes in the document */
	struct policy_vec dest_prefixes;	/* struct prefix_map_entry, value = set */
	/* Region prefixes, region by region. */
	struct policy_vec region_prefixes;	/* value = region */
	struct policy_vec region_prefix_at;	/* const struct doc_node *, parallel */
	size_t *region_pfx_off, *region_pfx_n;
};

void *policy_vec_push(struct policy_vec *v);

/* The index of a reference to a kind, reporting unknown names with the
 * names that exist; POLICY_NONE then. */
uint32_t policy_build_ref(struct policy_build *b, enum policy_kind kind,
			  const struct doc_node *n);
/* Resolves a list of names into a sorted unique array in the arena. */
bool policy_build_refs(struct policy_build *b, enum policy_kind kind,
		       const struct doc_node *list, const char *what, uint32_t **out,
		       size_t *n);
/* Registers a name; reports a duplicate (kinds whose names are list items:
 * classes, rules, links, devices). */
bool policy_build_name(struct policy_build *b, enum policy_kind kind,
		       const struct doc_node *at, const char *name, uint32_t index);
/* Joins a path from the document with its folder (arena string). */
/* A path the document names at `at`, relative to its folder; NULL after
 * an error (a relative path without a folder) or out of memory. */
char *policy_build_path(struct policy_build *b, const struct doc_node *at, const char *what);
const char *policy_kind_name(enum policy_kind kind);

void policy_parse_settings(struct policy_build *b, const struct doc_node *n);
void policy_parse_overlay(struct policy_build *b, const struct doc_node *n);
void policy_parse_regions(struct policy_build *b, const struct doc_node *n);
void policy_parse_nodes(struct policy_build *b, const struct doc_node *n);
void policy_parse_pools(struct policy_build *b, const struct doc_node *n);
void policy_parse_groups(struct policy_build *b, const struct doc_node *n);
void policy_parse_users(struct policy_build *b, const struct doc_node *n);
void policy_parse_destinations(struct policy_build *b, const struct doc_node *n);
void policy_parse_classes(struct policy_build *b, const struct doc_node *n);
void policy_parse_rules(struct policy_build *b, const struct doc_node *n);
/* A class's inline domains / countries / prefixes into set. */
void policy_parse_inline_dest(struct policy_build *b, uint32_t set,
			      const struct doc_node *domains, const struct doc_node *countries,
			      const struct doc_node *prefixes);
/* Reads one prefix list file into set's prefixes; errors point into it. */
void policy_parse_prefix_file(struct policy_build *b, const struct doc_node *at,
			      uint32_t set);

/* A regular file of at most max bytes, NUL-terminated; NULL with the
 * reason in msg. */
char *policy_read_file(const char *path, size_t max, size_t *len, char *msg, size_t cap);

void policy_check(struct policy_build *b);
bool policy_compile(struct policy_build *b);

/* ---- compiled ---- */

struct policy_bucket {
	uint32_t off, n;		/* into rule_index.rules */
};

/* Rules indexed by one subject each: the most selective the rule names
 * (a device, else whichever of users, groups, destination sets is expected
 * to match the fewest sessions), else none (global). Within a subject,
 * rules that name classes are filed under (subject, class) too, since the
 * class is known before rules are evaluated. A session visits only the
 * buckets it can match, merged in rule order, so first-match is kept. */
struct policy_rule_slot {
	uint64_t key;			/* policy_rule_key(); 0 = empty */
	struct policy_bucket bucket;
};

enum policy_rule_dim { DIM_GLOBAL, DIM_DEVICE, DIM_USER, DIM_GROUP, DIM_DEST, DIM__MAX };

/* class_ POLICY_NONE: rules without a class condition. */
static inline uint64_t policy_rule_key(enum policy_rule_dim dim, uint32_t subject,
				       uint32_t class_)
{
	return (uint64_t)dim << 61 | (uint64_t)(uint32_t)(class_ + 1) << 32 | subject;
}

struct policy_rule_index {
	uint32_t *rules;
	/* Rules without a class condition, by subject. */
	struct policy_bucket global;
	struct policy_bucket *by_device, *by_user, *by_group, *by_dest;
	/* Rules with class conditions, by (dimension, subject, class). */
	struct policy_rule_slot *by_class;
	size_t class_mask;
	bool *class_has_rules;		/* per class: any class-specific bucket */
	bool dim_used[DIM__MAX];
};

struct policy_compiled {
	struct policy_arena *arena;	/* owns the struct policy and all it holds */
	struct setlists lists;
	struct prefix_map dests;	/* -> destination sets */
	struct prefix_map regions;	/* -> region, most specific prefix */
	uint32_t country_sets[POLICY_COUNTRIES];	/* -> list id */
	uint32_t country_region[POLICY_COUNTRIES];
	struct domain_map domains;
	bool has_geoip;
	MMDB_s geoip;
	struct policy_rule_index rules;
	struct strmap node_names, user_names, class_names, node_keys, device_keys;
};

bool policy_rule_index_build(struct policy *p, struct policy_arena *arena);
/* The bucket of rules filed under (dim, subject, class); NULL if none. */
const struct policy_bucket *policy_rule_index_find(const struct policy_rule_index *ri,
						   enum policy_rule_dim dim, uint32_t subject,
						   uint32_t class_);

/* Bytes held by a compiled policy (arena and tables), for benchmarks. */
size_t policy_memory_bytes(const struct policy *p);

#endif

/* policy: the compiled, immutable form of the operator's policy document,
 * and the one question the data path asks of it: "what is this new
 * session?" (policy_classify).
 *
 * Life cycle (OpenBGPD's reload, BIRD's config): policy_load() parses the
 * YAML/JSON document, validates it (every error, as file:line:col), and
 * compiles it into a struct policy. Nothing outside src/policy/ ever sees
 * the document tree. A struct policy is never modified after it is built;
 * a reload builds a new one and the node swaps a pointer. It is reference
 * counted so that explain output, or a future worker thread, can hold the
 * old one while a reload happens.
 *
 * Indices (node, class, pool, user, device, region) are positions in the
 * arrays below and are only meaningful within one struct policy. Anything
 * that must survive a reload or cross the fabric uses names or name ids
 * (policy_name_id) instead. */
#ifndef EGRESS_POLICY_H
#define EGRESS_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/addr.h"
#include "common/monotime.h"
#include "wg/endpoint.h"

#define POLICY_NAME_MAX 64	/* names of nodes, users, classes, ...: [A-Za-z0-9_.-]{1,63} */
#define POLICY_NONE     UINT32_MAX
#define POLICY_KEY_LEN  32

/* A stable 32-bit id for a name (FNV-1a), used on the fabric and in flows
 * so that two nodes on different policy versions still agree. Collisions
 * within one kind of name are a validation error. */
uint32_t policy_name_id(const char *name);

enum policy_role {
	POLICY_ROLE_ACCESS     = 1u << 0,
	POLICY_ROLE_EGRESS     = 1u << 1,
	POLICY_ROLE_INSPECTION = 1u << 2,
};

/* An underlay link of a node. A path from node A to node B exists for every
 * pair (link of A, link of B) on the same network. */
struct policy_link {
	char name[POLICY_NAME_MAX];
	char network[POLICY_NAME_MAX];	/* default "internet" */
	/* Where other nodes reach this link (public address:port); unset for a
	 * link that only initiates (an access node behind NAT). */
	union wg_sockaddr endpoint;
	/* Local source address to send from on this link; family 0 = let the
	 * kernel choose by route. */
	struct ip_addr source;
};

struct policy_node {
	char name[POLICY_NAME_MAX];
	uint32_t id;			/* policy_name_id(name) */
	uint32_t region;		/* index into regions */
	char provider[POLICY_NAME_MAX];
	unsigned roles;			/* enum policy_role bits */
	uint8_t public_key[POLICY_KEY_LEN];
	uint16_t listen_port;		/* 0 = keep what the device has */
	struct policy_link *links;
	size_t n_links;
	double price_per_gb;		/* currency units per GB leaving this egress */
	double capacity_mbps;		/* 0 = unlimited */
};

/* A region is where nodes live and where destinations are: countries (ISO
 * 3166 alpha-2, resolved through the .mmdb file) and prefixes map a
 * destination to a region; probe targets measure egress -> region. */
struct policy_region {
	char name[POLICY_NAME_MAX];
	uint32_t id;
	char (*countries)[3];
	size_t n_countries;
	struct ip_addr *probe_targets;
	size_t n_probe_targets;
};

/* An egress IP pool: for each egress node that serves it, the addresses
 * its sessions leave from. */
struct policy_pool_member {
	uint32_t node;
	struct ip_prefix *prefixes;
	size_t n_prefixes;
};

struct policy_pool {
	char name[POLICY_NAME_MAX];
	uint32_t id;
	struct policy_pool_member *members;
	size_t n_members;
};

struct policy_group {
	char name[POLICY_NAME_MAX];
	uint32_t id;
};

struct policy_user {
	char name[POLICY_NAME_MAX];
	uint32_t id;
	uint32_t *groups;		/* indices into groups */
	size_t n_groups;
};

struct policy_device {
	char name[POLICY_NAME_MAX];	/* unique across users: "alice-laptop" */
	uint32_t id;
	uint32_t user;			/* index into users */
	uint8_t public_key[POLICY_KEY_LEN];
	struct ip_prefix *addresses;	/* its tunnel addresses (allowed IPs) */
	size_t n_addresses;
};

enum policy_objective {
	POLICY_OBJ_LATENCY,
	POLICY_OBJ_COST,
	POLICY_OBJ_BALANCED,
	POLICY_OBJ_WEIGHTS,
};

/* Score = sum of weight * metric; lower is better. The presets are in
 * docs/policy.md and policy_objective_weights(). */
struct policy_weights {
	double rtt_ms;			/* per ms of access->egress + egress->destination */
	double jitter_ms;		/* per ms of jitter */
	double loss_pct;		/* per % of loss */
	double price_per_gb;		/* per currency unit per GB */
	double utilisation_pct;		/* per % of the egress's capacity in use */
};

struct policy_weights policy_objective_weights(enum policy_objective o);

struct policy_port_range {
	uint16_t lo, hi;
};

struct policy_class {
	char name[POLICY_NAME_MAX];
	uint32_t id;
	/* Match (all given conditions must hold; an empty list matches all). */
	uint8_t protocol;		/* IPPROTO_TCP/UDP/ICMP(V6); 0 = any */
	struct policy_port_range *ports;	/* destination ports */
	size_t n_ports;
	uint64_t dscp_mask;		/* bit d set = DSCP d matches; 0 = any */
	uint32_t *dest_sets;		/* indices into dest_sets; any of them */
	size_t n_dest_sets;
	/* Objective and limits. */
	enum policy_objective objective;
	struct policy_weights weights;
	double max_loss_pct, max_rtt_ms, max_jitter_ms;	/* 0 = no limit */
	/* Constraints. */
	uint32_t *allowed_regions;	/* egress must be in one; none = any */
	size_t n_allowed_regions;
	bool inspection;		/* egress must have the inspection role */
	uint32_t pool;			/* index into pools (the pool named "default"
					 * unless given); POLICY_NONE only when the
					 * policy has no pools */
};

struct policy_dest_set {
	char name[POLICY_NAME_MAX];
	uint32_t id;
};

enum policy_verdict_action { POLICY_DENY = 0, POLICY_ALLOW = 1 };

struct policy_rule {
	char name[POLICY_NAME_MAX];	/* given, or "rule-N" (1-based) */
	enum policy_verdict_action action;
	/* Each list is "any of"; an empty list matches everything. */
	uint32_t *users, *groups, *devices, *classes, *dest_sets;
	size_t n_users, n_groups, n_devices, n_classes, n_dest_sets;
	unsigned line;			/* where it is in the document, for explain */
};

struct policy_probe_settings {
	monotime_ns interval;		/* default 100ms */
	unsigned down_after;		/* misses in a row; default 5 */
	unsigned up_after;		/* replies in a row; default 3 */
	unsigned loss_window;		/* probes; default 200 */
	double degraded_loss_pct;	/* default 20 */
	double degraded_clear_pct;	/* default 10 */
	monotime_ns region_interval;	/* egress -> region targets; default 1s */
};

struct policy_flow_settings {
	size_t max_flows;		/* default 1,000,000 */
	monotime_ns tcp_syn, tcp_established, tcp_closing, udp, icmp, other;
};

struct policy_selection_settings {
	double switch_margin_pct;	/* default 10: a new best must win by this */
	monotime_ns switch_hold;	/* default 2s: for this long */
	double spread_pct;		/* default 5: near-equal candidates share */
	double max_utilisation_pct;	/* default 90: headroom constraint */
};

struct policy {
	unsigned refs;
	uint64_t version;		/* given by the controller; 0 for a local file */
	uint8_t digest[32];		/* BLAKE2s of the document bytes */
	char source[256];		/* file name the document came from */

	struct policy_node *nodes;	size_t n_nodes;
	struct policy_region *regions;	size_t n_regions;
	struct policy_pool *pools;	size_t n_pools;
	struct policy_group *groups;	size_t n_groups;
	struct policy_user *users;	size_t n_users;
	struct policy_device *devices;	size_t n_devices;
	struct policy_dest_set *dest_sets; size_t n_dest_sets;
	struct policy_class *classes;	size_t n_classes;	/* last is "default" */
	struct policy_rule *rules;	size_t n_rules;
	enum policy_verdict_action default_action;

	/* Traffic to these stays plain WireGuard (client to client, to the
	 * node itself); it is never classified or steered. */
	struct ip_prefix *overlay;	size_t n_overlay;

	struct policy_probe_settings probe;
	struct policy_flow_settings flows;
	struct policy_selection_settings selection;

	/* Compiled matchers, private to src/policy/. */
	struct policy_compiled *compiled;
};

/* ---- loading ---- */

/* Collected errors: every one as "file:line:col: message". */
struct policy_errors {
	char **msgs;
	size_t n;
};
void policy_errors_free(struct policy_errors *e);

/* Reads, validates and compiles a document (YAML; JSON is YAML). Country
 * matches need the document's own "geoip" setting (a .mmdb file). Relative
 * paths in the document (prefix list files, the .mmdb) are relative to the
 * document's folder. Needs crypto_init() (the digest is BLAKE2s).
 * Returns NULL and fills errs (all errors found) on failure. */
struct policy *policy_load_file(const char *path, struct policy_errors *errs);
/* The same from memory; name is used in messages and base_dir for paths.
 * base_dir NULL: a document without its folder (the controller's, which
 * nodes load from their own state folder): a relative prefix_files or
 * geoip path is an error, since no node could find it. */
struct policy *policy_load_buffer(const char *name, const char *buf, size_t len,
				  const char *base_dir, struct policy_errors *errs);

struct policy *policy_ref(struct policy *p);
void policy_unref(struct policy *p);

/* Lookups by name / key; POLICY_NONE when absent. */
uint32_t policy_find_node(const struct policy *p, const char *name);
uint32_t policy_find_node_by_key(const struct policy *p, const uint8_t key[POLICY_KEY_LEN]);
uint32_t policy_find_device_by_key(const struct policy *p, const uint8_t key[POLICY_KEY_LEN]);
uint32_t policy_find_user(const struct policy *p, const char *name);
uint32_t policy_find_class(const struct policy *p, const char *name);
uint32_t policy_find_pool_by_id(const struct policy *p, uint32_t id);
uint32_t policy_find_class_by_id(const struct policy *p, uint32_t id);

/* ---- classification ---- */

/* What the data path knows about a new session. */
struct policy_session {
	uint32_t device;		/* index into devices; POLICY_NONE = unknown */
	uint32_t user;			/* index into users; POLICY_NONE = from device */
	uint8_t protocol;		/* IPPROTO_* */
	struct ip_addr src, dst;
	uint16_t sport, dport;		/* 0 for ICMP */
	uint8_t dscp;			/* 0..63 */
	const char *domain;		/* from DNS answers / SNI; NULL = unknown */
};

struct policy_decision {
	enum policy_verdict_action action;
	uint32_t rule;			/* index into rules; POLICY_NONE = default */
	uint32_t class_;		/* index into classes (always set) */
	uint32_t dst_region;		/* index into regions; POLICY_NONE = unknown */
	char country[3];		/* from the .mmdb; "" = unknown */
	uint32_t user;			/* resolved user, POLICY_NONE if unknown */
};

/* Pure and thread-safe; cost is a few lookups (prefix trie, domain hash,
 * one .mmdb lookup cached per address by the caller's flow). */
void policy_classify(const struct policy *p, const struct policy_session *s,
		     struct policy_decision *out);

/* True if dst is inside the overlay prefixes. */
bool policy_is_overlay(const struct policy *p, const struct ip_addr *dst);

/* The egress address a user's sessions of one address family (AF_INET,
 * AF_INET6; 0 = any) leave from at node through pool: stable per (user,
 * pool, node) so allow-lists keep working. False when node is not a member
 * of pool or has no prefix of that family in it. */
bool policy_pool_address(const struct policy *p, uint32_t pool, uint32_t node,
			 uint32_t user_id, int family, struct ip_addr *out);

#endif

/* domain: destination sets by domain name. "example.com" matches that name
 * only; "*.example.com" matches every name strictly below it. Matching is
 * case-insensitive and ignores one trailing dot. A lookup hashes the full
 * name (exact patterns) and then each parent suffix (wildcards): at most
 * one probe per label, whatever the number of patterns. */
#ifndef EGRESS_POLICY_DOMAIN_H
#define EGRESS_POLICY_DOMAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy/setlist.h"
#include "policy/strmap.h"

#define DOMAIN_MAX 253		/* a DNS name in text, no trailing dot */
#define DOMAIN_MAX_LABELS 128

struct policy_arena;

struct domain_entry {
	const char *name;	/* normalised, without "*." */
	bool below;		/* was "*.name" */
	uint32_t set;
};

struct domain_map {
	struct strmap exact, below;	/* name -> list id */
};

/* A pattern from the document into out (DOMAIN_MAX + 1 bytes): false with
 * the reason in msg. */
bool policy_domain_pattern(const char *in, char *out, bool *below, char *msg, size_t cap);

/* Sorts entries in place; their names must outlive the map. */
bool policy_domain_map_build(struct domain_map *m, struct domain_entry *e, size_t n,
			     struct setlists *lists);
void policy_domain_map_free(struct domain_map *m);
/* Writes the list ids of every pattern that matches name into ids (at most
 * DOMAIN_MAX_LABELS + 1); returns how many. */
size_t policy_domain_map_lookup(const struct domain_map *m, const char *name, uint32_t *ids);

#endif

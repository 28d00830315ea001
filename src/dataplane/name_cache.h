/* name_cache: which domain name an address was last seen under, learned
 * from DNS answers passing through the node and from TLS SNI. Bounded
 * (LRU eviction), entries expire with the DNS TTL (clamped to
 * [min_ttl, max_ttl]). The name kept is the one the client asked for, not
 * the CNAME target, since that is what policies name. */
#ifndef EGRESS_DATAPLANE_NAME_CACHE_H
#define EGRESS_DATAPLANE_NAME_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "common/addr.h"
#include "common/monotime.h"

#define NAME_CACHE_NAME_MAX 254		/* a DNS name in text, plus NUL */

struct name_cache;

struct name_cache *name_cache_create(size_t max_entries, uint32_t min_ttl_s,
				     uint32_t max_ttl_s);
void name_cache_destroy(struct name_cache *nc);
/* Lower-cases the name; replaces an existing entry for the address. */
void name_cache_put(struct name_cache *nc, const struct ip_addr *a, const char *name,
		    uint32_t ttl_s, monotime_ns now);
/* The name, valid until the next put, or NULL when unknown or expired. */
const char *name_cache_get(struct name_cache *nc, const struct ip_addr *a, monotime_ns now);
size_t name_cache_count(const struct name_cache *nc);

#endif

/* dns_snoop: reads DNS responses (UDP, RFC 1035) that pass through the
 * node and reports each A/AAAA answer with the name the question asked,
 * following CNAME chains. Compression pointers are followed with a hop
 * limit and only backwards; every read goes through a cursor. */
#ifndef EGRESS_DATAPLANE_DNS_SNOOP_H
#define EGRESS_DATAPLANE_DNS_SNOOP_H

#include <stddef.h>
#include <stdint.h>

#include "common/addr.h"

enum dns_snoop_result {
	DNS_SNOOP_OK = 0,	/* answers (maybe none) were reported */
	DNS_SNOOP_NOT_RESPONSE,	/* a query, or rcode != 0 */
	DNS_SNOOP_MALFORMED,
	DNS_SNOOP__MAX
};

typedef void (*dns_answer_fn)(void *ctx, const char *qname, const struct ip_addr *addr,
			      uint32_t ttl_s);

/* msg is the UDP payload. qname is lower case without the trailing dot. */
enum dns_snoop_result dns_snoop_response(const uint8_t *msg, size_t len,
					 dns_answer_fn fn, void *ctx);
extern const char *const dns_snoop_result_names[DNS_SNOOP__MAX];

#endif

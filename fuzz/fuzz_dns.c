/* fuzz_dns: dns_snoop_response on arbitrary bytes. Every reported answer
 * must carry a question name that is plain lower-case text of at most 253
 * bytes and an IPv4 or IPv6 address. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "dataplane/dns_snoop.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void on_answer(void *ctx, const char *qname, const struct ip_addr *addr, uint32_t ttl)
{
	size_t n = strlen(qname);

	(void)ctx;
	if (n > 253 || ttl > INT32_MAX || (addr->family != AF_INET && addr->family != AF_INET6))
		abort();
	for (size_t i = 0; i < n; i++)
		if (qname[i] <= ' ' || qname[i] >= 0x7f || (qname[i] >= 'A' && qname[i] <= 'Z'))
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum dns_snoop_result r = dns_snoop_response(data, size, on_answer, NULL);

	if (r >= DNS_SNOOP__MAX || !dns_snoop_result_names[r])
		abort();
	return 0;
}

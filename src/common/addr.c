/* addr: parsing, formatting and comparing IP addresses and prefixes. */
#include "common/addr.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ip_addr_set(struct ip_addr *out, int family, const uint8_t *bytes)
{
	memset(out, 0, sizeof(*out));
	out->family = (uint8_t)family;
	memcpy(out->a, bytes, ip_addr_bytes(family));
}

bool ip_addr_equal(const struct ip_addr *a, const struct ip_addr *b)
{
	return a->family == b->family && !memcmp(a->a, b->a, sizeof(a->a));
}

bool ip_addr_parse(const char *text, struct ip_addr *out)
{
	struct ip_addr r = { 0 };

	if (inet_pton(AF_INET, text, r.a) == 1)
		r.family = AF_INET;
	else if (inet_pton(AF_INET6, text, r.a) == 1)
		r.family = AF_INET6;
	else
		return false;
	*out = r;
	return true;
}

static void mask_host_bits(struct ip_addr *a, unsigned len)
{
	size_t bytes = ip_addr_bytes(a->family);

	for (size_t i = 0; i < bytes; i++) {
		unsigned keep = len > i * 8 ? len - (unsigned)i * 8 : 0;

		if (keep < 8)
			a->a[i] &= (uint8_t)(0xff00u >> keep);
	}
}

bool ip_prefix_parse(const char *text, struct ip_prefix *out, bool strict)
{
	char buf[IP_PREFIX_STRLEN];
	const char *slash = strchr(text, '/');
	size_t alen = slash ? (size_t)(slash - text) : strlen(text);
	struct ip_prefix r;
	unsigned long len;
	char *end;

	if (alen == 0 || alen >= sizeof(buf))
		return false;
	memcpy(buf, text, alen);
	buf[alen] = '\0';
	if (!ip_addr_parse(buf, &r.addr))
		return false;
	len = ip_addr_bits(r.addr.family);
	if (slash) {
		if (slash[1] < '0' || slash[1] > '9' || strlen(slash + 1) > 3)
			return false;
		len = strtoul(slash + 1, &end, 10);
		if (*end || len > ip_addr_bits(r.addr.family))
			return false;
	}
	r.len = (uint8_t)len;
	struct ip_addr masked = r.addr;

	mask_host_bits(&masked, r.len);
	if (strict && !ip_addr_equal(&masked, &r.addr))
		return false;
	r.addr = masked;
	*out = r;
	return true;
}

bool ip_prefix_contains(const struct ip_prefix *p, const struct ip_addr *a)
{
	struct ip_addr masked = *a;

	if (a->family != p->addr.family)
		return false;
	mask_host_bits(&masked, p->len);
	return ip_addr_equal(&masked, &p->addr);
}

void ip_addr_format(const struct ip_addr *a, char *out, size_t cap)
{
	if (!a->family || !inet_ntop(a->family, a->a, out, (socklen_t)cap))
		snprintf(out, cap, "-");
}

void ip_prefix_format(const struct ip_prefix *p, char *out, size_t cap)
{
	char a[IP_ADDR_STRLEN];

	ip_addr_format(&p->addr, a, sizeof(a));
	snprintf(out, cap, "%s/%u", a, p->len);
}

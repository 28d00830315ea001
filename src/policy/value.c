/* value: typed scalars. Numbers are checked against a strict decimal
 * grammar before strtod so that "0x10", "inf" or "1e999" never pass. */
#include "policy/value.h"

#include <ctype.h>
#include <math.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "policy/diag.h"
#include "policy/doc.h"

bool policy_val_scalar(struct policy_diag *d, const struct doc_node *n, const char *what)
{
	if (!n || policy_doc_is_null(n)) {
		policy_diag_at(d, n, "%s has no value", what);
		return false;
	}
	if (n->type != DOC_SCALAR) {
		policy_diag_at(d, n, "%s must be a single value, not a %s", what,
			       n->type == DOC_SEQ ? "list" : "mapping");
		return false;
	}
	return true;
}

bool policy_val_list(struct policy_diag *d, const struct doc_node *n, const char *what,
		     struct doc_node *const **items, size_t *count)
{
	*items = NULL;
	*count = 0;
	if (!n || policy_doc_is_null(n))
		return true;
	if (n->type != DOC_SEQ) {
		policy_diag_at(d, n, "%s must be a list ([a, b] or lines starting with \"- \")",
			       what);
		return false;
	}
	*items = n->items;
	*count = n->n;
	return true;
}

bool policy_val_name_ok(const char *s)
{
	size_t len = strlen(s);

	if (len == 0 || len >= POLICY_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("_.-", s[i]))
			return false;
	return true;
}

bool policy_val_name(struct policy_diag *d, const struct doc_node *n, const char *kind,
		     char out[POLICY_NAME_MAX])
{
	char what[80];

	snprintf(what, sizeof(what), "%s name", kind);
	if (!policy_val_scalar(d, n, what))
		return false;
	if (!policy_val_name_ok(n->str)) {
		policy_diag_at(d, n, "bad %s name \"%.64s\": use 1 to 63 of A-Z a-z 0-9 _ . -",
			       kind, n->str);
		return false;
	}
	memcpy(out, n->str, n->n + 1);
	return true;
}

bool policy_val_text(struct policy_diag *d, const struct doc_node *n, const char *what,
		     char *out, size_t cap)
{
	if (!policy_val_scalar(d, n, what))
		return false;
	if (n->n >= cap) {
		policy_diag_at(d, n, "%s is too long (at most %zu characters)", what, cap - 1);
		return false;
	}
	memcpy(out, n->str, n->n + 1);
	return true;
}

bool policy_val_uint(struct policy_diag *d, const struct doc_node *n, const char *what,
		     uint64_t min, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (!policy_val_scalar(d, n, what))
		return false;
	for (size_t i = 0; i < n->n; i++) {
		unsigned digit = (unsigned)(n->str[i] - '0');

		if (digit > 9 || v > (UINT64_MAX - digit) / 10) {
			policy_diag_at(d, n, "bad %s \"%.64s\": expected a whole number", what,
				       n->str);
			return false;
		}
		v = v * 10 + digit;
	}
	if (v < min || v > max) {
		policy_diag_at(d, n, "%s %llu out of range %llu-%llu", what,
			       (unsigned long long)v, (unsigned long long)min,
			       (unsigned long long)max);
		return false;
	}
	*out = v;
	return true;
}

/* [+-]?digits[.digits][e[+-]digits], then strtod; *end is where it stopped. */
static bool value_decimal(const char *s, double *out, const char **end)
{
	const char *p = s;
	char *e;

	if (*p == '-' || *p == '+')
		p++;
	if (!isdigit((unsigned char)*p) && !(*p == '.' && isdigit((unsigned char)p[1])))
		return false;
	while (isdigit((unsigned char)*p) || *p == '.')
		p++;
	if ((*p == 'e' || *p == 'E') && (isdigit((unsigned char)p[1]) ||
					 ((p[1] == '-' || p[1] == '+') &&
					  isdigit((unsigned char)p[2]))))
		p += 2;
	while (isdigit((unsigned char)*p))
		p++;
	*out = strtod(s, &e);
	*end = e;
	return e <= p && e > s && isfinite(*out);
}

bool policy_val_number(struct policy_diag *d, const struct doc_node *n, const char *what,
		       double min, double max, double *out)
{
	const char *end;
	double v;

	if (!policy_val_scalar(d, n, what))
		return false;
	if (!value_decimal(n->str, &v, &end) || *end) {
		policy_diag_at(d, n, "bad %s \"%.64s\": expected a number", what, n->str);
		return false;
	}
	if (v < min || v > max) {
		policy_diag_at(d, n, "%s %g out of range %g-%g", what, v, min, max);
		return false;
	}
	*out = v;
	return true;
}

bool policy_val_bool(struct policy_diag *d, const struct doc_node *n, const char *what,
		     bool *out)
{
	static const char *const yes[] = { "true", "yes", "on" };
	static const char *const no[] = { "false", "no", "off" };

	if (!policy_val_scalar(d, n, what))
		return false;
	for (size_t i = 0; i < 3; i++) {
		if (!strcasecmp(n->str, yes[i]) || !strcasecmp(n->str, no[i])) {
			*out = !strcasecmp(n->str, yes[i]);
			return true;
		}
	}
	policy_diag_at(d, n, "bad %s \"%.64s\": expected true or false", what, n->str);
	return false;
}

static double value_unit_ns(const char *unit)
{
	if (!*unit || !strcmp(unit, "s"))
		return 1e9;
	if (!strcmp(unit, "ms"))
		return 1e6;
	if (!strcmp(unit, "m"))
		return 60e9;
	if (!strcmp(unit, "h"))
		return 3600e9;
	return -1;
}

bool policy_val_duration(struct policy_diag *d, const struct doc_node *n, const char *what,
			 monotime_ns min_ns, monotime_ns *out)
{
	const char *end;
	double v, unit;

	if (!policy_val_scalar(d, n, what))
		return false;
	if (!value_decimal(n->str, &v, &end) || (unit = value_unit_ns(end)) < 0 || v < 0) {
		policy_diag_at(d, n, "bad duration \"%.64s\" for %s: expected a number with "
			       "unit ms, s, m or h (plain numbers are seconds)", n->str, what);
		return false;
	}
	v = v * unit + 0.5;	/* rounded to the nearest ns (no libm) */
	if (v > 1e18 || (monotime_ns)v < min_ns) {
		policy_diag_at(d, n, "%s \"%.64s\" out of range (at least %llu ms, at most "
			       "31 years)", what, n->str,
			       (unsigned long long)(min_ns / NSEC_PER_MSEC));
		return false;
	}
	*out = (monotime_ns)v;
	return true;
}

bool policy_val_percent(struct policy_diag *d, const struct doc_node *n, const char *what,
			double *out)
{
	const char *end;
	double v;

	if (!policy_val_scalar(d, n, what))
		return false;
	if (!value_decimal(n->str, &v, &end) || (*end && strcmp(end, "%"))) {
		policy_diag_at(d, n, "bad percentage \"%.64s\" for %s: expected e.g. 15%% or 15",
			       n->str, what);
		return false;
	}
	if (v < 0 || v > 100) {
		policy_diag_at(d, n, "%s %.64s out of range 0-100%%", what, n->str);
		return false;
	}
	*out = v;
	return true;
}

bool policy_val_key(struct policy_diag *d, const struct doc_node *n,
		    uint8_t out[POLICY_KEY_LEN])
{
	uint8_t key[POLICY_KEY_LEN + 4];
	size_t len = 0;
	const char *end;

	if (!policy_val_scalar(d, n, "key"))
		return false;
	if (n->n != 44 ||
	    sodium_base642bin(key, sizeof(key), n->str, n->n, NULL, &len, &end,
			      sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    len != POLICY_KEY_LEN || *end) {
		policy_diag_at(d, n, "bad key \"%.64s\": expected a WireGuard public key "
			       "(32 bytes in base64, 44 characters)", n->str);
		return false;
	}
	if (sodium_is_zero(key, POLICY_KEY_LEN)) {
		policy_diag_at(d, n, "bad key: all zeros");
		return false;
	}
	memcpy(out, key, POLICY_KEY_LEN);
	return true;
}

bool policy_val_addr(struct policy_diag *d, const struct doc_node *n, const char *what,
		     struct ip_addr *out)
{
	if (!policy_val_scalar(d, n, what))
		return false;
	if (!ip_addr_parse(n->str, out)) {
		policy_diag_at(d, n, "bad %s \"%.64s\": expected an IPv4 or IPv6 address", what,
			       n->str);
		return false;
	}
	return true;
}

bool policy_prefix_text(const char *s, struct ip_prefix *out, char *msg, size_t cap)
{
	struct ip_prefix loose;
	char fixed[IP_PREFIX_STRLEN];

	if (ip_prefix_parse(s, out, true))
		return true;
	if (ip_prefix_parse(s, &loose, false)) {
		ip_prefix_format(&loose, fixed, sizeof(fixed));
		snprintf(msg, cap, "bad prefix \"%.64s\": host bits are set (did you mean %s?)",
			 s, fixed);
	} else {
		snprintf(msg, cap, "bad prefix \"%.64s\": expected e.g. 192.0.2.0/24 or "
			 "2001:db8::/32", s);
	}
	return false;
}

bool policy_val_prefix(struct policy_diag *d, const struct doc_node *n, const char *what,
		       struct ip_prefix *out)
{
	char msg[256];

	if (!policy_val_scalar(d, n, what))
		return false;
	if (!policy_prefix_text(n->str, out, msg, sizeof(msg))) {
		policy_diag_at(d, n, "%s", msg);
		return false;
	}
	return true;
}

bool policy_val_country(struct policy_diag *d, const struct doc_node *n, char out[3])
{
	if (!policy_val_scalar(d, n, "country"))
		return false;
	if (n->n != 2 || !isupper((unsigned char)n->str[0]) ||
	    !isupper((unsigned char)n->str[1]) || (n->str[0] | n->str[1]) & 0x80) {
		policy_diag_at(d, n, "bad country \"%.64s\": expected an ISO 3166 code of two "
			       "uppercase letters, e.g. DE", n->str);
		return false;
	}
	memcpy(out, n->str, 3);
	return true;
}

static bool value_port(const char *s, const char **end, uint16_t *out)
{
	unsigned long v = 0;
	const char *p = s;

	while (isdigit((unsigned char)*p) && v <= 65535)
		v = v * 10 + (unsigned long)(*p++ - '0');
	*end = p;
	if (p == s || v < 1 || v > 65535)
		return false;
	*out = (uint16_t)v;
	return true;
}

/* "lo" or "lo-hi", nothing else. */
static bool value_port_range(const char *s, struct policy_port_range *r)
{
	const char *end;

	if (!value_port(s, &end, &r->lo))
		return false;
	r->hi = r->lo;
	if (*end == '-' && !value_port(end + 1, &end, &r->hi))
		return false;
	return *end == '\0';
}

bool policy_val_ports(struct policy_diag *d, const struct doc_node *n,
		      struct policy_port_range *out)
{
	struct policy_port_range r;

	if (!policy_val_scalar(d, n, "port"))
		return false;
	if (!value_port_range(n->str, &r)) {
		policy_diag_at(d, n, "bad port \"%.64s\": expected a port 1-65535 or a range "
			       "like 3478-3481", n->str);
		return false;
	}
	if (r.lo > r.hi) {
		policy_diag_at(d, n, "bad port range \"%.64s\": %u is above %u", n->str, r.lo,
			       r.hi);
		return false;
	}
	*out = r;
	return true;
}

bool policy_val_dscp(struct policy_diag *d, const struct doc_node *n, uint8_t *out)
{
	const char *s;

	if (!policy_val_scalar(d, n, "dscp"))
		return false;
	s = n->str;
	if (!strcasecmp(s, "EF")) {
		*out = 46;
		return true;
	}
	/* AFxy = 8x + 2y; CSx = 8x */
	if (!strncasecmp(s, "AF", 2) && s[2] >= '1' && s[2] <= '4' && s[3] >= '1' &&
	    s[3] <= '3' && !s[4]) {
		*out = (uint8_t)(8 * (s[2] - '0') + 2 * (s[3] - '0'));
		return true;
	}
	if (!strncasecmp(s, "CS", 2) && s[2] >= '0' && s[2] <= '7' && !s[3]) {
		*out = (uint8_t)(8 * (s[2] - '0'));
		return true;
	}
	if (isdigit((unsigned char)s[0]) && n->n <= 2 && isdigit((unsigned char)s[n->n - 1]) &&
	    atoi(s) <= 63) {
		*out = (uint8_t)atoi(s);
		return true;
	}
	policy_diag_at(d, n, "bad dscp \"%.64s\": expected 0-63, EF, AF11-AF43 or CS0-CS7", s);
	return false;
}

bool policy_val_protocol(struct policy_diag *d, const struct doc_node *n, uint8_t *out)
{
	uint64_t v;

	if (!policy_val_scalar(d, n, "protocol"))
		return false;
	if (!strcasecmp(n->str, "tcp") || !strcasecmp(n->str, "udp") ||
	    !strcasecmp(n->str, "icmp")) {
		*out = tolower((unsigned char)n->str[0]) == 't' ? IPPROTO_TCP :
		       tolower((unsigned char)n->str[0]) == 'u' ? IPPROTO_UDP : IPPROTO_ICMP;
		return true;
	}
	if (!isdigit((unsigned char)n->str[0])) {
		policy_diag_at(d, n, "bad protocol \"%.64s\": expected tcp, udp, icmp or a "
			       "number 1-255", n->str);
		return false;
	}
	if (!policy_val_uint(d, n, "protocol", 1, 255, &v))
		return false;
	*out = (uint8_t)v;
	return true;
}

/* args: parsing and validating egressctl's command-line values. Every
 * value that goes into a request passes through here, so the request is
 * well formed and the user hears what is wrong before egressd does. */
#include "egressctl/args.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

static const struct {
	const char *name;
	uint8_t proto;
} proto_names[] = {
	{ "icmp", 1 }, { "tcp", 6 }, { "udp", 17 }, { "gre", 47 }, { "esp", 50 },
	{ "ah", 51 }, { "icmpv6", 58 }, { "icmp6", 58 }, { "ipv6-icmp", 58 },
	{ "sctp", 132 },
};

bool args_parse_uint(const char *text, unsigned long max, unsigned long *out)
{
	unsigned long v = 0;

	if (!*text || strlen(text) > 10)
		return false;
	for (const char *c = text; *c; c++) {
		if (*c < '0' || *c > '9')
			return false;
		v = v * 10 + (unsigned long)(*c - '0');
	}
	if (v > max)
		return false;
	*out = v;
	return true;
}

const char *args_parse_addr(const char *text, struct cli_addr *out)
{
	unsigned char bin[16];

	if (inet_pton(AF_INET, text, bin) == 1)
		out->family = AF_INET;
	else if (inet_pton(AF_INET6, text, bin) == 1)
		out->family = AF_INET6;
	else
		return "not an IPv4 or IPv6 address";
	inet_ntop(out->family, bin, out->text, sizeof(out->text));
	return NULL;
}

const char *args_parse_prefix(const char *text, char *out, size_t cap)
{
	char buf[ARGS_TEXT_MAX];
	char *slash;
	struct cli_addr a;
	unsigned long len = 0;
	const char *err;

	if (strlen(text) >= sizeof(buf))
		return "too long";
	strcpy(buf, text);
	slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';
	err = args_parse_addr(buf, &a);
	if (err)
		return err;
	if (slash && !args_parse_uint(slash + 1, a.family == AF_INET ? 32 : 128, &len))
		return a.family == AF_INET ? "prefix length must be 0-32" :
					     "prefix length must be 0-128";
	if (slash)
		snprintf(out, cap, "%s/%lu", a.text, len);
	else
		snprintf(out, cap, "%s", a.text);
	return NULL;
}

const char *args_parse_proto(const char *text, uint8_t *out)
{
	unsigned long v;

	for (size_t i = 0; i < sizeof(proto_names) / sizeof(proto_names[0]); i++) {
		if (!strcasecmp(text, proto_names[i].name)) {
			*out = proto_names[i].proto;
			return NULL;
		}
	}
	if (!args_parse_uint(text, 255, &v))
		return "unknown protocol (tcp, udp, icmp, icmpv6, or a number 0-255)";
	*out = (uint8_t)v;
	return NULL;
}

const char *args_proto_wire(uint8_t proto, int family, char *buf, size_t cap)
{
	if (proto == 6)
		return "tcp";
	if (proto == 17)
		return "udp";
	if (proto == 1 && family != AF_INET6)
		return "icmp";
	snprintf(buf, cap, "%u", proto == 1 ? 58u : (unsigned)proto);
	return buf;
}

const char *args_proto_name(uint8_t proto, char *buf, size_t cap)
{
	for (size_t i = 0; i < sizeof(proto_names) / sizeof(proto_names[0]); i++)
		if (proto_names[i].proto == proto)
			return proto_names[i].name;
	snprintf(buf, cap, "%u", proto);
	return buf;
}

static const char *parse_port(const char *text, struct cli_endpoint *out)
{
	unsigned long v;

	if (!args_parse_uint(text, 65535, &v))
		return "port must be a number 0-65535";
	out->port = (uint16_t)v;
	out->has_port = true;
	return NULL;
}

/* "[IPV6]" or "[IPV6]:PORT", modified in place. */
static const char *parse_bracketed(char *text, struct cli_endpoint *out)
{
	char *close = strchr(text, ']');
	const char *err;

	if (!close)
		return "missing ']' after an IPv6 address";
	*close = '\0';
	err = args_parse_addr(text + 1, &out->addr);
	if (err)
		return err;
	if (out->addr.family != AF_INET6)
		return "only IPv6 addresses go in brackets";
	if (close[1] == '\0')
		return NULL;
	if (close[1] != ':')
		return "expected ':PORT' after ']'";
	return parse_port(close + 2, out);
}

/* ADDR, ADDR:PORT (IPv4) or a bare IPv6 address, modified in place. */
static const char *parse_unbracketed(char *text, struct cli_endpoint *out)
{
	char *colon = strchr(text, ':');
	const char *err;

	if (colon && !strchr(colon + 1, ':')) {
		*colon = '\0';
		err = args_parse_addr(text, &out->addr);
		if (err)
			return err;
		if (out->addr.family != AF_INET)
			return "not an IPv4 address";
		return parse_port(colon + 1, out);
	}
	return args_parse_addr(text, &out->addr);
}

const char *args_parse_endpoint(const char *text, bool with_proto, struct cli_endpoint *out)
{
	char buf[ARGS_TEXT_MAX];
	char *slash;
	const char *err;

	memset(out, 0, sizeof(*out));
	if (strlen(text) >= sizeof(buf))
		return "too long";
	strcpy(buf, text);
	slash = with_proto ? strrchr(buf, '/') : NULL;
	if (slash) {
		*slash = '\0';
		err = args_parse_proto(slash + 1, &out->proto);
		if (err)
			return err;
		out->has_proto = true;
	}
	err = buf[0] == '[' ? parse_bracketed(buf, out) : parse_unbracketed(buf, out);
	if (err)
		return err;
	if (out->has_proto && out->proto == 1 && out->addr.family == AF_INET6)
		out->proto = 58;
	return NULL;
}

const char *args_parse_flow(const char *text, struct cli_endpoint *src, struct cli_endpoint *dst)
{
	char buf[ARGS_TEXT_MAX];
	char *dash;
	const char *err;

	if (strlen(text) >= sizeof(buf))
		return "too long";
	strcpy(buf, text);
	dash = strchr(buf, '-');
	if (!dash || strchr(dash + 1, '-'))
		return "expected SRC:SPORT-DST:DPORT/PROTO";
	*dash = '\0';
	err = args_parse_endpoint(buf, false, src);
	if (!err)
		err = args_parse_endpoint(dash + 1, true, dst);
	if (err)
		return err;
	if (!src->has_port || !dst->has_port || !dst->has_proto)
		return "expected SRC:SPORT-DST:DPORT/PROTO (ports and protocol required)";
	if (src->addr.family != dst->addr.family)
		return "source and destination are of different address families";
	return NULL;
}

static bool all_chars_in(const char *text, const char *extra, size_t max)
{
	size_t n = strlen(text);

	if (n == 0 || n > max)
		return false;
	for (const unsigned char *c = (const unsigned char *)text; *c; c++)
		if (!isalnum(*c) && !strchr(extra, *c))
			return false;
	return true;
}

bool args_valid_name(const char *text)
{
	return all_chars_in(text, "_.-", 63);
}

bool args_valid_domain(const char *text)
{
	return all_chars_in(text, "_.*-", 253);
}

bool args_valid_ifname(const char *text)
{
	size_t n = strlen(text);

	if (n == 0 || n > 15 || !strcmp(text, ".") || !strcmp(text, ".."))
		return false;
	for (const unsigned char *c = (const unsigned char *)text; *c; c++)
		if (*c == '/' || isspace(*c) || iscntrl(*c) || *c == ':')
			return false;
	return true;
}

/* explain: why a session takes the egress it takes. egressd replays the
 * decision for a session described on the command line (or for a live
 * flow, alongside what the data path actually did): the rule matched,
 * the class, every candidate egress with its score and why it lost. */
#include <stdarg.h>
#include <string.h>
#include <sys/socket.h>

#include "egressctl/args.h"
#include "egressctl/render.h"
#include "egressctl/subcommand.h"

enum explain_opt { OPT_USER, OPT_DST, OPT_DSCP, OPT_DOMAIN, OPT_SRC, OPT_FLOW, OPT__MAX };
static const char *const explain_flags[OPT__MAX] = {
	"--user", "--dst", "--dscp", "--domain", "--src", "--flow",
};

/* The raw values of the options, each at most once. */
static int explain_collect(int argc, char **argv, const char **vals)
{
	for (int i = 0; i < argc; i++) {
		const char *value;
		int o, m = 0;

		for (o = 0; o < OPT__MAX; o++) {
			m = subcommand_option("explain", argc, argv, &i, explain_flags[o], &value);
			if (m)
				break;
		}
		if (m < 0)
			return EGRESSCTL_USAGE;
		if (o == OPT__MAX)
			return subcommand_bad_arg("explain", argv[i], NULL, "unknown option");
		if (vals[o])
			return subcommand_bad_arg("explain", explain_flags[o], NULL, "given twice");
		vals[o] = value;
	}
	return EGRESSCTL_OK;
}

/* Several key=value pairs at once; NULL values are skipped. */
static bool explain_add(struct control_request *req, ...)
{
	const char *key, *value;
	bool ok = true;
	va_list ap;

	va_start(ap, req);
	while ((key = va_arg(ap, const char *))) {
		value = va_arg(ap, const char *);
		if (value && control_request_add(req, key, value))
			ok = false;
	}
	va_end(ap);
	return ok;
}

static int explain_build_flow(const char *flow, struct control_request *req)
{
	struct cli_endpoint src, dst;
	char sport[8], dport[8], num[8];
	const char *err = args_parse_flow(flow, &src, &dst);

	if (err)
		return subcommand_bad_arg("explain", "--flow", flow, err);
	snprintf(sport, sizeof(sport), "%u", src.port);
	snprintf(dport, sizeof(dport), "%u", dst.port);
	control_request_init(req, "explain");
	if (!explain_add(req, "flow", "1", "src", src.addr.text, "sport", sport, "dst",
			 dst.addr.text, "dport", dport, "proto",
			 args_proto_wire(dst.proto, dst.addr.family, num, sizeof(num)), NULL))
		return subcommand_bad_arg("explain", "--flow", flow, "too long");
	return EGRESSCTL_OK;
}

static int explain_check_session(const char **v, struct cli_endpoint *dst,
				 struct cli_endpoint *src)
{
	unsigned long dscp;
	const char *err;

	if (!v[OPT_USER] || !v[OPT_DST])
		return subcommand_bad_arg("explain", v[OPT_USER] ? "--dst" : "--user", NULL,
					  "required (or --flow for a live flow)");
	if (!args_valid_name(v[OPT_USER]))
		return subcommand_bad_arg("explain", "--user", v[OPT_USER],
					  "not a policy name (1-63 of A-Z a-z 0-9 _ . -)");
	err = args_parse_endpoint(v[OPT_DST], true, dst);
	if (err)
		return subcommand_bad_arg("explain", "--dst", v[OPT_DST], err);
	if (v[OPT_DSCP] && !args_parse_uint(v[OPT_DSCP], 63, &dscp))
		return subcommand_bad_arg("explain", "--dscp", v[OPT_DSCP], "must be 0-63");
	if (v[OPT_DOMAIN] && !args_valid_domain(v[OPT_DOMAIN]))
		return subcommand_bad_arg("explain", "--domain", v[OPT_DOMAIN],
					  "not a domain name");
	err = v[OPT_SRC] ? args_parse_endpoint(v[OPT_SRC], false, src) : NULL;
	if (!err && v[OPT_SRC] && src->addr.family != dst->addr.family)
		err = "not of the destination's address family";
	if (err)
		return subcommand_bad_arg("explain", "--src", v[OPT_SRC], err);
	return EGRESSCTL_OK;
}

static int explain_build_session(const char **v, struct control_request *req)
{
	struct cli_endpoint dst, src = { .has_port = false };
	char dport[8], sport[8], num[8];
	int ret = explain_check_session(v, &dst, &src);

	if (ret)
		return ret;
	snprintf(dport, sizeof(dport), "%u", dst.port);
	snprintf(sport, sizeof(sport), "%u", src.port);
	control_request_init(req, "explain");
	if (!explain_add(req, "user", v[OPT_USER], "dst", dst.addr.text,
			 "dport", dst.has_port ? dport : NULL, "proto", dst.has_proto ?
			 args_proto_wire(dst.proto, dst.addr.family, num, sizeof(num)) : NULL,
			 "dscp", v[OPT_DSCP], "domain", v[OPT_DOMAIN],
			 "src", v[OPT_SRC] ? src.addr.text : NULL,
			 "sport", src.has_port ? sport : NULL, NULL)) {
		fputs("egressctl: explain: the request is too long\n", stderr);
		return EGRESSCTL_USAGE;
	}
	return EGRESSCTL_OK;
}

static int explain_build(int argc, char **argv, struct control_request *req)
{
	const char *vals[OPT__MAX] = { NULL };
	int ret = explain_collect(argc, argv, vals);

	if (ret)
		return ret;
	if (!vals[OPT_FLOW])
		return explain_build_session(vals, req);
	for (int o = 0; o < OPT_FLOW; o++)
		if (vals[o])
			return subcommand_bad_arg("explain", explain_flags[o], NULL,
						  "cannot be combined with --flow");
	return explain_build_flow(vals[OPT_FLOW], req);
}

/* A line of human output, built piece by piece; truncates, never
 * overflows. */
struct line {
	char s[1024];
	size_t len;
};

static void line_addf(struct line *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void line_addf(struct line *l, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (l->len >= sizeof(l->s) - 1)
		return;
	va_start(ap, fmt);
	n = vsnprintf(l->s + l->len, sizeof(l->s) - l->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		l->len += (size_t)n < sizeof(l->s) - l->len ? (size_t)n : sizeof(l->s) - 1 - l->len;
}

/* "alice on alice-laptop (eng, ops)" */
static void explain_who(struct line *l, const json_t *answer, const json_t *session)
{
	const json_t *groups = js_array(answer, "groups"), *g;
	const char *device = js_str(session, "device");
	size_t i, shown = 0;

	line_addf(l, "%s", js_str(session, "user") ? js_str(session, "user") : "unknown user");
	if (device)
		line_addf(l, " on %s", device);
	json_array_foreach(groups, i, g) {
		if (json_is_string(g))
			line_addf(l, "%s%s", shown++ ? ", " : " (", json_string_value(g));
	}
	if (shown)
		line_addf(l, ")");
}

/* "100.64.1.2 -> 203.0.113.10:5000/udp dscp 46, domain a.zoom.us" */
static void explain_tuple(struct line *l, const json_t *s)
{
	const char *proto = js_str(s, "proto"), *domain = js_str(s, "domain");
	unsigned long long port, dscp;
	bool sport = js_count(s, "sport", &port) && port;
	bool dport = js_count(s, "dport", &port) && port;

	if (js_str(s, "src"))
		line_addf(l, " %s", render_addr_port(js_str(s, "src"), s, "sport", sport).s);
	line_addf(l, " -> %s", render_addr_port(js_str(s, "dst"), s, "dport", dport).s);
	if (proto)
		line_addf(l, "/%s", proto);
	if (js_count(s, "dscp", &dscp))
		line_addf(l, " dscp %llu", dscp);
	if (domain)
		line_addf(l, ", domain %s", domain);
}

static void explain_session(const json_t *answer, FILE *out)
{
	const json_t *session = js_object(answer, "session");
	const char *country = js_str(answer, "country"), *region = js_str(answer, "dst_region");
	struct line l = { .len = 0 };

	explain_who(&l, answer, session);
	explain_tuple(&l, session);
	if (country)
		line_addf(&l, ", country %s", country);
	if (region)
		line_addf(&l, ", region %s", region);
	fprintf(out, "session   %s\n", l.s);
}

static void explain_rule(const json_t *answer, FILE *out)
{
	const char *rule = js_str(answer, "rule"), *action = js_str(answer, "action");
	unsigned long long line;

	fprintf(out, "rule      %s", rule ? rule : "no rule matched (default)");
	if (js_count(answer, "rule_line", &line))
		fprintf(out, " (line %llu)", line);
	fprintf(out, ": %s\n", action ? action : "-");
	fprintf(out, "class     %s\n", render_str(answer, "class").s);
}

/* "rtt 1.2+0.5ms": to the egress, plus egress to the region if known;
 * "(ctl)" when the region figure came from the controller, not from the
 * egress's own probe reply to us. */
static struct cell explain_rtt(const json_t *c)
{
	struct cell out = { "-" }, path = render_ms(c, "rtt_ms");
	struct cell region = render_ms(c, "region_rtt_ms");
	const char *source = json_string_value(json_object_get(c, "region_source"));
	size_t n = strlen(path.s);

	if (!strcmp(path.s, "-"))
		return out;
	if (strcmp(region.s, "-") && n > 2)
		path.s[n - 2] = '\0';	/* one unit for the sum: "1.2+0.50ms" */
	snprintf(out.s, sizeof(out.s), "rtt %.40s%s%.40s%s", path.s,
		 strcmp(region.s, "-") ? "+" : "", strcmp(region.s, "-") ? region.s : "",
		 source && !strcmp(source, "controller") ? "(ctl)" : "");
	return out;
}

/* "label value", or "-" when the value is unknown. */
static void explain_add_metric(struct table *t, const char *label, struct cell value)
{
	if (strcmp(value.s, "-"))
		table_addf(t, "%s %s", label, value.s);
	else
		table_add(t, "-");
}

static struct cell explain_via(const json_t *c)
{
	struct cell out;

	if (js_true(c, "local"))
		return (struct cell){ "local" };
	if (!js_str(c, "path"))
		return (struct cell){ "-" };
	snprintf(out.s, sizeof(out.s), "via %s", js_str(c, "path"));
	return out;
}

static void explain_candidate(struct table *t, const json_t *c)
{
	const char *result = js_str(c, "result"), *detail = js_str(c, "detail");
	bool chosen = result && !strcmp(result, "chosen");

	table_add(t, chosen ? "*" : "");
	table_add(t, render_str(c, "node").s);
	table_add(t, explain_via(c).s);
	table_add(t, render_str(c, "path_state").s);
	explain_add_metric(t, "score", render_fixed(c, "score", 1));
	table_add(t, explain_rtt(c).s);
	explain_add_metric(t, "jitter", render_ms(c, "jitter_ms"));
	explain_add_metric(t, "loss", render_pct(c, "loss_pct"));
	explain_add_metric(t, "price", render_sig(c, "price", 3));
	explain_add_metric(t, "util", render_pct(c, "utilisation_pct"));
	if (chosen)
		table_addf(t, "chosen%s%s", detail ? ": " : "", detail ? detail : "");
	else
		table_addf(t, "lost: %s%s%s", result ? result : "?", detail ? ": " : "",
			   detail ? detail : "");
}

static void explain_candidates(const json_t *answer, FILE *out)
{
	const json_t *cands = js_array(answer, "candidates"), *c;
	struct table *t;
	size_t i;

	if (!json_array_size(cands)) {
		fputs("candidates none\n", out);
		return;
	}
	t = table_new("lllllllllll");
	json_array_foreach(cands, i, c)
		explain_candidate(t, c);
	fputs("candidates\n", out);
	table_print(t, out, "  ");
	table_free(t);
}

/* "fra1 via internet", "acc (local breakout)", "no egress". */
static struct cell explain_route(const char *egress, const char *path, bool local)
{
	struct cell c;

	if (!egress)
		return (struct cell){ "no egress" };
	if (local || !path)
		snprintf(c.s, sizeof(c.s), "%.60s (local breakout)", egress);
	else
		snprintf(c.s, sizeof(c.s), "%.40s via %.40s", egress, path);
	return c;
}

static bool same_str(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

static bool is_str(const char *s, const char *want)
{
	return s && !strcmp(s, want);
}

static void explain_decision(const json_t *answer, FILE *out)
{
	const json_t *d = js_object(answer, "decision");
	const char *action = js_str(answer, "action"), *pool = js_str(d, "pool_address");

	if (is_str(action, "deny") || !d) {
		fprintf(out, "decision  %s\n", is_str(action, "deny") ? "deny" : "-");
		return;
	}
	fprintf(out, "decision  %s%s",
		js_str(d, "egress") ? "egress " : "",
		explain_route(js_str(d, "egress"), js_str(d, "path"), js_true(d, "local")).s);
	if (pool)
		fprintf(out, ", source %s", pool);
	if (js_true(d, "limits_relaxed"))
		fputs(", class limits relaxed (no candidate met them)", out);
	fputc('\n', out);
}

/* What the data path did with the live flow, against the decision. */
static void explain_live_flow(const json_t *answer, FILE *out)
{
	const json_t *f = js_object(answer, "flow"), *d = js_object(answer, "decision");
	const char *kind = js_str(f, "kind"), *state = js_str(f, "path_state");
	bool f_denied = is_str(kind, "denied");
	bool d_denied = is_str(js_str(answer, "action"), "deny") || !d;
	bool agrees = f_denied == d_denied;
	struct cell flow, want;

	if (!f)
		return;
	flow = f_denied ? (struct cell){ "denied" } :
		explain_route(js_str(f, "egress"), js_str(f, "path"), is_str(kind, "local"));
	want = d_denied ? (struct cell){ "deny" } :
		explain_route(js_str(d, "egress"), js_str(d, "path"), js_true(d, "local"));
	if (agrees && !f_denied)
		agrees = same_str(js_str(f, "egress"), js_str(d, "egress")) &&
			 same_str(js_str(f, "path"), js_str(d, "path"));
	fprintf(out, "live flow %s", flow.s);
	if (state && strcmp(state, "up") && !f_denied)
		fprintf(out, ", path %s", state);
	if (agrees)
		fputs(" (agrees)\n", out);
	else
		fprintf(out, " (DIFFERS: decision now is %s)\n", want.s);
}

static void explain_render(const json_t *answer, FILE *out)
{
	explain_session(answer, out);
	explain_rule(answer, out);
	explain_candidates(answer, out);
	explain_decision(answer, out);
	explain_live_flow(answer, out);
}

const struct subcommand explain_subcommand = {
	.name = "explain",
	.summary = "why a session takes the egress it takes: rule, class, every candidate",
	.usage = "--user U --dst ADDR[:PORT][/PROTO] [--src ADDR[:PORT]] [--dscp N] "
		 "[--domain D]\n       egressctl explain IFNAME --flow SRC:SPORT-DST:DPORT/PROTO",
	.details =
		"  --user U                    the session's user (a policy name)\n"
		"  --dst ADDR[:PORT][/PROTO]   destination; IPv6 with a port in brackets:\n"
		"                              [2001:db8::1]:443/tcp; PROTO: tcp, udp, icmp,\n"
		"                              icmpv6 or a number (egressd assumes tcp)\n"
		"  --src ADDR[:PORT]           the client's tunnel address\n"
		"  --dscp N                    DSCP 0-63\n"
		"  --domain D                  the domain the session is for (DNS or SNI)\n"
		"  --flow SRC:SPORT-DST:DPORT/PROTO\n"
		"                              a live flow, as `egressctl flows` shows it:\n"
		"                              the decision replayed now, next to what the\n"
		"                              data path did\n",
	.build = explain_build,
	.render = explain_render,
};

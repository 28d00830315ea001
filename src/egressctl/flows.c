/* flows: the live sessions of the flow table, filtered by egressd, one
 * line each: who, where to, over which egress and path, how much. */
#include <string.h>
#include <sys/socket.h>

#include "egressctl/args.h"
#include "egressctl/render.h"
#include "egressctl/subcommand.h"

struct flows_option {
	const char *flag, *key;
	/* NULL when value is good, with what to send written to out */
	const char *(*check)(const char *value, char *out, size_t cap);
};

static const char *check_name(const char *value, char *out, size_t cap)
{
	if (!args_valid_name(value))
		return "not a policy name (1-63 of A-Z a-z 0-9 _ . -)";
	snprintf(out, cap, "%s", value);
	return NULL;
}

static const char *check_proto(const char *value, char *out, size_t cap)
{
	char num[8];
	uint8_t proto;
	const char *err = args_parse_proto(value, &proto);

	if (err)
		return err;
	snprintf(out, cap, "%s", args_proto_wire(proto, AF_UNSPEC, num, sizeof(num)));
	return NULL;
}

static const char *check_kind(const char *value, char *out, size_t cap)
{
	static const char *const kinds[] = { "access", "local", "transit", "denied" };

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		if (!strcmp(value, kinds[i])) {
			snprintf(out, cap, "%s", value);
			return NULL;
		}
	}
	return "must be access, local, transit or denied";
}

static const char *check_limit(const char *value, char *out, size_t cap)
{
	unsigned long n;

	if (!args_parse_uint(value, 4294967295UL, &n))
		return "must be a number, 0 for no limit";
	snprintf(out, cap, "%lu", n);
	return NULL;
}

static const struct flows_option flows_options[] = {
	{ "--user", "user", check_name },
	{ "--egress", "egress", check_name },
	{ "--class", "class", check_name },
	{ "--dst", "dst", args_parse_prefix },
	{ "--src", "src", args_parse_prefix },
	{ "--proto", "proto", check_proto },
	{ "--kind", "kind", check_kind },
	{ "--limit", "limit", check_limit },
};
#define FLOWS_N_OPTIONS (sizeof(flows_options) / sizeof(flows_options[0]))

/* Which option argv[*i] is, its value checked into out; -1 on error. */
static int flows_match(int argc, char **argv, int *i, char (*values)[ARGS_TEXT_MAX])
{
	for (size_t o = 0; o < FLOWS_N_OPTIONS; o++) {
		const struct flows_option *opt = &flows_options[o];
		const char *value, *err;
		int m = subcommand_option("flows", argc, argv, i, opt->flag, &value);

		if (m < 0)
			return -1;
		if (m == 0)
			continue;
		if (values[o][0])
			return subcommand_bad_arg("flows", opt->flag, NULL, "given twice"), -1;
		err = opt->check(value, values[o], ARGS_TEXT_MAX);
		if (err)
			return subcommand_bad_arg("flows", opt->flag, value, err), -1;
		return (int)o;
	}
	subcommand_bad_arg("flows", argv[*i], NULL, "unknown option");
	return -1;
}

/* Filters go out in the table's order, whatever order they came in. */
static int flows_build(int argc, char **argv, struct control_request *req)
{
	char values[FLOWS_N_OPTIONS][ARGS_TEXT_MAX] = { { 0 } };

	for (int i = 0; i < argc; i++)
		if (flows_match(argc, argv, &i, values) < 0)
			return EGRESSCTL_USAGE;
	control_request_init(req, "flows");
	for (size_t o = 0; o < FLOWS_N_OPTIONS; o++)
		if (values[o][0] && control_request_add(req, flows_options[o].key, values[o]))
			return subcommand_bad_arg("flows", flows_options[o].flag, values[o],
						  "cannot be sent");
	return EGRESSCTL_OK;
}

static bool flows_has_ports(const char *proto)
{
	return proto && (!strcmp(proto, "tcp") || !strcmp(proto, "udp") ||
			 !strcmp(proto, "sctp"));
}

/* Where the flow goes: "fra1/internet", "fra1/internet (down)", "local",
 * "from acc, nat 198.51.100.3:40000", "denied". */
static struct cell flows_route(const json_t *f)
{
	const char *kind = js_str(f, "kind"), *egress = js_str(f, "egress");
	const char *path = js_str(f, "path"), *state = js_str(f, "path_state");
	const char *nat = js_str(f, "nat");
	struct cell c;

	if (kind && !strcmp(kind, "denied"))
		return (struct cell){ "denied" };
	if (kind && !strcmp(kind, "transit"))
		snprintf(c.s, sizeof(c.s), "from %s", js_str(f, "origin") ? js_str(f, "origin") : "?");
	else if (kind && !strcmp(kind, "local"))
		snprintf(c.s, sizeof(c.s), "local");
	else
		snprintf(c.s, sizeof(c.s), "%s%s%s%s%s", egress ? egress : "-", path ? "/" : "",
			 path ? path : "", state && strcmp(state, "up") ? " " : "",
			 state && strcmp(state, "up") ? state : "");
	if (nat && strlen(c.s) + strlen(nat) + 8 < sizeof(c.s))
		strcat(strcat(c.s, ", nat "), nat);
	return c;
}

/* "320/318": out and in, the same for bytes. */
static struct cell flows_pair(const json_t *f, const char *out_key, const char *in_key,
			      bool bytes)
{
	struct cell a = bytes ? render_bytes(f, out_key) : render_count(f, out_key);
	struct cell b = bytes ? render_bytes(f, in_key) : render_count(f, in_key);
	struct cell c;

	snprintf(c.s, sizeof(c.s), "%.40s/%.40s", a.s, b.s);
	return c;
}

static void flows_add_row(struct table *t, const json_t *f)
{
	const char *proto = js_str(f, "proto");
	bool ports = flows_has_ports(proto);

	table_add(t, render_str(f, "proto").s);
	table_add(t, render_addr_port(js_str(f, "src"), f, "sport", ports).s);
	table_add(t, "->");
	table_add(t, render_addr_port(js_str(f, "dst"), f, "dport", ports).s);
	table_add(t, render_str(f, "user").s);
	table_add(t, render_str(f, "class").s);
	table_add(t, flows_route(f).s);
	table_add(t, render_str(f, "tcp_state").s);
	table_add(t, render_secs(f, "age_s").s);
	table_add(t, render_secs(f, "idle_s").s);
	table_add(t, flows_pair(f, "packets_out", "packets_in", false).s);
	table_add(t, flows_pair(f, "bytes_out", "bytes_in", true).s);
	table_add(t, render_str(f, "domain").s);
}

static void flows_render(const json_t *answer, FILE *out)
{
	const json_t *flows = js_array(answer, "flows"), *f;
	unsigned long long total = 0, count = json_array_size(flows);
	struct table *t = table_new("llllllllrrrrl");
	size_t i;

	table_add_strs(t, "PROTO", "SOURCE", "", "DESTINATION", "USER", "CLASS",
		       "EGRESS/PATH", "STATE", "AGE", "IDLE", "PKTS(OUT/IN)", "BYTES(OUT/IN)",
		       "DOMAIN", NULL);
	json_array_foreach(flows, i, f)
		flows_add_row(t, f);
	if (count)
		table_print(t, out, "");
	table_free(t);
	if (!js_count(answer, "total", &total))
		total = count;
	fprintf(out, "%llu of %llu flows\n", count, total);
}

const struct subcommand flows_subcommand = {
	.name = "flows",
	.summary = "live sessions: who, where to, over which egress and path",
	.usage = "[--user U] [--egress NODE] [--class C]\n"
		 "           [--dst ADDR[/LEN]] [--src ADDR[/LEN]] [--proto P] [--kind K] [--limit N]",
	.details =
		"  --user U          sessions of user U\n"
		"  --egress NODE     sessions leaving through egress node NODE\n"
		"  --class C         sessions of traffic class C\n"
		"  --dst ADDR[/LEN]  destination address or prefix (as the client sent it)\n"
		"  --src ADDR[/LEN]  source address or prefix (as the client sent it)\n"
		"  --proto P         tcp, udp, icmp, icmpv6 or a protocol number\n"
		"  --kind K          access, local, transit or denied\n"
		"  --limit N         at most N flows (default 1000; 0: all)\n",
	.build = flows_build,
	.render = flows_render,
};

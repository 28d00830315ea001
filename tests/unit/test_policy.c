/* test_policy: the policy document end to end. The example in examples/
 * loads and every field lands where it should; sessions classify as the
 * example says (identity, ports, DSCP, protocol, prefixes, countries
 * through a .mmdb written by tests/tools/make-mmdb.pl, domains exact and
 * wildcard, first-match order, default verdict); every file in
 * tests/policy/bad gives exactly the errors in its .expected file; values
 * (durations, percentages, DSCP names), JSON, limits, pool addresses. */
#include "test.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto/crypto.h"
#include "policy/policy.h"

static char tmpdir[64];

static char *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
		buf = malloc((size_t)n + 1);
		if (buf && fread(buf, 1, (size_t)n, f) == (size_t)n) {
			buf[n] = '\0';
			*len = (size_t)n;
		} else {
			free(buf);
			buf = NULL;
		}
	}
	fclose(f);
	return buf;
}

static void write_file(const char *dir, const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	CHECK(f != NULL);
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static void copy_file(const char *from, const char *dir, const char *name)
{
	size_t len;
	char *buf = read_all(from, &len);

	CHECK(buf != NULL);
	if (buf)
		write_file(dir, name, buf);
	free(buf);
}

/* The example's folder, rebuilt in tmpdir with a generated countries.mmdb. */
static void setup_example(void)
{
	char cmd[512];

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/egress-policy-XXXXXX");
	CHECK(mkdtemp(tmpdir) != NULL);
	copy_file("examples/policy.yaml", tmpdir, "policy.yaml");
	copy_file("examples/o365.txt", tmpdir, "o365.txt");
	snprintf(cmd, sizeof(cmd), "perl tests/tools/make-mmdb.pl %s/countries.mmdb "
		 "203.0.113.0/26=DE 203.0.113.64/26=US 198.18.64.0/24=FR "
		 "192.0.2.0/24=/NL 2001:db8:de::/48=DE", tmpdir);
	CHECK(system(cmd) == 0);
}

static void cleanup_example(void)
{
	const char *names[] = { "policy.yaml", "o365.txt", "countries.mmdb", "p.yaml",
				"p.json", "list.txt" };
	char path[256];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", tmpdir, names[i]);
		unlink(path);
	}
	rmdir(tmpdir);
}

static struct policy *load_example(void)
{
	char path[256];
	struct policy_errors e;
	struct policy *p;

	snprintf(path, sizeof(path), "%s/policy.yaml", tmpdir);
	p = policy_load_file(path, &e);
	for (size_t i = 0; i < e.n; i++)
		fprintf(stderr, "  %s\n", e.msgs[i]);
	CHECK(p != NULL);
	CHECK(e.n == 0);
	policy_errors_free(&e);
	return p;
}

/* Loads text (YAML or JSON) from memory; NULL if it does not load. */
static struct policy *load_text(const char *text, struct policy_errors *e)
{
	return policy_load_buffer("t.yaml", text, strlen(text), tmpdir, e);
}

static struct ip_addr addr(const char *s)
{
	struct ip_addr a;

	CHECK(ip_addr_parse(s, &a));
	return a;
}

static void test_example_fields(void)
{
	struct policy *p = load_example();
	const struct policy_node *fra1;
	const struct policy_class *voice;

	if (!p)
		return;
	CHECK(p->refs == 1 && p->version == 0);
	CHECK(strstr(p->source, "policy.yaml") != NULL);
	CHECK(p->n_regions == 2 && !strcmp(p->regions[0].name, "eu"));
	CHECK(p->regions[0].n_countries == 3 && !strcmp(p->regions[0].countries[2], "NL"));
	CHECK(p->regions[1].n_probe_targets == 1);
	CHECK(p->regions[0].id == policy_name_id("eu"));
	CHECK(p->n_nodes == 4);
	CHECK(policy_find_node(p, "fra1") == 1 && policy_find_node(p, "nope") == POLICY_NONE);
	fra1 = &p->nodes[1];
	CHECK(fra1->roles == (POLICY_ROLE_EGRESS | POLICY_ROLE_INSPECTION));
	CHECK(fra1->region == 0 && !strcmp(fra1->provider, "gcp"));
	CHECK(fra1->price_per_gb == 0.02 && fra1->capacity_mbps == 1000);
	CHECK(fra1->n_links == 2 && !strcmp(fra1->links[1].network, "private"));
	CHECK(fra1->links[1].endpoint.sa.sa_family == AF_INET6);
	CHECK(ntohs(fra1->links[1].endpoint.in6.sin6_port) == 51820);
	CHECK(ip_addr_equal(&fra1->links[1].source, &(struct ip_addr){ 0 }) == false);
	CHECK(!strcmp(fra1->links[0].network, "internet"));
	CHECK(p->nodes[0].listen_port == 51820 && p->nodes[0].roles == POLICY_ROLE_ACCESS);
	CHECK(p->nodes[0].links[0].endpoint.sa.sa_family == 0);
	CHECK(policy_find_node_by_key(p, fra1->public_key) == 1);
	CHECK(p->n_pools == 2 && p->pools[0].n_members == 3 && p->pools[1].n_members == 1);
	CHECK(policy_find_pool_by_id(p, policy_name_id("corp")) == 1);
	CHECK(p->n_groups == 2 && p->n_users == 3 && p->n_devices == 3);
	CHECK(p->users[2].n_groups == 2 && policy_find_user(p, "carol") == 2);
	CHECK(p->devices[0].n_addresses == 2 && p->devices[0].user == 0);
	CHECK(policy_find_device_by_key(p, p->devices[1].public_key) == 1);
	CHECK(p->n_dest_sets == 5 && !strcmp(p->dest_sets[4].name, "class:by-domain"));
	CHECK(p->n_classes == 4 && !strcmp(p->classes[3].name, "default"));
	voice = &p->classes[0];
	CHECK(voice->protocol == IPPROTO_UDP && voice->n_ports == 2);
	CHECK(voice->ports[0].lo == 3478 && voice->ports[0].hi == 3481);
	CHECK(voice->dscp_mask == 1ull << 46);
	CHECK(voice->objective == POLICY_OBJ_LATENCY && voice->weights.loss_pct == 2);
	CHECK(voice->max_loss_pct == 2 && voice->max_rtt_ms == 150 && voice->max_jitter_ms == 30);
	CHECK(voice->n_allowed_regions == 1 && voice->inspection && voice->pool == 1);
	CHECK(p->classes[1].objective == POLICY_OBJ_COST && p->classes[1].pool == 0);
	CHECK(p->classes[1].weights.price_per_gb == 1000);
	CHECK(p->classes[2].objective == POLICY_OBJ_WEIGHTS && p->classes[2].weights.loss_pct == 10);
	CHECK(p->classes[2].weights.utilisation_pct == 0.1 && p->classes[2].n_dest_sets == 2);
	CHECK(p->classes[3].objective == POLICY_OBJ_BALANCED && p->classes[3].pool == 0);
	CHECK(policy_find_class(p, "by-domain") == 1);
	CHECK(policy_find_class_by_id(p, policy_name_id("default")) == 3);
	CHECK(p->n_rules == 3 && !strcmp(p->rules[1].name, "rule-2"));
	CHECK(p->rules[0].action == POLICY_DENY && p->rules[0].line > 90);
	CHECK(p->default_action == POLICY_ALLOW);
	CHECK(p->n_overlay == 2);
	CHECK(p->probe.interval == MSECONDS(100) && p->probe.loss_window == 200);
	CHECK(p->probe.degraded_clear_pct == 10 && p->flows.tcp_established == SECONDS(7200));
	CHECK(p->selection.switch_hold == SECONDS(2) && p->selection.max_utilisation_pct == 90);
	CHECK(!crypto_is_zero(p->digest, sizeof(p->digest)));
	CHECK(policy_ref(p) == p && p->refs == 2);
	policy_unref(p);
	policy_unref(p);
}

static struct policy_decision classify(const struct policy *p, const char *device,
				       const char *user, uint8_t proto, const char *dst,
				       uint16_t dport, uint8_t dscp, const char *domain)
{
	struct policy_session s = {
		.device = POLICY_NONE, .user = POLICY_NONE, .protocol = proto,
		.sport = 40000, .dport = dport, .dscp = dscp, .domain = domain,
	};
	struct policy_decision d;

	for (uint32_t i = 0; device && i < p->n_devices; i++)
		if (!strcmp(p->devices[i].name, device))
			s.device = i;
	if (user)
		s.user = policy_find_user(p, user);
	s.src = addr("100.64.1.2");
	s.dst = addr(dst);
	policy_classify(p, &s, &d);
	return d;
}

#define CLS(d, cls) (!strcmp(p->classes[(d).class_].name, (cls)))

static void test_classify_example(void)
{
	struct policy *p = load_example();
	struct policy_decision d;

	if (!p)
		return;
	/* voice: udp, port range, DSCP EF, zoom by wildcard or exact name */
	d = classify(p, "alice-laptop", NULL, IPPROTO_UDP, "198.51.100.200", 3479, 46,
		     "us04web.zoom.us");
	CHECK(CLS(d, "voice") && d.rule == POLICY_NONE && d.action == POLICY_ALLOW);
	CHECK(d.user == 0 && d.country[0] == '\0' && d.dst_region == POLICY_NONE);
	CHECK(CLS(classify(p, "alice-laptop", NULL, IPPROTO_UDP, "198.51.100.200", 5060, 46,
			   "ZOOM.US."), "voice"));
	CHECK(CLS(classify(p, "alice-laptop", NULL, IPPROTO_UDP, "198.51.100.200", 5060, 46,
			   "a.b.zoom.us"), "voice"));
	CHECK(CLS(classify(p, "alice-laptop", NULL, IPPROTO_UDP, "198.51.100.200", 5060, 46,
			   "notzoom.us"), "default"));
	CHECK(CLS(classify(p, "alice-laptop", NULL, IPPROTO_UDP, "198.51.100.200", 5060, 0,
			   "zoom.us"), "default"));		/* DSCP */
	CHECK(CLS(classify(p, "alice-laptop", NULL, IPPROTO_UDP, "198.51.100.200", 5061, 46,
			   "zoom.us"), "default"));		/* port */
	CHECK(CLS(classify(p, "alice-laptop", NULL, IPPROTO_TCP, "198.51.100.200", 5060, 46,
			   "zoom.us"), "default"));		/* protocol */
	/* first rule: finance may not use voice; bob by device, carol by user */
	d = classify(p, "bob-phone", NULL, IPPROTO_UDP, "198.51.100.1", 3478, 46, "zoom.us");
	CHECK(CLS(d, "voice") && d.rule == 0 && d.action == POLICY_DENY && d.user == 1);
	d = classify(p, NULL, "carol", IPPROTO_UDP, "198.51.100.1", 3478, 46, "zoom.us");
	CHECK(d.rule == 0 && d.action == POLICY_DENY && d.user == 2);
	/* the device wins over the session's user */
	d = classify(p, "alice-laptop", "carol", IPPROTO_UDP, "198.51.100.1", 3478, 46, "zoom.us");
	CHECK(d.rule == POLICY_NONE && d.user == 0);
	/* exact domain only: backup.example.com, not below it */
	CHECK(CLS(classify(p, NULL, NULL, IPPROTO_TCP, "198.51.100.1", 443, 0,
			   "backup.example.com"), "by-domain"));
	CHECK(CLS(classify(p, NULL, NULL, IPPROTO_TCP, "198.51.100.1", 443, 0,
			   "x.backup.example.com"), "default"));
	d = classify(p, "bob-phone", NULL, IPPROTO_TCP, "198.51.100.1", 443, 0,
		     "backup.example.com");
	CHECK(d.rule == 2 && d.action == POLICY_DENY);
	/* o365 by prefix (inline) and by prefix file (IPv6), country US */
	d = classify(p, "alice-laptop", NULL, IPPROTO_TCP, "203.0.113.70", 443, 0, NULL);
	CHECK(d.rule == 1 && d.action == POLICY_ALLOW && !strcmp(d.country, "US"));
	CHECK(d.dst_region == 1 && CLS(d, "default"));
	d = classify(p, "alice-laptop", NULL, IPPROTO_TCP, "2001:db8:365:1::1", 443, 0, NULL);
	CHECK(d.rule == 1);
	d = classify(p, "bob-phone", NULL, IPPROTO_TCP, "203.0.113.70", 443, 0, NULL);
	CHECK(d.rule == POLICY_NONE && d.action == POLICY_ALLOW);
	/* eu-web: de-sites by country, eu-region by region countries */
	d = classify(p, NULL, NULL, IPPROTO_TCP, "203.0.113.5", 443, 0, NULL);
	CHECK(CLS(d, "eu-web") && !strcmp(d.country, "DE") && d.dst_region == 0);
	d = classify(p, NULL, NULL, IPPROTO_TCP, "198.18.64.9", 443, 0, NULL);
	CHECK(CLS(d, "eu-web") && !strcmp(d.country, "FR") && d.dst_region == 0);
	d = classify(p, NULL, NULL, IPPROTO_TCP, "2001:db8:de::1", 443, 0, NULL);
	CHECK(CLS(d, "eu-web") && !strcmp(d.country, "DE"));
	CHECK(CLS(classify(p, NULL, NULL, IPPROTO_TCP, "198.18.64.9", 80, 0, NULL), "default"));
	/* registered_country when country is absent */
	d = classify(p, NULL, NULL, IPPROTO_TCP, "192.0.2.1", 443, 0, NULL);
	CHECK(CLS(d, "eu-web") && !strcmp(d.country, "NL") && d.dst_region == 0);
	/* region by prefix wins over the country (203.0.113.128/25 is us) */
	d = classify(p, NULL, NULL, IPPROTO_TCP, "203.0.113.130", 443, 0, NULL);
	CHECK(d.dst_region == 1 && d.country[0] == '\0' && d.user == POLICY_NONE);
	/* overlay */
	CHECK(policy_is_overlay(p, &(struct ip_addr){ 0 }) == false);
	{
		struct ip_addr a = addr("100.64.1.2"), b = addr("2001:db8:100::5");
		struct ip_addr c = addr("192.0.2.1");

		CHECK(policy_is_overlay(p, &a) && policy_is_overlay(p, &b));
		CHECK(!policy_is_overlay(p, &c));
	}
	policy_unref(p);
}

/* A deny default and a rule list checked in order. */
static void test_first_match_and_default(void)
{
	static const char doc[] =
		"version: 1\n"
		"groups: [g1, g2]\n"
		"users: {u1: {groups: [g1]}, u2: {groups: [g2]}, u3: {}}\n"
		"destinations: {d1: {prefixes: [10.0.0.0/8]}, d2: {prefixes: [10.1.0.0/16]}}\n"
		"classes:\n"
		"  - {name: c1, match: {protocol: icmp}}\n"
		"  - {name: c2, match: {destinations: [d2]}}\n"
		"  - {name: c3, match: {destinations: [d1]}}\n"
		"  - {name: c4, match: {protocol: 47}}\n"
		"rules:\n"
		"  - {name: r1, action: allow, users: [u1], destinations: [d2]}\n"
		"  - {name: r2, action: deny, groups: [g1]}\n"
		"  - {name: r3, action: allow, classes: [c3]}\n"
		"  - {name: r4, action: allow, destinations: [d1], groups: [g2]}\n"
		"default: deny\n";
	struct policy_errors e;
	struct policy *p = load_text(doc, &e);
	struct policy_decision d;

	CHECK(p != NULL && e.n == 0);
	policy_errors_free(&e);
	if (!p)
		return;
	d = classify(p, NULL, "u1", IPPROTO_TCP, "10.1.2.3", 80, 0, NULL);
	CHECK(CLS(d, "c2") && d.rule == 0 && d.action == POLICY_ALLOW);
	d = classify(p, NULL, "u1", IPPROTO_TCP, "10.2.2.3", 80, 0, NULL);
	CHECK(CLS(d, "c3") && d.rule == 1 && d.action == POLICY_DENY);
	d = classify(p, NULL, "u2", IPPROTO_TCP, "10.2.2.3", 80, 0, NULL);
	CHECK(d.rule == 2);
	d = classify(p, NULL, "u2", IPPROTO_TCP, "10.1.2.3", 80, 0, NULL);
	CHECK(CLS(d, "c2") && d.rule == 3);
	d = classify(p, NULL, "u3", IPPROTO_TCP, "10.1.2.3", 80, 0, NULL);
	CHECK(d.rule == POLICY_NONE && d.action == POLICY_DENY);
	/* icmp matches ICMPv6 too; c1 comes first even inside d1 */
	d = classify(p, NULL, "u3", IPPROTO_ICMPV6, "2001:db8::1", 0, 0, NULL);
	CHECK(CLS(d, "c1"));
	d = classify(p, NULL, "u3", IPPROTO_ICMP, "10.2.0.1", 0, 0, NULL);
	CHECK(CLS(d, "c1") && d.rule == POLICY_NONE);
	CHECK(CLS(classify(p, NULL, NULL, 47, "192.0.2.1", 0, 0, NULL), "c4"));
	CHECK(CLS(classify(p, NULL, NULL, 48, "192.0.2.1", 0, 0, NULL), "default"));
	policy_unref(p);
}

/* ---- golden error files ---- */

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Loading NAME.yaml gives exactly the lines of NAME.expected. */
static void golden_one(const char *yaml)
{
	char expected_path[256], got[65536];
	struct policy_errors e;
	struct policy *p;
	size_t len = 0, used = 0;
	char *want;

	snprintf(expected_path, sizeof(expected_path), "%.*s.expected",
		 (int)(strlen(yaml) - 5), yaml);
	want = read_all(expected_path, &len);
	CHECK(want != NULL);
	p = policy_load_file(yaml, &e);
	CHECK(p == NULL && e.n > 0);
	got[0] = '\0';
	for (size_t i = 0; i < e.n && used < sizeof(got); i++)
		used += (size_t)snprintf(got + used, sizeof(got) - used, "%s\n", e.msgs[i]);
	if (want && strcmp(want, got)) {
		fprintf(stderr, "golden %s: got\n%s--- expected\n%s", yaml, got, want);
		CHECK(!"golden mismatch");
	}
	policy_errors_free(&e);
	policy_unref(p);
	free(want);
}

static void test_golden_errors(void)
{
	int home = open(".", O_RDONLY | O_DIRECTORY);
	char *names[128];
	size_t n = 0;
	struct dirent *de;
	DIR *dir;

	CHECK(home >= 0);
	CHECK(chdir("tests/policy/bad") == 0);
	dir = opendir(".");
	CHECK(dir != NULL);
	while (dir && (de = readdir(dir)) && n < 128) {
		size_t len = strlen(de->d_name);

		if (len > 5 && !strcmp(de->d_name + len - 5, ".yaml"))
			names[n++] = strdup(de->d_name);
	}
	if (dir)
		closedir(dir);
	qsort(names, n, sizeof(names[0]), name_cmp);
	CHECK(n >= 12);
	for (size_t i = 0; i < n; i++) {
		golden_one(names[i]);
		free(names[i]);
	}
	CHECK(fchdir(home) == 0);
	close(home);
}

/* ---- values, JSON, limits ---- */

static void test_values(void)
{
	static const char doc[] =
		"version: 1\n"
		"settings:\n"
		"  probe: {interval: 0.25s, region_interval: 2m, degraded_loss: 20,\n"
		"          degraded_clear: 10.5%, loss_window: 2048}\n"
		"  flows: {udp: 90, tcp_established: 1.5h, max: 5}\n"
		"  selection: {switch_hold: 0, spread: 0%}\n"
		"classes:\n"
		"  - name: d\n"
		"    match: {dscp: [AF11, af43, CS0, cs7, 0, 63, ef]}\n"
		"    limits: {max_rtt: 0.5, max_loss: 0.5}\n"
		"    objective: {rtt: 2}\n"
		"  - {name: i, match: {protocol: ICMP}, inspection: no}\n";
	struct policy_errors e;
	struct policy *p = load_text(doc, &e);

	for (size_t i = 0; i < e.n; i++)
		fprintf(stderr, "  %s\n", e.msgs[i]);
	CHECK(p != NULL);
	policy_errors_free(&e);
	if (!p)
		return;
	CHECK(p->probe.interval == MSECONDS(250));
	CHECK(p->probe.region_interval == SECONDS(120));
	CHECK(p->probe.degraded_loss_pct == 20 && p->probe.degraded_clear_pct == 10.5);
	CHECK(p->probe.loss_window == 2048 && p->probe.down_after == 5);
	CHECK(p->flows.udp == SECONDS(90) && p->flows.tcp_established == SECONDS(5400));
	CHECK(p->flows.max_flows == 5 && p->flows.icmp == SECONDS(30));
	CHECK(p->selection.switch_hold == 0 && p->selection.spread_pct == 0);
	CHECK(p->classes[0].dscp_mask == ((1ull << 10) | (1ull << 38) | (1ull << 0) |
					  (1ull << 56) | (1ull << 63) | (1ull << 46)));
	CHECK(p->classes[0].max_rtt_ms == 500 && p->classes[0].max_loss_pct == 0.5);
	CHECK(p->classes[0].objective == POLICY_OBJ_WEIGHTS && p->classes[0].weights.rtt_ms == 2);
	CHECK(p->classes[0].weights.price_per_gb == 0);
	CHECK(p->classes[1].protocol == IPPROTO_ICMP && !p->classes[1].inspection);
	CHECK(p->classes[2].pool == POLICY_NONE);	/* no pools at all */
	policy_unref(p);
}

static void test_objective_presets(void)
{
	struct policy_weights l = policy_objective_weights(POLICY_OBJ_LATENCY);
	struct policy_weights c = policy_objective_weights(POLICY_OBJ_COST);
	struct policy_weights b = policy_objective_weights(POLICY_OBJ_BALANCED);

	CHECK(l.rtt_ms == 1 && l.jitter_ms == 1 && l.loss_pct == 2 && l.price_per_gb == 0 &&
	      l.utilisation_pct == 0.05);
	CHECK(c.rtt_ms == 0.01 && c.jitter_ms == 0 && c.loss_pct == 1 &&
	      c.price_per_gb == 1000 && c.utilisation_pct == 0.05);
	CHECK(b.rtt_ms == 1 && b.jitter_ms == 1 && b.loss_pct == 2 && b.price_per_gb == 200 &&
	      b.utilisation_pct == 0.2);
	CHECK(policy_name_id("") == 2166136261u && policy_name_id("a") == 0xe40c292cu);
}

/* The example as JSON (JSON is YAML) loads to the same policy. */
static void test_json(void)
{
	static const char doc[] =
		"{\"version\": 1, \"groups\": [\"eng\"],\n"
		" \"users\": {\"alice\": {\"groups\": [\"eng\"], \"devices\": [{\"name\": \"l\",\n"
		"   \"key\": \"zYaDDdmKwirwk7V/APafWHHc00zoFipgGmqBd/bUfT8=\",\n"
		"   \"addresses\": [\"100.64.1.2/32\"]}]}},\n"
		" \"classes\": [{\"name\": \"web\", \"match\": {\"ports\": [443, \"8000-8080\"]}}],\n"
		" \"rules\": [{\"action\": \"deny\", \"groups\": [\"eng\"], \"classes\": [\"web\"]}],\n"
		" \"default\": \"allow\"}\n";
	struct policy_errors e;
	struct policy *p = load_text(doc, &e);
	struct policy_decision d;

	CHECK(p != NULL && e.n == 0);
	policy_errors_free(&e);
	if (!p)
		return;
	d = classify(p, "l", NULL, IPPROTO_TCP, "192.0.2.1", 8080, 0, NULL);
	CHECK(d.rule == 0 && d.action == POLICY_DENY && CLS(d, "web"));
	d = classify(p, "l", NULL, IPPROTO_TCP, "192.0.2.1", 8081, 0, NULL);
	CHECK(d.rule == POLICY_NONE && d.action == POLICY_ALLOW);
	policy_unref(p);
}

static void expect_error(const char *doc, size_t len, const char *needle)
{
	struct policy_errors e;
	struct policy *p = policy_load_buffer("t", doc, len, NULL, &e);

	CHECK(p == NULL && e.n >= 1);
	if (e.n && !strstr(e.msgs[0], needle)) {
		fprintf(stderr, "expected \"%s\", got \"%s\"\n", needle, e.msgs[0]);
		CHECK(!"wrong error");
	}
	policy_errors_free(&e);
}

static void test_limits(void)
{
	char deep[400];
	size_t n = 0;
	struct policy_errors e;

	for (; n < 100; n++)
		deep[n] = '[';
	deep[n] = '\0';
	expect_error(deep, n, "t:1:33: nesting is too deep");
	expect_error("", 0, "t:1:1: the document is empty");
	expect_error("version: 1\n---\nversion: 1\n", 26, "more than one YAML document");
	expect_error("version: \"a\\0b\"\n", 16, "NUL character");
	expect_error("version: 1\0garbage", 18, "t:1:11: YAML syntax error");
	expect_error("version: 1\n\xff\xfe", 13, "YAML syntax error");
	expect_error("{[a]: 1}", 8, "mapping key must be a plain string");
	expect_error("version: 1\nnodes: [a]\n", 22, "t:2:8: nodes must be a mapping");
	expect_error("version: 1\ngroups: {a: 1}\n", 26, "groups must be a list");
	expect_error("nodes: {}\n", 10, "t:1:1: missing \"version: 1\"");
	CHECK(policy_load_file("/nonexistent/policy.yaml", &e) == NULL);
	CHECK(e.n == 1 && !strcmp(e.msgs[0], "/nonexistent/policy.yaml: cannot read policy: "
				  "No such file or directory"));
	policy_errors_free(&e);
	CHECK(policy_load_file("/dev/null", &e) == NULL && e.n == 1);
	CHECK(strstr(e.msgs[0], "not a regular file") != NULL);
	policy_errors_free(&e);
	CHECK(policy_load_buffer("t", "version: 2", 10, NULL, NULL) == NULL);
	policy_unref(policy_load_buffer("t", "version: 1", 10, NULL, NULL));
}

/* ---- pool addresses ---- */

static const char pool_doc[] =
	"version: 1\n"
	"regions: {eu: {}}\n"
	"nodes:\n"
	"  a: {region: eu, roles: [egress], key: aa6DuoxgacIOcPVT04KoXBwBRviRMR9Tnjb6Xf5syzw=}\n"
	"  b: {region: eu, roles: [egress], key: TOAYmQD0Iyq+PTa0+PqjNNik0t0K67HIEuEW7aqdBIE=}\n"
	"  c: {region: eu, roles: [access], key: U2r7/GeNSTomss26ahmhAODy3gnIFEfjRhzkrks7VqU=}\n"
	"pools:\n"
	"  default: {a: [198.51.100.0/29], b: [198.51.100.8/31, 198.51.100.12/32]}\n"
	"  wide: {a: [198.51.100.64/29, 198.51.100.128/25], b: [\"2001:db8:5::/64\"]}\n";

static bool in_prefix(const struct ip_addr *a, const char *pfx)
{
	struct ip_prefix p;

	CHECK(ip_prefix_parse(pfx, &p, true));
	return ip_prefix_contains(&p, a);
}

static void test_pool_address(void)
{
	struct policy_errors e;
	struct policy *p = load_text(pool_doc, &e);
	unsigned seen[8] = { 0 }, wide_big = 0, b_hits[16] = { 0 };
	struct ip_addr a1, a2;

	CHECK(p != NULL && e.n == 0);
	policy_errors_free(&e);
	if (!p)
		return;
	CHECK(!policy_pool_address(p, 0, 2, 1, 0, &a1));	/* c is not a member */
	CHECK(!policy_pool_address(p, 9, 0, 1, 0, &a1));
	for (uint32_t user = 0; user < 3000; user++) {
		uint32_t id = policy_name_id("user") ^ user * 2654435761u;

		CHECK(policy_pool_address(p, 0, 0, id, 0, &a1));
		CHECK(policy_pool_address(p, 0, 0, id, 0, &a2) && ip_addr_equal(&a1, &a2));
		CHECK(in_prefix(&a1, "198.51.100.0/29"));
		seen[a1.a[3] & 7]++;
		CHECK(policy_pool_address(p, 0, 1, id, 0, &a2));
		CHECK(in_prefix(&a2, "198.51.100.8/31") || in_prefix(&a2, "198.51.100.12/32"));
		b_hits[a2.a[3] & 15]++;
		CHECK(policy_pool_address(p, 1, 1, id, 0, &a2));
		CHECK(policy_pool_address(p, 1, 1, id, AF_INET6, &a1) && ip_addr_equal(&a1, &a2));
		CHECK(!policy_pool_address(p, 1, 1, id, AF_INET, &a1));
		CHECK(in_prefix(&a2, "2001:db8:5::/64") && (a2.a[14] || a2.a[15]));
		CHECK(!a2.a[8] && !a2.a[9] && !a2.a[10] && !a2.a[11] && !a2.a[12] && !a2.a[13]);
		CHECK(policy_pool_address(p, 1, 0, id, 0, &a2));
		CHECK(in_prefix(&a2, "198.51.100.64/29") || in_prefix(&a2, "198.51.100.128/25"));
		wide_big += in_prefix(&a2, "198.51.100.128/25");
		CHECK(a2.a[3] != 64 && a2.a[3] != 71 && a2.a[3] != 128 && a2.a[3] != 255);
	}
	/* no network or broadcast address; every host used */
	CHECK(seen[0] == 0 && seen[7] == 0);
	for (int i = 1; i < 7; i++)
		CHECK(seen[i] > 300);
	/* weighted: /25 (126 hosts) against /29 (6 hosts) */
	CHECK(wide_big > 2700);
	/* /31: both addresses; /32: its one; weighted 2:1 */
	CHECK(b_hits[8] > 700 && b_hits[9] > 700 && b_hits[12] > 700);
	CHECK(b_hits[8] + b_hits[9] + b_hits[12] == 3000);
	policy_unref(p);
}

static void test_overlay_only(void)
{
	struct policy_errors e;
	struct policy *p = load_text("version: 1\noverlay: [10.0.0.0/8, \"::/0\"]\n", &e);
	struct ip_addr a = addr("10.9.9.9"), b = addr("11.0.0.1"), c = addr("2001:db8::1");

	CHECK(p != NULL);
	policy_errors_free(&e);
	if (!p)
		return;
	CHECK(policy_is_overlay(p, &a) && !policy_is_overlay(p, &b) && policy_is_overlay(p, &c));
	CHECK(p->n_classes == 1 && p->n_rules == 0);
	CHECK(CLS(classify(p, NULL, NULL, IPPROTO_TCP, "11.0.0.1", 80, 0, NULL), "default"));
	policy_unref(p);
}

/* docs/policy.md ends with the example, byte for byte. */
static void test_docs_in_sync(void)
{
	size_t dlen = 0, elen = 0;
	char *doc = read_all("docs/policy.md", &dlen);
	char *ex = read_all("examples/policy.yaml", &elen);
	const char *start = doc ? strstr(doc, "## The complete example") : NULL;

	CHECK(doc && ex && start);
	if (start)
		start = strstr(start, "```yaml\n");
	CHECK(start != NULL);
	if (start && ex) {
		start += strlen("```yaml\n");
		CHECK(!strncmp(start, ex, elen) && !strcmp(start + elen, "```\n"));
	}
	free(doc);
	free(ex);
}

static void test_example(void)
{
	setup_example();
	test_example_fields();
	test_classify_example();
}

static void test_cleanup(void)
{
	cleanup_example();
}

static void test_init(void)
{
	CHECK(crypto_init());
}

TEST_MAIN("policy",
	  TEST(test_init),
	  TEST(test_example),
	  TEST(test_docs_in_sync),
	  TEST(test_first_match_and_default),
	  TEST(test_golden_errors),
	  TEST(test_values),
	  TEST(test_objective_presets),
	  TEST(test_json),
	  TEST(test_limits),
	  TEST(test_pool_address),
	  TEST(test_overlay_only),
	  TEST(test_cleanup))

/* test_region_probe: egress -> region probes. The echo wire format
 * against a naive RFC 1071 checksum and hand-built packets (no privileges
 * needed); reconfiguration keeping the state of unchanged targets; then,
 * as root, live probing in a fresh network namespace of our own (unshare):
 * 127.0.0.1 and ::1 must come UP with an RTT, an unroutable target
 * (nothing leaves the namespace: it has only lo) must go DOWN, and a
 * target that stops answering (icmp_echo_ignore_all in that namespace)
 * must go DOWN and come back. Without root or namespaces those parts
 * skip and say so. */
#include "test.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "routing/region_probe.h"

/* ---- the wire ---- */

static uint16_t naive_checksum(const uint8_t *b, size_t len)
{
	uint64_t sum = 0;

	for (size_t i = 0; i < len; i++)
		sum += i % 2 ? b[i] : (uint32_t)b[i] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void set_checksum(uint8_t *icmp, size_t len)
{
	uint16_t s;

	icmp[2] = icmp[3] = 0;
	s = naive_checksum(icmp, len);
	icmp[2] = (uint8_t)(s >> 8);
	icmp[3] = (uint8_t)s;
}

/* An echo request turned into the reply a host would send. */
static size_t make_reply(uint8_t *out, int family, const struct region_echo *e)
{
	size_t n = region_probe_build_echo(out, 64, family, e);

	out[0] = family == AF_INET6 ? 129 : 0;
	if (family == AF_INET)
		set_checksum(out, n);
	return n;
}

static size_t with_ipv4_header(uint8_t *out, const uint8_t *icmp, size_t n, unsigned ihl)
{
	size_t hl = ihl * 4;

	memset(out, 0, hl);
	out[0] = (uint8_t)(0x40 | ihl);
	out[2] = (uint8_t)((hl + n) >> 8);
	out[3] = (uint8_t)(hl + n);
	out[8] = 64;
	out[9] = 1;				/* ICMP */
	memcpy(out + hl, icmp, n);
	return hl + n;
}

static void test_wire(void)
{
	const struct region_echo e = { .id = 0xbeef, .seq = 0x0102, .cookie = 0xdeadbeef,
				       .key = 77, .seq32 = 0xabcd0102 };
	uint8_t pkt[64], ip[128];
	struct region_echo got;
	size_t n, m;

	n = region_probe_build_echo(pkt, sizeof(pkt), AF_INET, &e);
	CHECK(n == 24 && pkt[0] == 8 && pkt[1] == 0 && naive_checksum(pkt, n) == 0);
	CHECK(pkt[4] == 0xbe && pkt[5] == 0xef && pkt[6] == 1 && pkt[7] == 2);
	CHECK(region_probe_build_echo(pkt, 23, AF_INET, &e) == 0);
	CHECK(!region_probe_parse_reply(pkt, n, AF_INET, false, &got));	/* a request */
	n = make_reply(pkt, AF_INET, &e);
	CHECK(region_probe_parse_reply(pkt, n, AF_INET, false, &got));
	CHECK(got.id == e.id && got.seq == e.seq && got.cookie == e.cookie &&
	      got.key == e.key && got.seq32 == e.seq32);
	for (unsigned ihl = 5; ihl <= 15; ihl += 5) {
		m = with_ipv4_header(ip, pkt, n, ihl);
		CHECK(region_probe_parse_reply(ip, m, AF_INET, true, &got) && got.key == 77);
		CHECK(!region_probe_parse_reply(ip, m - 1, AF_INET, true, &got));
		ip[3]++;				/* total length lies */
		CHECK(!region_probe_parse_reply(ip, m, AF_INET, true, &got));
	}
	m = with_ipv4_header(ip, pkt, n, 4);		/* IHL below 5 */
	CHECK(!region_probe_parse_reply(ip, m, AF_INET, true, &got));
	m = with_ipv4_header(ip, pkt, n, 5);
	ip[9] = 17;
	CHECK(!region_probe_parse_reply(ip, m, AF_INET, true, &got));
	pkt[10] ^= 1;					/* checksum no longer holds */
	CHECK(!region_probe_parse_reply(pkt, n, AF_INET, false, &got));
	pkt[10] ^= 1;
	pkt[1] = 1;					/* code */
	set_checksum(pkt, n);
	CHECK(!region_probe_parse_reply(pkt, n, AF_INET, false, &got));
	pkt[1] = 0;
	pkt[n] = 0;					/* a trailing byte */
	set_checksum(pkt, n + 1);
	CHECK(!region_probe_parse_reply(pkt, n + 1, AF_INET, false, &got));
	for (size_t len = 0; len < n; len++)
		CHECK(!region_probe_parse_reply(pkt, len, AF_INET, false, &got));
	/* IPv6: no checksum of ours (the kernel's, with the pseudo-header). */
	n = region_probe_build_echo(pkt, sizeof(pkt), AF_INET6, &e);
	CHECK(n == 24 && pkt[0] == 128 && pkt[2] == 0 && pkt[3] == 0);
	CHECK(!region_probe_parse_reply(pkt, n, AF_INET6, false, &got));
	n = make_reply(pkt, AF_INET6, &e);
	CHECK(region_probe_parse_reply(pkt, n, AF_INET6, false, &got) && got.seq32 == e.seq32);
	CHECK(!region_probe_parse_reply(pkt, n, AF_INET6, true, &got));
	pkt[23] = 1;					/* the reserved word */
	CHECK(!region_probe_parse_reply(pkt, n, AF_INET6, false, &got));
}

/* ---- a policy with regions and targets ---- */

static struct policy pol;
static struct policy_node self_node = { .name = "fra1", .roles = POLICY_ROLE_EGRESS };
static struct policy_region regions[3];
static struct ip_addr targets[3][3];

static void set_region(size_t i, const char *name, uint32_t id, const char *t1, const char *t2)
{
	memset(&regions[i], 0, sizeof(regions[i]));
	snprintf(regions[i].name, sizeof(regions[i].name), "%s", name);
	regions[i].id = id;
	regions[i].probe_targets = targets[i];
	CHECK(ip_addr_parse(t1, &targets[i][0]));
	regions[i].n_probe_targets = 1;
	if (t2) {
		CHECK(ip_addr_parse(t2, &targets[i][1]));
		regions[i].n_probe_targets = 2;
	}
}

static void setup(monotime_ns interval)
{
	memset(&pol, 0, sizeof(pol));
	pol.nodes = &self_node;
	pol.n_nodes = 1;
	pol.regions = regions;
	pol.n_regions = 2;
	pol.probe = (struct policy_probe_settings){
		.interval = MSECONDS(100), .down_after = 3, .up_after = 2, .loss_window = 100,
		.degraded_loss_pct = 15, .degraded_clear_pct = 8, .region_interval = interval,
	};
	set_region(0, "eu", 1001, "127.0.0.1", "127.0.0.2");
	set_region(1, "us", 1002, "::1", NULL);
}

static const struct path_monitor *monitor_of(const struct region_probe *rp, const char *addr)
{
	const struct path_monitor *mon;
	struct ip_addr want, a;
	uint32_t region;

	CHECK(ip_addr_parse(addr, &want));
	for (size_t i = 0; region_probe_target(rp, i, &a, &region, &mon); i++)
		if (ip_addr_equal(&a, &want))
			return mon;
	return NULL;
}

/* Only loopback targets here: this part runs in the host's namespace. */
static void test_configure_keeps_state(void)
{
	struct region_probe *rp = region_probe_create();
	const struct path_monitor *m;
	struct fabric_probe_reply r;

	setup(SECONDS(1));
	CHECK(rp != NULL);
	CHECK(region_probe_next_event(rp) == 0);
	CHECK(region_probe_configure(rp, &pol, 0) == 0 && region_probe_n_targets(rp) == 3);
	CHECK(region_probe_next_event(rp) == 1);	/* new targets: at once */
	region_probe_tick(rp, SECONDS(5));
	CHECK(region_probe_next_event(rp) == SECONDS(6));
	m = monitor_of(rp, "127.0.0.2");
	CHECK(m && m->m.probes_sent == 1 && m->cfg.interval == SECONDS(1));
	set_region(0, "eu", 1001, "127.0.0.2", "127.0.0.3");
	pol.probe.region_interval = MSECONDS(500);
	CHECK(region_probe_configure(rp, &pol, POLICY_NONE) == 0);
	CHECK(region_probe_n_targets(rp) == 3 && !monitor_of(rp, "127.0.0.1"));
	m = monitor_of(rp, "127.0.0.2");
	CHECK(m && m->m.probes_sent == 1 && m->cfg.interval == MSECONDS(500));
	m = monitor_of(rp, "127.0.0.3");
	CHECK(m && m->m.probes_sent == 0 && m->state == PATH_UNKNOWN);
	set_region(0, "eu", 1001, "127.0.0.2", "127.0.0.2");	/* listed twice */
	CHECK(region_probe_configure(rp, &pol, 0) == 0 && region_probe_n_targets(rp) == 2);
	CHECK(!region_probe_metric(rp, 0, &(double){ 0 }, &(double){ 0 }));
	r.n_regions = 9;
	region_probe_fill_reply(rp, &r);
	CHECK(r.n_regions == 0);			/* nothing known yet */
	self_node.roles = POLICY_ROLE_ACCESS;		/* not an egress: no probes */
	CHECK(region_probe_configure(rp, &pol, 0) == 0 && region_probe_n_targets(rp) == 0);
	CHECK(region_probe_next_event(rp) == 0);
	self_node.roles = POLICY_ROLE_EGRESS;
	region_probe_destroy(rp);
	region_probe_destroy(NULL);
}

/* ---- live, in a namespace of our own ---- */

static bool lo_up(void)
{
	struct ifreq ifr = { 0 };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	bool ok;

	if (fd < 0)
		return false;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	ok = ioctl(fd, SIOCGIFFLAGS, &ifr) == 0;
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	ok = ok && ioctl(fd, SIOCSIFFLAGS, &ifr) == 0;
	close(fd);
	return ok;
}

static bool write_sysctl(const char *path, const char *value)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	bool ok;

	if (fd < 0)
		return false;
	ok = write(fd, value, strlen(value)) == (ssize_t)strlen(value);
	close(fd);
	return ok;
}

static bool enter_netns(void)
{
	if (geteuid() != 0) {
		printf("region_probe: SKIP live probes: not root\n");
		return false;
	}
	if (unshare(CLONE_NEWNET) < 0 || !lo_up()) {
		printf("region_probe: SKIP live probes: no network namespace (%s)\n",
		       strerror(errno));
		return false;
	}
	return true;
}

typedef bool (*until_fn)(const struct region_probe *rp);

/* Runs the probe loop on the real clock until done or the deadline;
 * returns how long it took. */
static monotime_ns run_until(struct region_probe *rp, until_fn done, monotime_ns limit)
{
	monotime_ns start = monotime_now(), now = start;
	struct pollfd pfd[2];
	int fds[2];

	region_probe_fds(rp, fds);
	for (int i = 0; i < 2; i++)
		pfd[i] = (struct pollfd){ .fd = fds[i], .events = POLLIN };
	while (!done(rp) && now - start < limit) {
		monotime_ns next;
		int wait_ms = 0;

		region_probe_tick(rp, now);
		next = region_probe_next_event(rp);
		if (next > now)
			wait_ms = (int)((next - now) / NSEC_PER_MSEC) + 1;
		poll(pfd, 2, wait_ms < 20 ? wait_ms : 20);
		now = monotime_now();
		for (int i = 0; i < 2; i++)
			if (pfd[i].revents & POLLIN)
				region_probe_on_readable(rp, pfd[i].fd, now);
	}
	return now - start;
}

static enum path_state state_of(const struct region_probe *rp, const char *addr)
{
	const struct path_monitor *m = monitor_of(rp, addr);

	return m ? m->state : PATH_STATE__MAX;
}

static const char *us_target = "::1";	/* 127.0.0.4 on a host without IPv6 */

static bool loopbacks_up(const struct region_probe *rp)
{
	return state_of(rp, "127.0.0.1") == PATH_UP && state_of(rp, us_target) == PATH_UP;
}

static bool unroutable_down(const struct region_probe *rp)
{
	return state_of(rp, "198.18.255.254") == PATH_DOWN;
}

static bool v4_down(const struct region_probe *rp)
{
	return state_of(rp, "127.0.0.1") == PATH_DOWN;
}

static bool v4_up(const struct region_probe *rp)
{
	return state_of(rp, "127.0.0.1") == PATH_UP;
}

static void check_reply(const struct region_probe *rp)
{
	struct fabric_probe_reply r;
	uint8_t wire[FABRIC_REPLY_BASE_LEN + 3 * FABRIC_REGION_LEN];

	region_probe_fill_reply(rp, &r);
	CHECK(r.n_regions == 3);
	CHECK(r.regions[0].region_id == 1001 && r.regions[0].rtt_us < 100000);
	CHECK(r.regions[1].region_id == 1002 && r.regions[1].rtt_us < 100000);
	CHECK(r.regions[2].region_id == 1003 && r.regions[2].rtt_us == UINT32_MAX &&
	      r.regions[2].loss_permille == 1000);
	CHECK(fabric_encode_probe_reply(wire, sizeof(wire), &r) == sizeof(wire));
}

static void test_live_loopback(void)
{
	struct region_probe *rp;
	const struct region_probe_counters *ctr;
	double rtt = -1, loss = -1;
	monotime_ns took;
	int fds[2];

	if (!enter_netns())
		return;
	setup(MSECONDS(20));
	set_region(0, "eu", 1001, "127.0.0.1", NULL);
	set_region(2, "xx", 1003, "198.18.255.254", NULL);	/* no route in here */
	pol.n_regions = 3;
	rp = region_probe_create();
	CHECK(rp && region_probe_fds(rp, fds) >= 1 && fds[0] >= 0);
	if (fds[1] < 0) {
		printf("region_probe: no IPv6 socket here: probing 127.0.0.4 for region us\n");
		us_target = "127.0.0.4";
		set_region(1, "us", 1002, us_target, NULL);
	}
	CHECK(region_probe_configure(rp, &pol, 0) == 0 && region_probe_n_targets(rp) == 3);
	took = run_until(rp, loopbacks_up, SECONDS(3));
	CHECK(loopbacks_up(rp));
	CHECK(region_probe_metric(rp, 0, &rtt, &loss) && rtt >= 0 && rtt < 100 && loss == 0);
	printf("region_probe: 127.0.0.1 and %s up in %.0f ms, rtt %.3f ms\n", us_target,
	       (double)took / NSEC_PER_MSEC, rtt);
	CHECK(region_probe_metric(rp, 1, &rtt, &loss) && rtt < 100);
	run_until(rp, unroutable_down, SECONDS(3));
	CHECK(unroutable_down(rp) && !region_probe_metric(rp, 2, &rtt, &loss));
	check_reply(rp);
	ctr = region_probe_counters(rp);
	CHECK(ctr->replies >= 4 && ctr->send_errors >= 3 && ctr->malformed == 0);
	/* 127.0.0.1 stops answering, then answers again. */
	if (write_sysctl("/proc/sys/net/ipv4/icmp_echo_ignore_all", "1")) {
		took = run_until(rp, v4_down, SECONDS(3));
		CHECK(v4_down(rp) && (fds[1] < 0 || state_of(rp, us_target) == PATH_UP));
		CHECK(!region_probe_metric(rp, 0, &rtt, &loss));
		printf("region_probe: silent target down in %.0f ms (3 x 20 ms probes)\n",
		       (double)took / NSEC_PER_MSEC);
		CHECK(took < MSECONDS(500));
		write_sysctl("/proc/sys/net/ipv4/icmp_echo_ignore_all", "0");
		run_until(rp, v4_up, SECONDS(3));
		CHECK(v4_up(rp));
	}
	CHECK(region_probe_configure(rp, &pol, 0) == 0 && loopbacks_up(rp));	/* state kept */
	region_probe_destroy(rp);
}

TEST_MAIN("region_probe",
	  TEST(test_wire),
	  TEST(test_configure_keeps_state),
	  TEST(test_live_loopback))

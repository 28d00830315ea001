/* region_probe: ICMP echo probes from this egress node to the probe
 * targets of every region, one path_monitor per target (region_probe.h
 * has the contract). Targets are kept in policy order, so the targets of
 * one region are consecutive. A target's key, carried in the echo
 * payload, is stable across reloads; the payload also carries a random
 * cookie of this instance, because a raw socket sees every echo reply
 * that reaches the host. */
#include "routing/region_probe.h"

#include <errno.h>
#include <linux/icmp.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/cursor.h"
#include "wg/endpoint.h"

#define ECHO4_REQUEST	8
#define ECHO4_REPLY	0
#define ECHO6_REQUEST	128
#define ECHO6_REPLY	129
#define ICMP_ECHO_HDR_LEN 8
#define ECHO_LEN	(ICMP_ECHO_HDR_LEN + REGION_PROBE_PAYLOAD_LEN)
#define RECV_BUDGET	64	/* datagrams per on_readable call */

enum { FAM4, FAM6, FAMS };

struct probe_target {
	uint32_t key;			/* in the payload; stable across reloads */
	uint32_t region;		/* index in the current policy */
	uint32_t region_id;		/* its name id: what "unchanged" means */
	struct ip_addr addr;
	struct path_monitor mon;
};

struct region_probe {
	int fd[FAMS];
	bool raw[FAMS];
	uint16_t ident[FAMS];		/* echo id: ours (raw) or the kernel's (ping) */
	uint32_t cookie;
	uint32_t next_key;
	struct probe_target *targets;
	size_t n_targets;
	struct region_probe_counters ctr;
};

static int fam_index(int family)
{
	return family == AF_INET6 ? FAM6 : FAM4;
}

/* ---- the wire ---- */

/* RFC 1071 over an even or odd number of bytes, read through a cursor. */
static uint16_t inet_checksum(const uint8_t *buf, size_t len)
{
	struct cursor c = cursor_init(buf, len);
	uint32_t sum = 0;
	uint16_t word;
	uint8_t last;

	while (rd_u16be(&c, &word))
		sum += word;
	c.ok = true;
	if (rd_u8(&c, &last))
		sum += (uint32_t)last << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static bool wr_u8(struct wcursor *w, uint8_t v)
{
	return wr_bytes(w, &v, 1);
}

static bool wr_u16be(struct wcursor *w, uint16_t v)
{
	const uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };

	return wr_bytes(w, b, 2);
}

size_t region_probe_build_echo(uint8_t *out, size_t cap, int family,
			       const struct region_echo *e)
{
	struct wcursor w = wcursor_init(out, cap);
	uint16_t sum;

	wr_u8(&w, family == AF_INET6 ? ECHO6_REQUEST : ECHO4_REQUEST);
	wr_u8(&w, 0);
	wr_u16be(&w, 0);		/* checksum, below */
	wr_u16be(&w, e->id);
	wr_u16be(&w, e->seq);
	wr_u32be(&w, e->cookie);
	wr_u32be(&w, e->key);
	wr_u32be(&w, e->seq32);
	wr_u32be(&w, 0);
	if (!w.ok)
		return 0;
	if (family != AF_INET6) {	/* the kernel sums ICMPv6 (pseudo-header) */
		sum = inet_checksum(out, ECHO_LEN);
		out[2] = (uint8_t)(sum >> 8);
		out[3] = (uint8_t)sum;
	}
	return ECHO_LEN;
}

/* A raw IPv4 socket delivers the IP header; its length is checked
 * against what arrived and its options skipped through the cursor. */
static bool skip_ipv4_header(struct cursor *c, size_t len)
{
	uint8_t vihl = 0, proto = 0;
	uint16_t total = 0;

	rd_u8(c, &vihl);
	rd_skip(c, 1);
	rd_u16be(c, &total);
	rd_skip(c, 5);			/* id, fragment, ttl */
	rd_u8(c, &proto);
	rd_skip(c, 10);			/* checksum, source, destination */
	if (!c->ok || vihl >> 4 != 4 || (vihl & 0xf) < 5 || proto != IPPROTO_ICMP ||
	    total != len)
		return false;
	return rd_skip(c, ((size_t)(vihl & 0xf) - 5) * 4);
}

bool region_probe_parse_reply(const uint8_t *buf, size_t len, int family, bool ip_header,
			      struct region_echo *out)
{
	struct cursor c = cursor_init(buf, len);
	struct region_echo e = { 0 };
	uint8_t type = 0, code = 0;
	uint32_t zero = 0;
	const uint8_t *icmp;
	size_t icmp_len;

	if (ip_header && (family != AF_INET || !skip_ipv4_header(&c, len)))
		return false;
	icmp = c.p;
	icmp_len = c.left;
	rd_u8(&c, &type);
	rd_u8(&c, &code);
	rd_skip(&c, 2);			/* checksum */
	rd_u16be(&c, &e.id);
	rd_u16be(&c, &e.seq);
	rd_u32be(&c, &e.cookie);
	rd_u32be(&c, &e.key);
	rd_u32be(&c, &e.seq32);
	rd_u32be(&c, &zero);
	if (!c.ok || c.left || code || zero ||
	    type != (family == AF_INET6 ? ECHO6_REPLY : ECHO4_REPLY))
		return false;
	if (family != AF_INET6 && inet_checksum(icmp, icmp_len) != 0)
		return false;
	*out = e;
	return true;
}

/* ---- sockets ---- */

/* Raw sockets see every ICMP message: the kernel passes echo replies only. */
static void filter_echo_replies(int fd, int family)
{
	if (family == AF_INET) {
		struct icmp_filter f = { .data = ~(1u << ECHO4_REPLY) };

		setsockopt(fd, SOL_RAW, ICMP_FILTER, &f, sizeof(f));
	} else {
		struct icmp6_filter f;

		ICMP6_FILTER_SETBLOCKALL(&f);
		ICMP6_FILTER_SETPASS(ECHO6_REPLY, &f);
		setsockopt(fd, IPPROTO_ICMPV6, ICMP6_FILTER, &f, sizeof(f));
	}
}

/* A ping socket's echo id is its local "port", chosen by the kernel at
 * bind. */
static bool ping_socket_ident(int fd, int family, uint16_t *ident)
{
	union wg_sockaddr a = { 0 };
	socklen_t len = sizeof(a);

	a.sa.sa_family = (sa_family_t)family;
	if (bind(fd, &a.sa, wg_sockaddr_len(&a)) < 0 || getsockname(fd, &a.sa, &len) < 0)
		return false;
	*ident = ntohs(family == AF_INET6 ? a.in6.sin6_port : a.in.sin_port);
	return true;
}

static void open_family(struct region_probe *rp, int family, uint16_t random_ident)
{
	int f = fam_index(family), proto = family == AF_INET6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP;
	int fd = socket(family, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, proto);

	if (fd >= 0) {
		filter_echo_replies(fd, family);
		rp->raw[f] = true;
		rp->ident[f] = random_ident;
		rp->fd[f] = fd;
		return;
	}
	fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, proto);
	if (fd >= 0 && !ping_socket_ident(fd, family, &rp->ident[f])) {
		close(fd);
		fd = -1;
	}
	rp->fd[f] = fd;
}

struct region_probe *region_probe_create(void)
{
	struct region_probe *rp = calloc(1, sizeof(*rp));
	uint32_t rnd[2] = { 0 };

	if (!rp)
		return NULL;
	/* Unpredictable, so another host's echo replies cannot pass for ours. */
	if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd)) {
		rnd[0] = (uint32_t)getpid() * 2654435761u;
		rnd[1] = (uint32_t)(uintptr_t)rp;
	}
	rp->cookie = rnd[0];
	rp->next_key = rnd[1];
	open_family(rp, AF_INET, (uint16_t)(rnd[1] >> 16));
	open_family(rp, AF_INET6, (uint16_t)(rnd[1] >> 16));
	return rp;
}

void region_probe_destroy(struct region_probe *rp)
{
	if (!rp)
		return;
	for (int f = 0; f < FAMS; f++)
		if (rp->fd[f] >= 0)
			close(rp->fd[f]);
	free(rp->targets);
	free(rp);
}

int region_probe_fds(const struct region_probe *rp, int fds[2])
{
	fds[0] = rp->fd[FAM4];
	fds[1] = rp->fd[FAM6];
	return (fds[0] >= 0) + (fds[1] >= 0);
}

/* ---- configuration ---- */

static struct policy_probe_settings region_settings(const struct policy *p)
{
	struct policy_probe_settings s = p->probe;

	s.interval = s.region_interval ? s.region_interval : SECONDS(1);
	return s;
}

static const struct probe_target *find_target(const struct probe_target *list, size_t n,
					      uint32_t region_id, const struct ip_addr *addr)
{
	for (size_t i = 0; i < n; i++)
		if (list[i].region_id == region_id && ip_addr_equal(&list[i].addr, addr))
			return &list[i];
	return NULL;
}

static size_t count_targets(const struct policy *p)
{
	size_t n = 0;

	for (size_t r = 0; r < p->n_regions; r++)
		n += p->regions[r].n_probe_targets;
	return n;
}

/* One target of the new list: the old monitor if the target is unchanged,
 * else a fresh one, probed at the first tick. */
static void place_target(struct region_probe *rp, struct probe_target *t, uint32_t region,
			 const struct policy *p, const struct ip_addr *addr,
			 const struct policy_probe_settings *cfg)
{
	const struct probe_target *old = find_target(rp->targets, rp->n_targets,
						     p->regions[region].id, addr);

	if (old) {
		*t = *old;
		path_monitor_reconfigure(&t->mon, cfg);
	} else {
		memset(t, 0, sizeof(*t));
		t->key = rp->next_key++;
		t->region_id = p->regions[region].id;
		t->addr = *addr;
		path_monitor_init(&t->mon, cfg, 0);
	}
	t->region = region;
}

int region_probe_configure(struct region_probe *rp, const struct policy *p, uint32_t self)
{
	struct policy_probe_settings cfg = region_settings(p);
	bool probing = self == POLICY_NONE ||
		       (self < p->n_nodes && (p->nodes[self].roles & POLICY_ROLE_EGRESS));
	size_t cap = probing ? count_targets(p) : 0, n = 0;
	struct probe_target *list = cap ? calloc(cap, sizeof(*list)) : NULL;

	if (cap && !list)
		return -ENOMEM;
	for (uint32_t r = 0; r < p->n_regions && cap; r++) {
		const struct policy_region *reg = &p->regions[r];

		for (size_t i = 0; i < reg->n_probe_targets; i++) {
			const struct ip_addr *a = &reg->probe_targets[i];

			if ((a->family != AF_INET && a->family != AF_INET6) ||
			    find_target(list, n, reg->id, a))
				continue;
			place_target(rp, &list[n++], r, p, a, &cfg);
		}
	}
	free(rp->targets);
	rp->targets = list;
	rp->n_targets = n;
	return 0;
}

/* ---- probing ---- */

static void target_sockaddr(const struct probe_target *t, union wg_sockaddr *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sa.sa_family = t->addr.family;
	if (t->addr.family == AF_INET6)
		memcpy(&sa->in6.sin6_addr, t->addr.a, 16);
	else
		memcpy(&sa->in.sin_addr, t->addr.a, 4);
}

/* A probe that cannot leave (no socket, no route) is lost like any other:
 * that is what the region's state should say. */
static void send_probe(struct region_probe *rp, struct probe_target *t, monotime_ns now)
{
	int f = fam_index(t->addr.family);
	struct region_echo e = { .id = rp->ident[f], .cookie = rp->cookie, .key = t->key };
	uint8_t pkt[ECHO_LEN];
	union wg_sockaddr sa;
	size_t len;

	e.seq32 = path_monitor_probe_sent(&t->mon, now);
	e.seq = (uint16_t)e.seq32;
	len = region_probe_build_echo(pkt, sizeof(pkt), t->addr.family, &e);
	target_sockaddr(t, &sa);
	if (rp->fd[f] < 0 ||
	    sendto(rp->fd[f], pkt, len, MSG_DONTWAIT, &sa.sa, wg_sockaddr_len(&sa)) < 0) {
		rp->ctr.send_errors++;
		return;
	}
	rp->ctr.sent++;
}

void region_probe_tick(struct region_probe *rp, monotime_ns now)
{
	for (size_t i = 0; i < rp->n_targets; i++) {
		struct probe_target *t = &rp->targets[i];

		if (path_monitor_probe_due(&t->mon, now))
			send_probe(rp, t, now);
		path_monitor_tick(&t->mon, now);
	}
}

monotime_ns region_probe_next_event(const struct region_probe *rp)
{
	monotime_ns next = 0;

	for (size_t i = 0; i < rp->n_targets; i++) {
		monotime_ns e = path_monitor_next_event(&rp->targets[i].mon);

		if (!next || e < next)
			next = e;
	}
	return next;
}

static bool from_target(const struct probe_target *t, const union wg_sockaddr *from)
{
	if (from->sa.sa_family != t->addr.family)
		return false;
	if (t->addr.family == AF_INET6)
		return !memcmp(&from->in6.sin6_addr, t->addr.a, 16);
	return !memcmp(&from->in.sin_addr, t->addr.a, 4);
}

static struct probe_target *target_by_key(struct region_probe *rp, uint32_t key)
{
	for (size_t i = 0; i < rp->n_targets; i++)
		if (rp->targets[i].key == key)
			return &rp->targets[i];
	return NULL;
}

static void on_datagram(struct region_probe *rp, int f, const uint8_t *buf, size_t len,
			const union wg_sockaddr *from, monotime_ns now)
{
	int family = f == FAM6 ? AF_INET6 : AF_INET;
	struct probe_target *t;
	struct region_echo e;

	if (!region_probe_parse_reply(buf, len, family, rp->raw[f] && f == FAM4, &e)) {
		rp->ctr.malformed++;
		return;
	}
	t = target_by_key(rp, e.key);
	if (e.id != rp->ident[f] || e.cookie != rp->cookie || !t || !from_target(t, from) ||
	    e.seq != (uint16_t)e.seq32) {
		rp->ctr.not_ours++;
		return;
	}
	if (!path_monitor_reply(&t->mon, e.seq32, now)) {
		rp->ctr.stale++;
		return;
	}
	rp->ctr.replies++;
	path_monitor_tick(&t->mon, now);
}

void region_probe_on_readable(struct region_probe *rp, int fd, monotime_ns now)
{
	int f = fd >= 0 && fd == rp->fd[FAM4] ? FAM4 : fd >= 0 && fd == rp->fd[FAM6] ? FAM6 : -1;
	uint8_t buf[2048];

	if (f < 0)
		return;
	for (int i = 0; i < RECV_BUDGET; i++) {
		union wg_sockaddr from = { 0 };
		socklen_t flen = sizeof(from);
		ssize_t n = recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT, &from.sa, &flen);

		if (n < 0)
			break;
		on_datagram(rp, f, buf, (size_t)n, &from, now);
	}
}

/* ---- what the region looks like ---- */

/* The best usable target of a region: UP before DEGRADED, then the
 * lowest srtt. */
static const struct probe_target *best_of_region(const struct region_probe *rp, uint32_t region)
{
	const struct probe_target *best = NULL;

	for (size_t i = 0; i < rp->n_targets; i++) {
		const struct probe_target *t = &rp->targets[i];

		if (t->region != region || !path_usable(t->mon.state))
			continue;
		if (!best || (t->mon.state == PATH_UP && best->mon.state != PATH_UP) ||
		    (t->mon.state == best->mon.state && t->mon.m.srtt_ms < best->mon.m.srtt_ms))
			best = t;
	}
	return best;
}

bool region_probe_metric(const struct region_probe *rp, uint32_t region,
			 double *rtt_ms, double *loss_pct)
{
	const struct probe_target *t = best_of_region(rp, region);

	if (!t)
		return false;
	*rtt_ms = t->mon.m.srtt_ms;
	*loss_pct = t->mon.m.loss_pct;
	return true;
}

static bool region_down(const struct region_probe *rp, uint32_t region)
{
	bool any = false;

	for (size_t i = 0; i < rp->n_targets; i++) {
		if (rp->targets[i].region != region)
			continue;
		if (rp->targets[i].mon.state != PATH_DOWN)
			return false;
		any = true;
	}
	return any;
}

static struct fabric_region_metric region_entry(const struct probe_target *best,
						uint32_t region_id)
{
	struct fabric_region_metric m = { .region_id = region_id, .rtt_us = UINT32_MAX,
					  .loss_permille = 1000 };
	double us, permille;

	if (best) {
		us = best->mon.m.srtt_ms * 1000 + 0.5;
		permille = best->mon.m.loss_pct * 10 + 0.5;
		m.rtt_us = us < UINT32_MAX - 1 ? (uint32_t)us : UINT32_MAX - 1;
		m.loss_permille = permille < 1000 ? (uint16_t)permille : 1000;
	}
	return m;
}

void region_probe_fill_reply(const struct region_probe *rp, struct fabric_probe_reply *r)
{
	uint32_t last = POLICY_NONE;

	r->n_regions = 0;
	for (size_t i = 0; i < rp->n_targets && r->n_regions < FABRIC_MAX_REGIONS; i++) {
		const struct probe_target *t = &rp->targets[i], *best;

		if (t->region == last)		/* targets of a region are consecutive */
			continue;
		last = t->region;
		best = best_of_region(rp, t->region);
		if (best || region_down(rp, t->region))
			r->regions[r->n_regions++] = region_entry(best, t->region_id);
	}
}

size_t region_probe_n_targets(const struct region_probe *rp)
{
	return rp->n_targets;
}

bool region_probe_target(const struct region_probe *rp, size_t i, struct ip_addr *addr,
			 uint32_t *region, const struct path_monitor **mon)
{
	if (i >= rp->n_targets)
		return false;
	*addr = rp->targets[i].addr;
	*region = rp->targets[i].region;
	*mon = &rp->targets[i].mon;
	return true;
}

const struct region_probe_counters *region_probe_counters(const struct region_probe *rp)
{
	return &rp->ctr;
}

/* udp_stream: a fixed-rate stream of numbered, timestamped UDP datagrams,
 * and its receiver, to measure loss, reordering and outages (failover
 * time) across the fabric.
 *
 *   udp_stream send --to ADDR:PORT --rate PPS --duration S [--bind ADDR[:PORT]]
 *                   [--size BYTES] [--linger MS]
 *   udp_stream recv --listen ADDR:PORT --duration S [--echo]
 *
 * Both print one line of key=value at the end: received, lost, max_gap_ms
 * (the longest time between two consecutive received datagrams: an outage
 * shows as that), max_gap_at_ms (when that gap began, from the start),
 * reordered (arrived after a higher number), duplicates, first_seq,
 * last_seq. `recv` counts the first stream it sees (other=N counts
 * datagrams of any other); lost = last_seq + 1 - received, since numbers
 * start at 0. With --echo it sends every datagram back from the address it
 * came to, so the sender may sit behind NAT, and `send` then reports the
 * echoed stream: sent, lost = sent - received, and the round-trip times
 * (rtt_min_ms, rtt_avg_ms, rtt_max_ms). Everything is bounded: at most
 * MAX_SEQ datagrams, MAX_SECONDS of run time; SIGTERM/SIGINT end a run
 * early and still print the line.
 *
 * Datagram (big endian): magic "EGUS", stream id, sequence number, flags
 * (0), send time in ns of the sender's monotonic clock; padding to --size. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/cursor.h"
#include "common/monotime.h"
#include "wg/endpoint.h"

#define STREAM_MAGIC	0x45475553u	/* "EGUS" */
#define HDR_LEN		24
#define MAX_SIZE	8192
#define MAX_SEQ		(1u << 24)	/* bitmap of 2 MiB */
#define MAX_RATE	100000
#define MAX_SECONDS	3600
#define MAX_LINGER_MS	10000
#define RX_BUDGET	64

struct hdr {
	uint32_t stream, seq;
	monotime_ns sent_at;
};

struct seq_stats {
	uint8_t *seen;			/* one bit per sequence number */
	uint64_t received, duplicates, reordered, other;
	uint32_t first, last;
	bool any;
	monotime_ns start, last_rx, max_gap, max_gap_at;
	uint64_t rtt_min, rtt_max, rtt_sum;
};

struct opts {
	union wg_sockaddr addr, bind;
	bool has_bind, echo;
	double rate, duration;
	unsigned size, linger_ms;
};

static volatile sig_atomic_t stop;
static int tos = -1;		/* --tos: IP TOS / traffic class byte (DSCP << 2) */

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* ------------------------------------------------------------ wire format */

static size_t hdr_write(uint8_t *buf, size_t cap, const struct hdr *h)
{
	struct wcursor w = wcursor_init(buf, cap);

	wr_u32be(&w, STREAM_MAGIC);
	wr_u32be(&w, h->stream);
	wr_u32be(&w, h->seq);
	wr_u32be(&w, 0);
	wr_u32be(&w, (uint32_t)(h->sent_at >> 32));
	wr_u32be(&w, (uint32_t)h->sent_at);
	return w.ok ? HDR_LEN : 0;
}

static bool hdr_read(const uint8_t *buf, size_t len, struct hdr *h)
{
	struct cursor c = cursor_init(buf, len);
	uint32_t magic = 0, flags, hi = 0, lo = 0;

	rd_u32be(&c, &magic);
	rd_u32be(&c, &h->stream);
	rd_u32be(&c, &h->seq);
	rd_u32be(&c, &flags);
	rd_u32be(&c, &hi);
	rd_u32be(&c, &lo);
	h->sent_at = (monotime_ns)hi << 32 | lo;
	return c.ok && magic == STREAM_MAGIC && h->seq < MAX_SEQ;
}

/* ------------------------------------------------------------ accounting */

static bool stats_init(struct seq_stats *s, monotime_ns now)
{
	memset(s, 0, sizeof(*s));
	s->seen = calloc(MAX_SEQ / 8, 1);
	s->start = now;
	s->rtt_min = UINT64_MAX;
	return s->seen != NULL;
}

static void stats_gap(struct seq_stats *s, monotime_ns now)
{
	if (s->received && now - s->last_rx > s->max_gap) {
		s->max_gap = now - s->last_rx;
		s->max_gap_at = s->last_rx - s->start;
	}
	s->last_rx = now;
}

/* One datagram of the stream counted. */
static void stats_add(struct seq_stats *s, uint32_t seq, monotime_ns now)
{
	uint8_t bit = (uint8_t)(1u << (seq & 7));

	if (s->seen[seq >> 3] & bit) {
		s->duplicates++;
		return;
	}
	s->seen[seq >> 3] |= bit;
	stats_gap(s, now);
	if (s->any && seq < s->last)
		s->reordered++;
	if (!s->any || seq < s->first)
		s->first = seq;
	if (!s->any || seq > s->last)
		s->last = seq;
	s->any = true;
	s->received++;
}

static void stats_rtt(struct seq_stats *s, const struct hdr *h, monotime_ns now)
{
	uint64_t rtt = now >= h->sent_at ? now - h->sent_at : 0;

	if (rtt < s->rtt_min)
		s->rtt_min = rtt;
	if (rtt > s->rtt_max)
		s->rtt_max = rtt;
	s->rtt_sum += rtt;
}

static double ms(uint64_t ns)
{
	return (double)ns / 1e6;
}

/* The common part of the result line. */
static void stats_print(const struct seq_stats *s, uint64_t lost)
{
	printf("received=%" PRIu64 " lost=%" PRIu64 " max_gap_ms=%.3f max_gap_at_ms=%.3f"
	       " reordered=%" PRIu64 " duplicates=%" PRIu64 " first_seq=%ld last_seq=%ld",
	       s->received, lost, ms(s->max_gap), ms(s->max_gap_at), s->reordered,
	       s->duplicates, s->any ? (long)s->first : -1L, s->any ? (long)s->last : -1L);
}

/* ------------------------------------------------------------ sockets */

static int sock_open(const union wg_sockaddr *local, bool want_pktinfo)
{
	int fd, one = 1, buf = 4 << 20;
	int level = local->sa.sa_family == AF_INET6 ? IPPROTO_IPV6 : IPPROTO_IP;
	int opt = local->sa.sa_family == AF_INET6 ? IPV6_RECVPKTINFO : IP_PKTINFO;

	fd = socket(local->sa.sa_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (local->sa.sa_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof(buf));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &buf, sizeof(buf));
	if (tos >= 0)
		setsockopt(fd, level, local->sa.sa_family == AF_INET6 ? IPV6_TCLASS : IP_TOS,
			   &tos, sizeof(tos));
	if ((want_pktinfo && setsockopt(fd, level, opt, &one, sizeof(one)) < 0) ||
	    bind(fd, &local->sa, wg_sockaddr_len(local)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Waits for input until deadline (or a signal); true when readable. */
static bool wait_input(int fd, monotime_ns deadline)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	monotime_ns now = monotime_now(), left;
	struct timespec ts;

	left = deadline > now ? deadline - now : 0;
	ts.tv_sec = (time_t)(left / NSEC_PER_SEC);
	ts.tv_nsec = (long)(left % NSEC_PER_SEC);
	return ppoll(&pfd, 1, &ts, NULL) == 1;
}

/* ------------------------------------------------------------ send */

static void send_rx(int fd, struct seq_stats *s, uint32_t stream)
{
	uint8_t buf[MAX_SIZE];
	struct hdr h;
	monotime_ns now;
	ssize_t n;
	int i;

	for (i = 0; i < RX_BUDGET; i++) {
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0)
			return;
		now = monotime_now();
		if (!hdr_read(buf, (size_t)n, &h) || h.stream != stream) {
			s->other++;
			continue;
		}
		if (!(s->seen[h.seq >> 3] & (1u << (h.seq & 7))))
			stats_rtt(s, &h, now);
		stats_add(s, h.seq, now);
	}
}

static void send_one(int fd, const struct opts *o, uint32_t stream, uint32_t seq,
		     uint64_t *errors)
{
	static uint8_t buf[MAX_SIZE];
	struct hdr h = { .stream = stream, .seq = seq, .sent_at = monotime_now() };

	hdr_write(buf, sizeof(buf), &h);
	if (sendto(fd, buf, o->size, 0, &o->addr.sa, wg_sockaddr_len(&o->addr)) < 0)
		(*errors)++;
}

static union wg_sockaddr any_of(int family)
{
	union wg_sockaddr a;

	memset(&a, 0, sizeof(a));
	a.sa.sa_family = (sa_family_t)family;
	return a;
}

static int run_send(const struct opts *o)
{
	union wg_sockaddr local = o->has_bind ? o->bind : any_of(o->addr.sa.sa_family);
	uint64_t count = (uint64_t)(o->rate * o->duration), sent = 0, errors = 0;
	uint32_t stream;
	struct seq_stats s;
	monotime_ns next, end = 0;
	int fd = sock_open(&local, false);

	if (fd < 0 || !stats_init(&s, monotime_now())) {
		perror("udp_stream send");
		return 1;
	}
	stream = (uint32_t)(s.start ^ (s.start >> 32) ^ (uint64_t)getpid() << 16);
	next = s.start;
	while (!stop && (sent < count || monotime_now() < end)) {
		while (sent < count && monotime_now() >= next) {
			send_one(fd, o, stream, (uint32_t)sent++, &errors);
			next = s.start + (monotime_ns)((double)sent * 1e9 / o->rate);
			end = monotime_now() + MSECONDS(o->linger_ms);
		}
		if (wait_input(fd, sent < count ? next : end))
			send_rx(fd, &s, stream);
	}
	printf("sent=%" PRIu64 " ", sent);
	stats_print(&s, sent - s.received);
	printf(" send_errors=%" PRIu64 " rtt_min_ms=%.3f rtt_avg_ms=%.3f rtt_max_ms=%.3f\n",
	       errors, s.received ? ms(s.rtt_min) : 0.0,
	       s.received ? ms(s.rtt_sum) / (double)s.received : 0.0, ms(s.rtt_max));
	free(s.seen);
	close(fd);
	return 0;
}

/* ------------------------------------------------------------ recv */

/* Sends buf back to from, from the local address it arrived at (its
 * pktinfo control message, reused as is), so NAT on the way matches. */
static void echo_back(int fd, struct msghdr *in, size_t len)
{
	struct iovec iov = { .iov_base = in->msg_iov->iov_base, .iov_len = len };
	struct msghdr out = {
		.msg_name = in->msg_name, .msg_namelen = in->msg_namelen,
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = in->msg_controllen ? in->msg_control : NULL,
		.msg_controllen = in->msg_controllen,
	};
	struct cmsghdr *cm;

	for (cm = CMSG_FIRSTHDR(&out); cm; cm = CMSG_NXTHDR(&out, cm))
		if (cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo *pi = (struct in_pktinfo *)CMSG_DATA(cm);

			pi->ipi_spec_dst = pi->ipi_addr;
			pi->ipi_ifindex = 0;
		}
	sendmsg(fd, &out, MSG_DONTWAIT);
}

static void recv_one(int fd, struct seq_stats *s, uint32_t *stream, bool echo)
{
	static uint8_t buf[MAX_SIZE];
	union { struct cmsghdr align; uint8_t b[256]; } ctl;
	union wg_sockaddr from;
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
	struct msghdr m = { .msg_name = &from, .msg_namelen = sizeof(from),
			    .msg_iov = &iov, .msg_iovlen = 1,
			    .msg_control = ctl.b, .msg_controllen = sizeof(ctl.b) };
	struct hdr h;
	ssize_t n = recvmsg(fd, &m, MSG_DONTWAIT);

	if (n < 0)
		return;
	if (!hdr_read(buf, (size_t)n, &h) || (s->any && h.stream != *stream)) {
		s->other++;
	} else {
		*stream = h.stream;
		stats_add(s, h.seq, monotime_now());
	}
	if (echo)
		echo_back(fd, &m, (size_t)n);
}

static int run_recv(const struct opts *o)
{
	struct seq_stats s;
	uint32_t stream = 0;
	monotime_ns end;
	int fd = sock_open(&o->addr, o->echo), i;

	if (fd < 0 || !stats_init(&s, monotime_now())) {
		perror("udp_stream recv");
		return 1;
	}
	end = s.start + (monotime_ns)(o->duration * 1e9);
	while (!stop && monotime_now() < end)
		if (wait_input(fd, end))
			for (i = 0; i < RX_BUDGET; i++)
				recv_one(fd, &s, &stream, o->echo);
	stats_print(&s, s.any ? (uint64_t)s.last + 1 - s.received : 0);
	printf(" other=%" PRIu64 "\n", s.other);
	free(s.seen);
	close(fd);
	return 0;
}

/* ------------------------------------------------------------ options */

static void usage(void)
{
	fprintf(stderr,
		"usage: udp_stream send --to ADDR:PORT --rate PPS --duration S\n"
		"                       [--bind ADDR[:PORT]] [--size BYTES] [--linger MS] [--tos N]\n"
		"       udp_stream recv --listen ADDR:PORT --duration S [--echo]\n");
	exit(2);
}

static double opt_num(const char *name, const char *arg, double lo, double hi)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(arg, &end);
	if (errno || end == arg || *end || !(v >= lo && v <= hi)) {
		fprintf(stderr, "udp_stream: --%s: want a number in [%g, %g]\n", name, lo, hi);
		exit(2);
	}
	return v;
}

/* ADDR:PORT, [ADDR6]:PORT, or (for --bind) a bare address with port 0. */
static union wg_sockaddr opt_addr(const char *name, const char *arg, bool bare_ok)
{
	union wg_sockaddr a;
	char text[80];

	if (wg_sockaddr_parse(arg, &a))
		return a;
	snprintf(text, sizeof(text), strchr(arg, ':') ? "[%s]:0" : "%s:0", arg);
	if (bare_ok && wg_sockaddr_parse(text, &a))
		return a;
	fprintf(stderr, "udp_stream: --%s: want ADDR:PORT or [ADDR6]:PORT\n", name);
	exit(2);
}

static void opt_one(struct opts *o, int c, const char *arg)
{
	switch (c) {
	case 't':
	case 'l':
		o->addr = opt_addr(c == 't' ? "to" : "listen", arg, false);
		break;
	case 'b':
		o->bind = opt_addr("bind", arg, true);
		o->has_bind = true;
		break;
	case 'r':
		o->rate = opt_num("rate", arg, 0.1, MAX_RATE);
		break;
	case 'd':
		o->duration = opt_num("duration", arg, 0.001, MAX_SECONDS);
		break;
	case 's':
		o->size = (unsigned)opt_num("size", arg, HDR_LEN, MAX_SIZE);
		break;
	case 'g':
		o->linger_ms = (unsigned)opt_num("linger", arg, 0, MAX_LINGER_MS);
		break;
	case 'e':
		o->echo = true;
		break;
	case 'T':
		tos = atoi(arg) & 0xff;
		break;
	default:
		usage();
	}
}

static void parse_options(struct opts *o, bool sender, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "to", 1, NULL, 't' }, { "listen", 1, NULL, 'l' },
		{ "bind", 1, NULL, 'b' }, { "rate", 1, NULL, 'r' },
		{ "duration", 1, NULL, 'd' }, { "size", 1, NULL, 's' },
		{ "linger", 1, NULL, 'g' }, { "echo", 0, NULL, 'e' }, { "tos", 1, NULL, 'T' },
		{ NULL, 0, NULL, 0 }
	};
	int c;

	*o = (struct opts){ .size = 64, .linger_ms = 1000 };
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1)
		opt_one(o, c, optarg);
	if (optind != argc || !o->addr.sa.sa_family || o->duration <= 0 ||
	    (sender && (o->rate <= 0 || o->rate * o->duration > MAX_SEQ)) ||
	    (sender && o->echo) || (!sender && (o->rate > 0 || o->has_bind)))
		usage();
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct opts o;
	bool sender;

	if (argc < 2 || (strcmp(argv[1], "send") && strcmp(argv[1], "recv")))
		usage();
	sender = !strcmp(argv[1], "send");
	parse_options(&o, sender, argc - 1, argv + 1);
	/* No SA_RESTART: a signal ends the wait and the run, not the line. */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	setvbuf(stdout, NULL, _IOLBF, 0);
	return sender ? run_send(&o) : run_recv(&o);
}

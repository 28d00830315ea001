/* impair: a UDP impairment relay, one process per impaired link. This
 * kernel has no netem, so the fabric tests put one of these between two
 * underlay addresses: it delays, jitters and drops datagrams in both
 * directions, and a control socket changes all of it while traffic flows.
 *
 *   impair --listen ADDR:PORT --to ADDR:PORT [--delay MS] [--jitter MS]
 *          [--loss PCT] [--seed N] [--control PATH] [--queue N]
 *   impair ctl PATH COMMAND...        (one control command, prints the reply)
 *
 * Each client (source address:port at --listen) gets its own upstream
 * socket connected to --to, so replies find their way back and several
 * flows cross one relay. "up" is client -> --to, "down" the way back.
 * A packet leaves at arrival + delay + uniform(-jitter, +jitter), never
 * before it came; without jitter each direction keeps its order (as netem
 * does), even across a live change of the delay. Loss is independent per
 * packet. Control commands, one a line: delay MS, jitter MS, loss PCT,
 * blackhole on|off, stats, show. One thread: epoll, an absolute timerfd
 * armed for the earliest packet, a signalfd for SIGTERM/SIGINT. Memory is
 * bounded: at most --queue packets and QUEUE_BYTES bytes wait (more are
 * dropped and counted) and MAX_CLIENTS clients (the least recently seen is
 * evicted; its waiting packets are dropped when due). */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/monotime.h"
#include "wg/endpoint.h"

#define MAX_CLIENTS	256
#define HASH_BUCKETS	512
#define MAX_CONNS	8		/* control connections at once */
#define CTL_LINE	256
#define QUEUE_DEFAULT	16384
#define QUEUE_MAX	262144
#define QUEUE_BYTES	(64u << 20)	/* bytes waiting, all directions */
#define MAX_DGRAM	65535
#define RX_BUDGET	64		/* datagrams per socket per wake-up */
#define SOCK_BUF	(4 << 20)
#define MAX_DELAY_MS	60000.0

enum dir { DIR_UP, DIR_DOWN, DIR_MAX };
static const char *const dir_name[DIR_MAX] = { "up", "down" };

/* epoll tags: the upper 32 bits say what, the lower which one. */
enum tag { TAG_LISTEN = 1, TAG_TIMER, TAG_SIGNAL, TAG_CTL, TAG_CONN, TAG_UP };
#define EV(tag, i)	((uint64_t)(tag) << 32 | (uint32_t)(i))

struct dir_stats {
	uint64_t rx, fwd, loss, blackhole, queue_full, send_err, stale;
};

struct client {
	union wg_sockaddr addr;
	int fd;				/* connected to --to; -1 = free slot */
	uint32_t gen;			/* bumped on reuse: stale packets die */
	monotime_ns last_seen;
	int next;			/* hash chain, -1 = end */
};

struct packet {
	monotime_ns release;
	uint64_t order;			/* arrival order breaks ties */
	uint32_t client, gen;
	uint8_t dir;
	size_t len;
	uint8_t data[];
};

struct ctl_conn {
	int fd;				/* -1 = free */
	size_t len;
	char buf[CTL_LINE];
};

struct relay {
	int epfd, listen_fd, timer_fd, signal_fd, ctl_fd;
	const char *ctl_path;
	union wg_sockaddr listen, to;
	monotime_ns delay, jitter;
	double loss;			/* percent */
	bool blackhole, stop;
	uint64_t rng, order;
	monotime_ns armed, last_release[DIR_MAX];
	struct dir_stats st[DIR_MAX];
	struct client clients[MAX_CLIENTS];
	int buckets[HASH_BUCKETS];
	unsigned nclients;
	struct packet **heap;
	size_t nheap, max_queue, queued_bytes;
	struct ctl_conn conns[MAX_CONNS];
};

static uint8_t rxbuf[MAX_DGRAM];

/* ------------------------------------------------------------ random */

/* splitmix64: tiny, seedable, good enough for loss and jitter. */
static uint64_t rng_next(struct relay *r)
{
	uint64_t z = (r->rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* A uniform double in [0, 100). */
static double rng_percent(struct relay *r)
{
	return (double)(rng_next(r) >> 11) * (100.0 / 9007199254740992.0);
}

/* ------------------------------------------------------------ the queue */

static bool pkt_before(const struct packet *a, const struct packet *b)
{
	return a->release < b->release ||
	       (a->release == b->release && a->order < b->order);
}

static void heap_swap(struct relay *r, size_t i, size_t j)
{
	struct packet *t = r->heap[i];

	r->heap[i] = r->heap[j];
	r->heap[j] = t;
}

static void heap_push(struct relay *r, struct packet *p)
{
	size_t i = r->nheap++;

	r->heap[i] = p;
	while (i > 0 && pkt_before(r->heap[i], r->heap[(i - 1) / 2])) {
		heap_swap(r, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

static struct packet *heap_pop(struct relay *r)
{
	struct packet *top = r->heap[0];
	size_t i = 0, c;

	r->heap[0] = r->heap[--r->nheap];
	for (;;) {
		c = 2 * i + 1;
		if (c >= r->nheap)
			break;
		if (c + 1 < r->nheap && pkt_before(r->heap[c + 1], r->heap[c]))
			c++;
		if (!pkt_before(r->heap[c], r->heap[i]))
			break;
		heap_swap(r, i, c);
		i = c;
	}
	return top;
}

/* ------------------------------------------------------------ clients */

static unsigned client_hash(const union wg_sockaddr *a)
{
	const uint8_t *p = (const uint8_t *)a;
	size_t n = wg_sockaddr_len(a);
	uint32_t h = 2166136261u;

	/* Zeroed before filling, so the padding hashes the same every time. */
	while (n--)
		h = (h ^ *p++) * 16777619u;
	return h % HASH_BUCKETS;
}

static int client_find(struct relay *r, const union wg_sockaddr *a)
{
	int i;

	for (i = r->buckets[client_hash(a)]; i >= 0; i = r->clients[i].next)
		if (wg_sockaddr_equal(&r->clients[i].addr, a))
			return i;
	return -1;
}

static void client_unlink(struct relay *r, int idx)
{
	int *link = &r->buckets[client_hash(&r->clients[idx].addr)];

	while (*link >= 0 && *link != idx)
		link = &r->clients[*link].next;
	if (*link == idx)
		*link = r->clients[idx].next;
}

static void client_free(struct relay *r, int idx)
{
	struct client *c = &r->clients[idx];

	client_unlink(r, idx);
	close(c->fd);
	c->fd = -1;
	c->gen++;
	r->nclients--;
}

/* A free slot, evicting the client seen least recently when all are used. */
static int client_slot(struct relay *r)
{
	int i, oldest = 0;

	for (i = 0; i < MAX_CLIENTS; i++) {
		if (r->clients[i].fd < 0)
			return i;
		if (r->clients[i].last_seen < r->clients[oldest].last_seen)
			oldest = i;
	}
	client_free(r, oldest);
	return oldest;
}

static int upstream_open(struct relay *r, int idx)
{
	int fd, buf = SOCK_BUF;
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = EV(TAG_UP, idx) };

	fd = socket(r->to.sa.sa_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof(buf));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &buf, sizeof(buf));
	if (connect(fd, &r->to.sa, wg_sockaddr_len(&r->to)) < 0 ||
	    epoll_ctl(r->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int client_get(struct relay *r, const union wg_sockaddr *a, monotime_ns now)
{
	unsigned h = client_hash(a);
	int idx = client_find(r, a), fd;

	if (idx < 0) {
		idx = client_slot(r);
		fd = upstream_open(r, idx);
		if (fd < 0)
			return -1;
		r->clients[idx].addr = *a;
		r->clients[idx].fd = fd;
		r->clients[idx].next = r->buckets[h];
		r->buckets[h] = idx;
		r->nclients++;
	}
	r->clients[idx].last_seen = now;
	return idx;
}

/* ------------------------------------------------------------ forwarding */

static void pkt_send(struct relay *r, enum dir d, uint32_t idx, uint32_t gen,
		     const uint8_t *data, size_t len)
{
	struct client *c = &r->clients[idx];
	ssize_t n;

	if (c->fd < 0 || c->gen != gen) {
		r->st[d].stale++;
		return;
	}
	if (d == DIR_UP)
		n = send(c->fd, data, len, MSG_DONTWAIT);
	else
		n = sendto(r->listen_fd, data, len, MSG_DONTWAIT,
			   &c->addr.sa, wg_sockaddr_len(&c->addr));
	if (n == (ssize_t)len)
		r->st[d].fwd++;
	else
		r->st[d].send_err++;
}

/* When the packet may leave: see the top of the file. */
static monotime_ns release_time(struct relay *r, enum dir d, monotime_ns now)
{
	int64_t off = (int64_t)r->delay;
	monotime_ns t;

	if (r->jitter) {
		off += (int64_t)(rng_next(r) % (2 * r->jitter + 1)) - (int64_t)r->jitter;
		return now + (monotime_ns)(off < 0 ? 0 : off);
	}
	t = now + (monotime_ns)off;
	if (t < r->last_release[d])
		t = r->last_release[d];
	r->last_release[d] = t;
	return t;
}

static void pkt_queue(struct relay *r, enum dir d, uint32_t idx,
		      const uint8_t *data, size_t len, monotime_ns now)
{
	monotime_ns t = release_time(r, d, now);
	struct packet *p;

	if (t <= now && r->nheap == 0) {	/* nothing to wait for */
		pkt_send(r, d, idx, r->clients[idx].gen, data, len);
		return;
	}
	if (r->nheap >= r->max_queue || r->queued_bytes + len > QUEUE_BYTES ||
	    !(p = malloc(sizeof(*p) + len))) {
		r->st[d].queue_full++;
		return;
	}
	*p = (struct packet){ .release = t, .order = r->order++, .client = idx,
			      .gen = r->clients[idx].gen, .dir = (uint8_t)d, .len = len };
	memcpy(p->data, data, len);
	r->queued_bytes += len;
	heap_push(r, p);
}

static void pkt_arrive(struct relay *r, enum dir d, int idx, size_t len, monotime_ns now)
{
	r->st[d].rx++;
	if (r->blackhole)
		r->st[d].blackhole++;
	else if (r->loss > 0 && rng_percent(r) < r->loss)
		r->st[d].loss++;
	else
		pkt_queue(r, d, (uint32_t)idx, rxbuf, len, now);
}

/* Sends every packet that is due; drop_all empties the queue (blackhole). */
static void queue_flush(struct relay *r, monotime_ns now, bool drop_all)
{
	struct packet *p;

	while (r->nheap && (drop_all || r->heap[0]->release <= now)) {
		p = heap_pop(r);
		if (drop_all)
			r->st[p->dir].blackhole++;
		else
			pkt_send(r, p->dir, p->client, p->gen, p->data, p->len);
		r->queued_bytes -= p->len;
		free(p);
	}
}

/* The timer fires at the earliest release; re-armed only when that moved. */
static void timer_arm(struct relay *r)
{
	struct itimerspec its = { 0 };
	monotime_ns t = r->nheap ? r->heap[0]->release : 0;

	if (t == r->armed)
		return;
	its.it_value.tv_sec = (time_t)(t / NSEC_PER_SEC);
	its.it_value.tv_nsec = (long)(t % NSEC_PER_SEC);
	timerfd_settime(r->timer_fd, TFD_TIMER_ABSTIME, &its, NULL);
	r->armed = t;
}

static void listen_readable(struct relay *r)
{
	union wg_sockaddr from;
	monotime_ns now;
	socklen_t alen;
	ssize_t n;
	int i, idx;

	for (i = 0; i < RX_BUDGET; i++) {
		memset(&from, 0, sizeof(from));
		alen = sizeof(from);
		n = recvfrom(r->listen_fd, rxbuf, sizeof(rxbuf), MSG_DONTWAIT, &from.sa, &alen);
		if (n < 0 && errno == EAGAIN)
			return;
		if (n < 0)
			continue;
		now = monotime_now();
		idx = client_get(r, &from, now);
		if (idx < 0) {
			r->st[DIR_UP].send_err++;
			continue;
		}
		pkt_arrive(r, DIR_UP, idx, (size_t)n, now);
	}
}

static void upstream_readable(struct relay *r, int idx)
{
	ssize_t n;
	int i;

	for (i = 0; i < RX_BUDGET && r->clients[idx].fd >= 0; i++) {
		n = recv(r->clients[idx].fd, rxbuf, sizeof(rxbuf), MSG_DONTWAIT);
		if (n < 0 && errno == EAGAIN)
			return;
		if (n < 0)	/* ECONNREFUSED from an ICMP error: go on */
			continue;
		r->clients[idx].last_seen = monotime_now();
		pkt_arrive(r, DIR_DOWN, idx, (size_t)n, monotime_now());
	}
}

/* ------------------------------------------------------------ control */

static int stats_format(const struct relay *r, char *out, size_t cap)
{
	int n = 0, d;
	const struct dir_stats *s;

	for (d = 0; d < DIR_MAX && n >= 0 && (size_t)n < cap; d++) {
		s = &r->st[d];
		n += snprintf(out + n, cap - (size_t)n,
			      "rx_%s=%" PRIu64 " fwd_%s=%" PRIu64 " dropped_%s=%" PRIu64
			      " loss_%s=%" PRIu64 " blackhole_%s=%" PRIu64
			      " queue_full_%s=%" PRIu64 " send_err_%s=%" PRIu64
			      " stale_%s=%" PRIu64 " ",
			      dir_name[d], s->rx, dir_name[d], s->fwd, dir_name[d],
			      s->loss + s->blackhole + s->queue_full + s->send_err + s->stale,
			      dir_name[d], s->loss, dir_name[d], s->blackhole, dir_name[d],
			      s->queue_full, dir_name[d], s->send_err, dir_name[d], s->stale);
	}
	if (n >= 0 && (size_t)n < cap)
		n += snprintf(out + n, cap - (size_t)n, "queued=%zu clients=%u\n",
			      r->nheap, r->nclients);
	return n;
}

static int show_format(const struct relay *r, char *out, size_t cap)
{
	return snprintf(out, cap, "delay_ms=%.3f jitter_ms=%.3f loss_pct=%g blackhole=%s\n",
			(double)r->delay / 1e6, (double)r->jitter / 1e6, r->loss,
			r->blackhole ? "on" : "off");
}

/* A number in [0, max]; false on anything else. */
static bool parse_num(const char *s, double max, double *out)
{
	char *end;
	double v;

	if (!s || !*s)
		return false;
	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || !(v >= 0 && v <= max))
		return false;
	*out = v;
	return true;
}

static const char *ctl_set(struct relay *r, const char *cmd, const char *arg)
{
	double v;

	if (!strcmp(cmd, "blackhole")) {
		if (!arg || (strcmp(arg, "on") && strcmp(arg, "off")))
			return "error: blackhole on|off\n";
		r->blackhole = !strcmp(arg, "on");
		if (r->blackhole)	/* a cut link loses what is in flight too */
			queue_flush(r, 0, true);
		return "ok\n";
	}
	if (!parse_num(arg, !strcmp(cmd, "loss") ? 100.0 : MAX_DELAY_MS, &v))
		return "error: bad or missing number\n";
	if (!strcmp(cmd, "delay"))
		r->delay = (monotime_ns)(v * 1e6);
	else if (!strcmp(cmd, "jitter"))
		r->jitter = (monotime_ns)(v * 1e6);
	else
		r->loss = v;
	return "ok\n";
}

/* One command line in, its reply into out. */
static void ctl_command(struct relay *r, char *line, char *out, size_t cap)
{
	char *save = NULL, *cmd = strtok_r(line, " \t\r", &save);
	char *arg = strtok_r(NULL, " \t\r", &save);

	if (!cmd)
		snprintf(out, cap, "error: empty command\n");
	else if (strtok_r(NULL, " \t\r", &save))
		snprintf(out, cap, "error: too many words\n");
	else if (!strcmp(cmd, "stats") && !arg)
		stats_format(r, out, cap);
	else if (!strcmp(cmd, "show") && !arg)
		show_format(r, out, cap);
	else if (!strcmp(cmd, "delay") || !strcmp(cmd, "jitter") ||
		 !strcmp(cmd, "loss") || !strcmp(cmd, "blackhole"))
		snprintf(out, cap, "%s", ctl_set(r, cmd, arg));
	else
		snprintf(out, cap, "error: unknown command (delay, jitter, loss, "
			 "blackhole, stats, show)\n");
}

static void conn_close(struct ctl_conn *c)
{
	close(c->fd);
	c->fd = -1;
	c->len = 0;
}

static void conn_reply(struct ctl_conn *c, const char *text)
{
	/* Replies are a few hundred bytes: they fit the socket buffer. */
	if (send(c->fd, text, strlen(text), MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		conn_close(c);
}

/* Answers every complete line in the buffer, keeps the rest. */
static void conn_lines(struct relay *r, struct ctl_conn *c)
{
	char out[1024], *nl;
	size_t used;

	while (c->fd >= 0 && (nl = memchr(c->buf, '\n', c->len))) {
		*nl = '\0';
		used = (size_t)(nl - c->buf) + 1;
		ctl_command(r, c->buf, out, sizeof(out));
		conn_reply(c, out);
		memmove(c->buf, c->buf + used, c->len - used);
		c->len -= used;
	}
}

static void conn_readable(struct relay *r, struct ctl_conn *c)
{
	ssize_t n = read(c->fd, c->buf + c->len, sizeof(c->buf) - 1 - c->len);

	if (n < 0 && errno == EAGAIN)
		return;
	if (n <= 0) {
		if (n == 0 && c->len) {		/* a last line without newline */
			c->buf[c->len++] = '\n';
			conn_lines(r, c);
		}
		if (c->fd >= 0)
			conn_close(c);
		return;
	}
	c->len += (size_t)n;
	conn_lines(r, c);
	if (c->fd >= 0 && c->len == sizeof(c->buf) - 1) {
		conn_reply(c, "error: line too long\n");
		if (c->fd >= 0)
			conn_close(c);
	}
}

static void ctl_accept(struct relay *r)
{
	struct epoll_event ev = { .events = EPOLLIN };
	int fd, i;

	fd = accept4(r->ctl_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return;
	for (i = 0; i < MAX_CONNS && r->conns[i].fd >= 0; i++)
		;
	ev.data.u64 = EV(TAG_CONN, i);
	if (i == MAX_CONNS || epoll_ctl(r->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		send(fd, "error: busy\n", 12, MSG_NOSIGNAL | MSG_DONTWAIT);
		close(fd);
		return;
	}
	r->conns[i].fd = fd;
	r->conns[i].len = 0;
}

/* ------------------------------------------------------------ setup */

static int epoll_add(struct relay *r, int fd, uint64_t tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = tag };

	return epoll_ctl(r->epfd, EPOLL_CTL_ADD, fd, &ev);
}

static int listen_open(struct relay *r)
{
	int fd, one = 1, buf = SOCK_BUF;

	fd = socket(r->listen.sa.sa_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (r->listen.sa.sa_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof(buf));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &buf, sizeof(buf));
	if (bind(fd, &r->listen.sa, wg_sockaddr_len(&r->listen)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int ctl_open(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path))
		return -1;
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	unlink(path);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 || listen(fd, 8) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int signals_open(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -1;
	return signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}

static bool relay_open(struct relay *r)
{
	int i;

	for (i = 0; i < MAX_CLIENTS; i++)
		r->clients[i].fd = -1;
	for (i = 0; i < HASH_BUCKETS; i++)
		r->buckets[i] = -1;
	for (i = 0; i < MAX_CONNS; i++)
		r->conns[i].fd = -1;
	r->ctl_fd = -1;
	r->heap = calloc(r->max_queue, sizeof(*r->heap));
	r->epfd = epoll_create1(EPOLL_CLOEXEC);
	r->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	r->signal_fd = signals_open();
	r->listen_fd = listen_open(r);
	if (!r->heap || r->epfd < 0 || r->timer_fd < 0 || r->signal_fd < 0 || r->listen_fd < 0)
		return false;
	if (r->ctl_path && (r->ctl_fd = ctl_open(r->ctl_path)) < 0)
		return false;
	return epoll_add(r, r->listen_fd, EV(TAG_LISTEN, 0)) == 0 &&
	       epoll_add(r, r->timer_fd, EV(TAG_TIMER, 0)) == 0 &&
	       epoll_add(r, r->signal_fd, EV(TAG_SIGNAL, 0)) == 0 &&
	       (r->ctl_fd < 0 || epoll_add(r, r->ctl_fd, EV(TAG_CTL, 0)) == 0);
}

static void relay_close(struct relay *r)
{
	int i;

	queue_flush(r, 0, true);
	for (i = 0; i < MAX_CLIENTS; i++)
		if (r->clients[i].fd >= 0)
			client_free(r, i);
	for (i = 0; i < MAX_CONNS; i++)
		if (r->conns[i].fd >= 0)
			conn_close(&r->conns[i]);
	if (r->ctl_fd >= 0) {
		close(r->ctl_fd);
		unlink(r->ctl_path);
	}
	free(r->heap);
}

/* ------------------------------------------------------------ main loop */

static void relay_event(struct relay *r, uint64_t ev)
{
	uint32_t i = (uint32_t)ev;
	uint64_t ticks;
	struct signalfd_siginfo si;

	switch (ev >> 32) {
	case TAG_LISTEN:
		listen_readable(r);
		break;
	case TAG_UP:
		upstream_readable(r, (int)i);
		break;
	case TAG_TIMER:
		if (read(r->timer_fd, &ticks, sizeof(ticks)) < 0)
			break;
		r->armed = 0;	/* expired: must be armed again */
		break;
	case TAG_SIGNAL:
		if (read(r->signal_fd, &si, sizeof(si)) == (ssize_t)sizeof(si))
			r->stop = true;
		break;
	case TAG_CTL:
		ctl_accept(r);
		break;
	case TAG_CONN:
		if (i < MAX_CONNS && r->conns[i].fd >= 0)
			conn_readable(r, &r->conns[i]);
		break;
	}
}

static void relay_run(struct relay *r)
{
	struct epoll_event evs[32];
	int n, i;

	while (!r->stop) {
		n = epoll_wait(r->epfd, evs, 32, -1);
		if (n < 0 && errno != EINTR)
			break;
		for (i = 0; i < n; i++)
			relay_event(r, evs[i].data.u64);
		queue_flush(r, monotime_now(), false);
		timer_arm(r);
	}
}

/* ------------------------------------------------------------ ctl client */

/* impair ctl PATH WORDS...: sends the words as one line, prints the reply;
 * exit status 0 unless the relay said "error" or could not be reached. */
static int ctl_client(int argc, char **argv)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char line[CTL_LINE] = "", reply[2048];
	struct pollfd pfd = { .events = POLLIN };
	size_t got = 0;
	ssize_t n;
	int i;

	if (argc < 4 || strlen(argv[2]) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "usage: impair ctl PATH COMMAND [ARG]\n");
		return 2;
	}
	strcpy(sun.sun_path, argv[2]);
	for (i = 3; i < argc; i++)
		if (strlen(line) + strlen(argv[i]) + 2 < sizeof(line))
			strcat(strcat(line, argv[i]), i + 1 < argc ? " " : "\n");
	pfd.fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (pfd.fd < 0 || connect(pfd.fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 ||
	    write(pfd.fd, line, strlen(line)) < 0) {
		perror("impair ctl");
		return 1;
	}
	shutdown(pfd.fd, SHUT_WR);
	while (got < sizeof(reply) - 1 && poll(&pfd, 1, 3000) == 1 &&
	       (n = read(pfd.fd, reply + got, sizeof(reply) - 1 - got)) > 0)
		got += (size_t)n;
	reply[got] = '\0';
	fputs(reply, stdout);
	close(pfd.fd);
	return got == 0 || !strncmp(reply, "error", 5);
}

/* ------------------------------------------------------------ options */

static void usage(void)
{
	fprintf(stderr,
		"usage: impair --listen ADDR:PORT --to ADDR:PORT [--delay MS] [--jitter MS]\n"
		"              [--loss PCT] [--seed N] [--control PATH] [--queue N]\n"
		"       impair ctl PATH delay MS | jitter MS | loss PCT | blackhole on|off\n"
		"                       | stats | show\n");
	exit(2);
}

static void opt_num(const char *name, const char *arg, double max, double *out)
{
	if (!parse_num(arg, max, out)) {
		fprintf(stderr, "impair: --%s: want a number in [0, %g]\n", name, max);
		exit(2);
	}
}

static void opt_addr(const char *name, const char *arg, union wg_sockaddr *out)
{
	if (!wg_sockaddr_parse(arg, out)) {
		fprintf(stderr, "impair: --%s: want ADDR:PORT or [ADDR6]:PORT\n", name);
		exit(2);
	}
}

static void opt_one(struct relay *r, int o, const char *arg)
{
	double v;

	switch (o) {
	case 'l':
		opt_addr("listen", arg, &r->listen);
		break;
	case 't':
		opt_addr("to", arg, &r->to);
		break;
	case 'd':
	case 'j':
		opt_num(o == 'd' ? "delay" : "jitter", arg, MAX_DELAY_MS, &v);
		*(o == 'd' ? &r->delay : &r->jitter) = (monotime_ns)(v * 1e6);
		break;
	case 'p':
		opt_num("loss", arg, 100.0, &r->loss);
		break;
	case 's':
		r->rng = strtoull(arg, NULL, 0);
		break;
	case 'c':
		r->ctl_path = arg;
		break;
	case 'q':
		opt_num("queue", arg, QUEUE_MAX, &v);
		r->max_queue = (size_t)v;
		break;
	default:
		usage();
	}
}

static void parse_options(struct relay *r, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "listen", 1, NULL, 'l' }, { "to", 1, NULL, 't' },
		{ "delay", 1, NULL, 'd' }, { "jitter", 1, NULL, 'j' },
		{ "loss", 1, NULL, 'p' }, { "seed", 1, NULL, 's' },
		{ "control", 1, NULL, 'c' }, { "queue", 1, NULL, 'q' },
		{ NULL, 0, NULL, 0 }
	};
	int o;

	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1)
		opt_one(r, o, optarg);
	if (optind != argc || !r->listen.sa.sa_family || !r->to.sa.sa_family || !r->max_queue)
		usage();
}

int main(int argc, char **argv)
{
	static struct relay r;
	char text[1024];

	if (argc > 1 && !strcmp(argv[1], "ctl"))
		return ctl_client(argc, argv);
	r.rng = monotime_now() ^ ((uint64_t)getpid() << 32);
	r.max_queue = QUEUE_DEFAULT;
	parse_options(&r, argc, argv);
	/* Wake-ups within microseconds of the deadline, not the default 50. */
	prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
	if (!relay_open(&r)) {
		fprintf(stderr, "impair: setup failed: %s\n", strerror(errno));
		relay_close(&r);
		return 1;
	}
	show_format(&r, text, sizeof(text));
	fprintf(stderr, "impair: relaying, %s", text);
	relay_run(&r);
	stats_format(&r, text, sizeof(text));
	fprintf(stderr, "impair: exiting, %s", text);
	relay_close(&r);
	return 0;
}

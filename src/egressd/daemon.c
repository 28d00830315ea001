/* daemon: setup, teardown and the event loop. One epoll set watches the
 * TUN fd, both UDP sockets, the local servers and a signalfd; timers come
 * from the device's earliest deadline. Each wake-up handles a batch per
 * ready source, then queued handshakes (bounded, so a flood cannot starve
 * data), then due timers, then flushes output batches. */
#include "egressd/daemon.h"
#include "egressd/control.h"
#include "common/log.h"
#include "os/tun.h"
#include "node/metrics.h"
#include "wg/uapi.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#define HANDSHAKES_PER_WAKEUP 32

/* epoll tags: what a ready fd is. Client slots follow their server's tag. */
enum {
	TAG_TUN = 1, TAG_UDP4, TAG_UDP6, TAG_SIGNAL,
	TAG_UAPI_LISTEN, TAG_CONTROL_LISTEN, TAG_REGION0, TAG_REGION1, TAG_METRICS,
	TAG_AGENT,
	TAG_UAPI_CLIENT = 0x100, TAG_CONTROL_CLIENT = 0x200,
};

static size_t io_udp_send(void *ctx, struct pkt **pkts, size_t n)
{
	return udp_send_batch(&((struct daemon *)ctx)->udp, pkts, n);
}

static size_t io_tun_write(void *ctx, struct pkt **pkts, size_t n)
{
	struct daemon *d = ctx;
	size_t ok = 0;

	for (size_t i = 0; i < n; i++)
		ok += tun_write_packet(d->tun_fd, pkts[i]->data, pkts[i]->len) == 0;
	return ok;
}

static void watch(struct daemon *d, int fd, uint64_t tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = tag };

	if (fd >= 0)
		epoll_ctl(d->epoll_fd, EPOLL_CTL_ADD, fd, &ev);
}

static int io_set_listen_port(void *ctx, uint16_t port, uint16_t *actual)
{
	struct daemon *d = ctx;
	int old_fd4 = d->udp.fd4, old_fd6 = d->udp.fd6;
	int ret = udp_sockets_bind(&d->udp, port);

	*actual = d->udp.port;
	if (ret == 0 && d->udp.fd4 == old_fd4 && d->udp.fd6 == old_fd6)
		return 0;	/* same port: the sockets were kept */
	if (ret < 0) {
		log_warn("cannot bind UDP port %u: %s", port, strerror(-ret));
		return -EADDRINUSE;
	}
	/* New sockets: closing the old ones removed them from the set. */
	watch(d, d->udp.fd4, TAG_UDP4);
	watch(d, d->udp.fd6, TAG_UDP6);
	*actual = d->udp.port;
	log_info("listening on UDP port %u", d->udp.port);
	return 0;
}

static int io_set_fwmark(void *ctx, uint32_t fwmark)
{
	return udp_sockets_set_fwmark(&((struct daemon *)ctx)->udp, fwmark) < 0 ?
	       -EADDRINUSE : 0;
}

static const struct wg_device_io daemon_io = {
	.udp_send = io_udp_send,
	.tun_write = io_tun_write,
	.set_listen_port = io_set_listen_port,
	.set_fwmark = io_set_fwmark,
};

/* ---- UAPI glue ---- */

static int uapi_get(void *ctx, struct wg_device_conf *out)
{
	return wg_device_get_conf(&((struct daemon *)ctx)->dev, out);
}

static int uapi_set(void *ctx, const struct wg_device_conf *conf)
{
	struct daemon *d = ctx;
	int ret = wg_device_set_conf(&d->dev, conf, monotime_now());

	/* The first configuration binds a port even if none was asked for. */
	if (ret == 0 && d->udp.fd4 < 0 && d->udp.fd6 < 0) {
		uint16_t actual;

		if (io_set_listen_port(d, 0, &actual) == 0)
			d->dev.listen_port = actual;
	}
	return ret;
}

static const struct uapi_ops daemon_uapi_ops = { .get = uapi_get, .set = uapi_set };

static int uapi_handle(void *ctx, const char *req, size_t len, char **resp, size_t *resp_len)
{
	return uapi_handle_request(&daemon_uapi_ops, ctx, req, len, resp, resp_len);
}

static int control_handle(void *ctx, const char *req, size_t len, char **resp,
			  size_t *resp_len)
{
	struct daemon *d = ctx;

	return control_handle_request(&d->dev, d->has_node ? &d->node : NULL, req, len, resp,
				      resp_len);
}

/* ---- setup and teardown ---- */

static int open_signals(struct daemon *d)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	d->signal_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	return d->signal_fd < 0 ? -errno : 0;
}

static int open_servers(struct daemon *d)
{
	char path[108];
	int ret;

	mkdir(UAPI_DIR, 0755);
	snprintf(path, sizeof(path), "%s/%s.sock", UAPI_DIR, d->ifname);
	ret = local_server_open(&d->uapi, path, uapi_request_length, uapi_handle, d,
				UAPI_MAX_REQUEST);
	if (ret == -EADDRINUSE) {
		fprintf(stderr, "egressd: %s: another WireGuard daemon already serves %s\n",
			d->ifname, path);
		return ret;
	}
	if (ret < 0) {
		fprintf(stderr, "egressd: %s: %s\n", path, strerror(-ret));
		return ret;
	}
	mkdir(CONTROL_DIR, 0755);
	snprintf(path, sizeof(path), "%s/%s.ctl", CONTROL_DIR, d->ifname);
	ret = local_server_open(&d->control, path, control_request_length, control_handle, d,
				CONTROL_MAX_REQUEST);
	if (ret < 0)
		fprintf(stderr, "egressd: %s: %s\n", path, strerror(-ret));
	return ret;
}

static int open_tun(struct daemon *d)
{
	d->tun_fd = tun_open(d->ifname, d->dev.mtu);
	if (d->tun_fd == -EBUSY) {
		fprintf(stderr, "egressd: %s: interface is in use by another process\n",
			d->ifname);
	} else if (d->tun_fd < 0) {
		fprintf(stderr, "egressd: %s: cannot create TUN interface: %s\n", d->ifname,
			strerror(-d->tun_fd));
	}
	return d->tun_fd < 0 ? d->tun_fd : 0;
}

int daemon_open(struct daemon *d, const char *ifname)
{
	int ret;

	memset(d, 0, sizeof(*d));
	d->tun_fd = d->epoll_fd = d->signal_fd = -1;
	d->region_fds[0] = d->region_fds[1] = -1;
	d->uapi.listen_fd = d->control.listen_fd = -1;
	udp_sockets_init(&d->udp);
	if (strlen(ifname) >= sizeof(d->ifname) || !*ifname || strchr(ifname, '/')) {
		fprintf(stderr, "egressd: invalid interface name '%s'\n", ifname);
		return -EINVAL;
	}
	strcpy(d->ifname, ifname);
	ret = wg_device_init(&d->dev, &daemon_io, d);
	if (ret < 0)
		return ret;
	/* The socket first: it tells whether another daemon owns the name. */
	if ((ret = open_servers(d)) < 0 || (ret = open_tun(d)) < 0 ||
	    (ret = open_signals(d)) < 0)
		goto fail;
	d->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (d->epoll_fd < 0) {
		ret = -errno;
		goto fail;
	}
	watch(d, d->tun_fd, TAG_TUN);
	watch(d, d->signal_fd, TAG_SIGNAL);
	watch(d, d->uapi.listen_fd, TAG_UAPI_LISTEN);
	watch(d, d->control.listen_fd, TAG_CONTROL_LISTEN);
	return 0;
fail:
	daemon_close(d);
	return ret;
}

static int render_metrics(void *ctx, struct prom_buf *out)
{
	struct daemon *d = ctx;

	return node_metrics_render(&d->dev, d->has_node ? &d->node : NULL, d->ifname, out);
}

int daemon_open_metrics(struct daemon *d, const char *listen)
{
	int ret = metrics_http_open(&d->metrics, listen, render_metrics, d);

	if (ret < 0) {
		fprintf(stderr, "egressd: --metrics %s: %s\n", listen, strerror(-ret));
		return ret;
	}
	d->has_metrics = true;
	watch(d, metrics_http_fd(&d->metrics), TAG_METRICS);
	return 0;
}

void daemon_close(struct daemon *d)
{
	agent_stop(d->agent);	/* its threads never touch the node, but stop first */
	d->agent = NULL;
	json_decref(d->region_metrics);
	d->region_metrics = NULL;
	if (d->has_metrics)
		metrics_http_close(&d->metrics);
	d->has_metrics = false;
	if (d->has_node) {
		wg_device_set_hooks(&d->dev, NULL, NULL);
		node_destroy(&d->node);
		d->has_node = false;
	}
	if (d->events && d->events != stderr)
		fclose(d->events);
	d->events = NULL;
	local_server_close(&d->uapi);
	local_server_close(&d->control);
	udp_sockets_close(&d->udp);
	wg_device_destroy(&d->dev);
	if (d->tun_fd >= 0)
		close(d->tun_fd);	/* a non-persistent TUN interface goes with it */
	if (d->epoll_fd >= 0)
		close(d->epoll_fd);
	if (d->signal_fd >= 0)
		close(d->signal_fd);
	d->tun_fd = d->epoll_fd = d->signal_fd = -1;
	d->region_fds[0] = d->region_fds[1] = -1;
}

/* ---- the loop ---- */

static void read_tun(struct daemon *d, monotime_ns now)
{
	struct pkt *batch[PKT_BATCH_MAX];
	size_t n = 0;

	while (n < PKT_BATCH_MAX) {
		struct pkt *p = pkt_alloc(&d->dev.pool);
		ssize_t len;

		if (!p) {
			wg_device_count(&d->dev, WG_CTR_tx_drop_no_buffer);
			break;
		}
		len = tun_read(d->tun_fd, p->data, PKT_MAX_INNER);
		if (len <= 0) {
			pkt_free(&d->dev.pool, p);
			break;
		}
		p->len = (size_t)len;
		batch[n++] = p;
	}
	wg_device_xmit(&d->dev, batch, n, now);
}

static void read_udp(struct daemon *d, int fd, monotime_ns now)
{
	struct pkt *batch[PKT_BATCH_MAX];
	size_t n = 0, got;

	while (n < PKT_BATCH_MAX && (batch[n] = pkt_alloc(&d->dev.pool)))
		n++;
	got = fd >= 0 ? udp_recv_batch(fd, batch, n) : 0;
	for (size_t i = got; i < n; i++)
		pkt_free(&d->dev.pool, batch[i]);
	wg_device_receive(&d->dev, batch, got, now);
}

static void handle_signal(struct daemon *d)
{
	struct signalfd_siginfo si;

	while (read(d->signal_fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
			log_info("%s: signal %u, shutting down", d->ifname, si.ssi_signo);
			d->stop = true;
		} else if (si.ssi_signo == SIGHUP) {
			daemon_reload_policy(d);
		}
	}
}

static void serve_local(struct daemon *d, struct local_server *s, uint64_t client_tag)
{
	for (size_t i = 0; i < LOCAL_SERVER_MAX_CLIENTS; i++) {
		if (s->clients[i].fd < 0) {
			local_server_accept(s);
			if (s->clients[i].fd >= 0)
				watch(d, s->clients[i].fd, client_tag + i);
			return;
		}
	}
	local_server_accept(s);	/* full: it refuses */
}

static void daemon_agent_event(struct daemon *d);

static void dispatch(struct daemon *d, uint64_t tag, monotime_ns now)
{
	if (tag == TAG_TUN)
		read_tun(d, now);
	else if (tag == TAG_UDP4)
		read_udp(d, d->udp.fd4, now);
	else if (tag == TAG_UDP6)
		read_udp(d, d->udp.fd6, now);
	else if (tag == TAG_SIGNAL)
		handle_signal(d);
	else if (tag == TAG_UAPI_LISTEN)
		serve_local(d, &d->uapi, TAG_UAPI_CLIENT);
	else if ((tag == TAG_REGION0 || tag == TAG_REGION1) && d->has_node)
		region_probe_on_readable(d->node.regions, d->region_fds[tag - TAG_REGION0], now);
	else if (tag == TAG_METRICS)
		metrics_http_run(&d->metrics);
	else if (tag == TAG_AGENT)
		daemon_agent_event(d);
	else if (tag == TAG_CONTROL_LISTEN)
		serve_local(d, &d->control, TAG_CONTROL_CLIENT);
	else if ((tag & ~0xffULL) == TAG_UAPI_CLIENT)
		local_server_serve(&d->uapi, tag & 0xff);
	else if ((tag & ~0xffULL) == TAG_CONTROL_CLIENT)
		local_server_serve(&d->control, tag & 0xff);
}

static int next_timeout_ms(struct daemon *d)
{
	monotime_ns deadline = wg_device_next_deadline(&d->dev), now;

	if (d->has_node) {
		monotime_ns n = node_next_event(&d->node);

		if (n && (!deadline || n < deadline))
			deadline = n;
	}
	if (d->dev.handshakes.len)
		return 0;
	if (d->has_metrics) {
		int m = metrics_http_timeout_ms(&d->metrics);

		if (m >= 0 && (!deadline || monotime_now() + MSECONDS(m) < deadline))
			deadline = monotime_now() + MSECONDS(m);
	}
	if (d->agent) {
		monotime_ns t = agent_telemetry_due(d->agent);

		t = t ? t : 1;	/* the first snapshot: at once */
		if (!deadline || t < deadline)
			deadline = t;
	}
	if (!deadline)
		return -1;
	now = monotime_now();
	if (deadline <= now)
		return 0;
	return (int)((deadline - now + NSEC_PER_MSEC - 1) / NSEC_PER_MSEC);
}

int daemon_run(struct daemon *d)
{
	struct epoll_event events[16];

	while (!d->stop) {
		int n = epoll_wait(d->epoll_fd, events, 16, next_timeout_ms(d));
		monotime_ns now = monotime_now();

		if (n < 0 && errno != EINTR) {
			log_err("epoll_wait: %s", strerror(errno));
			return -errno;
		}
		for (int i = 0; i < n; i++)
			dispatch(d, events[i].data.u64, now);
		wg_device_process_handshakes(&d->dev, HANDSHAKES_PER_WAKEUP, now);
		wg_device_run_timers(&d->dev, now);
		if (d->has_node)
			node_tick(&d->node, now);
		if (d->agent && now >= agent_telemetry_due(d->agent))
			agent_telemetry_offer(d->agent, d->has_node ? &d->node : NULL, now);
		wg_device_flush(&d->dev);
	}
	return 0;
}

/* ---- policy ---- */

static void print_errors(const struct policy_errors *errs, bool to_log)
{
	for (size_t i = 0; i < errs->n; i++) {
		if (to_log)
			log_err("%s", errs->msgs[i]);
		else
			fprintf(stderr, "%s\n", errs->msgs[i]);
	}
}

/* The ICMP sockets of egress -> region probes: opened when the policy
 * gives this node targets; a reload may open them later. */
static void watch_region_probes(struct daemon *d)
{
	int fds[2] = { -1, -1 };

	region_probe_fds(d->node.regions, fds);
	for (int i = 0; i < 2; i++) {
		if (fds[i] == d->region_fds[i])
			continue;
		d->region_fds[i] = fds[i];
		watch(d, fds[i], TAG_REGION0 + i);
	}
}

int daemon_attach_policy(struct daemon *d, const char *path, const char *name,
			 const char *events_path)
{
	struct policy_errors errs = { 0 };
	struct policy *p;
	const char *why;
	int ret;

	snprintf(d->policy_path, sizeof(d->policy_path), "%s", path);
	if (!d->events)
		d->events = events_path ? fopen(events_path, "a") : stderr;
	if (!d->events) {
		fprintf(stderr, "egressd: %s: %s\n", events_path, strerror(errno));
		return -errno;
	}
	p = policy_load_file(path, &errs);
	if (!p) {
		print_errors(&errs, false);
		policy_errors_free(&errs);
		return -EINVAL;
	}
	p->version = d->policy_version;
	ret = node_init(&d->node, &d->dev, name, d->events);
	if (ret == 0)
		ret = node_apply_policy(&d->node, p, monotime_now(), &why);
	else
		why = "out of memory";
	policy_unref(p);
	if (ret < 0) {
		fprintf(stderr, "egressd: %s: cannot run node %s: %s\n", path, name, why);
		node_destroy(&d->node);
		return ret;
	}
	d->has_node = true;
	wg_device_set_hooks(&d->dev, &node_hooks, &d->node);
	watch_region_probes(d);
	log_info("%s: node %s of policy %s", d->ifname, name, path);
	return 0;
}

/* Parse, validate, compile, swap path as policy `version`; on error the
 * running policy stays and *why says why. */
static int reload_from(struct daemon *d, const char *path, uint64_t version,
		       const char **why)
{
	struct policy_errors errs = { 0 };
	struct policy *p;
	int ret;

	p = policy_load_file(path, &errs);
	if (!p) {
		print_errors(&errs, true);
		policy_errors_free(&errs);
		log_err("%s: %s refused; the running policy stays", d->ifname, path);
		node_count(&d->node, NODE_CTR_policy_reload_failures);
		*why = "the policy does not validate (errors in the node's log)";
		return -EINVAL;
	}
	p->version = version;
	ret = node_apply_policy(&d->node, p, monotime_now(), why);
	if (ret < 0) {
		log_err("%s: %s refused: %s; the running policy stays", d->ifname, path, *why);
		node_count(&d->node, NODE_CTR_policy_reload_failures);
	} else {
		d->policy_version = version;
		watch_region_probes(d);
		log_info("%s: policy %s reloaded", d->ifname, path);
		node_count(&d->node, NODE_CTR_policy_reloads);
	}
	policy_unref(p);
	return ret;
}

void daemon_reload_policy(struct daemon *d)
{
	const char *why;

	if (!d->has_node) {
		log_info("%s: SIGHUP without --policy: nothing to reload", d->ifname);
		return;
	}
	reload_from(d, d->policy_path, d->policy_version, &why);
}

/* ---- controller ---- */

/* A policy from the controller goes the way of SIGHUP; the first one
 * attaches the node. SIGHUP later reloads the saved copy. */
static void daemon_agent_policy(struct daemon *d, uint64_t version, const char *path)
{
	char saved[sizeof(d->policy_path)];
	const char *why = "it cannot run this node (errors in the node's log)";
	uint64_t old = d->policy_version;
	int ret;

	snprintf(saved, sizeof(saved), "%s", d->policy_path);
	if (d->has_node) {
		ret = reload_from(d, path, version, &why);
	} else {
		d->policy_version = version;
		ret = daemon_attach_policy(d, path, d->node_name, d->events_path);
		if (ret < 0)
			d->policy_version = old;
	}
	snprintf(d->policy_path, sizeof(d->policy_path), "%s", saved);
	if (ret == 0) {
		log_info("%s: running controller policy version %llu", d->ifname,
			 (unsigned long long)version);
		/* Shared figures are keyed by names: take them into the new view. */
		if (d->region_metrics)
			node_set_shared_regions(&d->node, d->region_metrics,
						d->region_metrics_at);
	}
	agent_policy_result(d->agent, version, ret == 0, why);
}

static void daemon_agent_event(struct daemon *d)
{
	char path[sizeof(d->policy_path)];
	uint64_t version;
	size_t taken;
	json_t *m;

	agent_drain_fd(d->agent);
	if (agent_take_policy(d->agent, &version, path, sizeof(path)))
		daemon_agent_policy(d, version, path);
	m = agent_take_region_metrics(d->agent);
	if (!m)
		return;
	d->region_metrics_at = monotime_now();
	taken = node_set_shared_regions(&d->node, m, d->region_metrics_at);
	if (!d->region_metrics || json_array_size(m) != json_array_size(d->region_metrics))
		log_info("%s: controller region metrics: %zu entries, %zu used", d->ifname,
			 json_array_size(m), taken);
	json_decref(d->region_metrics);
	d->region_metrics = m;
}

int daemon_attach_controller(struct daemon *d, const struct agent_config *cfg,
			     const char *events_path)
{
	char path[sizeof(d->policy_path)];
	uint64_t version = 0;
	int ret;

	snprintf(d->node_name, sizeof(d->node_name), "%s", cfg->node);
	d->events_path = events_path;
	if (agent_saved_policy(cfg->state_dir, cfg->node, path, sizeof(path), &version)) {
		/* Fail-static: run the last good policy before any contact. */
		d->policy_version = version;
		if (daemon_attach_policy(d, path, cfg->node, events_path) == 0)
			log_info("%s: started from saved policy version %llu", d->ifname,
				 (unsigned long long)version);
		else
			version = d->policy_version = 0;
	}
	/* SIGHUP reloads the saved copy of what the controller gave. */
	snprintf(d->policy_path, sizeof(d->policy_path), "%s", path);
	ret = agent_start(&d->agent, cfg, version);
	if (ret < 0)
		return ret;
	watch(d, agent_fd(d->agent), TAG_AGENT);
	log_info("%s: node %s of controller %s", d->ifname, cfg->node, cfg->url);
	return 0;
}

/* forward: the node's data path, as hooks the WireGuard device calls.
 *
 * Access side: a client's packet is parsed once, looked up in the flow
 * table (zone 0), decided on a miss, then sent on its pinned egress and
 * path inside a fabric DATA message (or broken out here with NAT).
 * Replies come back as fabric DATA with FABRIC_DATA_REPLY, find the flow
 * by its reply tuple and go to the client's peer.
 *
 * Egress side: fabric DATA from a node finds or creates a flow keyed by
 * the inner 5-tuple in the zone of the node it came from; the source is
 * rewritten to the class's pool address and the packet goes to the TUN
 * (the kernel routes it out). The reply comes from the TUN, matches the
 * flow's NATed reply tuple, is rewritten back and returns over the
 * endpoint its session last arrived on.
 *
 * Flags in flow.data.flags say which kind a flow is. */
#include "node/node.h"
#include "common/cursor.h"
#include "common/log.h"
#include "dataplane/dns_snoop.h"
#include "dataplane/icmp_error.h"
#include "dataplane/nat.h"
#include "dataplane/packet_parse.h"
#include "dataplane/tls_sni.h"
#include "fabric/messages.h"
#include "wg/peer.h"

#include <netinet/in.h>
#include <string.h>

#define NAT_MAX_TRIES 256

static void drop(struct node *n, struct pkt *p, enum node_counter why)
{
	node_count(n, why);
	pkt_free(&n->dev->pool, p);
}

static struct flow_tuple tuple_of(const struct packet_info *info, uint32_t zone)
{
	struct flow_tuple t = {
		.zone = zone, .family = info->src.family, .protocol = info->protocol,
		.sport = info->sport, .dport = info->dport,
	};

	memcpy(t.src, info->src.a, sizeof(t.src));
	memcpy(t.dst, info->dst.a, sizeof(t.dst));
	return t;
}

static void tuple_addr(const struct flow_tuple *t, bool dst, struct ip_addr *out)
{
	ip_addr_set(out, t->family, dst ? t->dst : t->src);
}

/* ---- domain learning ---- */

static void learn_answer(void *ctx, const char *qname, const struct ip_addr *addr,
			 uint32_t ttl_s)
{
	struct node *n = ctx;

	name_cache_put(n->names, addr, qname, ttl_s, monotime_now());
	node_count(n, NODE_CTR_dns_answers_learned);
}

/* A DNS answer on its way back to a client teaches address -> name. */
static void snoop_dns(struct node *n, const struct pkt *p, const struct packet_info *info)
{
	if (info->protocol != IPPROTO_UDP || info->sport != 53 || info->is_fragment)
		return;
	if (dns_snoop_response(p->data + info->payload_off, info->payload_len, learn_answer,
			       n) == DNS_SNOOP_MALFORMED)
		node_count(n, NODE_CTR_dns_malformed);
}

/* The first payload of a TCP session may be a ClientHello: its server
 * name teaches the cache, so this and later sessions to that address can
 * match domain classes (the session itself was decided at its SYN). */
static void snoop_sni(struct node *n, struct flow *f, const struct pkt *p,
		      const struct packet_info *info, monotime_ns now)
{
	char name[NAME_CACHE_NAME_MAX];

	if (info->protocol != IPPROTO_TCP || !info->payload_len ||
	    (f->data.flags & FLOW_F_SNI_DONE))
		return;
	f->data.flags |= FLOW_F_SNI_DONE;
	if (tls_sni_parse(p->data + info->payload_off, info->payload_len, name,
			  sizeof(name)) != TLS_SNI_OK)
		return;
	name_cache_put(n->names, &info->dst, name, 0, now);
	node_count(n, NODE_CTR_sni_learned);
}

/* ---- new sessions (access side) ---- */

static void session_of(struct node *n, const struct wg_peer *peer,
		       const struct packet_info *info, struct policy_session *s, monotime_ns now)
{
	memset(s, 0, sizeof(*s));
	s->device = peer ? policy_find_device_by_key(n->policy, peer->public_key) : POLICY_NONE;
	s->user = POLICY_NONE;
	s->protocol = info->protocol;
	s->src = info->src;
	s->dst = info->dst;
	s->sport = info->sport;
	s->dport = info->dport;
	s->dscp = info->dscp;
	s->domain = name_cache_get(n->names, &info->dst, now);
}

static void fill_flow_data(struct node *n, struct flow *f, struct wg_peer *peer,
			   const struct node_session_decision *d)
{
	const struct policy *p = n->policy;
	const struct policy_class *cls = &p->classes[d->policy.class_];

	f->data.peer = peer;
	f->data.class_id = cls->id;
	f->data.pool_id = cls->pool != POLICY_NONE ? p->pools[cls->pool].id : 0;
	f->data.user_id = d->policy.user != POLICY_NONE ? p->users[d->policy.user].id : 0;
	f->data.rule = d->policy.rule;
	f->data.policy_version = p->version;
}

/* Local breakout: reserve a NAT mapping from the class's pool. */
static struct flow *install_local(struct node *n, const struct flow_tuple *orig,
				  const struct node_session_decision *d, monotime_ns now)
{
	const struct policy *p = n->policy;
	const struct policy_class *cls = &p->classes[d->policy.class_];
	uint32_t user_id = d->policy.user != POLICY_NONE ? p->users[d->policy.user].id : 0;
	struct flow_tuple reply;
	struct ip_addr pool_addr;
	struct flow *f;

	if (cls->pool == POLICY_NONE ||
	    !policy_pool_address(p, cls->pool, n->self_idx, user_id, orig->family, &pool_addr)) {
		node_count(n, NODE_CTR_drop_fabric_no_pool);
		return NULL;
	}
	if (!nat_reserve(n->flows, orig, &pool_addr, 0, NAT_MAX_TRIES, &reply)) {
		node_count(n, NODE_CTR_drop_nat_exhausted);
		return NULL;
	}
	f = flow_table_insert(n->flows, orig, &reply, now);
	if (f)
		f->data.flags |= FLOW_F_LOCAL;
	return f;
}

static struct flow *install_session(struct node *n, struct wg_peer *peer,
				    const struct flow_tuple *orig,
				    const struct node_session_decision *d, monotime_ns now)
{
	const struct route_decision *r = &d->route;
	struct flow *f;

	if (d->policy.action != POLICY_ALLOW) {
		f = flow_table_insert(n->flows, orig, NULL, now);
		if (f)
			f->data.flags |= FLOW_F_DENIED;
	} else if (r->node == n->self_idx) {
		f = install_local(n, orig, d, now);
		node_count(n, NODE_CTR_sessions_local_breakout);
	} else {
		f = flow_table_insert(n->flows, orig, NULL, now);
		if (f) {
			f->data.node_id = n->policy->nodes[r->node].id;
			f->data.path = r->path;
		}
	}
	if (f)
		fill_flow_data(n, f, peer, d);
	return f;
}

static struct flow *new_session(struct node *n, struct wg_peer *peer,
				const struct packet_info *info, const struct flow_tuple *orig,
				monotime_ns now)
{
	struct node_session_decision d;
	struct policy_session s;

	session_of(n, peer, info, &s, now);
	node_decide(n, &s, now, true, &d);
	node_count(n, NODE_CTR_sessions_new);
	if (d.policy.action != POLICY_ALLOW) {
		node_count(n, NODE_CTR_sessions_denied);
		node_security_event(n, &s, &d.policy, now);
	} else if (!d.route.found) {
		node_count(n, NODE_CTR_sessions_no_egress);
		return NULL;
	}
	if (d.route.limits_relaxed)
		node_count(n, NODE_CTR_limits_relaxed);
	return install_session(n, peer, orig, &d, now);
}

/* ---- failover ---- */

/* Re-decides a pinned session whose egress has no usable path left. The
 * flow is installed again (a local breakout needs a NAT reply tuple). */
static struct flow *redecide(struct node *n, struct flow *f, monotime_ns now)
{
	struct flow_tuple orig = f->tuple[FLOW_DIR_ORIG];
	struct wg_peer *peer = f->data.peer;
	struct node_session_decision d;
	struct packet_info info = { .protocol = orig.protocol, .sport = orig.sport,
				    .dport = orig.dport, .dscp = f->data.dscp };
	struct policy_session s;
	struct flow saved = *f;

	tuple_addr(&orig, false, &info.src);
	tuple_addr(&orig, true, &info.dst);
	session_of(n, peer, &info, &s, now);
	node_decide(n, &s, now, true, &d);
	if (d.policy.action != POLICY_ALLOW || !d.route.found)
		return NULL;
	flow_table_remove(n->flows, f);
	f = install_session(n, peer, &orig, &d, now);
	if (!f)
		return NULL;
	f->created = saved.created;
	memcpy(f->packets, saved.packets, sizeof(f->packets));
	memcpy(f->bytes, saved.bytes, sizeof(f->bytes));
	f->tcp_state = saved.tcp_state;
	f->data.flags |= saved.data.flags & FLOW_F_SNI_DONE;
	f->data.dscp = saved.data.dscp;
	node_count(n, NODE_CTR_failover_other_egress);
	log_info("flow moved to egress %s: its egress had no usable path",
		 n->policy->nodes[d.route.node].name);
	return f;
}

/* The pinned path, or the best other path to the same egress (the session
 * survives: same egress IP), or NULL to re-decide. */
static struct node_peer *pinned_peer(struct node *n, struct flow *f)
{
	struct node_peer *np = node_peer_by_id(n, f->data.node_id);
	int best;

	if (!np || !np->peer)
		return NULL;
	if (f->data.path < np->n_paths && path_usable(np->paths[f->data.path].mon.state))
		return np;
	best = node_paths_best(np);
	if (best < 0)
		return NULL;
	f->data.path = (uint16_t)best;
	node_count(n, NODE_CTR_failover_same_egress);
	return np;
}

/* ---- sending ---- */

static bool push_fabric_header(struct pkt *p, const struct flow *f, uint16_t flags)
{
	struct fabric_data d = { .flags = flags, .class_id = f->data.class_id,
				 .pool_id = f->data.pool_id, .user_id = f->data.user_id };

	if ((size_t)(p->data - p->buf) < FABRIC_DATA_HDR_LEN + MESSAGE_DATA_HEADER_LEN)
		return false;
	p->data -= FABRIC_DATA_HDR_LEN;
	p->len += FABRIC_DATA_HDR_LEN;
	return fabric_encode_data_header(p->data, FABRIC_DATA_HDR_LEN, &d) ==
	       FABRIC_DATA_HDR_LEN;
}

/* Source NAT of an outgoing packet to the flow's reply destination. */
static void nat_out(struct node *n, struct pkt *p, struct packet_info *info,
		    const struct flow *f)
{
	struct ip_addr a;

	tuple_addr(&f->tuple[FLOW_DIR_REPLY], true, &a);
	packet_set_src(p->data, info, &a, f->tuple[FLOW_DIR_REPLY].dport);
	p->len = info->l3_len;
	n->breakout_bytes += p->len;
	wg_device_send_to_tun(n->dev, p);
}

static void forward_orig(struct node *n, struct flow *f, struct pkt *p,
			 struct packet_info *info, monotime_ns now)
{
	struct node_path *path;
	struct node_peer *np;

	if (f->data.flags & FLOW_F_LOCAL) {
		nat_out(n, p, info, f);
		return;
	}
	np = pinned_peer(n, f);
	if (!np) {
		f = redecide(n, f, now);
		if (!f) {
			drop(n, p, NODE_CTR_drop_no_egress);
			return;
		}
		if (f->data.flags & FLOW_F_LOCAL) {
			nat_out(n, p, info, f);
			return;
		}
		np = pinned_peer(n, f);
		if (!np) {
			drop(n, p, NODE_CTR_drop_no_egress);
			return;
		}
	}
	p->len = info->l3_len;
	if (!push_fabric_header(p, f, 0)) {
		drop(n, p, NODE_CTR_drop_no_buffer);
		return;
	}
	path = &np->paths[f->data.path];
	path->tx_packets++;
	path->tx_bytes += info->l3_len;
	wg_device_send_to_peer(n->dev, np->peer, p, &path->ep);
	node_count(n, NODE_CTR_fabric_data_tx);
}

/* ---- hook: a client's packet, decrypted ---- */

static enum wg_hook_verdict on_tunnel_rx(void *ctx, struct wg_peer *peer, struct pkt *p,
					 monotime_ns now)
{
	struct node *n = ctx;
	struct packet_info info;
	struct flow_tuple t;
	enum flow_dir dir;
	struct flow *f;

	if (!n->policy || !(n->policy->nodes[n->self_idx].roles & POLICY_ROLE_ACCESS))
		return WG_HOOK_PASS;
	if (packet_parse(p->data, p->len, &info) != PACKET_OK) {
		drop(n, p, NODE_CTR_drop_parse);
		return WG_HOOK_TAKEN;
	}
	if (policy_is_overlay(n->policy, &info.dst))
		return WG_HOOK_PASS;
	t = tuple_of(&info, 0);
	f = flow_table_lookup(n->flows, &t, &dir);
	if (!f) {
		dir = FLOW_DIR_ORIG;
		f = new_session(n, peer, &info, &t, now);
		if (!f) {
			drop(n, p, NODE_CTR_drop_no_egress);
			return WG_HOOK_TAKEN;
		}
		f->data.dscp = info.dscp;
	}
	flow_table_touch(n->flows, f, dir, info.l3_len, info.tcp_flags, now);
	if (f->data.flags & FLOW_F_DENIED) {
		drop(n, p, NODE_CTR_drop_denied);
		return WG_HOOK_TAKEN;
	}
	snoop_sni(n, f, p, &info, now);
	forward_orig(n, f, p, &info, now);
	return WG_HOOK_TAKEN;
}

/* ---- hook: fabric messages from other nodes ---- */

/* Remembers where a node's packets arrive from; returns the slot. */
static uint32_t reply_slot(struct node_peer *np, const struct wg_endpoint *ep)
{
	unsigned i;

	for (i = 0; i < np->n_reply_eps; i++)
		if (wg_sockaddr_equal(&np->reply_eps[i].addr, &ep->addr))
			break;
	if (i == np->n_reply_eps) {
		if (np->n_reply_eps < NODE_MAX_REPLY_EPS)
			np->n_reply_eps++;
		else
			i = np->next_reply_ep++ % NODE_MAX_REPLY_EPS;
	}
	np->reply_eps[i] = *ep;
	return i;
}

static struct flow *transit_flow(struct node *n, struct node_peer *np,
				 const struct fabric_data *d, const struct flow_tuple *orig,
				 monotime_ns now)
{
	const struct policy *p = n->policy;
	uint32_t pool = policy_find_pool_by_id(p, d->pool_id);
	struct flow_tuple reply;
	struct ip_addr addr;
	struct flow *f;

	if (pool == POLICY_NONE ||
	    !policy_pool_address(p, pool, n->self_idx, d->user_id, orig->family, &addr)) {
		node_count(n, NODE_CTR_drop_fabric_no_pool);
		return NULL;
	}
	if (!nat_reserve(n->flows, orig, &addr, 0, NAT_MAX_TRIES, &reply)) {
		node_count(n, NODE_CTR_drop_nat_exhausted);
		return NULL;
	}
	f = flow_table_insert(n->flows, orig, &reply, now);
	if (!f) {
		node_count(n, NODE_CTR_drop_flow_table_full);
		return NULL;
	}
	f->data.flags = FLOW_F_TRANSIT;
	f->data.node_id = np->id;
	f->data.peer = np->peer;
	f->data.class_id = d->class_id;
	f->data.pool_id = d->pool_id;
	f->data.user_id = d->user_id;
	f->data.policy_version = p->version;
	return f;
}

/* Egress side: a session's packet from an access node. */
static void egress_data(struct node *n, struct node_peer *np, struct pkt *p,
			const struct fabric_data *d, monotime_ns now)
{
	struct packet_info info;
	struct flow_tuple t;
	enum flow_dir dir;
	struct flow *f;

	if (packet_parse(p->data, p->len, &info) != PACKET_OK) {
		drop(n, p, NODE_CTR_drop_parse);
		return;
	}
	t = tuple_of(&info, np->id);
	f = flow_table_lookup(n->flows, &t, &dir);
	if (f && dir != FLOW_DIR_ORIG)
		f = NULL;
	if (!f && !(f = transit_flow(n, np, d, &t, now))) {
		pkt_free(&n->dev->pool, p);
		return;
	}
	f->data.endpoint_slot = reply_slot(np, &p->ep);
	flow_table_touch(n->flows, f, FLOW_DIR_ORIG, info.l3_len, info.tcp_flags, now);
	nat_out(n, p, &info, f);
}

/* The flow an ICMP error is about: the quoted packet is one the flow sent
 * (after NAT), so its tuple is the inverse of the flow's reply tuple. */
static struct flow *icmp_error_flow(struct node *n, const struct pkt *p,
				    const struct packet_info *info, struct packet_info *quoted,
				    uint16_t *quoted_off, enum flow_dir want)
{
	struct flow_tuple t, key;
	enum flow_dir dir;
	struct flow *f;

	if ((info->protocol != IPPROTO_ICMP && info->protocol != IPPROTO_ICMPV6) ||
	    !icmp_error_parse(p->data, p->len, info, quoted, quoted_off))
		return NULL;
	icmp_error_embedded_tuple(quoted, &t);
	if (want == FLOW_DIR_REPLY)
		flow_tuple_invert(&t, &key);
	else
		key = t;
	f = flow_table_lookup(n->flows, &key, &dir);
	return f && dir == want ? f : NULL;
}

static bool endpoint_same(const struct wg_endpoint *a, const struct wg_endpoint *b)
{
	if (!wg_sockaddr_equal(&a->addr, &b->addr))
		return false;
	if (!a->has_src || !b->has_src)
		return true;
	return !memcmp(&a->src6, &b->src6, a->addr.sa.sa_family == AF_INET ? 4 : 16);
}

/* Counts a reply on the path it came over: the one whose endpoint it
 * arrived from (the egress answers over the endpoint the session came on),
 * else, behind a NAT that changed the address, the flow's pinned path. */
static void count_path_rx(struct node_peer *np, const struct flow *f,
			  const struct wg_endpoint *from, uint16_t len)
{
	struct node_path *pinned = f && f->data.node_id == np->id && f->data.path < np->n_paths ?
				   &np->paths[f->data.path] : NULL;
	struct node_path *path = pinned && endpoint_same(&pinned->ep, from) ? pinned : NULL;

	/* Usually the pinned path; else search (a reply on another path). */
	for (size_t k = 0; k < np->n_paths && !path; k++)
		if (endpoint_same(&np->paths[k].ep, from))
			path = &np->paths[k];
	if (!path)
		path = pinned;
	if (!path)
		return;
	path->rx_packets++;
	path->rx_bytes += len;
}

/* Access side: a reply from an egress node, back to the client. */
static void access_reply(struct node *n, struct node_peer *np, struct pkt *p,
			 monotime_ns now)
{
	struct packet_info info;
	struct flow_tuple t;
	enum flow_dir dir;
	struct flow *f;

	if (packet_parse(p->data, p->len, &info) != PACKET_OK) {
		drop(n, p, NODE_CTR_drop_parse);
		return;
	}
	t = tuple_of(&info, 0);
	f = flow_table_lookup(n->flows, &t, &dir);
	if (!f) {
		struct packet_info quoted;
		uint16_t off;

		/* An ICMP error the egress un-NATed: it quotes the packet
		 * exactly as the client sent it. */
		f = icmp_error_flow(n, p, &info, &quoted, &off, FLOW_DIR_ORIG);
		dir = FLOW_DIR_REPLY;
		if (f)
			node_count(n, NODE_CTR_icmp_errors_returned);
	}
	count_path_rx(np, f, &p->ep, info.l3_len);
	if (!f || dir != FLOW_DIR_REPLY || !f->data.peer) {
		drop(n, p, NODE_CTR_drop_reply_no_flow);
		return;
	}
	flow_table_touch(n->flows, f, dir, info.l3_len, info.tcp_flags, now);
	snoop_dns(n, p, &info);
	p->len = info.l3_len;
	wg_device_send_to_peer(n->dev, f->data.peer, p, NULL);
	node_count(n, NODE_CTR_fabric_reply_rx);
}

static void fabric_data(struct node *n, struct node_peer *np, struct pkt *p, monotime_ns now)
{
	struct fabric_data d;
	const uint8_t *inner;
	size_t inner_len;

	if (!fabric_decode_data(p->data, p->len, &d, &inner, &inner_len)) {
		drop(n, p, NODE_CTR_drop_fabric_malformed);
		return;
	}
	p->data = (uint8_t *)inner;
	p->len = inner_len;
	if (d.flags & FABRIC_DATA_REPLY) {
		access_reply(n, np, p, now);
		return;
	}
	node_count(n, NODE_CTR_fabric_data_rx);
	if (!(n->policy->nodes[n->self_idx].roles & POLICY_ROLE_EGRESS)) {
		drop(n, p, NODE_CTR_drop_fabric_not_egress);
		return;
	}
	egress_data(n, np, p, &d, now);
}

/* WireGuard pads payloads to 16 bytes; probes have exact lengths. */
static size_t probe_reply_len(const struct pkt *p)
{
	struct cursor c = cursor_init(p->data, p->len);
	uint8_t count = 0;

	rd_ptr(&c, FABRIC_REPLY_BASE_LEN - 1);
	if (!rd_u8(&c, &count))
		return p->len;
	return FABRIC_REPLY_BASE_LEN + (size_t)count * FABRIC_REGION_LEN;
}

static void fabric_probe_msgs(struct node *n, struct node_peer *np, struct pkt *p,
			      enum fabric_type type, monotime_ns now)
{
	struct fabric_probe_reply r;
	struct fabric_probe pr;

	if (type == FABRIC_PROBE) {
		if (!fabric_decode_probe(p->data, p->len < FABRIC_PROBE_LEN ? p->len :
					 FABRIC_PROBE_LEN, &pr)) {
			node_count(n, NODE_CTR_drop_fabric_malformed);
			return;
		}
		node_count(n, NODE_CTR_probes_rx);
		node_paths_on_probe(n, np, &pr, &p->ep, now);
		return;
	}
	size_t len = probe_reply_len(p);

	if (len > p->len || !fabric_decode_probe_reply(p->data, len, &r)) {
		node_count(n, NODE_CTR_drop_fabric_malformed);
		return;
	}
	node_paths_on_reply(n, np, &r, now);
}

static void on_fabric_rx(void *ctx, struct wg_peer *peer, struct pkt *p, monotime_ns now)
{
	struct node *n = ctx;
	struct node_peer *np = n->policy ? node_peer_by_wg(n, peer) : NULL;
	enum fabric_type type;

	if (!np) {
		drop(n, p, NODE_CTR_drop_fabric_not_node);
		return;
	}
	if (!fabric_decode_type(p->data, p->len, &type)) {
		drop(n, p, NODE_CTR_drop_fabric_bad_type);
		return;
	}
	if (type == FABRIC_DATA) {
		fabric_data(n, np, p, now);
		return;
	}
	fabric_probe_msgs(n, np, p, type, now);
	pkt_free(&n->dev->pool, p);
}

/* ---- hook: a packet from the TUN ---- */

/* A reply from the internet to a NATed session: back to where it came
 * from. Anything else is plain WireGuard. */
/* Sends a packet already rewritten for the client back where its flow
 * came from: the client's peer (local breakout) or the origin node. */
static void return_to_origin(struct node *n, struct flow *f, struct pkt *p,
			     const struct packet_info *info)
{
	struct node_peer *np;

	if (f->data.flags & FLOW_F_LOCAL) {
		snoop_dns(n, p, info);
		wg_device_send_to_peer(n->dev, f->data.peer, p, NULL);
		return;
	}
	np = node_peer_by_id(n, f->data.node_id);
	if (!np || !np->peer || f->data.endpoint_slot >= np->n_reply_eps ||
	    !push_fabric_header(p, f, FABRIC_DATA_REPLY)) {
		drop(n, p, NODE_CTR_drop_reply_no_flow);
		return;
	}
	wg_device_send_to_peer(n->dev, np->peer, p, &np->reply_eps[f->data.endpoint_slot]);
	node_count(n, NODE_CTR_fabric_reply_tx);
}

/* An ICMP error about a NATed flow ("fragmentation needed", "packet too
 * big", unreachable, time exceeded): un-NAT the outer destination and the
 * quoted source, so path MTU discovery works through the egress. */
static enum wg_hook_verdict tun_icmp_error(struct node *n, struct pkt *p,
					   struct packet_info *info)
{
	struct packet_info quoted;
	uint16_t off;
	struct ip_addr a;
	struct flow *f = icmp_error_flow(n, p, info, &quoted, &off, FLOW_DIR_REPLY);

	if (!f || !(f->data.flags & (FLOW_F_LOCAL | FLOW_F_TRANSIT)))
		return WG_HOOK_PASS;
	tuple_addr(&f->tuple[FLOW_DIR_ORIG], false, &a);
	icmp_error_rewrite(p->data, info, &quoted, off, &a, f->tuple[FLOW_DIR_ORIG].sport);
	p->len = info->l3_len;
	node_count(n, NODE_CTR_icmp_errors_returned);
	return_to_origin(n, f, p, info);
	return WG_HOOK_TAKEN;
}

/* A reply from the internet to a NATed session: back to where it came
 * from. Anything else is plain WireGuard. */
static enum wg_hook_verdict on_tun_rx(void *ctx, struct pkt *p, monotime_ns now)
{
	struct node *n = ctx;
	struct packet_info info;
	struct flow_tuple t;
	struct ip_addr a;
	enum flow_dir dir;
	struct flow *f;

	if (!n->policy || packet_parse(p->data, p->len, &info) != PACKET_OK)
		return WG_HOOK_PASS;
	t = tuple_of(&info, 0);
	f = flow_table_lookup(n->flows, &t, &dir);
	if (!f)
		return tun_icmp_error(n, p, &info);
	if (dir != FLOW_DIR_REPLY || !(f->data.flags & (FLOW_F_LOCAL | FLOW_F_TRANSIT)))
		return WG_HOOK_PASS;
	flow_table_touch(n->flows, f, dir, info.l3_len, info.tcp_flags, now);
	tuple_addr(&f->tuple[FLOW_DIR_ORIG], false, &a);
	packet_set_dst(p->data, &info, &a, f->tuple[FLOW_DIR_ORIG].sport);
	p->len = info.l3_len;
	return_to_origin(n, f, p, &info);
	return WG_HOOK_TAKEN;
}

const struct wg_device_hooks node_hooks = {
	.fabric_rx = on_fabric_rx,
	.tunnel_rx = on_tunnel_rx,
	.tun_rx = on_tun_rx,
};

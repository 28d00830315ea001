/* device_conf: applying a UAPI "set" to a device and describing the device
 * for a "get". Semantics follow the Linux driver's netlink set_device and
 * wireguard-go's IpcSet, except that a request is validated as a whole
 * first: what cannot be applied is refused before anything changes. */
#include "wg/device.h"
#include "wg/peer.h"
#include "crypto/crypto.h"
#include "common/log.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

static int validate_conf(const struct wg_device_conf *conf)
{
	for (size_t i = 0; i < conf->n_peers; i++) {
		const struct wg_peer_conf *pc = &conf->peers[i];

		for (size_t j = 0; j < pc->n_allowed_ips; j++) {
			const struct wg_allowed_ip *ip = &pc->allowed_ips[j];

			if ((ip->family == AF_INET && ip->cidr > 32) ||
			    (ip->family == AF_INET6 && ip->cidr > 128) ||
			    (ip->family != AF_INET && ip->family != AF_INET6))
				return -EINVAL;
		}
		if (pc->has_endpoint && pc->endpoint.sa.sa_family != AF_INET &&
		    pc->endpoint.sa.sa_family != AF_INET6)
			return -EINVAL;
	}
	return 0;
}

static void set_private_key(struct wg_device *dev, const uint8_t key[NOISE_PUBLIC_KEY_LEN])
{
	struct wg_peer *peer, *next;

	if (crypto_is_zero(key, NOISE_PUBLIC_KEY_LEN)) {
		crypto_wipe(&dev->identity, sizeof(dev->identity));
	} else {
		noise_set_static_identity_private_key(&dev->identity, key);
	}
	cookie_checker_precompute_device_keys(&dev->cookie_checker,
					      dev->identity.static_public);
	for (peer = dev->peers_head; peer; peer = next) {
		next = peer->list_next;
		/* A peer with our own public key makes no sense: drop it. */
		if (dev->identity.has_identity &&
		    !memcmp(peer->public_key, dev->identity.static_public, NOISE_PUBLIC_KEY_LEN)) {
			wg_peer_remove(peer);
			continue;
		}
		noise_handshake_precompute_static_static(&peer->handshake);
		wg_peer_expire_current_keypair(peer);
	}
}

static int apply_allowed_ips(struct wg_device *dev, struct wg_peer *peer,
			     const struct wg_peer_conf *pc)
{
	if (pc->replace_allowed_ips)
		allowedips_remove_by_peer(&dev->allowedips, peer);
	for (size_t j = 0; j < pc->n_allowed_ips; j++) {
		const struct wg_allowed_ip *ip = &pc->allowed_ips[j];
		int ret = allowedips_insert(&dev->allowedips, ip->family, ip->addr, ip->cidr, peer);

		if (ret < 0)
			return ret;
	}
	return 0;
}

static int apply_peer(struct wg_device *dev, const struct wg_peer_conf *pc, monotime_ns now)
{
	static const uint8_t zero_psk[NOISE_SYMMETRIC_KEY_LEN];
	struct wg_peer *peer = wg_peer_lookup(dev, pc->public_key);
	bool was_keepalive_off;

	if (pc->remove) {
		if (peer)
			wg_peer_remove(peer);
		return 0;
	}
	if (dev->identity.has_identity &&
	    !memcmp(pc->public_key, dev->identity.static_public, NOISE_PUBLIC_KEY_LEN))
		return 0;	/* silently ignored, as the Linux driver does */
	if (!peer && pc->update_only)
		return 0;
	if (!peer) {
		peer = wg_peer_create(dev, pc->public_key,
				      pc->has_preshared_key ? pc->preshared_key : zero_psk);
		if (!peer)
			return -ENOMEM;
	}
	if (pc->has_preshared_key)
		memcpy(peer->handshake.preshared_key, pc->preshared_key, NOISE_SYMMETRIC_KEY_LEN);
	if (pc->has_endpoint) {
		struct wg_endpoint ep = { .addr = pc->endpoint };

		wg_peer_set_endpoint(peer, &ep);
	}
	was_keepalive_off = peer->timers.persistent_keepalive_interval == 0;
	if (pc->has_persistent_keepalive)
		peer->timers.persistent_keepalive_interval = pc->persistent_keepalive_interval;
	if (apply_allowed_ips(dev, peer, pc) < 0)
		return -ENOMEM;
	/* Turning persistent keepalive on sends one now, so a peer behind NAT
	 * becomes reachable without waiting for traffic. */
	if (was_keepalive_off && peer->timers.persistent_keepalive_interval &&
	    wg_endpoint_is_set(&peer->endpoint) && dev->identity.has_identity)
		wg_send_keepalive(peer, now);
	return 0;
}

int wg_device_set_conf(struct wg_device *dev, const struct wg_device_conf *conf,
		       monotime_ns now)
{
	int ret = validate_conf(conf);

	if (ret < 0)
		return ret;
	if (conf->has_listen_port) {
		uint16_t actual = conf->listen_port;

		ret = dev->io->set_listen_port(dev->io_ctx, conf->listen_port, &actual);
		if (ret < 0)
			return ret;
		dev->listen_port = actual;
	}
	if (conf->has_fwmark) {
		ret = dev->io->set_fwmark(dev->io_ctx, conf->fwmark);
		if (ret < 0)
			return ret;
		dev->fwmark = conf->fwmark;
	}
	if (conf->has_private_key)
		set_private_key(dev, conf->private_key);
	if (conf->replace_peers)
		while (dev->peers_head)
			wg_peer_remove(dev->peers_head);
	for (size_t i = 0; i < conf->n_peers; i++) {
		ret = apply_peer(dev, &conf->peers[i], now);
		if (ret < 0)
			return ret;
	}
	wg_device_flush(dev);
	return 0;
}

static bool add_allowed_ip(void *ctx, int family, const uint8_t *addr, uint8_t cidr)
{
	struct wg_allowed_ip ip = { .family = family, .cidr = cidr };

	memcpy(ip.addr, addr, family == AF_INET ? 4 : 16);
	return wg_peer_conf_add_allowed_ip(ctx, &ip);
}

static int describe_peer(const struct wg_device *dev, const struct wg_peer *peer,
			 struct wg_peer_conf *pc)
{
	memcpy(pc->public_key, peer->public_key, NOISE_PUBLIC_KEY_LEN);
	pc->has_preshared_key = true;
	memcpy(pc->preshared_key, peer->handshake.preshared_key, NOISE_SYMMETRIC_KEY_LEN);
	pc->has_endpoint = wg_endpoint_is_set(&peer->endpoint);
	pc->endpoint = peer->endpoint.addr;
	pc->has_persistent_keepalive = true;
	pc->persistent_keepalive_interval = peer->timers.persistent_keepalive_interval;
	pc->last_handshake = peer->walltime_last_handshake;
	pc->rx_bytes = peer->rx_bytes;
	pc->tx_bytes = peer->tx_bytes;
	allowedips_walk_by_peer(&dev->allowedips, (void *)peer, add_allowed_ip, pc);
	return 0;
}

int wg_device_get_conf(const struct wg_device *dev, struct wg_device_conf *out)
{
	memset(out, 0, sizeof(*out));
	out->has_private_key = dev->identity.has_identity;
	memcpy(out->private_key, dev->identity.static_private, NOISE_PUBLIC_KEY_LEN);
	out->has_listen_port = dev->listen_port != 0;
	out->listen_port = dev->listen_port;
	out->has_fwmark = dev->fwmark != 0;
	out->fwmark = dev->fwmark;
	for (const struct wg_peer *peer = dev->peers_head; peer; peer = peer->list_next) {
		struct wg_peer_conf *pc = wg_device_conf_add_peer(out);

		if (!pc || describe_peer(dev, peer, pc) < 0) {
			wg_device_conf_free(out);
			return -ENOMEM;
		}
	}
	return 0;
}

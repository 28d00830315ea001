/* config: a device's configuration as the UAPI speaks it, in both
 * directions. A "set" request parses into a struct wg_device_conf with a
 * has_* presence flag per field (partial updates, as in wireguard-tools);
 * a "get" request is answered from one filled in by the device. */
#ifndef EGRESS_WG_CONFIG_H
#define EGRESS_WG_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "wg/endpoint.h"
#include "wg/messages.h"

struct wg_allowed_ip {
	int family;			/* AF_INET or AF_INET6 */
	uint8_t addr[16];		/* network byte order; v4 in the first 4 */
	uint8_t cidr;
};

struct wg_peer_conf {
	uint8_t public_key[NOISE_PUBLIC_KEY_LEN];

	/* set only */
	bool remove;
	bool update_only;
	bool replace_allowed_ips;

	bool has_preshared_key;
	uint8_t preshared_key[NOISE_SYMMETRIC_KEY_LEN];	/* all zero = none */
	bool has_endpoint;
	union wg_sockaddr endpoint;
	bool has_persistent_keepalive;
	uint16_t persistent_keepalive_interval;		/* seconds, 0 = off */

	struct wg_allowed_ip *allowed_ips;
	size_t n_allowed_ips, cap_allowed_ips;

	/* get only */
	struct timespec last_handshake;			/* wall clock, 0 = never */
	uint64_t rx_bytes, tx_bytes;
};

struct wg_device_conf {
	bool has_private_key;
	uint8_t private_key[NOISE_PUBLIC_KEY_LEN];	/* all zero = remove */
	bool has_listen_port;
	uint16_t listen_port;
	bool has_fwmark;
	uint32_t fwmark;
	bool replace_peers;

	struct wg_peer_conf *peers;
	size_t n_peers, cap_peers;
};

/* Appends a zeroed peer (NULL when out of memory). */
struct wg_peer_conf *wg_device_conf_add_peer(struct wg_device_conf *c);
bool wg_peer_conf_add_allowed_ip(struct wg_peer_conf *p, const struct wg_allowed_ip *ip);
/* Frees the arrays and wipes every key. */
void wg_device_conf_free(struct wg_device_conf *c);

/* Masks the host bits of ip->addr beyond ip->cidr (wg(8) accepts 10.0.0.1/8). */
void wg_allowed_ip_canonicalize(struct wg_allowed_ip *ip);

#endif

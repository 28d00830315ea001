/* null_io: a struct wg_device_io that accepts every send and write and
 * drops it, and binds nothing. For fuzzers and tests that drive a device
 * without a network. */
#include "wg/device.h"

static size_t null_udp_send(void *ctx, struct pkt **pkts, size_t n)
{
	(void)ctx;
	(void)pkts;
	return n;
}

static size_t null_tun_write(void *ctx, struct pkt **pkts, size_t n)
{
	(void)ctx;
	(void)pkts;
	return n;
}

static int null_set_listen_port(void *ctx, uint16_t port, uint16_t *actual)
{
	(void)ctx;
	*actual = port;
	return 0;
}

static int null_set_fwmark(void *ctx, uint32_t fwmark)
{
	(void)ctx;
	(void)fwmark;
	return 0;
}

const struct wg_device_io wg_null_io = {
	.udp_send = null_udp_send,
	.tun_write = null_tun_write,
	.set_listen_port = null_set_listen_port,
	.set_fwmark = null_set_fwmark,
};

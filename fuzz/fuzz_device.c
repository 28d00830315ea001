/* fuzz_device: arbitrary bytes as an underlay datagram and as a TUN packet
 * into a device with an identity and one peer: the whole receive path
 * (type, queueing, MACs, index lookup, inner-packet parsing) and the
 * transmit path's header parsing must never crash or leak. */
#include <stdint.h>
#include <string.h>

#include "crypto/crypto.h"
#include "wg/device.h"

static struct wg_device dev;

static void setup(void)
{
	struct wg_device_conf c = { 0 };
	struct wg_peer_conf *p;
	struct wg_allowed_ip ip = { .family = AF_INET, .cidr = 0 };

	crypto_init();
	wg_device_init(&dev, &wg_null_io, NULL);
	c.has_private_key = true;
	memset(c.private_key, 0x42, sizeof(c.private_key));
	p = wg_device_conf_add_peer(&c);
	memset(p->public_key, 0x17, sizeof(p->public_key));
	p->has_endpoint = true;
	wg_sockaddr_parse("198.18.0.2:51820", &p->endpoint);
	wg_peer_conf_add_allowed_ip(p, &ip);
	wg_device_set_conf(&dev, &c, SECONDS(1000));
	wg_device_conf_free(&c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	static monotime_ns now = SECONDS(1000);
	struct pkt *p;

	if (!ready) {
		setup();
		ready = 1;
	}
	if (size > MESSAGE_MAX_LEN)
		return 0;
	now += MSECONDS(10);
	p = pkt_alloc(&dev.pool);
	memcpy(p->data, data, size);
	p->len = size;
	wg_sockaddr_parse("198.18.0.9:4242", &p->ep.addr);
	wg_device_receive(&dev, &p, 1, now);
	wg_device_process_handshakes(&dev, 64, now);
	if (size <= PKT_MAX_INNER) {
		p = pkt_alloc(&dev.pool);
		memcpy(p->data, data, size);
		p->len = size;
		wg_device_xmit(&dev, &p, 1, now);
	}
	wg_device_run_timers(&dev, now);
	wg_device_flush(&dev);
	return 0;
}

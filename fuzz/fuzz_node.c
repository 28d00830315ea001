/* fuzz_node: a node under a policy, fed arbitrary bytes the four ways the
 * outside reaches it: as a client's decrypted packet (classification, flow
 * table, DNS and SNI learning, NAT, fabric encapsulation), as a fabric
 * message from another node (DATA, PROBE, PROBE_REPLY), as a packet from
 * the TUN (NAT replies), and as a control-socket request (paths, flows,
 * explain and their arguments). The first byte picks the way. Nothing may
 * crash, leak or trip UBSan. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "crypto/crypto.h"
#include "node/node.h"
#include "node/report.h"
#include "wg/peer.h"

#define KEY_ACC    "TOAYmQD0Iyq+PTa0+PqjNNik0t0K67HIEuEW7aqdBIE="
#define KEY_CLIENT "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE="
#define KEY_FRA1   "AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI="

static const char policy_text[] =
	"version: 1\n"
	"overlay: [100.64.0.0/10]\n"
	"settings: {flows: {max: 512}}\n"
	"regions: {eu: {countries: [DE], prefixes: [203.0.113.0/25], probe_targets: [127.0.0.1]}}\n"
	"nodes:\n"
	"  acc: {region: eu, roles: [access, egress], key: \"" KEY_ACC "\", links: [{name: internet}]}\n"
	"  fra1: {region: eu, roles: [egress], key: \"" KEY_FRA1 "\",\n"
	"         links: [{name: internet, endpoint: \"198.18.0.2:51820\"}]}\n"
	"pools: {default: {fra1: [198.51.100.0/28]}, home: {acc: [198.51.100.16/28, 2001:db8:eeee::/64]}}\n"
	"groups: [eng]\n"
	"users: {alice: {groups: [eng], devices: [{name: laptop, key: \"" KEY_CLIENT "\",\n"
	"        addresses: [100.64.1.2/32, 2001:db8:100::2/128]}]}}\n"
	"destinations: {zoom: {domains: [\"*.zoom.us\"]}}\n"
	"classes:\n"
	"  - {name: zoom, match: {destinations: [zoom]}, objective: latency}\n"
	"  - {name: home, match: {ports: [7004]}, pool: home}\n"
	"  - {name: telnet, match: {protocol: tcp, ports: [23]}}\n"
	"rules: [{name: no-telnet, action: deny, classes: [telnet]}]\n"
	"default: allow\n";

static struct wg_device dev;
static struct node node;
static struct wg_peer *client, *fra1;
static monotime_ns clock_ns = SECONDS(1000);

static struct wg_peer *peer_by_b64(const char *b64)
{
	uint8_t key[32];

	if (EVP_DecodeBlock(key, (const unsigned char *)b64, 44) < 32)
		abort();
	return wg_peer_lookup(&dev, key);
}

static void setup(void)
{
	struct policy_errors errs = { 0 };
	struct policy *p;
	const char *why;

	crypto_init();
	wg_device_init(&dev, &wg_null_io, NULL);
	p = policy_load_buffer("fuzz.yaml", policy_text, sizeof(policy_text) - 1, NULL, &errs);
	if (!p || node_init(&node, &dev, "acc", NULL) < 0 ||
	    node_apply_policy(&node, p, clock_ns, &why) < 0)
		abort();
	policy_unref(p);
	wg_device_set_hooks(&dev, &node_hooks, &node);
	client = peer_by_b64(KEY_CLIENT);
	fra1 = peer_by_b64(KEY_FRA1);
	if (!client || !fra1)
		abort();
}

static struct pkt *packet_of(const uint8_t *data, size_t len)
{
	struct pkt *p = pkt_alloc(&dev.pool);

	if (p && len <= PKT_MAX_INNER) {
		memcpy(p->data, data, len);
		p->len = len;
		wg_sockaddr_parse("198.18.0.2:51820", &p->ep.addr);
	}
	return p;
}

static void control_request(const uint8_t *data, size_t len)
{
	char line[4097];
	struct report_args args;
	const char *cmd, *err;
	json_t *j = NULL;

	len = len < sizeof(line) - 1 ? len : sizeof(line) - 1;
	memcpy(line, data, len);
	line[len] = '\0';
	cmd = report_args_parse(line, &args, &err);
	if (!cmd)
		return;
	if (!strcmp(cmd, "paths"))
		j = node_report_paths(&node, clock_ns);
	else if (!strcmp(cmd, "flows"))
		j = node_report_flows(&node, &args, clock_ns);
	else if (!strcmp(cmd, "explain"))
		j = node_report_explain(&node, &args, clock_ns);
	if (j) {
		free(json_dumps(j, JSON_COMPACT));
		json_decref(j);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pkt *p;

	if (!dev.io)
		setup();
	if (size < 1)
		return 0;
	clock_ns += MSECONDS(7);
	if (data[0] % 4 == 3) {
		control_request(data + 1, size - 1);
		return 0;
	}
	p = packet_of(data + 1, size - 1);
	if (!p)
		return 0;
	if (data[0] % 4 == 0) {
		if (node_hooks.tunnel_rx(&node, client, p, clock_ns) == WG_HOOK_PASS)
			pkt_free(&dev.pool, p);
	} else if (data[0] % 4 == 1) {
		node_hooks.fabric_rx(&node, fra1, p, clock_ns);
	} else if (node_hooks.tun_rx(&node, p, clock_ns) == WG_HOOK_PASS) {
		pkt_free(&dev.pool, p);
	}
	node_tick(&node, clock_ns);
	wg_device_flush(&dev);
	return 0;
}

/* fuzz_uapi: arbitrary bytes on a UAPI connection. The input is framed with
 * uapi_request_length and every request handled against a fake device that
 * remembers the last set and answers gets from it, so parsed values also go
 * through the formatter. Checks the answer framing of every request, and
 * uapi_parse_set on the raw input with a tiny error buffer. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wg/config.h"
#include "wg/uapi.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fuzz_dev {
	struct wg_device_conf state;
};

static int fuzz_get(void *ctx, struct wg_device_conf *out)
{
	const struct wg_device_conf *s = &((struct fuzz_dev *)ctx)->state;

	*out = *s;
	out->peers = NULL;
	out->n_peers = out->cap_peers = 0;
	for (size_t i = 0; i < s->n_peers; i++) {
		struct wg_peer_conf *p = wg_device_conf_add_peer(out);

		if (!p)
			return -12;
		*p = s->peers[i];
		p->allowed_ips = NULL;
		p->n_allowed_ips = p->cap_allowed_ips = 0;
		p->rx_bytes = UINT64_MAX - i;
		p->last_handshake.tv_sec = (time_t)i;
		for (size_t j = 0; j < s->peers[i].n_allowed_ips; j++)
			if (!wg_peer_conf_add_allowed_ip(p, &s->peers[i].allowed_ips[j]))
				return -12;
	}
	return 0;
}

static int fuzz_set(void *ctx, const struct wg_device_conf *conf)
{
	struct fuzz_dev *d = ctx;
	struct wg_device_conf copy;

	/* What the parser promises the device. */
	for (size_t i = 0; i < conf->n_peers; i++) {
		const struct wg_peer_conf *p = &conf->peers[i];

		if (p->remove && (p->n_allowed_ips || p->has_endpoint ||
				  p->has_preshared_key || p->has_persistent_keepalive))
			abort();
		for (size_t j = 0; j < p->n_allowed_ips; j++) {
			struct wg_allowed_ip ip = p->allowed_ips[j];

			if ((ip.family == AF_INET && ip.cidr > 32) ||
			    (ip.family == AF_INET6 && ip.cidr > 128) ||
			    (ip.family != AF_INET && ip.family != AF_INET6))
				abort();
			wg_allowed_ip_canonicalize(&ip);
			if (memcmp(&ip, &p->allowed_ips[j], sizeof(ip)) != 0)
				abort();
		}
		if (p->has_endpoint && p->endpoint.sa.sa_family != AF_INET &&
		    p->endpoint.sa.sa_family != AF_INET6)
			abort();
	}
	if (conf->listen_port == 1)
		return -98;
	if (fuzz_get((void *)&(struct fuzz_dev){ .state = *conf }, &copy) != 0) {
		wg_device_conf_free(&copy);
		return -12;
	}
	wg_device_conf_free(&d->state);
	d->state = copy;
	return 0;
}

static const struct uapi_ops fuzz_ops = { .get = fuzz_get, .set = fuzz_set };

static void check_answer(const char *resp, size_t len)
{
	static const char tail[] = "\n\n";

	if (!resp || len < 9 || memcmp(resp + len - 2, tail, 2) != 0)
		abort();
	/* the last line is errno=N */
	for (size_t i = len - 2; i > 0; i--) {
		if (resp[i - 1] == '\n') {
			if (memcmp(resp + i, "errno=", 6) != 0)
				abort();
			return;
		}
	}
	if (memcmp(resp, "errno=", 6) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	struct fuzz_dev dev = { 0 };
	struct wg_device_conf conf;
	char err[8];
	size_t off = 0;

	while (off < size) {
		ssize_t n = uapi_request_length(in + off, size - off);
		char *resp = NULL;
		size_t resp_len = 0;
		int r;

		if (n <= 0)
			break;
		if ((size_t)n > size - off)
			abort();
		r = uapi_handle_request(&fuzz_ops, &dev, in + off, (size_t)n, &resp, &resp_len);
		if (r < 0) {
			if (resp)
				abort();
			break;
		}
		check_answer(resp, resp_len);
		uapi_free_response(resp, resp_len);
		off += (size_t)n;
	}
	wg_device_conf_free(&dev.state);

	if (uapi_parse_set(in, size, &conf, err, sizeof(err)) == 0) {
		char *out;
		size_t outlen;

		if (uapi_format_get(&conf, &out, &outlen) == 0)
			uapi_free_response(out, outlen);
		wg_device_conf_free(&conf);
	} else if (conf.peers || memchr(err, '\0', sizeof(err)) == NULL) {
		abort();
	}
	return 0;
}

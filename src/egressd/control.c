/* control: the egressctl protocol on egressd's side. */
#include "egressd/control.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

ssize_t control_request_length(const char *buf, size_t len)
{
	const char *end = memmem(buf, len, "\n\n", 2);

	if (end)
		return end - buf + 2;
	return len > CONTROL_MAX_REQUEST ? -EMSGSIZE : 0;
}

static int answer_stats(const struct wg_device *dev, char **resp, size_t *resp_len)
{
	size_t cap = 64 * WG_CTR__MAX + 64, len = 0;
	char *out = malloc(cap);

	if (!out)
		return -ENOMEM;
	for (int i = 0; i < WG_CTR__MAX; i++)
		len += (size_t)snprintf(out + len, cap - len, "%s %llu\n", wg_counter_names[i],
					(unsigned long long)dev->counters[i]);
	len += (size_t)snprintf(out + len, cap - len, "peers %zu\npacket_buffers %zu\n\n",
				dev->n_peers, dev->pool.allocated);
	*resp = out;
	*resp_len = len;
	return 0;
}

int control_handle_request(void *ctx, const char *req, size_t len, char **resp,
			   size_t *resp_len)
{
	const struct wg_device *dev = ctx;

	if (len >= 7 && !memcmp(req, "stats\n\n", 7))
		return answer_stats(dev, resp, resp_len);
	*resp = strdup("error=unknown command\n\n");
	if (!*resp)
		return -ENOMEM;
	*resp_len = strlen(*resp);
	return 0;
}

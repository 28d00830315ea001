/* control: the egressctl protocol on egressd's side: parse the request
 * line, ask the device or the node, answer with an empty line at the end. */
#include "egressd/control.h"
#include "node/report.h"

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

static int answer_stats(const struct wg_device *dev, const struct node *node, char **resp,
			size_t *resp_len)
{
	size_t cap = 64 * (WG_CTR__MAX + NODE_CTR__MAX) + 512, len = 0;
	char *out = malloc(cap);

	if (!out)
		return -ENOMEM;
	for (int i = 0; i < WG_CTR__MAX; i++)
		len += (size_t)snprintf(out + len, cap - len, "%s %llu\n", wg_counter_names[i],
					(unsigned long long)dev->counters[i]);
	len += (size_t)snprintf(out + len, cap - len, "peers %zu\npacket_buffers %zu\n",
				dev->n_peers, dev->pool.allocated);
	if (node)
		len += node_report_counters(node, out + len, cap - len - 2);
	len += (size_t)snprintf(out + len, cap - len, "\n");
	*resp = out;
	*resp_len = len;
	return 0;
}

static int answer_json(json_t *j, char **resp, size_t *resp_len)
{
	char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
	size_t len;

	json_decref(j);
	if (!text)
		return -ENOMEM;
	len = strlen(text);
	*resp = malloc(len + 3);
	if (!*resp) {
		free(text);
		return -ENOMEM;
	}
	memcpy(*resp, text, len);
	memcpy(*resp + len, "\n\n", 3);
	*resp_len = len + 2;
	free(text);
	return 0;
}

static int answer_error(const char *msg, char **resp, size_t *resp_len)
{
	return answer_json(json_pack("{s:s}", "error", msg), resp, resp_len);
}

int control_handle_request(struct wg_device *dev, struct node *node, const char *req,
			   size_t len, char **resp, size_t *resp_len)
{
	char line[CONTROL_MAX_REQUEST + 1];
	const char *nl = memchr(req, '\n', len), *cmd, *error;
	struct report_args args;
	monotime_ns now = monotime_now();

	len = nl ? (size_t)(nl - req) : len;
	if (len > CONTROL_MAX_REQUEST)
		return answer_error("request too long", resp, resp_len);
	memcpy(line, req, len);
	line[len] = '\0';
	cmd = report_args_parse(line, &args, &error);
	if (!cmd)
		return answer_error(error, resp, resp_len);
	if (!strcmp(cmd, "stats"))
		return answer_stats(dev, node, resp, resp_len);
	if (!node && !strcmp(cmd, "paths"))
		return answer_json(json_pack("{s:n, s:n, s:[], s:[], s:[]}", "node",
					     "policy_version", "paths", "regions", "peers"),
				   resp, resp_len);
	if (!node && (!strcmp(cmd, "flows") || !strcmp(cmd, "explain")))
		return answer_error("no policy: egressd runs as plain WireGuard (start it with --policy)",
				    resp, resp_len);
	if (!strcmp(cmd, "paths"))
		return answer_json(node_report_paths(node, now), resp, resp_len);
	if (!strcmp(cmd, "flows"))
		return answer_json(node_report_flows(node, &args, now), resp, resp_len);
	if (!strcmp(cmd, "explain"))
		return answer_json(node_report_explain(node, &args, now), resp, resp_len);
	*resp = strdup("error=unknown command\n\n");
	if (!*resp)
		return -ENOMEM;
	*resp_len = strlen(*resp);
	return 0;
}

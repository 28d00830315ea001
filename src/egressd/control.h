/* control: egressd's own control socket, /var/run/egress/IFNAME.ctl, for
 * egressctl. A request is one line "COMMAND key=value ..." and an empty
 * line. "stats" answers "name value" lines (device and node counters);
 * "paths", "flows" and "explain" answer one compact JSON object
 * (docs/control.md). Every answer ends with an empty line. */
#ifndef EGRESS_EGRESSD_CONTROL_H
#define EGRESS_EGRESSD_CONTROL_H

#include <stddef.h>
#include <sys/types.h>

#include "node/node.h"
#include "wg/device.h"

#define CONTROL_DIR "/var/run/egress"
#define CONTROL_MAX_REQUEST 4096

ssize_t control_request_length(const char *buf, size_t len);
/* node is NULL when egressd runs without a policy. */
int control_handle_request(struct wg_device *dev, struct node *node, const char *req,
			   size_t len, char **resp, size_t *resp_len);

#endif

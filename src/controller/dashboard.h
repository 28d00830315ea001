/* dashboard: the controller's one HTML page (src/controller/dashboard.html),
 * compiled into the binary by mk/embed.sh so a controller is one file. */
#ifndef EGRESS_CONTROLLER_DASHBOARD_H
#define EGRESS_CONTROLLER_DASHBOARD_H

#include <stddef.h>

extern const unsigned char dashboard_html[];
extern const size_t dashboard_html_len;

#endif

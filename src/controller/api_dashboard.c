/* api_dashboard: GET / serves the dashboard page. The page is static and
 * carries no data; its script reads the JSON API with an admin token the
 * operator gives in the page, so serving it needs no authentication. */
#include "controller/api_internal.h"
#include "controller/dashboard.h"

void api_dashboard(struct api_call *c)
{
	api_reply_text(c->rs, 200, "text/html; charset=utf-8", (const char *)dashboard_html,
		       dashboard_html_len);
}

/* http: requests to the controller with libcurl (http.h). */
#include "agent/http.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HTTP_CONNECT_TIMEOUT_S 5L

static size_t http_on_body(char *data, size_t size, size_t nmemb, void *ctx)
{
	struct agent_http_resp *r = ctx;
	size_t n = size * nmemb;
	char *grown;

	if (n > AGENT_HTTP_MAX_BODY - r->len)
		return 0;	/* too big: libcurl fails the transfer */
	grown = realloc(r->body, r->len + n + 1);
	if (!grown)
		return 0;
	memcpy(grown + r->len, data, n);
	r->len += n;
	grown[r->len] = '\0';
	r->body = grown;
	return n;
}

/* libcurl calls this at least once a second, even on an idle long-poll. */
static int http_on_progress(void *ctx, curl_off_t dlt, curl_off_t dln, curl_off_t ult,
			    curl_off_t uln)
{
	const atomic_bool *stop = ctx;

	(void)dlt; (void)dln; (void)ult; (void)uln;
	return atomic_load(stop) ? 1 : 0;
}

/* With a credential goes the node's name: the controller then checks the
 * credential against that node alone instead of searching (api.md). */
static struct curl_slist *http_headers(const char *bearer, const char *node, bool json)
{
	struct curl_slist *h = NULL, *next;
	char auth[512], name[128];

	if (bearer) {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", bearer);
		if (!(next = curl_slist_append(h, auth)))
			goto fail;
		h = next;
	}
	if (bearer && node && node[0]) {
		snprintf(name, sizeof(name), "X-Egress-Node: %s", node);
		if (!(next = curl_slist_append(h, name)))
			goto fail;
		h = next;
	}
	if (json) {
		if (!(next = curl_slist_append(h, "Content-Type: application/json")))
			goto fail;
		h = next;
	}
	explicit_bzero(auth, sizeof(auth));
	return h;
fail:
	explicit_bzero(auth, sizeof(auth));
	curl_slist_free_all(h);
	return NULL;
}

static void http_setup(struct agent_http *h, CURL *c, const char *url, long timeout_s,
		       struct agent_http_resp *resp)
{
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);	/* threads: no SIGALRM */
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, HTTP_CONNECT_TIMEOUT_S);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, timeout_s);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, http_on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, resp);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, http_on_progress);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, (void *)h->stop);
	if (h->cacert)
		curl_easy_setopt(c, CURLOPT_CAINFO, h->cacert);
}

bool agent_http_request(struct agent_http *h, const char *method, const char *path,
			const char *bearer, const char *body, long timeout_s,
			struct agent_http_resp *resp)
{
	struct curl_slist *headers;
	char url[2048];
	CURLcode rc;

	memset(resp, 0, sizeof(*resp));
	if (!h->curl && !(h->curl = curl_easy_init())) {
		snprintf(resp->error, sizeof(resp->error), "out of memory");
		return false;
	}
	curl_easy_reset(h->curl);	/* keeps the connection cache */
	snprintf(url, sizeof(url), "%s%s", h->base_url, path);
	http_setup(h, h->curl, url, timeout_s, resp);
	headers = http_headers(bearer, h->node, body != NULL);
	curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, headers);
	if (body)
		curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, body);
	else if (strcmp(method, "GET"))
		curl_easy_setopt(h->curl, CURLOPT_CUSTOMREQUEST, method);
	rc = curl_easy_perform(h->curl);
	curl_slist_free_all(headers);
	if (rc != CURLE_OK) {
		snprintf(resp->error, sizeof(resp->error), "%s", curl_easy_strerror(rc));
		agent_http_resp_free(resp);
		return false;
	}
	curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &resp->status);
	return true;
}

void agent_http_resp_free(struct agent_http_resp *resp)
{
	free(resp->body);
	resp->body = NULL;
	resp->len = 0;
}

void agent_http_close(struct agent_http *h)
{
	if (h->curl)
		curl_easy_cleanup(h->curl);
	h->curl = NULL;
}

/* api_body: reading fields out of a request's JSON object. Each reader
 * checks presence, type and range, and on failure answers 400 with a
 * message naming the field, so a handler is a list of reads followed by
 * one store call. Unknown fields are refused: a typo ("expected_verison")
 * must not silently turn into a missing optional field. */
#include "controller/api_internal.h"

#include <string.h>

bool api_body_keys(struct api_call *c, const char *const *allowed)
{
	const char *key;
	json_t *v;

	json_object_foreach(c->body, key, v) {
		size_t i;

		for (i = 0; allowed[i]; i++)
			if (!strcmp(allowed[i], key))
				break;
		if (!allowed[i]) {
			api_reply_errorf(c->rs, 400, "unknown field \"%.64s\"", key);
			return false;
		}
	}
	return true;
}

bool api_body_string(struct api_call *c, const char *key, bool required,
		     const char **out, size_t *len)
{
	json_t *v = json_object_get(c->body, key);

	if (!v || json_is_null(v)) {
		if (required)
			api_reply_errorf(c->rs, 400, "field \"%s\" is required", key);
		return !required;
	}
	if (!json_is_string(v)) {
		api_reply_errorf(c->rs, 400, "field \"%s\" must be a string", key);
		return false;
	}
	*out = json_string_value(v);
	if (len)
		*len = json_string_length(v);
	return true;
}

bool api_body_u64(struct api_call *c, const char *key, bool required, uint64_t *out)
{
	json_t *v = json_object_get(c->body, key);

	if (!v) {
		if (required)
			api_reply_errorf(c->rs, 400, "field \"%s\" is required", key);
		return !required;
	}
	if (!json_is_integer(v) || json_integer_value(v) < 0) {
		api_reply_errorf(c->rs, 400, "field \"%s\" must be a non-negative integer",
				 key);
		return false;
	}
	*out = (uint64_t)json_integer_value(v);
	return true;
}

/* Names as the store takes them: 1-63 of A-Za-z0-9._:@- */
static bool name_ok(const char *s, size_t len)
{
	if (len == 0 || len >= STORE_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char ch = s[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || (ch && strchr("._:@-", ch))))
			return false;
	}
	return true;
}

bool api_body_name(struct api_call *c, const char *key, const char **out)
{
	size_t len;

	if (!api_body_string(c, key, true, out, &len))
		return false;
	if (!name_ok(*out, len)) {
		api_reply_errorf(c->rs, 400,
				 "field \"%s\": 1-63 characters of A-Z a-z 0-9 . _ : @ -", key);
		return false;
	}
	return true;
}

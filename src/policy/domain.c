/* domain: patterns are checked as host names (letters, digits, '-', '_',
 * labels of 1-63), so a typo such as "*zoom.us" or "zoom..us" is an error
 * rather than a pattern that never matches. */
#include "policy/domain.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Lowercases into out; strips one trailing dot. False if too long. */
static bool domain_normalise(const char *in, char *out, size_t *len)
{
	size_t n = strnlen(in, DOMAIN_MAX + 2);

	if (n && in[n - 1] == '.')
		n--;
	if (n == 0 || n > DOMAIN_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		out[i] = (char)tolower((unsigned char)in[i]);
	out[n] = '\0';
	*len = n;
	return true;
}

static bool domain_labels_ok(const char *s)
{
	size_t label = 0;

	for (; *s; s++) {
		if (*s == '.') {
			if (label == 0)
				return false;
			label = 0;
		} else if (isalnum((unsigned char)*s) || *s == '-' || *s == '_') {
			if (++label > 63)
				return false;
		} else {
			return false;
		}
	}
	return label > 0;
}

bool policy_domain_pattern(const char *in, char *out, bool *below, char *msg, size_t cap)
{
	size_t len;

	*below = in[0] == '*' && in[1] == '.';
	if (!domain_normalise(in + (*below ? 2 : 0), out, &len) || !domain_labels_ok(out)) {
		snprintf(msg, cap, "bad domain \"%.64s\": expected a name like example.com, or "
			 "*.example.com for every name below it", in);
		return false;
	}
	return true;
}

static int domain_entry_cmp(const void *a, const void *b)
{
	const struct domain_entry *x = a, *y = b;
	int c;

	if (x->below != y->below)
		return x->below ? 1 : -1;
	c = strcmp(x->name, y->name);
	if (c)
		return c;
	return x->set < y->set ? -1 : x->set > y->set;
}

/* One pattern with its sorted sets: intern, then map the name to the list. */
static bool domain_map_put(struct domain_map *m, const struct domain_entry *e,
			   const uint32_t *sets, size_t n, struct setlists *lists)
{
	uint32_t id = policy_setlist_intern(lists, sets, n);

	if (id == SETLIST_ERROR)
		return false;
	return policy_strmap_put(e->below ? &m->below : &m->exact, e->name, strlen(e->name),
				 id) != UINT32_MAX;
}

bool policy_domain_map_build(struct domain_map *m, struct domain_entry *e, size_t n,
			     struct setlists *lists)
{
	uint32_t *sets = malloc((n ? n : 1) * sizeof(*sets));
	bool ok = sets != NULL;

	policy_strmap_init(&m->exact);
	policy_strmap_init(&m->below);
	if (n)
		qsort(e, n, sizeof(*e), domain_entry_cmp);
	for (size_t i = 0; ok && i < n;) {
		size_t k = 0, first = i;

		for (; i < n && e[i].below == e[first].below && !strcmp(e[i].name, e[first].name);
		     i++)
			if (k == 0 || sets[k - 1] != e[i].set)
				sets[k++] = e[i].set;
		ok = domain_map_put(m, &e[first], sets, k, lists);
	}
	free(sets);
	return ok;
}

void policy_domain_map_free(struct domain_map *m)
{
	policy_strmap_free(&m->exact);
	policy_strmap_free(&m->below);
}

size_t policy_domain_map_lookup(const struct domain_map *m, const char *name, uint32_t *ids)
{
	char buf[DOMAIN_MAX + 1];
	size_t len, n = 0;
	uint32_t id;

	if (!name || (!m->exact.n && !m->below.n) || !domain_normalise(name, buf, &len))
		return 0;
	id = policy_strmap_get(&m->exact, buf, len);
	if (id != UINT32_MAX)
		ids[n++] = id;
	if (!m->below.n)
		return n;
	for (size_t i = 0; i < len && n <= DOMAIN_MAX_LABELS; i++) {
		if (buf[i] != '.' || i + 1 == len)
			continue;
		id = policy_strmap_get(&m->below, buf + i + 1, len - i - 1);
		if (id != UINT32_MAX)
			ids[n++] = id;
	}
	return n;
}

/* build: helpers the parse_*.c files share while a document is walked:
 * names and references between kinds (with the names that do exist when a
 * reference is unknown), paths relative to the document, growable arrays. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/arena.h"
#include "policy/diag.h"
#include "policy/doc.h"
#include "policy/policy_internal.h"
#include "policy/value.h"

static const char *const kind_names[KIND__MAX] = {
	"region", "node", "pool", "group", "user", "device", "destination", "class", "rule",
};
static const char *const kind_plurals[KIND__MAX] = {
	"regions", "nodes", "pools", "groups", "users", "devices", "destinations",
	"classes", "rules",
};

const char *policy_kind_name(enum policy_kind kind)
{
	return kind_names[kind];
}

void *policy_vec_push(struct policy_vec *v)
{
	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 64;
		void *p = realloc(v->v, cap * v->size);

		if (!p)
			return NULL;
		v->v = p;
		v->cap = cap;
	}
	return memset((char *)v->v + v->n++ * v->size, 0, v->size);
}

/* The names of a kind in document order, for "regions are: eu, us". */
static const char *kind_name_at(const struct policy_build *b, enum policy_kind kind,
				size_t i, size_t *count)
{
	const struct policy *p = b->p;

	switch (kind) {
	case KIND_REGION: *count = p->n_regions; return i < *count ? p->regions[i].name : NULL;
	case KIND_NODE: *count = p->n_nodes; return i < *count ? p->nodes[i].name : NULL;
	case KIND_POOL: *count = p->n_pools; return i < *count ? p->pools[i].name : NULL;
	case KIND_GROUP: *count = p->n_groups; return i < *count ? p->groups[i].name : NULL;
	case KIND_USER: *count = p->n_users; return i < *count ? p->users[i].name : NULL;
	case KIND_DEVICE: *count = p->n_devices; return i < *count ? p->devices[i].name : NULL;
	case KIND_DEST:
		*count = b->n_named_dests;
		return i < *count ? p->dest_sets[i].name : NULL;
	case KIND_CLASS: *count = p->n_classes; return i < *count ? p->classes[i].name : NULL;
	case KIND_RULE: *count = p->n_rules; return i < *count ? p->rules[i].name : NULL;
	default: *count = 0; return NULL;
	}
}

static void build_list_names(const struct policy_build *b, enum policy_kind kind,
			     char *out, size_t cap)
{
	size_t count = 0, shown = 0, used = 0;

	out[0] = '\0';
	kind_name_at(b, kind, 0, &count);
	for (size_t i = 0; i < count && used < cap; i++) {
		const char *name = kind_name_at(b, kind, i, &count);

		if (!name[0])
			continue;
		if (shown++ == 8) {
			snprintf(out + used, cap - used, ", ... (%zu in all)", count);
			return;
		}
		used += (size_t)snprintf(out + used, cap - used, "%s%s", used ? ", " : "", name);
	}
}

static void build_unknown(struct policy_build *b, enum policy_kind kind,
			  const struct doc_node *n)
{
	char list[640];

	build_list_names(b, kind, list, sizeof(list));
	if (!list[0])
		policy_diag_at(b->diag, n, "unknown %s \"%.64s\"; no %s are defined",
			       kind_names[kind], n->str, kind_plurals[kind]);
	else
		policy_diag_at(b->diag, n, "unknown %s \"%.64s\"; %s are: %s", kind_names[kind],
			       n->str, kind_plurals[kind], list);
}

uint32_t policy_build_ref(struct policy_build *b, enum policy_kind kind,
			  const struct doc_node *n)
{
	uint32_t i;

	if (!policy_val_scalar(b->diag, n, kind_names[kind]))
		return POLICY_NONE;
	i = policy_strmap_get(&b->names[kind], n->str, n->n);
	if (i == UINT32_MAX) {
		build_unknown(b, kind, n);
		return POLICY_NONE;
	}
	return i;
}

bool policy_build_refs(struct policy_build *b, enum policy_kind kind,
		       const struct doc_node *list, const char *what, uint32_t **out,
		       size_t *n)
{
	struct doc_node *const *items;
	size_t count, k = 0;
	bool ok = true;

	*out = NULL;
	*n = 0;
	if (!policy_val_list(b->diag, list, what, &items, &count))
		return false;
	if (!count)
		return true;
	*out = policy_arena_alloc(b->arena, count, sizeof(**out));
	if (!*out)
		return false;
	for (size_t i = 0; i < count; i++) {
		uint32_t idx = policy_build_ref(b, kind, items[i]);

		if (idx == POLICY_NONE)
			ok = false;
		else
			(*out)[k++] = idx;
	}
	*n = policy_sort_unique(*out, k);
	return ok;
}

bool policy_build_name(struct policy_build *b, enum policy_kind kind,
		       const struct doc_node *at, const char *name, uint32_t index)
{
	uint32_t first = policy_strmap_put(&b->names[kind], name, strlen(name), index);

	if (first == index)
		return true;
	if (first != UINT32_MAX && b->at[kind] && b->at[kind][first])
		policy_diag_at(b->diag, at, "duplicate %s name \"%s\" (first at line %u)",
			       kind_names[kind], name, b->at[kind][first]->line);
	else
		policy_diag_at(b->diag, at, "duplicate %s name \"%s\"", kind_names[kind], name);
	return false;
}

char *policy_build_path(struct policy_build *b, const struct doc_node *at, const char *what)
{
	const char *dir = b->base_dir, *rel = at->str;
	size_t dl, rl = strlen(rel);
	char *out;

	if (!dir && rel[0] != '/') {
		policy_diag_at(b->diag, at, "%s \"%s\": a relative path cannot be sent through "
			       "the controller (nodes load the policy from their state folder); "
			       "use an absolute path present on the controller and every node",
			       what, rel);
		return NULL;
	}
	if (rel[0] == '/' || !dir || !dir[0] || !strcmp(dir, "."))
		return policy_arena_strndup(b->arena, rel, rl);
	dl = strlen(dir);
	out = policy_arena_alloc(b->arena, dl + rl + 2, 1);
	if (out)
		snprintf(out, dl + rl + 2, "%s/%s", dir, rel);
	return out;
}

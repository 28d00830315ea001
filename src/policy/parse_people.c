/* parse_people: who sends traffic: groups, users, and users' devices (a
 * device is a WireGuard peer: its key identifies it, its addresses are
 * its allowed IPs). */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "policy/arena.h"
#include "policy/diag.h"
#include "policy/doc.h"
#include "policy/policy_internal.h"
#include "policy/value.h"

void policy_parse_groups(struct policy_build *b, const struct doc_node *n)
{
	struct policy *p = b->p;
	struct doc_node *const *items;
	size_t len;

	if (!policy_val_list(b->diag, n, "groups", &items, &len) || !len)
		return;
	p->groups = policy_arena_alloc(b->arena, len, sizeof(*p->groups));
	b->at[KIND_GROUP] = policy_arena_alloc(b->arena, len, sizeof(*b->at[KIND_GROUP]));
	if (!p->groups || !b->at[KIND_GROUP])
		return;
	p->n_groups = len;
	for (uint32_t i = 0; i < len; i++) {
		struct policy_group *g = &p->groups[i];

		b->at[KIND_GROUP][i] = items[i];
		if (!policy_val_name(b->diag, items[i], "group", g->name))
			continue;
		g->id = policy_name_id(g->name);
		policy_build_name(b, KIND_GROUP, items[i], g->name, i);
	}
}

static const char *const user_keys[] = { "groups", "devices", NULL };
static const char *const device_keys[] = { "name", "key", "addresses", NULL };

static void device_addresses(struct policy_build *b, uint32_t di, const struct doc_node *n)
{
	struct policy_device *dev = &b->p->devices[di];
	struct doc_node *const *items;
	size_t len;

	if (!policy_val_list(b->diag, n, "addresses", &items, &len) || !len)
		return;
	dev->addresses = policy_arena_alloc(b->arena, len, sizeof(*dev->addresses));
	b->device_addr_at[di] = policy_arena_alloc(b->arena, len, sizeof(**b->device_addr_at));
	if (!dev->addresses || !b->device_addr_at[di])
		return;
	for (size_t i = 0; i < len; i++)
		if (policy_val_prefix(b->diag, items[i], "device address",
				      &dev->addresses[dev->n_addresses]))
			b->device_addr_at[di][dev->n_addresses++] = items[i];
}

static void device_parse(struct policy_build *b, uint32_t user, uint32_t di,
			 const struct doc_node *n)
{
	struct policy_device *dev = &b->p->devices[di];
	struct doc_fields f = { .keys = device_keys };
	char what[96];

	dev->user = user;
	b->at[KIND_DEVICE][di] = n;
	snprintf(what, sizeof(what), "device \"%.64s\"", policy_doc_name_of(n));
	if (!policy_doc_fields(b->diag, n, what, &f))
		return;
	if (!f.vals[0])
		policy_diag_at(b->diag, n, "device of user \"%s\" has no name",
			       b->p->users[user].name);
	else if (policy_val_name(b->diag, f.vals[0], "device", dev->name))
		policy_build_name(b, KIND_DEVICE, f.vals[0], dev->name, di);
	if (f.vals[0])
		b->at[KIND_DEVICE][di] = f.vals[0];
	dev->id = policy_name_id(dev->name);
	if (!f.vals[1])
		policy_diag_at(b->diag, n, "device \"%s\" has no key", dev->name);
	else
		policy_val_key(b->diag, f.vals[1], dev->public_key);
	if (!f.vals[2] || policy_doc_is_null(f.vals[2]))
		policy_diag_at(b->diag, n, "device \"%s\" has no addresses", dev->name);
	else
		device_addresses(b, di, f.vals[2]);
}

/* Devices are numbered across users; count them first. */
static size_t users_count_devices(const struct doc_node *n)
{
	size_t count = 0;

	for (uint32_t i = 0; i < n->n; i++) {
		const struct doc_node *u = n->pairs[i].value;

		for (uint32_t j = 0; u->type == DOC_MAP && j < u->n; j++)
			if (!strcmp(u->pairs[j].key->str, "devices") &&
			    u->pairs[j].value->type == DOC_SEQ)
				count += u->pairs[j].value->n;
	}
	return count;
}

static void user_parse(struct policy_build *b, uint32_t ui, const struct doc_node *n)
{
	struct policy_user *u = &b->p->users[ui];
	struct doc_fields f = { .keys = user_keys };
	struct doc_node *const *items;
	char what[96];
	size_t len;

	snprintf(what, sizeof(what), "user \"%s\"", u->name);
	if (!policy_doc_fields(b->diag, n, what, &f))
		return;
	policy_build_refs(b, KIND_GROUP, f.vals[0], "groups", &u->groups, &u->n_groups);
	if (u->n_groups > POLICY_MAX_USER_GROUPS)
		policy_diag_at(b->diag, f.vals[0], "user \"%s\" is in %zu groups; at most %d",
			       u->name, u->n_groups, POLICY_MAX_USER_GROUPS);
	if (!policy_val_list(b->diag, f.vals[1], "devices", &items, &len))
		return;
	for (size_t i = 0; i < len && b->p->n_devices < b->cap_devices; i++)
		device_parse(b, ui, (uint32_t)b->p->n_devices++, items[i]);
}

void policy_parse_users(struct policy_build *b, const struct doc_node *n)
{
	struct policy *p = b->p;

	if (!n || policy_doc_is_null(n))
		return;
	if (n->type != DOC_MAP) {
		policy_diag_at(b->diag, n, "users must be a mapping of name: settings");
		return;
	}
	p->users = policy_arena_alloc(b->arena, n->n ? n->n : 1, sizeof(*p->users));
	b->at[KIND_USER] = policy_arena_alloc(b->arena, n->n ? n->n : 1, sizeof(void *));
	b->cap_devices = users_count_devices(n);
	p->devices = policy_arena_alloc(b->arena, b->cap_devices + 1, sizeof(*p->devices));
	b->at[KIND_DEVICE] = policy_arena_alloc(b->arena, b->cap_devices + 1, sizeof(void *));
	b->device_addr_at = policy_arena_alloc(b->arena, b->cap_devices + 1, sizeof(void *));
	if (!p->users || !b->at[KIND_USER] || !p->devices || !b->at[KIND_DEVICE] ||
	    !b->device_addr_at)
		return;
	p->n_users = n->n;
	for (uint32_t i = 0; i < n->n; i++) {
		struct policy_user *u = &p->users[i];

		b->at[KIND_USER][i] = n->pairs[i].key;
		if (policy_val_name(b->diag, n->pairs[i].key, "user", u->name)) {
			u->id = policy_name_id(u->name);
			policy_build_name(b, KIND_USER, n->pairs[i].key, u->name, i);
		}
	}
	for (uint32_t i = 0; i < n->n; i++)
		user_parse(b, i, n->pairs[i].value);
}

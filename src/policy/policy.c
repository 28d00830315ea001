/* policy: small public pieces: name ids, objective presets, lookups by
 * name, key and id, and freeing error lists. */
#include "policy/policy.h"

#include <stdlib.h>
#include <string.h>

#include "policy/policy_internal.h"

uint32_t policy_name_id(const char *name)
{
	uint32_t h = 2166136261u;	/* FNV-1a, 32 bits */

	for (; *name; name++) {
		h ^= (uint8_t)*name;
		h *= 16777619u;
	}
	return h;
}

/* The presets, documented in docs/policy.md. Units: per ms of RTT and
 * jitter, per % of loss, per currency unit per GB, per % of utilisation. */
struct policy_weights policy_objective_weights(enum policy_objective o)
{
	switch (o) {
	case POLICY_OBJ_LATENCY:
		return (struct policy_weights){ 1, 1, 2, 0, 0.05 };
	case POLICY_OBJ_COST:
		return (struct policy_weights){ 0.01, 0, 1, 1000, 0.05 };
	case POLICY_OBJ_BALANCED:
	default:
		return (struct policy_weights){ 1, 1, 2, 200, 0.2 };
	}
}

void policy_errors_free(struct policy_errors *e)
{
	if (!e)
		return;
	for (size_t i = 0; i < e->n; i++)
		free(e->msgs[i]);
	free(e->msgs);
	e->msgs = NULL;
	e->n = 0;
}

uint32_t policy_find_node(const struct policy *p, const char *name)
{
	return policy_strmap_gets(&p->compiled->node_names, name);
}

uint32_t policy_find_node_by_key(const struct policy *p, const uint8_t key[POLICY_KEY_LEN])
{
	return policy_strmap_get(&p->compiled->node_keys, key, POLICY_KEY_LEN);
}

uint32_t policy_find_device_by_key(const struct policy *p, const uint8_t key[POLICY_KEY_LEN])
{
	return policy_strmap_get(&p->compiled->device_keys, key, POLICY_KEY_LEN);
}

uint32_t policy_find_user(const struct policy *p, const char *name)
{
	return policy_strmap_gets(&p->compiled->user_names, name);
}

uint32_t policy_find_class(const struct policy *p, const char *name)
{
	return policy_strmap_gets(&p->compiled->class_names, name);
}

uint32_t policy_find_pool_by_id(const struct policy *p, uint32_t id)
{
	for (uint32_t i = 0; i < p->n_pools; i++)
		if (p->pools[i].id == id)
			return i;
	return POLICY_NONE;
}

uint32_t policy_find_class_by_id(const struct policy *p, uint32_t id)
{
	for (uint32_t i = 0; i < p->n_classes; i++)
		if (p->classes[i].id == id)
			return i;
	return POLICY_NONE;
}

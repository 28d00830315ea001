/* parse_rule: access rules, ordered, first match wins; the document's
 * "default" decides when none matches. A rule's lists are each "any of";
 * all lists given must hold. */
#include <stdio.h>
#include <string.h>

#include "policy/arena.h"
#include "policy/diag.h"
#include "policy/doc.h"
#include "policy/policy_internal.h"
#include "policy/value.h"

static const char *const rule_keys[] = {
	"name", "action", "users", "groups", "devices", "classes", "destinations", NULL,
};
enum { RULE_NAME, RULE_ACTION, RULE_USERS, RULE_GROUPS, RULE_DEVICES, RULE_CLASSES,
       RULE_DESTS };

static void rule_action(struct policy_build *b, struct policy_rule *r,
			const struct doc_node *n, const struct doc_node *at)
{
	if (!n) {
		policy_diag_at(b->diag, at, "rule \"%s\" has no action (allow or deny)", r->name);
		return;
	}
	if (!policy_val_scalar(b->diag, n, "action"))
		return;
	if (!strcmp(n->str, "allow"))
		r->action = POLICY_ALLOW;
	else if (!strcmp(n->str, "deny"))
		r->action = POLICY_DENY;
	else
		policy_diag_at(b->diag, n, "bad action \"%.64s\": expected allow or deny", n->str);
}

static void rule_name(struct policy_build *b, struct policy_rule *r, uint32_t i,
		      const struct doc_node *name, const struct doc_node *at)
{
	if (!name) {
		snprintf(r->name, sizeof(r->name), "rule-%u", i + 1);
		policy_build_name(b, KIND_RULE, at, r->name, i);
	} else if (policy_val_name(b->diag, name, "rule", r->name)) {
		policy_build_name(b, KIND_RULE, name, r->name, i);
	}
}

static void rule_parse(struct policy_build *b, uint32_t i, const struct doc_node *n,
		       bool last)
{
	struct policy_rule *r = &b->p->rules[i];
	struct doc_fields f = { .keys = rule_keys };
	char what[96];

	r->line = n->line;
	b->at[KIND_RULE][i] = n;
	if (policy_doc_name_of(n)[0])
		snprintf(what, sizeof(what), "rule \"%.64s\"", policy_doc_name_of(n));
	else
		snprintf(what, sizeof(what), "rule %u", i + 1);
	if (!policy_doc_fields(b->diag, n, what, &f))
		return;
	rule_name(b, r, i, f.vals[RULE_NAME], n);
	rule_action(b, r, f.vals[RULE_ACTION], n);
	policy_build_refs(b, KIND_USER, f.vals[RULE_USERS], "users", &r->users, &r->n_users);
	policy_build_refs(b, KIND_GROUP, f.vals[RULE_GROUPS], "groups", &r->groups,
			  &r->n_groups);
	policy_build_refs(b, KIND_DEVICE, f.vals[RULE_DEVICES], "devices", &r->devices,
			  &r->n_devices);
	policy_build_refs(b, KIND_CLASS, f.vals[RULE_CLASSES], "classes", &r->classes,
			  &r->n_classes);
	policy_build_refs(b, KIND_DEST, f.vals[RULE_DESTS], "destinations", &r->dest_sets,
			  &r->n_dest_sets);
	if (!last && !f.vals[RULE_USERS] && !f.vals[RULE_GROUPS] && !f.vals[RULE_DEVICES] &&
	    !f.vals[RULE_CLASSES] && !f.vals[RULE_DESTS])
		policy_diag_at(b->diag, n, "rule \"%s\" has no conditions, so it matches "
			       "everything and the rules after it are never used", r->name);
}

void policy_parse_rules(struct policy_build *b, const struct doc_node *n)
{
	struct policy *p = b->p;
	struct doc_node *const *items;
	size_t len;

	if (!policy_val_list(b->diag, n, "rules", &items, &len) || !len)
		return;
	p->rules = policy_arena_alloc(b->arena, len, sizeof(*p->rules));
	b->at[KIND_RULE] = policy_arena_alloc(b->arena, len, sizeof(void *));
	if (!p->rules || !b->at[KIND_RULE])
		return;
	p->n_rules = len;
	for (uint32_t i = 0; i < len; i++)
		rule_parse(b, i, items[i], i + 1 == len);
}

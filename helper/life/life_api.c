/*
 * life_api.c: the API calls whose endpoint depends on the kind of token.
 * Agent tokens live under their deployment and cannot be rotated; every
 * other scope lives under the organization's /tokens (see life_int.h).
 */
#include "helper/life/life_int.h"

const char *life_agent_dep(const struct record *r)
{
	return life_is_agent(r) ? r->deployment : NULL;
}

enum status life_api_list(struct life *L, const char *bearer, const char *org,
			  const char *dep, const struct api_list_filter *f,
			  struct api_token_list *out, struct api_error *e)
{
	if (dep)
		return L->api->agent_list(L->ctx, bearer, org, dep, f, out, e);
	return L->api->token_list(L->ctx, bearer, org, f, out, e);
}

enum status life_api_create(struct life *L, const char *bearer, const char *org,
			    const char *dep, const struct api_create *c,
			    struct api_token *out, struct api_error *e)
{
	if (dep)
		return L->api->agent_create(L->ctx, bearer, org, dep, c, out,
					    e);
	return L->api->token_create(L->ctx, bearer, org, c, out, e);
}

enum status life_api_delete(struct life *L, const char *bearer, const char *org,
			    const char *dep, const char *id,
			    struct api_error *e)
{
	if (dep)
		return L->api->agent_delete(L->ctx, bearer, org, dep, id, e);
	return L->api->token_delete(L->ctx, bearer, org, id, e);
}

enum status life_list_tokens(struct life *L, const struct record *me,
			     const char *agent_dep,
			     const struct api_list_filter *f,
			     struct api_token_list *out)
{
	struct api_error e;
	enum status st = life_api(L);

	if (st != ST_OK)
		return st;
	return life_api_list(L, me->token, me->organization, agent_dep, f, out,
			     &e);
}

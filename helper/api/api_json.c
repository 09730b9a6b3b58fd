/*
 * api_json.c: ApiToken, ApiTokensPaginated and Error bodies to structs, and
 * create requests to JSON.  Strict on types (security.md 2.6), tolerant of
 * unknown keys.  The secret "token" is copied into secure memory and must
 * match the token alphabet: it ends up in shell `eval` output.
 */
#include <stdlib.h>
#include <string.h>

#include "helper/api/api_json.h"
#include "helper/base/json_strict.h"
#include "helper/base/jwt.h"
#include "helper/base/log.h"
#include "helper/base/secmem.h"

#define WHAT_DEFAULT "the API's answer"
#define NAME_MAX_LEN 256
#define DESC_MAX_LEN 500

int api_id_ok(const char *s)
{
	size_t n = 0;

	if (!s)
		return 0;
	for (; s[n]; n++) {
		unsigned char c = (unsigned char)s[n];

		if (n >= API_ID_MAX)
			return 0;
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '-'))
			return 0;
	}
	return n > 0;
}

/* An enum-like value: [A-Z0-9_]{1,64}. */
static int word_ok(const char *s)
{
	size_t n = 0;

	for (; s[n]; n++) {
		if (n >= 64 || !((s[n] >= 'A' && s[n] <= 'Z') ||
				 (s[n] >= '0' && s[n] <= '9') || s[n] == '_'))
			return 0;
	}
	return n > 0;
}

static const char *what_of(const struct api_json_opts *o)
{
	return o->what ? o->what : WHAT_DEFAULT;
}

void api_token_clear(struct api_token *t)
{
	if (!t)
		return;
	free(t->id);
	free(t->name);
	free(t->description);
	free(t->short_token);
	free(t->kind);
	free(t->scope);
	free(t->created_by);
	free(t->deployment_id);
	for (size_t i = 0; i < t->nroles; i++) {
		free(t->roles[i].entity_id);
		free(t->roles[i].entity_type);
		free(t->roles[i].role);
		free(t->roles[i].deployment_id);
	}
	free(t->roles);
	secmem_free(t->token);
	memset(t, 0, sizeof(*t));
}

void api_token_list_clear(struct api_token_list *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++)
		api_token_clear(&l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

/* A string member into *dst (heap copy); required or not. */
static int take_str(const char *w, const cJSON *o, const char *key,
		    unsigned flags, int required, char **dst)
{
	const char *s;
	int res = json_get_string(o, key, flags, &s);

	if (res == JSON_ABSENT && !required)
		return 0;
	if (res != JSON_OK)
		return json_field_fail(w, key, res);
	*dst = xstrdup(s);
	return 0;
}

static int take_time(const char *w, const cJSON *o, const char *key,
		     int required, int64_t *dst)
{
	int res = json_get_time(o, key, dst);

	if (res == JSON_ABSENT && !required)
		return 0;
	return res == JSON_OK ? 0 : json_field_fail(w, key, res);
}

static int take_role(const char *w, const cJSON *r, struct api_role *dst)
{
	if (!cJSON_IsObject(r))
		return json_field_fail(w, "roles", JSON_INVALID);
	if (take_str(w, r, "entityId", JSON_NONEMPTY, 1, &dst->entity_id) < 0 ||
	    take_str(w, r, "entityType", JSON_NONEMPTY, 1, &dst->entity_type) <
		0 ||
	    take_str(w, r, "role", JSON_NONEMPTY, 1, &dst->role) < 0 ||
	    take_str(w, r, "deploymentId", 0, 0, &dst->deployment_id) < 0)
		return -1;
	return 0;
}

static int take_roles(const char *w, const cJSON *o, struct api_token *t)
{
	const cJSON *arr, *r;
	int res = json_get_array(o, "roles", &arr), n;

	if (res == JSON_ABSENT)
		return 0;
	if (res != JSON_OK)
		return json_field_fail(w, "roles", res);
	n = cJSON_GetArraySize(arr);
	if (n == 0)
		return 0;
	t->roles = xcalloc((size_t)n, sizeof(*t->roles));
	cJSON_ArrayForEach(r, arr)
	{
		/* Count as we go so that clear() frees a partial role. */
		if (take_role(w, r, &t->roles[t->nroles++]) < 0)
			return -1;
	}
	return 0;
}

static int take_secret(const cJSON *o, const struct api_json_opts *opt,
		       struct api_token *t)
{
	const char *w = what_of(opt);
	const char *s;
	int res = json_get_string(o, "token", JSON_NONEMPTY, &s);

	if (res == JSON_ABSENT && !opt->want_secret)
		return 0;
	if (res != JSON_OK)
		return json_field_fail(w, "token", res);
	/* The secret is printed for eval: only the token alphabet. */
	if (!jwt_alphabet_ok(s))
		return json_field_fail(w, "token", JSON_INVALID);
	t->token = secmem_strdup(s);
	return 0;
}

static int take_misc(const char *w, const cJSON *o, struct api_token *t)
{
	const cJSON *by;
	int64_t days = 0;
	int res = json_get_int64(o, "expiryPeriodInDays", 0, 100000, &days);

	if (res == JSON_INVALID)
		return json_field_fail(w, "expiryPeriodInDays", res);
	t->expiry_days = (int)days;
	res = json_get_object(o, "createdBy", &by);
	if (res == JSON_INVALID)
		return json_field_fail(w, "createdBy", res);
	if (res == JSON_OK &&
	    take_str(w, by, "id", JSON_NONEMPTY, 1, &t->created_by) < 0)
		return -1;
	return 0;
}

static int take_token(const cJSON *o, const struct api_json_opts *opt,
		      struct api_token *t)
{
	const char *scope_key = opt->beta ? "type" : "scope";
	const char *w = what_of(opt);

	if (!cJSON_IsObject(o))
		return error("%s: a token is not a JSON object", w);
	if (take_str(w, o, "id", JSON_NONEMPTY, 1, &t->id) < 0 ||
	    take_str(w, o, "name", 0, 1, &t->name) < 0 ||
	    take_str(w, o, "description", JSON_TEXT, 1, &t->description) < 0 ||
	    take_str(w, o, "shortToken", 0, 1, &t->short_token) < 0 ||
	    take_str(w, o, scope_key, JSON_NONEMPTY, 1, &t->scope) < 0 ||
	    take_str(w, o, "kind", JSON_NONEMPTY, 1, &t->kind) < 0)
		return -1;
	if (!api_id_ok(t->id))
		return json_field_fail(w, "id", JSON_INVALID);
	if (!word_ok(t->scope))
		return json_field_fail(w, scope_key, JSON_INVALID);
	if (!word_ok(t->kind))
		return json_field_fail(w, "kind", JSON_INVALID);
	if (take_time(w, o, "startAt", 1, &t->start_at) < 0 ||
	    take_time(w, o, "createdAt", 1, &t->created_at) < 0 ||
	    take_time(w, o, "updatedAt", 1, &t->updated_at) < 0 ||
	    take_time(w, o, "endAt", 0, &t->end_at) < 0 ||
	    take_time(w, o, "lastUsedAt", 0, &t->last_used_at) < 0 ||
	    take_time(w, o, "lastRotatedAt", 0, &t->last_rotated_at) < 0)
		return -1;
	if (take_misc(w, o, t) < 0 || take_roles(w, o, t) < 0)
		return -1;
	return take_secret(o, opt, t);
}

int api_json_token(const cJSON *obj, const struct api_json_opts *o,
		   struct api_token *out)
{
	memset(out, 0, sizeof(*out));
	if (take_token(obj, o, out) < 0) {
		api_token_clear(out);
		return -1;
	}
	return 0;
}

static cJSON *parse_body(const char *w, const char *body, size_t len)
{
	const char *why = NULL;
	cJSON *root = json_parse_strict(body, len, &why);

	if (!root)
		error("%s is unusable: %s", w, why);
	else if (!cJSON_IsObject(root))
		error("%s is not a JSON object", w);
	else
		return root;
	cJSON_Delete(root);
	return NULL;
}

int api_json_parse_token(const char *body, size_t len,
			 const struct api_json_opts *o, struct api_token *out)
{
	cJSON *root = parse_body(what_of(o), body, len);
	int ret;

	memset(out, 0, sizeof(*out));
	if (!root)
		return -1;
	ret = api_json_token(root, o, out);
	cJSON_Delete(root);
	return ret;
}

static int page_numbers(const char *w, const cJSON *root, int64_t *total,
			int64_t *offset)
{
	int64_t limit;
	int res;

	if ((res = json_get_int64(root, "totalCount", 0, INT32_MAX, total)))
		return json_field_fail(w, "totalCount", res);
	if ((res = json_get_int64(root, "offset", 0, INT32_MAX, offset)))
		return json_field_fail(w, "offset", res);
	if ((res = json_get_int64(root, "limit", 0, INT32_MAX, &limit)))
		return json_field_fail(w, "limit", res);
	return 0;
}

static int page_tokens(const cJSON *arr, const struct api_json_opts *o,
		       struct api_token_list *out, size_t *count)
{
	size_t n = (size_t)cJSON_GetArraySize(arr);
	const char *w = what_of(o);
	const cJSON *it;

	if (n > API_LIST_MAX || out->n + n > API_LIST_MAX)
		return error("%s: more than %d tokens", w, API_LIST_MAX);
	out->v = xrealloc(out->v, (out->n + n + 1) * sizeof(*out->v));
	cJSON_ArrayForEach(it, arr)
	{
		if (api_json_token(it, o, &out->v[out->n]) < 0)
			return -1;
		out->n++;
		(*count)++;
	}
	return 0;
}

int api_json_parse_page(const char *body, size_t len,
			const struct api_json_opts *o,
			struct api_token_list *out, int64_t *total,
			int64_t *offset, size_t *count)
{
	cJSON *root = parse_body(what_of(o), body, len);
	const cJSON *arr;
	int res, ret = -1;

	*count = 0;
	if (!root)
		return -1;
	if ((res = json_get_array(root, "tokens", &arr))) {
		json_field_fail(what_of(o), "tokens", res);
		goto out;
	}
	if (page_numbers(what_of(o), root, total, offset) < 0 ||
	    page_tokens(arr, o, out, count) < 0)
		goto out;
	ret = 0;
out:
	cJSON_Delete(root);
	return ret;
}

void api_json_parse_error(const char *body, size_t len, struct api_error *err)
{
	const char *why;
	char *s;
	cJSON *root;

	err->message[0] = err->request_id[0] = '\0';
	if (!body || !len)
		return;
	root = json_parse_strict(body, len, &why);
	if (!cJSON_IsObject(root))
		goto out;
	/* Control characters are escaped here rather than refused. */
	if ((s = cJSON_GetStringValue(
		 cJSON_GetObjectItemCaseSensitive(root, "message"))))
		log_sanitize(err->message, sizeof(err->message), s);
	if ((s = cJSON_GetStringValue(
		 cJSON_GetObjectItemCaseSensitive(root, "requestId"))))
		log_sanitize(err->request_id, sizeof(err->request_id), s);
out:
	cJSON_Delete(root);
}

static int text_ok(const char *s, size_t max, int text)
{
	size_t n = strlen(s);
	cJSON *tmp;
	int ok;

	if (n > max)
		return 0;
	/* Reuse the strict string rules (UTF-8, controls) on a temp item. */
	tmp = cJSON_CreateString(s);
	if (!tmp)
		die_oom();
	ok = json_string_ok(tmp, text ? JSON_TEXT : 0);
	cJSON_Delete(tmp);
	return ok;
}

static int create_check(const struct api_create *r, int agent)
{
	int needs_entity;

	if (!r->name || !r->name[0] || !text_ok(r->name, NAME_MAX_LEN, 0))
		return error("token name must be 1 to %d printable characters",
			     NAME_MAX_LEN);
	if (r->description && !text_ok(r->description, DESC_MAX_LEN, 1))
		return error("token description must be at most %d characters",
			     DESC_MAX_LEN);
	if (r->expiry_days < 0 || r->expiry_days > 3650)
		return error("expiry must be 1 to 3650 days (0: never)");
	if (agent)
		return 0;
	if (!r->scope ||
	    (strcmp(r->scope, "ORGANIZATION") &&
	     strcmp(r->scope, "WORKSPACE") && strcmp(r->scope, "DEPLOYMENT")))
		return error("scope must be ORGANIZATION, WORKSPACE or "
			     "DEPLOYMENT");
	if (!r->role || !r->role[0] || !text_ok(r->role, 128, 0))
		return error("a role is required (e.g. WORKSPACE_MEMBER)");
	needs_entity = strcmp(r->scope, "ORGANIZATION") != 0;
	if ((needs_entity || r->entity_id) && !api_id_ok(r->entity_id))
		return error("scope %s needs an entity id of [A-Za-z0-9_-]",
			     r->scope);
	if (r->kind && strcmp(r->kind, "STANDARD") &&
	    strcmp(r->kind, "DIRECT_ACCESS"))
		return error("kind must be STANDARD or DIRECT_ACCESS");
	return 0;
}

static void add_str(cJSON *o, const char *key, const char *val)
{
	if (val && !cJSON_AddStringToObject(o, key, val))
		die_oom();
}

char *api_json_create_body(const struct api_create *req, int agent, int beta)
{
	cJSON *o;
	char *s;

	if (create_check(req, agent) < 0)
		return NULL;
	o = cJSON_CreateObject();
	if (!o)
		die_oom();
	add_str(o, "name", req->name);
	add_str(o, "description", req->description);
	if (!agent) {
		add_str(o, beta ? "type" : "scope", req->scope);
		add_str(o, "role", req->role);
		add_str(o, "entityId", req->entity_id);
		add_str(o, "kind", req->kind);
	}
	if (req->expiry_days &&
	    !cJSON_AddNumberToObject(o, "tokenExpiryPeriodInDays",
				     req->expiry_days))
		die_oom();
	s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (!s)
		die_oom();
	return s;
}

/*
 * redact.so - remove the fields named in its arguments; a dotted path
 * reaches into nested objects.
 *
 *   etl-map redact.so password,token user.ssn < users.ndjson
 */
#include <etl.h>
#include <stdlib.h>
#include <string.h>

struct paths {
	char **path;
	int n;
};

static int
redact_init(struct etl_context *ctx, int argc, char **argv)
{
	struct paths *p = calloc(1, sizeof *p);

	if (!p)
		return etl_fail(ctx, "out of memory");
	ctx->state = p;
	for (int i = 0; i < argc; i++) {
		char *list = strdup(argv[i]), *save = NULL;

		for (char *f = strtok_r(list, ",", &save); f; f = strtok_r(NULL, ",", &save)) {
			p->path = realloc(p->path, (p->n + 1) * sizeof *p->path);
			p->path[p->n++] = strdup(f);
		}
		free(list);
	}
	if (p->n == 0)
		return etl_fail(ctx, "name the fields to remove, e.g. password,user.ssn");
	return ETL_OK;
}

/* Remove PATH ("a.b.c") from OBJ. */
static void
remove_path(json_t *obj, const char *path)
{
	const char *dot = strchr(path, '.');

	if (!json_is_object(obj))
		return;
	if (!dot) {
		json_object_del(obj, path);
		return;
	}
	{
		size_t n = dot - path;
		char key[256];

		if (n >= sizeof key)
			return;
		memcpy(key, path, n);
		key[n] = '\0';
		remove_path(json_object_get(obj, key), dot + 1);
	}
}

static int
redact_map(struct etl_context *ctx, json_t *rec)
{
	struct paths *p = ctx->state;

	for (int i = 0; i < p->n; i++)
		remove_path(rec, p->path[i]);
	return etl_emit(ctx, json_incref(rec));
}

static void
redact_cleanup(struct etl_context *ctx)
{
	struct paths *p = ctx->state;

	for (int i = 0; p && i < p->n; i++)
		free(p->path[i]);
	if (p)
		free(p->path);
	free(p);
}

ETL_TRANSFORM(
	.name = "redact",
	.description = "remove fields by dotted path",
	.init = redact_init,
	.map = redact_map,
	.cleanup = redact_cleanup,
);

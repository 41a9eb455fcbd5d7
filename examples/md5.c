/*
 * md5.so - add the MD5 hex digest of a field, or of the whole record, as
 * "md5".  The digest is nettle's.
 *
 *   etl-map md5.so email < users.ndjson     digest of the email field
 *   etl-map md5.so < users.ndjson           digest of the compact record
 *
 * A string field is digested as its UTF-8 bytes; anything else as its
 * compact JSON text.
 */
#include <etl.h>
#include <nettle/md5.h>
#include <stdlib.h>
#include <string.h>

static int
md5_init_args(struct etl_context *ctx, int argc, char **argv)
{
	if (argc > 1)
		return etl_fail(ctx, "give at most one field name");
	ctx->state = argc == 1 ? argv[0] : NULL;
	return ETL_OK;
}

static void
hex_digest(const void *data, size_t n, char out[2 * MD5_DIGEST_SIZE + 1])
{
	static const char hex[] = "0123456789abcdef";
	uint8_t digest[MD5_DIGEST_SIZE];
	struct md5_ctx md5;

	md5_init(&md5);
	md5_update(&md5, n, data);
	md5_digest(&md5, sizeof digest, digest);
	for (size_t i = 0; i < sizeof digest; i++) {
		out[2 * i] = hex[digest[i] >> 4];
		out[2 * i + 1] = hex[digest[i] & 15];
	}
	out[2 * MD5_DIGEST_SIZE] = '\0';
}

static int
md5_map(struct etl_context *ctx, json_t *rec)
{
	const char *field = ctx->state;
	const json_t *v = field ? json_object_get(rec, field) : rec;
	char hex[2 * MD5_DIGEST_SIZE + 1];

	if (!v)
		return etl_reject(ctx, "%s: missing", field);
	if (json_is_string(v)) {
		hex_digest(json_string_value(v), json_string_length(v), hex);
	} else {
		char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);

		if (!text)
			return etl_fail(ctx, "out of memory");
		hex_digest(text, strlen(text), hex);
		free(text);
	}
	json_object_set_new(rec, "md5", json_string(hex));
	return etl_emit(ctx, json_incref(rec));
}

ETL_TRANSFORM(
	.name = "md5",
	.description = "add the MD5 digest of a field or of the record",
	.init = md5_init_args,
	.map = md5_map,
);

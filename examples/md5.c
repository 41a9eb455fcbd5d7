/*
 * md5.so - add the MD5 hex digest of a field, or of the whole record, as
 * "md5".  The digest is nettle's.
 *
 *   etl-map md5.so email < users.ndjson     digest of the email field
 *   etl-map md5.so < users.ndjson           digest of the compact record
 *   etl-map md5.so body only                just {"md5":…}, not the record
 *
 * A string field is digested as its UTF-8 bytes (NUL included), or as the
 * bytes its base64 stands for when FIELD_encoding is "base64" (what
 * etl-extract-http --raw-body makes of a body that is not UTF-8); anything
 * else as its compact JSON text.  The base64 is read with the toolkit's
 * own decoder (lib/b64.h, linked in), several times faster than nettle's
 * on a large body; a transform of your own can use nettle's
 * base64_decode_update the same way.
 */
#include "b64.h"

#include <etl.h>
#include <nettle/md5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct md5_conf {
	const char *field;       /* NULL: the whole record */
	char marker[256];        /* FIELD_encoding */
	int only;                /* emit {"md5":…} alone */
};

static int
md5_init_args(struct etl_context *ctx, int argc, char **argv)
{
	struct md5_conf *conf = calloc(1, sizeof *conf);

	if (!conf)
		return etl_fail(ctx, "out of memory");
	ctx->state = conf;
	if (argc > 2 || (argc == 2 && strcmp(argv[1], "only") != 0))
		return etl_fail(ctx, "give at most one field name, then 'only'");
	if (argc >= 1) {
		conf->field = argv[0];
		snprintf(conf->marker, sizeof conf->marker, "%s_encoding", argv[0]);
	}
	conf->only = argc == 2;
	return ETL_OK;
}

static void
md5_cleanup(struct etl_context *ctx)
{
	free(ctx->state);
}

static void
hex_of(struct md5_ctx *md5, char out[2 * MD5_DIGEST_SIZE + 1])
{
	static const char hex[] = "0123456789abcdef";
	uint8_t digest[MD5_DIGEST_SIZE];

	md5_digest(md5, sizeof digest, digest);
	for (size_t i = 0; i < sizeof digest; i++) {
		out[2 * i] = hex[digest[i] >> 4];
		out[2 * i + 1] = hex[digest[i] & 15];
	}
	out[2 * MD5_DIGEST_SIZE] = '\0';
}

static void
hex_digest(const void *data, size_t n, char out[2 * MD5_DIGEST_SIZE + 1])
{
	struct md5_ctx md5;

	md5_init(&md5);
	md5_update(&md5, n, data);
	hex_of(&md5, out);
}

/*
 * The digest of the bytes that the standard (padded) base64 IN[0..LEN)
 * stands for; 0 when it is not base64.  The text is decoded a block at a
 * time into a buffer that stays in the cache and digested from there: no
 * copy of the whole body.  Only the last block may end in padding.
 */
static int
base64_digest(const char *in, size_t len, char out[2 * MD5_DIGEST_SIZE + 1])
{
	enum { TEXT = 4 * 4096 };
	uint8_t block[B64_DECODED_LENGTH(TEXT)];
	struct md5_ctx md5;
	size_t done = 0;

	if (len % 4)
		return 0;
	md5_init(&md5);
	do {
		size_t n = len - done > TEXT ? TEXT : len - done;
		size_t bytes = b64_decode(block, in + done, n);

		if (bytes == (size_t)-1 || (done + n < len && bytes != B64_DECODED_LENGTH(n)))
			return 0;
		md5_update(&md5, bytes, block);
		done += n;
	} while (done < len);
	hex_of(&md5, out);
	return 1;
}

static int
md5_map(struct etl_context *ctx, json_t *rec)
{
	const struct md5_conf *conf = ctx->state;
	const char *field = conf->field;
	const json_t *v = field ? json_object_get(rec, field) : rec;
	const char *enc = field ? json_string_value(json_object_get(rec, conf->marker)) : NULL;
	char hex[2 * MD5_DIGEST_SIZE + 1];

	if (!v)
		return etl_reject(ctx, "%s: missing", field);
	if (json_is_string(v) && enc && strcmp(enc, "base64") == 0) {
		if (!base64_digest(json_string_value(v), json_string_length(v), hex))
			return etl_reject(ctx, "%s: not valid base64", field);
	} else if (json_is_string(v)) {
		hex_digest(json_string_value(v), json_string_length(v), hex);
	} else {
		char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);

		if (!text)
			return etl_fail(ctx, "out of memory");
		hex_digest(text, strlen(text), hex);
		free(text);
	}
	if (conf->only)
		return etl_emit(ctx, json_pack("{s:s}", "md5", hex));
	json_object_set_new(rec, "md5", json_string(hex));
	return etl_emit(ctx, json_incref(rec));
}

ETL_TRANSFORM(
	.name = "md5",
	.description = "add the MD5 digest of a field or of the record",
	.init = md5_init_args,
	.map = md5_map,
	.cleanup = md5_cleanup,
);

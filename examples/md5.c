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
 * else as its compact JSON text.
 */
#include <etl.h>
#include <nettle/md5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static signed char value[256];   /* base64 digit values, -1 for others */

/* Instances are made one after the other, before any maps: no race. */
static void
base64_table(void)
{
	static const char alphabet[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

	memset(value, -1, sizeof value);
	for (int i = 0; i < 64; i++)
		value[(unsigned char)alphabet[i]] = (signed char)i;
}

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
	base64_table();
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

/*
 * Standard base64 (padded) into OUT; 0 when it is not.  nettle's decoder
 * goes a byte at a time through a call, and took more than half of a 1 MB
 * body's time; four characters at a time through a table is five times
 * faster, and this is all the example needs.
 */
static int
base64_decode(const char *in, size_t len, uint8_t *out, size_t *outlen)
{
	const unsigned char *p = (const unsigned char *)in;
	size_t o = 0, pad = 0;

	if (len % 4)
		return 0;
	if (len && p[len - 1] == '=')
		pad = len >= 2 && p[len - 2] == '=' ? 2 : 1;
	for (size_t i = 0; i < len; i += 4) {
		int a = value[p[i]], b = value[p[i + 1]];
		int c = i + 4 == len && pad == 2 ? 0 : value[p[i + 2]];
		int d = i + 4 == len && pad >= 1 ? 0 : value[p[i + 3]];
		uint32_t w;

		if ((a | b | c | d) < 0)
			return 0;
		w = (uint32_t)a << 18 | (uint32_t)b << 12 | (uint32_t)c << 6 | (uint32_t)d;
		out[o++] = w >> 16;
		out[o++] = w >> 8 & 255;
		out[o++] = w & 255;
	}
	*outlen = o - pad;
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
		size_t n;
		uint8_t *bytes = malloc(json_string_length(v) / 4 * 3 + 3);

		if (!bytes)
			return etl_fail(ctx, "out of memory");
		if (!base64_decode(json_string_value(v), json_string_length(v), bytes, &n)) {
			free(bytes);
			return etl_reject(ctx, "%s: not valid base64", field);
		}
		hex_digest(bytes, n, hex);
		free(bytes);
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

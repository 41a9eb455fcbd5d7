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

enum { BAD = 1 << 24 };

/* Each base64 character's six bits at their place in a group of four (the
 * group's bits OR'ed together give its three bytes), or BAD. */
static uint32_t sextet[4][256];

/* Instances are made one after the other, before any maps: no race. */
static void
base64_table(void)
{
	static const char alphabet[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

	for (int place = 0; place < 4; place++)
		for (int c = 0; c < 256; c++)
			sextet[place][c] = BAD;
	for (int i = 0; i < 64; i++)
		for (int place = 0; place < 4; place++)
			sextet[place][(unsigned char)alphabet[i]] =
			    (uint32_t)i << (6 * (3 - place));
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
 * stands for; 0 when it is not base64.  The bytes are decoded a block at
 * a time into a buffer that stays in the cache and digested from there:
 * no copy of the whole body.  (nettle's decoder goes a byte at a time
 * through a call; four characters at a time through tables is several
 * times faster.)
 */
static int
base64_digest(const char *in, size_t len, char out[2 * MD5_DIGEST_SIZE + 1])
{
	const unsigned char *p = (const unsigned char *)in;
	uint8_t block[3 * 4096];
	size_t whole, pad = 0, i = 0;
	uint32_t bad = 0, w;
	struct md5_ctx md5;

	if (len % 4)
		return 0;
	if (len && p[len - 1] == '=')
		pad = len >= 2 && p[len - 2] == '=' ? 2 : 1;
	whole = pad ? len - 4 : len;   /* the groups without padding */
	md5_init(&md5);
	while (i < whole) {
		size_t o = 0;

		for (; i < whole && o < sizeof block; i += 4, o += 3) {
			w = sextet[0][p[i]] | sextet[1][p[i + 1]] |
			    sextet[2][p[i + 2]] | sextet[3][p[i + 3]];
			bad |= w;
			block[o] = (uint8_t)(w >> 16);
			block[o + 1] = (uint8_t)(w >> 8);
			block[o + 2] = (uint8_t)w;
		}
		md5_update(&md5, o, block);
	}
	if (pad) {                     /* "xy==" is one byte, "xyz=" two */
		w = sextet[0][p[i]] | sextet[1][p[i + 1]] |
		    (pad == 1 ? sextet[2][p[i + 2]] : 0);
		bad |= w;
		block[0] = (uint8_t)(w >> 16);
		block[1] = (uint8_t)(w >> 8);
		md5_update(&md5, 3 - pad, block);
	}
	if (bad & BAD)
		return 0;
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

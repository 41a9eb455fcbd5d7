/* httpbody.c - request bodies to records (see httpbody.h). */
#include "httpbody.h"
#include "b64.h"
#include "jsoncanon.h"
#include "jsonout.h"
#include "jsontree.h"
#include "line.h"
#include "utf8.h"

#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

static int
is_control(const json_t *v)
{
	return line_is_control(v);
}

/* A JSON text as json_loadb(BODY, LEN, LINE_JSON_FLAGS) reads it, through
 * the faster lib/jsontree.c when it can; E is set when this fails. */
static json_t *
parse(const char *body, size_t len, json_error_t *e)
{
	json_t *v = jsontree_parse(body, len);

	return v ? v : json_loadb(body, len, LINE_JSON_FLAGS, e);
}

/* Append V (an object) as a line; -1 with a reason if it is not a record. */
static int
add_record(const json_t *v, size_t index, struct buf *out, char *err,
    size_t errsize)
{
	if (!json_is_object(v)) {
		snprintf(err, errsize, "element %zu is not a JSON object", index);
		return -1;
	}
	if (is_control(v)) {
		snprintf(err, errsize, "element %zu: objects whose only key is"
		    " \"$etl\" are reserved", index);
		return -1;
	}
	jsonout_value(out, v);
	buf_addc(out, '\n');
	return 0;
}

static long
ndjson_records(const char *body, size_t len, struct buf *out, char *err,
    size_t errsize)
{
	const char *p = body, *end = body + len;
	long n = 0;
	size_t line = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', end - p), *stop = nl ? nl : end;
		size_t l = stop - p;
		json_error_t e;
		json_t *v;

		line++;
		while (l > 0 && (p[l - 1] == '\r' || p[l - 1] == ' ' || p[l - 1] == '\t'))
			l--;
		if (l > 0 && jsoncanon_object(p, l)) {
			buf_add(out, p, l);  /* already as jsonout writes it */
			buf_addc(out, '\n');
			n++;
		} else if (l > 0) {
			v = parse(p, l, &e);
			if (!v) {
				snprintf(err, errsize, "line %zu: invalid JSON: %s at column %d",
				    line, e.text, e.column);
				return -1;
			}
			if (add_record(v, line, out, err, errsize) != 0) {
				snprintf(err, errsize, "line %zu is not a JSON object", line);
				json_decref(v);
				return -1;
			}
			json_decref(v);
			n++;
		}
		p = nl ? nl + 1 : end;
	}
	return n;
}

static long
json_records(const char *body, size_t len, struct buf *out, char *err,
    size_t errsize)
{
	json_error_t e;
	json_t *v, *elem;
	long n = 0;
	size_t i;

	if (jsoncanon_object(body, len)) {
		buf_add(out, body, len);  /* already as jsonout writes it */
		buf_addc(out, '\n');
		return 1;
	}
	v = parse(body, len, &e);
	if (!v) {
		/* Not one JSON text: NDJSON, if every line is one. */
		size_t mark = out->len;
		char ndjson_err[256];
		long count = memchr(body, '\n', len)
		    ? ndjson_records(body, len, out, ndjson_err, sizeof ndjson_err) : -1;

		if (count >= 0)
			return count;
		out->len = mark;
		snprintf(err, errsize, "invalid JSON: %s at line %d, column %d",
		    e.text, e.line, e.column);
		return -1;
	}
	if (json_is_object(v)) {
		n = add_record(v, 1, out, err, errsize) == 0 ? 1 : -1;
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, elem) {
			if (add_record(elem, i + 1, out, err, errsize) != 0) {
				n = -1;
				break;
			}
			n++;
		}
	} else {
		snprintf(err, errsize, "the body is not a JSON object or array");
		n = -1;
	}
	json_decref(v);
	return n;
}

void
httpbody_add_field(json_t *obj, const char *key, json_t *value)
{
	json_t *old = json_object_get(obj, key);

	if (!old) {
		json_object_set_new(obj, key, value);
	} else if (json_is_array(old)) {
		json_array_append_new(old, value);
	} else {
		json_t *list = json_array();

		json_array_append(list, old);
		json_array_append_new(list, value);
		json_object_set_new(obj, key, list);
	}
}

/*
 * application/x-www-form-urlencoded decoding of P[0..N) into OUT (n + 1
 * bytes): '+' is a space, and libmicrohttpd's unescaper does the %XX.
 * Returns the decoded length.
 */
static long
form_decode(const char *p, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		out[i] = p[i] == '+' ? ' ' : p[i];
	out[n] = '\0';
	return (long)MHD_http_unescape(out);
}

/*
 * GitHub's webhooks (unless set to send JSON) and Slack's interactive
 * callbacks send the whole JSON event as the one form field "payload": such
 * a form is that JSON, not {"payload":"<the JSON as a string>"}.
 */
static int
payload_is_json(const json_t *form)
{
	const json_t *payload = json_object_get(form, "payload");
	json_t *v;
	int yes;

	if (!json_is_string(payload))
		return 0;
	v = json_loadb(json_string_value(payload), json_string_length(payload),
	    LINE_JSON_FLAGS, NULL);
	yes = json_is_object(v) || json_is_array(v);
	json_decref(v);
	return yes;
}

static long
form_records(const char *body, size_t len, struct buf *out, char *err,
    size_t errsize)
{
	json_t *obj = json_object();
	const char *p = body, *end = body + len;
	char *scratch = malloc(len + 1);

	while (scratch && p < end) {
		const char *amp = memchr(p, '&', end - p), *stop = amp ? amp : end;
		const char *eq = memchr(p, '=', stop - p);
		long klen, vlen;
		json_t *value;
		char *key;

		if (stop == p) {
			p = stop + 1;
			continue;
		}
		klen = form_decode(p, (eq ? eq : stop) - p, scratch);
		if (klen <= 0 || memchr(scratch, '\0', klen)) {
			snprintf(err, errsize, "malformed form field name");
			goto fail;
		}
		key = strndup(scratch, klen);
		vlen = eq ? form_decode(eq + 1, stop - eq - 1, scratch) : 0;
		value = vlen >= 0 ? json_stringn(scratch, vlen) : NULL;
		if (!value || !key) {
			snprintf(err, errsize, "form field \"%s\": not UTF-8 text",
			    key ? key : "?");
			free(key);
			goto fail;
		}
		httpbody_add_field(obj, key, value);
		free(key);
		p = amp ? amp + 1 : end;
	}
	free(scratch);
	if (json_object_size(obj) == 0) {
		json_decref(obj);
		snprintf(err, errsize, "the form has no fields");
		return -1;
	}
	if (json_object_size(obj) == 1 && payload_is_json(obj)) {
		const json_t *payload = json_object_get(obj, "payload");
		long n = json_records(json_string_value(payload),
		    json_string_length(payload), out, err, errsize);

		json_decref(obj);
		return n;
	}
	if (add_record(obj, 1, out, err, errsize) != 0) {
		json_decref(obj);
		return -1;
	}
	json_decref(obj);
	return 1;
fail:
	free(scratch);
	json_decref(obj);
	return -1;
}

/* A UTF-8 byte-order mark at the start is skipped, as jq does: Windows
 * tools write one. */
static void
skip_bom(const char **body, size_t *len)
{
	if (*len >= 3 && memcmp(*body, "\xef\xbb\xbf", 3) == 0) {
		*body += 3;
		*len -= 3;
	}
}

int
httpbody_kind(const char *type)
{
	size_t n;

	if (!type)
		return HTTPBODY_JSON;  /* unlabelled: try JSON */
	n = strcspn(type, "; ");
	if ((n == 16 && strncasecmp(type, "application/json", 16) == 0) ||
	    (n > 5 && strncasecmp(type + n - 5, "+json", 5) == 0) ||
	    (n == 10 && strncasecmp(type, "text/plain", 10) == 0))
		return HTTPBODY_JSON;
	if ((n == 20 && strncasecmp(type, "application/x-ndjson", 20) == 0) ||
	    (n == 17 && strncasecmp(type, "application/jsonl", 17) == 0) ||
	    (n == 23 && strncasecmp(type, "application/x-jsonlines", 23) == 0))
		return HTTPBODY_NDJSON;
	if (n == 33 && strncasecmp(type, "application/x-www-form-urlencoded", 33) == 0)
		return HTTPBODY_FORM;
	return -1;
}

long
httpbody_records(enum httpbody_kind kind, const char *body, size_t len,
    struct buf *out, char *err, size_t errsize)
{
	size_t mark = out->len;
	long n;

	skip_bom(&body, &len);
	switch (kind) {
	case HTTPBODY_NDJSON:
		n = ndjson_records(body, len, out, err, errsize);
		break;
	case HTTPBODY_FORM: {
		/* `curl -d @order.json` labels JSON as a form: take it as JSON. */
		json_error_t e;
		json_t *v = json_loadb(body, len, LINE_JSON_FLAGS, &e);
		int is_json = v && (json_is_object(v) || json_is_array(v));

		json_decref(v);
		n = is_json ? json_records(body, len, out, err, errsize)
		    : form_records(body, len, out, err, errsize);
		break;
	}
	default:
		n = json_records(body, len, out, err, errsize);
		break;
	}
	if (n < 0)
		out->len = mark;
	return n;
}

json_t *
httpbody_envelope_value(const char *body, size_t len)
{
	const char *json = body;
	size_t jsonlen = len;
	json_error_t e;
	json_t *v;
	char *b64;

	skip_bom(&json, &jsonlen);
	v = jsonlen ? json_loadb(json, jsonlen, LINE_JSON_FLAGS, &e) : NULL;
	if (v)
		return v;
	if ((v = json_stringn(body, len)))
		return v;
	b64 = malloc(B64_ENCODED_LENGTH(len) + 1);
	if (!b64)
		return json_null();
	v = json_stringn(b64, b64_encode(b64, body, len));
	free(b64);
	return v;
}

void
httpbody_raw_record(const char *body, size_t len, struct buf *out)
{
	static const char tail[] = "\",\"body_encoding\":\"base64\"}\n";

	buf_adds(out, "{\"body\":");
	if (utf8_valid(body, len)) {
		jsonout_string(out, body, len);
		buf_adds(out, "}\n");
		return;
	}
	buf_addc(out, '"');
	buf_reserve(out, B64_ENCODED_LENGTH(len) + sizeof tail);
	out->len += b64_encode(out->data + out->len, body, len);
	buf_add(out, tail, sizeof tail - 1);
}

int
httpbody_decompress(const char *enc, struct buf *body, size_t max, const char **reason)
{
	struct buf out = BUF_INIT;
	z_stream z;
	int rc, windowbits;

	if (!enc || strcasecmp(enc, "identity") == 0)
		return 0;
	if (strcasecmp(enc, "gzip") == 0 || strcasecmp(enc, "x-gzip") == 0)
		windowbits = 16 + MAX_WBITS;
	else if (strcasecmp(enc, "deflate") == 0)
		windowbits = 32 + MAX_WBITS;  /* zlib-wrapped, as HTTP says */
	else {
		*reason = "unsupported Content-Encoding";
		return 415;
	}
	memset(&z, 0, sizeof z);
	if (inflateInit2(&z, windowbits) != Z_OK) {
		*reason = "cannot decompress";
		return 400;
	}
	z.next_in = (unsigned char *)body->data;
	z.avail_in = body->len;
	do {
		buf_reserve(&out, 64 * 1024);
		z.next_out = (unsigned char *)out.data + out.len;
		z.avail_out = out.cap - out.len;
		if (z.avail_out > max + 1 - out.len)
			z.avail_out = max + 1 - out.len;
		rc = inflate(&z, Z_NO_FLUSH);
		out.len = (char *)z.next_out - out.data;
		if (out.len > max) {
			inflateEnd(&z);
			buf_free(&out);
			*reason = "the decompressed body is larger than --max-body";
			return 413;
		}
	} while (rc == Z_OK);
	inflateEnd(&z);
	if (rc != Z_STREAM_END) {
		buf_free(&out);
		*reason = "the compressed body is corrupt or truncated";
		return 400;
	}
	buf_free(body);
	*body = out;
	return 0;
}

void
httpbody_prefix_field(struct buf *lines, const char *name, const char *value)
{
	struct buf out = BUF_INIT, field = BUF_INIT;
	const char *p = lines->data, *end = lines->data + lines->len;

	jsonout_string_lossy(&field, name, strlen(name));
	buf_addc(&field, ':');
	jsonout_string_lossy(&field, value, strlen(value));
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *stop = nl ? nl + 1 : end;

		if (*p == '{') {
			buf_addc(&out, '{');
			buf_add(&out, field.data, field.len);
			if (p + 1 < stop && p[1] != '}')
				buf_addc(&out, ',');
			p++;
		}
		buf_add(&out, p, (size_t)(stop - p));
		p = stop;
	}
	buf_free(&field);
	buf_free(lines);
	*lines = out;
}

/* ---- requests (etl-extract-http) ---- */

static void
add_iso_now(struct buf *b)
{
	struct timespec ts;
	struct tm tm;
	char tmp[40];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(tmp, sizeof tmp, "%Y-%m-%dT%H:%M:%S", &tm);
	buf_adds(b, tmp);
	snprintf(tmp, sizeof tmp, ".%03ldZ", ts.tv_nsec / 1000000);
	buf_adds(b, tmp);
}

static enum MHD_Result
collect_value(void *cls, enum MHD_ValueKind kind, const char *key,
    const char *value)
{
	json_t *value_json = json_string(value ? value : "");

	(void)kind;
	if (!key || !*key)
		return MHD_YES;
	httpbody_add_field(cls, key, value_json ? value_json : json_string(""));
	return MHD_YES;
}

static json_t *
collect(struct MHD_Connection *c, enum MHD_ValueKind kind)
{
	json_t *obj = json_object();

	MHD_get_connection_values(c, kind, collect_value, obj);
	return obj;
}

static void
remote_address(struct MHD_Connection *c, char *out, size_t size)
{
	const union MHD_ConnectionInfo *info = MHD_get_connection_info(c,
	    MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	char host[INET6_ADDRSTRLEN] = "?", port[8] = "";

	if (info && info->client_addr)
		getnameinfo(info->client_addr, info->client_addr->sa_family == AF_INET6
		    ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in),
		    host, sizeof host, port, sizeof port, NI_NUMERICHOST | NI_NUMERICSERV);
	snprintf(out, size, "%s", host);
}

long
httpbody_envelope_record(struct MHD_Connection *c, const char *url,
    const char *method, const char *body, size_t len, struct buf *lines)
{
	json_t *rec = json_object();
	char remote[INET6_ADDRSTRLEN + 8];
	struct buf when = BUF_INIT;

	remote_address(c, remote, sizeof remote);
	add_iso_now(&when);
	json_object_set_new(rec, "method", json_string(method));
	json_object_set_new(rec, "path", json_string(url));
	json_object_set_new(rec, "query", collect(c, MHD_GET_ARGUMENT_KIND));
	json_object_set_new(rec, "headers", collect(c, MHD_HEADER_KIND));
	json_object_set_new(rec, "remote", json_string(remote));
	json_object_set_new(rec, "received_at", json_stringn(when.data, when.len));
	json_object_set_new(rec, "body", httpbody_envelope_value(body, len));
	jsonout_value(lines, rec);
	buf_addc(lines, '\n');
	json_decref(rec);
	buf_free(&when);
	return 1;
}

long
httpbody_query_record(struct MHD_Connection *c, struct buf *lines, char *err, size_t errsize)
{
	json_t *rec = collect(c, MHD_GET_ARGUMENT_KIND);

	if (json_object_size(rec) == 0) {
		json_decref(rec);
		snprintf(err, errsize, "no query parameters");
		return -1;
	}
	jsonout_value(lines, rec);
	buf_addc(lines, '\n');
	json_decref(rec);
	return 1;
}

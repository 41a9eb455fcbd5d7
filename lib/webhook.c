/*
 * webhook.c - webhook senders' signature schemes (see webhook.h).
 *
 * Each scheme is a row of SCHEMES: everything that differs between
 * senders is data there, and one verify and one sign function read it.
 * A MAC is computed over two pieces, a short head made of the
 * timestamp and id ("1700000000." for Stripe, "v0:1700000000:" for
 * Slack, "msg_1.1700000000." for Standard Webhooks) and the body as it
 * came, so the body is never copied.  Each secret's HMAC context is
 * keyed once when the secret is added and copied per request.
 */
#include "webhook.h"
#include "b64.h"
#include "exitcode.h"
#include "msg.h"
#include "secret.h"

#include <jansson.h>
#include <nettle/hmac.h>
#include <nettle/memops.h>
#include <nettle/sha2.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- MACs --------------------------------------------------------------- */

struct webhook_mac {
	const char *name;
	size_t context_size, digest_size;
	void (*set_key)(void *ctx, size_t len, const uint8_t *key);
	void (*update)(void *ctx, size_t len, const uint8_t *data);
	void (*digest)(void *ctx, size_t len, uint8_t *out);
};

#define MAC(NAME, SIZE) \
	static void key_##NAME(void *c, size_t n, const uint8_t *k) \
	{ hmac_##NAME##_set_key(c, n, k); } \
	static void update_##NAME(void *c, size_t n, const uint8_t *d) \
	{ hmac_##NAME##_update(c, n, d); } \
	static void digest_##NAME(void *c, size_t n, uint8_t *o) \
	{ hmac_##NAME##_digest(c, n, o); } \
	static const struct webhook_mac mac_##NAME = { #NAME, \
	    sizeof(struct hmac_##NAME##_ctx), SIZE, \
	    key_##NAME, update_##NAME, digest_##NAME };
MAC(sha1, SHA1_DIGEST_SIZE)
MAC(sha256, SHA256_DIGEST_SIZE)
MAC(sha512, SHA512_DIGEST_SIZE)

static const struct webhook_mac *const macs[] = { &mac_sha1, &mac_sha256, &mac_sha512 };

enum { MAX_DIGEST = SHA512_DIGEST_SIZE, MAX_CONTEXT = sizeof(struct hmac_sha512_ctx) };

/* ---- the table ----------------------------------------------------------- */

enum signed_text {
	SIGNS_BODY,             /* the body */
	SIGNS_STRIPE,           /* "TS.BODY" */
	SIGNS_SLACK,            /* "v0:TS:BODY" */
	SIGNS_STANDARD,         /* "ID.TS.BODY" */
	SIGNS_TWILIO,           /* the URL, then each form field's name and value */
	SIGNS_NOTHING,          /* the secret itself is sent (gitlab) */
};

enum signature_list {
	LIST_ONE,               /* PREFIX MAC */
	LIST_STRIPE,            /* t=TS,v1=MAC[,v1=MAC…] */
	LIST_STANDARD,          /* v1,MAC[ v1,MAC…] */
};

struct webhook_scheme {
	const char *name;
	const char *header;           /* where the signature is */
	const char *prefix;           /* LIST_ONE: before the MAC */
	int base64;                   /* the MAC in base64, else hex */
	const struct webhook_mac *mac;
	enum signed_text signs;
	enum signature_list list;
	const char *timestamp_header; /* NULL: none, or in the signature (stripe) */
	const char *id_header;        /* the delivery id, in a header */
	const char *id_field;         /* or in the JSON body */
	const char *legacy_header;    /* github: HMAC-SHA1 "sha1=HEX" when no header */
	int timestamped;
	int signs_out;                /* etl-load-http --sign takes it */
};

static const struct webhook_scheme schemes[] = {
	{ "github", "X-Hub-Signature-256", "sha256=", 0, &mac_sha256, SIGNS_BODY,
	    LIST_ONE, NULL, "X-GitHub-Delivery", NULL, "X-Hub-Signature", 0, 1 },
	{ "gitlab", "X-Gitlab-Token", "", 0, NULL, SIGNS_NOTHING,
	    LIST_ONE, NULL, "X-Gitlab-Event-UUID", NULL, NULL, 0, 0 },
	{ "stripe", "Stripe-Signature", "", 0, &mac_sha256, SIGNS_STRIPE,
	    LIST_STRIPE, NULL, NULL, "id", NULL, 1, 1 },
	{ "slack", "X-Slack-Signature", "v0=", 0, &mac_sha256, SIGNS_SLACK,
	    LIST_ONE, "X-Slack-Request-Timestamp", NULL, "event_id", NULL, 1, 1 },
	{ "shopify", "X-Shopify-Hmac-Sha256", "", 1, &mac_sha256, SIGNS_BODY,
	    LIST_ONE, NULL, "X-Shopify-Webhook-Id", NULL, NULL, 0, 1 },
	{ "standard", "webhook-signature", "", 1, &mac_sha256, SIGNS_STANDARD,
	    LIST_STANDARD, "webhook-timestamp", "webhook-id", NULL, NULL, 1, 1 },
	{ "twilio", "X-Twilio-Signature", "", 1, &mac_sha1, SIGNS_TWILIO,
	    LIST_ONE, NULL, "I-Twilio-Idempotency-Token", NULL, NULL, 0, 0 },
	{ "meta", "X-Hub-Signature-256", "sha256=", 0, &mac_sha256, SIGNS_BODY,
	    LIST_ONE, NULL, NULL, NULL, NULL, 0, 1 },
	{ "generic", "X-Signature", "", 0, &mac_sha256, SIGNS_BODY,
	    LIST_ONE, NULL, NULL, NULL, NULL, 0, 1 },
};

static const char *const reasons[][2] = {
	[WEBHOOK_OK] = { "ok", "ok" },
	[WEBHOOK_MISSING] = { "missing signature header", "missing_header" },
	[WEBHOOK_MALFORMED] = { "malformed signature header", "malformed_header" },
	[WEBHOOK_BAD_SIGNATURE] = { "bad signature", "bad_signature" },
	[WEBHOOK_STALE] = { "stale timestamp", "stale_timestamp" },
	[WEBHOOK_FUTURE] = { "timestamp in the future", "future_timestamp" },
};

const char *
webhook_failure_reason(enum webhook_failure f)
{
	return reasons[f][0];
}

const char *
webhook_failure_label(enum webhook_failure f)
{
	return reasons[f][1];
}

const char *
webhook_scheme_names(void)
{
	return "github, gitlab, stripe, slack, shopify, standard, twilio, meta, generic";
}

int
webhook_init(struct webhook *w, const char *name, const char **why)
{
	memset(w, 0, sizeof *w);
	for (size_t i = 0; i < sizeof schemes / sizeof schemes[0]; i++)
		if (strcmp(schemes[i].name, name) == 0) {
			w->scheme = &schemes[i];
			w->header = schemes[i].header;
			w->prefix = schemes[i].prefix;
			w->base64 = schemes[i].base64;
			w->mac = schemes[i].mac;
			w->max_age_s = w->max_skew_s = 300;
			return 0;
		}
	*why = "unknown scheme";
	return -1;
}

int
webhook_set_digest(struct webhook *w, const char *name)
{
	for (size_t i = 0; i < sizeof macs / sizeof macs[0]; i++)
		if (strcmp(macs[i]->name, name) == 0) {
			w->mac = macs[i];
			return 0;
		}
	return -1;
}

int
webhook_can_sign(const struct webhook *w)
{
	return w->scheme->signs_out;
}

int
webhook_timestamped(const struct webhook *w)
{
	return w->scheme->timestamped;
}

/* ---- secrets ------------------------------------------------------------- */

/* Key one more secret: its bytes are KEY[0..LEN), taken. */
static void
add_key(struct webhook *w, unsigned char *key, size_t len)
{
	const struct webhook_mac *m = w->mac;
	struct webhook_secret *s = &w->secrets[w->nsecrets++];

	s->key = key;
	s->len = len;
	s->keyed = NULL;
	if (m && (s->keyed = malloc(m->context_size)))
		m->set_key(s->keyed, len, key);
}

int
webhook_add_secrets(struct webhook *w, const char *text, size_t len, const char **why)
{
	const char *end = text + len;

	while (text < end) {
		const char *nl = memchr(text, '\n', (size_t)(end - text));
		const char *stop = nl ? nl : end;
		size_t n;
		unsigned char *key;

		n = (size_t)(stop - text);
		if (n > 0 && text[n - 1] == '\r')
			n--;
		if (n > 0) {
			if (w->nsecrets == WEBHOOK_MAX_SECRETS) {
				*why = "more than 8 secrets";
				return -1;
			}
			if (w->scheme->signs == SIGNS_STANDARD) {
				/* "whsec_" and the base64 of the key */
				if (n > 6 && memcmp(text, "whsec_", 6) == 0)
					text += 6, n -= 6;
				key = malloc(B64_DECODED_LENGTH(n) + 1);
				if (!key || (n = b64_decode(key, text, n)) == (size_t)-1) {
					free(key);
					*why = "a Standard Webhooks secret is base64, after \"whsec_\"";
					return -1;
				}
			} else {
				if (!(key = malloc(n + 1)))
					return *why = "out of memory", -1;
				memcpy(key, text, n);
				key[n] = '\0';
			}
			add_key(w, key, n);
		}
		text = stop + (nl != NULL);
	}
	if (w->nsecrets == 0) {
		*why = "no secret in it";
		return -1;
	}
	return 0;
}

void
webhook_free(struct webhook *w)
{
	for (size_t i = 0; i < w->nsecrets; i++) {
		if (w->secrets[i].key)
			memset(w->secrets[i].key, 0, w->secrets[i].len);
		free(w->secrets[i].key);
		free(w->secrets[i].keyed);
	}
	w->nsecrets = 0;
}

/* Constant time (for a given length of TOKEN): whether TOKEN[0..N) is one
 * of the secrets.  The SHA-256 of each side is compared, so that a
 * secret's length does not show either. */
static int
token_matches(const struct webhook *w, const char *token, size_t n)
{
	uint8_t a[SHA256_DIGEST_SIZE], b[SHA256_DIGEST_SIZE];
	struct sha256_ctx h;
	int found = 0;

	sha256_init(&h);
	sha256_update(&h, n, (const uint8_t *)token);
	sha256_digest(&h, sizeof a, a);
	for (size_t i = 0; i < w->nsecrets; i++) {
		sha256_init(&h);
		sha256_update(&h, w->secrets[i].len, w->secrets[i].key);
		sha256_digest(&h, sizeof b, b);
		found |= memeql_sec(a, b, sizeof a);
	}
	return found;
}

int
webhook_secret_matches(const struct webhook *w, const char *token)
{
	return token_matches(w, token, strlen(token));
}

/* ---- what is signed ------------------------------------------------------ */

/* A digit string of at most 12 digits: its value, or -1. */
static long long
parse_timestamp(const char *s, size_t n)
{
	long long t = 0;

	if (n == 0 || n > 12)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		t = t * 10 + (s[i] - '0');
	}
	return t;
}

static int
hex_value(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Decode the MAC text S[0..N) as W writes it: 1 when it is one of
 * W's MAC's size. */
static int
decode_mac(const struct webhook *w, const char *s, size_t n, uint8_t *out)
{
	size_t size = w->mac->digest_size;

	if (w->base64) {
		uint8_t tmp[B64_DECODED_LENGTH(B64_ENCODED_LENGTH(MAX_DIGEST)) + 3];

		if (n != B64_ENCODED_LENGTH(size) || b64_decode(tmp, s, n) != size)
			return 0;
		memcpy(out, tmp, size);
		return 1;
	}
	if (n != 2 * size)
		return 0;
	for (size_t i = 0; i < size; i++) {
		int hi = hex_value(s[2 * i]), lo = hex_value(s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return 0;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 1;
}

static void
encode_mac(const struct webhook *w, const uint8_t *mac, char *out)
{
	static const char hex[] = "0123456789abcdef";
	size_t size = w->mac->digest_size;

	if (w->base64) {
		out[b64_encode(out, mac, size)] = '\0';
		return;
	}
	for (size_t i = 0; i < size; i++) {
		out[2 * i] = hex[mac[i] >> 4];
		out[2 * i + 1] = hex[mac[i] & 15];
	}
	out[2 * size] = '\0';
}

/* The MAC with secret S of HEAD[0..HLEN) then BODY[0..LEN). */
static void
compute_mac(const struct webhook *w, const struct webhook_secret *s,
    const char *head, size_t hlen, const char *body, size_t len, uint8_t *out)
{
	_Alignas(16) unsigned char ctx[MAX_CONTEXT];

	memcpy(ctx, s->keyed, w->mac->context_size);
	if (hlen)
		w->mac->update(ctx, hlen, (const uint8_t *)head);
	if (len)
		w->mac->update(ctx, len, (const uint8_t *)body);
	w->mac->digest(ctx, w->mac->digest_size, out);
}

/* A form field, percent-decoded. */
struct field {
	char *name, *value;
};

static char *
form_decode(const char *s, size_t n)
{
	char *out = malloc(n + 1), *o = out;

	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '+')
			*o++ = ' ';
		else if (s[i] == '%' && i + 2 < n &&
		    hex_value(s[i + 1]) >= 0 && hex_value(s[i + 2]) >= 0) {
			*o++ = (char)(hex_value(s[i + 1]) << 4 | hex_value(s[i + 2]));
			i += 2;
		} else
			*o++ = s[i];
	}
	*o = '\0';
	return out;
}

static int
field_order(const void *a, const void *b)
{
	const struct field *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c ? c : strcmp(x->value, y->value);
}

/* Twilio's text: the URL, then the form's fields sorted by name, each
 * name then value, into *OUT (malloc'd); its length, or -1. */
static long
twilio_text(const struct webhook *w, const struct webhook_request *r, char **out)
{
	const char *type = r->header(r->ctx, "Content-Type");
	struct field *fields = NULL;
	size_t nfields = 0, total, len = 0;
	const char *p = r->body, *end = r->body + r->len;
	char *text;

	if (!w->public_url)
		return -1;
	total = strlen(w->public_url);
	if (type && strncasecmp(type, "application/x-www-form-urlencoded", 33) == 0 &&
	    !strstr(w->public_url, "bodySHA256=")) {
		fields = calloc(r->len / 2 + 1, sizeof *fields);
		while (fields && p < end) {
			const char *amp = memchr(p, '&', (size_t)(end - p));
			const char *stop = amp ? amp : end;
			const char *eq = memchr(p, '=', (size_t)(stop - p));

			if (stop > p) {
				struct field *f = &fields[nfields++];

				f->name = form_decode(p, (size_t)((eq ? eq : stop) - p));
				f->value = eq ? form_decode(eq + 1, (size_t)(stop - eq - 1))
				    : form_decode("", 0);
				total += strlen(f->name) + strlen(f->value);
			}
			p = stop + (amp != NULL);
		}
		qsort(fields, nfields, sizeof *fields, field_order);
	}
	text = malloc(total + 1);
	if (text) {
		len = strlen(w->public_url);
		memcpy(text, w->public_url, len);
		for (size_t i = 0; i < nfields; i++) {
			size_t a = strlen(fields[i].name), b = strlen(fields[i].value);

			memcpy(text + len, fields[i].name, a);
			memcpy(text + len + a, fields[i].value, b);
			len += a + b;
		}
	}
	for (size_t i = 0; i < nfields; i++) {
		free(fields[i].name);
		free(fields[i].value);
	}
	free(fields);
	*out = text;
	return text ? (long)len : -1;
}

/* Twilio signs a JSON body through the URL: ?bodySHA256=HEX of the body. */
static int
twilio_body_hash_ok(const struct webhook *w, const struct webhook_request *r)
{
	const char *q = strstr(w->public_url, "bodySHA256=");
	uint8_t d[SHA256_DIGEST_SIZE], sent[SHA256_DIGEST_SIZE];
	struct sha256_ctx h;

	if (!q)
		return 1;
	q += 11;
	for (size_t i = 0; i < sizeof sent; i++) {
		int hi = hex_value(q[2 * i]), lo = hi < 0 ? -1 : hex_value(q[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return 0;
		sent[i] = (uint8_t)(hi << 4 | lo);
	}
	sha256_init(&h);
	sha256_update(&h, r->len, (const uint8_t *)r->body);
	sha256_digest(&h, sizeof d, d);
	return memeql_sec(d, sent, sizeof d);
}

/* ---- verifying ----------------------------------------------------------- */

enum { MAX_CANDIDATES = 8 };

/* The signatures a request offers, decoded, and what they sign. */
struct offer {
	uint8_t macs[MAX_CANDIDATES][MAX_DIGEST];
	size_t n;
	long long timestamp;     /* -1: none */
	char head[160];          /* signed before the body */
	size_t hlen;
};

/* Read one list item S[0..N) into O; malformed ones are skipped (a
 * scheme version we do not know), so only a list with no usable item
 * is malformed. */
static void
offer_mac(const struct webhook *w, struct offer *o, const char *s, size_t n)
{
	if (o->n < MAX_CANDIDATES && decode_mac(w, s, n, o->macs[o->n]))
		o->n++;
}

static enum webhook_failure
read_offer(const struct webhook *w, const struct webhook_request *r,
    const char *sig, struct offer *o)
{
	const struct webhook_scheme *k = w->scheme;
	const char *ts = NULL;
	size_t tslen = 0;

	o->n = 0;
	o->timestamp = -1;
	o->hlen = 0;
	switch (k->list) {
	case LIST_ONE: {
		size_t plen = strlen(w->prefix);

		if (strncmp(sig, w->prefix, plen) != 0)
			return WEBHOOK_MALFORMED;
		offer_mac(w, o, sig + plen, strlen(sig + plen));
		break;
	}
	case LIST_STRIPE:
		for (const char *p = sig; *p; ) {
			size_t n = strcspn(p, ",");

			if (n > 2 && p[0] == 't' && p[1] == '=')
				ts = p + 2, tslen = n - 2;
			else if (n > 3 && memcmp(p, "v1=", 3) == 0)
				offer_mac(w, o, p + 3, n - 3);
			p += n + (p[n] == ',');
		}
		break;
	case LIST_STANDARD:
		for (const char *p = sig; *p; ) {
			size_t n = strcspn(p, " ");

			if (n > 3 && memcmp(p, "v1,", 3) == 0)
				offer_mac(w, o, p + 3, n - 3);
			p += n + (p[n] == ' ');
		}
		break;
	}
	if (o->n == 0)
		return WEBHOOK_MALFORMED;
	if (k->timestamp_header) {
		if (!(ts = r->header(r->ctx, k->timestamp_header)))
			return WEBHOOK_MISSING;
		tslen = strlen(ts);
	}
	if (k->timestamped && (o->timestamp = parse_timestamp(ts, tslen)) < 0)
		return WEBHOOK_MALFORMED;
	switch (k->signs) {
	case SIGNS_STRIPE:
		o->hlen = (size_t)snprintf(o->head, sizeof o->head, "%lld.", o->timestamp);
		break;
	case SIGNS_SLACK:
		o->hlen = (size_t)snprintf(o->head, sizeof o->head, "v0:%lld:", o->timestamp);
		break;
	case SIGNS_STANDARD: {
		const char *id = r->header(r->ctx, k->id_header);

		if (!id)
			return WEBHOOK_MISSING;
		if (strlen(id) > sizeof o->head - 32)
			return WEBHOOK_MALFORMED;
		o->hlen = (size_t)snprintf(o->head, sizeof o->head, "%s.%lld.", id, o->timestamp);
		break;
	}
	default:
		break;
	}
	return WEBHOOK_OK;
}

/* Whether any secret's MAC of HEAD then BODY is among O's. */
static int
any_mac_matches(const struct webhook *w, const struct offer *o,
    const char *body, size_t len)
{
	uint8_t mac[MAX_DIGEST];
	int found = 0;

	for (size_t s = 0; s < w->nsecrets; s++) {
		compute_mac(w, &w->secrets[s], o->head, o->hlen, body, len, mac);
		for (size_t i = 0; i < o->n; i++)
			found |= memeql_sec(mac, o->macs[i], w->mac->digest_size);
	}
	return found;
}

enum webhook_failure
webhook_verify(const struct webhook *w, const struct webhook_request *r)
{
	const struct webhook_scheme *k = w->scheme;
	const char *sig = r->header(r->ctx, w->header);
	struct webhook legacy;
	struct offer o;
	enum webhook_failure f;
	int ok;

	if (k->signs == SIGNS_NOTHING)
		return !sig ? WEBHOOK_MISSING : token_matches(w, sig, strlen(sig))
		    ? WEBHOOK_OK : WEBHOOK_BAD_SIGNATURE;
	if (!sig && k->legacy_header && (sig = r->header(r->ctx, k->legacy_header))) {
		/* GitHub's first header: "sha1=HEX", HMAC-SHA1, keyed per
		 * request: only old senders send it alone. */
		legacy = *w;
		legacy.mac = &mac_sha1;
		legacy.prefix = "sha1=";
		if ((f = read_offer(&legacy, r, sig, &o)) != WEBHOOK_OK)
			return f;
		ok = 0;
		for (size_t i = 0; i < w->nsecrets; i++) {
			_Alignas(16) unsigned char ctx[MAX_CONTEXT];
			uint8_t mac[MAX_DIGEST];

			mac_sha1.set_key(ctx, w->secrets[i].len, w->secrets[i].key);
			mac_sha1.update(ctx, r->len, (const uint8_t *)r->body);
			mac_sha1.digest(ctx, SHA1_DIGEST_SIZE, mac);
			ok |= memeql_sec(mac, o.macs[0], SHA1_DIGEST_SIZE);
		}
		return ok ? WEBHOOK_OK : WEBHOOK_BAD_SIGNATURE;
	}
	if (!sig)
		return WEBHOOK_MISSING;
	if ((f = read_offer(w, r, sig, &o)) != WEBHOOK_OK)
		return f;
	if (k->signs == SIGNS_TWILIO) {
		char *text;
		long n = twilio_text(w, r, &text);

		if (n < 0)
			return WEBHOOK_BAD_SIGNATURE;
		ok = any_mac_matches(w, &o, text, (size_t)n) && twilio_body_hash_ok(w, r);
		free(text);
	} else
		ok = any_mac_matches(w, &o, r->body, r->len);
	if (!ok)
		return WEBHOOK_BAD_SIGNATURE;
	/* Only an authentic request learns that it came too late. */
	if (k->timestamped && w->max_age_s > 0 && o.timestamp < (long long)r->now - w->max_age_s)
		return WEBHOOK_STALE;
	if (k->timestamped && o.timestamp > (long long)r->now + w->max_skew_s)
		return WEBHOOK_FUTURE;
	return WEBHOOK_OK;
}

int
webhook_delivery_id(const struct webhook *w, const struct webhook_request *r,
    char *out, size_t size)
{
	const struct webhook_scheme *k = w->scheme;
	const char *id = NULL;
	json_t *body = NULL;
	int found;

	if (k->id_header)
		id = r->header(r->ctx, k->id_header);
	else if (k->id_field && (body = json_loadb(r->body, r->len, 0, NULL)))
		id = json_string_value(json_object_get(body, k->id_field));
	found = id && *id && strlen(id) < size;
	if (found)
		memcpy(out, id, strlen(id) + 1);
	json_decref(body);
	return found;
}

/* ---- signing -------------------------------------------------------------- */

int
webhook_sign(const struct webhook *w, const char *body, size_t len,
    time_t now, const char *id, char headers[][WEBHOOK_HEADER_SIZE])
{
	const struct webhook_scheme *k = w->scheme;
	struct offer o = { .hlen = 0 };
	uint8_t mac[MAX_DIGEST];
	char text[2 * MAX_DIGEST + 1];  /* hex is the longer */
	long long t = (long long)now;
	int n = 0;

	switch (k->signs) {
	case SIGNS_STRIPE:
		o.hlen = (size_t)snprintf(o.head, sizeof o.head, "%lld.", t);
		break;
	case SIGNS_SLACK:
		o.hlen = (size_t)snprintf(o.head, sizeof o.head, "v0:%lld:", t);
		snprintf(headers[n++], WEBHOOK_HEADER_SIZE, "%s: %lld", k->timestamp_header, t);
		break;
	case SIGNS_STANDARD:
		o.hlen = (size_t)snprintf(o.head, sizeof o.head, "%.100s.%lld.", id, t);
		snprintf(headers[n++], WEBHOOK_HEADER_SIZE, "webhook-id: %.100s", id);
		snprintf(headers[n++], WEBHOOK_HEADER_SIZE, "webhook-timestamp: %lld", t);
		break;
	default:
		break;
	}
	compute_mac(w, &w->secrets[0], o.head, o.hlen, body, len, mac);
	encode_mac(w, mac, text);
	if (k->list == LIST_STRIPE)
		snprintf(headers[n++], WEBHOOK_HEADER_SIZE, "%s: t=%lld,v1=%.64s", w->header, t, text);
	else if (k->list == LIST_STANDARD)
		snprintf(headers[n++], WEBHOOK_HEADER_SIZE, "%s: v1,%.88s", w->header, text);
	else
		snprintf(headers[n++], WEBHOOK_HEADER_SIZE, "%.64s: %.32s%.128s", w->header, w->prefix, text);
	return n;
}

/* ---- the command line ----------------------------------------------------- */

const char *
webhook_configure(struct webhook *w, const struct webhook_options *o,
    char *err, size_t size)
{
	const char *why = NULL, *env = getenv("ETL_HMAC_SECRET");
	char *text;
	size_t len;

	if (webhook_init(w, o->scheme, &why) < 0)
		return snprintf(err, size, "%s '%s' (one of %s)", why, o->scheme,
		    webhook_scheme_names()), err;
	if (o->header)
		w->header = o->header;
	if (strspn(w->header, "!#$%&'*+-.^_`|~0123456789"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") != strlen(w->header) ||
	    !*w->header || strlen(w->header) > 64)
		return snprintf(err, size, "--hmac-header: not a header name: '%s'", w->header), err;
	if (o->prefix)
		w->prefix = o->prefix;
	if (strlen(w->prefix) > 32)
		return "--signature-prefix: at most 32 characters";
	if (o->encoding && (w->base64 = strcmp(o->encoding, "base64") == 0) == 0 &&
	    strcmp(o->encoding, "hex") != 0)
		return snprintf(err, size, "--signature-encoding: hex or base64, not '%s'", o->encoding), err;
	if (o->digest && webhook_set_digest(w, o->digest) < 0)
		return snprintf(err, size, "--signature-digest: sha1, sha256 or sha512, not '%s'", o->digest), err;
	if (o->max_age_ms >= 0)
		w->max_age_s = w->max_skew_s = (o->max_age_ms + 999) / 1000;
	if (!(w->public_url = o->public_url) && w->scheme->signs == SIGNS_TWILIO)
		return "twilio needs --public-url, the URL Twilio signs";
	if (o->secret_file)
		text = secret_read(o->secret_file, &len);
	else if (env && *env)
		text = strdup(env), len = strlen(env);
	else
		return snprintf(err, size, "%s needs --secret-file", o->scheme), err;
	if (!text)
		msg_die(EXIT_SOFTWARE, NULL, "out of memory");
	if (webhook_add_secrets(w, text, len, &why) < 0)
		msg_die(EXIT_CONFIG, o->secret_file ? o->secret_file : "ETL_HMAC_SECRET", "%s", why);
	free(text);
	return NULL;
}

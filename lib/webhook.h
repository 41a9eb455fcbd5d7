/*
 * webhook.h - the signature schemes of real webhook senders, both ways:
 * etl-extract-http verifies what they send, etl-load-http signs like them.
 *
 * One table holds each scheme: the header the signature comes in, the MAC
 * (HMAC-SHA1/256/512) and its text (hex or base64, after a prefix), what
 * is signed (the body; the timestamp and the body; the id, timestamp and
 * body; a URL and sorted form fields), where the timestamp and the
 * sender's delivery id are.  A scheme is named on the command line
 * (--verify github, --sign stripe) and set up once from a secret file
 * that may hold several secrets, one a line: any one verifies (while a
 * secret is rotated), the first signs.  Every comparison of a secret or a
 * MAC takes the same time whatever the bytes.
 *
 *	struct webhook w;
 *	webhook_init(&w, "stripe", &why)          (0, or -1 and WHY)
 *	webhook_add_secrets(&w, text, len)
 *	webhook_verify(&w, &request)              (WEBHOOK_OK or the failure)
 *	webhook_sign(&w, body, len, now, id, headers)
 */
#ifndef ETL_WEBHOOK_H
#define ETL_WEBHOOK_H

#include <stddef.h>
#include <time.h>

enum webhook_failure {
	WEBHOOK_OK,
	WEBHOOK_MISSING,        /* a header the scheme needs is absent */
	WEBHOOK_MALFORMED,      /* a header is there but cannot be read */
	WEBHOOK_BAD_SIGNATURE,  /* no secret gives the signature sent */
	WEBHOOK_STALE,          /* the timestamp is older than max_age */
	WEBHOOK_FUTURE,         /* the timestamp is further ahead than max_skew */
	WEBHOOK_FAILURES
};

/* A one-line reason for a 401's body, and a short label for metrics. */
const char *webhook_failure_reason(enum webhook_failure f);
const char *webhook_failure_label(enum webhook_failure f);

struct webhook_scheme;  /* one row of the table, in webhook.c */
struct webhook_mac;

enum { WEBHOOK_MAX_SECRETS = 8, WEBHOOK_MAX_HEADERS = 3, WEBHOOK_HEADER_SIZE = 256 };

struct webhook {
	const struct webhook_scheme *scheme;
	struct webhook_secret {
		unsigned char *key;
		size_t len;
		void *keyed;    /* its HMAC context, keyed once */
	} secrets[WEBHOOK_MAX_SECRETS];
	size_t nsecrets;
	long long max_age_s;    /* older timestamps are stale; 0: not checked */
	long long max_skew_s;   /* timestamps further ahead are refused */
	const char *public_url; /* twilio: the URL the sender signs */
	/* generic: set by webhook_init, changed before adding secrets */
	const char *header;     /* the signature header */
	const char *prefix;     /* before the MAC's text, "" for none */
	int base64;             /* the MAC in base64, else hex */
	const struct webhook_mac *mac;  /* HMAC-SHA1, -SHA256, -SHA512 */
};

/* Set up W for the scheme NAME (github, gitlab, stripe, slack, shopify,
 * standard, twilio, meta, generic): 0, or -1 with *WHY saying what is
 * wrong.  Timestamps: 5 minutes either way. */
int webhook_init(struct webhook *w, const char *name, const char **why);

/* The names webhook_init takes, for --help: "github, gitlab, …". */
const char *webhook_scheme_names(void);

/* The generic scheme's MAC by name (sha1, sha256, sha512), before any
 * secret is added: 0 or -1. */
int webhook_set_digest(struct webhook *w, const char *name);

/*
 * Add the secrets in TEXT[0..LEN), one a line (CR LF or LF; blank lines
 * skipped): 0, or -1 with *WHY (too many; for standard, a secret that is
 * not base64 after its "whsec_").
 */
int webhook_add_secrets(struct webhook *w, const char *text, size_t len, const char **why);

/* The request as webhook_verify sees it. */
struct webhook_request {
	const char *(*header)(void *ctx, const char *name);  /* NULL if absent */
	void *ctx;
	const char *body;       /* the raw body, before any decompression */
	size_t len;
	time_t now;
};

enum webhook_failure webhook_verify(const struct webhook *w,
    const struct webhook_request *r);

/*
 * The sender's id of this delivery, the same on every retry of it, into
 * OUT (SIZE bytes, NUL-terminated): 1, or 0 when the request has none.
 * From a header, or from the JSON body ("id" for stripe, "event_id" for
 * slack).
 */
int webhook_delivery_id(const struct webhook *w, const struct webhook_request *r,
    char *out, size_t size);

/*
 * Sign BODY[0..LEN) at time NOW with the first secret; ID is the delivery
 * id for schemes that send one (standard).  Writes up to
 * WEBHOOK_MAX_HEADERS lines "Name: value" (NUL-terminated) into HEADERS
 * and returns how many.
 */
int webhook_sign(const struct webhook *w, const char *body, size_t len,
    time_t now, const char *id, char headers[][WEBHOOK_HEADER_SIZE]);

/* Whether the scheme signs (twilio, gitlab and meta's handshake do not
 * come out of etl-load-http). */
int webhook_can_sign(const struct webhook *w);

/* Whether the scheme carries a timestamp (--max-age applies). */
int webhook_timestamped(const struct webhook *w);

/* Constant time: whether TOKEN is one of W's secrets (gitlab's token,
 * Meta's hub.verify_token). */
int webhook_secret_matches(const struct webhook *w, const char *token);

void webhook_free(struct webhook *w);

/* A scheme as the command line gives it: etl-extract-http --verify,
 * etl-load-http --sign, and the options they share. */
struct webhook_options {
	const char *scheme;
	const char *secret_file;     /* NULL: $ETL_HMAC_SECRET */
	const char *header, *prefix, *encoding, *digest;  /* NULL: the scheme's */
	long long max_age_ms;        /* -1: the default */
	const char *public_url;
};

/*
 * Set W up as O says, with the secrets of O's file (a missing or empty
 * one exits 66 or 78, as secret_read does): NULL, or what is wrong with
 * the options, for a usage error, in ERR.
 */
const char *webhook_configure(struct webhook *w, const struct webhook_options *o,
    char *err, size_t size);

#endif

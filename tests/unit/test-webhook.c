/*
 * Unit tests for lib/webhook.c with the vectors the senders publish:
 * GitHub's ("Hello, World!"), Slack's slash command, Twilio's
 * myapp.php request, the Standard Webhooks specification's message, and
 * a Stripe header made by Stripe's library (generateTestHeaderString).
 * Each is verified, then broken one way at a time (a byte of the body,
 * the header, the secret, the timestamp either way, the header gone);
 * a rotated secret file verifies with its second line; and what
 * webhook_sign writes verifies again.
 */
#include "check.h"
#include "webhook.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* A request: up to four headers, looked up without regard to case. */
struct fake {
	const char *names[4], *values[4];
};

static const char *
fake_header(void *ctx, const char *name)
{
	struct fake *f = ctx;

	for (int i = 0; i < 4 && f->names[i]; i++)
		if (strcasecmp(f->names[i], name) == 0)
			return f->values[i];
	return NULL;
}

static enum webhook_failure
verify(struct webhook *w, struct fake *f, const char *body, long long now)
{
	struct webhook_request r = { fake_header, f, body, strlen(body), (time_t)now };

	return webhook_verify(w, &r);
}

static void
setup(struct webhook *w, const char *scheme, const char *secrets)
{
	const char *why = NULL;

	if (webhook_init(w, scheme, &why) < 0 ||
	    webhook_add_secrets(w, secrets, strlen(secrets), &why) < 0) {
		check(0, "%s: set up: %s", scheme, why);
		exit(0);
	}
}

static void
expect(enum webhook_failure want, enum webhook_failure got, const char *scheme,
    const char *what)
{
	check(want == got, "%s: %s: %s", scheme, what, webhook_failure_reason(got));
}

static void
github(void)
{
	static const char body[] = "Hello, World!";
	static const char sig[] = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
	struct webhook w;
	struct fake f = { { "X-Hub-Signature-256", "X-GitHub-Delivery" }, { sig, "72d3162e-cc78-11e3-81ab-4c9367dc0958" } };
	char id[64], headers[WEBHOOK_MAX_HEADERS][WEBHOOK_HEADER_SIZE];
	struct webhook_request r = { fake_header, &f, body, strlen(body), 0 };

	setup(&w, "github", "It's a Secret to Everybody\n");
	expect(WEBHOOK_OK, verify(&w, &f, body, 0), "github", "the documented vector");
	expect(WEBHOOK_BAD_SIGNATURE, verify(&w, &f, "Hello, World?", 0), "github", "a changed body");
	check(webhook_delivery_id(&w, &r, id, sizeof id) &&
	    strcmp(id, "72d3162e-cc78-11e3-81ab-4c9367dc0958") == 0,
	    "github: the delivery id is X-GitHub-Delivery");
	f.values[0] = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e18";
	expect(WEBHOOK_BAD_SIGNATURE, verify(&w, &f, body, 0), "github", "a changed signature");
	f.values[0] = "sha256=757107";
	expect(WEBHOOK_MALFORMED, verify(&w, &f, body, 0), "github", "a short signature");
	f.values[0] = "sha1=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
	expect(WEBHOOK_MALFORMED, verify(&w, &f, body, 0), "github", "another prefix");
	f.names[0] = "X-Other";
	expect(WEBHOOK_MISSING, verify(&w, &f, body, 0), "github", "no header");
	/* the legacy header alone: HMAC-SHA1, sha1=HEX */
	f.names[0] = "X-Hub-Signature";
	f.values[0] = "sha1=01dc10d0c83e72ed246219cdd91669667fe2ca59";
	expect(WEBHOOK_OK, verify(&w, &f, body, 0), "github", "X-Hub-Signature (SHA-1) alone");
	webhook_free(&w);

	/* rotation: the old secret on the first line, the new one second */
	setup(&w, "github", "old secret\r\n\nIt's a Secret to Everybody\n");
	f.names[0] = "X-Hub-Signature-256";
	f.values[0] = sig;
	expect(WEBHOOK_OK, verify(&w, &f, body, 0), "github", "the second of two secrets");
	check(webhook_sign(&w, body, strlen(body), 0, NULL, headers) == 1 &&
	    strncmp(headers[0], "X-Hub-Signature-256: sha256=", 28) == 0 &&
	    strcmp(headers[0] + 21, sig) != 0, "github: signs with the first secret");
	webhook_free(&w);
	setup(&w, "github", "It's a Secret to Everybody\n");
	webhook_sign(&w, body, strlen(body), 0, NULL, headers);
	CHECK_STR("X-Hub-Signature-256: sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
	    headers[0], "github: signs as documented");
	webhook_free(&w);
}

static void
slack(void)
{
	static const char body[] = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
	static const char sig[] = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";
	struct fake f = { { "X-Slack-Signature", "X-Slack-Request-Timestamp" }, { sig, "1531420618" } };
	char headers[WEBHOOK_MAX_HEADERS][WEBHOOK_HEADER_SIZE];
	struct webhook w;

	setup(&w, "slack", "8f742231b10e8888abcd99yyyzzz85a5");
	expect(WEBHOOK_OK, verify(&w, &f, body, 1531420618 + 10), "slack", "the documented vector");
	expect(WEBHOOK_STALE, verify(&w, &f, body, 1531420618 + 301), "slack", "301 s later");
	expect(WEBHOOK_FUTURE, verify(&w, &f, body, 1531420618 - 301), "slack", "301 s earlier");
	expect(WEBHOOK_OK, verify(&w, &f, body, 1531420618 - 299), "slack", "299 s earlier");
	f.values[1] = "1531420619";
	expect(WEBHOOK_BAD_SIGNATURE, verify(&w, &f, body, 1531420618), "slack", "another timestamp");
	f.values[1] = "15314x0619";
	expect(WEBHOOK_MALFORMED, verify(&w, &f, body, 1531420618), "slack", "a timestamp not a number");
	f.names[1] = "X-Other";
	expect(WEBHOOK_MISSING, verify(&w, &f, body, 1531420618), "slack", "no timestamp");
	check(webhook_sign(&w, body, strlen(body), 1531420618, NULL, headers) == 2,
	    "slack: two headers");
	CHECK_STR("X-Slack-Request-Timestamp: 1531420618", headers[0], "slack: the timestamp header");
	CHECK_STR("X-Slack-Signature: v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503",
	    headers[1], "slack: signs as documented");
	webhook_free(&w);
}

static void
twilio(void)
{
	static const char body[] = "CallSid=CA1234567890ABCDE&To=%2B18005551212&Caller=%2B12349013030&Digits=1234&From=%2B12349013030";
	struct fake f = { { "X-Twilio-Signature", "Content-Type" },
	    { "0/KCTR6DLpKmkAf8muzZqo1nDgQ=", "application/x-www-form-urlencoded" } };
	struct webhook w;

	setup(&w, "twilio", "12345");
	w.public_url = "https://mycompany.com/myapp.php?foo=1&bar=2";
	expect(WEBHOOK_OK, verify(&w, &f, body, 0), "twilio", "the documented vector");
	expect(WEBHOOK_BAD_SIGNATURE, verify(&w, &f, "CallSid=CA1234567890ABCDE&To=%2B18005551213&Caller=%2B12349013030&Digits=1234&From=%2B12349013030", 0),
	    "twilio", "a changed field");
	w.public_url = "https://mycompany.com/myapp.php?foo=1&bar=3";
	expect(WEBHOOK_BAD_SIGNATURE, verify(&w, &f, body, 0), "twilio", "another URL");
	webhook_free(&w);
}

static void
standard(void)
{
	static const char body[] = "{\"test\": 2432232314}";
	struct fake f = { { "webhook-id", "webhook-timestamp", "webhook-signature" },
	    { "msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330",
	    "v2,bm90IHRoaXMgb25l v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=" } };
	char headers[WEBHOOK_MAX_HEADERS][WEBHOOK_HEADER_SIZE], id[64];
	struct webhook_request r = { fake_header, &f, body, strlen(body), 0 };
	struct webhook w;
	const char *why;

	setup(&w, "standard", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
	expect(WEBHOOK_OK, verify(&w, &f, body, 1614265330), "standard", "the specification's vector");
	check(webhook_delivery_id(&w, &r, id, sizeof id) && strcmp(id, "msg_p5jXN8AQM9LWM0D4loKWxJek") == 0,
	    "standard: the delivery id is webhook-id");
	f.values[0] = "msg_p5jXN8AQM9LWM0D4loKWxJel";
	expect(WEBHOOK_BAD_SIGNATURE, verify(&w, &f, body, 1614265330), "standard", "another id");
	f.values[0] = "msg_p5jXN8AQM9LWM0D4loKWxJek";
	f.values[2] = "v2,bm90IHRoaXMgb25l";
	expect(WEBHOOK_MALFORMED, verify(&w, &f, body, 1614265330), "standard", "no v1 signature");
	webhook_sign(&w, body, strlen(body), 1614265330, "msg_p5jXN8AQM9LWM0D4loKWxJek", headers);
	CHECK_STR("webhook-signature: v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", headers[2],
	    "standard: signs as specified");
	CHECK_STR("webhook-id: msg_p5jXN8AQM9LWM0D4loKWxJek", headers[0], "standard: the id header");
	webhook_free(&w);
	check(webhook_init(&w, "standard", &why) == 0 &&
	    webhook_add_secrets(&w, "whsec_not*base64", 16, &why) < 0,
	    "standard: a secret that is not base64 is refused");
	webhook_free(&w);
}

static void
stripe(void)
{
	static const char body[] = "{\"id\":\"evt_1\",\"object\":\"event\"}";
	struct fake f = { { "Stripe-Signature" },
	    { "t=1700000000,v1=0c8670ed117751cc551a20e35839447075c42800ea3cf3e8a2fbda99cd1e6edd,v0=ff" } };
	struct webhook_request r = { fake_header, &f, body, strlen(body), 0 };
	char headers[WEBHOOK_MAX_HEADERS][WEBHOOK_HEADER_SIZE], id[64];
	struct webhook w;

	setup(&w, "stripe", "whsec_test_secret");
	expect(WEBHOOK_OK, verify(&w, &f, body, 1700000000), "stripe", "the library's header");
	check(webhook_delivery_id(&w, &r, id, sizeof id) && strcmp(id, "evt_1") == 0,
	    "stripe: the delivery id is the event's id");
	expect(WEBHOOK_STALE, verify(&w, &f, body, 1700000000 + 3600), "stripe", "an hour later");
	f.values[0] = "t=1700000000,v1=1111111111111111111111111111111111111111111111111111111111111111,"
	    "v1=0c8670ed117751cc551a20e35839447075c42800ea3cf3e8a2fbda99cd1e6edd";
	expect(WEBHOOK_OK, verify(&w, &f, body, 1700000000), "stripe", "the second v1");
	f.values[0] = "v1=0c8670ed117751cc551a20e35839447075c42800ea3cf3e8a2fbda99cd1e6edd";
	expect(WEBHOOK_MALFORMED, verify(&w, &f, body, 1700000000), "stripe", "no t=");
	webhook_sign(&w, body, strlen(body), 1700000000, NULL, headers);
	CHECK_STR("Stripe-Signature: t=1700000000,v1=0c8670ed117751cc551a20e35839447075c42800ea3cf3e8a2fbda99cd1e6edd",
	    headers[0], "stripe: signs as the library does");
	webhook_free(&w);
}

static void
others(void)
{
	static const char body[] = "{\"id\":820982911946154508}";
	struct fake f = { { "X-Shopify-Hmac-Sha256" }, { "qBvrsZF7RfB1iS6BX6IHqJTp5L911P7intnPeTPsH0I=" } };
	char headers[WEBHOOK_MAX_HEADERS][WEBHOOK_HEADER_SIZE];
	struct webhook w;

	setup(&w, "shopify", "hush");
	expect(WEBHOOK_OK, verify(&w, &f, body, 0), "shopify", "base64 HMAC-SHA256 of the body");
	f.values[0] = "qBvrsZF7RfB1iS6BX6IHqJTp5L911P7intnPeTPsH0I";
	expect(WEBHOOK_MALFORMED, verify(&w, &f, body, 0), "shopify", "unpadded base64");
	webhook_free(&w);

	setup(&w, "gitlab", "first token\nsecond token");
	f.names[0] = "X-Gitlab-Token";
	f.values[0] = "second token";
	expect(WEBHOOK_OK, verify(&w, &f, body, 0), "gitlab", "the second token");
	f.values[0] = "second toke";
	expect(WEBHOOK_BAD_SIGNATURE, verify(&w, &f, body, 0), "gitlab", "a prefix of it");
	check(webhook_secret_matches(&w, "first token") && !webhook_secret_matches(&w, ""),
	    "gitlab: webhook_secret_matches");
	webhook_free(&w);

	{
		const char *why;

		webhook_init(&w, "generic", &why);
		w.header = "X-Sig";
		w.prefix = "hmac ";
		check(webhook_set_digest(&w, "sha1") == 0 && webhook_set_digest(&w, "md5") < 0,
		    "generic: sha1, not md5");
		webhook_add_secrets(&w, "hush", 4, &why);
	}
	check(webhook_sign(&w, body, strlen(body), 0, NULL, headers) == 1, "generic: one header");
	f.names[0] = "X-Sig";
	f.values[0] = strchr(headers[0], ' ') + 1;
	check(strncmp(headers[0], "X-Sig: hmac ", 12) == 0, "generic: the header and prefix: %s", headers[0]);
	expect(WEBHOOK_OK, verify(&w, &f, body, 0), "generic", "sha1 hex, as signed");
	expect(WEBHOOK_BAD_SIGNATURE, verify(&w, &f, "{}", 0), "generic", "another body");
	check(strlen(f.values[0]) == 5 + 40, "generic: SHA-1 in hex is 40 characters");
	webhook_free(&w);
	{
		const char *why;

		check(webhook_init(&w, "nope", &why) < 0, "an unknown scheme is refused");
		webhook_init(&w, "github", &why);
		check(webhook_add_secrets(&w, "\n\n", 2, &why) < 0, "a file of blank lines is refused");
		webhook_free(&w);
	}
}

int
main(void)
{
	github();
	slack();
	twilio();
	standard();
	stripe();
	others();
	return 0;
}

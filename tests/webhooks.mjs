// tests/webhooks.mjs - webhook senders' own libraries, for tests/t/63-webhooks.sh.
//
//   node webhooks.mjs secrets DIR             DIR/SCHEME.secret: the new secret, the old one
//   node webhooks.mjs send URL SCHEME         each case, signed by the library, POSTed to
//                                             URL: "CASE STATUS REASON" a line; the signed
//                                             bodies in the file "bodies"
//   node webhooks.mjs receive PORTFILE SCHEME a server that checks each request with the
//                                             library's verify: "valid"/"invalid" a line
//   node webhooks.mjs versions                each library's name and version
//
// The libraries come from the npm registry, installed by tests/deps.sh into
// $ETL_NPM (build/npm).  Where a sender publishes no library that signs
// (Slack's verifies only; Shopify's is a formula), the request is made by
// its documented formula and the library (Slack's) must accept it first.
import { createHmac, createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { createServer } from 'node:http';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const npm = resolve(process.env.ETL_NPM || new URL('../build/npm', import.meta.url).pathname);
const require = createRequire(join(npm, 'node_modules', 'x.js'));
// Each library is loaded when first used: node starts once per batch of
// cases, and Slack's and Twilio's take most of a second to load.
const wanted = process.argv.slice(3);
const octokit = wanted.includes('github') || wanted.includes('meta') ? await import(pathToFileURL(join(npm,
	'node_modules/@octokit/webhooks-methods/dist-node/index.js'))) : null;
const lazy = name => { let m; return () => m || (m = require(name)); };
const stripeLib = lazy('stripe'), standardLib = lazy('standardwebhooks');
const twilioLib = lazy('twilio'), boltLib = lazy('@slack/bolt');

const SECRETS = {
	github: ['github new secret', 'github old secret'],
	meta: ['meta app secret', 'meta old secret'],
	gitlab: ['gitlab token new', 'gitlab token old'],
	stripe: ['whsec_stripeNewSecret', 'whsec_stripeOldSecret'],
	slack: ['8f742231b10e8888abcd99yyyzzz85a5', '0123456789abcdef0123456789abcdef'],
	shopify: ['shopify new secret', 'shopify old secret'],
	standard: ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'whsec_' + Buffer.from('old key of 24 bytes!....').toString('base64')],
	twilio: ['twilio auth token new', 'twilio auth token old'],
};
const WRONG = { standard: 'whsec_' + Buffer.from('a wrong key, 24 bytes...').toString('base64') };
const TIMESTAMPED = new Set(['stripe', 'slack', 'standard']);
export const PUBLIC_URL = 'https://hooks.example.com/twilio?site=1';
const now = () => Math.floor(Date.now() / 1000);
const hmac = (alg, key, text, enc) => createHmac(alg, key).update(text).digest(enc);

// The body each scheme's cases send, as the sender sends it.
function body(scheme, n) {
	if (scheme === 'twilio')
		return `CallSid=CA${n}00&From=%2B14158675310&Body=caf%C3%A9+%26+more&To=%2B15005550006`;
	if (scheme === 'slack')
		return `{"type":"event_callback","event_id":"Ev0${n}","event":{"type":"message","text":"caf\u00e9"}}`;
	return `{"id":"evt_${n}","type":"ping","n":${n},"text":"caf\u00e9"}`;
}

function formFields(text) {
	const out = {};
	for (const [k, v] of new URLSearchParams(text)) out[k] = v;
	return out;
}

// The headers the library makes for BODY with SECRET at time T.
function sign(scheme, secret, text, t, id) {
	switch (scheme) {
	case 'github': case 'meta':
		return octokit.sign(secret, text).then(s => ({ 'X-Hub-Signature-256': s, 'X-GitHub-Delivery': id }));
	case 'gitlab':
		return { 'X-Gitlab-Token': secret, 'X-Gitlab-Event-UUID': id };
	case 'stripe':
		return { 'Stripe-Signature': stripeLib()('sk_test_etl').webhooks.generateTestHeaderString({ payload: text, secret, timestamp: t }) };
	case 'slack': {
		const h = { 'X-Slack-Request-Timestamp': String(t),
			'X-Slack-Signature': 'v0=' + hmac('sha256', secret, `v0:${t}:${text}`, 'hex') };
		return h;
	}
	case 'shopify':
		return { 'X-Shopify-Hmac-Sha256': hmac('sha256', secret, text, 'base64'), 'X-Shopify-Webhook-Id': id };
	case 'standard': {
		const sig = new (standardLib().Webhook)(secret).sign(id, new Date(t * 1000), text);
		return { 'webhook-id': id, 'webhook-timestamp': String(t), 'webhook-signature': sig };
	}
	case 'twilio':
		return { 'X-Twilio-Signature': twilioLib().getExpectedTwilioSignature(secret, PUBLIC_URL, formFields(text)),
			'I-Twilio-Idempotency-Token': id };
	}
	throw new Error('no scheme ' + scheme);
}

// Whether the library takes HEADERS (lower-case names) and BODY.
async function verify(scheme, secret, h, text) {
	try {
		switch (scheme) {
		case 'github': case 'meta':
			return await octokit.verify(secret, text, h['x-hub-signature-256'] || '');
		case 'stripe':
			stripeLib()('sk_test_etl').webhooks.constructEvent(text, h['stripe-signature'], secret);
			return true;
		case 'slack':
			boltLib().verifySlackRequest({ signingSecret: secret, body: text, headers: {
				'x-slack-signature': h['x-slack-signature'],
				'x-slack-request-timestamp': Number(h['x-slack-request-timestamp']) } });
			return true;
		case 'shopify':
			return h['x-shopify-hmac-sha256'] === hmac('sha256', secret, text, 'base64');
		case 'standard':
			new (standardLib().Webhook)(secret).verify(text, h);
			return true;
		}
	} catch (e) {
		return false;
	}
	throw new Error('no verify for ' + scheme);
}

function flip(s) {
	const i = s.length - 3;
	return s.slice(0, i) + (s[i] === 'a' ? 'b' : 'a') + s.slice(i + 1);
}

async function post(url, scheme, headers, text) {
	const type = scheme === 'twilio' ? 'application/x-www-form-urlencoded' : 'application/json';
	const r = await fetch(url, { method: 'POST', body: text,
		headers: { 'Content-Type': type, ...headers } });
	const answer = await r.text();
	let reason = '';
	try { reason = JSON.parse(answer).error || ''; } catch (e) { reason = answer; }
	return `${r.status} ${reason}`.trim();
}

async function send(url, scheme) {
	const [secret, old] = SECRETS[scheme];
	const wrong = WRONG[scheme] || 'a wrong secret';
	const t = now();
	const cases = [];
	const add = (name, headers, text) => cases.push([name, headers, text]);
	const ok = await sign(scheme, secret, body(scheme, 1), t, 'delivery-1');

	if (scheme === 'slack' && !await verify('slack', secret, Object.fromEntries(
	    Object.entries(ok).map(([k, v]) => [k.toLowerCase(), v])), body(scheme, 1)))
		throw new Error("Slack's library refuses the request");
	add('signed', ok, body(scheme, 1));
	add('rotated', await sign(scheme, old, body(scheme, 2), t, 'delivery-2'), body(scheme, 2));
	if (scheme !== 'gitlab')  // its token is not a signature of the body
		add('body-changed', ok, body(scheme, 1).replace('caf', 'cab'));
	const changed = { ...ok };
	if (scheme === 'slack') changed['X-Slack-Request-Timestamp'] = String(t - 1);
	else if (scheme === 'standard') changed['webhook-id'] = 'delivery-9';
	else if (scheme === 'stripe') changed['Stripe-Signature'] = ok['Stripe-Signature'].replace(`t=${t}`, `t=${t - 1}`);
	else if (scheme === 'gitlab') changed['X-Gitlab-Token'] = secret.slice(0, -1);
	else { const k = Object.keys(ok)[0]; changed[k] = flip(ok[k]); }
	add('header-changed', changed, body(scheme, 1));
	add('wrong-secret', await sign(scheme, wrong, body(scheme, 1), t, 'delivery-1'), body(scheme, 1));
	if (TIMESTAMPED.has(scheme)) {
		add('stale', await sign(scheme, secret, body(scheme, 1), t - 600, 'delivery-1'), body(scheme, 1));
		add('future', await sign(scheme, secret, body(scheme, 1), t + 600, 'delivery-1'), body(scheme, 1));
	}
	const missing = { ...ok };
	for (const k of Object.keys(missing))
		if (/signature|hmac|token/i.test(k) && !/idempotency/i.test(k)) delete missing[k];
	add('missing', missing, body(scheme, 1));
	for (const [name, headers, text] of cases)
		console.log(name, await post(url, scheme, headers, text));
	writeFileSync('bodies', body(scheme, 1) + '\n' + body(scheme, 2) + '\n');
}

function receive(portfile, scheme) {
	const [secret] = SECRETS[scheme];
	const server = createServer((req, res) => {
		const chunks = [];
		req.on('data', c => chunks.push(c));
		req.on('end', async () => {
			const text = Buffer.concat(chunks).toString('utf8');
			const ok = await verify(scheme, secret, req.headers, text);
			console.log(ok ? 'valid' : 'invalid', text.length);
			res.writeHead(ok ? 200 : 401).end();
		});
	});
	server.listen(0, '127.0.0.1', () => writeFileSync(portfile, String(server.address().port)));
	process.on('SIGTERM', () => server.close(() => process.exit(0)));
}

const [mode, a, b] = process.argv.slice(2);
if (mode === 'secrets')
	for (const [k, v] of Object.entries(SECRETS)) writeFileSync(join(a, k + '.secret'), v.join('\n') + '\n');
else if (mode === 'send') await send(a, b);
else if (mode === 'receive') receive(a, b);
else if (mode === 'versions')
	for (const p of ['stripe', 'standardwebhooks', '@octokit/webhooks-methods', 'twilio', '@slack/bolt'])
		console.log(p, require(`${p}/package.json`).version);
else if (mode === 'sign') {
	// sign SCHEME BODY: the headers the library makes now, one "Name: value" a line
	const h = await sign(a, SECRETS[a][0], b, now(), 'delivery-1');
	for (const [k, v] of Object.entries(h)) console.log(`${k}: ${v}`);
}

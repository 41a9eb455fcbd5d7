/*
 * gen-orders - a deterministic generator of e-commerce order records.
 *
 *   gen-orders [-c] [N]     N orders (default 1000000) as NDJSON, or as CSV
 *                           with a header line with -c
 *
 * The same N gives the same bytes on every run and machine: values come
 * from a fixed-seed splitmix64, money has two decimals printed short
 * (8147.16, 12.5, 7), and some addresses need JSON escaping or carry
 * non-ASCII UTF-8, so parsers do real work.  About 140 bytes a line.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t state = 0x2545f4914f6cdd1dULL;

static uint64_t
next(void)
{
	uint64_t z = (state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static const char *streets[] = {
	"Rue de la Paix", "Bahnhofstrasse", "Calle Mayor", "Main Street",
	"Via Roma", "Queen's Road", "Karl-Johans gate", "Nevsky Prospekt",
	"Avenida Paulista", "Ginza 4-chome", "Strada \\\"Nouă\\\"",
	"Old Kent Road", "Damrak", "Nørrebrogade", "Ulica Długa",
};
static const char *cities[] = {
	"Paris", "Zürich", "Madrid", "Springfield", "Roma", "Hong Kong", "Oslo",
	"Kraków", "São Paulo", "東京", "Cluj", "London", "Amsterdam", "København",
	"Gdańsk",
};

/* Cents as the shortest decimal: 814716 -> "8147.16", 1250 -> "12.5". */
static const char *
money(uint64_t cents, char *out)
{
	if (cents % 100 == 0)
		sprintf(out, "%llu", (unsigned long long)(cents / 100));
	else if (cents % 10 == 0)
		sprintf(out, "%llu.%llu", (unsigned long long)(cents / 100),
		    (unsigned long long)(cents % 100 / 10));
	else
		sprintf(out, "%llu.%02llu", (unsigned long long)(cents / 100),
		    (unsigned long long)(cents % 100));
	return out;
}

/* The CSV form of a JSON-escaped string: unescape \" and \\, quote. */
static void
csv_string(const char *json)
{
	putchar('"');
	for (const char *p = json; *p; p++) {
		if (*p == '\\' && p[1])
			p++;
		if (*p == '"')
			putchar('"');
		putchar(*p);
	}
	putchar('"');
}

int
main(int argc, char **argv)
{
	int csv = argc > 1 && strcmp(argv[1], "-c") == 0;
	long long n = argc > 1 + csv ? atoll(argv[1 + csv]) : 1000000;
	char amount[32], shipping[32], tax[32], address[160];

	if (csv)
		puts("order_id,customer_id,product_id,quantity,amount,shipping,tax,"
		    "shipping_address");
	for (long long i = 1; i <= n; i++) {
		uint64_t r = next(), s = next();
		uint64_t cents = 100 + r % 1000000;
		int customer = 1 + (int)((s >> 32) % 50000);
		int product = 1 + (int)((s >> 48) % 1000);
		int quantity = 1 + (int)((r >> 56) % 5);

		snprintf(address, sizeof address, "%d %s, %s", 1 + (int)((r >> 40) % 200),
		    streets[(r >> 20) % 15], cities[(r >> 28) % 15]);
		money(cents, amount);
		money((r >> 32) % 3000, shipping);
		money(cents * 8 / 100, tax);
		if (csv) {
			printf("%lld,%d,%d,%d,%s,%s,%s,", i, customer, product, quantity,
			    amount, shipping, tax);
			csv_string(address);
			putchar('\n');
			continue;
		}
		printf("{\"order_id\":%lld,\"customer_id\":%d,\"product_id\":%d,"
		    "\"quantity\":%d,\"amount\":%s,\"shipping\":%s,\"tax\":%s,"
		    "\"shipping_address\":\"%s\"}\n", i, customer, product, quantity,
		    amount, shipping, tax, address);
	}
	return fflush(stdout) == 0 ? 0 : 1;
}

/* fuzz-dburl - libFuzzer target for DATABASE_URL parsing: any input is
 * parsed or refused with a reason, a parsed URL's redacted form masks
 * the password, and its TLS parameters were checked. */
#include "db.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *url = malloc(size + 1), err[256];
	struct dburl u;

	memcpy(url, data, size);
	url[size] = '\0';
	if (dburl_parse(url, &u, err, sizeof err) == 0) {
		/* With a password, the user part of the redacted URL is masked. */
		if (u.password && u.scheme != DBURL_SQLITE && !strstr(u.redacted, ":***@"))
			abort();
		(void)dburl_param(&u, "sslmode");
		/* The TLS level is one of the five; password-file= never
		 * reaches a client library. */
		if (u.tls > TLS_MODE_VERIFY_IDENTITY || dburl_param(&u, "password-file"))
			abort();
		dburl_free(&u);
	} else if (err[0] == '\0') {
		abort();  /* a refusal always says why */
	}
	free(url);
	return 0;
}

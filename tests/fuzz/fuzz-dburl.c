/* fuzz-dburl - libFuzzer target for DATABASE_URL parsing: any input is
 * parsed or refused with a reason, and a parsed URL's redacted form masks
 * the password. */
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
		dburl_free(&u);
	} else if (err[0] == '\0') {
		abort();  /* a refusal always says why */
	}
	free(url);
	return 0;
}

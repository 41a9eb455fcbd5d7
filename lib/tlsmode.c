/* tlsmode.c - the names of the TLS levels (see tlsmode.h). */
#include "tlsmode.h"

#include <strings.h>

static const char *const names[] = {
	[TLS_MODE_DISABLED] = "DISABLED",
	[TLS_MODE_PREFERRED] = "PREFERRED",
	[TLS_MODE_REQUIRED] = "REQUIRED",
	[TLS_MODE_VERIFY_CA] = "VERIFY_CA",
	[TLS_MODE_VERIFY_IDENTITY] = "VERIFY_IDENTITY",
};

int
tls_mode_parse(const char *s, enum tls_mode *out)
{
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strcasecmp(s, names[i]) == 0) {
			*out = (enum tls_mode)i;
			return 0;
		}
	return -1;
}

const char *
tls_mode_name(enum tls_mode mode)
{
	return names[mode];
}

/*
 * listen.c - a server's listening socket: from "[ADDRESS]:PORT[/PATH]", or
 * handed over by systemd (see listen.h).
 */
#define _GNU_SOURCE  /* struct addrinfo flags */
#include "listen.h"
#include "exitcode.h"
#include "msg.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int
listen_socket(const char *spec, const char **path)
{
	char host[256] = "", port[16];
	const char *p = spec, *colon, *slash;
	struct addrinfo hints = { .ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV,
	    .ai_socktype = SOCK_STREAM }, *ai;
	int fd, one = 1, rc;

	if (*p == '[') {
		const char *close = strchr(p, ']');

		if (!close || close[1] != ':' || (size_t)(close - p - 1) >= sizeof host)
			msg_die(EXIT_USAGE, spec, "expected [ADDRESS]:PORT");
		memcpy(host, p + 1, close - p - 1);
		colon = close + 1;
	} else {
		if (!(colon = strrchr(p, ':')) || (size_t)(colon - p) >= sizeof host)
			msg_die(EXIT_USAGE, spec, "expected [ADDRESS]:PORT[/PATH], like :8080");
		memcpy(host, p, colon - p);
	}
	slash = strchr(colon, '/');
	snprintf(port, sizeof port, "%.*s", (int)((slash ? slash : colon + strlen(colon)) - colon - 1), colon + 1);
	if (!*port || strspn(port, "0123456789") != strlen(port) || atoi(port) > 65535)
		msg_die(EXIT_USAGE, spec, "bad port '%s'", port);
	if (path)
		*path = slash;
	hints.ai_family = *host ? AF_UNSPEC : AF_INET6;
	rc = getaddrinfo(*host ? host : NULL, port, &hints, &ai);
	if (rc != 0)
		msg_die(EXIT_USAGE, spec, "bad address: %s", gai_strerror(rc));
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 && !*host) {
		/* No IPv6: all IPv4 addresses. */
		freeaddrinfo(ai);
		hints.ai_family = AF_INET;
		getaddrinfo(NULL, port, &hints, &ai);
		fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	}
	if (fd < 0)
		msg_die(EXIT_UNAVAILABLE, spec, "socket: %s", strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (ai->ai_family == AF_INET6 && !*host) {
		int zero = 0;  /* ":8080" means IPv4 too */

		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
	}
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 1024) < 0)
		msg_die(EXIT_UNAVAILABLE, spec, "cannot listen: %s", strerror(errno));
	freeaddrinfo(ai);
	return fd;
}

int
listen_activated(void)
{
	const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");

	if (!pid || !fds || atol(pid) != (long)getpid() || atoi(fds) < 1)
		return -1;
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	return 3;
}

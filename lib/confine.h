/*
 * confine.h - what a network-facing program gives up once it has started.
 *
 * A server binds its sockets, reads its secrets and opens its files, then
 * calls confine() once, before it reads a byte from the network:
 *   1. Started as root, it drops to --user (nobody by default): the user's
 *      groups (initgroups), then setgid, then setuid, each checked, and a
 *      check that root cannot be regained; $HOME becomes the user's.
 *      --user root keeps root, with a warning.  A process not started as root stays as it is, so
 *      containers and ordinary users see no change.
 *   2. It installs a seccomp allowlist (libseccomp) of the system calls a
 *      server needs from then on: reading and writing descriptors it has,
 *      accepting connections, threads, memory, time.  Not allowed: execve,
 *      fork, opening a file for writing or creating one, ptrace, a socket
 *      of any family the program did not ask for, changing user or group.
 *      A refused call stops the process at once with exit 70 and the line
 *      "program: seccomp: system call N (name) refused": a compromised
 *      parser gets no second try.  Opening files read-only stays allowed
 *      (certificates are re-read on SIGHUP).
 *
 * A program adds the two options to its table and passes their values on:
 *
 *	static const struct opt options[] = {
 *		...
 *		CONFINE_OPTIONS(KEY_USER, KEY_NO_SECCOMP),
 *		{ 0 }
 *	};
 *	case KEY_USER: confine_conf.user = p.arg; break;
 *	case KEY_NO_SECCOMP: confine_conf.seccomp = 0; break;
 *	...bind, read secrets, open files...
 *	confine_allow_socket(AF_INET);   (a client that connects later)
 *	confine();
 *
 * Builds with AddressSanitizer (make SANITIZE=1) install no filter: the
 * sanitizer's runtime makes calls no allowlist should hold.
 */
#ifndef ETL_CONFINE_H
#define ETL_CONFINE_H

#define CONFINE_OPTIONS(key_user, key_no_seccomp) \
	{ key_user, "user", "NAME", "started as root, run as this user (default nobody)" }, \
	{ key_no_seccomp, "no-seccomp", NULL, "do not install the system call filter" }

struct confine_conf {
	const char *user;   /* --user; NULL: nobody */
	int seccomp;        /* 1 unless --no-seccomp (0 under sanitizers) */
};
extern struct confine_conf confine_conf;

/* Also allow sockets of FAMILY (AF_INET, AF_INET6, AF_UNIX) and connecting
 * them: for programs that open connections once confined. */
void confine_allow_socket(int family);

/* For a client: sockets of AF_INET, AF_INET6 and AF_UNIX (the name
 * service's), connecting them and asking whom they reach, then confine().
 * Whatever it must open as root (secrets, the first input, FIFOs) it
 * opens before; what a library reads again later (a CA file on each new
 * TLS connection, a NATS credentials file on each reconnection) must be
 * readable by --user. */
void confine_client(void);

/* After confine(): exit 78 with a message unless PATH (NULL or "-":
 * nothing to check), a file or folder read later (by a library, on each
 * new connection; an input named after the first), can still be read.
 * WHAT names it for the message. */
void confine_still_readable(const char *what, const char *path);

/* Allow one more system call by NAME, for a program's own needs. */
void confine_allow(const char *name);

/* Drop root, then install the filter; on failure, a message and exit 78
 * (a user that does not exist) or 70. */
void confine(void);

/* The allowlist's names, NULL-terminated (for tests and documentation). */
extern const char *const confine_syscalls[];

#endif

/* confine.c - drop root, then a seccomp allowlist (see confine.h). */
#define _GNU_SOURCE  /* initgroups */
#include "confine.h"
#include "exitcode.h"
#include "msg.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define CONFINE_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define CONFINE_SANITIZED 1
#endif
#endif
#ifndef CONFINE_SANITIZED
#define CONFINE_SANITIZED 0
#endif

struct confine_conf confine_conf = { .user = NULL, .seccomp = !CONFINE_SANITIZED };

/*
 * What a server does once started.  A name this architecture lacks (open
 * on arm64) is skipped.  Calls allowed only with some arguments (clone,
 * openat, prctl, prlimit64, tgkill, ioctl, socket) are added with their
 * conditions below: 66 names and those 7 on x86-64.  tests/t/40, 41, 47
 * and 48 under strace -f use 41 of them (glibc 2.36, libmicrohttpd
 * 0.9.75, GnuTLS 3.7); the rest are the same calls' other forms (ppoll
 * for poll, statx for fstat) that another libc or path may pick, and what
 * abort, usleep and getrlimit need.
 */
const char *const confine_syscalls[] = {
	/* descriptors it already has */
	"read", "write", "readv", "writev", "pread64", "preadv2", "pwritev2",
	"close", "fstat", "newfstatat", "statx", "lseek", "fcntl", "pipe2",
	/* memory */
	"mmap", "munmap", "mremap", "mprotect", "brk", "madvise",
	/* threads */
	"futex", "set_robust_list", "rseq", "sched_yield", "sched_getaffinity",
	"exit", "exit_group", "restart_syscall",
	/* signals, and who it is */
	"rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "rt_sigtimedwait",
	"sigaltstack",
	"getpid", "gettid", "getuid", "geteuid", "getgid", "getegid", "getgroups", "uname",
	"getrlimit",
	/* waiting and time */
	"poll", "ppoll", "pselect6", "epoll_create1", "epoll_ctl", "epoll_wait",
	"epoll_pwait", "epoll_pwait2", "eventfd2", "clock_gettime", "clock_getres",
	"gettimeofday", "clock_nanosleep", "nanosleep", "getrandom",
	/* connections on the sockets it has */
	"accept4", "shutdown", "setsockopt", "getsockopt", "getsockname",
	"recvfrom", "sendto", "recvmsg", "sendmsg",
	NULL
};

enum { MAX_EXTRA = 32, MAX_FAMILIES = 8 };
static const char *extra[MAX_EXTRA];
static int n_extra;
static int families[MAX_FAMILIES];
static int n_families;

void
confine_allow(const char *name)
{
	if (n_extra < MAX_EXTRA)
		extra[n_extra++] = name;
}

void
confine_allow_socket(int family)
{
	if (n_families < MAX_FAMILIES)
		families[n_families++] = family;
}

void
confine_client(void)
{
	confine_allow_socket(AF_INET);
	confine_allow_socket(AF_INET6);
	confine_allow_socket(AF_UNIX);
	confine_allow("getdents64");  /* a CA directory, read on each connection */
	confine();
}

void
confine_still_readable(const char *what, const char *path)
{
	struct passwd *pw;
	int fd, e;

	if (!path || strcmp(path, "-") == 0)
		return;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0) {
		close(fd);
		return;
	}
	e = errno;
	pw = getpwuid(geteuid());
	msg_die(EXIT_CONFIG, what, "%s: cannot be read as %s: %s (it is read later:"
	    " make it readable by that user, or see --user)",
	    path, pw ? pw->pw_name : "this user", strerror(e));
}

/* ---- dropping root --------------------------------------------------------- */

static _Noreturn void
drop_failed(const char *call)
{
	msg_die(EXIT_SOFTWARE, "--user", "cannot drop root: %s: %s (--user root keeps it)",
	    call, strerror(errno));
}

static void
drop_root(void)
{
	const char *name = confine_conf.user ? confine_conf.user : "nobody";
	struct passwd *pw;
	uid_t uid = 65534;
	gid_t gid = 65534;

	if (geteuid() != 0) {
		pw = getpwnam(name);
		if (confine_conf.user && (!pw || pw->pw_uid != geteuid()))
			msg_warn("--user", "not started as root: running as uid %ld, not as %s",
			    (long)geteuid(), name);
		return;
	}
	errno = 0;
	if ((pw = getpwnam(name))) {
		uid = pw->pw_uid;
		gid = pw->pw_gid;
	} else if (confine_conf.user) {
		msg_die(EXIT_CONFIG, "--user", "no user named '%s'", name);
	}
	/* else no "nobody" (a container's scratch image): its usual ids. */
	if (uid == 0) {
		msg_warn("--user", "%s: keeping root; a compromise of this process is a compromise of the host", name);
		return;
	}
	if (pw ? initgroups(name, gid) != 0 : setgroups(0, NULL) != 0)
		drop_failed(pw ? "initgroups" : "setgroups");
	if (setgid(gid) != 0)
		drop_failed("setgid");
	if (setuid(uid) != 0)
		drop_failed("setuid");
	if (setuid(0) == 0 || geteuid() == 0 || getegid() == 0)
		msg_die(EXIT_SOFTWARE, "--user", "root could be regained after dropping it");
	/* The user's home, not root's: libpq looks there for ~/.pgpass and
	 * ~/.postgresql/, and a file it cannot stat in root's is an error. */
	if (setenv("HOME", pw && pw->pw_dir && *pw->pw_dir ? pw->pw_dir : "/", 1) != 0)
		drop_failed("setenv HOME");
	msg_info("--user", "running as %s (uid %ld, gid %ld)", name, (long)uid, (long)gid);
}

/* ---- the filter ------------------------------------------------------------ */

/* A refused call: say which, and stop here.  Only async-signal-safe calls. */
static void
on_refused(int signo, siginfo_t *info, void *context)
{
	char line[256];
	int n;

	(void)signo;
	(void)context;
	n = snprintf(line, sizeof line, "%s: seccomp: system call %d refused"
	    " (scmp_sys_resolver %d names it; --no-seccomp turns the filter off)\n",
	    msg_program ? msg_program : "etl", info->si_syscall, info->si_syscall);
	if (n > 0)
		(void)!write(STDERR_FILENO, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
	_exit(EXIT_SOFTWARE);
}

static int
allow(scmp_filter_ctx ctx, const char *name)
{
	int nr = seccomp_syscall_resolve_name(name);

	if (nr == __NR_SCMP_ERROR)
		return 0;  /* not a call on this architecture */
	return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
}

/* The calls allowed only with some arguments. */
static int
allow_conditional(scmp_filter_ctx ctx)
{
	int rc = 0;

	/* Opening read-only: no write access, no creating, no truncating. */
	rc = rc ? rc : seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(openat), 1,
	    SCMP_A2(SCMP_CMP_MASKED_EQ, O_ACCMODE | O_CREAT | O_TRUNC, O_RDONLY));
	if (seccomp_syscall_resolve_name("open") != __NR_SCMP_ERROR)
		rc = rc ? rc : seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(open), 1,
		    SCMP_A1(SCMP_CMP_MASKED_EQ, O_ACCMODE | O_CREAT | O_TRUNC, O_RDONLY));
	/* Threads, never processes: clone with CLONE_THREAD; clone3, whose
	 * flags a filter cannot see, says ENOSYS and glibc falls back. */
	rc = rc ? rc : seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
	    SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD));
	rc = rc ? rc : seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
	/* Reading its limits (getrlimit, sysconf), never changing them. */
	rc = rc ? rc : seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prlimit64), 1,
	    SCMP_A2(SCMP_CMP_EQ, 0, 0));
	/* isatty(3), the one question asked of a terminal (lib/reader.c). */
	rc = rc ? rc : seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
	    SCMP_A1(SCMP_CMP_EQ, TCGETS, 0));
	/* The bytes waiting unread in an output pipe (lib/backlog.h). */
	rc = rc ? rc : seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
	    SCMP_A1(SCMP_CMP_EQ, FIONREAD, 0));
	/* Naming its own threads. */
	rc = rc ? rc : seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prctl), 1,
	    SCMP_A0(SCMP_CMP_EQ, PR_SET_NAME, 0));
	rc = rc ? rc : seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prctl), 1,
	    SCMP_A0(SCMP_CMP_EQ, PR_GET_NAME, 0));
	/* Signals to its own threads only (raise, abort, pthread_kill). */
	rc = rc ? rc : seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(tgkill), 1,
	    SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)getpid(), 0));
	for (int i = 0; i < n_families; i++)
		rc = rc ? rc : seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
		    SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)families[i], 0));
	if (n_families > 0) {
		rc = rc ? rc : allow(ctx, "connect");
		rc = rc ? rc : allow(ctx, "getpeername");
		/* glibc's resolver sends the A and AAAA queries together. */
		rc = rc ? rc : allow(ctx, "sendmmsg");
	}
	for (int i = 0; i < n_families; i++)
		if (families[i] == AF_UNIX)  /* libcurl's resolver thread wakes it */
			rc = rc ? rc : seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socketpair), 1,
			    SCMP_A0(SCMP_CMP_EQ, AF_UNIX, 0));
	return rc;
}

static void
install_filter(void)
{
	struct sigaction sa;
	scmp_filter_ctx ctx;
	int rc = 0;

	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_refused;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSYS, &sa, NULL) != 0)
		msg_die(EXIT_SOFTWARE, "seccomp", "sigaction: %s", strerror(errno));
	if (!(ctx = seccomp_init(SCMP_ACT_TRAP)))
		msg_die(EXIT_SOFTWARE, "seccomp", "cannot make a filter");
	for (int i = 0; confine_syscalls[i]; i++)
		rc = rc ? rc : allow(ctx, confine_syscalls[i]);
	for (int i = 0; i < n_extra; i++)
		rc = rc ? rc : allow(ctx, extra[i]);
	rc = rc ? rc : allow_conditional(ctx);
	/* Every thread started so far, too; and no new privileges (setuid
	 * binaries) for anything after. */
	rc = rc ? rc : seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
	rc = rc ? rc : seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 1);
	if (rc != 0)
		msg_die(EXIT_SOFTWARE, "seccomp", "cannot build the filter: %s", strerror(-rc));
	if ((rc = seccomp_load(ctx)) != 0)
		msg_die(EXIT_SOFTWARE, "seccomp", "cannot install the filter: %s"
		    " (--no-seccomp runs without it)", strerror(-rc));
	seccomp_release(ctx);
}

void
confine(void)
{
	drop_root();
	if (!confine_conf.seccomp) {
		if (CONFINE_SANITIZED)
			msg_info("seccomp", "no system call filter in a sanitizer build");
		prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
		return;
	}
	install_filter();
}

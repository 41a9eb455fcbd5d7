/* Unit tests for lib/confine.c: a child confines itself, then tries one
 * thing; what the filter refuses ends the child with exit 70 and a line
 * naming the system call, what it allows goes on.  Each child leaves with
 * _exit, so nothing of the test's own runs after the filter. */
#define _GNU_SOURCE
#include "check.h"
#include "confine.h"
#include "msg.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

enum { ALLOWED = 0, REFUSED = 70, CLIENT = -1 /* confine_client() */ };

#if defined(__SANITIZE_THREAD__)
#define THREAD_SANITIZER 1
#else
#define THREAD_SANITIZER 0
#endif

static char scratch[] = "/tmp/test-confine.XXXXXX";
static char existing[sizeof scratch + 16];

static void *
thread_main(void *arg)
{
	return arg;
}

/* What the child tries once confined; its exit status says what happened. */
static int
try_open_read(void)
{
	int fd = open(existing, O_RDONLY | O_CLOEXEC);
	char b[4];

	return fd >= 0 && read(fd, b, sizeof b) == 4 ? 0 : 1;
}

static int
try_everyday(void)
{
	pthread_t t;
	void *got = NULL;
	char *big = malloc(64 << 20);  /* mmap */
	int p[2];
	char c;

	if (!big || pipe2(p, O_CLOEXEC) != 0 || write(p[1], "x", 1) != 1 ||
	    read(p[0], &c, 1) != 1)
		return 1;
	big[(64 << 20) - 1] = 1;
	free(big);
	if (pthread_create(&t, NULL, thread_main, &c) != 0 || pthread_join(t, &got) != 0)
		return 2;
	return got == &c ? 0 : 3;
}

static int
try_execve(void)
{
	char *argv[] = { "true", NULL };

	execve("/bin/true", argv, environ);
	return 1;
}

static int
try_create(void)
{
	char path[sizeof scratch + 16];

	snprintf(path, sizeof path, "%s/new", scratch);
	return open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600) >= 0 ? 0 : 1;
}

static int
try_open_write(void)
{
	return open(existing, O_RDWR | O_CLOEXEC) >= 0 ? 0 : 1;
}

static int
try_truncate(void)
{
	return open(existing, O_RDONLY | O_TRUNC | O_CLOEXEC) >= 0 ? 0 : 1;
}

static int
try_socket(void)
{
	return socket(AF_INET, SOCK_STREAM, 0) >= 0 ? 0 : 1;
}

static int
try_unix_socket(void)
{
	return socket(AF_UNIX, SOCK_STREAM, 0) >= 0 ? 0 : 1;
}

static int listening_port;  /* a loopback listener of the parent's */

static int
try_connect(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(listening_port),
	    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in peer;
	socklen_t len = sizeof peer;

	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0)
		return 1;
	return getpeername(fd, (struct sockaddr *)&peer, &len) == 0 &&
	    peer.sin_port == a.sin_port ? 0 : 2;
}

static int
try_inet6_socket(void)
{
	return socket(AF_INET6, SOCK_DGRAM, 0) >= 0 ? 0 : 1;
}

static int
try_socketpair(void)
{
	int sv[2];

	return socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0 ? 0 : 1;
}

static int
try_netlink_socket(void)
{
	return socket(AF_NETLINK, SOCK_RAW, 0) >= 0 ? 0 : 1;
}

static int
try_packet_socket(void)
{
	return socket(AF_PACKET, SOCK_RAW, 0) >= 0 ? 0 : 1;
}

static int
try_isatty(void)
{
	return isatty(STDIN_FILENO) >= 0 ? 0 : 1;  /* answered, not refused */
}

static int
try_ioctl_other(void)
{
	int on = 1;

	return ioctl(STDIN_FILENO, FIONBIO, &on) == 0 ? 0 : 1;
}

static int
try_ptrace(void)
{
	return ptrace(PTRACE_TRACEME, 0, NULL, NULL) == 0 ? 0 : 1;
}

static int
try_fork(void)
{
	pid_t pid = fork();

	if (pid == 0)
		_exit(0);
	return pid > 0 ? 0 : 1;
}

static int
try_setuid(void)
{
	return syscall(SYS_setuid, 0) == 0 ? 0 : 1;
}

static int
try_kill_parent(void)
{
	return kill(getppid(), 0) == 0 ? 0 : 1;
}

/* Run TRY in a child confined with SOCKET_FAMILY allowed (0: none); its
 * exit status must be WANT, and a refusal must say so on stderr. */
static void
expect(const char *title, int (*try)(void), int socket_family, int want)
{
	int err[2], status = -1;
	char said[512] = "";
	ssize_t n;
	pid_t pid;

	if (pipe(err) != 0)
		abort();
	fflush(stdout);
	if ((pid = fork()) == 0) {
		dup2(err[1], STDERR_FILENO);
		close(err[0]);
		confine_conf.seccomp = 1;  /* under sanitizers too: the child _exits */
		if (socket_family == CLIENT) {
			confine_client();
		} else {
			if (socket_family)
				confine_allow_socket(socket_family);
			confine();
		}
		_exit(try());
	}
	close(err[1]);
	n = read(err[0], said, sizeof said - 1);
	said[n > 0 ? n : 0] = '\0';
	close(err[0]);
	waitpid(pid, &status, 0);
	if (!check(WIFEXITED(status) && WEXITSTATUS(status) == want &&
	    (want != REFUSED || strstr(said, "test-confine: seccomp: system call ")),
	    "%s: %s", title, want == REFUSED ? "refused" : "allowed"))
		printf("# status %d (%s %d); stderr: %s\n", status,
		    WIFSIGNALED(status) ? "signal" : "exit",
		    WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status), said);
}

/* Started as root, the child runs as nobody (or the --user given) with
 * that user's groups and home, and cannot get root back. */
static void
expect_dropped(const char *user)
{
	struct passwd *pw = getpwnam(user);
	int status = -1;
	pid_t pid;

	if (geteuid() != 0 || !pw) {
		printf("skip - dropping root to %s: not root, or no such user\n", user);
		return;
	}
	fflush(stdout);
	if ((pid = fork()) == 0) {
		gid_t groups[64];
		int n, in_group = 0;

		confine_conf.user = strcmp(user, "nobody") == 0 ? NULL : user;
		confine();
		n = getgroups(64, groups);
		for (int i = 0; i < n; i++)
			in_group |= groups[i] == pw->pw_gid;
		_exit(getuid() == pw->pw_uid && geteuid() == pw->pw_uid &&
		    getgid() == pw->pw_gid && getegid() == pw->pw_gid && in_group &&
		    getenv("HOME") && strcmp(getenv("HOME"), pw->pw_dir) == 0 ? 0 : 1);
	}
	waitpid(pid, &status, 0);
	check(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "started as root, runs as %s with its groups and home", user);
}

/* A listener on 127.0.0.1 for try_connect; its port. */
static int
listen_loopback(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof a;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 16) != 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) != 0)
		abort();
	return ntohs(a.sin_port);
}

/* What the filter allows and refuses, each in a child of its own. */
static void
filter_cases(void)
{
	listening_port = listen_loopback();
	expect("memory, pipes, threads", try_everyday, 0, ALLOWED);
	expect("opening a file read-only", try_open_read, 0, ALLOWED);
	expect("execve", try_execve, 0, REFUSED);
	expect("creating a file", try_create, 0, REFUSED);
	expect("opening a file for writing", try_open_write, 0, REFUSED);
	expect("opening a file read-only with O_TRUNC", try_truncate, 0, REFUSED);
	expect("a new socket", try_socket, 0, REFUSED);
	expect("a socket of the family allowed", try_socket, AF_INET, ALLOWED);
	expect("a socket of another family", try_unix_socket, AF_INET, REFUSED);
	expect("isatty", try_isatty, 0, ALLOWED);
	expect("another ioctl", try_ioctl_other, 0, REFUSED);
	/* A client (etl-load-http, the NATS programs): the Internet families
	 * and the name service's, never the kernel's own. */
	expect("a client connects over TCP", try_connect, CLIENT, ALLOWED);
	expect("a client's AF_INET6 socket", try_inet6_socket, CLIENT, ALLOWED);
	expect("a client's AF_UNIX socket", try_unix_socket, CLIENT, ALLOWED);
	expect("a client's socketpair", try_socketpair, CLIENT, ALLOWED);
	expect("a client's netlink socket", try_netlink_socket, CLIENT, REFUSED);
	expect("a client's packet socket", try_packet_socket, CLIENT, REFUSED);
	expect("a client's execve", try_execve, CLIENT, REFUSED);
	expect("a client creating a file", try_create, CLIENT, REFUSED);
	expect("socketpair of a server", try_socketpair, 0, REFUSED);
	expect("connect of a server", try_connect, 0, REFUSED);
	expect("ptrace", try_ptrace, 0, REFUSED);
	expect("fork", try_fork, 0, REFUSED);
	expect("setuid", try_setuid, 0, REFUSED);
	expect("a signal to another process", try_kill_parent, 0, REFUSED);
}

int
main(void)
{
	int fd;

	msg_init("test-confine");
	if (!mkdtemp(scratch))
		abort();
	chmod(scratch, 0777);
	snprintf(existing, sizeof existing, "%s/existing", scratch);
	if ((fd = open(existing, O_WRONLY | O_CREAT, 0666)) < 0 || write(fd, "data", 4) != 4)
		abort();
	close(fd);
	chmod(existing, 0666);  /* writable by nobody: only the filter stops it */

	/* ThreadSanitizer delivers a signal at its own safe points, and the
	 * filter's SIGSYS report waits there for ever.  The other builds test
	 * the filter; a ThreadSanitizer build installs none. */
	if (THREAD_SANITIZER)
		puts("skip - the system call filter, under ThreadSanitizer");
	else
		filter_cases();
	expect_dropped("nobody");
	expect_dropped("daemon");

	unlink(existing);
	rmdir(scratch);
	return 0;
}

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
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

enum { ALLOWED = 0, REFUSED = 70 };

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
		if (socket_family)
			confine_allow_socket(socket_family);
		confine();
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
 * that user's groups, and cannot get root back. */
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
		    getgid() == pw->pw_gid && getegid() == pw->pw_gid && in_group ? 0 : 1);
	}
	waitpid(pid, &status, 0);
	check(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "started as root, runs as %s with its groups", user);
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

	expect("memory, pipes, threads", try_everyday, 0, ALLOWED);
	expect("opening a file read-only", try_open_read, 0, ALLOWED);
	expect("execve", try_execve, 0, REFUSED);
	expect("creating a file", try_create, 0, REFUSED);
	expect("opening a file for writing", try_open_write, 0, REFUSED);
	expect("opening a file read-only with O_TRUNC", try_truncate, 0, REFUSED);
	expect("a new socket", try_socket, 0, REFUSED);
	expect("a socket of the family allowed", try_socket, AF_INET, ALLOWED);
	expect("a socket of another family", try_unix_socket, AF_INET, REFUSED);
	expect("ptrace", try_ptrace, 0, REFUSED);
	expect("fork", try_fork, 0, REFUSED);
	expect("setuid", try_setuid, 0, REFUSED);
	expect("a signal to another process", try_kill_parent, 0, REFUSED);
	expect_dropped("nobody");
	expect_dropped("daemon");

	unlink(existing);
	rmdir(scratch);
	return 0;
}

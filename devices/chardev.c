/* devices/chardev.c — byte-stream backends for the UART: stdio, file, UNIX
 * socket. Everything is non-blocking: the run loop pumps input when it can. */
#include "devices/devices.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

/* Makes fd non-blocking; returns the previous flags (or -1). The file
 * description is shared with the parent shell for stdin: the flags must be
 * put back at close or the shell would see EAGAIN afterwards. */
static int set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	if (fl >= 0)
		fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	return fl;
}

static int open_stdio(struct chardev *cd)
{
	cd->in_fd = STDIN_FILENO;
	cd->out_fd = STDOUT_FILENO;
	if (isatty(STDIN_FILENO)) {
		struct termios *saved = malloc(sizeof(*saved));
		if (!saved)
			return -ENOMEM;
		if (tcgetattr(STDIN_FILENO, saved) == 0) {
			struct termios raw = *saved;
			/* raw input, but keep ISIG so ^C still stops the VM */
			raw.c_iflag &= ~(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR |
					 IGNCR | ICRNL | IXON);
			raw.c_lflag &= ~(ECHO | ECHONL | ICANON | IEXTEN);
			raw.c_cc[VMIN] = 1;
			raw.c_cc[VTIME] = 0;
			tcsetattr(STDIN_FILENO, TCSANOW, &raw);
			cd->termios_saved = saved;
			cd->tty_raw = true;
		} else {
			free(saved);
		}
	}
	cd->stdin_flags = set_nonblock(STDIN_FILENO);
	return 0;
}

static int open_unix(struct chardev *cd, const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	unlink(path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 1) < 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	cd->listen_fd = fd;
	return 0;
}

int chardev__open(struct chardev *cd, const char *spec)
{
	memset(cd, 0, sizeof(*cd));
	cd->in_fd = cd->out_fd = cd->listen_fd = -1;
	cd->stdin_flags = -1;
	if (strcmp(spec, "stdio") == 0)
		return open_stdio(cd);
	if (strncmp(spec, "file:", 5) == 0 && spec[5]) {
		int fd = open(spec + 5, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0)
			return -errno;
		cd->out_fd = fd;
		return 0;
	}
	if (strncmp(spec, "unix:", 5) == 0 && spec[5])
		return open_unix(cd, spec + 5);
	return -EINVAL;
}

/* Accepts a pending client on a listening socket (non-blocking). */
static void try_accept(struct chardev *cd)
{
	if (cd->listen_fd < 0 || cd->in_fd >= 0)
		return;
	int fd = accept4(cd->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd >= 0)
		cd->in_fd = cd->out_fd = fd;
}

void chardev__tx(void *opaque, uint8_t byte)
{
	struct chardev *cd = opaque;
	try_accept(cd);
	if (cd->out_fd < 0)
		return;
	for (;;) {
		ssize_t n = (cd->listen_fd >= 0)
			? send(cd->out_fd, &byte, 1, MSG_NOSIGNAL)
			: write(cd->out_fd, &byte, 1);
		if (n == 1 || (n < 0 && errno != EINTR))
			return;	/* EAGAIN/EPIPE: the byte is dropped, as on a wire */
	}
}

int chardev__pump(struct chardev *cd, struct serial *s)
{
	try_accept(cd);
	if (cd->in_fd < 0)
		return 0;
	if (cd->npending == 0) {
		ssize_t n = read(cd->in_fd, cd->pending, sizeof(cd->pending));
		if (n < 0)
			return (errno == EAGAIN || errno == EINTR) ? 0 : -errno;
		if (n == 0) {
			/* EOF: a socket peer left (wait for the next one); a
			 * file or pipe on stdin is finished */
			if (cd->listen_fd >= 0) {
				close(cd->in_fd);
				cd->in_fd = cd->out_fd = -1;
			} else {
				cd->eof = true;
			}
			return 0;
		}
		cd->npending = n;
		cd->pending_off = 0;
	}
	size_t took = serial__receive(s, cd->pending + cd->pending_off, cd->npending);
	cd->pending_off += took;
	cd->npending -= took;
	return (int)took;
}

void chardev__close(struct chardev *cd)
{
	if (cd->tty_raw && cd->termios_saved)
		tcsetattr(STDIN_FILENO, TCSANOW, cd->termios_saved);
	free(cd->termios_saved);
	cd->termios_saved = NULL;
	if (cd->stdin_flags >= 0)
		fcntl(STDIN_FILENO, F_SETFL, cd->stdin_flags);
	cd->stdin_flags = -1;
	cd->tty_raw = false;
	if (cd->in_fd > STDERR_FILENO)
		close(cd->in_fd);
	if (cd->out_fd > STDERR_FILENO && cd->out_fd != cd->in_fd)
		close(cd->out_fd);
	if (cd->listen_fd >= 0)
		close(cd->listen_fd);
	cd->in_fd = cd->out_fd = cd->listen_fd = -1;
}

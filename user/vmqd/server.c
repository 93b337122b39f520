// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The control socket. One thread, poll(), non-blocking sockets: a client
 * that is slow, silent, malformed or hostile costs the others nothing but
 * a slot, and loses it on the first misstep or after a timeout.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "libvmq.h"
#include "log.h"
#include "proto.h"
#include "server.h"

#define PARTIAL_TIMEOUT_S 10		     /* from its first byte, a request must end by then */
#define IDLE_TIMEOUT_S	  300		     /* a silent connection gives its slot back */
#define OUT_HIGH	  (16 * 1024 * 1024) /* stop reading while this much is unsent */

static time_t now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

/* option's group (NULL: none asked for): its gid, or -ENOENT, logged. */
static int group_lookup(const char *option, const char *group, bool *set, gid_t *gid)
{
	struct group *g;

	if (!group)
		return 0;
	g = getgrnam(group);
	if (!g) {
		log_err("%s %s: no such group", option, group);
		return -ENOENT;
	}
	*gid = g->gr_gid;
	*set = true;
	return 0;
}

/* Refuses to steal the socket of a daemon that is alive, or to replace
 * anything that is not a socket (a mistyped --socket). */
static int claim_path(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct stat st;
	int fd, err = 0;

	if (lstat(path, &st))
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode)) {
		log_err("%s: exists and is not a socket", path);
		return -EEXIST;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	strcpy(sun.sun_path, path);
	if (!connect(fd, (struct sockaddr *)&sun, sizeof(sun)))
		err = -EADDRINUSE;
	else if (errno == ECONNREFUSED)
		unlink(path); /* stale: its daemon is gone */
	close(fd);
	return err;
}

/* The socket file's group and mode: the one group given (0660), or, with
 * two different ones, 0666 and vmqd's own check of every peer. */
static int socket_access(struct vmqd_server *s, const char *path)
{
	gid_t gid = s->grant_group ? s->grant_gid : s->read_gid;
	mode_t mode = 0660;

	if (!s->grant_group && !s->read_group)
		return 0;
	if (s->grant_group && s->read_group && s->grant_gid != s->read_gid)
		mode = 0666;
	if (chown(path, 0, gid) || chmod(path, mode)) {
		int err = -errno;

		/* The group's vmqd must be able to give the socket away. */
		log_err("%s: cannot give it to group %u (mode %04o): %s%s", path, (unsigned int)gid,
			(unsigned int)mode, strerror(-err),
			err == -EPERM ? " (--group and --read-group need CAP_CHOWN)" : "");
		return err;
	}
	return 0;
}

int vmqd_server_open(struct vmqd_server *s, const char *path, const char *group,
		     const char *read_group)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char dir[sizeof(sun.sun_path)];
	sigset_t mask;
	mode_t old_umask;
	char *slash;
	int err;

	memset(s, 0, sizeof(*s));
	s->listen_fd = s->signal_fd = s->watch_fd = s->timer_fd = -1;
	if (strlen(path) >= sizeof(sun.sun_path))
		return -ENAMETOOLONG;
	err = group_lookup("--group", group, &s->grant_group, &s->grant_gid);
	if (!err)
		err = group_lookup("--read-group", read_group, &s->read_group, &s->read_gid);
	if (err)
		return err;
	strcpy(sun.sun_path, path);
	strcpy(s->path, path);
	strcpy(dir, path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		err = vmq_mkdir_p(dir, 0755);
		if (err) {
			log_err("%s: cannot create: %s", dir, strerror(-err));
			return err;
		}
	}
	err = claim_path(path);
	if (err == -EADDRINUSE)
		log_err("%s: another vmqd is serving this socket", path);
	if (err)
		return err;
	s->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->listen_fd < 0)
		return -errno;
	/* Born 0600: no window in which others could connect. */
	old_umask = umask(0177);
	err = bind(s->listen_fd, (struct sockaddr *)&sun, sizeof(sun)) ? -errno : 0;
	umask(old_umask);
	if (!err && listen(s->listen_fd, 64))
		err = -errno;
	if (err)
		log_err("%s: cannot listen: %s", path, strerror(-err));
	else
		err = socket_access(s, path);
	if (err) {
		vmqd_server_close(s);
		return err;
	}
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	s->signal_fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	s->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (s->signal_fd < 0 || s->timer_fd < 0) {
		err = -errno;
		vmqd_server_close(s);
		return err;
	}
	return 0;
}

static void client_free(struct vmqd_server *s, size_t i)
{
	struct vmqd_client *c = s->clients[i];

	close(c->fd);
	vmq_linebuf_free(&c->in);
	free(c->out);
	free(c);
	s->clients[i] = s->clients[--s->nclients];
}

static int queue_out(struct vmqd_client *c, const char *text)
{
	size_t len = strlen(text);
	char *out;

	if (c->out_off == c->out_len)
		c->out_len = c->out_off = 0;
	out = realloc(c->out, c->out_len + len);
	if (!out)
		return -ENOMEM;
	memcpy(out + c->out_len, text, len);
	c->out = out;
	c->out_len += len;
	return 0;
}

/* An answer when the request never reached the dispatcher: the same
 * envelope the dispatcher writes. */
static void queue_error(struct vmqd_client *c, int err, const char *message)
{
	char *line = vmqd_error_line(err, message);

	if (line)
		queue_out(c, line);
	free(line);
}

/* Supplementary groups count too: that is how users join a group. */
static bool peer_in_group(int fd, gid_t gid)
{
	socklen_t len = 0;
	gid_t *groups;
	bool found = false;

	/* The first call fails with ERANGE and says how much room it needs. */
	if (!getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, NULL, &len) || errno != ERANGE || !len)
		return false;
	groups = malloc(len);
	if (groups && !getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len))
		for (size_t i = 0; i < len / sizeof(gid_t) && !found; i++)
			found = groups[i] == gid;
	free(groups);
	return found;
}

static bool peer_member(int fd, const struct ucred *cred, gid_t gid)
{
	return cred->gid == gid || peer_in_group(fd, gid);
}

/* Fills c->uid and c->read_only; false when the peer may not use vmqd. */
static bool peer_allowed(struct vmqd_server *s, struct vmqd_client *c)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	c->uid = (uid_t)-1;
	if (getsockopt(c->fd, SOL_SOCKET, SO_PEERCRED, &cred, &len))
		return false;
	c->uid = cred.uid;
	if (cred.uid == 0)
		return true;
	if (s->grant_group && peer_member(c->fd, &cred, s->grant_gid))
		return true;
	if (s->read_group && peer_member(c->fd, &cred, s->read_gid)) {
		c->read_only = true;
		return true;
	}
	log_info("refused a client: uid %u gid %u pid %d", cred.uid, cred.gid, cred.pid);
	return false;
}

/* A connection over its uid's share: refused (answered, then closed) so
 * that it gives its slot back at once. Root is limited only by the total. */
static bool over_limit(struct vmqd_server *s, struct vmqd_client *c, char *why, size_t size)
{
	size_t same = 0, others = 0;

	if (c->uid == 0)
		return false;
	for (size_t i = 0; i < s->nclients; i++) {
		if (s->clients[i] == c || s->clients[i]->uid == 0)
			continue;
		others++;
		same += s->clients[i]->uid == c->uid;
	}
	if (same >= VMQD_CLIENTS_PER_UID) {
		snprintf(why, size,
			 "too many connections: uid %u holds %d, the most one user may; close "
			 "some and try again",
			 (unsigned int)c->uid, VMQD_CLIENTS_PER_UID);
		return true;
	}
	if (others >= VMQD_CLIENTS_MAX - VMQD_CLIENTS_ROOT_RESERVED) {
		snprintf(why, size,
			 "too many connections: users other than root hold %d, the rest is kept "
			 "for root; try again later",
			 VMQD_CLIENTS_MAX - VMQD_CLIENTS_ROOT_RESERVED);
		return true;
	}
	return false;
}

static void accept_clients(struct vmqd_server *s)
{
	while (s->nclients < VMQD_CLIENTS_MAX) {
		int fd = accept4(s->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct vmqd_client *c;

		if (fd < 0)
			return;
		c = calloc(1, sizeof(*c));
		if (!c) {
			close(fd);
			return;
		}
		char why[160];

		vmqd_client_init(c, fd);
		s->clients[s->nclients++] = c;
		if (!peer_allowed(s, c)) {
			queue_error(c, EPERM, "permission denied: vmqd serves root only");
			c->closing = true;
		} else if (over_limit(s, c, why, sizeof(why))) {
			log_info("refused a client: %s", why);
			queue_error(c, EUSERS, why);
			c->closing = true;
		}
	}
}

void vmqd_client_init(struct vmqd_client *c, int fd)
{
	memset(c, 0, sizeof(*c));
	c->fd = fd;
	c->last = now();
	vmq_linebuf_init(&c->in, VMQ_REQUEST_MAX);
}

void vmqd_client_release(struct vmqd_client *c)
{
	vmq_linebuf_free(&c->in);
	free(c->out);
	c->out = NULL;
	c->out_len = c->out_off = 0;
}

/* Answers the complete lines in the input buffer, as far as output room
 * allows; the rest waits for the peer to read. */
int vmqd_client_process(struct vmqd_client *c, struct vmqd *d)
{
	bool answered = false;
	int turn = 0;

	c->pending = false;
	while (!c->closing && c->out_len - c->out_off < OUT_HIGH) {
		bool malformed = false;
		char *answer, *line;
		size_t len;
		int got;

		if (turn == VMQD_LINES_PER_TURN) {
			/* Lines left for the next turn, if any ended. */
			c->pending = vmq_linebuf_has_line(&c->in);
			break;
		}
		got = vmq_linebuf_next(&c->in, &line, &len);
		if (got == -EMSGSIZE) {
			/* No line ends within the limit: a request beyond it. */
			queue_error(c, E2BIG, "request: longer than 65536 bytes");
			c->closing = true;
			break;
		}
		if (got <= 0)
			break;
		turn++;
		pthread_mutex_lock(&d->lock);
		d->read_only = c->read_only;
		answer = vmqd_handle_line(d, line, len, &malformed);
		d->read_only = false;
		pthread_mutex_unlock(&d->lock);
		if (!answer || queue_out(c, answer)) {
			free(answer);
			return -ENOMEM;
		}
		free(answer);
		answered = true;
		/* Not speaking the protocol: answered once, then dropped. */
		c->closing = malformed;
	}
	/* What is left came with the last read: the next request starts now. */
	if (answered && vmq_linebuf_pending(&c->in))
		c->started = now();
	return 0;
}

ssize_t vmqd_client_input(struct vmqd_client *c, const void *buf, size_t len)
{
	bool idle = !vmq_linebuf_pending(&c->in);
	size_t taken = 0;

	/* The buffer grows as it fills: take what fits at its largest. */
	while (taken < len) {
		ssize_t n = vmq_linebuf_put(&c->in, (const char *)buf + taken, len - taken);

		if (n == -EMSGSIZE || n == 0)
			break;
		if (n < 0)
			return n;
		taken += (size_t)n;
	}
	if (taken && idle)
		c->started = now(); /* as read_client: a request's clock starts here */
	if (taken)
		c->last = now();
	return (ssize_t)taken;
}

static int read_client(struct vmqd_client *c)
{
	for (;;) {
		bool idle = !vmq_linebuf_pending(&c->in);
		ssize_t n = vmq_linebuf_fill(&c->in, c->fd);

		if (n > 0) {
			if (idle)
				c->started = now();
			c->last = now();
			continue;
		}
		if (n == 0) {
			c->eof = true;
			return 0;
		}
		/* -EMSGSIZE: full; the lines held are answered first. */
		return n == -EAGAIN || n == -EMSGSIZE ? 0 : (int)n;
	}
}

static int write_client(struct vmqd_client *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : -errno;
		c->out_off += (size_t)n;
		c->last = now();
	}
	return 0;
}

/* Runs one client forward; false when it should be dropped. */
static bool serve_client(struct vmqd_client *c, struct vmqd *d, short revents)
{
	time_t t = now();

	if (revents & (POLLERR | POLLNVAL))
		return false;
	if ((revents & (POLLIN | POLLHUP)) && !c->closing && read_client(c))
		return false;
	if (vmqd_client_process(c, d) || write_client(c))
		return false;
	if (c->out_off < c->out_len || c->pending)
		return true;
	if (c->closing || c->eof)
		return false;
	if (vmq_linebuf_pending(&c->in) && t - c->started > PARTIAL_TIMEOUT_S)
		return false;
	return t - c->last <= IDLE_TIMEOUT_S;
}

static void flush_state(struct vmqd *d)
{
	pthread_mutex_lock(&d->lock);
	vmqd_state_flush(d, false);
	pthread_mutex_unlock(&d->lock);
}

/* Armed to the period the callback asks for, disarmed at 0. */
static void timer_arm(struct vmqd_server *s, struct vmqd *d)
{
	unsigned int ms = s->timer_period_ms ? s->timer_period_ms(d) : 0;
	struct itimerspec its = {};

	if (s->timer_fd < 0 || ms == s->timer_ms)
		return;
	its.it_interval.tv_sec = ms / 1000;
	its.it_interval.tv_nsec = (long)(ms % 1000) * 1000000L;
	its.it_value = its.it_interval;
	if (!timerfd_settime(s->timer_fd, 0, &its, NULL))
		s->timer_ms = ms;
}

/* The timer fired: its reader runs; true when it did. */
static bool timer_fired(struct vmqd_server *s, struct vmqd *d, short revents)
{
	__u64 n;

	if (!(revents & POLLIN) || read(s->timer_fd, &n, sizeof(n)) != sizeof(n))
		return false;
	if (s->on_timer)
		s->on_timer(d);
	return true;
}

int vmqd_server_run(struct vmqd_server *s, struct vmqd *d)
{
	struct pollfd fds[VMQD_CLIENTS_MAX + 4];

	log_info("serving %s", s->path);
	for (;;) {
		size_t n = 0, nclients = s->nclients;
		bool pending = false, gone = false;
		int ready;

		timer_arm(s, d);
		fds[n++] = (struct pollfd){ .fd = s->signal_fd, .events = POLLIN };
		fds[n++] = (struct pollfd){ .fd = s->listen_fd,
					    .events = s->nclients < VMQD_CLIENTS_MAX ? POLLIN : 0 };
		/* fd -1 is ignored by poll: no watch, no event. */
		fds[n++] = (struct pollfd){ .fd = s->watch_fd, .events = POLLIN };
		fds[n++] = (struct pollfd){ .fd = s->timer_fd, .events = POLLIN };
		for (size_t i = 0; i < nclients; i++) {
			struct vmqd_client *c = s->clients[i];
			short ev = 0;

			if (!c->closing && !c->eof && c->out_len - c->out_off < OUT_HIGH)
				ev |= POLLIN;
			if (c->out_off < c->out_len)
				ev |= POLLOUT;
			pending |= c->pending;
			fds[n++] = (struct pollfd){ .fd = c->fd, .events = ev };
		}
		/* Lines waiting their turn: look around, but do not sleep. */
		ready = poll(fds, n, pending ? 0 : 1000);
		if (ready < 0 && errno != EINTR)
			return -errno;
		if (fds[0].revents & POLLIN) {
			struct signalfd_siginfo si;

			if (read(s->signal_fd, &si, sizeof(si)) == sizeof(si)) {
				log_info("signal %u: exiting; the data plane stays attached",
					 si.ssi_signo);
				flush_state(d);
				return 0;
			}
		}
		/* Walk backwards: dropping a client moves the last one into its slot. */
		for (size_t i = nclients; i-- > 0;) {
			if (!serve_client(s->clients[i], d, fds[i + 4].revents)) {
				client_free(s, i);
				gone = true;
			}
		}
		/* The timer alone is quiet too: what it changed is written then. */
		if (timer_fired(s, d, fds[3].revents))
			ready--;
		/* Changes sent with "sync": false whose client left, or went quiet,
		 * without "daemon sync". */
		if (gone || (ready <= 0 && !pending))
			flush_state(d);
		if (fds[1].revents & POLLIN)
			accept_clients(s);
		if ((fds[2].revents & POLLIN) && s->on_watch)
			s->on_watch(s->watch_fd, d);
	}
}

void vmqd_server_close(struct vmqd_server *s)
{
	while (s->nclients)
		client_free(s, s->nclients - 1);
	if (s->listen_fd >= 0) {
		close(s->listen_fd);
		unlink(s->path);
	}
	if (s->signal_fd >= 0)
		close(s->signal_fd);
	if (s->timer_fd >= 0)
		close(s->timer_fd);
	s->listen_fd = s->signal_fd = s->timer_fd = -1;
}

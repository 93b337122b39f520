// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The transport: connect, write one line, read one line, parse it. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "util.h"
#include "vmqctl.h"

void ctl_conn_init(struct ctl_conn *c)
{
	c->fd = -1;
	c->timeout_ms = CTL_TIMEOUT_DEFAULT_MS;
	c->path = "";
	vmq_linebuf_init(&c->in, VMQ_RESPONSE_MAX);
}

/* A daemon that is stuck, or whose every slot is taken (the connection then
 * waits in its backlog), must not hang vmqctl: the kernel ends each connect,
 * send and read after the timeout with EAGAIN. */
static int set_timeouts(int fd, unsigned int ms)
{
	struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };

	if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)))
		return -errno;
	return 0;
}

static int timed_out(struct ctl_conn *c, struct ctl_err *e, const char *what)
{
	return ctl_err_set(e, ETIMEDOUT,
			   "vmqd at %s did not %s within %g s (stuck, or every connection slot "
			   "taken?); -t SECONDS waits longer",
			   c->path, what, c->timeout_ms / 1000.0);
}

static const char *connect_hint(int errnum)
{
	switch (errnum) {
	case ENOENT:
	case ECONNREFUSED:
		return " (is vmqd running?)";
	case EACCES:
	case EPERM:
		return " (run as root, or as a member of a group given to vmqd --group or "
		       "--read-group)";
	default:
		return "";
	}
}

int ctl_conn_open(struct ctl_conn *c, const char *path, struct ctl_err *e)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd, err;

	if (strlen(path) >= sizeof(addr.sun_path))
		return ctl_err_set(e, ENAMETOOLONG, "socket path \"%s\" is too long", path);
	strcpy(addr.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return ctl_err_set(e, errno, "socket: %s", strerror(errno));
	err = set_timeouts(fd, c->timeout_ms);
	if (err) {
		close(fd);
		return ctl_err_set(e, -err, "socket: %s", strerror(-err));
	}
	c->path = path;
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr))) {
		err = errno;
		close(fd);
		if (err == EAGAIN)
			return timed_out(c, e, "accept the connection");
		return ctl_err_set(e, err, "cannot connect to vmqd at %s: %s%s", path,
				   strerror(err), connect_hint(err));
	}
	ctl_conn_close(c);
	c->fd = fd;
	return 0;
}

void ctl_conn_close(struct ctl_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	vmq_linebuf_free(&c->in);
}

static int send_request(struct ctl_conn *c, struct json_object *req, struct ctl_err *e)
{
	const char *text;
	size_t len;
	char *line;
	int err;

	text = json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN |
							   JSON_C_TO_STRING_NOSLASHESCAPE);
	if (!text)
		return ctl_err_set(e, ENOMEM, "out of memory");
	len = strlen(text);
	if (len + 1 > VMQ_REQUEST_MAX)
		return ctl_err_set(e, E2BIG, "request longer than %d bytes", VMQ_REQUEST_MAX);
	/* One send for the line and its newline: one segment on the wire. */
	line = malloc(len + 1);
	if (!line)
		return ctl_err_set(e, ENOMEM, "out of memory");
	memcpy(line, text, len);
	line[len] = '\n';
	err = vmq_write_all(c->fd, line, len + 1, true);
	free(line);
	if (err == -EAGAIN)
		return timed_out(c, e, "take the request");
	if (err)
		return ctl_err_set(e, -err, "lost the connection to vmqd: %s", strerror(-err));
	return 0;
}

static int receive_line(struct ctl_conn *c, char **line, size_t *len, struct ctl_err *e)
{
	for (;;) {
		int got = vmq_linebuf_next(&c->in, line, len);
		ssize_t n;

		if (got == -EMSGSIZE)
			return ctl_err_set(e, EMSGSIZE, "answer from vmqd longer than %d bytes",
					   VMQ_RESPONSE_MAX);
		if (got)
			return 0;
		n = vmq_linebuf_fill(&c->in, c->fd);
		if (n == 0)
			return ctl_err_set(e, ECONNRESET, "vmqd closed the connection");
		if (n == -ENOMEM)
			return ctl_err_set(e, ENOMEM, "out of memory");
		if (n == -EAGAIN)
			return timed_out(c, e, "answer");
		if (n < 0)
			return ctl_err_set(e, (int)-n, "lost the connection to vmqd: %s",
					   strerror((int)-n));
	}
}

static int parse_response(const char *line, size_t len, struct json_object **resp,
			  struct ctl_err *e)
{
	struct json_tokener *tok = json_tokener_new();
	const char *why = NULL;
	struct json_object *obj;
	enum json_tokener_error jerr;

	if (!tok)
		return ctl_err_set(e, ENOMEM, "out of memory");
	obj = json_tokener_parse_ex(tok, line, (int)len);
	jerr = json_tokener_get_error(tok);
	if (jerr == json_tokener_continue)
		why = "incomplete JSON";
	else if (jerr != json_tokener_success)
		why = json_tokener_error_desc(jerr);
	/* The whole line must be one value: no trailing bytes, no NUL inside. */
	else if (json_tokener_get_parse_end(tok) != len)
		why = "bytes after the JSON value";
	else if (!json_object_is_type(obj, json_type_object))
		why = "not a JSON object";
	json_tokener_free(tok);
	if (why) {
		json_object_put(obj);
		return ctl_err_set(e, EPROTO, "malformed answer from vmqd: %s", why);
	}
	*resp = obj;
	return 0;
}

int ctl_conn_call(struct ctl_conn *c, struct json_object *req, struct json_object **resp,
		  struct ctl_err *e)
{
	size_t len;
	char *line;
	int err;

	err = send_request(c, req, e);
	if (err == -EPIPE || err == -ECONNRESET) {
		/* vmqd may answer (EPERM, say) and close before reading the
		 * request: its answer is still there, and says more. */
		struct ctl_err ignored;

		if (receive_line(c, &line, &len, &ignored))
			return err;
	} else if (err || (err = receive_line(c, &line, &len, e))) {
		return err;
	}
	return parse_response(line, len, resp, e);
}

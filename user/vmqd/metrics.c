// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * /metrics: the `stats show` figures in the Prometheus text format 0.0.4.
 * libmicrohttpd speaks HTTP on one internal thread; this file binds the
 * listening socket itself (so a bind failure is reported with its errno),
 * takes d->lock only around vmqd_stats_collect, and renders outside it.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <microhttpd.h>

#include "log.h"
#include "metrics.h"
#include "util.h"

#define CONNECTIONS_MAX	  16 /* scrapers are few; the rest wait in the backlog */
#define CONNECTION_IDLE_S 10 /* a silent client gives its slot back */

struct vmqd_metrics {
	struct MHD_Daemon *mhd;
	struct vmqd *d;
	unsigned int port;
	char token[VMQD_METRICS_TOKEN_MAX + 1]; /* "": none asked for */
	char unix_path[108];			/* removed at stop; "": TCP */
};

/* --- HTTP ------------------------------------------------------------------ */

static enum MHD_Result answer(struct MHD_Connection *conn, unsigned int status, char *text,
			      size_t len, enum MHD_ResponseMemoryMode mode, const char *allow)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, text, mode);
	enum MHD_Result ret;

	if (!r) {
		if (mode == MHD_RESPMEM_MUST_FREE)
			free(text);
		return MHD_NO;
	}
	if (MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
				    status == MHD_HTTP_OK
					    ? VMQD_METRICS_CONTENT_TYPE
					    : "text/plain; charset=utf-8") != MHD_YES ||
	    (allow && MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow) != MHD_YES)) {
		MHD_destroy_response(r);
		return MHD_NO;
	}
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result fixed(struct MHD_Connection *conn, unsigned int status, const char *text,
			     const char *allow)
{
	return answer(conn, status, (char *)text, strlen(text), MHD_RESPMEM_PERSISTENT, allow);
}

static enum MHD_Result scrape(struct vmqd_metrics *m, struct MHD_Connection *conn)
{
	struct json_object *stats = NULL;
	const char *failed = "";
	char *text = NULL, msg[160];
	size_t len = 0;
	int err;

	pthread_mutex_lock(&m->d->lock);
	err = vmqd_stats_collect(m->d, NULL, &stats, &failed);
	if (err)
		snprintf(msg, sizeof(msg), "stats on %s: %s\n", failed, strerror(-err));
	pthread_mutex_unlock(&m->d->lock);
	if (err) {
		log_warn("/metrics: %s", msg);
		return answer(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, msg, strlen(msg),
			      MHD_RESPMEM_MUST_COPY, NULL);
	}
	err = vmqd_metrics_render(stats, &text, &len);
	json_object_put(stats);
	if (err)
		return fixed(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n", NULL);
	return answer(conn, MHD_HTTP_OK, text, len, MHD_RESPMEM_MUST_FREE, NULL);
}

#define UNAUTHORIZED                                                                               \
	"unauthorized: vmqd --metrics-token-file wants \"Authorization: Bearer TOKEN\"\n"

/* Compares all of it whatever differs first: the time taken says nothing
 * about the token. */
static bool same_secret(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned char diff = la != lb;

	for (size_t i = 0; i < la; i++)
		diff |= (unsigned char)(a[i] ^ b[i % (lb ? lb : 1)]);
	return !diff;
}

static bool authorized(struct vmqd_metrics *m, struct MHD_Connection *conn)
{
	const char *h;

	if (!m->token[0])
		return true;
	h = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	if (!h || strncasecmp(h, "Bearer ", 7))
		return false;
	h += 7;
	while (*h == ' ')
		h++;
	return same_secret(h, m->token);
}

/* Refusals go out at the first call, before any request body is read
 * (libmicrohttpd then closes the connection). A scrape waits for the
 * second call, when the whole request is in, so the connection can stay
 * open for the next one. */
static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
			      const char *method, const char *version, const char *upload_data,
			      size_t *upload_data_size, void **con_cls)
{
	static int request_seen;

	(void)version;
	(void)upload_data;
	if (strcmp(url, VMQD_METRICS_PATH) != 0)
		return fixed(conn, MHD_HTTP_NOT_FOUND,
			     "not found: vmqd serves " VMQD_METRICS_PATH "\n", NULL);
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return fixed(conn, MHD_HTTP_METHOD_NOT_ALLOWED,
			     "method not allowed: " VMQD_METRICS_PATH " answers GET\n",
			     "GET, HEAD");
	if (!authorized(cls, conn)) {
		struct MHD_Response *r = MHD_create_response_from_buffer(
			strlen(UNAUTHORIZED), (void *)UNAUTHORIZED, MHD_RESPMEM_PERSISTENT);
		enum MHD_Result ret;

		if (!r)
			return MHD_NO;
		if (MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
					    "Bearer realm=\"vmqd\"") != MHD_YES ||
		    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
					    "text/plain; charset=utf-8") != MHD_YES) {
			MHD_destroy_response(r);
			return MHD_NO;
		}
		ret = MHD_queue_response(conn, MHD_HTTP_UNAUTHORIZED, r);
		MHD_destroy_response(r);
		return ret;
	}
	if (!*con_cls) {
		*con_cls = &request_seen;
		return MHD_YES;
	}
	if (*upload_data_size) {
		*upload_data_size = 0; /* a GET with a body: ignored */
		return MHD_YES;
	}
	return scrape(cls, conn);
}

/* libmicrohttpd's messages come through vmqd's log, like libbpf's. */
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char line[512];

	(void)cls;
	vsnprintf(line, sizeof(line), fmt, ap);
	line[strcspn(line, "\n")] = '\0';
	log_warn("metrics: %s", line);
}

/* A Unix socket: born 0600 (umask), then given to the group; a stale one
 * (nobody listening) is replaced, anything else refused. */
static int listen_unix(const struct vmqd_metrics_addr *addr, int fd)
{
	const char *path = ((const struct sockaddr_un *)&addr->listen.ss)->sun_path;
	struct stat st;
	mode_t old;
	int err = 0;

	if (!lstat(path, &st)) {
		if (!S_ISSOCK(st.st_mode))
			return -EEXIST;
		if (!connect(fd, (const struct sockaddr *)&addr->listen.ss, addr->listen.len))
			return -EADDRINUSE;
		if (errno != ECONNREFUSED)
			return -errno;
		unlink(path);
	}
	old = umask(0177);
	if (bind(fd, (const struct sockaddr *)&addr->listen.ss, addr->listen.len))
		err = -errno;
	umask(old);
	if (!err && addr->group && (chown(path, 0, addr->gid) || chmod(path, 0660)))
		err = -errno;
	if (!err && listen(fd, 32))
		err = -errno;
	if (err && err != -EADDRINUSE)
		unlink(path);
	return err;
}

static int listen_on(const struct vmqd_metrics_addr *addr, int *fd_out)
{
	int fd = socket(addr->listen.ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1;

	if (fd < 0)
		return -errno;
	if (addr->listen.ss.ss_family == AF_UNIX) {
		int err = listen_unix(addr, fd);

		if (err) {
			close(fd);
			return err;
		}
		*fd_out = fd;
		return 0;
	}
	/* A restarted vmqd rebinds while old connections sit in TIME_WAIT;
	 * a port another socket listens on is still refused. */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, (const struct sockaddr *)&addr->listen.ss, addr->listen.len) ||
	    listen(fd, 32)) {
		int err = -errno;

		close(fd);
		return err;
	}
	*fd_out = fd;
	return 0;
}

static unsigned int bound_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	memset(&ss, 0, sizeof(ss));
	if (getsockname(fd, (struct sockaddr *)&ss, &len))
		return 0;
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

int vmqd_metrics_start(struct vmqd_metrics **out, struct vmqd *d,
		       const struct vmqd_metrics_addr *addr)
{
	unsigned int flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG;
	struct vmqd_metrics *m = calloc(1, sizeof(*m));
	int fd = -1, err;

	if (!m)
		return -ENOMEM;
	err = listen_on(addr, &fd);
	if (err) {
		log_err("--metrics %s: cannot listen: %s", addr->listen.text, strerror(-err));
		free(m);
		return err;
	}
	if (addr->listen.ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	m->d = d;
	if (addr->token)
		snprintf(m->token, sizeof(m->token), "%s", addr->token);
	if (addr->listen.ss.ss_family == AF_UNIX)
		strcpy(m->unix_path, ((const struct sockaddr_un *)&addr->listen.ss)->sun_path);
	else
		m->port = bound_port(fd);
	/* The port argument is ignored: the socket is ours, already bound. */
	m->mhd = MHD_start_daemon(flags, 0, NULL, NULL, handle, m, MHD_OPTION_EXTERNAL_LOGGER,
				  mhd_log, NULL, MHD_OPTION_LISTEN_SOCKET, fd,
				  MHD_OPTION_CONNECTION_LIMIT, (unsigned int)CONNECTIONS_MAX,
				  MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)CONNECTION_IDLE_S,
				  MHD_OPTION_END);
	if (!m->mhd) {
		/* Refused before it took the socket: MHD closes it only in stop. */
		log_err("--metrics %s: cannot start the HTTP server (libmicrohttpd)",
			addr->listen.text);
		close(fd);
		if (m->unix_path[0])
			unlink(m->unix_path);
		free(m);
		return -EIO;
	}
	if (m->unix_path[0])
		log_info("metrics on Unix socket %s (mode %s), path %s%s", m->unix_path,
			 addr->group ? "0660" : "0600", VMQD_METRICS_PATH,
			 m->token[0] ? ", bearer token required" : "");
	else
		log_info("metrics on http://%.*s:%u%s%s",
			 (int)(strrchr(addr->listen.text, ':') - addr->listen.text),
			 addr->listen.text, m->port, VMQD_METRICS_PATH,
			 m->token[0] ? ", bearer token required" : "");
	*out = m;
	return 0;
}

unsigned int vmqd_metrics_port(const struct vmqd_metrics *m)
{
	return m->port;
}

void vmqd_metrics_stop(struct vmqd_metrics *m)
{
	if (!m)
		return;
	MHD_stop_daemon(m->mhd);
	if (m->unix_path[0])
		unlink(m->unix_path);
	free(m);
}

int vmqd_metrics_read_token(const char *path, char *token, size_t size, char *why, size_t why_len)
{
	FILE *f = fopen(path, "re");
	char line[VMQD_METRICS_TOKEN_MAX + 2];
	size_t len;
	int err = 0;

	if (!f) {
		err = -errno;
		snprintf(why, why_len, "cannot read it: %s", strerror(errno));
		return err;
	}
	if (!fgets(line, sizeof(line), f))
		line[0] = '\0';
	fclose(f);
	len = strcspn(line, "\r\n");
	if (line[len] == '\0' && len > VMQD_METRICS_TOKEN_MAX) {
		snprintf(why, why_len, "the token is longer than %d bytes", VMQD_METRICS_TOKEN_MAX);
		return -EINVAL;
	}
	line[len] = '\0';
	if (!len || len >= size) {
		snprintf(why, why_len, "%s",
			 len ? "the token is too long" : "its first line is empty");
		return -EINVAL;
	}
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)line[i] <= ' ' || (unsigned char)line[i] >= 0x7f) {
			snprintf(why, why_len, "the token has a blank or a non-printable byte");
			return -EINVAL;
		}
	memcpy(token, line, len + 1);
	return 0;
}

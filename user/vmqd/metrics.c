// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * /metrics: the `stats show` figures in the Prometheus text format 0.0.4.
 * libmicrohttpd speaks HTTP on one internal thread; this file binds the
 * listening socket itself (so a bind failure is reported with its errno),
 * takes d->lock only around vmqd_stats_collect, and renders outside it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
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

/* --- [ADDR:]PORT --------------------------------------------------------- */

static int parse_port(const char *s, unsigned int *port)
{
	unsigned long v;
	char *end;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v < 1 || v > 65535)
		return -EINVAL;
	*port = (unsigned int)v;
	return 0;
}

int vmqd_metrics_parse_addr(const char *arg, struct vmqd_metrics_addr *out, char *why,
			    size_t why_len)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)&out->ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&out->ss;
	char host[INET6_ADDRSTRLEN + 2];
	const char *colon, *port_text = arg;
	unsigned int port;
	size_t host_len = 0;
	bool v6 = false;

	memset(out, 0, sizeof(*out));
	if (arg[0] == '/') {
		struct sockaddr_un *sun = (struct sockaddr_un *)&out->ss;

		if (strlen(arg) >= sizeof(sun->sun_path) || strlen(arg) >= sizeof(out->text)) {
			snprintf(why, why_len, "a Unix socket path must be shorter than %zu bytes",
				 sizeof(sun->sun_path));
			return -EINVAL;
		}
		sun->sun_family = AF_UNIX;
		strcpy(sun->sun_path, arg);
		out->len = sizeof(*sun);
		strcpy(out->text, arg);
		return 0;
	}
	if (arg[0] == '[') {
		const char *close = strchr(arg, ']');

		if (!close || close[1] != ':') {
			snprintf(why, why_len, "expected [IPV6]:PORT");
			return -EINVAL;
		}
		host_len = (size_t)(close - arg - 1);
		if (host_len >= sizeof(host)) {
			snprintf(why, why_len, "\"%.*s\": not an IPv6 address", (int)host_len,
				 arg + 1);
			return -EINVAL;
		}
		memcpy(host, arg + 1, host_len);
		port_text = close + 2;
		v6 = true;
	} else if ((colon = strrchr(arg, ':'))) {
		host_len = (size_t)(colon - arg);
		if (memchr(arg, ':', host_len)) {
			snprintf(why, why_len,
				 "an IPv6 address goes in brackets, as in [::1]:9300");
			return -EINVAL;
		}
		if (host_len >= sizeof(host)) {
			snprintf(why, why_len, "\"%.*s\": not an IPv4 address", (int)host_len, arg);
			return -EINVAL;
		}
		memcpy(host, arg, host_len);
		port_text = colon + 1;
	} else {
		host_len = strlen(VMQD_METRICS_ADDR_DEFAULT);
		memcpy(host, VMQD_METRICS_ADDR_DEFAULT, host_len);
	}
	host[host_len] = '\0';
	if (parse_port(port_text, &port)) {
		snprintf(why, why_len, "port \"%s\": expected a number 1..65535", port_text);
		return -EINVAL;
	}
	if (v6) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1) {
			snprintf(why, why_len, "\"%s\": not an IPv6 address", host);
			return -EINVAL;
		}
		out->len = sizeof(*sin6);
		snprintf(out->text, sizeof(out->text), "[%s]:%u", host, port);
	} else {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		if (inet_pton(AF_INET, host, &sin->sin_addr) != 1) {
			snprintf(why, why_len,
				 "\"%s\": not an IPv4 address (host names are not looked up)",
				 host);
			return -EINVAL;
		}
		out->len = sizeof(*sin);
		snprintf(out->text, sizeof(out->text), "%s:%u", host, port);
	}
	return 0;
}

/* --- rendering ------------------------------------------------------------- */

/* What one family's samples are read from. */
enum scope {
	SCOPE_DAEMON,	/* one sample, no labels */
	SCOPE_DEV,	/* per device: dev */
	SCOPE_QUEUE,	/* per device, per "queues" item: dev, queue, vm */
	SCOPE_TXQ,	/* per device, per "txqs" item: dev, txq */
	SCOPE_FALLBACK, /* per device, per "fallbacks" member: dev, reason */
};

struct family {
	const char *name;
	const char *type;
	enum scope scope;
	/* The value: item[key], or item[key][sub]; or value(item). */
	const char *key, *sub;
	bool (*value)(struct json_object *item, uint64_t *v);
	const char *help;
};

static bool get_u64(struct json_object *o, const char *key, const char *sub, uint64_t *v)
{
	struct json_object *x;

	if (!json_object_object_get_ex(o, key, &x))
		return false;
	if (sub && !json_object_object_get_ex(x, sub, &x))
		return false;
	/* json-c keeps large positives as uint64: get_int64 saturates them,
	 * so a negative int64 is the only thing to refuse. */
	if (!json_object_is_type(x, json_type_int) || json_object_get_int64(x) < 0)
		return false;
	*v = json_object_get_uint64(x);
	return true;
}

static bool is_live(struct json_object *q)
{
	return json_object_object_get_ex(q, "txq", NULL) ||
	       json_object_object_get_ex(q, "group", NULL);
}

static bool value_one(struct json_object *item, uint64_t *v)
{
	(void)item;
	*v = 1;
	return true;
}

static bool value_queue_live(struct json_object *q, uint64_t *v)
{
	*v = is_live(q);
	return true;
}

/* Counted like `dev show`'s live_queues: IDs 1 and up. `stats show` lists
 * every live queue, so counting its items is exact. */
static bool value_queues_live(struct json_object *dev, uint64_t *v)
{
	struct json_object *queues;
	size_t n;

	if (!json_object_object_get_ex(dev, "queues", &queues) ||
	    !json_object_is_type(queues, json_type_array))
		return false;
	n = json_object_array_length(queues);
	*v = 0;
	for (size_t i = 0; i < n; i++) {
		struct json_object *q = json_object_array_get_idx(queues, i);
		uint64_t id;

		if (get_u64(q, "id", NULL, &id) && id != 0 && is_live(q))
			(*v)++;
	}
	return true;
}

static const struct family families[] = {
	{ "vmq_up", "gauge", SCOPE_DAEMON, NULL, NULL, value_one, "1: vmqd answered this scrape." },
	{ "vmq_queues_live", "gauge", SCOPE_DEV, NULL, NULL, value_queues_live,
	  "VM queues (IDs 1 and up) with a TX queue or a group." },
	{ "vmq_queue_live", "gauge", SCOPE_QUEUE, NULL, NULL, value_queue_live,
	  "1 when the queue has a TX queue, a group or the kernel's choice; 0 when it was freed "
	  "and still has counters." },
	{ "vmq_queue_packets_total", "counter", SCOPE_QUEUE, "packets", NULL, NULL,
	  "Packets steered as this queue." },
	{ "vmq_queue_bytes_total", "counter", SCOPE_QUEUE, "bytes", NULL, NULL,
	  "Bytes steered as this queue." },
	{ "vmq_queue_fallback_packets_total", "counter", SCOPE_QUEUE, "fallback_packets", NULL,
	  NULL,
	  "Packets that carried this queue's ID while it was not live; they left on the default "
	  "queue." },
	{ "vmq_queue_fallback_bytes_total", "counter", SCOPE_QUEUE, "fallback_bytes", NULL, NULL,
	  "Bytes that carried this queue's ID while it was not live." },
	{ "vmq_txq_kernel_packets_total", "counter", SCOPE_TXQ, "kernel", "packets", NULL,
	  "Packets the kernel counted on this TX queue (its qdisc), from every sender." },
	{ "vmq_txq_kernel_bytes_total", "counter", SCOPE_TXQ, "kernel", "bytes", NULL,
	  "Bytes the kernel counted on this TX queue (its qdisc), from every sender." },
	{ "vmq_txq_bql_inflight_bytes", "gauge", SCOPE_TXQ, "bql_inflight", NULL, NULL,
	  "Bytes queued to the driver on this TX queue and not yet completed (BQL)." },
	{ "vmq_kernel_choice_packets_total", "counter", SCOPE_DEV, "kernel_choice", "packets", NULL,
	  "Packets whose TX queue vmq_tx left to the kernel (default queue set to auto)." },
	{ "vmq_kernel_choice_bytes_total", "counter", SCOPE_DEV, "kernel_choice", "bytes", NULL,
	  "Bytes whose TX queue vmq_tx left to the kernel." },
	{ "vmq_fallback_packets_total", "counter", SCOPE_FALLBACK, "packets", NULL, NULL,
	  "Packets that left on the default queue because their queue ID could not be used, by "
	  "reason." },
	{ "vmq_fallback_bytes_total", "counter", SCOPE_FALLBACK, "bytes", NULL, NULL,
	  "Bytes that left on the default queue because their queue ID could not be used, by "
	  "reason." },
};

/* Label values escape backslash, double quote and newline; HELP text
 * escapes backslash and newline. */
static void put_escaped(FILE *f, const char *s, bool quote)
{
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\\\", f);
		else if (*s == '\n')
			fputs("\\n", f);
		else if (*s == '"' && quote)
			fputs("\\\"", f);
		else
			fputc(*s, f);
	}
}

struct label {
	const char *name;
	const char *value; /* NULL: left out */
};

static void put_sample(FILE *f, const char *name, const struct label *labels, size_t nlabels,
		       uint64_t v)
{
	size_t shown = 0;

	fputs(name, f);
	for (size_t i = 0; i < nlabels; i++) {
		if (!labels[i].value)
			continue;
		fprintf(f, "%c%s=\"", shown++ ? ',' : '{', labels[i].name);
		put_escaped(f, labels[i].value, true);
		fputc('"', f);
	}
	if (shown)
		fputc('}', f);
	fprintf(f, " %" PRIu64 "\n", v);
}

static bool family_value(const struct family *fam, struct json_object *item, uint64_t *v)
{
	return fam->value ? fam->value(item, v) : get_u64(item, fam->key, fam->sub, v);
}

static const char *get_string(struct json_object *o, const char *key)
{
	return json_object_get_string(vmq_json_member(o, key, json_type_string));
}

/* Samples of one "queues" or "txqs" item array; id_key names the item. */
static size_t put_items(FILE *f, const struct family *fam, struct json_object *dev_obj,
			const char *dev, const char *list_key, const char *id_key,
			const char *id_label)
{
	struct json_object *items;
	size_t n, samples = 0;

	if (!json_object_object_get_ex(dev_obj, list_key, &items) ||
	    !json_object_is_type(items, json_type_array))
		return 0;
	n = json_object_array_length(items);
	for (size_t i = 0; i < n; i++) {
		struct json_object *item = json_object_array_get_idx(items, i);
		char id_text[24];
		uint64_t id, v;
		struct label labels[] = {
			{ "dev", dev },
			{ id_label, id_text },
			{ "vm", fam->scope == SCOPE_QUEUE ? get_string(item, "vm") : NULL },
		};

		if (!get_u64(item, id_key, NULL, &id) || !family_value(fam, item, &v))
			continue;
		snprintf(id_text, sizeof(id_text), "%" PRIu64, id);
		put_sample(f, fam->name, labels, 3, v);
		samples++;
	}
	return samples;
}

static size_t put_family_samples(FILE *f, const struct family *fam, struct json_object *devs)
{
	size_t n = devs ? json_object_array_length(devs) : 0, samples = 0;
	uint64_t v;

	if (fam->scope == SCOPE_DAEMON) {
		if (!family_value(fam, NULL, &v))
			return 0;
		put_sample(f, fam->name, NULL, 0, v);
		return 1;
	}
	for (size_t i = 0; i < n; i++) {
		struct json_object *dev_obj = json_object_array_get_idx(devs, i), *fb;
		const char *dev = get_string(dev_obj, "dev");
		struct label label = { "dev", dev };

		if (!dev)
			continue;
		switch (fam->scope) {
		case SCOPE_DEV:
			if (family_value(fam, dev_obj, &v)) {
				put_sample(f, fam->name, &label, 1, v);
				samples++;
			}
			break;
		case SCOPE_QUEUE:
			samples += put_items(f, fam, dev_obj, dev, "queues", "id", "queue");
			break;
		case SCOPE_TXQ:
			samples += put_items(f, fam, dev_obj, dev, "txqs", "txq", "txq");
			break;
		case SCOPE_FALLBACK:
			if (!json_object_object_get_ex(dev_obj, "fallbacks", &fb) ||
			    !json_object_is_type(fb, json_type_object))
				break;
			json_object_object_foreach(fb, reason, counters)
			{
				struct label labels[] = { { "dev", dev }, { "reason", reason } };

				if (family_value(fam, counters, &v)) {
					put_sample(f, fam->name, labels, 2, v);
					samples++;
				}
			}
			break;
		case SCOPE_DAEMON:
			break;
		}
	}
	return samples;
}

/* A family is written whole, HELP and TYPE first, and only when it has a
 * sample: figures the stats do not carry (the kernel's per-TX-queue ones on
 * an older vmqd) leave no empty family behind. */
int vmqd_metrics_render(struct json_object *stats, char **text, size_t *len)
{
	struct json_object *devs = NULL;
	char *out = NULL, *body = NULL;
	size_t out_len = 0, body_len = 0;
	FILE *f = open_memstream(&out, &out_len);
	int err = 0;

	if (!f)
		return -ENOMEM;
	if (!json_object_object_get_ex(stats, "devs", &devs) ||
	    !json_object_is_type(devs, json_type_array))
		devs = NULL;
	for (size_t i = 0; !err && i < ARRAY_SIZE(families); i++) {
		const struct family *fam = &families[i];
		FILE *b = open_memstream(&body, &body_len);
		size_t samples;

		if (!b) {
			err = -ENOMEM;
			break;
		}
		samples = put_family_samples(b, fam, devs);
		if (ferror(b))
			err = -ENOMEM;
		if (fclose(b))
			err = -ENOMEM;
		if (!err && samples) {
			fprintf(f, "# HELP %s ", fam->name);
			put_escaped(f, fam->help, false);
			fprintf(f, "\n# TYPE %s %s\n", fam->name, fam->type);
			fwrite(body, 1, body_len, f);
		}
		free(body);
		body = NULL;
	}
	if (ferror(f))
		err = -ENOMEM;
	if (fclose(f))
		err = -ENOMEM;
	if (err) {
		free(out);
		return err;
	}
	*text = out;
	*len = out_len;
	return 0;
}

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
	const char *path = ((const struct sockaddr_un *)&addr->ss)->sun_path;
	struct stat st;
	mode_t old;
	int err = 0;

	if (!lstat(path, &st)) {
		if (!S_ISSOCK(st.st_mode))
			return -EEXIST;
		if (!connect(fd, (const struct sockaddr *)&addr->ss, addr->len))
			return -EADDRINUSE;
		if (errno != ECONNREFUSED)
			return -errno;
		unlink(path);
	}
	old = umask(0177);
	if (bind(fd, (const struct sockaddr *)&addr->ss, addr->len))
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
	int fd = socket(addr->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1;

	if (fd < 0)
		return -errno;
	if (addr->ss.ss_family == AF_UNIX) {
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
	    bind(fd, (const struct sockaddr *)&addr->ss, addr->len) || listen(fd, 32)) {
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
		log_err("--metrics %s: cannot listen: %s", addr->text, strerror(-err));
		free(m);
		return err;
	}
	if (addr->ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	m->d = d;
	if (addr->token)
		snprintf(m->token, sizeof(m->token), "%s", addr->token);
	if (addr->ss.ss_family == AF_UNIX)
		strcpy(m->unix_path, ((const struct sockaddr_un *)&addr->ss)->sun_path);
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
		log_err("--metrics %s: cannot start the HTTP server (libmicrohttpd)", addr->text);
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
			 (int)(strrchr(addr->text, ':') - addr->text), addr->text, m->port,
			 VMQD_METRICS_PATH, m->token[0] ? ", bearer token required" : "");
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

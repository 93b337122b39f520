// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The state file: the desired state as the requests that rebuild it, so a
 * host reboot (which empties the bpffs) forgets nothing. The pins stay the
 * truth while they exist; the file is rewritten from them after every
 * change, atomically (temporary file, fsync, rename, fsync of the
 * directory): a crash at any moment leaves the old file or the new one.
 *
 * Format (docs/state.md): one JSON object per line,
 *   {"vmq_state": 1, "requests": N}
 *   N request lines {"object", "command", "args"[, "pending": true]}
 *   {"end": N}
 * A file that breaks this is refused whole, never overwritten.
 */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <net/if.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "balance.h"
#include "jsontext.h"
#include "log.h"
#include "vmqd.h"

#define STATE_VERSION 1

/* Where the snapshot's requests go, one at a time (emit owns req): an
 * array for "daemon save", or lines of text for the file, so that writing
 * the file never holds every request as an object at once. */
struct sink {
	int (*emit)(struct sink *s, struct json_object *req);
	struct json_object *array; /* array sink */
	FILE *text;		   /* text sink */
	size_t count;
};

static int emit_array(struct sink *s, struct json_object *req)
{
	vmqd_json_append(s->array, req);
	s->count++;
	return 0;
}

static int emit_text(struct sink *s, struct json_object *req)
{
	const char *line = req ? json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN) : NULL;
	int err = line && fprintf(s->text, "%s\n", line) >= 0 ? 0 : -ENOMEM;

	json_object_put(req);
	s->count += !err;
	return err;
}

static struct json_object *request(const char *object, const char *command,
				   struct json_object *args)
{
	struct json_object *req = vmqd_json_object();

	vmqd_json_add(req, "object", vmqd_json_string(object));
	vmqd_json_add(req, "command", vmqd_json_string(command));
	vmqd_json_add(req, "args", args);
	return req;
}

static struct json_object *dev_args(const struct vmqd_dev *dev)
{
	struct json_object *args = vmqd_json_object();

	vmqd_json_add(args, "dev", vmqd_json_string(dev->dp.ifname));
	return args;
}

/* A degraded entry is saved as what it waits for: that is the intent. */
static struct vmq_queue_entry intended(const struct vmq_queue_entry *e,
				       const struct vmq_queue_meta *meta, bool has_meta)
{
	if (has_meta && (meta->flags & VMQ_META_F_DEGRADED))
		return meta->want;
	return *e;
}

static void add_target(struct json_object *args, const struct vmq_queue_entry *e)
{
	if (e->state == VMQ_QUEUE_TXQ)
		vmqd_json_add(args, "txq", vmqd_json_int(e->target));
	else if (e->state == VMQ_QUEUE_GROUP)
		vmqd_json_add(args, "group", vmqd_json_int(e->target));
	else
		vmqd_json_add(args, "txq", vmqd_json_string("auto"));
}

static int snapshot_dev(struct vmqd_dev *dev, struct sink *out)
{
	struct vmq_queue_entry *entries = calloc(dev->dp.nr_queues, sizeof(*entries));
	struct vmq_queue_meta *metas = calloc(dev->dp.nr_queues, sizeof(*metas));
	bool *has_meta = calloc(dev->dp.nr_queues, sizeof(*has_meta));
	struct json_object *args;
	int err = entries && metas && has_meta ? vmq_queue_read_all(&dev->dp, entries) : -ENOMEM;

	if (!err)
		err = vmq_queue_meta_read_all(&dev->dp, metas, has_meta);
	if (err) {
		free(entries);
		free(metas);
		free(has_meta);
		return err;
	}
	args = dev_args(dev);
	{
		struct vmq_queue_entry def = intended(&entries[0], &metas[0], has_meta[0]);

		if (def.state == VMQ_QUEUE_TXQ)
			vmqd_json_add(args, "default_txq", vmqd_json_int(def.target));
		else
			vmqd_json_add(args, "default_txq", vmqd_json_string("auto"));
	}
	vmqd_json_add(args, "mark_mask", vmqd_json_int(dev->dp.cfg.mark_mask));
	vmqd_json_add(args, "queues", vmqd_json_int(dev->dp.nr_queues));
	{
		struct vmq_rx_status st = {};

		if (vmqd_rx_loaded(dev) && !vmq_rx_status(&dev->dp, &st) && st.attached)
			vmqd_json_add(args, "rx", vmqd_json_string("on"));
	}
	err = out->emit(out, request("dev", "attach", args));
	for (__u32 g = 0; !err && g < VMQ_GROUPS_MAX; g++) {
		struct vmq_group_entry ge;
		struct json_object *txqs;

		if (vmq_group_read(&dev->dp, g, &ge) || !ge.ntxqs)
			continue;
		args = dev_args(dev);
		vmqd_json_add(args, "id", vmqd_json_int(g));
		txqs = vmqd_json_array();
		for (__u16 i = 0; i < ge.ntxqs && i < VMQ_GROUP_TXQS_MAX; i++)
			vmqd_json_append(txqs, vmqd_json_int(ge.txqs[i]));
		vmqd_json_add(args, "txqs", txqs);
		err = out->emit(out, request("group", "add", args));
	}
	for (__u32 id = 1; !err && id < dev->dp.nr_queues; id++) {
		struct vmq_queue_entry e;

		if (entries[id].state == VMQ_QUEUE_FREE)
			continue;
		const struct vmq_queue_meta meta =
			has_meta[id] ? metas[id] : (struct vmq_queue_meta){};

		e = intended(&entries[id], &meta, has_meta[id]);
		args = dev_args(dev);
		vmqd_json_add(args, "id", vmqd_json_int(id));
		add_target(args, &e);
		if (meta.vm[0])
			vmqd_json_add(args, "vm", vmqd_json_string(meta.vm));
		if (meta.name[0])
			vmqd_json_add(args, "name", vmqd_json_string(meta.name));
		if ((meta.flags & VMQ_META_F_TXQ_AUTO) && e.state == VMQ_QUEUE_TXQ)
			vmqd_json_add(args, "placement", vmqd_json_string("auto"));
		if (meta.flags & VMQ_META_F_PORT_OWNED)
			vmqd_json_add(args, "owner", vmqd_json_string("port"));
		err = out->emit(out, request("queue", "add", args));
	}
	free(entries);
	free(metas);
	free(has_meta);
	return err;
}

/* The receive side's modes (after the bindings port mode needs) and
 * filters. */
static int snapshot_rx(struct vmqd_dev *dev, struct sink *out)
{
	struct json_object *filters = vmqd_json_array();
	struct vmq_queue_entry e;
	size_t n;
	int err = 0;

	for (__u32 id = 1; vmqd_rx_loaded(dev) && !err && id < dev->dp.nr_queues; id++) {
		struct vmq_rx_queue_entry rx;
		struct json_object *args;

		if (vmq_queue_read(&dev->dp, id, &e) || e.state == VMQ_QUEUE_FREE ||
		    vmq_rx_mode_get(&dev->dp, id, &rx, NULL) || rx.mode == VMQ_RX_MODE_PASS ||
		    !vmq_rx_mode_name(rx.mode))
			continue;
		args = dev_args(dev);
		vmqd_json_add(args, "id", vmqd_json_int(id));
		vmqd_json_add(args, "rx", vmqd_json_string(vmq_rx_mode_name(rx.mode)));
		if (rx.mode == VMQ_RX_MODE_CPU)
			vmqd_json_add(args, "cpu", vmqd_json_int(rx.cpu));
		err = out->emit(out, request("queue", "set", args));
	}
	if (!err)
		err = vmqd_filters_json(dev, filters);
	n = err ? 0 : json_object_array_length(filters);
	for (size_t i = 0; !err && i < n; i++) {
		struct json_object *f = json_object_array_get_idx(filters, i), *args, *v;

		args = dev_args(dev);
		vmqd_json_add(args, "queue", json_object_get(json_object_object_get(f, "queue")));
		vmqd_json_add(args, "mac", json_object_get(json_object_object_get(f, "mac")));
		if (json_object_object_get_ex(f, "vlan", &v))
			vmqd_json_add(args, "vlan", json_object_get(v));
		err = out->emit(out, request("filter", "add", args));
	}
	json_object_put(filters);
	return err;
}

struct ports_ctx {
	struct vmqd *d;
	struct sink *out;
};

static int snapshot_port(__u32 ifindex, const struct vmq_port_entry *e, void *arg)
{
	struct ports_ctx *ctx = arg;
	struct json_object *args;
	const char *uplink = NULL;
	char port[IF_NAMESIZE];

	/* A port that vanished is pruned; an uplink that is missing still
	 * has its name. */
	if (!if_indextoname(ifindex, port))
		return 0;
	for (size_t i = 0; i < ctx->d->ndevs; i++)
		if (ctx->d->devs[i]->dp.ifindex == (int)e->uplink_ifindex)
			uplink = ctx->d->devs[i]->dp.ifname;
	if (!uplink)
		return 0;
	args = vmqd_json_object();
	vmqd_json_add(args, "port", vmqd_json_string(port));
	vmqd_json_add(args, "dev", vmqd_json_string(uplink));
	vmqd_json_add(args, "queue", vmqd_json_int(e->queue_id));
	return ctx->out->emit(ctx->out, request("port", "bind", args));
}

static int snapshot(struct vmqd *d, struct sink *out)
{
	struct ports_ctx ctx = { .d = d, .out = out };
	int err = 0;

	for (size_t i = 0; !err && i < d->ndevs; i++)
		err = snapshot_dev(d->devs[i], out);
	if (!err && d->ports.map_fd >= 0)
		err = vmq_port_for_each(&d->ports, snapshot_port, &ctx);
	for (size_t i = 0; !err && i < d->ndevs; i++)
		err = snapshot_rx(d->devs[i], out);
	/* Policies last: replayed before the bindings, a policy would bind
	 * the ports first and take the saved queues' IDs. */
	for (size_t i = 0; !err && i < d->ndevs; i++) {
		struct json_object *args = dev_args(d->devs[i]);
		bool balance = vmqd_balance_state_args(d->devs[i], args);

		if (!d->devs[i]->ports[0] && !balance) {
			json_object_put(args);
			continue;
		}
		if (d->devs[i]->ports[0])
			vmqd_json_add(args, "ports", vmqd_json_string(d->devs[i]->ports));
		err = out->emit(out, request("dev", "set", args));
	}
	for (size_t i = 0; !err && i < d->npending; i++)
		err = out->emit(out, json_object_get(d->pending[i].req));
	return err;
}

int vmqd_state_snapshot(struct vmqd *d, struct json_object **requests)
{
	struct sink out = { .emit = emit_array, .array = vmqd_json_array() };
	int err = snapshot(d, &out);

	if (err) {
		json_object_put(out.array);
		return err;
	}
	*requests = out.array;
	return 0;
}

/* --- writing ------------------------------------------------------------- */

/* The file's text: header, one line per request, end line. */
static int render(struct vmqd *d, char **text, size_t *len)
{
	char *body = NULL;
	size_t body_len = 0;
	struct sink out = { .emit = emit_text };
	FILE *f;
	int err;

	out.text = open_memstream(&body, &body_len);
	if (!out.text)
		return -errno;
	err = snapshot(d, &out);
	if (fclose(out.text) && !err)
		err = -ENOMEM;
	f = err ? NULL : open_memstream(text, len);
	if (!err && !f)
		err = -errno;
	if (f) {
		fprintf(f, "{\"vmq_state\":%d,\"requests\":%zu}\n", STATE_VERSION, out.count);
		fwrite(body, 1, body_len, f);
		fprintf(f, "{\"end\":%zu}\n", out.count);
		if (ferror(f))
			err = -ENOMEM;
		if (fclose(f) && !err)
			err = -ENOMEM;
	}
	free(body);
	return err;
}

static int write_atomically(const char *dir, const char *text, size_t len)
{
	char path[PATH_MAX], tmp[PATH_MAX];
	int fd, dfd, err;

	if (snprintf(path, sizeof(path), "%s/%s", dir, VMQD_STATE_FILE) >= (int)sizeof(path) ||
	    snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", dir, VMQD_STATE_FILE) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	err = vmq_mkdir_p(dir, 0700);
	if (err)
		return err;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	err = vmq_write_all(fd, text, len, false);
	if (!err && fsync(fd))
		err = -errno;
	if (close(fd) && !err)
		err = -errno;
	if (!err && rename(tmp, path))
		err = -errno;
	if (err) {
		unlink(tmp);
		return err;
	}
	/* The rename itself must reach the disk. */
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	if (fsync(dfd))
		err = -errno;
	close(dfd);
	return err;
}

int vmqd_state_flush(struct vmqd *d, bool force)
{
	size_t len = 0;
	char *text = NULL;
	int err;

	if (!d->state_dir || d->restoring || (!force && !d->state_dirty))
		return 0;
	err = render(d, &text, &len);
	if (!err)
		err = write_atomically(d->state_dir, text, len);
	free(text);
	/* The snapshot's small allocations add up with thousands of queues:
	 * give the heap back rather than keep its peak for good. */
	malloc_trim(0);
	if (err) {
		log_err("%s/%s: cannot write the state file: %s", d->state_dir, VMQD_STATE_FILE,
			strerror(-err));
		return err;
	}
	d->state_dirty = false;
	return 0;
}

/* --- reading -------------------------------------------------------------- */

static bool is_string(struct json_object *o, const char *key)
{
	return vmq_json_member(o, key, json_type_string) != NULL;
}

static int64_t int_of(struct json_object *o, const char *key)
{
	struct json_object *v = vmq_json_member(o, key, json_type_int);

	if (!v)
		return -1;
	return json_object_get_int64(v);
}

/* Parses one line; NULL unless it is a JSON object and nothing more. */
static struct json_object *parse_line(const char *line, size_t len)
{
	struct json_tokener *tok;
	struct json_object *o;
	const char *why;
	size_t off;

	/* As strict as a request: the lines are replayed as requests. */
	if (len > INT32_MAX || vmq_json_check(line, len, &off, &why))
		return NULL;
	tok = json_tokener_new();
	if (!tok)
		return NULL;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	o = json_tokener_parse_ex(tok, line, (int)len);
	if (o && ((size_t)json_tokener_get_parse_end(tok) != len ||
		  !json_object_is_type(o, json_type_object))) {
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tok);
	return o;
}

/*
 * Loads the file into an array of requests. -ENOENT when there is none;
 * -EINVAL for a broken one, with *bad_line and why set.
 */
static int load(const char *path, struct json_object **requests, int *bad_line, char *why,
		size_t size)
{
	FILE *f = fopen(path, "re");
	struct json_object *out = NULL;
	size_t cap = 0;
	char *line = NULL;
	ssize_t len;
	int64_t expect = -1;
	int lineno = 0, err = 0;
	bool ended = false;

	if (!f)
		return -errno;
	out = vmqd_json_array();
	while (!err && (len = getline(&line, &cap, f)) >= 0) {
		struct json_object *o;

		lineno++;
		if (!len || line[len - 1] != '\n') {
			snprintf(why, size, "truncated (no end of line)");
			err = -EINVAL;
			break;
		}
		line[--len] = '\0';
		if (ended) {
			snprintf(why, size, "data after the end line");
			err = -EINVAL;
			break;
		}
		o = parse_line(line, (size_t)len);
		if (!o) {
			snprintf(why, size, "not a JSON object");
			err = -EINVAL;
		} else if (lineno == 1) {
			expect = int_of(o, "requests");
			if (int_of(o, "vmq_state") != STATE_VERSION || expect < 0) {
				snprintf(why, size, "not a vmqd state file of version %d",
					 STATE_VERSION);
				err = -EINVAL;
			}
			json_object_put(o);
		} else if (json_object_object_get_ex(o, "end", NULL)) {
			if (int_of(o, "end") != expect ||
			    (int64_t)json_object_array_length(out) != expect) {
				snprintf(why, size, "end line says %lld requests, the file has %zu",
					 (long long)int_of(o, "end"),
					 json_object_array_length(out));
				err = -EINVAL;
			}
			ended = true;
			json_object_put(o);
		} else if (!is_string(o, "object") || !is_string(o, "command") ||
			   (json_object_object_get_ex(o, "args", NULL) &&
			    !json_object_is_type(json_object_object_get(o, "args"),
						 json_type_object))) {
			snprintf(why, size, "not a request (object, command, args)");
			json_object_put(o);
			err = -EINVAL;
		} else {
			vmqd_json_append(out, o);
		}
	}
	if (!err && !ended) {
		lineno++;
		snprintf(why, size, lineno == 1 ? "empty" : "truncated (no end line)");
		err = -EINVAL;
	}
	free(line);
	fclose(f);
	if (err) {
		*bad_line = lineno;
		json_object_put(out);
		return err;
	}
	*requests = out;
	return 0;
}

static bool names(struct json_object *req, const char *ifname)
{
	struct json_object *args = json_object_object_get(req, "args");

	return (is_string(args, "dev") &&
		!strcmp(json_object_get_string(json_object_object_get(args, "dev")), ifname)) ||
	       (is_string(args, "port") &&
		!strcmp(json_object_get_string(json_object_object_get(args, "port")), ifname));
}

static int pend(struct vmqd *d, struct json_object *req)
{
	struct vmqd_pending *p = reallocarray(d->pending, d->npending + 1, sizeof(*p));

	if (!p)
		return -ENOMEM;
	d->pending = p;
	vmqd_json_add(req, "pending", vmqd_json_bool(1));
	d->pending[d->npending++].req = json_object_get(req);
	return 0;
}

/* A copy without the envelope fields vmqd_run adds or the file carries. */
static struct json_object *bare(struct json_object *req)
{
	struct json_object *copy = NULL;

	if (json_object_deep_copy(req, &copy, NULL))
		return NULL;
	json_object_object_del(copy, "pending");
	json_object_object_del(copy, "version");
	return copy;
}

/* Runs one saved request: 1 applied, 0 still waiting for a device, -errno
 * refused for another reason (logged). */
static int replay(struct vmqd *d, struct json_object *req, const char *where)
{
	struct json_object *run = bare(req);
	char message[256] = "";
	int err;

	if (!run) {
		log_err("%s: not restored: out of memory", where);
		return -ENOMEM;
	}
	d->replaying = true;
	err = vmqd_run(d, run, NULL, message, sizeof(message));
	d->replaying = false;
	json_object_put(run);
	if (!err)
		return 1;
	if (err == -ENODEV)
		return 0;
	log_warn("%s: not restored, kept in the state file: %s", where, message);
	return err;
}

/* After replaying: saved targets beyond today's TX queues are degraded
 * (once per device, not per request: each pass reads the whole map). */
static void reconcile_all(struct vmqd *d)
{
	for (size_t i = 0; i < d->ndevs; i++) {
		unsigned int changed = 0;

		if (!d->devs[i]->missing && vmqd_reconcile(d->devs[i], &changed))
			log_warn("dev %s: cannot reconcile its restored queues",
				 d->devs[i]->dp.ifname);
	}
}

static void pending_drop(struct vmqd *d, size_t i)
{
	json_object_put(d->pending[i].req);
	memmove(&d->pending[i], &d->pending[i + 1], (d->npending - i - 1) * sizeof(*d->pending));
	d->npending--;
}

size_t vmqd_state_forget(struct vmqd *d, const char *key, const char *ifname,
			 void (*dropped_fn)(struct vmqd *d, struct json_object *req))
{
	size_t dropped = 0;

	for (size_t i = 0; i < d->npending;) {
		struct json_object *req = d->pending[i].req;
		struct json_object *args = json_object_object_get(req, "args");

		if (is_string(args, key) &&
		    !strcmp(json_object_get_string(json_object_object_get(args, key)), ifname)) {
			json_object_get(req);
			pending_drop(d, i);
			if (dropped_fn)
				dropped_fn(d, req);
			json_object_put(req);
			dropped++;
		} else {
			i++;
		}
	}
	if (dropped)
		d->state_dirty = true;
	return dropped;
}

void vmqd_state_link_appeared(struct vmqd *d, const char *ifname)
{
	bool any = false;

	for (size_t i = 0; i < d->npending;) {
		struct json_object *req = d->pending[i].req;
		char where[64];
		int rc;

		if (!names(req, ifname)) {
			i++;
			continue;
		}
		snprintf(where, sizeof(where), "%s %s (waited for %s)",
			 json_object_get_string(json_object_object_get(req, "object")),
			 json_object_get_string(json_object_object_get(req, "command")), ifname);
		rc = replay(d, req, where);
		/* Applied, or there already: done. Refused for another reason:
		 * kept, so the file still says what was wanted. */
		if (rc > 0 || rc == -EEXIST) {
			if (rc > 0)
				log_info("%s: restored", where);
			pending_drop(d, i);
			any = true;
		} else {
			i++;
		}
	}
	if (any) {
		reconcile_all(d);
		d->state_dirty = true;
	}
}

int vmqd_state_restore(struct vmqd *d, bool adopted)
{
	struct json_object *requests = NULL;
	char path[PATH_MAX], why[128] = "";
	size_t n, restored = 0;
	int bad_line = 0, err;

	if (!d->state_dir)
		return 0;
	snprintf(path, sizeof(path), "%s/%s", d->state_dir, VMQD_STATE_FILE);
	err = load(path, &requests, &bad_line, why, sizeof(why));
	if (err == -ENOENT) {
		log_info("%s: no state file yet; it is written at the first change", path);
		return adopted ? vmqd_state_flush(d, true) : 0;
	}
	if (err == -EINVAL) {
		log_err("%s:%d: %s; refusing to start (the file is left as it is: repair or "
			"remove it)",
			path, bad_line, why);
		return err;
	}
	if (err) {
		log_err("%s: cannot read: %s", path, strerror(-err));
		return err;
	}
	n = json_object_array_length(requests);
	d->restoring = true;
	for (size_t i = 0; i < n; i++) {
		struct json_object *req = json_object_array_get_idx(requests, i);
		struct json_object *pending = json_object_object_get(req, "pending");
		bool policy =
			!strcmp(json_object_get_string(json_object_object_get(req, "object")),
				"dev") &&
			!strcmp(json_object_get_string(json_object_object_get(req, "command")),
				"set");
		char where[PATH_MAX + 16];
		int rc;

		/* With pins, the pins are the truth: only what no map holds
		 * (port policies, requests still waiting) comes from the file. */
		if (adopted && !policy && !json_object_get_boolean(pending))
			continue;
		snprintf(where, sizeof(where), "%s:%zu", path, i + 2);
		rc = replay(d, req, where);
		if (rc > 0)
			restored++;
		/* What did not apply is kept, never dropped from the file: an
		 * absent device waits for it, anything else for the operator
		 * ("vmqctl save" lists it as pending). */
		else if (rc != -EEXIST && (err = pend(d, req)))
			break;
	}
	d->restoring = false;
	json_object_put(requests);
	reconcile_all(d);
	if (err)
		return err;
	log_info("%s: %zu request(s) restored, %zu waiting", path, restored, d->npending);
	/* Serving beats stopping on a full or read-only disk: the next change
	 * tries again, and the failure is logged. */
	vmqd_state_flush(d, true);
	return 0;
}

void vmqd_state_fini(struct vmqd *d)
{
	for (size_t i = 0; i < d->npending; i++)
		json_object_put(d->pending[i].req);
	free(d->pending);
	d->pending = NULL;
	d->npending = 0;
}

// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Reading a request's arguments: the daemon trusts no client's checks. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "jsontext.h"
#include "proto.h"
#include "vmqd.h"

int vmqd_reply_error(struct vmqd_reply *r, int err, const char *fmt, ...)
{
	char text[4 * sizeof(r->message)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	/* The answer is JSON: valid UTF-8, cut between characters, whatever
	 * bytes a client string brought in. */
	vmq_utf8_copy(r->message, sizeof(r->message), text, strlen(text));
	r->err = err;
	return -err;
}

const char *vmqd_req_quote(const char *s, char *buf, size_t size)
{
	size_t len = strlen(s), used = vmq_utf8_copy(buf, size, s, len);

	if (used < len && size > 4) {
		/* Room for the ellipsis: cut again, a character earlier if need be. */
		vmq_utf8_copy(buf, size - 3, s, len);
		strcat(buf, "...");
	}
	return buf;
}

bool vmqd_req_has(struct json_object *args, const char *key)
{
	return json_object_object_get_ex(args, key, NULL);
}

int vmqd_req_check_keys(struct json_object *args, const char *const *keys, const char *what,
			struct vmqd_reply *r)
{
	json_object_object_foreach(args, key, val)
	{
		const char *const *k = keys;

		(void)val;
		while (*k && strcmp(*k, key))
			k++;
		if (!*k) {
			char q[VMQD_REQ_QUOTE_SIZE];

			return vmqd_reply_error(r, EINVAL, "%s: unknown argument \"%s\"", what,
						vmqd_req_quote(key, q, sizeof(q)));
		}
	}
	return 0;
}

int vmqd_req_u32(struct json_object *args, const char *key, __u32 max, const char *what,
		 struct vmqd_reply *r, __u32 *out)
{
	return vmqd_req_u32_range(args, key, 0, max, what, r, out);
}

/* args[key], required, of that type (an integer or a string). */
static int req_typed(struct json_object *args, const char *key, enum json_type type,
		     const char *what, struct vmqd_reply *r, struct json_object **v)
{
	if (!json_object_object_get_ex(args, key, v))
		return vmqd_reply_error(r, EINVAL, "%s: %s is required", what, key);
	if (!json_object_is_type(*v, type))
		return vmqd_reply_error(r, EINVAL, "%s: %s must be %s", what, key,
					type == json_type_int ? "an integer" : "a string");
	return 0;
}

int vmqd_req_u32_range(struct json_object *args, const char *key, __u32 min, __u32 max,
		       const char *what, struct vmqd_reply *r, __u32 *out)
{
	struct json_object *v;
	int64_t n;
	int err;

	err = req_typed(args, key, json_type_int, what, r, &v);
	if (err)
		return err;
	errno = 0;
	n = json_object_get_int64(v);
	/* json-c clamps beyond int64 and says so in errno. */
	if (errno || n < (int64_t)min || (uint64_t)n > max)
		return vmqd_reply_error(r, ERANGE, "%s: %s %s out of range (%u..%u)", what, key,
					json_object_to_json_string(v), min, max);
	*out = (__u32)n;
	return 0;
}

/* Names: printable ASCII, no spaces, 1..max_len bytes. */
int vmqd_req_name(struct json_object *args, const char *key, size_t max_len, const char *what,
		  struct vmqd_reply *r, const char **out)
{
	struct json_object *v;
	const char *s;
	size_t len;
	int err;

	err = req_typed(args, key, json_type_string, what, r, &v);
	if (err)
		return err;
	s = json_object_get_string(v);
	len = (size_t)json_object_get_string_len(v);
	if (!len || len > max_len || strlen(s) != len)
		return vmqd_reply_error(r, EINVAL, "%s: %s must be 1 to %zu bytes", what, key,
					max_len);
	for (size_t i = 0; i < len; i++)
		if (!isgraph((unsigned char)s[i]) || s[i] == '/')
			return vmqd_reply_error(r, EINVAL,
						"%s: %s has a space, '/' or non-printable byte",
						what, key);
	*out = s;
	return 0;
}

/* What the kernel's dev_valid_name() takes, and printable: if_nametoindex()
 * would find "eth0" for "eth0:1" (an alias), and "." or ".." would be
 * paths under the pin directory. */
int vmqd_req_ifname(struct json_object *args, const char *key, const char *what,
		    struct vmqd_reply *r, const char **out)
{
	const char *s = "";
	int err = vmqd_req_name(args, key, IF_NAMESIZE - 1, what, r, &s);

	if (err)
		return err;
	if (strchr(s, ':') || !strcmp(s, ".") || !strcmp(s, ".."))
		return vmqd_reply_error(r, EINVAL, "%s: %s \"%s\" is not an interface name", what,
					key, s);
	*out = s;
	return 0;
}

int vmqd_req_dev(struct vmqd *d, struct json_object *args, const char *what, struct vmqd_reply *r,
		 struct vmqd_dev **dev)
{
	const char *name = "";
	int err = vmqd_req_ifname(args, "dev", what, r, &name);

	if (err)
		return err;
	*dev = vmqd_find_dev(d, name);
	if (!*dev) {
		if (!if_nametoindex(name))
			return vmqd_reply_error(r, ENODEV, "dev %s: no such device", name);
		return vmqd_reply_error(r, ENOENT,
					"dev %s: not attached (try \"vmqctl dev attach %s\")", name,
					name);
	}
	return 0;
}

/* The device of "OBJECT CMD"; WHAT then reads "OBJECT CMD on DEV" for the messages that
 * follow. */
int vmqd_req_dev_what(struct vmqd *d, struct json_object *args, const char *object, const char *cmd,
		      char *what, size_t size, struct vmqd_reply *r, struct vmqd_dev **dev)
{
	int err;

	snprintf(what, size, "%s %s", object, cmd);
	err = vmqd_req_dev(d, args, what, r, dev);
	if (!err)
		snprintf(what, size, "%s %s on %s", object, cmd, (*dev)->dp.ifname);
	return err;
}

int vmqd_dev_txqs(struct vmqd_dev *dev, struct vmqd_reply *r, const char *what, unsigned int *ntxqs)
{
	int err = vmq_netdev_txqs(dev->dp.ifname, ntxqs);

	if (err)
		return vmqd_reply_error(r, -err, "%s: cannot read TX queues of %s: %s", what,
					dev->dp.ifname, strerror(-err));
	return 0;
}

unsigned int vmqd_txq_limit(const struct vmqd *d, unsigned int ntxqs)
{
	return d->replaying ? VMQ_TXQ_MAX : ntxqs;
}

int vmqd_req_txq(struct vmqd *d, struct json_object *args, struct vmqd_dev *dev, const char *what,
		 struct vmqd_reply *r, __u16 *txq)
{
	/* The analyzer cannot see that vmqd_reply_error never returns 0. */
	unsigned int ntxqs = 0;
	__u32 n = 0;
	int err;

	err = vmqd_req_u32(args, "txq", 0xffffffffU, what, r, &n);
	if (!err)
		err = vmqd_dev_txqs(dev, r, what, &ntxqs);
	if (err)
		return err;
	if (n >= vmqd_txq_limit(d, ntxqs))
		return vmqd_reply_error(r, ERANGE, "%s: txq %u out of range (%s has %u TX queues)",
					what, n, dev->dp.ifname, ntxqs);
	*txq = (__u16)n;
	return 0;
}

struct json_object *vmqd_json_entry_target(const struct vmq_queue_entry *e, struct json_object *o)
{
	switch (e->state) {
	case VMQ_QUEUE_TXQ:
		vmqd_json_add(o, "txq", vmqd_json_int(e->target));
		break;
	case VMQ_QUEUE_GROUP:
		vmqd_json_add(o, "group", vmqd_json_int(e->target));
		break;
	case VMQ_QUEUE_KERNEL:
		vmqd_json_add(o, "txq", vmqd_json_string("auto"));
		break;
	default:
		break;
	}
	return o;
}

/* A degraded queue: flagged, with the target it waits to get back. */
struct json_object *vmqd_json_degraded(const struct vmq_queue_meta *meta, struct json_object *o)
{
	vmqd_json_add(o, "degraded", vmqd_json_bool(1));
	if (meta->want.state == VMQ_QUEUE_GROUP)
		vmqd_json_add(o, "want_group", vmqd_json_int(meta->want.target));
	else if (meta->want.state == VMQ_QUEUE_TXQ)
		vmqd_json_add(o, "want_txq", vmqd_json_int(meta->want.target));
	return o;
}

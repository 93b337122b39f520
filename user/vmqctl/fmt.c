// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Reading result members for text output. Lenient on purpose: a field a
 * newer or older vmqd leaves out prints as "-" instead of failing. */
#include <stdlib.h>
#include <string.h>

#include "show.h"
#include "util.h"

#define member vmq_json_member

const char *ctl_jstr(struct json_object *obj, const char *key)
{
	struct json_object *val = member(obj, key, json_type_string);

	return val ? json_object_get_string(val) : NULL;
}

struct json_object *ctl_jarray(struct json_object *obj, const char *key)
{
	return member(obj, key, json_type_array);
}

struct json_object *ctl_jobject(struct json_object *obj, const char *key)
{
	return member(obj, key, json_type_object);
}

bool ctl_jhas_int(struct json_object *obj, const char *key)
{
	return member(obj, key, json_type_int) != NULL;
}

const char *ctl_jnum(struct json_object *obj, const char *key)
{
	struct json_object *val = member(obj, key, json_type_int);

	/* json-c keeps int64 and uint64 apart; its own text is exact for both. */
	return val ? json_object_get_string(val) : "-";
}

void ctl_fmt_count(struct json_object *obj, const char *key, char *buf, size_t size)
{
	struct json_object *arr = ctl_jarray(obj, key);

	if (arr)
		snprintf(buf, size, "%zu", json_object_array_length(arr));
	else
		snprintf(buf, size, "%s", ctl_jnum(obj, key));
}

void ctl_fmt_target(struct json_object *queue, char *buf, size_t size)
{
	struct json_object *degraded = member(queue, "degraded", json_type_boolean);
	const char *word = ctl_jstr(queue, "txq");

	/* Degraded: its TX queue is gone (the device has fewer now) and it
	 * uses the default queue until it comes back; show what it wants. */
	if (degraded && json_object_get_boolean(degraded)) {
		if (member(queue, "want_txq", json_type_int))
			snprintf(buf, size, "txq %s (degraded)", ctl_jnum(queue, "want_txq"));
		else if (member(queue, "want_group", json_type_int))
			snprintf(buf, size, "group %s (degraded)", ctl_jnum(queue, "want_group"));
		else
			snprintf(buf, size, "degraded");
	} else if (word) { /* "auto": queue 0 leaves the choice to the kernel */
		snprintf(buf, size, "%s", word);
	} else if (member(queue, "txq", json_type_int)) {
		snprintf(buf, size, "txq %s", ctl_jnum(queue, "txq"));
	} else if (member(queue, "group", json_type_int)) {
		snprintf(buf, size, "group %s", ctl_jnum(queue, "group"));
	} else {
		snprintf(buf, size, "-");
	}
}

const char *ctl_cell_target(struct json_object *queue, char *buf, size_t size)
{
	ctl_fmt_target(queue, buf, size);
	return buf;
}

/* Where a queue's received frames go: "cpu 1", "port tap0", "pass"; "-"
 * when the device's receive side is not loaded. */
const char *ctl_cell_rx(struct json_object *q, char *buf, size_t size)
{
	const char *rx = ctl_jstr(q, "rx"), *port = ctl_jstr(q, "rx_port");

	if (!rx)
		return "-";
	if (!strcmp(rx, "cpu"))
		snprintf(buf, size, "cpu %s", ctl_jnum(q, "rx_cpu"));
	else if (!strcmp(rx, "port"))
		snprintf(buf, size, "port %s", port ? port : "-");
	else
		snprintf(buf, size, "%s", rx);
	return buf;
}

/* A number member as a rate with one decimal, else "-". */
const char *ctl_fmt_rate(struct json_object *obj, const char *key, char *buf, size_t size)
{
	struct json_object *val;

	if (!json_object_object_get_ex(obj, key, &val) ||
	    !(json_object_is_type(val, json_type_double) ||
	      json_object_is_type(val, json_type_int)))
		return "-";
	snprintf(buf, size, "%.1f", json_object_get_double(val));
	return buf;
}

char *ctl_fmt_int_list(struct json_object *arr)
{
	size_t n = arr ? json_object_array_length(arr) : 0, len = 0;
	char *text;

	if (!n)
		return strdup("-");
	/* 20 digits and a comma per element at most */
	text = malloc(n * 21 + 1);
	if (!text)
		return NULL;
	text[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		struct json_object *v = json_object_array_get_idx(arr, i);

		len += (size_t)sprintf(
			text + len, "%s%s", i ? "," : "",
			json_object_is_type(v, json_type_int) ? json_object_get_string(v) : "?");
	}
	return text;
}

/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Text presentation shared by the object printers: aligned tables, and
 * JSON members read leniently (a missing member prints as "-"). */
#ifndef VMQCTL_SHOW_H
#define VMQCTL_SHOW_H

#include <stdbool.h>
#include <stdio.h>
#include <json-c/json.h>

enum ctl_align {
	CTL_LEFT,
	CTL_RIGHT, /* numbers */
};

/* A cell made from its row: returns buf, or a constant. */
typedef const char *ctl_cell_fn(struct json_object *row, char *buf, size_t size);

/* A column, declared once: its header, and what it shows of each row: the
 * member key (a string, an integer, or integers as "1,2,3"; absent: "-";
 * "a.b" is member b of object member a), as a rate with one decimal when
 * rate is set, or what cell makes of the row. */
struct ctl_column {
	const char *header;
	const char *key;
	ctl_cell_fn *cell;
	enum ctl_align align;
	bool rate;
};

struct ctl_table {
	const struct ctl_column *cols;
	size_t ncols;
	char **cells; /* row-major, nrows * ncols */
	size_t nrows;
	size_t cap;
	int err; /* first failure, kept so that callers add rows without checks */
};

void ctl_table_init(struct ctl_table *t, const struct ctl_column *cols, size_t ncols);
/* Copies ncols strings. */
void ctl_table_add(struct ctl_table *t, const char *const *cells);
/* Header and rows, columns two spaces apart, each line after indent.
 * Prints nothing for a table without rows. Returns the first error. */
int ctl_table_print(const struct ctl_table *t, FILE *out, const char *indent);
void ctl_table_free(struct ctl_table *t);
/* rows (a JSON array of objects, or NULL) as a table of cols, each line
 * after indent: the init, add, print and free of every listing. */
int ctl_print_rows(FILE *out, const char *indent, const struct ctl_column *cols, size_t ncols,
		   struct json_object *rows);

/* Members of a JSON object, NULL when absent or of another type. */
const char *ctl_jstr(struct json_object *obj, const char *key);
struct json_object *ctl_jarray(struct json_object *obj, const char *key);
struct json_object *ctl_jobject(struct json_object *obj, const char *key);
/* Whether key is an integer member. */
bool ctl_jhas_int(struct json_object *obj, const char *key);
/* An integer member as decimal text (exact for all of u64), else "-". */
const char *ctl_jnum(struct json_object *obj, const char *key);
/* A count: an integer member, or the length of an array member; else "-". */
void ctl_fmt_count(struct json_object *obj, const char *key, char *buf, size_t size);
/* Where a queue steers: "txq 3", "group 2", "auto", "txq 6 (degraded)"
 * (wants TX queue 6, gone for now), or "-". */
void ctl_fmt_target(struct json_object *queue, char *buf, size_t size);
/* ctl_fmt_target as a column's cell. */
ctl_cell_fn ctl_cell_target;
/* "cpu 1", "port tap0", "pass": a queue's receive mode; "-" without one. */
ctl_cell_fn ctl_cell_rx;
/* A number member as a rate, "1234.5"; "-" when absent. Returns buf or "-". */
const char *ctl_fmt_rate(struct json_object *obj, const char *key, char *buf, size_t size);
/* An array of integers as "1,2,3", "-" when empty; NULL when out of memory. */
char *ctl_fmt_int_list(struct json_object *arr);

#endif /* VMQCTL_SHOW_H */

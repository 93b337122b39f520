// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Aligned text tables, like the readable columns of ip and tc. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "show.h"

/* Room for a computed cell: "txq 1023 (degraded)", a hex mask, a count. */
#define CTL_CELL_MAX 48

void ctl_table_init(struct ctl_table *t, const struct ctl_column *cols, size_t ncols)
{
	memset(t, 0, sizeof(*t));
	t->cols = cols;
	t->ncols = ncols;
}

void ctl_table_add(struct ctl_table *t, const char *const *cells)
{
	size_t base = t->nrows * t->ncols;

	if (t->err)
		return;
	if (t->nrows == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		char **grown = realloc(t->cells, cap * t->ncols * sizeof(*grown));

		if (!grown) {
			t->err = -ENOMEM;
			return;
		}
		t->cells = grown;
		t->cap = cap;
	}
	for (size_t c = 0; c < t->ncols; c++) {
		t->cells[base + c] = strdup(cells[c] ? cells[c] : "-");
		if (!t->cells[base + c]) {
			while (c--)
				free(t->cells[base + c]);
			t->err = -ENOMEM;
			return;
		}
	}
	t->nrows++;
}

static void print_row(const struct ctl_table *t, FILE *out, const char *indent,
		      const char *const *cells, const size_t *width)
{
	fputs(indent, out);
	for (size_t c = 0; c < t->ncols; c++) {
		int pad = (int)(width[c] - strlen(cells[c]));
		bool last = c + 1 == t->ncols;

		if (t->cols[c].align == CTL_RIGHT)
			fprintf(out, "%*s%s", pad, "", cells[c]);
		else /* no trailing blanks after the last column */
			fprintf(out, "%s%*s", cells[c], last ? 0 : pad, "");
		fputs(last ? "\n" : "  ", out);
	}
}

int ctl_table_print(const struct ctl_table *t, FILE *out, const char *indent)
{
	const char *headers[t->ncols ? t->ncols : 1];
	size_t width[t->ncols ? t->ncols : 1];

	if (t->err || !t->nrows)
		return t->err;
	for (size_t c = 0; c < t->ncols; c++) {
		headers[c] = t->cols[c].header;
		width[c] = strlen(headers[c]);
		for (size_t r = 0; r < t->nrows; r++) {
			size_t len = strlen(t->cells[r * t->ncols + c]);

			if (len > width[c])
				width[c] = len;
		}
	}
	print_row(t, out, indent, headers, width);
	for (size_t r = 0; r < t->nrows; r++)
		print_row(t, out, indent, (const char *const *)&t->cells[r * t->ncols], width);
	return 0;
}

void ctl_table_free(struct ctl_table *t)
{
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	ctl_table_init(t, t->cols, t->ncols);
}

/* One cell of row: col's function, or its member as text. *list is an
 * integer list allocated here, for the caller to free. */
static const char *cell_text(const struct ctl_column *col, struct json_object *row, char *buf,
			     size_t size, char **list)
{
	const char *dot = strchr(col->key ? col->key : "", '.');
	struct json_object *arr;

	if (col->cell)
		return col->cell(row, buf, size);
	if (dot) { /* "a.b": member b of object member a */
		char outer[32];
		struct ctl_column inner = *col;

		snprintf(outer, sizeof(outer), "%.*s", (int)(dot - col->key), col->key);
		inner.key = dot + 1;
		row = ctl_jobject(row, outer);
		return row ? cell_text(&inner, row, buf, size, list) : "-";
	}
	if (col->rate)
		return ctl_fmt_rate(row, col->key, buf, size);
	if (ctl_jhas_int(row, col->key))
		return ctl_jnum(row, col->key);
	arr = ctl_jarray(row, col->key);
	if (arr) {
		*list = ctl_fmt_int_list(arr);
		return *list;
	}
	return ctl_jstr(row, col->key);
}

int ctl_print_rows(FILE *out, const char *indent, const struct ctl_column *cols, size_t ncols,
		   struct json_object *rows)
{
	size_t n = rows ? json_object_array_length(rows) : 0;
	struct ctl_table t;
	int err;

	ctl_table_init(&t, cols, ncols);
	for (size_t i = 0; i < n && !t.err; i++) {
		struct json_object *row = json_object_array_get_idx(rows, i);
		char bufs[ncols][CTL_CELL_MAX];
		const char *cells[ncols];
		char *lists[ncols];

		for (size_t c = 0; c < ncols; c++) {
			lists[c] = NULL;
			cells[c] = cell_text(&cols[c], row, bufs[c], sizeof(bufs[c]), &lists[c]);
			if (cols[c].key && !cols[c].cell && ctl_jarray(row, cols[c].key) &&
			    !lists[c])
				t.err = -ENOMEM;
		}
		ctl_table_add(&t, cells);
		for (size_t c = 0; c < ncols; c++)
			free(lists[c]);
	}
	err = ctl_table_print(&t, out, indent);
	ctl_table_free(&t);
	return err;
}

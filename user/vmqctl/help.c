// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Help text, generated from the option, object and command tables only. */
#include <stdlib.h>
#include <string.h>

#include "vmqctl.h"

#define HELP_COLUMN 24 /* where descriptions start in option and argument lists */
#define HELP_LINE   79

static bool choice_seen_before(const struct ctl_param *params, const struct ctl_param *p)
{
	for (const struct ctl_param *q = params; q != p; q++)
		if (q->choice == p->choice)
			return true;
	return false;
}

/* " (txq N | group G)" when one is required, " [txq N | group G]" if not;
 * p is the choice's first member. */
static void synopsis_choice(FILE *out, const struct ctl_param *p)
{
	bool required = false, first = true;
	const struct ctl_param *q;

	for (q = p; q->arg; q++)
		if (q->choice == p->choice && q->required)
			required = true;
	fputs(required ? " (" : " [", out);
	for (q = p; q->arg; q++) {
		if (q->choice != p->choice)
			continue;
		fprintf(out, "%s%s %s", first ? "" : " | ", q->arg->keyword, q->arg->metavar);
		first = false;
	}
	fputs(required ? ")" : "]", out);
}

void ctl_synopsis(FILE *out, const struct ctl_object *obj, const struct ctl_cmd *cmd)
{
	const struct ctl_param *p;

	/* "stats [show] [DEV]": the command word may be left out. */
	if (obj->implicit_cmd && !strcmp(obj->implicit_cmd, cmd->name))
		fprintf(out, "%s [%s]", obj->name, cmd->name);
	else
		fprintf(out, "%s %s", obj->name, cmd->name);
	for (p = cmd->params; p->arg; p++) {
		const struct ctl_arg *a = p->arg;

		if (p->choice) {
			if (!choice_seen_before(cmd->params, p))
				synopsis_choice(out, p);
		} else if (!a->keyword) {
			fprintf(out, p->required ? " %s" : " [%s]", a->metavar);
		} else if (a->type == CTL_ARG_FLAG) {
			fprintf(out, p->required ? " %s" : " [%s]", a->keyword);
		} else {
			fprintf(out, p->required ? " %s %s" : " [%s %s]", a->keyword, a->metavar);
		}
	}
}

/* "  SYNOPSIS", broken before a "[" or "(" past HELP_LINE, the rest
 * indented by 4. */
static void print_wrapped(FILE *out, const char *syn)
{
	const char *p = syn, *brk;
	int col = 2;

	fputs("  ", out);
	while (*p) {
		const char *next = p;

		/* up to the next " [" or " (" at the top level */
		for (int depth = 0; *next; next++) {
			if (*next == '[' || *next == '(')
				depth++;
			else if (*next == ']' || *next == ')')
				depth--;
			else if (*next == ' ' && !depth && (next[1] == '[' || next[1] == '(') &&
				 next != p)
				break;
		}
		brk = next;
		if (col + (brk - p) > HELP_LINE && col > 4 && *p == ' ') {
			fputs("\n   ", out);
			col = 3;
		}
		fprintf(out, "%.*s", (int)(brk - p), p);
		col += (int)(brk - p);
		p = brk;
	}
}

static void print_cmd_entry(FILE *out, const struct ctl_object *obj, const struct ctl_cmd *cmd)
{
	char *syn = NULL;
	size_t len;
	FILE *s = open_memstream(&syn, &len);

	if (s) {
		ctl_synopsis(s, obj, cmd);
		if (!fclose(s))
			print_wrapped(out, syn);
		free(syn);
	}
	fprintf(out, "\n      %s\n", cmd->help);
}

/* "  id ID    queue ID (0..65535)", the values on a line of their own when
 * the whole would not fit in 80 columns. */
static void print_arg(FILE *out, const struct ctl_arg *a)
{
	char values[128];
	int n;

	ctl_arg_describe_values(a, values, sizeof(values));
	if (a->type == CTL_ARG_FLAG)
		n = fprintf(out, "  %s", a->keyword);
	else if (a->keyword)
		n = fprintf(out, "  %s %s", a->keyword, a->metavar);
	else
		n = fprintf(out, "  %s", a->metavar);
	/* A name that reaches the help column puts the help on the next line. */
	if (n >= HELP_COLUMN) {
		fputc('\n', out);
		n = 0;
	}
	n += fprintf(out, "%*s", HELP_COLUMN - n, "");
	n += fprintf(out, "%s", a->help);
	if (!values[0])
		fputc('\n', out);
	else if (n + 3 + (int)strlen(values) > HELP_LINE)
		fprintf(out, "\n%*s(%s)\n", HELP_COLUMN, "", values);
	else
		fprintf(out, " (%s)\n", values);
}

static bool arg_listed_before(const struct ctl_object *obj, const struct ctl_cmd *upto,
			      const struct ctl_param *upto_param, const struct ctl_arg *a)
{
	for (const struct ctl_cmd *c = obj->cmds; c <= upto; c++)
		for (const struct ctl_param *p = c->params; p->arg; p++) {
			if (c == upto && p == upto_param)
				return false;
			if (p->arg == a)
				return true;
		}
	return false;
}

/* Each argument once, in order of first use. */
static void print_args(FILE *out, const struct ctl_object *obj, const struct ctl_cmd *only)
{
	bool any = false;

	for (const struct ctl_cmd *c = obj->cmds; c->name; c++) {
		if (only && c != only)
			continue;
		for (const struct ctl_param *p = c->params; p->arg; p++) {
			if (!only && arg_listed_before(obj, c, p, p->arg))
				continue;
			if (!any)
				fputs("\nArguments:\n", out);
			any = true;
			print_arg(out, p->arg);
		}
	}
}

static void print_options(FILE *out)
{
	fputs("\nOptions:\n", out);
	for (const struct ctl_option *o = ctl_options; o->short_name; o++) {
		int n = fprintf(out, "  -%c, --%s%s%s", o->short_name, o->long_name,
				o->metavar ? " " : "", o->metavar ? o->metavar : "");

		fprintf(out, "%*s%s\n", n < HELP_COLUMN ? HELP_COLUMN - n : 1, "", o->help);
	}
}

void ctl_help_all(FILE *out)
{
	fputs("Usage: vmqctl [OPTIONS] OBJECT COMMAND [ARGUMENTS]\n"
	      "       vmqctl [OPTIONS] -b FILE\n"
	      "       vmqctl [OPTIONS] save > FILE\n"
	      "       vmqctl [OPTIONS] apply [--dry-run] [--prune] FILE\n"
	      "       vmqctl help [OBJECT [COMMAND]]\n"
	      "\nCommands:\n",
	      out);
	for (size_t i = 0; ctl_objects[i]; i++)
		for (const struct ctl_cmd *c = ctl_objects[i]->cmds; c->name; c++)
			print_cmd_entry(out, ctl_objects[i], c);
	print_options(out);
	fputs("\nOBJECT and COMMAND may be shortened to any unambiguous prefix (vmqctl q sh).\n"
	      "\"vmqctl OBJECT help\" describes the arguments of OBJECT's commands.\n"
	      "Options go before OBJECT: vmqctl -j -w 1 stats eth0 (^C ends the watch).\n"
	      "-b has vmqd write its state file once, after the last line (daemon sync).\n"
	      "Exit status: 0 on success, 1 on any error (usage, connection, or refused by\n"
	      "vmqd); doctor's is its worst check's: 0 PASS, 2 WARN, 1 FAIL.\n",
	      out);
}

void ctl_help_object(FILE *out, const struct ctl_object *obj)
{
	fprintf(out, "Usage: vmqctl [OPTIONS] %s COMMAND [ARGUMENTS]\n%s: %s\n\nCommands:\n",
		obj->name, obj->name, obj->help);
	for (const struct ctl_cmd *c = obj->cmds; c->name; c++)
		print_cmd_entry(out, obj, c);
	print_args(out, obj, NULL);
}

void ctl_help_cmd(FILE *out, const struct ctl_object *obj, const struct ctl_cmd *cmd)
{
	fputs("Usage: vmqctl [OPTIONS] ", out);
	ctl_synopsis(out, obj, cmd);
	fprintf(out, "\n%s\n", cmd->help);
	print_args(out, obj, cmd);
}

// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* From argv to a call: find the object and command, parse the arguments,
 * wrap them in a request. Nothing here talks to vmqd. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "vmqctl.h"

static bool is_help_word(const char *word)
{
	return !strcmp(word, "help") || !strcmp(word, "--help") || !strcmp(word, "-h");
}

static const char *object_name_at(const void *table, size_t i)
{
	const struct ctl_object *const *objs = table;

	return objs[i] ? objs[i]->name : NULL;
}

static const char *cmd_name_at(const void *table, size_t i)
{
	const struct ctl_cmd *cmds = table;

	return cmds[i].name;
}

/*
 * An exact name wins; otherwise the one name that word begins. 0 and *found,
 * -ENOENT when none, -EINVAL (with the candidates in e) when several.
 */
static int match_name(const char *word, const void *table,
		      const char *(*name_at)(const void *table, size_t i), size_t *found,
		      struct ctl_err *e)
{
	size_t len = strlen(word), nmatch = 0, used = 0;
	char candidates[256] = "";
	const char *name;

	for (size_t i = 0; (name = name_at(table, i)); i++) {
		if (!strcmp(name, word)) {
			*found = i;
			return 0;
		}
		if (!len || strncmp(name, word, len))
			continue;
		*found = i;
		nmatch++;
		if (used < sizeof(candidates))
			used += (size_t)snprintf(candidates + used, sizeof(candidates) - used,
						 "%s%s", nmatch > 1 ? ", " : "", name);
	}
	if (nmatch == 1)
		return 0;
	if (!nmatch)
		return -ENOENT;
	ctl_err_set(e, EINVAL, "\"%s\" is ambiguous: %s", word, candidates);
	return -EINVAL; /* spelled out: the analyzer cannot see into ctl_err_set */
}

const struct ctl_object *ctl_object_find(const char *name)
{
	for (size_t i = 0; ctl_objects[i]; i++)
		if (!strcmp(ctl_objects[i]->name, name))
			return ctl_objects[i];
	return NULL;
}

const struct ctl_cmd *ctl_cmd_find(const struct ctl_object *obj, const char *name)
{
	for (const struct ctl_cmd *cmd = obj->cmds; cmd->name; cmd++)
		if (!strcmp(cmd->name, name))
			return cmd;
	return NULL;
}

static int lookup_object(const char *word, const struct ctl_object **obj, struct ctl_err *e)
{
	char q[CTL_QUOTE_SIZE];
	size_t i;
	int err = match_name(word, ctl_objects, object_name_at, &i, e);

	if (err == -ENOENT) {
		ctl_err_set(e, EINVAL, "unknown object \"%s\" (try \"vmqctl help\")",
			    ctl_quote(word, q, sizeof(q)));
		return -EINVAL;
	}
	if (err) {
		ctl_err_prefix(e, "object ");
		return err;
	}
	*obj = ctl_objects[i];
	return 0;
}

/* Consumes the command word from *argv unless the object's implicit command
 * applies ("stats eth0"); no word at all means "show", like ip. */
static int lookup_cmd(const struct ctl_object *obj, int *argc, char ***argv,
		      const struct ctl_cmd **cmd, struct ctl_err *e)
{
	char q[CTL_QUOTE_SIZE];
	size_t i;
	int err;

	if (!*argc || (obj->implicit_cmd && !ctl_cmd_find(obj, (*argv)[0]))) {
		*cmd = ctl_cmd_find(obj, obj->implicit_cmd ? obj->implicit_cmd : "show");
		if (!*cmd) {
			ctl_err_set(e, EINVAL, "%s: missing COMMAND (try \"vmqctl %s help\")",
				    obj->name, obj->name);
			return -EINVAL;
		}
		return 0;
	}
	err = match_name((*argv)[0], obj->cmds, cmd_name_at, &i, e);
	if (err == -ENOENT) {
		ctl_err_set(e, EINVAL, "%s: unknown command \"%s\" (try \"vmqctl %s help\")",
			    obj->name, ctl_quote((*argv)[0], q, sizeof(q)), obj->name);
		return -EINVAL;
	}
	if (err) {
		ctl_err_prefix(e, "%s: command ", obj->name);
		return err;
	}
	*cmd = &obj->cmds[i];
	(*argc)--;
	(*argv)++;
	return 0;
}

static int resolve_help(int argc, char **argv, struct ctl_call *call, struct ctl_err *e)
{
	int err;

	call->kind = CTL_CALL_HELP;
	if (argc < 2)
		return 0;
	err = lookup_object(argv[1], &call->obj, e);
	if (err)
		return err;
	if (argc < 3)
		return 0;
	argc -= 2;
	argv += 2;
	return lookup_cmd(call->obj, &argc, &argv, &call->cmd, e);
}

static int build_request(const struct ctl_object *obj, const struct ctl_cmd *cmd, int argc,
			 char **argv, struct ctl_call *call, struct ctl_err *e)
{
	struct json_object *args;
	int err;

	err = ctl_args_parse(cmd->params, argc, argv, &args, e);
	if (!err && cmd->check) {
		err = cmd->check(args, e);
		if (err)
			json_object_put(args);
	}
	if (err) {
		ctl_err_prefix(e, "%s %s: ", obj->name, cmd->name);
		return err;
	}
	call->req = ctl_request_new(obj->name, cmd->name, args);
	if (!call->req)
		return ctl_err_set(e, ENOMEM, "out of memory");
	return 0;
}

int ctl_resolve(int argc, char **argv, struct ctl_call *call, struct ctl_err *e)
{
	int err;

	memset(call, 0, sizeof(*call));
	if (argc < 1)
		return ctl_err_set(e, EINVAL, "missing OBJECT (try \"vmqctl help\")");
	/* "vmqctl help [OBJECT [COMMAND]]" */
	if (is_help_word(argv[0]))
		return resolve_help(argc, argv, call, e);
	err = lookup_object(argv[0], &call->obj, e);
	if (err)
		return err;
	argc--;
	argv++;
	/* "vmqctl OBJECT help" */
	if (argc && is_help_word(argv[0])) {
		call->kind = CTL_CALL_HELP;
		return 0;
	}
	err = lookup_cmd(call->obj, &argc, &argv, &call->cmd, e);
	if (err)
		return err;
	/* "vmqctl OBJECT COMMAND help" */
	if (argc && is_help_word(argv[0])) {
		call->kind = CTL_CALL_HELP;
		return 0;
	}
	call->kind = CTL_CALL_REQUEST;
	return build_request(call->obj, call->cmd, argc, argv, call, e);
}

void ctl_call_release(struct ctl_call *call)
{
	json_object_put(call->req);
	call->req = NULL;
}

static const char *str_member(struct json_object *obj, const char *key)
{
	struct json_object *val = vmq_json_member(obj, key, json_type_string);

	return val ? json_object_get_string(val) : NULL;
}

/* Whether line resolves to object, command and args again. */
static bool reads_back(const char *line, const char *object, const char *command,
		       struct json_object *args)
{
	char *copy = strdup(line), *words[CTL_LINE_WORDS_MAX];
	struct json_object *got = NULL;
	struct ctl_call call;
	struct ctl_err e;
	bool same = false;
	int n;

	if (!copy)
		return false;
	n = ctl_split_words(copy, words, CTL_LINE_WORDS_MAX);
	if (n > 0 && !ctl_resolve(n, words, &call, &e)) {
		same = call.kind == CTL_CALL_REQUEST && !strcmp(call.obj->name, object) &&
		       !strcmp(call.cmd->name, command) &&
		       json_object_object_get_ex(call.req, "args", &got) &&
		       json_object_equal(got, args);
		ctl_call_release(&call);
	}
	free(copy);
	return same;
}

int ctl_request_format(struct json_object *req, char **line, struct ctl_err *e)
{
	const char *object = str_member(req, "object"), *command = str_member(req, "command");
	const struct ctl_object *obj = object ? ctl_object_find(object) : NULL;
	const struct ctl_cmd *cmd = obj && command ? ctl_cmd_find(obj, command) : NULL;
	struct json_object *args = NULL;
	char *words = NULL, q[2][CTL_QUOTE_SIZE];
	int err;

	if (!cmd || cmd->run)
		return ctl_err_set(e, EINVAL, "unknown request \"%s %s\"",
				   ctl_quote(object ? object : "?", q[0], sizeof(q[0])),
				   ctl_quote(command ? command : "?", q[1], sizeof(q[1])));
	if (!json_object_object_get_ex(req, "args", &args) ||
	    !json_object_is_type(args, json_type_object))
		return ctl_err_set(e, EINVAL, "%s %s: no \"args\" object", object, command);
	err = ctl_args_format(cmd->params, args, &words, e);
	if (err) {
		ctl_err_prefix(e, "%s %s: ", object, command);
		return err;
	}
	if (asprintf(line, "%s %s%s%s", object, command, *words ? " " : "", words) < 0) {
		free(words);
		return ctl_err_set(e, ENOMEM, "out of memory");
	}
	free(words);
	if (!reads_back(*line, object, command, args)) {
		err = ctl_err_set(e, EINVAL, "%s: does not read back as the same request", *line);
		free(*line);
		*line = NULL;
	}
	return err;
}

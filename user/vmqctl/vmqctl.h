/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * vmqctl: the command-line client of vmqd. Every command is a row of a
 * table (one table per object, one file per object); the same rows drive
 * argument parsing, the request sent to vmqd, the text printer and --help.
 */
#ifndef VMQCTL_H
#define VMQCTL_H

#include <stdbool.h>
#include <stdio.h>
#include <json-c/json.h>
#include <linux/types.h>

#include "ipc.h"
#include "proto.h"
#include "vmq_abi.h"

#ifndef VMQ_VERSION
#define VMQ_VERSION "0.1"
#endif

/* An error travels up as -errno plus this; whoever knows the whole context
 * (one command, or one line of a batch) reports it once. */
struct ctl_err {
	int errnum; /* positive errno naming the failure */
	int line;   /* batch line, 0 outside a batch */
	char msg[1024];
};

/* Fills e and returns -errnum, so that `return ctl_err_set(...)` reads well. */
int ctl_err_set(struct ctl_err *e, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Puts context in front of the message: "queue add: " + "id ...". */
void ctl_err_prefix(struct ctl_err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A word from the command line made safe to quote in a message: control
 * bytes become '?', and a long word ends in "...". */
const char *ctl_quote(const char *s, char *buf, size_t size);
#define CTL_QUOTE_SIZE 80

/* --- argument grammar (args.c) ------------------------------------------ */

enum ctl_arg_type {
	CTL_ARG_DEV,	     /* interface name, 1..15 bytes */
	CTL_ARG_NAME,	     /* 1..VMQ_NAME_MAX printable ASCII bytes, no spaces */
	CTL_ARG_U32,	     /* decimal, min..max */
	CTL_ARG_U32_OR_WORD, /* decimal min..max, or one of words ("auto") */
	CTL_ARG_WORD,	     /* one of words, sent as the string */
	CTL_ARG_MASK,	     /* contiguous nonzero bit mask, 0x... or decimal */
	CTL_ARG_TXQ_LIST,    /* N[,N...]: distinct TX queues */
	CTL_ARG_PATTERNS,    /* P[,P...]: shell patterns of interface names; "none": "" */
	CTL_ARG_FLAG,	     /* the keyword alone, no value: true */
	CTL_ARG_PATH,	     /* a file name, "-" for stdin */
	CTL_ARG_MAC,	     /* a unicast Ethernet address, xx:xx:xx:xx:xx:xx */
};

/* One argument: how it is written, checked, sent and described. */
struct ctl_arg {
	const char *keyword; /* word before the value; NULL: positional */
	const char *key;     /* its name in the request's "args" */
	const char *metavar; /* value placeholder in help: "ID", "N|auto" */
	const char *help;    /* what the value means, for help */
	enum ctl_arg_type type;
	__u32 min, max;		  /* CTL_ARG_U32*: inclusive range */
	const char *const *words; /* CTL_ARG_*WORD: the words taken, NULL-terminated */
	/* CTL_ARG_WORD: the word then_word takes one more value, then_arg
	 * ("rx cpu 3": "rx": "cpu", "cpu": 3); then_arg is no param itself. */
	const char *then_word;
	const struct ctl_arg *then_arg;
};

/* An argument as one command takes it. */
struct ctl_param {
	const struct ctl_arg *arg;
	bool required;
	/* Nonzero: params sharing this number exclude each other; if one of
	 * them is required, exactly one must be given. */
	unsigned int choice;
};

/* rx cpu N: the highest CPU number vmqctl lets through (vmqd checks that
 * the CPU exists). */
#define CTL_CPU_MAX 8191

/* dev set ports: the pattern list's length at most. */
#define CTL_PATTERNS_MAX 255

/* Positionals first in a params list; the list ends with a NULL arg. */
#define CTL_PARAMS_MAX 16

extern const struct ctl_arg ctl_arg_dev;

int ctl_args_parse(const struct ctl_param *params, int argc, char **argv, struct json_object **args,
		   struct ctl_err *e);
/* The accepted values of arg, for help: "0..65535", "0..1023 or auto";
 * "" for a flag. */
void ctl_arg_describe_values(const struct ctl_arg *arg, char *buf, size_t size);
/* The inverse of ctl_args_parse: positionals in params order, then
 * "keyword value" for each member of args, in params order. 0 and *words
 * (malloc'd, "eth0 id 5 txq 3"), or -errno when args has a member params
 * lacks or a value the grammar cannot write. */
int ctl_args_format(const struct ctl_param *params, struct json_object *args, char **words,
		    struct ctl_err *e);

/* --- objects and commands ----------------------------------------------- */

struct ctl_ctx;

struct ctl_cmd {
	const char *name; /* also the command sent to vmqd */
	const struct ctl_param *params;
	const char *help;
	/* Checks between arguments the grammar cannot say; NULL: none. */
	int (*check)(struct json_object *args, struct ctl_err *e);
	/* Text form of the result, given the request's args; NULL: print
	 * nothing (mutating commands). */
	int (*print)(FILE *out, struct json_object *args, struct json_object *result);
	/* Exit status a successful answer stands for (doctor: its verdict),
	 * or -errno for a result that does not say; NULL: 0. */
	int (*status)(struct json_object *result, struct ctl_err *e);
	/* Set for commands vmqctl runs itself (save, apply), which are never
	 * sent as such: 0 or -errno; it prints its own output. */
	int (*run)(struct ctl_ctx *ctx, struct json_object *args, struct ctl_err *e);
};

struct ctl_object {
	const char *name;	    /* also the object sent to vmqd */
	const struct ctl_cmd *cmds; /* ends with a NULL name */
	const char *help;
	/* Run when the word after the object is not one of its command names
	 * ("stats eth0" is "stats show eth0"); NULL: none. */
	const char *implicit_cmd;
};

/* One per file (dev.c, queue.c, ...); objects.c lists them. */
extern const struct ctl_object ctl_object_dev;
extern const struct ctl_object ctl_object_queue;
extern const struct ctl_object ctl_object_group;
extern const struct ctl_object ctl_object_port;
extern const struct ctl_object ctl_object_filter;
extern const struct ctl_object ctl_object_stats;
extern const struct ctl_object ctl_object_daemon;
extern const struct ctl_object ctl_object_doctor;
extern const struct ctl_object ctl_object_save;
extern const struct ctl_object ctl_object_apply;
extern const struct ctl_object *const ctl_objects[]; /* ends with NULL */

/* --- from argv to a request (dispatch.c) ---------------------------------- */

enum ctl_call_kind {
	CTL_CALL_REQUEST, /* send req to vmqd */
	CTL_CALL_HELP,	  /* print help of obj/cmd (NULL: everything) */
};

struct ctl_call {
	enum ctl_call_kind kind;
	const struct ctl_object *obj;
	const struct ctl_cmd *cmd;
	struct json_object *req; /* owned */
};

/* argv starts at the object. Object and command names may be abbreviated
 * to any unambiguous prefix. */
int ctl_resolve(int argc, char **argv, struct ctl_call *call, struct ctl_err *e);
void ctl_call_release(struct ctl_call *call);
/* Exact lookups, NULL when absent. */
const struct ctl_object *ctl_object_find(const char *name);
const struct ctl_cmd *ctl_cmd_find(const struct ctl_object *obj, const char *name);

/* --- the protocol envelope (envelope.c) ----------------------------------- */

/* Takes ownership of args. NULL only when out of memory. */
struct json_object *ctl_request_new(const char *object, const char *command,
				    struct json_object *args);
/* A request, {"object", "command", "args"} with or without the envelope,
 * as one batch line: "queue add eth0 id 5 txq 3". The line is checked to
 * parse back to the same request. 0 and *line (malloc'd), or -errno. */
int ctl_request_format(struct json_object *req, char **line, struct ctl_err *e);
/* 0 and *result (borrowed from resp), or the daemon's error as -errno. */
int ctl_response_unwrap(struct json_object *resp, struct json_object **result, struct ctl_err *e);

/* --- one run of vmqctl (cli.c, options.c, batch.c) ------------------------ */

struct ctl_ctx {
	bool json;
	bool nosync; /* send "sync": false with every request (batch, apply) */
	const char *socket_path;
	FILE *out;	      /* results; errors too under -j */
	FILE *err;	      /* errors in text mode */
	struct ctl_conn conn; /* opened on first use, shared by a batch */
};

struct ctl_option {
	int short_name;
	const char *long_name;
	const char *metavar; /* NULL: takes no value */
	const char *help;
};
extern const struct ctl_option ctl_options[]; /* ends with a 0 short_name */

/* What the options ask for besides output mode and socket. */
struct ctl_opts {
	const char *batch;
	bool help;
	bool version;
	unsigned int watch_ms; /* --watch: the period; 0: not watching */
	__u32 count;	       /* --count: samples before stopping; 0: until a signal */
};

/* --watch SECONDS: a decimal number of seconds, at most 3 decimals. */
#define CTL_WATCH_MIN_MS 100
#define CTL_WATCH_MAX_MS (86400 * 1000)
/* 0 and *ms, -EINVAL (not such a number) or -ERANGE (outside min..max). */
int ctl_parse_seconds(const char *s, unsigned int *ms);
/* The option word names: "-w" or "--watch" (also "--watch=1"); NULL if none. */
const struct ctl_option *ctl_option_word(const char *word);

/* The socket: -s PATH, else $VMQ_SOCKET when set and not empty, else
 * VMQ_SOCKET_DEFAULT. */
const char *ctl_socket_path(const char *option);

/* Fills ctx's json and socket_path and opts: the index of OBJECT in argv,
 * or -errno. */
int ctl_parse_options(struct ctl_ctx *ctx, int argc, char **argv, struct ctl_opts *opts,
		      struct ctl_err *e);

/* The whole program: exit status 0 or 1. */
int ctl_main(int argc, char **argv, FILE *out, FILE *err);
/* Sends call->req (connecting first if needed); *resp is owned by the caller,
 * *result borrowed from it. */
int ctl_execute(struct ctl_ctx *ctx, const struct ctl_call *call, struct json_object **resp,
		struct json_object **result, struct ctl_err *e);
int ctl_batch(struct ctl_ctx *ctx, const char *path);
/* Reads batch lines from in: each line that is neither blank nor a comment
 * goes to fn as words. Stops at the first error (fn's, or a line that
 * cannot be split), with e->line set. path names in for messages. */
typedef int (*ctl_line_fn)(void *arg, int line, int argc, char **argv, struct ctl_err *e);
int ctl_batch_read(FILE *in, const char *path, ctl_line_fn fn, void *arg, struct ctl_err *e);
/* Sends "daemon sync": the state file of a "sync": false run is written. */
int ctl_sync(struct ctl_ctx *ctx, struct ctl_err *e);
/* --watch: sends call->req every opts->watch_ms over one connection and
 * prints each sample, until opts->count samples or SIGINT/SIGTERM (exit 0).
 * Returns the exit status, 0 or 1. */
int ctl_watch(struct ctl_ctx *ctx, const struct ctl_call *call, const struct ctl_opts *opts);
/* A batch line's words at most. */
#define CTL_LINE_WORDS_MAX 64
/* Splits line in place on blanks: number of words, or -E2BIG past max. */
int ctl_split_words(char *line, char **words, int max);

/* --- output (output.c, help.c) -------------------------------------------- */

void ctl_report(const struct ctl_ctx *ctx, const struct ctl_err *e);
struct json_object *ctl_err_json(const struct ctl_err *e);
const char *ctl_json_text(struct json_object *obj);
void ctl_print_json(FILE *out, struct json_object *obj);
int ctl_print_result(const struct ctl_ctx *ctx, const struct ctl_cmd *cmd, struct json_object *req,
		     struct json_object *result);
/* "daemon save"'s result as batch lines, a pending request after a comment
 * line saying so. */
int ctl_print_save(FILE *out, struct json_object *args, struct json_object *result);

/* --- vmqctl apply (plan.c, apply.c) ---------------------------------------- */

enum ctl_plan_op {
	CTL_PLAN_REMOVE,
	CTL_PLAN_CHANGE,
	CTL_PLAN_ADD,
};

struct ctl_plan_step {
	enum ctl_plan_op op;
	struct json_object *req; /* {"object", "command", "args"}, owned */
	unsigned int rank, seq;	 /* order: removals, then additions by dependency */
};

struct ctl_plan {
	struct ctl_plan_step *steps;
	size_t n, cap;
	size_t kept; /* objects vmqd has, the file lacks, left alone (no prune) */
};

/*
 * The steps that turn have (what "daemon save" lists) into want (a state
 * file's requests, each {"object", "command", "args"} and its "line"), by
 * object identity: uplink and port policy by dev, group and queue by dev
 * and id, binding by port. Objects only have has are removed with prune,
 * else counted in kept. 0 and *plan, or -errno: a request apply does not
 * take, or a change vmqd cannot make in place (e->line names want's line).
 */
/* A state file's lines as want for ctl_plan_make; name (the file) goes in
 * messages. 0, or -errno with the line in the message (*want is the
 * caller's either way). */
int ctl_apply_read(FILE *in, const char *name, struct json_object **want, struct ctl_err *e);
int ctl_plan_make(struct json_object *want, struct json_object *have, bool prune,
		  struct ctl_plan *plan, struct ctl_err *e);
void ctl_plan_free(struct ctl_plan *plan);
const char *ctl_plan_op_name(enum ctl_plan_op op);

/* --- stats over time (stats.c) ------------------------------------------- */

/*
 * Adds rates to cur, a "stats show" result, from the counters of prev, the
 * result elapsed seconds before it: "packets_per_s", "bytes_per_s" on each
 * queue, TX queue, "kernel_choice" and fallback reason, plus
 * "fallback_packets_per_s" on queues and "kernel_packets_per_s",
 * "kernel_bytes_per_s" on TX queues with kernel counters. An entry missing
 * from prev had zero counters (vmqd lists only nonzero ones), unless its
 * device is missing too; a counter that went down was reset and gets no
 * rate, nor do kernel counters prev lacks. 0 or -ENOMEM.
 */
int ctl_stats_rates(struct json_object *cur, struct json_object *prev, double elapsed);
/* A watch sample, {"time", "interval", "devs"}, as text: a header line
 * with the time, then the tables, of rates once "interval" is set. */
int ctl_stats_print_sample(FILE *out, struct json_object *sample, unsigned int every_ms);

void ctl_help_all(FILE *out);
void ctl_help_object(FILE *out, const struct ctl_object *obj);
void ctl_help_cmd(FILE *out, const struct ctl_object *obj, const struct ctl_cmd *cmd);
/* "queue add DEV id ID (txq N | group G) [vm NAME] [name NAME]" */
void ctl_synopsis(FILE *out, const struct ctl_object *obj, const struct ctl_cmd *cmd);

#endif /* VMQCTL_H */

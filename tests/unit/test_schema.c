// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The request schema lives on both ends of the socket: vmqctl's argument
 * tables say which keys it sends, vmqd's command tables which it accepts.
 * These tests hold the two together, so that neither can grow a key the
 * other refuses.
 */
#include "vmq_test.h"
#include "vmqctl/vmqctl.h"
#include "vmqd/vmqd.h"

static const struct vmqd_command *vmqd_command(const char *object, const char *command)
{
	for (const struct vmqd_object *o = vmqd_objects; o->name; o++) {
		if (strcmp(o->name, object))
			continue;
		for (const struct vmqd_command *c = o->commands; c->name; c++)
			if (!strcmp(c->name, command))
				return c;
	}
	return NULL;
}

static bool accepts(const struct vmqd_command *c, const char *key)
{
	for (const char *const *k = c->keys; *k; k++)
		if (!strcmp(*k, key))
			return true;
	return false;
}

/* Every command vmqctl sends exists in vmqd, and every key it can put in
 * "args" is one vmqd accepts for that command. */
static void test_every_key_vmqctl_sends_is_accepted(void **state)
{
	unsigned int commands = 0, keys = 0;

	(void)state;
	for (size_t i = 0; ctl_objects[i]; i++) {
		const struct ctl_object *obj = ctl_objects[i];

		for (const struct ctl_cmd *cmd = obj->cmds; cmd->name; cmd++) {
			const struct vmqd_command *c;

			if (cmd->run) /* save, apply: vmqctl's own, built of other requests */
				continue;
			c = vmqd_command(obj->name, cmd->name);
			if (!c)
				fail_msg("vmqctl sends \"%s %s\", which vmqd does not serve",
					 obj->name, cmd->name);
			commands++;
			for (const struct ctl_param *p = cmd->params; p->arg; p++, keys++) {
				if (!accepts(c, p->arg->key))
					fail_msg(
						"vmqctl %s %s sends key \"%s\", which vmqd refuses",
						obj->name, cmd->name, p->arg->key);
				/* "rx cpu N": the value after the word is a key too. */
				if (p->arg->then_arg && !accepts(c, p->arg->then_arg->key))
					fail_msg(
						"vmqctl %s %s sends key \"%s\", which vmqd refuses",
						obj->name, cmd->name, p->arg->then_arg->key);
			}
		}
	}
	/* Not vacuous: the tables were really walked. */
	assert_true(commands >= 18);
	assert_true(keys >= 30);
}

/* And the other way: every key vmqd accepts can be given from vmqctl, so
 * no part of the protocol is out of the CLI's reach. */
static void test_every_key_vmqd_accepts_is_sent(void **state)
{
	unsigned int n = 0;

	(void)state;
	for (const struct vmqd_object *o = vmqd_objects; o->name; o++) {
		for (const struct vmqd_command *c = o->commands; c->name; c++) {
			const struct ctl_cmd *cmd = NULL;

			for (size_t i = 0; ctl_objects[i] && !cmd; i++) {
				if (strcmp(ctl_objects[i]->name, o->name))
					continue;
				for (const struct ctl_cmd *x = ctl_objects[i]->cmds; x->name; x++)
					if (!strcmp(x->name, c->name))
						cmd = x;
			}
			if (!cmd)
				fail_msg("vmqd serves \"%s %s\", which vmqctl cannot send", o->name,
					 c->name);
			for (const char *const *k = c->keys; *k; k++, n++) {
				bool found = false;

				for (const struct ctl_param *p = cmd->params; p->arg; p++)
					found = found || !strcmp(p->arg->key, *k) ||
						(p->arg->then_arg &&
						 !strcmp(p->arg->then_arg->key, *k));
				if (!found)
					fail_msg("vmqd %s %s accepts key \"%s\", which vmqctl "
						 "never sends",
						 o->name, c->name, *k);
			}
		}
	}
	assert_true(n >= 30);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_key_vmqctl_sends_is_accepted),
		cmocka_unit_test(test_every_key_vmqd_accepts_is_sent),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * vmqd's state file loader (docs/state.md): the input is the file, in a
 * directory of this process's own under $TMPDIR, loaded and replayed by a
 * vmqd on the fake kernel (fake_kernel.c). A file it accepts is rewritten
 * at once; that file must load again, in a fresh vmqd, to the same state
 * when nothing was left pending. (A refused request is kept and tried
 * again at every start, by design: it may apply on a later one.)
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fake_kernel.h"
#include "vmqd/log.h"
#include "vmqd/vmqd.h"

static char dir[64], path[128];

static void cleanup(void)
{
	char tmp[160];

	unlink(path);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	unlink(tmp);
	rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *tmp = getenv("TMPDIR");

	(void)argc;
	(void)argv;
	vmqd_log_init(VMQD_LOG_ERR);
	snprintf(dir, sizeof(dir), "%s/vmq-fuzz-state-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir))
		abort();
	snprintf(path, sizeof(path), "%s/%s", dir, VMQD_STATE_FILE);
	atexit(cleanup);
	return 0;
}

static void write_file(const uint8_t *data, size_t size)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0 || (size && write(fd, data, size) != (ssize_t)size))
		abort();
	close(fd);
}

/* The saved requests of a vmqd after loading the file; NULL if refused. */
static char *load(bool adopted, size_t *pending)
{
	struct json_object *requests = NULL;
	struct vmqd d;
	char *text = NULL;

	if (vmqd_init(&d, "/fuzz/bpffs"))
		abort();
	d.state_dir = dir;
	if (!vmqd_state_restore(&d, adopted)) {
		if (vmqd_state_snapshot(&d, &requests))
			abort();
		text = strdup(json_object_to_json_string_ext(requests, JSON_C_TO_STRING_PLAIN));
		json_object_put(requests);
		*pending = d.npending;
	}
	vmqd_fini(&d);
	fake_kernel_reset();
	return text;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t pending = 0, pending_again = 0;
	char *first, *again;

	write_file(data, size);
	/* With pins (adopted): only policies and pending requests. */
	first = load(size & 1, &pending);
	if (first) {
		/* Rewritten by the restore: the daemon's own file. */
		again = load(false, &pending_again);
		if (!again || (!pending && strcmp(first, again))) {
			fprintf(stderr, "state changed on reload:\n%s\n--- versus ---\n%s\n", first,
				again ? again : "(refused)");
			abort();
		}
		free(again);
	}
	free(first);
	return 0;
}

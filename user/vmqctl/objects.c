// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Every object vmqctl knows, in help order. A new object is one file
 * ending in its ctl_object, its extern in vmqctl.h, and one line here. */
#include "vmqctl.h"

/* One object per line, whatever clang-format would pack. */
// clang-format off
const struct ctl_object *const ctl_objects[] = {
	&ctl_object_dev,
	&ctl_object_queue,
	&ctl_object_group,
	&ctl_object_port,
	&ctl_object_filter,
	&ctl_object_stats,
	&ctl_object_doctor,
	&ctl_object_daemon,
	&ctl_object_save,
	&ctl_object_apply,
	NULL,
};
// clang-format on

// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* vmqctl: control vmq through vmqd. All of it is in libvmqctl.a, where the
 * unit tests can reach it; see ctl_main(). */
#include "vmqctl.h"

int main(int argc, char **argv)
{
	return ctl_main(argc, argv, stdout, stderr);
}

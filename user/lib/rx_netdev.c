// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* What the receive side needs to know of an uplink besides its maps. */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>

#include "libvmq.h"

/* rx-vlan-offload: the NIC strips VLAN tags out of the frames, where XDP
 * cannot see them (kernel-notes, rx 7). */
int vmq_netdev_rxvlan(const char *ifname, bool *on)
{
	struct ethtool_value ev = { .cmd = ETHTOOL_GFLAGS };
	struct ifreq ifr;
	int fd, err = 0;

	if (strlen(ifname) >= sizeof(ifr.ifr_name))
		return -ENAMETOOLONG;
	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, ifname);
	ifr.ifr_data = (void *)&ev;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (ioctl(fd, SIOCETHTOOL, &ifr))
		err = -errno;
	else
		*on = ev.data & ETH_FLAG_RXVLAN;
	close(fd);
	return err;
}

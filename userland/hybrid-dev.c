/* userland/hybrid-dev.c — opening /dev/hvmm with an ABI version check. */
#include "userland/hybrid-dev.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

int hybrid__open_dev(void)
{
	int fd = open(HVMM_DEVICE, O_RDWR | O_CLOEXEC);
	int ver;

	if (fd < 0) {
		if (errno == ENOENT)
			fprintf(stderr, "hvmm: %s not found: is the hvmm kernel module loaded? "
				"(insmod host-driver/hvmm.ko)\n", HVMM_DEVICE);
		else
			fprintf(stderr, "hvmm: cannot open %s: %s\n", HVMM_DEVICE, strerror(errno));
		return -1;
	}
	ver = ioctl(fd, HVMM_IOC_ABI_VERSION);
	if (ver < 0) {
		fprintf(stderr, "hvmm: %s does not answer the ABI version ioctl (%s): "
			"not an hvmm module?\n", HVMM_DEVICE, strerror(errno));
		close(fd);
		return -1;
	}
	if (ver != HVMM_ABI_VERSION) {
		fprintf(stderr, "hvmm: ABI version mismatch: module speaks %d, this hvmm "
			"needs %d (rebuild and reload host-driver/hvmm.ko)\n", ver, HVMM_ABI_VERSION);
		close(fd);
		return -1;
	}
	return fd;
}

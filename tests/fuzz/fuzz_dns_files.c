/* SPDX-License-Identifier: MIT */
/*
 * The DNS area's own parsers of outside input: the hosts file of
 * dns.host-registration and the BIND key file of dns.servers. Both must
 * reject or accept, never crash, whatever bytes they are given.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "dnsfleet.h"
#include "net/dns.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fd = memfd_create("fuzz_dns_files", MFD_CLOEXEC);
	char path[64];
	struct apf_fleet_list *l = NULL;
	struct apf_tsig *k = NULL;
	char *err = NULL;

	if (fd < 0)
		return 0;
	if (write(fd, data, size) != (ssize_t)size)
		goto out;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if (apf_fleet_hosts_load(path, 1000, &l, &err) == 0) {
		char buf[64];

		for (size_t i = 0; i < l->n; i++)
			apf_fleet_expect_text(&l->h[i], buf, sizeof(buf));
	}
	apf_fleet_list_free(l);
	free(err);
	err = NULL;
	(void)apf_tsig_load(path, &k, &err);
	apf_tsig_free(k);
	free(err);
out:
	close(fd);
	return 0;
}

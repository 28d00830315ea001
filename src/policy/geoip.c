/* geoip: a thin layer over libmaxminddb. Only regular files are opened, so
 * a policy cannot make the loader map a device or a FIFO. */
#include "policy/geoip.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

bool policy_geoip_open(MMDB_s *db, const char *path, char *msg, size_t cap)
{
	struct stat st;
	int r;

	if (stat(path, &st) != 0) {
		snprintf(msg, cap, "%s", strerror(errno));
		return false;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(msg, cap, "not a regular file");
		return false;
	}
	r = MMDB_open(path, MMDB_MODE_MMAP, db);
	if (r != MMDB_SUCCESS) {
		snprintf(msg, cap, "%s", MMDB_strerror(r));
		return false;
	}
	return true;
}

void policy_geoip_close(MMDB_s *db)
{
	MMDB_close(db);
}

static bool geoip_iso(MMDB_entry_s *entry, const char *where, char out[3])
{
	MMDB_entry_data_s data;

	if (MMDB_get_value(entry, &data, where, "iso_code", NULL) != MMDB_SUCCESS ||
	    !data.has_data || data.type != MMDB_DATA_TYPE_UTF8_STRING || data.data_size != 2)
		return false;
	if (data.utf8_string[0] < 'A' || data.utf8_string[0] > 'Z' ||
	    data.utf8_string[1] < 'A' || data.utf8_string[1] > 'Z')
		return false;
	out[0] = data.utf8_string[0];
	out[1] = data.utf8_string[1];
	out[2] = '\0';
	return true;
}

bool policy_geoip_country(const MMDB_s *db, const struct ip_addr *a, char out[3])
{
	union {
		struct sockaddr sa;
		struct sockaddr_in in;
		struct sockaddr_in6 in6;
	} sa;
	MMDB_lookup_result_s res;
	int err = 0;

	memset(&sa, 0, sizeof(sa));
	if (a->family == AF_INET) {
		sa.in.sin_family = AF_INET;
		memcpy(&sa.in.sin_addr, a->a, 4);
	} else if (a->family == AF_INET6) {
		sa.in6.sin6_family = AF_INET6;
		memcpy(&sa.in6.sin6_addr, a->a, 16);
	} else {
		return false;
	}
	res = MMDB_lookup_sockaddr(db, &sa.sa, &err);
	if (err != MMDB_SUCCESS || !res.found_entry)
		return false;
	return geoip_iso(&res.entry, "country", out) ||
	       geoip_iso(&res.entry, "registered_country", out);
}

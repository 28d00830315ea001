/* geoip: destination country from a MaxMind-format database (GeoLite2 /
 * GeoIP2 Country, DB-IP, or one written by tests/tools/make-mmdb.pl)
 * through libmaxminddb. The database is memory-mapped at load and read
 * by any number of threads. */
#ifndef EGRESS_POLICY_GEOIP_H
#define EGRESS_POLICY_GEOIP_H

#include <maxminddb.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/addr.h"

/* False with the reason in msg. */
bool policy_geoip_open(MMDB_s *db, const char *path, char *msg, size_t cap);
void policy_geoip_close(MMDB_s *db);
/* country.iso_code, else registered_country.iso_code; false if unknown. */
bool policy_geoip_country(const MMDB_s *db, const struct ip_addr *a, char out[3]);

#endif

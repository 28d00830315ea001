/* counters: the names under which counters are shown. */
#include "wg/counters.h"

const char *const wg_counter_names[WG_CTR__MAX] = {
#define WG_COUNTER_NAME(name) [WG_CTR_##name] = #name,
	WG_COUNTERS(WG_COUNTER_NAME)
#undef WG_COUNTER_NAME
};

/* SPDX-License-Identifier: BSD-3-Clause */
#include "dp_counters.h"

#define DP_X_NAME(e, name, help) [DP_DROP_##e] = name,
static const char *const drop_names[DP_DROP_MAX] = {DP_DROP_LIST(DP_X_NAME)};
#undef DP_X_NAME
#define DP_X_HELP(e, name, help) [DP_DROP_##e] = help,
static const char *const drop_help[DP_DROP_MAX] = {DP_DROP_LIST(DP_X_HELP)};
#undef DP_X_HELP
#define DP_X_NAME(e, name, help) [DP_STAT_##e] = name,
static const char *const stat_names[DP_STAT_MAX] = {DP_STAT_LIST(DP_X_NAME)};
#undef DP_X_NAME
#define DP_X_HELP(e, name, help) [DP_STAT_##e] = help,
static const char *const stat_help[DP_STAT_MAX] = {DP_STAT_LIST(DP_X_HELP)};
#undef DP_X_HELP

const char *dp_drop_name(enum dp_drop d)
{
	return (unsigned)d < DP_DROP_MAX ? drop_names[d] : "?";
}

const char *dp_drop_help(enum dp_drop d)
{
	return (unsigned)d < DP_DROP_MAX ? drop_help[d] : "?";
}

const char *dp_stat_name(enum dp_stat s)
{
	return (unsigned)s < DP_STAT_MAX ? stat_names[s] : "?";
}

const char *dp_stat_help(enum dp_stat s)
{
	return (unsigned)s < DP_STAT_MAX ? stat_help[s] : "?";
}

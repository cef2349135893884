/*
 * Partitions of the default task (internal to engine/task): counties with fewer
 * agencies than batching.min_agencies are grouped into regions by nearest county
 * centroid, so that every agency lies in a partition that can be released.  The
 * rule is stated in docs/task-file.md ("Partitions of the default task") and is
 * reproducible from the shipped data alone.
 */
#ifndef PA_TASK_PARTITIONS_H
#define PA_TASK_PARTITIONS_H

#include <jansson.h>
#include <stddef.h>

/* One agency of the task as the grouping sees it. */
typedef struct {
    const char *zId;        /* for messages */
    const char *zFips;      /* county FIPS, "" for an agency without a county */
    int bCoord;             /* latitude/longitude known */
    double rLat, rLon;
} pa_partition_agency;

/* The unit and partition name of the agencies without a county. */
#define PA_PARTITION_NO_COUNTY "no-county"

/*
 * Group the agencies into partitions with at least nMin agencies each.
 * zCentroidCsv: a CSV with columns fips, latitude, longitude (every county of the
 * state, e.g. data/mo_county_centroids.csv).  On success *ppPartitions is the
 * task's "partitions" array (sorted by name, each with its sorted county list),
 * and *pazOf[i] (an array of nAgency names, borrowed from *ppPartitions: valid
 * while it lives; free the array itself with free()) is agency i's partition.
 * Errors: PA_EIO/PA_EDECODE (the centroid file), PA_EINVAL (a county without a
 * centroid; fewer than nMin agencies in all), PA_ENOMEM.
 */
int pa_task_group_partitions(const char *zCentroidCsv, const pa_partition_agency *aAgency,
                             size_t nAgency, size_t nMin, json_t **ppPartitions,
                             const char ***pazOf);

#endif

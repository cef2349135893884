/*
 * privagg task — the one JSON file every party shares.
 *
 * A task names the schema (dimensions × categories = cells), the VDAF and its
 * parameters, the parties (leader, helper, collector, agencies with their
 * Ed25519 keys and partitions), batching rules and the DP policy.  Its task id is
 * SHA-256 of the canonical encoding (compact JSON, keys sorted, ASCII), so every
 * party that loads the same task derives the same id.  Secrets never appear in a
 * task file.  The format is documented in docs/task-file.md.
 *
 * A loaded pa_task is read-only; it owns all its strings and arrays.
 */
#ifndef PRIVAGG_TASK_H
#define PRIVAGG_TASK_H

#include <stddef.h>
#include <stdint.h>

#define PA_TASK_FORMAT_VERSION 2
#define PA_TASK_ID_SIZE 32
#define PA_TASK_MAX_DIMENSIONS 8
#define PA_TASK_MAX_CATEGORIES 1024
#define PA_TASK_MAX_CELLS 1000000
#define PA_TASK_MAX_AGENCIES 100000
#define PA_TASK_MAX_NAME 256
#define PA_TASK_MAX_PARTITION_NAME 64

/* The partition name of the statewide batch (the sum of every partition). */
#define PA_TASK_STATE_PARTITION "state"

typedef enum {
    PA_VDAF_COUNT = 1,
    PA_VDAF_SUM,
    PA_VDAF_SUMVEC,
    PA_VDAF_HISTOGRAM,
    PA_VDAF_MULTIHOT,
} pa_vdaf_type;

typedef enum {
    PA_TASK_DP_NONE = 0,            /* tests only: flagged by the auditor */
    PA_TASK_DP_GAUSSIAN,
    PA_TASK_DP_LAPLACE,
} pa_task_mechanism;

typedef struct {
    char *zName;
    size_t nCategory;
    char **azCategory;
} pa_task_dimension;

typedef struct {
    char *zId;                 /* e.g. the ORI "MO0010000" */
    char *zName;
    char *zPartition;          /* the name of one of the task's partitions */
    uint8_t aPublicKey[32];    /* Ed25519 */
} pa_task_agency;

/*
 * A partition: a disjoint group of agencies released together, named in the
 * task ("29095", "region-03", "no-county") with the counties (FIPS) it covers.
 * An agency's partition is one of these names; "state" is never one.
 */
typedef struct {
    char *zName;
    size_t nCounty;
    char **azCounty;           /* may be empty (e.g. "no-county") */
} pa_task_partition;

/*
 * The two release levels of the DP policy: the statewide batch (period,
 * "state"), which contains every record of the period, and a partition batch
 * (period, partition), which contains the records of that partition only.
 */
typedef enum {
    PA_TASK_LEVEL_STATE = 0,
    PA_TASK_LEVEL_PARTITION = 1,
} pa_task_level;

typedef struct {
    char *zEndpoint;           /* "https://host:port" (NULL for the collector) */
    uint8_t aHpkePublicKey[32];/* X25519 */
    uint8_t iHpkeConfigId;
    /* optional Ed25519 key ("signing_public_key"): the collector's signs release
     * manifests (the auditor checks them against it), the leader's and the
     * helper's sign their HPKE configuration (privagg/hpke_config.h) */
    int bSigningKey;
    uint8_t aSigningKey[32];
} pa_task_party;

typedef struct pa_task {
    uint8_t aTaskId[PA_TASK_ID_SIZE];
    char *zName;

    /* schema: cells in row-major order (the last dimension varies fastest) */
    size_t nDimension;
    pa_task_dimension aDimension[PA_TASK_MAX_DIMENSIONS];
    size_t nCell;
    /* schema.structural_zeros: cells that can never be non-zero (e.g. victims of
     * Group B offenses, which are arrest-only in NIBRS).  abStructuralZero[i] is 1
     * for such a cell; NULL (and nStructuralZero 0) when the task declares none.
     * They stay in the VDAF vector (its length is nCell) but are never published. */
    unsigned char *abStructuralZero;
    size_t nStructuralZero;

    /* vdaf */
    pa_vdaf_type eVdaf;
    uint64_t nMaxMeasurement;  /* Sum, SumVec: per-cell bound; Count/Histogram: 1 */
    size_t nChunkLength;       /* SumVec, Histogram, Multihot */
    size_t nMaxWeight;         /* Multihot */

    /* parties */
    pa_task_party leader, helper, collector;
    size_t nAgency;
    pa_task_agency *aAgency;   /* sorted by zId; none when the task names a registry */
    /* parties.registry (instead of parties.agencies): the agency registry the task
     * names by its genesis entry's hash and its signer's Ed25519 key; the agencies,
     * their keys and counties come from it (include/privagg/registry.h) */
    int bRegistry;
    uint8_t aRegistryGenesis[32];
    uint8_t aRegistrySigner[32];

    /* partitions, in file order; every agency lies in exactly one */
    size_t nPartition;
    pa_task_partition *aPartition;

    /* batching */
    size_t nMinAgencies;       /* minimum distinct agencies in a collected batch */
    int bAllowCorrections;     /* a newer report of an agency replaces the older */

    /* DP policy; the privacy unit is one incident record */
    pa_task_mechanism eMechanism;
    uint64_t nMaxCellsPerRecord;   /* k: cells one record may touch */
    uint64_t nMaxPerCell;          /* c: how much one record adds to one cell */
    /* ρ (Gaussian) or ε (Laplace) a record may lose in total: a record lies in one
     * period and one partition, so this is the budget of each lattice cell
     * (period, partition); 0 with mechanism none */
    double rBudgetPerRecord;
    double aPerRelease[2];         /* charged per release, indexed by pa_task_level */
} pa_task;

/*
 * Parse and validate a task from JSON text (zJson need not be NUL-terminated).
 * Every problem is reported with its JSON path, value and limit, e.g.
 * "vdaf.chunk_length: 0 is below 1".  On success *ppTask must be freed with
 * pa_task_free().  Errors: PA_EDECODE (not JSON, wrong type), PA_EINVAL (a value
 * out of range or inconsistent), PA_ENOMEM.
 */
int pa_task_parse(pa_task **ppTask, const char *zJson, size_t nJson);

/* pa_task_parse() on the contents of a file.  Errors as above, plus PA_EIO. */
int pa_task_load(pa_task **ppTask, const char *zPath);

void pa_task_free(pa_task *pTask);

/* 1 if cell iCell (< nCell) is a structural zero of the task, else 0. */
int pa_task_structural_zero(const pa_task *pTask, size_t iCell);

/* The agency with this id, or NULL (binary search). */
const pa_task_agency *pa_task_find_agency(const pa_task *pTask, const char *zId);

/* The partition of this name, or NULL (linear search; "state" is never found). */
const pa_task_partition *pa_task_find_partition(const pa_task *pTask, const char *zName);

/* The partition of a county (FIPS; "" for an agency without a county: the
 * partition named "no-county", else the one listing "no-county" among its
 * counties), or NULL when no partition covers it. */
const pa_task_partition *pa_task_partition_of_county(const pa_task *pTask, const char *zCounty);

/* PA_TASK_LEVEL_STATE for "state", PA_TASK_LEVEL_PARTITION for any other name. */
pa_task_level pa_task_level_of(const char *zPartition);

/* "state" or "partition". */
const char *pa_task_level_name(pa_task_level e);

/* Short names used in task files and messages. */
const char *pa_vdaf_type_name(pa_vdaf_type e);
const char *pa_task_mechanism_name(pa_task_mechanism e);

#endif

/*
 * Task file: parse, validate and identify (see include/privagg/task.h and
 * docs/task-file.md).  The task id is SHA-256 over the canonical encoding:
 * jansson's compact output with sorted keys and ASCII escapes of the parsed
 * document, so whitespace and key order in the file do not change the id.
 */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/guard.h"
#include "privagg/common.h"
#include "privagg/task.h"
#include "task/loopback.h"
#include "task/task_json.h"
#include "json/json_load.h"


static const struct {
    const char *zName;
    pa_vdaf_type e;
} g_vdafs[] = {
    {"Prio3Count", PA_VDAF_COUNT},         {"Prio3Sum", PA_VDAF_SUM},
    {"Prio3SumVec", PA_VDAF_SUMVEC},       {"Prio3Histogram", PA_VDAF_HISTOGRAM},
    {"Prio3MultihotCountVec", PA_VDAF_MULTIHOT},
};

static const struct {
    const char *zName;
    pa_task_mechanism e;
} g_mechanisms[] = {
    {"none", PA_TASK_DP_NONE},
    {"discrete_gaussian", PA_TASK_DP_GAUSSIAN},
    {"discrete_laplace", PA_TASK_DP_LAPLACE},
};

const char *pa_vdaf_type_name(pa_vdaf_type e)
{
    for (size_t i = 0; i < sizeof g_vdafs / sizeof g_vdafs[0]; i++)
        if (g_vdafs[i].e == e)
            return g_vdafs[i].zName;
    return "unknown";
}

const char *pa_task_mechanism_name(pa_task_mechanism e)
{
    for (size_t i = 0; i < sizeof g_mechanisms / sizeof g_mechanisms[0]; i++)
        if (g_mechanisms[i].e == e)
            return g_mechanisms[i].zName;
    return "unknown";
}

#define PA_TASK_MAX_STRUCTURAL_ZEROS 4096

/*
 * schema.structural_zeros (optional): a list of partial cells, each an object
 * {dimension name: category, ...} naming 1..all dimensions; every cell that
 * matches the named categories (any category of the dimensions not named) can
 * never be non-zero.  Absent = none, so tasks without the key keep their meaning
 * and their id.  Marks pTask->abStructuralZero; the cells of one entry are
 * enumerated directly (an odometer over the dimensions it does not name), so the
 * cost is the number of cells marked, not entries x cells.
 */
static int parse_structural_zeros(pa_task *pTask, const json_t *pSchema)
{
    json_t *pArr = json_object_get(pSchema, "structural_zeros"), *pEntry;
    size_t i, aStride[PA_TASK_MAX_DIMENSIONS];
    char zPath[64];

    if (pArr == NULL)
        return PA_OK;
    if (!json_is_array(pArr))
        return pa_fail(PA_EDECODE, "schema.structural_zeros: must be an array of objects");
    if (json_array_size(pArr) > PA_TASK_MAX_STRUCTURAL_ZEROS)
        return pa_fail(PA_EINVAL, "schema.structural_zeros: %zu entries, above the limit %d",
                       json_array_size(pArr), PA_TASK_MAX_STRUCTURAL_ZEROS);
    pTask->abStructuralZero = calloc(pTask->nCell, 1);
    if (pTask->abStructuralZero == NULL)
        return pa_fail(PA_ENOMEM, "schema.structural_zeros: out of memory");
    aStride[pTask->nDimension - 1] = 1;
    for (size_t d = pTask->nDimension - 1; d-- > 0;)
        aStride[d] = aStride[d + 1] * pTask->aDimension[d + 1].nCategory;
    json_array_foreach(pArr, i, pEntry) {
        long aFixed[PA_TASK_MAX_DIMENSIONS];
        size_t aIdx[PA_TASK_MAX_DIMENSIONS] = {0};
        const char *zKey;
        json_t *pVal;

        snprintf(zPath, sizeof zPath, "schema.structural_zeros[%zu]", i);
        if (!json_is_object(pEntry) || json_object_size(pEntry) == 0)
            return pa_fail(PA_EDECODE, "%s: must be an object {dimension: category, ...} naming at least "
                                       "one dimension", zPath);
        for (size_t d = 0; d < pTask->nDimension; d++)
            aFixed[d] = -1;
        json_object_foreach(pEntry, zKey, pVal) {
            size_t d, j;
            for (d = 0; d < pTask->nDimension; d++)
                if (strcmp(pTask->aDimension[d].zName, zKey) == 0)
                    break;
            if (d == pTask->nDimension)
                return pa_fail(PA_EINVAL, "%s.%s: not a dimension of schema.dimensions", zPath, zKey);
            if (!json_is_string(pVal))
                return pa_fail(PA_EDECODE, "%s.%s: must be a category name (a string)", zPath, zKey);
            for (j = 0; j < pTask->aDimension[d].nCategory; j++)
                if (strcmp(pTask->aDimension[d].azCategory[j], json_string_value(pVal)) == 0)
                    break;
            if (j == pTask->aDimension[d].nCategory)
                return pa_fail(PA_EINVAL, "%s.%s: \"%s\" is not a category of dimension %s", zPath, zKey,
                               json_string_value(pVal), zKey);
            aFixed[d] = (long)j;
        }
        /* odometer over the dimensions the entry leaves free */
        for (;;) {
            size_t iCell = 0, d;
            for (d = 0; d < pTask->nDimension; d++)
                iCell += (aFixed[d] >= 0 ? (size_t)aFixed[d] : aIdx[d]) * aStride[d];
            pTask->nStructuralZero += !pTask->abStructuralZero[iCell];
            pTask->abStructuralZero[iCell] = 1;
            for (d = pTask->nDimension; d-- > 0;) {
                if (aFixed[d] >= 0)
                    continue;
                if (++aIdx[d] < pTask->aDimension[d].nCategory)
                    break;
                aIdx[d] = 0;
            }
            if (d == (size_t)-1)
                break;
        }
    }
    if (pTask->nStructuralZero == pTask->nCell)
        return pa_fail(PA_EINVAL, "schema.structural_zeros: every one of the %zu cells is a structural "
                                  "zero; nothing could ever be counted", pTask->nCell);
    return PA_OK;
}

int pa_task_structural_zero(const pa_task *pTask, size_t iCell)
{
    return pTask->abStructuralZero != NULL && iCell < pTask->nCell && pTask->abStructuralZero[iCell];
}

static int parse_schema(pa_task *pTask, const json_t *pRoot)
{
    static const char *const azSchemaKeys[] = {"dimensions", "structural_zeros", NULL};
    static const char *const azDimKeys[] = {"name", "categories", NULL};
    json_t *pSchema, *pDims, *pDim;
    size_t i;
    char zPath[64];

    PA_GUARD(pa_json_object(pRoot, "", "schema", &pSchema));
    PA_GUARD(pa_json_only_keys(pSchema, "schema", azSchemaKeys));
    PA_GUARD(pa_json_array(pSchema, "schema", "dimensions", &pDims));
    if (json_array_size(pDims) < 1 || json_array_size(pDims) > PA_TASK_MAX_DIMENSIONS)
        return pa_fail(PA_EINVAL, "schema.dimensions: %zu dimensions, expected 1..%d",
                       json_array_size(pDims), PA_TASK_MAX_DIMENSIONS);
    pTask->nCell = 1;
    json_array_foreach(pDims, i, pDim) {
        pa_task_dimension *d = &pTask->aDimension[i];
        json_t *pCats, *pCat;
        size_t j;

        snprintf(zPath, sizeof zPath, "schema.dimensions[%zu]", i);
        if (!json_is_object(pDim))
            return pa_fail(PA_EDECODE, "%s: must be an object", zPath);
        PA_GUARD(pa_json_only_keys(pDim, zPath, azDimKeys));
        pTask->nDimension = i + 1;
        PA_GUARD(pa_json_string(pDim, zPath, "name", PA_TASK_MAX_NAME, &d->zName));
        PA_GUARD(pa_json_array(pDim, zPath, "categories", &pCats));
        if (json_array_size(pCats) < 1 || json_array_size(pCats) > PA_TASK_MAX_CATEGORIES)
            return pa_fail(PA_EINVAL, "%s.categories: %zu categories, expected 1..%d", zPath,
                           json_array_size(pCats), PA_TASK_MAX_CATEGORIES);
        d->azCategory = calloc(json_array_size(pCats), sizeof *d->azCategory);
        if (d->azCategory == NULL)
            return pa_fail(PA_ENOMEM, "%s.categories: out of memory", zPath);
        json_array_foreach(pCats, j, pCat) {
            if (!json_is_string(pCat) || json_string_length(pCat) == 0 ||
                json_string_length(pCat) > PA_TASK_MAX_NAME)
                return pa_fail(PA_EINVAL, "%s.categories[%zu]: must be a string of 1..%d bytes", zPath,
                               j, PA_TASK_MAX_NAME);
            d->azCategory[j] = strdup(json_string_value(pCat));
            if (d->azCategory[j] == NULL)
                return pa_fail(PA_ENOMEM, "%s.categories: out of memory", zPath);
            d->nCategory = j + 1;
            for (size_t k = 0; k < j; k++)
                if (strcmp(d->azCategory[k], d->azCategory[j]) == 0)
                    return pa_fail(PA_EINVAL, "%s.categories[%zu]: \"%s\" repeats categories[%zu]",
                                   zPath, j, d->azCategory[j], k);
        }
        if (pTask->nCell * d->nCategory > PA_TASK_MAX_CELLS)
            return pa_fail(PA_EINVAL, "schema.dimensions: %zu cells and more, above the limit %d",
                           pTask->nCell * d->nCategory, PA_TASK_MAX_CELLS);
        pTask->nCell *= d->nCategory;
    }
    return parse_structural_zeros(pTask, pSchema);
}

static int parse_vdaf(pa_task *pTask, const json_t *pRoot)
{
    static const char *const azKeys[] = {"type", "length", "max_measurement", "chunk_length",
                                         "max_weight", NULL};
    json_t *pVdaf;
    char *zType = NULL;
    uint64_t n = 0;
    size_t i;
    int rc;

    PA_GUARD(pa_json_object(pRoot, "", "vdaf", &pVdaf));
    PA_GUARD(pa_json_only_keys(pVdaf, "vdaf", azKeys));
    PA_GUARD(pa_json_string(pVdaf, "vdaf", "type", 64, &zType));
    for (i = 0; i < sizeof g_vdafs / sizeof g_vdafs[0]; i++)
        if (strcmp(zType, g_vdafs[i].zName) == 0)
            break;
    if (i == sizeof g_vdafs / sizeof g_vdafs[0]) {
        rc = pa_fail(PA_EINVAL, "vdaf.type: \"%s\" is not one of Prio3Count, Prio3Sum, Prio3SumVec, "
                                "Prio3Histogram, Prio3MultihotCountVec", zType);
        free(zType);
        return rc;
    }
    free(zType);
    pTask->eVdaf = g_vdafs[i].e;

    if (pTask->eVdaf == PA_VDAF_COUNT || pTask->eVdaf == PA_VDAF_SUM) {
        if (pTask->nCell != 1)
            return pa_fail(PA_EINVAL, "vdaf.type: %s measures one cell but the schema has %zu",
                           pa_vdaf_type_name(pTask->eVdaf), pTask->nCell);
    } else {
        PA_GUARD(pa_json_uint(pVdaf, "vdaf", "length", pTask->nCell, pTask->nCell, 1, pTask->nCell, &n));
        PA_GUARD(pa_json_uint(pVdaf, "vdaf", "chunk_length", 1, pTask->nCell, 0, 0, &n));
        pTask->nChunkLength = (size_t)n;
    }
    pTask->nMaxMeasurement = 1;
    if (pTask->eVdaf == PA_VDAF_SUM || pTask->eVdaf == PA_VDAF_SUMVEC)
        PA_GUARD(pa_json_uint(pVdaf, "vdaf", "max_measurement", 1, UINT32_MAX, 0, 0,
                           &pTask->nMaxMeasurement));
    if (pTask->eVdaf == PA_VDAF_MULTIHOT) {
        PA_GUARD(pa_json_uint(pVdaf, "vdaf", "max_weight", 1, pTask->nCell, 0, 0, &n));
        pTask->nMaxWeight = (size_t)n;
    }
    return PA_OK;
}

static int parse_party(pa_task_party *pParty, const json_t *pParties, const char *zRole,
                       int bEndpoint)
{
    static const char *const azKeys[] = {"endpoint", "hpke_public_key", "hpke_config_id",
                                         "signing_public_key", NULL};
    char zPath[32];
    json_t *pParty_;
    uint64_t id;

    snprintf(zPath, sizeof zPath, "parties.%s", zRole);
    PA_GUARD(pa_json_object(pParties, "parties", zRole, &pParty_));
    PA_GUARD(pa_json_only_keys(pParty_, zPath, azKeys));
    if (bEndpoint) {
        PA_GUARD(pa_json_string(pParty_, zPath, "endpoint", 512, &pParty->zEndpoint));
        char zField[48];
        snprintf(zField, sizeof zField, "%s.endpoint", zPath);
        PA_GUARD(pa_endpoint_check(zField, pParty->zEndpoint));
    } else if (json_object_get(pParty_, "endpoint") != NULL) {
        return pa_fail(PA_EINVAL, "%s.endpoint: the collector has no endpoint", zPath);
    }
    PA_GUARD(pa_json_hex(pParty_, zPath, "hpke_public_key", pParty->aHpkePublicKey, 32));
    PA_GUARD(pa_json_uint(pParty_, zPath, "hpke_config_id", 0, 255, 1, 0, &id));
    pParty->iHpkeConfigId = (uint8_t)id;
    /* collector: signs release manifests; leader, helper: their HPKE configuration */
    if (json_object_get(pParty_, "signing_public_key") != NULL) {
        PA_GUARD(pa_json_hex(pParty_, zPath, "signing_public_key", pParty->aSigningKey, 32));
        pParty->bSigningKey = 1;
    }
    return PA_OK;
}

static int cmp_agency(const void *a, const void *b)
{
    return strcmp(((const pa_task_agency *)a)->zId, ((const pa_task_agency *)b)->zId);
}

static int parse_parties(pa_task *pTask, const json_t *pRoot)
{
    static const char *const azKeys[] = {"leader", "helper", "collector", "agencies", "registry", NULL};
    static const char *const azRegistryKeys[] = {"genesis", "signing_public_key", NULL};
    static const char *const azAgencyKeys[] = {"id", "name", "partition", "public_key", NULL};
    json_t *pParties, *pAgencies, *pAgency;
    size_t i;
    char zPath[48];

    PA_GUARD(pa_json_object(pRoot, "", "parties", &pParties));
    PA_GUARD(pa_json_only_keys(pParties, "parties", azKeys));
    PA_GUARD(parse_party(&pTask->leader, pParties, "leader", 1));
    PA_GUARD(parse_party(&pTask->helper, pParties, "helper", 1));
    PA_GUARD(parse_party(&pTask->collector, pParties, "collector", 0));
    if (sodium_memcmp(pTask->leader.aHpkePublicKey, pTask->helper.aHpkePublicKey, 32) == 0)
        return pa_fail(PA_EINVAL, "parties.helper.hpke_public_key: equals the leader's; the two "
                                  "aggregators must hold independent keys");
    if (json_object_get(pParties, "registry") != NULL) {
        /* the agencies live in the registry (include/privagg/registry.h) */
        json_t *pReg;
        if (json_object_get(pParties, "agencies") != NULL)
            return pa_fail(PA_EINVAL, "parties: give agencies or registry, not both");
        PA_GUARD(pa_json_object(pParties, "parties", "registry", &pReg));
        PA_GUARD(pa_json_only_keys(pReg, "parties.registry", azRegistryKeys));
        PA_GUARD(pa_json_hex(pReg, "parties.registry", "genesis", pTask->aRegistryGenesis, 32));
        PA_GUARD(pa_json_hex(pReg, "parties.registry", "signing_public_key", pTask->aRegistrySigner, 32));
        pTask->bRegistry = 1;
        return PA_OK;
    }
    PA_GUARD(pa_json_array(pParties, "parties", "agencies", &pAgencies));
    if (json_array_size(pAgencies) < 1 || json_array_size(pAgencies) > PA_TASK_MAX_AGENCIES)
        return pa_fail(PA_EINVAL, "parties.agencies: %zu agencies, expected 1..%d",
                       json_array_size(pAgencies), PA_TASK_MAX_AGENCIES);
    pTask->aAgency = calloc(json_array_size(pAgencies), sizeof *pTask->aAgency);
    if (pTask->aAgency == NULL)
        return pa_fail(PA_ENOMEM, "parties.agencies: out of memory");
    json_array_foreach(pAgencies, i, pAgency) {
        pa_task_agency *a = &pTask->aAgency[i];

        snprintf(zPath, sizeof zPath, "parties.agencies[%zu]", i);
        if (!json_is_object(pAgency))
            return pa_fail(PA_EDECODE, "%s: must be an object", zPath);
        PA_GUARD(pa_json_only_keys(pAgency, zPath, azAgencyKeys));
        pTask->nAgency = i + 1;
        PA_GUARD(pa_json_string(pAgency, zPath, "id", 64, &a->zId));
        PA_GUARD(pa_json_string(pAgency, zPath, "name", PA_TASK_MAX_NAME, &a->zName));
        PA_GUARD(pa_json_string(pAgency, zPath, "partition", 64, &a->zPartition));
        if (strcmp(a->zPartition, "state") == 0)
            return pa_fail(PA_EINVAL, "%s.partition: \"state\" is reserved for the statewide batch",
                           zPath);
        PA_GUARD(pa_json_hex(pAgency, zPath, "public_key", a->aPublicKey, 32));
    }
    qsort(pTask->aAgency, pTask->nAgency, sizeof *pTask->aAgency, cmp_agency);
    for (i = 1; i < pTask->nAgency; i++)
        if (strcmp(pTask->aAgency[i - 1].zId, pTask->aAgency[i].zId) == 0)
            return pa_fail(PA_EINVAL, "parties.agencies: id \"%s\" appears twice",
                           pTask->aAgency[i].zId);
    return PA_OK;
}

static int parse_batching(pa_task *pTask, const json_t *pRoot)
{
    static const char *const azKeys[] = {"period", "min_agencies", "allow_corrections", NULL};
    json_t *pBatching;
    char *zPeriod = NULL;
    uint64_t n;
    int rc;

    PA_GUARD(pa_json_object(pRoot, "", "batching", &pBatching));
    PA_GUARD(pa_json_only_keys(pBatching, "batching", azKeys));
    PA_GUARD(pa_json_string(pBatching, "batching", "period", 16, &zPeriod));
    rc = strcmp(zPeriod, "month") == 0
             ? PA_OK
             : pa_fail(PA_EINVAL, "batching.period: \"%s\" is not supported (only \"month\")", zPeriod);
    free(zPeriod);
    PA_GUARD(rc);
    PA_GUARD(pa_json_uint(pBatching, "batching", "min_agencies", 1,
                          pTask->bRegistry ? PA_TASK_MAX_AGENCIES : pTask->nAgency, 0, 0, &n));
    pTask->nMinAgencies = (size_t)n;
    PA_GUARD(pa_json_bool(pBatching, "batching", "allow_corrections", 0, &pTask->bAllowCorrections));
    return PA_OK;
}

/* {"rho": x} or {"epsilon": x}: x in (0, rMax] */
static int parse_amount(const json_t *pParent, const char *zPath, const char *zKey, const char *zUnit,
                        double rMax, double *pOut)
{
    const char *azKeys[] = {zUnit, NULL};
    char zSub[64];
    json_t *p;

    snprintf(zSub, sizeof zSub, "%s.%s", zPath, zKey);
    PA_GUARD(pa_json_object(pParent, zPath, zKey, &p));
    PA_GUARD(pa_json_only_keys(p, zSub, azKeys));
    return pa_json_positive(p, zSub, zUnit, rMax, pOut);
}

static int parse_dp(pa_task *pTask, const json_t *pRoot)
{
    static const char *const azKeys[] = {"mechanism", "privacy_unit", "max_cells_per_record",
                                         "max_per_cell", "budget_per_record", "per_release", NULL};
    static const char *const azLevels[] = {"state", "partition", NULL};
    json_t *pDp, *pRelease;
    char *z = NULL;
    size_t i;
    int rc;
    const char *zUnit;

    PA_GUARD(pa_json_object(pRoot, "", "dp", &pDp));
    PA_GUARD(pa_json_only_keys(pDp, "dp", azKeys));
    PA_GUARD(pa_json_string(pDp, "dp", "mechanism", 32, &z));
    for (i = 0; i < sizeof g_mechanisms / sizeof g_mechanisms[0]; i++)
        if (strcmp(z, g_mechanisms[i].zName) == 0)
            break;
    rc = i < sizeof g_mechanisms / sizeof g_mechanisms[0]
             ? PA_OK
             : pa_fail(PA_EINVAL, "dp.mechanism: \"%s\" is not one of discrete_gaussian, "
                                  "discrete_laplace, none", z);
    free(z);
    PA_GUARD(rc);
    pTask->eMechanism = g_mechanisms[i].e;
    PA_GUARD(pa_json_string(pDp, "dp", "privacy_unit", 32, &z));
    rc = strcmp(z, "incident_record") == 0
             ? PA_OK
             : pa_fail(PA_EINVAL, "dp.privacy_unit: \"%s\" is not supported (only \"incident_record\")", z);
    free(z);
    PA_GUARD(rc);
    /* the contribution bounds say what one record may add: the submitter
     * applies them whatever the mechanism (without noise they are optional and
     * default to no bound beyond the schema's) */
    int bNone = pTask->eMechanism == PA_TASK_DP_NONE;
    PA_GUARD(pa_json_uint(pDp, "dp", "max_cells_per_record", 1, pTask->nCell, bNone, pTask->nCell,
                          &pTask->nMaxCellsPerRecord));
    PA_GUARD(pa_json_uint(pDp, "dp", "max_per_cell", 1, pTask->nMaxMeasurement, bNone,
                          pTask->nMaxMeasurement, &pTask->nMaxPerCell));
    if (bNone)
        return PA_OK;
    zUnit = pTask->eMechanism == PA_TASK_DP_GAUSSIAN ? "rho" : "epsilon";
    PA_GUARD(parse_amount(pDp, "dp", "budget_per_record", zUnit, 1000.0, &pTask->rBudgetPerRecord));
    PA_GUARD(pa_json_object(pDp, "dp", "per_release", &pRelease));
    PA_GUARD(pa_json_only_keys(pRelease, "dp.per_release", azLevels));
    for (int e = PA_TASK_LEVEL_STATE; e <= PA_TASK_LEVEL_PARTITION; e++) {
        PA_GUARD(parse_amount(pRelease, "dp.per_release", azLevels[e], zUnit, 100.0,
                              &pTask->aPerRelease[e]));
        if (pTask->aPerRelease[e] > pTask->rBudgetPerRecord)
            return pa_fail(PA_EINVAL, "dp.per_release.%s.%s: %g is above dp.budget_per_record.%s "
                                      "%g; such a release could never be made", azLevels[e], zUnit,
                           pTask->aPerRelease[e], zUnit, pTask->rBudgetPerRecord);
    }
    return PA_OK;
}

/* names that are, or could be read as, the statewide batch */
static int looks_statewide(const char *z)
{
    return strncasecmp(z, PA_TASK_STATE_PARTITION, strlen(PA_TASK_STATE_PARTITION)) == 0;
}

typedef struct {
    const char *z;
    size_t i;      /* index of the partition in the file */
} name_ref;

static int cmp_name_ref(const void *a, const void *b)
{
    int c = strcmp(((const name_ref *)a)->z, ((const name_ref *)b)->z);
    if (c != 0)
        return c;
    return ((const name_ref *)a)->i < ((const name_ref *)b)->i ? -1 : 1;
}

static int cmp_name_ref_name(const void *a, const void *b)
{
    return strcmp(((const name_ref *)a)->z, ((const name_ref *)b)->z);
}

/*
 * "partitions": [{"name": ..., "counties": [...]}, ...].  Names unique, none
 * statewide-looking, a county in at most one partition, every agency's partition
 * listed, every partition holding at least batching.min_agencies agencies (else it
 * could never be released).  Runs after parse_parties and parse_batching.
 */
static int parse_partitions(pa_task *pTask, const json_t *pRoot)
{
    static const char *const azKeys[] = {"name", "counties", NULL};
    json_t *pArr, *pPart;
    name_ref *aName = NULL, *aCounty = NULL, key;
    size_t *anAgency = NULL, nCountyAll = 0, i;
    char zPath[48];
    int rc = PA_OK;

    PA_GUARD(pa_json_array(pRoot, "", "partitions", &pArr));
    if (json_array_size(pArr) < 1 || json_array_size(pArr) > PA_TASK_MAX_AGENCIES)
        return pa_fail(PA_EINVAL, "partitions: %zu partitions, expected 1..%d",
                       json_array_size(pArr), PA_TASK_MAX_AGENCIES);
    pTask->aPartition = calloc(json_array_size(pArr), sizeof *pTask->aPartition);
    if (pTask->aPartition == NULL)
        return pa_fail(PA_ENOMEM, "partitions: out of memory");
    json_array_foreach(pArr, i, pPart) {
        pa_task_partition *p = &pTask->aPartition[i];
        json_t *pCounties, *pCounty;
        size_t j;

        snprintf(zPath, sizeof zPath, "partitions[%zu]", i);
        if (!json_is_object(pPart))
            return pa_fail(PA_EDECODE, "%s: must be an object", zPath);
        PA_GUARD(pa_json_only_keys(pPart, zPath, azKeys));
        pTask->nPartition = i + 1;
        PA_GUARD(pa_json_string(pPart, zPath, "name", PA_TASK_MAX_PARTITION_NAME, &p->zName));
        if (looks_statewide(p->zName))
            return pa_fail(PA_EINVAL, "%s.name: \"%s\" is or looks like the statewide batch "
                                      "\"%s\"; names starting with \"state\" are reserved (use e.g. "
                                      "\"no-county\")", zPath, p->zName, PA_TASK_STATE_PARTITION);
        PA_GUARD(pa_json_array(pPart, zPath, "counties", &pCounties));
        if (json_array_size(pCounties) > 0) {
            p->azCounty = calloc(json_array_size(pCounties), sizeof *p->azCounty);
            if (p->azCounty == NULL)
                return pa_fail(PA_ENOMEM, "%s.counties: out of memory", zPath);
        }
        json_array_foreach(pCounties, j, pCounty) {
            if (!json_is_string(pCounty) || json_string_length(pCounty) == 0 ||
                json_string_length(pCounty) > PA_TASK_MAX_PARTITION_NAME)
                return pa_fail(PA_EINVAL, "%s.counties[%zu]: must be a string of 1..%d bytes", zPath, j,
                               PA_TASK_MAX_PARTITION_NAME);
            p->azCounty[j] = strdup(json_string_value(pCounty));
            if (p->azCounty[j] == NULL)
                return pa_fail(PA_ENOMEM, "%s.counties: out of memory", zPath);
            p->nCounty = j + 1;
        }
        nCountyAll += p->nCounty;
    }

    aName = calloc(pTask->nPartition, sizeof *aName);
    aCounty = calloc(nCountyAll ? nCountyAll : 1, sizeof *aCounty);
    anAgency = calloc(pTask->nPartition, sizeof *anAgency);
    if (aName == NULL || aCounty == NULL || anAgency == NULL) {
        rc = pa_fail(PA_ENOMEM, "partitions: out of memory");
        goto done;
    }
    nCountyAll = 0;
    for (i = 0; i < pTask->nPartition; i++) {
        aName[i].z = pTask->aPartition[i].zName;
        aName[i].i = i;
        for (size_t j = 0; j < pTask->aPartition[i].nCounty; j++) {
            aCounty[nCountyAll].z = pTask->aPartition[i].azCounty[j];
            aCounty[nCountyAll++].i = i;
        }
    }
    qsort(aName, pTask->nPartition, sizeof *aName, cmp_name_ref);
    for (i = 1; i < pTask->nPartition && rc == PA_OK; i++)
        if (strcmp(aName[i - 1].z, aName[i].z) == 0)
            rc = pa_fail(PA_EINVAL, "partitions[%zu].name: \"%s\" repeats partitions[%zu]", aName[i].i,
                         aName[i].z, aName[i - 1].i);
    qsort(aCounty, nCountyAll, sizeof *aCounty, cmp_name_ref);
    for (i = 1; i < nCountyAll && rc == PA_OK; i++)
        if (strcmp(aCounty[i - 1].z, aCounty[i].z) == 0)
            rc = pa_fail(PA_EINVAL, "partitions[%zu].counties: county %s is already in partitions[%zu] "
                                    "\"%s\"; a county lies in one partition", aCounty[i].i,
                         aCounty[i].z, aCounty[i - 1].i, pTask->aPartition[aCounty[i - 1].i].zName);
    /* every agency's partition is listed; count the agencies of each */
    for (i = 0; i < pTask->nAgency && rc == PA_OK; i++) {
        name_ref *pHit;
        key.z = pTask->aAgency[i].zPartition;
        key.i = 0;
        pHit = bsearch(&key, aName, pTask->nPartition, sizeof *aName, cmp_name_ref_name);
        if (pHit == NULL)
            rc = pa_fail(PA_EINVAL, "parties.agencies (id %s): partition \"%s\" is not listed in "
                                    "partitions", pTask->aAgency[i].zId, key.z);
        else
            anAgency[pHit->i]++;
    }
    /* a registry's agencies are placed by county when a report arrives */
    for (i = 0; i < pTask->nPartition && rc == PA_OK && !pTask->bRegistry; i++)
        if (anAgency[i] < pTask->nMinAgencies || anAgency[i] == 0)
            rc = pa_fail(PA_EINVAL, "partitions[%zu] \"%s\": %zu agencies, below "
                                    "batching.min_agencies %zu; such a partition can never be "
                                    "released: merge it into a region", i,
                         pTask->aPartition[i].zName, anAgency[i], pTask->nMinAgencies);
done:
    free(aName);
    free(aCounty);
    free(anAgency);
    return rc;
}

static int task_id(pa_task *pTask, const json_t *pRoot)
{
    char *zCanon = pa_json_dumps(pRoot, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII |
                                         JSON_REAL_PRECISION(17));
    if (zCanon == NULL)
        return pa_fail(PA_ENOMEM, "task: canonical encoding failed");
    crypto_hash_sha256(pTask->aTaskId, (const unsigned char *)zCanon, strlen(zCanon));
    free(zCanon);
    return PA_OK;
}

static int parse_root(pa_task *pTask, const json_t *pRoot)
{
    static const char *const azKeys[] = {"format", "name", "schema", "vdaf", "parties", "partitions",
                                         "batching", "dp", NULL};
    uint64_t iFormat;
    json_t *pFormat;

    if (!json_is_object(pRoot))
        return pa_fail(PA_EDECODE, "task: the document must be a JSON object");
    pFormat = json_object_get(pRoot, "format");
    if (json_is_integer(pFormat) && json_integer_value(pFormat) == 1)
        return pa_fail(PA_EINVAL, "format: 1 is an older task file; format 2 charges the privacy "
                                  "budget per record and lattice cell (dp.budget_per_record, "
                                  "dp.per_release.state and .partition replace dp.per_release and "
                                  "dp.total_budget) and lists the partitions (\"partitions\"); "
                                  "re-create the task with `privagg task init` "
                                  "(docs/task-file.md)");
    PA_GUARD(pa_json_only_keys(pRoot, "", azKeys));
    PA_GUARD(pa_json_uint(pRoot, "", "format", PA_TASK_FORMAT_VERSION, PA_TASK_FORMAT_VERSION, 0, 0,
                       &iFormat));
    PA_GUARD(pa_json_string(pRoot, "", "name", PA_TASK_MAX_NAME, &pTask->zName));
    PA_GUARD(parse_schema(pTask, pRoot));
    PA_GUARD(parse_vdaf(pTask, pRoot));
    PA_GUARD(parse_parties(pTask, pRoot));
    PA_GUARD(parse_batching(pTask, pRoot));
    PA_GUARD(parse_partitions(pTask, pRoot));
    PA_GUARD(parse_dp(pTask, pRoot));
    return task_id(pTask, pRoot);
}

int pa_task_parse(pa_task **ppTask, const char *zJson, size_t nJson)
{
    json_error_t err;
    json_t *pRoot;
    pa_task *pTask;
    int rc;

    *ppTask = NULL;
    pRoot = pa_json_loadb(zJson, nJson, JSON_REJECT_DUPLICATES, &err);
    if (pRoot == NULL)
        return pa_fail(pa_json_load_status(&err),
                       "task: line %d column %d: %s", err.line, err.column, err.text);
    pTask = calloc(1, sizeof *pTask);
    if (pTask == NULL) {
        json_decref(pRoot);
        return pa_fail(PA_ENOMEM, "task: out of memory");
    }
    rc = parse_root(pTask, pRoot);
    json_decref(pRoot);
    if (rc != PA_OK) {
        pa_task_free(pTask);
        return rc;
    }
    *ppTask = pTask;
    return PA_OK;
}

int pa_task_load(pa_task **ppTask, const char *zPath)
{
    FILE *f;
    char *zBuf = NULL;
    size_t n = 0, cap = 0;
    int rc;

    *ppTask = NULL;
    f = fopen(zPath, "rb");
    if (f == NULL)
        return pa_fail(PA_EIO, "task file %s: %s", zPath, strerror(errno));
    for (;;) {
        if (n == cap) {
            char *zNew;
            if (cap >= (size_t)64 << 20) {
                fclose(f);
                free(zBuf);
                return pa_fail(PA_ERANGE, "task file %s: larger than the limit of 64 MiB", zPath);
            }
            cap = cap ? 2 * cap : 65536;
            zNew = realloc(zBuf, cap);
            if (zNew == NULL) {
                fclose(f);
                free(zBuf);
                return pa_fail(PA_ENOMEM, "task file %s: out of memory", zPath);
            }
            zBuf = zNew;
        }
        size_t got = fread(zBuf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    rc = ferror(f) ? pa_fail(PA_EIO, "task file %s: read error", zPath) : PA_OK;
    fclose(f);
    if (rc == PA_OK)
        rc = pa_task_parse(ppTask, zBuf, n);
    free(zBuf);
    return rc;
}

void pa_task_free(pa_task *pTask)
{
    if (pTask == NULL)
        return;
    free(pTask->zName);
    free(pTask->abStructuralZero);
    for (size_t i = 0; i < pTask->nDimension; i++) {
        for (size_t j = 0; j < pTask->aDimension[i].nCategory; j++)
            free(pTask->aDimension[i].azCategory[j]);
        free(pTask->aDimension[i].azCategory);
        free(pTask->aDimension[i].zName);
    }
    free(pTask->leader.zEndpoint);
    free(pTask->helper.zEndpoint);
    free(pTask->collector.zEndpoint);
    for (size_t i = 0; i < pTask->nAgency; i++) {
        free(pTask->aAgency[i].zId);
        free(pTask->aAgency[i].zName);
        free(pTask->aAgency[i].zPartition);
    }
    free(pTask->aAgency);
    for (size_t i = 0; i < pTask->nPartition; i++) {
        for (size_t j = 0; j < pTask->aPartition[i].nCounty; j++)
            free(pTask->aPartition[i].azCounty[j]);
        free(pTask->aPartition[i].azCounty);
        free(pTask->aPartition[i].zName);
    }
    free(pTask->aPartition);
    free(pTask);
}

const pa_task_agency *pa_task_find_agency(const pa_task *pTask, const char *zId)
{
    pa_task_agency key;

    memset(&key, 0, sizeof key);
    key.zId = (char *)zId;
    if (pTask->nAgency == 0)
        return NULL;
    return bsearch(&key, pTask->aAgency, pTask->nAgency, sizeof key, cmp_agency);
}

const pa_task_partition *pa_task_find_partition(const pa_task *pTask, const char *zName)
{
    for (size_t i = 0; i < pTask->nPartition; i++)
        if (strcmp(pTask->aPartition[i].zName, zName) == 0)
            return &pTask->aPartition[i];
    return NULL;
}

const pa_task_partition *pa_task_partition_of_county(const pa_task *pTask, const char *zCounty)
{
    const char *zKey = zCounty[0] ? zCounty : "no-county";
    if (zCounty[0] == '\0' && pa_task_find_partition(pTask, zKey) != NULL)
        return pa_task_find_partition(pTask, zKey);
    for (size_t i = 0; i < pTask->nPartition; i++)
        for (size_t j = 0; j < pTask->aPartition[i].nCounty; j++)
            if (strcmp(pTask->aPartition[i].azCounty[j], zKey) == 0)
                return &pTask->aPartition[i];
    return NULL;
}

pa_task_level pa_task_level_of(const char *zPartition)
{
    return strcmp(zPartition, PA_TASK_STATE_PARTITION) == 0 ? PA_TASK_LEVEL_STATE
                                                             : PA_TASK_LEVEL_PARTITION;
}

const char *pa_task_level_name(pa_task_level e)
{
    return e == PA_TASK_LEVEL_STATE ? "state" : "partition";
}

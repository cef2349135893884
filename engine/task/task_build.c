/*
 * Default task of a state from the shipped data (see include/privagg/task_build.h):
 * schema from the offense buckets, agencies from the agency file, partitions by
 * the region rule of engine/task/partitions.c over the county centroid file.
 */
#include <ctype.h>
#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/guard.h"
#include "privagg/common.h"
#include "privagg/csv.h"
#include "privagg/task.h"
#include "privagg/task_build.h"
#include "task/partitions.h"

const char *const pa_default_status[5] = {
    "U.S. citizen", "lawful permanent resident", "other lawful status", "no lawful status",
    "unknown",
};
const char *const pa_default_roles[2] = {"offender/arrestee", "victim"};

static json_t *hex(const uint8_t *p, size_t n)
{
    char z[129];
    sodium_bin2hex(z, sizeof z, p, n);
    return json_string(z);
}

/* data/<st>_<zWhat>.csv (task_build.h) */
int pa_task_state_file(char *zPath, size_t n, const char *zDataDir, const char *zState, const char *zWhat)
{
    char zLower[3];
    if (strlen(zState) != 2 || !isalpha((unsigned char)zState[0]) || !isalpha((unsigned char)zState[1]))
        return pa_fail(PA_EINVAL, "state: \"%s\" is not a two-letter code", zState);
    zLower[0] = (char)tolower((unsigned char)zState[0]);
    zLower[1] = (char)tolower((unsigned char)zState[1]);
    zLower[2] = '\0';
    snprintf(zPath, n, "%s/%s_%s.csv", zDataDir, zLower, zWhat);
    return PA_OK;
}

/*
 * Offense buckets 1..27 in bucket_id order, names from the CSV; and the structural
 * zeros: the victim cells of every bucket whose codes all have no person victim in
 * NIBRS (group B, arrest-only; or crimes against society, whose victim is
 * "society"), as {"offense": bucket, "role": "victim"}.  The submitter's records
 * reader applies the same rule per code (engine/submit/mapping.c).
 */
static int offense_categories(json_t **ppCats, json_t **ppZeros, const char *zDataDir)
{
    char zPath[4096];
    pa_csv *c;
    const char *azName[64] = {0};
    unsigned char abVictim[64] = {0}; /* 1: some code of the bucket can have a person victim */
    int rc, iId, iName, iGroup, iAgainst;
    size_t nMax = 0;

    snprintf(zPath, sizeof zPath, "%s/nibrs_offense_buckets.csv", zDataDir);
    rc = pa_csv_load(&c, zPath);
    if (rc != PA_OK)
        return rc;
    iId = pa_csv_column(c, "bucket_id");
    iName = pa_csv_column(c, "bucket");
    iGroup = pa_csv_column(c, "group");
    iAgainst = pa_csv_column(c, "crime_against");
    if (iId < 0 || iName < 0 || iGroup < 0 || iAgainst < 0) {
        pa_csv_free(c);
        return pa_fail(PA_EDECODE, "%s: columns bucket_id, bucket, group and crime_against are required",
                       zPath);
    }
    for (size_t r = 0; r < pa_csv_row_count(c); r++) {
        char *zEnd;
        long id = strtol(pa_csv_get(c, r, iId), &zEnd, 10);
        if (*zEnd != '\0' || id < 0 || id >= 64) {
            pa_csv_free(c);
            return pa_fail(PA_EDECODE, "%s: row %zu: bucket_id \"%s\" is not in 0..63", zPath, r + 1,
                           pa_csv_get(c, r, iId));
        }
        if (id == 0)
            continue; /* excluded (09C justifiable homicide) */
        azName[id] = pa_csv_get(c, r, iName);
        if (strcmp(pa_csv_get(c, r, iGroup), "B") != 0 && strcmp(pa_csv_get(c, r, iAgainst), "Society") != 0)
            abVictim[id] = 1;
        if ((size_t)id > nMax)
            nMax = (size_t)id;
    }
    *ppCats = json_array();
    *ppZeros = json_array();
    for (size_t id = 1; id <= nMax; id++) {
        if (azName[id] == NULL) {
            json_decref(*ppCats);
            json_decref(*ppZeros);
            pa_csv_free(c);
            return pa_fail(PA_EDECODE, "%s: bucket_id %zu has no offense", zPath, id);
        }
        json_array_append_new(*ppCats, json_string(azName[id]));
        if (!abVictim[id])
            json_array_append_new(*ppZeros, json_pack("{s:s, s:s}", "offense", azName[id], "role",
                                                      pa_default_roles[1]));
    }
    pa_csv_free(c);
    return PA_OK;
}

static json_t *string_array(const char *const *az, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_string(az[i]));
    return a;
}

static json_t *party(const char *zEndpoint, const pa_keys *k)
{
    json_t *o = json_object();
    if (zEndpoint)
        json_object_set_new(o, "endpoint", json_string(zEndpoint));
    json_object_set_new(o, "hpke_public_key", hex(k->aPublic, 32));
    json_object_set_new(o, "hpke_config_id", json_integer(k->iConfigId));
    if (k->bSign) /* collector: manifests; leader, helper: the signed HPKE configuration */
        json_object_set_new(o, "signing_public_key", hex(k->aSignPublic, 32));
    return o;
}

static const pa_keys *find_key(const pa_task_build_opts *o, const char *zId)
{
    for (size_t i = 0; i < o->nAgencyKeys; i++)
        if (strcmp(o->aAgencyKeys[i].zId, zId) == 0)
            return &o->aAgencyKeys[i];
    return NULL;
}

/* "latitude"/"longitude" text: 1 with *pr set if it is a number */
static int coord(const char *z, double *pr)
{
    char *zEnd;
    if (z == NULL || z[0] == '\0')
        return 0;
    *pr = strtod(z, &zEnd);
    return *zEnd == '\0' && isfinite(*pr);
}

static int cmp_json_str(const void *a, const void *b)
{
    return strcmp(json_string_value(*(json_t *const *)a), json_string_value(*(json_t *const *)b));
}

/* Registry form: every county of the state (the centroid file) gets a partition,
 * and so does "no-county" (see pa_task_build_opts). */
static int cover_counties(const char *zCentroids, json_t *pParts, const pa_partition_agency *aGeo,
                          const char **azOf, size_t nAgency)
{
    pa_csv *c;
    int iFips, iLat, iLon, rc = PA_OK;
    size_t nRow, nPart = json_array_size(pParts);
    double rLat0 = 0, rLonMean = 0;

    PA_GUARD(pa_csv_load(&c, zCentroids));
    iFips = pa_csv_column(c, "fips");
    iLat = pa_csv_column(c, "latitude");
    iLon = pa_csv_column(c, "longitude");
    nRow = pa_csv_row_count(c);
    if (iFips < 0 || iLat < 0 || iLon < 0 || nRow == 0) {
        pa_csv_free(c);
        return pa_fail(PA_EDECODE, "%s: columns fips, latitude and longitude are required", zCentroids);
    }
    int *aiOwner = calloc(nRow, sizeof *aiOwner);
    double *aLat = calloc(nRow, sizeof *aLat), *aLon = calloc(nRow, sizeof *aLon);
    if (aiOwner == NULL || aLat == NULL || aLon == NULL)
        rc = pa_fail(PA_ENOMEM, "partitions: out of memory");
    for (size_t r = 0; rc == PA_OK && r < nRow; r++) {
        if (!coord(pa_csv_get(c, r, iLat), &aLat[r]) || !coord(pa_csv_get(c, r, iLon), &aLon[r]))
            rc = pa_fail(PA_EDECODE, "%s: row %zu: latitude/longitude are not numbers", zCentroids, r + 2);
        rLat0 += aLat[r] / (double)nRow;
        rLonMean += aLon[r] / (double)nRow;
        aiOwner[r] = -1;
        for (size_t p = 0; rc == PA_OK && p < nPart && aiOwner[r] < 0; p++) {
            json_t *pCounties = json_object_get(json_array_get(pParts, p), "counties"), *v;
            size_t k;
            json_array_foreach(pCounties, k, v)
                if (strcmp(json_string_value(v), pa_csv_get(c, r, iFips)) == 0)
                    aiOwner[r] = (int)p;
        }
    }
    double rCos = cos(rLat0 * M_PI / 180.0);
    /* the nearest county with a partition at init (ties: the first in the file) */
#define NEAREST(lat, lon, pBest)                                                             \
    do {                                                                                     \
        double rBest = INFINITY;                                                             \
        for (size_t q = 0; q < nRow; q++) {                                                  \
            if (aiOwner[q] < 0)                                                              \
                continue;                                                                    \
            double dx = (aLon[q] - (lon)) * rCos, dy = aLat[q] - (lat), d = dx * dx + dy * dy; \
            if (d < rBest) {                                                                 \
                rBest = d;                                                                   \
                *(pBest) = aiOwner[q];                                                       \
            }                                                                                \
        }                                                                                    \
    } while (0)
    for (size_t r = 0; rc == PA_OK && r < nRow; r++) {
        int iBest = -1;
        if (aiOwner[r] >= 0)
            continue;
        NEAREST(aLat[r], aLon[r], &iBest);
        if (iBest >= 0)
            json_array_append_new(json_object_get(json_array_get(pParts, (size_t)iBest), "counties"),
                                  json_string(pa_csv_get(c, r, iFips)));
    }
    /* "no-county": its own partition, or the one its agencies joined, or the one of
     * the county nearest the state's mean centroid */
    int bNamed = 0, iNo = -1;
    for (size_t p = 0; p < nPart; p++)
        bNamed |= strcmp(json_string_value(json_object_get(json_array_get(pParts, p), "name")),
                         PA_PARTITION_NO_COUNTY) == 0;
    for (size_t a = 0; !bNamed && a < nAgency && iNo < 0; a++)
        for (size_t p = 0; aGeo[a].zFips[0] == '\0' && p < nPart; p++)
            if (strcmp(json_string_value(json_object_get(json_array_get(pParts, p), "name")), azOf[a]) == 0)
                iNo = (int)p;
    if (rc == PA_OK && !bNamed && iNo < 0)
        NEAREST(rLat0, rLonMean, &iNo);
#undef NEAREST
    if (rc == PA_OK && !bNamed && iNo >= 0)
        json_array_append_new(json_object_get(json_array_get(pParts, (size_t)iNo), "counties"),
                              json_string(PA_PARTITION_NO_COUNTY));
    /* each county list sorted again (FIPS, then "no-county") */
    for (size_t p = 0; rc == PA_OK && p < nPart; p++) {
        json_t *pCounties = json_object_get(json_array_get(pParts, p), "counties");
        size_t k, nC = json_array_size(pCounties);
        json_t **a = calloc(nC + 1, sizeof *a), *pSorted = json_array(), *v;
        if (a == NULL) {
            json_decref(pSorted);
            rc = pa_fail(PA_ENOMEM, "partitions: out of memory");
            break;
        }
        json_array_foreach(pCounties, k, v)
            a[k] = v;
        qsort(a, nC, sizeof *a, cmp_json_str);
        for (k = 0; k < nC; k++)
            json_array_append(pSorted, a[k]);
        free(a);
        json_object_set_new(json_array_get(pParts, p), "counties", pSorted);
    }
    free(aiOwner);
    free(aLat);
    free(aLon);
    pa_csv_free(c);
    return rc;
}

/* The agencies (first N of the file) and the partitions that group them. */
static int agencies(json_t **ppArr, json_t **ppPartitions, const pa_task_build_opts *o)
{
    char zPath[4096], zCentroids[4096];
    pa_csv *c;
    pa_partition_agency *aGeo = NULL;
    const char **azOf = NULL;
    int rc, iOri, iName, iFips, iLat, iLon;
    size_t n;

    *ppArr = *ppPartitions = NULL;
    rc = pa_task_state_file(zPath, sizeof zPath, o->zDataDir, o->zState, "le_agencies");
    if (rc == PA_OK)
        rc = pa_task_state_file(zCentroids, sizeof zCentroids, o->zDataDir, o->zState, "county_centroids");
    if (rc != PA_OK)
        return rc;
    rc = pa_csv_load(&c, zPath);
    if (rc != PA_OK)
        return rc;
    iOri = pa_csv_column(c, "ori");
    iName = pa_csv_column(c, "name");
    iFips = pa_csv_column(c, "county_fips");
    iLat = pa_csv_column(c, "latitude");
    iLon = pa_csv_column(c, "longitude");
    if (iOri < 0 || iName < 0 || iFips < 0 || iLat < 0 || iLon < 0) {
        pa_csv_free(c);
        return pa_fail(PA_EDECODE, "%s: columns ori, name, county_fips, latitude and longitude are "
                                   "required", zPath);
    }
    n = pa_csv_row_count(c);
    if (o->nMaxAgencies != 0 && o->nMaxAgencies < n)
        n = o->nMaxAgencies;
    if (o->pRegistryGenesis != NULL)
        n = o->nReg;
    if ((aGeo = calloc(n ? n : 1, sizeof *aGeo)) == NULL) {
        pa_csv_free(c);
        return pa_fail(PA_ENOMEM, "agencies: out of memory");
    }
    for (size_t r = 0; r < n && o->pRegistryGenesis != NULL; r++) {
        aGeo[r].zId = o->azRegId[r];
        aGeo[r].zFips = o->azRegCounty[r];
        for (size_t k = 0; k < pa_csv_row_count(c); k++) {
            if (strcmp(pa_csv_get(c, k, iOri), o->azRegId[r]) == 0) {
                aGeo[r].bCoord = coord(pa_csv_get(c, k, iLat), &aGeo[r].rLat) &&
                                 coord(pa_csv_get(c, k, iLon), &aGeo[r].rLon);
                break;
            }
        }
    }
    for (size_t r = 0; r < n && o->pRegistryGenesis == NULL; r++) {
        aGeo[r].zId = pa_csv_get(c, r, iOri);
        aGeo[r].zFips = pa_csv_get(c, r, iFips);
        aGeo[r].bCoord = coord(pa_csv_get(c, r, iLat), &aGeo[r].rLat) &&
                         coord(pa_csv_get(c, r, iLon), &aGeo[r].rLon);
    }
    rc = pa_task_group_partitions(zCentroids, aGeo, n, o->nMinAgencies, ppPartitions, &azOf);
    if (rc == PA_OK && o->pRegistryGenesis != NULL) {
        rc = cover_counties(zCentroids, *ppPartitions, aGeo, azOf, n);
        n = 0; /* the registry holds the agencies */
    }
    if (rc == PA_OK)
        *ppArr = json_array();
    for (size_t r = 0; rc == PA_OK && r < n; r++) {
        const char *zOri = pa_csv_get(c, r, iOri);
        const pa_keys *k = find_key(o, zOri);
        if (k == NULL) {
            rc = pa_fail(PA_EINVAL, "agency %s: no public key was given", zOri);
            break;
        }
        json_t *a = json_object();
        json_object_set_new(a, "id", json_string(zOri));
        json_object_set_new(a, "name", json_string(pa_csv_get(c, r, iName)));
        json_object_set_new(a, "partition", json_string(azOf[r]));
        json_object_set_new(a, "public_key", hex(k->aPublic, 32));
        json_array_append_new(*ppArr, a);
    }
    free(azOf);
    free(aGeo);
    pa_csv_free(c);
    if (rc != PA_OK) {
        json_decref(*ppArr);
        json_decref(*ppPartitions);
        *ppArr = *ppPartitions = NULL;
    }
    return rc;
}

int pa_task_build_default(json_t **ppJson, const pa_task_build_opts *o)
{
    json_t *pOffense = NULL, *pZeros = NULL, *pAgencies = NULL, *pPartitions = NULL, *root, *dims, *d,
           *parties, *dp, *b, *schema;
    int rc;

    *ppJson = NULL;
    rc = offense_categories(&pOffense, &pZeros, o->zDataDir);
    if (rc != PA_OK)
        return rc;
    rc = agencies(&pAgencies, &pPartitions, o);
    if (rc != PA_OK) {
        json_decref(pOffense);
        json_decref(pZeros);
        return rc;
    }
    size_t nCell = json_array_size(pOffense) * 5 * 2;

    root = json_object();
    json_object_set_new(root, "format", json_integer(PA_TASK_FORMAT_VERSION));
    char zName[256];
    snprintf(zName, sizeof zName, "%s monthly incidents by offense, immigration status and role",
             o->zState);
    json_object_set_new(root, "name", json_string(zName));

    dims = json_array();
    d = json_object();
    json_object_set_new(d, "name", json_string("offense"));
    json_object_set_new(d, "categories", pOffense);
    json_array_append_new(dims, d);
    d = json_object();
    json_object_set_new(d, "name", json_string("status"));
    json_object_set_new(d, "categories", string_array(pa_default_status, 5));
    json_array_append_new(dims, d);
    d = json_object();
    json_object_set_new(d, "name", json_string("role"));
    json_object_set_new(d, "categories", string_array(pa_default_roles, 2));
    json_array_append_new(dims, d);
    schema = json_pack("{s:o}", "dimensions", dims);
    if (json_array_size(pZeros) > 0)
        json_object_set_new(schema, "structural_zeros", pZeros);
    else
        json_decref(pZeros);
    json_object_set_new(root, "schema", schema);

    json_object_set_new(root, "vdaf", json_pack("{s:s, s:I, s:I, s:I}", "type", "Prio3SumVec",
                                                "length", (json_int_t)nCell, "max_measurement",
                                                (json_int_t)65535, "chunk_length", (json_int_t)66));
    parties = json_object();
    json_object_set_new(parties, "leader", party(o->zLeaderEndpoint, o->pLeader));
    json_object_set_new(parties, "helper", party(o->zHelperEndpoint, o->pHelper));
    json_object_set_new(parties, "collector", party(NULL, o->pCollector));
    if (o->pRegistryGenesis != NULL) {
        json_decref(pAgencies);
        json_object_set_new(parties, "registry", json_pack("{s:o, s:o}", "genesis", hex(o->pRegistryGenesis, 32),
                                                           "signing_public_key", hex(o->pRegistrySigner, 32)));
    } else {
        json_object_set_new(parties, "agencies", pAgencies);
    }
    json_object_set_new(root, "parties", parties);
    json_object_set_new(root, "partitions", pPartitions);

    b = json_pack("{s:s, s:I, s:b}", "period", "month", "min_agencies", (json_int_t)o->nMinAgencies,
                  "allow_corrections", o->bAllowCorrections ? 1 : 0);
    json_object_set_new(root, "batching", b);

    dp = json_object();
    json_object_set_new(dp, "mechanism", json_string("discrete_gaussian"));
    json_object_set_new(dp, "privacy_unit", json_string("incident_record"));
    json_object_set_new(dp, "max_cells_per_record", json_integer((json_int_t)o->nMaxCellsPerRecord));
    json_object_set_new(dp, "max_per_cell", json_integer(1));
    json_object_set_new(dp, "budget_per_record", json_pack("{s:f}", "rho", o->rBudgetRho));
    json_object_set_new(dp, "per_release", json_pack("{s:{s:f}, s:{s:f}}", "state", "rho", o->rRhoState,
                                                     "partition", "rho", o->rRhoPartition));
    json_object_set_new(root, "dp", dp);
    *ppJson = root;
    return PA_OK;
}

int pa_task_list_agencies(char ***pazId, size_t *pnId, const char *zDataDir, const char *zState)
{
    char zPath[4096];
    pa_csv *c;
    int rc = pa_task_state_file(zPath, sizeof zPath, zDataDir, zState, "le_agencies"), iOri;

    *pazId = NULL;
    *pnId = 0;
    if (rc != PA_OK)
        return rc;
    rc = pa_csv_load(&c, zPath);
    if (rc != PA_OK)
        return rc;
    iOri = pa_csv_column(c, "ori");
    if (iOri < 0) {
        pa_csv_free(c);
        return pa_fail(PA_EDECODE, "%s: column ori is required", zPath);
    }
    size_t n = pa_csv_row_count(c);
    char **az = calloc(n ? n : 1, sizeof *az);
    if (az == NULL) {
        pa_csv_free(c);
        return pa_fail(PA_ENOMEM, "agency list: out of memory");
    }
    for (size_t r = 0; r < n; r++) {
        az[r] = strdup(pa_csv_get(c, r, iOri));
        if (az[r] == NULL) {
            pa_task_free_list(az, r);
            pa_csv_free(c);
            return pa_fail(PA_ENOMEM, "agency list: out of memory");
        }
    }
    pa_csv_free(c);
    *pazId = az;
    *pnId = n;
    return PA_OK;
}

void pa_task_free_list(char **azId, size_t nId)
{
    for (size_t i = 0; i < nId; i++)
        free(azId[i]);
    free(azId);
}

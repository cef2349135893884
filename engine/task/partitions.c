/*
 * Partitions of the default task (engine/task/partitions.h): the rule of
 * docs/task-file.md, "Partitions of the default task", implemented exactly.
 *
 * Units are the counties that hold at least one of the task's agencies, plus the
 * unit "no-county" (agencies with an empty county FIPS: Highway Patrol troops,
 * state agencies) located at the mean of its agencies' coordinates.  A unit with
 * at least m agencies is a partition of its own.  The small units are grouped
 * greedily into regions: seed with the unassigned small unit farthest from the
 * state's mean county centroid, then add the unassigned small unit nearest to the
 * region's centroid (unweighted mean of its members) until the region has m
 * agencies.  Small units left over that cannot reach m together join the nearest
 * region (or, without regions, the nearest large unit).  Distances are
 * equirectangular: dx = Δlon·cos(mean latitude of the state's centroids),
 * dy = Δlat.  Ties go to the smallest unit name (FIPS; "no-county" sorts after
 * every FIPS), because units are scanned in name order and only a strictly
 * better distance replaces the current choice.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/guard.h"
#include "privagg/common.h"
#include "privagg/csv.h"
#include "task/partitions.h"

typedef struct {
    char zName[16];          /* FIPS or "no-county" */
    size_t nAgency;
    double rLat, rLon;
    int iOwner;              /* partition index, -1 while unassigned */
} unit;

typedef struct {
    char zName[32];
    double rLat, rLon;       /* centroid after the greedy phase */
} part;

typedef struct {
    double rLat0, rLon0, rCos;
} geo;

static double dist2(const geo *g, double lat1, double lon1, double lat2, double lon2)
{
    double dx = (lon1 - lon2) * g->rCos, dy = lat1 - lat2;
    return dx * dx + dy * dy;
}

static int cmp_unit(const void *a, const void *b)
{
    return strcmp(((const unit *)a)->zName, ((const unit *)b)->zName);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The centroid of a county from the CSV (linear: 115 rows). */
static int centroid(const pa_csv *c, int iFips, int iLat, int iLon, const char *zFips, double *pLat,
                    double *pLon)
{
    for (size_t r = 0; r < pa_csv_row_count(c); r++)
        if (strcmp(pa_csv_get(c, r, iFips), zFips) == 0) {
            *pLat = strtod(pa_csv_get(c, r, iLat), NULL);
            *pLon = strtod(pa_csv_get(c, r, iLon), NULL);
            return PA_OK;
        }
    return PA_ENOTFOUND;
}

/* Units of the agencies, sorted by name. */
static int make_units(const pa_csv *c, int iFips, int iLat, int iLon, const geo *g,
                      const pa_partition_agency *aAg, size_t nAg, unit **paUnit, size_t *pnUnit)
{
    unit *aU = calloc(nAg + 1, sizeof *aU);
    size_t nU = 0, nCoord = 0;
    double rLatSum = 0, rLonSum = 0;

    if (aU == NULL)
        return pa_fail(PA_ENOMEM, "partitions: out of memory");
    for (size_t i = 0; i < nAg; i++) {
        const char *zKey = aAg[i].zFips[0] ? aAg[i].zFips : PA_PARTITION_NO_COUNTY;
        size_t k;
        if (strlen(zKey) >= sizeof aU[0].zName) {
            free(aU);
            return pa_fail(PA_EINVAL, "agency %s: county \"%s\" is not a FIPS code", aAg[i].zId, zKey);
        }
        for (k = 0; k < nU; k++)
            if (strcmp(aU[k].zName, zKey) == 0)
                break;
        if (k == nU) {
            snprintf(aU[nU].zName, sizeof aU[nU].zName, "%s", zKey);
            aU[nU].iOwner = -1;
            if (aAg[i].zFips[0] &&
                centroid(c, iFips, iLat, iLon, zKey, &aU[nU].rLat, &aU[nU].rLon) != PA_OK) {
                free(aU);
                return pa_fail(PA_EINVAL, "agency %s: county %s has no centroid in the county "
                                          "centroid file", aAg[i].zId, zKey);
            }
            nU++;
        }
        aU[k].nAgency++;
        if (!aAg[i].zFips[0] && aAg[i].bCoord) {
            rLatSum += aAg[i].rLat;
            rLonSum += aAg[i].rLon;
            nCoord++;
        }
    }
    for (size_t k = 0; k < nU; k++)
        if (strcmp(aU[k].zName, PA_PARTITION_NO_COUNTY) == 0) {
            /* the mean of its agencies' coordinates; without any, the state's mean centroid */
            aU[k].rLat = nCoord ? rLatSum / (double)nCoord : g->rLat0;
            aU[k].rLon = nCoord ? rLonSum / (double)nCoord : g->rLon0;
        }
    qsort(aU, nU, sizeof *aU, cmp_unit);
    *paUnit = aU;
    *pnUnit = nU;
    return PA_OK;
}

/* Regions by the greedy rule; returns the number of partitions made so far in *pnPart. */
static void group(const geo *g, unit *aU, size_t nU, size_t nMin, part *aP, size_t *pnPart)
{
    size_t nPart = 0, nRegion = 0;

    for (size_t k = 0; k < nU; k++)
        if (aU[k].nAgency >= nMin) {
            snprintf(aP[nPart].zName, sizeof aP[nPart].zName, "%s", aU[k].zName);
            aP[nPart].rLat = aU[k].rLat;
            aP[nPart].rLon = aU[k].rLon;
            aU[k].iOwner = (int)nPart++;
        }
    for (;;) {
        size_t nLeft = 0, iSeed = nU, nIn = 0, nMember = 0;
        double best = -1, rLatSum = 0, rLonSum = 0;
        for (size_t k = 0; k < nU; k++)
            if (aU[k].iOwner < 0) {
                double d = dist2(g, aU[k].rLat, aU[k].rLon, g->rLat0, g->rLon0);
                nLeft += aU[k].nAgency;
                if (d > best) {
                    best = d;
                    iSeed = k;
                }
            }
        if (nLeft == 0 || nLeft < nMin)
            break;
        part *p = &aP[nPart];
        snprintf(p->zName, sizeof p->zName, "region-%02u", (unsigned)++nRegion);
        for (size_t k = iSeed; k < nU;) {
            aU[k].iOwner = (int)nPart;
            nIn += aU[k].nAgency;
            rLatSum += aU[k].rLat;
            rLonSum += aU[k].rLon;
            nMember++;
            p->rLat = rLatSum / (double)nMember;
            p->rLon = rLonSum / (double)nMember;
            if (nIn >= nMin)
                break;
            best = INFINITY;
            k = nU;
            for (size_t j = 0; j < nU; j++)
                if (aU[j].iOwner < 0) {
                    double d = dist2(g, aU[j].rLat, aU[j].rLon, p->rLat, p->rLon);
                    if (d < best) {
                        best = d;
                        k = j;
                    }
                }
        }
        nPart++;
    }
    /* leftovers: the nearest region, or without regions the nearest large unit; centroids
     * stay those of the greedy phase, so the order of the leftovers does not matter */
    size_t iFirst = nRegion ? nPart - nRegion : 0, iEnd = nPart;
    for (size_t k = 0; k < nU; k++)
        if (aU[k].iOwner < 0 && iEnd > iFirst) {
            double best = INFINITY;
            size_t iBest = iFirst;
            for (size_t i = iFirst; i < iEnd; i++) {
                double d = dist2(g, aU[k].rLat, aU[k].rLon, aP[i].rLat, aP[i].rLon);
                if (d < best) {
                    best = d;
                    iBest = i;
                }
            }
            aU[k].iOwner = (int)iBest;
        }
    *pnPart = nPart;
}

static int load_geo(pa_csv **ppCsv, const char *zPath, int *piFips, int *piLat, int *piLon, geo *g)
{
    pa_csv *c;
    size_t n;
    double rLat = 0, rLon = 0;

    PA_GUARD(pa_csv_load(&c, zPath));
    *piFips = pa_csv_column(c, "fips");
    *piLat = pa_csv_column(c, "latitude");
    *piLon = pa_csv_column(c, "longitude");
    n = pa_csv_row_count(c);
    if (*piFips < 0 || *piLat < 0 || *piLon < 0 || n == 0) {
        pa_csv_free(c);
        return pa_fail(PA_EDECODE, "%s: columns fips, latitude and longitude and at least one row "
                                   "are required", zPath);
    }
    for (size_t r = 0; r < n; r++) {
        char *zEnd1, *zEnd2;
        double la = strtod(pa_csv_get(c, r, *piLat), &zEnd1), lo = strtod(pa_csv_get(c, r, *piLon), &zEnd2);
        if (*zEnd1 != '\0' || *zEnd2 != '\0' || zEnd1 == pa_csv_get(c, r, *piLat) || !(fabs(la) <= 90) ||
            !(fabs(lo) <= 180)) {
            pa_csv_free(c);
            return pa_fail(PA_EDECODE, "%s: row %zu: latitude/longitude \"%s\", \"%s\" are not "
                                       "coordinates", zPath, r + 1, pa_csv_get(c, r, *piLat),
                           pa_csv_get(c, r, *piLon));
        }
        rLat += la;
        rLon += lo;
    }
    g->rLat0 = rLat / (double)n;
    g->rLon0 = rLon / (double)n;
    g->rCos = cos(g->rLat0 * M_PI / 180.0);
    *ppCsv = c;
    return PA_OK;
}

int pa_task_group_partitions(const char *zCentroidCsv, const pa_partition_agency *aAgency,
                             size_t nAgency, size_t nMin, json_t **ppPartitions,
                             const char ***pazOf)
{
    pa_csv *c = NULL;
    geo g = {0, 0, 1};
    unit *aU = NULL;
    part *aP = NULL;
    size_t nU = 0, nPart = 0, *aiOrder = NULL;
    const char **azOf = NULL, **azCounty = NULL;
    json_t *pArr = NULL;
    int iFips, iLat, iLon, rc;

    *ppPartitions = NULL;
    *pazOf = NULL;
    if (nMin == 0)
        nMin = 1;
    if (nAgency < nMin)
        return pa_fail(PA_EINVAL, "partitions: %zu agencies in all, below batching.min_agencies %zu: "
                                  "no batch could ever be released; lower --min-agencies",
                       nAgency, nMin);
    PA_GUARD(load_geo(&c, zCentroidCsv, &iFips, &iLat, &iLon, &g));
    rc = make_units(c, iFips, iLat, iLon, &g, aAgency, nAgency, &aU, &nU);
    pa_csv_free(c);
    if (rc != PA_OK)
        return rc;
    aP = calloc(nU, sizeof *aP);
    aiOrder = calloc(nU, sizeof *aiOrder);
    azOf = calloc(nAgency, sizeof *azOf);
    azCounty = calloc(nU, sizeof *azCounty);
    pArr = json_array();
    if (aP == NULL || aiOrder == NULL || azOf == NULL || azCounty == NULL || pArr == NULL) {
        rc = pa_fail(PA_ENOMEM, "partitions: out of memory");
        goto done;
    }
    group(&g, aU, nU, nMin, aP, &nPart);
    /* partitions sorted by name (FIPS < "no-county" < "region-NN") */
    for (size_t i = 0; i < nPart; i++) {
        size_t j = i;
        while (j > 0 && strcmp(aP[aiOrder[j - 1]].zName, aP[i].zName) > 0) {
            aiOrder[j] = aiOrder[j - 1];
            j--;
        }
        aiOrder[j] = i;
    }
    for (size_t o = 0; o < nPart; o++) {
        size_t i = aiOrder[o], nCounty = 0;
        json_t *pCounties = json_array(), *pPart;
        for (size_t k = 0; k < nU; k++)
            if (aU[k].iOwner == (int)i && strcmp(aU[k].zName, PA_PARTITION_NO_COUNTY) != 0)
                azCounty[nCounty++] = aU[k].zName;
        qsort(azCounty, nCounty, sizeof *azCounty, cmp_str);
        for (size_t k = 0; k < nCounty; k++)
            json_array_append_new(pCounties, json_string(azCounty[k]));
        pPart = json_pack("{s:s, s:o}", "name", aP[i].zName, "counties", pCounties);
        if (pPart == NULL || json_array_append_new(pArr, pPart) != 0) {
            rc = pa_fail(PA_ENOMEM, "partitions: out of memory");
            goto done;
        }
    }
    for (size_t a = 0; a < nAgency; a++) {
        const char *zKey = aAgency[a].zFips[0] ? aAgency[a].zFips : PA_PARTITION_NO_COUNTY;
        unit key, *pU;
        size_t o;
        snprintf(key.zName, sizeof key.zName, "%s", zKey);
        pU = bsearch(&key, aU, nU, sizeof *aU, cmp_unit);
        for (o = 0; o < nPart && aiOrder[o] != (size_t)pU->iOwner; o++)
            ;
        azOf[a] = json_string_value(json_object_get(json_array_get(pArr, o), "name"));
    }
    rc = PA_OK;
done:
    free(aU);
    free(aP);
    free(aiOrder);
    free(azCounty);
    if (rc != PA_OK) {
        json_decref(pArr);
        free(azOf);
        return rc;
    }
    *ppPartitions = pArr;
    *pazOf = azOf;
    return PA_OK;
}

/*
 * privagg publish (include/privagg/publish.h): consistency across levels,
 * intervals, rates, shares, coverage; table.csv and table.json; then the report
 * (report.c) and the manifest (manifest.c).  docs/publish.md derives the
 * estimator and says why each interval is exact or conservative.
 *
 * Consistency.  For one period and cell, y_s (statewide) and y_1..y_n (every
 * partition) were released with independent noise of variances v_s = 2 sigma_s^2
 * and v_p = 2 sigma_p^2.  The weighted least-squares estimate under the
 * constraint state = sum of partitions is, with Y = sum y_x and
 * lambda = n v_p / (n v_p + v_s):
 *     S^ = lambda y_s + (1 - lambda) Y,      x^ = y_x + (lambda / n) (y_s - Y).
 * Both are linear in the releases, so their noise is a known linear combination
 * of independent discrete Gaussian draws: the batch's own draws with coefficient
 * rOwn (lambda for the state, 1 - lambda/n for a partition) plus the others' with
 * coefficient rRest (1 - lambda, lambda/n); intervals.c computes its exact
 * distribution.  A margin or total is the sum of its cells' estimates, so the
 * tables add up at every level.
 */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "common/guard.h"
#include "privagg/registry.h"
#include "publish/internal.h"
#include "json/json_load.h"

int pa_pub_load_data(pa_pub *p, const char *zDataDir, const char *zState);

/* ---- intervals ------------------------------------------------------------- */

typedef struct {
    pa_publish_noise n;
    double level, half;
    int bExact;
} hw_memo;

static hw_memo g_memo[256];
static size_t g_nMemo;

/*
 * Half-width at `level` of the noise of an estimate over nSet cells: rOwn times
 * the batch's own 2 nSet draws plus rRest times the other batches' draws
 * (pa_publish_noise_halfwidth: the exact distribution by convolution, or
 * conservative by Chebyshev where too long).  Memoised: every period of a year
 * has the same few shapes.
 */
static int halfwidth(const pa_pub_table *tb, size_t nSet, double level, double *pHalf, int *pbExact)
{
    pa_publish_noise n;
    if (tb->pRel->rSigma2 <= 0 || nSet == 0) { /* mechanism none: exact totals; no cell: 0 */
        *pHalf = 0;
        *pbExact = 1;
        return PA_OK;
    }
    memset(&n, 0, sizeof n);
    n.rOwn = tb->rOwn;
    n.rSigma2Own = tb->pRel->rSigma2;
    n.nOwn = 2 * (uint64_t)nSet;
    n.rRest = tb->rRest;
    for (int k = 0; k < 2; k++) {
        n.aSigma2Rest[k] = tb->aSigma2Rest[k];
        n.anRest[k] = tb->anRest[k] * (uint64_t)nSet;
    }
    for (size_t i = 0; i < g_nMemo; i++)
        if (g_memo[i].level == level && memcmp(&g_memo[i].n, &n, sizeof n) == 0) {
            *pHalf = g_memo[i].half;
            *pbExact = g_memo[i].bExact;
            return PA_OK;
        }
    PA_GUARD(pa_publish_noise_halfwidth(&n, level, pHalf, pbExact));
    if (g_nMemo < sizeof g_memo / sizeof g_memo[0])
        g_memo[g_nMemo++] = (hw_memo){n, level, *pHalf, *pbExact};
    return PA_OK;
}

static int64_t clip0(double x)
{
    return x > 0 ? (int64_t)x : 0;
}

/* ---- tables ---------------------------------------------------------------- */

const char *pa_pub_cat(const pa_pub *p, size_t iDim, int iCat)
{
    return iCat == PA_PUB_ALL ? "(all)" : p->pTask->aDimension[iDim].azCategory[iCat];
}

const pa_pub_table *pa_pub_find(const pa_pub *p, const char *zPeriod, const char *zPartition)
{
    for (size_t i = 0; i < p->nTable; i++)
        if (strcmp(p->aTable[i].pRel->zPeriod, zPeriod) == 0 && strcmp(p->aTable[i].pRel->zPartition, zPartition) == 0)
            return &p->aTable[i];
    return NULL;
}

/* the category of dimension d of cell i (row-major, last dimension fastest) */
static size_t cell_cat(const pa_task *t, size_t iCell, size_t d)
{
    for (size_t k = t->nDimension; k-- > d + 1;)
        iCell /= t->aDimension[k].nCategory;
    return iCell % t->aDimension[d].nCategory;
}

static int in_set(const pa_task *t, size_t iCell, const int *aCat)
{
    if (pa_task_structural_zero(t, iCell))
        return 0;                      /* never published, in no margin (schema.structural_zeros) */
    for (size_t d = 0; d < t->nDimension; d++)
        if (aCat[d] != PA_PUB_ALL && (size_t)aCat[d] != cell_cat(t, iCell, d))
            return 0;
    return 1;
}

/* the published numbers of a set of cells at `level` (estimate, half-width) */
int pa_pub_set_estimate(const pa_pub *p, const pa_pub_table *tb, const int *aCat, int bComplementOfStatus,
                        double level, double *pEst, double *pHalf, int *pbExact, size_t *pnSet, int64_t *pnNoised)
{
    const pa_task *t = p->pTask;
    double est = 0;
    size_t n = 0;
    int64_t noised = 0;
    for (size_t i = 0; i < t->nCell; i++) {
        int b = bComplementOfStatus ? !pa_task_structural_zero(t, i) &&
                                          (size_t)aCat[p->iStatusDim] != cell_cat(t, i, (size_t)p->iStatusDim)
                                    : in_set(t, i, aCat);
        if (!b)
            continue;
        est += tb->aEst[i];
        noised += tb->pRel->aTotal[i];
        n++;
    }
    *pEst = est;
    if (pnSet)
        *pnSet = n;
    if (pnNoised)
        *pnNoised = noised;
    return halfwidth(tb, n, level, pHalf, pbExact);
}

void pa_pub_interval(double est, double half, int64_t *pPub, int64_t *pLo, int64_t *pHi)
{
    *pPub = clip0(floor(est + 0.5));
    *pLo = clip0(ceil(est - half - 1e-9));
    *pHi = clip0(floor(est + half + 1e-9));
}

static int fill_row(const pa_pub *p, pa_pub_table *tb, pa_pub_row *r)
{
    size_t nSet;
    PA_GUARD(pa_pub_set_estimate(p, tb, r->aCat, 0, PA_PUB_LEVEL, &r->rEstimate, &r->rHalf, &r->bExact, &nSet, &r->nNoised));
    r->nSet = nSet;
    r->rSd = sqrt(tb->rOwn * tb->rOwn * 2.0 * (double)nSet * tb->pRel->rSigma2 +
                  tb->rRest * tb->rRest * (double)nSet *
                      ((double)tb->anRest[0] * tb->aSigma2Rest[0] + (double)tb->anRest[1] * tb->aSigma2Rest[1]));
    pa_pub_interval(r->rEstimate, r->rHalf, &r->nPub, &r->nLo, &r->nHi);
    r->bLow = (r->nHi - r->nLo) > r->nPub;
    if (p->iStatusDim >= 0 && r->aCat[p->iStatusDim] != PA_PUB_ALL) {
        r->zRateNote = "no rate: residents by immigration status are not counted (the denominator is "
                       "unknown); see the share of the total instead";
    } else if (!(tb->rPop > 0)) {
        r->zRateNote = "no rate: this partition has no resident population (statewide agencies)";
    } else {
        r->bRate = 1;
        r->rRate = 1e5 * (double)r->nPub / tb->rPop;
        r->rRateLo = 1e5 * (double)r->nLo / tb->rPop;
        r->rRateHi = 1e5 * (double)r->nHi / tb->rPop;
    }
    /* a status margin: its share of the total, with a conservative interval (two
     * 95 % intervals, of the status and of the rest, union bound) */
    if (r->eKind == PA_PUB_MARGIN && p->iStatusDim >= 0 && r->aCat[p->iStatusDim] != PA_PUB_ALL) {
        double es, hs, er, hr;
        int bx;
        int64_t ps, ls, hs_, pr, lr, hr_;
        PA_GUARD(pa_pub_set_estimate(p, tb, r->aCat, 0, 0.95, &es, &hs, &bx, NULL, NULL));
        PA_GUARD(pa_pub_set_estimate(p, tb, r->aCat, 1, 0.95, &er, &hr, &bx, NULL, NULL));
        pa_pub_interval(es, hs, &ps, &ls, &hs_);
        pa_pub_interval(er, hr, &pr, &lr, &hr_);
        if (r->nPub + pr > 0) {
            r->bShare = 1;
            r->rShare = (double)r->nPub / (double)(r->nPub + pr);
            r->rShareLo = ls + hr_ > 0 ? (double)ls / (double)(ls + hr_) : 0;
            r->rShareHi = hs_ + lr > 0 ? (double)hs_ / (double)(hs_ + lr) : 1;
        }
    }
    return PA_OK;
}

/* the rows of a table: every cell but the structural zeros, one margin per
 * category of each dimension (but one holding only structural zeros), the total */
static int build_rows(const pa_pub *p, pa_pub_table *tb)
{
    const pa_task *t = p->pTask;
    size_t nMargin = 0, k = 0;
    for (size_t d = 0; d < t->nDimension; d++)
        nMargin += t->aDimension[d].nCategory;
    if ((tb->aRow = calloc(t->nCell + nMargin + 1, sizeof *tb->aRow)) == NULL)
        return pa_fail(PA_ENOMEM, "publish: rows");
    for (size_t i = 0; i < t->nCell; i++) {
        if (pa_task_structural_zero(t, i))
            continue;
        tb->aRow[k].eKind = PA_PUB_CELL;
        for (size_t d = 0; d < t->nDimension; d++)
            tb->aRow[k].aCat[d] = (int)cell_cat(t, i, d);
        k++;
    }
    for (size_t d = 0; d < t->nDimension; d++)
        for (size_t c = 0; c < t->aDimension[d].nCategory; c++) {
            size_t nIn = 0;
            tb->aRow[k].eKind = PA_PUB_MARGIN;
            for (size_t e = 0; e < t->nDimension; e++)
                tb->aRow[k].aCat[e] = e == d ? (int)c : PA_PUB_ALL;
            for (size_t i = 0; i < t->nCell; i++)
                nIn += in_set(t, i, tb->aRow[k].aCat);
            if (nIn > 0)
                k++;
        }
    tb->aRow[k].eKind = PA_PUB_TOTAL;
    for (size_t e = 0; e < t->nDimension; e++)
        tb->aRow[k].aCat[e] = PA_PUB_ALL;
    tb->nRow = k + 1;
    for (k = 0; k < tb->nRow; k++)
        PA_GUARD(fill_row(p, tb, &tb->aRow[k]));
    return PA_OK;
}

/* residents of a partition (sum of its counties) for the period's year */
static double partition_pop(const pa_pub *p, const pa_task_partition *pp, int iYear, int *piUsed)
{
    double s = 0;
    for (size_t i = 0; i < pp->nCounty; i++)
        s += pa_pub_county_pop(p, pp->azCounty[i], iYear, piUsed);
    return s;
}

/* consistency of one period; tables of the period get aEst, rOwn, rRest and the rest's draws */
static int reconcile_period(pa_pub *p, const char *zPeriod)
{
    const pa_task *t = p->pTask;
    pa_pub_table *pState = NULL, **apPart = calloc(t->nPartition + 1, sizeof *apPart);
    size_t nPart = 0;
    if (apPart == NULL)
        return pa_fail(PA_ENOMEM, "publish");
    for (size_t i = 0; i < p->nTable; i++) {
        pa_pub_table *tb = &p->aTable[i];
        if (strcmp(tb->pRel->zPeriod, zPeriod) != 0)
            continue;
        tb->rOwn = 1;
        tb->rRest = 0;
        tb->anRest[0] = tb->anRest[1] = 0;
        for (size_t c = 0; c < t->nCell; c++)
            tb->aEst[c] = (double)tb->pRel->aTotal[c];
        if (tb->bState)
            pState = tb;
        else
            apPart[nPart++] = tb;
    }
    if (pState != NULL && nPart == t->nPartition && nPart > 0 && pState->pRel->rSigma2 > 0) {
        double vs = 2 * pState->pRel->rSigma2, vp = 2 * apPart[0]->pRel->rSigma2, n = (double)nPart;
        double lambda = n * vp / (n * vp + vs);
        for (size_t x = 1; x < nPart; x++)
            if (apPart[x]->pRel->rSigma2 != apPart[0]->pRel->rSigma2) {
                free(apPart);
                return pa_fail(PA_EINVAL, "publish: period %s: partitions released with different noise", zPeriod);
            }
        for (size_t c = 0; c < t->nCell; c++) {
            double Y = 0, ys = (double)pState->pRel->aTotal[c];
            for (size_t x = 0; x < nPart; x++)
                Y += (double)apPart[x]->pRel->aTotal[c];
            pState->aEst[c] = lambda * ys + (1 - lambda) * Y;
            for (size_t x = 0; x < nPart; x++)
                apPart[x]->aEst[c] = (double)apPart[x]->pRel->aTotal[c] + lambda / n * (ys - Y);
        }
        /* the noise of S^: lambda (own 2 draws) + (1 - lambda) (2 n partition draws);
         * of x^: (1 - lambda/n) (own) + (lambda/n) (2 statewide draws - 2 (n-1)
         * partition draws), the sign irrelevant (symmetric, independent) */
        pState->rOwn = lambda;
        pState->rRest = 1 - lambda;
        pState->aSigma2Rest[1] = apPart[0]->pRel->rSigma2;
        pState->anRest[1] = 2 * (uint64_t)nPart;
        pState->bReconciled = 1;
        for (size_t x = 0; x < nPart; x++) {
            apPart[x]->rOwn = 1 - lambda / n;
            apPart[x]->rRest = lambda / n;
            apPart[x]->aSigma2Rest[0] = pState->pRel->rSigma2;
            apPart[x]->anRest[0] = 2;
            apPart[x]->aSigma2Rest[1] = apPart[0]->pRel->rSigma2;
            apPart[x]->anRest[1] = 2 * (uint64_t)(nPart - 1);
            apPart[x]->bReconciled = 1;
        }
    }
    free(apPart);
    return PA_OK;
}

/* residents of every county in data/ for a year (clamped to the years there) */
static double state_pop(const pa_pub *p, int iYear, int *piUsed)
{
    int y = iYear < p->iPopMin ? p->iPopMin : iYear > p->iPopMax ? p->iPopMax : iYear;
    double s = 0;
    for (size_t i = 0; i < p->nPop; i++)
        if (p->aPop[i].iYear == y)
            s += p->aPop[i].rPop;
    if (piUsed)
        *piUsed = y;
    return s;
}

static void pub_free(pa_pub *p)
{
    for (size_t i = 0; i < p->nTable; i++) {
        free(p->aTable[i].aEst);
        free(p->aTable[i].aRow);
    }
    free(p->aTable);
    for (size_t i = 0; i < p->nPeriod; i++)
        free(p->azPeriod[i]);
    free(p->azPeriod);
    for (size_t i = 0; i < p->nCounty; i++) {
        free(p->azFips[i]);
        free(p->azCountyName[i]);
        free(p->azPath[i]);
    }
    free(p->azFips);
    free(p->azCountyName);
    free(p->azPath);
    free(p->aPop);
    for (size_t i = 0; i < p->nListed; i++)
        free(p->aListed[i].a);
    free(p->aListed);
}

static int has_reported(const pa_release *r, const char *zId)
{
    size_t lo = 0, hi = r->nAgency;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(r->azReported[mid], zId);
        if (c == 0)
            return 1;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

/* Residents of partition x served by the agencies that reported in r, county by
 * county: a county counts towards the lower bound when every agency attributed to
 * it reported (an agency whose county is unknown is attributed to every county of
 * its partition) and towards the upper bound when one did.  A county no listed
 * agency is attributed to counts towards neither: a registry task's partitions
 * also hold the counties where no agency is enrolled (yet), which no agency
 * serves.  For a task's own list every county of a partition has an agency, and
 * when all of them reported this is the partition's whole population. */
static void served_partition(const pa_pub *p, const pa_pub_listed *L, const pa_release *r, size_t x, int iYear,
                             double *pLo, double *pHi)
{
    const pa_task *t = p->pTask;
    const pa_task_partition *pp = &t->aPartition[x];

    for (size_t k = 0; k < pp->nCounty; k++) {
        int bAny = 0, bAll = 1, bHas = 0;
        for (size_t a = 0; a < L->n; a++) {
            const pa_pub_agency *pA = &L->a[a];
            if (pA->iPart != x || (pA->bCounty && strcmp(pA->zCounty, pp->azCounty[k]) != 0))
                continue;
            int bRep = has_reported(r, pA->zId);
            bHas = 1;
            bAny |= bRep;
            bAll &= bRep;
        }
        double rPop = pa_pub_county_pop(p, pp->azCounty[k], iYear, NULL);
        if (bHas && bAll)
            *pLo += rPop;
        if (bAny)
            *pHi += rPop;
    }
}

/* The share of the batch's residents (statewide: the state's) that the agencies
 * that reported serve, as a range; without the list of who reported, only a batch
 * whose listed agencies all reported is known (and, statewide, the partitions of
 * the month released in full give a lower bound). */
static void served(pa_pub *p, pa_pub_table *tb)
{
    const pa_task *t = p->pTask;
    int iYear = pa_pub_year(tb->pRel->zPeriod);
    double rDenom = tb->bState ? state_pop(p, iYear, NULL) : tb->rPop, lo = 0, hi = 0;

    tb->rServedLo = tb->rServedHi = -1;
    if (!(rDenom > 0))
        return;
    /* who reported, against who was listed in the month (a task's agencies, or a
     * registry's enrolled for the month), county by county */
    if (tb->pRel->bReported && tb->pListed != NULL) {
        for (size_t x = 0; x < t->nPartition; x++)
            if (tb->bState || &t->aPartition[x] == tb->pPart)
                served_partition(p, tb->pListed, tb->pRel, x, iYear, &lo, &hi);
        tb->rServedLo = lo / rDenom;
        tb->rServedHi = hi / rDenom;
        return;
    }
    if (tb->bFullCoverage && !tb->bState) {
        tb->rServedLo = tb->rServedHi = 1;
        return;
    }
    if (!tb->bState)
        return;
    for (size_t j = 0; j < p->nTable; j++)
        if (!p->aTable[j].bState && p->aTable[j].bFullCoverage &&
            strcmp(p->aTable[j].pRel->zPeriod, tb->pRel->zPeriod) == 0)
            lo += p->aTable[j].rPop;
    if (tb->bFullCoverage)
        tb->rServedLo = tb->rServedHi = tb->rPop / rDenom;
    else if (lo > 0)
        tb->rServedLo = lo / rDenom;
}

/* Agencies of L in the batch's partition (statewide: all of them). */
static size_t listed_in(const pa_task *t, const pa_pub_listed *L, const pa_pub_table *tb)
{
    size_t n = 0;
    for (size_t a = 0; L != NULL && a < L->n; a++)
        n += tb->bState || &t->aPartition[L->a[a].iPart] == tb->pPart;
    return n;
}

static int build(pa_pub *p, const pa_task *t, const pa_release *aRel, size_t nRel, const char *zDataDir,
                 const pa_registry *pReg)
{
    memset(p, 0, sizeof *p);
    p->pReg = pReg;
    if (t->bRegistry && pReg == NULL)
        return pa_fail(PA_EINVAL, "publish: the task names an agency registry; give it (--registry FILE): "
                                  "it lists the agencies of each month for the coverage figures");
    p->pTask = t;
    p->aRel = aRel;
    p->nRel = nRel;
    p->iStatusDim = -1;
    for (size_t d = 0; d < t->nDimension; d++)
        if (strcmp(t->aDimension[d].zName, "status") == 0)
            p->iStatusDim = (int)d;
    PA_GUARD(pa_pub_load_data(p, zDataDir, "MO"));
    PA_GUARD(pa_pub_load_listed(p, zDataDir, "MO"));
    if ((p->aTable = calloc(nRel, sizeof *p->aTable)) == NULL ||
        (p->azPeriod = calloc(nRel, sizeof *p->azPeriod)) == NULL)
        return pa_fail(PA_ENOMEM, "publish");
    p->nTable = nRel;
    for (size_t i = 0; i < nRel; i++) {
        pa_pub_table *tb = &p->aTable[i];
        int iYear = pa_pub_year(aRel[i].zPeriod);
        tb->pRel = &aRel[i];
        tb->bState = strcmp(aRel[i].zPartition, "state") == 0;
        tb->pPart = tb->bState ? NULL : pa_task_find_partition(t, aRel[i].zPartition);
        if ((tb->aEst = calloc(t->nCell, sizeof *tb->aEst)) == NULL)
            return pa_fail(PA_ENOMEM, "publish");
        tb->iPopYear = iYear;
        if (tb->bState) {
            for (size_t x = 0; x < t->nPartition; x++)
                tb->rPop += partition_pop(p, &t->aPartition[x], iYear, &tb->iPopYear);
        } else {
            tb->rPop = partition_pop(p, tb->pPart, iYear, &tb->iPopYear);
        }
        tb->pListed = pa_pub_listed_of(p, aRel[i].zPeriod);
        tb->nListed = listed_in(t, tb->pListed, tb);
        if (tb->pPart && tb->pPart->nCounty == 0)
            pa_pub_county_pop(p, "", iYear, &tb->iPopYear);
        tb->bFullCoverage = tb->pRel->nAgency >= tb->nListed;
        if (p->nPeriod == 0 || strcmp(p->azPeriod[p->nPeriod - 1], aRel[i].zPeriod) != 0)
            if ((p->azPeriod[p->nPeriod++] = strdup(aRel[i].zPeriod)) == NULL)
                return pa_fail(PA_ENOMEM, "publish");
    }
    /* the state's residents (every county in data/), for the report's summary */
    p->rStatePop = state_pop(p, pa_pub_year(p->azPeriod[p->nPeriod - 1]), &p->iStatePopYear);
    for (size_t k = 0; k < p->nPeriod; k++)
        PA_GUARD(reconcile_period(p, p->azPeriod[k]));
    for (size_t i = 0; i < p->nTable; i++)
        served(p, &p->aTable[i]);
    for (size_t i = 0; i < p->nTable; i++)
        PA_GUARD(build_rows(p, &p->aTable[i]));
    return PA_OK;
}

/* ---- table.csv and table.json ----------------------------------------------- */

static void csv_str(FILE *f, const char *z)
{
    if (strpbrk(z, ",\"\n") == NULL) {
        fputs(z, f);
        return;
    }
    fputc('"', f);
    for (; *z; z++) {
        if (*z == '"')
            fputc('"', f);
        fputc(*z, f);
    }
    fputc('"', f);
}

static const char *kind_name(pa_pub_kind e)
{
    return e == PA_PUB_CELL ? "cell" : e == PA_PUB_MARGIN ? "margin" : "total";
}

static int write_csv(const pa_pub *p, const char *zPath)
{
    const pa_task *t = p->pTask;
    FILE *f = fopen(zPath, "w");
    if (f == NULL)
        return pa_fail(PA_EIO, "publish: cannot write %s: %s", zPath, strerror(errno));
    fputs("period,partition,kind", f);
    for (size_t d = 0; d < t->nDimension; d++) {
        fputc(',', f);
        csv_str(f, t->aDimension[d].zName);
    }
    fputs(",noised,estimate,published,ci90_low,ci90_high,interval,reconciled,noise_sd,low_reliability,"
          "population,population_year,rate_per_100k_month,rate_month_low,rate_month_high,"
          "rate_per_100k_year,rate_year_low,rate_year_high,rate_note,share_of_total,share_low,share_high,"
          "agencies_reported,agencies_listed,population_share_served_low,population_share_served_high\n", f);
    for (size_t i = 0; i < p->nTable; i++) {
        const pa_pub_table *tb = &p->aTable[i];
        for (size_t k = 0; k < tb->nRow; k++) {
            const pa_pub_row *r = &tb->aRow[k];
            fprintf(f, "%s,", tb->pRel->zPeriod);
            csv_str(f, tb->pRel->zPartition);
            fprintf(f, ",%s", kind_name(r->eKind));
            for (size_t d = 0; d < t->nDimension; d++) {
                fputc(',', f);
                csv_str(f, pa_pub_cat(p, d, r->aCat[d]));
            }
            fprintf(f, ",%lld,%.3f,%lld,%lld,%lld,%s,%s,%.3f,%s,", (long long)r->nNoised, r->rEstimate,
                    (long long)r->nPub, (long long)r->nLo, (long long)r->nHi,
                    r->bExact ? "exact" : "conservative", tb->bReconciled ? "yes" : "no", r->rSd,
                    r->bLow ? "low reliability" : "");
            if (tb->rPop > 0)
                fprintf(f, "%.0f,%d", tb->rPop, tb->iPopYear);
            else
                fputc(',', f);
            if (r->bRate)
                fprintf(f, ",%.3f,%.3f,%.3f,%.3f,%.3f,%.3f,", r->rRate, r->rRateLo, r->rRateHi, 12 * r->rRate,
                        12 * r->rRateLo, 12 * r->rRateHi);
            else {
                fputs(",,,,,,,", f);
                csv_str(f, r->zRateNote);
            }
            if (r->bShare)
                fprintf(f, ",%.4f,%.4f,%.4f", r->rShare, r->rShareLo, r->rShareHi);
            else
                fputs(",,,", f);
            fprintf(f, ",%llu,%zu,", (unsigned long long)tb->pRel->nAgency, tb->nListed);
            if (tb->rServedLo >= 0)
                fprintf(f, "%.4f", tb->rServedLo);
            fputc(',', f);
            if (tb->rServedHi >= 0)
                fprintf(f, "%.4f", tb->rServedHi);
            fputc('\n', f);
        }
    }
    return fclose(f) == 0 ? PA_OK : pa_fail(PA_EIO, "publish: writing %s", zPath);
}

static json_t *row_json(const pa_pub *p, const pa_pub_table *tb, const pa_pub_row *r)
{
    const pa_task *t = p->pTask;
    json_t *o = json_object(), *cats = json_object();
    json_object_set_new(o, "kind", json_string(kind_name(r->eKind)));
    for (size_t d = 0; d < t->nDimension; d++)
        json_object_set_new(cats, t->aDimension[d].zName, json_string(pa_pub_cat(p, d, r->aCat[d])));
    json_object_set_new(o, "categories", cats);
    json_object_set_new(o, "noised", json_integer(r->nNoised));
    json_object_set_new(o, "estimate", json_real(floor(r->rEstimate * 1000 + 0.5) / 1000));
    json_object_set_new(o, "published", json_integer(r->nPub));
    json_object_set_new(o, "ci90", json_pack("[I, I]", (json_int_t)r->nLo, (json_int_t)r->nHi));
    json_object_set_new(o, "interval", json_string(r->bExact ? "exact" : "conservative"));
    json_object_set_new(o, "noise_sd", json_real(floor(r->rSd * 1000 + 0.5) / 1000));
    json_object_set_new(o, "low_reliability", json_boolean(r->bLow));
    if (r->bRate) {
        json_object_set_new(o, "rate_per_100k", json_pack("{s:f, s:[f, f], s:f, s:[f, f]}", "month", r->rRate,
                                                          "month_ci90", r->rRateLo, r->rRateHi, "year",
                                                          12 * r->rRate, "year_ci90", 12 * r->rRateLo,
                                                          12 * r->rRateHi));
    } else {
        json_object_set_new(o, "rate_note", json_string(r->zRateNote));
    }
    if (r->bShare)
        json_object_set_new(o, "share_of_total", json_pack("{s:f, s:[f, f], s:s}", "share", r->rShare, "ci90",
                                                           r->rShareLo, r->rShareHi, "interval", "conservative"));
    (void)tb;
    return o;
}

static json_t *share_or_null(double r)
{
    return r >= 0 ? json_real(r) : json_null();
}

/* agencies reported and listed, the listed ones that did not report (when the
 * result names who did), and the share of residents served as a range */
static json_t *coverage_json(const pa_pub *p, const pa_pub_table *tb)
{
    const pa_task *t = p->pTask;
    json_t *o = json_pack("{s:I, s:I}", "agencies_reported", (json_int_t)tb->pRel->nAgency, "agencies_listed",
                          (json_int_t)tb->nListed);
    if (tb->pRel->bReported && tb->pListed != NULL) {
        /* the agencies listed for the month (in the partition) that did not report */
        const pa_pub_listed *L = tb->pListed;
        json_t *miss = json_array();
        for (size_t a = 0; a < L->n; a++)
            if ((tb->bState || &t->aPartition[L->a[a].iPart] == tb->pPart) && !has_reported(tb->pRel, L->a[a].zId))
                json_array_append_new(miss, json_string(L->a[a].zId));
        json_object_set_new(o, "agencies_not_reported", miss);
    }
    json_object_set_new(o, "population_share_served", share_or_null(tb->rServedLo));
    json_object_set_new(o, "population_share_served_upper", share_or_null(tb->rServedHi));
    json_object_set_new(o, "population_share_of",
                        json_string(tb->bState ? "the state's residents" : "the partition's residents"));
    return o;
}

static int write_json(const pa_pub *p, const char *zPath)
{
    json_t *root, *tables;
    char zTask[65];
    int rc;
    pa_json_watch_begin(); /* a value that could not be allocated drops its member silently */
    root = json_object();
    tables = json_array();
    sodium_bin2hex(zTask, sizeof zTask, p->pTask->aTaskId, 32);
    json_object_set_new(root, "format", json_string("privagg-table-v1"));
    json_object_set_new(root, "task_id", json_string(zTask));
    json_object_set_new(root, "interval_level", json_real(PA_PUB_LEVEL));
    /* cells that can never be non-zero: released (noise only) but left out of every
     * table, margin and chart */
    json_object_set_new(root, "structural_zeros_left_out", json_integer((json_int_t)p->pTask->nStructuralZero));
    json_object_set_new(root, "post_processing",
                        json_string("consistency across levels by weighted least squares with the exact noise "
                                    "variances (when the statewide batch and every partition of the period were "
                                    "released), then each published number clipped at 0 and rounded; costs no "
                                    "privacy (docs/dp.md)"));
    for (size_t i = 0; i < p->nTable; i++) {
        const pa_pub_table *tb = &p->aTable[i];
        json_t *o = json_object(), *rows = json_array();
        json_object_set_new(o, "period", json_string(tb->pRel->zPeriod));
        json_object_set_new(o, "partition", json_string(tb->pRel->zPartition));
        if (tb->pPart) {
            json_t *c = json_array();
            for (size_t k = 0; k < tb->pPart->nCounty; k++)
                json_array_append_new(c, json_string(tb->pPart->azCounty[k]));
            json_object_set_new(o, "counties", c);
        }
        json_object_set_new(o, "reconciled", json_boolean(tb->bReconciled));
        json_object_set_new(o, "noise_sigma2_per_aggregator", json_real(tb->pRel->rSigma2));
        json_object_set_new(o, "population", tb->rPop > 0 ? json_integer((json_int_t)tb->rPop) : json_null());
        json_object_set_new(o, "population_year", json_integer(tb->iPopYear));
        json_object_set_new(o, "coverage", coverage_json(p, tb));
        for (size_t k = 0; k < tb->nRow; k++)
            json_array_append_new(rows, row_json(p, tb, &tb->aRow[k]));
        json_object_set_new(o, "rows", rows);
        json_array_append_new(tables, o);
    }
    json_object_set_new(root, "tables", tables);
    if (root == NULL || tables == NULL || pa_json_watch_nomem())
        rc = pa_fail(PA_ENOMEM, "publish: %s: out of memory", zPath);
    else
        rc = json_dump_file(root, zPath, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10)) == 0
                 ? PA_OK
                 : pa_fail(pa_json_watch_nomem() ? PA_ENOMEM : PA_EIO, "publish: writing %s", zPath);
    json_decref(root);
    return rc;
}

/* the files pa_publish writes (manifest.json only with a signing key) */
static const char *const k_azOut[] = {"table.csv", "table.json", "report.html", "manifest.json"};

int pa_publish(const pa_task *t, const pa_release *aRel, size_t nRel, const pa_publish_opts *o,
               pa_publish_summary *pSum)
{
    pa_pub p;
    char zPath[4096];
    int rc;
    FILE *f;

    if (nRel == 0 || o == NULL || o->zOutDir == NULL || o->zDataDir == NULL)
        return pa_fail(PA_EINVAL, "publish: no releases or no output folder");
    if (mkdir(o->zOutDir, 0755) != 0 && errno != EEXIST)
        return pa_fail(PA_EIO, "publish: cannot create %s: %s", o->zOutDir, strerror(errno));
    /* every file is written as NAME.tmp and renamed once all are written: a
     * failure (memory, disk) leaves the folder as it was, never a cut file */
    rc = build(&p, t, aRel, nRel, o->zDataDir, o->pRegistry);
    if (rc == PA_OK) {
        snprintf(zPath, sizeof zPath, "%s/table.csv.tmp", o->zOutDir);
        rc = write_csv(&p, zPath);
    }
    if (rc == PA_OK) {
        snprintf(zPath, sizeof zPath, "%s/table.json.tmp", o->zOutDir);
        rc = write_json(&p, zPath);
    }
    if (rc == PA_OK) {
        snprintf(zPath, sizeof zPath, "%s/report.html.tmp", o->zOutDir);
        if ((f = fopen(zPath, "w")) == NULL)
            rc = pa_fail(PA_EIO, "publish: cannot write %s", zPath);
        else {
            rc = pa_pub_write_report(&p, f);
            if (fclose(f) != 0 && rc == PA_OK)
                rc = pa_fail(PA_EIO, "publish: writing %s", zPath);
        }
    }
    if (rc == PA_OK && o->pCollector != NULL) {
        snprintf(zPath, sizeof zPath, "%s/manifest.json.tmp", o->zOutDir);
        rc = pa_pub_write_manifest(&p, o, zPath);
    }
    for (size_t i = 0; i < sizeof k_azOut / sizeof k_azOut[0]; i++) {
        char zFinal[4096];
        snprintf(zPath, sizeof zPath, "%s/%s.tmp", o->zOutDir, k_azOut[i]);
        snprintf(zFinal, sizeof zFinal, "%s/%s", o->zOutDir, k_azOut[i]);
        if (rc != PA_OK || (i == 3 && o->pCollector == NULL))
            unlink(zPath);
        else if (rename(zPath, zFinal) != 0)
            rc = pa_fail(PA_EIO, "publish: cannot rename %s to %s: %s", zPath, zFinal, strerror(errno));
    }
    if (rc == PA_OK && pSum != NULL) {
        memset(pSum, 0, sizeof *pSum);
        pSum->nRelease = nRel;
        pSum->nPeriod = p.nPeriod;
        for (size_t i = 0; i < p.nTable; i++) {
            pSum->nRow += p.aTable[i].nRow;
            pSum->nReconciled += p.aTable[i].bReconciled && p.aTable[i].bState;
            for (size_t k = 0; k < p.aTable[i].nRow; k++)
                pSum->nLowReliability += p.aTable[i].aRow[k].bLow;
        }
    }
    pub_free(&p);
    return rc;
}

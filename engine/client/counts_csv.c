/*
 * Counts of one report from a CSV file (see pa_counts_load_csv): every cell index
 * is checked against the task's cell count before it is written, and every count
 * against the task's per-cell maximum and its structural zeros, with the line
 * named.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "privagg/client.h"
#include "privagg/common.h"
#include "privagg/csv.h"

static int parse_count(const char *z, uint64_t *pOut)
{
    char *zEnd;
    if (z[0] < '0' || z[0] > '9')
        return -1;
    errno = 0;
    *pOut = strtoull(z, &zEnd, 10);
    return *zEnd == '\0' && errno == 0 ? 0 : -1;
}

int pa_counts_load_csv(const pa_task *t, const char *zPath, uint64_t *aCounts)
{
    pa_csv *c;
    int aiDim[PA_TASK_MAX_DIMENSIONS], iCell, iCount, rc = PA_OK;
    unsigned char *abSeen = calloc(t->nCell, 1);

    if (abSeen == NULL)
        return pa_fail(PA_ENOMEM, "counts: out of memory");
    rc = pa_csv_load(&c, zPath);
    if (rc != PA_OK) {
        free(abSeen);
        return rc;
    }
    memset(aCounts, 0, t->nCell * sizeof *aCounts);
    iCell = pa_csv_column(c, "cell");
    iCount = pa_csv_column(c, "count");
    for (size_t d = 0; d < t->nDimension; d++)
        aiDim[d] = pa_csv_column(c, t->aDimension[d].zName);
    if (iCount < 0)
        rc = pa_fail(PA_EDECODE, "%s: no \"count\" column", zPath);
    for (size_t d = 0; rc == PA_OK && iCell < 0 && d < t->nDimension; d++)
        if (aiDim[d] < 0)
            rc = pa_fail(PA_EDECODE, "%s: no \"%s\" column (or use cell,count)", zPath, t->aDimension[d].zName);
    uint64_t nMax = t->eVdaf == PA_VDAF_SUMVEC || t->eVdaf == PA_VDAF_SUM ? t->nMaxMeasurement : 1;
    for (size_t r = 0; rc == PA_OK && r < pa_csv_row_count(c); r++) {
        uint64_t v, cell = 0;
        if (parse_count(pa_csv_get(c, r, iCount), &v) != 0) {
            rc = pa_fail(PA_EINVAL, "%s: line %zu: count \"%s\" is not a whole number", zPath, r + 2,
                         pa_csv_get(c, r, iCount));
            break;
        }
        if (v > nMax) {
            rc = pa_fail(PA_EINVAL, "%s: line %zu: count %llu is above the task's maximum %llu per cell",
                         zPath, r + 2, (unsigned long long)v, (unsigned long long)nMax);
            break;
        }
        if (iCell >= 0) {
            if (parse_count(pa_csv_get(c, r, iCell), &cell) != 0 || cell >= t->nCell)
                rc = pa_fail(PA_EINVAL, "%s: line %zu: cell \"%s\" is not in 0..%zu", zPath, r + 2,
                             pa_csv_get(c, r, iCell), t->nCell - 1);
        } else {
            for (size_t d = 0; rc == PA_OK && d < t->nDimension; d++) {
                const pa_task_dimension *dim = &t->aDimension[d];
                const char *z = pa_csv_get(c, r, aiDim[d]);
                size_t j;
                for (j = 0; j < dim->nCategory; j++)
                    if (strcmp(dim->azCategory[j], z) == 0)
                        break;
                if (j == dim->nCategory)
                    rc = pa_fail(PA_EINVAL, "%s: line %zu: %s \"%s\" is not a category of the task", zPath,
                                 r + 2, dim->zName, z);
                cell = cell * dim->nCategory + j;
            }
        }
        if (rc == PA_OK && v != 0 && pa_task_structural_zero(t, (size_t)cell))
            rc = pa_fail(PA_EINVAL, "%s: line %zu: cell %llu is a structural zero of the task (schema."
                                    "structural_zeros: e.g. Group B offenses are arrest-only, crimes "
                                    "against society have no person victim) and cannot be %llu; nothing "
                                    "was sent", zPath, r + 2, (unsigned long long)cell, (unsigned long long)v);
        if (rc == PA_OK && abSeen[cell])
            rc = pa_fail(PA_EINVAL, "%s: line %zu: cell %llu is listed twice", zPath, r + 2,
                         (unsigned long long)cell);
        if (rc == PA_OK) {
            abSeen[cell] = 1;
            aCounts[cell] = v;
        }
    }
    pa_csv_free(c);
    free(abSeen);
    return rc;
}

/*
 * An aggregator's status (include/privagg/status.h): batches by state, the
 * lattice of privacy-budget cells and the store's figures, read through the
 * store's interface, for `privagg status` and the node's /metrics gauges.  The
 * lattice is every partition of the task for each period that has a batch or
 * a ledger entry: a partition released on its own has spent its statewide
 * charges plus its own, any other partition of a period its statewide charges
 * (pa_dp_ledger_cells' "state" cell) — the spend the ledger's budget check
 * (docs/dp.md, "Accounting by partition") holds each record of that cell to.
 */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/guard.h"
#include "privagg/common.h"
#include "privagg/http.h"
#include "privagg/ledger.h"
#include "privagg/status.h"
#include "node/node_config.h"

const char *pa_batch_state_name(pa_batch_state e)
{
    switch (e) {
    case PA_BATCH_OPEN: return "open";
    case PA_BATCH_AGGREGATED: return "aggregated";
    case PA_BATCH_RELEASED: return "released";
    }
    return "unknown";
}

/* A growable array of batches, and the ledger's cells as read. */
typedef struct {
    pa_status *p;
    size_t nAlloc;
    int rc;
} batch_ctx;

static int add_batch(void *pCtx, const pa_store_batch_info *b)
{
    batch_ctx *c = pCtx;
    if (c->p->nBatch == c->nAlloc) {
        size_t nNew = c->nAlloc ? 2 * c->nAlloc : 64;
        pa_store_batch_info *a = realloc(c->p->aBatch, nNew * sizeof *a);
        if (a == NULL)
            return pa_fail(PA_ENOMEM, "status: out of memory");
        c->p->aBatch = a;
        c->nAlloc = nNew;
    }
    c->p->aBatch[c->p->nBatch++] = *b;
    return 0;
}

typedef struct {
    char zPeriod[16];
    char zPartition[72];
    double rSpent;
} ledger_cell;

typedef struct {
    ledger_cell *a;
    size_t n, nAlloc;
} cell_ctx;

static int add_cell(void *pCtx, const char *zPeriod, const char *zPartition, double rSpent)
{
    cell_ctx *c = pCtx;
    if (c->n == c->nAlloc) {
        size_t nNew = c->nAlloc ? 2 * c->nAlloc : 64;
        ledger_cell *a = realloc(c->a, nNew * sizeof *a);
        if (a == NULL)
            return pa_fail(PA_ENOMEM, "status: out of memory");
        c->a = a;
        c->nAlloc = nNew;
    }
    snprintf(c->a[c->n].zPeriod, sizeof c->a[c->n].zPeriod, "%s", zPeriod);
    snprintf(c->a[c->n].zPartition, sizeof c->a[c->n].zPartition, "%s", zPartition);
    c->a[c->n].rSpent = rSpent;
    c->n++;
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The sorted distinct periods of the batches and the ledger's cells. */
static int periods_of(const pa_status *p, const cell_ctx *c, const char ***pazOut, size_t *pn)
{
    size_t nMax = p->nBatch + c->n, n = 0;
    const char **az = malloc((nMax ? nMax : 1) * sizeof *az);
    if (az == NULL)
        return pa_fail(PA_ENOMEM, "status: out of memory");
    for (size_t i = 0; i < p->nBatch; i++)
        az[n++] = p->aBatch[i].zPeriod;
    for (size_t i = 0; i < c->n; i++)
        az[n++] = c->a[i].zPeriod;
    qsort(az, n, sizeof *az, cmp_str);
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (m == 0 || strcmp(az[m - 1], az[i]) != 0)
            az[m++] = az[i];
    *pazOut = az;
    *pn = m;
    return PA_OK;
}

static double spent_of(const cell_ctx *c, const char *zPeriod, const char *zPartition)
{
    double rState = 0;
    for (size_t i = 0; i < c->n; i++) {
        if (strcmp(c->a[i].zPeriod, zPeriod) != 0)
            continue;
        if (strcmp(c->a[i].zPartition, zPartition) == 0)
            return c->a[i].rSpent;          /* released on its own: S + P */
        if (strcmp(c->a[i].zPartition, PA_DP_LEDGER_STATE) == 0)
            rState = c->a[i].rSpent;        /* S */
    }
    return rState;
}

static int lattice(pa_status *p, pa_store *pStore, const pa_task *t)
{
    cell_ctx c = {0};
    const char **azPeriod = NULL;
    size_t nPeriod = 0;
    char zTask[65];
    int rc;

    sodium_bin2hex(zTask, sizeof zTask, t->aTaskId, 32);
    rc = pa_dp_ledger_cells(pStore, zTask, add_cell, &c);
    if (rc == PA_OK)
        rc = periods_of(p, &c, &azPeriod, &nPeriod);
    if (rc == PA_OK && nPeriod * t->nPartition > 0) {
        p->aCell = calloc(nPeriod * t->nPartition, sizeof *p->aCell);
        if (p->aCell == NULL)
            rc = pa_fail(PA_ENOMEM, "status: out of memory");
    }
    p->rLeftMin = p->rBudget;
    for (size_t i = 0; rc == PA_OK && i < nPeriod; i++) {
        for (size_t j = 0; j < t->nPartition; j++) {
            pa_status_cell *pc = &p->aCell[p->nCell++];
            snprintf(pc->zPeriod, sizeof pc->zPeriod, "%s", azPeriod[i]);
            snprintf(pc->zPartition, sizeof pc->zPartition, "%s", t->aPartition[j].zName);
            pc->rSpent = spent_of(&c, azPeriod[i], t->aPartition[j].zName);
            pc->rLeft = p->rBudget > pc->rSpent ? p->rBudget - pc->rSpent : 0;
            p->rSpentTotal += pc->rSpent;
            if (pc->rSpent > p->rSpentMax)
                p->rSpentMax = pc->rSpent;
            if (pc->rLeft < p->rLeftMin)
                p->rLeftMin = pc->rLeft;
            p->nSpent += pc->rSpent > 0;
            /* the ledger's own tolerance: a release that fits exactly is allowed */
            p->nExhausted += p->rBudget > 0 &&
                             pc->rSpent + p->rPartitionRelease > p->rBudget * (1 + PA_DP_LEDGER_TOLERANCE);
        }
    }
    free(azPeriod);
    free(c.a);
    return rc;
}

int pa_status_read(pa_store *pStore, const pa_task *pTask, const char *zStorePath, pa_status *pOut)
{
    batch_ctx bc;
    int rc;

    memset(pOut, 0, sizeof *pOut);
    pOut->zUnit = pTask->eMechanism == PA_TASK_DP_LAPLACE ? "eps" : "rho";
    pOut->rBudget = pTask->eMechanism == PA_TASK_DP_NONE ? 0 : pTask->rBudgetPerRecord;
    pOut->rPartitionRelease = pTask->eMechanism == PA_TASK_DP_NONE ? 0 : pTask->aPerRelease[PA_TASK_LEVEL_PARTITION];
    memset(&bc, 0, sizeof bc);
    bc.p = pOut;
    rc = pa_store_stats_read(pStore, zStorePath, &pOut->store);
    if (rc == PA_OK)
        rc = pa_store_batches_walk(pStore, pTask->aTaskId, add_batch, &bc);
    /* partition batches by state; a period's statewide batch from its partitions */
    for (size_t i = 0; rc == PA_OK && i < pOut->nBatch; i++) {
        const pa_store_batch_info *b = &pOut->aBatch[i];
        if (pa_task_level_of(b->zPartition) == PA_TASK_LEVEL_PARTITION)
            pOut->anPartition[b->eState]++;
        if (i > 0 && strcmp(b->zPeriod, pOut->aBatch[i - 1].zPeriod) == 0)
            continue;
        /* the first batch of a period: decide the period's statewide batch */
        pa_batch_state e = PA_BATCH_AGGREGATED;
        for (size_t k = i; k < pOut->nBatch && strcmp(pOut->aBatch[k].zPeriod, b->zPeriod) == 0; k++) {
            if (pa_task_level_of(pOut->aBatch[k].zPartition) == PA_TASK_LEVEL_STATE) {
                e = PA_BATCH_RELEASED;
                break;
            }
            if (pOut->aBatch[k].eState == PA_BATCH_OPEN)
                e = PA_BATCH_OPEN;
        }
        pOut->anStatewide[e]++;
    }
    if (rc == PA_OK)
        rc = lattice(pOut, pStore, pTask);
    if (rc != PA_OK)
        pa_status_free(pOut);
    return rc;
}

void pa_status_free(pa_status *p)
{
    free(p->aBatch);
    free(p->aCell);
    p->aBatch = NULL;
    p->aCell = NULL;
    p->nBatch = p->nCell = 0;
}

size_t pa_status_worst(const pa_status *p, size_t *aiOut, size_t n)
{
    size_t m = 0;
    /* insertion of each cell into the n largest so far: n is small (a summary) */
    for (size_t i = 0; i < p->nCell; i++) {
        size_t k;
        if (m < n)
            k = m++;
        else if (n > 0 && p->aCell[i].rSpent > p->aCell[aiOut[n - 1]].rSpent)
            k = n - 1;
        else
            continue;
        while (k > 0 && p->aCell[i].rSpent > p->aCell[aiOut[k - 1]].rSpent) {
            aiOut[k] = aiOut[k - 1];
            k--;
        }
        aiOut[k] = i;
    }
    return m;
}

int pa_status_probe(const char *zBaseUrl, const char *zCaFile, int64_t *pnMs)
{
    pa_http_client_opts o;
    char zUrl[4200];
    long nStatus = 0;
    uint8_t *pBody = NULL;
    size_t nBody = 0;
    char *zType = NULL;
    struct timespec t0, t1;

    memset(&o, 0, sizeof o);
    o.ca_file = zCaFile;
    o.connect_timeout_ms = 2000;
    o.timeout_ms = 3000;
    o.max_response_bytes = 4096;
    *pnMs = 0;
    if (zBaseUrl == NULL || zBaseUrl[0] == '\0')
        return pa_fail(PA_EINVAL, "the task names no endpoint for the peer");
    if ((size_t)snprintf(zUrl, sizeof zUrl, "%s/health", zBaseUrl) >= sizeof zUrl)
        return pa_fail(PA_ERANGE, "peer endpoint: longer than %zu bytes", sizeof zUrl - 8);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int rc = pa_http_request(&o, "GET", zUrl, NULL, NULL, 0, &nStatus, &pBody, &nBody, &zType);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    *pnMs = (int64_t)(t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    free(pBody);
    free(zType);
    if (rc != PA_OK)
        return rc;
    if (nStatus != 200)
        return pa_fail(PA_EIO, "%s answered HTTP %ld", zUrl, nStatus);
    return PA_OK;
}

int pa_status_target_load(pa_status_target *pOut, const char *zConfigPath)
{
    pa_node_config *c = calloc(1, sizeof *c);
    int rc;

    memset(pOut, 0, sizeof *pOut);
    if (c == NULL)
        return pa_fail(PA_ENOMEM, "status: out of memory");
    rc = pa_node_config_load(c, zConfigPath);
    if (rc == PA_OK) {
        pOut->bLeader = c->eRole == PA_ROLE_LEADER;
        memcpy(pOut->zTask, c->zTask, sizeof pOut->zTask);
        memcpy(pOut->zStore, c->zStore, sizeof pOut->zStore);
        memcpy(pOut->zKey, c->zKey, sizeof pOut->zKey);
        memcpy(pOut->zPeerCa, c->zPeerCa, sizeof pOut->zPeerCa);
    }
    sodium_memzero(c, sizeof *c);
    free(c);
    return rc;
}

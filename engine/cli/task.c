/*
 * privagg task — create the default task of a state from the shipped data, or
 * show a task in words (thin over engine/task).
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"

#include "privagg/common.h"
#include "privagg/dp.h"
#include "privagg/keys.h"
#include "privagg/registry.h"
#include "privagg/task.h"
#include "privagg/task_build.h"
#include "privagg/vdaf.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: privagg task init --state ST --keys DIR --out FILE [options]\n"
            "       privagg task show --task FILE [--json]\n"
            "\n"
            "init builds the default task: offense buckets x 5 immigration statuses x 2\n"
            "roles (270 cells), Prio3SumVec, one agency list entry per agency of\n"
            "<st>_le_agencies.csv of the shipped data, partitions of at least --min-agencies agencies (a\n"
            "county, a region of neighbouring counties, or no-county), monthly batches,\n"
            "discrete Gaussian noise.  show prints the task in words: the noise and the\n"
            "budget per release level, and the partitions (--json: one object, with\n"
            "every partition and its agency count).\n"
            "  --keys DIR              DIR/leader.pub, DIR/helper.pub, DIR/collector.pub and\n"
            "                          DIR/agencies/<ORI>.pub (see privagg keygen)\n"
            "  --registry FILE         name the agency registry (privagg registry) instead of\n"
            "                          listing agencies: the task holds its genesis hash and\n"
            "                          signer; partitions are made from the agencies enrolled\n"
            "                          (not revoked) in FILE and cover every county of the\n"
            "                          state, so agencies enrolled later keep the task id;\n"
            "                          no DIR/agencies is read (docs/registry.md)\n"
            "  --leader-endpoint URL   default https://127.0.0.1:8441\n"
            "  --helper-endpoint URL   default https://127.0.0.1:8442\n"
            "  --agencies N            only the first N agencies of the file\n"
            "  --min-agencies N        agencies a batch needs before collection (default 10);\n"
            "                          counties with fewer agencies are grouped into regions\n"
            "  --budget-rho B          zCDP rho one incident record may lose in total, i.e. per\n"
            "                          lattice cell (period x partition) (default 1.0)\n"
            "  --rho-state R1          rho charged per statewide release (default 0.5)\n"
            "  --rho-partition R2      rho charged per partition release (default 0.5)\n"
            "  --max-cells-per-record K  cells one incident record may touch (default 4)\n"
            "  --allow-corrections     a newer report of an agency for a period replaces the older\n"
            "                          one until the batch's release is asked for (submit --correct)\n"
            "  --force                 replace an existing --out file (other keys, agencies\n"
            "                          or policy make a new task id: the old task's reports\n"
            "                          and releases no longer apply); without it an\n"
            "                          existing file is refused (exit 1)\n"
            "  --data DIR              the shipped data folder; by default the installed\n"
            "                          share/privagg/data next to the privagg executable\n"
            "                          (bin/../share/privagg/data), else data/ of the source\n"
            "                          tree of a build-tree binary, else ./data\n"
            "\n"
            "exit status:\n"
            "  0  init: the task was written; show: printed\n"
            "  1  a key, the data or the task cannot be read, or --out exists (init\n"
            "     without --force)\n"
            "  2  bad usage\n"
            "\n"
            "examples:\n"
            "  privagg task init --state MO --keys keys --out task.json\n"
            "  privagg task init --state MO --keys keys --out task.json --allow-corrections\n"
            "  privagg task init --state MO --keys keys --registry registry.json --out task.json\n"
            "  privagg task show --task task.json\n"
            "  privagg task show --task task.json --json\n");
}

static int load_pub(pa_keys *k, const char *zDir, const char *zName, pa_role eWant)
{
    char zPath[4096];
    int rc;
    snprintf(zPath, sizeof zPath, "%s/%s.pub", zDir, zName);
    rc = pa_keys_read_public(k, zPath);
    if (rc == PA_OK && k->eRole != eWant)
        rc = pa_fail(PA_EINVAL, "%s: role %s, expected %s", zPath, pa_role_name(k->eRole),
                     pa_role_name(eWant));
    return rc;
}

/* A new task file: never over an existing one unless bForce, and then through a
 * temporary file renamed over it, so the old task is whole until the new one is. */
static int write_task(const json_t *pJson, const char *zOut, int bForce)
{
    char zTmp[4200];
    const char *zPath = zOut;
    FILE *f;
    int fd, rc = PA_OK;

    if (bForce && (size_t)snprintf(zTmp, sizeof zTmp, "%s.tmp-%ld", zOut, (long)getpid()) < sizeof zTmp)
        zPath = zTmp;
    else if (bForce)
        return pa_fail(PA_ERANGE, "%s: path too long", zOut);
    fd = open(zPath, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0 && errno == EEXIST && !bForce)
        return pa_fail(PA_EEXISTS, "%s: exists; a task with other keys, agencies or policy has a new "
                       "task id, which orphans every report and release of the old one: keep "
                       "it, or replace it with --force",
                       zOut);
    if (fd < 0)
        return pa_fail(PA_EIO, "%s: %s", zPath, strerror(errno));
    if ((f = fdopen(fd, "w")) == NULL) {
        close(fd);
        rc = pa_fail(PA_EIO, "%s: %s", zPath, strerror(errno));
    } else {
        if (json_dumpf(pJson, f, JSON_INDENT(2)) != 0 || fputc('\n', f) == EOF || fflush(f) != 0 ||
            fsync(fileno(f)) != 0)
            rc = pa_fail(PA_EIO, "%s: cannot write", zPath);
        if (fclose(f) != 0 && rc == PA_OK)
            rc = pa_fail(PA_EIO, "%s: cannot write", zPath);
    }
    if (rc == PA_OK && zPath != zOut && rename(zPath, zOut) != 0)
        rc = pa_fail(PA_EIO, "%s: cannot replace: %s", zOut, strerror(errno));
    if (rc != PA_OK)
        unlink(zPath);
    return rc;
}

static int task_init(int argc, char **argv)
{
    pa_cli_opt o[] = {
        {"--state", 0, NULL, 0, NULL},         {"--keys", 0, NULL, 0, NULL},
        {"--out", 0, NULL, 0, NULL},           {"--leader-endpoint", 0, NULL, 0, NULL},
        {"--helper-endpoint", 0, NULL, 0, NULL}, {"--agencies", 0, NULL, 0, NULL},
        {"--min-agencies", 0, NULL, 0, NULL},  {"--rho", 0, NULL, 0, NULL},
        {"--total-rho", 0, NULL, 0, NULL},     {"--max-cells-per-record", 0, NULL, 0, NULL},
        {"--budget-rho", 0, NULL, 0, NULL},    {"--rho-state", 0, NULL, 0, NULL},
        {"--rho-partition", 0, NULL, 0, NULL},
        {"--data", 0, NULL, 0, NULL},          {"--force", 1, NULL, 0, NULL},
        {"--help", 1, NULL, 0, NULL},          {"--allow-corrections", 1, NULL, 0, NULL},
        {"--registry", 0, NULL, 0, NULL},
    };
    pa_registry *pReg = NULL;
    const char **azRegId = NULL, **azRegCounty = NULL;
    size_t n = sizeof o / sizeof o[0], nId = 0, nAll = 0;
    pa_keys leader, helper, collector, *aAgency = NULL;
    pa_task_build_opts b;
    unsigned long long v;
    char **azId = NULL, zData[4200];
    json_t *pJson = NULL;
    pa_task *pTask = NULL;
    int rc;

    if ((rc = pa_cli_begin(argc, argv, o, n, usage)) >= 0)
        return rc;
    memset(&b, 0, sizeof b);
    b.zState = pa_cli_value(o, n, "--state");
    const char *zKeys = pa_cli_value(o, n, "--keys"), *zOut = pa_cli_value(o, n, "--out");
    if (b.zState == NULL || zKeys == NULL || zOut == NULL) {
        fprintf(stderr, "privagg task init: --state, --keys and --out are required\n");
        return 2;
    }
    b.zDataDir = pa_cli_data_dir(pa_cli_value(o, n, "--data"), zData, sizeof zData);
    b.zLeaderEndpoint = pa_cli_value(o, n, "--leader-endpoint") ? pa_cli_value(o, n, "--leader-endpoint")
                                                                 : "https://127.0.0.1:8441";
    b.zHelperEndpoint = pa_cli_value(o, n, "--helper-endpoint") ? pa_cli_value(o, n, "--helper-endpoint")
                                                                 : "https://127.0.0.1:8442";
    b.nMinAgencies = 10;
    b.rBudgetRho = 1.0;
    b.rRhoState = 0.5;
    b.rRhoPartition = 0.5;
    b.nMaxCellsPerRecord = 4;
    b.bAllowCorrections = pa_cli_seen(o, n, "--allow-corrections");
    if (pa_cli_value(o, n, "--agencies")) {
        if (pa_cli_uint("task init", "--agencies", pa_cli_value(o, n, "--agencies"), 1, 100000, &v))
            return 2;
        b.nMaxAgencies = (size_t)v;
    }
    if (pa_cli_value(o, n, "--min-agencies")) {
        if (pa_cli_uint("task init", "--min-agencies", pa_cli_value(o, n, "--min-agencies"), 1, 100000, &v))
            return 2;
        b.nMinAgencies = (size_t)v;
    }
    if (pa_cli_value(o, n, "--max-cells-per-record")) {
        if (pa_cli_uint("task init", "--max-cells-per-record",
                        pa_cli_value(o, n, "--max-cells-per-record"), 1, 270, &v))
            return 2;
        b.nMaxCellsPerRecord = v;
    }
    if (pa_cli_seen(o, n, "--rho") || pa_cli_seen(o, n, "--total-rho")) {
        fprintf(stderr, "privagg task init: --rho and --total-rho are gone (task format 2): the budget "
                        "is per record, --budget-rho B, charged --rho-state R1 per statewide release "
                        "and --rho-partition R2 per partition release\n");
        return 2;
    }
    if (pa_cli_value(o, n, "--budget-rho") &&
        pa_cli_real("task init", "--budget-rho", pa_cli_value(o, n, "--budget-rho"), 1e-9, 1000, &b.rBudgetRho))
        return 2;
    if (pa_cli_value(o, n, "--rho-state") &&
        pa_cli_real("task init", "--rho-state", pa_cli_value(o, n, "--rho-state"), 1e-9, 100, &b.rRhoState))
        return 2;
    if (pa_cli_value(o, n, "--rho-partition") &&
        pa_cli_real("task init", "--rho-partition", pa_cli_value(o, n, "--rho-partition"), 1e-9, 100,
                    &b.rRhoPartition))
        return 2;

    rc = load_pub(&leader, zKeys, "leader", PA_ROLE_LEADER);
    if (rc == PA_OK)
        rc = load_pub(&helper, zKeys, "helper", PA_ROLE_HELPER);
    if (rc == PA_OK)
        rc = load_pub(&collector, zKeys, "collector", PA_ROLE_COLLECTOR);
    if (rc == PA_OK && pa_cli_value(o, n, "--registry") != NULL) {
        /* the registry form: the enrolled agencies, not revoked, place the partitions */
        rc = pa_registry_load(&pReg, pa_cli_value(o, n, "--registry"));
        size_t nReg = pReg ? pa_registry_agency_count(pReg) : 0;
        if (rc == PA_OK && ((azRegId = calloc(nReg + 1, sizeof *azRegId)) == NULL ||
                            (azRegCounty = calloc(nReg + 1, sizeof *azRegCounty)) == NULL))
            rc = pa_fail(PA_ENOMEM, "registry: out of memory");
        for (size_t i = 0; rc == PA_OK && i < nReg; i++) {
            pa_reg_agency x;
            const char *zA = pa_registry_agency_id(pReg, i);
            pa_registry_lookup(pReg, zA, "9999-12", &x);
            if (x.eStatus == PA_REG_REVOKED)
                continue;
            for (size_t e = 0; e < pa_registry_count(pReg); e++) {
                const pa_reg_entry *pE = pa_registry_entry(pReg, e);
                if (pE->eOp == PA_REG_ENROLL && strcmp(pE->zAgency, zA) == 0)
                    azRegCounty[b.nReg] = pE->zCounty;
            }
            azRegId[b.nReg++] = zA;
        }
        b.pRegistryGenesis = pReg ? pa_registry_genesis(pReg) : NULL;
        b.pRegistrySigner = pReg ? pa_registry_signer(pReg) : NULL;
        b.azRegId = azRegId;
        b.azRegCounty = azRegCounty;
    } else if (rc == PA_OK) {
        rc = pa_task_list_agencies(&azId, &nId, b.zDataDir, b.zState);
    }
    nAll = nId;
    if (rc == PA_OK && b.nMaxAgencies != 0 && b.nMaxAgencies < nId)
        nId = b.nMaxAgencies;
    if (rc == PA_OK && (aAgency = calloc(nId ? nId : 1, sizeof *aAgency)) == NULL)
        rc = pa_fail(PA_ENOMEM, "agency keys: out of memory");
    for (size_t i = 0; rc == PA_OK && i < nId; i++) {
        char zDir[4096];
        snprintf(zDir, sizeof zDir, "%s/agencies", zKeys);
        rc = load_pub(&aAgency[i], zDir, azId[i], PA_ROLE_AGENCY);
    }
    b.pLeader = &leader;
    b.pHelper = &helper;
    b.pCollector = &collector;
    b.aAgencyKeys = aAgency;
    b.nAgencyKeys = nId;
    if (rc == PA_OK)
        rc = pa_task_build_default(&pJson, &b);
    if (rc == PA_OK) {
        char *z = json_dumps(pJson, JSON_INDENT(2));
        rc = z ? pa_task_parse(&pTask, z, strlen(z)) : pa_fail(PA_ENOMEM, "task: encoding");
        free(z);
    }
    if (rc == PA_OK)
        rc = write_task(pJson, zOut, pa_cli_seen(o, n, "--force"));
    if (rc == PA_OK) {
        char zId[65];
        sodium_bin2hex(zId, sizeof zId, pTask->aTaskId, 32);
        printf("%s\n", zOut);
        fprintf(stderr, "task id %s: %zu cells, %zu agencies in %zu partitions\n", zId, pTask->nCell,
                pTask->bRegistry ? b.nReg : pTask->nAgency, pTask->nPartition);
    }
    pa_registry_free(pReg);
    free(azRegId);
    free(azRegCounty);
    pa_task_free(pTask);
    json_decref(pJson);
    free(aAgency);
    pa_task_free_list(azId, nAll);
    if (rc != PA_OK) {
        pa_cli_report("task init", rc);
        return 1;
    }
    return 0;
}

/* Partitions by kind and agencies per partition. */
static void show_partitions(const pa_task *t)
{
    size_t nCounty = 0, nRegion = 0, nNone = 0, nMin = (size_t)-1, nMax = 0;
    const char *zMin = "", *zMax = "";
    for (size_t i = 0; i < t->nPartition; i++) {
        const pa_task_partition *p = &t->aPartition[i];
        size_t nAg = 0;
        if (p->nCounty == 0)
            nNone++;
        else if (p->nCounty == 1 && strcmp(p->azCounty[0], p->zName) == 0)
            nCounty++;
        else
            nRegion++;
        for (size_t j = 0; j < t->nAgency; j++)
            nAg += strcmp(t->aAgency[j].zPartition, p->zName) == 0;
        if (nAg < nMin) {
            nMin = nAg;
            zMin = p->zName;
        }
        if (nAg > nMax) {
            nMax = nAg;
            zMax = p->zName;
        }
    }
    printf("partitions %zu: %zu counties of their own, %zu regions of neighbouring counties, %zu "
           "without a county;\n", t->nPartition, nCounty, nRegion, nNone);
    if (t->bRegistry)
        printf("          agencies per partition: see privagg registry show --task\n");
    else
        printf("          %zu (%s) to %zu (%s) agencies per partition\n", nMin, zMin, nMax, zMax);
}

/* Noise and budget per release level. */
static int show_dp(const pa_task *t)
{
    const char *zUnit = t->eMechanism == PA_TASK_DP_GAUSSIAN ? "rho" : "epsilon";
    double rMonth = t->aPerRelease[0] + t->aPerRelease[1], rEps = 0, rEpsStd = 0;
    int rc = PA_OK;

    printf("dp        %s per incident record (a record touches <= %llu cells, <= %llu each)\n",
           pa_task_mechanism_name(t->eMechanism), (unsigned long long)t->nMaxCellsPerRecord,
           (unsigned long long)t->nMaxPerCell);
    printf("          budget per record %g %s: a record lies in one period and one partition, so\n"
           "          each lattice cell (period, partition) has this budget in each aggregator's\n"
           "          ledger; the statewide release charges every partition's cell of its period\n",
           t->rBudgetPerRecord, zUnit);
    printf("          %-10s %12s %18s %14s %15s\n", "level", zUnit[0] == 'r' ? "rho/release" : "eps/release",
           "sigma2/aggregator", "sd of a cell", "95% half-width");
    for (int e = PA_TASK_LEVEL_STATE; rc == PA_OK && e <= PA_TASK_LEVEL_PARTITION; e++) {
        int bNoise;
        pa_dp_mechanism mech;
        pa_dp_sensitivity sens;
        double sigma2 = 0;
        uint64_t w95 = 0;
        char zHalf[32] = "-";
        rc = pa_task_noise(t, (pa_task_level)e, &bNoise, &mech, &sens, &sigma2);
        if (rc == PA_OK && t->eMechanism == PA_TASK_DP_GAUSSIAN) {
            rc = pa_dp_gaussian_interval(sigma2, 2, 0.95, &w95);
            snprintf(zHalf, sizeof zHalf, "%llu", (unsigned long long)w95);
        }
        if (rc == PA_OK)
            printf("          %-10s %12g %18g %14.3f %15s\n", pa_task_level_name((pa_task_level)e),
                   t->aPerRelease[e], sigma2, sqrt(2 * sigma2), zHalf);
    }
    if (rc != PA_OK)
        return rc;
    printf("          (sd and half-width of a published cell: both aggregators' noise, sd = "
           "sqrt(2 sigma2))\n");
    if (t->eMechanism == PA_TASK_DP_GAUSSIAN) {
        rc = pa_dp_zcdp_eps(rMonth, 1e-6, &rEps, &rEpsStd);
        if (rc == PA_OK)
            printf("          a month's statewide + partition releases: rho %g per record = "
                   "epsilon %.3f at delta 1e-6\n", rMonth, rEps);
    } else {
        printf("          a month's statewide + partition releases: epsilon %g per record\n", rMonth);
    }
    if (rc == PA_OK && rMonth > t->rBudgetPerRecord * (1 + 1e-12))
        printf("          WARNING: both levels together (%g) exceed the budget per record (%g): "
               "not every month can release both\n", rMonth, t->rBudgetPerRecord);
    return rc;
}

/* task show --json: what the text says, as one object for scripts. */
static int show_json(const pa_task *t)
{
    char zId[65], zKey[65];
    json_t *o = json_object(), *aDim = json_array(), *aPart = json_array(), *pDp, *pParties = json_object();
    int rc = PA_OK;

    sodium_bin2hex(zId, sizeof zId, t->aTaskId, 32);
    json_object_set_new(o, "name", json_string(t->zName));
    json_object_set_new(o, "task_id", json_string(zId));
    for (size_t i = 0; i < t->nDimension; i++)
        json_array_append_new(aDim, json_pack("{s:s, s:I}", "name", t->aDimension[i].zName, "categories",
                                              (json_int_t)t->aDimension[i].nCategory));
    json_object_set_new(o, "schema", json_pack("{s:I, s:o, s:I}", "cells", (json_int_t)t->nCell, "dimensions", aDim,
                                               "structural_zeros", (json_int_t)t->nStructuralZero));
    json_object_set_new(o, "vdaf", json_pack("{s:s, s:I, s:I}", "type", pa_vdaf_type_name(t->eVdaf), "max_measurement",
                                             (json_int_t)t->nMaxMeasurement, "chunk_length",
                                             (json_int_t)t->nChunkLength));
    const struct {
        const char *zRole;
        const pa_task_party *p;
    } aParty[] = {{"leader", &t->leader}, {"helper", &t->helper}, {"collector", &t->collector}};
    for (size_t i = 0; i < 3; i++) {
        sodium_bin2hex(zKey, sizeof zKey, aParty[i].p->aHpkePublicKey, 32);
        json_t *pP = json_pack("{s:i, s:s}", "hpke_config_id", aParty[i].p->iHpkeConfigId, "hpke_public_key", zKey);
        if (aParty[i].p->zEndpoint)
            json_object_set_new(pP, "endpoint", json_string(aParty[i].p->zEndpoint));
        json_object_set_new(pParties, aParty[i].zRole, pP);
    }
    json_object_set_new(o, "parties", pParties);
    for (size_t i = 0; i < t->nPartition; i++) {
        size_t nAg = 0;
        for (size_t j = 0; j < t->nAgency; j++)
            nAg += strcmp(t->aAgency[j].zPartition, t->aPartition[i].zName) == 0;
        json_array_append_new(aPart, json_pack("{s:s, s:I, s:I}", "name", t->aPartition[i].zName, "counties",
                                               (json_int_t)t->aPartition[i].nCounty, "agencies", (json_int_t)nAg));
    }
    json_object_set_new(o, "agencies", json_integer((json_int_t)t->nAgency));
    json_object_set_new(o, "partitions", aPart);
    json_object_set_new(o, "batching", json_pack("{s:I, s:b}", "min_agencies", (json_int_t)t->nMinAgencies,
                                                 "allow_corrections", t->bAllowCorrections));
    pDp = json_pack("{s:s}", "mechanism", pa_task_mechanism_name(t->eMechanism));
    if (t->eMechanism != PA_TASK_DP_NONE) {
        json_object_set_new(pDp, "unit", json_string(t->eMechanism == PA_TASK_DP_GAUSSIAN ? "rho" : "eps"));
        json_object_set_new(pDp, "budget_per_record", json_real(t->rBudgetPerRecord));
        json_object_set_new(pDp, "max_cells_per_record", json_integer((json_int_t)t->nMaxCellsPerRecord));
        json_object_set_new(pDp, "max_per_cell", json_integer((json_int_t)t->nMaxPerCell));
        for (int e = PA_TASK_LEVEL_STATE; rc == PA_OK && e <= PA_TASK_LEVEL_PARTITION; e++) {
            int bNoise;
            pa_dp_mechanism mech;
            pa_dp_sensitivity sens;
            double sigma2 = 0;
            rc = pa_task_noise(t, (pa_task_level)e, &bNoise, &mech, &sens, &sigma2);
            if (rc == PA_OK)
                json_object_set_new(pDp, pa_task_level_name((pa_task_level)e),
                                    json_pack("{s:f, s:f}", "per_release", t->aPerRelease[e],
                                              t->eMechanism == PA_TASK_DP_GAUSSIAN ? "sigma2_per_aggregator"
                                                                                  : "scale_per_aggregator",
                                              sigma2));
        }
    }
    json_object_set_new(o, "dp", pDp);
    char *z = rc == PA_OK ? json_dumps(o, JSON_INDENT(2) | JSON_REAL_PRECISION(12)) : NULL;
    json_decref(o);
    if (rc == PA_OK && z == NULL)
        rc = pa_fail(PA_ENOMEM, "task show: out of memory");
    if (z != NULL)
        printf("%s\n", z);
    free(z);
    return rc;
}

static int task_show(int argc, char **argv)
{
    pa_cli_opt o[] = {{"--task", 0, NULL, 0, NULL}, {"--json", 1, NULL, 0, NULL}, {"--help", 1, NULL, 0, NULL}};
    size_t n = sizeof o / sizeof o[0];
    pa_task *t;
    char zId[65];
    int rc;

    if ((rc = pa_cli_begin(argc, argv, o, n, usage)) >= 0)
        return rc;
    if (pa_cli_value(o, n, "--task") == NULL) {
        fprintf(stderr, "privagg task show: --task FILE is required\n");
        return 2;
    }
    rc = pa_task_load(&t, pa_cli_value(o, n, "--task"));
    if (rc != PA_OK) {
        pa_cli_report("task show", rc);
        return 1;
    }
    if (pa_cli_seen(o, n, "--json")) {
        rc = show_json(t);
        pa_task_free(t);
        if (rc != PA_OK) {
            pa_cli_report("task show", rc);
            return 1;
        }
        return 0;
    }
    sodium_bin2hex(zId, sizeof zId, t->aTaskId, 32);
    printf("task      %s\n", t->zName);
    printf("task id   %s\n\n", zId);
    printf("schema    %zu cells =", t->nCell);
    for (size_t i = 0; i < t->nDimension; i++)
        printf("%s %zu %s", i ? " x" : "", t->aDimension[i].nCategory, t->aDimension[i].zName);
    printf("\n");
    if (t->nStructuralZero)
        printf("          %zu structural zeros (cells that cannot exist, never published)\n", t->nStructuralZero);
    for (size_t i = 0; i < t->nDimension; i++) {
        printf("  %-8s", t->aDimension[i].zName);
        for (size_t j = 0; j < t->aDimension[i].nCategory && j < 6; j++)
            printf("%s%s", j ? "; " : " ", t->aDimension[i].azCategory[j]);
        if (t->aDimension[i].nCategory > 6)
            printf("; ... (%zu more)", t->aDimension[i].nCategory - 6);
        printf("\n");
    }
    printf("vdaf      %s, max %llu per cell, chunk %zu\n", pa_vdaf_type_name(t->eVdaf),
           (unsigned long long)t->nMaxMeasurement, t->nChunkLength);
    printf("leader    %s\nhelper    %s\n", t->leader.zEndpoint, t->helper.zEndpoint);
    if (t->bRegistry) {
        char zGen[65], zSig[65];
        sodium_bin2hex(zGen, sizeof zGen, t->aRegistryGenesis, 32);
        sodium_bin2hex(zSig, sizeof zSig, t->aRegistrySigner, 32);
        printf("agencies  from the agency registry of genesis %s\n          signed by %s "
               "(docs/registry.md), in %zu partitions;\n          a batch is one month of one partition "
               "or of the whole state (\"state\"),\n          collected once, with at least %zu agencies "
               "enrolled for the month\n", zGen, zSig, t->nPartition, t->nMinAgencies);
    } else {
        printf("agencies  %zu in %zu partitions; a batch is one month of one partition or of the\n"
               "          whole state (\"state\"), collected once, with at least %zu agencies\n",
               t->nAgency, t->nPartition, t->nMinAgencies);
    }
    printf("          corrections %s\n", t->bAllowCorrections ? "allowed: a newer report of an agency replaces "
                                                             "the older one until the release is asked for"
                                                           : "not allowed");
    show_partitions(t);
    if (t->eMechanism == PA_TASK_DP_NONE)
        printf("dp        NONE — totals are exact; for tests only, never for publication\n");
    else
        rc = show_dp(t);
    printf("\nwho learns what\n"
           "  agency     its own counts, nothing about other agencies\n"
           "  leader     which agencies reported and when; no counts unless the helper colludes\n"
           "  helper     the same as the leader\n"
           "  collector  noised totals of a batch and its agency count; no agency's counts\n");
    pa_task_free(t);
    if (rc != PA_OK) {
        pa_cli_report("task show", rc);
        return 1;
    }
    return 0;
}

int pa_cli_task(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "init") == 0)
        return task_init(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "show") == 0)
        return task_show(argc - 1, argv + 1);
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        usage(stdout);
        return 0;
    }
    usage(stderr);
    return 2;
}

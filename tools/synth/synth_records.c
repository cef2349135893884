/*
 * Synthetic incident exports (see include/privagg/synth.h): what an agency's
 * records management system would export for one month, in the columns of the
 * submitter's default mapping (`privagg submit --print-mapping`), one row per
 * person involved in an offense, with the mess a real export has: several
 * offenses and persons per incident, repeated rows, witnesses, justifiable
 * homicides (09C), victims listed for offenses that have none in NIBRS, late
 * records of the month before, mixed spellings and letter codes of the values,
 * quoted narratives with commas and quotes — and a few broken rows (unknown
 * offense codes and statuses, a wrong field count, an unreadable date; about
 * one row in 150, never more than 1 %).
 *
 * Alongside, the generator computes the exact count vector the submitter must
 * arrive at, from the incidents it made, by the rules of docs/submit.md written
 * out again here (independently of engine/submit/records.c, so a test comparing
 * the two checks the reader): an incident of the month counts the set of cells
 * of its countable rows, keeps the k lowest cell indexes, and each cell stops at
 * max_measurement.  Broken rows carry their incident's id and come after its
 * good rows, so they never change what the incident counts.
 *
 * Test data only: floating point and GSL's samplers are fine here.
 */
#include <errno.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/guard.h"
#include "privagg/common.h"
#include "privagg/report.h"
#include "privagg/synth.h"
#include "synth/synth_internal.h"

#define MAX_OFFENSES 3
#define MAX_PERSONS 4

/* How an agency's RMS spells the values: words, or one-letter codes. */
static const char *const g_azStatusWord[5][3] = {
    {"U.S. citizen", "citizen", "US Citizen"},
    {"permanent resident", "LPR", "Green card"},
    {"visa holder", "other lawful", "Lawful"},
    {"undocumented", "no status", "Unlawful"},
    {"", "not recorded", "Not known"},
};
static const char *const g_azStatusLetter[5] = {"C", "P", "L", "N", "U"};
/* Status shares by role (offender/arrestee, victim): citizen, LPR, other lawful,
 * no lawful, unknown (synthetic). */
static const double g_aStatusShare[2][5] = {
    {0.80, 0.04, 0.02, 0.04, 0.10},
    {0.86, 0.04, 0.02, 0.02, 0.06},
};
static const char *const g_azNarrative[] = {
    "\"suspect fled on foot, \"\"last seen\"\" eastbound\"",
    "\"victim treated, released\"",
    "\"see supplement, case 2\"",
    "\"items recovered: phone, wallet\"",
};

typedef struct {
    gsl_rng *r;
    const pa_synth *s;
    int bLetters;              /* the agency's RMS uses letter codes */
    uint64_t k, nMax;
    uint64_t *aTruth;
    /* the export being built: rows of good incidents, then written with the
     * broken rows after the incidents chosen for them */
    char *z;
    size_t n, nCap;
    size_t *aIncEnd;           /* end offset of each incident's rows in z */
    char (*azIncId)[24];
    char (*azIncDate)[24];
    size_t nInc, nIncCap;
    uint64_t nRow;
    int bOom;
} gen;

static void put(gen *g, const char *zText)
{
    size_t m = strlen(zText);
    if (g->bOom)
        return;
    if (g->n + m + 1 > g->nCap) {
        size_t nCap = g->nCap ? 2 * g->nCap : 65536;
        while (nCap < g->n + m + 1)
            nCap *= 2;
        char *z = realloc(g->z, nCap);
        if (z == NULL) {
            g->bOom = 1;
            return;
        }
        g->z = z;
        g->nCap = nCap;
    }
    memcpy(g->z + g->n, zText, m + 1);
    g->n += m;
}

static size_t pick(gen *g, const double *aShare, size_t n)
{
    double u = gsl_rng_uniform(g->r), acc = 0;
    for (size_t i = 0; i + 1 < n; i++) {
        acc += aShare[i];
        if (u < acc)
            return i;
    }
    return n - 1;
}

/* A code of bucket iBucket (1..27; 0 = excluded), uniformly among its codes. */
static const pa_synth_code *code_of(gen *g, int iBucket)
{
    size_t n = 0, iPick;
    for (size_t i = 0; i < g->s->nCode; i++)
        n += g->s->aCode[i].iBucket == iBucket;
    if (n == 0)
        return NULL;
    iPick = gsl_rng_uniform_int(g->r, n);
    for (size_t i = 0; i < g->s->nCode; i++)
        if (g->s->aCode[i].iBucket == iBucket && iPick-- == 0)
            return &g->s->aCode[i];
    return NULL;
}

static const char *status_text(gen *g, size_t iStatus)
{
    if (g->bLetters)
        return g_azStatusLetter[iStatus];
    return g_azStatusWord[iStatus][gsl_rng_uniform_int(g->r, 3)];
}

static const char *role_text(gen *g, int bVictim, int bArrest)
{
    if (bVictim)
        return g->bLetters ? "V" : (gsl_rng_uniform(g->r) < 0.5 ? "Victim" : "victim");
    if (g->bLetters)
        return bArrest ? "A" : "O";
    return bArrest ? "Arrestee" : (gsl_rng_uniform(g->r) < 0.8 ? "Offender" : "suspect");
}

static void row(gen *g, const char *zOri, const char *zId, const char *zDate, const char *zCode,
                const char *zRole, const char *zStatus)
{
    char zLine[512];
    const char *zNote = gsl_rng_uniform(g->r) < 0.03
                            ? g_azNarrative[gsl_rng_uniform_int(g->r, sizeof g_azNarrative / sizeof *g_azNarrative)]
                            : "";
    /* a status with a comma or quote would need quoting: the tables have none */
    snprintf(zLine, sizeof zLine, "%s,%s,%s,%s,%s,%s,%s\r\n", zOri, zId, zDate, zCode, zRole, zStatus, zNote);
    put(g, zLine);
    g->nRow++;
}

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return x < y ? -1 : x > y;
}

/* The bounds of docs/submit.md on one incident's cell set (aCell may repeat). */
static void count_incident(gen *g, size_t *aCell, size_t nCell)
{
    size_t nUnique = 0;
    qsort(aCell, nCell, sizeof *aCell, cmp_size);
    for (size_t i = 0; i < nCell; i++) {
        if (i > 0 && aCell[i] == aCell[i - 1])
            continue;                      /* once per cell */
        if (nUnique++ >= g->k)
            break;                         /* the k lowest cells */
        if (g->aTruth[aCell[i]] < g->nMax) /* clip */
            g->aTruth[aCell[i]]++;
    }
}

static int new_incident(gen *g, const char *zId, const char *zDate)
{
    if (g->nInc == g->nIncCap) {
        size_t nCap = g->nIncCap ? 2 * g->nIncCap : 256;
        size_t *a = realloc(g->aIncEnd, nCap * sizeof *a);
        char(*b)[24] = a ? realloc(g->azIncId, nCap * sizeof *b) : NULL;
        char(*c)[24] = b ? realloc(g->azIncDate, nCap * sizeof *c) : NULL;
        if (a)
            g->aIncEnd = a;
        if (b)
            g->azIncId = b;
        if (c == NULL)
            return pa_fail(PA_ENOMEM, "synth: out of memory");
        g->azIncDate = c;
        g->nIncCap = nCap;
    }
    snprintf(g->azIncId[g->nInc], 24, "%.23s", zId);
    snprintf(g->azIncDate[g->nInc], 24, "%.23s", zDate);
    return PA_OK;
}

/*
 * One incident of primary bucket iBucket (0: a justifiable homicide), dated in
 * month (iY, iM) or, for a late record, the month before.
 */
static int incident(gen *g, const char *zOri, const char *zId, int iBucket, int iY, int iM, int bLate,
                    const double *aBucketShare)
{
    static const int aDays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const pa_synth_code *aOff[MAX_OFFENSES];
    size_t nOff = 1, nOffender, nVictim, aOffStatus[MAX_PERSONS], aVicStatus[MAX_PERSONS];
    size_t aCell[MAX_OFFENSES * 2 * MAX_PERSONS], nCell = 0;
    char zDate[48];
    int y = iY, m = iM;

    if (bLate && --m == 0)
        m = 12, y--;
    int nDays = aDays[m - 1] + (m == 2 && y % 4 == 0 && (y % 100 != 0 || y % 400 == 0));
    int d = 1 + (int)gsl_rng_uniform_int(g->r, (unsigned long)nDays);
    if (gsl_rng_uniform(g->r) < 0.3)
        snprintf(zDate, sizeof zDate, "%04d-%02d-%02d %02d:%02d", y, m, d, (int)gsl_rng_uniform_int(g->r, 24),
                 (int)gsl_rng_uniform_int(g->r, 60));
    else
        snprintf(zDate, sizeof zDate, "%04d-%02d-%02d", y, m, d);
    PA_GUARD(new_incident(g, zId, zDate));

    aOff[0] = code_of(g, iBucket);
    if (aOff[0] == NULL)
        return pa_fail(PA_EINVAL, "synth: bucket %d has no offense code", iBucket);
    /* more offenses in the same incident: 12 % two, 3 % three */
    double u = gsl_rng_uniform(g->r);
    size_t nWant = iBucket == 0 ? 1 : u < 0.03 ? 3 : u < 0.15 ? 2 : 1;
    while (nOff < nWant) {
        const pa_synth_code *p = code_of(g, 1 + (int)pick(g, aBucketShare, PA_SYNTH_BUCKETS));
        if (p != NULL)
            aOff[nOff++] = p;
    }
    /* persons: offenders (0 = unknown offender) and person victims */
    u = gsl_rng_uniform(g->r);
    nOffender = u < 0.2 ? 0 : u < 0.8 ? 1 : u < 0.95 ? 2 : 3;
    if (aOff[0]->bNoVictim && nOffender == 0)
        nOffender = 1; /* an arrest, a drug seizure: someone is named */
    u = gsl_rng_uniform(g->r);
    nVictim = aOff[0]->bNoVictim ? (u < 0.05 ? 1 : 0) /* an RMS that lists "society" as a person */
                                 : (u < 0.82 ? 1 : u < 0.96 ? 2 : 3);
    if (iBucket == 0)
        nOffender = 1, nVictim = 0;
    for (size_t i = 0; i < nOffender; i++)
        aOffStatus[i] = pick(g, g_aStatusShare[0], 5);
    for (size_t i = 0; i < nVictim; i++)
        aVicStatus[i] = pick(g, g_aStatusShare[1], 5);

    for (size_t o = 0; o < nOff; o++) {
        const pa_synth_code *c = aOff[o];
        int bArrest = c->iBucket == PA_SYNTH_BUCKETS; /* Group B: arrestees */
        for (size_t i = 0; i < nOffender; i++) {
            row(g, zOri, zId, zDate, c->zCode, role_text(g, 0, bArrest), status_text(g, aOffStatus[i]));
            if (c->iBucket > 0)
                aCell[nCell++] = ((size_t)(c->iBucket - 1) * 5 + aOffStatus[i]) * 2 + 0;
        }
        /* victims are linked to the first offense, and to the others that can
         * have person victims */
        for (size_t i = 0; i < nVictim && (o == 0 || !c->bNoVictim); i++) {
            row(g, zOri, zId, zDate, c->zCode, role_text(g, 1, 0), status_text(g, aVicStatus[i]));
            if (c->iBucket > 0 && !c->bNoVictim)
                aCell[nCell++] = ((size_t)(c->iBucket - 1) * 5 + aVicStatus[i]) * 2 + 1;
        }
    }
    if (gsl_rng_uniform(g->r) < 0.05)
        row(g, zOri, zId, zDate, aOff[0]->zCode, g->bLetters ? "W" : "Witness", status_text(g, 0));
    if (!bLate)
        count_incident(g, aCell, nCell);
    g->aIncEnd[g->nInc++] = g->n;
    return g->bOom ? pa_fail(PA_ENOMEM, "synth: out of memory") : PA_OK;
}

/* A broken row of incident i (its id, after its good rows). */
static void broken_row(gen *g, FILE *f, const char *zOri, size_t i)
{
    const char *zId = g->azIncId[i], *zDate = g->azIncDate[i];
    switch (gsl_rng_uniform_int(g->r, 5)) {
    case 0: /* an offense code the table does not have */
        fprintf(f, "%s,%s,%s,%s,%s,%s,\r\n", zOri, zId, zDate, gsl_rng_uniform(g->r) < 0.5 ? "13X" : "999",
                g->bLetters ? "V" : "victim", g->bLetters ? "C" : "citizen");
        break;
    case 1: /* a line cut short */
        fprintf(f, "%s,%s,%s,13B\r\n", zOri, zId, zDate);
        break;
    case 2: /* a date in another format */
        fprintf(f, "%s,%s,%c%c/%c%c/%.4s,13B,%s,%s,\r\n", zOri, zId, zDate[5], zDate[6], zDate[8], zDate[9],
                zDate, g->bLetters ? "O" : "offender", g->bLetters ? "U" : "");
        break;
    case 3: /* a status the mapping does not know */
        fprintf(f, "%s,%s,%s,23H,%s,%s,\r\n", zOri, zId, zDate, g->bLetters ? "V" : "victim",
                g->bLetters ? "X" : "asylum pending");
        break;
    default: /* a role the mapping does not know */
        fprintf(f, "%s,%s,%s,23H,%s,%s,\r\n", zOri, zId, zDate, "bystander", g->bLetters ? "C" : "citizen");
        break;
    }
}

int pa_synth_records(const pa_synth *s, const pa_task_agency *a, const char *zPeriod, FILE *f,
                     uint64_t *aTruth, pa_synth_records_info *pInfo)
{
    uint8_t aHash[8];
    crypto_generichash_state st;
    double pop = pa_synth_population(s, a), aBucketShare[PA_SYNTH_BUCKETS], rSum = 0;
    uint64_t seed = 0, nInPeriod = 0;
    unsigned char *anBroken = NULL;
    gen g;
    int iY, iM, rc = PA_OK;

    if (!s->bDefaultSchema)
        return pa_fail(PA_EINVAL, "synth: incident exports need the default schema (offense buckets of "
                                  "data/nibrs_offense_buckets.csv x 5 statuses x 2 roles)");
    if (zPeriod == NULL || sscanf(zPeriod, "%4d-%2d", &iY, &iM) != 2 || strlen(zPeriod) != 7 || iM < 1 || iM > 12)
        return pa_fail(PA_EINVAL, "synth: period \"%s\" is not a month YYYY-MM from " PA_PERIOD_FIRST " on", zPeriod ? zPeriod : "");
    memset(&g, 0, sizeof g);
    g.s = s;
    g.k = s->pTask->nMaxCellsPerRecord; /* as the reader applies it */
    g.nMax = s->pTask->nMaxMeasurement;
    g.aTruth = aTruth;
    memset(aTruth, 0, s->pTask->nCell * sizeof *aTruth);
    if ((g.r = gsl_rng_alloc(gsl_rng_mt19937)) == NULL)
        return pa_fail(PA_ENOMEM, "synth: out of memory");
    /* one stream per (seed, agency, period), apart from the counts' stream */
    crypto_generichash_init(&st, NULL, 0, sizeof aHash);
    crypto_generichash_update(&st, (const uint8_t *)"records", 8);
    crypto_generichash_update(&st, (const uint8_t *)&s->iSeed, sizeof s->iSeed);
    crypto_generichash_update(&st, (const uint8_t *)a->zId, strlen(a->zId) + 1);
    crypto_generichash_update(&st, (const uint8_t *)zPeriod, strlen(zPeriod));
    crypto_generichash_final(&st, aHash, sizeof aHash);
    for (int i = 0; i < 8; i++)
        seed = (seed << 8) | aHash[i];
    gsl_rng_set(g.r, (unsigned long)seed);
    g.bLetters = gsl_rng_uniform(g.r) < 0.3;
    for (size_t b = 0; b < PA_SYNTH_BUCKETS; b++)
        rSum += pa_synth_annual_rate[b];
    for (size_t b = 0; b < PA_SYNTH_BUCKETS; b++)
        aBucketShare[b] = pa_synth_annual_rate[b] / rSum;

    /* the month's incidents, bucket by bucket, then shuffled into id order */
    size_t nAll = 0, aN[PA_SYNTH_BUCKETS + 1];
    for (size_t b = 0; b <= PA_SYNTH_BUCKETS; b++) {
        double rate = b == 0 ? 0.3 : pa_synth_annual_rate[b - 1]; /* 09C: ~0.3 per 100,000 a year */
        aN[b] = gsl_ran_poisson(g.r, rate / 12.0 * pop / 100000.0);
        nAll += aN[b];
    }
    int *aBucketOf = malloc((nAll ? nAll : 1) * sizeof *aBucketOf);
    if (aBucketOf == NULL) {
        gsl_rng_free(g.r);
        return pa_fail(PA_ENOMEM, "synth: out of memory");
    }
    for (size_t b = 0, j = 0; b <= PA_SYNTH_BUCKETS; b++)
        for (size_t i = 0; i < aN[b]; i++)
            aBucketOf[j++] = (int)b;
    gsl_ran_shuffle(g.r, aBucketOf, nAll, sizeof *aBucketOf);
    for (size_t i = 0; rc == PA_OK && i < nAll; i++) {
        char zId[48];
        int bLate = gsl_rng_uniform(g.r) < 0.01; /* reported late: an incident of the month before */
        snprintf(zId, sizeof zId, "%02d-%06zu", (bLate ? iY - (iM == 1) : iY) % 100, i + 1);
        rc = incident(&g, a->zId, zId, aBucketOf[i], iY, iM, bLate, aBucketShare);
        nInPeriod += !bLate;
    }
    free(aBucketOf);

    /* broken rows: one per 150 good rows, after the rows of random incidents */
    uint64_t nBroken = g.nRow / 150;
    if (rc == PA_OK && g.nInc > 0 && (anBroken = calloc(g.nInc, 1)) == NULL)
        rc = pa_fail(PA_ENOMEM, "synth: out of memory");
    for (uint64_t i = 0; rc == PA_OK && i < nBroken; i++) {
        size_t j = gsl_rng_uniform_int(g.r, g.nInc);
        if (anBroken[j] < 255)
            anBroken[j]++;
        else
            nBroken--, i--;
    }
    if (rc == PA_OK) {
        size_t iFrom = 0;
        fputs("ori,incident_id,incident_date,offense_code,role,immigration_status,narrative\r\n", f);
        for (size_t i = 0; i < g.nInc; i++) {
            fwrite(g.z + iFrom, 1, g.aIncEnd[i] - iFrom, f);
            iFrom = g.aIncEnd[i];
            for (unsigned j = 0; j < anBroken[i]; j++)
                broken_row(&g, f, a->zId, i);
        }
        if (ferror(f))
            rc = pa_fail(PA_EIO, "synth: writing the export of %s failed", a->zId);
    }
    if (rc == PA_OK && pInfo != NULL) {
        pInfo->nRow = g.nRow + nBroken + 1;
        pInfo->nIncident = g.nInc;
        pInfo->nIncidentInPeriod = nInPeriod;
        pInfo->nBrokenRow = nBroken;
    }
    free(anBroken);
    free(g.z);
    free(g.aIncEnd);
    free(g.azIncId);
    free(g.azIncDate);
    gsl_rng_free(g.r);
    if (rc != PA_OK)
        memset(aTruth, 0, s->pTask->nCell * sizeof *aTruth);
    return rc;
}

int pa_synth_write_month(const pa_synth *s, const char *zPeriod, const char *zDir, pa_synth_records_info *pTotal)
{
    const pa_task *t = s->pTask;
    char zPath[4096];
    uint64_t *a = calloc(t->nCell, sizeof *a);
    json_t *pTruth = json_object();
    int rc = PA_OK;

    if (pTotal != NULL)
        memset(pTotal, 0, sizeof *pTotal);
    if (a == NULL || pTruth == NULL) {
        free(a);
        json_decref(pTruth);
        return pa_fail(PA_ENOMEM, "synth: out of memory");
    }
    if (mkdir(zDir, 0700) != 0 && errno != EEXIST)
        rc = pa_fail(PA_EIO, "synth: %s: %s", zDir, strerror(errno));
    for (size_t i = 0; rc == PA_OK && i < s->nAgency; i++) {
        const pa_task_agency *pA = &s->aAgency[i];
        pa_synth_records_info info;
        snprintf(zPath, sizeof zPath, "%s/%s.csv", zDir, pA->zId);
        FILE *f = fopen(zPath, "wb");
        if (f == NULL) {
            rc = pa_fail(PA_EIO, "synth: %s: %s", zPath, strerror(errno));
            break;
        }
        rc = pa_synth_records(s, pA, zPeriod, f, a, &info);
        if (fclose(f) != 0 && rc == PA_OK)
            rc = pa_fail(PA_EIO, "synth: %s: cannot write", zPath);
        if (rc != PA_OK)
            break;
        json_t *pVec = json_array();
        for (size_t j = 0; j < t->nCell; j++)
            json_array_append_new(pVec, json_integer((json_int_t)a[j]));
        json_object_set_new(pTruth, pA->zId, pVec);
        if (pTotal != NULL) {
            pTotal->nRow += info.nRow;
            pTotal->nIncident += info.nIncident;
            pTotal->nIncidentInPeriod += info.nIncidentInPeriod;
            pTotal->nBrokenRow += info.nBrokenRow;
        }
    }
    snprintf(zPath, sizeof zPath, "%s/truth.json", zDir);
    if (rc == PA_OK && json_dump_file(pTruth, zPath, JSON_COMPACT | JSON_PRESERVE_ORDER) != 0)
        rc = pa_fail(PA_EIO, "synth: %s: cannot write", zPath);
    json_decref(pTruth);
    free(a);
    return rc;
}

/*
 * The small task and data/ the publish tests share (header only): a task of 2 x 2
 * cells (offense A/B x status citizen/unknown), partitions "north" (counties
 * 29001 + 29003, 3 agencies listed) and "south" (29005, 2 agencies); collection
 * results written as privagg collect writes them (the fields publish reads).
 * The including test defines g_dir (a temporary folder) and g_pTask.
 */
#ifndef PA_TEST_PUBLISH_FIXTURE_H
#define PA_TEST_PUBLISH_FIXTURE_H

#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "privagg/task.h"

#define K1 "\"1111111111111111111111111111111111111111111111111111111111111111\""
#define K2 "\"2222222222222222222222222222222222222222222222222222222222222222\""
#define K3 "\"3333333333333333333333333333333333333333333333333333333333333333\""
#define KA "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\""
#define KB "\"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\""
#define KC "\"cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc\""
#define KD "\"dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd\""
#define KE "\"eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee\""

/* north lists 3 agencies, south 2 */
static const char *g_task =
    "{\"format\": 2, \"name\": \"small publish\","
    " \"schema\": {\"dimensions\": ["
    "   {\"name\": \"offense\", \"categories\": [\"A\", \"B\"]},"
    "   {\"name\": \"status\", \"categories\": [\"citizen\", \"unknown\"]}]},"
    " \"vdaf\": {\"type\": \"Prio3SumVec\", \"length\": 4, \"max_measurement\": 65535, \"chunk_length\": 2},"
    " \"parties\": {"
    "   \"leader\": {\"endpoint\": \"https://127.0.0.1:8441\", \"hpke_public_key\": " K1 "},"
    "   \"helper\": {\"endpoint\": \"https://127.0.0.1:8442\", \"hpke_public_key\": " K2 "},"
    "   \"collector\": {\"hpke_public_key\": " K3 "},"
    "   \"agencies\": ["
    "     {\"id\": \"MO001\", \"name\": \"A PD\", \"partition\": \"north\", \"public_key\": " KA "},"
    "     {\"id\": \"MO002\", \"name\": \"B PD\", \"partition\": \"north\", \"public_key\": " KB "},"
    "     {\"id\": \"MO005\", \"name\": \"E PD\", \"partition\": \"north\", \"public_key\": " KE "},"
    "     {\"id\": \"MO003\", \"name\": \"C PD\", \"partition\": \"south\", \"public_key\": " KC "},"
    "     {\"id\": \"MO004\", \"name\": \"D PD\", \"partition\": \"south\", \"public_key\": " KD "}]},"
    " \"partitions\": [{\"name\": \"north\", \"counties\": [\"29001\", \"29003\"]},"
    "                {\"name\": \"south\", \"counties\": [\"29005\"]}],"
    " \"batching\": {\"period\": \"month\", \"min_agencies\": 2},"
    " \"dp\": {\"mechanism\": \"discrete_gaussian\", \"privacy_unit\": \"incident_record\","
    "        \"max_cells_per_record\": 2, \"max_per_cell\": 1,"
    "        \"budget_per_record\": {\"rho\": 1.0},"
    "        \"per_release\": {\"state\": {\"rho\": 0.25}, \"partition\": {\"rho\": 0.125}}}}";

static void write_file(const char *zName, const char *zText)
{
    char zPath[256];
    FILE *f;
    snprintf(zPath, sizeof zPath, "%s/%s", g_dir, zName);
    f = fopen(zPath, "w");
    assert_non_null(f);
    fputs(zText, f);
    assert_int_equal(fclose(f), 0);
}

/* the cell marked "structural_zero": true in the collections written (-1: none) */
static int g_iStructuralCell = -1;

/* a collection result as privagg collect writes it (the fields publish reads);
 * zReported: the JSON list of the agencies that reported ("[\"MO001\"]"), or
 * NULL for a result without it (written before it was carried) */
static void write_collection_ids(const char *zPeriod, const char *zPart, double sigma2, int nAgency,
                                 const char *zReported, const int64_t aTotal[4])
{
    char zTask[65], zText[2048], zCells[512], zName[96], zIds[256] = "";
    size_t n = 0;
    if (zReported != NULL)
        snprintf(zIds, sizeof zIds, " \"agencies_reported\": %s,", zReported);
    sodium_bin2hex(zTask, sizeof zTask, g_pTask->aTaskId, 32);
    for (int i = 0; i < 4; i++)
        n += (size_t)snprintf(zCells + n, sizeof zCells - n, "%s{\"cell\": %d, \"total\": %lld%s}", i ? ", " : "", i,
                              (long long)aTotal[i], i == g_iStructuralCell ? ", \"structural_zero\": true" : "");
    snprintf(zText, sizeof zText,
             "{\"format\": \"privagg-collection-v1\", \"task_id\": \"%s\", \"period\": \"%s\","
             " \"partition\": \"%s\", \"collection_id\": \"0123456789abcdef0123456789abcdef\","
             " \"ledger_entries\": {\"leader\": \"%064d\", \"helper\": \"%064d\"},"
             " \"agencies\": %d, \"reports\": %d,%s \"noise\": {\"sigma2_per_aggregator\": %g},"
             " \"cells\": [%s]}\n",
             zTask, zPeriod, zPart, 1, 2, nAgency, nAgency, zIds, sigma2, zCells);
    snprintf(zName, sizeof zName, "in/collection-%s-%s.json", zPeriod, zPart);
    write_file(zName, zText);
}

static void write_collection(const char *zPeriod, const char *zPart, double sigma2, int nAgency,
                             const int64_t aTotal[4])
{
    write_collection_ids(zPeriod, zPart, sigma2, nAgency, NULL, aTotal);
}

/* g_dir/in, g_dir/data with three counties' populations (2023, 2024) and shapes;
 * g_pTask parsed from zTask (NULL: g_task) */
static int fixture_dirs(const char *zTask)
{
    char zPath[128];
    snprintf(zPath, sizeof zPath, "%s/in", g_dir);
    if (mkdir(zPath, 0700) != 0)
        return -1;
    snprintf(zPath, sizeof zPath, "%s/data", g_dir);
    if (mkdir(zPath, 0700) != 0)
        return -1;
    /* July 1 estimates (the April 2020 base row is skipped) */
    write_file("data/mo_county_population_2020_2024.csv",
               "fips,county,population,reference_date,source\n"
               "29001,Adair County,99999,2020-04-01 (estimates base),test\n"
               "29001,Adair County,20000,2023-07-01,test\n"
               "29003,Andrew County,30000,2023-07-01,test\n"
               "29005,Atchison County,25000,2023-07-01,test\n"
               "29001,Adair County,21000,2024-07-01,test\n"
               "29003,Andrew County,30000,2024-07-01,test\n"
               "29005,Atchison County,29000,2024-07-01,test\n");
    write_file("data/mo_county_shapes.csv",
               "fips,county,path,source\n"
               "29001,Adair,M0 0L10 0L10 10Z,test; viewBox 0 0 1000 500\n"
               "29003,Andrew,M10 0L20 0L20 10Z,test; viewBox 0 0 1000 500\n"
               "29005,Atchison,M20 0L30 0L30 10Z,test; viewBox 0 0 1000 500\n");
    return pa_task_parse(&g_pTask, zTask ? zTask : g_task, strlen(zTask ? zTask : g_task)) == PA_OK ? 0 : -1;
}

#endif

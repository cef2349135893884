/*
 * Tests of engine/task: a valid task loads with the right cells and a stable id;
 * every kind of bad field is refused with its path named; the id ignores
 * whitespace and key order but changes with any value.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "privagg/common.h"
#include "privagg/task.h"
#include "task/partitions.h"
#include <unistd.h>

#define K1 "\"1111111111111111111111111111111111111111111111111111111111111111\""
#define K2 "\"2222222222222222222222222222222222222222222222222222222222222222\""
#define K3 "\"3333333333333333333333333333333333333333333333333333333333333333\""
#define KA "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\""
#define KB "\"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\""
#define KC "\"cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc\""
#define KD "\"dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd\""

static const char *g_valid =
    "{\"format\": 2, \"name\": \"test task\","
    " \"schema\": {\"dimensions\": ["
    "   {\"name\": \"offense\", \"categories\": [\"Homicide\", \"Robbery\", \"Burglary\"]},"
    "   {\"name\": \"status\", \"categories\": [\"citizen\", \"unknown\"]},"
    "   {\"name\": \"role\", \"categories\": [\"offender\", \"victim\"]}]},"
    " \"vdaf\": {\"type\": \"Prio3SumVec\", \"length\": 12, \"max_measurement\": 65535,"
    "          \"chunk_length\": 4},"
    " \"parties\": {"
    "   \"leader\": {\"endpoint\": \"https://127.0.0.1:8441\", \"hpke_public_key\": " K1 "},"
    "   \"helper\": {\"endpoint\": \"https://127.0.0.1:8442\", \"hpke_public_key\": " K2 "},"
    "   \"collector\": {\"hpke_public_key\": " K3 "},"
    "   \"agencies\": ["
    "     {\"id\": \"MO002\", \"name\": \"B PD\", \"partition\": \"region-01\", \"public_key\": " KB "},"
    "     {\"id\": \"MO001\", \"name\": \"A PD\", \"partition\": \"region-01\", \"public_key\": " KA "},"
    "     {\"id\": \"MO003\", \"name\": \"C PD\", \"partition\": \"29095\", \"public_key\": " KC "},"
    "     {\"id\": \"MO004\", \"name\": \"D PD\", \"partition\": \"29095\", \"public_key\": " KD "}]},"
    " \"partitions\": [{\"name\": \"29095\", \"counties\": [\"29095\"]},"
    "                {\"name\": \"region-01\", \"counties\": [\"29001\", \"29003\"]}],"
    " \"batching\": {\"period\": \"month\", \"min_agencies\": 2},"
    " \"dp\": {\"mechanism\": \"discrete_gaussian\", \"privacy_unit\": \"incident_record\","
    "        \"max_cells_per_record\": 4, \"max_per_cell\": 1,"
    "        \"budget_per_record\": {\"rho\": 1.0},"
    "        \"per_release\": {\"state\": {\"rho\": 0.5}, \"partition\": {\"rho\": 0.25}}}}";

/* Parse g_valid after applying edit (a JSON path "a.b.c" and a replacement value,
 * or a NULL value to delete the key). */
static int parse_edited(const char *zPath, const char *zValue, pa_task **ppTask)
{
    json_t *pRoot = json_loads(g_valid, 0, NULL), *p = pRoot;
    char zBuf[128], *zSave = NULL, *zKey, *zNext;
    int rc;

    assert_non_null(pRoot);
    snprintf(zBuf, sizeof zBuf, "%s", zPath);
    zKey = strtok_r(zBuf, ".", &zSave);
    while ((zNext = strtok_r(NULL, ".", &zSave)) != NULL) {
        p = json_object_get(p, zKey);
        assert_non_null(p);
        zKey = zNext;
    }
    if (zValue == NULL) {
        json_object_del(p, zKey);
    } else {
        json_t *v = json_loads(zValue, JSON_DECODE_ANY, NULL);
        assert_non_null(v);
        json_object_set_new(p, zKey, v);
    }
    char *z = json_dumps(pRoot, 0);
    rc = pa_task_parse(ppTask, z, strlen(z));
    free(z);
    json_decref(pRoot);
    return rc;
}

static void test_valid_task(void **state)
{
    pa_task *pTask;
    (void)state;
    assert_int_equal(pa_task_parse(&pTask, g_valid, strlen(g_valid)), PA_OK);
    assert_int_equal(pTask->nCell, 12);
    assert_int_equal(pTask->nDimension, 3);
    assert_int_equal(pTask->eVdaf, PA_VDAF_SUMVEC);
    assert_int_equal(pTask->nChunkLength, 4);
    assert_int_equal(pTask->nAgency, 4);
    assert_string_equal(pTask->aAgency[0].zId, "MO001"); /* sorted */
    assert_non_null(pa_task_find_agency(pTask, "MO002"));
    assert_null(pa_task_find_agency(pTask, "MO005"));
    assert_int_equal(pTask->eMechanism, PA_TASK_DP_GAUSSIAN);
    assert_true(pTask->rBudgetPerRecord == 1.0);
    assert_true(pTask->aPerRelease[PA_TASK_LEVEL_STATE] == 0.5);
    assert_true(pTask->aPerRelease[PA_TASK_LEVEL_PARTITION] == 0.25);
    assert_int_equal(pTask->nPartition, 2);
    const pa_task_partition *p = pa_task_find_partition(pTask, "region-01");
    assert_non_null(p);
    assert_int_equal(p->nCounty, 2);
    assert_string_equal(p->azCounty[1], "29003");
    assert_null(pa_task_find_partition(pTask, "state"));
    assert_null(pa_task_find_partition(pTask, "29001"));
    assert_int_equal(pa_task_level_of("state"), PA_TASK_LEVEL_STATE);
    assert_int_equal(pa_task_level_of("29095"), PA_TASK_LEVEL_PARTITION);
    assert_int_equal(pa_task_level_of("statewide"), PA_TASK_LEVEL_PARTITION);
    assert_string_equal(pTask->leader.zEndpoint, "https://127.0.0.1:8441");
    assert_int_equal(pTask->collector.aHpkePublicKey[0], 0x33);
    pa_task_free(pTask);
}

/* Without noise the contribution bounds are optional and default to the
 * schema's (the submitter still applies them: 0 would drop every cell). */
static void test_no_noise_keeps_bounds(void **state)
{
    pa_task *pTask;
    (void)state;
    assert_int_equal(parse_edited("dp", "{\"mechanism\": \"none\", \"privacy_unit\": \"incident_record\"}",
                                  &pTask),
                     PA_OK);
    assert_int_equal(pTask->eMechanism, PA_TASK_DP_NONE);
    assert_int_equal(pTask->nMaxCellsPerRecord, pTask->nCell);
    assert_int_equal(pTask->nMaxPerCell, pTask->nMaxMeasurement);
    pa_task_free(pTask);
    assert_int_equal(parse_edited("dp", "{\"mechanism\": \"none\", \"privacy_unit\": \"incident_record\","
                                        " \"max_cells_per_record\": 3}", &pTask),
                     PA_OK);
    assert_int_equal(pTask->nMaxCellsPerRecord, 3);
    pa_task_free(pTask);
}

static void test_id_is_canonical(void **state)
{
    pa_task *a, *b, *c;
    (void)state;
    assert_int_equal(pa_task_parse(&a, g_valid, strlen(g_valid)), PA_OK);
    /* same document, other whitespace and key order */
    json_t *pRoot = json_loads(g_valid, 0, NULL);
    char *z = json_dumps(pRoot, JSON_INDENT(3));
    assert_int_equal(pa_task_parse(&b, z, strlen(z)), PA_OK);
    assert_memory_equal(a->aTaskId, b->aTaskId, PA_TASK_ID_SIZE);
    free(z);
    json_decref(pRoot);
    /* any value change changes the id */
    assert_int_equal(parse_edited("batching.min_agencies", "1", &c), PA_OK);
    assert_memory_not_equal(a->aTaskId, c->aTaskId, PA_TASK_ID_SIZE);
    pa_task_free(a);
    pa_task_free(b);
    pa_task_free(c);
}

static void expect_error(const char *zPath, const char *zValue, int code, const char *zNeedle)
{
    pa_task *pTask = (pa_task *)1;
    int rc = parse_edited(zPath, zValue, &pTask);
    if (rc != code || strstr(pa_error_detail(), zNeedle) == NULL)
        fail_msg("edit %s = %s: got %d \"%s\", expected %d mentioning \"%s\"", zPath,
                 zValue ? zValue : "(deleted)", rc, pa_error_detail(), code, zNeedle);
    assert_null(pTask);
}

/* schema.structural_zeros: absent = none (and the id of a task without it is
 * unchanged); partial cells mark every matching cell; bad entries are named. */
static void test_structural_zeros(void **state)
{
    pa_task *a, *b;
    (void)state;
    assert_int_equal(pa_task_parse(&a, g_valid, strlen(g_valid)), PA_OK);
    assert_null(a->abStructuralZero);
    assert_int_equal(a->nStructuralZero, 0);
    for (size_t i = 0; i < a->nCell; i++)
        assert_int_equal(pa_task_structural_zero(a, i), 0);
    /* Burglary victims (any status) and Homicide x unknown x offender */
    assert_int_equal(parse_edited("schema.structural_zeros",
                                  "[{\"offense\": \"Burglary\", \"role\": \"victim\"},"
                                  " {\"role\": \"offender\", \"offense\": \"Homicide\", \"status\": \"unknown\"},"
                                  " {\"offense\": \"Burglary\", \"role\": \"victim\", \"status\": \"citizen\"}]",
                                  &b),
                     PA_OK);
    assert_int_equal(b->nStructuralZero, 3);
    for (size_t i = 0; i < b->nCell; i++) /* cell = (offense * 2 + status) * 2 + role */
        assert_int_equal(pa_task_structural_zero(b, i), i == 9 || i == 11 || i == 2);
    assert_int_equal(pa_task_structural_zero(b, 12), 0);
    assert_memory_not_equal(a->aTaskId, b->aTaskId, PA_TASK_ID_SIZE);
    pa_task_free(a);
    pa_task_free(b);
    expect_error("schema.structural_zeros", "{}", PA_EDECODE, "schema.structural_zeros: must be an array");
    expect_error("schema.structural_zeros", "[{}]", PA_EDECODE, "schema.structural_zeros[0]: must be an object");
    expect_error("schema.structural_zeros", "[{\"offense\": \"Arson\"}]", PA_EINVAL,
                 "schema.structural_zeros[0].offense: \"Arson\" is not a category");
    expect_error("schema.structural_zeros", "[{\"role\": \"victim\"}, {\"sex\": \"F\"}]", PA_EINVAL,
                 "schema.structural_zeros[1].sex: not a dimension");
    expect_error("schema.structural_zeros", "[{\"role\": 1}]", PA_EDECODE, "must be a category name");
    expect_error("schema.structural_zeros", "[{\"role\": \"victim\"}, {\"role\": \"offender\"}]", PA_EINVAL,
                 "every one of the 12 cells");
}

static void test_bad_fields_are_named(void **state)
{
    (void)state;
    expect_error("format", "3", PA_EINVAL, "format: 3 is above 2");
    expect_error("format", "1", PA_EINVAL, "re-create the task with `privagg task init`");
    expect_error("name", NULL, PA_EINVAL, "name: missing");
    expect_error("typo", "1", PA_EINVAL, "typo: unknown key");
    expect_error("vdaf.type", "\"Prio3Poplar\"", PA_EINVAL, "vdaf.type: \"Prio3Poplar\"");
    expect_error("vdaf.length", "270", PA_EINVAL, "vdaf.length: 270 is above 12");
    expect_error("vdaf.chunk_length", "0", PA_EINVAL, "vdaf.chunk_length: 0 is below 1");
    expect_error("vdaf.max_measurement", "\"big\"", PA_EDECODE, "vdaf.max_measurement: must be an integer");
    expect_error("parties.leader.hpke_public_key", "\"abcd\"", PA_EINVAL,
                 "parties.leader.hpke_public_key: expected 64 hex digits");
    expect_error("parties.helper.hpke_public_key", K1, PA_EINVAL, "equals the leader's");
    expect_error("parties.leader.endpoint", "\"ftp://x\"", PA_EINVAL, "parties.leader.endpoint");
    expect_error("parties.collector.endpoint", "\"https://x\"", PA_EINVAL, "collector has no endpoint");
    /* plain HTTP: only to this machine (tokens and shares would travel in clear) */
    static const char *const azRemote[] = {
        "\"http://10.0.0.5:8441\"", "\"http://leader.example.org\"", "\"http://0.0.0.0:1\"",
        "\"http://[2001:db8::1]:8441/\"", "\"http://127.0.0.1@evil.example:80\"",
        "\"http://localhost.evil.example\"", "\"http://[::1\"", "\"http://128.0.0.1\"", NULL};
    for (size_t i = 0; azRemote[i]; i++) {
        expect_error("parties.leader.endpoint", azRemote[i], PA_EINVAL, "is plain HTTP to a host");
        expect_error("parties.helper.endpoint", azRemote[i], PA_EINVAL, "parties.helper.endpoint");
    }
    static const char *const azLocal[] = {
        "\"http://127.0.0.1:8441\"", "\"http://127.1.2.3\"", "\"http://localhost:80/x\"",
        "\"http://LOCALHOST\"", "\"http://[::1]:8441\"", "\"http://u@127.0.0.1:1\"",
        "\"https://leader.example.org\"", "\"https://10.0.0.5:443\"", NULL};
    for (size_t i = 0; azLocal[i]; i++) {
        pa_task *pTask = NULL;
        if (parse_edited("parties.helper.endpoint", azLocal[i], &pTask) != PA_OK)
            fail_msg("helper endpoint %s refused: %s", azLocal[i], pa_error_detail());
        pa_task_free(pTask);
    }
    expect_error("parties.agencies", "[]", PA_EINVAL, "parties.agencies: 0 agencies");
    expect_error("batching.period", "\"week\"", PA_EINVAL, "batching.period: \"week\"");
    expect_error("batching.min_agencies", "5", PA_EINVAL, "batching.min_agencies: 5 is above 4");
    expect_error("dp.mechanism", "\"laplacian\"", PA_EINVAL, "dp.mechanism: \"laplacian\"");
    expect_error("dp.privacy_unit", "\"person\"", PA_EINVAL, "dp.privacy_unit: \"person\"");
    expect_error("dp.max_per_cell", "70000", PA_EINVAL, "dp.max_per_cell: 70000 is above 65535");
    expect_error("dp.per_release.state", "{\"rho\": 2.0}", PA_EINVAL,
                 "dp.per_release.state.rho: 2 is above dp.budget_per_record.rho 1");
    expect_error("dp.per_release.partition", "{\"rho\": 1.5}", PA_EINVAL,
                 "dp.per_release.partition.rho: 1.5 is above dp.budget_per_record.rho 1");
    expect_error("dp.per_release.partition", "{\"rho\": 101}", PA_EINVAL,
                 "dp.per_release.partition.rho: 101 is above 100");
    expect_error("dp.per_release.state", "{\"epsilon\": 1.0}", PA_EINVAL,
                 "dp.per_release.state.epsilon: unknown key");
    expect_error("dp.per_release.partition", NULL, PA_EINVAL, "dp.per_release.partition: missing");
    expect_error("dp.per_release.county", "{\"rho\": 0.1}", PA_EINVAL, "dp.per_release.county: unknown key");
    expect_error("dp.budget_per_record", "{\"rho\": -1}", PA_EINVAL,
                 "dp.budget_per_record.rho: -1 must be above 0");
    expect_error("dp.budget_per_record", NULL, PA_EINVAL, "dp.budget_per_record: missing");
    expect_error("dp.total_budget", "{\"rho\": 1, \"per\": \"year\"}", PA_EINVAL,
                 "dp.total_budget: unknown key");
    expect_error("schema.dimensions", "[{\"name\": \"a\", \"categories\": [\"x\", \"x\"]}]", PA_EINVAL,
                 "repeats categories[0]");
}

/* Parse g_valid with "partitions" and the agencies' partitions replaced. */
static int parse_partitions(const char *zPartitions, const char *const *azAgencyPartition,
                            size_t nMin, pa_task **ppTask)
{
    json_t *pRoot = json_loads(g_valid, 0, NULL), *pAg;
    size_t i;
    int rc;
    json_object_set_new(pRoot, "partitions", json_loads(zPartitions, 0, NULL));
    json_array_foreach(json_object_get(json_object_get(pRoot, "parties"), "agencies"), i, pAg)
        json_object_set_new(pAg, "partition", json_string(azAgencyPartition[i]));
    json_object_set_new(json_object_get(pRoot, "batching"), "min_agencies", json_integer((json_int_t)nMin));
    char *z = json_dumps(pRoot, 0);
    rc = pa_task_parse(ppTask, z, strlen(z));
    free(z);
    json_decref(pRoot);
    return rc;
}

static void expect_partitions(const char *zPartitions, const char *const *az, size_t nMin, int code,
                              const char *zNeedle)
{
    pa_task *pTask = (pa_task *)1;
    int rc = parse_partitions(zPartitions, az, nMin, &pTask);
    if (rc != code || (zNeedle && strstr(pa_error_detail(), zNeedle) == NULL))
        fail_msg("partitions %s: got %d \"%s\", expected %d mentioning \"%s\"", zPartitions, rc,
                 pa_error_detail(), code, zNeedle ? zNeedle : "");
    if (rc == PA_OK)
        pa_task_free(pTask);
    else
        assert_null(pTask);
}

static void test_partition_rules(void **state)
{
    /* agencies in file order: MO002, MO001, MO003, MO004 */
    static const char *const azAB[] = {"a", "a", "b", "b"}, *const azAAAB[] = {"a", "a", "a", "b"};
    static const char *const azNone[] = {"no-county", "no-county", "b", "b"};
    (void)state;
    expect_partitions("[{\"name\": \"a\", \"counties\": [\"1\"]}, {\"name\": \"b\", \"counties\": [\"2\"]}]",
                      azAB, 2, PA_OK, NULL);
    /* required */
    expect_error("partitions", NULL, PA_EINVAL, "partitions: missing");
    expect_error("partitions", "[]", PA_EINVAL, "partitions: 0 partitions");
    /* unique names */
    expect_partitions("[{\"name\": \"a\", \"counties\": [\"1\"]}, {\"name\": \"b\", \"counties\": []},"
                      " {\"name\": \"a\", \"counties\": [\"3\"]}]",
                      azAB, 2, PA_EINVAL, "partitions[2].name: \"a\" repeats partitions[0]");
    /* every agency's partition is listed */
    expect_partitions("[{\"name\": \"a\", \"counties\": [\"1\"]}]", azAB, 2, PA_EINVAL,
                      "parties.agencies (id MO003): partition \"b\" is not listed in partitions");
    /* every listed partition has at least min_agencies agencies, and at least one */
    expect_partitions("[{\"name\": \"a\", \"counties\": [\"1\"]}, {\"name\": \"b\", \"counties\": [\"2\"]}]",
                      azAAAB, 2, PA_EINVAL,
                      "partitions[1] \"b\": 1 agencies, below batching.min_agencies 2; such a partition "
                      "can never be released: merge it into a region");
    expect_partitions("[{\"name\": \"a\", \"counties\": [\"1\"]}, {\"name\": \"b\", \"counties\": [\"2\"]},"
                      " {\"name\": \"c\", \"counties\": [\"3\"]}]",
                      azAB, 1, PA_EINVAL, "partitions[2] \"c\": 0 agencies");
    /* a county in at most one partition */
    expect_partitions("[{\"name\": \"a\", \"counties\": [\"1\", \"2\"]}, {\"name\": \"b\", \"counties\": [\"2\"]}]",
                      azAB, 2, PA_EINVAL, "county 2 is already in partitions[0] \"a\"");
    expect_partitions("[{\"name\": \"a\", \"counties\": [\"1\", \"1\"]}, {\"name\": \"b\", \"counties\": [\"2\"]}]",
                      azAB, 2, PA_EINVAL, "county 1 is already in partitions[0]");
    /* nothing that is or looks like the statewide batch */
    expect_partitions("[{\"name\": \"a\", \"counties\": []}, {\"name\": \"state\", \"counties\": [\"2\"]}]",
                      azAB, 2, PA_EINVAL, "partitions[1].name: \"state\" is or looks like the statewide");
    expect_partitions("[{\"name\": \"a\", \"counties\": []}, {\"name\": \"statewide\", \"counties\": []}]",
                      azAB, 2, PA_EINVAL, "partitions[1].name: \"statewide\" is or looks like");
    expect_partitions("[{\"name\": \"State-total\", \"counties\": []}]", azAB, 2, PA_EINVAL,
                      "\"State-total\" is or looks like the statewide batch");
    expect_partitions("[{\"name\": \"no-county\", \"counties\": []}, {\"name\": \"b\", \"counties\": [\"2\"]}]",
                      azNone, 2, PA_OK, NULL);
    /* the agencies' own check still names "state" */
    expect_error("parties.agencies",
                 "[{\"id\": \"A\", \"name\": \"a\", \"partition\": \"state\", \"public_key\": " KA "}]",
                 PA_EINVAL, "\"state\" is reserved for the statewide batch");
}

static void test_duplicate_agency_and_not_json(void **state)
{
    pa_task *pTask;
    (void)state;
    expect_error("parties.agencies",
                 "[{\"id\": \"A\", \"name\": \"a\", \"partition\": \"1\", \"public_key\": " KA "},"
                 " {\"id\": \"A\", \"name\": \"b\", \"partition\": \"1\", \"public_key\": " KB "}]",
                 PA_EINVAL, "id \"A\" appears twice");
    assert_int_equal(pa_task_parse(&pTask, "{\"format\": 1,", 13), PA_EDECODE);
    assert_int_equal(pa_task_parse(&pTask, "[]", 2), PA_EDECODE);
    assert_int_equal(pa_task_load(&pTask, "/nonexistent/task.json"), PA_EIO);
}

/* ---- the region rule of the default task (engine/task/partitions.c) ------ */

static char g_centroids[64];

static void write_centroids(void)
{
    FILE *f;
    snprintf(g_centroids, sizeof g_centroids, "/tmp/pa_task_centroids_%ld.csv", (long)getpid());
    f = fopen(g_centroids, "w");
    assert_non_null(f);
    /* state mean: longitude 4.6, latitude 0 (cos 1) */
    fputs("fips,county,latitude,longitude\n10001,A,0,0\n10002,B,0,10\n10003,C,0,11\n10004,D,0,12\n"
          "10005,E,0,-10\n", f);
    fclose(f);
}

/* the partitions as "name:county,county name:..." and agency i's partition */
static void group(const pa_partition_agency *a, size_t n, size_t nMin, char *zOut, size_t nOut,
                  const char ***pazOf)
{
    json_t *pArr, *p;
    size_t i;
    assert_int_equal(pa_task_group_partitions(g_centroids, a, n, nMin, &pArr, pazOf), PA_OK);
    zOut[0] = '\0';
    json_array_foreach(pArr, i, p) {
        json_t *c;
        size_t j;
        snprintf(zOut + strlen(zOut), nOut - strlen(zOut), "%s%s:", i ? " " : "",
                 json_string_value(json_object_get(p, "name")));
        json_array_foreach(json_object_get(p, "counties"), j, c)
            snprintf(zOut + strlen(zOut), nOut - strlen(zOut), "%s%s", j ? "," : "", json_string_value(c));
    }
    /* the names in *pazOf are borrowed from pArr: copy what the test checks first */
    static char azName[16][32];
    for (i = 0; i < n && i < 16; i++) {
        snprintf(azName[i], sizeof azName[i], "%s", (*pazOf)[i]);
        (*pazOf)[i] = azName[i];
    }
    json_decref(pArr);
}

static void test_region_rule(void **state)
{
    /* 10001 has 3 agencies (large at m = 3); 10002..10005 one each */
    pa_partition_agency a[8] = {
        {"A1", "10001", 1, 0, 0}, {"A2", "10001", 1, 0, 0}, {"A3", "10001", 1, 0, 0},
        {"B", "10002", 1, 0, 10}, {"C", "10003", 1, 0, 11}, {"D", "10004", 1, 0, 12},
        {"E", "10005", 1, 0, -10},
        /* no county: at longitude 30; the agency without coordinates is not in the mean */
        {"N1", "", 1, 0, 30},
    };
    pa_partition_agency b[9];
    const char **azOf = NULL;
    char z[256];
    (void)state;
    write_centroids();

    /* seed: E (farthest from 4.6), then B (nearest to -10), then C (nearest to 0): 3
     * agencies; D alone cannot reach 3 and joins the nearest region */
    group(a, 7, 3, z, sizeof z, &azOf);
    assert_string_equal(z, "10001:10001 region-01:10002,10003,10004,10005");
    assert_string_equal(azOf[3], "region-01");
    free(azOf);

    /* no-county (2 agencies, at 30 although one has no coordinates) is the farthest
     * small unit: region-01 = no-county + D; then E, B, C */
    memcpy(b, a, sizeof a);
    b[8] = (pa_partition_agency){"N2", "", 0, 0, 0};
    group(b, 9, 3, z, sizeof z, &azOf);
    assert_string_equal(z, "10001:10001 region-01:10004 region-02:10002,10003,10005");
    assert_string_equal(azOf[7], "region-01");
    assert_string_equal(azOf[8], "region-01");
    assert_string_equal(azOf[4], "region-02");
    free(azOf);

    /* a large no-county unit is its own partition */
    group(b, 9, 2, z, sizeof z, &azOf);
    assert_string_equal(z, "10001:10001 no-county: region-01:10002,10005 region-02:10003,10004");
    free(azOf);

    /* no region can be made: the small units join the nearest large unit */
    group(a, 4, 3, z, sizeof z, &azOf);
    assert_string_equal(z, "10001:10001,10002");
    free(azOf);

    /* every unit its own partition at m = 1 */
    group(a, 7, 1, z, sizeof z, &azOf);
    assert_string_equal(z, "10001:10001 10002:10002 10003:10003 10004:10004 10005:10005");
    free(azOf);

    /* too few agencies in all, and a county without a centroid */
    json_t *pArr;
    assert_int_equal(pa_task_group_partitions(g_centroids, a, 2, 3, &pArr, &azOf), PA_EINVAL);
    assert_non_null(strstr(pa_error_detail(), "2 agencies in all, below batching.min_agencies 3"));
    b[0].zFips = "99999";
    assert_int_equal(pa_task_group_partitions(g_centroids, b, 9, 3, &pArr, &azOf), PA_EINVAL);
    assert_non_null(strstr(pa_error_detail(), "county 99999 has no centroid"));
    unlink(g_centroids);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_task),
        cmocka_unit_test(test_no_noise_keeps_bounds),
        cmocka_unit_test(test_id_is_canonical),
        cmocka_unit_test(test_structural_zeros),
        cmocka_unit_test(test_bad_fields_are_named),
        cmocka_unit_test(test_duplicate_agency_and_not_json),
        cmocka_unit_test(test_partition_rules),
        cmocka_unit_test(test_region_rule),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

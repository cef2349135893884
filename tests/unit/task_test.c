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

#define K1 "\"1111111111111111111111111111111111111111111111111111111111111111\""
#define K2 "\"2222222222222222222222222222222222222222222222222222222222222222\""
#define K3 "\"3333333333333333333333333333333333333333333333333333333333333333\""
#define KA "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\""
#define KB "\"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\""

static const char *g_valid =
    "{\"format\": 1, \"name\": \"test task\","
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
    "     {\"id\": \"MO002\", \"name\": \"B PD\", \"partition\": \"29001\", \"public_key\": " KB "},"
    "     {\"id\": \"MO001\", \"name\": \"A PD\", \"partition\": \"29003\", \"public_key\": " KA "}]},"
    " \"batching\": {\"period\": \"month\", \"min_agencies\": 2},"
    " \"dp\": {\"mechanism\": \"discrete_gaussian\", \"privacy_unit\": \"incident_record\","
    "        \"max_cells_per_record\": 4, \"max_per_cell\": 1,"
    "        \"per_release\": {\"rho\": 0.05}, \"total_budget\": {\"rho\": 1.0, \"per\": \"year\"}}}";

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
    assert_int_equal(pTask->nAgency, 2);
    assert_string_equal(pTask->aAgency[0].zId, "MO001"); /* sorted */
    assert_non_null(pa_task_find_agency(pTask, "MO002"));
    assert_null(pa_task_find_agency(pTask, "MO003"));
    assert_int_equal(pTask->eMechanism, PA_TASK_DP_GAUSSIAN);
    assert_true(pTask->rPerRelease == 0.05);
    assert_string_equal(pTask->leader.zEndpoint, "https://127.0.0.1:8441");
    assert_int_equal(pTask->collector.aHpkePublicKey[0], 0x33);
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

static void test_bad_fields_are_named(void **state)
{
    (void)state;
    expect_error("format", "2", PA_EINVAL, "format: 2 is above 1");
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
    expect_error("batching.min_agencies", "3", PA_EINVAL, "batching.min_agencies: 3 is above 2");
    expect_error("dp.mechanism", "\"laplacian\"", PA_EINVAL, "dp.mechanism: \"laplacian\"");
    expect_error("dp.privacy_unit", "\"person\"", PA_EINVAL, "dp.privacy_unit: \"person\"");
    expect_error("dp.max_per_cell", "70000", PA_EINVAL, "dp.max_per_cell: 70000 is above 65535");
    expect_error("dp.per_release", "{\"rho\": 2.0}", PA_EINVAL, "above dp.total_budget.rho");
    expect_error("dp.per_release", "{\"epsilon\": 1.0}", PA_EINVAL, "dp.per_release.epsilon: unknown key");
    expect_error("dp.total_budget", "{\"rho\": -1, \"per\": \"year\"}", PA_EINVAL,
                 "dp.total_budget.rho: -1 must be above 0");
    expect_error("schema.dimensions", "[{\"name\": \"a\", \"categories\": [\"x\", \"x\"]}]", PA_EINVAL,
                 "repeats categories[0]");
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_task),
        cmocka_unit_test(test_id_is_canonical),
        cmocka_unit_test(test_bad_fields_are_named),
        cmocka_unit_test(test_duplicate_agency_and_not_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

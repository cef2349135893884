/*
 * An exported ledger read back (pa_dp_ledger_open_json): what the auditor uses
 * instead of the aggregator's store.  An honest export verifies with the same
 * head and count as the store; an anchor at any earlier entry is accepted; and
 * every kind of bad input is refused with its code and a message naming the
 * field: not JSON, another format, members missing, of the wrong type or unknown
 * (not covered by a hash), a duplicate key, bad hex, a repeated sequence number,
 * an entry edited, removed or reordered, a tail removed (caught by the anchor),
 * and count, head or cells that disagree with the entries.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <sodium.h>

#include "privagg/common.h"
#include "privagg/dp.h"
#include "privagg/ledger.h"

static char *g_zExport;            /* an honest export: 5 entries, 2 tasks, v2 */
static uint8_t g_aHead[32], g_aThird[32];

static void charge(pa_store *pDb, const char *zTask, const char *zPeriod, const char *zPart, uint64_t sigma2)
{
    pa_dp_ledger_release r = {0};
    pa_dp_budget b = {PA_DP_UNIT_RHO, 1.0};
    r.zTaskId = zTask;
    r.zPeriod = zPeriod;
    r.zPartition = zPart;
    r.mechanism = PA_DP_GAUSSIAN;
    r.param = pa_dp_rational_make(sigma2, 1);
    r.sensitivity.l1 = 4;
    r.sensitivity.l2sq = 4;
    r.tUnix = 1700000000;
    assert_int_equal(pa_dp_ledger_charge(pDb, &r, &b, NULL, NULL), PA_OK);
}

static int setup(void **state)
{
    pa_store *pDb;
    json_t *pDoc;
    (void)state;
    if (pa_store_open(&pDb, ":memory:") != PA_OK || pa_dp_ledger_init(pDb) != PA_OK)
        return -1;
    charge(pDb, "task-a", "2026-01", "state", 8);
    charge(pDb, "task-a", "2026-01", "29001", 16);
    charge(pDb, "task-b", "2026-01", "state", 8);
    charge(pDb, "task-a", "2026-02", "state", 8);
    charge(pDb, "task-a", "2026-02", "region-01", 16);
    if (pa_dp_ledger_export_json(pDb, &g_zExport) != PA_OK || pa_dp_ledger_verify(pDb, NULL, -1, g_aHead, NULL) != PA_OK)
        return -1;
    pa_store_close(pDb);
    pDoc = json_loads(g_zExport, 0, NULL);
    sodium_hex2bin(g_aThird, 32, json_string_value(json_object_get(json_array_get(json_object_get(pDoc, "entries"), 2), "hash")),
                   64, NULL, NULL, NULL);
    json_decref(pDoc);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    free(g_zExport);
    return 0;
}

static int open_text(const char *z, const uint8_t *pAnchor, int64_t nIndex)
{
    pa_store *pDb = (pa_store *)1;
    int rc = pa_dp_ledger_open_json(&pDb, z, strlen(z), pAnchor, nIndex, NULL, NULL);
    if (rc == PA_OK) {
        assert_non_null(pDb);
        /* the in-memory copy is a ledger that verifies on its own */
        assert_int_equal(pa_dp_ledger_verify(pDb, NULL, -1, NULL, NULL), PA_OK);
        pa_store_close(pDb);
    } else {
        assert_null(pDb);
    }
    return rc;
}

static void test_honest(void **state)
{
    pa_store *pDb = NULL;
    uint8_t aHead[32];
    int64_t n = 0;
    (void)state;
    assert_int_equal(pa_dp_ledger_open_json(&pDb, g_zExport, strlen(g_zExport), NULL, -1, aHead, &n), PA_OK);
    assert_int_equal(n, 5);
    assert_memory_equal(aHead, g_aHead, 32);
    pa_store_close(pDb);
    /* anchors: the head, an earlier entry by index or by hash alone, the empty ledger */
    assert_int_equal(open_text(g_zExport, g_aHead, 5), PA_OK);
    assert_int_equal(open_text(g_zExport, g_aThird, 3), PA_OK);
    assert_int_equal(open_text(g_zExport, g_aThird, -1), PA_OK);
    assert_int_equal(open_text(g_zExport, NULL, 5), PA_OK);
    /* ... but not at the wrong index, past the end, or a hash no entry has */
    assert_int_equal(open_text(g_zExport, g_aThird, 4), PA_ETAMPER);
    assert_int_equal(open_text(g_zExport, g_aHead, 6), PA_ETAMPER);
    assert_int_equal(open_text(g_zExport, NULL, 6), PA_ETAMPER);
    uint8_t aOther[32] = {1};
    assert_int_equal(open_text(g_zExport, aOther, -1), PA_ETAMPER);
    assert_int_equal(pa_dp_ledger_open_json(NULL, g_zExport, 1, NULL, -1, NULL, NULL), PA_EINVAL);
}

/* the honest export with one edit applied by fn; expect code and a message fragment */
typedef void (*edit_fn)(json_t *pDoc);

static void expect(edit_fn fn, int code, const char *zFragment, const char *zWhat)
{
    json_t *pDoc = json_loads(g_zExport, 0, NULL);
    char *z;
    int rc;
    assert_non_null(pDoc);
    fn(pDoc);
    z = json_dumps(pDoc, JSON_REAL_PRECISION(17));
    rc = open_text(z, NULL, -1);
    if (rc != code || strstr(pa_error_detail(), zFragment) == NULL)
        fail_msg("%s: got %d \"%s\", expected %d mentioning \"%s\"", zWhat, rc, rc ? pa_error_detail() : "",
                 code, zFragment);
    print_message("  %-44s -> %s\n", zWhat, pa_error_detail());
    free(z);
    json_decref(pDoc);
}

static json_t *entry(json_t *d, size_t i)
{
    return json_array_get(json_object_get(d, "entries"), i);
}

#define EDIT(name, body)                                                                                      \
    static void name(json_t *d)                                                                               \
    {                                                                                                         \
        body;                                                                                                 \
    }
EDIT(e_format, json_object_set_new(d, "format", json_string("privagg-dp-ledger-v1")))
EDIT(e_no_format, json_object_del(d, "format"))
EDIT(e_entries_object, json_object_set_new(d, "entries", json_object()))
EDIT(e_entry_string, json_array_set_new(json_object_get(d, "entries"), 1, json_string("x")))
EDIT(e_seq_missing, json_object_del(entry(d, 1), "seq"))
EDIT(e_seq_real, json_object_set_new(entry(d, 1), "seq", json_real(2.0)))
EDIT(e_task_number, json_object_set_new(entry(d, 0), "task_id", json_integer(7)))
EDIT(e_charge_string, json_object_set_new(entry(d, 0), "charge", json_string("0.25")))
EDIT(e_time_real, json_object_set_new(entry(d, 0), "time", json_real(1.5)))
EDIT(e_level_number, json_object_set_new(entry(d, 0), "level", json_integer(1)))
EDIT(e_hash_short, json_object_set_new(entry(d, 2), "hash", json_string("abcd")))
EDIT(e_prev_not_hex, json_object_set_new(entry(d, 2), "prev_hash",
                                         json_string("zz00000000000000000000000000000000000000000000000000000000000000")))
EDIT(e_unknown_entry_member, json_object_set_new(entry(d, 1), "note", json_string("not hashed")))
EDIT(e_unknown_doc_member, json_object_set_new(d, "extra", json_true()))
EDIT(e_seq_repeated, json_object_set_new(entry(d, 2), "seq", json_integer(2)))
EDIT(e_charge_edited, json_object_set_new(entry(d, 1), "charge", json_real(0.0625)))
EDIT(e_param_edited, json_object_set_new(entry(d, 1), "param", json_string("32")))
EDIT(e_partition_edited, json_object_set_new(entry(d, 1), "partition", json_string("29003")))
EDIT(e_removed_middle, json_array_remove(json_object_get(d, "entries"), 2))
EDIT(e_removed_first, json_array_remove(json_object_get(d, "entries"), 0))
static void e_renumbered(json_t *d)
{
    json_array_remove(json_object_get(d, "entries"), 2);
    json_object_set_new(entry(d, 2), "seq", json_integer(3));
    json_object_set_new(entry(d, 3), "seq", json_integer(4));
}
static void e_swapped(json_t *d)
{
    json_t *a = json_deep_copy(entry(d, 1)), *b = json_deep_copy(entry(d, 2));
    json_object_set_new(a, "seq", json_integer(3));
    json_object_set_new(b, "seq", json_integer(2));
    json_array_set_new(json_object_get(d, "entries"), 1, b);
    json_array_set_new(json_object_get(d, "entries"), 2, a);
}
EDIT(e_tail_removed, json_array_remove(json_object_get(d, "entries"), 4))
EDIT(e_count, json_object_set_new(d, "count", json_integer(6)))
EDIT(e_count_missing, json_object_del(d, "count"))
EDIT(e_head, json_object_set(d, "head", json_object_get(entry(d, 3), "hash")))
EDIT(e_cells, json_object_set_new(json_array_get(json_object_get(d, "cells"), 0), "spent", json_real(0.01)))
EDIT(e_cells_missing, json_object_del(d, "cells"))
EDIT(e_cell_removed, json_array_remove(json_object_get(d, "cells"), 0))

static void test_refused(void **state)
{
    (void)state;
    /* not an export */
    assert_int_equal(open_text("", NULL, -1), PA_EDECODE);
    assert_int_equal(open_text("[1, 2]", NULL, -1), PA_EDECODE);
    assert_int_equal(open_text("{\"format\": \"privagg-dp-ledger-v2\", \"format\": \"x\"}", NULL, -1), PA_EDECODE);
    assert_non_null(strstr(pa_error_detail(), "duplicate"));
    assert_int_equal(open_text("{\"format\": \"privagg-dp-ledger-v2\", \"entries\": [{\"task_id\": \"a\\u0000b\"}]}",
                               NULL, -1),
                     PA_EDECODE);
    expect(e_format, PA_EDECODE, "format", "another format");
    expect(e_no_format, PA_EDECODE, "format", "no format");
    expect(e_entries_object, PA_EDECODE, "entries: missing or not an array", "entries not an array");
    expect(e_entry_string, PA_EDECODE, "entries[1]: not an object", "an entry not an object");
    expect(e_seq_missing, PA_EDECODE, "entries[1].seq", "seq missing");
    expect(e_seq_real, PA_EDECODE, "entries[1].seq", "seq a real");
    expect(e_task_number, PA_EDECODE, "entries[0].task_id", "task_id a number");
    expect(e_charge_string, PA_EDECODE, "entries[0].charge", "charge a string");
    expect(e_time_real, PA_EDECODE, "entries[0].time", "time a real");
    expect(e_level_number, PA_EDECODE, "entries[0].level", "level a number");
    expect(e_hash_short, PA_EDECODE, "hash: not 64 hex digits", "hash too short");
    expect(e_prev_not_hex, PA_EDECODE, "prev_hash: not 64 hex digits", "prev_hash not hex");
    expect(e_unknown_entry_member, PA_EDECODE, "entries[1]: unknown member \"note\"", "an unknown entry member");
    expect(e_unknown_doc_member, PA_EDECODE, "unknown member \"extra\"", "an unknown top-level member");
    /* tampered */
    expect(e_seq_repeated, PA_ETAMPER, "repeated", "a sequence number repeated");
    expect(e_charge_edited, PA_ETAMPER, "entry 2: hash does not match", "a charge edited");
    expect(e_param_edited, PA_ETAMPER, "entry 2: hash does not match", "sigma2 edited");
    expect(e_partition_edited, PA_ETAMPER, "entry 2: hash does not match", "a partition edited");
    expect(e_removed_middle, PA_ETAMPER, "removed", "an entry removed");
    expect(e_removed_first, PA_ETAMPER, "removed", "the first entry removed");
    expect(e_renumbered, PA_ETAMPER, "prev_hash", "an entry removed and the rest renumbered");
    expect(e_swapped, PA_ETAMPER, "entry 2", "two entries swapped");
    expect(e_tail_removed, PA_ETAMPER, "count differs", "the last entry removed (count kept)");
    expect(e_count, PA_ETAMPER, "count differs", "count edited");
    expect(e_count_missing, PA_ETAMPER, "count differs", "count missing");
    expect(e_head, PA_ETAMPER, "head differs", "head edited");
    expect(e_cells, PA_ETAMPER, "cells differ", "a cell's spend edited");
    expect(e_cells_missing, PA_ETAMPER, "cells differ", "cells missing");
    expect(e_cell_removed, PA_ETAMPER, "cells differ", "a cell removed");
}

/* the last entry removed and count, head and cells rewritten to match: a valid
 * shorter chain, which only an anchor published earlier catches */
static void test_tail_needs_anchor(void **state)
{
    char *zShort = NULL;
    json_t *pFix = json_loads(g_zExport, 0, NULL);
    (void)state;
    json_array_remove(json_object_get(pFix, "entries"), 4);
    json_object_set_new(pFix, "count", json_integer(4));
    json_object_set(pFix, "head", json_object_get(json_array_get(json_object_get(pFix, "entries"), 3), "hash"));
    /* cells: drop region-01 of 2026-02 (its only release was the removed entry) */
    json_t *c, *cells = json_object_get(pFix, "cells");
    size_t i;
    json_array_foreach(cells, i, c)
        if (strcmp(json_string_value(json_object_get(c, "partition")), "region-01") == 0) {
            json_array_remove(cells, i);
            break;
        }
    zShort = json_dumps(pFix, JSON_REAL_PRECISION(17));
    if (open_text(zShort, NULL, -1) != PA_OK)
        fail_msg("the shorter chain: %s", pa_error_detail());
    assert_int_equal(open_text(zShort, g_aHead, 5), PA_ETAMPER);
    assert_int_equal(open_text(zShort, g_aHead, -1), PA_ETAMPER);
    assert_int_equal(open_text(zShort, g_aThird, 3), PA_OK);
    json_decref(pFix);
    free(zShort);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_honest),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_tail_needs_anchor),
    };
    if (sodium_init() < 0)
        return 1;
    return cmocka_run_group_tests(tests, setup, teardown);
}

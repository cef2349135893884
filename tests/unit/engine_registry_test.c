/*
 * The agency registry (engine/registry): a chain of signed entries is read only
 * when every link, signature and rule holds.  Each test breaks one check alone
 * (a crafted entry that passes every other check), so that removing that check
 * makes the test fail (scripts/mutants.txt): a tampered field, reordered entries,
 * a wrong seq, a wrong prev, a bad signature, an entry signed by another key, a
 * revoke before its enroll, periods that go back, a rekey to a held key; the
 * lookup answers revoked, not yet enrolled and re-keyed by period; a task names
 * one registry.  In process, with two aggregators: a leader holding a registry
 * without the revocation accepts a report the helper then rejects as "agency"
 * from its own copy; the minimum-agencies check counts only agencies enrolled
 * for the period.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <sodium.h>

#include "privagg/common.h"
#include "privagg/csv.h"
#include "privagg/keys.h"
#include "privagg/registry.h"
#include "support/flow.h"

static pa_keys g_signer, g_other;
static pa_keys g_ag[4];

static int setup(void **state)
{
    (void)state;
    if (sodium_init() < 0)
        return -1;
    pa_keys_generate(&g_signer, PA_ROLE_REGISTRY, NULL, 0);
    pa_keys_generate(&g_other, PA_ROLE_REGISTRY, NULL, 0);
    for (int i = 0; i < 4; i++) {
        char zId[32];
        snprintf(zId, sizeof zId, "MO00%d0000", i + 1);
        pa_keys_generate(&g_ag[i], PA_ROLE_AGENCY, zId, 0);
    }
    return 0;
}

static pa_reg_entry entry(pa_reg_op eOp, const char *zAgency, const char *zFrom, const uint8_t *aKey)
{
    pa_reg_entry e;
    memset(&e, 0, sizeof e);
    e.eOp = eOp;
    snprintf(e.zAgency, sizeof e.zAgency, "%s", zAgency);
    snprintf(e.zFrom, sizeof e.zFrom, "%s", zFrom);
    if (eOp == PA_REG_ENROLL) {
        snprintf(e.zName, sizeof e.zName, "Agency %s", zAgency);
        snprintf(e.zCounty, sizeof e.zCounty, "29001");
    }
    if (aKey)
        memcpy(e.aKey, aKey, 32);
    return e;
}

/* A valid registry: 3 agencies from 2026-01; agency 0 revoked from 2026-06;
 * agency 1 re-keyed (to agency 3's key) from 2026-04. */
static pa_registry *good(void)
{
    pa_registry *r;
    pa_reg_entry e;
    assert_int_equal(pa_registry_new(&r, "Test registry", "2026-01", g_signer.aSecret), PA_OK);
    for (int i = 0; i < 3; i++) {
        e = entry(PA_REG_ENROLL, g_ag[i].zId, "2026-01", g_ag[i].aPublic);
        assert_int_equal(pa_registry_append(r, &e, g_signer.aSecret), PA_OK);
    }
    e = entry(PA_REG_REVOKE, g_ag[0].zId, "2026-06", NULL);
    assert_int_equal(pa_registry_append(r, &e, g_signer.aSecret), PA_OK);
    e = entry(PA_REG_REKEY, g_ag[1].zId, "2026-04", g_ag[3].aPublic);
    assert_int_equal(pa_registry_append(r, &e, g_signer.aSecret), PA_OK);
    return r;
}

static json_t *hexj(const uint8_t *p, size_t n)
{
    char z[129];
    sodium_bin2hex(z, sizeof z, p, n);
    return json_string(z);
}

/* The file's JSON form of an entry (as pa_registry_write writes it). */
static json_t *entry_json(const pa_reg_entry *e)
{
    json_t *o = json_object();
    json_object_set_new(o, "seq", json_integer(e->iSeq));
    json_object_set_new(o, "prev", hexj(e->aPrev, 32));
    json_object_set_new(o, "op", json_string(pa_reg_op_name(e->eOp)));
    json_object_set_new(o, "from", json_string(e->zFrom));
    if (e->eOp != PA_REG_GENESIS)
        json_object_set_new(o, "agency", json_string(e->zAgency));
    if (e->eOp == PA_REG_GENESIS || e->eOp == PA_REG_ENROLL)
        json_object_set_new(o, "name", json_string(e->zName));
    if (e->eOp == PA_REG_ENROLL)
        json_object_set_new(o, "county", json_string(e->zCounty));
    if (e->eOp != PA_REG_REVOKE)
        json_object_set_new(o, "public_key", hexj(e->aKey, 32));
    json_object_set_new(o, "signature", hexj(e->aSignature, 64));
    return o;
}

/* The registry's entries as a JSON array (entries of r, in order). */
static json_t *entries_json(const pa_registry *r)
{
    json_t *a = json_array();
    for (size_t i = 0; i < pa_registry_count(r); i++)
        json_array_append_new(a, entry_json(pa_registry_entry(r, i)));
    return a;
}

/* Sign e (seq and prev as given) with a secret key and append it to the array. */
static void craft(json_t *aArr, pa_reg_entry e, const uint8_t *aSecret)
{
    uint8_t *p;
    size_t n;
    assert_int_equal(pa_reg_entry_encode(&e, &p, &n), PA_OK);
    crypto_sign_detached(e.aSignature, NULL, p, n, aSecret);
    free(p);
    json_array_append_new(aArr, entry_json(&e));
}

/* The next entry's seq and prev after r's entries. */
static void chain_after(const pa_registry *r, pa_reg_entry *e)
{
    e->iSeq = (uint32_t)pa_registry_count(r);
    memcpy(e->aPrev, pa_registry_head(r), 32);
}

static int parse_arr(json_t *aArr, pa_registry **ppR)
{
    json_t *root = json_pack("{s:s, s:o}", "format", PA_REGISTRY_FORMAT, "entries", aArr);
    char *z = json_dumps(root, 0);
    int rc = pa_registry_parse(ppR, z, strlen(z));
    free(z);
    json_decref(root);
    return rc;
}

static void expect_fail(json_t *aArr, int code, const char *zWhat)
{
    pa_registry *r = NULL;
    int rc = parse_arr(aArr, &r);
    if (rc != code || strstr(pa_error_detail(), zWhat) == NULL)
        fail_msg("expected %d with \"%s\", got %d: %s", code, zWhat, rc, pa_error_detail());
    assert_null(r);
}

static void test_good_chain_reads(void **state)
{
    (void)state;
    pa_registry *r = good(), *r2;
    json_t *a = entries_json(r);
    assert_int_equal(parse_arr(a, &r2), PA_OK);
    assert_int_equal(pa_registry_count(r2), 6);
    assert_memory_equal(pa_registry_head(r2), pa_registry_head(r), 32);
    assert_memory_equal(pa_registry_signer(r2), g_signer.aPublic, 32);
    pa_registry_free(r2);
    pa_registry_free(r);
}

static void test_tampered_entry(void **state)
{
    (void)state;
    pa_registry *r = good();
    json_t *a = entries_json(r);
    /* agency 0's revocation moved to a later month, nothing else changed */
    json_object_set_new(json_array_get(a, 4), "from", json_string("2026-09"));
    expect_fail(a, PA_ETAMPER, "entry 4 (revoke MO0010000): the signature does not verify");
    a = entries_json(r);
    json_object_set_new(json_array_get(a, 2), "county", json_string("29003"));
    expect_fail(a, PA_ETAMPER, "entry 2 (enroll MO0020000): the signature does not verify");
    pa_registry_free(r);
}

static void test_reordered_entries(void **state)
{
    (void)state;
    pa_registry *r = good();
    json_t *a = entries_json(r), *x = json_incref(json_array_get(a, 4));
    json_array_remove(a, 4);
    json_array_insert_new(a, 5, x); /* the revoke after the rekey */
    expect_fail(a, PA_ETAMPER, "entry 4");
    a = entries_json(r);
    json_array_remove(a, 4); /* an entry removed: the rest no longer links */
    expect_fail(a, PA_ETAMPER, "entry 4");
    pa_registry_free(r);
}

static void test_wrong_seq(void **state)
{
    (void)state;
    pa_registry *r = good();
    json_t *a = entries_json(r);
    pa_reg_entry e = entry(PA_REG_ENROLL, g_ag[3].zId, "2026-07", g_ag[3].aPublic);
    chain_after(r, &e);
    e.iSeq += 1; /* signed, linked to the head, but numbered as if one were missing */
    craft(a, e, g_signer.aSecret);
    expect_fail(a, PA_ETAMPER, "entry 6: seq is 7, expected 6");
    pa_registry_free(r);
}

static void test_wrong_prev(void **state)
{
    (void)state;
    pa_registry *r = good();
    json_t *a = entries_json(r);
    pa_reg_entry e = entry(PA_REG_REVOKE, g_ag[2].zId, "2026-07", NULL);
    chain_after(r, &e);
    memcpy(e.aPrev, pa_registry_entry(r, 3)->aHash, 32); /* forks after entry 3 */
    craft(a, e, g_signer.aSecret);
    expect_fail(a, PA_ETAMPER, "entry 6: prev is not the hash of entry 5");
    pa_registry_free(r);
}

static void test_bad_signature(void **state)
{
    (void)state;
    pa_registry *r = good();
    json_t *a = entries_json(r);
    pa_reg_entry e = *pa_registry_entry(r, 5);
    e.aSignature[10] ^= 1;
    json_array_set_new(a, 5, entry_json(&e));
    expect_fail(a, PA_ETAMPER, "entry 5 (rekey MO0020000): the signature does not verify");
    pa_registry_free(r);
}

static void test_wrong_signer(void **state)
{
    (void)state;
    pa_registry *r = good();
    json_t *a = entries_json(r);
    /* a well-formed, linked entry signed by another key: a fake agency */
    pa_reg_entry e = entry(PA_REG_ENROLL, "MOFAKE000", "2026-07", g_ag[3].aPublic);
    chain_after(r, &e);
    craft(a, e, g_other.aSecret);
    expect_fail(a, PA_ETAMPER, "entry 6 (enroll MOFAKE000): the signature does not verify");
    /* appending with another key is refused too */
    pa_reg_entry e2 = entry(PA_REG_ENROLL, "MOFAKE000", "2026-07", g_ag[3].aPublic);
    assert_int_equal(pa_registry_append(r, &e2, g_other.aSecret), PA_EAUTH);
    assert_int_equal(pa_registry_count(r), 6);
    pa_registry_free(r);
}

static void test_revoke_before_enroll(void **state)
{
    (void)state;
    pa_registry *r = good();
    json_t *a = entries_json(r);
    pa_reg_entry e = entry(PA_REG_REVOKE, "MO0090000", "2026-07", NULL);
    chain_after(r, &e);
    craft(a, e, g_signer.aSecret);
    expect_fail(a, PA_EINVAL, "agency MO0090000 is not enrolled (a revoke must follow its enroll)");
    /* and a rekey of an agency never enrolled */
    a = entries_json(r);
    e = entry(PA_REG_REKEY, "MO0090000", "2026-07", g_ag[3].aPublic);
    chain_after(r, &e);
    craft(a, e, g_signer.aSecret);
    expect_fail(a, PA_EINVAL, "is not enrolled");
    pa_registry_free(r);
}

static void test_rules(void **state)
{
    (void)state;
    pa_registry *r = good();
    pa_reg_entry e;
    /* periods of an agency never go back */
    e = entry(PA_REG_REVOKE, g_ag[1].zId, "2026-03", NULL);
    assert_int_equal(pa_registry_append(r, &e, g_signer.aSecret), PA_EINVAL);
    assert_non_null(strstr(pa_error_detail(), "never go back"));
    /* a revocation is final */
    e = entry(PA_REG_REKEY, g_ag[0].zId, "2026-07", g_ag[2].aPublic);
    assert_int_equal(pa_registry_append(r, &e, g_signer.aSecret), PA_EINVAL);
    assert_non_null(strstr(pa_error_detail(), "final"));
    /* a rekey needs a key the agency never held */
    e = entry(PA_REG_REKEY, g_ag[1].zId, "2026-08", g_ag[1].aPublic);
    assert_int_equal(pa_registry_append(r, &e, g_signer.aSecret), PA_EINVAL);
    assert_non_null(strstr(pa_error_detail(), "held before"));
    /* enrolled once */
    e = entry(PA_REG_ENROLL, g_ag[2].zId, "2026-08", g_ag[3].aPublic);
    assert_int_equal(pa_registry_append(r, &e, g_signer.aSecret), PA_EINVAL);
    assert_int_equal(pa_registry_count(r), 6); /* nothing appended */
    /* the same, crafted into a file: periods going back */
    json_t *a = entries_json(r);
    e = entry(PA_REG_REVOKE, g_ag[1].zId, "2026-03", NULL);
    chain_after(r, &e);
    craft(a, e, g_signer.aSecret);
    expect_fail(a, PA_EINVAL, "never go back");
    pa_registry_free(r);
}

static void test_lookup_by_period(void **state)
{
    (void)state;
    pa_registry *r = good();
    pa_reg_agency x;
    pa_registry_lookup(r, g_ag[0].zId, "2026-05", &x);
    assert_int_equal(x.eStatus, PA_REG_ACTIVE);
    assert_memory_equal(x.aKey, g_ag[0].aPublic, 32);
    pa_registry_lookup(r, g_ag[0].zId, "2026-06", &x);
    assert_int_equal(x.eStatus, PA_REG_REVOKED);
    assert_string_equal(x.zSince, "2026-06");
    pa_registry_lookup(r, g_ag[0].zId, "2027-01", &x);
    assert_int_equal(x.eStatus, PA_REG_REVOKED);
    pa_registry_lookup(r, g_ag[0].zId, "2025-12", &x);
    assert_int_equal(x.eStatus, PA_REG_NOT_YET);
    /* rekey: the old key to 2026-03, the new one from 2026-04 */
    pa_registry_lookup(r, g_ag[1].zId, "2026-03", &x);
    assert_int_equal(x.eStatus, PA_REG_ACTIVE);
    assert_memory_equal(x.aKey, g_ag[1].aPublic, 32);
    pa_registry_lookup(r, g_ag[1].zId, "2026-04", &x);
    assert_int_equal(x.eStatus, PA_REG_ACTIVE);
    assert_memory_equal(x.aKey, g_ag[3].aPublic, 32);
    assert_string_equal(x.zSince, "2026-04");
    pa_registry_lookup(r, "MO0090000", "2026-04", &x);
    assert_int_equal(x.eStatus, PA_REG_UNKNOWN);
    assert_int_equal(pa_registry_active(r, "2026-05"), 3);
    assert_int_equal(pa_registry_active(r, "2026-06"), 2);
    pa_registry_free(r);
}

/* ------------------------------------------------------------ with a task */

static uint8_t g_aGenesis[32], g_aSigner[32];

static void to_registry_task(json_t *root)
{
    json_t *p = json_object_get(root, "parties");
    json_object_del(p, "agencies");
    json_object_set_new(p, "registry", json_pack("{s:o, s:o}", "genesis", hexj(g_aGenesis, 32),
                                                 "signing_public_key", hexj(g_aSigner, 32)));
}

#define N_AG 12

/* A registry of the fixture's N_AG agencies (counties from the agency file) from
 * 2026-01, written to zPath; with bRevoke agency 0 is revoked from 2026-10. */
static void write_registry(const mo_task *m, const char *zPath, int bRevoke, pa_registry **ppR)
{
    pa_registry *r;
    pa_csv *c;
    assert_int_equal(pa_csv_load(&c, PA_SOURCE_DIR "/data/mo_le_agencies.csv"), PA_OK);
    assert_int_equal(pa_registry_new(&r, "Test registry", "2026-01", g_signer.aSecret), PA_OK);
    for (size_t i = 0; i < N_AG; i++) {
        pa_reg_entry e = entry(PA_REG_ENROLL, m->aAgency[i].zId, "2026-01", m->aAgency[i].aPublic);
        snprintf(e.zCounty, sizeof e.zCounty, "%s", pa_csv_get(c, i, pa_csv_column(c, "county_fips")));
        assert_int_equal(pa_registry_append(r, &e, g_signer.aSecret), PA_OK);
    }
    if (bRevoke) {
        pa_reg_entry e = entry(PA_REG_REVOKE, m->aAgency[0].zId, "2026-10", NULL);
        assert_int_equal(pa_registry_append(r, &e, g_signer.aSecret), PA_OK);
    }
    unlink(zPath);
    assert_int_equal(pa_registry_write(r, zPath, 1), PA_OK);
    pa_csv_free(c);
    *ppR = r;
}

typedef struct {
    flow f;
    pa_registry *pOld, *pNew;            /* without / with the revocation */
    pa_registry_ref *pLeaderRef, *pHelperRef;
    char zOld[64], zNew[64];
} reg_flow;

/* The flow fixture with a registry task: the leader holds zLeaderFile, the
 * helper zHelperFile. */
static void reg_flow_new(reg_flow *g, int bLeaderNew, int bHelperNew)
{
    pa_aggregator_config c;
    pa_registry *r0;
    memset(g, 0, sizeof *g);
    snprintf(g->zOld, sizeof g->zOld, "/tmp/pa-registry-test-%d-old.json", (int)getpid());
    snprintf(g->zNew, sizeof g->zNew, "/tmp/pa-registry-test-%d-new.json", (int)getpid());
    /* the genesis hash depends on the name, the period and the signer only */
    assert_int_equal(pa_registry_new(&r0, "Test registry", "2026-01", g_signer.aSecret), PA_OK);
    memcpy(g_aGenesis, pa_registry_genesis(r0), 32);
    memcpy(g_aSigner, g_signer.aPublic, 32);
    pa_registry_free(r0);
    flow *f = &g->f;
    memset(f, 0, sizeof *f);
    f->now = 1795000000; /* 2026-11-18 */
    assert_int_equal(mo_task_new(&f->m, N_AG, N_AG, to_registry_task), PA_OK);
    assert_true(f->m.pTask->bRegistry);
    write_registry(&f->m, g->zOld, 0, &g->pOld);
    write_registry(&f->m, g->zNew, 1, &g->pNew);
    /* same genesis: the registry's first entry does not depend on the keys */
    assert_memory_equal(pa_registry_genesis(g->pOld), g_aGenesis, 32);
    assert_int_equal(pa_registry_ref_open(&g->pLeaderRef, bLeaderNew ? g->zNew : g->zOld, f->m.pTask), PA_OK);
    assert_int_equal(pa_registry_ref_open(&g->pHelperRef, bHelperNew ? g->zNew : g->zOld, f->m.pTask), PA_OK);
    /* in memory, or fresh PostgreSQL schemas (PA_TEST_PG_URL: tests/support/test_store.h) */
    assert_int_equal(pa_store_open(&f->pLeaderStore, test_store_path(":memory:")), PA_OK);
    assert_int_equal(pa_store_open(&f->pHelperStore, test_store_path(":memory:")), PA_OK);
    assert_int_equal(pa_dp_rng_new_seeded_for_tests(&f->pRng, (const uint8_t *)"flow", 4), PA_OK);
    flow_config(f, &f->m.leader, f->pLeaderStore, &c);
    /* without its registry an aggregator of a registry task does not start */
    assert_int_equal(pa_aggregator_new(&f->pLeader, &c), PA_EINVAL);
    c.pRegistry = g->pLeaderRef;
    assert_int_equal(pa_aggregator_new(&f->pLeader, &c), PA_OK);
    flow_config(f, &f->m.helper, f->pHelperStore, &c);
    c.pRegistry = g->pHelperRef;
    assert_int_equal(pa_aggregator_new(&f->pHelper, &c), PA_OK);
    assert_int_equal(pa_aggregator_fill_noise_pool(f->pLeader, NULL), PA_OK);
    assert_int_equal(pa_aggregator_fill_noise_pool(f->pHelper, NULL), PA_OK);
}

static void reg_flow_free(reg_flow *g)
{
    pa_registry_ref_close(g->pLeaderRef);
    pa_registry_ref_close(g->pHelperRef);
    pa_registry_free(g->pOld);
    pa_registry_free(g->pNew);
    unlink(g->zOld);
    unlink(g->zNew);
    flow_free(&g->f);
}

static uint64_t g_counts[270];

static int reg_submit(reg_flow *g, const pa_registry *pClientReg, size_t i, const char *zPeriod)
{
    uint8_t *p, aId[16];
    size_t n;
    int rc = pa_submit_report_reg(g->f.m.pTask, pClientReg, &g->f.m.aAgency[i], zPeriod, g_counts, 270, &p, &n, aId);
    if (rc == PA_OK) {
        rc = pa_leader_upload(g->f.pLeader, p, n);
        free(p);
    }
    return rc;
}

static void run_jobs(reg_flow *g)
{
    pa_job_stats st;
    int bDone = 0;
    memset(&st, 0, sizeof st);
    for (int k = 0; k < 20 && !bDone; k++)
        assert_int_equal(pa_leader_run_one_job(g->f.pLeader, flow_transport, &g->f, 100, &st, &bDone), PA_OK);
}

static void test_task_names_one_registry(void **state)
{
    (void)state;
    reg_flow g;
    pa_registry *r;
    reg_flow_new(&g, 1, 1);
    assert_int_equal(pa_registry_check_task(g.pNew, g.f.m.pTask), PA_OK);
    /* another registry (another genesis) is not the task's */
    assert_int_equal(pa_registry_new(&r, "Another", "2026-02", g_signer.aSecret), PA_OK);
    assert_int_equal(pa_registry_check_task(r, g.f.m.pTask), PA_ETAMPER);
    assert_non_null(strstr(pa_error_detail(), "genesis"));
    pa_registry_free(r);
    /* a reload that does not extend the held registry is refused, the old one kept */
    pa_registry_ref *pRef;
    assert_int_equal(pa_registry_ref_open(&pRef, g.zNew, g.f.m.pTask), PA_OK);
    assert_int_equal(pa_registry_write(g.pOld, g.zNew, 0), PA_OK);
    assert_int_equal(pa_registry_ref_reload(pRef), PA_ETAMPER);
    assert_int_equal(pa_registry_ref_count(pRef), N_AG + 2);
    pa_registry_ref_close(pRef);
    reg_flow_free(&g);
}

static void test_leader_refuses_revoked(void **state)
{
    (void)state;
    reg_flow g;
    reg_flow_new(&g, 1, 1);
    /* the agency's client with the old registry builds the report; the leader refuses it */
    assert_int_equal(reg_submit(&g, g.pOld, 0, "2026-10"), PA_EAUTH);
    assert_non_null(strstr(pa_error_detail(), "revoked from 2026-10"));
    /* the month before is unaffected */
    assert_int_equal(reg_submit(&g, g.pNew, 0, "2026-09"), PA_OK);
    /* the client's own check with the current registry */
    assert_int_equal(reg_submit(&g, g.pNew, 0, "2026-10"), PA_EAUTH);
    reg_flow_free(&g);
}

static void test_helper_refuses_what_a_stale_leader_accepts(void **state)
{
    (void)state;
    reg_flow g;
    reg_flow_new(&g, 0, 1); /* the leader holds the registry without the revocation */
    for (size_t i = 0; i < N_AG; i++)
        assert_int_equal(reg_submit(&g, g.pOld, i, "2026-10"), PA_OK);
    assert_int_equal(reg_submit(&g, g.pOld, 0, "2026-09"), PA_OK);
    run_jobs(&g);
    assert_int_equal(flow_count(g.f.pHelperStore, "SELECT count(*) FROM reports WHERE period = '2026-10'"
                                                  " AND state = 'rejected' AND reject_reason = 'agency'"), 1);
    assert_int_equal(flow_count(g.f.pHelperStore, "SELECT count(*) FROM reports WHERE period = '2026-10'"
                                                  " AND state = 'accepted'"), N_AG - 1);
    assert_int_equal(flow_count(g.f.pHelperStore, "SELECT count(*) FROM reports WHERE period = '2026-09'"
                                                  " AND state = 'accepted'"), 1);
    /* the leader counts only what the helper accepted */
    assert_int_equal(flow_count(g.f.pLeaderStore, "SELECT count(*) FROM reports WHERE period = '2026-10'"
                                                  " AND state = 'accepted'"), N_AG - 1);
    reg_flow_free(&g);
}

static void test_min_agencies_counts_enrolled(void **state)
{
    (void)state;
    reg_flow g;
    pa_collection coll;
    reg_flow_new(&g, 0, 0); /* both without the revocation */
    for (size_t i = 0; i < N_AG; i++)
        assert_int_equal(reg_submit(&g, g.pOld, i, "2026-10"), PA_OK);
    run_jobs(&g);
    /* agency 0's report is aggregated; then its revocation from 2026-10 reaches both */
    assert_int_equal(pa_registry_write(g.pNew, g.zOld, 0), PA_OK);
    assert_int_equal(pa_registry_ref_reload(g.pLeaderRef), PA_OK);
    assert_int_equal(pa_registry_ref_reload(g.pHelperRef), PA_OK);
    /* 12 agencies reported, 11 are enrolled for 2026-10: below min_agencies 12 */
    assert_int_equal(flow_collect(&g.f, "2026-10", "state", &coll), PA_ERANGE);
    assert_non_null(strstr(pa_error_detail(), "has 11 agencies"));
    reg_flow_free(&g);
}

int main(void)
{
    for (size_t i = 0; i < 270; i++)
        g_counts[i] = i % 2;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_chain_reads),
        cmocka_unit_test(test_tampered_entry),
        cmocka_unit_test(test_reordered_entries),
        cmocka_unit_test(test_wrong_seq),
        cmocka_unit_test(test_wrong_prev),
        cmocka_unit_test(test_bad_signature),
        cmocka_unit_test(test_wrong_signer),
        cmocka_unit_test(test_revoke_before_enroll),
        cmocka_unit_test(test_rules),
        cmocka_unit_test(test_lookup_by_period),
        cmocka_unit_test(test_task_names_one_registry),
        cmocka_unit_test(test_leader_refuses_revoked),
        cmocka_unit_test(test_helper_refuses_what_a_stale_leader_accepts),
        cmocka_unit_test(test_min_agencies_counts_enrolled),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}

/*
 * HPKE key rotation in one process (docs/keys.md, "Rotating an aggregator's HPKE
 * key"): both aggregators rotate their keys in the middle of a month; the first
 * half of the agencies sealed their shares to the old keys, the second half to the
 * new ones.  Both aggregators open every share (the current key, then the older
 * ones), nothing is lost and the collection sums all.  A share sealed to a key the
 * aggregator never held, or to a key it has retired, is refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>
#include <sodium.h>

#include "support/flow.h"

#define N_AGENCY 20

static void no_dp(json_t *pRoot)
{
    json_object_set_new(pRoot, "dp", json_pack("{s:s, s:s}", "mechanism", "none", "privacy_unit",
                                               "incident_record"));
}

/* What the agencies seal to: the aggregators' current public keys, as an operator
 * hands them out after a rotation (the task struct in memory; its id is unchanged). */
static void seal_to(flow *f, const pa_keys *pLeader, const pa_keys *pHelper)
{
    memcpy(f->m.pTask->leader.aHpkePublicKey, pLeader->aPublic, 32);
    f->m.pTask->leader.iHpkeConfigId = pLeader->iConfigId;
    memcpy(f->m.pTask->helper.aHpkePublicKey, pHelper->aPublic, 32);
    f->m.pTask->helper.iHpkeConfigId = pHelper->iConfigId;
}

static void submit_range(flow *f, size_t iFrom, size_t iTo, const char *zPeriod, uint64_t *aTrue)
{
    uint64_t a[270];
    for (size_t i = iFrom; i < iTo; i++) {
        for (size_t c = 0; c < 270; c++)
            a[c] = (c * 7 + i) % 4 == 0 ? (i % 3) + 1 : 0;
        int rc = flow_submit(f, i, zPeriod, a);
        if (rc != PA_OK)
            fail_msg("agency %zu: %s: %s", i, pa_strerror(rc), pa_error_detail());
        for (size_t c = 0; c < 270; c++)
            aTrue[c] += a[c];
    }
}

/* Every agency's report of zPeriod aggregated (none refused) and the statewide
 * collection: each total is the truth. */
static void aggregate_all_and_collect(flow *f, const char *zPeriod, const uint64_t *aTrue)
{
    pa_job_stats st;
    pa_collection coll;
    assert_int_equal(pa_leader_run_jobs(f->pLeader, flow_transport, f, 256, &st), PA_OK);
    assert_int_equal(st.nAccepted, N_AGENCY);
    assert_int_equal(st.nRejected, 0);
    int rc = flow_collect(f, zPeriod, "state", &coll);
    if (rc != PA_OK)
        fail_msg("collect: %s: %s", pa_strerror(rc), pa_error_detail());
    assert_int_equal(coll.nReport, N_AGENCY);
    for (size_t c = 0; c < 270; c++)
        assert_int_equal(coll.aTotal[c], (int64_t)aTrue[c]);
    pa_collection_free(&coll);
}

static void test_rotate_mid_month_loses_nothing(void **state)
{
    flow f;
    pa_keys oldLeader, oldHelper;
    uint64_t aTrue[270] = {0};
    pa_job_stats st;
    (void)state;
    assert_int_equal(flow_new(&f, N_AGENCY, 2, no_dp), PA_OK);
    uint8_t iLeaderId = f.m.leader.iConfigId, iHelperId = f.m.helper.iConfigId;

    /* the first half seals to the keys of the task */
    submit_range(&f, 0, N_AGENCY / 2, "2026-10", aTrue);
    /* mid-month both aggregators rotate; the aggregators read their keys through
     * the pointer they were given, as a node does after reloading its key file */
    oldLeader = f.m.leader;
    oldHelper = f.m.helper;
    assert_int_equal(pa_keys_rotate(&f.m.leader), PA_OK);
    assert_int_equal(pa_keys_rotate(&f.m.helper), PA_OK);
    assert_int_equal(f.m.leader.iConfigId, (uint8_t)(iLeaderId + 1));
    assert_int_equal(f.m.helper.iConfigId, (uint8_t)(iHelperId + 1));
    assert_int_equal(f.m.helper.nOld, 1);
    assert_int_equal(f.m.helper.aOld[0].iConfigId, iHelperId);
    assert_memory_not_equal(f.m.helper.aPublic, oldHelper.aPublic, 32);
    /* the second half seals to the new keys */
    seal_to(&f, &f.m.leader, &f.m.helper);
    submit_range(&f, N_AGENCY / 2, N_AGENCY, "2026-10", aTrue);
    assert_int_equal(flow_count(f.pLeaderStore, "SELECT count(*) FROM reports"), N_AGENCY);

    aggregate_all_and_collect(&f, "2026-10", aTrue);
    int rc;

    /* the next month: an agency still sealing to the old keys is served until
     * they are retired */
    memset(aTrue, 0, sizeof aTrue);
    seal_to(&f, &oldLeader, &oldHelper);
    submit_range(&f, 0, 1, "2026-11", aTrue);
    /* a key is retired only once the reports sealed to it are aggregated: the
     * helper opens its share at aggregation, not at upload (docs/keys.md) */
    assert_int_equal(pa_leader_run_jobs(f.pLeader, flow_transport, &f, 256, &st), PA_OK);
    assert_int_equal(st.nAccepted, 1);
    /* the leader retires its old key: a report sealed to it is refused at upload */
    assert_int_equal(pa_keys_retire(&f.m.leader, iLeaderId), PA_OK);
    assert_int_equal(f.m.leader.nOld, 0);
    uint64_t a[270] = {0};
    rc = flow_submit(&f, 1, "2026-11", a);
    assert_int_equal(rc, PA_EAUTH);
    /* the report names the key (version 3): refused by its config id */
    assert_non_null(strstr(pa_error_detail(), "which this leader does not hold"));
    /* the helper retires its old key: a report sealed to it (and to the leader's
     * current key) passes the leader and is refused by the helper */
    assert_int_equal(pa_keys_retire(&f.m.helper, iHelperId), PA_OK);
    seal_to(&f, &f.m.leader, &oldHelper);
    submit_range(&f, 2, 3, "2026-11", aTrue);
    /* a key the helper never held: refused the same way */
    pa_keys stranger;
    assert_int_equal(pa_keys_generate(&stranger, PA_ROLE_HELPER, NULL, 9), PA_OK);
    seal_to(&f, &f.m.leader, &stranger);
    submit_range(&f, 3, 4, "2026-11", aTrue);
    /* and the helper's current key still opens */
    seal_to(&f, &f.m.leader, &f.m.helper);
    submit_range(&f, 4, 5, "2026-11", aTrue);
    assert_int_equal(pa_leader_run_jobs(f.pLeader, flow_transport, &f, 256, &st), PA_OK);
    assert_int_equal(st.nAccepted, 1); /* agency 4 */
    assert_int_equal(st.nRejected, 2); /* agencies 2 (retired key) and 3 (unknown key) */
    assert_int_equal(flow_count(f.pHelperStore, "SELECT count(*) FROM reports WHERE state = 'rejected'"
                                                " AND period = '2026-11'"), 2);
    pa_keys_wipe(&stranger);
    pa_keys_wipe(&oldLeader);
    pa_keys_wipe(&oldHelper);
    flow_free(&f);
}

/* Expiry (docs/keys.md): the leader refuses at upload a share sealed to its
 * older key from the key's expiry on, naming the config id; the helper opens its
 * share at aggregation, so it still opens one sealed to its expired key for
 * PA_KEYS_HELPER_GRACE_S and refuses it after that.  A version 2 report (no
 * config id) is held to the same expiry through the key that opened it. */
static void test_expired_keys_refused(void **state)
{
    flow f;
    pa_keys oldLeader, oldHelper;
    uint64_t aTrue[270] = {0}, a[270] = {0};
    pa_job_stats st;
    int rc;
    (void)state;
    assert_int_equal(flow_new(&f, N_AGENCY, 2, no_dp), PA_OK);
    uint8_t iLeaderId = f.m.leader.iConfigId, iHelperId = f.m.helper.iConfigId;
    oldLeader = f.m.leader;
    oldHelper = f.m.helper;
    assert_int_equal(pa_keys_rotate(&f.m.leader), PA_OK);
    assert_int_equal(pa_keys_rotate(&f.m.helper), PA_OK);
    /* the older keys expire in one hour */
    assert_int_equal(pa_keys_expire(&f.m.leader, iLeaderId, f.now + 3600), PA_OK);
    assert_int_equal(pa_keys_expire(&f.m.helper, iHelperId, f.now + 3600), PA_OK);
    assert_int_equal(pa_keys_expire(&f.m.helper, f.m.helper.iConfigId, f.now), PA_EINVAL);
    assert_int_equal(pa_keys_expire(&f.m.helper, 77, f.now), PA_ENOTFOUND);
    /* before the expiry: sealed to the old keys, accepted by both */
    seal_to(&f, &oldLeader, &oldHelper);
    submit_range(&f, 0, 2, "2026-10", aTrue);
    /* after it: the leader refuses its expired key by name */
    f.now += 3600;
    rc = flow_submit(&f, 2, "2026-10", a);
    assert_int_equal(rc, PA_EAUTH);
    assert_non_null(strstr(pa_error_detail(), "expired at"));
    assert_non_null(strstr(pa_error_detail(), "config id"));
    /* the helper's expired key: the leader does not know it; the helper still
     * opens the share within its grace ... */
    seal_to(&f, &f.m.leader, &oldHelper);
    submit_range(&f, 3, 4, "2026-10", aTrue);
    assert_int_equal(pa_leader_run_jobs(f.pLeader, flow_transport, &f, 256, &st), PA_OK);
    assert_int_equal(st.nAccepted, 3);
    assert_int_equal(st.nRejected, 0);
    /* ... and refuses it after */
    f.now += PA_KEYS_HELPER_GRACE_S;
    submit_range(&f, 4, 5, "2026-10", aTrue);
    assert_int_equal(pa_leader_run_jobs(f.pLeader, flow_transport, &f, 256, &st), PA_OK);
    assert_int_equal(st.nAccepted, 0);
    assert_int_equal(st.nRejected, 1);
    /* the current keys never expire */
    seal_to(&f, &f.m.leader, &f.m.helper);
    submit_range(&f, 5, 6, "2026-10", aTrue);
    assert_int_equal(pa_leader_run_jobs(f.pLeader, flow_transport, &f, 256, &st), PA_OK);
    assert_int_equal(st.nAccepted, 1);
    pa_keys_wipe(&oldLeader);
    pa_keys_wipe(&oldHelper);
    flow_free(&f);
}

static void test_rotate_and_retire_rules(void **state)
{
    pa_keys k;
    (void)state;
    assert_int_equal(pa_keys_generate(&k, PA_ROLE_HELPER, NULL, 254), PA_OK);
    /* config ids wrap and skip the ones held */
    assert_int_equal(pa_keys_rotate(&k), PA_OK);
    assert_int_equal(k.iConfigId, 255);
    assert_int_equal(pa_keys_rotate(&k), PA_OK);
    assert_int_equal(k.iConfigId, 0);
    assert_int_equal(k.nOld, 2);
    assert_int_equal(k.aOld[0].iConfigId, 255); /* newest first */
    assert_int_equal(k.aOld[1].iConfigId, 254);
    /* the current key cannot be retired, nor an id not held */
    assert_int_equal(pa_keys_retire(&k, 0), PA_EINVAL);
    assert_int_equal(pa_keys_retire(&k, 7), PA_ENOTFOUND);
    assert_int_equal(pa_keys_retire(&k, 254), PA_OK);
    assert_int_equal(k.nOld, 1);
    assert_int_equal(k.aOld[0].iConfigId, 255);
    /* at most PA_KEYS_MAX_OLD older keys */
    while (k.nOld < PA_KEYS_MAX_OLD)
        assert_int_equal(pa_keys_rotate(&k), PA_OK);
    assert_int_equal(pa_keys_rotate(&k), PA_ERANGE);
    pa_keys_wipe(&k);
    /* agencies and the collector do not rotate here */
    assert_int_equal(pa_keys_generate(&k, PA_ROLE_COLLECTOR, NULL, 3), PA_OK);
    assert_int_equal(pa_keys_rotate(&k), PA_EINVAL);
    pa_keys_wipe(&k);
}

/* Seal to the given public keys and config ids (the staged keys, say). */
static void seal_to_keys(flow *f, const pa_hpke_held_key *pLeader, const pa_hpke_held_key *pHelper)
{
    memcpy(f->m.pTask->leader.aHpkePublicKey, pLeader->aPublic, 32);
    f->m.pTask->leader.iHpkeConfigId = pLeader->iConfigId;
    memcpy(f->m.pTask->helper.aHpkePublicKey, pHelper->aPublic, 32);
    f->m.pTask->helper.iHpkeConfigId = pHelper->iConfigId;
}

/* Key states (docs/keys.md, "Key states"): both aggregators stage a new key in
 * the middle of a month (published as "new", agencies keep sealing to the
 * current keys); a report sealed to a new key is opened too (another process
 * of that role may have promoted it already); then both promote, the old keys
 * retiring with an expiry, and the rest of the agencies seal to the new
 * current keys.  Every report is counted, the totals are the truth; after the
 * expiry the leader refuses its old key with the documented message, and the
 * old keys retire once aggregated. */
static void test_stage_promote_loses_nothing(void **state)
{
    flow f;
    uint64_t aTrue[270] = {0};
    pa_keys oldLeader;
    (void)state;
    assert_int_equal(flow_new(&f, N_AGENCY, 2, no_dp), PA_OK);
    uint8_t iLeaderId = f.m.leader.iConfigId, iHelperId = f.m.helper.iConfigId;

    submit_range(&f, 0, 5, "2026-10", aTrue);
    /* staged: a new key each, the current keys unchanged */
    assert_int_equal(pa_keys_stage(&f.m.leader), PA_OK);
    assert_int_equal(pa_keys_stage(&f.m.helper), PA_OK);
    assert_true(f.m.leader.bNew && f.m.helper.bNew);
    assert_int_equal(f.m.leader.sNew.iConfigId, (uint8_t)(iLeaderId + 1));
    assert_int_equal(f.m.helper.sNew.iConfigId, (uint8_t)(iHelperId + 1));
    assert_int_equal(f.m.leader.iConfigId, iLeaderId);
    assert_int_equal(f.m.leader.nOld, 0);
    submit_range(&f, 5, 8, "2026-10", aTrue);
    /* sealed to the new keys before they are promoted: opened by both */
    seal_to_keys(&f, &f.m.leader.sNew, &f.m.helper.sNew);
    submit_range(&f, 8, 10, "2026-10", aTrue);
    /* promoted: the old keys retire in a day */
    oldLeader = f.m.leader;
    assert_int_equal(pa_keys_promote(&f.m.leader, iLeaderId + 1u, f.now + 86400), PA_OK);
    assert_int_equal(pa_keys_promote(&f.m.helper, iHelperId + 1u, f.now + 86400), PA_OK);
    assert_false(f.m.leader.bNew);
    assert_int_equal(f.m.leader.iConfigId, (uint8_t)(iLeaderId + 1));
    assert_memory_equal(f.m.leader.aPublic, oldLeader.sNew.aPublic, 32);
    assert_int_equal(f.m.leader.nOld, 1);
    assert_int_equal(f.m.leader.aOld[0].iConfigId, iLeaderId);
    assert_int_equal(f.m.leader.aOld[0].tNotAfter, f.now + 86400);
    assert_memory_equal(f.m.leader.aOld[0].aPublic, oldLeader.aPublic, 32);
    seal_to(&f, &f.m.leader, &f.m.helper);
    submit_range(&f, 10, N_AGENCY, "2026-10", aTrue);

    aggregate_all_and_collect(&f, "2026-10", aTrue);
    int rc;

    /* after the expiry the leader refuses its old key by name */
    f.now += 86400;
    seal_to(&f, &oldLeader, &f.m.helper);
    uint64_t a[270] = {0};
    rc = flow_submit(&f, 0, "2026-11", a);
    assert_int_equal(rc, PA_EAUTH);
    char zWant[200];
    snprintf(zWant, sizeof zWant, "sealed to the leader's HPKE key of config id %u, which expired at ",
             (unsigned)iLeaderId);
    assert_non_null(strstr(pa_error_detail(), zWant));
    snprintf(zWant, sizeof zWant, "seal to its current key (config id %u: the signed GET /hpke_config",
             (unsigned)iLeaderId + 1);
    assert_non_null(strstr(pa_error_detail(), zWant));
    /* aggregated, expired: retired */
    assert_int_equal(pa_keys_retire(&f.m.leader, iLeaderId), PA_OK);
    assert_int_equal(pa_keys_retire(&f.m.helper, iHelperId), PA_OK);
    assert_int_equal(f.m.leader.nOld, 0);
    pa_keys_wipe(&oldLeader);
    flow_free(&f);
}

/* The rules of staging and promoting (docs/keys.md): one new key at a time; a
 * new key does not expire and is not current; only a new key is promoted, and
 * an id not held is refused by name; a staged key can be dropped. */
static void test_stage_and_promote_rules(void **state)
{
    pa_keys k;
    (void)state;
    assert_int_equal(pa_keys_generate(&k, PA_ROLE_HELPER, NULL, 2), PA_OK);
    assert_int_equal(pa_keys_stage(&k), PA_OK);
    assert_int_equal(k.sNew.iConfigId, 3);
    assert_int_equal(pa_keys_stage(&k), PA_EEXISTS);
    assert_non_null(strstr(pa_error_detail(), "config id 3 is staged already"));
    assert_int_equal(pa_keys_rotate(&k), PA_EEXISTS);
    assert_int_equal(pa_keys_expire(&k, 3, 1795000000), PA_EINVAL);
    assert_non_null(strstr(pa_error_detail(), "does not expire"));
    /* an id not held, the current key */
    assert_int_equal(pa_keys_promote(&k, 9, 0), PA_ENOTFOUND);
    assert_non_null(strstr(pa_error_detail(), "no key has config id 9 (held: current 2, new 3)"));
    assert_int_equal(pa_keys_promote(&k, 2, 0), PA_EINVAL);
    assert_non_null(strstr(pa_error_detail(), "is the current key, not a new one"));
    assert_int_equal(k.iConfigId, 2);
    assert_true(k.bNew);
    /* a staged key dropped: the same id is drawn again, with a fresh key */
    uint8_t aFirst[32];
    memcpy(aFirst, k.sNew.aPublic, 32);
    assert_int_equal(pa_keys_retire(&k, 3), PA_OK);
    assert_false(k.bNew);
    assert_int_equal(pa_keys_promote(&k, 3, 0), PA_ENOTFOUND);
    assert_int_equal(pa_keys_stage(&k), PA_OK);
    assert_int_equal(k.sNew.iConfigId, 3);
    assert_memory_not_equal(k.sNew.aPublic, aFirst, 32);
    assert_int_equal(pa_keys_promote(&k, 3, 1795000000), PA_OK);
    /* a retiring key is not brought back */
    assert_int_equal(pa_keys_promote(&k, 2, 0), PA_EINVAL);
    assert_non_null(strstr(pa_error_detail(), "is the retiring key, not a new one"));
    assert_int_equal(pa_keys_promote(&k, 3, 0), PA_EINVAL);
    /* a new key skips the ids held, and needs room to be promoted */
    while (k.nOld < PA_KEYS_MAX_OLD)
        assert_int_equal(pa_keys_rotate(&k), PA_OK);
    assert_int_equal(pa_keys_stage(&k), PA_ERANGE);
    assert_int_equal(pa_keys_retire(&k, k.aOld[PA_KEYS_MAX_OLD - 1].iConfigId), PA_OK);
    assert_int_equal(pa_keys_stage(&k), PA_OK);
    pa_hpke_key_ref r;
    assert_int_equal(pa_keys_hpke_find(&k, k.sNew.iConfigId, &r), 1);
    assert_int_equal(r.eState, PA_HPKE_KEY_NEW);
    assert_int_equal(pa_keys_hpke_find(&k, k.iConfigId, &r), 1);
    assert_int_equal(r.eState, PA_HPKE_KEY_CURRENT);
    assert_int_equal(pa_keys_hpke_find(&k, k.aOld[0].iConfigId, &r), 1);
    assert_int_equal(r.eState, PA_HPKE_KEY_RETIRING);
    pa_keys_wipe(&k);
    /* the collector's key does not rotate */
    assert_int_equal(pa_keys_generate(&k, PA_ROLE_COLLECTOR, NULL, 3), PA_OK);
    assert_int_equal(pa_keys_stage(&k), PA_EINVAL);
    pa_keys_wipe(&k);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rotate_mid_month_loses_nothing),
        cmocka_unit_test(test_expired_keys_refused),
        cmocka_unit_test(test_rotate_and_retire_rules),
        cmocka_unit_test(test_stage_promote_loses_nothing),
        cmocka_unit_test(test_stage_and_promote_rules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * privagg registry — the state's agency registry (thin over engine/registry):
 * init writes the genesis entry, enroll/revoke/rekey append one signed entry
 * taking effect from a period, show lists the entries and each agency's state in
 * a period, verify checks the whole chain (and, with --task, that it is the
 * task's and that every agency's county has a partition).  The signing key is
 * the registry's own (keygen --role registry), kept off the servers.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "cli/cli.h"
#include "common/guard.h"
#include "privagg/common.h"
#include "privagg/csv.h"
#include "privagg/keys.h"
#include "privagg/registry.h"
#include "privagg/report.h"
#include "privagg/task.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: privagg registry init   --key REG.key --name NAME --from YYYY-MM --out FILE\n"
            "       privagg registry enroll --registry FILE --key REG.key --agency-pub A.pub\n"
            "                               --from YYYY-MM [--name NAME --county FIPS|none]\n"
            "                               [--state ST [--data DIR]] [--task TASK]\n"
            "       privagg registry revoke --registry FILE --key REG.key --agency ID --from YYYY-MM\n"
            "       privagg registry rekey  --registry FILE --key REG.key --agency-pub NEW.pub\n"
            "                               --from YYYY-MM\n"
            "       privagg registry show   --registry FILE [--period YYYY-MM] [--json]\n"
            "       privagg registry verify --registry FILE [--task TASK] [--json]\n"
            "\n"
            "The agency registry: who may report, with which Ed25519 key, from which\n"
            "month.  An append-only chain of entries signed by the registry key\n"
            "(privagg keygen --role registry; keep it off the servers).  A task made\n"
            "with task init --registry names the registry by its genesis hash, so an\n"
            "entry appended later changes neither the task id nor past releases.\n"
            "Each entry takes effect from --from: enroll (the agency's public key from\n"
            "its keygen --role agency, only A.pub leaves the agency), revoke (its\n"
            "reports for --from and later are refused), rekey (the old key refused\n"
            "from --from, the new one accepted).  Give the aggregators the new file\n"
            "and send them SIGHUP (docs/registry.md, docs/operations.md).\n"
            "  --name, --county  enroll: the agency's name and county FIPS (\"none\":\n"
            "                    no county, e.g. a state police troop); taken from\n"
            "                    <st>_le_agencies.csv of the shipped data with --state\n"
            "  --task TASK       enroll: refuse an agency whose county lies in no\n"
            "                    partition of TASK; verify: check the registry is TASK's\n"
            "                    and list such agencies\n"
            "  --period P        show: each agency's state in month P (default: now)\n"
            "  --json            show, verify: JSON on standard output\n"
            "\n"
            "exit status:\n"
            "  0  done (verify: the chain and every signature verify)\n"
            "  1  refused or failed: a broken chain, a bad signature, an entry against\n"
            "     the rules (e.g. revoke before enroll), the wrong key, I/O\n"
            "  2  bad usage\n"
            "\n"
            "examples:\n"
            "  privagg keygen --role registry --out keys/registry\n"
            "  privagg registry init --key keys/registry.key --name \"Missouri agencies\" \\\n"
            "      --from 2026-01 --out registry.json\n"
            "  privagg registry enroll --registry registry.json --key keys/registry.key \\\n"
            "      --agency-pub MO0010000.pub --state MO --from 2026-07\n"
            "  privagg registry revoke --registry registry.json --key keys/registry.key \\\n"
            "      --agency MO0010000 --from 2026-09\n"
            "  privagg registry verify --registry registry.json --task task.json --json\n");
}

static int period_arg(const char *zCmd, const char *z)
{
    if (z == NULL || !pa_period_valid(z)) {
        fprintf(stderr, "privagg registry %s: --from/--period: \"%s\" is not a month YYYY-MM from %s on\n",
                zCmd, z ? z : "", PA_PERIOD_FIRST);
        return 2;
    }
    return 0;
}

static int read_signer(pa_keys *k, const char *zPath)
{
    int rc = pa_keys_read_private(k, zPath);
    if (rc == PA_OK && k->eRole != PA_ROLE_REGISTRY) {
        rc = pa_fail(PA_EINVAL, "%s: a key file of role %s, not registry (privagg keygen --role registry)",
                     zPath, pa_role_name(k->eRole));
        pa_keys_wipe(k);
    }
    return rc;
}

/* --name/--county from the state's agency file when not given. */
static int agency_facts(const pa_cli_opt *o, size_t n, const char *zId, char *zName, size_t nName,
                        char zCounty[8])
{
    const char *zN = pa_cli_value(o, n, "--name"), *zC = pa_cli_value(o, n, "--county");
    const char *zState = pa_cli_value(o, n, "--state");
    if ((zN == NULL || zC == NULL) && zState != NULL) {
        char zData[4200], zPath[4400], zSt[3] = {0};
        pa_csv *c;
        zSt[0] = (char)(zState[0] | 0x20);
        zSt[1] = zState[0] ? (char)(zState[1] | 0x20) : 0;
        snprintf(zPath, sizeof zPath, "%s/%s_le_agencies.csv",
                 pa_cli_data_dir(pa_cli_value(o, n, "--data"), zData, sizeof zData), zSt);
        PA_GUARD(pa_csv_load(&c, zPath));
        int iOri = pa_csv_column(c, "ori"), iName = pa_csv_column(c, "name"), iFips = pa_csv_column(c, "county_fips");
        int bFound = 0;
        for (size_t r = 0; iOri >= 0 && iName >= 0 && iFips >= 0 && r < pa_csv_row_count(c) && !bFound; r++) {
            if (strcmp(pa_csv_get(c, r, iOri), zId) != 0)
                continue;
            bFound = 1;
            if (zN == NULL)
                snprintf(zName, nName, "%s", pa_csv_get(c, r, iName));
            if (zC == NULL)
                snprintf(zCounty, 8, "%s", pa_csv_get(c, r, iFips));
        }
        pa_csv_free(c);
        if (!bFound)
            return pa_fail(PA_ENOTFOUND, "%s: no agency %s; give --name and --county", zPath, zId);
    } else if (zN == NULL || zC == NULL) {
        return pa_fail(PA_EINVAL, "enroll: --name and --county (or --state ST to read them from the "
                                  "shipped agency list) are required");
    }
    if (zN != NULL)
        snprintf(zName, nName, "%s", zN);
    if (zC != NULL)
        snprintf(zCounty, 8, "%s", strcmp(zC, "none") == 0 ? "" : zC);
    return PA_OK;
}

static int cmd_init(const pa_cli_opt *o, size_t n)
{
    const char *zKey = pa_cli_value(o, n, "--key"), *zName = pa_cli_value(o, n, "--name");
    const char *zFrom = pa_cli_value(o, n, "--from"), *zOut = pa_cli_value(o, n, "--out");
    pa_registry *r = NULL;
    pa_keys k;
    int rc;

    if (zKey == NULL || zName == NULL || zOut == NULL) {
        fprintf(stderr, "privagg registry init: --key, --name, --from and --out are required\n");
        return 2;
    }
    if (period_arg("init", zFrom))
        return 2;
    rc = read_signer(&k, zKey);
    if (rc == PA_OK)
        rc = pa_registry_new(&r, zName, zFrom, k.aSecret);
    pa_keys_wipe(&k);
    if (rc == PA_OK)
        rc = pa_registry_write(r, zOut, 1);
    if (rc == PA_OK) {
        char zHex[65];
        sodium_bin2hex(zHex, sizeof zHex, pa_registry_genesis(r), 32);
        printf("%s\ngenesis %s\n", zOut, zHex);
    }
    pa_registry_free(r);
    if (rc != PA_OK) {
        pa_cli_report("registry init", rc);
        return 1;
    }
    return 0;
}

static int cmd_append(const char *zCmd, pa_reg_op eOp, const pa_cli_opt *o, size_t n)
{
    const char *zReg = pa_cli_value(o, n, "--registry"), *zKey = pa_cli_value(o, n, "--key");
    const char *zFrom = pa_cli_value(o, n, "--from"), *zPub = pa_cli_value(o, n, "--agency-pub");
    const char *zAgency = pa_cli_value(o, n, "--agency"), *zTask = pa_cli_value(o, n, "--task");
    pa_registry *r = NULL;
    pa_task *t = NULL;
    pa_reg_entry e;
    pa_keys k, a;
    int rc;

    if (zReg == NULL || zKey == NULL || (eOp == PA_REG_REVOKE ? zAgency == NULL : zPub == NULL)) {
        fprintf(stderr, "privagg registry %s: --registry, --key, --from and %s are required\n", zCmd,
                eOp == PA_REG_REVOKE ? "--agency" : "--agency-pub");
        return 2;
    }
    if (period_arg(zCmd, zFrom))
        return 2;
    memset(&e, 0, sizeof e);
    memset(&a, 0, sizeof a);
    e.eOp = eOp;
    memcpy(e.zFrom, zFrom, 8);
    rc = pa_registry_load(&r, zReg);
    if (rc == PA_OK && eOp != PA_REG_REVOKE) {
        rc = pa_keys_read_public(&a, zPub);
        if (rc == PA_OK && a.eRole != PA_ROLE_AGENCY)
            rc = pa_fail(PA_EINVAL, "%s: a key of role %s, not an agency's (keygen --role agency)", zPub,
                         pa_role_name(a.eRole));
        if (rc == PA_OK) {
            snprintf(e.zAgency, sizeof e.zAgency, "%s", a.zId);
            memcpy(e.aKey, a.aPublic, 32);
        }
    } else if (rc == PA_OK) {
        snprintf(e.zAgency, sizeof e.zAgency, "%s", zAgency);
    }
    if (rc == PA_OK && eOp == PA_REG_ENROLL)
        rc = agency_facts(o, n, e.zAgency, e.zName, sizeof e.zName, e.zCounty);
    if (rc == PA_OK && zTask != NULL)
        rc = pa_task_load(&t, zTask);
    if (rc == PA_OK && t != NULL)
        rc = pa_registry_check_task(r, t);
    if (rc == PA_OK && t != NULL && eOp == PA_REG_ENROLL && pa_task_partition_of_county(t, e.zCounty) == NULL)
        rc = pa_fail(PA_EINVAL, "enroll: county \"%s\" of agency %s lies in no partition of %s: its reports "
                                "would be refused; check the county, or make a new task", e.zCounty,
                     e.zAgency, zTask);
    if (rc == PA_OK)
        rc = read_signer(&k, zKey);
    else
        memset(&k, 0, sizeof k);
    if (rc == PA_OK)
        rc = pa_registry_append(r, &e, k.aSecret);
    pa_keys_wipe(&k);
    if (rc == PA_OK)
        rc = pa_registry_write(r, zReg, 0);
    if (rc == PA_OK) {
        const pa_reg_entry *pLast = pa_registry_entry(r, pa_registry_count(r) - 1);
        char zHex[65];
        sodium_bin2hex(zHex, sizeof zHex, pLast->aHash, 32);
        printf("entry %u %s %s from %s\nhead %s\n", (unsigned)pLast->iSeq, pa_reg_op_name(eOp), pLast->zAgency,
               pLast->zFrom, zHex);
    }
    pa_task_free(t);
    pa_registry_free(r);
    if (rc != PA_OK) {
        char zWhat[32];
        snprintf(zWhat, sizeof zWhat, "registry %s", zCmd);
        pa_cli_report(zWhat, rc);
        return 1;
    }
    return 0;
}

static const char *status_name(pa_reg_status e)
{
    switch (e) {
    case PA_REG_ACTIVE: return "active";
    case PA_REG_NOT_YET: return "not-yet";
    case PA_REG_REVOKED: return "revoked";
    default: return "unknown";
    }
}

static void now_period(char z[8])
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(z, 8, "%Y-%m", &tm);
}

static int cmd_show_verify(int bVerify, const pa_cli_opt *o, size_t n)
{
    const char *zReg = pa_cli_value(o, n, "--registry"), *zTask = pa_cli_value(o, n, "--task");
    const char *zPeriod = pa_cli_value(o, n, "--period");
    int bJson = pa_cli_seen(o, n, "--json");
    pa_registry *r = NULL;
    pa_task *t = NULL;
    char zNow[8], zHex[65], zHead[65];
    int rc;

    if (zReg == NULL) {
        fprintf(stderr, "privagg registry %s: --registry FILE is required\n", bVerify ? "verify" : "show");
        return 2;
    }
    if (zPeriod != NULL && period_arg("show", zPeriod))
        return 2;
    if (zPeriod == NULL) {
        now_period(zNow);
        zPeriod = zNow;
    }
    rc = pa_registry_load(&r, zReg);
    if (rc == PA_OK && zTask != NULL)
        rc = pa_task_load(&t, zTask);
    if (rc == PA_OK && t != NULL)
        rc = pa_registry_check_task(r, t);
    if (rc != PA_OK) {
        if (bJson && bVerify) {
            json_t *j = json_pack("{s:b, s:s, s:s}", "ok", 0, "error", pa_strerror(rc), "detail", pa_error_detail());
            char *z = json_dumps(j, JSON_INDENT(2));
            printf("%s\n", z ? z : "");
            free(z);
            json_decref(j);
        }
        pa_cli_report(bVerify ? "registry verify" : "registry show", rc);
        pa_task_free(t);
        pa_registry_free(r);
        return 1;
    }
    sodium_bin2hex(zHex, sizeof zHex, pa_registry_genesis(r), 32);
    sodium_bin2hex(zHead, sizeof zHead, pa_registry_head(r), 32);
    json_t *j = json_object(), *aAg = json_array(), *aEnt = json_array(), *aNoPart = json_array();
    char zSigner[65];
    sodium_bin2hex(zSigner, sizeof zSigner, pa_registry_signer(r), 32);
    json_object_set_new(j, "ok", json_true());
    json_object_set_new(j, "entries", json_integer((json_int_t)pa_registry_count(r)));
    json_object_set_new(j, "genesis", json_string(zHex));
    json_object_set_new(j, "head", json_string(zHead));
    json_object_set_new(j, "signing_public_key", json_string(zSigner));
    json_object_set_new(j, "name", json_string(pa_registry_entry(r, 0)->zName));
    json_object_set_new(j, "period", json_string(zPeriod));
    json_object_set_new(j, "active", json_integer((json_int_t)pa_registry_active(r, zPeriod)));
    for (size_t i = 0; i < pa_registry_agency_count(r); i++) {
        pa_reg_agency x;
        char zKey[65];
        const char *zA = pa_registry_agency_id(r, i);
        pa_registry_lookup(r, zA, zPeriod, &x);
        sodium_bin2hex(zKey, sizeof zKey, x.aKey, 32);
        json_t *a = json_pack("{s:s, s:s, s:s, s:s, s:s}", "id", zA, "name", x.zName, "county", x.zCounty,
                              "status", status_name(x.eStatus), "since", x.zSince);
        if (x.eStatus == PA_REG_ACTIVE)
            json_object_set_new(a, "public_key", json_string(zKey));
        if (t != NULL) {
            const pa_task_partition *p = pa_task_partition_of_county(t, x.zCounty);
            json_object_set_new(a, "partition", p ? json_string(p->zName) : json_null());
            if (p == NULL)
                json_array_append_new(aNoPart, json_string(zA));
        }
        json_array_append_new(aAg, a);
    }
    for (size_t i = 0; !bVerify && i < pa_registry_count(r); i++) {
        const pa_reg_entry *e = pa_registry_entry(r, i);
        char zH[65];
        sodium_bin2hex(zH, sizeof zH, e->aHash, 32);
        json_t *x = json_pack("{s:I, s:s, s:s, s:s}", "seq", (json_int_t)e->iSeq, "op", pa_reg_op_name(e->eOp),
                              "from", e->zFrom, "hash", zH);
        if (e->eOp != PA_REG_GENESIS)
            json_object_set_new(x, "agency", json_string(e->zAgency));
        json_array_append_new(aEnt, x);
    }
    if (t != NULL)
        json_object_set_new(j, "agencies_without_partition", aNoPart);
    else
        json_decref(aNoPart);
    if (!bVerify) {
        json_object_set_new(j, "agencies", aAg);
        json_object_set_new(j, "log", aEnt);
    } else {
        json_decref(aAg);
        json_decref(aEnt);
    }
    if (bJson) {
        char *z = json_dumps(j, JSON_INDENT(2));
        printf("%s\n", z ? z : "");
        free(z);
    } else {
        printf("registry  %s\ngenesis   %s\nhead      %s\nsigner    %s\nentries   %zu, all signatures and "
               "links verify\nagencies  %zu enrolled, %zu active in %s\n",
               pa_registry_entry(r, 0)->zName, zHex, zHead, zSigner, pa_registry_count(r),
               pa_registry_agency_count(r), pa_registry_active(r, zPeriod), zPeriod);
        if (t != NULL)
            printf("task      %s: this registry is the task's\n", zTask);
        json_t *pNo = json_object_get(j, "agencies_without_partition");
        if (json_array_size(pNo) > 0)
            printf("warning   %zu agencies have a county in no partition of the task (their reports "
                   "are refused)\n", json_array_size(pNo));
        for (size_t i = 0; !bVerify && i < pa_registry_count(r); i++) {
            const pa_reg_entry *e = pa_registry_entry(r, i);
            printf("  %4u  %-7s  from %s  %s%s%s\n", (unsigned)e->iSeq, pa_reg_op_name(e->eOp), e->zFrom,
                   e->eOp == PA_REG_GENESIS ? e->zName : e->zAgency, e->eOp == PA_REG_ENROLL ? "  " : "",
                   e->eOp == PA_REG_ENROLL ? e->zName : "");
        }
        for (size_t i = 0; !bVerify && i < json_array_size(json_object_get(j, "agencies")); i++) {
            json_t *a = json_array_get(json_object_get(j, "agencies"), i);
            printf("  %-12s %-8s since %s  county %s\n", json_string_value(json_object_get(a, "id")),
                   json_string_value(json_object_get(a, "status")), json_string_value(json_object_get(a, "since")),
                   json_string_value(json_object_get(a, "county"))[0] ? json_string_value(json_object_get(a, "county"))
                                                                      : "none");
        }
    }
    json_decref(j);
    pa_task_free(t);
    pa_registry_free(r);
    return 0;
}

int pa_cli_registry(int argc, char **argv)
{
    pa_cli_opt o[] = {
        {"--key", 0, NULL, 0, NULL},      {"--name", 0, NULL, 0, NULL},   {"--from", 0, NULL, 0, NULL},
        {"--out", 0, NULL, 0, NULL},      {"--registry", 0, NULL, 0, NULL}, {"--agency-pub", 0, NULL, 0, NULL},
        {"--agency", 0, NULL, 0, NULL},   {"--county", 0, NULL, 0, NULL}, {"--state", 0, NULL, 0, NULL},
        {"--data", 0, NULL, 0, NULL},     {"--task", 0, NULL, 0, NULL},   {"--period", 0, NULL, 0, NULL},
        {"--json", 1, NULL, 0, NULL},     {"--help", 1, NULL, 0, NULL},
    };
    size_t n = sizeof o / sizeof o[0];
    int rc;

    if (argc < 2 || argv[1][0] == '-') {
        if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
            usage(stdout);
            return 0;
        }
        usage(stderr);
        return 2;
    }
    const char *zSub = argv[1];
    char zName[48];
    snprintf(zName, sizeof zName, "registry %s", zSub); /* "privagg registry enroll: ..." */
    argv[1] = zName;
    if ((rc = pa_cli_begin(argc - 1, argv + 1, o, n, usage)) >= 0)
        return rc;
    if (strcmp(zSub, "init") == 0)
        return cmd_init(o, n);
    if (strcmp(zSub, "enroll") == 0)
        return cmd_append("enroll", PA_REG_ENROLL, o, n);
    if (strcmp(zSub, "revoke") == 0)
        return cmd_append("revoke", PA_REG_REVOKE, o, n);
    if (strcmp(zSub, "rekey") == 0)
        return cmd_append("rekey", PA_REG_REKEY, o, n);
    if (strcmp(zSub, "show") == 0)
        return cmd_show_verify(0, o, n);
    if (strcmp(zSub, "verify") == 0)
        return cmd_show_verify(1, o, n);
    fprintf(stderr, "privagg registry: \"%s\" is not init, enroll, revoke, rekey, show or verify\n", zSub);
    return 2;
}

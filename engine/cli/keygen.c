/*
 * privagg keygen — create a party's key files (thin over engine/keys).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "privagg/common.h"
#include "privagg/keys.h"
#include "privagg/task_build.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: privagg keygen --role ROLE --out PREFIX [options]\n"
            "\n"
            "Writes PREFIX.key (private, mode 0600, never overwritten) and PREFIX.pub\n"
            "(public, goes into the task file).\n"
            "\n"
            "  --role R          agency | leader | helper | collector\n"
            "  --out PREFIX      path prefix of the two files (for --state: a folder)\n"
            "  --id ORI          agency id (role agency)\n"
            "  --state ST        role agency: keys for every agency of data/<st>_le_agencies.csv,\n"
            "                    written as PREFIX/<ORI>.key and PREFIX/<ORI>.pub\n"
            "  --data DIR        folder of the shipped data (default: data)\n"
            "  --config-id N     HPKE config id, 0..255 (leader 1, helper 2, collector 3 by default)\n"
            "  --pair-with FILE  role helper: copy the verify key and peer token from the\n"
            "                    leader's private file, so the two aggregators agree\n"
            "\n"
            "examples:\n"
            "  privagg keygen --role leader --out keys/leader\n"
            "  privagg keygen --role helper --out keys/helper --pair-with keys/leader.key\n"
            "  privagg keygen --role agency --state MO --out keys/agencies\n");
}

static int all_agencies(const char *zState, const char *zData, const char *zDir)
{
    char **azId;
    size_t nId;
    int rc;

    if (mkdir(zDir, 0700) != 0 && errno != EEXIST) {
        fprintf(stderr, "privagg keygen: %s: %s\n", zDir, strerror(errno));
        return 1;
    }
    rc = pa_task_list_agencies(&azId, &nId, zData, zState);
    if (rc != PA_OK) {
        pa_cli_report("keygen", rc);
        return 1;
    }
    for (size_t i = 0; i < nId && rc == PA_OK; i++) {
        pa_keys k;
        char zPrefix[4096];
        snprintf(zPrefix, sizeof zPrefix, "%s/%s", zDir, azId[i]);
        rc = pa_keys_generate(&k, PA_ROLE_AGENCY, azId[i], 0);
        if (rc == PA_OK)
            rc = pa_keys_write(&k, zPrefix);
        pa_keys_wipe(&k);
        if ((i + 1) % 100 == 0 || i + 1 == nId)
            fprintf(stderr, "\rkeygen: %zu/%zu agencies", i + 1, nId);
    }
    fprintf(stderr, "\n");
    pa_task_free_list(azId, nId);
    if (rc != PA_OK) {
        pa_cli_report("keygen", rc);
        return 1;
    }
    printf("%s\n", zDir);
    return 0;
}

int pa_cli_keygen(int argc, char **argv)
{
    pa_cli_opt opts[] = {
        {"--role", 0, NULL, 0},      {"--out", 0, NULL, 0},  {"--id", 0, NULL, 0},
        {"--state", 0, NULL, 0},     {"--data", 0, NULL, 0}, {"--config-id", 0, NULL, 0},
        {"--pair-with", 0, NULL, 0}, {"--help", 1, NULL, 0},
    };
    size_t n = sizeof opts / sizeof opts[0];
    pa_role eRole;
    pa_keys k, leader;
    unsigned long long id;
    int rc;

    if ((rc = pa_cli_begin(argc, argv, opts, n, usage)) >= 0)
        return rc;
    const char *zRole = pa_cli_value(opts, n, "--role"), *zOut = pa_cli_value(opts, n, "--out");
    if (zRole == NULL || zOut == NULL) {
        fprintf(stderr, "privagg keygen: --role and --out are required\n");
        usage(stderr);
        return 2;
    }
    if (pa_role_parse(&eRole, zRole) != PA_OK) {
        pa_cli_report("keygen --role", PA_EINVAL);
        return 2;
    }
    if (eRole == PA_ROLE_AGENCY && pa_cli_value(opts, n, "--state") != NULL) {
        const char *zData = pa_cli_value(opts, n, "--data");
        return all_agencies(pa_cli_value(opts, n, "--state"), zData ? zData : "data", zOut);
    }
    if (eRole == PA_ROLE_AGENCY && pa_cli_value(opts, n, "--id") == NULL) {
        fprintf(stderr, "privagg keygen: role agency needs --id ORI or --state ST\n");
        return 2;
    }
    id = eRole == PA_ROLE_LEADER ? 1 : eRole == PA_ROLE_HELPER ? 2 : 3;
    if (pa_cli_value(opts, n, "--config-id") != NULL &&
        pa_cli_uint("keygen", "--config-id", pa_cli_value(opts, n, "--config-id"), 0, 255, &id) != 0)
        return 2;
    rc = pa_keys_generate(&k, eRole, pa_cli_value(opts, n, "--id"), (uint8_t)id);
    if (rc == PA_OK && pa_cli_value(opts, n, "--pair-with") != NULL) {
        if (eRole != PA_ROLE_HELPER) {
            fprintf(stderr, "privagg keygen: --pair-with is for role helper only\n");
            pa_keys_wipe(&k);
            return 2;
        }
        rc = pa_keys_read_private(&leader, pa_cli_value(opts, n, "--pair-with"));
        if (rc == PA_OK && leader.eRole != PA_ROLE_LEADER)
            rc = pa_fail(PA_EINVAL, "--pair-with %s: role is %s, expected leader",
                         pa_cli_value(opts, n, "--pair-with"), pa_role_name(leader.eRole));
        if (rc == PA_OK)
            pa_keys_share_aggregator_secrets(&k, &leader);
        pa_keys_wipe(&leader);
    }
    if (rc == PA_OK)
        rc = pa_keys_write(&k, zOut);
    pa_keys_wipe(&k);
    if (rc != PA_OK) {
        pa_cli_report("keygen", rc);
        return 1;
    }
    printf("%s.key\n%s.pub\n", zOut, zOut);
    return 0;
}

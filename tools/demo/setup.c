/*
 * The demo's deployment folder: keys of every party, the default Missouri task
 * pointing at the two loopback servers, one self-signed certificate for both
 * servers (the clients trust exactly it), and the aggregators' private configs.
 */
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/guard.h"
#include "privagg/demo.h"
#include "privagg/http.h"
#include "privagg/keys.h"
#include "privagg/task.h"
#include "privagg/task_build.h"

uint16_t pa_demo_free_port(void)
{
    struct sockaddr_in a;
    socklen_t n = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    uint16_t port = 0;

    if (fd < 0)
        return 0;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0 && getsockname(fd, (struct sockaddr *)&a, &n) == 0)
        port = ntohs(a.sin_port);
    close(fd);
    return port;
}

static int mkdir_p(const char *z)
{
    if (mkdir(z, 0700) != 0 && errno != EEXIST)
        return pa_fail(PA_EIO, "%s: %s", z, strerror(errno));
    return PA_OK;
}

void pa_demo_store_of(const pa_demo_setup_opts *o, const char *zRole, char *zOut, size_t nOut)
{
    const char *z = strcmp(zRole, "leader") == 0 ? o->zLeaderStore : o->zHelperStore;
    if (z != NULL)
        snprintf(zOut, nOut, "%s", z);
    else
        snprintf(zOut, nOut, "%s/%s.db", o->zDir, zRole);
}

static int write_config(const pa_demo_setup_opts *o, const char *zRole, uint16_t port, const pa_keys *pCollector)
{
    char zPath[4096], zKey[64], zStore[4096], zTok[65];
    json_t *c = json_object();
    int rc;

    snprintf(zPath, sizeof zPath, "%s/%s.json", o->zDir, zRole);
    snprintf(zKey, sizeof zKey, "keys/%s.key", zRole);
    if ((strcmp(zRole, "leader") == 0 ? o->zLeaderStore : o->zHelperStore) != NULL)
        pa_demo_store_of(o, zRole, zStore, sizeof zStore);
    else
        snprintf(zStore, sizeof zStore, "%s.db", zRole); /* beside the config */
    json_object_set_new(c, "role", json_string(zRole));
    json_object_set_new(c, "task", json_string("task.json"));
    json_object_set_new(c, "private_key", json_string(zKey));
    json_object_set_new(c, "store", json_string(zStore));
    json_object_set_new(c, "listen", json_pack("{s:s, s:i}", "address", "127.0.0.1", "port", (int)port));
    json_object_set_new(c, "tls", json_pack("{s:s, s:s}", "cert", "tls/cert.pem", "key", "tls/key.pem"));
    if (strcmp(zRole, "leader") == 0) {
        json_object_set_new(c, "peer_ca", json_string("tls/cert.pem"));
        pa_http_token_hex(zTok, pCollector->aToken);
        json_object_set_new(c, "collector_token", json_string(zTok));
    }
    rc = pa_keys_write_json(zPath, c, 0600);
    json_decref(c);
    return rc;
}

int pa_demo_setup(const pa_demo_setup_opts *o)
{
    char zPath[4096], zLeader[64], zHelper[64], **azId = NULL;
    pa_keys leader, helper, collector, *aAgency = NULL;
    pa_pairing pair;
    size_t nId = 0, nUse;
    pa_task_build_opts b;
    json_t *pTask = NULL;
    int rc;

    PA_GUARD(mkdir_p(o->zDir));
    snprintf(zPath, sizeof zPath, "%s/keys", o->zDir);
    PA_GUARD(mkdir_p(zPath));
    snprintf(zPath, sizeof zPath, "%s/keys/agencies", o->zDir);
    PA_GUARD(mkdir_p(zPath));
    snprintf(zPath, sizeof zPath, "%s/tls", o->zDir);
    PA_GUARD(mkdir_p(zPath));

    /* the two aggregators pair as separate operators would: the leader's keys and
     * the bundle (its verify key and peer token, nothing else), then the helper's
     * own keys with the bundle's two secrets; the bundle never reaches disk here */
    memset(&helper, 0, sizeof helper);
    pa_keys_generate(&leader, PA_ROLE_LEADER, NULL, 1);
    rc = pa_pairing_from_leader(&pair, &leader);
    if (rc == PA_OK)
        rc = pa_keys_generate(&helper, PA_ROLE_HELPER, NULL, 2);
    if (rc == PA_OK)
        rc = pa_pairing_apply(&helper, &pair);
    pa_pairing_wipe(&pair);
    pa_keys_generate(&collector, PA_ROLE_COLLECTOR, NULL, 3);
    snprintf(zPath, sizeof zPath, "%s/keys/leader", o->zDir);
    if (rc == PA_OK)
        rc = pa_keys_write(&leader, zPath);
    snprintf(zPath, sizeof zPath, "%s/keys/helper", o->zDir);
    if (rc == PA_OK)
        rc = pa_keys_write(&helper, zPath);
    snprintf(zPath, sizeof zPath, "%s/keys/collector", o->zDir);
    if (rc == PA_OK)
        rc = pa_keys_write(&collector, zPath);
    if (rc == PA_OK)
        rc = pa_task_list_agencies(&azId, &nId, o->zDataDir, "MO");
    nUse = (o->nAgencies && o->nAgencies < nId) ? o->nAgencies : nId;
    if (rc == PA_OK && (aAgency = calloc(nUse + 1, sizeof *aAgency)) == NULL)
        rc = pa_fail(PA_ENOMEM, "demo: out of memory");
    for (size_t i = 0; rc == PA_OK && i < nUse; i++) {
        snprintf(zPath, sizeof zPath, "%s/keys/agencies/%s", o->zDir, azId[i]);
        rc = pa_keys_generate(&aAgency[i], PA_ROLE_AGENCY, azId[i], 0);
        if (rc == PA_OK)
            rc = pa_keys_write(&aAgency[i], zPath);
    }
    snprintf(zLeader, sizeof zLeader, "https://127.0.0.1:%u", (unsigned)o->nLeaderPort);
    snprintf(zHelper, sizeof zHelper, "https://127.0.0.1:%u", (unsigned)o->nHelperPort);
    memset(&b, 0, sizeof b);
    b.zState = "MO";
    b.zDataDir = o->zDataDir;
    b.zLeaderEndpoint = zLeader;
    b.zHelperEndpoint = zHelper;
    b.pLeader = &leader;
    b.pHelper = &helper;
    b.pCollector = &collector;
    b.aAgencyKeys = aAgency;
    b.nAgencyKeys = nUse;
    b.nMaxAgencies = nUse;
    b.nMinAgencies = o->nMinAgencies;
    b.rBudgetRho = o->rBudgetRho;
    b.rRhoState = o->rRhoState;
    b.rRhoPartition = o->rRhoPartition;
    b.nMaxCellsPerRecord = 4;
    if (rc == PA_OK)
        rc = pa_task_build_default(&pTask, &b);
    snprintf(zPath, sizeof zPath, "%s/task.json", o->zDir);
    if (rc == PA_OK && json_dump_file(pTask, zPath, JSON_INDENT(2)) != 0)
        rc = pa_fail(PA_EIO, "%s: cannot write", zPath);
    if (rc == PA_OK) {
        char zCert[4096], zKey[4096];
        snprintf(zCert, sizeof zCert, "%s/tls/cert.pem", o->zDir);
        snprintf(zKey, sizeof zKey, "%s/tls/key.pem", o->zDir);
        rc = pa_http_make_self_signed(zCert, zKey, "127.0.0.1");
    }
    if (rc == PA_OK)
        rc = write_config(o, "leader", o->nLeaderPort, &collector);
    if (rc == PA_OK)
        rc = write_config(o, "helper", o->nHelperPort, &collector);
    json_decref(pTask);
    for (size_t i = 0; aAgency && i < nUse; i++)
        pa_keys_wipe(&aAgency[i]);
    free(aAgency);
    pa_task_free_list(azId, nId);
    pa_keys_wipe(&leader);
    pa_keys_wipe(&helper);
    pa_keys_wipe(&collector);
    return rc;
}

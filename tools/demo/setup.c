/*
 * The demo's deployment folder: the keys of the aggregators and the collector,
 * each agency's own key pair in a folder of its own and the state's agency
 * registry enrolling their public keys (or, with --agencies-in-task, the older
 * form: every agency key made here and listed in the task), the default Missouri
 * task pointing at the two loopback servers, one self-signed certificate for both
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
#include "privagg/registry.h"
#include "privagg/report.h"
#include "privagg/synth.h"
#include "privagg/task.h"

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
    if (!o->bAgenciesInTask) /* each aggregator holds its own copy of the registry */
        json_object_set_new(c, "registry", json_string("registry.json"));
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

void pa_demo_agency_key_path(const pa_demo_setup_opts *o, const char *zId, char *zOut, size_t nOut)
{
    if (o->bAgenciesInTask)
        snprintf(zOut, nOut, "%s/keys/agencies/%s.key", o->zDir, zId);
    else
        snprintf(zOut, nOut, "%s/agencies/%s/%s.key", o->zDir, zId, zId);
}

/*
 * The flow of docs/registry.md.  The state makes its registry key and the
 * registry's genesis; each agency makes its own key pair in a folder of its own
 * (agencies/<ORI>/<ORI>.key and .pub, as `privagg keygen --role agency --id ORI
 * --out ORI` does at the agency), and only the public key file reaches the state,
 * which enrolls it, with the name and county of the shipped list, from the first
 * month there can be (PA_PERIOD_FIRST).  No private key of an agency is held by
 * the state, and the task made afterwards names the registry, not the agencies.
 */
static int enroll_agencies(const pa_demo_setup_opts *o, const pa_synth_agency *aAg, size_t nAg, pa_registry **ppReg)
{
    char zPath[4096];
    pa_keys reg, a;
    pa_reg_entry e;
    int rc;

    memset(&reg, 0, sizeof reg);
    snprintf(zPath, sizeof zPath, "%s/keys/registry", o->zDir);
    rc = pa_keys_generate(&reg, PA_ROLE_REGISTRY, NULL, 0);
    if (rc == PA_OK)
        rc = pa_keys_write(&reg, zPath);
    if (rc == PA_OK)
        rc = pa_registry_new(ppReg, "Missouri law enforcement agencies (demo)", PA_PERIOD_FIRST, reg.aSecret);
    snprintf(zPath, sizeof zPath, "%s/agencies", o->zDir);
    if (rc == PA_OK)
        rc = mkdir_p(zPath);
    for (size_t i = 0; rc == PA_OK && i < nAg; i++) {
        /* at the agency */
        memset(&a, 0, sizeof a);
        snprintf(zPath, sizeof zPath, "%s/agencies/%s", o->zDir, aAg[i].zId);
        rc = mkdir_p(zPath);
        snprintf(zPath, sizeof zPath, "%s/agencies/%s/%s", o->zDir, aAg[i].zId, aAg[i].zId);
        if (rc == PA_OK)
            rc = pa_keys_generate(&a, PA_ROLE_AGENCY, aAg[i].zId, 0);
        if (rc == PA_OK)
            rc = pa_keys_write(&a, zPath);
        pa_keys_wipe(&a);
        /* at the state: the public key file only */
        snprintf(zPath, sizeof zPath, "%s/agencies/%s/%s.pub", o->zDir, aAg[i].zId, aAg[i].zId);
        if (rc == PA_OK)
            rc = pa_keys_read_public(&a, zPath);
        memset(&e, 0, sizeof e);
        e.eOp = PA_REG_ENROLL;
        memcpy(e.zFrom, PA_PERIOD_FIRST, sizeof e.zFrom);
        snprintf(e.zAgency, sizeof e.zAgency, "%s", a.zId);
        snprintf(e.zName, sizeof e.zName, "%s", aAg[i].zName);
        snprintf(e.zCounty, sizeof e.zCounty, "%s", aAg[i].zCounty);
        memcpy(e.aKey, a.aPublic, sizeof e.aKey);
        if (rc == PA_OK)
            rc = pa_registry_append(*ppReg, &e, reg.aSecret);
    }
    pa_keys_wipe(&reg);
    snprintf(zPath, sizeof zPath, "%s/registry.json", o->zDir);
    if (rc == PA_OK)
        rc = pa_registry_write(*ppReg, zPath, 1);
    return rc;
}

/* The older form (--agencies-in-task): every agency's key pair made here, in
 * keys/agencies/, and listed in the task. */
static int agency_keys_here(const pa_demo_setup_opts *o, const pa_synth_agency *aAg, size_t nAg, pa_keys **paKeys)
{
    char zPath[4096];
    int rc;

    snprintf(zPath, sizeof zPath, "%s/keys/agencies", o->zDir);
    rc = mkdir_p(zPath);
    if (rc == PA_OK && (*paKeys = calloc(nAg + 1, sizeof **paKeys)) == NULL)
        rc = pa_fail(PA_ENOMEM, "demo: out of memory");
    for (size_t i = 0; rc == PA_OK && i < nAg; i++) {
        snprintf(zPath, sizeof zPath, "%s/keys/agencies/%s", o->zDir, aAg[i].zId);
        rc = pa_keys_generate(&(*paKeys)[i], PA_ROLE_AGENCY, aAg[i].zId, 0);
        if (rc == PA_OK)
            rc = pa_keys_write(&(*paKeys)[i], zPath);
    }
    return rc;
}

int pa_demo_setup(const pa_demo_setup_opts *o)
{
    char zPath[4096], zLeader[64], zHelper[64];
    pa_keys leader, helper, collector, *aAgencyKeys = NULL;
    pa_synth_agency *aAg = NULL;
    pa_registry *pReg = NULL;
    pa_pairing pair;
    size_t nAg = 0;
    pa_synth_task_opts b;
    json_t *pTask = NULL;
    int rc;

    PA_GUARD(mkdir_p(o->zDir));
    snprintf(zPath, sizeof zPath, "%s/keys", o->zDir);
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
        rc = pa_synth_state_agencies(&aAg, &nAg, o->zDataDir, "MO", o->nAgencies);
    if (rc == PA_OK)
        rc = o->bAgenciesInTask ? agency_keys_here(o, aAg, nAg, &aAgencyKeys) : enroll_agencies(o, aAg, nAg, &pReg);
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
    b.aAgency = aAg;
    b.nAgency = nAg;
    b.aAgencyKeys = aAgencyKeys;
    b.pGenesis = pReg ? pa_registry_genesis(pReg) : NULL;
    b.pSigner = pReg ? pa_registry_signer(pReg) : NULL;
    b.nMinAgencies = o->nMinAgencies;
    b.rBudgetRho = o->rBudgetRho;
    b.rRhoState = o->rRhoState;
    b.rRhoPartition = o->rRhoPartition;
    if (rc == PA_OK)
        rc = pa_synth_task(&pTask, &b);
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
    for (size_t i = 0; aAgencyKeys && i < nAg; i++)
        pa_keys_wipe(&aAgencyKeys[i]);
    free(aAgencyKeys);
    free(aAg);
    pa_registry_free(pReg);
    pa_keys_wipe(&leader);
    pa_keys_wipe(&helper);
    pa_keys_wipe(&collector);
    return rc;
}

/*
 * privagg demo — the whole system on one machine, as `privagg demo` runs it:
 * a deployment folder (the aggregators' and the collector's keys, each agency's
 * own key pair and the agency registry that enrolls their public keys, the
 * Missouri task naming that registry, a self-signed certificate, the
 * aggregators' private configs), a leader and a helper as
 * separate `privagg serve` processes on 127.0.0.1 over HTTPS, every agency
 * submitting synthetic counts, and the collector releasing the statewide
 * batches.  The folder layout is in docs/registry.md ("The demo").
 */
#ifndef PRIVAGG_DEMO_H
#define PRIVAGG_DEMO_H

#include <stddef.h>
#include <stdint.h>

#include "privagg/task.h"

typedef struct {
    const char *zDir;          /* the deployment folder (created if missing) */
    const char *zDataDir;      /* shipped data (data/) */
    size_t nAgencies;          /* 0 = all 646 */
    size_t nMinAgencies;
    uint16_t nLeaderPort, nHelperPort;
    double rBudgetRho;         /* rho per record (per lattice cell), e.g. 1 */
    double rRhoState, rRhoPartition; /* rho per statewide / partition release, e.g. 0.5 */
    /* the servers' stores: NULL for leader.db and helper.db in zDir, else a
     * path or a postgresql:// URL (the node config's "store") */
    const char *zLeaderStore, *zHelperStore;
    /* 0: the flow of docs/registry.md: agencies/<ORI>/<ORI>.key and .pub made "at
     * each agency", registry.json enrolling the public keys (keys/registry.key
     * signs it), a task naming the registry, both configs naming registry.json.
     * 1: the older form: keys/agencies/<ORI>.key made here, listed in the task. */
    int bAgenciesInTask;
} pa_demo_setup_opts;

/* The private key file of agency zId in a deployment, into zOut. */
void pa_demo_agency_key_path(const pa_demo_setup_opts *pOpts, const char *zId, char *zOut, size_t nOut);

/* The store of zRole ("leader" or "helper") in a deployment, into zOut. */
void pa_demo_store_of(const pa_demo_setup_opts *pOpts, const char *zRole, char *zOut, size_t nOut);

/* Keys, the registry (or agency keys in the task), task.json, tls/, leader.json,
 * helper.json in zDir.  Errors name the file. */
int pa_demo_setup(const pa_demo_setup_opts *pOpts);

typedef struct {
    pa_demo_setup_opts setup;
    const char *zExe;          /* the privagg executable to start as servers */
    size_t nMonths;            /* periods ending with the last full month */
    int bKeep;                 /* leave the servers running */
    unsigned nClients;         /* concurrent uploading agencies (16) */
    int bReleaseAll;           /* every month: the statewide batch and every partition */
} pa_demo_opts;

/* Run the demo, printing progress to stderr and the tables to stdout. */
int pa_demo_run(const pa_demo_opts *pOpts);

/* The year summary `privagg demo --release all` prints (aLatency sorted in place). */
int pa_demo_year_summary(const pa_demo_opts *pOpts, const pa_task *pTask, size_t nReleases,
                         double tRelease, double *aLatency);

/* The two server processes of a deployment folder. */
typedef struct {
    int iLeaderPid, iHelperPid;
} pa_demo_servers;

/* Start `zExe serve` for the helper then the leader of zDir (logs in zDir: helper.log, leader.log);
 * returns once both print "listening".  Stop with SIGTERM (graceful). */
int pa_demo_start(pa_demo_servers *pServers, const char *zExe, const char *zDir);
void pa_demo_stop(pa_demo_servers *pServers);
/* One of them: zRole "leader" or "helper". */
int pa_demo_start_role(pa_demo_servers *pServers, const char *zExe, const char *zDir, const char *zRole);
void pa_demo_stop_role(pa_demo_servers *pServers, const char *zRole);

/* A free TCP port on 127.0.0.1 (bound then released). */
uint16_t pa_demo_free_port(void);

#endif

/*
 * A node's private config file (internal to engine/node), see privagg/node.h.
 */
#ifndef PA_NODE_CONFIG_H
#define PA_NODE_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "privagg/keys.h"

typedef struct {
    pa_role eRole;
    char zTask[4096], zKey[4096], zStore[4096];
    char zAddress[64];
    uint16_t nPort;
    bool bInsecureHttp;
    char zTlsCert[4096], zTlsKey[4096];
    char zPeerCa[4096];            /* leader: CA file for the helper ("" = system) */
    char zLogFile[4096];           /* "" = standard error as inherited (the journal) */
    char zRegistry[4096];          /* the agency registry ("": the task lists its agencies) */
    uint8_t aCollectorToken[32];   /* leader: "collector_token" (id 1, no expiry) */
    bool bCollectorToken;
    /* leader: "collector_tokens": [{"id", "token", "not_after"}], the collector's
     * tokens while they rotate (docs/keys.md, "Rotating the tokens") */
    size_t nCollectorTokens;
    pa_old_token aCollectorTokens[PA_KEYS_MAX_OLD];
    int64_t nRetentionDays;        /* retention.reports_days; -1 = keep reports for ever */
    bool bMetricsToken;            /* "metrics_token": GET /metrics needs it */
    uint8_t aMetricsToken[32];
    unsigned nMaxConnections, nMaxPerAddress, nHeaderTimeoutS; /* "limits"; 0 = defaults */
    int64_t nLeaseSeconds;         /* "lease_seconds"; 0 = PA_LEASE_SECONDS_DEFAULT */
    bool bReusePort;               /* "listen.reuse_port": several processes on one port */
} pa_node_config;

/* Parse and check: a private file (O_NOFOLLOW, regular, ours, mode 0600 — it
 * holds a token), and pa_node_config_check_transport.  Errors name file and field. */
int pa_node_config_load(pa_node_config *pCfg, const char *zPath);

/* PA_EINVAL naming zWhere, listen.address and what to do when insecure_http is
 * set and the listen address is not the loopback (127.0.0.0/8, ::1, localhost). */
int pa_node_config_check_transport(const pa_node_config *pCfg, const char *zWhere);

#endif

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
    uint8_t aCollectorToken[32];   /* leader */
} pa_node_config;

/* Parse and check (mode 0600 when it holds a token).  Errors name file and field. */
int pa_node_config_load(pa_node_config *pCfg, const char *zPath);

#endif

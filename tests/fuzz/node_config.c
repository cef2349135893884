/*
 * Fuzz target: an aggregator's private config file (pa_node_config_load: the
 * JSON of `privagg serve --config`, with its bearer tokens, listen address,
 * limits and paths), read from a file of mode 0600 as `serve` reads it.  Seeds:
 * a leader's and a helper's config as `privagg demo --setup-only` writes them.
 */
#include <string.h>

#include "fuzz/fuzz.h"
#include "node/node_config.h"
#include "privagg/common.h"

int LLVMFuzzerTestOneInput(const uint8_t *p, size_t n)
{
    pa_node_config c;
    if (n > (1u << 20) + 16)
        return 0;
    int rc = pa_node_config_load(&c, pa_fuzz_file("node.json", p, n));
    pa_fuzz_check(rc == PA_OK || rc < 0, "node_config: status");
    pa_fuzz_check(rc != PA_OK || (c.eRole == PA_ROLE_LEADER || c.eRole == PA_ROLE_HELPER),
                  "node_config: accepted a role that is not an aggregator's");
    return 0;
}

void pa_fuzz_seeds(const char *zDir)
{
    static const char zLeader[] =
        "{\n  \"role\": \"leader\",\n  \"task\": \"task.json\",\n  \"private_key\": \"keys/leader.key\",\n"
        "  \"store\": \"leader.db\",\n  \"listen\": {\"address\": \"127.0.0.1\", \"port\": 8441},\n"
        "  \"tls\": {\"cert\": \"tls/cert.pem\", \"key\": \"tls/key.pem\"},\n  \"peer_ca\": \"tls/cert.pem\",\n"
        "  \"collector_token\": \"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\",\n"
        "  \"retention\": {\"reports_days\": 400},\n"
        "  \"limits\": {\"max_connections\": 256, \"max_per_address\": 32, \"header_timeout_s\": 10}\n}\n";
    static const char zHelper[] =
        "{\"role\": \"helper\", \"task\": \"task.json\", \"private_key\": \"keys/helper.key\", "
        "\"store\": \"helper.db\", \"listen\": {\"address\": \"::1\", \"port\": 8442}, "
        "\"insecure_http\": true, \"log_file\": \"helper.log\", "
        "\"metrics_token\": \"ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100\"}\n";
    pa_fuzz_put(zDir, "leader", zLeader, sizeof zLeader - 1);
    pa_fuzz_put(zDir, "helper", zHelper, sizeof zHelper - 1);
}

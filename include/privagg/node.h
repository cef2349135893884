/*
 * privagg node — one aggregator as a server: `privagg serve` is this module.
 *
 * A node loads its private config (JSON, mode 0600), the task, its keys and its
 * store, and serves over HTTPS (engine/http):
 *   leader  POST /tasks/{task-id}/reports          an agency's report (201)
 *           POST /tasks/{task-id}/collections      a collection job (collector
 *                                                  bearer token; 201 + Location)
 *           GET  /tasks/{task-id}/collections/{id} 202 while pending, 200 with the
 *                                                  sealed shares when ready
 *   helper  POST /internal/job/init, /internal/job/continue, /internal/collect
 *                                                  (the leader's bearer token)
 *   both    GET /health, GET /metrics
 * The leader runs aggregation jobs and the collection jobs kept in its store in
 * a background thread, retrying transient failures with backoff; a permanent
 * refusal (budget, too few agencies, ...) ends the job and is what the collector
 * is shown.  Each node keeps release noise drawn ahead by a thread of its own.
 * Errors are RFC 9457 problem details from the one status table
 * (pa_status_lookup in privagg/common.h).
 */
#ifndef PRIVAGG_NODE_H
#define PRIVAGG_NODE_H

#include <stddef.h>
#include <stdint.h>

typedef struct pa_node pa_node;

/*
 * Load a node from its config file:
 *   { "role": "leader" | "helper", "task": PATH, "private_key": PATH, "store": PATH,
 *     "listen": {"address": "127.0.0.1", "port": 8441},
 *     "tls": {"cert": PATH, "key": PATH}  or  "insecure_http": true (only with
 *                                             a loopback listen address),
 *     "peer_ca": PATH,                  (leader: trust anchor for the helper's cert)
 *     "collector_token": HEX64,         (leader: the collector's bearer token)
 *     "log_file": PATH,                (optional: standard error goes there,
 *                                        reopened by pa_node_log_file's caller)
 *     "metrics_token": HEX64,           (optional: GET /metrics needs it; without
 *                                        it /metrics answers the loopback only)
 *     "limits": {"max_connections": 512, "max_per_address": 64,
 *                "header_timeout_s": 10} }  (optional, docs/http.md)
 * Relative paths are taken from the config file's folder.  Errors name the file
 * and the field.  The store and its -wal/-shm are refused when others can read
 * them (pa_store_check_private).
 */
int pa_node_open(pa_node **ppNode, const char *zConfigPath);

/*
 * Overrides from the command line, applied before pa_node_start: a role the
 * config must have (NULL: any), the TLS certificate and key (PEM paths), or plain
 * HTTP (loopback tests only: PA_EINVAL unless the listen address is loopback).
 * PA_EINVAL names a conflict.
 */
int pa_node_override(pa_node *pNode, const char *zRole, const char *zTlsCert, const char *zTlsKey,
                     int bInsecureHttp);

/* Serve a task whose dp.mechanism is "none" (tests only: `privagg serve
 * --insecure-no-privacy`).  Without it pa_node_start refuses such a task; with it
 * every answer carries the header "Privagg-Warning: no privacy protection ...". */
void pa_node_allow_no_privacy(pa_node *pNode);

/* Start serving (and, for the leader, the background worker). */
int pa_node_start(pa_node *pNode);

/* The port actually bound (after start). */
uint16_t pa_node_port(const pa_node *pNode);

/* The URL the node listens on (after start), "https://127.0.0.1:8441" or
 * "http://[::1]:8441" (plain HTTP on the loopback): PA_ERANGE if n is short. */
int pa_node_url(const pa_node *pNode, char *zOut, size_t n);

/* The config's log_file, "" when standard error is kept as inherited. */
const char *pa_node_log_file(const pa_node *pNode);

/* The worker id ("host:pid:random") this node's worker writes as the owner of
 * the jobs it leases (several processes may share one store). */
const char *pa_node_worker_id(const pa_node *pNode);

/* Re-read the TLS certificate and key from the paths of the config (or of
 * --tls-cert/--tls-key) while serving: new handshakes get the new pair; in-flight
 * requests and open connections are untouched.  A pair that cannot be read or
 * whose key is not the certificate's is refused and the old one stays
 * (pa_http_server_reload_tls).  PA_EINVAL when the node serves plain HTTP. */
int pa_node_reload_tls(pa_node *pNode);

/* Re-read the agency registry (config key "registry"): the new file's chain is
 * verified, it must be the task's and extend the one held, else it is refused
 * and the old one stays.  *pnEntries: entries now held.  PA_ENOTFOUND when the task
 * lists its agencies. */
int pa_node_reload_registry(pa_node *pNode, size_t *pnEntries);

/* What a leader config's collector_tokens hold after
 * pa_node_config_add_collector_token: the ids, the current one first, each
 * with its expiry (0: none), and how many expired tokens were dropped. */
typedef struct {
    size_t n, nDropped;
    unsigned aId[8];
    int64_t aNotAfter[8];
} pa_collector_token_list;

/*
 * Install the collector's new bearer token (from its token bundle) in a
 * leader's config file (privagg keygen --role leader --config FILE --add-token
 * BUNDLE; docs/keys.md, "Rotating the tokens").  The config is read as the node
 * reads it (a private file: O_NOFOLLOW, ours, mode 0600; every field checked);
 * then the token of id iId becomes the current one, listed first in
 * "collector_tokens" with no expiry; "collector_token" (id 1) is folded into
 * that list; every older token accepted past tOldNotAfter (> 0) is given that
 * expiry (0: they keep theirs); tokens expired at tNow are dropped.  The file
 * is replaced atomically, mode 0600 (pa_keys_replace_json), the other fields
 * kept (members sorted, indented by 2).  Errors: PA_EINVAL a config of another
 * role, PA_EEXISTS the id or the token held already, PA_ERANGE more than
 * PA_KEYS_MAX_OLD tokens would be accepted (give tOldNotAfter or let some
 * expire), PA_EAUTH/PA_EIO/PA_EDECODE the file as pa_node_open, PA_EIO the write.
 */
int pa_node_config_add_collector_token(const char *zPath, unsigned iId, const uint8_t aToken[32],
                                       int64_t tOldNotAfter, int64_t tNow, pa_collector_token_list *pOut);

/* Graceful stop: no new requests, in-flight ones finish, the worker finishes its
 * current step; then everything is closed and freed. */
void pa_node_close(pa_node *pNode);

#endif

/*
 * Plain HTTP only on the loopback (internal to engine/task and engine/node):
 * bearer tokens (the leader's at the helper, the collector's at the leader) and
 * report shares must not cross a network in clear, so an http:// endpoint or an
 * insecure_http listener is accepted only when its host is this machine.
 */
#ifndef PA_TASK_LOOPBACK_H
#define PA_TASK_LOOPBACK_H

#include <stddef.h>

/* 1 if the nHost bytes at zHost (an IP literal without brackets, or a name) are
 * the loopback: "localhost" (any case), 127.0.0.0/8, ::1, or ::ffff:127.x.x.x;
 * else 0.  The unspecified addresses 0.0.0.0 and :: bind every interface: 0. */
int pa_host_is_loopback(const char *zHost, size_t nHost);

/* PA_OK for an "https://" URL, or an "http://" one whose host is the loopback;
 * otherwise PA_EINVAL with a message naming zField, the URL and what to do. */
int pa_endpoint_check(const char *zField, const char *zUrl);

#endif

/*
 * Which hosts count as the loopback, and the endpoint rule built on it (see
 * loopback.h): https:// anywhere, http:// only to 127.0.0.0/8, ::1 or localhost.
 * The host is taken from the URL's authority as RFC 3986 §3.2 splits it
 * (userinfo@host:port, an IPv6 literal in brackets).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "privagg/common.h"
#include "task/loopback.h"

int pa_host_is_loopback(const char *zHost, size_t nHost)
{
    char z[64];
    struct in_addr a4;
    struct in6_addr a6;

    if (nHost == 0 || nHost >= sizeof z)
        return 0;
    memcpy(z, zHost, nHost);
    z[nHost] = '\0';
    if (strcasecmp(z, "localhost") == 0)
        return 1;
    if (inet_pton(AF_INET, z, &a4) == 1)
        return (ntohl(a4.s_addr) >> 24) == 127;
    if (inet_pton(AF_INET6, z, &a6) == 1)
        return IN6_IS_ADDR_LOOPBACK(&a6) || (IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127);
    return 0;
}

int pa_endpoint_check(const char *zField, const char *zUrl)
{
    const char *zAuth, *zEnd, *zHost, *zHostEnd;

    if (strncmp(zUrl, "https://", 8) == 0)
        return PA_OK;
    if (strncmp(zUrl, "http://", 7) != 0)
        return pa_fail(PA_EINVAL, "%s: \"%s\" must start with https:// (http:// only to 127.0.0.1, "
                       "::1 or localhost)", zField, zUrl);
    zAuth = zUrl + 7;
    zEnd = zAuth + strcspn(zAuth, "/?#");
    zHost = zAuth;
    for (const char *p = zAuth; p < zEnd; p++) /* skip any userinfo */
        if (*p == '@')
            zHost = p + 1;
    if (*zHost == '[') {
        zHost++;
        zHostEnd = memchr(zHost, ']', (size_t)(zEnd - zHost));
        if (zHostEnd == NULL)
            zHostEnd = zHost; /* no closing bracket: not a host, refused below */
    } else {
        zHostEnd = memchr(zHost, ':', (size_t)(zEnd - zHost));
        if (zHostEnd == NULL)
            zHostEnd = zEnd;
    }
    if (pa_host_is_loopback(zHost, (size_t)(zHostEnd - zHost)))
        return PA_OK;
    return pa_fail(PA_EINVAL, "%s: \"%s\" is plain HTTP to a host that is not this machine: bearer "
                   "tokens and report shares would cross the network in clear; use https:// "
                   "(http:// is for 127.0.0.1, ::1 or localhost only)", zField, zUrl);
}

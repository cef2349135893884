/*
 * The audit's inputs read from files (see include/privagg/audit.h): a manifest
 * or an exported ledger, whole, bounded in size, NUL-terminated.  The command
 * and the demo read them the same way.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "privagg/audit.h"
#include "privagg/common.h"

#define INPUT_MAX ((long)256 << 20)

int pa_audit_input_read(pa_audit_input *p, const char *zPath)
{
    FILE *f = fopen(zPath, "rb");
    char *zName = NULL, *z = NULL;
    long n = -1;
    int rc = PA_OK;

    memset(p, 0, sizeof *p);
    if (f == NULL)
        return pa_fail(PA_EIO, "%s: %s", zPath, strerror(errno));
    if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0)
        rc = pa_fail(PA_EIO, "%s: cannot read its size (not a regular file?)", zPath);
    else if (n > INPUT_MAX)
        rc = pa_fail(PA_ERANGE, "%s: %ld bytes, above the limit of %ld", zPath, n, INPUT_MAX);
    else if ((z = malloc((size_t)n + 1)) == NULL || (zName = strdup(zPath)) == NULL)
        rc = pa_fail(PA_ENOMEM, "%s: out of memory", zPath);
    else if (fread(z, 1, (size_t)n, f) != (size_t)n)
        rc = pa_fail(PA_EIO, "%s: read error", zPath);
    fclose(f);
    if (rc != PA_OK) {
        free(z);
        free(zName);
        return rc;
    }
    z[n] = '\0';
    p->zName = zName;
    p->zText = z;
    p->nText = (size_t)n;
    return PA_OK;
}

void pa_audit_input_free(pa_audit_input *p)
{
    free((char *)p->zName);
    free((char *)p->zText);
    memset(p, 0, sizeof *p);
}

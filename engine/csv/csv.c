/*
 * RFC 4180 CSV reader (see include/privagg/csv.h).  Fields are unescaped into one
 * arena; rows index into it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "privagg/common.h"
#include "privagg/csv.h"

#define MAX_BYTES ((size_t)64 << 20)
#define MAX_COLUMNS 256

struct pa_csv {
    char *zArena;      /* unescaped fields, each NUL-terminated */
    size_t *aField;    /* offsets into zArena, nCol per row, header first */
    size_t nCol;
    size_t nRow;       /* including the header */
};

void pa_csv_free(pa_csv *pCsv)
{
    if (pCsv == NULL)
        return;
    free(pCsv->zArena);
    free(pCsv->aField);
    free(pCsv);
}

/* Append one field offset, growing the index. */
static int add_field(pa_csv *c, size_t *pnField, size_t *pCap, size_t off)
{
    if (*pnField == *pCap) {
        size_t *aNew = realloc(c->aField, 2 * *pCap * sizeof *aNew);
        if (aNew == NULL)
            return PA_ENOMEM;
        c->aField = aNew;
        *pCap *= 2;
    }
    c->aField[(*pnField)++] = off;
    return PA_OK;
}

/* Close a row of nInRow fields: the header fixes the column count. */
static int end_row(pa_csv *c, size_t nInRow, size_t line, const char *zName)
{
    if (c->nRow == 0) {
        if (nInRow > MAX_COLUMNS)
            return pa_fail(PA_ERANGE, "%s: %zu columns, above the limit %d", zName, nInRow, MAX_COLUMNS);
        c->nCol = nInRow;
    } else if (nInRow != c->nCol) {
        return pa_fail(PA_EDECODE, "%s: line %zu: %zu fields, the header has %zu", zName, line,
                       nInRow, c->nCol);
    }
    c->nRow++;
    return PA_OK;
}

int pa_csv_parse(pa_csv **ppCsv, const char *zText, size_t nText, const char *zName)
{
    pa_csv *c;
    size_t i = 0, nOut = 0, nField = 0, capField = 1024, nInRow = 0, line = 1;
    int rc = PA_OK, bMore = 0; /* bMore: a comma promised one more field */

    *ppCsv = NULL;
    if (nText > MAX_BYTES)
        return pa_fail(PA_ERANGE, "%s: %zu bytes, above the limit %zu", zName, nText, MAX_BYTES);
    c = calloc(1, sizeof *c);
    if (c == NULL)
        return pa_fail(PA_ENOMEM, "%s: out of memory", zName);
    c->zArena = malloc(nText + 2);
    c->aField = malloc(capField * sizeof *c->aField);
    if (c->zArena == NULL || c->aField == NULL) {
        pa_csv_free(c);
        return pa_fail(PA_ENOMEM, "%s: out of memory", zName);
    }
    if (nText >= 3 && memcmp(zText, "\xEF\xBB\xBF", 3) == 0)
        i = 3; /* UTF-8 byte order mark */
    while (rc == PA_OK && (i < nText || bMore)) {
        bMore = 0;
        if (add_field(c, &nField, &capField, nOut) != PA_OK) {
            rc = pa_fail(PA_ENOMEM, "%s: out of memory", zName);
            break;
        }
        nInRow++;
        if (i < nText && zText[i] == '"') {
            for (i++;; i++) {
                if (i >= nText) {
                    rc = pa_fail(PA_EDECODE, "%s: line %zu: unterminated quoted field", zName, line);
                    break;
                }
                if (zText[i] == '"' && i + 1 < nText && zText[i + 1] == '"') {
                    c->zArena[nOut++] = '"';
                    i++;
                } else if (zText[i] == '"') {
                    i++;
                    break;
                } else {
                    line += zText[i] == '\n';
                    c->zArena[nOut++] = zText[i];
                }
            }
        } else {
            while (i < nText && zText[i] != ',' && zText[i] != '\n' && zText[i] != '\r')
                c->zArena[nOut++] = zText[i++];
        }
        c->zArena[nOut++] = '\0';
        if (rc != PA_OK)
            break;
        if (i < nText && zText[i] == ',') {
            i++;
            bMore = 1;
            continue;
        }
        if (i < nText && zText[i] == '\r')
            i++;
        if (i < nText && zText[i] != '\n') {
            rc = pa_fail(PA_EDECODE, "%s: line %zu: text after a closing quote", zName, line);
            break;
        }
        i += i < nText;
        rc = end_row(c, nInRow, line, zName);
        nInRow = 0;
        line++;
    }
    if (rc == PA_OK && c->nRow == 0)
        rc = pa_fail(PA_EDECODE, "%s: no header row", zName);
    if (rc != PA_OK) {
        pa_csv_free(c);
        return rc;
    }
    *ppCsv = c;
    return PA_OK;
}

int pa_csv_load(pa_csv **ppCsv, const char *zPath)
{
    FILE *f = fopen(zPath, "rb");
    struct stat st;
    char *zBuf;
    size_t n;
    int rc;

    *ppCsv = NULL;
    if (f == NULL)
        return pa_fail(PA_EIO, "%s: %s", zPath, strerror(errno));
    /* a folder opens for reading on Linux and reports a size of LONG_MAX */
    if (fstat(fileno(f), &st) != 0) {
        fclose(f);
        return pa_fail(PA_EIO, "%s: %s", zPath, strerror(errno));
    }
    if (S_ISDIR(st.st_mode)) {
        fclose(f);
        return pa_fail(PA_EINVAL, "%s: is a folder; give the path of a CSV file", zPath);
    }
    if (!S_ISREG(st.st_mode)) {
        fclose(f);
        return pa_fail(PA_EINVAL, "%s: not a regular file (a device, pipe or socket); give a CSV file", zPath);
    }
    if ((unsigned long long)st.st_size > MAX_BYTES) {
        fclose(f);
        return pa_fail(PA_ERANGE, "%s: %llu bytes, above the limit %zu", zPath,
                       (unsigned long long)st.st_size, MAX_BYTES);
    }
    n = (size_t)st.st_size;
    zBuf = malloc(n + 1);
    if (zBuf == NULL) {
        fclose(f);
        return pa_fail(PA_ENOMEM, "%s: out of memory", zPath);
    }
    if (fread(zBuf, 1, n, f) != n) {
        fclose(f);
        free(zBuf);
        return pa_fail(PA_EIO, "%s: short read (the file changed while read?)", zPath);
    }
    fclose(f);
    rc = pa_csv_parse(ppCsv, zBuf, n, zPath);
    free(zBuf);
    return rc;
}

size_t pa_csv_row_count(const pa_csv *pCsv)
{
    return pCsv->nRow - 1;
}

int pa_csv_column(const pa_csv *pCsv, const char *zName)
{
    for (size_t j = 0; j < pCsv->nCol; j++)
        if (strcmp(pCsv->zArena + pCsv->aField[j], zName) == 0)
            return (int)j;
    return -1;
}

const char *pa_csv_get(const pa_csv *pCsv, size_t iRow, int iCol)
{
    if (iCol < 0 || (size_t)iCol >= pCsv->nCol || iRow + 1 >= pCsv->nRow)
        return NULL;
    return pCsv->zArena + pCsv->aField[(iRow + 1) * pCsv->nCol + (size_t)iCol];
}

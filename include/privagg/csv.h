/*
 * privagg csv — a small RFC 4180 reader for the public data files in data/
 * (quoted fields, "" escapes, CRLF or LF line ends, a header row).
 * The whole file is read into memory (at most 64 MiB, 256 columns).
 */
#ifndef PRIVAGG_CSV_H
#define PRIVAGG_CSV_H

#include <stddef.h>

typedef struct pa_csv pa_csv;

/* Errors: PA_EIO, PA_EDECODE (unterminated quote, a row whose field count differs
 * from the header's, with the line number), PA_ERANGE (size limits), PA_ENOMEM. */
int pa_csv_load(pa_csv **ppCsv, const char *zPath);
int pa_csv_parse(pa_csv **ppCsv, const char *zText, size_t nText, const char *zName);
void pa_csv_free(pa_csv *pCsv);

size_t pa_csv_row_count(const pa_csv *pCsv);      /* data rows, header excluded */
/* Index of the header column named zName, or -1. */
int pa_csv_column(const pa_csv *pCsv, const char *zName);
/* Field iCol of data row iRow ("" for an empty field); NULL if out of range. */
const char *pa_csv_get(const pa_csv *pCsv, size_t iRow, int iCol);

#endif

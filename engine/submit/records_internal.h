/*
 * Internal to engine/submit: the parsed mapping as the records reader uses it.
 * Lookups are open-addressing tables keyed by the normalised value (trimmed;
 * lower case for mapped values, upper case for offense codes), so a row costs a
 * few hash probes whatever the number of aliases.
 */
#ifndef PA_SUBMIT_RECORDS_INTERNAL_H
#define PA_SUBMIT_RECORDS_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "privagg/submit.h"

#define PA_MAP_SLOTS 1024         /* per table; at most half full */
#define PA_MAP_KEY_MAX 64         /* a longer value matches nothing */
#define PA_MAP_IGNORE (-2)        /* the value is known and the row is left out */

enum { PA_COL_ID = 0, PA_COL_OFFENSE, PA_COL_ROLE, PA_COL_STATUS, PA_COL_DATE, PA_COL_COUNT };

enum { PA_DATE_ISO = 0, PA_DATE_US, PA_DATE_COMPACT };

typedef struct {
    char zKey[PA_MAP_KEY_MAX];    /* may be "" (an empty field is a value too) */
    unsigned char bUsed;
    int iValue;                   /* category index, or PA_MAP_IGNORE / -1 excluded */
    unsigned char bNoVictim;      /* offense table: no person victims in NIBRS */
} pa_map_slot;

typedef struct {
    pa_map_slot aSlot[PA_MAP_SLOTS];
    size_t nKey;
    char zValid[480];             /* the accepted values, for messages */
} pa_map_table;

struct pa_records_mapping {
    char azColumn[PA_COL_COUNT][128];
    int eDateFormat;
    size_t iDimOffense, iDimStatus, iDimRole;
    size_t nStrideOffense, nStrideStatus, nStrideRole;  /* cell = sum of index * stride */
    int iVictimRole;              /* role category named "victim", -1 if none */
    pa_map_table offense, status, role;
    char zOffenseTable[256];      /* the table's path, for messages */
};

/* Normalise z[0..n) into zOut (trimmed, case folded by bUpper); 0, or -1 if too long. */
int pa_map_key(char *zOut, const char *z, size_t n, int bUpper);
/* The slot of a normalised key, or NULL. */
const pa_map_slot *pa_map_find(const pa_map_table *t, const char *zKey);

#endif

/*
 * The mapping from an incident export to the task's cells (see
 * include/privagg/submit.h and docs/submit.md): which columns hold the incident
 * id, the NIBRS offense code, the person's role and immigration status and the
 * incident date; which values mean which status and role category; and the NIBRS
 * code table that puts each offense code in an offense bucket.  Everything is
 * checked against the task here, once, so the reader's per-row work is a few
 * table probes.
 */
#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/guard.h"
#include "privagg/common.h"
#include "privagg/csv.h"
#include "submit/records_internal.h"
#include "json/json_load.h"

static const char g_zDefault[] =
    "{\n"
    "  \"format\": 1,\n"
    "  \"columns\": {\n"
    "    \"incident_id\": \"incident_id\",\n"
    "    \"offense_code\": \"offense_code\",\n"
    "    \"role\": \"role\",\n"
    "    \"status\": \"immigration_status\",\n"
    "    \"incident_date\": \"incident_date\"\n"
    "  },\n"
    "  \"date_format\": \"YYYY-MM-DD\",\n"
    "  \"offense_categories\": \"bucket\",\n"
    "  \"status\": {\n"
    "    \"U.S. citizen\": [\"citizen\", \"US citizen\", \"USC\", \"C\"],\n"
    "    \"lawful permanent resident\": [\"LPR\", \"permanent resident\", \"green card\", \"P\"],\n"
    "    \"other lawful status\": [\"other lawful\", \"lawful\", \"visa holder\", \"L\"],\n"
    "    \"no lawful status\": [\"undocumented\", \"unlawful\", \"no status\", \"N\"],\n"
    "    \"unknown\": [\"\", \"U\", \"not recorded\", \"not known\"]\n"
    "  },\n"
    "  \"role\": {\n"
    "    \"offender/arrestee\": [\"offender\", \"arrestee\", \"suspect\", \"O\", \"A\"],\n"
    "    \"victim\": [\"V\"]\n"
    "  },\n"
    "  \"ignore\": {\n"
    "    \"role\": [\"witness\", \"complainant\", \"reporting party\", \"W\"]\n"
    "  }\n"
    "}\n";

const char *pa_records_default_mapping(void)
{
    return g_zDefault;
}

void pa_records_mapping_free(pa_records_mapping *m)
{
    free(m);
}

int pa_map_key(char *zOut, const char *z, size_t n, int bUpper)
{
    while (n > 0 && (*z == ' ' || *z == '\t'))
        z++, n--;
    while (n > 0 && (z[n - 1] == ' ' || z[n - 1] == '\t'))
        n--;
    if (n >= PA_MAP_KEY_MAX)
        return -1;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)z[i];
        zOut[i] = (char)(bUpper ? toupper(c) : tolower(c));
    }
    zOut[n] = '\0';
    return 0;
}

static size_t slot_hash(const char *z)
{
    uint64_t h = 14695981039346656037ULL;
    for (; *z; z++)
        h = (h ^ (unsigned char)*z) * 1099511628211ULL;
    return (size_t)(h ^ (h >> 29)) & (PA_MAP_SLOTS - 1);
}

const pa_map_slot *pa_map_find(const pa_map_table *t, const char *zKey)
{
    for (size_t i = slot_hash(zKey);; i = (i + 1) & (PA_MAP_SLOTS - 1)) {
        const pa_map_slot *s = &t->aSlot[i];
        if (!s->bUsed)
            return NULL;
        if (strcmp(s->zKey, zKey) == 0)
            return s;
    }
}

static int table_add(pa_map_table *t, const char *zWhere, const char *zValue, int iValue, int bNoVictim,
                     int bUpper, const char *zShown)
{
    char zKey[PA_MAP_KEY_MAX];
    pa_map_slot *s;

    if (pa_map_key(zKey, zValue, strlen(zValue), bUpper) != 0)
        return pa_fail(PA_EINVAL, "%s: \"%.40s...\" is longer than %d characters", zWhere, zValue,
                       PA_MAP_KEY_MAX - 1);
    if (t->nKey >= PA_MAP_SLOTS / 2)
        return pa_fail(PA_ERANGE, "%s: more than %d values", zWhere, PA_MAP_SLOTS / 2);
    for (size_t i = slot_hash(zKey);; i = (i + 1) & (PA_MAP_SLOTS - 1)) {
        s = &t->aSlot[i];
        if (!s->bUsed)
            break;
        if (strcmp(s->zKey, zKey) == 0) {
            if (s->iValue == iValue)
                return PA_OK; /* the same value twice: harmless */
            return pa_fail(PA_EINVAL, "%s: \"%s\" is already mapped to another category "
                                      "(values match case-insensitively)", zWhere, zValue);
        }
    }
    memcpy(s->zKey, zKey, strlen(zKey) + 1);
    s->iValue = iValue;
    s->bNoVictim = (unsigned char)bNoVictim;
    s->bUsed = 1;
    t->nKey++;
    if (zShown != NULL) {
        size_t n = strlen(t->zValid);
        if (n + strlen(zShown) + 8 < sizeof t->zValid)
            snprintf(t->zValid + n, sizeof t->zValid - n, "%s\"%s\"", n ? ", " : "", zShown);
        else if (n + 6 < sizeof t->zValid && strstr(t->zValid, ", ...") == NULL)
            snprintf(t->zValid + n, sizeof t->zValid - n, ", ...");
    }
    return PA_OK;
}

/* The index of zName among the dimension's categories (case-insensitive), or -1. */
static int category(const pa_task_dimension *d, const char *zName)
{
    for (size_t j = 0; j < d->nCategory; j++)
        if (strcasecmp(d->azCategory[j], zName) == 0)
            return (int)j;
    return -1;
}

static void category_list(char *z, size_t n, const pa_task_dimension *d)
{
    size_t k = 0;
    z[0] = '\0';
    for (size_t j = 0; j < d->nCategory && k + 4 < n; j++)
        k += (size_t)snprintf(z + k, n - k, "%s\"%s\"", j ? ", " : "", d->azCategory[j]);
}

static int dimension(const pa_task *t, const char *zName, size_t *piDim)
{
    for (size_t d = 0; d < t->nDimension; d++)
        if (strcmp(t->aDimension[d].zName, zName) == 0) {
            *piDim = d;
            return PA_OK;
        }
    return pa_fail(PA_EINVAL, "task: no dimension \"%s\"; --records needs the dimensions offense, "
                              "status and role (use --counts for other schemas)", zName);
}

/* "status" or "role": {category: [values]}; each category name is a value too. */
static int value_table(pa_map_table *pTab, const json_t *pRoot, const char *zKey, const pa_task_dimension *d)
{
    json_t *pObj = json_object_get(pRoot, zKey), *pIgn = json_object_get(json_object_get(pRoot, "ignore"), zKey);
    const char *zCat;
    json_t *pVals;
    char zWhere[256], zCats[1024];

    if (pObj == NULL || !json_is_object(pObj))
        return pa_fail(PA_EDECODE, "mapping.%s: an object {category: [values]} is required", zKey);
    category_list(zCats, sizeof zCats, d);
    json_object_foreach(pObj, zCat, pVals) {
        int iCat = category(d, zCat);
        if (iCat < 0)
            return pa_fail(PA_EINVAL, "mapping.%s: \"%s\" is not a %s category of the task; they are %s",
                           zKey, zCat, zKey, zCats);
        if (!json_is_array(pVals))
            return pa_fail(PA_EDECODE, "mapping.%s.%s: an array of strings is required", zKey, zCat);
        snprintf(zWhere, sizeof zWhere, "mapping.%s.%s", zKey, zCat);
        PA_GUARD(table_add(pTab, zWhere, d->azCategory[iCat], iCat, 0, 0, d->azCategory[iCat]));
        size_t i;
        json_t *pV;
        json_array_foreach(pVals, i, pV) {
            if (!json_is_string(pV))
                return pa_fail(PA_EDECODE, "%s[%zu]: a string is required", zWhere, i);
            PA_GUARD(table_add(pTab, zWhere, json_string_value(pV), iCat, 0, 0, json_string_value(pV)));
        }
    }
    /* categories the mapping leaves out still match by their own name */
    for (size_t j = 0; j < d->nCategory; j++) {
        snprintf(zWhere, sizeof zWhere, "task.%s", zKey);
        PA_GUARD(table_add(pTab, zWhere, d->azCategory[j], (int)j, 0, 0, NULL));
    }
    if (pIgn != NULL) {
        size_t i;
        json_t *pV;
        if (!json_is_array(pIgn))
            return pa_fail(PA_EDECODE, "mapping.ignore.%s: an array of strings is required", zKey);
        snprintf(zWhere, sizeof zWhere, "mapping.ignore.%s", zKey);
        json_array_foreach(pIgn, i, pV) {
            char zShown[80];
            if (!json_is_string(pV))
                return pa_fail(PA_EDECODE, "%s[%zu]: a string is required", zWhere, i);
            snprintf(zShown, sizeof zShown, "%s (left out)", json_string_value(pV));
            PA_GUARD(table_add(pTab, zWhere, json_string_value(pV), PA_MAP_IGNORE, 0, 0, zShown));
        }
    }
    return PA_OK;
}

static int columns(pa_records_mapping *m, const json_t *pRoot)
{
    static const char *const azKey[PA_COL_COUNT] = {"incident_id", "offense_code", "role", "status",
                                                    "incident_date"};
    json_t *pCols = json_object_get(pRoot, "columns");
    const char *zKey;
    json_t *pV;

    if (pCols == NULL || !json_is_object(pCols))
        return pa_fail(PA_EDECODE, "mapping.columns: an object naming the export's columns is required");
    json_object_foreach(pCols, zKey, pV) {
        int k;
        for (k = 0; k < PA_COL_COUNT; k++)
            if (strcmp(zKey, azKey[k]) == 0)
                break;
        if (k == PA_COL_COUNT)
            return pa_fail(PA_EDECODE, "mapping.columns.%s: unknown key; the keys are incident_id, "
                                       "offense_code, role, status, incident_date", zKey);
        if (!json_is_string(pV) || json_string_length(pV) == 0 ||
            json_string_length(pV) >= sizeof m->azColumn[k])
            return pa_fail(PA_EDECODE, "mapping.columns.%s: a column name (1..127 characters) is required",
                           zKey);
        snprintf(m->azColumn[k], sizeof m->azColumn[k], "%s", json_string_value(pV));
    }
    for (int k = 0; k < PA_COL_COUNT; k++)
        if (m->azColumn[k][0] == '\0')
            return pa_fail(PA_EDECODE, "mapping.columns.%s: missing", azKey[k]);
    return PA_OK;
}

/* The NIBRS code table: code -> offense category, bucket 0 excluded, and which
 * offenses have no person victims (Group B: arrest only; crimes against society:
 * the victim is society). */
static int offense_table(pa_records_mapping *m, const pa_task *t, const char *zPath, const char *zCatColumn)
{
    const pa_task_dimension *d = &t->aDimension[m->iDimOffense];
    char zIdCol[80], zCats[2048];
    pa_csv *c;
    int iCode, iCat, iId, iGroup, iAgainst, rc = PA_OK;

    snprintf(m->zOffenseTable, sizeof m->zOffenseTable, "%s", zPath);
    snprintf(zIdCol, sizeof zIdCol, "%s_id", zCatColumn);
    PA_GUARD(pa_csv_load(&c, zPath));
    iCode = pa_csv_column(c, "nibrs_code");
    iCat = pa_csv_column(c, zCatColumn);
    iId = pa_csv_column(c, zIdCol);
    iGroup = pa_csv_column(c, "group");
    iAgainst = pa_csv_column(c, "crime_against");
    if (iCode < 0 || iCat < 0 || iId < 0 || iGroup < 0 || iAgainst < 0) {
        pa_csv_free(c);
        return pa_fail(PA_EDECODE, "%s: columns nibrs_code, %s, %s, group and crime_against are required",
                       zPath, zCatColumn, zIdCol);
    }
    category_list(zCats, sizeof zCats, d);
    for (size_t r = 0; rc == PA_OK && r < pa_csv_row_count(c); r++) {
        char zWhere[300];
        const char *zCode = pa_csv_get(c, r, iCode);
        int bExcluded = strcmp(pa_csv_get(c, r, iId), "0") == 0;
        int bNoVictim = strcmp(pa_csv_get(c, r, iGroup), "B") == 0 ||
                        strcasecmp(pa_csv_get(c, r, iAgainst), "Society") == 0;
        int iOff = bExcluded ? -1 : category(d, pa_csv_get(c, r, iCat));

        snprintf(zWhere, sizeof zWhere, "%s: line %zu", zPath, r + 2);
        if (!bExcluded && iOff < 0)
            rc = pa_fail(PA_EINVAL, "%s: %s \"%s\" of code %s is not an offense category of the task; "
                                    "they are %s", zWhere, zCatColumn, pa_csv_get(c, r, iCat), zCode, zCats);
        else if (zCode[0] == '\0')
            rc = pa_fail(PA_EDECODE, "%s: empty nibrs_code", zWhere);
        else
            rc = table_add(&m->offense, zWhere, zCode, iOff, bNoVictim, 1, zCode);
    }
    pa_csv_free(c);
    return rc;
}

int pa_records_mapping_parse(pa_records_mapping **ppMap, const pa_task *t, const char *zJson, size_t nJson,
                             const char *zOffenseCsv)
{
    static const char *const azTop[] = {"format",  "columns", "date_format", "offense_categories",
                                        "status",  "role",    "ignore",      NULL};
    pa_records_mapping *m;
    json_t *pRoot, *pV;
    json_error_t err;
    const char *zKey, *zCatCol = "bucket";
    int rc = PA_OK;

    *ppMap = NULL;
    if (zJson == NULL) {
        zJson = g_zDefault;
        nJson = strlen(g_zDefault);
    }
    if (t->eVdaf != PA_VDAF_SUMVEC)
        return pa_fail(PA_EINVAL, "task: vdaf %s; --records needs Prio3SumVec (one count per cell)",
                       pa_vdaf_type_name(t->eVdaf));
    pRoot = pa_json_loadb(zJson, nJson, JSON_REJECT_DUPLICATES, &err);
    if (pRoot == NULL || !json_is_object(pRoot)) {
        json_decref(pRoot);
        return pa_fail(pRoot == NULL ? pa_json_load_status(&err) : PA_EDECODE,
                       "mapping: not a JSON object (line %d: %s)", err.line, err.text);
    }
    m = calloc(1, sizeof *m);
    if (m == NULL) {
        json_decref(pRoot);
        return pa_fail(PA_ENOMEM, "mapping: out of memory");
    }
    json_object_foreach(pRoot, zKey, pV) {
        size_t i;
        for (i = 0; azTop[i] != NULL; i++)
            if (strcmp(zKey, azTop[i]) == 0)
                break;
        if (azTop[i] == NULL && rc == PA_OK)
            rc = pa_fail(PA_EDECODE, "mapping.%s: unknown key (see privagg submit --print-mapping)", zKey);
    }
    pV = json_object_get(pRoot, "format");
    if (rc == PA_OK && (!json_is_integer(pV) || json_integer_value(pV) != 1))
        rc = pa_fail(PA_EDECODE, "mapping.format: 1 is required");
    if (rc == PA_OK)
        rc = columns(m, pRoot);
    pV = json_object_get(pRoot, "date_format");
    if (rc == PA_OK && pV != NULL) {
        const char *z = json_is_string(pV) ? json_string_value(pV) : "";
        if (strcmp(z, "YYYY-MM-DD") == 0)
            m->eDateFormat = PA_DATE_ISO;
        else if (strcmp(z, "MM/DD/YYYY") == 0)
            m->eDateFormat = PA_DATE_US;
        else if (strcmp(z, "YYYYMMDD") == 0)
            m->eDateFormat = PA_DATE_COMPACT;
        else
            rc = pa_fail(PA_EINVAL, "mapping.date_format: \"%s\"; use YYYY-MM-DD, MM/DD/YYYY or YYYYMMDD", z);
    }
    pV = json_object_get(pRoot, "offense_categories");
    if (rc == PA_OK && pV != NULL) {
        zCatCol = json_is_string(pV) ? json_string_value(pV) : "";
        if (strcmp(zCatCol, "bucket") != 0 && strcmp(zCatCol, "county_bucket") != 0)
            rc = pa_fail(PA_EINVAL, "mapping.offense_categories: \"%s\"; use bucket or county_bucket", zCatCol);
    }
    if (rc == PA_OK)
        rc = dimension(t, "offense", &m->iDimOffense);
    if (rc == PA_OK)
        rc = dimension(t, "status", &m->iDimStatus);
    if (rc == PA_OK)
        rc = dimension(t, "role", &m->iDimRole);
    if (rc == PA_OK && t->nDimension != 3)
        rc = pa_fail(PA_EINVAL, "task: %zu dimensions; --records needs exactly offense, status and role",
                     t->nDimension);
    if (rc == PA_OK) {
        size_t nStride = 1;
        for (size_t d = t->nDimension; d-- > 0;) {
            if (d == m->iDimOffense)
                m->nStrideOffense = nStride;
            else if (d == m->iDimStatus)
                m->nStrideStatus = nStride;
            else
                m->nStrideRole = nStride;
            nStride *= t->aDimension[d].nCategory;
        }
        m->iVictimRole = category(&t->aDimension[m->iDimRole], "victim");
        rc = value_table(&m->status, pRoot, "status", &t->aDimension[m->iDimStatus]);
    }
    if (rc == PA_OK)
        rc = value_table(&m->role, pRoot, "role", &t->aDimension[m->iDimRole]);
    pV = json_object_get(pRoot, "ignore");
    if (rc == PA_OK && pV != NULL && !json_is_object(pV))
        rc = pa_fail(PA_EDECODE, "mapping.ignore: an object {\"role\": [values]} is required");
    if (rc == PA_OK && pV != NULL) {
        json_t *pIgn;
        json_object_foreach(pV, zKey, pIgn) {
            if (strcmp(zKey, "role") != 0) {
                rc = pa_fail(PA_EDECODE, "mapping.ignore.%s: unknown key; only role values can be left "
                                         "out (every person counted has a status: map unknowns to "
                                         "\"unknown\")", zKey);
                break;
            }
        }
    }
    if (rc == PA_OK)
        rc = offense_table(m, t, zOffenseCsv, zCatCol);
    json_decref(pRoot);
    if (rc != PA_OK) {
        free(m);
        return rc;
    }
    *ppMap = m;
    return PA_OK;
}

int pa_records_mapping_load(pa_records_mapping **ppMap, const pa_task *t, const char *zPath,
                            const char *zOffenseCsv)
{
    FILE *f;
    char *z;
    long n;
    int rc;

    if (zPath == NULL)
        return pa_records_mapping_parse(ppMap, t, NULL, 0, zOffenseCsv);
    f = fopen(zPath, "rb");
    if (f == NULL)
        return pa_fail(PA_EIO, "mapping: cannot open %s", zPath);
    if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || n > (1L << 20) || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return pa_fail(PA_EIO, "mapping: %s is unreadable or above 1 MiB", zPath);
    }
    z = malloc((size_t)n + 1);
    if (z == NULL || fread(z, 1, (size_t)n, f) != (size_t)n) {
        free(z);
        fclose(f);
        return pa_fail(PA_EIO, "mapping: cannot read %s", zPath);
    }
    fclose(f);
    rc = pa_records_mapping_parse(ppMap, t, z, (size_t)n, zOffenseCsv);
    free(z);
    if (rc != PA_OK) {
        char zMsg[1024];
        snprintf(zMsg, sizeof zMsg, "%s", pa_error_detail());
        return pa_fail(rc, "%s: %s", zPath, zMsg);
    }
    return PA_OK;
}

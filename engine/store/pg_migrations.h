/*
 * The PostgreSQL store's ordered schema migrations (internal to engine/store).
 */
#ifndef PA_STORE_PG_MIGRATIONS_H
#define PA_STORE_PG_MIGRATIONS_H

#include <stddef.h>

/* Number of migrations = the newest schema version (the SQLite one's). */
size_t pa_pg_migration_count(void);

/* SQL of the migration that produces version iVersion (1-based), or NULL. */
const char *pa_pg_migration(size_t iVersion);

#endif

// Errors of the file outputs (database, report, export directory) that are the user's to fix:
// the command prints one line and exits with status 2. Kept apart from the modules that raise
// them so a command can recognise them without loading DuckDB or ECharts.

/** A database that cannot be used (corrupt, another program's, newer schema, locked). */
export class DatabaseError extends Error {}

/** An output path that cannot be written. */
export class OutputPathError extends Error {}

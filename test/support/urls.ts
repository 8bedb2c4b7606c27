/** The same server, another database: tests make one database per file beside the one CI names. */
export function databaseUrlFor(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

/** Connect to the server's `postgres` database to create and drop others. */
export function adminUrlFor(url: string): string {
  return databaseUrlFor(url, 'postgres');
}

import type { Knex } from 'knex';

/**
 * Runs a script of SQL statements one at a time. PGlite's extended protocol takes a single statement
 * per query, and knex.raw would read a `?` as a binding, so scripts are split here (on `;` outside
 * `$$` bodies and comments) and each statement is sent with `?` escaped.
 */
export async function runSql(knex: Knex, script: string): Promise<void> {
  for (const statement of splitStatements(script)) {
    await knex.raw(statement.replaceAll('?', '\\?'));
  }
}

export function splitStatements(script: string): string[] {
  const statements: string[] = [];
  let current = '';
  let inDollarQuote = false;
  for (let i = 0; i < script.length; i += 1) {
    if (script.startsWith('$$', i)) {
      inDollarQuote = !inDollarQuote;
      current += '$$';
      i += 1;
      continue;
    }
    if (!inDollarQuote && script.startsWith('--', i)) {
      // A comment runs to the end of its line and may itself contain a semicolon.
      const end = script.indexOf('\n', i);
      i = end === -1 ? script.length : end;
      current += '\n';
      continue;
    }
    const char = script[i];
    if (char === ';' && !inDollarQuote) {
      if (current.trim() !== '') statements.push(current.trim());
      current = '';
      continue;
    }
    current += char;
  }
  if (current.trim() !== '') statements.push(current.trim());
  return statements;
}

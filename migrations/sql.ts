import type { Knex } from 'knex';

/**
 * Runs a script of SQL statements one at a time. PGlite's extended protocol takes a single statement
 * per query, and knex.raw would read a `?` as a binding, so scripts are split here and each statement is
 * sent with `?` escaped.
 */
export async function runSql(knex: Knex, script: string): Promise<void> {
  for (const statement of splitStatements(script)) {
    await knex.raw(statement.replaceAll('?', '\\?'));
  }
}

/**
 * Splits a script on the `;` that end statements, reading it as Postgres' lexer does: a `;` inside a
 * '...' string (with '' escapes), an E'...' string (with backslash escapes), a "..." identifier, a
 * $tag$...$tag$ dollar-quoted body, a -- line comment or a (nested) /* block comment *\/ ends nothing.
 * Statements keep their text as written, comments included; a part holding only comments and blanks is
 * no statement. An unterminated quote or comment is an error here rather than a confusing one from the
 * server.
 */
export function splitStatements(script: string): string[] {
  const statements: string[] = [];
  let start = 0;
  let hasCode = false;
  let i = 0;
  const end = (at: number) => {
    const statement = script.slice(start, at).trim();
    if (hasCode && statement !== '') statements.push(statement);
    start = at + 1;
    hasCode = false;
  };
  const unterminated = (what: string, at: number): never => {
    const line = script.slice(0, at).split('\n').length;
    throw new Error(`unterminated ${what} starting on line ${line} of the SQL script`);
  };

  while (i < script.length) {
    const char = script[i];
    const next = script[i + 1];
    if (char === '-' && next === '-') {
      const newline = script.indexOf('\n', i);
      i = newline === -1 ? script.length : newline + 1;
      continue;
    }
    if (char === '/' && next === '*') {
      let depth = 1;
      let j = i + 2;
      while (depth > 0) {
        if (j >= script.length) unterminated('block comment', i);
        if (script.startsWith('/*', j)) {
          depth += 1;
          j += 2;
        } else if (script.startsWith('*/', j)) {
          depth -= 1;
          j += 2;
        } else {
          j += 1;
        }
      }
      i = j;
      continue;
    }
    if (char === ';') {
      end(i);
      i += 1;
      continue;
    }
    if (char !== undefined && !/\s/.test(char)) hasCode = true;

    if (char === "'") {
      // E'...' (and e'...') take backslash escapes; a plain string does not (standard_conforming_strings).
      const escapes = i > 0 && /[eE]/.test(script[i - 1] ?? '') && !/[\w$]/.test(script[i - 2] ?? '');
      i = skipQuoted(script, i, "'", escapes) ?? unterminated('string literal', i);
      continue;
    }
    if (char === '"') {
      i = skipQuoted(script, i, '"', false) ?? unterminated('quoted identifier', i);
      continue;
    }
    if (char === '$') {
      // A dollar quote opens with $$ or $tag$ (tag: an identifier without $), but not inside a word
      // (`a$b`) and not as a positional parameter ($1).
      const tag = /^\$([A-Za-z_\u0080-\uffff][\w\u0080-\uffff]*)?\$/.exec(script.slice(i, i + 65))?.[0];
      if (tag !== undefined && !/[\w$]/.test(script[i - 1] ?? '')) {
        const close = script.indexOf(tag, i + tag.length);
        if (close === -1) unterminated(`dollar-quoted body ${tag}`, i);
        i = close + tag.length;
        continue;
      }
    }
    i += 1;
  }
  end(script.length);
  return statements;
}

/** The index just past the quote that closes the one at `open`, or undefined when none does. */
function skipQuoted(script: string, open: number, quote: string, backslashEscapes: boolean): number | undefined {
  let j = open + 1;
  while (j < script.length) {
    const char = script[j];
    if (backslashEscapes && char === '\\') {
      j += 2;
      continue;
    }
    if (char === quote) {
      // A doubled quote is the quote itself, inside the literal.
      if (script[j + 1] === quote) {
        j += 2;
        continue;
      }
      return j + 1;
    }
    j += 1;
  }
  return undefined;
}

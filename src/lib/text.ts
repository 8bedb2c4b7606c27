/**
 * What text the service accepts. Postgres refuses a NUL in text (SQLSTATE 22021) and Node writes a lone
 * surrogate to it as U+FFFD, so neither may reach the database; the other control characters are
 * refused too, being never meant in a name, a note or a search and invisible where they are shown.
 *
 * Every string of a request's path, query and body is checked (src/http/route.ts), with one rule for
 * all: no C0 control (U+0000–U+001F) and no DEL, but tab, line feed and carriage return in the fields
 * that hold free, possibly multi-line text (MULTILINE_FIELDS), and no unpaired surrogate. A new field
 * is single-line unless it is named here, so forgetting it refuses too much rather than too little.
 */

/** Body fields written as free text, where a line break (and a tab) is a fair part of what is typed. */
export const MULTILINE_FIELDS: ReadonlySet<string> = new Set(['notes', 'note', 'description', 'reason']);

// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is what these are for
const CONTROL_EXCEPT_LINE_BREAKS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is what these are for
const CONTROL = /[\u0000-\u001F\u007F]/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Why `value` is not acceptable text, or undefined when it is. */
export function textProblem(value: string, multiline: boolean): string | undefined {
  if (LONE_SURROGATE.test(value)) return 'must be valid Unicode (it holds an unpaired surrogate)';
  if (multiline ? CONTROL_EXCEPT_LINE_BREAKS.test(value) : CONTROL.test(value)) {
    return multiline
      ? 'must not contain control characters (such as NUL) other than tab and line breaks'
      : 'must not contain control characters (such as NUL, tab or a line break)';
  }
  return undefined;
}

export interface TextIssue {
  /** Dotted path of the offending string, as zod reports paths (`items.0.name`). */
  path: string;
  message: string;
}

/**
 * Every string in a parsed JSON value, query or path (keys included) that breaks the rules above.
 * Iterative, so a deeply nested body cannot overflow the stack.
 */
export function findTextIssues(value: unknown, options: { multilineFields: boolean }): TextIssue[] {
  // Each entry links to its parent instead of copying the path: a body nested thousands deep (80 kB is
  // enough for 40 000 levels) would otherwise cost depth² copies and hold the event loop for seconds.
  interface Entry {
    value: unknown;
    parent: Entry | undefined;
    segment: string;
    key: string | undefined;
  }
  const pathOf = (entry: Entry): string => {
    const segments: string[] = [];
    for (let at: Entry | undefined = entry; at?.parent !== undefined; at = at.parent) segments.push(at.segment);
    return segments.reverse().join('.');
  };
  const issues: TextIssue[] = [];
  const pending: Entry[] = [{ value, parent: undefined, segment: '', key: undefined }];
  while (pending.length > 0 && issues.length < 20) {
    const entry = pending.pop() as Entry;
    const current = entry.value;
    if (typeof current === 'string') {
      const problem = textProblem(current, options.multilineFields && entry.key !== undefined && MULTILINE_FIELDS.has(entry.key));
      if (problem !== undefined) issues.push({ path: pathOf(entry), message: problem });
    } else if (Array.isArray(current)) {
      for (const [i, item] of current.entries()) pending.push({ value: item, parent: entry, segment: String(i), key: entry.key });
    } else if (typeof current === 'object' && current !== null) {
      for (const [name, item] of Object.entries(current)) {
        const keyProblem = textProblem(name, false);
        if (keyProblem !== undefined) issues.push({ path: pathOf(entry), message: `has a field name that ${keyProblem}` });
        else pending.push({ value: item, parent: entry, segment: name, key: name });
      }
    }
  }
  return issues;
}

/**
 * Text from elsewhere (the user pool's attributes) made storable: control characters removed, unpaired
 * surrogates replaced by U+FFFD, surrounding blanks trimmed.
 */
export function cleanText(value: string): string {
  return value.replace(new RegExp(CONTROL.source, 'g'), '').replace(new RegExp(LONE_SURROGATE.source, 'g'), '\uFFFD').trim();
}

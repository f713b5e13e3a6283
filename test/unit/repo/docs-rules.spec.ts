/**
 * The rules tables of docs/errors.md come from the code: the validation rules table is generated from the catalogue
 * in lib/core/rules.ts (run `npm run docs:rules` after changing a rule or a limit), and the webhook refusal table
 * must name exactly the reasons the core can refuse with.
 */
import { describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PUSHER_WEBHOOK_FAILURES } from '../../../lib/core/pusher.errors.js';
import { VALIDATION_RULES, type ValidationRuleEntry } from '../../../lib/core/rules.js';

const DOC = new URL('../../../docs/errors.md', import.meta.url);
const START = '<!-- validation-rules:start (generated from lib/core/rules.ts by npm run docs:rules) -->';
const END = '<!-- validation-rules:end -->';

function cell(text: string): string {
  return text.replaceAll('|', '\\|');
}

function renderValidationRulesTable(): string {
  const rows = Object.entries(VALIDATION_RULES).map(([rule, entry]: [string, ValidationRuleEntry]) => {
    const limit =
      entry.limit === undefined ? '' : typeof entry.limit === 'number' ? String(entry.limit) : '`' + entry.limit + '`';
    return `| \`${rule}\` | ${cell(entry.when)} |${limit === '' ? '' : ` ${cell(limit)} `}|`;
  });
  return ['| rule | when | `limit` |', '|---|---|---|', ...rows].join('\n');
}

function section(doc: string, heading: string): string {
  const start = doc.indexOf(heading);
  expect(start).toBeGreaterThanOrEqual(0);
  const next = doc.indexOf('\n## ', start + heading.length);
  return doc.slice(start, next === -1 ? undefined : next);
}

/** The source of lib/, without the catalogue itself (rules.ts after the catalogue maps user-id rules to their checks). */
function librarySource(): string {
  const lib = fileURLToPath(new URL('../../../lib/', import.meta.url));
  const files = (dir: string): string[] =>
    readdirSync(dir).flatMap((name) => {
      const path = join(dir, name);
      return statSync(path).isDirectory() ? files(path) : path.endsWith('.ts') ? [path] : [];
    });
  return files(lib)
    .map((path) => {
      const text = readFileSync(path, 'utf8');
      return path.endsWith(join('core', 'rules.ts')) ? text.slice(text.indexOf('} as const satisfies')) : text;
    })
    .join('\n');
}

describe('the rule catalogue', () => {
  it('has no rule that no code throws (the type catches the other way round)', () => {
    const source = librarySource();
    const unused = Object.keys(VALIDATION_RULES).filter((rule) => !source.includes(`'${rule}'`));
    expect(unused).toEqual([]);
  });
});

describe('docs/errors.md', () => {
  it('holds the validation rules table generated from the catalogue', () => {
    const doc = readFileSync(DOC, 'utf8');
    const start = doc.indexOf(START);
    const end = doc.indexOf(END);
    expect(start).toBeGreaterThanOrEqual(0);
    expect(end).toBeGreaterThan(start);
    const expected = `${START}\n${renderValidationRulesTable()}\n${END}`;
    if (process.env['UPDATE_DOCS'] === '1') {
      writeFileSync(DOC, doc.slice(0, start) + expected + doc.slice(end + END.length));
      return;
    }
    expect(doc.slice(start, end + END.length)).toBe(expected);
  });

  it('names exactly the webhook refusal reasons the core refuses with', () => {
    const table = section(readFileSync(DOC, 'utf8'), '## Webhook refusals');
    const documented = [...table.matchAll(/^\| `([a-z-]+)` \|/gm)].map((match) => match[1]);
    expect([...documented].sort()).toEqual([...PUSHER_WEBHOOK_FAILURES].sort());
  });
});

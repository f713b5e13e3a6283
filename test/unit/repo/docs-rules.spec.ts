/**
 * The rules tables of docs/errors.md come from the code: the validation rules table is generated from the catalogue
 * in lib/core/rules.ts (run `npm run docs:rules` after changing a rule or a limit), and the webhook refusal table
 * must name exactly the reasons the core can refuse with.
 */
import { describe, expect, it } from '@jest/globals';
import { readFileSync, writeFileSync } from 'node:fs';
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

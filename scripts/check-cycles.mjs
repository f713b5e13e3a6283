#!/usr/bin/env node
/**
 * `npm run check:cycles` (or `node scripts/check-cycles.mjs [glob]`): fails when the TypeScript sources under lib/
 * import each other in a cycle.
 *
 * dpdm parses the imports (type-only imports included: a layout without cycles keeps types out of implementation
 * files too). Its own report merges cycles that share a path, so this script lists every elementary cycle itself:
 * each one is a separate thing to untangle.
 */
import { parseDependencyTree } from 'dpdm';

const root = process.argv[2] ?? 'lib/**/*.ts';
const tree = await parseDependencyTree(root, { transform: false, skipDynamicImports: false });

/** Module id → the lib/ modules it imports. */
const imports = new Map(
  Object.entries(tree).map(([file, dependencies]) => [
    file,
    (dependencies ?? []).map((dependency) => dependency.id).filter((id) => id !== null && id in tree),
  ]),
);

/** Every elementary cycle once, starting from its alphabetically first module. */
function elementaryCycles() {
  const cycles = [];
  const visit = (start, module, path) => {
    for (const next of imports.get(module) ?? []) {
      if (next === start) cycles.push([...path, start]);
      else if (next > start && !path.includes(next)) visit(start, next, [...path, next]);
    }
  };
  for (const start of [...imports.keys()].sort()) visit(start, start, [start]);
  return cycles;
}

const cycles = elementaryCycles();
if (cycles.length === 0) {
  console.log(`No import cycle in ${root} (${imports.size} modules).`);
} else {
  console.error(`${cycles.length} import cycle(s) in ${root}:`);
  for (const cycle of cycles) console.error(`  ${cycle.join(' -> ')}`);
  console.error('Move the shared types or constants into a module that both sides can import.');
  process.exitCode = 1;
}

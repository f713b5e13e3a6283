/** Entry for Node, Deno and Bun: input JSON in SMOKE_INPUT, result JSON as the last line of stdout. */
import process from 'node:process';
import { runSmoke } from './smoke.mjs';

const result = await runSmoke(JSON.parse(process.env.SMOKE_INPUT ?? '{}'));
process.stdout.write(`${JSON.stringify(result)}\n`);

/**
 * Entry for workerd: `workerd test` calls the `test` handler once; the input comes as a text binding and the result
 * goes to the log, on a line starting with SMOKE_RESULT.
 */
import { runSmoke } from './smoke.mjs';

export default {
  async test(_controller, env) {
    const result = await runSmoke(JSON.parse(env.SMOKE_INPUT));
    console.log(`SMOKE_RESULT ${JSON.stringify(result)}`);
  },
};

/** Jest in native ESM mode (run through `node --experimental-vm-modules`, see DEVELOPERS.md). */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.spec.ts'],
  // Consumer apps have their own jest, TypeScript and Nest (test/fixtures/run-consumers.mjs runs them from the tarball).
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/fixtures/'],
  moduleNameMapper: {
    '^nest-pusher$': '<rootDir>/lib/index.ts',
    '^nest-pusher/core$': '<rootDir>/lib/core/index.ts',
    '^nest-pusher/testing$': '<rootDir>/lib/testing/index.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: '<rootDir>/tsconfig.json' }],
  },
  testTimeout: 30000,
  maxWorkers: 2,
  // Not a test timeout: how long a worker may take to exit once its event loop is empty. In ESM mode a worker keeps
  // every spec's modules (about 0.5-0.7 GB at the end of the suite), and on a CPU-starved machine Node's teardown of
  // that heap took 540-580 ms, past jest's 500 ms default, which then killed it with the "failed to exit gracefully"
  // warning although nothing was open (measured: DEVELOPERS.md). A handle left open still trips the warning.
  workerGracefulExitTimeout: 3000,
};

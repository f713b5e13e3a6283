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
};

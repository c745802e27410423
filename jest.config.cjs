/** Jest: TypeScript through SWC (type-checking is `npm run typecheck`, run by CI). */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022' } }] },
  globalSetup: '<rootDir>/test/helpers/global-setup.ts',
  globalTeardown: '<rootDir>/test/helpers/global-teardown.ts',
  // Every test file: no log line may hold a credential the simulator made (test/helpers/log-secrecy.ts).
  setupFilesAfterEnv: ['<rootDir>/test/helpers/log-secrecy.ts'],
  testTimeout: 60000,
  maxWorkers: 2,
};

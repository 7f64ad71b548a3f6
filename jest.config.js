// Unit tests live beside the code (src/**/*.spec.ts) and in packages/*/test; integration and e2e tests in test/.
// Type checking is tsc's job (npm test runs it first); ts-jest only transpiles (isolatedModules), which is fast.

module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/src', '<rootDir>/test', '<rootDir>/packages'],
  testRegex: '\\.spec\\.ts$',
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.jest.json' }] },
  // The contracts package from its sources, so that a test never runs against a stale packages/contracts/dist.
  moduleNameMapper: { '^@user-service/contracts$': '<rootDir>/packages/contracts/src/index.ts' },
  globalSetup: '<rootDir>/test/global-setup.ts',
  testTimeout: 30000,
  // A safety net, not a cure: a client library timer left behind must not hang CI after all tests ran.
  forceExit: true,
};

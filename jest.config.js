// Unit tests live beside the code (src/**/*.spec.ts); integration and e2e tests in test/.
// Type checking is tsc's job (npm test runs it first); ts-jest only transpiles (isolatedModules), which is fast.

module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/src', '<rootDir>/test'],
  testRegex: '\\.spec\\.ts$',
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.jest.json' }] },
  globalSetup: '<rootDir>/test/global-setup.ts',
  testTimeout: 30000,
  // A safety net, not a cure: a client library timer left behind must not hang CI after all tests ran.
  forceExit: true,
};

// Unit tests live beside the code (src/**/*.spec.ts); integration and e2e tests in test/.
// Type checking is tsc's job (npm test runs it first); ts-jest only transpiles (isolatedModules), which is fast.
const ESM_ONLY = ['content-disposition']; // required by @fastify/static (Swagger UI's assets)

module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/src', '<rootDir>/test'],
  testRegex: '\\.spec\\.ts$',
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.jest.json' }],
    [`/node_modules/(${ESM_ONLY.join('|')})/.+\\.js$`]: '<rootDir>/test/support/esm-to-cjs.js',
  },
  transformIgnorePatterns: [`/node_modules/(?!(${ESM_ONLY.join('|')})/)`],
  globalSetup: '<rootDir>/test/global-setup.ts',
  testTimeout: 30000,
  // A safety net, not a cure: a client library timer left behind must not hang CI after all tests ran.
  forceExit: true,
};

/**
 * Tests are TypeScript compiled by `tsc` (npm test builds first) and run as native ESM from
 * dist/, so what runs under test is exactly what ships. The global setup starts the Pub/Sub and
 * Firestore emulators and the local OCI registry when they are not already running.
 */
export default {
  testEnvironment: 'node',
  roots: ['<rootDir>/dist/test'],
  testMatch: ['**/*.test.js'],
  transform: {},
  globalSetup: '<rootDir>/dist/test/support/globalSetup.js',
  globalTeardown: '<rootDir>/dist/test/support/globalTeardown.js',
  testTimeout: 60000,
  maxWorkers: 2,
  // The plain count line first, so the output still ends with jest's own summary.
  reporters: ['<rootDir>/dist/test/support/summaryReporter.js', 'default'],
};

/** Tests run against the TypeScript sources: no build is needed before `npm test`. */
const { existsSync } = require('node:fs');
const path = require('node:path');

/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  // Cross-package tests (test/) and examples/ join as they appear.
  roots: ['packages', 'test', 'examples']
    .filter((dir) => existsSync(path.join(__dirname, dir)))
    .map((dir) => `<rootDir>/${dir}`),
  testMatch: ['**/test/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  moduleNameMapper: {
    '^@payhook/core/(testing|plugin)$': '<rootDir>/packages/core/src/$1/index.ts',
    '^@payhook/(newpay-callback|payin|signed-param)/signing$':
      '<rootDir>/packages/$1/src/signing.ts',
    '^@payhook/([a-z-]+)$': '<rootDir>/packages/$1/src/index.ts',
  },
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.json' }],
  },
  testTimeout: 20000,
};

// Jest runs each test file in its own VM realm; onnxruntime-node rejects typed arrays made
// there ("A float32 tensor's data must be type of function Float32Array()"). Share the main
// realm's typed-array constructors with the test realm.
// It also drops the databases a test file made (createDatabase in test/support/lumen.ts) once
// the file is done, after its own afterAll hooks have stopped the processes using them, so a
// shared DATABASE_URL server does not collect one database per suite and run.
const { TestEnvironment } = require('jest-environment-node');

const TYPED = ['Float32Array', 'Float64Array', 'Int8Array', 'Int16Array', 'Int32Array', 'Uint8Array', 'Uint8ClampedArray', 'Uint16Array', 'Uint32Array', 'BigInt64Array', 'BigUint64Array', 'ArrayBuffer'];

class NodeRealmEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    for (const name of TYPED) this.global[name] = globalThis[name];
    this.global.__LUMEN_TEST_DATABASES__ = [];
  }

  async teardown() {
    const names = this.global.__LUMEN_TEST_DATABASES__ ?? [];
    const serverUrl = process.env.LUMEN_TEST_SERVER_URL;
    try {
      if (names.length && serverUrl) {
        const { dropTestDatabases } = await import('./support/postgres.mjs');
        await dropTestDatabases(serverUrl, names);
      }
    } finally {
      await super.teardown();
    }
  }
}

module.exports = NodeRealmEnvironment;

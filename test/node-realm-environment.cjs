// Jest runs each test file in its own VM realm; onnxruntime-node rejects typed arrays made
// there ("A float32 tensor's data must be type of function Float32Array()"). Share the main
// realm's typed-array constructors with the test realm.
const { TestEnvironment } = require('jest-environment-node');

const TYPED = ['Float32Array', 'Float64Array', 'Int8Array', 'Int16Array', 'Int32Array', 'Uint8Array', 'Uint8ClampedArray', 'Uint16Array', 'Uint32Array', 'BigInt64Array', 'BigUint64Array', 'ArrayBuffer'];

class NodeRealmEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    for (const name of TYPED) this.global[name] = globalThis[name];
  }
}

module.exports = NodeRealmEnvironment;

// The few WebAssembly JS-API types this lib uses (the ES lib has none, and the DOM lib is not loaded).
export {};
declare global {
  namespace WebAssembly {
    class Module {
      constructor(bytes: ArrayBufferView | ArrayBuffer);
    }
    class Instance {
      constructor(module: Module, imports: object);
      readonly exports: Record<string, unknown>;
    }
    class Memory {
      constructor(descriptor: { initial: number; maximum?: number; shared?: boolean });
      /** An ArrayBuffer, or a SharedArrayBuffer for a shared memory. */
      readonly buffer: ArrayBuffer;
      grow(pages: number): number;
    }
  }
}

// Plain JavaScript so that test/global-setup.mjs (loaded by Jest without a transform), the
// TypeScript suites and the benches (compiled to dist/ with allowJs) share one copy.
import net from 'node:net';

/**
 * A TCP port on 127.0.0.1 that nothing listens on right now (the OS picks it; it is released
 * before returning, so another process could take it in between).
 * @returns {Promise<number>}
 */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = /** @type {net.AddressInfo} */ (server.address());
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

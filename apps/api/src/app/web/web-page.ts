import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply } from 'fastify';

/**
 * The page loads only its own scripts and styles and talks only to this origin; images are its
 * own, the server's PNG preview fetched as a blob, or object URLs of files the user dropped.
 */
export const WEB_CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' blob: data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
  "form-action 'none'",
].join('; ');

/**
 * apps/web, found by walking up from the running module: `apps/api/src/app/web` from the
 * sources, `dist/apps/api/src/app/web` from the build. Null when the files are not shipped.
 */
export function findWebRoot(from: string): string | null {
  for (let dir = path.resolve(from); ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'apps', 'web');
    if (fs.existsSync(path.join(candidate, 'index.html'))) return candidate;
    if (path.dirname(dir) === dir) return null;
  }
}

function pageHeaders(reply: FastifyReply, csp: string): void {
  // Revalidated on each load (ETag), so a deploy shows at once.
  reply.header('cache-control', 'no-cache');
  reply.header('content-security-policy', csp);
  reply.header('referrer-policy', 'no-referrer');
}

/**
 * Browser modules the page loads from npm packages, served from node_modules (no CDN): path
 * under /assets/ → [package, file inside it]. NiiVue's `dist/index.js` is its self-contained ESM
 * bundle (dependencies inlined; its `min` export wraps the code in a string meant for a data: URL
 * import, which the page's CSP forbids).
 */
export const VENDOR_MODULES: Record<string, [string, string]> = { 'vendor/niivue.js': ['@niivue/niivue', 'dist/index.js'] };

/** The package directory holding a resolved entry file (the nearest package.json with that name). */
function packageDir(name: string): string {
  for (let dir = path.dirname(fileURLToPath(import.meta.resolve(name))); ; dir = path.dirname(dir)) {
    const manifest = path.join(dir, 'package.json');
    if (fs.existsSync(manifest) && JSON.parse(fs.readFileSync(manifest, 'utf8')).name === name) return dir;
    if (path.dirname(dir) === dir) throw new Error(`package ${name} not found`);
  }
}

/** The files of VENDOR_MODULES, resolved from the running module. */
export function vendorFiles(): Record<string, string> {
  return Object.fromEntries(Object.entries(VENDOR_MODULES).map(([asset, [name, file]]) => [asset, path.join(packageDir(name), file)]));
}

/**
 * GET / → index.html; GET /assets/* → apps/web/assets, except the `generated` modules (path under
 * /assets/ → JavaScript source) the API builds from the libraries and the `vendor` files (path
 * under /assets/ → file in node_modules). Nothing else under apps/web is reachable.
 */
export async function registerWebPage(fastify: FastifyInstance, root: string, csp: string, generated: Record<string, string> = {}, vendor: Record<string, string> = {}): Promise<void> {
  await fastify.register(async (scope) => {
    await scope.register(fastifyStatic, {
      root: path.join(root, 'assets'),
      prefix: '/assets/',
      index: false,
      list: false,
      dotfiles: 'deny',
      cacheControl: false,
      setHeaders: (reply: FastifyReply) => pageHeaders(reply, csp),
    });
    for (const [file, source] of Object.entries(generated)) {
      scope.get(`/assets/${file}`, (_request, reply) => {
        pageHeaders(reply, csp);
        return reply.type('text/javascript; charset=utf-8').send(source);
      });
    }
    for (const [asset, file] of Object.entries(vendor)) {
      scope.get(`/assets/${asset}`, (_request, reply) => {
        pageHeaders(reply, csp);
        return reply.type('text/javascript; charset=utf-8').sendFile(path.basename(file), path.dirname(file));
      });
    }
    scope.get('/', (_request, reply) => {
      pageHeaders(reply, csp);
      return reply.type('text/html; charset=utf-8').sendFile('index.html', root);
    });
  });
}

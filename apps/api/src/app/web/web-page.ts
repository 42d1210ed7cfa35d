import fs from 'node:fs';
import path from 'node:path';
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
 * GET / → index.html; GET /assets/* → apps/web/assets, except the `generated` modules (path under
 * /assets/ → JavaScript source) the API builds from the libraries. Nothing else under apps/web is
 * reachable.
 */
export async function registerWebPage(fastify: FastifyInstance, root: string, csp: string, generated: Record<string, string> = {}): Promise<void> {
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
    scope.get('/', (_request, reply) => {
      pageHeaders(reply, csp);
      return reply.type('text/html; charset=utf-8').sendFile('index.html', root);
    });
  });
}

// One HTTP request over node:http that streams its body in chunks and stops sending once an
// answer arrives: how tests see a 413 sent (and the connection closed) while they are still
// uploading, which fetch would report as EPIPE.
import http from 'node:http';

export type RawAnswer = { status: number; headers: http.IncomingHttpHeaders; contentType: string; body: string; bytesSent: number };

export type RawRequest = {
  method?: string;
  path: string;
  headers?: Record<string, string>;
  /** The body, chunk by chunk; none: no body (or, with holdOpen, none yet). */
  chunks?: Iterable<Buffer>;
  chunkDelayMs?: number;
  /** Keep the request open after the chunks, like a slow client. */
  holdOpen?: boolean;
  /** The client address to send from (another 127.x.y.z to be another client). */
  localAddress?: string;
};

export function rawRequest(base: string, options: RawRequest): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    let answered = false;
    let bytesSent = 0;
    // agent: false: one connection per request; a pooled keep-alive socket the server has since
    // closed would fail a later request with ECONNRESET.
    const request = http.request(new URL(options.path, base), { method: options.method ?? 'GET', headers: options.headers, localAddress: options.localAddress, agent: false }, (response) => {
      answered = true;
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk) => (body += chunk));
      response.on('end', () => {
        request.destroy();
        resolve({ status: response.statusCode ?? 0, headers: response.headers, contentType: String(response.headers['content-type'] ?? ''), body, bytesSent });
      });
    });
    // The server may close the socket while we are still writing: that is the point.
    request.on('error', (error) => {
      if (!answered) reject(error);
    });
    request.flushHeaders();
    (async () => {
      for (const chunk of options.chunks ?? []) {
        if (answered || request.destroyed) return;
        const ok = request.write(chunk);
        bytesSent += chunk.length;
        if (!ok) await new Promise((r) => request.once('drain', r));
        if (options.chunkDelayMs) await new Promise((r) => setTimeout(r, options.chunkDelayMs));
      }
      if (!answered && !request.destroyed && !options.holdOpen) request.end();
    })().catch(() => undefined);
  });
}

/** `body` in slices of `size` bytes. */
export function slices(body: Buffer, size: number): Buffer[] {
  return Array.from({ length: Math.ceil(body.length / size) }, (_, i) => body.subarray(i * size, (i + 1) * size));
}

/**
 * HTTP load for the benchmarks, through autocannon: `connections` keep-alive connections for
 * `seconds`, each sending its next request when the previous answer has arrived (no
 * pipelining). `next` makes each request. Latency percentiles come from autocannon's histogram
 * (whole milliseconds). Every non-2xx answer and every request error (reset, timeout) counts
 * in `errors`; `statuses` counts answers by status code.
 */
import autocannon from 'autocannon';

export type LoadRequest = { method: 'GET' | 'POST'; path: string; headers?: Record<string, string>; body?: string | Buffer };

export type LoadResult = {
  connections: number;
  seconds: number;
  requests: number;
  requestsPerSecond: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number };
  statuses: Record<string, number>;
  errors: number;
  firstError?: string;
};

export function httpLoad(url: string, options: { connections: number; seconds: number; next: () => LoadRequest }): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const statuses: Record<string, number> = {};
    let firstError: string | undefined;
    const instance = autocannon(
      { url, connections: options.connections, duration: options.seconds, requests: [{ setupRequest: (request) => ({ ...request, ...options.next() }) }] },
      (error, result) => {
        if (error) return reject(error);
        const requests = result.requests.total;
        resolve({
          connections: options.connections,
          seconds: result.duration,
          requests,
          requestsPerSecond: Math.round((requests / result.duration) * 10) / 10,
          latencyMs: { p50: result.latency.p50, p90: result.latency.p90, p99: result.latency.p99, max: result.latency.max },
          statuses,
          errors: result.non2xx + result.errors,
          ...(firstError ? { firstError } : {}),
        });
      },
    );
    instance.on('response', (_client, status) => {
      statuses[status] = (statuses[status] ?? 0) + 1;
      if (status >= 300) firstError ??= `HTTP ${status}`;
    });
    instance.on('reqError', (error) => {
      statuses['request error'] = (statuses['request error'] ?? 0) + 1;
      firstError ??= String((error as Error)?.message ?? error);
    });
  });
}

/** A multipart body as fetch would send it: the bytes and their content-type (with the boundary). */
export async function multipartBody(form: FormData): Promise<{ body: Buffer; contentType: string }> {
  const encoded = new Response(form);
  return { body: Buffer.from(await encoded.arrayBuffer()), contentType: encoded.headers.get('content-type')! };
}

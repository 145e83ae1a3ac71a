/**
 * A test-only undici `Dispatcher` that re-sends every request through `node:http`, so nock
 * (which hooks `node:http` but not undici's own sockets, see TECH-NOTES) can answer it. It
 * speaks the handler protocol that `dispatcher.request()` uses (onConnect/onHeaders/onData/
 * onComplete/onError). undici's headersTimeout/bodyTimeout do not apply here; the client's
 * AbortSignal timeout does, through the abort function handed to onConnect.
 */
import http from 'node:http';
import https from 'node:https';
import { Dispatcher } from 'undici';

interface LegacyHandler {
  onConnect?(abort: (reason?: unknown) => void): void;
  onHeaders?(status: number, rawHeaders: Buffer[], resume: () => void, statusText: string): boolean | void;
  onData?(chunk: Buffer): boolean | void;
  onComplete?(trailers: Buffer[]): void;
  onError?(error: Error): void;
}

export class NodeHttpDispatcher extends Dispatcher {
  override dispatch(options: Dispatcher.DispatchOptions, dispatchHandler: Dispatcher.DispatchHandler): boolean {
    const handler = dispatchHandler as unknown as LegacyHandler;
    let finished = false;
    const fail = (error: Error) => {
      if (finished) return;
      finished = true;
      handler.onError?.(error);
    };
    const url = new URL(options.path, String(options.origin));
    const request = (url.protocol === 'https:' ? https : http).request(url, { method: options.method, headers: options.headers as http.OutgoingHttpHeaders });
    handler.onConnect?.((reason) => {
      const error = reason instanceof Error ? reason : Object.assign(new Error('aborted'), { code: 'UND_ERR_ABORTED' });
      request.destroy(error);
      fail(error);
    });
    request.on('error', fail);
    request.on('response', (response) => {
      const raw: Buffer[] = [];
      for (let i = 0; i < response.rawHeaders.length; i++) raw.push(Buffer.from(response.rawHeaders[i]!));
      handler.onHeaders?.(response.statusCode ?? 0, raw, () => response.resume(), response.statusMessage ?? '');
      response.on('data', (chunk: Buffer) => {
        if (!finished) handler.onData?.(chunk);
      });
      response.on('end', () => {
        if (finished) return;
        finished = true;
        handler.onComplete?.([]);
      });
      response.on('error', fail);
    });
    if (options.body !== undefined && options.body !== null) request.write(options.body as string | Buffer);
    request.end();
    return true;
  }

  // Nothing to release: node:http's global agent owns the sockets.
  override close(): Promise<void>;
  override close(callback: () => void): void;
  override close(callback?: () => void): Promise<void> | void {
    if (callback) return void queueMicrotask(callback);
    return Promise.resolve();
  }

  override destroy(): Promise<void>;
  override destroy(error: Error | null): Promise<void>;
  override destroy(callback: () => void): void;
  override destroy(error: Error | null, callback: () => void): void;
  override destroy(first?: unknown, second?: unknown): Promise<void> | void {
    const callback = typeof first === 'function' ? first : second;
    if (typeof callback === 'function') return void queueMicrotask(callback as () => void);
    return Promise.resolve();
  }
}

/** `createScimClient`: the reader and writer of one target, over one keep-alive connection pool. */
import { Pool, type Dispatcher } from 'undici';
import { ScimformError } from '../errors.js';
import type { Capabilities, DesiredUser, LiveGroup, LiveUser, TargetConfig } from '../model.js';
import type { WriteRequest } from '../plan/types.js';
import { mergeCapabilities } from './capabilities.js';
import { ScimHttpError, type ErrorContext } from './errors.js';
import { equalityFilter } from './filter.js';
import { createTransport, type HttpResponse, type RequestEvent } from './http.js';
import { createConcurrencyLimiter, createRateLimiter } from './limits.js';
import { listAll, type PageRequest } from './pagination.js';
import { parseGroup, parseListPage, parseServiceProviderConfig, parseUser, type DiscoveredCapabilities, type ParseOptions } from './parse.js';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from './retry.js';
import type { ClientStats, ListProgress, ReadOptions, ScimClient, WriteOptions, WriteResult } from './types.js';

export interface ClientOptions {
  /** The bearer token (see `resolveToken`). Sent only in the Authorization header; never logged or put in an error. */
  token: string;
  /** true: every non-GET request is refused before it reaches the network (`plan` always uses this). */
  readOnly: boolean;
  /** Tests inject one; default: a new keep-alive undici `Pool` for the target's origin, closed by `close()`. */
  dispatcher?: Dispatcher;
  /** Aborts waits for retries and limits (SIGINT); requests already sent are allowed to finish. */
  signal?: AbortSignal;
  /** Called after every attempt, retries included. Never carries headers or the token. */
  onRequest?: (event: RequestEvent) => void;
  retry?: Partial<RetryPolicy>;
  /** Jitter source in [0, 1), for deterministic tests. */
  random?: () => number;
  /** The user declared with exactly this userName: listed users share its strings where equal (see `ParseOptions.declared`). */
  declared?: (userName: string) => DesiredUser | undefined;
}

const DEFAULT_PAGE_SIZE = 100;
/** Discovery answers that mean "no /ServiceProviderConfig here": use the profile's defaults. */
const NO_DISCOVERY = new Set([404, 405, 501]);

function query(params: Record<string, string | number>): string {
  return '?' + Object.entries(params).map(([key, value]) => `${key}=${encodeURIComponent(String(value))}`).join('&');
}

function pageQuery(request: PageRequest): string {
  return request.style === 'index'
    ? query({ startIndex: request.startIndex, count: request.count })
    : query({ cursor: request.cursor, count: request.count });
}

export function createScimClient(target: TargetConfig, options: ClientOptions): ScimClient {
  let baseUrl: URL;
  try {
    baseUrl = new URL(target.url);
  } catch {
    throw new ScimformError(`the url of target ${target.name} is not a valid URL: ${target.url}`, {
      hint: 'Use the SCIM base URL, for example https://api.lightstep.com/scim/v2.',
      location: target.source,
    });
  }
  // The same rule as the configuration's (SPEC §2), for callers of the package API too: a bearer
  // token crosses the network only over TLS; plain http is for an emulator on this machine.
  const host = baseUrl.hostname.toLowerCase();
  const loopback = host === 'localhost' || host.endsWith('.localhost') || host === '[::1]' || /^127(\.\d{1,3}){3}$/.test(host);
  if (baseUrl.protocol !== 'https:' && !(baseUrl.protocol === 'http:' && loopback)) {
    const why = baseUrl.protocol === 'http:' ? `http is allowed only for loopback hosts, not ${baseUrl.hostname}` : `not ${baseUrl.protocol.replace(/:$/, '')}`;
    throw new ScimformError(`the url of target ${target.name} must use https: ${why}`, {
      hint: 'Use the https URL of the SCIM service; the bearer token must not travel in clear.',
      location: target.source,
    });
  }
  const { declared } = options;
  const ownsDispatcher = options.dispatcher === undefined;
  const timeoutMs = target.timeoutSeconds * 1000;
  const dispatcher =
    options.dispatcher ??
    new Pool(baseUrl.origin, { connections: Math.max(1, target.concurrency), keepAliveTimeout: 30_000, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
  const context: ErrorContext = { target: target.name, url: target.url.replace(/\/+$/, ''), tokenEnv: target.tokenEnv, profile: target.profile };
  const transport = createTransport({
    baseUrl,
    token: options.token,
    readOnly: options.readOnly,
    dispatcher,
    timeoutMs,
    policy: { ...DEFAULT_RETRY_POLICY, ...options.retry },
    random: options.random ?? Math.random,
    limiter: createConcurrencyLimiter(target.concurrency),
    rate: createRateLimiter(target.requestsPerSecond),
    context,
    signal: options.signal,
    onRequest: options.onRequest,
  });
  let pages = 0;
  let discovery: Promise<{ capabilities: Capabilities; discovered: DiscoveredCapabilities | undefined }> | undefined;

  const discover = (read: ReadOptions = {}) => {
    discovery ??= (async () => {
      let discovered: DiscoveredCapabilities | undefined;
      try {
        const response = await transport.send({ method: 'GET', path: '/ServiceProviderConfig', evenIfInterrupted: read.evenIfInterrupted });
        discovered = parseServiceProviderConfig(response.body);
      } catch (error) {
        if (!(error instanceof ScimHttpError && NO_DISCOVERY.has(error.status))) throw error;
      }
      return { capabilities: mergeCapabilities(target, discovered), discovered };
    })();
    // A failed discovery (network, 401) is not cached: the next call tries again.
    discovery.catch(() => (discovery = undefined));
    return discovery;
  };

  const getOrUndefined = async (path: string, read: ReadOptions = {}): Promise<HttpResponse | undefined> => {
    try {
      return await transport.send({ method: 'GET', path, evenIfInterrupted: read.evenIfInterrupted });
    } catch (error) {
      if (error instanceof ScimHttpError && error.status === 404) return undefined;
      throw error;
    }
  };

  /**
   * Every resource of a collection, each page read into the model as it arrives (`read`), so the
   * raw pages are freed while later ones are fetched.
   */
  const list = async <T>(
    resource: ListProgress['resource'],
    read: (resource: unknown) => T,
    onProgress?: (progress: ListProgress) => void,
    options: ReadOptions = {},
  ): Promise<T[]> => {
    const { capabilities, discovered } = await discover(options);
    const pageSize = Math.min(target.pageSize ?? DEFAULT_PAGE_SIZE, discovered?.maxPageSize ?? Infinity, capabilities.maxResults ?? Infinity);
    return listAll({
      resource,
      style: capabilities.pagination,
      forced: target.pagination !== undefined,
      pageSize,
      concurrency: Math.max(1, target.concurrency),
      onProgress,
      fetchPage: async (request) => {
        const response = await transport.send({ method: 'GET', path: `/${resource}${pageQuery(request)}`, evenIfInterrupted: options.evenIfInterrupted });
        pages++;
        const page = parseListPage(response.body ?? {});
        // The promises that resolved to this answer may already be in the old generation, where
        // they would keep the page's parsed JSON (~1 MB at 500 users) alive past the next
        // young-generation collection and into the old generation; the resources read from it
        // are all that is kept.
        response.body = undefined;
        return { ...page, resources: page.resources.map(read) };
      },
    }) as Promise<T[]>;
  };
  /** Only a PUT sends the resource back (with what scimform does not model): otherwise it is not kept. */
  const keep = async (read?: ReadOptions): Promise<ParseOptions> => ({ keepResource: (await discover(read)).capabilities.updateMethod === 'put' });

  const findUser = async (attribute: 'userName' | 'externalId', value: string, read: ReadOptions = {}): Promise<LiveUser | undefined> => {
    const { capabilities } = await discover(read);
    const listUsers = () => list('Users', (resource) => parseUser(resource), undefined, read);
    const matches = (user: LiveUser) =>
      // userName is case-insensitive (RFC 7643 §4.1.1); externalId is caseExact.
      attribute === 'userName' ? user.userName.toLowerCase() === value.toLowerCase() : user.externalId === value;
    if (!capabilities.filter) return (await listUsers()).find(matches);
    const response = await transport.send({ method: 'GET', path: `/Users${query({ filter: equalityFilter(attribute, value) })}`, evenIfInterrupted: read.evenIfInterrupted });
    const found = parseListPage(response.body ?? {}).resources.map((resource) => parseUser(resource));
    // A resource that does not match even case-insensitively (some servers compare externalId
    // loosely) means the server ignored the filter, silently: this page says nothing about the
    // rest of the collection, so read all of it.
    const loosely = (user: LiveUser) => (attribute === 'userName' ? user.userName : (user.externalId ?? '')).toLowerCase() === value.toLowerCase();
    if (found.some((user) => !loosely(user))) return (await listUsers()).find(matches);
    return found.find(matches);
  };

  return {
    capabilities: async () => (await discover()).capabilities,
    listUsers: async (onProgress, read) => {
      const options: ParseOptions = { ...(await keep(read)), ...(declared ? { declared } : {}) };
      return list('Users', (resource) => parseUser(resource, undefined, options), onProgress, read);
    },
    listGroups: async (onProgress, read): Promise<LiveGroup[]> => {
      const options = await keep(read);
      return list('Groups', (resource) => parseGroup(resource, undefined, options), onProgress, read);
    },
    async getUser(id, read) {
      const response = await getOrUndefined(`/Users/${encodeURIComponent(id)}`, read);
      return response && parseUser(response.body, response.headers.etag);
    },
    async getGroup(id, read) {
      const response = await getOrUndefined(`/Groups/${encodeURIComponent(id)}`, read);
      return response && parseGroup(response.body, response.headers.etag);
    },
    findUserByUserName: (userName, read) => findUser('userName', userName, read),
    findUserByExternalId: (externalId, read) => findUser('externalId', externalId, read),
    async write(request: WriteRequest, options?: WriteOptions): Promise<WriteResult> {
      const response = await transport.send({ method: request.method, path: request.path, body: request.body, ifMatch: request.ifMatch, resume: options?.retry });
      const result: WriteResult = { status: response.status };
      if (response.body !== undefined) result.body = response.body;
      if (response.headers.etag !== undefined) result.etag = response.headers.etag;
      return result;
    },
    waitToRetry: (state, signal) => transport.waitToRetry(state, signal),
    stats(): ClientStats {
      return { ...transport.stats(), pages };
    },
    allowWrites: () => transport.allowWrites(),
    async close(options) {
      if (ownsDispatcher) await (options?.abort ? dispatcher.destroy() : dispatcher.close());
    },
  };
}

/**
 * The HTTP side of the emulator (node:http): routing, auth, ETags, pagination, rendering,
 * fault injection and the request log. The data and its rules live in the store.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { timingSafeEqual } from 'node:crypto';
import { LIST_RESPONSE_SCHEMA, resourceTypes, schemas, serviceProviderConfig, type DiscoveryOptions } from './discovery.js';
import { ScimformError } from '../errors.js';
import { formatJsonPath, headerUnsafe, MAX_JSON_DEPTH, nestedDeeperThan } from '../wire.js';
import { startClock, waitUntil } from './clock.js';
import { badRequest, errorBody, notFound, ScimError } from './errors.js';
import { FaultInjector, type FaultDecision } from './faults.js';
import { parseAttrPath, parseFilter, type Filter } from './filter.js';
import { checkSchemas, type Attributes } from './patch.js';
import { loadDataFile, saveDataFile } from './persistence.js';
import { schemaIdsOf, type ResourceKind, type ResourceSchema } from './schemas.js';
import { memberIds, Store } from './store.js';
import type { EmulatorFaults, EmulatorOptions, EmulatorQuirks, LoggedRequest, RunningEmulator } from './types.js';

const PREFIX = '/scim/v2';
const CONTENT_TYPE = 'application/scim+json; charset=utf-8';
const DEFAULT_PAGE_SIZE = 100;
const DEFAULT_MAX_PAGE_SIZE = 1000;
const MAX_BODY_BYTES = 10 * 1024 * 1024;

interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

interface Request {
  method: string;
  segments: string[];
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  body: unknown;
}

const now = () => new Date().toISOString();
const isWrite = (method: string) => method === 'POST' || method === 'PUT' || method === 'PATCH' || method === 'DELETE';

function fnv1a(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return hash.toString(36);
}

/** Why the server cannot listen, and what to choose instead; anything but a failure to listen is returned as it is. */
function listenError(host: string, port: number, error: Error): Error {
  const code = (error as NodeJS.ErrnoException).code;
  const where = port === 0 ? host : `${host.includes(':') ? `[${host}]` : host}:${port}`;
  const otherHost = 'Give --host an address of this machine: 127.0.0.1 (the default) for this machine only, or 0.0.0.0 for every interface.';
  const reasons: Record<string, [string, string]> = {
    EADDRINUSE: ['the port is in use', 'Stop what uses it, or choose another --port (0 picks a free one).'],
    EACCES: ['permission denied', 'Ports below 1024 need privileges: choose a --port of 1024 or more (0 picks a free one).'],
    EADDRNOTAVAIL: ['the address is not one of this machine\'s', otherHost],
    ENOTFOUND: ['no such host name', otherHost],
    EAI_AGAIN: ['the host name could not be looked up', otherHost],
    EAI_FAIL: ['the host name could not be looked up', otherHost],
    EAFNOSUPPORT: ['this machine does not support that kind of address', otherHost],
  };
  const reason = code === undefined ? undefined : reasons[code];
  if (reason) return new ScimformError(`cannot listen on ${where}: ${reason[0]} (${code})`, { hint: reason[1], cause: error });
  const syscall = (error as NodeJS.ErrnoException).syscall;
  if (code !== undefined && (syscall === 'listen' || syscall === 'bind' || syscall === 'getaddrinfo')) {
    return new ScimformError(`cannot listen on ${where} (${code})`, { hint: `Choose another --port (0 picks a free one), or --host. ${otherHost}`, cause: error });
  }
  return error;
}

/** Weak comparison of entity tags (RFC 9110 §8.8.3.2): `W/"3"` and `"3"` name the same version. */
function etagMatches(header: string, version: string): boolean {
  const opaque = (tag: string) => tag.trim().replace(/^W\//, '');
  return header.split(',').some((tag) => tag.trim() === '*' || opaque(tag) === opaque(version));
}

export class Emulator {
  private readonly server: Server;
  private readonly store: Store;
  private faults: FaultInjector;
  private quirks: EmulatorQuirks;
  readonly requests: LoggedRequest[] = [];
  private readonly profile: 'lightstep' | 'generic';
  private readonly pagination: 'cursor' | 'index';
  private readonly maxPageSize: number;
  private readonly etags: boolean;
  private baseUrl = '';
  private readonly loadedFromFile: boolean;
  private requestLog: number | undefined;

  constructor(private readonly options: EmulatorOptions) {
    if (options.token !== undefined && (options.token.trim() === '' || headerUnsafe(options.token) !== undefined)) {
      // No client could send it: every request would be refused.
      throw new ScimformError('the emulator\'s token is empty or has characters that cannot be sent in an HTTP header', {
        hint: 'Give a token of printable ASCII characters, or none to check no token.',
      });
    }
    this.profile = options.profile ?? 'generic';
    this.pagination = options.pagination ?? (this.profile === 'lightstep' ? 'cursor' : 'index');
    this.maxPageSize = options.maxPageSize ?? DEFAULT_MAX_PAGE_SIZE;
    // Lightstep documents no ETags or meta.version: the client's stale-plan check must do without them there.
    this.etags = options.etags ?? this.profile !== 'lightstep';
    this.faults = new FaultInjector(options.faults);
    this.quirks = options.quirks ?? {};
    this.store = new Store({ enterpriseExtension: this.profile === 'generic', emailsRequired: this.profile === 'lightstep', userNameIsEmail: this.profile === 'lightstep' });
    const start = now();
    const saved = options.dataFile ? loadDataFile(options.dataFile) : undefined;
    this.loadedFromFile = saved !== undefined;
    try {
      this.store.load(saved ?? options.initial ?? {}, start);
    } catch (error) {
      if (!(error instanceof ScimError)) throw error;
      const source = saved ? `the data file ${options.dataFile}` : 'the initial users and groups';
      throw new ScimformError(`${source} cannot be loaded: ${error.message}`, {
        hint: 'Each user needs a unique userName, each group a unique displayName, and group members must name users or groups listed before them.',
      });
    }
    this.server = createServer({ keepAliveTimeout: 5_000 }, (req, res) => void this.handle(req, res));
  }

  async listen(): Promise<RunningEmulator> {
    const host = this.options.host ?? '127.0.0.1';
    if (this.options.requestLogFile) this.requestLog = openRequestLog(this.options.requestLogFile);
    await new Promise<void>((resolve, reject) => {
      const failed = (error: Error) => {
        this.closeRequestLog();
        reject(listenError(host, this.options.port ?? 0, error));
      };
      this.server.once('error', failed);
      this.server.listen(this.options.port ?? 0, host, () => {
        this.server.off('error', failed);
        resolve();
      });
    });
    // So that the first answer with latency is not late by the start of the clock's thread.
    if (this.options.faults?.latencyMs) await startClock();
    const { port } = this.server.address() as AddressInfo;
    this.baseUrl = `http://${host.includes(':') ? `[${host}]` : host}:${port}${PREFIX}`;
    if (this.options.dataFile && !this.loadedFromFile) this.save();
    return {
      url: this.baseUrl,
      requests: this.requests,
      setFaults: (faults: EmulatorFaults | undefined) => {
        if (faults?.latencyMs) void startClock();
        this.faults = new FaultInjector(faults);
      },
      setQuirks: (quirks: EmulatorQuirks | undefined) => void (this.quirks = quirks ?? {}),
      // Copies: a caller may keep or change what it is given without touching the store.
      users: () => this.store.snapshot().users.map((user) => structuredClone(this.render('User', user))),
      groups: () => this.store.snapshot().groups.map((group) => structuredClone(this.render('Group', group))),
      stats: () => ({ ...this.store.work }),
      close: () => this.close(),
    };
  }

  describe(): string {
    const dropped = this.quirks.dropDomains ?? [];
    const quirks = dropped.length > 0 ? `, users created in ${dropped.join(', ')} answered 201 and not kept` : '';
    return `profile ${this.profile}, pagination ${this.pagination} (max page size ${this.maxPageSize}), ETags ${this.etags ? 'on' : 'off'}, auth ${this.options.token ? 'bearer token' : 'none'}, faults: ${this.faults.describe()}${quirks}`;
  }

  private close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => {
        this.closeRequestLog();
        resolve();
      });
      this.server.closeAllConnections();
    });
  }

  private closeRequestLog(): void {
    if (this.requestLog !== undefined) closeSync(this.requestLog);
    this.requestLog = undefined;
  }

  // -------------------------------------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const arrived = performance.now();
    const time = now();
    const method = (req.method ?? 'GET').toUpperCase();
    const url = new URL(req.url ?? '/', 'http://emulator');
    const path = url.pathname.startsWith(PREFIX) ? url.pathname.slice(PREFIX.length) || '/' : url.pathname;
    const keep = this.options.keepRequests !== false;
    const log = (status: number, body: unknown, fault?: string) => {
      // Nothing records it: no entry to build.
      if (!keep && this.requestLog === undefined) return;
      const entry: LoggedRequest = { method, path, query: Object.fromEntries(url.searchParams), status, ...(body === undefined ? {} : { body }), time, ...(fault ? { fault } : {}) };
      if (keep) this.requests.push(entry);
      // One write per line on a descriptor kept open: each line is in the file as soon as it is logged.
      if (this.requestLog !== undefined) writeSync(this.requestLog, `${JSON.stringify(entry)}\n`);
    };

    // Injected latency is the time from a request's arrival to its answer, the emulator's own work
    // included: a service with a 10 ms response time answers 10 ms after it was asked, however
    // many requests arrived together. Waiting before the work instead would add the work of every
    // request ahead in the queue to each answer.
    const latency = this.faults.latency(method);
    const answerTime = () => (latency > 0 ? waitUntil(arrived + latency) : undefined);
    let body: unknown;
    let reply: Reply;
    let decision: FaultDecision = { kind: 'none' };
    try {
      const raw = await readBody(req);
      decision = this.faults.decide(method);
      body = parseBody(raw);
      if (decision.kind === 'reset') {
        await answerTime();
        log(0, body, 'reset');
        req.socket.destroy();
        return;
      }
      if (decision.kind === '429') {
        reply = {
          status: 429,
          // No scimType: RFC 7644's `tooMany` is about filters that match too much, not request rates.
          body: errorBody(429, 'too many requests: slow down and retry'),
          ...(decision.retryAfterSeconds === undefined ? {} : { headers: { 'Retry-After': String(decision.retryAfterSeconds) } }),
        };
      } else if (decision.kind === '503') {
        reply = { status: 503, body: errorBody(503, 'the service is temporarily unavailable') };
      } else {
        this.authenticate(req);
        if (!url.pathname.startsWith(`${PREFIX}/`) && url.pathname !== PREFIX) throw notFound(`no SCIM endpoint at ${url.pathname}; the base is ${PREFIX}`);
        reply = this.route({ method, segments: segmentsOf(path), query: url.searchParams, headers: req.headers, body });
        if (isWrite(method) && reply.status < 400 && this.options.dataFile) this.save();
      }
    } catch (error) {
      reply = errorReply(error);
    }

    const encoded = encode(reply);
    await answerTime();
    if (decision.kind === 'lostResponse' && isWrite(method)) {
      // The change is stored; the client never hears about it (a timeout or reset on its side).
      log(reply.status, body, 'lostResponse');
      req.socket.destroy();
      return;
    }
    // Answered first, logged after: the log line is not part of the latency the client sees.
    send(res, encoded);
    log(reply.status, body, decision.kind === '429' || decision.kind === '503' ? decision.kind : undefined);
  }

  private authenticate(req: IncomingMessage): void {
    const token = this.options.token;
    if (token === undefined) return;
    const header = req.headers.authorization ?? '';
    const match = /^Bearer\s+(.+)$/i.exec(header);
    const given = Buffer.from(match?.[1]?.trim() ?? '');
    const expected = Buffer.from(token);
    if (!match || given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw new ScimError(401, match ? 'the bearer token is not valid for this service' : 'authorization required: send "Authorization: Bearer <token>"');
    }
  }

  private route(request: Request): Reply {
    const [first, second, ...rest] = request.segments;
    if (rest.length > 0 || first === undefined) throw notFound(`no SCIM endpoint at /${request.segments.join('/')}`);
    const discovery = this.discoveryOptions();
    if ((first === 'ServiceProviderConfig' || first === 'ResourceTypes' || first === 'Schemas') && request.query.get('filter') !== null) {
      // RFC 7644 §4: discovery ignores query parameters, and a filter SHOULD be refused with 403 "to
      // ensure that clients cannot incorrectly assume that any matching conditions specified in a filter are true".
      throw new ScimError(403, `/${first} cannot be filtered: read it whole and pick from it`);
    }
    switch (first) {
      case 'ServiceProviderConfig':
        this.allow(request, ['GET']);
        if (second) throw notFound(`no SCIM endpoint at /ServiceProviderConfig/${second}`);
        return { status: 200, body: serviceProviderConfig(discovery) };
      case 'ResourceTypes':
        this.allow(request, ['GET']);
        return this.discoveryList(resourceTypes(discovery), second, 'ResourceType');
      case 'Schemas':
        this.allow(request, ['GET']);
        return this.discoveryList(schemas(discovery), second, 'Schema');
      case 'Users':
        return this.resourceEndpoint('User', request, second, this.profile === 'lightstep' ? ['GET', 'POST', 'PATCH', 'DELETE'] : undefined);
      case 'Groups':
        // Lightstep documents only GET for groups; writes are refused (SPEC §1).
        return this.resourceEndpoint('Group', request, second, this.profile === 'lightstep' ? ['GET'] : undefined);
      case 'Bulk':
        throw new ScimError(501, 'bulk operations are not supported by this service (see /ServiceProviderConfig)');
      case 'Me':
        throw new ScimError(501, '/Me is not supported by this service');
      default:
        throw notFound(`no SCIM endpoint at /${first}`);
    }
  }

  private allow(request: Request, methods: string[]): void {
    if (!methods.includes(request.method)) {
      throw Object.assign(new ScimError(405, `${request.method} is not supported on /${request.segments.join('/')} by this service (allowed: ${methods.join(', ')})`), {
        allow: methods.join(', '),
      });
    }
  }

  private discoveryList(items: Record<string, unknown>[], id: string | undefined, kind: string): Reply {
    if (id !== undefined) {
      const item = items.find((candidate) => candidate.id === id);
      if (!item) throw notFound(`${kind} ${id} not found`);
      return { status: 200, body: item };
    }
    return { status: 200, body: { schemas: [LIST_RESPONSE_SCHEMA], totalResults: items.length, itemsPerPage: items.length, startIndex: 1, Resources: items } };
  }

  private resourceEndpoint(kind: ResourceKind, request: Request, id: string | undefined, allowed: string[] | undefined): Reply {
    const { method } = request;
    if (id === undefined) {
      this.allow(request, (allowed ?? ['GET', 'POST']).filter((m) => m === 'GET' || m === 'POST'));
      if (method === 'GET') return this.list(kind, request.query);
      const projection = this.projection(kind, request.query);
      checkSchemas(request.body, this.store.collection(kind).schema);
      const created = this.store.create(kind, request.body, now());
      if (kind === 'Group') this.membershipChanged([], memberIds(created));
      const reply = this.resourceReply(kind, created, 201, { Location: this.location(created) }, projection);
      if (kind === 'User' && this.dropped(created.userName)) this.store.delete(kind, created.id as string, now());
      return reply;
    }
    this.allow(request, (allowed ?? ['GET', 'PUT', 'PATCH', 'DELETE']).filter((m) => m !== 'POST'));
    const current = this.store.get(kind, id);
    const version = (current.meta as Attributes).version as string;
    if (method === 'GET') {
      const ifNoneMatch = request.headers['if-none-match'];
      if (this.etags && typeof ifNoneMatch === 'string' && etagMatches(ifNoneMatch, version)) return { status: 304, headers: { ETag: version } };
      return this.resourceReply(kind, current, 200, {}, this.projection(kind, request.query));
    }
    const ifMatch = request.headers['if-match'];
    // RFC 7644 §3.14: a stale If-Match is 412 Precondition Failed. A service without versions ignores it.
    if (this.etags && typeof ifMatch === 'string' && !etagMatches(ifMatch, version)) {
      throw new ScimError(412, `${kind} ${id} has changed since version ${ifMatch}; it is now ${version}`);
    }
    const ifNoneMatch = request.headers['if-none-match'];
    // RFC 9110 §13.1.2: a write whose If-None-Match matches the current version (or is `*`, and the
    // resource exists) is not performed: 412, where a GET would be 304.
    if (this.etags && typeof ifNoneMatch === 'string' && etagMatches(ifNoneMatch, version)) {
      throw new ScimError(412, `${kind} ${id} is at version ${version}, which If-None-Match ${ifNoneMatch} excludes`);
    }
    const written = (resource: Attributes, projection: Projection | undefined) => {
      if (kind === 'Group') this.membershipChanged(memberIds(current), memberIds(resource));
      return this.resourceReply(kind, resource, 200, {}, projection);
    };
    switch (method) {
      case 'PUT': {
        const projection = this.projection(kind, request.query);
        checkSchemas(request.body, this.store.collection(kind).schema);
        return written(this.store.replace(kind, id, request.body, now()), projection);
      }
      case 'PATCH': {
        const projection = this.projection(kind, request.query);
        return written(this.store.patch(kind, id, request.body, now()), projection);
      }
      default:
        this.store.delete(kind, id, now());
        if (kind === 'Group') this.membershipChanged(memberIds(current), []);
        return { status: 204 };
    }
  }

  /** Quirk `membershipChangesUserVersion`: every user who joined or left a group gets a new version. */
  private membershipChanged(before: string[], after: string[]): void {
    if (!this.quirks.membershipChangesUserVersion) return;
    const was = new Set(before);
    const is = new Set(after);
    for (const id of [...before.filter((member) => !is.has(member)), ...after.filter((member) => !was.has(member))]) {
      if (this.store.users.byId.has(id)) this.store.touch('User', id, now());
    }
  }

  // -------------------------------------------------------------------------------------------
  // Listing (RFC 7644 §3.4.2, RFC 9865)

  private dropped(userName: unknown): boolean {
    const domains = this.quirks.dropDomains ?? [];
    return typeof userName === 'string' && domains.some((domain) => userName.toLowerCase().endsWith(`@${domain.toLowerCase()}`));
  }

  /** The `removeWhileListing` quirk: one deletion before each later page of an unfiltered user listing. */
  private churn(kind: ResourceKind, query: URLSearchParams): void {
    const suffix = this.quirks.removeWhileListing?.toLowerCase();
    if (suffix === undefined || kind !== 'User' || query.get('filter') !== null) return;
    const later = (integerParam(query, 'startIndex') ?? 1) > 1 || (query.get('cursor') ?? '') !== '';
    if (!later) return;
    const victim = this.store.snapshot().users.find((user) => String(user.userName).toLowerCase().endsWith(suffix));
    if (victim) this.store.delete('User', victim.id as string, now());
  }

  private list(kind: ResourceKind, query: URLSearchParams): Reply {
    this.churn(kind, query);
    const count = this.quirks.fixedPageSize ?? Math.min(integerParam(query, 'count') ?? DEFAULT_PAGE_SIZE, this.maxPageSize);
    const filterText = this.quirks.ignoreFilters ? undefined : (query.get('filter') ?? undefined);
    const filter: Filter | undefined = filterText === undefined ? undefined : parseFilter(filterText);
    const collection = this.store.collection(kind);
    const matched = filter ? this.store.matching(kind, filter).positions : undefined;
    const total = matched ? matched.length : collection.order.size;
    // Rank (0-based) of the first match at or after a position, in O(log n).
    const rankAt = (position: number) => (matched ? lowerBound(matched, position) : collection.order.rankBefore(position));
    const positionsFrom = (rank: number, n: number) => (matched ? matched.slice(rank, rank + n) : collection.order.slice(rank, n));

    let startRank: number;
    const extra: Record<string, unknown> = {};
    if (this.pagination === 'index') {
      // RFC 7644 §3.4.2.4: 1-based; values below 1 are taken as 1. A `cursor` is not a parameter this service knows.
      startRank = Math.max(integerParam(query, 'startIndex') ?? 1, 1) - 1;
      extra.startIndex = startRank + 1;
      // The overlap quirk echoes the startIndex asked for, as the servers that do this do.
      if (startRank > 0) startRank = Math.max(0, startRank - (this.quirks.overlap ?? 0));
    } else {
      const cursor = query.get('cursor');
      const startIndex = integerParam(query, 'startIndex');
      if (cursor !== null && startIndex !== undefined) throw badRequest('send either cursor or startIndex, not both', 'invalidValue');
      // This service pages by cursor only (RFC 9865). A request without a cursor, or with
      // startIndex=1, gets the first page and a nextCursor; a later startIndex is refused rather
      // than answered with the first page again, which would make an index-only client loop.
      if (startIndex !== undefined && startIndex > 1) {
        throw badRequest('this service pages by cursor (RFC 9865): request the first page with cursor= and follow nextCursor', 'invalidValue');
      }
      startRank = cursor === null || cursor === '' ? 0 : rankAt(this.decodeCursor(cursor, filterText, collection.order.end) + 1);
    }
    const positions = count > 0 ? positionsFrom(startRank, count) : [];
    this.store.work.examined += matched ? 0 : positions.length;
    if (this.pagination === 'cursor' && count > 0) {
      const last = positions[positions.length - 1];
      if (last !== undefined && startRank + positions.length < total) extra.nextCursor = this.encodeCursor(last, filterText);
      if (startRank > 0) {
        const previousStart = startRank - count;
        const before = previousStart <= 0 ? -1 : positionsFrom(previousStart - 1, 1)[0]!;
        extra.previousCursor = this.encodeCursor(before, filterText);
      }
    }
    const projection = this.projection(kind, query);
    const resources = positions.map((position) => this.render(kind, collection.byId.get(collection.order.idAt(position)!)!, projection));
    return {
      status: 200,
      body: {
        schemas: [LIST_RESPONSE_SCHEMA],
        totalResults: total,
        itemsPerPage: resources.length,
        ...extra,
        // RFC 7644 §3.4.2: Resources is "REQUIRED if totalResults is non-zero", so count=0, which
        // asks for totalResults only (§3.4.2.4), gets an empty list rather than none.
        Resources: resources,
      },
    };
  }

  /** A cursor names the position of the last resource returned, bound to the filter it was made for. */
  private encodeCursor(position: number, filterText: string | undefined): string {
    return Buffer.from(`${position}.${fnv1a(filterText ?? '')}`).toString('base64url');
  }

  private decodeCursor(cursor: string, filterText: string | undefined, end: number): number {
    const match = /^(-1|\d+)\.([0-9a-z]+)$/.exec(Buffer.from(cursor, 'base64url').toString());
    const position = match ? Number(match[1]) : NaN;
    if (!match || match[2] !== fnv1a(filterText ?? '') || position >= end) {
      throw badRequest('the cursor is not one this service issued for this query; start again without a cursor', 'invalidCursor');
    }
    return position;
  }

  // -------------------------------------------------------------------------------------------
  // Rendering

  /**
   * `attributes` and `excludedAttributes` of a request. A write reads them before it writes, so
   * that one that does not parse is refused with nothing written.
   */
  private projection(kind: ResourceKind, query: URLSearchParams): Projection | undefined {
    return projectionOf(query, this.store.collection(kind).schema);
  }

  private resourceReply(kind: ResourceKind, resource: Attributes, status: number, headers: Record<string, string> = {}, projection?: Projection): Reply {
    const version = (resource.meta as Attributes).version as string;
    return {
      status,
      body: this.render(kind, resource, projection),
      headers: { ...headers, ...(this.etags ? { ETag: version } : {}) },
    };
  }

  private location(resource: Attributes): string {
    return `${this.baseUrl}/${(resource.meta as Attributes).location as string}`;
  }

  /**
   * The resource as the service returns it. It shares nested values with the store, so it must be
   * serialised before the store changes again: every reply is encoded as soon as it is made,
   * before it waits out its latency.
   */
  private render(kind: ResourceKind, resource: Attributes, projection?: Projection): Attributes {
    const { id, meta, ...attributes } = resource;
    const schemaIds = schemaIdsOf(kind, attributes);
    // `password` is writeOnly and returned "never" (RFC 7643 §4.1.1).
    const { password: _password, ...returned } = attributes;
    const out: Attributes = { schemas: schemaIds, id, ...returned };
    if (kind === 'User') {
      // What filters see (the store's), with the `$ref` that needs the service's URL.
      const { groups } = this.store.groupsAttribute(resource);
      if (groups) out.groups = groups.map(({ value, ...rest }) => ({ value, $ref: `${this.baseUrl}/Groups/${encodeURIComponent(value as string)}`, ...rest }));
    } else if (Array.isArray(out.members)) {
      out.members = (out.members as Attributes[]).map((member) => ({ ...member, $ref: `${this.baseUrl}/${String(member.$ref).replace(/^\.\.\//, '')}` }));
    }
    const renderedMeta: Attributes = { ...(meta as Attributes), location: this.location(resource) };
    if (!this.etags) delete renderedMeta.version;
    out.meta = renderedMeta;
    return projection ? project(out, projection) : out;
  }

  private discoveryOptions(): DiscoveryOptions {
    return { baseUrl: this.baseUrl, profile: this.profile, pagination: this.pagination, defaultPageSize: Math.min(DEFAULT_PAGE_SIZE, this.maxPageSize), maxPageSize: this.maxPageSize, etags: this.etags };
  }

  private save(): void {
    saveDataFile(this.options.dataFile!, this.store.snapshot());
  }
}

// ---------------------------------------------------------------------------------------------

/** `attributes` or `excludedAttributes` (RFC 7644 §3.4.2.5), each as its path of lower-cased names from the resource down. */
interface Projection {
  attributes?: string[][];
  excluded?: string[][];
}

/**
 * One name of `attributes` or `excludedAttributes` as a path. Names may be fully qualified
 * (RFC 7644 §3.10): an extension's attributes sit in an object named by its schema URN, and the
 * extension alone names that whole object; the core schema's URN is dropped.
 */
function projectionPath(text: string, schema: ResourceSchema): string[] {
  const lower = text.toLowerCase();
  for (const extension of schema.extensions) {
    const id = extension.id.toLowerCase();
    if (lower === id) return [id];
    if (lower.startsWith(`${id}:`)) {
      const path = parseAttrPath(text.slice(id.length + 1), 'invalidValue');
      return [id, path.attr.toLowerCase(), ...(path.sub ? [path.sub.toLowerCase()] : [])];
    }
  }
  const path = parseAttrPath(text, 'invalidValue');
  // An unknown schema's attribute names nothing the resource holds.
  if (path.urn && path.urn.toLowerCase() !== schema.core.id.toLowerCase()) return [`${path.urn}:${path.attr}`.toLowerCase()];
  return [path.attr.toLowerCase(), ...(path.sub ? [path.sub.toLowerCase()] : [])];
}

function projectionOf(query: URLSearchParams, schema: ResourceSchema): Projection | undefined {
  const split = (name: string) => {
    const value = query.get(name);
    if (value === null || value.trim() === '') return undefined;
    return value.split(',').map((item) => projectionPath(item.trim(), schema));
  };
  const attributes = split('attributes');
  const excluded = split('excludedAttributes');
  if (!attributes && !excluded) return undefined;
  return { ...(attributes ? { attributes } : {}), ...(excluded ? { excluded } : {}) };
}

/** The rest of each path that starts at `name`. */
const below = (paths: string[][], name: string) => paths.filter((path) => path[0] === name).map((path) => path.slice(1));

/**
 * What of a value the paths keep (`keep`) or leave (`!keep`): a path that ends here takes the
 * whole value, a longer one goes on into its sub-attributes, or those of each element of a
 * multi-valued one. An object or a list left empty is left out: it has no value (RFC 7643 §2.5).
 */
function projectValue(value: unknown, paths: string[][], keep: boolean): unknown {
  if (paths.some((path) => path.length === 0)) return keep ? value : undefined;
  if (paths.length === 0) return keep ? undefined : value;
  if (Array.isArray(value)) {
    const elements = value.map((element) => projectValue(element, paths, keep)).filter((element) => element !== undefined);
    return elements.length > 0 ? elements : undefined;
  }
  if (value === null || typeof value !== 'object') return keep ? undefined : value;
  const out: Attributes = {};
  for (const [key, inner] of Object.entries(value as Attributes)) {
    const projected = projectValue(inner, below(paths, key.toLowerCase()), keep);
    if (projected !== undefined) out[key] = projected;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/** RFC 7644 §3.4.2.5: `id` and `schemas` are always returned; the rest follows the parameters. */
function project(resource: Attributes, projection: Projection): Attributes {
  const always = new Set(['id', 'schemas']);
  const keep = projection.attributes !== undefined;
  const paths = projection.attributes ?? projection.excluded ?? [];
  const out: Attributes = {};
  for (const [key, value] of Object.entries(resource)) {
    const lower = key.toLowerCase();
    const projected = always.has(lower) ? value : projectValue(value, below(paths, lower), keep);
    if (projected !== undefined) out[key] = projected;
  }
  return out;
}

function segmentsOf(path: string): string[] {
  try {
    return path.split('/').filter(Boolean).map((segment) => decodeURIComponent(segment));
  } catch {
    throw notFound(`no SCIM endpoint at ${path}`);
  }
}

function integerParam(query: URLSearchParams, name: string): number | undefined {
  const raw = query.get(name);
  if (raw === null || raw === '') return undefined;
  if (!/^-?\d+$/.test(raw.trim())) throw badRequest(`${name} must be an integer, not "${raw}"`, 'invalidValue');
  // RFC 7644 §3.4.2.4: a negative count is taken as 0.
  return Math.max(Number(raw), name === 'count' ? 0 : Number.MIN_SAFE_INTEGER);
}

function lowerBound(sorted: number[], value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new ScimError(413, `the request body is larger than ${MAX_BODY_BYTES} bytes`));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function parseBody(raw: string): unknown {
  if (raw.trim() === '') return undefined;
  let body: unknown;
  try {
    body = JSON.parse(raw) as unknown;
  } catch {
    throw badRequest('the request body is not valid JSON', 'invalidSyntax');
  }
  // Writing such a body to the request log, or any value of it back, would exhaust the stack.
  const deep = nestedDeeperThan(body, MAX_JSON_DEPTH);
  if (deep) throw badRequest(`the request body nests values more than ${MAX_JSON_DEPTH} levels deep (at ${formatJsonPath(deep)}), deeper than any SCIM attribute`, 'invalidSyntax');
  return body;
}

function errorReply(error: unknown): Reply {
  if (error instanceof ScimError) {
    const allow = (error as ScimError & { allow?: string }).allow;
    const headers: Record<string, string> = {
      ...(allow ? { Allow: allow } : {}),
      ...(error.status === 401 ? { 'WWW-Authenticate': 'Bearer realm="scim"' } : {}),
    };
    return { status: error.status, body: errorBody(error.status, error.message, error.scimType), headers };
  }
  const detail = error instanceof Error ? error.message : String(error);
  return { status: 500, body: errorBody(500, `internal error in the emulator: ${detail}`) };
}

function openRequestLog(file: string): number {
  try {
    return openSync(file, 'a');
  } catch (error) {
    throw new ScimformError(`the request log ${file} cannot be opened: ${(error as Error).message}`, {
      hint: 'Give --request-log a file in a folder that exists and can be written.',
    });
  }
}

/** A reply as it goes on the wire: status, headers and the encoded body. */
interface Encoded {
  status: number;
  headers: Record<string, string>;
  data?: Buffer;
}

/**
 * Encodes a reply at once: its body shares values with the store, which another request may
 * change while this one waits out its latency.
 */
function encode(reply: Reply): Encoded {
  const headers: Record<string, string> = { ...reply.headers };
  if (reply.body === undefined || reply.status === 204 || reply.status === 304) return { status: reply.status, headers };
  // Encoded once: the length and the bytes sent come from the same buffer.
  const data = Buffer.from(JSON.stringify(reply.body), 'utf8');
  headers['Content-Type'] = CONTENT_TYPE;
  headers['Content-Length'] = String(data.length);
  return { status: reply.status, headers, data };
}

function send(res: ServerResponse, encoded: Encoded): void {
  res.writeHead(encoded.status, encoded.headers);
  if (encoded.data === undefined) res.end();
  else res.end(encoded.data);
}

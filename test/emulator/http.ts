/** Plain HTTP calls to the emulator with `fetch`: the conformance tests never use scimform's own client. */
export interface ScimResponse {
  status: number;
  headers: Headers;
  body: any;
}

export const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
export const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
export const ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';
export const LIST = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';

export function client(base: string, defaults: Record<string, string> = {}) {
  async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<ScimResponse> {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: { accept: 'application/scim+json', ...(body === undefined ? {} : { 'content-type': 'application/scim+json' }), ...defaults, ...headers },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: text === '' ? undefined : JSON.parse(text) };
  }
  return {
    call,
    get: (path: string, headers?: Record<string, string>) => call('GET', path, undefined, headers),
    post: (path: string, body: unknown, headers?: Record<string, string>) => call('POST', path, body, headers),
    put: (path: string, body: unknown, headers?: Record<string, string>) => call('PUT', path, body, headers),
    patch: (path: string, operations: unknown[], headers?: Record<string, string>) => call('PATCH', path, { schemas: [PATCH_OP], Operations: operations }, headers),
    delete: (path: string, headers?: Record<string, string>) => call('DELETE', path, undefined, headers),
    list: (resource: string, params: Record<string, string | number> = {}) =>
      call('GET', `/${resource}?${new URLSearchParams(Object.entries(params).map(([k, v]): [string, string] => [k, String(v)])).toString()}`),
  };
}

export const user = (userName: string, extra: Record<string, unknown> = {}) => ({
  schemas: [USER],
  userName,
  emails: [{ value: userName, type: 'work', primary: true }],
  ...extra,
});

/** Expects a SCIM error body (RFC 7644 §3.12) with this status and scimType. */
export function isScimError(response: ScimResponse, status: number, scimType?: string): boolean {
  const body = response.body;
  return (
    response.status === status &&
    response.headers.get('content-type')?.startsWith('application/scim+json') === true &&
    Array.isArray(body?.schemas) &&
    body.schemas[0] === ERROR &&
    body.status === String(status) &&
    body.scimType === scimType &&
    typeof body.detail === 'string'
  );
}

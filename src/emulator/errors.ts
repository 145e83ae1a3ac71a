/**
 * SCIM protocol errors (RFC 7644 §3.12). Thrown anywhere inside a request and turned into an
 * error body by the server, so handlers stay linear.
 */

export const ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error';

/** `scimType` values of RFC 7644 §3.12 Table 9, plus RFC 9865's cursor errors. */
export type ScimType =
  | 'invalidFilter'
  | 'tooMany'
  | 'uniqueness'
  | 'mutability'
  | 'invalidSyntax'
  | 'invalidPath'
  | 'noTarget'
  | 'invalidValue'
  | 'invalidVers'
  | 'sensitive'
  | 'invalidCursor'
  | 'expiredCursor'
  | 'invalidCount';

export class ScimError extends Error {
  readonly status: number;
  readonly scimType: ScimType | undefined;

  constructor(status: number, detail: string, scimType?: ScimType) {
    super(detail);
    this.name = 'ScimError';
    this.status = status;
    this.scimType = scimType;
  }
}

/** The error body; `status` is a string, as RFC 7644 §3.12 defines it. */
export function errorBody(status: number, detail: string, scimType?: ScimType): Record<string, unknown> {
  return {
    schemas: [ERROR_SCHEMA],
    status: String(status),
    ...(scimType ? { scimType } : {}),
    detail,
  };
}

export const badRequest = (detail: string, scimType: ScimType) => new ScimError(400, detail, scimType);
export const notFound = (detail: string) => new ScimError(404, detail);

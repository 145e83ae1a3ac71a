/**
 * The attribute definitions the emulator enforces, from RFC 7643 §4 (User, Group) and §4.3
 * (enterprise extension). They drive attribute-name case-insensitivity, mutability, type
 * checks and case-exactness in filters, and are served as-is from `/Schemas`.
 */

export type AttributeType = 'string' | 'boolean' | 'complex' | 'reference' | 'dateTime' | 'integer';
export type Mutability = 'readOnly' | 'readWrite' | 'immutable' | 'writeOnly';
export type Returned = 'always' | 'never' | 'default' | 'request';

export interface AttributeDef {
  name: string;
  type: AttributeType;
  multiValued: boolean;
  required: boolean;
  caseExact: boolean;
  mutability: Mutability;
  returned: Returned;
  uniqueness: 'none' | 'server' | 'global';
  description: string;
  subAttributes?: AttributeDef[];
  referenceTypes?: string[];
  canonicalValues?: string[];
}

export interface SchemaDef {
  id: string;
  name: string;
  description: string;
  attributes: AttributeDef[];
}

export const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group';
export const ENTERPRISE_USER_SCHEMA = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';

type Partial_ = Partial<AttributeDef> & Pick<AttributeDef, 'name'>;

function attr(spec: Partial_): AttributeDef {
  return {
    type: 'string',
    multiValued: false,
    required: false,
    caseExact: false,
    mutability: 'readWrite',
    returned: 'default',
    uniqueness: 'none',
    description: spec.name,
    ...spec,
  };
}

const multiValued = (name: string, subAttributes: AttributeDef[], extra: Partial<AttributeDef> = {}): AttributeDef =>
  attr({ name, type: 'complex', multiValued: true, subAttributes, ...extra });

const typedValues = (canonical?: string[]) => [
  attr({ name: 'value' }),
  attr({ name: 'display' }),
  attr({ name: 'type', ...(canonical ? { canonicalValues: canonical } : {}) }),
  attr({ name: 'primary', type: 'boolean' }),
];

const userAttributes: AttributeDef[] = [
  attr({ name: 'userName', required: true, uniqueness: 'server', description: 'Unique identifier for the user, typically the login email.' }),
  attr({
    name: 'name',
    type: 'complex',
    subAttributes: ['formatted', 'familyName', 'givenName', 'middleName', 'honorificPrefix', 'honorificSuffix'].map((name) => attr({ name })),
  }),
  attr({ name: 'displayName' }),
  attr({ name: 'nickName' }),
  attr({ name: 'profileUrl', type: 'reference', referenceTypes: ['external'] }),
  attr({ name: 'title' }),
  attr({ name: 'userType' }),
  attr({ name: 'preferredLanguage' }),
  attr({ name: 'locale' }),
  attr({ name: 'timezone' }),
  attr({ name: 'active', type: 'boolean' }),
  attr({ name: 'password', mutability: 'writeOnly', returned: 'never' }),
  multiValued('emails', typedValues(['work', 'home', 'other'])),
  multiValued('phoneNumbers', typedValues(['work', 'home', 'mobile', 'fax', 'pager', 'other'])),
  multiValued('photos', typedValues(['photo', 'thumbnail'])),
  multiValued('addresses', [
    ...['formatted', 'streetAddress', 'locality', 'region', 'postalCode', 'country', 'type'].map((name) => attr({ name })),
    attr({ name: 'primary', type: 'boolean' }),
  ]),
  multiValued(
    'groups',
    [
      attr({ name: 'value', mutability: 'readOnly' }),
      attr({ name: '$ref', type: 'reference', mutability: 'readOnly', referenceTypes: ['Group'] }),
      attr({ name: 'display', mutability: 'readOnly' }),
      attr({ name: 'type', mutability: 'readOnly' }),
    ],
    { mutability: 'readOnly' },
  ),
  multiValued('entitlements', typedValues()),
  multiValued('roles', typedValues()),
];

const groupAttributes: AttributeDef[] = [
  // Unique here (409 uniqueness), which RFC 7643 leaves to the server: /Schemas says so.
  attr({ name: 'displayName', required: true, uniqueness: 'server', description: 'Human-readable name of the group.' }),
  multiValued('members', [
    attr({ name: 'value', mutability: 'immutable', caseExact: true }),
    attr({ name: '$ref', type: 'reference', mutability: 'immutable', referenceTypes: ['User', 'Group'] }),
    attr({ name: 'display', mutability: 'immutable' }),
    attr({ name: 'type', mutability: 'immutable' }),
  ]),
];

const enterpriseAttributes: AttributeDef[] = [
  ...['employeeNumber', 'costCenter', 'organization', 'division', 'department'].map((name) => attr({ name })),
  attr({
    name: 'manager',
    type: 'complex',
    subAttributes: [
      attr({ name: 'value' }),
      attr({ name: '$ref', type: 'reference', referenceTypes: ['User'] }),
      attr({ name: 'displayName', mutability: 'readOnly' }),
    ],
  }),
];

/** Attributes every resource has (RFC 7643 §3.1); `externalId` is case-exact. */
export const COMMON_ATTRIBUTES: AttributeDef[] = [
  attr({ name: 'id', mutability: 'readOnly', returned: 'always', caseExact: true, uniqueness: 'server' }),
  attr({ name: 'externalId', caseExact: true }),
  attr({
    name: 'meta',
    type: 'complex',
    mutability: 'readOnly',
    subAttributes: ['resourceType', 'location', 'version'].map((name) => attr({ name, mutability: 'readOnly', caseExact: true })).concat(
      ['created', 'lastModified'].map((name) => attr({ name, type: 'dateTime', mutability: 'readOnly' })),
    ),
  }),
];

export const SCHEMAS: Record<string, SchemaDef> = {
  [USER_SCHEMA]: { id: USER_SCHEMA, name: 'User', description: 'User Account', attributes: userAttributes },
  [GROUP_SCHEMA]: { id: GROUP_SCHEMA, name: 'Group', description: 'Group', attributes: groupAttributes },
  [ENTERPRISE_USER_SCHEMA]: { id: ENTERPRISE_USER_SCHEMA, name: 'EnterpriseUser', description: 'Enterprise User', attributes: enterpriseAttributes },
};

export type ResourceKind = 'User' | 'Group';

export interface ResourceSchema {
  kind: ResourceKind;
  core: SchemaDef;
  extensions: SchemaDef[];
}

export function resourceSchema(kind: ResourceKind, withEnterprise: boolean): ResourceSchema {
  if (kind === 'Group') return { kind, core: SCHEMAS[GROUP_SCHEMA]!, extensions: [] };
  return { kind, core: SCHEMAS[USER_SCHEMA]!, extensions: withEnterprise ? [SCHEMAS[ENTERPRISE_USER_SCHEMA]!] : [] };
}

/** A stored resource's `schemas`, as it is returned: its core schema, and each extension it has values of. */
export function schemaIdsOf(kind: ResourceKind, resource: Record<string, unknown>): string[] {
  return kind === 'Group' ? [GROUP_SCHEMA] : [USER_SCHEMA, ...(resource[ENTERPRISE_USER_SCHEMA] ? [ENTERPRISE_USER_SCHEMA] : [])];
}

/** Case-insensitive lookup of a sub-attribute or top-level attribute (RFC 7643 §2.1). */
export function findAttribute(defs: AttributeDef[], name: string): AttributeDef | undefined {
  const lower = name.toLowerCase();
  return defs.find((def) => def.name.toLowerCase() === lower);
}

/** Top-level attribute of a core schema, including the common ones. */
export function findCoreAttribute(schema: ResourceSchema, name: string): AttributeDef | undefined {
  return findAttribute(COMMON_ATTRIBUTES, name) ?? findAttribute(schema.core.attributes, name);
}

export function findExtension(schema: ResourceSchema, urn: string): SchemaDef | undefined {
  const lower = urn.toLowerCase();
  return schema.extensions.find((ext) => ext.id.toLowerCase() === lower);
}

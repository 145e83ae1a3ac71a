/**
 * The discovery endpoints (RFC 7644 §4, RFC 7643 §5–7), built from the same options and schema
 * definitions the emulator enforces, so what it advertises is what it does.
 */
import { ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA, SCHEMAS, USER_SCHEMA, type SchemaDef } from './schemas.js';

export const LIST_RESPONSE_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';
/** Extension on the Group resource type saying which methods this service accepts for groups. */
export const EMULATOR_RESOURCE_TYPE_EXTENSION = 'urn:scimform:params:scim:schemas:extension:emulator:2.0:ResourceType';

export interface DiscoveryOptions {
  baseUrl: string;
  profile: 'lightstep' | 'generic';
  pagination: 'cursor' | 'index';
  defaultPageSize: number;
  maxPageSize: number;
  etags: boolean;
}

export function serviceProviderConfig(options: DiscoveryOptions): Record<string, unknown> {
  return {
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig'],
    documentationUri: 'https://www.rfc-editor.org/rfc/rfc7644',
    patch: { supported: true },
    bulk: { supported: false, maxOperations: 0, maxPayloadSize: 0 },
    filter: { supported: true, maxResults: options.maxPageSize },
    // A password can be set by POST, PUT and PATCH (stored, never returned): that is this operation.
    changePassword: { supported: true },
    sort: { supported: false },
    etag: { supported: options.etags },
    // RFC 9865 §4: which pagination styles this service provider offers.
    pagination: {
      cursor: options.pagination === 'cursor',
      index: options.pagination === 'index',
      defaultPaginationMethod: options.pagination,
      defaultPageSize: options.defaultPageSize,
      maxPageSize: options.maxPageSize,
    },
    authenticationSchemes: [
      {
        type: 'oauthbearertoken',
        name: 'OAuth Bearer Token',
        description: 'Authentication with a bearer token in the Authorization header',
        specUri: 'https://www.rfc-editor.org/rfc/rfc6750',
        primary: true,
      },
    ],
    meta: { resourceType: 'ServiceProviderConfig', location: `${options.baseUrl}/ServiceProviderConfig` },
  };
}

export function resourceTypes(options: DiscoveryOptions): Record<string, unknown>[] {
  const groupsWritable = options.profile === 'generic';
  return [
    {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:ResourceType'],
      id: 'User',
      name: 'User',
      endpoint: '/Users',
      description: 'User Account',
      schema: USER_SCHEMA,
      schemaExtensions: options.profile === 'generic' ? [{ schema: ENTERPRISE_USER_SCHEMA, required: false }] : [],
      meta: { resourceType: 'ResourceType', location: `${options.baseUrl}/ResourceTypes/User` },
    },
    {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:ResourceType', EMULATOR_RESOURCE_TYPE_EXTENSION],
      id: 'Group',
      name: 'Group',
      endpoint: '/Groups',
      description: groupsWritable ? 'Group' : 'Group (read-only on this service)',
      schema: GROUP_SCHEMA,
      schemaExtensions: [],
      [EMULATOR_RESOURCE_TYPE_EXTENSION]: { supportedMethods: groupsWritable ? ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] : ['GET'] },
      meta: { resourceType: 'ResourceType', location: `${options.baseUrl}/ResourceTypes/Group` },
    },
  ];
}

export function schemas(options: DiscoveryOptions): Record<string, unknown>[] {
  const ids = options.profile === 'generic' ? [USER_SCHEMA, GROUP_SCHEMA, ENTERPRISE_USER_SCHEMA] : [USER_SCHEMA, GROUP_SCHEMA];
  return ids.map((id) => schemaRepresentation(SCHEMAS[id]!, options.baseUrl));
}

function schemaRepresentation(schema: SchemaDef, baseUrl: string): Record<string, unknown> {
  return {
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:Schema'],
    id: schema.id,
    name: schema.name,
    description: schema.description,
    attributes: schema.attributes,
    meta: { resourceType: 'Schema', location: `${baseUrl}/Schemas/${schema.id}` },
  };
}

import { applyDecorators, INestApplication, SetMetadata } from '@nestjs/common';
import {
  ApiHeader,
  ApiParam,
  ApiProperty,
  ApiPropertyOptional,
  ApiResponse,
  DECORATORS,
  DocumentBuilder,
  OpenAPIObject,
  OperationObject,
  ResponseObject,
  SwaggerModule,
} from '@nestjs/swagger';
import { ErrorBody } from './error-response';
import { FieldError } from './domain-error';

export class FieldErrorResponse implements FieldError {
  @ApiProperty({ example: 'profile.fullName' }) field: string;
  @ApiProperty({ example: 'must be at least 2 characters' }) message: string;
}

/** QUOTA_EXCEEDED's `quota`: what a reservation asked for against what remains. */
export class QuotaShortfallResponse {
  @ApiProperty({ enum: ['interviews', 'storage'] }) resource: string;
  @ApiProperty({ example: 1 }) requested: number;
  @ApiProperty({ example: 8 }) used: number;
  @ApiProperty({ example: 2 }) reserved: number;
  @ApiProperty({ example: 10 }) limit: number;
  @ApiProperty({ example: 0 }) remaining: number;
}

/** The body of every error the service answers with (see toErrorBody). */
export class ErrorResponse implements ErrorBody {
  @ApiProperty({ example: 400 }) statusCode: number;
  @ApiProperty({ example: 'Bad Request' }) error: string;
  @ApiProperty({ description: 'Stable machine-readable code', example: 'VALIDATION_FAILED' }) code: string;
  @ApiProperty({ example: 'Validation failed' }) message: string;
  @ApiPropertyOptional({ type: [FieldErrorResponse], description: 'Present for VALIDATION_FAILED' }) details?: FieldError[];
  @ApiPropertyOptional({ type: QuotaShortfallResponse, description: 'Present for QUOTA_EXCEEDED: what remains' })
  quota?: QuotaShortfallResponse;
  @ApiPropertyOptional({ format: 'uuid', description: 'Present for RESERVATION_EXISTS: the live reservation holding the reference' })
  reservationId?: string;
  @ApiProperty({ format: 'date-time' }) timestamp: string;
  @ApiProperty({ example: '/api/v1/users' }) path: string;
  @ApiProperty({ description: 'Also sent in X-Request-Id', example: '4bf92f3577b34da6a3ce929d0e0e4736' }) traceId: string;
}

/** Documents error responses: `ApiErrors([404, 'USER_NOT_FOUND'], [403, 'ACCESS_DENIED'])`. */
export function ApiErrors(...errors: [status: number, codes: string][]): MethodDecorator & ClassDecorator {
  return applyDecorators(...errors.map(([status, codes]) => ApiResponse({ status, type: ErrorResponse, description: codes })));
}

/** The `:id` of /api/v1/users routes, and the version headers every versioned resource shares. */
export const ApiUserId = () => ApiParam({ name: 'id', format: 'uuid', description: 'User id (400 VALIDATION_FAILED if not a UUID)' });
export const ApiIfMatch = () =>
  ApiHeader({ name: 'If-Match', required: false, description: 'An ETag ("3"); 412 VERSION_MISMATCH when stale' });
export const ApiIfNoneMatch = () =>
  applyDecorators(
    ApiHeader({ name: 'If-None-Match', required: false, description: 'ETags ("3", W/"3") or *; 304 when one is current' }),
    ApiResponse({ status: 304, description: 'Not Modified: If-None-Match named the current version (no body)', headers: ETAG_HEADER }),
  );
export const ETAG_HEADER = { ETag: { description: 'Version of the resource: "<version>"', schema: { type: 'string' } } };

export const BEARER = 'bearer';
export const INTERNAL = 'internal-token';
/** `security: []`: the operation needs no credentials (see Public()). */
export const ApiNoSecurity = () => SetMetadata(DECORATORS.API_SECURITY, []);

const errorResponse = (description: string): ResponseObject => ({
  description,
  content: { 'application/json': { schema: { $ref: '#/components/schemas/ErrorResponse' } } },
});

/**
 * Statuses the HTTP layer answers on any route, before or around the handler, in the error format. Fastify
 * parses a body sent with any POST, PUT, PATCH or DELETE, so each of those may answer 413 and 415.
 */
const SHARED_RESPONSES: Record<string, ResponseObject> = {
  PayloadTooLarge: errorResponse('PAYLOAD_TOO_LARGE: the body is over HTTP_BODY_LIMIT_BYTES'),
  UnsupportedMediaType: errorResponse('UNSUPPORTED_MEDIA_TYPE: the body is not application/json'),
  ClientError: errorResponse(
    'Refused by the HTTP layer before the route runs, e.g. 405 (a method the path does not have), ' +
      '414 (a path parameter too long), 431 (headers too large)',
  ),
  ServerError: errorResponse('500 INTERNAL_ERROR: an unexpected failure, e.g. the database unreachable (the body never says more)'),
};
const ref = (name: keyof typeof SHARED_RESPONSES) => ({ $ref: `#/components/responses/${name}` });
const WITH_BODY = new Set(['post', 'put', 'patch', 'delete']);

function addSharedResponses(document: OpenAPIObject): void {
  document.components = { ...document.components, responses: { ...document.components?.responses, ...SHARED_RESPONSES } };
  for (const operations of Object.values(document.paths)) {
    for (const [method, operation] of Object.entries(operations) as [string, OperationObject][]) {
      const responses = operation.responses;
      if (WITH_BODY.has(method)) {
        responses['413'] ??= ref('PayloadTooLarge');
        responses['415'] ??= ref('UnsupportedMediaType');
      }
      responses['4XX'] ??= ref('ClientError');
      responses['5XX'] ??= ref('ServerError');
    }
  }
}

/** The OpenAPI document of the service's routes; identical for the running service and `npm run openapi`. */
export function openApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('user-service')
    .setDescription(
      'User profiles, usage statistics, quotas and preferences. Every error has the ErrorResponse shape; ' +
        'every response carries X-Request-Id (the trace id).',
    )
    .setVersion('1.0.0')
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'Keycloak access token (via the gateway)' }, BEARER)
    .addApiKey({ type: 'apiKey', in: 'header', name: 'X-Internal-Token', description: 'Service-to-service token' }, INTERNAL)
    .addServer('/', 'This service, where it serves this document (http://localhost:3003 by default)')
    .build();
  const document = SwaggerModule.createDocument(app, config, { extraModels: [ErrorResponse] });
  addSharedResponses(document);
  return document;
}

/** Swagger UI at /docs, the document at /docs-json. */
export function serveOpenApi(app: INestApplication): void {
  const document = openApiDocument(app);
  SwaggerModule.setup('docs', app, document, { raw: ['json'], jsonDocumentUrl: 'docs-json' });
}

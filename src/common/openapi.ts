import { applyDecorators, INestApplication } from '@nestjs/common';
import { ApiHeader, ApiParam, ApiProperty, ApiPropertyOptional, ApiResponse, DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { ErrorBody } from './error-response';
import { FieldError } from './domain-error';

export class FieldErrorResponse implements FieldError {
  @ApiProperty({ example: 'profile.fullName' }) field: string;
  @ApiProperty({ example: 'must be at least 2 characters' }) message: string;
}

/** The body of every error the service answers with (see toErrorBody). */
export class ErrorResponse implements ErrorBody {
  @ApiProperty({ example: 400 }) statusCode: number;
  @ApiProperty({ example: 'Bad Request' }) error: string;
  @ApiProperty({ description: 'Stable machine-readable code', example: 'VALIDATION_FAILED' }) code: string;
  @ApiProperty({ example: 'Validation failed' }) message: string;
  @ApiPropertyOptional({ type: [FieldErrorResponse], description: 'Present for VALIDATION_FAILED' }) details?: FieldError[];
  @ApiProperty({ format: 'date-time' }) timestamp: string;
  @ApiProperty({ example: '/api/v1/users' }) path: string;
  @ApiProperty({ description: 'Also sent in X-Request-Id', example: '4bf92f3577b34da6a3ce929d0e0e4736' }) traceId: string;
}

/** Documents error responses: `ApiErrors([404, 'USER_NOT_FOUND'], [403, 'ACCESS_DENIED'])`. */
export function ApiErrors(...errors: [status: number, codes: string][]): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ...errors.map(([status, codes]) => ApiResponse({ status, type: ErrorResponse, description: codes })),
  );
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
    .build();
  return SwaggerModule.createDocument(app, config, { extraModels: [ErrorResponse] });
}

/** Swagger UI at /docs, the document at /docs-json. */
export function serveOpenApi(app: INestApplication): void {
  const document = openApiDocument(app);
  SwaggerModule.setup('docs', app, document, { raw: ['json'], jsonDocumentUrl: 'docs-json' });
}

import { CreateUserDto, NewProfileDto, ProfilePatchDto, UpdateUserDto } from './dto';

/**
 * The bodies of POST and PATCH /users (hot-routes.ts) taken without class-transformer and class-validator when they
 * are well formed: class-transformer + class-validator were ~8 % of a POST's CPU in the profile (bench/http, issue
 * 13). A body is taken here only if every field has the type its DTO requires and no field is unknown; anything
 * else goes to the BodyValidationPipe, so that every refusal is the pipe's own, word for word. The shapes repeat
 * the DTOs' decorators (dto.ts); hot-bodies.spec.ts holds them to the pipe.
 */
export interface Shape {
  dto: new () => object;
  fields: Record<string, Rule>;
}
/** text: a string; text?: absent or a string; text|null?: absent, null or a string; or a nested object. */
type Rule = 'text' | 'text?' | 'text|null?' | { nested: Shape; optional: boolean };

const NEW_PROFILE: Shape = {
  dto: NewProfileDto,
  fields: { fullName: 'text', companyName: 'text|null?', phone: 'text|null?', bio: 'text|null?' },
};
export const CREATE_USER: Shape = {
  dto: CreateUserDto,
  fields: { keycloakId: 'text', email: 'text', profile: { nested: NEW_PROFILE, optional: false } },
};
const PROFILE_PATCH: Shape = {
  dto: ProfilePatchDto,
  fields: { fullName: 'text?', companyName: 'text|null?', phone: 'text|null?', bio: 'text|null?' },
};
export const UPDATE_USER: Shape = { dto: UpdateUserDto, fields: { profile: { nested: PROFILE_PATCH, optional: true } } };

/** The body as the BodyValidationPipe would return it (an instance of the DTO), or undefined: let the pipe judge. */
export function wellFormed<T>(shape: Shape, body: unknown): T | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined;
  const fields = body as Record<string, unknown>;
  for (const name of Object.keys(fields)) if (!Object.hasOwn(shape.fields, name)) return undefined;
  const dto = new shape.dto() as Record<string, unknown>;
  for (const name in shape.fields) {
    const rule = shape.fields[name];
    const value = fields[name];
    if (value === undefined) {
      if (rule === 'text' || (typeof rule === 'object' && !rule.optional)) return undefined;
    } else if (typeof rule === 'object') {
      const nested = wellFormed(rule.nested, value);
      if (nested === undefined) return undefined;
      dto[name] = nested;
    } else if (typeof value === 'string' || (value === null && rule === 'text|null?')) {
      dto[name] = value;
    } else {
      return undefined;
    }
  }
  return dto as T;
}

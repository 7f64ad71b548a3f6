import { Type } from '@nestjs/common';
import { BodyValidationPipe } from '../common/validation';
import { getMetadataStorage } from 'class-validator';
import { CreateUserDto, NewProfileDto, ProfilePatchDto, UpdateUserDto } from './dto';
import { CREATE_USER, Shape, UPDATE_USER, wellFormed } from './hot-bodies';

const pipe = new BodyValidationPipe();
const byPipe = (metatype: Type<unknown>, body: unknown) =>
  pipe.transform(body, { type: 'body', metatype }).then(
    (value) => ({ ok: true as const, value }),
    () => ({ ok: false as const }),
  );

const profile = { fullName: 'Ann Smith' };
const cases: { shape: Shape; metatype: Type<unknown>; taken: unknown[]; left: unknown[] }[] = [
  {
    shape: CREATE_USER,
    metatype: CreateUserDto,
    taken: [
      { keycloakId: 'kc', email: 'a@example.com', profile },
      { keycloakId: '', email: 'nope', profile: { fullName: 'A', companyName: null, phone: '+1', bio: 'x\u0000' } },
      { keycloakId: 'kc', email: 'a@example.com', profile: { fullName: 'Ann', companyName: 'Acme', phone: null, bio: null } },
    ],
    left: [
      null,
      [],
      'text',
      42,
      {},
      { keycloakId: 'kc', email: 'a@example.com' },
      { keycloakId: 'kc', email: 'a@example.com', profile: null },
      { keycloakId: 'kc', email: 'a@example.com', profile: 'Ann' },
      { keycloakId: 'kc', email: 'a@example.com', profile: [] },
      { keycloakId: 'kc', email: 'a@example.com', profile: {} },
      { keycloakId: 'kc', email: 'a@example.com', profile: { fullName: null } },
      { keycloakId: 'kc', email: 'a@example.com', profile: { fullName: 'Ann', bio: 5 } },
      { keycloakId: 'kc', email: 'a@example.com', profile: { fullName: 'Ann', avatarUrl: 'x' } },
      { keycloakId: 'kc', email: 'a@example.com', profile, role: 'admin' },
      { keycloakId: 'kc', email: 'a@example.com', profile, toString: 'x' },
      { keycloakId: 5, email: true, profile },
      { keycloakId: null, email: 'a@example.com', profile },
    ],
  },
  {
    shape: UPDATE_USER,
    metatype: UpdateUserDto,
    taken: [
      {},
      { profile: {} },
      { profile: { bio: 'new' } },
      { profile: { fullName: 'Ann', companyName: null, phone: null, bio: null } },
      { profile: { companyName: 'Acme', phone: '+1 555' } },
    ],
    left: [
      null,
      [],
      { profile: null }, // the pipe takes it (IsOptional); it judges
      { profile: 'x' },
      { profile: [] },
      { profile: { fullName: null } },
      { profile: { fullName: 5 } },
      { profile: { bio: false } },
      { profile: { bio: 'x', avatarUrl: 'y' } },
      { profile: {}, email: 'a@example.com' },
      { hasOwnProperty: 1 },
    ],
  },
];

describe('hot-bodies: well-formed bodies without the pipe', () => {
  // The shapes repeat these rules: a DTO that gains or changes one fails here, until its shape says the same.
  it('the DTOs still have the rules the shapes were written from', () => {
    const rules = (dto: Type<unknown>) =>
      getMetadataStorage()
        .getTargetValidationMetadatas(dto, '', false, false)
        .map((rule) => `${rule.propertyName} ${rule.name ?? rule.type}`)
        .sort();
    expect({
      CreateUserDto: rules(CreateUserDto),
      NewProfileDto: rules(NewProfileDto),
      UpdateUserDto: rules(UpdateUserDto),
      ProfilePatchDto: rules(ProfilePatchDto),
    }).toEqual({
      CreateUserDto: ['email isString', 'keycloakId isString', 'profile isDefined', 'profile isObject', 'profile nestedValidation'],
      NewProfileDto: [
        'bio conditionalValidation',
        'bio isString',
        'companyName conditionalValidation',
        'companyName isString',
        'fullName isString',
        'phone conditionalValidation',
        'phone isString',
      ],
      UpdateUserDto: ['profile isObject', 'profile isOptional', 'profile nestedValidation'],
      ProfilePatchDto: ['bio', 'companyName', 'fullName', 'phone'].flatMap((field) => [
        `${field} conditionalValidation`,
        `${field} isString`,
      ]),
    });
  });

  for (const { shape, metatype, taken, left } of cases) {
    it(`${metatype.name}: takes well-formed bodies, equal to what the pipe returns`, async () => {
      for (const body of taken) {
        const fast = wellFormed(shape, body);
        const slow = await byPipe(metatype, body);
        expect({ body, ok: slow.ok }).toEqual({ body, ok: true });
        // toStrictEqual: the same classes (the DTO, its nested DTO) and the same keys, absent ones absent.
        expect(fast).toStrictEqual(slow.ok && slow.value);
        expect(fast).toBeInstanceOf(metatype);
      }
    });

    it(`${metatype.name}: leaves everything else to the pipe`, async () => {
      for (const body of left) expect({ body, fast: wellFormed(shape, body) }).toEqual({ body, fast: undefined });
    });
  }
});

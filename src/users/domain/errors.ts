import { DomainError } from '../../common/domain-error';

export class UserNotFound extends DomainError {
  constructor(id: string) {
    super('USER_NOT_FOUND', `User with ID ${id} not found`);
  }
}

export class EmailTaken extends DomainError {
  constructor(email: string) {
    super('EMAIL_TAKEN', `User with email ${email} already exists`);
  }
}

export class KeycloakIdTaken extends DomainError {
  constructor(keycloakId: string) {
    super('KEYCLOAK_ID_TAKEN', `User with Keycloak ID ${keycloakId} already exists`);
  }
}

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

/** The id was a user's, who has been erased: references to it resolve to "an erased user" (410). */
export class UserErased extends DomainError {
  constructor(id: string) {
    super('USER_ERASED', `User with ID ${id} has been erased`);
  }
}

export class AccountSuspended extends DomainError {
  constructor() {
    super('ACCOUNT_SUSPENDED', 'Your account is suspended: you may read and export your data, and delete your account, but not change it');
  }
}

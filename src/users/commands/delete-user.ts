import { Command, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { Actor } from '../../common/token-verifier';
import { UserRepository } from '../persistence/user.repository';
import { modifyUser } from './modify-user';

/** Soft delete: the row stays (deleted_at), the user is gone from every read, email and Keycloak id are free again. */
export class DeleteUser extends Command<void> {
  constructor(
    readonly actor: Actor,
    readonly userId: string,
    readonly ifMatch: number[] | null,
  ) {
    super();
  }
}

@CommandHandler(DeleteUser)
export class DeleteUserHandler implements ICommandHandler<DeleteUser> {
  constructor(private readonly users: UserRepository) {}

  async execute({ actor, userId, ifMatch }: DeleteUser): Promise<void> {
    await modifyUser(this.users, actor, userId, ifMatch, (user) => user.delete());
  }
}

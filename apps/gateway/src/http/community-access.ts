import { DomainError } from '../../../../libs/domain/src';
import type { Actor } from './roles';

/** Staff of one community see and change that community's registry only; district staff (null) every one. */
export function assertCommunityAccess(actor: Actor, communityId: string): void {
  if (actor.communityId && actor.communityId !== communityId) {
    throw new DomainError(
      'forbidden',
      '这是另一个社区的数据，您无权查看或修改 / this belongs to another community; ask its staff or a district administrator',
    );
  }
}

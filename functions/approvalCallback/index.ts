import type { HttpTarget } from '../../shared/adapters/http.js';

/** HTTP target `approvalCallback`. Placeholder until the approval stage lands. */
export const target: HttpTarget = async () => ({ status: 501, body: { error: 'approvalCallback is not implemented yet' } });

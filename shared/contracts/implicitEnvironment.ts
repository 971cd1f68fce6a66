/**
 * The name of the single environment of a pipeline without `environments`. Kept apart from
 * the zod contracts so that code loaded at every cold start (the stage manifest) can name it
 * without loading zod.
 */
export const IMPLICIT_ENVIRONMENT = 'default';

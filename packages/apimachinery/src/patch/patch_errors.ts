import { ApiError, apiErrors } from '../errors.js';

/**
 * The errors kube-apiserver's patch handler answers with, beyond those in errors.ts. Each names
 * the upstream constructor it mirrors, so a reader can compare wording.
 */
export const patchErrors = {
  /**
   * errors.NewGenericServerResponse(422, ...) — how the handler wraps a JSON patch that failed to
   * apply (and a strategic merge patch with lists of lists): a fixed message, the real reason in
   * the one cause.
   */
  unprocessable: (serverMessage: string): ApiError =>
    new ApiError({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'the server rejected our request due to an error in our request',
      reason: 'Invalid',
      // Upstream leaves the cause's field out (omitempty); our Status type requires one.
      details: { causes: [{ reason: 'UnexpectedServerResponse', message: serverMessage }] },
      code: 422,
    }),
  badRequest: (message: string): ApiError => apiErrors.badRequest(message),
  /**
   * A plain Go error (not a Status) from the patch code: kube-apiserver's ErrorToAPIStatus answers
   * it as a 500 with reason Unknown (an empty reason) and the error's text as the message.
   */
  internal: (message: string): ApiError =>
    new ApiError({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason: '', code: 500 }),
  /** errors.NewRequestEntityTooLargeError: too many JSON patch operations. */
  tooLarge: (message: string): ApiError =>
    new ApiError({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: `Request entity too large: ${message}`,
      reason: 'RequestEntityTooLarge',
      code: 413,
    }),
  /** errors.NewApplyConflict: server-side apply found fields another manager owns. */
  applyConflict: (message: string, causes: { field: string; message: string }[]): ApiError =>
    new ApiError({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message,
      reason: 'Conflict',
      details: { causes: causes.map((cause) => ({ reason: 'FieldManagerConflict', ...cause })) },
      code: 409,
    }),
};

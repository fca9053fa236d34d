import { ApiError } from '@k8ts/apimachinery';

/** The Status an ApiError thrown by `run` carries (code, reason, message); test-only. */
export function refusal(run: () => unknown): { code: number; reason: string | undefined; message: string } {
  try {
    run();
  } catch (error) {
    if (error instanceof ApiError) return { code: error.status.code, reason: error.status.reason, message: error.status.message };
    throw error;
  }
  throw new Error('expected a refusal');
}

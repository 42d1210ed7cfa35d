/** Why a volume cannot be used, in words a researcher can act on; `status` is the HTTP answer. */
export class VolumeError extends Error {
  constructor(
    readonly status: 400 | 413 | 415 | 422,
    readonly problem: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

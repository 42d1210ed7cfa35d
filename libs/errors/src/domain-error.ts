/** One input at fault, as a domain names it: a request field (`bits`, `filter.color`) and why. */
export type FieldError = { field?: string; message: string };

/** What a domain error may say besides its code and detail; none of it is about HTTP. */
export type DomainErrorOptions = {
  /** The one input at fault (e.g. `maxDistance`); listed as an error of that field. */
  field?: string;
  /** Several inputs at fault (they replace `field`). */
  errors?: FieldError[];
  /** An uploaded file at fault: the form field it came in and the name the client gave it. */
  file?: { field: string; name?: string };
  /** Structured facts a client can act on (`voxels`, `maxVoxels`, `series`...). */
  details?: Record<string, unknown>;
};

/**
 * A refusal of a domain library, in its own terms: `code` names what went wrong
 * (`volume.unreadable`, `collection.not-found`, `model.unavailable`), `detail` says it in words a
 * researcher can act on. Libraries throw these without knowing about HTTP; the API's problem
 * filter (libs/http) maps each code to a status and problem type in one table.
 */
export class DomainError<Code extends string = string> extends Error {
  readonly field?: string;
  readonly errors?: FieldError[];
  readonly file?: { field: string; name?: string };
  readonly details: Record<string, unknown>;

  constructor(
    readonly code: Code,
    readonly detail: string,
    options: DomainErrorOptions = {},
  ) {
    super(detail);
    this.name = new.target.name;
    this.field = options.field;
    this.errors = options.errors;
    this.file = options.file;
    this.details = options.details ?? {};
  }
}
